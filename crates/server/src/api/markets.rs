//! Market launches: the readiness checklist of a market not yet live, and its launch.

use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tandem_engine::launch::{Check, Launch, LaunchError, Readiness};

/// One item of a readiness checklist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckBody {
    /// config, flags, release or probe.
    pub check: String,
    pub service: String,
    pub passed: bool,
    /// What passed, or what is missing and what to do.
    pub reason: String,
}

/// Whether a market may be launched, check by check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadinessBody {
    pub market: String,
    pub name: String,
    /// planned, launching or live.
    pub state: String,
    /// Every check passed.
    pub ready: bool,
    pub checks: Vec<CheckBody>,
    /// Unix milliseconds.
    pub checked_at: i64,
}

/// A market made live.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LaunchBody {
    pub market: String,
    /// Unix milliseconds.
    pub launched_at: i64,
    pub launched_by: String,
    /// The checklist it passed.
    pub readiness: ReadinessBody,
}

fn check_body(c: &Check) -> CheckBody {
    CheckBody {
        check: c.check.to_string(),
        service: c.service.clone(),
        passed: c.passed,
        reason: c.reason.clone(),
    }
}

fn readiness_body(r: Readiness) -> ReadinessBody {
    ReadinessBody {
        checks: r.checks.iter().map(check_body).collect(),
        market: r.market,
        name: r.name,
        state: r.state,
        ready: r.ready,
        checked_at: r.checked_at,
    }
}

/// Runs the readiness checklist of a market now: its config against the latest release's
/// schema, its flags, the latest release live there, and its probe (a real request).
#[utoipa::path(get, path = "/api/v1/markets/{id}/readiness", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = ReadinessBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_readiness(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<ReadinessBody>> {
    Ok(Json(readiness_body(state.engine.market_readiness(&id).await?)))
}

/// Makes a market live when every readiness check passes. Refused with 422 and the checks that
/// failed (`details.missing`) when it is not ready, 409 when it is already live.
#[utoipa::path(post, path = "/api/v1/markets/{id}/launch", tag = "catalog", params(("id" = String, Path)),
    responses((status = 201, body = LaunchBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn launch_market(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<String>,
) -> ApiResult<(StatusCode, Json<LaunchBody>)> {
    match state.engine.launch_market(&id, &auth.0.name).await {
        Ok(Launch {
            market,
            launched_at,
            launched_by,
            readiness,
        }) => Ok((
            StatusCode::CREATED,
            Json(LaunchBody {
                market,
                launched_at,
                launched_by,
                readiness: readiness_body(readiness),
            }),
        )),
        Err(e) => Err(launch_error(e)),
    }
}

fn launch_error(e: LaunchError) -> ApiError {
    let message = e.to_string();
    match e {
        LaunchError::UnknownMarket(_) => ApiError::not_found(message),
        LaunchError::AlreadyLive { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", message),
        LaunchError::NotReady(readiness) => {
            let missing: Vec<CheckBody> = readiness.missing().map(check_body).collect();
            let checks: Vec<CheckBody> = readiness.checks.iter().map(check_body).collect();
            ApiError {
                details: Some(serde_json::json!({
                    "market": readiness.market,
                    "missing": missing,
                    "checks": checks,
                })),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_ready", message)
            }
        }
        LaunchError::Failed(e) => e.into(),
    }
}
