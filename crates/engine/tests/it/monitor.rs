//! The monitor on a market this test serves itself (nothing to build): a market made live is
//! probed, an outage opens an incident and its end resolves it, both told to the team; a market
//! being deployed is left alone until its deployment ends; a market no longer live is
//! forgotten; one made live behind the engine's back (no change signalled) is still found; and
//! markets' probes are spread over their interval.

#![allow(clippy::unwrap_used)]

use crate::common;

use axum::http::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tandem_engine::Engine;
use tandem_store::{MarketHealthRow, NewDeployment};

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
services:
  - { name: shop, repo: /nonexistent/shop }
notifications:
  - { name: ops, kind: webhook, url: HOOK, events: [incident.opened, incident.resolved] }
";

/// Probed every 300 ms; two failures in a row open an incident. A `command` market: what answers
/// at its URL is its release (a `process` market is up only while the server supervises its
/// process: crates/cli/tests/chaos.rs).
const SPEC: &str = "service: shop
pipeline:
  jobs:
    a:
      steps: [{ run: x }]
deploy:
  driver: command
  run: x
monitor: { interval: 300ms, timeout: 250ms, failures: 2 }
gates:
  metrics:
    checks:
      - name: errors
        error-ratio: { errors: 'req_total{code=~\"5..\"}', total: req_total }
        max: 1%
";

/// A market's process as the monitor sees it: `/healthz` answers 503 while `sick`, 200
/// otherwise, and counts the probes; `/metrics` keeps the `Accept` header it was asked with.
#[derive(Default)]
struct Market {
    sick: AtomicBool,
    probes: AtomicUsize,
    accept: std::sync::Mutex<Option<String>>,
}

impl Market {
    async fn serve() -> (String, Arc<Market>) {
        let market = Arc::new(Market::default());
        let (state, scraped) = (market.clone(), market.clone());
        let app = axum::Router::new()
            .route(
                "/healthz",
                axum::routing::get(async move || {
                    state.probes.fetch_add(1, Ordering::SeqCst);
                    if state.sick.load(Ordering::SeqCst) {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                }),
            )
            .route(
                "/metrics",
                axum::routing::get(async move |headers: axum::http::HeaderMap| {
                    let accept = headers.get("accept").and_then(|v| v.to_str().ok()).map(String::from);
                    *scraped.accept.lock().unwrap() = accept;
                    "req_total{code=\"200\"} 1\n"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, market)
    }

    fn probes(&self) -> usize {
        self.probes.load(Ordering::SeqCst)
    }
}

/// Waits until the monitor's health of `market` satisfies `wanted`.
async fn health(engine: &Engine, market: &str, wanted: impl Fn(&MarketHealthRow) -> bool) -> MarketHealthRow {
    common::wait_for(&format!("the health of {market}"), async || {
        let h = engine.store_for_tests().market_health("shop", market).await.unwrap()?;
        wanted(&h).then_some(h)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_follows_markets_going_live_being_deployed_and_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let (hook, received) = common::receiver().await;
    let engine = common::engine(dir.path(), &PLATFORM.replace("HOOK", &hook)).await;
    let store = &engine.store_for_tests();
    let spec = tandem_core::pipeline::parse_service_spec("tandem.yml", SPEC).unwrap();
    let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
    let release = store
        .insert_release_with("shop", "c1", run.id, &spec, "test", None)
        .await
        .unwrap();
    let deploy = |market: &'static str| NewDeployment {
        rollout_id: None,
        service: "shop",
        market,
        release_id: release.id,
    };
    let (url, fr) = Market::serve().await;
    engine.start_triggers();

    // fr goes live, as the engine makes it (and says so): it is probed.
    let first = store.insert_deployment(deploy("fr")).await.unwrap();
    store.mark_deployment_live(first.id, &url, None).await.unwrap();
    engine.notify();
    health(&engine, "fr", |h| h.state == "up" && h.deployment_id == Some(first.id)).await;
    // Its metrics are asked for in the text format the monitor reads, Prometheus' first.
    let accept = common::wait_for("a scrape of fr", async || fr.accept.lock().unwrap().clone()).await;
    assert!(accept.starts_with("text/plain;version=0.0.4"), "{accept}");
    assert!(accept.contains("application/openmetrics-text"), "{accept}");

    // An outage opens an incident; its end resolves it, and the team hears of both.
    fr.sick.store(true, Ordering::SeqCst);
    let opened = common::wait_for_event(&received, "incident.opened").await;
    let id = opened["data"]["incident"].as_i64().unwrap();
    assert_eq!(
        opened["text"],
        format!(
            "Incident {id} of shop in fr opened by tandem (monitor): fr stopped answering its probe /healthz (2 failures in a row)"
        )
    );
    assert_eq!(
        (&opened["data"]["source"], &opened["data"]["deployment"]),
        (&"probe".into(), &first.id.into())
    );
    fr.sick.store(false, Ordering::SeqCst);
    let resolved = common::wait_for_event(&received, "incident.resolved").await;
    let incident = engine.get_incident(id).await.unwrap();
    assert_eq!(incident.state, "resolved");
    let text = resolved["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Incident {id} of shop in fr resolved by tandem (the market answers its probe again) after "
        )),
        "{text}"
    );
    assert!(
        text.ends_with(": fr stopped answering its probe /healthz (2 failures in a row)"),
        "{text}"
    );
    assert_eq!(resolved["data"]["source"], "probe");
    assert_eq!(
        resolved["data"]["lasted_ms"],
        incident.resolved_at.unwrap() - incident.opened_at
    );
    health(&engine, "fr", |h| h.state == "up").await;

    // A deployment to fr begins: the monitor leaves fr to its gates until it ends.
    let second = store.insert_deployment(deploy("fr")).await.unwrap();
    engine.notify();
    tokio::time::sleep(Duration::from_millis(600)).await; // a probe sent before may still land
    let before = fr.probes();
    tokio::time::sleep(Duration::from_millis(1500)).await; // five intervals
    assert_eq!(fr.probes(), before, "fr was probed while being deployed");
    store.mark_deployment_live(second.id, &url, None).await.unwrap();
    engine.notify();
    health(&engine, "fr", |h| h.deployment_id == Some(second.id)).await;
    assert!(fr.probes() > before);

    // fr is no longer live: its health is forgotten.
    store.mark_deployment_failed(second.id, "taken down").await.unwrap();
    engine.notify();
    common::wait_for("fr forgotten", async || {
        store.market_health("shop", "fr").await.unwrap().is_none().then_some(())
    })
    .await;

    // de goes live behind the engine's back (nothing signalled): found all the same.
    let (de_url, de) = Market::serve().await;
    let third = store.insert_deployment(deploy("de")).await.unwrap();
    store.mark_deployment_live(third.id, &de_url, None).await.unwrap();
    health(&engine, "de", |h| h.state == "up" && h.deployment_id == Some(third.id)).await;
    assert!(de.probes() >= 1);
    engine.shutdown().await;
}

/// Twelve markets probed every second, their probes' arrival recorded by the one server that
/// answers for all of them (a path per market).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markets_are_probed_at_their_own_moments_not_all_at_once() {
    let markets = ["fr", "be", "nl", "lu", "de", "at", "ch", "it", "es", "pt", "ie", "pl"];
    let mut platform = String::from("markets:\n");
    for m in markets {
        platform.push_str(&format!(
            "  - {{ id: {m}, name: M-{m}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    platform.push_str("services:\n  - { name: shop, repo: /nonexistent/shop }\n");
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine(dir.path(), &platform).await;
    let store = &engine.store_for_tests();
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\ndeploy: { driver: command, run: x }\nmonitor: { interval: 1s, timeout: 500ms }\n",
    )
    .unwrap();
    let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
    let release = store
        .insert_release_with("shop", "c1", run.id, &spec, "test", None)
        .await
        .unwrap();

    type Probes = Arc<std::sync::Mutex<Vec<(String, std::time::Instant)>>>;
    let probes: Probes = Arc::default();
    let seen = probes.clone();
    let app = axum::Router::new().route(
        "/{market}/healthz",
        axum::routing::get(async move |axum::extract::Path(market): axum::extract::Path<String>| {
            seen.lock().unwrap().push((market, std::time::Instant::now()));
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // All go live at once, as after a rollout's last wave or a server's start.
    for m in markets {
        let d = store
            .insert_deployment(NewDeployment {
                rollout_id: None,
                service: "shop",
                market: m,
                release_id: release.id,
            })
            .await
            .unwrap();
        store
            .mark_deployment_live(d.id, &format!("{base}/{m}"), None)
            .await
            .unwrap();
    }
    engine.start_triggers();
    engine.notify();
    let firsts = common::wait_for("two probes of every market", async || {
        let probes = probes.lock().unwrap();
        let count = |m: &str| probes.iter().filter(|(p, _)| p == m).count();
        markets.iter().all(|m| count(m) >= 2).then(|| {
            markets
                .iter()
                .filter_map(|m| probes.iter().find(|(p, _)| p == m).map(|(_, at)| *at))
                .collect::<Vec<_>>()
        })
    })
    .await;
    engine.shutdown().await;

    // The first probes of the twelve fall in many tenths of the interval, not one burst.
    let start = *firsts.iter().min().unwrap();
    let mut tenths: Vec<u128> = firsts.iter().map(|at| (*at - start).as_millis() / 100).collect();
    tenths.sort();
    tenths.dedup();
    assert!(
        tenths.len() >= 5,
        "12 markets first probed in {} tenths of their 1 s interval: {tenths:?}",
        tenths.len()
    );
    // And each keeps probing once an interval, not more: every market probed, none doubled up.
    let probes = probes.lock().unwrap();
    assert!(probes.len() < markets.len() * 4, "{} probes", probes.len());
}

/// An idle server's rescan reads every live market only when the deployments live or under way
/// changed: in between, the markets are probed from what the monitor remembers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_rescan_reads_every_live_market_only_when_the_deployments_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (hook, _received) = common::receiver().await;
    let engine = common::engine(dir.path(), &PLATFORM.replace("HOOK", &hook)).await;
    let store = &engine.store_for_tests();
    let spec = tandem_core::pipeline::parse_service_spec("tandem.yml", SPEC).unwrap();
    let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
    let release = store
        .insert_release_with("shop", "c1", run.id, &spec, "test", None)
        .await
        .unwrap();
    let (url, fr) = Market::serve().await;
    let deployment = store
        .insert_deployment(NewDeployment {
            rollout_id: None,
            service: "shop",
            market: "fr",
            release_id: release.id,
        })
        .await
        .unwrap();
    store.mark_deployment_live(deployment.id, &url, None).await.unwrap();
    engine.start_triggers();
    engine.notify();
    health(&engine, "fr", |h| h.state == "up").await;

    let (reads, probes) = (engine.monitor_whole_reads(), fr.probes());
    tokio::time::sleep(Duration::from_secs(6)).await; // past a rescan, twenty intervals
    assert_eq!(
        engine.monitor_whole_reads(),
        reads,
        "nothing changed, yet the monitor read every live market again"
    );
    assert!(fr.probes() >= probes + 5, "fr probed {} times", fr.probes() - probes);
    engine.shutdown().await;
}
