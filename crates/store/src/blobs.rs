//! Blob files (logs, artifacts) on disk, content-addressed by sha256: `blobs/ab/cdef…`.

use crate::{Result, StoreError};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Content-addressed files. Writing the same bytes twice keeps one copy.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("tmp")).map_err(|source| StoreError::Io {
            context: format!("cannot create blob folder {}", root.display()),
            source,
        })?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The folder holding every blob.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file holding the blob with this sha256 digest (hex), whether or not it exists.
    pub fn path_of(&self, digest: &str) -> PathBuf {
        let (dir, rest) = digest.split_at(2.min(digest.len()));
        self.root.join(dir).join(rest)
    }

    /// Copies a file into the store, streaming it, and returns its digest and size.
    pub fn put_file(&self, source: &Path) -> Result<(String, u64)> {
        let io = |e| StoreError::Io {
            context: format!("cannot read {}", source.display()),
            source: e,
        };
        let mut input = std::fs::File::open(source).map_err(io)?;
        let mut writer = self.writer()?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = input.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            writer.write(&buf[..n])?;
        }
        writer.finish(None)
    }

    /// Stores bytes and returns their digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<String> {
        let mut writer = self.writer()?;
        writer.write(bytes)?;
        Ok(writer.finish(None)?.0)
    }

    /// A blob to write piece by piece: into a temporary file, moved into place by
    /// [`BlobWriter::finish`] under its digest.
    pub(crate) fn writer(&self) -> Result<BlobWriter> {
        Ok(BlobWriter {
            blobs: self.clone(),
            tmp: Some(tempfile_in(&self.root.join("tmp"))?),
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Reads a whole blob.
    pub fn read(&self, digest: &str) -> Result<Vec<u8>> {
        if !is_digest(digest) {
            return Err(StoreError::not_found(format!("blob {digest}")));
        }
        std::fs::read(self.path_of(digest)).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => StoreError::not_found(format!("blob {digest}")),
            _ => StoreError::Io {
                context: format!("cannot read blob {digest}"),
                source,
            },
        })
    }

    /// Up to `max` bytes of a blob from byte `offset`, reading only those.
    pub fn read_range(&self, digest: &str, offset: u64, max: usize) -> Result<Vec<u8>> {
        use std::io::{Read, Seek};
        let mut file = self.open_blob(digest)?;
        let io = |source| StoreError::Io {
            context: format!("cannot read blob {digest}"),
            source,
        };
        file.seek(std::io::SeekFrom::Start(offset)).map_err(io)?;
        let mut out = Vec::new();
        file.take(max as u64).read_to_end(&mut out).map_err(io)?;
        Ok(out)
    }

    /// The file of a blob, opened for reading (a folder or other non-file is an error).
    pub fn open_blob(&self, digest: &str) -> Result<std::fs::File> {
        if !is_digest(digest) {
            return Err(StoreError::not_found(format!("blob {digest}")));
        }
        let io = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::NotFound => StoreError::not_found(format!("blob {digest}")),
            _ => StoreError::Io {
                context: format!("cannot read blob {digest}"),
                source,
            },
        };
        let file = std::fs::File::open(self.path_of(digest)).map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(StoreError::Io {
                context: format!("cannot read blob {digest}"),
                source: std::io::Error::other("its path is not a file"),
            });
        }
        Ok(file)
    }

    /// Checks that the file of `digest` still hashes to it.
    pub fn verify(&self, digest: &str) -> Result<bool> {
        let path = self.path_of(digest);
        let mut file = std::fs::File::open(&path).map_err(|source| StoreError::Io {
            context: format!("cannot read blob {digest}"),
            source,
        })?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|source| StoreError::Io {
            context: format!("cannot read blob {digest}"),
            source,
        })?;
        Ok(hex::encode(hasher.finalize()) == digest)
    }

    /// Moves a written temporary file into place as the blob `digest` (kept once: if the
    /// blob is there already, the new file is dropped and the old one counts as written now,
    /// so garbage collection's grace period covers the reference about to be recorded).
    fn commit(&self, tmp_path: &Path, file: std::fs::File, digest: &str) -> Result<()> {
        let io = |context: String| move |source| StoreError::Io { context, source };
        file.sync_all().map_err(io("cannot write a blob".into()))?;
        drop(file);
        let dest = self.path_of(digest);
        if dest.exists() {
            let _ = std::fs::remove_file(tmp_path);
            if let Ok(kept) = std::fs::File::options().append(true).open(&dest) {
                let _ = kept.set_modified(std::time::SystemTime::now());
            }
            return Ok(());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::rename(tmp_path, &dest).map_err(io(format!("cannot store blob {digest}")))
    }
}

/// A blob being written (see [`BlobStore::writer`]): its bytes go to a temporary file and
/// into its hash as they come. Dropped unfinished, it removes its temporary file.
pub(crate) struct BlobWriter {
    blobs: BlobStore,
    tmp: Option<(PathBuf, std::fs::File)>,
    hasher: Sha256,
    size: u64,
}

impl BlobWriter {
    /// Appends bytes to the blob.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let Some((_, file)) = self.tmp.as_mut() else {
            return Err(StoreError::Io {
                context: "cannot write a blob".into(),
                source: std::io::Error::other("it was finished already"),
            });
        };
        file.write_all(bytes).map_err(|source| StoreError::Io {
            context: "cannot write a blob".into(),
            source,
        })?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Moves the blob into place under its digest; returns its digest and size. With
    /// `expected`, a blob whose bytes hash to anything else is refused and not kept.
    pub(crate) fn finish(mut self, expected: Option<&str>) -> Result<(String, u64)> {
        let digest = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let (tmp_path, file) = self.tmp.take().ok_or_else(|| StoreError::Io {
            context: "cannot write a blob".into(),
            source: std::io::Error::other("it was finished already"),
        })?;
        if let Some(expected) = expected
            && expected != digest
        {
            drop(file);
            let _ = std::fs::remove_file(&tmp_path);
            return Err(StoreError::Corrupt {
                what: format!("blob {expected}"),
                message: format!("its {} bytes hash to {digest}: refused, not cached", self.size),
            });
        }
        if let Err(e) = self.blobs.commit(&tmp_path, file, &digest) {
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e);
        }
        Ok((digest, self.size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some((path, file)) = self.tmp.take() {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether `digest` is a sha256 in hex (64 characters), so that it names a file in the blob
/// folder and nowhere else.
pub(crate) fn is_digest(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())
}

fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!("{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(|source| StoreError::Io {
        context: format!("cannot create {}", path.display()),
        source,
    })?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_are_kept_once_under_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let a = blobs.put_bytes(b"hello").unwrap();
        let b = blobs.put_bytes(b"hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(blobs.read(&a).unwrap(), b"hello");
        assert!(blobs.verify(&a).unwrap());
        std::fs::write(blobs.path_of(&a), b"tampered").unwrap();
        assert!(!blobs.verify(&a).unwrap());
        assert!(matches!(
            blobs.read("../../etc/passwd"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn a_blob_written_again_counts_as_written_now() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let digest = blobs.put_bytes(b"cache").unwrap();
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let file = std::fs::File::options()
            .append(true)
            .open(blobs.path_of(&digest))
            .unwrap();
        file.set_modified(long_ago).unwrap();
        blobs.put_bytes(b"cache").unwrap();
        let modified = std::fs::metadata(blobs.path_of(&digest)).unwrap().modified().unwrap();
        assert!(modified > long_ago, "{modified:?}");
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn files_stream_in() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(&dir.path().join("b")).unwrap();
        let src = dir.path().join("f");
        std::fs::write(&src, vec![7u8; 200_000]).unwrap();
        let (digest, size) = blobs.put_file(&src).unwrap();
        assert_eq!(size, 200_000);
        assert_eq!(blobs.read(&digest).unwrap().len(), 200_000);
    }
}
