//! A pipeline run as its page and `GET /api/v1/runs/{id}` show it: its jobs with their steps,
//! the artifacts it kept and the release it made.

use crate::{Engine, Result};
use tandem_store::{ArtifactRow, JobRow, RunRow, StepRow};

/// A job of a run with its steps.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The job.
    pub job: JobRow,
    /// Its steps, in order.
    pub steps: Vec<StepRow>,
}

/// A run with its jobs, steps, artifacts and the release it made.
#[derive(Debug, Clone)]
pub struct RunDetail {
    /// The run.
    pub run: RunRow,
    /// Its jobs, each with its steps.
    pub jobs: Vec<JobDetail>,
    /// The artifacts it kept.
    pub artifacts: Vec<ArtifactRow>,
    /// The release this run made, if any.
    pub release: Option<String>,
}

impl Engine {
    /// Run `id` with its jobs, steps, artifacts and release; not found when there is no such
    /// run.
    pub async fn run_detail(&self, id: i64) -> Result<RunDetail> {
        let run = self.store.get_run(id).await?;
        let jobs = self
            .list_jobs_with_steps(id)
            .await?
            .into_iter()
            .map(|(job, steps)| JobDetail { job, steps })
            .collect();
        let release = self.release_made_by(&run).await?;
        Ok(RunDetail {
            artifacts: self.store.list_artifacts(id).await?,
            run,
            jobs,
            release,
        })
    }
}
