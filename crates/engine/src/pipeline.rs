//! The pipeline runner: a run reads `tandem.yml` at its commit, then runs each job in its own
//! fresh checkout, in dependency order, as local processes; logs and artifacts go to the blob
//! store; a green run on the service's branch makes a release.
//!
//! Steps never get untrusted text as shell source: commit facts reach them as `TANDEM_*`
//! environment variables, and the environment is scrubbed down to what the step declares.

use crate::Engine;
use crate::git;
use anyhow::{Context, Result, anyhow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tandem_core::pipeline::{JobSpec, ServiceSpec, parse_service_spec};
use tandem_store::{NewJob, RunRow};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// The pipeline file every service repository holds at its root.
pub const SPEC_FILE: &str = "tandem.yml";

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

impl Engine {
    /// Runs a queued run to its end. Errors are recorded on the run, not returned.
    pub async fn execute_run(&self, run_id: i64) {
        let outcome = self.try_execute_run(run_id).await;
        let store = &self.store;
        let result = match outcome {
            Ok(true) => store.finish_run(run_id, "success", None).await,
            Ok(false) => store.finish_run(run_id, "failed", Some("a job failed")).await,
            Err(e) => {
                tracing::warn!(run_id, error = %format!("{e:#}"), "run failed");
                store.finish_run(run_id, "failed", Some(&format!("{e:#}"))).await
            }
        };
        if let Err(e) = result {
            tracing::error!(run_id, error = %e, "cannot record the end of a run");
        }
        self.notify();
    }

    async fn try_execute_run(&self, run_id: i64) -> Result<bool> {
        let run = self.store.get_run(run_id).await?;
        let repo = self.repo_path(&run.service).await?;
        let spec = self.read_spec(&repo, &run.commit_sha).await?;
        let jobs: Vec<NewJob> = spec
            .jobs
            .iter()
            .map(|j| NewJob {
                name: j.name.clone(),
                needs: j.needs.clone(),
                steps: j
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
        let run_dir = self.settings.work_dir.join(format!("run-{run_id}"));
        tokio::fs::create_dir_all(&run_dir)
            .await
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let mut ok = true;
        for (job, row) in spec.jobs.iter().zip(&rows) {
            if !self.execute_job(&run, &repo, &spec, job, row.id, &run_dir).await? {
                ok = false;
                break;
            }
        }
        let _ = tokio::fs::remove_dir_all(&run_dir).await;
        let service = self.platform_service(&run.service).await?;
        if ok && run.branch == service.branch {
            let release = self
                .store
                .insert_release(&run.service, &run.commit_sha, run_id, &spec)
                .await?;
            tracing::info!(run_id, version = %release.version, "release created");
        }
        Ok(ok)
    }

    /// Reads and validates `tandem.yml` at a commit.
    pub async fn read_spec(&self, repo: &Path, sha: &str) -> Result<ServiceSpec> {
        let (repo_owned, sha_owned) = (repo.to_path_buf(), sha.to_string());
        let bytes = tokio::task::spawn_blocking(move || git::read_file(&repo_owned, &sha_owned, SPEC_FILE)).await??;
        let bytes = bytes.ok_or_else(|| anyhow!("commit {} has no {SPEC_FILE} at the repository root", short(sha)))?;
        let text = String::from_utf8(bytes).map_err(|_| anyhow!("{SPEC_FILE} at {} is not UTF-8", short(sha)))?;
        parse_service_spec(&format!("{SPEC_FILE} (commit {})", short(sha)), &text).map_err(|e| anyhow!("{e}"))
    }

    /// Runs one job; returns whether it passed.
    async fn execute_job(
        &self,
        run: &RunRow,
        repo: &Path,
        spec: &ServiceSpec,
        job: &JobSpec,
        job_id: i64,
        run_dir: &Path,
    ) -> Result<bool> {
        self.store.update_job_state(job_id, "running").await?;
        self.notify();
        let workspace = run_dir.join(&job.name);
        let log_path = self.job_log_path(job_id);
        let mut log = tokio::fs::File::create(&log_path)
            .await
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let (repo_owned, sha, ws) = (repo.to_path_buf(), run.commit_sha.clone(), workspace.clone());
        tokio::task::spawn_blocking(move || git::checkout(&repo_owned, &sha, &ws)).await??;

        let mut env: BTreeMap<String, String> = PASSED_THROUGH
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        env.extend(spec.env.clone());
        env.extend(job.env.clone());
        env.insert("CI".into(), "true".into());
        env.insert("TANDEM_SERVICE".into(), run.service.clone());
        env.insert("TANDEM_COMMIT".into(), run.commit_sha.clone());
        env.insert("TANDEM_BRANCH".into(), run.branch.clone());
        env.insert("TANDEM_RUN_ID".into(), run.id.to_string());
        env.insert("TANDEM_JOB".into(), job.name.clone());

        let steps = self.store.list_steps(job_id).await?;
        let mut exit_code = Some(0);
        for (step, row) in job.steps.iter().zip(&steps) {
            self.store.update_step(row.id, "running", None).await?;
            log.write_all(format!("▶ {}\n$ {}\n", row.name, step.run).as_bytes())
                .await?;
            let code = run_step(&step.run, &workspace, &env, &mut log).await?;
            let state = if code == Some(0) { "success" } else { "failed" };
            self.store.update_step(row.id, state, code.map(i64::from)).await?;
            if code != Some(0) {
                let shown = code.map_or("a signal".to_string(), |c| format!("code {c}"));
                log.write_all(format!("✗ step `{}` exited with {shown}\n", row.name).as_bytes())
                    .await?;
                exit_code = code;
                break;
            }
        }
        let passed = exit_code == Some(0);
        let mut missing = Vec::new();
        if passed {
            for path in &job.artifacts {
                let file = workspace.join(path);
                if !file.is_file() {
                    missing.push(path.clone());
                    continue;
                }
                let blobs = self.store.blobs().clone();
                let (digest, size) = tokio::task::spawn_blocking(move || blobs.put_file(&file)).await??;
                self.store.insert_artifact(run.id, job_id, path, &digest, size).await?;
                log.write_all(format!("⬆ artifact {path} ({size} bytes, sha256 {digest})\n").as_bytes())
                    .await?;
            }
            for path in &missing {
                log.write_all(format!("✗ artifact `{path}` was not produced by job `{}`\n", job.name).as_bytes())
                    .await?;
            }
        }
        log.flush().await?;
        drop(log);
        let passed = passed && missing.is_empty();
        let blobs = self.store.blobs().clone();
        let lp = log_path.clone();
        let (digest, _) = tokio::task::spawn_blocking(move || blobs.put_file(&lp)).await??;
        let state = if passed { "success" } else { "failed" };
        self.store
            .finish_job(job_id, state, exit_code.map(i64::from), &digest)
            .await?;
        let _ = tokio::fs::remove_file(&log_path).await;
        let _ = tokio::fs::remove_dir_all(&workspace).await;
        self.notify();
        Ok(passed)
    }

    /// Where a running job's log grows; once the job ends its log moves to the blob store.
    pub fn job_log_path(&self, job_id: i64) -> PathBuf {
        self.settings.work_dir.join(format!("job-{job_id}.log"))
    }
}

/// Runs one step with `sh -c`, appending its output to `log`; returns its exit code (`None`
/// when a signal ended it).
async fn run_step(
    script: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    log: &mut tokio::fs::File,
) -> Result<Option<i32>> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start `sh`")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    for stream in [
        Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream);
            let mut buf = Vec::new();
            while let Ok(n) = lines.read_until(b'\n', &mut buf).await {
                if n == 0 || tx.send(std::mem::take(&mut buf)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    while let Some(chunk) = rx.recv().await {
        log.write_all(&chunk).await?;
        if !chunk.ends_with(b"\n") {
            log.write_all(b"\n").await?;
        }
    }
    let status = child.wait().await.context("cannot wait for a step")?;
    Ok(status.code())
}

/// A step without a name is known by its command's first line (shortened), like in CI tools.
fn default_step_name(run: &str, index: usize) -> String {
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
    use super::default_step_name;

    #[test]
    fn unnamed_steps_are_named_by_their_command() {
        assert_eq!(default_step_name("cargo test\ncargo doc", 0), "cargo test");
        assert_eq!(default_step_name("  \n", 2), "step 3");
        assert!(default_step_name(&"x".repeat(100), 0).ends_with('…'));
    }
}
