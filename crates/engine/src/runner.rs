//! What running a job means, wherever it runs: in the process of `tandem run`, or on an agent
//! (`tandem agent`). Both go through [`run_job`], so a job behaves the same in both places: its
//! tries, fresh workspaces, step conditions, cache, artifacts and log notes.
//!
//! What differs is where results go, behind [`JobSide`]: the store directly (`tandem run`), or
//! the server over HTTP (an agent).

use crate::executor::{Executor, StepEnd, StepRequest};
use crate::logs::LogWriter;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use tandem_core::pipeline::JobSpec;
use tandem_core::pipeline::expr::{Facts, parse_condition};
use tandem_core::state::StepState;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Variables of the runner's own environment that steps still see: what toolchains need to
/// find themselves. Everything else is dropped.
pub const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "TMPDIR",
];

/// Everything a job runs with but its secrets' values: what the server gives an agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobPlan {
    pub job_id: i64,
    pub run_id: i64,
    pub service: String,
    pub commit: String,
    /// The job's name, with its matrix values (`test (fr)`).
    pub name: String,
    pub spec: JobSpec,
    /// The ids of the job's step rows, in the order of `spec.steps`.
    pub step_ids: Vec<i64>,
    /// The pipeline's and the job's `env`, and the matrix values.
    pub env: BTreeMap<String, String>,
    /// `CI` and the `TANDEM_*` facts, set after the secrets (a secret cannot hide them).
    pub facts_env: BTreeMap<String, String>,
    /// What steps' `if:` conditions read (`branch`, `event`, `matrix.market`, …).
    pub facts: BTreeMap<String, String>,
    pub max_artifact_bytes: u64,
    pub max_log_bytes: u64,
}

impl JobPlan {
    /// The steps' environment: the toolchain's variables of this process, the pipeline's and
    /// job's `env`, the secrets, then the facts.
    pub fn step_env(&self, secrets: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = PASSED_THROUGH
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        env.extend(self.env.clone());
        env.extend(secrets.clone());
        env.extend(self.facts_env.clone());
        env
    }
}

/// Where a job's results go.
pub trait JobSide: Sync {
    /// Step `index` of the job is now in `state` (with its exit code once it ended). Recorded
    /// behind the steps: this does not wait.
    fn step_changed(&self, index: usize, state: StepState, exit_code: Option<i64>);
    /// The archive saved for cache `key`, as a local file, if there is one.
    fn fetch_cache(&self, key: &str) -> impl Future<Output = Result<Option<PathBuf>>> + Send;
    /// Keeps `archive` as the cache for `key`; returns its size.
    fn keep_cache(&self, key: &str, archive: &Path) -> impl Future<Output = Result<u64>> + Send;
    /// Stores `file` as the artifact `rel`; returns its sha256 and size.
    fn store_artifact(&self, rel: &str, file: &Path) -> impl Future<Output = Result<(String, u64)>> + Send;
    /// Removes a workspace that is no longer needed (may do it later).
    fn discard(&self, path: PathBuf);
}

/// Runs a job's tries, each in a fresh copy of `tree` made under `work`, until one passes, the
/// job is stopped or its timeout passes. Returns whether it passed and its exit code.
#[allow(clippy::too_many_arguments)]
pub async fn run_job<S: JobSide>(
    plan: &JobPlan,
    secrets: &BTreeMap<String, String>,
    tree: &Path,
    work: &Path,
    side: &S,
    executor: &dyn Executor,
    log: &mut LogWriter,
    stop: &CancellationToken,
) -> Result<(bool, Option<i64>)> {
    let env = plan.step_env(secrets);
    let deadline = plan.spec.timeout.map(|t| Instant::now() + t);
    let attempts = plan.spec.retry + 1;
    let mut result = (false, None);
    for attempt in 1..=attempts {
        if attempts > 1 {
            log.note(&format!("▶ attempt {attempt} of {attempts}")).await?;
        }
        let workspace = work.join(format!("job-{}-{attempt}", plan.job_id));
        let (from, to) = (tree.to_path_buf(), workspace.clone());
        tokio::task::spawn_blocking(move || crate::git::copy_tree(&from, &to)).await??;
        let tried = attempt_job(plan, side, executor, &workspace, work, &env, log, stop, deadline).await;
        side.discard(workspace);
        result = tried?;
        if result.0 || stop.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    Ok(result)
}

/// One try of a job in `workspace`, fresh: returns whether it passed and its exit code.
#[allow(clippy::too_many_arguments)]
async fn attempt_job<S: JobSide>(
    plan: &JobPlan,
    side: &S,
    executor: &dyn Executor,
    workspace: &Path,
    work: &Path,
    env: &BTreeMap<String, String>,
    log: &mut LogWriter,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<(bool, Option<i64>)> {
    let spec = &plan.spec;
    let cache_key = spec
        .cache
        .as_ref()
        .map(|c| crate::cache::cache_key(&spec.name, c, workspace));
    let mut restored = false;
    if let Some(key) = &cache_key {
        match restore_cache(side, key, workspace).await {
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
    let names = step_names(spec);
    for (index, step) in spec.steps.iter().enumerate() {
        let facts = Facts {
            vars: plan.facts.clone(),
            changed: None,
            ok_so_far: ok,
        };
        let runs = match &step.condition {
            Some(text) => parse_condition(text).map(|e| e.holds(&facts)).unwrap_or(false),
            None => ok,
        };
        if !runs || stop.is_cancelled() {
            side.step_changed(index, StepState::Skipped, None);
            continue;
        }
        side.step_changed(index, StepState::Running, None);
        log.note(&format!("▶ {}\n$ {}", names[index], step.run.trim_end()))
            .await?;
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
            limits: spec.limits.clone(),
        };
        let end = executor.run_step(request, log, stop, deadline).await?;
        let state = match end {
            e if e.ok() => StepState::Success,
            StepEnd::Cancelled => StepState::Cancelled,
            _ => StepState::Failed,
        };
        side.step_changed(index, state, end.code());
        if !end.ok() {
            log.note(&format!("✗ step `{}` {}", names[index], end.describe()))
                .await?;
            ok = false;
            exit_code = end.code();
        }
    }
    if ok {
        ok = store_artifacts(plan, side, workspace, log).await?;
    }
    if ok
        && !restored
        && let (Some(key), Some(cache)) = (&cache_key, &spec.cache)
    {
        match save_cache(side, key, cache, workspace, work).await {
            Ok(size) => {
                log.note(&format!("⬆ cache saved ({}, {size} bytes)", &key[..12]))
                    .await?
            }
            Err(e) => log.note(&format!("cache not saved: {e:#}")).await?,
        }
    }
    Ok((ok, exit_code))
}

/// The steps' names as the run shows them: their own, or their command's first line.
pub fn step_names(spec: &JobSpec) -> Vec<String> {
    spec.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.name
                .clone()
                .unwrap_or_else(|| crate::pipeline::default_step_name(&s.run, i))
        })
        .collect()
}

/// Restores the cache for `key` into `workspace`; returns whether there was one.
async fn restore_cache<S: JobSide>(side: &S, key: &str, workspace: &Path) -> Result<bool> {
    let Some(archive) = side.fetch_cache(key).await? else {
        return Ok(false);
    };
    let dest = workspace.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let file = std::fs::File::open(&archive).with_context(|| format!("cannot open cache {}", archive.display()))?;
        let mut tar = tar::Archive::new(file);
        tar.set_preserve_mtime(true);
        tar.unpack(&dest).context("cannot unpack the cache")
    })
    .await??;
    Ok(true)
}

/// Saves the cache's paths of `workspace` as the cache for `key`; returns its size.
async fn save_cache<S: JobSide>(
    side: &S,
    key: &str,
    spec: &tandem_core::pipeline::CacheSpec,
    workspace: &Path,
    work: &Path,
) -> Result<u64> {
    let tmp: PathBuf = work.join(format!("cache-{key}.tar"));
    let (ws, paths, out) = (workspace.to_path_buf(), spec.paths.clone(), tmp.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let file = std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
        let mut tar = tar::Builder::new(file);
        tar.follow_symlinks(false);
        for p in &paths {
            let src = ws.join(p);
            if src.is_dir() {
                tar.append_dir_all(p, &src)
                    .with_context(|| format!("cannot archive {p}"))?;
            } else if src.is_file() {
                tar.append_path_with_name(&src, p)
                    .with_context(|| format!("cannot archive {p}"))?;
            }
        }
        tar.into_inner().context("cannot finish the cache archive")?;
        Ok(())
    })
    .await??;
    let kept = side.keep_cache(key, &tmp).await;
    let _ = tokio::fs::remove_file(&tmp).await;
    kept
}

/// Stores every file the job's artifact paths and globs match; a pattern matching nothing
/// fails the job, and so does a file over the size limit.
async fn store_artifacts<S: JobSide>(plan: &JobPlan, side: &S, workspace: &Path, log: &mut LogWriter) -> Result<bool> {
    let mut ok = true;
    for pattern in &plan.spec.artifacts {
        let (ws, pat) = (workspace.to_path_buf(), pattern.clone());
        let files = tokio::task::spawn_blocking(move || match_files(&ws, &pat)).await??;
        if files.is_empty() {
            log.note(&format!(
                "✗ artifact `{pattern}` matched no file of job `{}`",
                plan.name
            ))
            .await?;
            ok = false;
        }
        for rel in files {
            let file = workspace.join(&rel);
            let len = tokio::fs::metadata(&file).await.map(|m| m.len()).unwrap_or(0);
            if len > plan.max_artifact_bytes {
                let limit = plan.max_artifact_bytes;
                log.note(&format!(
                    "✗ artifact {rel} is {len} bytes, over the limit of {limit} bytes"
                ))
                .await?;
                ok = false;
                continue;
            }
            let (digest, size) = side.store_artifact(&rel, &file).await?;
            log.note(&format!("⬆ artifact {rel} ({size} bytes, sha256 {digest})"))
                .await?;
        }
    }
    Ok(ok)
}

/// Files under `root` matching a path or glob, relative, sorted.
pub(crate) fn match_files(root: &Path, pattern: &str) -> Result<Vec<String>> {
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
