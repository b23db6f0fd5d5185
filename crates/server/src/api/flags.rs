//! A service's feature-flag file: its versions, and a new one put in force; the emergency path
//! (a kill switch flipped at once, reviewed afterwards, lifted by a change request). Evaluation
//! is OFREP's (see [`crate::ofrep`]).

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tandem_store::FlagEmergencyFilter;
use tandem_wire::changes::Change;
use tandem_wire::flags::{
    FlagEmergency, FlagEmergencyReview, FlagKillRequest, FlagLiftRequest, FlagVersion, NewFlagVersion,
};

/// Emergency changes listed at once when the query names no `limit`.
const EMERGENCIES_DEFAULT: i64 = 100;

/// The versions of a service's flag file, newest (the one in force) first, a page at a time:
/// the cursor is the `version` (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/services/{service}/flags", tag = "flags", params(("service" = String, Path), Page),
    responses((status = 200, body = [FlagVersion], headers(("x-next-cursor" = i64, description = "`after` of the next page (a version), when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_flag_versions(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let versions = state
        .engine
        .list_flag_versions_page(&service, page.after, limit)
        .await?;
    Ok(paged(versions.into_wire(), limit, |v| v.version))
}

/// Proposes a new flag file as a change request (kind `flags`): checked against the platform
/// first (422, every error with its line, nothing stored). When the platform's `changes`
/// policy needs no approval it is in force at once (201, the new version); otherwise it waits
/// for its reviewers (202, the change request).
#[utoipa::path(put, path = "/api/v1/services/{service}/flags", tag = "flags", params(("service" = String, Path)),
    request_body = NewFlagVersion,
    responses((status = 201, body = FlagVersion), (status = 202, body = Change), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_flags(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    JsonBody(new): JsonBody<NewFlagVersion>,
) -> ApiResult<Response> {
    let title = new.reason.as_deref().unwrap_or("flag file update");
    let change = state
        .engine
        .propose_flags(&service, title, &new.text, &auth.0.name, auth.0.role)
        .await?;
    if change.state == tandem_core::state::ChangeState::Done {
        let version = change.version.unwrap_or_default();
        let row = state
            .engine
            .get_flag_version(&service, version)
            .await
            .map_err(ApiError::internal)?;
        return Ok((StatusCode::CREATED, Json(row.into_wire())).into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(change.into_wire())).into_response())
}

/// Which emergency changes to list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EmergencyQuery {
    /// Only this service's flags.
    pub service: Option<String>,
    /// Only this flag.
    pub flag: Option<String>,
    /// Only those no one has reviewed yet.
    #[serde(default)]
    pub unreviewed: bool,
    /// At most this many (1 to 500; 100 by default), newest first.
    pub limit: Option<i64>,
}

/// Emergency changes of flags, newest first: who killed which flag where, when and why, and
/// where its review stands (`unreviewed` until the other side reviews it).
#[utoipa::path(get, path = "/api/v1/flags/emergencies", tag = "flags", params(EmergencyQuery),
    responses((status = 200, body = [FlagEmergency]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_emergencies(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<EmergencyQuery>,
) -> ApiResult<Json<Vec<FlagEmergency>>> {
    let limit = q.limit.unwrap_or(EMERGENCIES_DEFAULT);
    if !(1..=tandem_store::FLAG_EMERGENCIES_MAX).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is out of range: ask for 1 to {}",
            tandem_store::FLAG_EMERGENCIES_MAX
        )));
    }
    let filter = FlagEmergencyFilter {
        service: q.service.as_deref(),
        flag: q.flag.as_deref(),
        unreviewed: q.unreviewed,
    };
    let rows = state.engine.list_flag_emergencies(filter, limit).await?;
    Ok(Json(rows.into_wire()))
}

/// Kills a kill-switch flag now (everywhere, or in `market`): it serves its default variant on
/// every server at once. Recorded as an emergency change, unreviewed until the other side
/// reviews it. Needs the platform's `flags.emergency-role` (operator by default); refused for a
/// flag not marked `kill-switch: true` and for anything but a kill.
#[utoipa::path(post, path = "/api/v1/flags/{key}/kill", tag = "flags", params(("key" = String, Path)),
    request_body = FlagKillRequest,
    responses((status = 201, body = FlagEmergency), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn kill_flag(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(key): PathParam<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let (by, role) = (&auth.0.name, auth.0.role);
    // The role first: a caller who may not kill learns nothing about the flag or the body.
    state.engine.check_emergency_role(by, role).await?;
    let Json(req) = Json::<FlagKillRequest>::from_bytes(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!(
                "{}: an emergency change only kills a flag: send {{ \"reason\": \"…\", \"market\": \"fr\" }} (market optional); any other change is a change request (PUT /api/v1/services/{{service}}/flags)",
                e.body_text()
            ),
        )
    })?;
    let kill = tandem_engine::flag_emergencies::KillRequest {
        flag: &key,
        market: req.market.as_deref(),
        reason: &req.reason,
    };
    let row = state.engine.kill_flag(kill, by, role).await?;
    Ok((StatusCode::CREATED, Json(row.into_wire())).into_response())
}

/// Reviews an emergency change afterwards (`approve` true or false): someone of the other side,
/// never its author; once. A rejection reverts nothing: the kill holds until lifted.
#[utoipa::path(post, path = "/api/v1/flags/emergencies/{id}/review", tag = "flags", params(("id" = i64, Path)),
    request_body = FlagEmergencyReview,
    responses((status = 200, body = FlagEmergency), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review_emergency(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    JsonBody(req): JsonBody<FlagEmergencyReview>,
) -> ApiResult<Json<FlagEmergency>> {
    let row = state
        .engine
        .review_flag_kill(id, &auth.0.name, auth.0.role, req.approve, req.comment.as_deref())
        .await?;
    Ok(Json(row.into_wire()))
}

/// Asks to lift a kill: opens a change request (kind `flags`, the file in force unchanged)
/// reviewed under the `changes` policy like any flag change; its approval lifts the kill. 202
/// with the change request, or 200 when the policy needs no approval and the kill is lifted.
#[utoipa::path(post, path = "/api/v1/flags/emergencies/{id}/lift", tag = "flags", params(("id" = i64, Path)),
    request_body = FlagLiftRequest,
    responses((status = 200, body = Change), (status = 202, body = Change), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lift_emergency(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    JsonBody(req): JsonBody<FlagLiftRequest>,
) -> ApiResult<Response> {
    let change = state
        .engine
        .lift_flag_kill(id, &req.reason, &auth.0.name, auth.0.role)
        .await?;
    let status = if change.state == tandem_core::state::ChangeState::Done {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(change.into_wire())).into_response())
}
