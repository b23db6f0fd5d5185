//! What the demo's story did, as one summary: printed as a JSON object (`--json`, its keys in
//! alphabetical order as it always printed) or as a table of the markets and a few lines.

use crate::commands::show;
use crate::output::print_table;
use serde::Serialize;
use serde_json::Value;
use tandem_core::dora::Keys;
use tandem_core::flow::Stage;
use tandem_core::state::{ChangeState, IncidentState, RolloutState, RunState};
use tandem_wire::markets::ReadinessCheck;

/// The whole summary: the story and where its server runs.
#[derive(Debug, Serialize)]
pub(super) struct Summary {
    /// What happened.
    #[serde(flatten)]
    pub story: Story,
    /// The demo server's base URL.
    pub server: String,
    /// Its admin token.
    pub token: String,
    /// Its data folder.
    pub data_dir: String,
}

/// What the story did, part by part.
#[derive(Debug, Serialize)]
pub(super) struct Story {
    /// Every market and what it runs.
    pub markets: Vec<MarketLine>,
    /// The good and the faulty pipeline runs.
    pub runs: Vec<RunLine>,
    /// The good release.
    pub release: ReleaseLine,
    /// The rollouts of the good and the faulty release.
    pub rollouts: Vec<RolloutLine>,
    /// The decisions taken on the first rollout.
    pub approvals: Vec<ApprovalLine>,
    /// The pilot market's gates in the first rollout.
    pub gates: Vec<GateLine>,
    /// The flags put in force and evaluated.
    pub flags: FlagsTried,
    /// The reviewed config change.
    pub config_change: ConfigChanged,
    /// The market that hung and the monitor's incident.
    pub monitor: Hang,
    /// The last market's launch.
    pub launch: Launched,
    /// What shipped today.
    pub flow: Vec<Shipped>,
    /// DORA's four keys over the day.
    pub dora: Keys,
    /// What the team chat heard.
    pub notifications: Vec<String>,
    /// Every incident.
    pub incidents: Vec<IncidentLine>,
    /// How long the build and the first rollout took.
    pub timings: Timings,
    /// On PostgreSQL: the conductor killed, and the other server taking over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
    /// The shoppers who browsed every market through its front, and the pilot's canary of the
    /// faulty release they judged.
    pub shoppers: ShoppersLine,
}

/// What the demo's shoppers sent and got, and the faulty release's canary in the pilot market.
#[derive(Debug, Serialize)]
pub(super) struct ShoppersLine {
    /// Markets they browsed (each through its front).
    pub markets: usize,
    pub requests: u64,
    /// 5xx answers (and requests nobody answered), per market that had any.
    pub errors: std::collections::BTreeMap<String, u64>,
    /// The failed canary step of the faulty release in the pilot, as recorded.
    pub canary: Option<String>,
}

/// The conductor killed (SIGKILL) and the other server taking its work over.
#[derive(Debug, Serialize)]
pub(super) struct Failover {
    /// The server killed (its name among the servers).
    pub killed: String,
    pub killed_pid: u32,
    /// The server that took over.
    pub survivor: String,
    /// From the kill to the survivor holding the conductor's lease.
    pub took_over_ms: u64,
    /// Markets where the shop was live at the kill, and how many of them answered the new
    /// conductor's probes once it took over.
    pub live: usize,
    pub answering: usize,
}

/// A market and the shop there.
#[derive(Debug, Serialize)]
pub(super) struct MarketLine {
    pub id: String,
    pub name: String,
    pub wave: Option<String>,
    pub release: Option<String>,
    /// `live` when the shop answers its health check there, else `down`.
    pub state: &'static str,
    pub url: Option<String>,
}

/// A pipeline run and the release it made.
#[derive(Debug, Serialize)]
pub(super) struct RunLine {
    pub id: i64,
    pub state: RunState,
    pub commit: String,
    pub release: String,
    /// The agents its jobs ran on (the server runs no step itself).
    pub agents: Vec<String>,
}

/// A release.
#[derive(Debug, Serialize)]
pub(super) struct ReleaseLine {
    pub id: i64,
    pub version: String,
}

/// A rollout of a release, and how it ended.
#[derive(Debug, Serialize)]
pub(super) struct RolloutLine {
    pub id: i64,
    pub release: String,
    pub state: RolloutState,
    pub reason: Option<String>,
}

/// A decision on a rollout (an approval).
#[derive(Debug, Serialize)]
pub(super) struct ApprovalLine {
    pub rollout: i64,
    pub kind: String,
    pub by: String,
    pub wave: i64,
}

/// A gate's result.
#[derive(Debug, Serialize)]
pub(super) struct GateLine {
    pub gate: String,
    pub passed: bool,
    pub value: Option<f64>,
    pub bound: Option<f64>,
    pub reason: String,
}

/// The flags put in force, and what OFREP answered for them.
#[derive(Debug, Serialize)]
pub(super) struct FlagsTried {
    /// The flag version in force.
    pub version: Option<i64>,
    /// The change request that put it in force.
    pub change: i64,
    pub approved_by: &'static str,
    pub new_checkout_fr: Share,
    pub banner: Banner,
    pub delivery_estimate: Evaluated,
    /// new-checkout killed in fr in an emergency, and reviewed afterwards.
    pub emergency: Emergency,
}

/// An emergency kill: what OFREP answered right after it, and its review afterwards.
#[derive(Debug, Serialize)]
pub(super) struct Emergency {
    pub id: i64,
    pub after: Evaluated,
    /// Where its review stood before, and after, the other side reviewed it.
    pub review_before: String,
    pub review_after: String,
}

/// How many shoppers of how many had a flag on.
#[derive(Debug, Serialize)]
pub(super) struct Share {
    pub on: usize,
    pub of: usize,
}

/// The banner's text in two markets, as OFREP answered.
#[derive(Debug, Serialize)]
pub(super) struct Banner {
    pub fr: Value,
    pub de: Value,
}

/// A flag's value and the reason OFREP gave.
#[derive(Debug, Serialize)]
pub(super) struct Evaluated {
    pub value: Value,
    pub reason: Value,
}

/// The config change, from proposal to every market.
#[derive(Debug, Serialize)]
pub(super) struct ConfigChanged {
    pub id: i64,
    pub title: &'static str,
    pub author: String,
    pub approved_by: Vec<String>,
    pub state: ChangeState,
    pub version: i64,
    pub markets_changed: Vec<String>,
    pub validation: Validation,
    /// One line per changed leaf: `nl: path old → new`.
    pub diff: Vec<String>,
    pub rollout: RolloutRun,
    /// How long after the approval nl's config watcher heard the new version.
    pub watcher_ms: u64,
}

/// How many schema errors and unvalidated markets the change had.
#[derive(Debug, Serialize)]
pub(super) struct Validation {
    pub errors: usize,
    pub unchecked: usize,
}

/// A rollout and how long it took.
#[derive(Debug, Serialize)]
pub(super) struct RolloutRun {
    pub id: i64,
    pub state: RolloutState,
    pub ms: u64,
}

/// The market that hung, and the monitor's incident.
#[derive(Debug, Serialize)]
pub(super) struct Hang {
    pub market: &'static str,
    pub incident: i64,
    pub title: String,
    pub deployment: Option<i64>,
    pub detected_ms: u64,
    pub resolved_by: Option<String>,
    pub outage_ms: Option<i64>,
}

/// The last market's launch.
#[derive(Debug, Serialize)]
pub(super) struct Launched {
    pub market: &'static str,
    pub state_before: String,
    pub checks: Vec<ReadinessCheck>,
    pub launched_by: String,
    pub launched_at: i64,
}

/// An idea that shipped today, and how long it took.
#[derive(Debug, Serialize)]
pub(super) struct Shipped {
    pub idea: String,
    pub title: String,
    pub now: Stage,
    pub live_in: usize,
    pub to_pilot_ms: Option<i64>,
    pub to_all_targets_ms: Option<i64>,
}

/// An incident.
#[derive(Debug, Serialize)]
pub(super) struct IncidentLine {
    pub id: i64,
    pub market: String,
    pub title: String,
    pub state: IncidentState,
}

/// How long the build and the first rollout took.
#[derive(Debug, Serialize)]
pub(super) struct Timings {
    pub pipeline_ms: u64,
    pub rollout_ms: u64,
}

impl Summary {
    /// The summary as pretty JSON, keys in alphabetical order (through `serde_json::Value`).
    pub fn to_json(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::to_value(self)?)?)
    }

    /// The markets as a table, then a line per part of the story.
    pub fn print(&self) -> std::io::Result<()> {
        let s = &self.story;
        let rows = s
            .markets
            .iter()
            .map(|m| {
                vec![
                    m.id.clone(),
                    m.name.clone(),
                    show(&m.wave),
                    show(&m.release),
                    m.state.to_string(),
                    show(&m.url),
                ]
            })
            .collect();
        print_table(&["market", "name", "wave", "release", "state", "url"], rows)?;
        outln!(
            "\nBuild {:.1}s, rollout to {} markets {:.1}s.",
            s.timings.pipeline_ms as f64 / 1000.0,
            s.markets.len(),
            s.timings.rollout_ms as f64 / 1000.0
        )?;
        if let Some(f) = &s.failover {
            outln!(
                "The conductor ({}, pid {}) was killed with SIGKILL; {} took over in {:.1}s and {} of the {} live shops answered its probes.",
                f.killed,
                f.killed_pid,
                f.survivor,
                f.took_over_ms as f64 / 1000.0,
                f.answering,
                f.live
            )?;
        }
        for r in s.rollouts.iter().filter(|r| r.state != "succeeded") {
            outln!(
                "Release {} was stopped in the pilot market ({}): {}",
                r.release,
                r.state.as_str(),
                show(&r.reason)
            )?;
        }
        for i in &s.incidents {
            outln!("Incident {} opened: {}", i.id, i.title)?;
        }
        let c = &s.config_change;
        outln!(
            "Config change {} ({}) by {}, approved by {}: {} markets changed ({}), rollout {}; nl's watcher had it {:.1}s after the approval",
            c.id,
            c.title,
            c.author,
            c.approved_by.join(", "),
            c.markets_changed.len(),
            c.diff.join("; "),
            c.rollout.state.as_str(),
            c.watcher_ms as f64 / 1000.0
        )?;
        let h = &s.monitor;
        outln!(
            "{} hung: the monitor opened incident {} after {:.1}s and resolved it when the market answered again ({:.1}s of outage)",
            h.market,
            h.incident,
            h.detected_ms as f64 / 1000.0,
            h.outage_ms.unwrap_or(0) as f64 / 1000.0
        )?;
        let l = &s.launch;
        outln!(
            "Hungary ({}) was launched by {} once its checklist passed: {}",
            l.state_before,
            l.launched_by,
            l.checks
                .iter()
                .map(|c| c.reason.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )?;
        if !s.notifications.is_empty() {
            outln!("\nThe team chat was told:")?;
            for m in &s.notifications {
                outln!("  · {m}")?;
            }
        }
        Ok(())
    }
}
