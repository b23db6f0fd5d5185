//! Tokens, the event log and the caller's identity.

use crate::AppState;
use crate::auth::{Admin, Auth, Viewer, generate_secret};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tandem_core::role::Role;
use tandem_store::{EventRow, TokenRow};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// viewer, developer, operator or admin.
    pub role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenRow,
    /// The secret: shown this once, only its hash is kept.
    pub secret: String,
}

/// Every token (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses((status = 200, body = [TokenRow]), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<Vec<TokenRow>>> {
    Ok(Json(state.engine.store.list_tokens().await?))
}

/// Creates a token; its secret is in this answer and nowhere else.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    _: Auth<Admin>,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let role: Role = new
        .role
        .parse()
        .map_err(|e: String| ApiError::bad_request(format!("`role`: {e}")))?;
    if new.name.trim().is_empty() {
        return Err(ApiError::bad_request(
            "`name` is empty: name the token after who uses it",
        ));
    }
    let secret = generate_secret();
    let token = state.engine.store.insert_token(new.name.trim(), role, &secret).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// Only events after this id.
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// The audit trail: every state change, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "admin", params(EventQuery),
    responses((status = 200, body = [EventRow]), (status = 401, body = ErrorBody)))]
pub async fn list_events(
    auth: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<EventQuery>,
) -> ApiResult<Json<Vec<EventRow>>> {
    let mut events = state
        .engine
        .store
        .list_events(q.after.unwrap_or(0), q.limit.unwrap_or(500).clamp(1, 5000))
        .await?;
    if !auth.0.role.allows(Role::Admin) {
        // Credentials and addresses are for admins (the audit log); the rest is shared.
        for event in &mut events {
            (event.via, event.address) = (None, None);
        }
    }
    Ok(Json(events))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    pub name: String,
    pub role: String,
}

/// Who the credential belongs to.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "admin",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(auth: Auth<Viewer>) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: auth.0.name,
        role: auth.0.role.to_string(),
    })
}

/// Collects garbage now: forgets expired artifacts (never those of a release) and deletes blob
/// files nothing references. The server also does this every hour.
#[utoipa::path(post, path = "/api/v1/gc", tag = "admin",
    responses((status = 200, body = tandem_store::GcReport), (status = 403, body = ErrorBody)))]
pub async fn collect_garbage(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<tandem_store::GcReport>> {
    Ok(Json(state.engine.store.collect_garbage_now().await?))
}
