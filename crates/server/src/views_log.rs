//! Reading a job's log, wherever it is now: the growing file while the job runs here, its
//! pieces in the database while it runs on another server, the stored (compressed, chunked)
//! log once it ended.

use crate::error::{ApiError, ApiResult};
use crate::ui::ansi::LogHtml;
use std::sync::Arc;
use tandem_engine::Engine;
use tandem_store::JobRow;

async fn job_row(engine: &Engine, run_id: i64, job: &str) -> ApiResult<JobRow> {
    engine
        .list_jobs(run_id)
        .await?
        .into_iter()
        .find(|j| j.name == job)
        .ok_or_else(|| ApiError::not_found(format!("run {run_id} has no job `{job}`")))
}

/// Up to `max` bytes of a job's log from `offset`.
pub async fn read_job_log(engine: &Engine, row: &JobRow, offset: u64, max: usize) -> ApiResult<Vec<u8>> {
    match row.log_digest.as_deref().filter(|d| !d.is_empty()) {
        Some(digest) => Ok(engine.read_log(digest, offset, max).await?),
        None => {
            use tokio::io::{AsyncReadExt, AsyncSeekExt};
            let Ok(mut file) = tokio::fs::File::open(engine.job_log_path(row.id)).await else {
                // Running on another server (or not started): its pieces in the database.
                return Ok(engine.read_live_log(row.id, offset, max).await?);
            };
            file.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(ApiError::internal)?;
            let mut out = Vec::new();
            file.take(max as u64)
                .read_to_end(&mut out)
                .await
                .map_err(ApiError::internal)?;
            Ok(out)
        }
    }
}

/// How much of a log a download reads at once: one stored chunk.
const LOG_PIECE: usize = 1 << 20;

/// A job's whole log as a response body, read a piece at a time, so memory stays one piece
/// whatever the log's size. The first piece is read before answering: a log that cannot be read
/// at all is an error response, not a cut-off body.
pub async fn job_log_body(engine: Arc<Engine>, run_id: i64, job: &str) -> ApiResult<axum::body::Body> {
    let row = job_row(&engine, run_id, job).await?;
    let first = read_job_log(&engine, &row, 0, LOG_PIECE).await?;
    let pieces = futures_util::stream::try_unfold(
        (engine, row, 0u64, Some(first)),
        |(engine, row, offset, first)| async move {
            let bytes = match first {
                Some(bytes) => bytes,
                // Already logged with its cause by `ApiError::internal`.
                None => read_job_log(&engine, &row, offset, LOG_PIECE)
                    .await
                    .map_err(|e| std::io::Error::other(e.message))?,
            };
            if bytes.is_empty() {
                return Ok::<_, std::io::Error>(None);
            }
            let next = offset + bytes.len() as u64;
            Ok(Some((axum::body::Bytes::from(bytes), (engine, row, next, None))))
        },
    );
    Ok(axum::body::Body::from_stream(pieces))
}

/// The end of a job's log, as a page shows it.
#[derive(Debug)]
pub struct LogTail {
    /// The last part of the log, from a line start, as text.
    pub text: String,
    /// Whether earlier text was left out.
    pub earlier: bool,
    /// The byte offset where `text` ends in the log: where a live view goes on from.
    pub end: u64,
    /// The whole log's size, in bytes.
    pub size: u64,
}

/// The last `max` bytes (about) of a job's log; reads only the chunks it shows, whatever the
/// log's size. While the job runs, the text stops after its last whole line (the rest is still
/// being written), as the live stream's pieces do.
pub async fn job_log_tail(engine: &Engine, run_id: i64, job: &str, max: usize) -> ApiResult<LogTail> {
    let row = job_row(engine, run_id, job).await?;
    let stored = row.log_digest.as_deref().filter(|d| !d.is_empty());
    let size = match stored {
        Some(digest) => engine.stored_log_size(digest).await?,
        None => tokio::fs::metadata(engine.job_log_path(row.id))
            .await
            .map(|m| m.len())
            .unwrap_or(0),
    };
    let start = size.saturating_sub(max as u64);
    let mut bytes = read_job_log(engine, &row, start, max).await?;
    let growing = stored.is_none() && row.state.is_in_progress();
    bytes.truncate(LogHtml::default().ready_len(&bytes, growing, false));
    let end = start + bytes.len() as u64;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if start > 0 {
        // Start at a whole line.
        if let Some(nl) = text.find('\n') {
            text.drain(..=nl);
        }
    }
    Ok(LogTail {
        text,
        earlier: start > 0,
        end,
        size,
    })
}
