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
use crate::executor::{StepEnd, StepRequest};
use crate::git;
use crate::logs::LogWriter;
use crate::plan::PlannedJob;
use anyhow::{Context, Result, anyhow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::pipeline::expr::{Facts, parse_condition};
use tandem_core::state::{JobState, StepState};
use tandem_store::{RunRow, StepRow, now_ms};
use tokio::sync::{OnceCell, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Variables of the server's own environment that steps still see: what toolchains need to
/// find themselves. Everything else is dropped.
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "TMPDIR",
];

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
    tree: OnceCell<PathBuf>,
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
            tree: OnceCell::new(),
            cleanup: TaskTracker::new(),
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
    async fn tree(&self) -> Result<&Path> {
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

    /// Makes `dest` a fresh workspace: a copy of the run's checked-out commit.
    async fn new_workspace(&self, dest: &Path) -> Result<()> {
        let (tree, dest) = (self.tree().await?.to_path_buf(), dest.to_path_buf());
        tokio::task::spawn_blocking(move || git::copy_tree(&tree, &dest)).await??;
        Ok(())
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

/// A job's progress, written behind its steps by a task of its own: it gathers changes for up
/// to [`PROGRESS_DELAY`], then writes them in one transaction. What is left when the job ends
/// is handed back, to be written with the job's end.
struct Progress {
    changes: mpsc::UnboundedSender<Change>,
    writer: tokio::task::JoinHandle<Result<Unrecorded>>,
}

impl Progress {
    fn start(engine: Arc<Engine>, job_id: i64) -> Self {
        let (changes, mut pending) = mpsc::unbounded_channel::<Change>();
        let writer = tokio::spawn(async move {
            while let Some(first) = pending.recv().await {
                let mut batch = Unrecorded::default();
                batch.add(first);
                let until = Instant::now() + PROGRESS_DELAY;
                loop {
                    match tokio::time::timeout_at(until, pending.recv()).await {
                        Ok(Some(change)) => batch.add(change),
                        // The job ended: its end records the rest.
                        Ok(None) => return Ok(batch),
                        Err(_) => break,
                    }
                }
                engine
                    .store
                    .save_job_progress(job_id, batch.started_at, &batch.steps)
                    .await?;
                engine.notify();
            }
            Ok(Unrecorded::default())
        });
        Self { changes, writer }
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
        // The writer only stops early on an error, which `finish` returns.
        let _ = self.changes.send(change);
    }

    /// Stops the writer once it has written what it was writing; returns what is left.
    async fn finish(self) -> Result<Unrecorded> {
        drop(self.changes);
        self.writer
            .await
            .map_err(|e| anyhow!("the job's progress writer failed: {e}"))?
    }
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
        let packed = match tried {
            Ok((result, Some(text))) => Ok((result, self.store.pack_log_text(text).await?)),
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
        ctx.remove_later(log_path);
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
        let mut secrets = BTreeMap::new();
        for name in &job.spec.secrets {
            let used_by = crate::secrets::SecretUse::Job {
                run: ctx.run.id,
                job: &job.name,
            };
            secrets.insert(name.clone(), self.secret(name, used_by).await?);
        }
        let mut log =
            LogWriter::new(log_path, secrets.values().cloned().collect())?.with_limit(self.settings.max_log_bytes);
        if let Some(mirror) = mirror {
            log = log.with_mirror(mirror);
        }
        let env = step_env(&ctx.run, &ctx.env, job, &secrets);
        let deadline = job.spec.timeout.map(|t| Instant::now() + t);
        let attempts = job.spec.retry + 1;
        let mut result = (false, None);
        for attempt in 1..=attempts {
            if attempts > 1 {
                log.note(&format!("▶ attempt {attempt} of {attempts}")).await?;
            }
            let workspace = ctx.dir.join(format!("job-{job_id}-{attempt}"));
            ctx.new_workspace(&workspace).await?;
            result = self
                .attempt_job(ctx, job, job_id, steps, progress, &workspace, &env, &mut log, deadline)
                .await?;
            ctx.remove_later(workspace);
            if result.0 || ctx.stop.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        let text = log.finish_in_memory().await?;
        Ok((result, text))
    }

    /// One try of a job in `workspace`, fresh: returns whether it passed and its exit code.
    #[allow(clippy::too_many_arguments)]
    async fn attempt_job(
        &self,
        ctx: &RunContext,
        job: &PlannedJob,
        job_id: i64,
        steps: &mut [StepRow],
        progress: &Progress,
        workspace: &Path,
        env: &BTreeMap<String, String>,
        log: &mut LogWriter,
        deadline: Option<Instant>,
    ) -> Result<(bool, Option<i64>)> {
        let (run, stop) = (&ctx.run, &ctx.stop);
        let cache_key = job
            .spec
            .cache
            .as_ref()
            .map(|c| crate::cache::cache_key(&job.spec.name, c, workspace));
        let mut restored = false;
        if let Some(key) = &cache_key {
            match self.restore_cache(&run.service, key, workspace).await {
                Ok(true) => {
                    restored = true;
                    log.note(&format!("⬇ cache restored ({})", &key[..12])).await?;
                }
                Ok(false) => log.note(&format!("cache miss ({})", &key[..12])).await?,
                Err(e) => log.note(&format!("cache not restored: {e:#}")).await?,
            }
        }
        let mut ok = true;
        let mut exit_code = Some(0);
        for (step, row) in job.spec.steps.iter().zip(steps.iter_mut()) {
            let facts = Facts {
                vars: [
                    ("branch", &run.branch),
                    ("event", &run.trigger),
                    ("service", &run.service),
                    ("job", &job.name),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .chain(job.matrix.iter().map(|(k, v)| (format!("matrix.{k}"), v.clone())))
                .collect(),
                changed: None,
                ok_so_far: ok,
            };
            let runs = match &step.condition {
                Some(text) => parse_condition(text).map(|e| e.holds(&facts)).unwrap_or(false),
                None => ok,
            };
            if !runs || stop.is_cancelled() {
                progress.step(row, StepState::Skipped, None);
                continue;
            }
            progress.step(row, StepState::Running, None);
            log.note(&format!("▶ {}\n$ {}", row.name, step.run.trim_end())).await?;
            let mut step_env = env.clone();
            step_env.extend(step.env.clone());
            let dir: PathBuf = match &step.working_directory {
                Some(wd) => workspace.join(wd),
                None => workspace.to_path_buf(),
            };
            let request = StepRequest {
                script: step.run.clone(),
                shell: step.shell.clone(),
                dir,
                env: step_env,
                limits: job.spec.limits.clone(),
            };
            let end = self.executor.run_step(request, log, stop, deadline).await?;
            let state = match end {
                e if e.ok() => StepState::Success,
                StepEnd::Cancelled => StepState::Cancelled,
                _ => StepState::Failed,
            };
            progress.step(row, state, end.code());
            if !end.ok() {
                log.note(&format!("✗ step `{}` {}", row.name, end.describe())).await?;
                ok = false;
                exit_code = end.code();
            }
        }
        if ok {
            ok = self.store_artifacts(run.id, job, job_id, workspace, log).await?;
        }
        if ok
            && !restored
            && let (Some(key), Some(spec)) = (&cache_key, &job.spec.cache)
        {
            match self.save_cache(&run.service, key, spec, workspace).await {
                Ok(size) => {
                    log.note(&format!("⬆ cache saved ({}, {size} bytes)", &key[..12]))
                        .await?
                }
                Err(e) => log.note(&format!("cache not saved: {e:#}")).await?,
            }
        }
        Ok((ok, exit_code))
    }

    /// Stores every file the job's artifact paths and globs match; a pattern matching nothing
    /// fails the job.
    async fn store_artifacts(
        &self,
        run_id: i64,
        job: &PlannedJob,
        job_id: i64,
        workspace: &Path,
        log: &mut LogWriter,
    ) -> Result<bool> {
        let mut ok = true;
        for pattern in &job.spec.artifacts {
            let (ws, pat) = (workspace.to_path_buf(), pattern.clone());
            let files = tokio::task::spawn_blocking(move || match_files(&ws, &pat)).await??;
            if files.is_empty() {
                log.note(&format!("✗ artifact `{pattern}` matched no file of job `{}`", job.name))
                    .await?;
                ok = false;
            }
            for rel in files {
                let file = workspace.join(&rel);
                let len = tokio::fs::metadata(&file).await.map(|m| m.len()).unwrap_or(0);
                if len > self.settings.max_artifact_bytes {
                    let limit = self.settings.max_artifact_bytes;
                    log.note(&format!(
                        "✗ artifact {rel} is {len} bytes, over the limit of {limit} bytes"
                    ))
                    .await?;
                    ok = false;
                    continue;
                }
                let (digest, size) = self.store.put_blob_file(&file).await?;
                let keep = job.spec.retention.unwrap_or(crate::DEFAULT_RETENTION);
                let expires_at = tandem_store::now_ms() + keep.as_millis() as i64;
                self.store
                    .insert_artifact_expiring(run_id, job_id, &rel, &digest, size, Some(expires_at))
                    .await?;
                log.note(&format!("⬆ artifact {rel} ({size} bytes, sha256 {digest})"))
                    .await?;
            }
        }
        Ok(ok)
    }
}

/// The environment of a job's steps: the toolchain's variables, then the pipeline's and the
/// job's `env`, the matrix values, the job's secrets, then `CI` and the `TANDEM_*` facts.
fn step_env(
    run: &RunRow,
    pipeline_env: &BTreeMap<String, String>,
    job: &PlannedJob,
    secrets: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = PASSED_THROUGH
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    env.extend(pipeline_env.clone());
    env.extend(job.spec.env.clone());
    for (k, v) in &job.matrix {
        env.insert(format!("MATRIX_{}", k.to_uppercase()), v.clone());
    }
    env.extend(secrets.clone());
    env.insert("CI".into(), "true".into());
    env.insert("TANDEM_SERVICE".into(), run.service.clone());
    env.insert("TANDEM_COMMIT".into(), run.commit_sha.clone());
    env.insert("TANDEM_BRANCH".into(), run.branch.clone());
    env.insert("TANDEM_RUN_ID".into(), run.id.to_string());
    env.insert("TANDEM_TRIGGER".into(), run.trigger.clone());
    env.insert("TANDEM_JOB".into(), job.name.clone());
    env
}

/// Files under `root` matching a path or glob, relative, sorted.
fn match_files(root: &Path, pattern: &str) -> Result<Vec<String>> {
    let literal = root.join(pattern);
    if !pattern.contains(['*', '?', '[', '{']) {
        return Ok(if literal.is_file() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()?
        .compile_matcher();
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && let Ok(rel) = path.strip_prefix(root)
                && let Some(rel) = rel.to_str()
                && matcher.is_match(rel)
            {
                out.push(rel.to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::match_files;
    use crate::{Engine, EngineSettings};
    use std::time::Duration;
    use tandem_store::Store;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_and_step_end_is_recorded_and_a_job_ends_before_its_dependents_start() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("svc");
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

    #[test]
    fn globs_match_files_below_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["target/a.xml", "target/sub/b.xml", "report.html"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        assert_eq!(match_files(dir.path(), "target/*.xml").unwrap(), ["target/a.xml"]);
        assert_eq!(
            match_files(dir.path(), "target/**/*.xml").unwrap(),
            ["target/a.xml", "target/sub/b.xml"]
        );
        assert_eq!(match_files(dir.path(), "report.html").unwrap(), ["report.html"]);
        assert!(match_files(dir.path(), "nope.txt").unwrap().is_empty());
    }
}
