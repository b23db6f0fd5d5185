//! A rollout as its page and `GET /api/v1/rollouts/{id}` show it: waves × markets, each market
//! with the rollout's deployment there and its gates, each wave with where it stands, and what
//! people decided.

use crate::{Engine, Result};
use std::collections::{HashMap, HashSet};
use tandem_core::state::{DeploymentKind, DeploymentState, RolloutState};
use tandem_store::{DecisionRow, DeploymentRow, GateResultRow, ReleaseRow, RolloutRow};

/// One market of a wave in a rollout.
#[derive(Debug, Clone)]
pub struct WaveMarket {
    /// The market's id.
    pub market: String,
    /// waiting, deploying, live, failed, blocked (refused before anything started), superseded,
    /// skipped, unchanged (a config rollout moved the market's config without redeploying: its
    /// values stay the same, or nothing runs there yet), or not reached (the rollout stopped
    /// first).
    pub state: String,
    /// The rollout's latest deployment into this market, if it got that far.
    pub deployment: Option<DeploymentRow>,
    /// Every gate of this market's deployments in the rollout, with figures and reasons.
    pub gates: Vec<GateResultRow>,
}

/// One wave of a rollout, with its markets.
#[derive(Debug, Clone)]
pub struct WaveDetail {
    /// Its place in the plan (0 is the pilot).
    pub index: usize,
    /// Its name in the platform file.
    pub name: String,
    /// waiting, running, blocked, done, failed, or not reached.
    pub state: String,
    /// Its markets, in the platform file's order.
    pub markets: Vec<WaveMarket>,
}

/// A rollout as waves × markets, with the release it carries and what people decided.
#[derive(Debug, Clone)]
pub struct RolloutDetail {
    /// The rollout.
    pub rollout: RolloutRow,
    /// The release the rollout row names.
    pub release: ReleaseRow,
    /// Its waves in order.
    pub waves: Vec<WaveDetail>,
    /// What people decided: skips, approvals, promotions, freeze overrides.
    pub decisions: Vec<DecisionRow>,
    /// While `awaiting-approval`: the role an approval needs.
    pub approval_role: Option<String>,
}

impl Engine {
    /// Rollout `id` as waves × markets; not found when there is no such rollout.
    pub async fn rollout_detail(&self, id: i64) -> Result<RolloutDetail> {
        let rollout = self.store.get_rollout(id).await?;
        let release = self.store.get_release(rollout.release_id).await?;
        let deployments = self.store.list_deployments(Some(id)).await?;
        let gates = self.store.list_rollout_gates(id).await?;
        let decisions = self.store.list_decisions(id).await?;
        // A config rollout redeploys a market (a `config` deployment) only where its values
        // change; elsewhere it just moves the market to its config version.
        let (kind, moved) = match (rollout.kind.as_str(), rollout.config_version) {
            ("config", Some(version)) => {
                let versions = self.store.market_config_versions(&rollout.service).await?;
                let moved: HashSet<String> = versions
                    .into_iter()
                    .filter(|(_, v)| *v >= version)
                    .map(|(m, _)| m)
                    .collect();
                (DeploymentKind::Config, moved)
            }
            _ => (DeploymentKind::Release, HashSet::new()),
        };
        // Once a rollout stopped, markets it never reached will not be deployed by it.
        let unreached = if matches!(
            rollout.state,
            RolloutState::Halted | RolloutState::Failed | RolloutState::Aborted
        ) {
            "not reached"
        } else {
            "waiting"
        };
        // Each market's rows, looked up once: a scan per market would cost markets² at
        // thousands of markets.
        let mut own: HashMap<&str, &DeploymentRow> = HashMap::new();
        for d in deployments.iter().filter(|d| d.kind == kind) {
            // The rollout's latest deployment there (a rollback after a failed gate follows it).
            own.insert(d.market.as_str(), d);
        }
        let mut gates_of: HashMap<String, Vec<GateResultRow>> = HashMap::new();
        for g in gates {
            gates_of.entry(g.market).or_default().push(g.result);
        }
        let skips: HashSet<&str> = decisions
            .iter()
            .filter(|x| x.kind == "skip")
            .map(|x| x.market.as_str())
            .collect();
        let mut waves = Vec::new();
        for (index, (name, markets)) in rollout.waves()?.into_iter().enumerate() {
            let markets: Vec<WaveMarket> = markets
                .into_iter()
                .map(|m| {
                    let d = own.get(m.as_str()).map(|d| (*d).clone());
                    let reached = index as i64 <= rollout.current_wave;
                    let skipped = skips.contains(m.as_str());
                    // A market refused by its config check, then skipped, is listed as skipped.
                    let state = match &d {
                        Some(d) if skipped && d.state == DeploymentState::Blocked => "skipped".to_string(),
                        Some(d) => d.state.to_string(),
                        None if skipped => "skipped".to_string(),
                        None if reached && moved.contains(&m) => "unchanged".to_string(),
                        None => unreached.to_string(),
                    };
                    WaveMarket {
                        gates: gates_of.remove(&m).unwrap_or_default(),
                        state,
                        market: m,
                        deployment: d,
                    }
                })
                .collect();
            let state = if markets.iter().any(|m| m.state == "failed") {
                "failed"
            } else if markets.iter().any(|m| m.state == "blocked") {
                "blocked"
            } else if markets
                .iter()
                .all(|m| matches!(m.state.as_str(), "live" | "superseded" | "skipped" | "unchanged"))
            {
                "done"
            } else if markets.iter().any(|m| m.state != unreached) {
                "running"
            } else {
                unreached
            };
            waves.push(WaveDetail {
                index,
                name,
                state: state.into(),
                markets,
            });
        }
        let approval_role = if rollout.state == RolloutState::AwaitingApproval {
            // Operators approve unless the platform file names another role.
            Some(
                self.approval_role(id)
                    .await?
                    .unwrap_or(tandem_core::role::Role::Operator)
                    .to_string(),
            )
        } else {
            None
        };
        Ok(RolloutDetail {
            rollout,
            release,
            waves,
            decisions,
            approval_role,
        })
    }
}
