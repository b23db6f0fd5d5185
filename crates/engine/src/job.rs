//! One job of a run: a fresh workspace at the run's commit, its steps in order through the
//! [`Executor`](crate::executor::Executor), its log (stamped, secrets masked) and artifacts into
//! the blob store. A failed job is tried again up to its `retry` count, each time afresh.
//!
//! - A workspace is a copy of one checkout of the commit that the run keeps (made by the first
//!   job that needs it, never written to by a step), not a new checkout per job.
//! - Job and step states are written behind the steps by a task of the job ([`Progress`]): a
//!   step does not wait for the database. Every change of a job is written before its end is
//!   recorded, and its end (state and log, in one transaction) before [`Engine::execute_job`]
//!   returns, so before any job that needs it starts.

use crate::Engine;
use crate::git;
use crate::logs::LogWriter;
use crate::plan::PlannedJob;
use crate::runner::{JobPlan, JobSide, run_job};
use anyhow::{Result, anyhow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::state::{JobState, StepState};
use tandem_store::{RunRow, StepRow, now_ms};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a job's progress writer gathers changes before writing them: live views see a
/// state at most this late, and a job of many short steps costs a transaction per this time
/// instead of two per step.
const PROGRESS_DELAY: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub struct JobOutcome {
    pub passed: bool,
}

/// What every job of a run shares.
#[derive(Debug)]
pub(crate) struct RunContext {
    pub run: RunRow,
    pub repo: PathBuf,
    /// The pipeline's `env`.
    pub env: BTreeMap<String, String>,
    /// The run's folder: the checked-out tree and the jobs' workspaces.
    pub dir: PathBuf,
    /// Cancelled when the run is cancelled or a job fails (fail-fast).
    pub stop: CancellationToken,
    tree: Arc<OnceCell<PathBuf>>,
    /// Removals of what jobs left (workspaces, live logs), off their critical path.
    cleanup: TaskTracker,
}

impl RunContext {
    pub fn new(
        run: RunRow,
        repo: PathBuf,
        env: BTreeMap<String, String>,
        dir: PathBuf,
        stop: CancellationToken,
    ) -> Self {
        Self {
            run,
            repo,
            env,
            dir,
            stop,
            tree: Arc::new(OnceCell::new()),
            cleanup: TaskTracker::new(),
        }
    }

    /// The same run's context with another stop token (the tree and the removals shared): for
    /// the jobs that run after a failure (`if: failure()`, `if: always()`), which fail-fast
    /// must not stop.
    pub fn with_stop(&self, stop: CancellationToken) -> Self {
        Self {
            run: self.run.clone(),
            repo: self.repo.clone(),
            env: self.env.clone(),
            dir: self.dir.clone(),
            stop,
            tree: self.tree.clone(),
            cleanup: self.cleanup.clone(),
        }
    }

    /// Removes a file or a folder in the background; [`RunContext::clean_up`] waits for it.
    fn remove_later(&self, path: PathBuf) {
        self.cleanup.spawn_blocking(move || {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        });
    }

    /// Waits for every removal asked for, then removes the run's folder.
    pub async fn clean_up(&self) {
        self.cleanup.close();
        self.cleanup.wait().await;
        let _ = tokio::fs::remove_dir_all(&self.dir).await;
    }

    /// The run's commit, checked out once; workspaces are copies of it.
    pub(crate) async fn tree(&self) -> Result<&Path> {
        let tree = self
            .tree
            .get_or_try_init(|| async {
                let (repo, sha, dest) = (self.repo.clone(), self.run.commit_sha.clone(), self.dir.join("tree"));
                tokio::task::spawn_blocking(move || {
                    git::checkout(&repo, &sha, &dest)
                        .map(|_| dest.clone())
                        .inspect_err(|_| {
                            // A half-written tree would fail every later job's checkout: start over.
                            let _ = std::fs::remove_dir_all(&dest);
                        })
                })
                .await?
            })
            .await?;
        Ok(tree)
    }
}

/// A job's changes not recorded yet: when it started running, if that is not recorded, and
/// its steps' rows, each as last changed.
#[derive(Debug, Default)]
struct Unrecorded {
    started_at: Option<i64>,
    steps: Vec<StepRow>,
}

impl Unrecorded {
    fn add(&mut self, change: Change) {
        match change {
            Change::Started(at) => self.started_at = Some(at),
            Change::Step(row) => match self.steps.iter_mut().find(|s| s.id == row.id) {
                Some(known) => *known = row,
                None => self.steps.push(row),
            },
        }
    }
}

enum Change {
    Started(i64),
    Step(StepRow),
}

/// A job's progress, written behind its steps by a task of its own: a change is added to the
/// job's unrecorded changes (no task is woken but for the first of a batch), and the writer
/// writes them in one transaction [`PROGRESS_DELAY`] after that first one. What is left when
/// the job ends is handed back, to be written with the job's end.
struct Progress {
    unrecorded: Arc<std::sync::Mutex<Unrecorded>>,
    /// Wakes the writer for the first change of a batch.
    first: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
    writer: tokio::task::JoinHandle<Result<()>>,
}

impl Progress {
    fn start(engine: Arc<Engine>, job_id: i64) -> Self {
        let unrecorded: Arc<std::sync::Mutex<Unrecorded>> = Default::default();
        let first = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let writer = tokio::spawn({
            let (unrecorded, first, stop) = (unrecorded.clone(), first.clone(), stop.clone());
            async move {
                loop {
                    // The job's end records what is left: the writer stops between batches.
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = first.notified() => {}
                    }
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(PROGRESS_DELAY) => {}
                    }
                    let batch = std::mem::take(&mut *lock(&unrecorded));
                    engine
                        .store
                        .save_job_progress(job_id, batch.started_at, &batch.steps)
                        .await?;
                    engine.notify();
                }
            }
        });
        Self {
            unrecorded,
            first,
            stop,
            writer,
        }
    }

    fn started(&self) {
        self.record(Change::Started(now_ms()));
    }

    /// A step's new state, stamped now: started when it starts running, finished otherwise.
    fn step(&self, row: &mut StepRow, state: StepState, exit_code: Option<i64>) {
        let now = now_ms();
        row.state = state;
        row.exit_code = exit_code;
        row.started_at = row.started_at.or(Some(now));
        row.finished_at = (state != StepState::Running).then_some(now);
        self.record(Change::Step(row.clone()));
    }

    fn record(&self, change: Change) {
        let mut unrecorded = lock(&self.unrecorded);
        let was_empty = unrecorded.started_at.is_none() && unrecorded.steps.is_empty();
        unrecorded.add(change);
        if was_empty {
            // A permit is kept if the writer is busy: it takes this batch after its write.
            self.first.notify_one();
        }
    }

    /// Stops the writer once it has written what it was writing; returns what is left.
    async fn finish(self) -> Result<Unrecorded> {
        self.stop.cancel();
        self.writer
            .await
            .map_err(|e| anyhow!("the job's progress writer failed: {e}"))??;
        Ok(std::mem::take(&mut *lock(&self.unrecorded)))
    }
}

/// The job's unrecorded changes (a panic elsewhere while holding them leaves them usable).
fn lock(unrecorded: &std::sync::Mutex<Unrecorded>) -> std::sync::MutexGuard<'_, Unrecorded> {
    unrecorded.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a job's log is written: its file, and where each piece written out also goes (the
/// database, for the other servers).
struct JobLog<'a> {
    path: &'a Path,
    mirror: Option<tokio::sync::mpsc::UnboundedSender<(u64, Vec<u8>)>>,
}

impl Engine {
    /// Runs a job (with its retries) and records its end. `steps` are its steps' rows.
    pub(crate) async fn execute_job(
        self: &Arc<Self>,
        ctx: &RunContext,
        job: &PlannedJob,
        job_id: i64,
        mut steps: Vec<StepRow>,
    ) -> Result<JobOutcome> {
        if self.settings.on_agents {
            return self.execute_on_agent(ctx, job, job_id, &steps).await;
        }
        let progress = Progress::start(self.clone(), job_id);
        progress.started();
        let log_path = self.job_log_path(job_id);
        // With other servers on the database, the log also goes there as it is written.
        let (mirror, mirrored) = match self.store.is_shared() {
            true => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Vec<u8>)>();
                let store = self.store.clone();
                let task = tokio::spawn(async move {
                    while let Some((offset, bytes)) = rx.recv().await {
                        if let Err(e) = store.append_live_log(job_id, offset, &bytes).await {
                            tracing::debug!(job_id, error = %e, "cannot share a piece of a live log");
                        }
                    }
                });
                (Some(tx), Some(task))
            }
            false => (None, None),
        };
        let tried = self
            .try_job(
                ctx,
                job,
                job_id,
                &mut steps,
                &progress,
                JobLog {
                    path: &log_path,
                    mirror,
                },
            )
            .await;
        if let Some(task) = mirrored {
            let _ = task.await;
        }
        let left = progress.finish().await?;
        // A short log never reached a file: there is none to remove afterwards.
        let mut log_file = true;
        let packed = match tried {
            Ok((result, Some(text))) => {
                log_file = false;
                Ok((result, self.store.pack_log_text(text).await?))
            }
            Ok((result, None)) => Ok((result, self.store.pack_log(&log_path).await?)),
            Err(e) => Err(e),
        };
        let ((passed, exit_code), packed) = match packed {
            Ok(done) => done,
            Err(e) => {
                // Recorded before the caller marks the job failed, never after.
                self.store
                    .save_job_progress(job_id, left.started_at, &left.steps)
                    .await?;
                return Err(e);
            }
        };
        let state = if passed {
            JobState::Success
        } else if ctx.stop.is_cancelled() {
            JobState::Cancelled
        } else {
            JobState::Failed
        };
        self.store
            .finish_job_with_log(job_id, state, exit_code, &packed, left.started_at, &left.steps)
            .await?;
        if let Err(e) = self.store.drop_live_log(job_id).await {
            tracing::debug!(job_id, error = %e, "cannot forget a live log: the next collection does");
        }
        if log_file {
            ctx.remove_later(log_path);
        }
        self.notify();
        Ok(JobOutcome { passed })
    }

    /// The job's attempts, its log written to `log_path`: whether it passed, its exit code,
    /// and its log's text when it is short enough to have stayed in memory (then there is no
    /// file).
    async fn try_job(
        &self,
        ctx: &RunContext,
        job: &PlannedJob,
        job_id: i64,
        steps: &mut [StepRow],
        progress: &Progress,
        log: JobLog<'_>,
    ) -> Result<((bool, Option<i64>), Option<Vec<u8>>)> {
        let JobLog { path: log_path, mirror } = log;
        let secrets = self.job_secrets(ctx.run.id, job).await?;
        let mut log =
            LogWriter::new(log_path, secrets.values().cloned().collect())?.with_limit(self.settings.max_log_bytes);
        if let Some(mirror) = mirror {
            log = log.with_mirror(mirror);
        }
        let plan = self.job_plan(ctx, job, job_id, steps);
        let tree = ctx.tree().await?.to_path_buf();
        let side = StoreSide {
            engine: self,
            ctx,
            plan: &plan,
            rows: std::sync::Mutex::new(steps.to_vec()),
            progress,
        };
        let result = run_job(
            &plan,
            &secrets,
            &tree,
            &ctx.dir,
            &side,
            &*self.executor,
            &mut log,
            &ctx.stop,
        )
        .await?;
        let text = log.finish_in_memory().await?;
        Ok((result, text))
    }

    /// The values of the secrets a job declares, each use audited.
    pub(crate) async fn job_secrets(&self, run_id: i64, job: &PlannedJob) -> Result<BTreeMap<String, String>> {
        let mut secrets = BTreeMap::new();
        for name in &job.spec.secrets {
            let used_by = crate::secrets::SecretUse::Job {
                run: run_id,
                job: &job.name,
            };
            secrets.insert(name.clone(), self.secret(name, used_by).await?);
        }
        Ok(secrets)
    }

    /// Everything a job runs with but its secrets.
    pub(crate) fn job_plan(&self, ctx: &RunContext, job: &PlannedJob, job_id: i64, steps: &[StepRow]) -> JobPlan {
        let run = &ctx.run;
        let mut env = ctx.env.clone();
        env.extend(job.spec.env.clone());
        for (k, v) in &job.matrix {
            env.insert(format!("MATRIX_{}", k.to_uppercase()), v.clone());
        }
        let facts_env = [
            ("CI", "true"),
            ("TANDEM_SERVICE", &run.service),
            ("TANDEM_COMMIT", &run.commit_sha),
            ("TANDEM_BRANCH", &run.branch),
            ("TANDEM_RUN_ID", &run.id.to_string()),
            ("TANDEM_TRIGGER", &run.trigger),
            ("TANDEM_JOB", &job.name),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let facts = [
            ("branch", &run.branch),
            ("event", &run.trigger),
            ("service", &run.service),
            ("job", &job.name),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(job.matrix.iter().map(|(k, v)| (format!("matrix.{k}"), v.clone())))
        .collect();
        JobPlan {
            job_id,
            run_id: run.id,
            service: run.service.clone(),
            commit: run.commit_sha.clone(),
            name: job.name.clone(),
            spec: job.spec.clone(),
            step_ids: steps.iter().map(|s| s.id).collect(),
            env,
            facts_env,
            facts,
            max_artifact_bytes: self.settings.max_artifact_bytes,
            max_log_bytes: self.settings.max_log_bytes,
        }
    }
}

/// A job run in this process: its results go straight to the store.
struct StoreSide<'a> {
    engine: &'a Engine,
    ctx: &'a RunContext,
    plan: &'a JobPlan,
    rows: std::sync::Mutex<Vec<StepRow>>,
    progress: &'a Progress,
}

impl JobSide for StoreSide<'_> {
    fn step_changed(&self, index: usize, state: StepState, exit_code: Option<i64>) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(row) = rows.get_mut(index) {
            self.progress.step(row, state, exit_code);
        }
    }

    async fn fetch_cache(&self, key: &str) -> Result<Option<PathBuf>> {
        match self.engine.store.get_cache(&self.plan.service, key).await? {
            Some(digest) => Ok(Some(self.engine.store.local_blob(&digest).await?)),
            None => Ok(None),
        }
    }

    async fn keep_cache(&self, key: &str, archive: &Path) -> Result<u64> {
        let (digest, size) = self.engine.store.put_blob_file(archive).await?;
        self.engine
            .store
            .save_cache(&self.plan.service, key, &digest, size)
            .await?;
        Ok(size)
    }

    async fn store_artifact(&self, rel: &str, file: &Path) -> Result<(String, u64)> {
        self.engine
            .keep_artifact(self.plan.run_id, self.plan.job_id, &self.plan.spec, rel, file)
            .await
    }

    fn discard(&self, path: PathBuf) {
        self.ctx.remove_later(path);
    }
}

impl Engine {
    /// Stores `file` as the artifact `rel` of a job, kept as its `retention` says.
    pub(crate) async fn keep_artifact(
        &self,
        run_id: i64,
        job_id: i64,
        spec: &tandem_core::pipeline::JobSpec,
        rel: &str,
        file: &Path,
    ) -> Result<(String, u64)> {
        let (digest, size) = self.store.put_blob_file(file).await?;
        let keep = spec.retention.unwrap_or(crate::DEFAULT_RETENTION);
        let expires_at = tandem_store::now_ms() + keep.as_millis() as i64;
        self.store
            .insert_artifact_expiring(run_id, job_id, rel, &digest, size, Some(expires_at))
            .await?;
        Ok((digest, size))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineSettings};
    use std::sync::Arc;
    use std::time::Duration;
    use tandem_store::{RunRow, Store};

    /// Runs the pipeline `spec` (service `svc`, one market) in process to its end; the folder
    /// holding the repository and data (kept while it lives), the engine and the run.
    async fn run_to_end(spec: &str) -> (tempfile::TempDir, Arc<Engine>, RunRow) {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("svc");
        tandem_testkit::make_repo(&repo, &[("T-1: pipeline", "tandem.yml", spec)]);
        let platform = format!(
            "markets:\n  - {{ id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}\nservices:\n  - {{ name: svc, repo: {} }}\n",
            repo.display()
        );
        let data = dir.path().join("data");
        let store = Store::open(&data).await.unwrap();
        store
            .sync_platform(&tandem_core::platform::parse_platform("p.yml", &platform).unwrap())
            .await
            .unwrap();
        let engine = Engine::new(store, EngineSettings::in_data_dir(&data)).await.unwrap();
        let run = engine.trigger_run("svc", "api").await.unwrap();
        let mut waited = 0;
        while matches!(
            engine.store.get_run(run.id).await.unwrap().state.as_str(),
            "queued" | "running"
        ) {
            assert!(waited < 1200, "the run did not end");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        (dir, engine, run)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_and_step_end_is_recorded_and_a_job_ends_before_its_dependents_start() {
        let spec = "service: svc
pipeline:
  jobs:
    build:
      steps:
        - run: echo built > out.txt
        - run: cat out.txt
    check:
      needs: [build]
      steps:
        - run: test ! -e out.txt
        - run: exit 3
        - run: echo never
";
        let (_dir, engine, run) = run_to_end(spec).await;

        let jobs = engine.store.list_jobs(run.id).await.unwrap();
        let states: Vec<_> = jobs.iter().map(|j| (j.state.as_str(), j.exit_code)).collect();
        assert_eq!(states, [("success", Some(0)), ("failed", Some(3))]);
        assert!(
            jobs.iter()
                .all(|j| j.started_at.is_some() && j.finished_at.is_some() && j.log_digest.is_some())
        );
        let steps = engine.store.list_run_steps(run.id).await.unwrap();
        let states: Vec<_> = steps.iter().map(|s| (s.state.as_str(), s.exit_code)).collect();
        assert_eq!(
            states,
            [
                ("success", Some(0)),
                ("success", Some(0)),
                ("success", Some(0)),
                ("failed", Some(3)),
                ("skipped", None)
            ],
            "every step's end is recorded (and `check` starts afresh: no out.txt)"
        );
        for s in &steps {
            let (start, end) = (s.started_at.unwrap(), s.finished_at.unwrap());
            assert!(start <= end, "{s:?}");
        }
        let log = engine
            .store
            .read_log(jobs[0].log_digest.as_deref().unwrap(), 0, usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8(log).unwrap().contains("] built\n"));

        let events = engine.store.list_events(0, 1000).await.unwrap();
        let at = |kind: &str, subject: String| {
            events
                .iter()
                .position(|e| e.kind == kind && e.subject == subject)
                .unwrap_or_else(|| panic!("no {kind} of {subject}"))
        };
        let (build, check) = (format!("job/{}", jobs[0].id), format!("job/{}", jobs[1].id));
        assert!(at("job.running", build.clone()) < at("job.success", build.clone()));
        assert!(
            at("job.success", build) < at("job.running", check.clone()),
            "the end of `build` is committed before `check` starts"
        );
        assert!(at("job.running", check.clone()) < at("job.failed", check));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_with_failure_or_always_run_after_a_needed_job_failed_and_the_others_are_skipped() {
        let spec = "service: svc
pipeline:
  jobs:
    build:
      steps: [{ run: exit 4 }]
    deploy:
      needs: [build]
      steps: [{ run: echo deployed }]
    report:
      needs: [build]
      if: failure()
      steps: [{ run: echo the build failed }]
    clean:
      needs: [deploy]
      if: always()
      steps: [{ run: echo cleaned }]
    celebrate:
      needs: [build]
      if: success()
      steps: [{ run: echo never }]
";
        let (_dir, engine, run) = run_to_end(spec).await;
        let run = engine.store.get_run(run.id).await.unwrap();
        assert_eq!(run.state.as_str(), "failed", "the run stays failed");
        let jobs = engine.store.list_jobs(run.id).await.unwrap();
        let states: std::collections::BTreeMap<&str, &str> =
            jobs.iter().map(|j| (j.name.as_str(), j.state.as_str())).collect();
        assert_eq!(
            states,
            [
                ("build", "failed"),
                ("celebrate", "skipped"),
                ("clean", "success"),
                ("deploy", "skipped"),
                ("report", "success"),
            ]
            .into_iter()
            .collect(),
            "failure() and always() run after the failure; the rest is skipped"
        );
    }
}
