//! Pipeline runs: a run, its jobs, their steps, the artifacts it produced.

use serde::{Deserialize, Serialize};
use tandem_core::state::{JobState, RunState, StepState};

/// A pipeline run.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    /// The run's number.
    pub id: i64,
    /// The service built.
    pub service: String,
    /// The commit built.
    pub commit_sha: String,
    /// The branch the commit was taken from.
    pub branch: String,
    /// push, poll, schedule, api, demo, rerun or local.
    pub trigger: String,
    /// queued, running, success, failed, cancelled or interrupted.
    pub state: RunState,
    /// Why it could not run, if so.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it started.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// The run this one repeats (re-running only its failed jobs).
    pub rerun_of: Option<i64>,
}

/// A job of a run.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// The run it belongs to.
    pub run_id: i64,
    /// Its name in `tandem.yml`.
    pub name: String,
    /// Its place in the run's order.
    pub position: i64,
    /// The jobs it needs, by name.
    pub needs: Vec<String>,
    /// pending, running, success, failed or skipped.
    pub state: JobState,
    /// The exit code of its last step.
    pub exit_code: Option<i64>,
    /// sha256 of the job's log blob.
    pub log_digest: Option<String>,
    /// When it started.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// The agent running it (or that ran it), when it ran on one.
    #[serde(default)]
    pub agent: Option<String>,
    /// Why it still waits for an agent (`no agent with labels gpu`), or why it was lost.
    #[serde(default)]
    pub waiting: Option<String>,
    /// How many times the agent running it stopped answering (the job then ran again).
    #[serde(default)]
    pub lost: i64,
}

/// A step of a job.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    /// The step's id.
    pub id: i64,
    /// The job it belongs to.
    pub job_id: i64,
    /// Its place in the job.
    pub position: i64,
    /// Its name.
    pub name: String,
    /// The command it runs.
    pub command: String,
    /// pending, running, success, failed or skipped.
    pub state: StepState,
    /// The command's exit code.
    pub exit_code: Option<i64>,
    /// When it started.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
}

/// A file a run produced, stored by its digest.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Artifact {
    /// The artifact's id.
    pub id: i64,
    /// The run that produced it.
    pub run_id: i64,
    /// The job that produced it.
    pub job_id: i64,
    /// Its file name.
    pub name: String,
    /// Its path in the workspace.
    pub path: String,
    /// Its sha256, the key to download it (`/api/v1/artifacts/{digest}`).
    pub digest: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it may be collected (Unix ms); never while a release references it.
    pub expires_at: Option<i64>,
}

/// A job with its steps.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobDetail {
    /// The job.
    #[serde(flatten)]
    pub job: Job,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// A run with its jobs, steps and artifacts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: Run,
    /// Its jobs, in order, each with its steps.
    pub jobs: Vec<JobDetail>,
    /// What it produced.
    pub artifacts: Vec<Artifact>,
    /// The release this run made, if any.
    pub release: Option<String>,
}
