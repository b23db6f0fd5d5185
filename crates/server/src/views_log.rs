//! Reading a job's log, wherever it is now.

use crate::error::{ApiError, ApiResult};
use tandem_engine::Engine;

pub async fn job_log(engine: &Engine, run_id: i64, job: &str) -> ApiResult<String> {
    let jobs = engine.store.list_jobs(run_id).await?;
    let row = jobs
        .into_iter()
        .find(|j| j.name == job)
        .ok_or_else(|| ApiError::not_found(format!("run {run_id} has no job `{job}`")))?;
    let bytes = match &row.log_digest {
        Some(digest) => {
            let (blobs, digest) = (engine.store.blobs().clone(), digest.clone());
            tokio::task::spawn_blocking(move || blobs.read(&digest))
                .await
                .map_err(ApiError::internal)??
        }
        None => tokio::fs::read(engine.job_log_path(row.id)).await.unwrap_or_default(),
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
