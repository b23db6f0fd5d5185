//! Performance levels (Elite, High, Medium, Low) from the cluster table of the
//! *Accelerate State of DevOps 2021* report (DORA, Google Cloud).
//!
//! The report gives each level a band, with gaps between bands: a lead time of four hours is
//! neither "less than one hour" (Elite) nor "between one day and one week" (High). Tandem keeps
//! only the *worse edge* of each band: a measure earns the best level whose worse edge it does
//! not pass, so a value in a gap takes the level below the gap, and every value has exactly one
//! level. Low is whatever passes the Medium edge.

use serde::{Deserialize, Serialize};

/// One hour, in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day (24 hours), in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// One week (7 days), in milliseconds.
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// The report's "month", taken as 30 days, in milliseconds.
pub const MONTH_MS: i64 = 30 * DAY_MS;
/// The report's "six months", taken as 6 × 30 = 180 days, in milliseconds.
pub const SIX_MONTHS_MS: i64 = 6 * MONTH_MS;

/// A performance level, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Elite,
    High,
    Medium,
    Low,
}

/// The worse edge of a level's band, for a measure where lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "edge", content = "value", rename_all = "snake_case")]
pub enum Edge {
    /// The measure must be strictly below the value ("less than one hour").
    Below(i64),
    /// The measure may reach the value ("between one day and one week": at most a week).
    AtMost(i64),
}

impl Edge {
    /// Whether the measure `numerator / denominator` (`denominator > 0`) is within this edge;
    /// exact in integers, so a measure on an edge never falls on the wrong side by rounding.
    fn admits(self, numerator: i128, denominator: i128) -> bool {
        match self {
            Edge::Below(limit) => numerator < i128::from(limit) * denominator,
            Edge::AtMost(limit) => numerator <= i128::from(limit) * denominator,
        }
    }
}

/// The worse edges of Elite, High and Medium for each key; Low is everything beyond Medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// The report the edges come from.
    pub report: &'static str,
    /// Mean time between deployments (window ÷ deployments), in milliseconds.
    pub deployment_interval_ms: [Edge; 3],
    /// Median lead time for changes, in milliseconds.
    pub lead_time_ms: [Edge; 3],
    /// Change failure rate, in percent.
    pub change_failure_percent: [Edge; 3],
    /// Median failed deployment recovery time, in milliseconds.
    pub recovery_time_ms: [Edge; 3],
}

/// The Accelerate State of DevOps 2021 table, as worse edges (the report's wording on the right):
///
/// | key | Elite | High | Medium | Low |
/// |---|---|---|---|---|
/// | deployment frequency | on demand, multiple deploys per day | once per week to once per month | once per month to once every 6 months | fewer than once per 6 months |
/// | lead time for changes | < 1 hour | 1 day to 1 week | 1 month to 6 months | > 6 months |
/// | time to restore service | < 1 hour | < 1 day | 1 day to 1 week | > 6 months |
/// | change failure rate | 0–15 % | 16–30 % | 16–30 % | 16–30 % |
///
/// High, Medium and Low share one change failure band in that report, so a rate up to 30 % is
/// High, Medium is never reached, and a rate above 30 % (beyond every band) is Low.
#[rustfmt::skip]
pub const THRESHOLDS: Thresholds = Thresholds {
    report: "Accelerate State of DevOps 2021 (DORA, Google Cloud)",
    //                        Elite                  High                    Medium
    deployment_interval_ms: [Edge::Below(DAY_MS),   Edge::AtMost(MONTH_MS), Edge::AtMost(SIX_MONTHS_MS)],
    lead_time_ms:           [Edge::Below(HOUR_MS),  Edge::AtMost(WEEK_MS),  Edge::AtMost(SIX_MONTHS_MS)],
    change_failure_percent: [Edge::AtMost(15),      Edge::AtMost(30),       Edge::AtMost(30)],
    recovery_time_ms:       [Edge::Below(HOUR_MS),  Edge::Below(DAY_MS),    Edge::AtMost(WEEK_MS)],
};

/// The best level whose edge admits `numerator / denominator`; Low when none does.
fn classify(edges: &[Edge; 3], numerator: i128, denominator: i128) -> Level {
    let levels = [Level::Elite, Level::High, Level::Medium];
    edges
        .iter()
        .zip(levels)
        .find(|(edge, _)| edge.admits(numerator, denominator))
        .map_or(Level::Low, |(_, level)| level)
}

/// The level of `deployments` in a window of `window_ms`, judged on the mean interval
/// `window_ms / deployments`; `None` without a deployment (no interval to judge).
pub fn classify_deployment_frequency(deployments: u64, window_ms: i64) -> Option<Level> {
    (deployments > 0).then(|| {
        classify(
            &THRESHOLDS.deployment_interval_ms,
            i128::from(window_ms),
            i128::from(deployments),
        )
    })
}

/// The level of a median lead time for changes.
pub fn classify_lead_time(median_ms: i64) -> Level {
    classify(&THRESHOLDS.lead_time_ms, i128::from(median_ms), 1)
}

/// The level of `failed` out of `deployments`, judged on `100 × failed / deployments` percent;
/// `None` without a deployment.
pub fn classify_change_failure_rate(failed: u64, deployments: u64) -> Option<Level> {
    (deployments > 0).then(|| {
        classify(
            &THRESHOLDS.change_failure_percent,
            i128::from(failed) * 100,
            i128::from(deployments),
        )
    })
}

/// The level of a median failed deployment recovery time.
pub fn classify_recovery_time(median_ms: i64) -> Level {
    classify(&THRESHOLDS.recovery_time_ms, i128::from(median_ms), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_frequency_edges() {
        let ten_days = 10 * DAY_MS;
        // Exactly one a day is not "multiple deploys per day": High.
        assert_eq!(classify_deployment_frequency(10, ten_days), Some(Level::High));
        assert_eq!(classify_deployment_frequency(11, ten_days), Some(Level::Elite));
        // Once a week sits in the report's gap between Elite and High: High.
        assert_eq!(classify_deployment_frequency(1, WEEK_MS), Some(Level::High));
        assert_eq!(classify_deployment_frequency(1, MONTH_MS), Some(Level::High));
        assert_eq!(classify_deployment_frequency(1, MONTH_MS + 1), Some(Level::Medium));
        assert_eq!(classify_deployment_frequency(2, 2 * MONTH_MS + 1), Some(Level::Medium));
        assert_eq!(classify_deployment_frequency(1, SIX_MONTHS_MS), Some(Level::Medium));
        assert_eq!(classify_deployment_frequency(1, SIX_MONTHS_MS + 1), Some(Level::Low));
        assert_eq!(classify_deployment_frequency(0, ten_days), None);
    }

    #[test]
    fn lead_time_edges() {
        assert_eq!(classify_lead_time(0), Level::Elite);
        assert_eq!(classify_lead_time(HOUR_MS - 1), Level::Elite);
        // One hour to one day is a gap in the report: High.
        assert_eq!(classify_lead_time(HOUR_MS), Level::High);
        assert_eq!(classify_lead_time(WEEK_MS), Level::High);
        // One week to one month is a gap: Medium.
        assert_eq!(classify_lead_time(WEEK_MS + 1), Level::Medium);
        assert_eq!(classify_lead_time(SIX_MONTHS_MS), Level::Medium);
        assert_eq!(classify_lead_time(SIX_MONTHS_MS + 1), Level::Low);
    }

    #[test]
    fn change_failure_rate_edges() {
        assert_eq!(classify_change_failure_rate(0, 5), Some(Level::Elite));
        assert_eq!(classify_change_failure_rate(15, 100), Some(Level::Elite));
        assert_eq!(classify_change_failure_rate(3, 20), Some(Level::Elite)); // 15 % exactly
        assert_eq!(classify_change_failure_rate(151, 1000), Some(Level::High)); // 15.1 %
        assert_eq!(classify_change_failure_rate(1, 6), Some(Level::High)); // 16.7 %
        assert_eq!(classify_change_failure_rate(30, 100), Some(Level::High));
        assert_eq!(classify_change_failure_rate(301, 1000), Some(Level::Low));
        assert_eq!(classify_change_failure_rate(1, 1), Some(Level::Low));
        assert_eq!(classify_change_failure_rate(0, 0), None);
    }

    #[test]
    fn recovery_time_edges() {
        assert_eq!(classify_recovery_time(HOUR_MS - 1), Level::Elite);
        assert_eq!(classify_recovery_time(HOUR_MS), Level::High);
        assert_eq!(classify_recovery_time(DAY_MS - 1), Level::High);
        assert_eq!(classify_recovery_time(DAY_MS), Level::Medium);
        assert_eq!(classify_recovery_time(WEEK_MS), Level::Medium);
        // One week to six months is a gap: Low.
        assert_eq!(classify_recovery_time(WEEK_MS + 1), Level::Low);
    }

    #[test]
    fn thresholds_serialize_for_a_dashboard_legend() {
        let json = serde_json::to_value(THRESHOLDS).unwrap();
        assert_eq!(
            json["lead_time_ms"][0],
            serde_json::json!({"edge": "below", "value": HOUR_MS})
        );
        assert_eq!(
            json["change_failure_percent"][1],
            serde_json::json!({"edge": "at_most", "value": 30})
        );
        assert_eq!(serde_json::to_value(Level::Elite).unwrap(), "elite");
    }
}
