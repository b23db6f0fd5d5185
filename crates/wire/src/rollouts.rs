//! Releases, rollouts through the waves, deployments, gates and decisions, rollbacks, and the
//! plan of a release.

use serde::{Deserialize, Serialize};
use tandem_core::state::{DeploymentKind, DeploymentState, RolloutState};

/// An immutable, versioned bundle of artifacts built from one commit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// The release's id.
    pub id: i64,
    /// Its service.
    pub service: String,
    /// Its version, such as `1.4.0-3-gabc1234`.
    pub version: String,
    /// The commit it was built from.
    pub commit_sha: String,
    /// The run that built it.
    pub run_id: i64,
    /// The `tandem.yml` the release was built with, as a JSON document.
    pub spec: serde_json::Value,
    /// When it was made.
    pub created_at: i64,
    /// Who built it: the Tandem build and the machine that ran its pipeline.
    pub builder: String,
    /// The JSON Schema of the service's config it was built with, when `tandem.yml` names one.
    pub config_schema: Option<String>,
}

/// One artifact of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseArtifact {
    /// Its file name.
    pub name: String,
    /// Its sha256.
    pub digest: String,
    /// Its size in bytes.
    pub size: i64,
}

/// A release with its artifacts' digests.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleaseDetail {
    /// The release.
    #[serde(flatten)]
    pub release: Release,
    /// Its artifacts.
    pub artifacts: Vec<ReleaseArtifact>,
}

/// Starts rolling a release out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRollout {
    /// The release to roll out.
    pub release_id: i64,
    /// When another rollout holds one of the markets: wait for it (`queued`) instead of
    /// being refused with its name.
    #[serde(default)]
    pub queue: bool,
}

/// A release (or a config version) moving through the waves.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rollout {
    /// The rollout's id.
    pub id: i64,
    /// Its service.
    pub service: String,
    /// The release it carries (for a config rollout, the release it was started beside).
    pub release_id: i64,
    /// queued, pending, running, awaiting-approval, paused, succeeded, halted, aborted or failed.
    pub state: RolloutState,
    /// Its waves: `[{ "name", "markets" }]`.
    pub plan: serde_json::Value,
    /// Index of the wave in progress (or the last one reached).
    pub current_wave: i64,
    /// Why it stopped, if it did.
    pub reason: Option<String>,
    /// Who started it.
    pub created_by: String,
    /// When it was asked for.
    pub created_at: i64,
    /// When it started.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// Whether it was asked to wait for other rollouts' locks rather than be refused.
    pub queued: bool,
    /// `release` (a release moves through the waves) or `config` (a config version does,
    /// each market redeploying the release it runs with the new config).
    pub kind: String,
    /// For a config rollout: the config version it carries.
    pub config_version: Option<i64>,
    /// For a config rollout: the change request it carries.
    pub change_id: Option<i64>,
}

/// One release (or config version) landing in one market.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deployment {
    /// The deployment's id.
    pub id: i64,
    /// The rollout it belongs to (none for a rollback by hand).
    pub rollout_id: Option<i64>,
    /// Its service.
    pub service: String,
    /// Its market.
    pub market: String,
    /// The release deployed.
    pub release_id: i64,
    /// The release the market ran before.
    pub previous_release_id: Option<i64>,
    /// release, config (the market's release again, with a new config version) or rollback.
    pub kind: DeploymentKind,
    /// deploying, live, failed or superseded.
    pub state: DeploymentState,
    /// Where it answers.
    pub url: Option<String>,
    /// Its process id, for the process driver.
    pub pid: Option<i64>,
    /// Why it failed, if so.
    pub reason: Option<String>,
    /// When it started.
    pub started_at: i64,
    /// When it went live or failed.
    pub finished_at: Option<i64>,
    /// The config version the market was started with.
    pub config_version: Option<i64>,
}

/// A gate's verdict on a deployment, with its figures.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateResult {
    /// The verdict's id.
    pub id: i64,
    /// The deployment judged.
    pub deployment_id: i64,
    /// probe, bake, freeze, or `metric:<check name>`.
    pub gate: String,
    /// Whether it passed.
    pub passed: bool,
    /// The value measured.
    pub value: Option<f64>,
    /// The bound it was held to.
    pub bound: Option<f64>,
    /// The value before the deployment, for relative checks.
    pub previous: Option<f64>,
    /// Why it passed or failed, in words.
    pub reason: String,
    /// When it was recorded.
    pub recorded_at: i64,
}

/// What a person decided about a rollout.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// The decision's id.
    pub id: i64,
    /// The rollout it is about.
    pub rollout_id: i64,
    /// skip, approve, promote or override.
    pub kind: String,
    /// The wave it is about (approve, promote), or -1.
    pub wave: i64,
    /// The market it is about (skip), or empty.
    pub market: String,
    /// Who decided.
    pub decided_by: String,
    /// Why, when a reason is asked (override).
    pub reason: Option<String>,
    /// When.
    pub decided_at: i64,
}

/// One market of a wave of a rollout.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaveMarket {
    /// The market.
    pub market: String,
    /// waiting, deploying, live, failed, blocked, superseded, skipped, unchanged (a config
    /// rollout moved the market to its version without a redeploy), or not reached (the
    /// rollout stopped first).
    pub state: String,
    /// The rollout's deployment there, once it started.
    pub deployment: Option<Deployment>,
    /// Every gate of this market's deployments in the rollout, with figures and reasons.
    pub gates: Vec<GateResult>,
}

/// One wave of a rollout.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WaveDetail {
    /// Its place in the plan (0 is the pilot).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// waiting, running, done, failed, or not reached.
    pub state: String,
    /// Its markets, in plan order: every one when it has at most 500 (`markets_total`);
    /// else the first 500, and the rest from `GET /api/v1/rollouts/{id}/markets?wave=`.
    pub markets: Vec<WaveMarket>,
    /// How many markets it has, listed in `markets` or not.
    #[serde(default)]
    pub markets_total: usize,
    /// How many of its markets are in each state (`{"live": 150, "failed": 1}`), listed in
    /// `markets` or not; states with none are left out.
    #[serde(default)]
    pub markets_by_state: std::collections::BTreeMap<String, usize>,
}

/// One market of a rollout, with its wave (`GET /api/v1/rollouts/{id}/markets`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RolloutMarket {
    /// The wave's name.
    pub wave: String,
    /// The market, its state, the rollout's deployment there and its gates.
    #[serde(flatten)]
    pub market: WaveMarket,
}

/// A rollout as waves × markets.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RolloutDetail {
    /// The rollout.
    #[serde(flatten)]
    pub rollout: Rollout,
    /// The release it carries.
    pub release: Release,
    /// Its waves, in order.
    pub waves: Vec<WaveDetail>,
    /// What people decided: skips, approvals, promotions, freeze overrides.
    pub decisions: Vec<Decision>,
    /// While `awaiting-approval`: the role an approval needs.
    pub approval_role: Option<String>,
}

/// Which wave an approval (or a promotion) is for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveDecisionRequest {
    /// The name of the wave approved (the one the rollout waits to start); refused (409) when
    /// the rollout waits for another. Without it, the wave it waits for now.
    pub wave: Option<String>,
    /// Why (at most 1,000 characters): recorded with the decision and in the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a person acts (aborts a rollout, skips a market, resolves an incident): recorded with
/// the decision, shown on the object's page and in the audit log. The body may be empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// At most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a freeze may be broken.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// Why the freeze may be broken; recorded with the admin's name.
    pub reason: String,
}

/// Which markets of a service to roll back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// Markets to roll back.
    #[serde(default)]
    pub markets: Vec<String>,
    /// Every market of the service instead.
    #[serde(default)]
    pub all: bool,
}

/// A market moved back (or not): the answer of a rollback, one per market. `V` is what moved:
/// a release version ([`ReleaseMove`]) or a config version ([`ConfigMove`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketMove<V> {
    /// The market.
    pub market: String,
    /// What it ran before, if anything.
    pub from: Option<V>,
    /// What it went back to, if anything.
    pub to: Option<V>,
    /// rolled back, failed or skipped.
    pub state: String,
    /// Why, in words.
    pub reason: String,
}

/// A market sent back to an earlier release (`from` and `to` are release versions).
pub type ReleaseMove = MarketMove<String>;
/// A market sent back to an earlier config version (`from` and `to` are version numbers).
pub type ConfigMove = MarketMove<i64>;

/// One market in a release plan.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanMarket {
    /// The market.
    pub market: String,
    /// The release running there now.
    pub current: Option<String>,
    /// deploy, or already there.
    pub action: String,
    /// What would stop it, in words.
    pub blockers: Vec<String>,
}

/// One wave of a release plan.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanWave {
    /// The wave's name.
    pub name: String,
    /// The approval this wave waits for before it starts, from the platform file.
    pub approval: Option<String>,
    /// Its markets.
    pub markets: Vec<PlanMarket>,
}

/// What rolling a release out would do, wave by wave: its gates and, per market, what runs
/// there now and what would block it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleasePlan {
    /// The release's service.
    pub service: String,
    /// The release's version.
    pub version: String,
    /// Its commit.
    pub commit_sha: String,
    /// The release's gates, from its tandem.yml.
    pub gates: serde_json::Value,
    /// The waves, in order.
    pub waves: Vec<PlanWave>,
}
