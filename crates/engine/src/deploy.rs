//! One release landing in one market: the deployment is recorded before anything starts, the
//! market's config file is written, the driver starts the release, the gates judge it (probe,
//! bake, metrics), and only then is it promoted. Each gate's figures and reason are recorded.
//! A market that fails a gate returns to its last good release, an incident is opened and
//! linked to the failed deployment, and the team is told.

use crate::Engine;
use crate::driver::{Driver, Instance, ProcessDriver, Target, driver_for};
use crate::notifications::Announcement;
use anyhow::anyhow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::config::{ConfigSchema, resolve_config};
use tandem_core::gates::{Baseline, MetricGates, SCRAPE_ACCEPT, Scrape, Window, judge_all_against};
use tandem_core::pipeline::ServiceSpec;
use tandem_core::policy::Event;
use tandem_core::rollout::{ProbeTally, ProbeVerdict};
use tandem_core::state::DeploymentKind;
use tandem_store::{DeploymentRow, NewDeployment, NewGateResult, ReleaseRow};

/// Time between two probes of a starting market: short, since the demo's 25 markets wait on it.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long one probe request may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a new release may take to pass its probe at all.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);
/// A process still starting refuses connections: for this long that is not yet a failure.
const START_GRACE: Duration = Duration::from_secs(2);
/// How often the bake looks whether the new release is still alive.
const BAKE_CHECK: Duration = Duration::from_millis(100);
/// How far back a `vs-previous` check reads the monitor's series of the release being replaced:
/// an hour smooths a few bad minutes without reaching back to another release.
const BASELINE_SPAN_MS: i64 = 3_600_000;

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
}

impl MarketOutcome {
    pub(crate) fn new(market: &str, healthy: bool, reason: String, probe_time: Duration) -> Self {
        Self {
            market: market.to_string(),
            healthy,
            reason,
            probe_time,
            skipped: false,
        }
    }

    pub(crate) fn skipped(market: &str, reason: String) -> Self {
        Self {
            skipped: true,
            ..Self::new(market, true, reason, Duration::ZERO)
        }
    }
}

/// A gate's verdict, with its figures.
struct GateFailure {
    reason: String,
}

/// Why a market's deployment did not pass, and when that was known.
#[derive(Debug)]
pub(crate) struct Failure {
    pub reason: String,
    /// Time spent in gates before the failure.
    pub gate_time: Duration,
    /// Whether the market's previous release kept serving meanwhile.
    pub keeps_previous: bool,
    pub failed_at: Instant,
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
        self.deploy_market_with(rollout_id, kind, release, spec, artifacts, market, None)
            .await
    }

    /// Like [`Engine::deploy_market`], starting the market with config `version` (`None`: the
    /// version the market runs). A `config` deployment that passes moves the market to it.
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
    ) -> MarketOutcome {
        let config_version = match config_version {
            Some(v) => Some(v),
            None => match self.store.market_config(&release.service, market).await {
                Ok(row) => Some(row.version),
                Err(_) => None,
            },
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
        self.notify();
        let action = if kind == DeploymentKind::Rollback {
            "rollback"
        } else {
            "deploy"
        };
        let result = self
            .start_and_judge(
                release,
                spec,
                artifacts,
                market,
                deployment.id,
                None,
                action,
                config_version,
            )
            .await;
        let outcome = match result {
            Ok((driver, target_url, instance, gate_time)) => {
                let pid = instance.pid;
                let url = target_url.unwrap_or_default();
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
            Err(failure) => {
                self.fail_deployment(release, spec, &deployment, &failure).await;
                MarketOutcome::new(market, false, failure.reason, failure.gate_time)
            }
        };
        self.notify();
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
        let mut incident_id = None;
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
        let probe = format!("{url}{}", spec.gates.probe.path);
        let answered = loop {
            match self.http.get(&probe).timeout(PROBE_TIMEOUT).send().await {
                Ok(r) if r.status().is_success() => break true,
                _ if failed_at.elapsed() > PROBE_DEADLINE => break false,
                _ => tokio::time::sleep(PROBE_INTERVAL).await,
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
                "{version} did not answer its probe within {}s",
                PROBE_DEADLINE.as_secs()
            )
        };
        let mut result = gate("recovery", answered, &reason);
        result.value = Some(took.as_secs_f64() * 1000.0);
        self.record_gate(deployment.id, result).await;
        answered
    }

    /// Starts the release for a market and runs its gates. On success returns the driver, the
    /// URL it answers at, the instance and the time the gates took; on failure the instance
    /// has been discarded and the reason is returned, with whether the previous release kept
    /// serving meanwhile.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub(crate) async fn start_and_judge(
        &self,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        artifacts: &HashMap<String, String>,
        market: &str,
        deployment_id: i64,
        port: Option<u16>,
        action: &str,
        config_version: Option<i64>,
    ) -> Result<(Box<dyn Driver>, Option<String>, Instance, Duration), Failure> {
        let Some(deploy) = spec.deploy.as_ref() else {
            return Err(Failure {
                reason: "the release has no deploy section".into(),
                gate_time: Duration::ZERO,
                keeps_previous: true,
                failed_at: Instant::now(),
            });
        };
        let driver: Box<dyn Driver> = if port.is_some() {
            Box::new(ProcessDriver)
        } else {
            driver_for(deploy)
        };
        let keeps = driver.keeps_previous();
        let fail = |e: anyhow::Error| Failure {
            reason: format!("{e:#}"),
            gate_time: Duration::ZERO,
            keeps_previous: keeps,
            failed_at: Instant::now(),
        };
        let dir = self.market_dir(&release.service, market);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| fail(e.into()))?;
        let platform = self.store.load_platform().await.map_err(|e| fail(e.into()))?;
        let m = platform
            .market(market)
            .ok_or_else(|| fail(anyhow!("market `{market}` is not in the platform")))?;
        let (_, layers) = self
            .config_layers(&platform, &release.service, market, config_version)
            .await
            .map_err(fail)?;
        let config = resolve_config(&layers, m);
        if let Some(text) = &release.config_schema {
            // The release declares what config it needs: a market whose config it rejects is
            // blocked before anything starts, with the exact keys.
            let values = serde_json::Value::Object(config.values.clone());
            let verdict = ConfigSchema::parse("config schema", text)
                .map_err(|e| e.to_string())
                .map(|schema| schema.validate(market, &values));
            let (passed, reason) = match verdict {
                Ok(errors) if errors.is_empty() => {
                    (true, format!("{market}'s config matches {}'s schema", release.version))
                }
                Ok(errors) => (
                    false,
                    format!(
                        "{market}'s config does not fit {}'s schema: {}",
                        release.version,
                        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                    ),
                ),
                Err(e) => (
                    false,
                    format!("{}'s config schema cannot be used: {e}", release.version),
                ),
            };
            self.record_gate(deployment_id, gate("config", passed, &reason)).await;
            if !passed {
                // Nothing started: the market still runs what it ran.
                return Err(Failure {
                    reason,
                    gate_time: Duration::ZERO,
                    keeps_previous: true,
                    failed_at: Instant::now(),
                });
            }
        }
        let config_file = dir.join(format!("config-{deployment_id}.json"));
        let text = serde_json::to_vec_pretty(&config.values).map_err(|e| fail(e.into()))?;
        tokio::fs::write(&config_file, text).await.map_err(|e| fail(e.into()))?;

        let target = Target {
            release,
            deploy,
            artifacts,
            market,
            deployment_id,
            config_file,
            dir,
            artifact_dir: self.release_dir(release),
            port,
            action,
        };
        let started = Instant::now();
        let mut instance = match driver.start(self, &target).await {
            Ok(i) => i,
            Err(reason) => {
                self.record_gate(deployment_id, gate("deploy", false, &reason)).await;
                return Err(Failure {
                    reason,
                    gate_time: started.elapsed(),
                    keeps_previous: keeps,
                    failed_at: Instant::now(),
                });
            }
        };
        let url = instance.url.clone();
        // The release serving the market now, to compare with over the same window.
        let previous_url = if keeps && port.is_none() {
            self.store
                .list_live_deployments()
                .await
                .ok()
                .and_then(|live| {
                    live.into_iter()
                        .find(|d| d.service == release.service && d.market == market)
                })
                .and_then(|d| d.url)
        } else {
            None
        };
        let verdict = self
            .run_gates(spec, &mut instance, deployment_id, driver.name(), previous_url)
            .await;
        let gate_time = started.elapsed();
        match verdict {
            Ok(()) => Ok((driver, url, instance, gate_time)),
            Err(GateFailure { reason }) => {
                let failed_at = Instant::now();
                driver.discard(self, instance).await;
                Err(Failure {
                    reason,
                    gate_time,
                    keeps_previous: keeps,
                    failed_at,
                })
            }
        }
    }

    /// The probe, the bake and the metric checks, in that order; each result is recorded.
    async fn run_gates(
        &self,
        spec: &ServiceSpec,
        instance: &mut Instance,
        deployment_id: i64,
        driver: &str,
        previous_url: Option<String>,
    ) -> Result<(), GateFailure> {
        let Some(base) = instance.url.clone() else {
            let reason = format!("the {driver} driver has no URL to probe: its exit status was the gate");
            self.record_gate(deployment_id, gate("probe", true, &reason)).await;
            return Ok(());
        };
        let probe = self.probe(spec, instance, &base).await;
        let (passed, reason, figures) = match probe {
            Ok(f) => {
                let reason = format!(
                    "{} answered {} time(s) in a row ({} tries, {} ms)",
                    spec.gates.probe.path,
                    f.successes,
                    f.attempts,
                    f.elapsed.as_millis()
                );
                (true, reason, f)
            }
            Err((reason, f)) => (false, reason, f),
        };
        let mut result = gate("probe", passed, &reason);
        result.value = Some(figures.successes as f64);
        result.bound = Some(spec.gates.probe.successes as f64);
        self.record_gate(deployment_id, result).await;
        if !passed {
            return Err(GateFailure { reason });
        }
        if let Some(metrics) = &spec.gates.metrics {
            self.metric_window(spec, metrics, instance, &base, previous_url.as_deref(), deployment_id)
                .await?;
        }
        if !spec.gates.bake.is_zero() {
            let bake = spec.gates.bake;
            let until = Instant::now() + bake;
            while Instant::now() < until {
                if let Some(status) = instance.exited() {
                    let reason = format!(
                        "the process exited during its bake time ({status}){}",
                        last_words(&instance.log).await
                    );
                    self.record_gate(deployment_id, gate("bake", false, &reason)).await;
                    return Err(GateFailure { reason });
                }
                tokio::time::sleep(BAKE_CHECK.min(until.saturating_duration_since(Instant::now()))).await;
            }
            let reason = format!("stayed up for its bake time of {} s", bake.as_secs_f64());
            let mut result = gate("bake", true, &reason);
            result.value = Some(bake.as_secs_f64());
            self.record_gate(deployment_id, result).await;
        }
        Ok(())
    }

    /// Watches the new release over the metric window: it must stay up and keep answering its
    /// probe; at the end its metrics (and the previous release's, over the same window) are
    /// judged by each check, and every check's figures are recorded.
    async fn metric_window(
        &self,
        spec: &ServiceSpec,
        metrics: &MetricGates,
        instance: &mut Instance,
        base: &str,
        previous: Option<&str>,
        deployment_id: i64,
    ) -> Result<(), GateFailure> {
        let fail = |reason: String| GateFailure { reason };
        let scrape = async |url: &str| -> Result<Scrape, String> {
            let url = format!("{url}{}", metrics.path);
            let resp = self
                .http
                .get(&url)
                .header(reqwest::header::ACCEPT, SCRAPE_ACCEPT)
                .timeout(PROBE_TIMEOUT)
                .send()
                .await
                .map_err(|e| format!("cannot read {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("{url} answered {}", resp.status()));
            }
            let text = resp.text().await.map_err(|e| format!("cannot read {url}: {e}"))?;
            Scrape::parse(&text).map_err(|e| format!("{url} is not in the Prometheus text format: {e}"))
        };
        let new_start = match scrape(base).await {
            Ok(s) => s,
            Err(reason) => {
                self.record_gate(deployment_id, gate("metrics", false, &reason)).await;
                return Err(fail(reason));
            }
        };
        // The previous release may have no metrics (or be gone): then only fixed bounds count.
        let previous_start = match previous {
            Some(url) if metrics.needs_previous() => scrape(url).await.ok(),
            _ => None,
        };
        let until = Instant::now() + metrics.window;
        let probe_url = format!("{base}{}", spec.gates.probe.path);
        let mut failures_in_a_row = 0;
        while Instant::now() < until {
            tokio::time::sleep(metrics.interval.min(until.saturating_duration_since(Instant::now()))).await;
            if let Some(status) = instance.exited() {
                let reason = format!(
                    "the process exited during its metric window ({status}){}",
                    last_words(&instance.log).await
                );
                self.record_gate(deployment_id, gate("metrics", false, &reason)).await;
                return Err(fail(reason));
            }
            let ok = matches!(
                self.http.get(&probe_url).timeout(PROBE_TIMEOUT).send().await,
                Ok(r) if r.status().is_success()
            );
            failures_in_a_row = if ok { 0 } else { failures_in_a_row + 1 };
            if failures_in_a_row >= spec.gates.probe.failures {
                let reason = format!(
                    "probe {} failed {failures_in_a_row} times in a row during the metric window",
                    spec.gates.probe.path
                );
                self.record_gate(deployment_id, gate("probe", false, &reason)).await;
                return Err(fail(reason));
            }
        }
        let new_end = match scrape(base).await {
            Ok(s) => s,
            Err(reason) => {
                self.record_gate(deployment_id, gate("metrics", false, &reason)).await;
                return Err(fail(reason));
            }
        };
        let previous_end = match (previous, &previous_start) {
            (Some(url), Some(_)) => scrape(url).await.ok(),
            _ => None,
        };
        let previous_window = match (&previous_start, &previous_end) {
            (Some(s), Some(e)) => Some(Window::new(s, e)),
            _ => None,
        };
        // A previous version that cannot be measured beside the new one (its driver replaced
        // it) is compared as the monitor recorded it in the market's last hour.
        let recorded = match previous_window {
            None if metrics.needs_previous() => self.recorded_baselines(metrics, deployment_id).await,
            _ => HashMap::new(),
        };
        let results = judge_all_against(metrics, Window::new(&new_start, &new_end), |check| {
            previous_window
                .map(Baseline::Window)
                .or_else(|| recorded.get(&check.name).copied())
        });
        let mut failed = Vec::new();
        for r in &results {
            if !r.passed {
                failed.push(format!("{}: {}", r.name, r.reason));
            }
            let recorded = NewGateResult {
                gate: format!("metric:{}", r.name),
                passed: r.passed,
                value: r.value,
                bound: r.bound,
                previous: r.previous,
                reason: r.reason.clone(),
            };
            self.record_gate(deployment_id, recorded).await;
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(fail(format!("metric gate failed: {}", failed.join("; "))))
        }
    }

    /// For each `vs-previous` check, the mean of its series in the deployment's market over the
    /// hour before the deployment started (what the monitor measured of the release it replaces).
    async fn recorded_baselines(
        &self,
        metrics: &MetricGates,
        deployment_id: i64,
    ) -> HashMap<String, Baseline<'static>> {
        let mut out = HashMap::new();
        let Ok(d) = self.store.get_deployment(deployment_id).await else {
            return out;
        };
        let resolution = tandem_core::monitor::RESOLUTIONS[0].0;
        for check in metrics.checks.iter().filter(|c| c.vs_previous.is_some()) {
            let points = self
                .store
                .series(
                    &d.service,
                    Some(&d.market),
                    &check.name,
                    resolution,
                    d.started_at - BASELINE_SPAN_MS,
                    d.started_at,
                )
                .await
                .unwrap_or_default();
            let (sum, count) = points.iter().fold((0.0, 0), |(s, n), p| (s + p.sum, n + p.count));
            if count > 0 {
                let baseline = Baseline::Recorded {
                    value: sum / count as f64,
                    samples: count as u64,
                };
                out.insert(check.name.clone(), baseline);
            }
        }
        out
    }

    /// Probes `base` + the probe path until it passes or fails, per the spec's counts.
    async fn probe(
        &self,
        spec: &ServiceSpec,
        instance: &mut Instance,
        base: &str,
    ) -> Result<ProbeFigures, (String, ProbeFigures)> {
        let started = Instant::now();
        let url = format!("{base}{}", spec.gates.probe.path);
        let mut tally = ProbeTally::default();
        let mut attempts = 0u32;
        let figures = |attempts, tally: &ProbeTally| ProbeFigures {
            attempts,
            successes: tally.consecutive_successes,
            elapsed: started.elapsed(),
        };
        loop {
            if let Some(status) = instance.exited() {
                let reason = format!(
                    "the process exited during its probe ({status}){}",
                    last_words(&instance.log).await
                );
                return Err((reason, figures(attempts, &tally)));
            }
            attempts += 1;
            let ok = match self.http.get(&url).timeout(PROBE_TIMEOUT).send().await {
                Ok(resp) => resp.status().is_success(),
                Err(_) => false,
            };
            let counted = ok || tally.consecutive_successes > 0 || started.elapsed() > START_GRACE;
            if counted {
                match tally.record(ok, spec.gates.probe.successes, spec.gates.probe.failures) {
                    ProbeVerdict::Healthy => return Ok(figures(attempts, &tally)),
                    ProbeVerdict::Unhealthy => {
                        let reason = format!(
                            "probe {} failed {} times in a row",
                            spec.gates.probe.path, tally.consecutive_failures
                        );
                        return Err((reason, figures(attempts, &tally)));
                    }
                    ProbeVerdict::Pending => {}
                }
            }
            if started.elapsed() > PROBE_DEADLINE {
                let reason = format!(
                    "probe {} did not pass within {}s",
                    spec.gates.probe.path,
                    PROBE_DEADLINE.as_secs()
                );
                return Err((reason, figures(attempts, &tally)));
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    pub(crate) async fn record_gate(&self, deployment_id: i64, result: NewGateResult) {
        if let Err(e) = self.store.insert_gate_result(deployment_id, &result).await {
            tracing::error!(deployment_id, error = %e, "cannot record a gate result");
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ProbeFigures {
    attempts: u32,
    successes: u32,
    elapsed: Duration,
}

fn gate(name: &str, passed: bool, reason: &str) -> NewGateResult {
    NewGateResult {
        gate: name.to_string(),
        passed,
        reason: reason.to_string(),
        ..Default::default()
    }
}

/// The last line a dead process wrote to its log, to say why it died: `: <line>`, or nothing.
pub(crate) async fn last_words(log: &std::path::Path) -> String {
    let text = tokio::fs::read_to_string(log).await.unwrap_or_default();
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("note:"));
    line.map(|l| format!(": {}", l.chars().take(200).collect::<String>()))
        .unwrap_or_default()
}
