//! The overview, the one page dev and ops both keep open: the markets grouped by wave, what is
//! in flight (rollouts and runs), the last rollout, open incidents and the latest runs.
//!
//! Each wave is counted in SQL (health, deployments, incidents); only the markets shown as tiles
//! are put together: every market of a small wave, the troubled few of a big one. The page's
//! reads do not grow with the number of markets beyond those counts.

use super::markets::MarketStatus;
use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_store::{IncidentRow, MarketFilter, RolloutRow, RunRow, WaveCounts};

/// How many runs the overview lists.
const LATEST_RUNS: i64 = 5;
/// How many rollouts are read to find those in flight (only a few run at once).
const RECENT_ROLLOUTS: i64 = 50;
/// A wave of at most this many markets shows a tile per market; a bigger one shows its counts
/// and its troubled markets: the page stays small at thousands of markets.
pub const WAVE_TILES: usize = 24;
/// How many of a big wave's troubled markets show as tiles, worst first.
pub const TROUBLED_TILES: usize = 12;

/// The markets of one wave, as the overview groups them.
#[derive(Debug, Clone)]
pub struct WaveGroup {
    /// The wave's name (`no wave` for the markets no wave names).
    pub name: String,
    /// Its markets counted.
    pub counts: WaveCounts,
    /// Its markets in wave order when it has at most [`WAVE_TILES`]; else its troubled markets,
    /// worst first, at most [`TROUBLED_TILES`].
    pub markets: Vec<MarketStatus>,
}

impl WaveGroup {
    /// Whether the wave is summed up (counts and its troubled markets) rather than shown whole.
    pub fn summed_up(&self) -> bool {
        self.counts.markets as usize > WAVE_TILES
    }
}

/// The overview page.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The markets, grouped by wave in wave order; a market no wave names is in a last group,
    /// `no wave`, as the rollout plan does. Each market is counted in one group.
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
    /// The markets shown as tiles, group after group.
    pub fn markets(&self) -> impl Iterator<Item = &MarketStatus> {
        self.groups.iter().flat_map(|g| &g.markets)
    }

    /// The sum of one count over every wave (`|c| c.markets` for every market).
    pub fn sum(&self, count: impl Fn(&WaveCounts) -> i64) -> usize {
        self.groups.iter().map(|g| count(&g.counts) as usize).sum()
    }

    /// The latest runs still queued or running.
    pub fn runs_in_flight(&self) -> impl Iterator<Item = &RunRow> {
        self.runs.iter().filter(|r| r.state.is_in_progress())
    }

    /// Whether anything moves now (a rollout, a run, a deployment): the page refreshes faster.
    pub fn live(&self) -> bool {
        !self.rollouts_in_flight.is_empty() || self.runs_in_flight().next().is_some() || self.sum(|c| c.deploying) > 0
    }

    /// The release version of release `id`, `?` when unknown.
    pub fn version(&self, id: i64) -> &str {
        self.versions.get(&id).map_or("?", String::as_str)
    }
}

impl Engine {
    /// The overview page, in a fixed number of reads.
    pub async fn overview(&self) -> Result<Overview> {
        let sick = self.sick_markets().await?;
        let counts = self.store.list_wave_counts(&sick).await?;
        let rollouts = self.store.list_rollouts(RECENT_ROLLOUTS).await?;
        let versions = self
            .store
            .list_release_versions(&rollouts.iter().map(|r| r.release_id).collect::<Vec<_>>())
            .await?;
        let runs = self.store.list_runs(None, LATEST_RUNS).await?;
        let incidents = self.store.list_open_incidents().await?;

        let mut groups = Vec::with_capacity(counts.len());
        for counts in counts {
            let big = counts.markets as usize > WAVE_TILES;
            let filter = MarketFilter {
                no_wave: counts.wave.is_none(),
                wave: counts.wave.clone(),
                worst_first: big,
                ..MarketFilter::default()
            };
            let shown = if big && counts.troubled == 0 {
                Vec::new()
            } else {
                let limit = if big { TROUBLED_TILES } else { WAVE_TILES };
                let (listed, _) = self.store.list_markets_page(&filter, &sick, 0, limit).await?;
                // A big wave shows its troubled markets only (worst first, so they come first).
                listed
                    .into_iter()
                    .filter(|l| !big || l.trouble < 4)
                    .map(|l| l.market)
                    .collect()
            };
            groups.push(WaveGroup {
                name: counts.wave.clone().unwrap_or_else(|| "no wave".to_string()),
                markets: self.statuses(shown).await?,
                counts,
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
