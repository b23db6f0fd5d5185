//! Job caches (`cache: { key: [...], paths: [...] }`): before a job's steps, the folders saved by
//! an earlier green run with the same key are restored into the fresh workspace; after a green
//! job whose key had no cache yet, they are saved as a tar archive in the blob store.

use crate::Engine;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tandem_core::pipeline::CacheSpec;

/// The key of a job's cache: its name and its key files' contents, hashed.
pub fn cache_key(job: &str, spec: &CacheSpec, workspace: &Path) -> String {
    let mut hasher = Sha256::new();
    hasher.update(job.as_bytes());
    for file in &spec.key {
        hasher.update(b"\0");
        hasher.update(file.as_bytes());
        match std::fs::read(workspace.join(file)) {
            Ok(bytes) => hasher.update(Sha256::digest(&bytes)),
            Err(_) => hasher.update(b"(missing)"),
        }
    }
    hasher.update(b"\0paths");
    for path in &spec.paths {
        hasher.update(path.as_bytes());
        hasher.update(b"\0");
    }
    hex::encode(hasher.finalize())
}

impl Engine {
    /// Restores the cache for `key` into `workspace`; returns whether there was one.
    pub(crate) async fn restore_cache(&self, service: &str, key: &str, workspace: &Path) -> Result<bool> {
        let Some(digest) = self.store.get_cache(service, key).await? else {
            return Ok(false);
        };
        let archive = self.store.local_blob(&digest).await?;
        let dest = workspace.to_path_buf();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let file =
                std::fs::File::open(&archive).with_context(|| format!("cannot open cache {}", archive.display()))?;
            let mut tar = tar::Archive::new(file);
            tar.set_preserve_mtime(true);
            tar.unpack(&dest).context("cannot unpack the cache")
        })
        .await??;
        Ok(true)
    }

    /// Saves `paths` of `workspace` as the cache for `key`; returns its size.
    pub(crate) async fn save_cache(&self, service: &str, key: &str, spec: &CacheSpec, workspace: &Path) -> Result<u64> {
        let tmp: PathBuf = self.settings.work_dir.join(format!("cache-{key}.tar"));
        let (ws, paths, out) = (workspace.to_path_buf(), spec.paths.clone(), tmp.clone());
        tokio::task::spawn_blocking(move || -> Result<()> {
            let file = std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
            let mut tar = tar::Builder::new(file);
            tar.follow_symlinks(false);
            for p in &paths {
                let src = ws.join(p);
                if src.is_dir() {
                    tar.append_dir_all(p, &src)
                        .with_context(|| format!("cannot archive {p}"))?;
                } else if src.is_file() {
                    tar.append_path_with_name(&src, p)
                        .with_context(|| format!("cannot archive {p}"))?;
                }
            }
            tar.into_inner().context("cannot finish the cache archive")?;
            Ok(())
        })
        .await??;
        let (digest, size) = self.store.put_blob_file(&tmp).await?;
        let _ = tokio::fs::remove_file(&tmp).await;
        self.store.save_cache(service, key, &digest, size).await?;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_the_key_files_contents() {
        let dir = tempfile::tempdir().unwrap();
        let spec = CacheSpec {
            key: vec!["Cargo.lock".into()],
            paths: vec!["target".into()],
        };
        std::fs::write(dir.path().join("Cargo.lock"), "a").unwrap();
        let a = cache_key("build", &spec, dir.path());
        assert_eq!(a, cache_key("build", &spec, dir.path()));
        assert_ne!(a, cache_key("test", &spec, dir.path()));
        std::fs::write(dir.path().join("Cargo.lock"), "b").unwrap();
        assert_ne!(a, cache_key("build", &spec, dir.path()));
    }
}
