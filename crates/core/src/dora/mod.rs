//! The four DORA keys — deployment frequency, lead time for changes, change failure rate and
//! failed deployment recovery time — computed from plain rows: no I/O, no clock, no database.
//! The store loads [`Deployment`]s and [`Incident`]s; [`History`] indexes them once and answers
//! any number of [`Filter`]s, as totals, grouped by market, service and wave, or per day or week.
//! docs/metrics.md gives every definition with a worked example.
//!
//! The keys, over the deployments a filter *counts* (below):
//!
//! ```text
//! deployment frequency  = counted / window days            (and × 7 per week)
//! lead time for changes = median, p90 of finished_at − commit_time
//!                         over each commit of each counted deployment that succeeded
//! change failure rate   = failed / counted, failed = rolled back, failed, or ≥ 1 linked incident
//! recovery time         = median of restored_at − hurt_from over the failed counted deployments
//!                         whose market was restored; the others are counted as unrecovered
//! hurt_from             = started_at if it never served (failed), else the opening of its first
//!                         incident (not before finished_at), else finished_at
//! restored_at           = min(finish of the next good deployment to the same service and market,
//!                             resolution of the last of its incidents, when all are resolved,
//!                             the market's own recovery from it: recovered_at)
//!
//! [`History::restore_of`] gives one deployment's [`Restore`]: pages that show a restore time
//! show that one.
//! ```
//!
//! Levels come from the Accelerate State of DevOps 2021 report: see [`THRESHOLDS`].
//!
//! Invariants:
//! - One set of *counted* deployments feeds frequency, failure rate and lead time: production,
//!   not a rollback, finished in the filter's window (`from ≤ finished_at < to`), matching the
//!   filter. So `failed ≤ deployments`, and the groups of a grouping add up to the total.
//! - Whether a deployment failed and when its market was restored are facts about the whole
//!   history, not about the filter: a restoring deployment may be of another kind or wave, or
//!   finish after the window ends.
//! - Every median and 90th percentile is a nearest-rank percentile: an observed value.

mod history;
mod keys;
mod level;
mod rank;

#[cfg(test)]
mod scale;
#[cfg(test)]
mod tests;

pub use history::{Bucket, BucketKeys, GroupedKeys, History, MAX_BUCKETS};
pub use keys::{
    ChangeFailureRate, DeploymentFrequency, Keys, LeadTime, RESTORE_DEFINITION, RecoveryTime, Restore, show_duration,
};
pub use level::{
    DAY_MS, Edge, HOUR_MS, Level, MONTH_MS, SIX_MONTHS_MS, THRESHOLDS, Thresholds, WEEK_MS,
    classify_change_failure_rate, classify_deployment_frequency, classify_lead_time, classify_recovery_time,
};
pub use rank::nearest_rank;

use serde::{Deserialize, Serialize};

/// What a deployment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A release: code built by a pipeline.
    Code,
    /// A config version, from a change request.
    Config,
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It went live and stayed (it may still be linked to an incident later).
    Succeeded,
    /// It went live, then the market was sent back to what it ran before.
    RolledBack,
    /// It never served: it failed to start, or failed its gate before the switch.
    Failed,
}

/// One release or config version landing in one market: the unit DORA counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: i64,
    pub service: String,
    pub market: String,
    /// The rollout wave that deployed it; `None` for a deployment made outside a rollout.
    pub wave: Option<u32>,
    pub kind: ChangeKind,
    /// It sent the market back to what it ran before (by hand or automatically): it brings no
    /// change, so it is never counted, but when it succeeds it restores the market.
    pub rollback: bool,
    /// When it began, in Unix milliseconds.
    pub started_at: i64,
    /// When it ended — live, rolled back or given up — in Unix milliseconds. A deployment still
    /// under way has no place here yet.
    pub finished_at: i64,
    pub outcome: Outcome,
    /// To a live market; deployments to anything else are ignored altogether.
    pub production: bool,
    /// When each change it brought to this market was made, in Unix milliseconds: for code, the
    /// author times of the commits reachable from its release's commit and not from the release
    /// the market ran before; for config, when the change request was created.
    pub commit_times: Vec<i64>,
    /// When its market recovered from it by itself, for a deployment that failed: the previous
    /// release answered again (its `recovery` gate passed). `None` otherwise.
    #[serde(default)]
    pub recovered_at: Option<i64>,
}

/// Something that broke in a market, linked to the deployment that caused it when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub service: String,
    pub market: String,
    /// The deployment that caused it; an incident without one changes no key.
    pub deployment_id: Option<i64>,
    pub opened_at: i64,
    /// `None` while it is open.
    pub resolved_at: Option<i64>,
}

/// Why a key cannot be computed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoraError {
    #[error("the window ends at {to} ms, not after it starts at {from} ms: give a `to` later than `from`")]
    EmptyWindow { from: i64, to: i64 },
    #[error(
        "a series by {bucket} over this window has {buckets} buckets, more than the {max} a chart \
         shows: choose a shorter window or a longer bucket"
    )]
    TooManyBuckets { bucket: Bucket, buckets: i64, max: i64 },
}

/// A half-open time range `[from, to)` in Unix milliseconds, never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Window {
    from: i64,
    to: i64,
}

impl Window {
    /// The range `from ≤ t < to`; an error unless `from < to`.
    pub fn new(from: i64, to: i64) -> Result<Self, DoraError> {
        if from < to {
            Ok(Self { from, to })
        } else {
            Err(DoraError::EmptyWindow { from, to })
        }
    }

    /// Its first millisecond.
    pub fn from(&self) -> i64 {
        self.from
    }

    /// The first millisecond after it.
    pub fn to(&self) -> i64 {
        self.to
    }

    /// Its length in milliseconds (always > 0), saturated at `i64::MAX`.
    pub fn len_ms(&self) -> i64 {
        self.to.saturating_sub(self.from)
    }

    /// Whether `t` falls in it.
    pub fn contains(&self, t: i64) -> bool {
        self.from <= t && t < self.to
    }
}

/// Which deployments to count: those finished in the window, narrowed by every field that is
/// set (`None` matches all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub service: Option<String>,
    pub market: Option<String>,
    /// Only deployments made by this rollout wave (which excludes those made outside a rollout).
    pub wave: Option<u32>,
    /// Only code, or only config; `None` counts both.
    pub kind: Option<ChangeKind>,
    window: Window,
}

impl Filter {
    /// Every production deployment finished in `window`.
    pub fn new(window: Window) -> Self {
        Self {
            service: None,
            market: None,
            wave: None,
            kind: None,
            window,
        }
    }

    /// Narrowed to one service.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Narrowed to one market.
    pub fn market(mut self, market: impl Into<String>) -> Self {
        self.market = Some(market.into());
        self
    }

    /// Narrowed to one rollout wave.
    pub fn wave(mut self, wave: u32) -> Self {
        self.wave = Some(wave);
        self
    }

    /// Narrowed to one kind of change.
    pub fn kind(mut self, kind: ChangeKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The time range it counts.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The same filter over another window.
    pub fn with_window(&self, window: Window) -> Self {
        Self { window, ..self.clone() }
    }

    /// Whether `d` finished in the window and matches every field that is set. Production and
    /// rollbacks are not the filter's concern: [`History`] never counts the others.
    pub fn matches(&self, d: &Deployment) -> bool {
        self.window.contains(d.finished_at)
            && self.service.as_deref().is_none_or(|s| s == d.service)
            && self.market.as_deref().is_none_or(|m| m == d.market)
            && self.wave.is_none_or(|w| d.wave == Some(w))
            && self.kind.is_none_or(|k| d.kind == k)
    }
}
