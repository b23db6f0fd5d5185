//! Blobs shared by every server on one PostgreSQL database. Each server keeps its own data
//! folder; on PostgreSQL that folder is a cache of the `blobs` and `blob_chunks` tables:
//!
//! - a write stores the blob in the folder, then in the database (its `blobs` row and its
//!   chunks of [`BLOB_CHUNK`] bytes, in one transaction, so a reader never sees half a blob);
//!   a blob the database has already is only marked as written again (`created_at`), which
//!   keeps garbage collection's grace period from taking it under a new reference;
//! - a read of a blob missing from the folder first fetches it, chunk by chunk, into a
//!   temporary file, checks its sha256 and only then moves it into place.
//!
//! On SQLite (one server, one folder) the folder holds every blob, as it always did: nothing is
//! uploaded and a missing blob is simply missing. Callers read blob files by path
//! ([`crate::BlobStore`]) after [`Store::local_blob`] made sure the file is there.

use crate::backend::{Conn, Dialect};
use crate::blobs::is_digest;
use crate::{BlobStore, Result, Store, StoreError, now_ms};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// Bytes per database chunk: a 2 GiB artifact moves 1 MiB at a time, never whole in memory.
pub const BLOB_CHUNK: usize = 1 << 20;

impl Store {
    /// Stores `bytes` as a blob (in the data folder, and in the database on PostgreSQL);
    /// returns its digest.
    pub async fn put_blob_bytes(&self, bytes: Vec<u8>) -> Result<String> {
        let blobs = self.blobs.clone();
        let digest = blocking(move || blobs.put_bytes(&bytes)).await?;
        self.share_blobs(std::slice::from_ref(&digest)).await?;
        Ok(digest)
    }

    /// Stores the file at `path` as a blob, streaming it (in the data folder, and in the
    /// database on PostgreSQL); returns its digest and size.
    pub async fn put_blob_file(&self, path: &Path) -> Result<(String, u64)> {
        let blobs = self.blobs.clone();
        let path = path.to_path_buf();
        let (digest, size) = blocking(move || blobs.put_file(&path)).await?;
        self.share_blobs(std::slice::from_ref(&digest)).await?;
        Ok((digest, size))
    }

    /// The file of blob `digest` in this server's data folder, fetched from the database
    /// first if it is not there (PostgreSQL). `NotFound` when no copy exists.
    pub async fn local_blob(&self, digest: &str) -> Result<PathBuf> {
        if !is_digest(digest) {
            return Err(StoreError::not_found(format!("blob {digest}")));
        }
        let path = self.blobs.path_of(digest);
        if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file()) {
            return Ok(path);
        }
        if self.dialect != Dialect::Postgres {
            return Err(StoreError::not_found(format!("blob {digest}")));
        }
        self.fetch_blob(digest).await?;
        Ok(path)
    }

    /// A whole blob, fetched into the data folder first if needed (see [`Store::local_blob`]).
    pub async fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        self.local_blob(digest).await?;
        let blobs = self.blobs.clone();
        let digest = digest.to_string();
        blocking(move || blobs.read(&digest)).await
    }

    /// Uploads blobs of the data folder the database lacks (PostgreSQL; nothing on SQLite),
    /// in one transaction.
    pub(crate) async fn share_blobs(&self, digests: &[String]) -> Result<()> {
        if self.dialect != Dialect::Postgres || digests.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        for digest in digests {
            upload_blob(&mut tx, &self.blobs, digest, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Copies blob `digest` from the database into the data folder, verifying it on the way.
    async fn fetch_blob(&self, digest: &str) -> Result<()> {
        let found: Option<(i64, i64)> = sqlx::query_as("SELECT size, chunks FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        let Some((size, chunks)) = found else {
            return Err(StoreError::not_found(format!("blob {digest}")));
        };
        let blobs = self.blobs.clone();
        let mut writer = blocking(move || blobs.writer()).await?;
        for seq in 0..chunks {
            // One chunk per query: the rows of a big blob never arrive all at once.
            let chunk: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT bytes FROM blob_chunks WHERE digest = $1 AND seq = $2")
                    .bind(digest)
                    .bind(seq)
                    .fetch_optional(&self.pool)
                    .await?;
            let Some((bytes,)) = chunk else {
                return Err(StoreError::Corrupt {
                    what: format!("blob {digest}"),
                    message: format!("chunk {seq} of {chunks} is missing from the database: not cached"),
                });
            };
            writer = blocking(move || writer.write(&bytes).map(|()| writer)).await?;
        }
        let expected = digest.to_string();
        let (_, got) = blocking(move || writer.finish(Some(&expected))).await?;
        if got != size as u64 {
            // The digest matched, so the bytes are right and the recorded size is not.
            tracing::warn!(
                digest,
                recorded = size,
                actual = got,
                "a shared blob's recorded size is wrong"
            );
        }
        Ok(())
    }
}

/// Uploads the data folder's blob `digest` in `tx` unless the database has it; returns the
/// bytes uploaded (`None` when the database had it: then its `created_at` becomes `now`).
/// The bytes are hashed as they are read, and a file that no longer matches its digest is
/// refused (the transaction is left for the caller to drop).
pub(crate) async fn upload_blob(tx: &mut Conn, blobs: &BlobStore, digest: &str, now: i64) -> Result<Option<u64>> {
    // An existing row, touched: its lock keeps a concurrent collection from deleting it.
    let touched = sqlx::query("UPDATE blobs SET created_at = $2 WHERE digest = $1")
        .bind(digest)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if touched.rows_affected() > 0 {
        return Ok(None);
    }
    let path = blobs.path_of(digest);
    let io = |source| StoreError::Io {
        context: format!("cannot read blob {digest}"),
        source,
    };
    let mut file = tokio::fs::File::open(&path).await.map_err(io)?;
    let size = file.metadata().await.map_err(io)?.len();
    let chunks = size.div_ceil(BLOB_CHUNK as u64);
    // Another server writing the same blob: this waits for its transaction, then does nothing.
    let inserted = sqlx::query(
        "INSERT INTO blobs (digest, size, chunks, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(digest)
    .bind(size as i64)
    .bind(chunks as i64)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    let mut hasher = Sha256::new();
    let mut read = 0u64;
    for seq in 0..chunks {
        let want = (size - read).min(BLOB_CHUNK as u64) as usize;
        let mut buf = vec![0u8; want];
        file.read_exact(&mut buf).await.map_err(io)?;
        hasher.update(&buf);
        read += want as u64;
        sqlx::query("INSERT INTO blob_chunks (digest, seq, bytes) VALUES ($1, $2, $3)")
            .bind(digest)
            .bind(seq as i64)
            .bind(buf)
            .execute(&mut *tx)
            .await?;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != digest {
        return Err(StoreError::Corrupt {
            what: format!("blob {digest}"),
            message: format!("the file {} hashes to {actual}: not uploaded", path.display()),
        });
    }
    Ok(Some(size))
}

/// Runs blocking blob work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Io {
        context: "blob work stopped".into(),
        source: std::io::Error::other(e),
    })?
}

#[cfg(test)]
mod tests {
    use super::BLOB_CHUNK;
    use crate::testing::TestDb;
    use crate::{Store, StoreError};
    use sha2::{Digest, Sha256};

    async fn count(store: &Store, sql: &str, digest: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).bind(digest).fetch_one(&store.pool).await.unwrap();
        n
    }

    /// Bytes that do not repeat in any short period (so nothing could pass by chance).
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    #[tokio::test]
    async fn a_blob_written_through_one_server_is_read_through_another() {
        let place = TestDb::new().await;
        let a = place.open().await;
        let log = a.put_blob_bytes(b"line 1\nline 2\n".to_vec()).await.unwrap();
        let source = place.path().join("shop.bin");
        let binary = pattern(300_000);
        std::fs::write(&source, &binary).unwrap();
        let (artifact, size) = a.put_blob_file(&source).await.unwrap();
        assert_eq!(size, 300_000);
        assert_eq!(artifact, hex::encode(Sha256::digest(&binary)));
        assert_eq!(a.read_blob(&log).await.unwrap(), b"line 1\nline 2\n");

        let Some((_dir, b)) = place.open_replica().await else {
            // SQLite: the folder holds every blob and nothing goes to the database.
            assert_eq!(count(&a, "SELECT COUNT(*) FROM blobs WHERE digest <> $1", "").await, 0);
            assert_eq!(a.local_blob(&artifact).await.unwrap(), a.blobs().path_of(&artifact));
            return;
        };
        assert!(!b.blobs().path_of(&log).exists(), "another folder");
        assert_eq!(b.read_blob(&log).await.unwrap(), b"line 1\nline 2\n");
        let path = b.local_blob(&artifact).await.unwrap();
        assert_eq!(path, b.blobs().path_of(&artifact));
        assert_eq!(std::fs::read(&path).unwrap(), binary);
        assert!(b.blobs().verify(&artifact).unwrap());
        let nobody = "0".repeat(64);
        assert!(matches!(b.local_blob(&nobody).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(
            b.local_blob("../tandem.db").await,
            Err(StoreError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn two_servers_writing_the_same_blob_keep_one_copy() {
        let place = TestDb::new().await;
        let a = place.open().await;
        let bytes = pattern(BLOB_CHUNK + 10);
        let Some((_dir, b)) = place.open_replica().await else {
            let (x, y) = tokio::join!(a.put_blob_bytes(bytes.clone()), a.put_blob_bytes(bytes.clone()));
            assert_eq!(x.unwrap(), y.unwrap());
            return;
        };
        for _ in 0..3 {
            let (x, y) = tokio::join!(a.put_blob_bytes(bytes.clone()), b.put_blob_bytes(bytes.clone()));
            let (x, y) = (x.unwrap(), y.unwrap());
            assert_eq!(x, y);
            assert_eq!(count(&a, "SELECT COUNT(*) FROM blobs WHERE digest = $1", &x).await, 1);
            assert_eq!(
                count(&a, "SELECT COUNT(*) FROM blob_chunks WHERE digest = $1", &x).await,
                2
            );
        }
    }

    #[tokio::test]
    async fn a_corrupted_database_copy_is_refused_and_not_cached() {
        let place = TestDb::new().await;
        let a = place.open().await;
        let digest = a.put_blob_bytes(b"release binary v1".to_vec()).await.unwrap();
        let Some((dir, b)) = place.open_replica().await else {
            // SQLite: a blob missing from the folder is missing, and says which.
            std::fs::remove_file(a.blobs().path_of(&digest)).unwrap();
            let err = a.local_blob(&digest).await.unwrap_err();
            assert!(
                matches!(err, StoreError::NotFound { .. }) && err.to_string().contains(&digest),
                "{err}"
            );
            return;
        };
        sqlx::query("UPDATE blob_chunks SET bytes = $1 WHERE digest = $2")
            .bind(b"release binary v2".to_vec())
            .bind(&digest)
            .execute(&a.writer)
            .await
            .unwrap();
        let err = b.local_blob(&digest).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains(&format!("blob {digest}")), "{err}");
        assert!(!b.blobs().path_of(&digest).exists(), "not cached");
        let tmp = std::fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count();
        assert_eq!(tmp, 0, "no temporary file left behind");

        sqlx::query("DELETE FROM blob_chunks WHERE digest = $1")
            .bind(&digest)
            .execute(&a.writer)
            .await
            .unwrap();
        let err = b.read_blob(&digest).await.unwrap_err();
        assert!(err.to_string().contains("chunk 0 of 1 is missing"), "{err}");
        assert!(!b.blobs().path_of(&digest).exists());
    }

    #[tokio::test]
    async fn a_big_blob_moves_in_chunks() {
        let place = TestDb::new().await;
        let a = place.open().await;
        let big = pattern(5 * BLOB_CHUNK + 3);
        let source = place.path().join("big.tar");
        std::fs::write(&source, &big).unwrap();
        let (digest, size) = a.put_blob_file(&source).await.unwrap();
        assert_eq!(size as usize, big.len());
        let Some((_dir, b)) = place.open_replica().await else {
            assert_eq!(a.read_blob(&digest).await.unwrap(), big);
            return;
        };
        assert_eq!(
            count(&a, "SELECT COUNT(*) FROM blob_chunks WHERE digest = $1", &digest).await,
            6
        );
        let largest = count(
            &a,
            "SELECT CAST(MAX(octet_length(bytes)) AS BIGINT) FROM blob_chunks WHERE digest = $1",
            &digest,
        )
        .await;
        assert_eq!(largest, BLOB_CHUNK as i64);
        let path = b.local_blob(&digest).await.unwrap();
        let fetched = std::fs::read(path).unwrap();
        assert!(fetched == big, "the same {} bytes", big.len());
    }
}
