//! Waiting for a state instead of sleeping: poll a check until it gives a value or a deadline
//! passes.

use std::convert::Infallible;
use std::fmt::Display;
use std::time::Duration;

/// How often a check is polled: short enough that a test waits little past the moment the state
/// is reached, long enough not to hammer the server or the store.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Polls `check` every [`POLL_INTERVAL`] until it gives `Some`, for at most `timeout`. A check
/// that fails is polled again; when time runs out the error names `what` and the last failure.
pub async fn try_wait_for<T, E: Display>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Result<Option<T>, E>,
) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::from("nothing yet");
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = e.to_string(),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what} (last error: {last})"
            ));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls `check` until it gives `Some`, for at most `timeout`; panics naming `what` when time
/// runs out.
pub async fn wait_for<T>(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    try_wait_for(what, timeout, async || Ok::<_, Infallible>(check().await))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}
