//! The catalog (markets, waves, services), what runs in each market, and market launches.

use serde::{Deserialize, Serialize};
use tandem_core::state::LaunchState;

/// A deployment target, usually a country.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Market {
    /// ISO 3166 alpha-2, lower case (`fr`), or a longer code (`fr-paris-02`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its region (config layers by region).
    pub region: String,
    /// Its currency.
    pub currency: String,
    /// Its locale.
    pub locale: String,
    /// Its time zone.
    pub timezone: String,
    /// planned, launching or live.
    pub state: LaunchState,
    /// Its place in the platform file.
    pub position: i64,
}

/// An ordered group of markets a change goes through together.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Wave {
    /// Its name.
    pub name: String,
    /// Its place in the rollout order.
    pub position: i64,
    /// Its markets.
    pub markets: Vec<String>,
}

/// A deployable application.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Service {
    /// Its name.
    pub name: String,
    /// Its git repository.
    pub repo: String,
    /// The branch built.
    pub branch: String,
}

/// One service's state in one market.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketService {
    /// The service.
    pub service: String,
    /// The release running now, if any.
    pub release: Option<String>,
    /// Where it answers.
    pub url: Option<String>,
    /// Where the market's real traffic reaches it, when the service has a canary: its front.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front: Option<String>,
    /// Since when (Unix ms) that release has been live.
    pub since: Option<i64>,
    /// up (its probe answers), down (the monitor's probes fail, or its process is gone), or
    /// none (nothing deployed).
    pub health: String,
    /// A release being deployed right now, if any.
    pub in_flight: Option<String>,
    /// The latest deployment here, when it failed and nothing went live since: release and reason.
    pub last_failure: Option<String>,
}

/// A market with what runs there.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketStatus {
    /// The market.
    #[serde(flatten)]
    pub market: Market,
    /// The wave it belongs to.
    pub wave: Option<String>,
    /// Each service there.
    pub services: Vec<MarketService>,
}

/// One item of a readiness checklist.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadinessCheck {
    /// config, flags, release or probe.
    pub check: String,
    /// The service checked.
    pub service: String,
    /// Whether it passed.
    pub passed: bool,
    /// What passed, or what is missing and what to do.
    pub reason: String,
}

/// Whether a market may be launched, check by check.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Readiness {
    /// The market.
    pub market: String,
    /// Its name.
    pub name: String,
    /// planned, launching or live.
    pub state: String,
    /// Every check passed.
    pub ready: bool,
    /// The checks.
    pub checks: Vec<ReadinessCheck>,
    /// Unix milliseconds.
    pub checked_at: i64,
}

/// A market made live.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Launch {
    /// The market.
    pub market: String,
    /// Unix milliseconds.
    pub launched_at: i64,
    /// Who launched it.
    pub launched_by: String,
    /// The checklist it passed.
    pub readiness: Readiness,
}

/// The `details` of a launch refused because the market is not ready (422, code `not_ready`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotReady {
    /// The market.
    pub market: String,
    /// The checks that failed.
    pub missing: Vec<ReadinessCheck>,
    /// Every check.
    pub checks: Vec<ReadinessCheck>,
}
