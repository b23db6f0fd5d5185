//! Market launches: the readiness checklist of a market not yet live, and its launch.

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tandem_engine::launch::{LaunchOutcome, Readiness as Checklist};
use tandem_wire::markets::{Launch, NotReady, Readiness, ReadinessCheck};

/// Runs the readiness checklist of a market now: its config against the latest release's
/// schema, its flags, the latest release live there, and its probe (a real request).
#[utoipa::path(get, path = "/api/v1/markets/{id}/readiness", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = Readiness), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_readiness(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Readiness>> {
    Ok(Json(state.engine.market_readiness(&id).await?.into_wire()))
}

/// Makes a market live when every readiness check passes. Refused with 422 and the checks that
/// failed (`details.missing`) when it is not ready, 409 when it is already live.
#[utoipa::path(post, path = "/api/v1/markets/{id}/launch", tag = "catalog", params(("id" = String, Path)),
    responses((status = 201, body = Launch), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn launch_market(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<String>,
) -> ApiResult<(StatusCode, Json<Launch>)> {
    match state.engine.launch_market(&id, &auth.0.name).await? {
        LaunchOutcome::Launched(launch) => Ok((StatusCode::CREATED, Json(launch.into_wire()))),
        LaunchOutcome::NotReady(readiness) => Err(not_ready(*readiness)),
    }
}

/// 422 `not_ready`, with the checks that failed and the whole checklist as details.
fn not_ready(readiness: Checklist) -> ApiError {
    let message = readiness.refusal();
    let missing: Vec<ReadinessCheck> = readiness.missing().map(IntoWire::into_wire).collect();
    let checks: Vec<ReadinessCheck> = readiness.checks.iter().map(IntoWire::into_wire).collect();
    ApiError {
        details: serde_json::to_value(NotReady {
            market: readiness.market,
            missing,
            checks,
        })
        .ok(),
        ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_ready", message)
    }
}
