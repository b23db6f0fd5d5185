//! A job's log as it is written: each line stamped with the time since the job started,
//! secret values masked, ANSI colours kept as the program wrote them.
//!
//! Masking works on whole lines, so a secret printed in several writes on one line is still
//! caught. A line longer than [`MAX_LINE`] is written in pieces; the last `longest secret - 1`
//! bytes of each piece are held back so a secret cannot straddle two pieces unmasked.

use std::time::Instant;
use tokio::io::AsyncWriteExt;

/// Longest run of output kept in memory before it is written out, newline or not.
pub const MAX_LINE: usize = 64 * 1024;
const MASK: &[u8] = b"***";

#[derive(Debug)]
pub struct LogWriter {
    file: tokio::fs::File,
    started: Instant,
    secrets: Vec<Vec<u8>>,
    pending: Vec<u8>,
    /// Whether the next byte written starts a line (and so gets a time stamp).
    at_line_start: bool,
    pub bytes: u64,
}

impl LogWriter {
    pub fn new(file: tokio::fs::File, secrets: Vec<String>) -> Self {
        let mut secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::into_bytes)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            file,
            started: Instant::now(),
            secrets,
            pending: Vec::new(),
            at_line_start: true,
            bytes: 0,
        }
    }

    /// A line of Tandem's own (a step starting, an artifact stored…).
    pub async fn note(&mut self, line: &str) -> std::io::Result<()> {
        self.flush_pending(true).await?;
        self.emit(format!("{line}\n").as_bytes()).await
    }

    /// Output of a step, as it came.
    pub async fn output(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.pending.extend_from_slice(chunk);
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=nl).collect();
            let masked = mask(&line, &self.secrets);
            self.emit(&masked).await?;
        }
        if self.pending.len() > MAX_LINE {
            self.flush_pending(false).await?;
        }
        Ok(())
    }

    /// Ends the step's output: what is pending is written with a newline.
    pub async fn end_output(&mut self) -> std::io::Result<()> {
        self.flush_pending(true).await
    }

    async fn flush_pending(&mut self, all: bool) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let keep = if all {
            0
        } else {
            self.secrets.first().map_or(0, |s| s.len().saturating_sub(1))
        };
        let cut = self.pending.len() - keep.min(self.pending.len());
        let masked = mask(&self.pending[..cut], &self.secrets);
        self.pending.drain(..cut);
        self.emit(&masked).await?;
        if all && !self.at_line_start {
            self.emit(b"\n").await?;
        }
        Ok(())
    }

    async fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.at_line_start {
            let t = self.started.elapsed();
            let stamp = format!(
                "[{:02}:{:02}.{:03}] ",
                t.as_secs() / 60,
                t.as_secs() % 60,
                t.subsec_millis()
            );
            self.file.write_all(stamp.as_bytes()).await?;
        }
        self.file.write_all(bytes).await?;
        self.bytes += bytes.len() as u64;
        self.at_line_start = bytes.ends_with(b"\n");
        Ok(())
    }

    pub async fn finish(mut self) -> std::io::Result<u64> {
        self.flush_pending(true).await?;
        self.file.flush().await?;
        Ok(self.bytes)
    }
}

/// Replaces every occurrence of every secret (longest first) with `***`.
pub fn mask(bytes: &[u8], secrets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for secret in secrets {
        let mut i = 0;
        let mut next = Vec::with_capacity(out.len());
        while i < out.len() {
            if out[i..].starts_with(secret) {
                next.extend_from_slice(MASK);
                i += secret.len();
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn written(secrets: &[&str], chunks: &[&[u8]]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let file = tokio::fs::File::create(&path).await.unwrap();
        let mut log = LogWriter::new(file, secrets.iter().map(|s| s.to_string()).collect());
        for c in chunks {
            log.output(c).await.unwrap();
        }
        log.finish().await.unwrap();
        std::fs::read_to_string(&path).unwrap()
    }

    fn strip_stamps(text: &str) -> String {
        text.lines()
            .map(|l| l.split_once("] ").map_or(l, |x| x.1))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn secrets_are_masked_even_when_split_across_writes() {
        let text = written(
            &["hunter2"],
            &[b"token=hun", b"ter2 ok\n", b"\x1b[32mgreen\x1b[0m hunter2"],
        )
        .await;
        assert_eq!(strip_stamps(&text), "token=*** ok\n\x1b[32mgreen\x1b[0m ***");
        assert!(text.starts_with("[00:00."), "{text}");
    }

    #[tokio::test]
    async fn a_huge_line_is_written_in_pieces_without_leaking_a_secret() {
        let mut big = vec![b'x'; MAX_LINE + 10];
        big.extend_from_slice(b"SECRET");
        let tail: &[u8] = b"SECRET\n";
        let text = written(&["SECRETSECRET"], &[&big, tail]).await;
        assert!(!text.contains("SECRETSECRET"), "a secret straddling two pieces leaked");
        assert!(text.trim_end().ends_with("***"));
    }
}
