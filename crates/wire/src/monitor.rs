//! What the monitor sees: each live market's health, and the series it keeps.

use serde::{Deserialize, Serialize};
use tandem_core::state::HealthState;

/// A live market's health as last probed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketHealth {
    /// The service.
    pub service: String,
    /// The market.
    pub market: String,
    /// The live deployment probed.
    pub deployment_id: Option<i64>,
    /// up (the last probe passed), failing (it failed, fewer than `monitor.failures` times in
    /// a row), down (that many failed: an incident is open), or unknown (not probed since the
    /// server started).
    pub state: HealthState,
    /// Failed probes in a row.
    pub failures_in_a_row: i64,
    /// Unix ms of the last probe.
    pub probed_at: i64,
    /// Unix ms of the last probe that passed.
    pub last_ok_at: Option<i64>,
    /// How long the last probe took to answer.
    pub latency_ms: Option<f64>,
    /// Why the last probe failed.
    pub error: Option<String>,
    /// The incident the monitor opened for the current outage.
    pub incident_id: Option<i64>,
}

/// One bucket of a series in one market.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    /// The market.
    pub market: String,
    /// Unix ms at the bucket's start.
    pub bucket: i64,
    /// Values in the bucket.
    pub count: i64,
    /// Their sum.
    pub sum: f64,
    /// The least.
    pub min: f64,
    /// The greatest.
    pub max: f64,
    /// The last one.
    pub last: f64,
}

/// One series of a service over a window.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriesAnswer {
    /// The service.
    pub service: String,
    /// The series' name.
    pub metric: String,
    /// Seconds per point.
    pub resolution: i64,
    /// Start of the window, Unix ms.
    pub from: i64,
    /// End of the window (excluded), Unix ms.
    pub to: i64,
    /// Buckets by market then time: count, sum, min, max and last value of the bucket.
    pub points: Vec<SeriesPoint>,
}
