//! A benchmark, not a check: the overview and the delivery page over one year of history
//! (`Store::seed_year`: 100,000 commit rows, 25 markets, 50,000 deployments, 2,000 incidents),
//! each timed against `/healthz` on the same server in the same run.
//! `cargo test --release -p tandem-server --test dashboard_scale -- --ignored --nocapture`

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
    let engine = Engine::new(store, EngineSettings::in_data_dir(data.path()))
        .await
        .expect("the engine starts");
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

    let http = reqwest::Client::new();
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
    let _ = stop.send(());
    server.await.expect("the server task").expect("the server stops");
}
