//! Rollouts at scale: a rollout to 1,000 markets reads the platform a bounded number of times
//! (once per wave, not once per market), and independent services' rollouts overlap within the
//! platform file's concurrency limits.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::sync::Arc;
use tandem_engine::Engine;
use tandem_store::RolloutRow;
use tandem_testkit::git;

/// A repository for `service` whose release deploys by running `deploy`.
fn make_repo(dir: &Path, service: &str, deploy: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let spec = format!(
        "service: {service}
pipeline:
  jobs:
    build:
      steps: [{{ run: echo ok > out.txt }}]
      artifacts: [out.txt]
deploy:
  driver: command
  run: {deploy}
"
    );
    std::fs::write(dir.join("tandem.yml"), spec).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "T-1: the app"]);
}

/// Runs `service`'s pipeline to a release; returns its id.
async fn release(engine: &Arc<Engine>, service: &str) -> i64 {
    let run = engine.trigger_run(service, "test").await.unwrap();
    let run = common::wait_for("the run", async || {
        let r = engine.get_run(run.id).await.unwrap();
        matches!(r.state.as_str(), "success" | "failed").then_some(r)
    })
    .await;
    assert_eq!(run.state, "success", "run failed: {:?}", run.error);
    let releases = engine.list_releases(Some(service)).await.unwrap();
    releases.into_iter().find(|r| r.run_id == run.id).unwrap().id
}

async fn wait_ended(engine: &Arc<Engine>, id: i64) -> RolloutRow {
    common::wait_for(&format!("rollout {id} to end"), async || {
        let r = engine.get_rollout(id).await.unwrap();
        r.finished_at.is_some().then_some(r)
    })
    .await
}

/// `n` markets `m0001`… in five waves: one market, then an eighth, an eighth, a quarter and the
/// rest of the others.
fn markets_in_waves(n: usize) -> String {
    let ids: Vec<String> = (1..=n).map(|i| format!("m{i:04}")).collect();
    let mut text = String::from("markets:\n");
    for id in &ids {
        text.push_str(&format!(
            "  - {{ id: {id}, name: M-{id}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    let rest = n - 1;
    let sizes = [1, rest / 8, rest / 8, rest / 4, rest - 2 * (rest / 8) - rest / 4];
    text.push_str("waves:\n");
    let mut at = 0;
    for (w, size) in sizes.iter().enumerate() {
        text.push_str(&format!(
            "  - {{ name: w{}, markets: [{}] }}\n",
            w + 1,
            ids[at..at + size].join(", ")
        ));
        at += size;
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_to_a_thousand_markets_reads_the_platform_once_per_wave() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    make_repo(&repo, "app", "\"true\"");
    let platform = format!(
        "{}services:\n  - {{ name: app, repo: {} }}\n",
        markets_in_waves(1000),
        repo.display()
    );
    let engine = common::engine(&dir.path().join("data"), &platform).await;
    let release = release(&engine, "app").await;

    let loads = engine.store_for_tests().platform_loads();
    let checks = engine.rollout_reads();
    let rollout = engine.start_rollout_with(release, "test", false).await.unwrap();
    let ended = wait_ended(&engine, rollout.id).await;
    assert_eq!(ended.state.as_str(), "succeeded", "{:?}", ended.reason);
    // What the markets' deployments left running in the background (their commits) is done.
    engine.shutdown().await;

    let live = engine.list_live_deployments().await.unwrap();
    assert_eq!(live.len(), 1000, "every market runs the release");
    assert!(live.iter().all(|d| d.release_id == release));
    let read = engine.store_for_tests().platform_loads() - loads;
    // Planning the rollout, then once per wave (5); a market reads none.
    assert!(
        (1..=8).contains(&read),
        "a rollout to 1,000 markets in 5 waves read the platform {read} times"
    );
    // Its markets read the rollout's state and decisions once a wave, and again on the
    // engine's wide changes (its own: a wave starting); before, twice a market (2,000).
    let checks = engine.rollout_reads() - checks;
    assert!(
        (1..=25).contains(&checks),
        "the markets of a rollout to 1,000 markets in 5 waves read its state and decisions {checks} times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_a_rollout_succeeded_every_market_it_reached_has_its_commits_recorded() {
    // Commits are recorded in batches, in the background; a rollout that says "succeeded"
    // waited for them, so lead times read right then count every market, the last wave's too.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    make_repo(&repo, "app", "\"true\"");
    let platform = format!(
        "{}services:\n  - {{ name: app, repo: {} }}\n",
        markets_in_waves(25),
        repo.display()
    );
    let engine = common::engine(&dir.path().join("data"), &platform).await;
    let release = release(&engine, "app").await;

    let rollout = engine.start_rollout_with(release, "test", false).await.unwrap();
    let ended = wait_ended(&engine, rollout.id).await;
    assert_eq!(ended.state.as_str(), "succeeded", "{:?}", ended.reason);

    let live = engine.list_live_deployments().await.unwrap();
    assert_eq!(live.len(), 25);
    let mut without = Vec::new();
    for d in &live {
        let commits = engine.commits_brought(d).await.unwrap();
        if !commits
            .iter()
            .any(|(_, _, message)| message.as_deref().is_some_and(|m| m.starts_with("T-1")))
        {
            without.push(d.market.clone());
        }
    }
    assert!(
        without.is_empty(),
        "markets without their commits after the rollout succeeded: {without:?}"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_reads_only_the_markets_a_rollout_deploys_not_every_live_market_each_time() {
    let markets = 1000;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    make_repo(&repo, "app", "\"true\"");
    let platform = format!(
        "{}services:\n  - {{ name: app, repo: {} }}\n",
        markets_in_waves(markets),
        repo.display()
    );
    let engine = common::engine(&dir.path().join("data"), &platform).await;
    let release = release(&engine, "app").await;
    engine.start_triggers();
    // The monitor's first read of every market, at its start.
    common::wait_for("the monitor's first read", async || {
        (engine.monitor_whole_reads() > 0).then_some(())
    })
    .await;

    let reads = engine.monitor_whole_reads();
    let by_key = engine.store_for_tests().market_reads();
    let rollout = engine.start_rollout_with(release, "test", false).await.unwrap();
    let ended = wait_ended(&engine, rollout.id).await;
    assert_eq!(ended.state.as_str(), "succeeded", "{:?}", ended.reason);
    let read = engine.monitor_whole_reads() - reads;
    let by_key = engine.store_for_tests().market_reads() - by_key;
    engine.shutdown().await;
    assert_eq!(engine.list_live_deployments().await.unwrap().len(), markets);
    // Each market's deployment starting and ending reads that market alone; every live market
    // is read on the rollout's own changes (its waves, its end) and on the monitor's 5 s
    // rescan. Before, each market's change read all of them: hundreds of reads.
    assert!(
        read <= 60,
        "a rollout to {markets} markets made the monitor read every live market {read} times"
    );
    // The markets named by those signals are gathered and read together, one statement for
    // all those named within a short while (about 100 statements here on a quiet machine: one
    // per 150 ms of the rollout); before, each signal read its markets one by one and the
    // deployments under way besides: about four statements a market.
    assert!(
        by_key <= markets as u64 / 2,
        "a rollout to {markets} markets made the monitor read the markets it was told about in {by_key} statements"
    );
}

/// Each deploy marks itself running in `dir` while it runs, and writes down what was running
/// with it: `service-market` names, one line per deploy.
const WATCHED: &str = r#"d=DIR; me="$TANDEM_SERVICE-$TANDEM_MARKET"; touch "$d/running/$me"; echo "$me saw $(ls "$d/running" | tr '\n' ' ')" >> "$d/seen"; sleep 0.3; rm "$d/running/$me""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_services_overlap_within_the_global_and_per_service_limits() {
    let dir = tempfile::tempdir().unwrap();
    let watch = dir.path().join("watch");
    std::fs::create_dir_all(watch.join("running")).unwrap();
    std::fs::write(
        dir.path().join("deploy.sh"),
        WATCHED.replace("DIR", &watch.display().to_string()),
    )
    .unwrap();
    let deploy = format!("sh {}", dir.path().join("deploy.sh").display());
    for service in ["alpha", "beta"] {
        make_repo(&dir.path().join(service), service, &deploy);
    }
    let platform = format!(
        "{}services:
  - {{ name: alpha, repo: {root}/alpha }}
  - {{ name: beta, repo: {root}/beta }}
rollouts: {{ max-parallel: 3, per-service: 1, services: {{ beta: 2 }} }}
",
        markets_in_waves(9),
        root = dir.path().display()
    );
    let engine = common::engine(&dir.path().join("data"), &platform).await;
    let (alpha, beta) = (release(&engine, "alpha").await, release(&engine, "beta").await);
    let a = engine.start_rollout_with(alpha, "test", false).await.unwrap();
    let b = engine.start_rollout_with(beta, "test", false).await.unwrap();
    for id in [a.id, b.id] {
        let ended = wait_ended(&engine, id).await;
        assert_eq!(ended.state.as_str(), "succeeded", "{:?}", ended.reason);
    }

    let seen = std::fs::read_to_string(watch.join("seen")).unwrap();
    let lines: Vec<Vec<&str>> = seen
        .lines()
        .map(|l| l.split_once(" saw ").unwrap().1.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 18, "each service deployed its 9 markets once: {seen}");
    let count = |running: &[&str], prefix: &str| running.iter().filter(|r| r.starts_with(prefix)).count();
    for running in &lines {
        assert!(
            running.len() <= 3,
            "more than `max-parallel: 3` deploying at once: {running:?}"
        );
        assert!(
            count(running, "alpha-") <= 1,
            "alpha over its `per-service: 1`: {running:?}"
        );
        assert!(
            count(running, "beta-") <= 2,
            "beta over its own limit of 2: {running:?}"
        );
    }
    assert!(
        lines.iter().any(|r| count(r, "alpha-") == 1 && count(r, "beta-") >= 1),
        "the two services' rollouts never overlapped: {seen}"
    );
    assert!(
        lines.iter().any(|r| count(r, "beta-") == 2),
        "beta never used its limit of 2: {seen}"
    );
}

/// A wave's markets read the rollout's decisions once, not each before it deploys: a skip and
/// an abort decided while the wave runs still stop the markets not yet started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skip_and_an_abort_during_a_wave_stop_the_markets_not_yet_started() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    make_repo(&repo, "app", "sleep 0.2");
    let mut text = String::from("markets:\n");
    let ids: Vec<String> = (1..=20).map(|i| format!("m{i:02}")).collect();
    for id in &ids {
        text.push_str(&format!(
            "  - {{ id: {id}, name: M-{id}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    let platform = format!(
        "{text}waves:\n  - {{ name: all, markets: [{}] }}\nrollouts: {{ per-service: 1 }}\nservices:\n  - {{ name: app, repo: {} }}\n",
        ids.join(", "),
        repo.display()
    );
    let engine = common::engine(&dir.path().join("data"), &platform).await;
    let release = release(&engine, "app").await;
    let rollout = engine.start_rollout_with(release, "test", false).await.unwrap();
    // Once two markets are live (the wave's view of the decisions is read by then), a market
    // is skipped; once a further one is live, the rollout is aborted.
    let live = async |n: usize| {
        common::wait_for(&format!("{n} markets live"), async || {
            (engine.list_live_deployments().await.unwrap().len() >= n).then_some(())
        })
        .await
    };
    // The markets the rollout has deployed to (or begun to).
    let deployed_to = async || -> Vec<String> {
        let deployments = engine.list_deployments(Some(rollout.id)).await.unwrap();
        deployments.into_iter().map(|d| d.market).collect()
    };
    live(2).await;
    // Markets take their turns in no set order: one not deployed yet is skipped.
    let started = deployed_to().await;
    let mut skipped = None;
    for id in ids.iter().rev().filter(|id| !started.contains(id)) {
        if engine.skip_market(rollout.id, id, "olga").await.is_ok() {
            skipped = Some(id.clone());
            break;
        }
    }
    let skipped = skipped.expect("a market not yet deployed to skip");
    let skipped_at = engine.list_live_deployments().await.unwrap().len();
    live(skipped_at + 1).await;
    engine.abort_rollout(rollout.id, "olga").await.unwrap();
    let aborted_at = engine.list_deployments(Some(rollout.id)).await.unwrap().len();
    let ended = wait_ended(&engine, rollout.id).await;
    assert_eq!(ended.state.as_str(), "aborted", "{:?}", ended.reason);
    engine.shutdown().await;
    let deployed = deployed_to().await;
    assert!(!deployed.contains(&skipped), "{skipped} was skipped: {deployed:?}");
    // One market at a time: at most the one that had taken its turn when the abort came.
    assert!(
        deployed.len() <= aborted_at + 1 && deployed.len() < 19,
        "markets deployed after the abort: {deployed:?} ({aborted_at} when aborted)"
    );
}
