//! A job's log, live: Server-Sent Events carrying the log from a byte offset as it grows,
//! resumable (each event's id is the offset after it; a reconnecting client sends it back as
//! `Last-Event-ID`). Memory per stream is one chunk, whatever the log's size.

use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam, QueryParams};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// Most bytes sent in one event.
const CHUNK: usize = 64 * 1024;
/// How often a growing log is checked for more.
const POLL: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StreamQuery {
    /// Byte offset to start from (default 0, or the `Last-Event-ID` header).
    pub offset: Option<u64>,
}

/// Streams a job's log as it is written: `log` events (data: text, id: offset after it),
/// then one `end` event with the job's final state.
#[utoipa::path(get, path = "/api/v1/runs/{id}/jobs/{job}/log/stream", tag = "runs",
    params(("id" = i64, Path), ("job" = String, Path), StreamQuery),
    responses((status = 200, content_type = "text/event-stream", body = String), (status = 404, body = ErrorBody)))]
pub async fn stream_job_log(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam((id, job)): PathParam<(i64, String)>,
    QueryParams(q): QueryParams<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let jobs = state.engine.store.list_jobs(id).await?;
    let row = jobs
        .into_iter()
        .find(|j| j.name == job)
        .ok_or_else(|| ApiError::not_found(format!("run {id} has no job `{job}`")))?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let offset = resume.or(q.offset).unwrap_or(0);
    let start = Tail {
        state,
        job_id: row.id,
        run_id: id,
        offset,
        done: false,
    };
    let events = stream::unfold(start, |mut tail| async move {
        if tail.done {
            return None;
        }
        let event = tail.next_event().await;
        Some((Ok(event), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

struct Tail {
    state: AppState,
    job_id: i64,
    run_id: i64,
    offset: u64,
    done: bool,
}

impl Tail {
    /// Waits for the next piece of log, or the end.
    async fn next_event(&mut self) -> Event {
        loop {
            let job = match self.state.engine.store.list_jobs(self.run_id).await {
                Ok(jobs) => jobs.into_iter().find(|j| j.id == self.job_id),
                Err(e) => {
                    self.done = true;
                    return Event::default().event("error").data(e.to_string());
                }
            };
            let Some(job) = job else {
                self.done = true;
                return Event::default().event("error").data("the job is gone");
            };
            let finished = job.log_digest.as_deref().is_some_and(|d| !d.is_empty());
            let bytes = crate::views_log::read_job_log(&self.state.engine, &job, self.offset, CHUNK)
                .await
                .ok();
            if let Some(bytes) = bytes
                && !bytes.is_empty()
            {
                // Cut at the last complete UTF-8 character so no character is split.
                let cut = utf8_prefix_len(&bytes);
                let text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
                self.offset += cut as u64;
                return Event::default().event("log").id(self.offset.to_string()).data(text);
            }
            if finished || !matches!(job.state.as_str(), "pending" | "running") {
                self.done = true;
                return Event::default()
                    .event("end")
                    .id(self.offset.to_string())
                    .data(job.state);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 character.
fn utf8_prefix_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
        Err(_) => bytes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::utf8_prefix_len;

    #[test]
    fn a_character_is_never_split_between_events() {
        let text = "é".as_bytes();
        assert_eq!(utf8_prefix_len(&[b'a', text[0]]), 1);
        assert_eq!(utf8_prefix_len("aé".as_bytes()), 3);
        assert_eq!(utf8_prefix_len(&[0xff, 0xfe]), 2, "invalid bytes still move on");
    }
}
