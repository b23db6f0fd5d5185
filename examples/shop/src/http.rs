//! A minimal HTTP/1.1 server: one thread per connection, keep-alive with
//! `Connection: close` support, Content-Length responses, and a 4xx answer
//! (never a panic) for malformed requests.

use crate::app::{self, State};
use crate::request::{read_request, Incoming};
use std::io::{self, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn html(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status, "text/html; charset=utf-8", body)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Serializes the response; for HEAD requests the body is left out.
    pub fn to_bytes(&self, keep_alive: bool, include_body: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        let mut bytes = head.into_bytes();
        if include_body {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Accepts connections forever, serving each one on its own thread.
pub fn serve(listener: TcpListener, state: Arc<State>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let state = Arc::clone(&state);
                let spawned = thread::Builder::new()
                    .name("shop-conn".to_string())
                    .spawn(move || handle_connection(stream, &state));
                if let Err(e) = spawned {
                    eprintln!("shop: cannot spawn a connection thread: {e}");
                }
            }
            Err(e) => eprintln!("shop: accept failed: {e}"),
        }
    }
}

fn handle_connection(stream: TcpStream, state: &State) {
    // Errors here only concern this connection (timeouts, resets): drop it.
    let _ = serve_connection(stream, state);
}

fn serve_connection(stream: TcpStream, state: &State) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        match read_request(&mut reader)? {
            Incoming::Closed => return Ok(()),
            Incoming::Bad(status, why) => {
                let started = Instant::now();
                state.metrics.record("", status);
                let response = Response::text(status, format!("{why}\n"));
                writer.write_all(&response.to_bytes(false, true))?;
                writer.flush()?;
                state.metrics.observe("", started.elapsed());
                return Ok(());
            }
            Incoming::Request(request) => {
                // Timed from a fully read request to its flushed answer: keep-alive idle time is not latency.
                let started = Instant::now();
                let response = app::route(&request.method, &request.target, state);
                let path = app::path_of(&request.target);
                state.metrics.record(path, response.status);
                let include_body = request.method != "HEAD";
                writer.write_all(&response.to_bytes(request.keep_alive, include_body))?;
                writer.flush()?;
                state.metrics.observe(path, started.elapsed());
                if !request.keep_alive {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_responses() {
        let r = Response::text(200, "ok").with_header("X-Test", "1");
        let text = String::from_utf8(r.to_bytes(false, true)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n"));
        assert!(text.contains("X-Test: 1\r\n"));
        assert!(text.ends_with("Connection: close\r\n\r\nok"));
        let head = String::from_utf8(r.to_bytes(true, false)).unwrap();
        assert!(head
            .ends_with("Content-Length: 2\r\nCache-Control: no-store\r\nX-Test: 1\r\nConnection: keep-alive\r\n\r\n"));
    }
}
