//! The scheduler and executor on real processes: parallel jobs, fail-fast, timeouts, retries,
//! `continue-on-error`, `if:`, matrix over markets, secrets masked in logs, steps that leave
//! children behind, cancellation, and re-running only the failed jobs.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_engine::Engine;
use tandem_store::RunRow;
use tandem_testkit::git;

const DEADLINE: Duration = Duration::from_secs(120);

struct Fixture {
    _dir: tempfile::TempDir,
    repo: std::path::PathBuf,
    engine: Arc<Engine>,
}

/// A service whose repository holds `tandem.yml` = `spec` (and a few files).
async fn fixture(spec: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("svc");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(repo.join("tandem.yml"), spec).unwrap();
    std::fs::write(repo.join("sub/hello.txt"), "hello\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: pipeline"]);
    let platform = format!(
        "markets:
  - {{ id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
  - {{ id: be, name: Belgium, region: w, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }}
services:
  - {{ name: svc, repo: {} }}
secrets:
  HOME_DIR: {{ env: HOME }}
",
        repo.display()
    );
    let data = dir.path().join("data");
    let engine = common::engine(&data, &platform).await;
    Fixture {
        _dir: dir,
        repo,
        engine,
    }
}

async fn wait_run(engine: &Engine, id: i64) -> RunRow {
    let started = Instant::now();
    loop {
        let run = engine.get_run(id).await.unwrap();
        if !matches!(run.state.as_str(), "queued" | "running") {
            return run;
        }
        assert!(started.elapsed() < DEADLINE, "run {id} did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn job_states(engine: &Engine, run: i64) -> Vec<(String, String)> {
    engine
        .list_jobs(run)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.name, j.state.to_string()))
        .collect()
}

async fn log(engine: &Engine, run: i64, job: &str) -> String {
    let j = engine
        .list_jobs(run)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.name == job)
        .unwrap();
    String::from_utf8(
        engine
            .read_log(j.log_digest.as_deref().unwrap(), 0, usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_follow_their_needs_conditions_and_matrix() {
    let f = fixture(
        "service: svc
pipeline:
  env: { GREETING: bonjour }
  jobs:
    a:
      steps:
        - run: echo \"$GREETING from $TANDEM_JOB\" > out.txt
        - name: in a folder
          working-directory: sub
          shell: bash
          run: cat hello.txt; [[ -n \"$TANDEM_COMMIT\" ]]
      artifacts: ['*.txt']
    per-market:
      needs: [a]
      matrix: { market: all }
      steps:
        - run: echo \"market $MATRIX_MARKET\"
    only-on-dev:
      if: branch == 'dev'
      steps: [{ run: 'false' }]
    secret:
      secrets: [HOME_DIR]
      steps:
        - run: printf 'the secret is %s\\n' \"$HOME_DIR\"; printf '%s' \"$HOME_DIR\" | cut -c1-3; echo
        - if: failure()
          run: echo never
    flaky-but-allowed:
      continue-on-error: true
      steps: [{ run: exit 3 }]
    after-all:
      needs: [per-market, flaky-but-allowed]
      steps: [{ run: echo done }]
",
    )
    .await;
    let run = f.engine.trigger_run("svc", "api").await.unwrap();
    let run = wait_run(&f.engine, run.id).await;
    assert_eq!(run.state, "success", "{:?}", run.error);
    let states = job_states(&f.engine, run.id).await;
    let state = |name: &str| states.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str()).unwrap();
    assert_eq!(state("a"), "success");
    assert_eq!(state("per-market (fr)"), "success");
    assert_eq!(state("per-market (be)"), "success");
    assert_eq!(state("only-on-dev"), "skipped");
    assert_eq!(state("flaky-but-allowed"), "failed");
    assert_eq!(state("after-all"), "success");
    assert!(log(&f.engine, run.id, "per-market (be)").await.contains("market be"));
    let a = log(&f.engine, run.id, "a").await;
    assert!(a.contains("hello") && a.contains("⬆ artifact out.txt"), "{a}");
    let artifacts = f.engine.list_artifacts(run.id).await.unwrap();
    assert_eq!(
        String::from_utf8(f.engine.store_for_tests().blobs().read(&artifacts[0].digest).unwrap()).unwrap(),
        "bonjour from a\n"
    );

    let secret_log = log(&f.engine, run.id, "secret").await;
    let home = std::env::var("HOME").unwrap();
    assert!(!secret_log.contains(&home), "the secret leaked:\n{secret_log}");
    assert!(secret_log.contains("the secret is ***"), "{secret_log}");
    assert!(!secret_log.contains("never"));
    assert_eq!(
        f.engine.list_releases(Some("svc")).await.unwrap().len(),
        1,
        "a green run on main makes a release"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_time_outs_retries_and_left_behind_children_end_cleanly() {
    let counter = tempfile::NamedTempFile::new().unwrap();
    let spec = format!(
        "service: svc
pipeline:
  jobs:
    retried:
      retry: 2
      steps:
        - run: echo x >> {counter}; test $(wc -l < {counter}) -ge 2
    daemon:
      steps:
        - run: sleep 301 & echo started a child
    hangs:
      timeout: 1s
      steps: [{{ run: sleep 302 }}]
    after-hang:
      needs: [hangs]
      steps: [{{ run: echo unreachable }}]
",
        counter = counter.path().display()
    );
    let f = fixture(&spec).await;
    let started = Instant::now();
    let run = f.engine.trigger_run("svc", "api").await.unwrap();
    let run = wait_run(&f.engine, run.id).await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "nothing waits for the 300 s sleeps"
    );
    // (Other tests here sleep 300 s; this one's children sleep 301 and 302 s, so the check is its own.)
    assert_eq!(run.state, "failed");
    assert!(
        run.error.as_deref().unwrap().contains("job `hangs` failed"),
        "{:?}",
        run.error
    );
    let states = job_states(&f.engine, run.id).await;
    let state = |name: &str| states.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone()).unwrap();
    assert_eq!(state("retried"), "success", "the second attempt passed");
    assert_eq!(state("daemon"), "success");
    assert_eq!(state("hangs"), "failed");
    assert_eq!(state("after-hang"), "skipped");
    assert!(log(&f.engine, run.id, "retried").await.contains("attempt 2 of 3"));
    assert!(
        log(&f.engine, run.id, "hangs")
            .await
            .contains("ran past the job's timeout and was stopped")
    );
    let leftovers = Command::new("pgrep").args(["-f", "sleep 30[12]"]).output().unwrap();
    assert!(
        leftovers.stdout.is_empty(),
        "a step's children were left running: {}",
        String::from_utf8_lossy(&leftovers.stdout)
    );

    // Re-running runs only what failed; what passed is reused with its log.
    let rerun = f.engine.rerun_failed(run.id).await.unwrap();
    let rerun = wait_run(&f.engine, rerun.id).await;
    assert_eq!(rerun.rerun_of, Some(run.id));
    let again = job_states(&f.engine, rerun.id).await;
    assert!(again.iter().any(|(n, s)| n == "retried" && s == "success"));
    assert_eq!(
        std::fs::read_to_string(counter.path()).unwrap().lines().count(),
        2,
        "the passed job was not run again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_can_be_cancelled_and_fail_fast_stops_the_others() {
    let f = fixture(
        "service: svc
pipeline:
  jobs:
    slow:
      steps: [{ run: sleep 300 }]
    breaks:
      steps: [{ run: sleep 0.5; exit 1 }]
",
    )
    .await;
    let run = f.engine.trigger_run("svc", "api").await.unwrap();
    let run = wait_run(&f.engine, run.id).await;
    assert_eq!(run.state, "failed");
    let states = job_states(&f.engine, run.id).await;
    assert!(
        states.contains(&("slow".to_string(), "cancelled".to_string())),
        "fail-fast cancels the others: {states:?}"
    );

    std::fs::write(
        f.repo.join("tandem.yml"),
        "service: svc\npipeline:\n  jobs:\n    slow:\n      steps: [{ run: sleep 300 }]\n",
    )
    .unwrap();
    git(&f.repo, &["commit", "-q", "-am", "slow only"]);
    let run = f.engine.trigger_run("svc", "api").await.unwrap();
    let started = Instant::now();
    loop {
        let jobs = job_states(&f.engine, run.id).await;
        if jobs.iter().any(|(_, s)| s == "running") {
            break;
        }
        assert!(started.elapsed() < DEADLINE);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f.engine.cancel_run(run.id).await.unwrap();
    let run = wait_run(&f.engine, run.id).await;
    assert_eq!(run.state, "cancelled");
    let err = f.engine.cancel_run(run.id).await.unwrap_err();
    assert!(err.to_string().contains("not in progress"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caches_come_back_and_releases_record_their_provenance() {
    let f = fixture(
        "service: svc
pipeline:
  jobs:
    build:
      cache: { key: [sub/hello.txt], paths: [out] }
      steps:
        - run: if [ -f out/cached ]; then echo CACHE-HIT; else mkdir -p out && date > out/cached; fi
        - run: cp out/cached built.txt
      artifacts: { paths: [built.txt], retention: 1d }
",
    )
    .await;
    let first = f.engine.trigger_run("svc", "api").await.unwrap();
    let first = wait_run(&f.engine, first.id).await;
    assert_eq!(first.state, "success", "{:?}", first.error);
    assert!(log(&f.engine, first.id, "build").await.contains("cache saved"));
    let second = f.engine.trigger_run("svc", "api").await.unwrap();
    let second = wait_run(&f.engine, second.id).await;
    let again = log(&f.engine, second.id, "build").await;
    assert!(
        again.contains("cache restored") && again.contains("CACHE-HIT"),
        "{again}"
    );
    let built = |run| {
        let engine = f.engine.clone();
        async move {
            let a = &engine.list_artifacts(run).await.unwrap()[0];
            (a.digest.clone(), a.expires_at)
        }
    };
    let (d1, expires) = built(first.id).await;
    let (d2, _) = built(second.id).await;
    assert_eq!(d1, d2, "the restored folder is the saved one");
    let day = 86_400_000;
    assert!(
        expires.unwrap() > tandem_store::now_ms() + day - 60_000 && expires.unwrap() <= tandem_store::now_ms() + day
    );

    let release = &f.engine.list_releases(Some("svc")).await.unwrap()[0];
    assert!(release.builder.starts_with("tandem 0.1.0 on "), "{}", release.builder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_limits_hold_for_everything_a_step_starts() {
    let f = fixture(
        "service: svc
pipeline:
  jobs:
    limited:
      limits: { file-size: 1M, open-files: 64, cpu-time: 30s }
      steps:
        - run: test \"$(ulimit -n)\" -eq 64 && test \"$(ulimit -t)\" -eq 30
    writes-too-much:
      limits: { file-size: 1M }
      continue-on-error: true
      steps:
        - run: head -c 2097152 /dev/zero > big.bin
",
    )
    .await;
    let run = f.engine.trigger_run("svc", "api").await.unwrap();
    let run = wait_run(&f.engine, run.id).await;
    let states = job_states(&f.engine, run.id).await;
    assert!(
        states.contains(&("limited".to_string(), "success".to_string())),
        "{states:?}"
    );
    assert!(
        states.contains(&("writes-too-much".to_string(), "failed".to_string())),
        "{states:?}"
    );
}
