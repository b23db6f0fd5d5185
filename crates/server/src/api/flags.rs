//! A service's feature-flag file: its versions, and a new one put in force. Evaluation is
//! OFREP's (see [`crate::ofrep`]).

use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tandem_store::{ChangeRow, FlagVersionRow};

/// The versions of a service's flag file, newest (the one in force) first.
#[utoipa::path(get, path = "/api/v1/services/{service}/flags", tag = "flags", params(("service" = String, Path)),
    responses((status = 200, body = [FlagVersionRow]), (status = 401, body = ErrorBody)))]
pub async fn list_flag_versions(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
) -> ApiResult<Json<Vec<FlagVersionRow>>> {
    Ok(Json(state.engine.store.list_flag_versions(&service).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlagVersion {
    /// The whole flag file (YAML; see docs/flags.md).
    pub text: String,
    /// Why it changes, kept with the version.
    pub reason: Option<String>,
}

/// Proposes a new flag file as a change request (kind `flags`): checked against the platform
/// first (422, every error with its line, nothing stored). When the platform's `changes`
/// policy needs no approval it is in force at once (201, the new version); otherwise it waits
/// for its reviewers (202, the change request).
#[utoipa::path(put, path = "/api/v1/services/{service}/flags", tag = "flags", params(("service" = String, Path)),
    request_body = NewFlagVersion,
    responses((status = 201, body = FlagVersionRow), (status = 202, body = ChangeRow), (status = 403, body = ErrorBody),
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
            .store
            .list_flag_versions(&service)
            .await?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| ApiError::internal(format!("flag version {version} of {service} is missing")))?;
        return Ok((StatusCode::CREATED, Json(row)).into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(change)).into_response())
}
