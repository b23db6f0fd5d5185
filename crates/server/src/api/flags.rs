//! A service's feature-flag file: its versions, and a new one put in force. Evaluation is
//! OFREP's (see [`crate::ofrep`]).

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tandem_wire::changes::Change;
use tandem_wire::flags::{FlagVersion, NewFlagVersion};

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
