//! OpenFeature Remote Evaluation Protocol (OFREP): any OpenFeature SDK with the OFREP provider
//! evaluates Tandem's feature flags here, with a bearer token (any role).
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}`: one flag (404 `FLAG_NOT_FOUND`, 400 for a bad
//!   request or context).
//! - `POST /ofrep/v1/evaluate/flags`: every flag, with `ETag`; `If-None-Match` with the same
//!   ETag answers 304 without evaluating anything. The answer names an SSE connection.
//! - `GET /ofrep/v1/events`: Server-Sent Events; a `refetchEvaluation` event each time the
//!   flags in force change.
//!
//! The flags are compiled in memory ([`tandem_engine::flags`]): an evaluation reads no store.

use crate::AppState;
use crate::auth::{Auth, Viewer};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use tandem_core::flags::ofrep::{
    BulkEvaluationFailure, BulkEvaluationSuccess, FlagResponse, RefetchEvent, RefreshConnection, if_none_match,
    parse_request, request_failure,
};

/// Where the SSE refresh connection is, relative to the server.
const EVENTS_PATH: &str = "/ofrep/v1/events";

/// The OFREP routes under `/ofrep/v1`; each takes a bearer token of any role.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/ofrep/v1/evaluate/flags/{key}", post(evaluate_flag))
        .route("/ofrep/v1/evaluate/flags", post(evaluate_flags))
        .route(EVENTS_PATH, get(events))
}

async fn evaluate_flag(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match parse_request(&body) {
        Ok(ctx) => ctx,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(request_failure(&key, &e))).into_response(),
    };
    let flags = state.engine.flags();
    let evaluation = flags.set.evaluate_one(&key, &ctx);
    let answer = FlagResponse::new(&evaluation);
    let status = StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(answer)).into_response()
}

async fn evaluate_flags(_: Auth<Viewer>, State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match parse_request(&body) {
        Ok(ctx) => ctx,
        Err(e) => return (StatusCode::BAD_REQUEST, Json(BulkEvaluationFailure::new(&e))).into_response(),
    };
    let flags = state.engine.flags();
    let etag = flags.set.bulk_etag(&ctx);
    let etag_header = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    if let Some(sent) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && if_none_match(sent, &etag)
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_header)]).into_response();
    }
    let evaluations = flags.set.evaluate_all(&ctx);
    let mut answer = BulkEvaluationSuccess::new(&evaluations);
    answer.refresh_connections = Some(vec![RefreshConnection::sse(EVENTS_PATH)]);
    (StatusCode::OK, [(header::ETAG, etag_header)], Json(answer)).into_response()
}

/// A `refetchEvaluation` event now (so a client that connects learns the current ETag) and
/// at every change of the flags in force.
async fn events(_: Auth<Viewer>, State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (changes, stop) = (state.engine.flag_changes(), state.shutdown.clone());
    let stream = stream::unfold((changes, stop, true), |(mut changes, stop, first)| async move {
        if !first {
            tokio::select! {
                _ = stop.cancelled() => return None,
                changed = changes.changed() => changed.ok()?,
            }
        }
        let etag = changes.borrow_and_update().clone();
        let data = serde_json::to_string(&RefetchEvent::new(Some(&etag), Some(tandem_store::now_ms() / 1000)))
            .unwrap_or_default();
        Some((Ok(Event::default().data(data)), (changes, stop, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
