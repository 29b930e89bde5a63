//! `tanp serve` against hostile clients, over real loopback sockets: nothing escapes the served
//! directory, a slow or oversized request is cut off, a flood of idle connections does not stop
//! the server from answering, and every response carries its security headers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use tanp::serve::{ServeOptions, resolve, serve_on};

fn site(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("tanp-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(root.join("pkg/a.wasm"), [0u8, 97, 115, 109]).unwrap();
    root
}

/// A server on a free port with short limits; returns its address.
fn start(root: &std::path::Path, options: ServeOptions) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let root = root.to_path_buf();
    std::thread::spawn(move || serve_on(listener, &root, &options).unwrap());
    addr
}

fn options() -> ServeOptions {
    ServeOptions {
        workers: 2,
        queue: 4,
        timeout: Duration::from_millis(300),
        max_head: 4096,
        ..ServeOptions::default()
    }
}

/// Sends `request` and reads the whole response (the server closes every connection).
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(addr: std::net::SocketAddr, path: &str, extra: &str) -> String {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n").as_bytes(),
    )
}

#[test]
fn requests_stay_inside_the_served_directory() {
    let root = site("resolve");
    assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
    assert_eq!(
        resolve(&root, "/?backend=cpu"),
        Some(root.join("index.html"))
    );
    assert_eq!(resolve(&root, "/pkg/a.wasm"), Some(root.join("pkg/a.wasm")));
    assert_eq!(resolve(&root, "/../etc/passwd"), None);
    assert_eq!(resolve(&root, "/pkg/../../x"), None);
    assert_eq!(resolve(&root, "/missing.js"), None);
    // A symbolic link out of the directory is not followed; one inside it is.
    let outside = std::env::temp_dir().join(format!("tanp-secret-{}", std::process::id()));
    std::fs::write(&outside, "secret").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(root.join("index.html"), root.join("home.html")).unwrap();
    assert_eq!(resolve(&root, "/leak.txt"), None);
    assert_eq!(resolve(&root, "/home.html"), Some(root.join("home.html")));
    let addr = start(&root, options());
    assert!(get(addr, "/leak.txt", "").starts_with("HTTP/1.1 404"));
    std::fs::remove_file(outside).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn responses_carry_types_security_headers_and_validators() {
    let root = site("headers");
    let addr = start(&root, options());
    let ok = get(addr, "/pkg/a.wasm", "");
    assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
    assert!(ok.contains("Content-Type: application/wasm"));
    assert!(ok.contains("X-Content-Type-Options: nosniff"));
    assert!(ok.contains(&format!(
        "Content-Security-Policy: {}",
        tanp::serve::STRICT_CSP
    )));
    assert!(
        !ok.contains("Access-Control-Allow-Origin"),
        "no CORS unless asked"
    );
    let tag = ok
        .lines()
        .find_map(|l| l.strip_prefix("ETag: "))
        .expect("an ETag")
        .to_string();
    let again = get(addr, "/pkg/a.wasm", &format!("If-None-Match: {tag}\r\n"));
    assert!(again.starts_with("HTTP/1.1 304 Not Modified"), "{again}");
    assert!(again.ends_with("\r\n\r\n"), "a 304 has no body");
    let other = get(addr, "/pkg/a.wasm", "If-None-Match: \"stale\"\r\n");
    assert!(other.starts_with("HTTP/1.1 200 OK"));
    let post = exchange(addr, b"POST / HTTP/1.1\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    assert!(post.contains("X-Content-Type-Options: nosniff"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn oversized_or_unfinished_requests_are_cut_off() {
    let root = site("limits");
    let addr = start(&root, options());
    // A 64 MiB header line: refused once the 4 KiB cap is read.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let _ = s.write_all(b"GET / HTTP/1.1\r\nX-Big: ");
    let mut sent = 0;
    for _ in 0..64 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += 1;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.starts_with("HTTP/1.1 431") || (out.is_empty() && sent < 64),
        "{out}"
    );
    // Half a request: the connection is closed after the read timeout, with no answer.
    let half = exchange(addr, b"GET / HT");
    assert!(
        half.is_empty() || half.starts_with("HTTP/1.1 400"),
        "{half}"
    );
    // Not UTF-8, or no request line at all.
    assert!(exchange(addr, b"\xff\xfe / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(exchange(addr, b"\r\n").starts_with("HTTP/1.1 400"));
    // The server still answers.
    assert!(get(addr, "/", "").starts_with("HTTP/1.1 200 OK"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_flood_of_idle_connections_does_not_stop_the_server() {
    let root = site("flood");
    let addr = start(&root, options());
    // Far more idle connections than workers and queue: the excess is answered 503 at once,
    // the rest time out; none of them keeps the server from answering afterwards.
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let busy = idle
        .iter()
        .take(200)
        .filter(|s| {
            let mut s = *s;
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            let mut buf = [0u8; 12];
            matches!(s.read(&mut buf), Ok(12)) && &buf == b"HTTP/1.1 503"
        })
        .count();
    assert!(busy > 0, "the excess connections are refused with 503");
    let answer = get(addr, "/", "");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    drop(idle);
    std::fs::remove_dir_all(&root).unwrap();
}

/// With file descriptors exhausted (`ulimit -n 32`), `tanp serve` reports that it cannot accept
/// and backs off instead of spinning, and answers again once connections close.
#[test]
fn running_out_of_file_descriptors_is_survived() {
    let root = site("fds");
    let mut server = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 32 && exec '{}' serve --dir '{}' --port 0",
            env!("CARGO_BIN_EXE_tanp"),
            root.display()
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port: u16 = line
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    // Many more idle connections than the server has descriptors for.
    let idle: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(idle);
    // The timeouts free the workers; then the server answers again.
    let mut answer = String::new();
    for _ in 0..100 {
        answer = get(addr, "/", "");
        if answer.starts_with("HTTP/1.1 200 OK") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    server.kill().unwrap();
    let out = server.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(err.contains("cannot accept a connection"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}
