//! A job's log as it is written: each line stamped with the time since the job started,
//! secret values masked, ANSI colours kept as the program wrote them.
//!
//! Masking works on each step's output as one byte stream fed by its two pipes, across writes
//! and lines (see [`crate::masking`]); time stamps are added after, so they never split a
//! secret out of the masker's sight.

use crate::masking::{Masker, Stream};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Longest a written line stays in the writer's buffer before it reaches the file that live
/// views read (they poll it every 250 ms).
pub const LIVE_DELAY: Duration = Duration::from_millis(250);
/// Text gathered before it is written out: a step printing millions of short lines must not
/// cost a write call each.
const BUFFER: usize = 256 * 1024;

#[derive(Debug)]
pub struct LogWriter {
    /// The file live views read, made when text is first written out: a log that ends before
    /// (a short job's) never makes one, and is stored from memory.
    path: PathBuf,
    file: Option<tokio::fs::File>,
    /// Text not written out yet, at most [`BUFFER`] bytes (a piece of output is shorter).
    buffer: Vec<u8>,
    /// Since when the buffer holds text the file does not.
    unflushed: Option<Instant>,
    started: Instant,
    /// `None` when the job has no secret.
    masker: Option<Masker>,
    /// The masker's output, kept to serve again.
    masked: Vec<u8>,
    /// Whether the next byte written starts a line (and so gets a time stamp).
    at_line_start: bool,
    pub bytes: u64,
    /// Beyond this many bytes, output is counted but not kept.
    limit: u64,
    dropped: u64,
    /// Where each piece written out to the file also goes, with its offset (for the other
    /// servers sharing the database), and how many bytes went out so far.
    mirror: Option<tokio::sync::mpsc::UnboundedSender<(u64, Vec<u8>)>>,
    written: u64,
}

/// The most a job's log keeps by default: far more than anyone reads, far less than a full disk.
pub const DEFAULT_LOG_LIMIT: u64 = 4 << 30;

impl LogWriter {
    /// A log to be written to `path` (not made yet), with these secrets masked.
    ///
    /// Fails only when the secrets are too large to be searched for.
    pub fn new(path: impl Into<PathBuf>, secrets: Vec<String>) -> std::io::Result<Self> {
        let secrets: Vec<Vec<u8>> = secrets.into_iter().map(String::into_bytes).collect();
        let masker = Masker::new(&secrets).map_err(|e| {
            std::io::Error::other(format!(
                "cannot prepare the masking of the job's {} secrets: {e}; make the secret values shorter",
                secrets.len()
            ))
        })?;
        Ok(Self {
            path: path.into(),
            file: None,
            buffer: Vec::new(),
            unflushed: None,
            started: Instant::now(),
            masker,
            masked: Vec::new(),
            at_line_start: true,
            bytes: 0,
            limit: DEFAULT_LOG_LIMIT,
            dropped: 0,
            mirror: None,
            written: 0,
        })
    }

    /// Keeps at most `limit` bytes of output.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// Also hands every piece written out to the file to `mirror`, with its offset in the log.
    pub fn with_mirror(mut self, mirror: tokio::sync::mpsc::UnboundedSender<(u64, Vec<u8>)>) -> Self {
        self.mirror = Some(mirror);
        self
    }

    /// A line of Tandem's own (a step starting, an artifact stored…).
    pub async fn note(&mut self, line: &str) -> std::io::Result<()> {
        self.end_output().await?;
        self.emit(format!("{line}\n").as_bytes()).await
    }

    /// Output of a step from one of its pipes, as it came.
    pub async fn output(&mut self, stream: Stream, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.masker {
            None => self.emit(chunk).await,
            Some(masker) => {
                let mut masked = std::mem::take(&mut self.masked);
                masker.push(stream, chunk, &mut masked);
                let result = self.emit(&masked).await;
                masked.clear();
                self.masked = masked;
                result
            }
        }
    }

    /// Ends the step's output: what the masker held is written, and a last line without a
    /// newline gets one.
    pub async fn end_output(&mut self) -> std::io::Result<()> {
        if let Some(masker) = &mut self.masker {
            let mut masked = std::mem::take(&mut self.masked);
            masker.finish(&mut masked);
            let result = self.emit(&masked).await;
            masked.clear();
            self.masked = masked;
            result?;
        }
        if !self.at_line_start {
            self.emit(b"\n").await?;
        }
        Ok(())
    }

    /// Writes `bytes`, each line that starts in it stamped.
    async fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            if self.bytes >= self.limit {
                self.dropped += line.len() as u64;
                continue;
            }
            if self.at_line_start {
                let t = self.started.elapsed();
                self.write(&stamp(t.as_secs(), t.subsec_millis())).await?;
            }
            self.write(line).await?;
            self.bytes += line.len() as u64;
            self.at_line_start = line.ends_with(b"\n");
        }
        Ok(())
    }

    /// When the text in the buffer should reach the file, if there is any.
    pub fn flush_due(&self) -> Option<tokio::time::Instant> {
        self.unflushed
            .map(|since| tokio::time::Instant::from_std(since + LIVE_DELAY))
    }

    /// Writes the buffer to the file (made if need be) and waits until it is there, for live
    /// views.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.write_out().await?;
        match &mut self.file {
            Some(file) => file.flush().await,
            None => Ok(()),
        }
    }

    /// Hands the buffer to the file (made if need be), which writes it in the background.
    async fn write_out(&mut self) -> std::io::Result<()> {
        self.unflushed = None;
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.buffer);
        self.open().await?.write_all(&text).await?;
        if let Some(mirror) = &self.mirror
            && mirror.send((self.written, text.clone())).is_err()
        {
            self.mirror = None; // nobody takes the pieces any more
        }
        self.written += text.len() as u64;
        // The same memory serves again.
        self.buffer = text;
        self.buffer.clear();
        Ok(())
    }

    /// The file, made the first time.
    async fn open(&mut self) -> std::io::Result<&mut tokio::fs::File> {
        let file = match self.file.take() {
            Some(file) => file,
            None => tokio::fs::File::create(&self.path)
                .await
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot create {}: {e}", self.path.display())))?,
        };
        Ok(self.file.insert(file))
    }

    /// Ends the log: everything reaches the file. Returns the bytes of output kept.
    pub async fn finish(mut self) -> std::io::Result<u64> {
        self.close().await?;
        self.write_out().await?;
        // Even an empty log has its file.
        self.open().await?.flush().await?;
        Ok(self.bytes)
    }

    /// Ends the log, like [`LogWriter::finish`], but a log that was never written out (a short
    /// one, done within [`LIVE_DELAY`]) is returned instead, and no file is made: the caller
    /// stores it from memory. `None` when the file holds the whole log.
    pub async fn finish_in_memory(mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.file.is_none() {
            self.close().await?;
            if self.file.is_none() {
                return Ok(Some(std::mem::take(&mut self.buffer)));
            }
        }
        self.finish().await?;
        Ok(None)
    }

    async fn close(&mut self) -> std::io::Result<()> {
        self.end_output().await?;
        if self.dropped > 0 {
            let note = format!(
                "\n✂ log truncated: {} more bytes of output were not kept (limit {} bytes)\n",
                self.dropped, self.limit
            );
            self.dropped = 0;
            self.write(note.as_bytes()).await?;
        }
        Ok(())
    }

    /// Adds text to the buffer, writing the buffer out first when the text would not fit.
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.buffer.len() + bytes.len() > BUFFER {
            self.write_out().await?;
        }
        if self.buffer.is_empty() {
            self.unflushed = Some(Instant::now());
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }
}

/// `[mm:ss.mmm] ` without allocating.
fn stamp(secs: u64, millis: u32) -> [u8; 12] {
    let (m, s) = ((secs / 60) % 100, secs % 60);
    let d = |n: u64| b'0' + (n % 10) as u8;
    [
        b'[',
        d(m / 10),
        d(m),
        b':',
        d(s / 10),
        d(s),
        b'.',
        d(u64::from(millis) / 100),
        d(u64::from(millis) / 10),
        d(u64::from(millis)),
        b']',
        b' ',
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn written(secrets: &[&str], chunks: &[&[u8]]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::new(&path, secrets.iter().map(|s| s.to_string()).collect()).unwrap();
        for c in chunks {
            log.output(Stream::Stdout, c).await.unwrap();
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
        assert_eq!(&super::stamp(125, 7), b"[02:05.007] ");
    }

    #[tokio::test]
    async fn a_short_log_stays_in_memory_and_a_longer_one_reaches_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::new(&path, vec!["s3cret".into()]).unwrap();
        log.note("▶ step").await.unwrap();
        log.output(Stream::Stdout, b"the s3cret is out\nno newline")
            .await
            .unwrap();
        assert!(log.flush_due().is_some(), "text waits in the buffer");
        let text = String::from_utf8(log.finish_in_memory().await.unwrap().unwrap()).unwrap();
        assert_eq!(strip_stamps(&text), "▶ step\nthe *** is out\nno newline");
        assert!(text.ends_with('\n'));
        assert!(!path.exists(), "no file made");

        let mut log = LogWriter::new(&path, vec![]).unwrap();
        log.output(Stream::Stdout, b"first\n").await.unwrap();
        log.flush().await.unwrap();
        assert!(log.flush_due().is_none());
        assert_eq!(
            strip_stamps(&std::fs::read_to_string(&path).unwrap()),
            "first",
            "live views see it"
        );
        log.output(Stream::Stdout, b"second\n").await.unwrap();
        assert_eq!(log.finish_in_memory().await.unwrap(), None, "part of it is in the file");
        assert_eq!(strip_stamps(&std::fs::read_to_string(&path).unwrap()), "first\nsecond");

        let empty = dir.path().join("empty");
        assert_eq!(LogWriter::new(&empty, vec![]).unwrap().finish().await.unwrap(), 0);
        assert_eq!(std::fs::read(&empty).unwrap(), b"", "finish always leaves a file");
    }

    #[tokio::test]
    async fn output_past_the_limit_is_counted_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::new(&path, vec![]).unwrap().with_limit(100);
        for _ in 0..50 {
            log.output(Stream::Stdout, b"0123456789\n").await.unwrap();
        }
        log.finish().await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() < 15, "{text}");
        assert!(text.contains("log truncated: 440 more bytes"), "{text}");
    }

    #[tokio::test]
    async fn a_huge_line_is_written_in_pieces_without_leaking_a_secret() {
        let mut big = vec![b'x'; 64 * 1024 + 10];
        big.extend_from_slice(b"SECRET");
        let tail: &[u8] = b"SECRET\n";
        let text = written(&["SECRETSECRET"], &[&big, tail]).await;
        assert!(!text.contains("SECRETSECRET"), "a secret straddling two pieces leaked");
        assert!(text.trim_end().ends_with("***"));
    }
}
