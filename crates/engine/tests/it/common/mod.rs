//! What the engine's integration tests share: an engine on a fresh data folder with a platform,
//! waiting for a condition with a deadline, and a webhook receiver for notifications (the last
//! two from `tandem_testkit`).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
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
pub async fn wait_for<T>(what: &str, check: impl AsyncFnMut() -> Option<T>) -> T {
    tandem_testkit::wait_for(what, DEADLINE, check).await
}

pub use tandem_testkit::hook::{Received, receiver};

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
