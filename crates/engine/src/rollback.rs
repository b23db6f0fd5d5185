//! Rollback by hand: a market (or every market) of a service goes back to the release it ran
//! before its current one, through the same deploy-probe-switch path as a rollout, and is
//! recorded as a deployment of kind `rollback`.

use crate::Engine;
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;

/// What happened in one market.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RollbackOutcome {
    pub market: String,
    /// The release it ran before, if any.
    pub from: Option<String>,
    /// The release it went back to, if any.
    pub to: Option<String>,
    /// rolled back, failed, or skipped.
    pub state: String,
    pub reason: String,
}

impl Engine {
    /// Sends each of `markets` of `service` back to its previous good release, in parallel.
    pub async fn rollback(self: &Arc<Self>, service: &str, markets: &[String]) -> Result<Vec<RollbackOutcome>> {
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(tandem_store::StoreError::not_found(format!("service `{service}`")).into());
        }
        if let Some(unknown) = markets.iter().find(|m| platform.market(m).is_none()) {
            return Err(tandem_store::StoreError::not_found(format!("market `{unknown}`")).into());
        }
        let mut set = tokio::task::JoinSet::new();
        for market in markets {
            let (engine, service, market) = (self.clone(), service.to_string(), market.clone());
            set.spawn(async move { engine.rollback_market(&service, &market).await });
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
    async fn rollback_market(self: &Arc<Self>, service: &str, market: &str) -> Result<RollbackOutcome> {
        let holder = format!(
            "a rollback of {market} started at {}",
            jiff::Timestamp::now().strftime("%H:%M:%S")
        );
        if let Err(e) = self.store.lock_market(service, market, &holder).await {
            return Ok(RollbackOutcome {
                market: market.to_string(),
                from: None,
                to: None,
                state: "failed".into(),
                reason: e.to_string(),
            });
        }
        let result = self.rollback_locked(service, market).await;
        if let Err(e) = self.store.unlock_market(service, market, &holder).await {
            tracing::error!(service, market, error = %e, "cannot release a rollback's lock");
        }
        let outcome = result?;
        if outcome.state != "skipped" {
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

    async fn rollback_locked(self: &Arc<Self>, service: &str, market: &str) -> Result<RollbackOutcome> {
        let live = self
            .store
            .list_live_deployments()
            .await?
            .into_iter()
            .find(|d| d.service == service && d.market == market);
        let skipped = |from: Option<String>, reason: &str| RollbackOutcome {
            market: market.to_string(),
            from,
            to: None,
            state: "skipped".into(),
            reason: reason.to_string(),
        };
        let Some(live) = live else {
            return Ok(skipped(None, "nothing is deployed here"));
        };
        let current = self.store.get_release(live.release_id).await?;
        let Some(previous) = self.store.previous_good_release(service, market).await? else {
            return Ok(skipped(Some(current.version), "no earlier release ran here"));
        };
        let release = self.store.get_release(previous).await?;
        let spec = release.service_spec()?;
        let artifacts = self.prepare_release(&release).await?;
        let outcome = self
            .deploy_market(None, "rollback", &release, &spec, &artifacts, market)
            .await;
        Ok(RollbackOutcome {
            market: market.to_string(),
            from: Some(current.version),
            to: Some(release.version),
            state: if outcome.healthy { "rolled back" } else { "failed" }.into(),
            reason: outcome.reason,
        })
    }
}
