//! A service's config: each market's resolved config, diffs, versions, the config log, and
//! rollback (whose answer is [`crate::rollouts::ConfigMove`]).

use crate::changes::Change;
use serde::{Deserialize, Serialize};

/// One value of a resolved config.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigEntry {
    /// JSON pointer: `/payment/provider`.
    pub pointer: String,
    /// Dotted form: `payment.provider`.
    pub path: String,
    /// The value.
    pub value: serde_json::Value,
    /// The layer that set it: `market facts`, `defaults`, `region west` or `market override`.
    pub origin: String,
}

/// A market's resolved config.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketConfig {
    /// The service.
    pub service: String,
    /// The market.
    pub market: String,
    /// The config version the market runs (none before Tandem keeps the service's config).
    pub version: Option<i64>,
    /// The resolved config, as a deployment's config file holds it.
    pub values: serde_json::Value,
    /// Each value with its layer.
    pub entries: Vec<ConfigEntry>,
}

/// One value that differs between two configs.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiffLine {
    /// The value's dotted path.
    pub path: String,
    /// added, removed or changed.
    pub change: String,
    /// The value before (none when added).
    pub old: Option<serde_json::Value>,
    /// The value after (none when removed).
    pub new: Option<serde_json::Value>,
}

/// A version of a service's config layers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigVersion {
    /// Its id.
    pub id: i64,
    /// The service.
    pub service: String,
    /// 1, 2, … per service.
    pub version: i64,
    /// The layers as JSON: `{ "defaults", "regions", "markets" }`.
    pub layers: String,
    /// Who made it.
    pub created_by: String,
    /// What it is for.
    pub message: String,
    /// The change request it came from, if any.
    pub change_id: Option<i64>,
    /// When it was made.
    pub created_at: i64,
}

/// A market's move to a config version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketConfigMove {
    /// Its id.
    pub id: i64,
    /// The service.
    pub service: String,
    /// The market.
    pub market: String,
    /// The version it moved to.
    pub version: i64,
    /// The deployment that carried it, if any.
    pub deployment_id: Option<i64>,
    /// Who moved it.
    pub set_by: String,
    /// Why: deployment, rollback, direct.
    pub reason: String,
    /// When.
    pub set_at: i64,
}

/// One entry of a service's config log.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfigLogEntry {
    /// The version.
    pub version: i64,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// What it is for.
    pub message: String,
    /// The change request it came from, with its state and result.
    pub change: Option<Change>,
    /// Who approved that change request (its last revision).
    pub approved_by: Vec<String>,
    /// What changed in the layers since the version before.
    pub diff: Vec<DiffLine>,
    /// The markets that run this version now.
    pub markets: Vec<String>,
    /// Each market's move to or away from this version (deployment, rollback, direct).
    pub moves: Vec<MarketConfigMove>,
}

/// Which markets to send back to their previous config version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigRollbackRequest {
    /// The markets to send back; all markets when empty or absent.
    #[serde(default)]
    pub markets: Vec<String>,
}
