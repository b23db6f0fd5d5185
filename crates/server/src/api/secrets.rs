//! The secrets store, for admins only: set or rotate, list, delete. No route returns a value;
//! only the jobs that declare a secret get it (see `Engine::secret`).

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Admin, Auth};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam};
use axum::Json;
use axum::extract::State;
use tandem_core::names::is_secret_name;
use tandem_wire::secrets::{NewSecretValue, Secret, SecretEntry};

/// Every declared or stored secret, with its version and who set it; never a value.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "admin",
    responses((status = 200, body = [SecretEntry]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_secrets(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<Vec<SecretEntry>>> {
    let all = state.engine.list_secrets().await?;
    Ok(Json(
        all.into_iter()
            .map(|s| SecretEntry {
                source: match (&s.stored, s.env_set) {
                    (Some(_), _) => "store",
                    (None, true) => "environment",
                    (None, false) => "unset",
                }
                .to_string(),
                name: s.name,
                declared: s.declared,
                env: s.env,
                version: s.stored.as_ref().map(|r| r.version),
                updated_at: s.stored.as_ref().map(|r| r.updated_at),
                updated_by: s.stored.map(|r| r.updated_by),
            })
            .collect(),
    ))
}

/// Sets or rotates a declared secret's value; the next job that uses it gets the new one.
#[utoipa::path(put, path = "/api/v1/secrets/{name}", tag = "admin", request_body = NewSecretValue,
    params(("name" = String, Path, description = "A name declared under `secrets` in the platform file")),
    responses((status = 200, body = Secret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_secret(
    auth: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
    JsonBody(new): JsonBody<NewSecretValue>,
) -> ApiResult<Json<Secret>> {
    check_name(&name)?;
    Ok(Json(
        state
            .engine
            .set_secret(&name, &new.value, &auth.0.name)
            .await?
            .into_wire(),
    ))
}

/// Deletes a secret's stored value; the environment variable, if the platform file names one,
/// serves again.
#[utoipa::path(delete, path = "/api/v1/secrets/{name}", tag = "admin",
    params(("name" = String, Path, description = "The secret's name")),
    responses((status = 200, body = Secret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_secret(
    auth: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(name): PathParam<String>,
) -> ApiResult<Json<Secret>> {
    check_name(&name)?;
    Ok(Json(state.engine.delete_secret(&name, &auth.0.name).await?.into_wire()))
}

fn check_name(name: &str) -> ApiResult<()> {
    if is_secret_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "secret name `{name}` is not valid: expected upper-case letters, digits and `_`, such as `REGISTRY_TOKEN`"
        )))
    }
}
