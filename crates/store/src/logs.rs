//! Finished job logs, kept as gzip-compressed chunks (1 MiB of text each): a chunk that
//! compresses to [`INLINE_MAX`] or less (most jobs' whole log) in the database row that lists
//! it, a larger one in the blob store. Reading from an offset decompresses only the chunks it
//! needs, so serving the tail of a
//! 1 GiB log costs one chunk. A log stored before chunking (a plain blob) still reads.

use crate::events::append_event;
use crate::{Result, Store, StoreError};
use flate2::read::GzDecoder;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::Read;
use std::path::Path;

/// Text per chunk: small enough to decompress for one read, large enough to compress well.
pub const CHUNK: usize = 1 << 20;

/// A chunk compressed to at most this many bytes is kept in its row, not as a blob file: it is
/// recorded with the job's end in one transaction, as durable as that end, without a file of
/// its own, an `fsync` before the row and a rename (~0.5 ms on a job's critical path).
pub const INLINE_MAX: usize = 64 * 1024;

/// A stored chunk: where its text starts in the log, its length, its digest (the sha256 of its
/// compressed bytes), and those bytes when they are kept in its row rather than as a blob.
type Chunk = (u64, u64, String, Option<Vec<u8>>);

/// A log written to the blob store as chunks, not yet recorded.
#[derive(Debug, Clone)]
pub struct PackedLog {
    /// sha256 of the whole text: the log's name.
    pub digest: String,
    pub size: u64,
    chunks: Vec<Chunk>,
}

/// Records a packed log's chunks (and an event) in `tx`.
pub(crate) async fn record_chunks(tx: &mut crate::backend::Conn, log: &PackedLog) -> Result<()> {
    let (kind, subject, data) = insert_chunks(tx, log).await?;
    append_event(tx, &kind, &subject, data).await
}

/// Records a packed log's chunks in `tx`; returns the event that says so, for the caller to
/// append (with others: see `events::append_events`).
pub(crate) async fn insert_chunks(
    tx: &mut crate::backend::Conn,
    log: &PackedLog,
) -> Result<(String, String, serde_json::Value)> {
    for (seq, (start, length, chunk, data)) in log.chunks.iter().enumerate() {
        sqlx::query(
            "INSERT INTO log_chunks (log_digest, seq, start, length, digest, data) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(&log.digest)
        .bind(seq as i64)
        .bind(*start as i64)
        .bind(*length as i64)
        .bind(chunk)
        .bind(data.as_deref())
        .execute(&mut *tx)
        .await?;
    }
    let data = serde_json::json!({ "size": log.size, "chunks": log.chunks.len() });
    Ok(("log.stored".into(), log.digest.clone(), data))
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ChunkRow {
    start: i64,
    length: i64,
    digest: String,
    /// The compressed text, when it is kept in the row.
    data: Option<Vec<u8>>,
}

impl Store {
    /// Stores the log file at `path` as compressed chunks and records them; returns the log's
    /// digest (the sha256 of its whole text) and its size.
    pub async fn put_log(&self, path: &Path) -> Result<(String, u64)> {
        let log = self.pack_log(path).await?;
        let mut tx = self.writer.begin().await?;
        record_chunks(&mut tx, &log).await?;
        tx.commit().await?;
        Ok((log.digest, log.size))
    }

    /// Writes the log file at `path` into the blob store as compressed chunks (shared through
    /// the database on PostgreSQL), without recording them: [`Store::finish_job_with_log`]
    /// records them with the job's end, in one transaction.
    pub async fn pack_log(&self, path: &Path) -> Result<PackedLog> {
        let blobs = self.blobs().clone();
        let path = path.to_path_buf();
        let log = blocking(move || {
            let io = |source| StoreError::Io {
                context: format!("cannot read {}", path.display()),
                source,
            };
            let mut file = std::fs::File::open(&path).map_err(io)?;
            // A small log (most are) costs a buffer of its own size, not a whole chunk.
            let len = file.metadata().map_or(CHUNK as u64, |m| m.len());
            let mut buf = vec![0u8; (len as usize).clamp(1, CHUNK)];
            let mut packer = Packer::default();
            loop {
                let n = read_full(&mut file, &mut buf).map_err(io)?;
                if n == 0 {
                    break;
                }
                packer.add(&blobs, &buf[..n])?;
            }
            Ok(packer.finish())
        })
        .await?;
        self.share_log(&log).await?;
        Ok(log)
    }

    /// Like [`Store::pack_log`], for a log held in memory.
    pub async fn pack_log_text(&self, text: Vec<u8>) -> Result<PackedLog> {
        if text.len() <= INLINE_MAX / 2 {
            // Compressing a short log takes microseconds: less than a hop to a blocking thread,
            // and it needs no file (compressed, it stays under INLINE_MAX).
            let mut packer = Packer::default();
            packer.add_inline(&text)?;
            return Ok(packer.finish());
        }
        let blobs = self.blobs().clone();
        let log = blocking(move || {
            let mut packer = Packer::default();
            for chunk in text.chunks(CHUNK) {
                packer.add(&blobs, chunk)?;
            }
            Ok(packer.finish())
        })
        .await?;
        self.share_log(&log).await?;
        Ok(log)
    }

    /// Uploads a packed log's blob chunks for the other servers (PostgreSQL; nothing on SQLite;
    /// a chunk kept in its row is in the database already).
    async fn share_log(&self, log: &PackedLog) -> Result<()> {
        let digests: Vec<String> = log
            .chunks
            .iter()
            .filter(|c| c.3.is_none())
            .map(|c| c.2.clone())
            .collect();
        self.share_blobs(&digests).await
    }

    /// Up to `max` bytes of a stored log from byte `offset`.
    pub async fn read_log(&self, digest: &str, offset: u64, max: usize) -> Result<Vec<u8>> {
        // Only the chunks `max` bytes can reach: a reader walking a GiB log piece by piece
        // must not fetch every remaining chunk's row each time.
        let needed = (max / CHUNK).saturating_add(2).min(i64::MAX as usize) as i64;
        let chunks: Vec<ChunkRow> = sqlx::query_as(
            "SELECT start, length, digest, data FROM log_chunks WHERE log_digest = $1 AND start + length > $2
             ORDER BY seq LIMIT $3",
        )
        .bind(digest)
        .bind(offset as i64)
        .bind(needed)
        .fetch_all(&self.pool)
        .await?;
        // The blobs to read, fetched into the data folder first where they are not there yet.
        if chunks.is_empty() {
            match self.local_blob(digest).await {
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for c in chunks.iter().filter(|c| c.data.is_none()) {
            self.local_blob(&c.digest).await?;
        }
        let blobs = self.blobs().clone();
        let digest = digest.to_string();
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let has_chunks = !chunks.is_empty();
            if !has_chunks {
                // A log stored whole, or an empty one: read the plain blob if there is one.
                return match blobs.read_range(&digest, offset, max) {
                    Ok(bytes) => Ok(bytes),
                    Err(StoreError::NotFound { .. }) => Ok(Vec::new()),
                    Err(e) => Err(e),
                };
            }
            let mut out = Vec::new();
            for c in chunks {
                if out.len() >= max {
                    break;
                }
                let packed = match c.data {
                    Some(data) => data,
                    None => blobs.read(&c.digest)?,
                };
                let mut text = Vec::with_capacity(c.length as usize);
                GzDecoder::new(packed.as_slice())
                    .read_to_end(&mut text)
                    .map_err(|e| StoreError::Corrupt {
                        what: format!("log chunk {}", c.digest),
                        message: e.to_string(),
                    })?;
                let skip = offset.saturating_sub(c.start as u64) as usize;
                let take = (max - out.len()).min(text.len().saturating_sub(skip));
                out.extend_from_slice(&text[skip.min(text.len())..skip.min(text.len()) + take]);
            }
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Corrupt {
            what: "log".into(),
            message: e.to_string(),
        })?
    }

    /// The size of a stored log, in bytes of text.
    pub async fn log_size(&self, digest: &str) -> Result<u64> {
        let (size,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(start + length) FROM log_chunks WHERE log_digest = $1")
                .bind(digest)
                .fetch_one(&self.pool)
                .await?;
        Ok(size.unwrap_or(0) as u64)
    }
}

/// A log cut into chunks as it is read: each compressed, into its row or the blob store.
#[derive(Default)]
struct Packer {
    whole: Sha256,
    chunks: Vec<Chunk>,
    size: u64,
}

impl Packer {
    /// Stores the next chunk of text (at most [`CHUNK`] bytes).
    fn add(&mut self, blobs: &crate::BlobStore, text: &[u8]) -> Result<()> {
        self.whole.update(text);
        let packed = gzip(text)?;
        let chunk = match packed.len() <= INLINE_MAX {
            true => (hex::encode(Sha256::digest(&packed)), Some(packed)),
            false => (blobs.put_bytes(&packed)?, None),
        };
        self.chunks.push((self.size, text.len() as u64, chunk.0, chunk.1));
        self.size += text.len() as u64;
        Ok(())
    }

    /// Keeps `text` (at most half of [`INLINE_MAX`], so its compressed form fits) in its row.
    fn add_inline(&mut self, text: &[u8]) -> Result<()> {
        self.whole.update(text);
        let packed = gzip(text)?;
        self.chunks.push((
            self.size,
            text.len() as u64,
            hex::encode(Sha256::digest(&packed)),
            Some(packed),
        ));
        self.size += text.len() as u64;
        Ok(())
    }

    fn finish(self) -> PackedLog {
        PackedLog {
            digest: hex::encode(self.whole.finalize()),
            size: self.size,
            chunks: self.chunks,
        }
    }
}

/// The gzip header flate2 writes at its fastest level: no name, no time, unknown system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255];

thread_local! {
    /// A deflater per thread, used again for every chunk: making one costs ~300 KiB of fresh
    /// tables, more than compressing a short job's log.
    static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// `text` as a gzip member, the same as flate2's `GzEncoder` at its fastest level makes.
fn gzip(text: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(GZIP_HEADER.len() + text.len() / 4 + 64);
    out.extend_from_slice(&GZIP_HEADER);
    DEFLATE.with_borrow_mut(|deflate| -> Result<()> {
        deflate.reset();
        loop {
            if out.capacity() - out.len() < 256 {
                out.reserve(out.len().max(4096));
            }
            let used = deflate.total_in() as usize;
            let status = deflate
                .compress_vec(&text[used..], &mut out, FlushCompress::Finish)
                .map_err(|e| StoreError::Io {
                    context: "cannot compress a log chunk".into(),
                    source: std::io::Error::other(e),
                })?;
            if status == Status::StreamEnd {
                return Ok(());
            }
        }
    })?;
    let mut crc = Crc::new();
    crc.update(text);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    Ok(out)
}

/// Runs blocking log work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Corrupt {
            what: "log".into(),
            message: e.to_string(),
        })?
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use crate::testing::store;

    /// A short log (most jobs') is kept in the database, no blob file made; a chunk that does
    /// not compress below [`super::INLINE_MAX`] is a blob. Both read back whole and in part.
    #[tokio::test]
    async fn a_short_log_is_kept_in_its_row_and_a_large_chunk_as_a_blob() {
        let (dir, store) = store().await;
        let files = |dir: &std::path::Path| {
            walkdir(dir.join("blobs").as_path())
                .into_iter()
                .filter(|p| !p.starts_with(dir.join("blobs/tmp")))
                .count()
        };
        let before = files(dir.path());
        let short = b"[00:00.001] \xe2\x96\xb6 true\n[00:00.001] $ true\n".to_vec();
        let log = store.pack_log_text(short.clone()).await.unwrap();
        assert_eq!(files(dir.path()), before, "no blob file for a short log");
        let mut tx = store.writer.begin().await.unwrap();
        super::record_chunks(&mut tx, &log).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.read_log(&log.digest, 0, usize::MAX).await.unwrap(), short);
        assert_eq!(store.read_log(&log.digest, 12, 4).await.unwrap(), &short[12..16]);

        // Text that does not compress: 900 KiB of it is one chunk, a blob.
        let mut noise = Vec::with_capacity(900 << 10);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while noise.len() < 900 << 10 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(b'!' + (x % 90) as u8);
        }
        let log = store.pack_log_text(noise.clone()).await.unwrap();
        assert_eq!(files(dir.path()), before + 1, "one blob file");
        let mut tx = store.writer.begin().await.unwrap();
        super::record_chunks(&mut tx, &log).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.read_log(&log.digest, 0, usize::MAX).await.unwrap(), noise);
    }

    /// Every file below `dir`.
    fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                match e.file_type().is_ok_and(|t| t.is_dir()) {
                    true => stack.push(e.path()),
                    false => out.push(e.path()),
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn a_log_is_kept_compressed_and_read_from_any_offset() {
        let (dir, store) = store().await;
        let mut text = Vec::new();
        for i in 0..60_000 {
            text.extend_from_slice(format!("[00:00.{:03}] line {i} of a long build log\n", i % 1000).as_bytes());
        }
        assert!(text.len() > 2 * super::CHUNK, "spans several chunks");
        let path = dir.path().join("job.log");
        std::fs::write(&path, &text).unwrap();
        let (digest, size) = store.put_log(&path).await.unwrap();
        assert_eq!(size as usize, text.len());
        let from_memory = store.pack_log_text(text.clone()).await.unwrap();
        assert_eq!((from_memory.digest.as_str(), from_memory.size), (digest.as_str(), size));
        assert_eq!(
            from_memory.chunks,
            store.pack_log(&path).await.unwrap().chunks,
            "the same chunks"
        );
        assert_eq!(store.log_size(&digest).await.unwrap() as usize, text.len());
        assert_eq!(store.read_log(&digest, 0, usize::MAX).await.unwrap(), text);
        let mid = super::CHUNK as u64 - 7;
        assert_eq!(
            store.read_log(&digest, mid, 100).await.unwrap(),
            &text[mid as usize..mid as usize + 100]
        );
        assert!(store.read_log(&digest, size, 10).await.unwrap().is_empty());
        let stored: u64 = walk_size(&dir.path().join("blobs"));
        assert!(
            stored < text.len() as u64 / 3,
            "compressed: {stored} bytes for {}",
            text.len()
        );

        let plain = store.put_blob_bytes(b"an old plain log".to_vec()).await.unwrap();
        assert_eq!(store.read_log(&plain, 3, 3).await.unwrap(), b"old");
    }

    /// On PostgreSQL, a log stored by one server reads on another, which fetches only the
    /// chunks a read reaches. (On SQLite a database is one folder's: nothing to share.)
    #[tokio::test]
    async fn a_log_stored_by_one_server_reads_on_another() {
        let place = crate::testing::TestDb::new().await;
        let a = place.open().await;
        let mut text = Vec::new();
        for i in 0..70_000 {
            text.extend_from_slice(format!("[00:00.{:03}] step {i} of a long deploy log\n", i % 1000).as_bytes());
        }
        assert!(text.len() > 2 * super::CHUNK, "spans three chunks");
        let path = place.path().join("job.log");
        std::fs::write(&path, &text).unwrap();
        let (digest, size) = a.put_log(&path).await.unwrap();
        let Some((_b_dir, b)) = place.open_replica().await else {
            return;
        };
        assert_eq!(b.log_size(&digest).await.unwrap(), size);
        assert_eq!(b.read_log(&digest, 0, usize::MAX).await.unwrap(), text);

        let (c_dir, c) = place.open_replica().await.unwrap();
        let at = super::CHUNK as u64 + 5;
        assert_eq!(
            c.read_log(&digest, at, 10).await.unwrap(),
            &text[at as usize..at as usize + 10]
        );
        let fetched = std::fs::read_dir(c_dir.path().join("blobs"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != "tmp")
            .map(|e| std::fs::read_dir(e.unwrap().path()).unwrap().count())
            .sum::<usize>();
        assert!(fetched <= 2, "{fetched} chunks fetched for a read within two");
        assert!(fetched >= 1);
    }

    #[test]
    fn chunks_are_gzip_as_flate2_writes_it_with_one_deflater_for_all() {
        use std::io::Write;
        for text in [&b""[..], b"[00:00.001] \xe2\x96\xb6 true\n", &[b'x'; 300_000]] {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text).unwrap();
            assert_eq!(super::gzip(text).unwrap(), gz.finish().unwrap(), "{} bytes", text.len());
        }
    }

    fn walk_size(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    walk_size(&e.path())
                } else {
                    e.metadata().unwrap().len()
                }
            })
            .sum()
    }
}
