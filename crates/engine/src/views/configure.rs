//! The Config & flags page's facts: per service, each market's config at the version it runs
//! (resolved with that version's layers, so each value keeps the layer that set it: markets
//! mid-rollout run different versions), the newest version, how many change requests are
//! open, the flags in force with the version they come from, and its flags' recent emergency
//! changes (kills) with where their review stands.

use crate::{Engine, Error, Result};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use tandem_core::config::{Resolution, Unit, resolve, schema_units};
use tandem_core::flags::CompiledFlag;
use tandem_core::platform::{ConfigLayers, Platform, Service};
use tandem_core::state::ChangeState;
use tandem_store::{FlagEmergencyFilter, FlagEmergencyRow, FlagVersionRow};

/// How many of a service's change requests are read to count the open ones.
const OPEN_CHANGES_SCAN: i64 = 500;
/// How many of a service's newest releases are read for the config schema that gives the
/// values' units (the newest that carries one).
const SCHEMA_SCAN: i64 = 20;
/// How many of a service's emergency changes the page shows, newest first.
const EMERGENCIES_SHOWN: i64 = 20;

/// One market's config: the version it runs and its resolved values with their layers.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// `None` before Tandem keeps the service's config (the platform file's layers apply).
    pub version: Option<i64>,
    /// The resolved config, each leaf with the layer that set it.
    pub resolution: Resolution,
}

/// One service's config and flags.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's name.
    pub service: String,
    /// Its newest config version; `None` before Tandem keeps its config.
    pub latest: Option<i64>,
    /// Each market's config, in the platform file's order.
    pub markets: Vec<MarketConfig>,
    /// How many of its change requests are open.
    pub open_changes: usize,
    /// The flags its flag file puts in force.
    pub flags: Vec<CompiledFlag>,
    /// The version of its flag file in force, if it has one.
    pub flag_version: Option<FlagVersionRow>,
    /// Its flags' emergency changes, newest first (at most [`EMERGENCIES_SHOWN`]).
    pub emergencies: Vec<FlagEmergencyRow>,
    /// The unit of each value whose schema declares one (`x-unit`), by JSON pointer: from the
    /// config schema of the newest release that carries one.
    pub units: BTreeMap<String, Unit>,
}

impl Engine {
    /// Every service's config per market and its flags in force, in the platform's order.
    pub async fn configure_page(&self) -> Result<Vec<ServiceConfig>> {
        let platform = self.store.load_platform().await?;
        let flags = self.flags();
        let mut out = Vec::with_capacity(platform.services.len());
        for service in &platform.services {
            let latest = match self.store.latest_config(&service.name).await.map_err(Error::from) {
                Ok(row) => Some(row.version),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            let markets = self.market_config_rows(&platform, service, latest).await?;
            let open_changes = self
                .store
                .list_changes(Some(&service.name), OPEN_CHANGES_SCAN)
                .await?
                .iter()
                .filter(|c| c.state == ChangeState::Open)
                .count();
            let filter = FlagEmergencyFilter {
                service: Some(&service.name),
                ..Default::default()
            };
            let emergencies = self.store.list_flag_emergencies(filter, EMERGENCIES_SHOWN).await?;
            let units = self.config_units(&service.name).await?;
            out.push(ServiceConfig {
                emergencies,
                units,
                service: service.name.clone(),
                latest,
                markets,
                open_changes,
                flags: flags
                    .set
                    .flags()
                    .iter()
                    .filter(|f| flags.owners.get(f.key()).is_some_and(|o| o == &service.name))
                    .cloned()
                    .collect(),
                flag_version: flags.versions.get(&service.name).cloned(),
            });
        }
        Ok(out)
    }

    /// The units the newest config schema of `service` declares; none without a schema, or
    /// with one that is not JSON (the release check reports that).
    async fn config_units(&self, service: &str) -> Result<BTreeMap<String, Unit>> {
        let releases = self.store.list_releases_page(Some(service), None, SCHEMA_SCAN).await?;
        let schema = releases
            .iter()
            .find_map(|r| r.config_schema.as_deref())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
        Ok(schema.map(|s| schema_units(&s)).unwrap_or_default())
    }

    /// Each market's config at the version it runs, resolved with that version's layers.
    async fn market_config_rows(
        &self,
        platform: &Platform,
        service: &Service,
        latest: Option<i64>,
    ) -> Result<Vec<MarketConfig>> {
        if latest.is_none() {
            return Ok(platform
                .markets
                .iter()
                .map(|m| MarketConfig {
                    version: None,
                    resolution: resolve(&service.config, m),
                })
                .collect());
        }
        let running = self.market_configs(&service.name).await?;
        let mut layers_of: HashMap<i64, ConfigLayers> = HashMap::new();
        let mut rows = Vec::with_capacity(platform.markets.len());
        for m in &platform.markets {
            let Some(&(version, _)) = running.get(&m.id) else {
                continue;
            };
            let layers = match layers_of.entry(version) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => {
                    slot.insert(self.store.get_config_version(&service.name, version).await?.layers()?)
                }
            };
            rows.push(MarketConfig {
                version: Some(version),
                resolution: resolve(layers, m),
            });
        }
        Ok(rows)
    }
}
