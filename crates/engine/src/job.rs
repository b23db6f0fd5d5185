//! One job of a run: a fresh checkout of the run's commit, its steps in order through the
//! [`Executor`](crate::executor::Executor), its log (stamped, secrets masked) and artifacts into
//! the blob store. A failed job is tried again up to its `retry` count, each time afresh.

use crate::Engine;
use crate::executor::{StepEnd, StepRequest};
use crate::git;
use crate::logs::LogWriter;
use crate::pipeline::PlannedJob;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tandem_core::pipeline::expr::{Facts, parse_condition};
use tandem_store::RunRow;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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

#[derive(Debug)]
pub struct JobOutcome {
    pub passed: bool,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn execute_job(
        &self,
        run: &RunRow,
        repo: &Path,
        pipeline_env: &BTreeMap<String, String>,
        job: &PlannedJob,
        job_id: i64,
        run_dir: &Path,
        stop: &CancellationToken,
    ) -> Result<JobOutcome> {
        self.store.update_job_state(job_id, "running").await?;
        self.notify();
        let mut secrets = BTreeMap::new();
        if !job.spec.secrets.is_empty() {
            let platform = self.store.load_platform().await?;
            for name in &job.spec.secrets {
                secrets.insert(name.clone(), crate::secrets::secret_value(&platform, name)?);
            }
        }
        let log_path = self.job_log_path(job_id);
        let file = tokio::fs::File::create(&log_path)
            .await
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut log = LogWriter::new(file, secrets.values().cloned().collect()).with_limit(self.settings.max_log_bytes);
        let env = step_env(run, pipeline_env, job, &secrets);
        let deadline = job.spec.timeout.map(|t| Instant::now() + t);
        let attempts = job.spec.retry + 1;
        let mut result = (false, None);
        for attempt in 1..=attempts {
            if attempts > 1 {
                log.note(&format!("▶ attempt {attempt} of {attempts}")).await?;
            }
            let workspace = run_dir.join(format!("job-{job_id}-{attempt}"));
            result = self
                .attempt_job(run, repo, job, job_id, &workspace, &env, &mut log, stop, deadline)
                .await?;
            let _ = tokio::fs::remove_dir_all(&workspace).await;
            if result.0 || stop.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        let (passed, exit_code) = result;
        log.finish().await?;
        let packed = self.store.pack_log(&log_path).await?;
        let state = if passed {
            "success"
        } else if stop.is_cancelled() {
            "cancelled"
        } else {
            "failed"
        };
        self.store
            .finish_job_with_log(job_id, state, exit_code, &packed)
            .await?;
        let _ = tokio::fs::remove_file(&log_path).await;
        self.notify();
        Ok(JobOutcome { passed })
    }

    /// One try of a job in a fresh workspace: returns whether it passed and its exit code.
    #[allow(clippy::too_many_arguments)]
    async fn attempt_job(
        &self,
        run: &RunRow,
        repo: &Path,
        job: &PlannedJob,
        job_id: i64,
        workspace: &Path,
        env: &BTreeMap<String, String>,
        log: &mut LogWriter,
        stop: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<(bool, Option<i64>)> {
        let (repo_owned, sha, ws) = (repo.to_path_buf(), run.commit_sha.clone(), workspace.to_path_buf());
        tokio::task::spawn_blocking(move || git::checkout(&repo_owned, &sha, &ws)).await??;
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
        let steps = self.store.list_steps(job_id).await?;
        let mut ok = true;
        let mut exit_code = Some(0);
        for (step, row) in job.spec.steps.iter().zip(&steps) {
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
                self.store.update_step(row.id, "skipped", None).await?;
                continue;
            }
            self.store.update_step(row.id, "running", None).await?;
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
                e if e.ok() => "success",
                StepEnd::Cancelled => "cancelled",
                _ => "failed",
            };
            self.store.update_step(row.id, state, end.code()).await?;
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
                let blobs = self.store.blobs().clone();
                let (digest, size) = tokio::task::spawn_blocking(move || blobs.put_file(&file)).await??;
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
