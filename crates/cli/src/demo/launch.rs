//! The last market opens: Hungary is `planned` in the platform file, so it received v1 with
//! the last wave without being live; its readiness checklist (config valid for the release in
//! production, flags, that release deployed, its probe answering) passes, and the operator
//! launches it.

use super::progress::Progress;
use crate::client::Client;
use anyhow::{Result, bail};
use serde_json::{Value, json};

/// The market launched last.
const MARKET: &str = "hu";

pub(super) async fn launch_the_last_market(api: &Client, ops: &Client, progress: &Progress) -> Result<Value> {
    let readiness: Value = api.get(&format!("/api/v1/markets/{MARKET}/readiness")).await?;
    let checks: Vec<String> = readiness["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {}",
                if c["passed"] == true { "✓" } else { "✗" },
                crate::commands::text(&c["check"])
            )
        })
        .collect();
    progress.say(&format!(
        "Hungary is {} (it got v1 with its wave but is not open yet); its launch checklist: {}",
        crate::commands::text(&readiness["state"]),
        checks.join(", ")
    ));
    if readiness["ready"] != true {
        bail!("Hungary is not ready to launch: {readiness}");
    }
    let launch: Value = ops
        .post(&format!("/api/v1/markets/{MARKET}/launch"), &json!({}))
        .await?;
    progress.say(&format!(
        "{} launches Hungary: the 25th market is live",
        crate::commands::text(&launch["launched_by"])
    ));
    Ok(json!({
        "market": MARKET,
        "state_before": readiness["state"],
        "checks": readiness["checks"],
        "launched_by": launch["launched_by"],
        "launched_at": launch["launched_at"],
    }))
}
