//! The engine's door answers typed errors: each refusal reaches the caller as its kind (not
//! found, conflict, refused, forbidden, invalid), from wherever inside the engine it was raised
//! (git, the store, a rule), with nothing to look for in a chain.

#![allow(clippy::unwrap_used)]

use crate::common;
use tandem_core::role::Role;
use tandem_engine::Error;
use tandem_testkit::git;

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
services:
  - { name: svc, repo: REPO, branch: BRANCH }
  - { name: gone, repo: /nonexistent/tandem-test-repo }
";

#[tokio::test]
async fn each_refusal_comes_back_as_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("svc");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: start"]);
    let platform = PLATFORM
        .replace("REPO", &repo.display().to_string())
        .replace("BRANCH", "release");
    let engine = common::engine(&dir.path().join("data"), &platform).await;

    // Not found: a service, a run, a release, a rollout, a change request.
    let e = engine.trigger_run("nope", "test").await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("unknown service `nope`"), "{e}");
    for e in [
        engine.cancel_run(404).await.unwrap_err(),
        engine.start_rollout(404, "ana").await.map(drop).unwrap_err(),
        engine.pause_rollout(404, "ana").await.map(drop).unwrap_err(),
        engine.withdraw_change(404, "ana").await.map(drop).unwrap_err(),
        engine.postmortem(404).await.map(drop).unwrap_err(),
    ] {
        assert!(matches!(&e, Error::NotFound { .. }), "{e:?}");
    }

    // Refused by git's rules, raised deep inside a blocking task: a branch the repository
    // does not have, a repository that is not there.
    let e = engine.sync_commits("svc").await.unwrap_err();
    assert!(matches!(&e, Error::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("branch `release` does not exist"), "{e}");
    let e = engine.sync_commits("gone").await.unwrap_err();
    assert!(matches!(&e, Error::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("does not exist"), "{e}");

    // Invalid input, with its place; a rule's refusal.
    let e = engine.set_secret("X", "", "ana").await.unwrap_err();
    assert!(matches!(&e, Error::Refused { .. }), "an undeclared secret: {e:?}");
    let e = engine
        .propose_flags("svc", "flags", "not: [a flag file", "ana", Role::Developer)
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Refused { details: Some(_), .. }), "{e:?}");

    // A launch of an unknown market is not found; of a live one, a conflict.
    let e = engine.launch_market("xx", "ana").await.map(drop).unwrap_err();
    assert!(matches!(&e, Error::NotFound { .. }), "{e:?}");
    let e = engine.launch_market("fr", "ana").await.map(drop).unwrap_err();
    assert!(matches!(&e, Error::Conflict(_)), "{e:?}");
}
