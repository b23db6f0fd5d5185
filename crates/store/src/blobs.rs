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
        let io = |context: String| move |source| StoreError::Io { context, source };
        let mut input = std::fs::File::open(source).map_err(io(format!("cannot read {}", source.display())))?;
        let mut tmp = tempfile_in(&self.root.join("tmp"))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = input
                .read(&mut buf)
                .map_err(io(format!("cannot read {}", source.display())))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.1.write_all(&buf[..n]).map_err(io("cannot write a blob".into()))?;
            size += n as u64;
        }
        let digest = hex::encode(hasher.finalize());
        self.commit(tmp, &digest)?;
        Ok((digest, size))
    }

    /// Stores bytes and returns their digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<String> {
        let digest = hex::encode(Sha256::digest(bytes));
        let mut tmp = tempfile_in(&self.root.join("tmp"))?;
        tmp.1.write_all(bytes).map_err(|source| StoreError::Io {
            context: "cannot write a blob".into(),
            source,
        })?;
        self.commit(tmp, &digest)?;
        Ok(digest)
    }

    /// Reads a whole blob.
    pub fn read(&self, digest: &str) -> Result<Vec<u8>> {
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
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
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
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

    fn commit(&self, (tmp_path, file): (PathBuf, std::fs::File), digest: &str) -> Result<()> {
        let io = |context: String| move |source| StoreError::Io { context, source };
        file.sync_all().map_err(io("cannot write a blob".into()))?;
        drop(file);
        let dest = self.path_of(digest);
        if dest.exists() {
            let _ = std::fs::remove_file(&tmp_path);
            return Ok(());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
        }
        std::fs::rename(&tmp_path, &dest).map_err(io(format!("cannot store blob {digest}")))
    }
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
