//! Job caches (`cache: { key: [...], paths: [...] }`): before a job's steps, the folders saved by
//! an earlier green run with the same key are restored into the fresh workspace; after a green
//! job whose key had no cache yet, they are saved as a tar archive in the blob store.

use sha2::{Digest, Sha256};
use std::path::Path;
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
