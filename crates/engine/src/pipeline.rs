//! The pipeline runner. A run reads `tandem.yml` at its commit, expands matrix jobs, records
//! every job, then schedules them: jobs whose needs are met start in parallel (up to a limit),
//! a failed job cancels the others (fail-fast) unless it may fail (`continue-on-error`), and a
//! job whose needs failed, or whose `if:` does not hold, is skipped. A green run on the
//! service's branch makes a release.
//!
//! The run's state is in the store at every step: a crash leaves it `running`, and the next
//! start marks it `interrupted` so it can be re-run; nothing stays running forever.

use crate::Engine;
use crate::git;
use crate::job::{JobOutcome, RunContext};
use crate::plan::{PlannedJob, plan_jobs};
use anyhow::{Context, Result, anyhow};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_core::pipeline::expr::{Facts, parse_condition};
use tandem_core::pipeline::{ServiceSpec, parse_service_spec};
use tandem_core::state::{JobState, RunState};
use tandem_store::{NewJob, RunRow, StepRow};
use tokio_util::sync::CancellationToken;

/// The pipeline file every service repository holds at its root.
pub const SPEC_FILE: &str = "tandem.yml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Pending,
    Running,
    Passed,
    /// Failed, but `continue-on-error` lets the run go on.
    FailedAllowed,
    Failed,
    Skipped,
}

impl Engine {
    /// Runs a queued run to its end. Errors are recorded on the run, not returned.
    pub async fn execute_run(self: &Arc<Self>, run_id: i64) {
        // Claimed when queued, so a cancel before it starts still counts.
        let stop = self.running_runs.lock().await.entry(run_id).or_default().clone();
        // Started already (by a previous conductor, or before this claim): not this one's.
        match self.store.get_run(run_id).await {
            Ok(run) if run.state == RunState::Queued => {}
            _ => {
                self.running_runs.lock().await.remove(&run_id);
                return;
            }
        }
        let outcome = match self.settings.on_agents {
            // Its jobs run on agents, which report to this server: when it stops, the run is
            // left as it is, and the next conductor marks it interrupted.
            true => tokio::select! {
                outcome = self.try_execute_run(run_id, &stop) => outcome,
                _ = self.stop.cancelled() => {
                    self.running_runs.lock().await.remove(&run_id);
                    return;
                }
            },
            false => self.try_execute_run(run_id, &stop).await,
        };
        self.running_runs.lock().await.remove(&run_id);
        let store = &self.store;
        let result = match outcome {
            Ok(_) if stop.is_cancelled() => {
                store
                    .finish_run(run_id, RunState::Cancelled, Some("cancelled by hand"))
                    .await
            }
            Ok(None) => store.finish_run(run_id, RunState::Success, None).await,
            Ok(Some(failed)) => {
                store
                    .finish_run(run_id, RunState::Failed, Some(&format!("job `{failed}` failed")))
                    .await
            }
            Err(e) => {
                tracing::warn!(run_id, error = %format!("{e:#}"), "run failed");
                store
                    .finish_run(run_id, RunState::Failed, Some(&format!("{e:#}")))
                    .await
            }
        };
        if let Err(e) = result {
            tracing::error!(run_id, error = %e, "cannot record the end of a run");
        }
        self.notify();
    }

    /// Asks a run in progress to stop: its running steps get TERM, then KILL.
    pub async fn cancel_run(&self, run_id: i64) -> crate::Result<()> {
        let run = self.store.get_run(run_id).await?;
        match self.running_runs.lock().await.get(&run_id) {
            Some(token) => {
                token.cancel();
                Ok(())
            }
            // Another server is the conductor: the one executing it hears the signal.
            None if run.state.is_in_progress() && !self.is_conductor() => {
                self.signal(crate::conductor::Signal::CancelRun(run_id));
                Ok(())
            }
            None if run.state.is_in_progress() => Err(crate::Error::Conflict(format!(
                "run {run_id} is marked {} but no worker of this server holds it (a previous server stopped during it); \
                 it will be marked interrupted at the next start",
                run.state
            ))),
            None => Err(crate::Error::Conflict(format!(
                "run {run_id} is {}, not in progress: nothing to cancel",
                run.state
            ))),
        }
    }

    /// Returns the first failed job, or `None` when the run passed.
    async fn try_execute_run(self: &Arc<Self>, run_id: i64, stop: &CancellationToken) -> Result<Option<String>> {
        let run = self.store.get_run(run_id).await?;
        let repo = self.repo_with_commit(&run.service, &run.commit_sha).await?;
        let spec = self.read_spec(&repo, &run.commit_sha).await?;
        let markets: Vec<String> = self.store.list_markets().await?.into_iter().map(|m| m.id).collect();
        let planned = plan_jobs(&spec, &markets);
        let reused = self.reusable_jobs(&run).await?;
        let jobs: Vec<NewJob> = planned
            .iter()
            .map(|j| NewJob {
                name: j.name.clone(),
                needs: j.needs.clone(),
                steps: j
                    .spec
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        (
                            s.name.clone().unwrap_or_else(|| default_step_name(&s.run, i)),
                            s.run.clone(),
                        )
                    })
                    .collect(),
            })
            .collect();
        self.store.start_run(run_id, &jobs).await?;
        self.notify();
        let rows = self.store.list_jobs(run_id).await?;
        let changed = self.changed_paths(&run, &repo).await;
        let run_dir = self.settings.work_dir.join(format!("run-{run_id}"));
        tokio::fs::create_dir_all(&run_dir)
            .await
            .with_context(|| format!("cannot create {}", run_dir.display()))?;

        let mut steps: HashMap<i64, Vec<StepRow>> = HashMap::new();
        for step in self.store.list_run_steps(run_id).await? {
            steps.entry(step.job_id).or_default().push(step);
        }

        let mut slots: Vec<Slot> = vec![Slot::Pending; planned.len()];
        let index: HashMap<&str, usize> = planned.iter().enumerate().map(|(i, j)| (j.name.as_str(), i)).collect();
        let limit = self.settings.max_parallel_jobs.max(1);
        let mut running = tokio::task::JoinSet::new();
        let mut first_failure: Option<String> = None;
        let job_stop = stop.child_token();
        let ctx = Arc::new(RunContext::new(
            run.clone(),
            repo.clone(),
            spec.env.clone(),
            run_dir.clone(),
            job_stop.clone(),
        ));
        // The context of the jobs that run after fail-fast stopped the others.
        let mut late_ctx: Option<Arc<RunContext>> = None;
        loop {
            // Whether this pass recorded something (a job skipped or reused) that views should
            // hear of; a job started says so itself when its start is recorded.
            let mut recorded = false;
            for i in 0..planned.len() {
                if slots[i] != Slot::Pending {
                    continue;
                }
                let needs: Vec<Slot> = planned[i]
                    .needs
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).map(|j| slots[*j]))
                    .collect();
                if needs.iter().any(|s| matches!(s, Slot::Pending | Slot::Running)) {
                    continue;
                }
                let needs_ok = needs.iter().all(|s| matches!(s, Slot::Passed | Slot::FailedAllowed));
                let facts = Facts {
                    vars: run_facts(&run, &planned[i]),
                    changed: changed.clone(),
                    ok_so_far: needs_ok && first_failure.is_none(),
                };
                let condition = planned[i].spec.condition.as_deref().map(parse_condition);
                let runs = match &condition {
                    Some(parsed) => parsed.as_ref().map(|e| e.holds(&facts)).unwrap_or(false),
                    None => facts.ok_so_far,
                };
                // `if: failure()` / `if: always()` jobs run after a failure: fail-fast stops the
                // others, not them (a cancel by hand stops them too).
                let after_failure = matches!(&condition, Some(Ok(e)) if e.mentions_status());
                if !runs || stop.is_cancelled() || (job_stop.is_cancelled() && !after_failure) {
                    slots[i] = Slot::Skipped;
                    self.store.update_job_state(rows[i].id, JobState::Skipped).await?;
                    recorded = true;
                    continue;
                }
                if let Some(old) = reused.get(&planned[i].name) {
                    self.store.reuse_job(run_id, rows[i].id, old).await?;
                    slots[i] = Slot::Passed;
                    recorded = true;
                    continue;
                }
                if running.len() >= limit {
                    continue;
                }
                slots[i] = Slot::Running;
                let ctx = match after_failure && job_stop.is_cancelled() {
                    true => late_ctx
                        .get_or_insert_with(|| Arc::new(ctx.with_stop(stop.child_token())))
                        .clone(),
                    false => ctx.clone(),
                };
                let (engine, job, row_id) = (self.clone(), planned[i].clone(), rows[i].id);
                let job_steps = steps.remove(&row_id).unwrap_or_default();
                running.spawn(async move {
                    let outcome = engine.execute_job(&ctx, &job, row_id, job_steps).await;
                    (i, outcome)
                });
            }
            if recorded {
                self.notify();
            }
            let Some(joined) = running.join_next().await else { break };
            let (i, outcome) = joined.map_err(|e| anyhow!("a job's task failed: {e}"))?;
            let passed = match outcome {
                Ok(JobOutcome { passed, .. }) => passed,
                Err(e) => {
                    tracing::warn!(run_id, job = %planned[i].name, error = %format!("{e:#}"), "job could not run");
                    let _ = self.store.finish_job(rows[i].id, JobState::Failed, None, "").await;
                    false
                }
            };
            slots[i] = match (passed, planned[i].spec.continue_on_error) {
                (true, _) => Slot::Passed,
                (false, true) => Slot::FailedAllowed,
                (false, false) => Slot::Failed,
            };
            if slots[i] == Slot::Failed && first_failure.is_none() {
                first_failure = Some(planned[i].name.clone());
                job_stop.cancel();
            }
        }
        ctx.clean_up().await;
        if self.settings.on_agents {
            // The archive of the commit's tree made for agents (made again if another run needs it).
            let _ = tokio::fs::remove_file(self.settings.work_dir.join(format!("source-{}.tar", run.commit_sha))).await;
        }
        if first_failure.is_none() && !stop.is_cancelled() {
            let service = self.platform_service(&run.service).await?;
            if run.branch == service.branch && run.trigger != "local" {
                let schema = self.read_config_schema(&run.service, &run.commit_sha, &spec).await?;
                let release = self
                    .store
                    .insert_release_with(
                        &run.service,
                        &run.commit_sha,
                        run_id,
                        &spec,
                        &builder(),
                        schema.as_deref(),
                    )
                    .await?;
                tracing::info!(run_id, version = %release.version, "release created");
            }
        }
        Ok(first_failure)
    }

    /// The config schema `tandem.yml` names, read at the commit and checked to be valid JSON
    /// Schema: a release is only made with a schema its deploys can check configs against.
    async fn read_config_schema(&self, service: &str, sha: &str, spec: &ServiceSpec) -> Result<Option<String>> {
        let Some(path) = spec.config_schema.clone() else {
            return Ok(None);
        };
        let repo = self.repo_path(service).await?;
        let (sha, file) = (sha.to_string(), path.clone());
        let bytes = tokio::task::spawn_blocking(move || crate::git::read_file(&repo, &sha, &file))
            .await??
            .ok_or_else(|| {
                crate::Error::invalid_at(
                    path.as_str(),
                    format!("tandem.yml names the config schema `{path}`, which is not in the commit"),
                )
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            crate::Error::invalid_at(path.as_str(), format!("the config schema `{path}` is not UTF-8 text"))
        })?;
        tandem_core::config::ConfigSchema::parse(&path, &text)
            .map_err(|e| crate::Error::invalid_at(path.as_str(), format!("no release: {e}")))?;
        Ok(Some(text))
    }

    /// For a re-run: the jobs of the original run that passed, by name (they are not run again).
    async fn reusable_jobs(&self, run: &RunRow) -> Result<HashMap<String, tandem_store::JobRow>> {
        let Some(original) = run.rerun_of else {
            return Ok(HashMap::new());
        };
        Ok(self
            .store
            .list_jobs(original)
            .await?
            .into_iter()
            .filter(|j| j.state == JobState::Success)
            .map(|j| (j.name.clone(), j))
            .collect())
    }

    /// Paths changed since the last run of this service and branch (or the commit's parent);
    /// `None` when they cannot be known (then `changed()` conditions hold).
    async fn changed_paths(&self, run: &RunRow, repo: &Path) -> Option<Vec<String>> {
        let previous = self
            .store
            .list_runs(Some(&run.service), 50)
            .await
            .ok()?
            .into_iter()
            .find(|r| r.id < run.id && r.branch == run.branch && r.commit_sha != run.commit_sha)
            .map(|r| r.commit_sha);
        let (repo, to) = (repo.to_path_buf(), run.commit_sha.clone());
        tokio::task::spawn_blocking(move || git::changed_paths(&repo, previous.as_deref(), &to).ok())
            .await
            .ok()?
    }

    /// Reads and validates `tandem.yml` at a commit.
    pub async fn read_spec(&self, repo: &Path, sha: &str) -> crate::Result<ServiceSpec> {
        let (repo_owned, sha_owned) = (repo.to_path_buf(), sha.to_string());
        let bytes = tokio::task::spawn_blocking(move || git::read_file(&repo_owned, &sha_owned, SPEC_FILE)).await??;
        let bytes = bytes.ok_or_else(|| {
            crate::Error::invalid_at(
                SPEC_FILE,
                format!("commit {} has no {SPEC_FILE} at the repository root", short(sha)),
            )
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| crate::Error::invalid_at(SPEC_FILE, format!("{SPEC_FILE} at {} is not UTF-8", short(sha))))?;
        parse_service_spec(&format!("{SPEC_FILE} (commit {})", short(sha)), &text)
            .map_err(|e| crate::Error::invalid_at(SPEC_FILE, e.to_string()))
    }

    /// Where a running job's log grows; once the job ends its log moves to the blob store.
    pub fn job_log_path(&self, job_id: i64) -> PathBuf {
        self.settings.work_dir.join(format!("job-{job_id}.log"))
    }
}

/// Who builds: this Tandem and the machine it runs on (a release's provenance).
fn builder() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown host".into());
    format!("tandem {} on {host}", env!("CARGO_PKG_VERSION"))
}

/// Facts `if:` conditions read.
fn run_facts(run: &RunRow, job: &PlannedJob) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = [
        ("branch", run.branch.clone()),
        ("event", run.trigger.clone()),
        ("service", run.service.clone()),
        ("commit", run.commit_sha.clone()),
        ("job", job.name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in &job.matrix {
        vars.insert(format!("matrix.{k}"), v.clone());
    }
    vars
}

/// A step without a name is known by its command's first line (shortened), like in CI tools.
pub(crate) fn default_step_name(run: &str, index: usize) -> String {
    let line = run.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    match line.char_indices().nth(48) {
        None if !line.is_empty() => line.to_string(),
        None => format!("step {}", index + 1),
        Some((cut, _)) => format!("{}…", &line[..cut]),
    }
}

/// The first 8 characters of a commit id.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_steps_are_named_by_their_command() {
        assert_eq!(default_step_name("cargo test\ncargo doc", 0), "cargo test");
        assert_eq!(default_step_name("  \n", 2), "step 3");
        assert!(default_step_name(&"x".repeat(100), 0).ends_with('…'));
    }
}
