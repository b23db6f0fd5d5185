//! Starting servers for tests: a free port on 127.0.0.1, and a child's output read up to the line
//! that says it is ready.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that was free a moment ago, for a server the test starts as a process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port on 127.0.0.1")
        .local_addr()
        .expect("an address")
        .port()
}

/// Reads `output` (a child's stderr or stdout) until a line contains `needle`, within `timeout`,
/// and gives what it printed up to there; the rest is read and dropped so that the child never
/// blocks on a full pipe. On failure, why, with what it printed.
pub fn read_until(output: impl Read + Send + 'static, needle: &str, timeout: Duration) -> Result<String, String> {
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut reader, mut line) = (BufReader::new(output), Vec::new());
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            // Once the needle is found nobody listens: read on all the same, keep the pipe empty.
            let _ = lines.send(String::from_utf8_lossy(&line).trim_end().to_string());
            line.clear();
        }
    });
    let deadline = Instant::now() + timeout;
    let mut printed = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line.contains(needle) {
                    return Ok(printed);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!("no `{needle}` printed in {timeout:?}: {printed}"));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(format!("the process exited: {printed}"));
            }
        }
    }
}
