//! The rollout engine: a release moves wave by wave; in each wave its markets deploy in
//! parallel (up to a limit). A market's deployment is recorded before anything starts, the new
//! process is probed while the old one keeps serving, and only a healthy new process replaces
//! the old one. A market that fails its gate keeps its previous release, an incident is opened,
//! and the rollout halts before the next wave.

use crate::Engine;
use crate::supervisor::{free_port, stop};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::config::resolve_config;
use tandem_core::pipeline::{Driver, ServiceSpec, render_deploy_command};
use tandem_core::rollout::{ProbeTally, ProbeVerdict, plan_waves};
use tandem_store::{NewDeployment, ReleaseRow, RolloutRow};

/// Time between two probes of a starting market: short, since the demo's 25 markets wait on it.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long one probe request may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a paused rollout looks whether it was resumed or aborted.
const PAUSE_POLL: Duration = Duration::from_millis(200);
/// How long a new process may take to pass its probe at all.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);

/// What one market's deployment came to.
#[derive(Debug)]
pub struct MarketOutcome {
    pub market: String,
    pub healthy: bool,
    pub reason: String,
    /// Time spent probing, so the rollout's own overhead can be measured.
    pub probe_time: Duration,
}

impl Engine {
    /// Plans and records a rollout of a release to every wave; the caller spawns its execution.
    pub async fn create_rollout(&self, release_id: i64, created_by: &str) -> Result<RolloutRow> {
        let release = self.store.get_release(release_id).await?;
        let spec = release.service_spec()?;
        if spec.deploy.is_none() {
            bail!(
                "release {} of {} cannot be rolled out: its tandem.yml has no `deploy` section",
                release.version,
                release.service
            );
        }
        let platform = self.store.load_platform().await?;
        let plan = plan_waves(&platform);
        Ok(self
            .store
            .insert_rollout(&release.service, release_id, &plan, created_by)
            .await?)
    }

    /// Runs a rollout from its current wave to its end. Errors are recorded on the rollout.
    pub async fn execute_rollout(self: &Arc<Self>, rollout_id: i64) {
        if let Err(e) = self.try_execute_rollout(rollout_id).await {
            tracing::warn!(rollout_id, error = %format!("{e:#}"), "rollout failed");
            let wave = self
                .store
                .get_rollout(rollout_id)
                .await
                .map(|r| r.current_wave)
                .unwrap_or(0);
            if let Err(e) = self
                .store
                .update_rollout(rollout_id, "failed", wave, Some(&format!("{e:#}")))
                .await
            {
                tracing::error!(rollout_id, error = %e, "cannot record a rollout's failure");
            }
        }
        self.notify();
    }

    async fn try_execute_rollout(self: &Arc<Self>, rollout_id: i64) -> Result<()> {
        let rollout = self.store.get_rollout(rollout_id).await?;
        let release = self.store.get_release(rollout.release_id).await?;
        let spec = release.service_spec()?;
        let artifacts = self.prepare_release(&release).await?;
        let waves = rollout.waves()?;
        let started = Instant::now();
        let mut probe_total = Duration::ZERO;
        for (index, (name, markets)) in waves.iter().enumerate().skip(rollout.current_wave as usize) {
            if !self.wait_to_start_wave(rollout_id, index as i64).await? {
                tracing::info!(rollout_id, "rollout aborted");
                return Ok(());
            }
            self.notify();
            tracing::info!(rollout_id, wave = %name, markets = markets.len(), "wave started");
            let limit = Arc::new(tokio::sync::Semaphore::new(self.settings.max_parallel_markets));
            let mut set = tokio::task::JoinSet::new();
            // A market already live on this release (a rollout resumed after a restart) is done.
            let done: std::collections::HashSet<String> = self
                .store
                .list_live_deployments()
                .await?
                .into_iter()
                .filter(|d| d.release_id == release.id)
                .map(|d| d.market)
                .collect();
            for market in markets.iter().filter(|m| !done.contains(*m)) {
                let (engine, limit, release, spec, artifacts, market) = (
                    self.clone(),
                    limit.clone(),
                    release.clone(),
                    spec.clone(),
                    artifacts.clone(),
                    market.clone(),
                );
                set.spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    engine
                        .deploy_market(Some(rollout_id), "release", &release, &spec, &artifacts, &market)
                        .await
                });
            }
            let mut failed = Vec::new();
            while let Some(joined) = set.join_next().await {
                let outcome = joined.map_err(|e| anyhow!("a market's deployment panicked: {e}"))?;
                probe_total += outcome.probe_time;
                if !outcome.healthy {
                    failed.push(format!("{}: {}", outcome.market, outcome.reason));
                }
            }
            if !failed.is_empty() {
                failed.sort();
                let reason = format!("wave `{name}` failed its gate in {}", failed.join("; "));
                if self.store.get_rollout(rollout_id).await?.state != "aborted" {
                    self.store
                        .update_rollout(rollout_id, "halted", index as i64, Some(&reason))
                        .await?;
                }
                return Ok(());
            }
        }
        let last = waves.len().saturating_sub(1) as i64;
        if self.store.get_rollout(rollout_id).await?.state == "aborted" {
            return Ok(());
        }
        self.store.update_rollout(rollout_id, "succeeded", last, None).await?;
        tracing::info!(
            rollout_id,
            elapsed_ms = started.elapsed().as_millis() as u64,
            probe_ms = probe_total.as_millis() as u64,
            "rollout done"
        );
        Ok(())
    }

    /// Pauses a rollout: the wave under way finishes, the next does not start until resumed.
    pub async fn pause_rollout(&self, id: i64, by: &str) -> Result<tandem_store::RolloutRow> {
        let row = self
            .store
            .set_rollout_state(id, &["pending", "running"], "paused", by, None)
            .await?;
        self.notify();
        Ok(row)
    }

    /// Resumes a paused rollout at its next wave.
    pub async fn resume_rollout(&self, id: i64, by: &str) -> Result<tandem_store::RolloutRow> {
        let row = self
            .store
            .set_rollout_state(id, &["paused"], "running", by, None)
            .await?;
        self.notify();
        Ok(row)
    }

    /// Aborts a rollout: no further wave starts; markets keep what they run now.
    pub async fn abort_rollout(&self, id: i64, by: &str) -> Result<tandem_store::RolloutRow> {
        let row = self
            .store
            .set_rollout_state(id, &["pending", "running", "paused"], "aborted", by, None)
            .await?;
        self.notify();
        Ok(row)
    }

    /// Starts wave `index` unless a person paused the rollout (then waits for resume or abort)
    /// or aborted it; returns false when the rollout was aborted.
    async fn wait_to_start_wave(&self, rollout_id: i64, index: i64) -> Result<bool> {
        loop {
            match self
                .store
                .set_rollout_state(rollout_id, &["pending", "running"], "running", "engine", Some(index))
                .await
            {
                Ok(_) => return Ok(true),
                Err(tandem_store::StoreError::Conflict(_)) => {
                    match self.store.get_rollout(rollout_id).await?.state.as_str() {
                        "paused" => tokio::time::sleep(PAUSE_POLL).await,
                        "aborted" => return Ok(false),
                        other => anyhow::bail!("rollout {rollout_id} is {other}: it cannot start wave {index}"),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Copies a release's artifacts out of the blob store (verifying each digest first) into
    /// the folder its processes run from; returns artifact name → path.
    pub(crate) async fn prepare_release(&self, release: &ReleaseRow) -> Result<HashMap<String, String>> {
        let dir = self.release_dir(release);
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut paths = HashMap::new();
        for a in self.store.list_release_artifacts(release.id).await? {
            let blobs = self.store.blobs().clone();
            let digest = a.digest.clone();
            if !tokio::task::spawn_blocking(move || blobs.verify(&digest)).await?? {
                bail!(
                    "artifact {} of release {} does not match its digest {}: refusing to deploy it",
                    a.name,
                    release.version,
                    a.digest
                );
            }
            let dest = dir.join(&a.name);
            if !dest.exists() {
                let tmp = dir.join(format!(".{}.tmp", a.name));
                tokio::fs::copy(self.store.blobs().path_of(&a.digest), &tmp).await?;
                use std::os::unix::fs::PermissionsExt;
                tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).await?;
                tokio::fs::rename(&tmp, &dest).await?;
            }
            paths.insert(a.name.clone(), dest.display().to_string());
        }
        Ok(paths)
    }

    /// Deploys a release to one market and reports the outcome; the deployment, and on failure
    /// an incident, are recorded in the store.
    pub(crate) async fn deploy_market(
        &self,
        rollout_id: Option<i64>,
        kind: &str,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        artifacts: &HashMap<String, String>,
        market: &str,
    ) -> MarketOutcome {
        let new = NewDeployment {
            rollout_id,
            service: &release.service,
            market,
            release_id: release.id,
        };
        let deployment = match self.store.insert_deployment_of_kind(new, kind).await {
            Ok(d) => d,
            Err(e) => {
                return outcome(
                    market,
                    false,
                    format!("cannot record the deployment: {e}"),
                    Duration::ZERO,
                );
            }
        };
        self.notify();
        let result = self
            .start_and_probe(release, spec, artifacts, market, deployment.id, None)
            .await;
        let done = match result {
            Ok((process, probe_time)) => {
                let url = format!("http://127.0.0.1:{}", process.port);
                let pid = process.pid;
                self.supervisor.promote(&release.service, market, process).await;
                self.store
                    .mark_deployment_live(deployment.id, &url, Some(pid))
                    .await
                    .map(|_| outcome(market, true, "healthy".into(), probe_time))
            }
            Err((reason, probe_time)) => {
                let recorded = self.store.mark_deployment_failed(deployment.id, &reason).await;
                let title = format!(
                    "{} {} failed its gate in {market}: {reason}",
                    release.service, release.version
                );
                match recorded {
                    Ok(()) => self
                        .store
                        .insert_incident(&release.service, market, Some(deployment.id), &title)
                        .await
                        .map(|_| outcome(market, false, reason, probe_time)),
                    Err(e) => Err(e),
                }
            }
        };
        self.notify();
        done.unwrap_or_else(|e| outcome(market, false, format!("cannot record the outcome: {e}"), Duration::ZERO))
    }

    /// Starts the release for a market on a port and probes it. On success returns the healthy
    /// process; on failure it has been stopped and the reason is returned.
    pub(crate) async fn start_and_probe(
        &self,
        release: &ReleaseRow,
        spec: &ServiceSpec,
        artifacts: &HashMap<String, String>,
        market: &str,
        deployment_id: i64,
        port: Option<u16>,
    ) -> Result<(crate::supervisor::MarketProcess, Duration), (String, Duration)> {
        let fail = |e: anyhow::Error| (format!("{e:#}"), Duration::ZERO);
        let deploy = spec
            .deploy
            .as_ref()
            .ok_or_else(|| fail(anyhow!("the release has no deploy section")))?;
        if deploy.driver != Driver::Process {
            return Err(fail(anyhow!("driver `command` is not supported yet: use `process`")));
        }
        let port = match port {
            Some(p) => p,
            None => free_port().map_err(fail)?,
        };
        let argv = render_deploy_command(&deploy.run, artifacts, port).map_err(|e| fail(anyhow!(e)))?;
        let dir = self.market_dir(&release.service, market);
        tokio::fs::create_dir_all(&dir).await.map_err(|e| fail(e.into()))?;
        let platform = self.store.load_platform().await.map_err(|e| fail(e.into()))?;
        let m = platform
            .market(market)
            .ok_or_else(|| fail(anyhow!("market `{market}` is not in the platform")))?;
        let layers = platform
            .service(&release.service)
            .map(|s| s.config.clone())
            .unwrap_or_default();
        let config = resolve_config(&layers, m);
        let config_file = dir.join(format!("config-{deployment_id}.json"));
        let text = serde_json::to_vec_pretty(&config.values).map_err(|e| fail(e.into()))?;
        tokio::fs::write(&config_file, text).await.map_err(|e| fail(e.into()))?;

        let mut env: BTreeMap<String, String> = ["PATH", "HOME", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        env.insert("TANDEM_CONFIG_FILE".into(), config_file.display().to_string());
        env.insert("TANDEM_MARKET".into(), market.to_string());
        env.insert("TANDEM_SERVICE".into(), release.service.clone());
        env.insert("TANDEM_RELEASE".into(), release.version.clone());
        env.insert("PORT".into(), port.to_string());
        let log = dir.join(format!("{}.log", release.version));
        let mut process = self
            .supervisor
            .spawn(&argv, &env, &log, port, &release.version)
            .map_err(fail)?;

        let started = Instant::now();
        let url = format!("http://127.0.0.1:{port}{}", spec.gates.probe.path);
        let mut tally = ProbeTally::default();
        let verdict = loop {
            if let Some(status) = process.exited() {
                break Err(format!(
                    "the process exited during its probe ({status}){}",
                    last_words(&log).await
                ));
            }
            let ok = match self.http.get(&url).timeout(PROBE_TIMEOUT).send().await {
                Ok(resp) => resp.status().is_success(),
                Err(_) => false,
            };
            // A process still starting up refuses connections: that is not yet a failure.
            let counted = ok || tally.consecutive_successes > 0 || started.elapsed() > Duration::from_secs(2);
            if counted {
                match tally.record(ok, spec.gates.probe.successes, spec.gates.probe.failures) {
                    ProbeVerdict::Healthy => break Ok(()),
                    ProbeVerdict::Unhealthy => {
                        break Err(format!(
                            "probe {} failed {} times in a row",
                            spec.gates.probe.path, tally.consecutive_failures
                        ));
                    }
                    ProbeVerdict::Pending => {}
                }
            }
            if started.elapsed() > PROBE_DEADLINE {
                break Err(format!(
                    "probe {} did not pass within {}s",
                    spec.gates.probe.path,
                    PROBE_DEADLINE.as_secs()
                ));
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        };
        let verdict = match verdict {
            Ok(()) if !spec.gates.bake.is_zero() => {
                tokio::time::sleep(spec.gates.bake).await;
                match process.exited() {
                    Some(status) => Err(format!(
                        "the process exited during its bake time ({status}){}",
                        last_words(&log).await
                    )),
                    None => Ok(()),
                }
            }
            other => other,
        };
        let probe_time = started.elapsed();
        match verdict {
            Ok(()) => Ok((process, probe_time)),
            Err(reason) => {
                stop(process).await;
                Err((reason, probe_time))
            }
        }
    }

    /// Where a release's artifacts are copied for its processes to run from.
    pub(crate) fn release_dir(&self, release: &ReleaseRow) -> PathBuf {
        self.settings
            .deploy_dir
            .join(&release.service)
            .join("releases")
            .join(&release.version)
    }

    fn market_dir(&self, service: &str, market: &str) -> PathBuf {
        self.settings.deploy_dir.join(service).join("markets").join(market)
    }
}

/// The last line a dead process wrote to its log, to say why it died: `: <line>`, or nothing.
async fn last_words(log: &std::path::Path) -> String {
    let text = tokio::fs::read_to_string(log).await.unwrap_or_default();
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("note:"));
    line.map(|l| format!(": {}", l.chars().take(200).collect::<String>()))
        .unwrap_or_default()
}

fn outcome(market: &str, healthy: bool, reason: String, probe_time: Duration) -> MarketOutcome {
    MarketOutcome {
        market: market.to_string(),
        healthy,
        reason,
        probe_time,
    }
}
