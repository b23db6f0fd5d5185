//! One market's history, as its page shows it under what runs there now: its deployments, its
//! incidents, the config versions it moved to (with the change request behind each) and the
//! flags in force there. Each list is bounded, newest first.

use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_core::flags::CompiledFlag;
use tandem_store::{ConfigVersionRow, DeploymentRow, IncidentRow, MarketConfigRow};

/// How many of a market's deployments, incidents and config moves its page lists.
pub const HISTORY_ROWS: usize = 30;
/// How many recent incidents (of every market) are scanned for this market's.
const INCIDENTS_SCANNED: i64 = 1000;

/// A market's move to a config version, with that version (its message and change request).
#[derive(Debug, Clone)]
pub struct ConfigMove {
    pub moved: MarketConfigRow,
    pub version: Option<ConfigVersionRow>,
}

/// A flag in force in a market: what it serves there.
#[derive(Debug, Clone)]
pub struct FlagHere {
    pub service: String,
    pub flag: CompiledFlag,
}

/// Market `id`'s history.
#[derive(Debug, Clone, Default)]
pub struct MarketHistory {
    /// Its deployments of every service, newest first.
    pub deployments: Vec<DeploymentRow>,
    /// The version of each release those deployments name, by release id.
    pub versions: HashMap<i64, String>,
    /// Its incidents, newest first.
    pub incidents: Vec<IncidentRow>,
    /// Its config moves of every service, newest first.
    pub configs: Vec<ConfigMove>,
    /// Every flag in force, with what it serves here.
    pub flags: Vec<FlagHere>,
}

impl Engine {
    /// Market `id`'s deployments, incidents, config moves and flags (an unknown market has
    /// none of them).
    pub async fn market_history(&self, id: &str) -> Result<MarketHistory> {
        let services = self.store.list_services().await?;
        let mut deployments = Vec::new();
        let mut configs = Vec::new();
        for s in &services {
            let mut mine = self.store.list_deployments_of_market(&s.name, id).await?;
            mine.reverse();
            mine.truncate(HISTORY_ROWS);
            deployments.extend(mine);
            let mut moves = self.store.market_config_history(&s.name, id).await?;
            moves.truncate(HISTORY_ROWS);
            let mut versions: HashMap<i64, ConfigVersionRow> = HashMap::new();
            for m in moves {
                if !versions.contains_key(&m.version)
                    && let Ok(v) = self.store.get_config_version(&s.name, m.version).await
                {
                    versions.insert(m.version, v);
                }
                configs.push(ConfigMove {
                    version: versions.get(&m.version).cloned(),
                    moved: m,
                });
            }
        }
        deployments.sort_by_key(|d| std::cmp::Reverse((d.started_at, d.id)));
        deployments.truncate(HISTORY_ROWS);
        configs.sort_by_key(|c| std::cmp::Reverse((c.moved.set_at, c.moved.id)));
        configs.truncate(HISTORY_ROWS);
        let ids: Vec<i64> = deployments
            .iter()
            .flat_map(|d| [Some(d.release_id), d.previous_release_id])
            .flatten()
            .collect();
        let versions = self.store.list_release_versions(&ids).await?;
        let incidents = self
            .store
            .list_incidents_with_releases(None, INCIDENTS_SCANNED)
            .await?
            .into_iter()
            .map(|i| i.incident)
            .filter(|i| i.market == id)
            .take(HISTORY_ROWS)
            .collect();
        let flags = self
            .flags_in_force()
            .into_iter()
            .map(|f| FlagHere {
                service: f.service,
                flag: f.flag,
            })
            .collect();
        Ok(MarketHistory {
            deployments,
            versions,
            incidents,
            configs,
            flags,
        })
    }
}
