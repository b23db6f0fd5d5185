//! What the engine's integration tests share: an engine on a fresh data folder with a platform,
//! and waiting for a condition with a deadline.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
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
