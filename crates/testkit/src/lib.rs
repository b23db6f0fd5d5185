//! Helpers Tandem's tests share. Only tests depend on this crate.
//!
//! - git: [`git`], [`make_repo`], [`commit_all`] make real repositories with the git CLI;
//! - waiting for a state instead of sleeping: [`wait_for`], [`try_wait_for`] (in [`wait`]);
//! - a webhook receiver on 127.0.0.1 that records what it is sent: [`hook::receiver`];
//! - starting servers: [`server::free_port`], [`server::read_until`] (a child's output up to a line);
//! - fixtures more than one crate reads: [`fixtures`];
//! - a PostgreSQL database of a test's own: [`postgres::Database`]; a TCP proxy a test can cut:
//!   [`proxy::Proxy`];
//! - an HTTP client, with the TLS provider every Tandem process installs: [`http`], [`http_builder`].

#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fixtures;
pub mod hook;
pub mod postgres;
pub mod proxy;
pub mod server;
pub mod wait;

pub use wait::{try_wait_for, wait_for};

use std::path::Path;
use std::process::Command;

/// `reqwest::Client::builder()` with ring installed as the process's TLS provider, as every
/// Tandem process does (`tandem_engine::tls`): reqwest is built without a provider of its own
/// and panics when it builds a client without one.
#[allow(clippy::disallowed_methods)] // the one place a builder is made
pub fn http_builder() -> reqwest::ClientBuilder {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

/// An HTTP client with default settings (see [`http_builder`]).
pub fn http() -> reqwest::Client {
    http_builder()
        .build()
        .expect("an HTTP client with default settings builds")
}

/// Runs `git` in `dir` as a fixed author, ignoring the machine's own git config, and returns
/// its trimmed standard output; panics with git's message when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ines Dupont")
        .env("GIT_AUTHOR_EMAIL", "ines@acme-retail.example")
        .env("GIT_COMMITTER_NAME", "Ines Dupont")
        .env("GIT_COMMITTER_EMAIL", "ines@acme-retail.example")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("cannot run git: the tests need git installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Makes a repository at `dir` on branch `main` with one commit per (message, file, content).
pub fn make_repo(dir: &Path, commits: &[(&str, &str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    for (message, file, content) in commits {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-q", "-m", message]);
    }
}

/// Commits everything in `dir` (a repository) with `message`.
pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "--all"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}
