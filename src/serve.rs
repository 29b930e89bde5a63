//! A small static file server for the demo page (`tanp serve`, `make demo`): loopback only,
//! GET and HEAD, the MIME types a wasm page needs (`application/wasm` for streaming
//! compilation), no directory listings, nothing outside the served directory (symbolic links
//! included). Built to survive a hostile client: a fixed pool of worker threads behind a bounded
//! queue (a full queue answers 503), read and write timeouts, a cap on the request head, a
//! back-off when connections cannot be accepted (no busy loop when file descriptors run out),
//! `nosniff`, ETag validators (304 Not Modified), a strict Content-Security-Policy by default,
//! and CORS on request (`--cors`, to serve the widget to pages of other origins).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Result, TanpError};

/// Limits of the server; [`ServeOptions::default`] is what `tanp serve` uses.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Worker threads: at most this many connections are served at once.
    pub workers: usize,
    /// Accepted connections waiting for a worker; beyond that, 503.
    pub queue: usize,
    /// How long a client may take to send its request head, and to take each write.
    pub timeout: Duration,
    /// The most bytes of request head (request line and headers) read from a client.
    pub max_head: usize,
    /// Send `Access-Control-Allow-Origin: *` (files for pages of other origins).
    pub cors: bool,
    /// The Content-Security-Policy of every response, if any.
    pub csp: Option<String>,
}

/// The policy the demo pages, the widget and its worker are written for: scripts, styles and
/// workers from the page's own origin only, and wasm compilation.
pub const STRICT_CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; worker-src 'self'";

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            workers: 8,
            queue: 64,
            timeout: Duration::from_secs(10),
            max_head: 16 * 1024,
            cors: false,
            csp: Some(STRICT_CSP.to_string()),
        }
    }
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ts" | "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file a request path names inside `root`, or `None` for anything that escapes it: `..`,
/// absolute paths, and symbolic links that lead outside `root`.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut out = root.to_path_buf();
    for part in Path::new(path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    let real = out.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    (real.starts_with(&real_root) && real.is_file()).then_some(out)
}

/// The request line of a head read with at most `max` bytes; the headers as lower-case names.
struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

enum HeadError {
    TooLarge,
    Malformed,
    Io(std::io::Error),
}

fn read_head(stream: &TcpStream, max: usize) -> std::result::Result<Head, HeadError> {
    let mut reader = BufReader::new(stream.take(max as u64));
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).map_err(HeadError::Io)?;
        if n == 0 || !line.ends_with(b"\n") {
            // The client stopped, or the cap cut the head short.
            return Err(if reader.get_ref().limit() == 0 {
                HeadError::TooLarge
            } else {
                HeadError::Malformed
            });
        }
        let line = String::from_utf8(line).map_err(|_| HeadError::Malformed)?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let mut request = lines.first().ok_or(HeadError::Malformed)?.split(' ');
    let (Some(method), Some(target)) = (request.next(), request.next()) else {
        return Err(HeadError::Malformed);
    };
    let headers = lines[1..]
        .iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Head {
        method: method.to_string(),
        target: target.to_string(),
        headers,
    })
}

/// Headers every response carries.
const SECURITY: &str = "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n";

fn status(code: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {code}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{SECURITY}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A validator that changes whenever the file's size or modification time does.
fn etag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{modified:x}\"", meta.len())
}

fn respond(mut stream: TcpStream, root: &Path, options: &ServeOptions) -> std::io::Result<()> {
    stream.set_read_timeout(Some(options.timeout))?;
    stream.set_write_timeout(Some(options.timeout))?;
    let head = match read_head(&stream, options.max_head) {
        Ok(head) => head,
        Err(HeadError::TooLarge) => {
            return stream.write_all(
                status(
                    "431 Request Header Fields Too Large",
                    "request head too large\n",
                )
                .as_bytes(),
            );
        }
        Err(HeadError::Malformed) => {
            return stream.write_all(status("400 Bad Request", "malformed request\n").as_bytes());
        }
        Err(HeadError::Io(e)) => return Err(e),
    };
    if head.method != "GET" && head.method != "HEAD" {
        return stream.write_all(status("405 Method Not Allowed", "GET or HEAD only\n").as_bytes());
    }
    let Some(file) = resolve(root, &head.target) else {
        return stream.write_all(status("404 Not Found", "not found\n").as_bytes());
    };
    let meta = std::fs::metadata(&file)?;
    let tag = etag(&meta);
    let fresh = head
        .headers
        .iter()
        .any(|(k, v)| k == "if-none-match" && v.split(',').any(|t| t.trim() == tag));
    let mut common =
        format!("ETag: {tag}\r\nCache-Control: no-cache\r\n{SECURITY}Connection: close\r\n");
    if options.cors {
        common.push_str(
            "Access-Control-Allow-Origin: *\r\nCross-Origin-Resource-Policy: cross-origin\r\n",
        );
    }
    if let Some(csp) = &options.csp {
        common.push_str(&format!("Content-Security-Policy: {csp}\r\n"));
    }
    if fresh {
        return stream.write_all(format!("HTTP/1.1 304 Not Modified\r\n{common}\r\n").as_bytes());
    }
    let body = std::fs::read(&file)?;
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n{common}\r\n",
        mime(&file),
        body.len()
    );
    stream.write_all(response.as_bytes())?;
    if head.method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Starts the worker pool: each worker serves connections from the shared queue.
fn workers(count: usize, root: &Path, options: &ServeOptions) -> Result<SyncSender<TcpStream>> {
    let (send, receive) = sync_channel::<TcpStream>(options.queue);
    let receive: Arc<Mutex<Receiver<TcpStream>>> = Arc::new(Mutex::new(receive));
    for i in 0..count.max(1) {
        let (receive, root, options) = (receive.clone(), root.to_path_buf(), options.clone());
        std::thread::Builder::new()
            .name(format!("serve-{i}"))
            .spawn(move || {
                loop {
                    let next = receive.lock().map(|r| r.recv());
                    let Ok(Ok(stream)) = next else { return };
                    if let Err(e) = respond(stream, &root, &options) {
                        eprintln!("serve: {e}");
                    }
                }
            })
            .map_err(|e| TanpError::io("a server thread", e))?;
    }
    Ok(send)
}

/// Serves `dir` on `listener` until the process is stopped.
pub fn serve_on(listener: TcpListener, dir: &Path, options: &ServeOptions) -> Result<()> {
    let queue = workers(options.workers, dir, options)?;
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => match queue.try_send(stream) {
                Ok(()) => {}
                Err(TrySendError::Full(mut stream)) => {
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
                    let _ =
                        stream.write_all(status("503 Service Unavailable", "busy\n").as_bytes());
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(TanpError::Config("the server's workers stopped".into()));
                }
            },
            Err(e) => {
                // Out of file descriptors, for one: wait instead of spinning.
                eprintln!("serve: cannot accept a connection: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

/// Serves `dir` on `127.0.0.1:port` (0: any free port, printed) until the process is stopped.
pub fn serve(dir: &Path, port: u16, options: ServeOptions) -> Result<()> {
    if !dir.join("index.html").is_file() {
        return Err(TanpError::Config(format!(
            "{} has no index.html: build the page first (make demo)",
            dir.display()
        )));
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| TanpError::io(format!("127.0.0.1:{port}"), e))?;
    let port = listener.local_addr().map_or(port, |a| a.port());
    println!("serving {} on http://127.0.0.1:{port}/", dir.display());
    let _ = std::io::stdout().flush();
    serve_on(listener, dir, &options)
}
