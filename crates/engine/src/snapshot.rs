//! What a rollout reads once per wave and hands to each market's deployment: the platform, with
//! its markets indexed by id, and — read on first use, then shared by every market of the wave —
//! each config version's layers and each release's compiled config schema. What is a market's
//! own (its config version, its live deployment, the decisions about it) is read per market by
//! key. So one market's deployment costs the same whether the platform has 25 markets or 5,000.
//!
//! A snapshot is a view of one moment: the platform only changes when a server starts with a
//! new platform file, and a wave started before that finishes on the platform it started with.

use crate::Engine;
use crate::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tandem_core::config::ConfigSchema;
use tandem_core::platform::{ConfigLayers, Market, Platform};
use tandem_store::ReleaseRow;

/// The platform as read once, with what its markets' deployments share.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub platform: Platform,
    /// Market id → its place in `platform.markets`.
    index: HashMap<String, usize>,
    /// Config layers by version, of the one service whose markets use this snapshot at a time.
    layers: Mutex<HashMap<(String, i64), Arc<ConfigLayers>>>,
    /// Compiled config schemas by release id (`Err`: why the schema cannot be used).
    schemas: Mutex<HashMap<i64, Arc<std::result::Result<ConfigSchema, String>>>>,
}

impl Snapshot {
    pub(crate) fn new(platform: Platform) -> Self {
        let index = platform
            .markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
        Self {
            platform,
            index,
            layers: Mutex::default(),
            schemas: Mutex::default(),
        }
    }

    /// Market `id`, found in constant time.
    pub(crate) fn market(&self, id: &str) -> Option<&Market> {
        self.index.get(id).map(|&i| &self.platform.markets[i])
    }

    /// `release`'s config schema, compiled once for every market of the snapshot; `None` when
    /// the release declares none.
    pub(crate) fn schema(&self, release: &ReleaseRow) -> Option<Arc<std::result::Result<ConfigSchema, String>>> {
        let text = release.config_schema.as_ref()?;
        let mut schemas = self.schemas.lock().unwrap_or_else(|e| e.into_inner());
        let compiled = schemas
            .entry(release.id)
            .or_insert_with(|| Arc::new(ConfigSchema::parse("config schema", text).map_err(|e| e.to_string())));
        Some(compiled.clone())
    }
}

impl Engine {
    /// Reads the platform once for a piece of work that touches many markets.
    pub(crate) async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        Ok(Arc::new(Snapshot::new(self.store.load_platform().await?)))
    }

    /// The config layers `market` of `service` starts with at `version` (`None`: the version the
    /// market runs), and that version; a service Tandem keeps no config for yet reads the
    /// platform file's layers. A version's layers are read once per snapshot.
    pub(crate) async fn layers_in(
        &self,
        snapshot: &Snapshot,
        service: &str,
        market: &str,
        version: Option<i64>,
    ) -> Result<(Option<i64>, Arc<ConfigLayers>)> {
        let version = match version {
            Some(v) => Some(v),
            None => self.store.market_config_version(service, market).await?,
        };
        let Some(version) = version else {
            let layers = snapshot
                .platform
                .service(service)
                .map(|s| s.config.clone())
                .unwrap_or_default();
            return Ok((None, Arc::new(layers)));
        };
        let key = (service.to_string(), version);
        if let Some(layers) = snapshot.layers.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok((Some(version), layers.clone()));
        }
        let layers = Arc::new(self.store.get_config_version(service, version).await?.layers()?);
        snapshot
            .layers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, layers.clone());
        Ok((Some(version), layers))
    }
}
