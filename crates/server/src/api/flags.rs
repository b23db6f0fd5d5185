//! A service's feature-flag file: its versions, and a new one put in force. Evaluation is
//! OFREP's (see [`crate::ofrep`]).

use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiResult, ErrorBody, JsonBody, PathParam};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tandem_store::FlagVersionRow;

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

/// Checks a new flag file against the platform and puts it in force as the service's next
/// version; a file with any error changes nothing (422, every error with its line).
#[utoipa::path(put, path = "/api/v1/services/{service}/flags", tag = "flags", params(("service" = String, Path)),
    request_body = NewFlagVersion,
    responses((status = 201, body = FlagVersionRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_flags(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    JsonBody(new): JsonBody<NewFlagVersion>,
) -> ApiResult<(StatusCode, Json<FlagVersionRow>)> {
    let row = state
        .engine
        .apply_flags(&service, &new.text, &auth.0.name, new.reason.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(row)))
}
