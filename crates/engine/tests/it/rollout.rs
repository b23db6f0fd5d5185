//! The engine end to end on the real shop: a green run makes a release that rolls out through
//! the waves; a release that fails its probe in the pilot market leaves that market on its
//! previous release, opens an incident linked to the failed deployment, and halts the rollout
//! before the next wave.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_engine::Engine;
use tandem_testkit::git;

fn copy_shop(to: &Path) {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop");
    for entry in walk(&shop) {
        let rel = entry.strip_prefix(&shop).unwrap();
        if rel.starts_with("target") {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().unwrap() != "target" {
                out.extend(walk(&path));
            }
        } else {
            out.push(path);
        }
    }
    out
}

async fn run_to_release(engine: &Arc<Engine>) -> i64 {
    let run = engine.trigger_run("shop", "test").await.unwrap();
    let run = common::wait_for("the run", async || {
        let r = engine.get_run(run.id).await.unwrap();
        matches!(r.state.as_str(), "success" | "failed").then_some(r)
    })
    .await;
    assert_eq!(run.state, "success", "run failed: {:?}", run.error);
    engine
        .list_releases(Some("shop"))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.run_id == run.id)
        .unwrap()
        .id
}

async fn roll_out(engine: &Arc<Engine>, release_id: i64) -> tandem_store::RolloutRow {
    let rollout = engine.start_rollout(release_id, "test").await.unwrap();
    common::wait_for("the rollout", async || {
        let r = engine.get_rollout(rollout.id).await.unwrap();
        matches!(r.state.as_str(), "succeeded" | "halted" | "failed").then_some(r)
    })
    .await
}

async fn body(url: &str) -> String {
    tandem_testkit::http()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A repository of the real shop (its `tandem.yml` passed through `tweak`, committed) and an
/// engine whose platform is `platform`, where `REPO` stands for the repository's path.
async fn shop_engine(dir: &Path, tweak: impl Fn(String) -> String, platform: &str) -> (PathBuf, PathBuf, Arc<Engine>) {
    let repo = dir.join("shop");
    std::fs::create_dir_all(&repo).unwrap();
    copy_shop(&repo);
    let spec = std::fs::read_to_string(repo.join("tandem.yml")).unwrap();
    std::fs::write(repo.join("tandem.yml"), tweak(spec)).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: the shop"]);
    let platform = platform.replace("REPO", &repo.display().to_string());
    let data = dir.join("data");
    let engine = common::engine(&data, &platform).await;
    (repo, data, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_gate_keeps_the_previous_release_opens_an_incident_and_halts() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, data, engine) = shop_engine(
        dir.path(),
        |spec| spec,
        "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
  - { id: pl, name: Poland, region: east, currency: PLN, locale: pl-PL, timezone: Europe/Warsaw }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest-of-europe, markets: [de, pl] }
services:
  - name: shop
    repo: REPO
    config: { defaults: { vat_rate: 0.2, payment_methods: [card], free_shipping_threshold: 50 }, markets: { de: { vat_rate: 0.19 } } }
",
    )
    .await;

    let v1 = run_to_release(&engine).await;
    let first = roll_out(&engine, v1).await;
    assert_eq!(first.state, "succeeded", "{:?}", first.reason);
    let live = engine.list_live_deployments().await.unwrap();
    assert_eq!(live.len(), 3);
    let fr_url = live.iter().find(|d| d.market == "fr").unwrap().url.clone().unwrap();
    let de_url = live.iter().find(|d| d.market == "de").unwrap().url.clone().unwrap();
    assert!(
        body(&format!("{de_url}/")).await.contains("data-vat-rate=\"0.19\""),
        "Germany's page uses its own VAT"
    );
    let config = std::fs::read_to_string(data.join("deploy/shop/markets/de").join(format!(
        "config-{}.json",
        live.iter().find(|d| d.market == "de").unwrap().id
    )))
    .unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["vat_rate"], 0.19);
    assert_eq!(config["currency"], "EUR");

    // A market process that crashes is started again on its port by the supervisor.
    engine.start_triggers();
    let de = live.iter().find(|d| d.market == "de").unwrap();
    let old_pid = de.pid.unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old_pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let engine2 = engine.clone();
    let new_pid = common::wait_for("de's process to be started again", async || {
        let live = engine2.list_live_deployments().await.unwrap();
        live.into_iter()
            .find(|d| d.market == "de")
            .and_then(|d| d.pid)
            .filter(|p| *p != old_pid)
    })
    .await;
    assert_ne!(new_pid, old_pid);
    let de_page = common::wait_for("de to answer again", async || {
        let r = tandem_testkit::http().get(format!("{de_url}/")).send().await.ok()?;
        r.status().is_success().then_some(r.text().await.ok()?)
    })
    .await;
    assert!(de_page.contains("data-vat-rate=\"0.19\""));
    let events = engine.list_events(0, 10_000).await.unwrap();
    let restart = events.iter().find(|e| e.kind == "market.restarted").unwrap();
    assert_eq!(restart.subject, "market/shop/de");

    // v2 breaks its health check: the probe path it declares answers 404.
    let spec = std::fs::read_to_string(repo.join("tandem.yml")).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        spec.replace("path: /healthz", "path: /broken-healthz"),
    )
    .unwrap();
    git(
        &repo,
        &["commit", "-q", "-am", "T-2: a release with a broken health check"],
    );
    let v2 = run_to_release(&engine).await;
    let second = roll_out(&engine, v2).await;
    assert_eq!(second.state, "halted");
    let reason = second.reason.clone().unwrap();
    assert!(
        reason.contains("wave `pilot` failed its gate in fr") && reason.contains("/broken-healthz"),
        "{reason}"
    );

    let deployments = engine.list_deployments(Some(second.id)).await.unwrap();
    assert_eq!(deployments.len(), 1, "the rollout stopped before the next wave");
    assert_eq!(deployments[0].state, "failed");
    let live = engine.list_live_deployments().await.unwrap();
    assert!(live.iter().all(|d| d.release_id == v1), "every market still runs v1");
    assert_eq!(
        live.iter().find(|d| d.market == "fr").unwrap().url.as_deref(),
        Some(fr_url.as_str())
    );
    assert!(
        body(&format!("{fr_url}/")).await.contains("v1"),
        "France is still served by v1"
    );
    let incidents = engine.store_for_tests().list_incidents().await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].market, "fr");
    assert_eq!(incidents[0].deployment_id, Some(deployments[0].id));

    // By hand: France has nothing earlier than v1 to go back to.
    let out = engine.rollback("shop", &["fr".to_string()]).await.unwrap();
    assert_eq!(
        (out[0].state.as_str(), out[0].reason.as_str()),
        ("skipped", "no earlier release ran here")
    );

    // v3 fixes the probe and reaches every market; rolling France back skips the failed v2.
    std::fs::write(repo.join("tandem.yml"), &spec).unwrap();
    git(&repo, &["commit", "-q", "-am", "T-2: fix the health check path"]);
    let v3 = run_to_release(&engine).await;
    assert_eq!(roll_out(&engine, v3).await.state, "succeeded");
    // Asked by a person (as a request to the server is): the rollback is theirs.
    let request = tandem_store::audit::Slot::request(Some("10.0.0.7".into()));
    let out = tandem_store::audit::scope(request, async {
        tandem_store::audit::identify_as("olga", "token/9");
        engine.rollback("shop", &["fr".to_string(), "de".to_string()]).await
    })
    .await
    .unwrap();
    let versions: Vec<(Option<&str>, Option<&str>, &str)> = out
        .iter()
        .map(|o| (o.from.as_deref(), o.to.as_deref(), o.state.as_str()))
        .collect();
    assert_eq!(
        versions,
        [
            (Some("v3"), Some("v1"), "rolled back"),
            (Some("v3"), Some("v1"), "rolled back")
        ]
    );
    let live = engine.list_live_deployments().await.unwrap();
    let release_of = |m: &str| live.iter().find(|d| d.market == m).unwrap().release_id;
    assert_eq!((release_of("fr"), release_of("de"), release_of("pl")), (v1, v1, v3));
    let fr = live.iter().find(|d| d.market == "fr").unwrap();
    assert_eq!(fr.kind, "rollback");
    // Each rollback is an incident about the deployment it removed, resolved as it restored
    // the market.
    let incidents = engine.store_for_tests().list_incidents().await.unwrap();
    let by_rollback: Vec<_> = incidents.iter().filter(|i| i.source == "rollback").collect();
    assert_eq!(by_rollback.len(), 2, "{incidents:?}");
    let fr_incident = by_rollback.iter().find(|i| i.market == "fr").unwrap();
    let removed = engine
        .list_deployments_of_market("shop", "fr")
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.release_id == v3)
        .unwrap();
    assert_eq!(fr_incident.deployment_id, Some(removed.id));
    assert_eq!(fr_incident.title, "shop v3 rolled back in fr (to v1)");
    assert_eq!(fr_incident.opened_by.as_deref(), Some("olga (rollback)"));
    let events = engine.list_events(0, 10_000).await.unwrap();
    let started_by_olga = events
        .iter()
        .filter(|e| e.kind == "deployment.started" && e.actor.as_deref() == Some("olga"))
        .inspect(|e| {
            assert_eq!(
                (e.via.as_deref(), e.address.as_deref()),
                (Some("token/9"), Some("10.0.0.7"))
            )
        })
        .count();
    assert_eq!(started_by_olga, 2, "both markets' rollbacks are olga's");
    assert_eq!(fr_incident.state, "resolved");
    assert_eq!(
        fr_incident.resolved_by.as_deref(),
        Some("tandem (v1 answers its probe again)")
    );
    assert!(
        body(&format!("{}/", fr.url.as_deref().unwrap()))
            .await
            .contains("data-release=\"v1\"")
    );
    assert!(
        engine
            .rollback("shop", &["xx".to_string()])
            .await
            .unwrap_err()
            .to_string()
            .contains("market `xx`")
    );

    let fr_now = fr.url.clone().unwrap();
    assert!(tandem_testkit::http().get(&fr_now).send().await.is_ok());
    engine.shutdown().await;
    assert!(
        tandem_testkit::http().get(&fr_now).send().await.is_err(),
        "shutdown stops the market processes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_can_be_paused_resumed_and_aborted_between_waves() {
    let dir = tempfile::tempdir().unwrap();
    // A bake time keeps each wave busy long enough to steer the rollout.
    let (_repo, _data, engine) = shop_engine(
        dir.path(),
        |spec| format!("{spec}  bake: 1s\n"),
        "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: pilot, markets: [fr] }
  - { name: second, markets: [be] }
  - { name: third, markets: [nl] }
services:
  - { name: shop, repo: REPO, config: { defaults: { vat_rate: 0.2, payment_methods: [card], free_shipping_threshold: 50 } } }
",
    )
    .await;

    let v1 = run_to_release(&engine).await;
    let rollout = engine.start_rollout(v1, "ops").await.unwrap();
    common::wait_for("the pilot wave to start", async || {
        let deployments = engine.list_deployments(Some(rollout.id)).await.unwrap();
        (!deployments.is_empty()).then_some(())
    })
    .await;
    engine.pause_rollout(rollout.id, "ops").await.unwrap();
    // The pilot wave finishes; the next one waits.
    common::wait_for("the pilot market", async || {
        let live = engine.list_live_deployments().await.unwrap();
        live.iter().any(|d| d.market == "fr").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = engine.get_rollout(rollout.id).await.unwrap();
    assert_eq!(r.state, "paused");
    assert_eq!(
        engine.list_deployments(Some(rollout.id)).await.unwrap().len(),
        1,
        "no wave starts while paused"
    );
    let err = engine.pause_rollout(rollout.id, "ops").await.unwrap_err();
    assert!(err.to_string().contains("is paused: it cannot become paused"), "{err}");

    engine.resume_rollout(rollout.id, "ops", false).await.unwrap();
    let done = common::wait_for("the rollout", async || {
        let r = engine.get_rollout(rollout.id).await.unwrap();
        matches!(r.state.as_str(), "succeeded" | "halted" | "failed").then_some(r)
    })
    .await;
    assert_eq!(done.state, "succeeded");
    assert_eq!(engine.list_live_deployments().await.unwrap().len(), 3);

    // Aborted: no further wave starts, markets keep what they run, the lock is released.
    let v2 = run_to_release(&engine).await;
    let second = engine.start_rollout(v2, "ops").await.unwrap();
    engine.abort_rollout(second.id, "ops").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = engine.get_rollout(second.id).await.unwrap();
    assert_eq!(r.state, "aborted");
    let live = engine.list_live_deployments().await.unwrap();
    assert!(
        live.iter().filter(|d| d.market != "fr").all(|d| d.release_id == v1),
        "no wave after the abort"
    );
    let third = engine.start_rollout(v2, "ops").await.unwrap();
    assert_ne!(third.id, second.id, "an aborted rollout no longer holds the service");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_opens_an_incident_when_a_live_market_hangs_and_resolves_it_when_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (_repo, _data, engine) = shop_engine(
        dir.path(),
        |spec| {
            spec.replace(
                "monitor: { interval: 1s, timeout: 500ms, failures: 3 }",
                "monitor: { interval: 300ms, timeout: 250ms, failures: 2 }",
            )
        },
        "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest, markets: [de] }
services:
  - { name: shop, repo: REPO, config: { defaults: { vat_rate: 0.2, payment_methods: [card], free_shipping_threshold: 50 } } }
",
    )
    .await;
    let v1 = run_to_release(&engine).await;
    assert_eq!(roll_out(&engine, v1).await.state, "succeeded");
    let live = engine.list_live_deployments().await.unwrap();
    let de = live.iter().find(|d| d.market == "de").unwrap().clone();
    engine.start_triggers();

    // Both markets are probed, and their metrics kept as series (the shop's gate checks).
    let store = engine.store_for_tests().clone();
    common::wait_for("both markets up, with an error-ratio point", async || {
        let health = store.list_market_health().await.unwrap();
        let names = store.series_names("shop").await.unwrap();
        (health.len() == 2 && health.iter().all(|h| h.state == "up") && names.iter().any(|n| n == "errors"))
            .then_some(())
    })
    .await;
    let latency = store
        .series(
            "shop",
            Some("de"),
            tandem_engine::monitor::LATENCY_SERIES,
            60,
            0,
            i64::MAX,
        )
        .await
        .unwrap();
    assert!(latency.iter().map(|p| p.count).sum::<i64>() >= 1, "{latency:?}");

    // de hangs: it is still running, so only its probe can tell.
    let pid = nix::unistd::Pid::from_raw(de.pid.unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let incident = common::wait_for("the monitor's incident", async || {
        store
            .list_incidents()
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.source == "probe" && i.state == "open")
    })
    .await;
    assert_eq!(incident.market, "de");
    assert_eq!(incident.deployment_id, Some(de.id), "linked to the live deployment");
    assert!(
        incident.title.contains("stopped answering its probe /healthz"),
        "{}",
        incident.title
    );
    assert!(
        incident
            .summary
            .as_deref()
            .unwrap_or_default()
            .contains("did not answer within 250 ms"),
        "{:?}",
        incident.summary
    );
    // The incident is opened first, then the probe's round is recorded with it.
    common::wait_for("de down with its incident", async || {
        let health = store.market_health("shop", "de").await.unwrap().unwrap();
        (health.state.as_str() == "down" && health.incident_id == Some(incident.id)).then_some(())
    })
    .await;
    assert_eq!(store.market_health("shop", "fr").await.unwrap().unwrap().state, "up");

    // It answers again: the incident is resolved by the monitor, and the market is up.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    let resolved = common::wait_for("the incident resolved", async || {
        let i = store.get_incident(incident.id).await.unwrap();
        (i.state == "resolved").then_some(i)
    })
    .await;
    assert!(
        resolved
            .resolved_by
            .as_deref()
            .unwrap_or_default()
            .contains("answers its probe again"),
        "{:?}",
        resolved.resolved_by
    );
    assert!(resolved.resolved_at.unwrap() > incident.opened_at);
    // The probe that resolved the incident is recorded (with `market.up`) just after it.
    let events = common::wait_for("market.up recorded", async || {
        let events = store.list_events(0, 10_000).await.unwrap();
        let up = |e: &tandem_store::EventRow| e.kind == "market.up" && e.subject == "market/shop/de";
        events.iter().any(up).then_some(events)
    })
    .await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "market.down" && e.subject == "market/shop/de")
    );
    let up = store.series("shop", Some("de"), "up", 60, 0, i64::MAX).await.unwrap();
    assert!(
        up.iter().any(|p| p.min == 0.0),
        "the failed probes count in the series: {up:?}"
    );
    engine.shutdown().await;
}
