//! Rollback by hand: a market (or every market) of a service goes back to the release it ran
//! before its current one, through the same deploy-probe-switch path as a rollout, and is
//! recorded as a deployment of kind `rollback`; an incident records it, linked to the
//! deployment rolled back. What each market did is a [`MarketMove`], the same for a release
//! rollback and a config rollback ([`Engine::rollback_config`]).

use crate::Engine;
use crate::Result;
use serde::Serialize;
use std::sync::Arc;
use tandem_core::state::MoveState;
use tandem_store::{DeploymentRow, NewIncident};

/// What a rollback did in one market. `V` is what moved: a release version (`String`, from
/// [`Engine::rollback`]) or a config version number (`i64`, from [`Engine::rollback_config`]).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct MarketMove<V> {
    /// The market.
    pub market: String,
    /// What it ran before, if anything.
    pub from: Option<V>,
    /// What it went back to, if anything.
    pub to: Option<V>,
    /// Rolled back, failed or skipped.
    pub state: MoveState,
    /// Why, in words.
    pub reason: String,
}

impl<V> MarketMove<V> {
    /// Nothing moved in `market`, for `reason`.
    pub(crate) fn skipped(market: &str, from: Option<V>, reason: impl Into<String>) -> Self {
        Self {
            market: market.to_string(),
            from,
            to: None,
            state: MoveState::Skipped,
            reason: reason.into(),
        }
    }

    /// The market could not move: `reason` says why (held by a rollout, say).
    pub(crate) fn failed(market: &str, reason: impl Into<String>) -> Self {
        Self {
            market: market.to_string(),
            from: None,
            to: None,
            state: MoveState::Failed,
            reason: reason.into(),
        }
    }
}

impl Engine {
    /// Sends each of `markets` of `service` back to its previous good release, in parallel.
    pub async fn rollback(self: &Arc<Self>, service: &str, markets: &[String]) -> Result<Vec<MarketMove<String>>> {
        if !self.is_conductor() {
            return self
                .hand_off(crate::handoff::Handoff::Rollback {
                    service: service.to_string(),
                    markets: markets.to_vec(),
                })
                .await;
        }
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")));
        }
        if let Some(unknown) = markets.iter().find(|m| platform.market(m).is_none()) {
            return Err(crate::Error::missing(format!("market `{unknown}`")));
        }
        let mut set = tokio::task::JoinSet::new();
        for market in markets {
            let (engine, service, market) = (self.clone(), service.to_string(), market.clone());
            // Still the person's work in each task: their name goes on the events and incident.
            set.spawn(tandem_store::inherit(async move {
                engine.rollback_market(&service, &market).await
            }));
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            out.push(joined.map_err(|e| anyhow::anyhow!("a rollback task failed: {e}"))??);
        }
        out.sort_by(|a, b| a.market.cmp(&b.market));
        self.notify();
        Ok(out)
    }

    /// One market, under its lock: a market a rollout is deploying is refused, naming it.
    async fn rollback_market(self: &Arc<Self>, service: &str, market: &str) -> Result<MarketMove<String>> {
        let holder = format!(
            "a rollback of {market} started at {}",
            jiff::Timestamp::now().strftime("%H:%M:%S")
        );
        if let Err(e) = self.store.lock_market(service, market, &holder).await {
            return Ok(MarketMove::failed(market, e.to_string()));
        }
        let result = self.rollback_locked(service, market).await;
        if let Err(e) = self.store.unlock_market(service, market, &holder).await {
            tracing::error!(service, market, error = %e, "cannot release a rollback's lock");
        }
        let outcome = result?;
        if outcome.state != MoveState::Skipped {
            let text = match (&outcome.from, &outcome.to) {
                (Some(from), Some(to)) => {
                    format!("{service} in {market}: rollback from {from} to {to} {}", outcome.state)
                }
                _ => format!("{service} in {market}: rollback {}", outcome.state),
            };
            self.announce(crate::notifications::Announcement {
                event: tandem_core::policy::Event::Rollback,
                text,
                data: serde_json::json!({
                    "service": service, "market": market, "from": outcome.from, "to": outcome.to,
                    "state": outcome.state, "reason": outcome.reason,
                }),
            })
            .await;
        }
        Ok(outcome)
    }

    async fn rollback_locked(self: &Arc<Self>, service: &str, market: &str) -> Result<MarketMove<String>> {
        let live = self
            .store
            .list_live_deployments()
            .await?
            .into_iter()
            .find(|d| d.service == service && d.market == market);
        let Some(live) = live else {
            return Ok(MarketMove::skipped(market, None, "nothing is deployed here"));
        };
        let current = self.store.get_release(live.release_id).await?;
        let Some(previous) = self.store.previous_good_release(service, market).await? else {
            return Ok(MarketMove::skipped(
                market,
                Some(current.version),
                "no earlier release ran here",
            ));
        };
        let release = self.store.get_release(previous).await?;
        let spec = release.service_spec()?;
        let artifacts = self.prepare_release(&release).await?;
        let started = tandem_store::now_ms();
        let outcome = self
            .deploy_market(
                None,
                tandem_core::state::DeploymentKind::Rollback,
                &release,
                &spec,
                &artifacts,
                market,
            )
            .await;
        let rolled_back = MarketMove {
            market: market.to_string(),
            from: Some(current.version),
            to: Some(release.version),
            state: if outcome.healthy {
                MoveState::RolledBack
            } else {
                MoveState::Failed
            },
            reason: outcome.reason,
        };
        self.rollback_incident(service, &live, &rolled_back, started).await;
        Ok(rolled_back)
    }

    /// A rollback says the release it removes broke something: unless an incident is already
    /// open about that deployment, one is opened (source `rollback`), linked to it and
    /// beginning when the rollback began; it is resolved at once when the rollback restored the
    /// market, and stays open when the rollback failed.
    async fn rollback_incident(
        self: &Arc<Self>,
        service: &str,
        removed: &DeploymentRow,
        outcome: &MarketMove<String>,
        started: i64,
    ) {
        let open = match self.store.list_open_incidents().await {
            Ok(open) => open.iter().any(|i| i.deployment_id == Some(removed.id)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read incidents for a rollback");
                return;
            }
        };
        if open {
            return;
        }
        let (from, to) = (
            outcome.from.as_deref().unwrap_or("?"),
            outcome.to.as_deref().unwrap_or("?"),
        );
        let title = format!("{service} {from} rolled back in {} (to {to})", outcome.market);
        let opened_by = format!("{} (rollback)", tandem_store::audit::current_name());
        let opened = self
            .open_incident(NewIncident {
                service,
                market: &outcome.market,
                title: &title,
                summary: Some(&outcome.reason),
                source: "rollback",
                opened_by: &opened_by,
                opened_at: started,
                fingerprint: None,
                deployment_id: Some(removed.id),
            })
            .await;
        match opened {
            Ok((incident, _)) if outcome.state == MoveState::RolledBack => {
                let by = format!("tandem ({to} answers its probe again)");
                if let Err(e) = self.resolve_incident(incident.id, &by, tandem_store::now_ms()).await {
                    tracing::warn!(incident = incident.id, error = %e, "cannot resolve a rollback's incident");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot open a rollback's incident"),
        }
    }
}
