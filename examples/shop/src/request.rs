//! Parsing of HTTP/1.x requests: request line, header fields and body framing.

use std::io::{self, BufRead, Read};

const MAX_LINE: usize = 8 * 1024;
const MAX_HEADERS: usize = 100;
const MAX_BODY: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

/// The result of reading one request from a connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Request(Request),
    /// The peer closed the connection cleanly between requests.
    Closed,
    /// A malformed request, answered with this status before closing.
    Bad(u16, &'static str),
}

/// Reads one line (without its CRLF/LF). `Ok(None)` means EOF before any byte.
fn read_line(reader: &mut impl BufRead) -> io::Result<Result<Option<String>, (u16, &'static str)>> {
    let mut buf = Vec::new();
    let n = reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(Ok(None));
    }
    if buf.last() != Some(&b'\n') {
        return Ok(Err(if n > MAX_LINE {
            (431, "line too long")
        } else {
            (400, "incomplete request")
        }));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(String::from_utf8(buf)
        .map(Some)
        .map_err(|_| (400, "request is not valid UTF-8")))
}

/// Reads and validates one request (its body, if any, is read and discarded).
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Incoming> {
    let mut line = match read_line(reader)? {
        Ok(Some(line)) => line,
        Ok(None) => return Ok(Incoming::Closed),
        Err((status, why)) => return Ok(Incoming::Bad(status, why)),
    };
    // Tolerate blank lines before the request line (RFC 9112 §2.2).
    let mut blank = 0;
    while line.is_empty() && blank < 8 {
        blank += 1;
        line = match read_line(reader)? {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(Incoming::Closed),
            Err((status, why)) => return Ok(Incoming::Bad(status, why)),
        };
    }
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Ok(Incoming::Bad(400, "malformed request line"));
    };
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if !is_token(method) {
        return Ok(Incoming::Bad(400, "malformed method"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control()) {
        return Ok(Incoming::Bad(400, "malformed request target"));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") && v.len() == 8 => return Ok(Incoming::Bad(505, "unsupported HTTP version")),
        _ => return Ok(Incoming::Bad(400, "malformed HTTP version")),
    };

    let mut keep_alive = http11;
    let mut content_length: Option<u64> = None;
    let mut headers = 0;
    loop {
        let line = match read_line(reader)? {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(Incoming::Bad(400, "incomplete request")),
            Err((status, why)) => return Ok(Incoming::Bad(status, why)),
        };
        if line.is_empty() {
            break;
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Ok(Incoming::Bad(431, "too many header fields"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Ok(Incoming::Bad(400, "malformed header field"));
        };
        if !is_token(name) {
            return Ok(Incoming::Bad(400, "malformed header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        match name.to_ascii_lowercase().as_str() {
            "connection" => {
                for option in value.split(',').map(|o| o.trim().to_ascii_lowercase()) {
                    match option.as_str() {
                        "close" => keep_alive = false,
                        "keep-alive" => keep_alive = true,
                        _ => {}
                    }
                }
            }
            "content-length" => {
                let Ok(n) = value.parse::<u64>() else {
                    return Ok(Incoming::Bad(400, "invalid Content-Length"));
                };
                if content_length.is_some_and(|old| old != n) {
                    return Ok(Incoming::Bad(400, "conflicting Content-Length"));
                }
                content_length = Some(n);
            }
            "transfer-encoding" => return Ok(Incoming::Bad(400, "Transfer-Encoding is not supported")),
            _ => {}
        }
    }
    if let Some(len) = content_length {
        if len > MAX_BODY {
            return Ok(Incoming::Bad(413, "request body too large"));
        }
        let skipped = io::copy(&mut reader.by_ref().take(len), &mut io::sink())?;
        if skipped < len {
            return Ok(Incoming::Bad(400, "incomplete request body"));
        }
    }
    Ok(Incoming::Request(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str) -> Incoming {
        read_request(&mut io::Cursor::new(raw.as_bytes().to_vec())).unwrap()
    }

    fn request(method: &str, target: &str, keep_alive: bool) -> Incoming {
        Incoming::Request(Request {
            method: method.into(),
            target: target.into(),
            keep_alive,
        })
    }

    #[test]
    fn parses_requests() {
        assert_eq!(read("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), request("GET", "/", true));
        assert_eq!(
            read("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"),
            request("GET", "/healthz", false)
        );
        assert_eq!(read("GET /metrics HTTP/1.0\r\n\r\n"), request("GET", "/metrics", false));
        assert_eq!(
            read("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
            request("GET", "/", true)
        );
        assert_eq!(read("GET /a?b=c HTTP/1.1\n\n"), request("GET", "/a?b=c", true));
        assert_eq!(
            read("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"),
            request("POST", "/", true)
        );
        assert_eq!(read("\r\nGET / HTTP/1.1\r\n\r\n"), request("GET", "/", true));
        assert_eq!(read(""), Incoming::Closed);
    }

    #[test]
    fn rejects_malformed_requests() {
        let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_LINE + 10));
        let many_headers = format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(MAX_HEADERS + 1));
        for (raw, status) in [
            ("garbage\r\n\r\n", 400),
            ("GET /\r\n\r\n", 400),
            ("GET  / HTTP/1.1\r\n\r\n", 400),
            ("GET x HTTP/1.1\r\n\r\n", 400),
            ("G(T / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\n\r\n", 505),
            ("GET / FTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: x\r\n", 400),
            ("GET / HTTP/1.1", 400),
            ("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                400,
            ),
            ("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (long_header.as_str(), 431),
            (many_headers.as_str(), 431),
        ] {
            match read(raw) {
                Incoming::Bad(got, _) => assert_eq!(got, status, "{raw:?}"),
                other => panic!("{raw:?} gave {other:?}"),
            }
        }
        let invalid_utf8 = read_request(&mut io::Cursor::new(b"GET /\xff HTTP/1.1\r\n\r\n".to_vec())).unwrap();
        assert!(matches!(invalid_utf8, Incoming::Bad(400, _)));
    }
}
