//! A benchmark, not a check: the overview and the delivery page over one year of history
//! (`Store::seed_year`: 100,000 commit rows, 25 markets, 50,000 deployments, 2,000 incidents),
//! each timed against `/healthz` on the same server in the same run; then the delivery page's
//! first request after each of a series of changes (a deployment live, one failed, an
//! incident), against the same with the kept history dropped first (read whole, as before).
//! `cargo test --release -p tandem-server --test it -- dashboard_scale:: --ignored --nocapture`

use crate::common;

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use std::time::{Duration, Instant};
use tandem_core::role::Role;
use tandem_engine::{Engine, EngineSettings};
use tandem_server::{AppState, ServerSettings};
use tandem_store::Store;

/// Requests per page, timed one after the other.
const ROUNDS: usize = 200;
/// Untimed requests per page first (connections, SQLite's page cache).
const WARM_UPS: usize = 5;
/// Changes, each followed by one timed request to the delivery page.
const CHANGES: usize = 100;
/// The same with the history read whole each time (the baseline: slow, so fewer).
const WHOLE_READS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it by name"]
async fn dashboard_over_a_year_of_history() {
    let data = tempfile::tempdir().expect("a data folder");
    let store = Store::open(data.path()).await.expect("the store opens");
    let started = Instant::now();
    store.seed_year().await.expect("the year is written");
    println!("seeded one year in {:.1} s", started.elapsed().as_secs_f64());
    let viewer = tandem_server::auth::generate_secret();
    store.insert_token("vic", Role::Viewer, &viewer).await.expect("a token");
    let engine = Engine::new(store.clone(), EngineSettings::in_data_dir(data.path()))
        .await
        .expect("the engine starts");
    let kept = engine.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tandem_server::serve(
        listener,
        AppState::new(engine, ServerSettings::default()),
        async {
            let _ = stopped.await;
        },
    ));

    let http = tandem_testkit::http();
    let cookie = common::sign_in(&format!("http://{addr}/login"), &format!("http://{addr}"), &viewer).await;
    let mut figures = Vec::new();
    for (path, needle) in [
        ("/healthz", ""),
        ("/", "m24"),
        ("/delivery?days=365", "Deployment frequency"),
    ] {
        let url = format!("http://{addr}{path}");
        let mut times = Vec::with_capacity(ROUNDS);
        for round in 0..WARM_UPS + ROUNDS {
            let started = Instant::now();
            let r = http
                .get(&url)
                .header(COOKIE, &cookie)
                .send()
                .await
                .expect("the server answers");
            let status = r.status();
            let body = r.text().await.expect("a body");
            let took = started.elapsed();
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert!(body.contains(needle), "{path} shows {needle:?}: {body}");
            if round >= WARM_UPS {
                times.push(took);
            }
        }
        times.sort();
        figures.push((path, times));
    }

    // The first request after a change: incremental, then with the history dropped first.
    let url = format!("http://{addr}/delivery?days=365");
    // `Store::seed_year`'s markets and releases.
    let markets: Vec<String> = (0..25).map(|i| format!("m{i:02}")).collect();
    let mut round = 0usize;
    let mut after_change = |whole: bool| {
        let (store, engine, http, url, cookie) = (&store, &kept, &http, &url, &cookie);
        round += 1;
        let market = markets[round % markets.len()].clone();
        async move {
            change(store, &market, round).await;
            if whole {
                engine.forget_dora_history().await;
            }
            let started = Instant::now();
            let r = http
                .get(url)
                .header(COOKIE, cookie)
                .send()
                .await
                .expect("the server answers");
            assert_eq!(r.status(), StatusCode::OK);
            let body = r.text().await.expect("a body");
            let took = started.elapsed();
            assert!(body.contains("Deployment frequency"));
            took
        }
    };
    let mut incremental = Vec::with_capacity(CHANGES);
    for _ in 0..CHANGES {
        incremental.push(after_change(false).await);
    }
    let mut whole = Vec::with_capacity(WHOLE_READS);
    for _ in 0..WHOLE_READS {
        whole.push(after_change(true).await);
    }
    incremental.sort();
    whole.sort();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |times: &[Duration], p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let (_, base) = &figures[0];
    let (base50, base99) = (pct(base, 0.50), pct(base, 0.99));
    for (path, times) in &figures {
        let (p50, p99) = (pct(times, 0.50), pct(times, 0.99));
        println!(
            "{path:<20} {ROUNDS} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; /healthz p50 {:.2} ms, p99 {:.2} ms; ratio p50 {:.1}x, p99 {:.1}x",
            ms(p50),
            ms(p99),
            ms(times[times.len() - 1]),
            ms(base50),
            ms(base99),
            ms(p50) / ms(base50),
            ms(p99) / ms(base99),
        );
    }
    let delivery = &figures[2].1;
    println!(
        "/delivery after a change, {CHANGES} changes: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         history read whole ({WHOLE_READS} changes): p50 {:.2} ms, p99 {:.2} ms; unchanged history: p50 {:.2} ms, p99 {:.2} ms",
        ms(pct(&incremental, 0.50)),
        ms(pct(&incremental, 0.99)),
        ms(incremental[incremental.len() - 1]),
        ms(pct(&whole, 0.50)),
        ms(pct(&whole, 0.99)),
        ms(pct(delivery, 0.50)),
        ms(pct(delivery, 0.99)),
    );
    let _ = stop.send(());
    server.await.expect("the server task").expect("the server stops");
}

/// One change the delivery page counts, in `market`, by turns: a release deployment that goes
/// live with the commits it brought, one that fails, an incident opened and resolved.
async fn change(store: &Store, market: &str, round: usize) {
    let new = tandem_store::NewDeployment {
        rollout_id: None,
        service: "shop",
        market,
        release_id: 1 + (round as i64 % 2000),
    };
    match round % 3 {
        0 => {
            let d = store.insert_deployment(new).await.expect("a deployment");
            store.mark_deployment_live(d.id, "", None).await.expect("live");
            let commit = tandem_store::DeploymentCommit {
                sha: format!("bench-{round}"),
                authored_at: tandem_store::now_ms() - 3_600_000,
                committed_at: tandem_store::now_ms() - 3_600_000,
            };
            store
                .insert_deployment_commits(d.id, &[commit])
                .await
                .expect("its commits");
        }
        1 => {
            let d = store.insert_deployment(new).await.expect("a deployment");
            store.mark_deployment_failed(d.id, "bench").await.expect("failed");
        }
        _ => {
            let i = store
                .insert_incident("shop", market, None, "bench")
                .await
                .expect("an incident");
            store
                .resolve_incident(i.id, "bench", tandem_store::now_ms())
                .await
                .expect("resolved");
        }
    }
}
