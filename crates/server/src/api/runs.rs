//! Pipeline runs, their logs and artifacts.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tandem_wire::runs::{Run, RunDetail};

/// The filters of `GET /api/v1/runs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RunQuery {
    /// Only this service's runs.
    pub service: Option<String>,
    /// Only runs of this branch.
    pub branch: Option<String>,
    /// queued, running, success, failed, cancelled or interrupted.
    pub state: Option<String>,
}

/// Runs, newest first, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunQuery, Page),
    responses((status = 200, body = [Run], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_runs(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<RunQuery>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let filter = tandem_store::RunFilter {
        service: q.service.as_deref(),
        branch: q.branch.as_deref(),
        state: q.state.as_deref(),
    };
    let limit = page.limit()?;
    let rows = state.engine.list_runs_page(&filter, page.after, limit).await?;
    Ok(paged(rows.into_wire(), limit, |r| r.id))
}

/// Starts a run of the service's branch head (by hand or from a script).
#[utoipa::path(post, path = "/api/v1/services/{service}/runs", tag = "runs", params(("service" = String, Path)),
    responses((status = 202, body = Run), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the branch cannot be read: its repository is missing or cannot be fetched")))]
pub async fn trigger_run(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    if !state.engine.list_services().await?.iter().any(|s| s.name == service) {
        return Err(ApiError::not_found(format!(
            "service `{service}` is not in the platform"
        )));
    }
    let trigger = if auth.0.name == "demo" { "demo" } else { "api" };
    let run = state.engine.trigger_run(&service, trigger).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into_wire())))
}

/// Cancels a run in progress: its running steps get TERM, then KILL after a grace period.
#[utoipa::path(post, path = "/api/v1/runs/{id}/cancel", tag = "runs", params(("id" = i64, Path)),
    responses((status = 202, body = Run), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_run(
    _: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    state.engine.cancel_run(id).await?;
    Ok((StatusCode::ACCEPTED, Json(state.engine.get_run(id).await?.into_wire())))
}

/// Re-runs the jobs of a run that did not pass; those that passed are reused.
#[utoipa::path(post, path = "/api/v1/runs/{id}/rerun", tag = "runs", params(("id" = i64, Path)),
    responses((status = 202, body = Run), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rerun_run(
    _: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let run = state.engine.rerun_failed(id).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into_wire())))
}

/// A run with its jobs, steps and artifacts.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", params(("id" = i64, Path)),
    responses((status = 200, body = RunDetail), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(state.engine.run_detail(id).await?.into_wire()))
}

/// A job's log as text: the stored log once the job ended, the growing one while it runs.
#[utoipa::path(get, path = "/api/v1/runs/{id}/jobs/{job}/log", tag = "runs",
    params(("id" = i64, Path), ("job" = String, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ErrorBody)))]
pub async fn get_job_log(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam((id, job)): PathParam<(i64, String)>,
) -> ApiResult<impl IntoResponse> {
    let body = crate::views_log::job_log_body(state.engine.clone(), id, &job).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body))
}

/// Downloads an artifact by its sha256 digest.
#[utoipa::path(get, path = "/api/v1/artifacts/{digest}", tag = "runs", params(("digest" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn get_artifact(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(digest): PathParam<String>,
) -> ApiResult<impl IntoResponse> {
    let file = state.engine.open_blob(&digest).await?;
    let size = file.metadata().map_err(ApiError::internal)?.len();
    // Streamed from the file: a 2 GiB artifact costs a read buffer, not 2 GiB.
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file)));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    ))
}
