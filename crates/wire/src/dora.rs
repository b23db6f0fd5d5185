//! The four DORA keys over a window, and their trend.

use serde::{Deserialize, Serialize};
use tandem_core::dora::{BucketKeys, GroupedKeys};

/// The four keys over a window.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DoraAnswer {
    /// Start of the window, Unix ms.
    pub from: i64,
    /// End of the window (excluded), Unix ms.
    pub to: i64,
    /// The keys over everything the filter counts, and by market, service and wave:
    /// `{ total, by_market, by_service, by_wave }`, each key with its DORA level
    /// (thresholds of the Accelerate State of DevOps 2021 report; see docs/metrics.md).
    #[schema(value_type = Object)]
    pub keys: GroupedKeys,
}

/// The four keys bucket by bucket over a window.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DoraSeries {
    /// Start of the window, Unix ms.
    pub from: i64,
    /// End of the window (excluded), Unix ms.
    pub to: i64,
    /// `week` or `day`.
    pub bucket: String,
    /// One entry per bucket, oldest first: `{ from, to, keys }`, the keys as in
    /// `/api/v1/metrics/dora` (each with its level).
    #[schema(value_type = Vec<Object>)]
    pub buckets: Vec<BucketKeys>,
}
