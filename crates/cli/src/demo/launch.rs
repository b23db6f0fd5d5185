//! The last market opens: Hungary is `planned` in the platform file, so it received v1 with
//! the last wave without being live; its readiness checklist (config valid for the release in
//! production, flags, that release deployed, its probe answering) passes, and the operator
//! launches it.

use super::progress::Progress;
use super::summary::Launched;
use crate::client::Client;
use anyhow::{Result, bail};
use serde_json::json;
use tandem_wire::markets::{Launch, Readiness};

/// The market launched last.
const MARKET: &str = "hu";

pub(super) async fn launch_the_last_market(api: &Client, ops: &Client, progress: &Progress) -> Result<Launched> {
    let readiness: Readiness = api.get(&format!("/api/v1/markets/{MARKET}/readiness")).await?;
    let checks: Vec<String> = readiness
        .checks
        .iter()
        .map(|c| format!("{} {}", if c.passed { "✓" } else { "✗" }, c.check))
        .collect();
    progress.say(&format!(
        "Hungary is {} (it got v1 with its wave but is not open yet); its launch checklist: {}",
        readiness.state,
        checks.join(", ")
    ));
    if !readiness.ready {
        bail!("Hungary is not ready to launch: {}", serde_json::to_value(&readiness)?);
    }
    let launch: Launch = ops
        .post(&format!("/api/v1/markets/{MARKET}/launch"), &json!({}))
        .await?;
    progress.say(&format!(
        "{} launches Hungary: the 25th market is live",
        launch.launched_by
    ));
    Ok(Launched {
        market: MARKET,
        state_before: readiness.state,
        checks: readiness.checks,
        launched_by: launch.launched_by,
        launched_at: launch.launched_at,
    })
}
