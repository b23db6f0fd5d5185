//! `tandem agent`: asks a Tandem server for jobs its labels match, runs each with the same
//! runner `tandem run` uses ([`tandem_engine::runner::run_job`]), and reports back over HTTP:
//! steps, the live log, artifacts and caches (with their sha256), and the job's end.
//!
//! - **Leases.** A job is the agent's under a lease that each report renews; a beat goes at
//!   least every quarter of the lease. A server answering 409 means the job moved on (the lease
//!   ran out and another agent has it): the agent stops it and reports nothing more.
//! - **Draining.** SIGTERM (or an operator's "drain") makes the agent take no new job, finish
//!   those it runs and exit; a second SIGTERM or Ctrl-C stops them (cancelled) first.
//! - **What steps see.** Their environment is built from the job's plan and secrets alone (see
//!   [`tandem_engine::runner::JobPlan::step_env`]); the agent makes itself non-dumpable, so a
//!   step cannot read its memory or environment through `/proc`.

mod deploy;
pub mod guard;
mod report;

use anyhow::{Context, Result, bail};
use report::{Reporter, ServerSide};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_engine::dispatch::{ClaimAnswer, ClaimRequest, Claimed};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long a claim may wait on the server for a job.
const CLAIM_WAIT: Duration = Duration::from_secs(20);
/// The longest pause between tries when the server cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How an agent is set up.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// The server's base URL (`https://tandem.example.com`).
    pub server: String,
    /// The agent token.
    pub token: String,
    /// Its labels (a job's `runs-on` must all be among them).
    pub labels: Vec<String>,
    /// How many jobs it runs at once.
    pub capacity: u32,
    /// Where job workspaces go.
    pub work_dir: PathBuf,
}

/// The labels every agent announces: its system and processor (`linux`, `x86_64`).
pub fn default_labels() -> Vec<String> {
    vec![std::env::consts::OS.to_string(), std::env::consts::ARCH.to_string()]
}

/// What stops an agent.
#[derive(Debug, Clone, Default)]
pub struct Stops {
    /// Take no new job; exit once the jobs under way are done.
    pub drain: CancellationToken,
    /// Stop the jobs under way (reported cancelled).
    pub kill: CancellationToken,
    /// The server that started this agent is going away: stop the jobs and report nothing
    /// (the server marks them interrupted when it starts again).
    pub quiet: CancellationToken,
}

/// Runs the agent until `stops.drain` is cancelled and its jobs are done (or stopped).
pub async fn run(settings: AgentSettings, stops: Stops) -> Result<()> {
    let Stops { drain, kill, quiet } = stops;
    // Steps run as this user: they must not read this process's memory or environment.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::warn!(error = %e, "cannot make the agent non-dumpable");
    }
    tokio::fs::create_dir_all(&settings.work_dir)
        .await
        .with_context(|| format!("cannot create the work folder {}", settings.work_dir.display()))?;
    let client = tandem_engine::tls::client_builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let server = settings.server.trim_end_matches('/').to_string();
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let settings = Arc::new(settings);
    let mut jobs: JoinSet<()> = JoinSet::new();
    let mut backoff = Duration::from_millis(500);
    tracing::info!(server = %server, labels = ?settings.labels, capacity = settings.capacity, "agent started");
    loop {
        while jobs.try_join_next().is_some() {}
        if drain.is_cancelled() {
            break;
        }
        let running = jobs.len() as u32;
        if running >= settings.capacity {
            tokio::select! {
                _ = jobs.join_next() => {}
                _ = drain.cancelled() => {}
            }
            continue;
        }
        let request = ClaimRequest {
            labels: settings.labels.clone(),
            capacity: settings.capacity,
            free: settings.capacity - running,
            version: env!("CARGO_PKG_VERSION").to_string(),
            host: host.clone(),
            wait_ms: CLAIM_WAIT.as_millis() as u64,
        };
        let asked = client
            .post(format!("{server}/api/v1/agent/claim"))
            .bearer_auth(&settings.token)
            .timeout(CLAIM_WAIT + Duration::from_secs(15))
            .json(&request)
            .send();
        let answer = tokio::select! {
            a = asked => a,
            _ = drain.cancelled() => break,
        };
        let answer: ClaimAnswer = match answer {
            Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => {
                bail!(
                    "the server refused the agent token (revoked, rotated or never registered): register the agent again with `tandem agents register`"
                )
            }
            Ok(r) if r.status().is_success() => match r.json().await {
                Ok(a) => {
                    backoff = Duration::from_millis(500);
                    a
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the server's answer to a claim could not be read");
                    pause(&drain, &mut backoff).await;
                    continue;
                }
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                tracing::warn!(%status, answer = %text.chars().take(300).collect::<String>(), "the server refused a claim");
                pause(&drain, &mut backoff).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach the server");
                pause(&drain, &mut backoff).await;
                continue;
            }
        };
        match answer.mode.as_str() {
            "draining" => {
                tracing::info!("the server asks this agent to drain: finishing its jobs, then exiting");
                drain.cancel();
            }
            "paused" if answer.job.is_none() => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = drain.cancelled() => {}
                }
            }
            _ => {}
        }
        if let Some(task) = answer.task {
            let (client, server, settings, kill) = (client.clone(), server.clone(), settings.clone(), kill.clone());
            jobs.spawn(async move {
                let id = task.id;
                if let Err(e) = deploy::run_task(&client, &server, &settings.work_dir, task, kill).await {
                    tracing::error!(task = id, error = %format!("{e:#}"), "a deploy could not be run to its end");
                }
            });
        }
        if let Some(claimed) = answer.job {
            let (client, server, settings) = (client.clone(), server.clone(), settings.clone());
            let (kill, quiet) = (kill.clone(), quiet.clone());
            jobs.spawn(async move {
                let job_id = claimed.plan.job_id;
                if let Err(e) = run_claimed(&client, &server, &settings.work_dir, claimed, kill, quiet).await {
                    tracing::error!(job_id, error = %format!("{e:#}"), "a job could not be run to its end");
                }
            });
        }
    }
    if !jobs.is_empty() {
        tracing::info!(jobs = jobs.len(), "draining: waiting for the jobs under way");
    }
    while jobs.join_next().await.is_some() {}
    tracing::info!("agent stopped");
    Ok(())
}

/// Waits before trying the server again, longer each time (up to [`MAX_BACKOFF`]).
async fn pause(drain: &CancellationToken, backoff: &mut Duration) {
    tokio::select! {
        _ = tokio::time::sleep(*backoff) => {}
        _ = drain.cancelled() => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}

/// Runs one claimed job in a folder of its own, and reports its end.
async fn run_claimed(
    client: &reqwest::Client,
    server: &str,
    work_dir: &Path,
    claimed: Claimed,
    kill: CancellationToken,
    quiet: CancellationToken,
) -> Result<()> {
    let Claimed {
        plan,
        token,
        secrets,
        beat_ms,
        lease_ms,
    } = claimed;
    let job_id = plan.job_id;
    tracing::info!(job_id, job = %plan.name, run = plan.run_id, "running a job");
    let dir = work_dir.join(format!(
        "job-{job_id}-{}",
        &tandem_engine::secrets::random_token("w")[2..14]
    ));
    tokio::fs::create_dir_all(&dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let base = format!("{server}/api/v1/agent/jobs/{job_id}");
    let stop = kill.child_token();
    let quiet_stop = quiet.clone();
    let stopper = stop.clone();
    let _quiet_watch = tokio::spawn(async move {
        quiet_stop.cancelled().await;
        stopper.cancel();
    });
    let reporter = Reporter::start(
        client.clone(),
        base.clone(),
        token.clone(),
        stop.clone(),
        Duration::from_millis(beat_ms),
        Duration::from_millis(lease_ms),
    );
    let executor = tandem_engine::executor::LocalExecutor {
        // Each step through this program's guard: it dies with the agent.
        guard: std::env::current_exe().ok(),
    };
    let outcome = async {
        let tree = dir.join("tree");
        reporter.fetch_source(&dir.join("source.tar"), &tree).await?;
        let mut log = tandem_engine::logs::LogWriter::new(dir.join("job.log"), secrets.values().cloned().collect())?
            .with_limit(plan.max_log_bytes)
            .with_mirror(reporter.log_pieces());
        let side = ServerSide::new(&reporter, &plan, &dir);
        let ran = tandem_engine::runner::run_job(&plan, &secrets, &tree, &dir, &side, &executor, &mut log, &stop).await;
        let (passed, exit_code) = match ran {
            Ok(r) => r,
            Err(e) => {
                log.note(&format!("✗ the agent could not run the job: {e:#}")).await?;
                (false, None)
            }
        };
        log.finish().await?;
        anyhow::Ok((passed, exit_code))
    }
    .await;
    let cancelled = kill.is_cancelled();
    let result = match outcome {
        _ if quiet.is_cancelled() => {
            reporter.abandon();
            Ok(())
        }
        Ok((passed, exit_code)) => reporter.end(passed, exit_code, cancelled, &dir.join("job.log")).await,
        Err(e) => {
            // Nothing ran, or the log cannot be written: the job fails with the reason as its log.
            let text = format!("✗ the agent could not run the job: {e:#}\n");
            let file = dir.join("failure.log");
            tokio::fs::write(&file, text).await?;
            reporter.end(false, None, cancelled, &file).await
        }
    };
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}
