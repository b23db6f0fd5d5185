//! The gate runner: starts a release in one market through its driver, with the market's config
//! file written first, and judges it (config schema, probe, bake, metrics) before anyone promotes
//! it. Each gate's figures and reason are recorded; a release that fails is discarded and the
//! caller learns whether the previous release kept serving meanwhile.

use crate::Engine;
use crate::driver::{Driver, Instance, ProcessDriver, Target, driver_for, last_words, run_user_command};
use crate::front::{Front, Upstream};
use crate::snapshot::Snapshot;
use anyhow::anyhow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tandem_core::config::resolve_config;
use tandem_core::gates::{Baseline, MetricGates, Probe, SCRAPE_ACCEPT, Scrape, Window, judge_all_against};
use tandem_core::pipeline::ServiceSpec;
use tandem_core::rollout::{ProbeTally, ProbeVerdict};
use tandem_store::{NewGateResult, ReleaseRow};

/// How often the bake looks whether the new release is still alive.
const BAKE_CHECK: Duration = Duration::from_millis(100);
/// How far back a `vs-previous` check reads the monitor's series of the release being replaced:
/// an hour smooths a few bad minutes without reaching back to another release.
const BASELINE_SPAN_MS: i64 = 3_600_000;

/// One release to start and judge in one market: what [`Engine::start_and_judge`] takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Landing<'a> {
    pub release: &'a ReleaseRow,
    pub spec: &'a ServiceSpec,
    /// Artifact name → path of its verified copy.
    pub artifacts: &'a HashMap<String, String>,
    pub market: &'a str,
    /// The deployment every gate result is recorded under.
    pub deployment_id: i64,
    /// A port to reuse (a live market started again after a server restart): the process
    /// driver starts it there, whatever the release's driver.
    pub port: Option<u16>,
    /// What the driver is told it does: `deploy`, `rollback` or `restart`.
    pub action: &'a str,
    /// The config version to start the market with (`None`: the version the market runs).
    pub config_version: Option<i64>,
    /// The platform and what the markets of one piece of work share, read once for them all.
    pub snapshot: &'a Snapshot,
}

/// A release that started and passed every gate, not yet promoted: what
/// [`Engine::start_and_judge`] returns when the market may move to it.
pub(crate) struct Passed {
    /// The driver that started it, to promote (or discard) the instance.
    pub driver: Box<dyn Driver>,
    /// Where the release answers (`None`: a driver without a URL).
    pub url: Option<String>,
    pub instance: Instance,
    /// Time spent in gates (probe, bake, metrics).
    pub gate_time: Duration,
}

/// A gate's verdict, with its figures.
struct GateFailure {
    reason: String,
}

/// How a canary's share of a market's traffic reaches the new release.
enum Traffic<'a> {
    /// Tandem's front (the `process` driver): the share moves in memory.
    Front(Arc<Front>),
    /// The user's load balancer, told each share by `deploy.shift` (the `command` driver).
    Hook {
        target: &'a Target<'a>,
        /// The share last asked for (also when the command failed: it may have applied it).
        share: AtomicU8,
        /// The command could not send every request back to the stable release.
        stuck: AtomicBool,
    },
}

impl Traffic<'_> {
    /// The new release's share now.
    fn share(&self) -> u8 {
        match self {
            Traffic::Front(front) => front.candidate_share(),
            Traffic::Hook { share, .. } => share.load(Ordering::Relaxed),
        }
    }

    /// The market whose traffic this is.
    fn market(&self) -> &str {
        match self {
            Traffic::Front(front) => &front.market,
            Traffic::Hook { target, .. } => target.market,
        }
    }

    /// Whether the release serving the market still serves it all (nothing to deploy again).
    fn stable_serves(&self) -> bool {
        match self {
            Traffic::Front(_) => true,
            Traffic::Hook { stuck, .. } => !stuck.load(Ordering::Relaxed),
        }
    }
}

/// Why a market's deployment did not pass, and when that was known.
#[derive(Debug)]
pub(crate) struct Failure {
    pub reason: String,
    /// Time spent in gates before the failure.
    pub gate_time: Duration,
    /// Whether the market's previous release kept serving meanwhile.
    pub keeps_previous: bool,
    /// Refused before anything started (the market's config does not fit the release): not a
    /// failed change, and no incident; the rollout waits for a person.
    pub blocked: bool,
    pub failed_at: Instant,
}

impl Engine {
    /// Starts the release for a market and runs its gates. On success returns the started,
    /// judged and not yet promoted release ([`Passed`]); on failure the instance has been
    /// discarded and the reason is returned, with whether the previous release kept serving
    /// meanwhile.
    pub(crate) async fn start_and_judge(&self, landing: Landing<'_>) -> Result<Passed, Failure> {
        let Landing {
            release,
            spec,
            artifacts,
            market,
            deployment_id,
            port,
            action,
            config_version,
            snapshot,
        } = landing;
        let Some(deploy) = spec.deploy.as_ref() else {
            return Err(Failure {
                reason: "the release has no deploy section".into(),
                gate_time: Duration::ZERO,
                keeps_previous: true,
                blocked: false,
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
            blocked: false,
            failed_at: Instant::now(),
        };
        let dir = self.market_dir(&release.service, market);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| fail(e.into()))?;
        let m = snapshot
            .market(market)
            .ok_or_else(|| fail(anyhow!("market `{market}` is not in the platform")))?;
        let (_, layers) = self
            .layers_in(snapshot, &release.service, market, config_version)
            .await
            .map_err(|e| fail(e.into()))?;
        let config = resolve_config(&layers, m);
        if let Some(schema) = snapshot.schema(release) {
            // The release declares what config it needs: a market whose config it rejects is
            // blocked before anything starts, with the exact keys.
            let values = serde_json::Value::Object(config.values.clone());
            let verdict = schema
                .as_ref()
                .as_ref()
                .map_err(Clone::clone)
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
                    blocked: true,
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
                    blocked: false,
                    failed_at: Instant::now(),
                });
            }
        };
        let url = instance.url.clone();
        let live = match port {
            None => self
                .store
                .get_live_deployment(&release.service, market)
                .await
                .ok()
                .flatten(),
            Some(_) => None,
        };
        // The release serving the market now, to compare with over the same window.
        let previous_url = live.as_ref().filter(|_| keeps).and_then(|d| d.url.clone());
        // A canary needs a release serving the market to shift traffic from: a market's first
        // release, a rollback and a restart go straight to all of its traffic.
        let traffic = match (&spec.gates.canary, action, port) {
            (Some(_), "deploy", None) if driver.name() == "process" => self
                .fronts()
                .get(&release.service, market)
                .await
                .filter(|f| f.has_stable())
                .map(Traffic::Front),
            (Some(_), "deploy", None) if driver.name() == "command" && deploy.shift.is_some() && live.is_some() => {
                Some(Traffic::Hook {
                    target: &target,
                    share: AtomicU8::new(0),
                    stuck: AtomicBool::new(false),
                })
            }
            _ => None,
        };
        let mut verdict = self
            .run_gates(
                spec,
                market,
                &mut instance,
                deployment_id,
                driver.name(),
                previous_url,
                traffic.as_ref(),
            )
            .await;
        // With `deploy.shift`, a release that passed gets every request before it is promoted
        // (after a canary's last step under 100 %, a first release, a rollback).
        if verdict.is_ok()
            && port.is_none()
            && driver.name() == "command"
            && traffic.as_ref().is_none_or(|t| t.share() < 100)
            && let Some(command) = target.shift_command(100)
        {
            let log = self.shift_log(&target, 100);
            if let Err(e) = run_user_command(self, &target, command, &log).await {
                let reason = format!("cannot give the release all of {market}'s traffic: {e}");
                self.record_gate(deployment_id, gate("shift", false, &reason)).await;
                if let Some(t) = &traffic {
                    self.send_back(t).await;
                }
                verdict = Err(GateFailure { reason });
            }
        }
        let gate_time = started.elapsed();
        match verdict {
            Ok(()) => Ok(Passed {
                driver,
                url,
                instance,
                gate_time,
            }),
            Err(GateFailure { reason }) => {
                let failed_at = Instant::now();
                driver.discard(self, instance).await;
                // With the user's hook, the new release was deployed beside the stable one: it
                // keeps serving unless the hook could not send the traffic back to it.
                let keeps_previous = match &traffic {
                    Some(t @ Traffic::Hook { .. }) => t.stable_serves(),
                    _ => keeps,
                };
                Err(Failure {
                    reason,
                    gate_time,
                    keeps_previous,
                    blocked: false,
                    failed_at,
                })
            }
        }
    }

    /// Where a run of `deploy.shift` writes its output.
    fn shift_log(&self, target: &Target<'_>, weight: u8) -> std::path::PathBuf {
        target.dir.join(format!(
            "{}-shift-{weight}-{}.log",
            target.release.version, target.deployment_id
        ))
    }

    /// Gives the new release `share` % of the market's traffic. With the front, returns the
    /// new release's upstream, whose counts are its requests.
    async fn shift(&self, traffic: &Traffic<'_>, base: &str, share: u8) -> Result<Option<Arc<Upstream>>, String> {
        match traffic {
            Traffic::Front(front) => Ok(Some(front.shift(base, share))),
            Traffic::Hook { target, share: now, .. } => {
                now.store(share, Ordering::Relaxed);
                let Some(command) = target.shift_command(share) else {
                    return Err("`deploy.shift` is not set".into());
                };
                let log = self.shift_log(target, share);
                run_user_command(self, target, command, &log).await.map(|()| None)
            }
        }
    }

    /// Every request back on the stable release: at once through the front, or by running
    /// `deploy.shift` with weight 0. Returns why not, when it could not.
    async fn send_back(&self, traffic: &Traffic<'_>) -> Option<String> {
        match traffic {
            Traffic::Front(front) => {
                front.back();
                None
            }
            Traffic::Hook { target, share, stuck } => {
                let command = target.shift_command(0)?;
                let log = self.shift_log(target, 0);
                match run_user_command(self, target, command, &log).await {
                    Ok(()) => {
                        share.store(0, Ordering::Relaxed);
                        None
                    }
                    Err(e) => {
                        stuck.store(true, Ordering::Relaxed);
                        Some(e)
                    }
                }
            }
        }
    }

    /// The probe, the metric checks (on each canary step's share of the market's traffic, with
    /// a `front`) and the bake, in that order; each result is recorded. A failure after a share
    /// of traffic moved sends it all back to the stable release first.
    #[allow(clippy::too_many_arguments)]
    async fn run_gates(
        &self,
        spec: &ServiceSpec,
        market: &str,
        instance: &mut Instance,
        deployment_id: i64,
        driver: &str,
        previous_url: Option<String>,
        traffic: Option<&Traffic<'_>>,
    ) -> Result<(), GateFailure> {
        let Some(base) = instance.url.clone() else {
            let reason = format!("the {driver} driver has no URL to probe: its exit status was the gate");
            self.record_gate(deployment_id, gate("probe", true, &reason)).await;
            return Ok(());
        };
        let settings = spec.gates.probe.for_market(market);
        let probe = self.probe(&settings, instance, &base).await;
        let (passed, reason, figures) = match probe {
            Ok(f) => {
                let reason = format!(
                    "{} answered {} time(s) in a row ({} tries, {} ms; {})",
                    settings.path,
                    f.successes,
                    f.attempts,
                    f.elapsed.as_millis(),
                    settings.summary()
                );
                (true, reason, f)
            }
            Err((reason, f)) => (false, format!("{reason} ({})", settings.summary()), f),
        };
        let mut result = gate("probe", passed, &reason);
        result.value = Some(figures.successes as f64);
        result.bound = Some(settings.successes as f64);
        self.record_gate(deployment_id, result).await;
        if !passed {
            return Err(GateFailure { reason });
        }
        let judged = self
            .judge(
                spec,
                &settings,
                instance,
                &base,
                previous_url.as_deref(),
                deployment_id,
                traffic,
            )
            .await;
        if let (Err(_), Some(traffic)) = (&judged, traffic)
            && traffic.share() > 0
        {
            self.send_back(traffic).await;
        }
        judged
    }

    /// The metric checks (once, or on each canary step) and the bake.
    #[allow(clippy::too_many_arguments)]
    async fn judge(
        &self,
        spec: &ServiceSpec,
        settings: &Probe,
        instance: &mut Instance,
        base: &str,
        previous_url: Option<&str>,
        deployment_id: i64,
        traffic: Option<&Traffic<'_>>,
    ) -> Result<(), GateFailure> {
        match (&spec.gates.metrics, &spec.gates.canary, traffic) {
            (Some(metrics), Some(canary), Some(traffic)) => {
                let market = traffic.market();
                for &share in &canary.steps {
                    let shifted = Instant::now();
                    let upstream = match self.shift(traffic, base, share).await {
                        Ok(u) => u,
                        Err(e) => {
                            let reason = format!("canary at {share}%: {e}");
                            let mut result = gate("canary", false, &reason);
                            result.value = Some(f64::from(share));
                            self.record_gate(deployment_id, result).await;
                            return Err(GateFailure { reason });
                        }
                    };
                    let hook_took = shifted.elapsed();
                    let window_ends = Instant::now() + metrics.window;
                    let (r0, e0) = upstream.as_ref().map_or((0, 0), |u| u.counts());
                    let window = self
                        .metric_window(
                            settings,
                            metrics,
                            instance,
                            base,
                            previous_url,
                            deployment_id,
                            Some(share),
                        )
                        .await;
                    let seen = match &upstream {
                        Some(upstream) => {
                            let (r1, e1) = upstream.counts();
                            format!(
                                "{share}% of {market}'s requests: {} reached the new release, {} failed",
                                r1 - r0,
                                e1 - e0
                            )
                        }
                        None => format!(
                            "{share}% of {market}'s traffic, set by `deploy.shift` in {:.0} ms",
                            hook_took.as_secs_f64() * 1000.0
                        ),
                    };
                    match window {
                        Ok(()) => {
                            let mut result = gate("canary", true, &format!("{seen}; its checks passed"));
                            result.value = Some(f64::from(share));
                            self.record_gate(deployment_id, result).await;
                        }
                        Err(GateFailure { reason }) => {
                            // Everything back on the stable release in one move, then recorded.
                            let failed = Instant::now();
                            let stuck = self.send_back(traffic).await;
                            let took = failed.elapsed();
                            // From the end of the step's window (its last scrape, the verdict,
                            // the checks recorded) to every request on the stable release.
                            let since_window = window_ends.elapsed();
                            let text = match (stuck, traffic) {
                                (Some(e), _) => format!(
                                    "{seen}; {reason}; `deploy.shift` could not send the traffic back ({e}): the release {market} ran is deployed again"
                                ),
                                (None, Traffic::Front(_)) => format!(
                                    "{seen}; {reason}; every request back on the release {market} runs {:.1} ms after the window ended (the switch itself: {:.3} ms)",
                                    since_window.as_secs_f64() * 1000.0,
                                    took.as_secs_f64() * 1000.0
                                ),
                                (None, Traffic::Hook { .. }) => format!(
                                    "{seen}; {reason}; `deploy.shift` with weight 0 sent every request back to the release {market} runs, {:.1} ms after the window ended (the command itself: {:.1} ms)",
                                    since_window.as_secs_f64() * 1000.0,
                                    took.as_secs_f64() * 1000.0
                                ),
                            };
                            let mut result = gate("canary", false, &text);
                            result.value = Some(f64::from(share));
                            self.record_gate(deployment_id, result).await;
                            return Err(GateFailure {
                                reason: format!("canary at {share}%: {reason}"),
                            });
                        }
                    }
                }
            }
            // Nothing to shift traffic from (the market's first release, a rollback, a
            // restart): one window on what reaches the release, as without a canary.
            (Some(metrics), ..) => {
                self.metric_window(settings, metrics, instance, base, previous_url, deployment_id, None)
                    .await?;
            }
            _ => {}
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
    #[allow(clippy::too_many_arguments)]
    async fn metric_window(
        &self,
        probe: &Probe,
        metrics: &MetricGates,
        instance: &mut Instance,
        base: &str,
        previous: Option<&str>,
        deployment_id: i64,
        share: Option<u8>,
    ) -> Result<(), GateFailure> {
        // On a canary step each check's result names its share of traffic: `metric:errors@5%`.
        let step = share.map(|p| format!("@{p}%")).unwrap_or_default();
        let fail = |reason: String| GateFailure { reason };
        let scrape = async |url: &str| -> Result<Scrape, String> {
            let url = format!("{url}{}", metrics.path);
            let resp = self
                .http
                .get(&url)
                .header(reqwest::header::ACCEPT, SCRAPE_ACCEPT)
                .timeout(probe.timeout)
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
        let probe_url = format!("{base}{}", probe.path);
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
                self.http.get(&probe_url).timeout(probe.timeout).send().await,
                Ok(r) if r.status().is_success()
            );
            failures_in_a_row = if ok { 0 } else { failures_in_a_row + 1 };
            if failures_in_a_row >= probe.failures {
                let reason = format!(
                    "probe {} failed {failures_in_a_row} times in a row during the metric window",
                    probe.path
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
                gate: format!("metric:{}{step}", r.name),
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

    /// Probes `base` + the probe path until it passes or fails, per the market's probe settings:
    /// failures count once the start period is over or the probe has answered once.
    async fn probe(
        &self,
        settings: &Probe,
        instance: &mut Instance,
        base: &str,
    ) -> Result<ProbeFigures, (String, ProbeFigures)> {
        let started = Instant::now();
        let url = format!("{base}{}", settings.path);
        let mut tally = ProbeTally::default();
        let mut attempts = 0u32;
        let mut answered = false;
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
            let ok = match self.http.get(&url).timeout(settings.timeout).send().await {
                Ok(resp) => resp.status().is_success(),
                Err(_) => false,
            };
            answered |= ok;
            let counted = answered || started.elapsed() >= settings.start_period;
            if counted {
                match tally.record(ok, settings.successes, settings.failures) {
                    ProbeVerdict::Healthy => return Ok(figures(attempts, &tally)),
                    ProbeVerdict::Unhealthy => {
                        let reason = format!(
                            "probe {} failed {} times in a row",
                            settings.path, tally.consecutive_failures
                        );
                        return Err((reason, figures(attempts, &tally)));
                    }
                    ProbeVerdict::Pending => {}
                }
            }
            if started.elapsed() > settings.deadline() {
                let reason = format!(
                    "probe {} did not pass within {} s",
                    settings.path,
                    settings.deadline().as_secs()
                );
                return Err((reason, figures(attempts, &tally)));
            }
            tokio::time::sleep(settings.interval).await;
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

pub(crate) fn gate(name: &str, passed: bool, reason: &str) -> NewGateResult {
    NewGateResult {
        gate: name.to_string(),
        passed,
        reason: reason.to_string(),
        ..Default::default()
    }
}
