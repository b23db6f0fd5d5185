//! Mirrors of remote service repositories. A service whose `repo` is a URL (other than
//! `file://`) is read from a bare mirror under the data folder, `<data>/repos/<service>.git`,
//! made on first use. Before the engine judges what the branch is (a poll, a webhook push, a
//! run by hand or schedule) and before a run checks out a commit the mirror lacks, the
//! service's branch alone is fetched into `refs/heads/<branch>` (forced: a rewritten branch is
//! read as it is now; no tags). One lock per service keeps two fetches of one mirror apart;
//! readers take none, since gix writes the pack before it moves the ref.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tandem_core::platform::redact_url;

/// A fetch that failed, named for the person who must fix it: the service, the branch and the
/// URL (without credentials), and the cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot fetch branch `{branch}` of service `{service}` from {url}: {reason}")]
pub struct FetchError {
    /// The service whose repository was fetched.
    pub service: String,
    /// The repository's URL, without user or password.
    pub url: String,
    /// The branch that was fetched.
    pub branch: String,
    /// Why, as text: the cause never carries the transport's inner types to the caller.
    pub reason: String,
}

/// The mirrors of one engine, and the lock of each.
#[derive(Debug)]
pub struct Mirrors {
    dir: PathBuf,
    locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Mirrors {
    /// Mirrors kept under `dir` (made when the first one is).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            locks: Default::default(),
        }
    }

    /// Where the mirror of `service` lives (service names are plain: letters, digits, `-`, `_`).
    pub fn path(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}.git"))
    }

    /// Fetches `branch` of `url` into the mirror of `service`, making the mirror first if need
    /// be; returns the mirror's path. Waits for a fetch of the same service under way.
    pub async fn fetch(&self, service: &str, url: &str, branch: &str) -> Result<PathBuf, FetchError> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.entry(service.to_string()).or_default().clone()
        };
        let _held = lock.lock().await;
        // gix's HTTPS goes through reqwest, which takes the process's TLS provider.
        crate::tls::use_ring();
        let path = self.path(service);
        let (dest, source, wanted) = (path.clone(), url.to_string(), branch.to_string());
        let fetched = tokio::task::spawn_blocking(move || fetch_branch(&dest, &source, &wanted))
            .await
            .map_err(|_| anyhow::anyhow!("the fetch stopped before its end"))
            .and_then(|r| r);
        match fetched {
            Ok(()) => Ok(path),
            Err(e) => {
                let redacted = redact_url(url);
                // The cause may quote the URL as written; show it only without credentials.
                let reason = format!("{e:#}").replace(url, &redacted);
                let url = redacted;
                tracing::warn!(service, url = %url, branch, error = %reason, "cannot fetch a repository");
                Err(FetchError {
                    service: service.to_string(),
                    url,
                    branch: branch.to_string(),
                    reason,
                })
            }
        }
    }
}

/// Blocking: makes the bare mirror at `path` if it is not one yet, then fetches `branch` of
/// `url` into its `refs/heads/<branch>`.
pub fn fetch_branch(path: &Path, url: &str, branch: &str) -> anyhow::Result<()> {
    if branch.is_empty()
        || branch.starts_with('-')
        || branch
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "*:?[\\^~".contains(c))
    {
        bail!("`{branch}` is not a branch name");
    }
    let repo = open_or_init(path)?;
    let spec = format!("+refs/heads/{branch}:refs/heads/{branch}");
    let remote = repo
        .remote_at(url)
        .context("the URL is not a git URL")?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs([spec.as_str()], gix::remote::Direction::Fetch)
        .context("the branch name makes no ref")?;
    let connection = remote
        .connect(gix::remote::Direction::Fetch)
        .context("cannot connect")?;
    let prepare = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .context("cannot list the remote's branches")?;
    if prepare.ref_map().mappings.is_empty() {
        bail!("the remote repository has no branch `{branch}`");
    }
    prepare
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .context("cannot receive the branch's commits")?;
    Ok(())
}

/// The bare repository at `path`, made when missing (or left half-made by an earlier start).
fn open_or_init(path: &Path) -> anyhow::Result<gix::Repository> {
    if path.join("HEAD").exists()
        && let Ok(repo) = gix::open(path)
    {
        return Ok(repo);
    }
    if path.exists() {
        std::fs::remove_dir_all(path).with_context(|| format!("cannot clear the broken mirror {}", path.display()))?;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    gix::init_bare(path).with_context(|| format!("cannot create the mirror {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_testkit::{git, make_repo};

    /// An HTTPS remote is fetched with a TLS client (ring, the process's provider): against a
    /// server that does not speak TLS, the fetch fails at the handshake with a reason, not a
    /// panic for want of a provider.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_https_remote_is_fetched_over_tls_with_ring() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut hello = [0u8; 512];
                let _ = stream.read(&mut hello);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let mirrors = Mirrors::new(dir.path().join("repos"));
        let err = mirrors
            .fetch("shop", &format!("https://127.0.0.1:{port}/shop.git"), "main")
            .await
            .unwrap_err();
        assert!(
            !err.reason.contains("provider") && !err.reason.contains("stopped before its end"),
            "the TLS client was built and tried: {err}"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_mirror_follows_the_remote_branch_even_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin");
        make_repo(&origin, &[("one", "a.txt", "1")]);
        let url = format!("file://{}", origin.display());
        let mirrors = Arc::new(Mirrors::new(dir.path().join("repos")));

        // Fetches of one service at once wait for each other and leave a sound mirror.
        let both = tokio::join!(mirrors.fetch("shop", &url, "main"), mirrors.fetch("shop", &url, "main"));
        let path = both.0.unwrap();
        assert_eq!(both.1.unwrap(), path);
        assert_eq!(path, dir.path().join("repos/shop.git"));
        let head = git(&origin, &["rev-parse", "HEAD"]);
        assert_eq!(crate::git::branch_head(&path, "main").unwrap(), head);

        // A rewritten branch is read as it is now.
        git(&origin, &["commit", "-q", "--amend", "-m", "one, again"]);
        let rewritten = git(&origin, &["rev-parse", "HEAD"]);
        mirrors.fetch("shop", &url, "main").await.unwrap();
        assert_eq!(crate::git::branch_head(&path, "main").unwrap(), rewritten);

        let err = mirrors.fetch("shop", &url, "release").await.unwrap_err();
        assert_eq!(err.service, "shop");
        assert!(err.to_string().contains("has no branch `release`"), "{err}");
        assert!(err.to_string().contains(&url), "{err}");
    }
}
