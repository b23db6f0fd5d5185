//! Config layers and versions: each market's config version and resolved values, the schema
//! checks of proposed layers, config rollouts (each market redeployed with a version, behind the
//! same gates as a release) and rollback to the version a market ran before. Watchers hear each
//! market's new version at once. The change-request workflow that proposes new versions is in
//! [`crate::changes`].

use crate::Engine;
use crate::Result;
use crate::rollback::MarketMove;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tandem_core::config::{ChangeCheck, ConfigSchema, check_change, resolve};
use tandem_core::platform::{ConfigLayers, LaunchState, Platform};
use tandem_core::rollout::plan_waves;
use tandem_core::state::{MoveState, RolloutState};
use tandem_store::{ConfigPayload, RolloutRow, StoreError};

/// A market moved to a new config version: what config watchers hear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigMove {
    pub service: String,
    pub market: String,
    pub version: i64,
}

impl Engine {
    /// Wakes with every market that moves to a new config version.
    pub fn config_moves(&self) -> tokio::sync::broadcast::Receiver<ConfigMove> {
        self.config_moves.subscribe()
    }

    pub(crate) fn announce_config(&self, service: &str, market: &str, version: i64) {
        let moved = ConfigMove {
            service: service.to_string(),
            market: market.to_string(),
            version,
        };
        // No receiver is fine: nobody watches here. The other servers' watchers hear it too.
        let _ = self.config_moves.send(moved.clone());
        self.signal(crate::conductor::Signal::Config(moved));
        self.notify();
    }

    /// The config layers of `version` (the market's own when `None`), and that version. A
    /// service Tandem keeps no config for yet reads the platform file's layers.
    pub async fn config_layers(
        &self,
        platform: &Platform,
        service: &str,
        market: &str,
        version: Option<i64>,
    ) -> Result<(Option<i64>, ConfigLayers)> {
        let row = match version {
            Some(v) => self.store.get_config_version(service, v).await.map(Some)?,
            None => match self.store.market_config(service, market).await {
                Ok(row) => Some(row),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            },
        };
        match row {
            Some(row) => Ok((Some(row.version), row.layers()?)),
            None => Ok((
                None,
                platform.service(service).map(|s| s.config.clone()).unwrap_or_default(),
            )),
        }
    }

    /// Each market's resolved config of `service`, at the version the market runs.
    pub async fn market_configs(&self, service: &str) -> Result<BTreeMap<String, (i64, serde_json::Value)>> {
        Ok(self
            .configs_in_force(service)
            .await?
            .into_iter()
            .map(|(version, r)| (r.market.clone(), (version, r.values)))
            .collect())
    }

    /// Each market's config of `service` as in force now (the version the market runs, or the
    /// newest for a market that runs none), resolved with its layers' origins, in the platform's
    /// market order.
    pub async fn configs_in_force(&self, service: &str) -> Result<Vec<(i64, tandem_core::config::Resolution)>> {
        let platform = self.store.load_platform().await?;
        let latest = self.store.latest_config(service).await?;
        let pinned = self.store.market_config_versions(service).await?;
        let mut layers_of: HashMap<i64, ConfigLayers> = HashMap::new();
        let mut out = Vec::new();
        for m in &platform.markets {
            let version = pinned.get(&m.id).copied().unwrap_or(latest.version);
            if let Entry::Vacant(slot) = layers_of.entry(version) {
                let row = self.store.get_config_version(service, version).await?;
                slot.insert(row.layers()?);
            }
            out.push((version, resolve(&layers_of[&version], m)));
        }
        Ok(out)
    }

    /// The compiled config schema of the release live in each market of `service` (markets
    /// running a release without one, or nothing, are absent).
    async fn live_schemas(&self, service: &str) -> Result<HashMap<String, Arc<ConfigSchema>>> {
        let mut by_release: HashMap<i64, Option<Arc<ConfigSchema>>> = HashMap::new();
        let mut out = HashMap::new();
        for d in self.store.list_live_deployments().await? {
            if d.service != service {
                continue;
            }
            if let Entry::Vacant(slot) = by_release.entry(d.release_id) {
                let release = self.store.get_release(d.release_id).await?;
                let schema = match &release.config_schema {
                    Some(text) => Some(Arc::new(
                        ConfigSchema::parse(&format!("{}'s config schema", release.version), text)
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                    )),
                    None => None,
                };
                slot.insert(schema);
            }
            if let Some(schema) = by_release[&d.release_id].clone() {
                out.insert(d.market, schema);
            }
        }
        Ok(out)
    }

    /// Checks proposed layers against the newest version: blast radius, validation in every
    /// changed market, unknown regions and markets. Also says whether a live market changes.
    pub async fn check_config(
        &self,
        service: &str,
        base: &ConfigLayers,
        proposed: &ConfigLayers,
    ) -> Result<(ChangeCheck, bool)> {
        let platform = self.store.load_platform().await?;
        let schemas = self.live_schemas(service).await?;
        let check = check_change(base, proposed, &platform.markets, |m| {
            schemas.get(m).map(|s| s.as_ref())
        });
        let production = check
            .radius
            .markets()
            .any(|id| platform.market(id).is_some_and(|m| m.state == LaunchState::Live));
        Ok((check, production))
    }

    /// Starts a config rollout of `version` through the waves (queued behind any rollout that
    /// holds the markets). When nothing of the service runs anywhere, the markets move to the
    /// version at once and no rollout is made.
    pub async fn roll_out_config(
        self: &Arc<Self>,
        service: &str,
        version: i64,
        change_id: Option<i64>,
        by: &str,
    ) -> Result<Option<RolloutRow>> {
        let platform = self.store.load_platform().await?;
        let live = self.store.list_live_deployments().await?;
        let Some(any) = live.iter().find(|d| d.service == service) else {
            for m in &platform.markets {
                self.store
                    .set_market_config(service, &m.id, version, by, "nothing runs here yet")
                    .await?;
                self.announce_config(service, &m.id, version);
            }
            return Ok(None);
        };
        let plan = plan_waves(&platform);
        let payload = ConfigPayload { version, change_id };
        let row = self
            .store
            .insert_rollout_of(service, any.release_id, &plan, by, true, Some(payload))
            .await?;
        if row.state != RolloutState::Queued {
            self.spawn_rollout(row.id);
        }
        self.notify();
        Ok(Some(row))
    }

    /// Sends markets of `service` (all when `markets` is empty) back to the config version each
    /// ran before its current one, at once, through config deployments behind the gates.
    pub async fn rollback_config(
        self: &Arc<Self>,
        service: &str,
        markets: &[String],
        by: &str,
    ) -> Result<Vec<MarketMove<i64>>> {
        if !self.is_conductor() {
            return self
                .hand_off(crate::handoff::Handoff::ConfigRollback {
                    service: service.to_string(),
                    markets: markets.to_vec(),
                    by: by.to_string(),
                })
                .await;
        }
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")));
        }
        let markets: Vec<String> = if markets.is_empty() {
            platform.markets.iter().map(|m| m.id.clone()).collect()
        } else {
            if let Some(unknown) = markets.iter().find(|m| platform.market(m).is_none()) {
                return Err(crate::Error::missing(format!("market `{unknown}`")));
            }
            markets.to_vec()
        };
        let mut set = tokio::task::JoinSet::new();
        for market in markets {
            let (engine, service, by) = (self.clone(), service.to_string(), by.to_string());
            set.spawn(tandem_store::inherit(async move {
                engine.rollback_market_config(&service, &market, &by).await
            }));
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.map_err(|e| anyhow::anyhow!("a config rollback failed: {e}"))??);
        }
        out.sort_by(|a, b| a.market.cmp(&b.market));
        self.notify();
        Ok(out)
    }

    async fn rollback_market_config(
        self: &Arc<Self>,
        service: &str,
        market: &str,
        by: &str,
    ) -> Result<MarketMove<i64>> {
        let history = self.store.market_config_history(service, market).await?;
        let current = history.first().map(|h| h.version);
        let previous = current.and_then(|c| history.iter().map(|h| h.version).find(|v| *v != c));
        let (Some(from), Some(to)) = (current, previous) else {
            return Ok(MarketMove {
                to: previous,
                ..MarketMove::skipped(market, current, "no earlier config version ran here")
            });
        };
        let mut outcome = MarketMove {
            to: Some(to),
            ..MarketMove::skipped(market, Some(from), "")
        };
        let holder = format!("a config rollback of {market} by {by}");
        if let Err(e) = self.store.lock_market(service, market, &holder).await {
            outcome.state = MoveState::Failed;
            outcome.reason = e.to_string();
            return Ok(outcome);
        }
        let result = match self.snapshot().await {
            Ok(snapshot) => {
                self.move_market_config(None, service, market, to, by, "rollback", &snapshot)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = self.store.unlock_market(service, market, &holder).await {
            tracing::error!(service, market, error = %e, "cannot release a config rollback's lock");
        }
        let moved = result?;
        outcome.state = if moved.healthy {
            MoveState::RolledBack
        } else {
            MoveState::Failed
        };
        outcome.reason = moved.reason;
        if moved.healthy {
            self.announce(crate::notifications::Announcement {
                event: tandem_core::policy::Event::Rollback,
                text: format!("{service} in {market}: config rolled back from v{from} to v{to} by {by}"),
                data: serde_json::json!({ "service": service, "market": market, "from": from, "to": to, "kind": "config" }),
            })
            .await;
        }
        Ok(outcome)
    }

    /// Moves one market to config `version`: directly when nothing runs there or its resolved
    /// config does not change; otherwise by redeploying the release it runs with that version,
    /// behind the gates (the market keeps its config if they fail). `snapshot`: the platform
    /// as read once for every market of the move.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn move_market_config(
        self: &Arc<Self>,
        rollout_id: Option<i64>,
        service: &str,
        market: &str,
        version: i64,
        by: &str,
        why: &str,
        snapshot: &crate::snapshot::Snapshot,
    ) -> Result<crate::deploy::MarketOutcome> {
        let m = snapshot.market(market).ok_or_else(|| {
            crate::Error::not_found("market", market, format!("market `{market}` is not in the platform"))
        })?;
        let live = self.store.get_live_deployment(service, market).await?;
        let Some(live) = live else {
            self.store
                .set_market_config(service, market, version, by, &format!("{why}: nothing runs here yet"))
                .await?;
            self.announce_config(service, market, version);
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("nothing runs here: config v{version} takes effect at its next deployment"),
            ));
        };
        let (current, current_layers) = self.layers_in(snapshot, service, market, None).await?;
        let (_, target_layers) = self.layers_in(snapshot, service, market, Some(version)).await?;
        if current == Some(version) {
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("already on config v{version}"),
            ));
        }
        let before = resolve(&current_layers, m).values;
        let after = resolve(&target_layers, m).values;
        if before == after {
            self.store
                .set_market_config(
                    service,
                    market,
                    version,
                    by,
                    &format!("{why}: its config does not change"),
                )
                .await?;
            self.announce_config(service, market, version);
            return Ok(crate::deploy::MarketOutcome::skipped(
                market,
                format!("config v{version} leaves {market}'s config as it is"),
            ));
        }
        let release = self.store.get_release(live.release_id).await?;
        let spec = release.service_spec()?;
        let artifacts = self.prepare_release(&release).await?;
        let outcome = self
            .deploy_market_with(
                rollout_id,
                tandem_core::state::DeploymentKind::Config,
                &release,
                &spec,
                &artifacts,
                market,
                Some(version),
                snapshot,
            )
            .await;
        Ok(outcome)
    }
}
