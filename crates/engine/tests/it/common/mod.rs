//! What the engine's integration tests share: an engine on a fresh data folder with a platform,
//! waiting for a condition with a deadline, and a webhook receiver for notifications.

#![allow(dead_code, clippy::unwrap_used)]

use axum::extract::State;
use axum::http::HeaderMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_core::platform::parse_platform;
use tandem_engine::{Engine, EngineSettings};
use tandem_store::Store;

/// How long any one wait may take: the shop's tests build a Rust program on 2 cores.
pub const DEADLINE: Duration = Duration::from_secs(600);

/// An engine whose store, in `data`, holds the platform `platform` (YAML text).
pub async fn engine(data: &Path, platform: &str) -> Arc<Engine> {
    let store = Store::open(data).await.unwrap();
    store
        .sync_platform(&parse_platform("p.yml", platform).unwrap())
        .await
        .unwrap();
    Engine::new(store, EngineSettings::in_data_dir(data)).await.unwrap()
}

/// Polls `check` until it returns a value; panics naming `what` after [`DEADLINE`].
pub async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a hook received: its headers and JSON body.
pub type Received = Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>;

/// A webhook receiver on 127.0.0.1; returns its URL and what it received.
pub async fn receiver() -> (String, Received) {
    let received: Received = Default::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(r): State<Received>, headers: HeaderMap, body: String| async move {
                    r.lock().unwrap().push((headers, serde_json::from_str(&body).unwrap()));
                    "ok"
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// The first body a webhook receiver got for `event` (its `X-Tandem-Event` header), once it
/// came: notifications are sent in the background.
pub async fn wait_for_event(received: &Received, event: &str) -> serde_json::Value {
    wait_for(&format!("a `{event}` notification"), async || {
        let got = received.lock().unwrap();
        got.iter()
            .find(|(h, _)| h["x-tandem-event"] == event)
            .map(|(_, b)| b.clone())
    })
    .await
}
