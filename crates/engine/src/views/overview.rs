//! The overview, the one page dev and ops both keep open: the market matrix grouped by wave,
//! what is in flight (rollouts and runs), the last rollout, open incidents and the latest runs.

use super::markets::MarketStatus;
use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_store::{IncidentRow, RolloutRow, RunRow};

/// How many runs the overview lists.
const LATEST_RUNS: i64 = 5;
/// How many rollouts are read to find those in flight (only a few run at once).
const RECENT_ROLLOUTS: i64 = 50;

/// The markets of one wave, as the overview groups them.
#[derive(Debug, Clone)]
pub struct WaveGroup {
    /// The wave's name (`no wave` for the markets no wave names).
    pub name: String,
    /// Its markets, in the platform file's order.
    pub markets: Vec<MarketStatus>,
}

/// The overview page.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Every market, grouped by wave in wave order; a market no wave names is in a last group,
    /// `no wave`, as the rollout plan does. Each market is in one group.
    pub groups: Vec<WaveGroup>,
    /// Rollouts in progress, newest first.
    pub rollouts_in_flight: Vec<RolloutRow>,
    /// The newest rollout that ended, if any.
    pub last_rollout: Option<RolloutRow>,
    /// The release version of each rollout shown, by release id.
    pub versions: HashMap<i64, String>,
    /// The latest runs, newest first.
    pub runs: Vec<RunRow>,
    /// Open incidents.
    pub incidents: Vec<IncidentRow>,
}

impl Overview {
    /// Every market, group after group.
    pub fn markets(&self) -> impl Iterator<Item = &MarketStatus> {
        self.groups.iter().flat_map(|g| &g.markets)
    }

    /// The latest runs still queued or running.
    pub fn runs_in_flight(&self) -> impl Iterator<Item = &RunRow> {
        self.runs.iter().filter(|r| r.state.is_in_progress())
    }

    /// Whether anything moves now (a rollout, a run, a deployment): the page refreshes faster.
    pub fn live(&self) -> bool {
        !self.rollouts_in_flight.is_empty()
            || self.runs_in_flight().next().is_some()
            || self.markets().any(MarketStatus::in_flight)
    }

    /// The release version of release `id`, `?` when unknown.
    pub fn version(&self, id: i64) -> &str {
        self.versions.get(&id).map_or("?", String::as_str)
    }
}

impl Engine {
    /// The overview page, in a fixed number of reads.
    pub async fn overview(&self) -> Result<Overview> {
        let matrix = self.market_matrix().await?;
        let waves = self.store.list_waves().await?;
        let rollouts = self.store.list_rollouts(RECENT_ROLLOUTS).await?;
        let versions = self
            .store
            .list_release_versions(&rollouts.iter().map(|r| r.release_id).collect::<Vec<_>>())
            .await?;
        let runs = self.store.list_runs(None, LATEST_RUNS).await?;
        let incidents = self.store.list_open_incidents().await?;

        let mut groups: Vec<WaveGroup> = waves
            .iter()
            .map(|w| WaveGroup {
                name: w.name.clone(),
                markets: matrix
                    .iter()
                    .filter(|m| m.wave.as_deref() == Some(w.name.as_str()))
                    .cloned()
                    .collect(),
            })
            .collect();
        let loose: Vec<MarketStatus> = matrix.into_iter().filter(|m| m.wave.is_none()).collect();
        if !loose.is_empty() {
            groups.push(WaveGroup {
                name: "no wave".to_string(),
                markets: loose,
            });
        }
        let last_rollout = rollouts.iter().find(|r| !r.in_progress()).cloned();
        let rollouts_in_flight = rollouts.into_iter().filter(|r| r.in_progress()).collect();
        Ok(Overview {
            groups,
            rollouts_in_flight,
            last_rollout,
            versions,
            runs,
            incidents,
        })
    }
}
