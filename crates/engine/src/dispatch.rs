//! Jobs on agents. The server executes nothing: with `EngineSettings::on_agents`, a run's ready
//! job is *offered* in the store, an agent (`tandem agent`, over HTTP) *claims* it under a lease,
//! runs it with [`crate::runner::run_job`] and reports its steps, log, artifacts and end. The
//! run's task waits here for that end, and it is the one that finds a job whose agent stopped
//! answering: it offers it again (or fails it, as the job's `agent-lost` says).
//!
//! The agent's side of the conversation (the shapes below) is in the `tandem-agent` crate; the
//! routes in the server's `agents` module.

use crate::Engine;
use crate::job::{JobOutcome, RunContext};
use crate::plan::PlannedJob;
use crate::runner::JobPlan;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::pipeline::AgentLost;
use tandem_core::state::JobState;
use tandem_store::agents::AgentRow;
use tandem_store::{StepRow, now_ms};

/// How long a claimed job's lease lasts without a report, by default: an agent that dies is
/// found out this long after its last report, and its job offered again.
pub const JOB_LEASE: Duration = Duration::from_secs(15);
/// How often the run's task looks at a job an agent runs (besides being woken by changes).
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// An agent is counted as connected this long after it last asked for work.
const AGENT_FRESH: Duration = Duration::from_secs(60);

/// What an agent sends when it asks for a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub labels: Vec<String>,
    /// How many jobs it runs at once.
    pub capacity: u32,
    /// How many more it can take now.
    pub free: u32,
    pub version: String,
    pub host: String,
    /// How long the server may hold the request open waiting for a job (ms, at most 25 s).
    #[serde(default)]
    pub wait_ms: u64,
}

/// The server's answer: a job or a deploy (or none yet), and what the operator asked of the
/// agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimAnswer {
    pub job: Option<Claimed>,
    /// A market's deploy command (`deploy.runs-on`).
    #[serde(default)]
    pub task: Option<ClaimedTask>,
    /// `active`, `paused` or `draining` (finish what you run, then exit).
    pub mode: String,
}

/// A job given to one agent.
#[derive(Clone, Serialize, Deserialize)]
pub struct Claimed {
    pub plan: JobPlan,
    /// The job token: it authenticates this agent's reports on this job alone, and dies with
    /// the claim.
    pub token: String,
    /// The values of the secrets the job declares, and no other.
    pub secrets: BTreeMap<String, String>,
    /// How long the lease lasts after each report (ms).
    pub lease_ms: u64,
    /// How often to report at least (ms).
    pub beat_ms: u64,
}

/// Shown without the token or the secrets' values (a debug print must not leak them).
impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("job", &self.plan.job_id)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("lease_ms", &self.lease_ms)
            .finish_non_exhaustive()
    }
}

/// A market's deploy command, as an agent runs it (`deploy.runs-on`): the same command, facts
/// and timeout as on the server; the config file and the artifacts are fetched first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployPlan {
    pub service: String,
    pub market: String,
    pub release: String,
    pub commit: String,
    pub deployment_id: i64,
    /// `deploy`, `rollback`, or `shift` (a canary's `deploy.shift`, with its `weight`).
    pub action: String,
    pub command: String,
    /// `shift`: the new release's share of the market's traffic, in percent (`TANDEM_WEIGHT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
    pub timeout_ms: u64,
    /// The market's resolved config (JSON text), written to `TANDEM_CONFIG_FILE`.
    pub config: String,
    /// The release's artifacts: name → sha256, fetched into `TANDEM_ARTIFACT_DIR`.
    pub artifacts: BTreeMap<String, String>,
}

/// A deploy given to one agent, with its token (for this task alone).
#[derive(Clone, Serialize, Deserialize)]
pub struct ClaimedTask {
    pub id: i64,
    pub plan: DeployPlan,
    pub token: String,
    pub lease_ms: u64,
    pub beat_ms: u64,
}

/// Shown without the token.
impl std::fmt::Debug for ClaimedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedTask")
            .field("id", &self.id)
            .field("market", &self.plan.market)
            .finish_non_exhaustive()
    }
}

/// The answer to a report: whether the job is to stop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BeatAnswer {
    pub cancel: bool,
}

/// A step's new state, as an agent reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    pub state: tandem_core::state::StepState,
    pub exit_code: Option<i64>,
}

/// How a job ended on its agent (its log is the body of the report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndReport {
    pub passed: bool,
    pub exit_code: Option<i64>,
    /// Stopped on the agent's side (its operator cancelled its jobs).
    #[serde(default)]
    pub cancelled: bool,
}

impl Engine {
    /// Offers a job to agents and waits for its end.
    pub(crate) async fn execute_on_agent(
        self: &Arc<Self>,
        ctx: &RunContext,
        job: &PlannedJob,
        job_id: i64,
        steps: &[StepRow],
    ) -> Result<JobOutcome> {
        let plan = self.job_plan(ctx, job, job_id, steps);
        let text = serde_json::to_string(&plan).context("cannot write the job's plan")?;
        self.store.offer_job(job_id, &text, &job.spec.runs_on).await?;
        self.notify();
        let mut changes = self.subscribe_wide();
        let mut asked_cancel = false;
        let mut waiting: Option<String> = None;
        let mut looked_at_agents = tokio::time::Instant::now() - Duration::from_secs(10);
        loop {
            let row = self.store.get_dispatched_job(job_id).await?;
            match row.state.as_str() {
                "success" => return Ok(JobOutcome { passed: true }),
                "failed" | "cancelled" | "interrupted" | "skipped" => return Ok(JobOutcome { passed: false }),
                _ => {}
            }
            if ctx.stop.is_cancelled() && !asked_cancel {
                asked_cancel = true;
                if self.store.ask_cancel_job(job_id).await? {
                    self.notify();
                    return Ok(JobOutcome { passed: false });
                }
            }
            let now = now_ms();
            if row.state == "running"
                && let (Some(until), Some(claim)) = (row.lease_until, &row.claim_hash)
                && until < now
            {
                let agent = match row.agent_id {
                    Some(id) => self.store.get_agent(id).await?.map(|a| a.name),
                    None => None,
                };
                let agent = agent.unwrap_or_else(|| "?".into());
                let retry = job.spec.agent_lost == AgentLost::Retry
                    && row.lost < AgentLost::MAX_RETRIES
                    && !ctx.stop.is_cancelled();
                let why = match retry {
                    true => format!("agent `{agent}` stopped answering: offered again"),
                    false if job.spec.agent_lost == AgentLost::Fail => {
                        format!("agent `{agent}` stopped answering, and the job says `agent-lost: fail`")
                    }
                    false => format!(
                        "agent `{agent}` stopped answering, after {} lost agents already",
                        row.lost
                    ),
                };
                if self.store.lose_job(job_id, claim, retry, &why).await? {
                    tracing::warn!(job_id, agent = %agent, retry, "an agent stopped answering while running a job");
                    let _ = tokio::fs::remove_file(self.job_log_path(job_id)).await;
                    self.notify();
                }
                continue;
            }
            if row.state == "pending" && looked_at_agents.elapsed() >= Duration::from_secs(1) {
                looked_at_agents = tokio::time::Instant::now();
                let why = self.why_waiting(&job.spec.runs_on).await?;
                if why != waiting {
                    self.store.set_job_waiting(job_id, why.as_deref()).await?;
                    waiting = why;
                    self.notify();
                }
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(WATCH_EVERY) => {}
                _ = ctx.stop.cancelled(), if !asked_cancel => {}
            }
        }
    }

    /// Why no agent takes a job needing `labels` (none: one could).
    async fn why_waiting(&self, labels: &[String]) -> Result<Option<String>> {
        let fresh = now_ms() - AGENT_FRESH.as_millis() as i64;
        let agents = self.store.list_agents().await?;
        let live: Vec<&AgentRow> = agents
            .iter()
            .map(|(a, _)| a)
            .filter(|a| a.revoked_at.is_none() && a.seen_at.is_some_and(|s| s >= fresh))
            .collect();
        let matching: Vec<&&AgentRow> = live.iter().filter(|a| has_labels(&a.labels(), labels)).collect();
        Ok(if live.is_empty() || (matching.is_empty() && labels.is_empty()) {
            Some("no agent is connected".into())
        } else if matching.is_empty() {
            Some(format!("no agent with labels {}", labels.join(", ")))
        } else if matching.iter().all(|a| a.mode != "active") {
            Some(format!(
                "every agent with {} is paused or draining",
                match labels.is_empty() {
                    true => "any label".to_string(),
                    false => format!("labels {}", labels.join(", ")),
                }
            ))
        } else {
            None
        })
    }

    /// Gives `agent` the oldest offered job its labels match, if any.
    pub async fn claim_for_agent(&self, agent: &AgentRow, request: &ClaimRequest) -> crate::Result<Option<Claimed>> {
        if agent.mode != "active" || request.free == 0 {
            return Ok(None);
        }
        let holding = self
            .store
            .list_agents()
            .await?
            .into_iter()
            .find(|(a, _)| a.id == agent.id)
            .map_or(0, |(_, n)| n);
        if holding >= i64::from(request.capacity.max(1)) {
            return Ok(None);
        }
        for offered in self.store.list_offered_jobs(200).await? {
            if !has_labels(&request.labels, &offered.runs_on()) {
                continue;
            }
            let token = crate::secrets::random_token("tjob");
            let lease = self.settings.job_lease;
            let until = now_ms() + lease.as_millis() as i64;
            let Some(text) = self.store.claim_job(offered.id, agent, &token, until).await? else {
                continue;
            };
            let _ = tokio::fs::remove_file(self.job_log_path(offered.id)).await;
            self.notify();
            let plan: JobPlan = read_plan("job", offered.id, &text)?;
            let mut secrets = BTreeMap::new();
            for name in &plan.spec.secrets {
                let used_by = crate::secrets::SecretUse::Job {
                    run: plan.run_id,
                    job: &plan.name,
                };
                match self.secret(name, used_by).await {
                    Ok(value) => {
                        secrets.insert(name.clone(), value);
                    }
                    Err(e) => {
                        // The job cannot run: it fails here, its log saying why.
                        let text = format!("✗ secret {name}: {e}\n");
                        let packed = self.store.pack_log_text(text.into_bytes()).await?;
                        self.store
                            .finish_claimed_job(offered.id, &token, JobState::Failed, None, &packed)
                            .await?;
                        self.notify();
                        return Ok(None);
                    }
                }
            }
            tracing::info!(job_id = offered.id, agent = %agent.name, "job taken by an agent");
            return Ok(Some(Claimed {
                plan,
                token,
                secrets,
                lease_ms: lease.as_millis() as u64,
                beat_ms: (lease.as_millis() as u64 / 4).max(250),
            }));
        }
        Ok(None)
    }

    /// Gives `agent` the oldest deploy its labels match, if any.
    pub async fn claim_task_for_agent(
        &self,
        agent: &AgentRow,
        request: &ClaimRequest,
    ) -> crate::Result<Option<ClaimedTask>> {
        if agent.mode != "active" || request.free == 0 {
            return Ok(None);
        }
        for task in self.store.list_offered_tasks(100).await? {
            if !has_labels(&request.labels, &task.runs_on()) {
                continue;
            }
            let token = crate::secrets::random_token("ttask");
            let lease = self.settings.job_lease;
            if !self
                .store
                .claim_task(task.id, agent, &token, now_ms() + lease.as_millis() as i64)
                .await?
            {
                continue;
            }
            self.notify();
            let plan: DeployPlan = read_plan("task", task.id, &task.plan)?;
            tracing::info!(task = task.id, market = %plan.market, agent = %agent.name, "deploy taken by an agent");
            return Ok(Some(ClaimedTask {
                id: task.id,
                plan,
                token,
                lease_ms: lease.as_millis() as u64,
                beat_ms: (lease.as_millis() as u64 / 4).max(250),
            }));
        }
        Ok(None)
    }

    /// The running task this token was given for, if the claim still holds.
    pub async fn find_claimed_task(
        &self,
        task_id: i64,
        token: &str,
    ) -> crate::Result<Option<tandem_store::agents::TaskRow>> {
        Ok(self.store.find_claimed_task(task_id, token).await?)
    }

    /// Extends a claimed task's lease; false when the claim is gone.
    pub async fn renew_task_lease(&self, task_id: i64, token: &str) -> crate::Result<bool> {
        let until = now_ms() + self.settings.job_lease.as_millis() as i64;
        Ok(self.store.renew_task_lease(task_id, token, until).await?)
    }

    /// An artifact of a claimed deploy, as a local file (the plan names it by its sha256).
    pub async fn task_artifact(&self, task: &tandem_store::agents::TaskRow, name: &str) -> crate::Result<PathBuf> {
        let plan: DeployPlan = read_plan("task", task.id, &task.plan)?;
        let digest = plan
            .artifacts
            .get(name)
            .ok_or_else(|| crate::Error::missing(format!("artifact `{name}` of this deploy")))?;
        Ok(self.store.local_blob(digest).await?)
    }

    /// Ends a claimed deploy; false when the claim moved on.
    pub async fn task_end(&self, task_id: i64, token: &str, report: &EndReport, log: &str) -> crate::Result<bool> {
        let ended = self
            .store
            .finish_task(task_id, token, report.passed, report.exit_code, log)
            .await?;
        if ended {
            self.notify();
        }
        Ok(ended)
    }

    /// Runs a market's deploy (or shift) command on an agent with `labels`, and waits for its
    /// end; its log goes to `log`. What the server's own run of it would return.
    pub(crate) async fn deploy_on_agent(
        &self,
        target: &crate::driver::Target<'_>,
        command: crate::driver::UserCommand<'_>,
        labels: Vec<String>,
        log: &Path,
    ) -> std::result::Result<(), String> {
        let what = command.what;
        let inner = async {
            let artifacts = self
                .store
                .list_release_artifacts(target.release.id)
                .await?
                .into_iter()
                .map(|a| (a.name, a.digest))
                .collect();
            let config = tokio::fs::read_to_string(&target.config_file)
                .await
                .unwrap_or_else(|_| "{}".into());
            let timeout = target.deploy.timeout();
            let plan = DeployPlan {
                service: target.release.service.clone(),
                market: target.market.to_string(),
                release: target.release.version.clone(),
                commit: target.release.commit_sha.clone(),
                deployment_id: target.deployment_id,
                action: command.action.to_string(),
                command: command.run.to_string(),
                weight: command.weight,
                timeout_ms: timeout.as_millis() as u64,
                config,
                artifacts,
            };
            let id = self
                .store
                .offer_task(
                    "deploy",
                    &serde_json::to_string(&plan).context("cannot write the plan")?,
                    &labels,
                )
                .await?;
            self.notify();
            // No agent taking it within the deploy's own timeout (and a minute) fails it.
            let give_up = tokio::time::Instant::now() + timeout + Duration::from_secs(60);
            let mut changes = self.subscribe_wide();
            loop {
                let row = self.store.get_task(id).await?;
                let agent = match row.agent_id {
                    Some(a) => self.store.get_agent(a).await?.map(|a| a.name),
                    None => None,
                };
                let agent = agent.unwrap_or_else(|| "?".into());
                match row.state.as_str() {
                    "success" | "failed" => {
                        let text = row.log.clone().unwrap_or_default();
                        let _ = tokio::fs::write(log, &text).await;
                        return anyhow::Ok(match (row.state.as_str(), row.error) {
                            ("success", _) => Ok(()),
                            (_, Some(error)) => Err(error),
                            (_, None) => Err(format!(
                                "the {what} command failed on agent {agent} (exit {}){}",
                                row.exit_code.map_or("-".into(), |c| c.to_string()),
                                crate::driver::last_words(log).await
                            )),
                        });
                    }
                    "running"
                        if row.lease_until.is_some_and(|u| u < now_ms())
                            && let Some(claim) = &row.claim_hash =>
                    {
                        let why = format!(
                            "agent {agent} stopped answering during the {what} of {}: it may have run in part",
                            target.market
                        );
                        self.store.fail_task(id, Some(claim), &why).await?;
                        continue;
                    }
                    "pending" if tokio::time::Instant::now() >= give_up => {
                        let why = format!(
                            "no agent with labels {} took the {what} of {} within {}s",
                            labels.join(", "),
                            target.market,
                            (timeout + Duration::from_secs(60)).as_secs()
                        );
                        self.store.fail_task(id, None, &why).await?;
                        continue;
                    }
                    _ => {}
                }
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = tokio::time::sleep(WATCH_EVERY) => {}
                }
            }
        };
        match inner.await {
            Ok(result) => result,
            Err(e) => Err(format!("cannot hand the {what} to an agent: {e:#}")),
        }
    }

    /// The region of a market (empty when it cannot be read).
    pub(crate) async fn market_region(&self, market: &str) -> String {
        self.store
            .list_markets()
            .await
            .ok()
            .and_then(|ms| ms.into_iter().find(|m| m.id == market))
            .map(|m| m.region)
            .unwrap_or_default()
    }

    /// Records what an agent says of itself as it asks for work.
    pub async fn agent_seen(&self, agent: &AgentRow, request: &ClaimRequest) -> crate::Result<()> {
        self.store
            .agent_seen(
                agent.id,
                &request.labels,
                i64::from(request.capacity),
                &request.version,
                &request.host,
            )
            .await?;
        Ok(())
    }

    /// The live agent whose token this is.
    pub async fn find_agent(&self, secret: &str) -> crate::Result<Option<AgentRow>> {
        Ok(self.store.find_agent(secret).await?)
    }

    /// The running job this job token was given for, if the claim still holds.
    pub async fn find_claimed_job(
        &self,
        job_id: i64,
        token: &str,
    ) -> crate::Result<Option<tandem_store::agents::ClaimedJob>> {
        Ok(self.store.find_claimed_job(job_id, token).await?)
    }

    /// Extends a claimed job's lease; whether it is to stop, or `None` when the claim is gone.
    pub async fn renew_job_lease(&self, job_id: i64, token: &str) -> crate::Result<Option<bool>> {
        let until = now_ms() + self.settings.job_lease.as_millis() as i64;
        Ok(self.store.renew_job_lease(job_id, token, until).await?)
    }

    /// A step of a claimed job changed.
    pub async fn agent_step(&self, job_id: i64, step_id: i64, report: &StepReport) -> crate::Result<()> {
        self.store
            .report_step(job_id, step_id, report.state, report.exit_code)
            .await?;
        self.notify();
        Ok(())
    }

    /// A piece of a claimed job's live log, at `offset`.
    pub async fn agent_log_piece(&self, job_id: i64, offset: u64, bytes: &[u8]) -> crate::Result<()> {
        use tokio::io::{AsyncSeekExt, AsyncWriteExt};
        let path = self.job_log_path(job_id);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .await
            .with_context(|| format!("cannot open {}", path.display()))?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .context("cannot seek in a live log")?;
        file.write_all(bytes).await.context("cannot write a live log")?;
        if self.store.is_shared()
            && let Err(e) = self.store.append_live_log(job_id, offset, bytes).await
        {
            tracing::debug!(job_id, error = %e, "cannot share a piece of a live log");
        }
        self.notify();
        Ok(())
    }

    /// Ends a claimed job with the log its agent kept (a file here); false when the claim
    /// moved on meanwhile.
    pub async fn agent_end(
        &self,
        job: &tandem_store::agents::ClaimedJob,
        token: &str,
        report: &EndReport,
        log: &Path,
    ) -> crate::Result<bool> {
        let packed = self.store.pack_log(log).await?;
        let state = if report.passed {
            JobState::Success
        } else if job.cancel_asked_at.is_some() || report.cancelled {
            JobState::Cancelled
        } else {
            JobState::Failed
        };
        let ended = self
            .store
            .finish_claimed_job(job.id, token, state, report.exit_code, &packed)
            .await?;
        if ended {
            if let Err(e) = self.store.drop_live_log(job.id).await {
                tracing::debug!(job_id = job.id, error = %e, "cannot forget a live log: the next collection does");
            }
            let _ = tokio::fs::remove_file(self.job_log_path(job.id)).await;
            self.notify();
        }
        Ok(ended)
    }

    /// Keeps a file an agent uploaded as an artifact of its job.
    pub async fn agent_artifact(
        &self,
        job: &tandem_store::agents::ClaimedJob,
        rel: &str,
        file: &Path,
    ) -> crate::Result<(String, u64)> {
        let plan = claimed_plan(job)?;
        Ok(self.keep_artifact(job.run_id, job.id, &plan.spec, rel, file).await?)
    }

    /// The archive of a job's cache for `key`, as a local file, if there is one.
    pub async fn agent_cache(
        &self,
        job: &tandem_store::agents::ClaimedJob,
        key: &str,
    ) -> crate::Result<Option<PathBuf>> {
        let plan = claimed_plan(job)?;
        match self.store.get_cache(&plan.service, key).await? {
            Some(digest) => Ok(Some(self.store.local_blob(&digest).await?)),
            None => Ok(None),
        }
    }

    /// Keeps an archive an agent uploaded as its job's cache for `key`.
    pub async fn agent_keep_cache(
        &self,
        job: &tandem_store::agents::ClaimedJob,
        key: &str,
        archive: &Path,
    ) -> crate::Result<u64> {
        let plan = claimed_plan(job)?;
        let (digest, size) = self.store.put_blob_file(archive).await?;
        self.store.save_cache(&plan.service, key, &digest, size).await?;
        Ok(size)
    }

    /// A tar archive of the tree of a claimed job's commit (made once per commit, kept while
    /// runs of it go on).
    pub async fn agent_source(&self, job: &tandem_store::agents::ClaimedJob) -> crate::Result<PathBuf> {
        let plan = claimed_plan(job)?;
        let path = self.settings.work_dir.join(format!("source-{}.tar", plan.commit));
        let _making = self.sources.lock().await;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(path);
        }
        let repo = self.repo_with_commit(&plan.service, &plan.commit).await?;
        let (sha, out) = (plan.commit.clone(), path.clone());
        let tmp_dir = self.settings.work_dir.join(format!("source-{}.d", plan.commit));
        tokio::task::spawn_blocking(move || -> Result<()> {
            let _ = std::fs::remove_dir_all(&tmp_dir);
            crate::git::checkout(&repo, &sha, &tmp_dir)?;
            let partial = out.with_extension("tar.part");
            let file =
                std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
            let mut tar = tar::Builder::new(file);
            tar.follow_symlinks(false);
            tar.append_dir_all(".", &tmp_dir)
                .context("cannot archive the commit's tree")?;
            tar.into_inner().context("cannot finish the commit's archive")?;
            std::fs::rename(&partial, &out).with_context(|| format!("cannot write {}", out.display()))?;
            let _ = std::fs::remove_dir_all(&tmp_dir);
            Ok(())
        })
        .await
        .map_err(|e| crate::Error::Internal(anyhow::anyhow!("the archive task failed: {e}")))??;
        Ok(path)
    }

    /// Every agent, with how many jobs each holds now.
    pub async fn list_agents(&self) -> crate::Result<Vec<(AgentRow, i64)>> {
        Ok(self.store.list_agents().await?)
    }

    /// Registers an agent; returns its token, shown once.
    pub async fn register_agent(&self, name: &str, by: &str) -> crate::Result<(AgentRow, String)> {
        check_agent_name(name)?;
        let token = crate::secrets::random_token("tagent");
        let row = self.store.register_agent(name, &token, by).await?;
        Ok((row, token))
    }

    /// Gives an agent a new token (shown once); the old one stops working.
    pub async fn rotate_agent(&self, name: &str) -> crate::Result<(AgentRow, String)> {
        let token = crate::secrets::random_token("tagent");
        let row = self.store.rotate_agent(name, &token).await?;
        Ok((row, token))
    }

    /// Revokes an agent; the jobs it holds are lost at once.
    pub async fn revoke_agent(&self, name: &str) -> crate::Result<AgentRow> {
        let row = self.store.revoke_agent(name).await?;
        self.notify();
        Ok(row)
    }

    /// Pauses, drains or resumes an agent.
    pub async fn set_agent_mode(&self, name: &str, mode: &str, by: &str) -> crate::Result<AgentRow> {
        let row = self.store.set_agent_mode(name, mode, by).await?;
        self.notify();
        Ok(row)
    }
}

fn claimed_plan(job: &tandem_store::agents::ClaimedJob) -> crate::Result<JobPlan> {
    read_plan("job", job.id, job.plan.as_deref().unwrap_or_default())
}

/// A job's or task's plan as the store keeps it (JSON written by this engine).
fn read_plan<T: serde::de::DeserializeOwned>(kind: &str, id: i64, text: &str) -> crate::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| crate::Error::Internal(anyhow::anyhow!("{kind} {id}'s plan cannot be read: {e}")))
}

/// Whether an agent with `labels` has every one of `needed`.
pub fn has_labels(labels: &[String], needed: &[String]) -> bool {
    needed.iter().all(|n| labels.contains(n))
}

/// An agent's name: like a token's, 1 to 64 letters, digits, `-`, `_` or `.`.
fn check_agent_name(name: &str) -> crate::Result<()> {
    let ok =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    match ok {
        true => Ok(()),
        false => Err(crate::Error::invalid_at(
            "name",
            format!("agent name `{name}` is not valid: expected 1 to 64 letters, digits, `-`, `_` or `.`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::has_labels;

    #[test]
    fn an_agent_takes_a_job_only_with_every_label_it_needs() {
        let agent = vec!["linux".to_string(), "gpu".to_string()];
        assert!(has_labels(&agent, &[]));
        assert!(has_labels(&agent, &["gpu".to_string()]));
        assert!(!has_labels(&agent, &["gpu".to_string(), "arm64".to_string()]));
        assert!(!has_labels(&[], &["gpu".to_string()]));
    }
}
