//! One release landing in one market: the deployment is recorded before anything starts, the
//! gate runner ([`crate::gates`]) starts and judges it, and only then is it promoted. A market
//! that fails a gate returns to its last good release and the team is told; the rollout's first
//! failed deployment opens its one incident, linked to it, and any other market of the rollout
//! failing is named on that incident (`incident.also_failed`) rather than opening another.

use crate::Engine;
use crate::gates::{Failure, Landing, Passed, gate};
use crate::notifications::Announcement;
use crate::snapshot::Snapshot;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::pipeline::ServiceSpec;
use tandem_core::policy::Event;
use tandem_core::state::DeploymentKind;
use tandem_store::{DeploymentRow, NewDeployment, ReleaseRow};

/// What one market's deployment came to.
#[derive(Debug)]
pub struct MarketOutcome {
    pub market: String,
    pub healthy: bool,
    pub reason: String,
    /// Time spent in gates (probe, bake, metrics), so the rollout's own overhead can be measured.
    pub probe_time: Duration,
    /// Not deployed at all: skipped by a person, or the rollout was aborted first.
    pub skipped: bool,
    /// Refused before anything started: its config does not fit the release (see
    /// [`crate::gates::Failure::blocked`]).
    pub blocked: bool,
}

impl MarketOutcome {
    pub(crate) fn new(market: &str, healthy: bool, reason: String, probe_time: Duration) -> Self {
        Self {
            market: market.to_string(),
            healthy,
            reason,
            probe_time,
            skipped: false,
            blocked: false,
        }
    }

    pub(crate) fn skipped(market: &str, reason: String) -> Self {
        Self {
            skipped: true,
            ..Self::new(market, true, reason, Duration::ZERO)
        }
    }
}

impl Engine {
    /// Deploys a release to one market and reports the outcome. The deployment, each gate's
    /// result and, on failure, an incident are recorded in the store.
    pub(crate) async fn deploy_market(
        self: &Arc<Self>,
        rollout_id: Option<i64>,
        kind: DeploymentKind,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        artifacts: &HashMap<String, String>,
        market: &str,
    ) -> MarketOutcome {
        let snapshot = match self.snapshot().await {
            Ok(s) => s,
            Err(e) => {
                return MarketOutcome::new(market, false, format!("cannot read the platform: {e}"), Duration::ZERO);
            }
        };
        self.deploy_market_with(rollout_id, kind, release, spec, artifacts, market, None, &snapshot)
            .await
    }

    /// Like [`Engine::deploy_market`], starting the market with config `version` (`None`: the
    /// version the market runs), on the platform as `snapshot` read it (once for every market
    /// of a wave). A `config` deployment that passes moves the market to it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn deploy_market_with(
        self: &Arc<Self>,
        rollout_id: Option<i64>,
        kind: DeploymentKind,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        artifacts: &HashMap<String, String>,
        market: &str,
        config_version: Option<i64>,
        snapshot: &Snapshot,
    ) -> MarketOutcome {
        let config_version = match config_version {
            Some(v) => Some(v),
            None => self
                .store
                .market_config_version(&release.service, market)
                .await
                .ok()
                .flatten(),
        };
        let new = NewDeployment {
            rollout_id,
            service: &release.service,
            market,
            release_id: release.id,
        };
        let deployment = match self.store.insert_deployment_with(new, kind, config_version).await {
            Ok(d) => d,
            Err(e) => {
                return MarketOutcome::new(
                    market,
                    false,
                    format!("cannot record the deployment: {e}"),
                    Duration::ZERO,
                );
            }
        };
        self.notify_market(&release.service, market);
        let action = if kind == DeploymentKind::Rollback {
            "rollback"
        } else {
            "deploy"
        };
        let landing = Landing {
            release,
            spec,
            artifacts,
            market,
            deployment_id: deployment.id,
            port: None,
            action,
            config_version,
            snapshot,
        };
        let result = self.start_and_judge(landing).await;
        let outcome = match result {
            Ok(Passed {
                driver,
                url,
                instance,
                gate_time,
            }) => {
                let pid = instance.pid;
                let url = url.unwrap_or_default();
                // The front moves first: the release it served stops once promoted.
                self.front_serves(spec, &release.service, market, &url).await;
                driver.promote(self, &release.service, market, instance).await;
                match self.store.mark_deployment_live(deployment.id, &url, pid).await {
                    Ok(()) => {
                        if let (Some(version), DeploymentKind::Config) = (config_version, kind) {
                            self.announce_config(&release.service, market, version);
                        }
                        if kind == DeploymentKind::Release {
                            self.record_deployment_commits(deployment.clone());
                        }
                        MarketOutcome::new(market, true, "healthy".into(), gate_time)
                    }
                    Err(e) => MarketOutcome::new(market, false, format!("cannot record the outcome: {e}"), gate_time),
                }
            }
            Err(failure) if failure.blocked => {
                // A refusal, not a failed change: the market runs what it ran, no incident.
                if let Err(e) = self.store.mark_deployment_blocked(deployment.id, &failure.reason).await {
                    tracing::error!(deployment = deployment.id, error = %e, "cannot record a blocked deployment");
                }
                MarketOutcome {
                    blocked: true,
                    ..MarketOutcome::new(market, false, failure.reason, Duration::ZERO)
                }
            }
            Err(failure) => {
                self.fail_deployment(release, spec, &deployment, &failure).await;
                MarketOutcome::new(market, false, failure.reason, failure.gate_time)
            }
        };
        self.notify_market(&release.service, market);
        outcome
    }

    /// Records a failed deployment, opens its incident, tells the team, and (for drivers that
    /// replaced what ran before) sends the market back to its previous release.
    async fn fail_deployment(
        self: &Arc<Self>,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        deployment: &DeploymentRow,
        failure: &Failure,
    ) {
        let (reason, keeps_previous) = (failure.reason.as_str(), failure.keeps_previous);
        let market = deployment.market.as_str();
        if let Err(e) = self.store.mark_deployment_failed(deployment.id, reason).await {
            tracing::error!(deployment = deployment.id, error = %e, "cannot record a failed deployment");
        }
        let what = match (deployment.kind, deployment.config_version) {
            (DeploymentKind::Config, Some(v)) => format!("config v{v} (on {})", release.version),
            _ => release.version.clone(),
        };
        let title = format!("{} {what} failed its gate in {market}: {reason}", release.service);
        // One rollout halting opens one incident: a market failing after another of the same
        // rollout is named on that incident's timeline. Its own restore time still comes from
        // its market's recovery (the `recovery` gate below), not from that incident.
        let held = self.halt_incident.lock().await;
        let earlier = match deployment.rollout_id {
            Some(r) => self.store.get_gate_incident_of_rollout(r).await.unwrap_or_else(|e| {
                tracing::warn!(rollout = r, error = %e, "cannot read a rollout's incident");
                None
            }),
            None => None,
        };
        let mut incident_id = None;
        if let Some(earlier) = earlier {
            let data = serde_json::json!({
                "market": market, "deployment": deployment.id, "release": release.version, "reason": reason,
            });
            if let Err(e) = self
                .store
                .record_event("incident.also_failed", &format!("incident/{}", earlier.id), data)
                .await
            {
                tracing::error!(incident = earlier.id, error = %e, "cannot name a market on its rollout's incident");
            }
        } else {
            match self
                .store
                .insert_incident(&release.service, market, Some(deployment.id), &title)
                .await
            {
                Ok(incident) => {
                    incident_id = Some(incident.id);
                    self.announce(Announcement {
                        event: Event::IncidentOpened,
                        text: format!("Incident {}: {title}", incident.id),
                        data: serde_json::json!({
                            "incident": incident.id, "service": release.service, "market": market,
                            "release": release.version, "deployment": deployment.id, "reason": reason,
                        }),
                    })
                    .await
                }
                Err(e) => tracing::error!(deployment = deployment.id, error = %e, "cannot open an incident"),
            }
        }
        drop(held);
        if keeps_previous {
            if self.record_recovery(release, spec, deployment, failure.failed_at).await {
                self.resolve_recovered(incident_id).await;
            }
            return;
        }
        if spec.deploy.is_none() {
            return;
        }
        // The driver replaced what ran before: deploy the previous release again.
        let Some(previous_id) = deployment.previous_release_id else {
            return;
        };
        let back = async {
            let previous = self.store.get_release(previous_id).await?;
            let previous_spec = previous.service_spec()?;
            let artifacts = self.prepare_release(&previous).await?;
            let outcome = Box::pin(self.deploy_market(
                deployment.rollout_id,
                DeploymentKind::Rollback,
                &previous,
                &previous_spec,
                &artifacts,
                market,
            ))
            .await;
            anyhow::Ok((previous.version, outcome))
        };
        match back.await {
            Ok((version, outcome)) => {
                let took = failure.failed_at.elapsed();
                let mut result = gate(
                    "recovery",
                    outcome.healthy,
                    &if outcome.healthy {
                        format!("{version} deployed again {} ms after the failed gate", took.as_millis())
                    } else {
                        format!("{version} could not be deployed again: {}", outcome.reason)
                    },
                );
                result.value = Some(took.as_secs_f64() * 1000.0);
                self.record_gate(deployment.id, result).await;
                if outcome.healthy {
                    self.resolve_recovered(incident_id).await;
                }
                let text = if outcome.healthy {
                    format!("{} in {market} went back to {version} by itself", release.service)
                } else {
                    format!(
                        "{} in {market} could not go back to {version}: {}",
                        release.service, outcome.reason
                    )
                };
                self.announce(Announcement {
                    event: Event::Rollback,
                    text,
                    data: serde_json::json!({
                        "service": release.service, "market": market, "to": version, "healthy": outcome.healthy,
                    }),
                })
                .await;
            }
            Err(e) => tracing::error!(market, error = %format!("{e:#}"), "cannot send a market back"),
        }
    }

    /// An incident a failed gate opened is resolved once the market's previous release serves
    /// again (its probe answers): the market is restored.
    async fn resolve_recovered(self: &Arc<Self>, incident: Option<i64>) {
        let Some(id) = incident else { return };
        if let Err(e) = self
            .resolve_incident(
                id,
                "tandem (the previous release answers its probe)",
                tandem_store::now_ms(),
            )
            .await
        {
            tracing::warn!(incident = id, error = %e, "cannot resolve a recovered incident");
        }
    }

    /// With a driver that kept the previous release serving, records how soon after the failed
    /// gate that release answered its probe (the market's recovery time); true when it did.
    async fn record_recovery(
        &self,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        deployment: &DeploymentRow,
        failed_at: Instant,
    ) -> bool {
        let Some(previous) = deployment.previous_release_id else {
            return false;
        };
        let live = self.store.list_live_deployments().await.ok().and_then(|live| {
            live.into_iter()
                .find(|d| d.service == release.service && d.market == deployment.market)
        });
        // Only a release that answers over HTTP can be timed (a command without `url` cannot).
        let Some(url) = live.and_then(|d| d.url).filter(|u| u.starts_with("http")) else {
            return false;
        };
        let settings = spec.gates.probe.for_market(&deployment.market);
        let probe = format!("{url}{}", settings.path);
        let answered = loop {
            match self.http.get(&probe).timeout(settings.timeout).send().await {
                Ok(r) if r.status().is_success() => break true,
                _ if failed_at.elapsed() > settings.deadline() => break false,
                _ => tokio::time::sleep(settings.interval).await,
            }
        };
        let took = failed_at.elapsed();
        let version = match self.store.get_release(previous).await {
            Ok(r) => r.version,
            Err(_) => format!("release {previous}"),
        };
        let reason = if answered {
            format!(
                "{version} answered {:.1} ms after the failed gate (it kept serving throughout)",
                took.as_secs_f64() * 1000.0
            )
        } else {
            format!(
                "{version} did not answer its probe within {} s",
                settings.deadline().as_secs()
            )
        };
        let mut result = gate("recovery", answered, &reason);
        result.value = Some(took.as_secs_f64() * 1000.0);
        self.record_gate(deployment.id, result).await;
        answered
    }
}
