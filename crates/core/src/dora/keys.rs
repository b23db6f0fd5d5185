//! The four keys of one set of counted deployments, and the tally that builds them.

use super::level::{
    DAY_MS, HOUR_MS, Level, WEEK_MS, classify_change_failure_rate, classify_deployment_frequency, classify_lead_time,
    classify_recovery_time,
};
use super::rank::select_nearest_rank;
use super::{Deployment, Outcome};
use serde::{Deserialize, Serialize};

/// The four DORA keys over the deployments one filter (or one group, or one bucket) counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keys {
    pub deployment_frequency: DeploymentFrequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: ChangeFailureRate,
    pub recovery_time: RecoveryTime,
}

/// Counted deployments, and their rate over the window:
/// `per_day = deployments / (window_ms / 86 400 000)`, `per_week = 7 × per_day`.
/// Each market a release lands in is one deployment, so judge the level per market: a release
/// rolled out to 25 markets is 25 deployments in a total over all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentFrequency {
    pub deployments: u64,
    pub per_day: f64,
    pub per_week: f64,
    /// Judged on the mean interval `window / deployments`; `None` without a deployment.
    pub level: Option<Level>,
}

/// Lead time for changes: `finished_at − commit_time` for every commit of every counted
/// deployment that succeeded, once per market it reached (negative skews count as 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTime {
    pub commits: u64,
    /// Nearest-rank median, in milliseconds; `None` without a commit.
    pub median_ms: Option<i64>,
    /// Nearest-rank 90th percentile, in milliseconds.
    pub p90_ms: Option<i64>,
    /// Judged on the median.
    pub level: Option<Level>,
}

/// Change failure rate: `failed / deployments`, where a deployment failed if it was rolled back,
/// never served, or has at least one incident linked to it (however many).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeFailureRate {
    pub failed: u64,
    pub deployments: u64,
    /// In `[0, 1]`; `None` without a deployment.
    pub rate: Option<f64>,
    pub level: Option<Level>,
}

/// Failed deployment recovery time: for each failed counted deployment, from when it started to
/// hurt until its market was restored (see docs/metrics.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryTime {
    pub recovered: u64,
    /// Failed deployments whose market is not restored (yet): not in the median.
    pub unrecovered: u64,
    /// Nearest-rank median over the recovered, in milliseconds.
    pub median_ms: Option<i64>,
    pub level: Option<Level>,
}

/// What the whole history says about one counted deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not failed.
    Good,
    /// Failed; when it hurt its market and when the market was restored.
    Failed(Restore),
}

/// The restore time of one failed deployment, as docs/metrics.md defines it: the one figure
/// the Delivery page's medians, a market's row, an incident and its postmortem all show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restore {
    /// When it began to hurt its market (Unix ms): its start if it never served; else when its
    /// first incident opened, but not before it went live; else when it went live.
    pub hurt_from: i64,
    /// When its market was restored (Unix ms): the earliest of the next good deployment to the
    /// same service and market, the resolution of the last of its incidents (once all are
    /// resolved), and the market's own recovery from it (the previous release serving again).
    /// `None` while the market is not known to be restored.
    pub restored_at: Option<i64>,
}

impl Restore {
    /// `max(0, restored_at − hurt_from)`; `None` while not restored.
    pub fn recovery_ms(&self) -> Option<i64> {
        self.restored_at.map(|at| at.saturating_sub(self.hurt_from).max(0))
    }
}

/// A DORA duration as every page shows it: `30 ms`, `3.6 s`, `12 min`, `5.2 h`, `3.4 d` (one
/// decimal, none when it is zero). One formatter, so a restore time reads the same everywhere.
pub fn show_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let one_decimal = |x: f64| {
        let rounded = (x * 10.0).round() / 10.0;
        if rounded.fract() == 0.0 {
            format!("{rounded:.0}")
        } else {
            format!("{rounded:.1}")
        }
    };
    match ms {
        _ if ms < 1000 => format!("{ms} ms"),
        _ if ms < 60_000 => format!("{} s", one_decimal(ms as f64 / 1000.0)),
        _ if ms < HOUR_MS => format!("{} min", ms / 60_000),
        _ if ms < 2 * DAY_MS => format!("{} h", one_decimal(ms as f64 / HOUR_MS as f64)),
        _ => format!("{} d", one_decimal(ms as f64 / DAY_MS as f64)),
    }
}

/// One sentence a page shows next to a restore time, saying what it measures.
pub const RESTORE_DEFINITION: &str = "Time to restore: for a failed deployment, from when it began \
     to hurt its market (its start if it never served, else its first incident, else when it went \
     live) until the market was restored (the previous release serving again, the next good \
     deployment, or its incidents all resolved, whichever came first).";

/// The running sums of one group; [`Tally::finish`] turns them into [`Keys`].
#[derive(Debug, Default)]
pub(super) struct Tally {
    deployments: u64,
    failed: u64,
    lead_times_ms: Vec<i64>,
    recoveries_ms: Vec<i64>,
    unrecovered: u64,
}

impl Tally {
    /// Counts `d`, which the filter matched, judged `verdict`.
    pub(super) fn add(&mut self, d: &Deployment, verdict: Verdict) {
        self.deployments += 1;
        // The commits of a rolled-back or failed deployment come again with the market's next
        // one (it still runs the release before), so only a succeeded deployment delivers them.
        if d.outcome == Outcome::Succeeded {
            let lead_times = d.commit_times.iter().map(|t| d.finished_at.saturating_sub(*t).max(0));
            self.lead_times_ms.extend(lead_times);
        }
        if let Verdict::Failed(restore) = verdict {
            self.failed += 1;
            match restore.recovery_ms() {
                Some(ms) => self.recoveries_ms.push(ms),
                None => self.unrecovered += 1,
            }
        }
    }

    /// Whether nothing was added.
    pub(super) fn is_empty(&self) -> bool {
        self.deployments == 0
    }

    /// The keys of everything added, over a window of `window_ms` (> 0).
    pub(super) fn finish(mut self, window_ms: i64) -> Keys {
        let lead_median = select_nearest_rank(&mut self.lead_times_ms, 50);
        let recovery_median = select_nearest_rank(&mut self.recoveries_ms, 50);
        let per_day = self.deployments as f64 * DAY_MS as f64 / window_ms as f64;
        Keys {
            deployment_frequency: DeploymentFrequency {
                deployments: self.deployments,
                per_day,
                per_week: per_day * (WEEK_MS / DAY_MS) as f64,
                level: classify_deployment_frequency(self.deployments, window_ms),
            },
            lead_time: LeadTime {
                commits: self.lead_times_ms.len() as u64,
                median_ms: lead_median,
                p90_ms: select_nearest_rank(&mut self.lead_times_ms, 90),
                level: lead_median.map(classify_lead_time),
            },
            change_failure_rate: ChangeFailureRate {
                failed: self.failed,
                deployments: self.deployments,
                rate: (self.deployments > 0).then(|| self.failed as f64 / self.deployments as f64),
                level: classify_change_failure_rate(self.failed, self.deployments),
            },
            recovery_time: RecoveryTime {
                recovered: self.recoveries_ms.len() as u64,
                unrecovered: self.unrecovered,
                median_ms: recovery_median,
                level: recovery_median.map(classify_recovery_time),
            },
        }
    }
}
