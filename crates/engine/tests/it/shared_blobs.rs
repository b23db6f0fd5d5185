//! Two servers on one PostgreSQL database, each with a data folder of its own: what a job run
//! by one engine stored (its log, its artifact) reads through the other engine's records API.
//! Runs when `TANDEM_TEST_POSTGRES` names a server; on SQLite a database is one folder's.

#![allow(clippy::unwrap_used)]

use crate::common;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::Arc;
use tandem_core::platform::parse_platform;
use tandem_engine::{Engine, EngineSettings};
use tandem_store::Store;
use tandem_testkit::git;
use tandem_testkit::postgres::Database;

async fn engine_on(data: &std::path::Path, url: &str, platform: &str) -> Arc<Engine> {
    let store = Store::open_with(data, Some(url)).await.unwrap();
    store
        .sync_platform(&parse_platform("p.yml", platform).unwrap())
        .await
        .unwrap();
    Engine::new(store, EngineSettings::in_data_dir(data)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_log_and_artifact_stored_by_one_engine_read_through_another() {
    let Some(db) = Database::create_if_configured().await else {
        eprintln!("skipped: set TANDEM_TEST_POSTGRES to share blobs through PostgreSQL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("svc");
    std::fs::create_dir_all(&repo).unwrap();
    let spec = "service: svc
pipeline:
  jobs:
    build:
      steps:
        - run: echo \"built on the first server\"; echo \"shop binary\" > shop.bin
      artifacts: ['shop.bin']
";
    std::fs::write(repo.join("tandem.yml"), spec).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: pipeline"]);
    let platform = format!(
        "markets:
  - {{ id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
services:
  - {{ name: svc, repo: {} }}
",
        repo.display()
    );
    let first = engine_on(&dir.path().join("a"), &db.url, &platform).await;
    let run = first.trigger_run("svc", "api").await.unwrap();
    let run = common::wait_for("the run to end", async || {
        let run = first.get_run(run.id).await.unwrap();
        (!matches!(run.state.as_str(), "queued" | "running")).then_some(run)
    })
    .await;
    assert_eq!(run.state, "success", "{:?}", run.error);

    let second = engine_on(&dir.path().join("b"), &db.url, &platform).await;
    let job = second.list_jobs(run.id).await.unwrap().remove(0);
    let digest = job.log_digest.unwrap();
    let log = String::from_utf8(second.read_log(&digest, 0, usize::MAX).await.unwrap()).unwrap();
    assert!(log.contains("built on the first server"), "{log}");
    assert_eq!(second.stored_log_size(&digest).await.unwrap(), log.len() as u64);

    let artifact = second.list_artifacts(run.id).await.unwrap().remove(0);
    let cached = second.store_for_tests().blobs().path_of(&artifact.digest);
    assert!(!cached.exists(), "not in the second folder before it is read");
    let mut bytes = Vec::new();
    second
        .open_blob(&artifact.digest)
        .await
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes, b"shop binary\n");
    assert_eq!(hex::encode(Sha256::digest(&bytes)), artifact.digest);
    assert!(cached.exists(), "kept in the second folder once read");
}
