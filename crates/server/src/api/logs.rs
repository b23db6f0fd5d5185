//! A job's log, live: Server-Sent Events carrying the log from a byte offset as it grows,
//! resumable (each event's id is the offset after it; a reconnecting client sends it back as
//! `Last-Event-ID`). Memory per stream is one chunk, whatever the log's size.
//!
//! With `format=html` each event carries its text rendered to HTML as the run page renders
//! logs. Pieces then end at line ends when they can, and never inside a UTF-8 character or an
//! escape sequence; the colours in effect carry from one event to the next and, for a client
//! that reconnects, ride in the event's id (`offset:sgr`).

use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam, QueryParams};
use crate::ui::ansi::{LogHtml, utf8_prefix_len};
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
/// How long one `format=html` response lasts before the browser reconnects and resumes: a
/// server shutting down waits for the responses under way, and tabs left open on a running job
/// must not hold it up.
const HTML_LIFETIME: Duration = Duration::from_secs(5);
/// How soon a browser reconnects after such a response ends.
const RECONNECT: Duration = Duration::from_millis(500);

/// Where a log stream starts and how its text is sent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Byte offset to start from (default 0, or the `Last-Event-ID` header).
    pub offset: Option<u64>,
    /// `text` (default): the log as written, colours as ANSI escape sequences. `html`: each
    /// event's text rendered to HTML (escaped, colours as `<span class="ansi-…">`, time stamps
    /// as `<span class="ts">`), in whole lines while the job runs.
    #[param(inline)]
    pub format: Option<LogFormat>,
    /// With `format=html`: the colours in effect at `offset`, as the parameters of an SGR
    /// sequence (`1;31`), so text that goes on in colour keeps it. Ignored when `Last-Event-ID`
    /// is sent: its `offset:sgr` form carries them.
    pub sgr: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// The log as written, colours as ANSI escape sequences.
    #[default]
    Text,
    /// Each event's text rendered to escaped HTML, in whole lines while the job runs.
    Html,
}

/// Streams a job's log as it is written: `log` events (data: text, id: offset after it),
/// then one `end` event with the job's final state.
///
/// With `format=html`, a `log` event's data is an HTML fragment to append to a `<pre>`: every
/// byte of the log escaped, colours as spans (closed on each line), rendered by the same code
/// as the run page. Its id is `offset` or, while a colour is set, `offset:sgr` (`1520:1;31`); a
/// client resuming with that `Last-Event-ID` gets the colours back. Resuming at `?offset=` takes
/// the colours from `?sgr=`. Meant for browsers (`EventSource`): a response ends after a few
/// seconds with a `retry` field, and the browser reconnects with its `Last-Event-ID`.
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
    let jobs = state.engine.list_jobs(id).await?;
    let row = jobs
        .into_iter()
        .find(|j| j.name == job)
        .ok_or_else(|| ApiError::not_found(format!("run {id} has no job `{job}`")))?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_event_id);
    let (offset, sgr) = match resume {
        Some((offset, sgr)) => (offset, sgr.to_string()),
        None => (q.offset.unwrap_or(0), q.sgr.unwrap_or_default()),
    };
    let html = (q.format.unwrap_or_default() == LogFormat::Html).then(|| LogHtml::resume(&sgr));
    let deadline = html.as_ref().map(|_| tokio::time::Instant::now() + HTML_LIFETIME);
    let start = Tail {
        state,
        job_id: row.id,
        run_id: id,
        offset,
        html,
        deadline,
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

/// `1520` or `1520:1;31` → (1520, `1;31`).
fn parse_event_id(id: &str) -> Option<(u64, &str)> {
    let (offset, sgr) = id.split_once(':').unwrap_or((id, ""));
    Some((offset.trim().parse().ok()?, sgr))
}

struct Tail {
    state: AppState,
    job_id: i64,
    run_id: i64,
    offset: u64,
    /// The renderer, for `format=html`.
    html: Option<LogHtml>,
    /// When this response ends, for the client to reconnect.
    deadline: Option<tokio::time::Instant>,
    done: bool,
}

impl Tail {
    /// Waits for the next piece of log, or the end.
    async fn next_event(&mut self) -> Event {
        loop {
            // At its deadline (html), or when the server shuts down, the response ends and
            // the client reconnects where it was.
            if self.deadline.is_some_and(|d| tokio::time::Instant::now() >= d) || self.state.shutdown.is_cancelled() {
                self.done = true;
                return Event::default().retry(RECONNECT);
            }
            let job = match self.state.engine.list_jobs(self.run_id).await {
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
            let growing = !finished && job.state.is_in_progress();
            let bytes = crate::views_log::read_job_log(&self.state.engine, &job, self.offset, CHUNK)
                .await
                .unwrap_or_default();
            if let Some(event) = self.piece(&bytes, growing) {
                return event;
            }
            if !growing {
                self.done = true;
                return Event::default()
                    .event("end")
                    .id(self.offset.to_string())
                    .data(job.state.as_str());
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.state.shutdown.cancelled() => {}
            }
        }
    }

    /// The event for what of `bytes` (read at the offset) can go out now, if anything.
    fn piece(&mut self, bytes: &[u8], growing: bool) -> Option<Event> {
        let full = bytes.len() == CHUNK;
        let cut = match &self.html {
            Some(html) => html.ready_len(bytes, growing, full),
            None => match utf8_prefix_len(bytes) {
                // Half a character: wait for the rest, unless nothing more can come.
                0 if growing && !full => 0,
                0 => bytes.len(),
                n => n,
            },
        };
        if cut == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&bytes[..cut]);
        self.offset += cut as u64;
        let event = Event::default().event("log");
        Some(match &mut self.html {
            Some(html) => {
                let data = html.render(&text);
                let sgr = html.sgr();
                let id = if sgr.is_empty() {
                    self.offset.to_string()
                } else {
                    format!("{}:{sgr}", self.offset)
                };
                event.id(id).data(data)
            }
            None => event.id(self.offset.to_string()).data(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_event_id;
    use crate::ui::ansi::utf8_prefix_len;

    #[test]
    fn a_character_is_never_split_between_events() {
        let text = "é".as_bytes();
        assert_eq!(utf8_prefix_len(&[b'a', text[0]]), 1);
        assert_eq!(utf8_prefix_len("aé".as_bytes()), 3);
        assert_eq!(utf8_prefix_len(&[text[0]]), 0);
        assert_eq!(utf8_prefix_len(&[0xff, 0xfe]), 2, "invalid bytes still move on");
    }

    #[test]
    fn event_ids_carry_the_offset_and_the_colours() {
        assert_eq!(parse_event_id("1520"), Some((1520, "")));
        assert_eq!(parse_event_id("1520:1;31"), Some((1520, "1;31")));
        assert_eq!(parse_event_id("x:31"), None);
    }
}
