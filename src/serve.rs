//! A small static file server for the demo page (`tanp serve`, `make demo`): loopback only,
//! GET and HEAD, the MIME types a wasm page needs (`application/wasm` for streaming
//! compilation), no directory listings, nothing outside the served directory.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

use crate::error::{Result, TanpError};

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

/// The file a request path names inside `root`, or `None` for anything that escapes it.
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
    out.is_file().then_some(out)
}

fn respond(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // Drain the headers.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let status = |code: &str, body: &str| {
        format!(
            "HTTP/1.1 {code}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    if method != "GET" && method != "HEAD" {
        return stream.write_all(status("405 Method Not Allowed", "GET or HEAD only\n").as_bytes());
    }
    let Some(file) = resolve(root, target) else {
        return stream.write_all(status("404 Not Found", "not found\n").as_bytes());
    };
    let body = std::fs::read(&file)?;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        mime(&file),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Serves `dir` on `127.0.0.1:port` (0: any free port, printed) until the process is stopped.
pub fn serve(dir: &Path, port: u16) -> Result<()> {
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
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    for stream in listener.incoming().flatten() {
        let root = dir.to_path_buf();
        std::thread::spawn(move || {
            if let Err(e) = respond(stream, &root) {
                eprintln!("serve: {e}");
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stay_inside_the_served_directory() {
        let root = std::env::temp_dir().join(format!("tanp-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(root.join("pkg/a.wasm"), [0u8, 97, 115, 109]).unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/?backend=cpu"),
            Some(root.join("index.html"))
        );
        assert_eq!(resolve(&root, "/pkg/a.wasm"), Some(root.join("pkg/a.wasm")));
        assert_eq!(mime(&root.join("pkg/a.wasm")), "application/wasm");
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/pkg/../../x"), None);
        assert_eq!(resolve(&root, "/missing.js"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
