//! Tokens (create with an optional expiry, list, revoke), one-time sign-in links, the event log
//! and the caller's identity.

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Admin, Auth, Credential, LOGIN_CODE_LIFETIME, Viewer, generate_code, generate_secret};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tandem_core::role::Role;
use tandem_wire::admin::{CreatedToken, Event, GcReport, Lease, LoginCode, NewToken, Servers, Token, WhoAmI};

/// The longest lifetime a token may be given (`expires_in`): ten years.
const MAX_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 366 * 86_400);

/// Every token (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses((status = 200, body = [Token]), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<Vec<Token>>> {
    Ok(Json(state.engine.list_tokens().await?.into_wire()))
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
    let expires_at = match new.expires_in.as_deref() {
        Some(text) => Some(tandem_store::now_ms() + lifetime(text)?.as_millis() as i64),
        None => None,
    };
    let secret = generate_secret();
    let token = state
        .engine
        .insert_token_expiring(new.name.trim(), role, &secret, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into_wire(),
            secret,
        }),
    ))
}

/// Reads `expires_in`: a positive duration up to [`MAX_TOKEN_LIFETIME`].
fn lifetime(text: &str) -> Result<std::time::Duration, ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("`expires_in`: {why}"));
    // Long digit strings would overflow the parser's arithmetic: no real lifetime has them.
    if text.trim().len() > 8 {
        return Err(bad(format!("`{text}` is too long: use a duration such as `30d`")));
    }
    let d = tandem_core::duration::parse_duration(text).map_err(bad)?;
    if d.is_zero() || d > MAX_TOKEN_LIFETIME {
        return Err(bad(format!("`{text}` must be more than 0 and at most 3660d")));
    }
    Ok(d)
}

/// Revokes a token at once, with every browser session opened with it.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = i64, Path)),
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    _: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Token>> {
    let token = revoke(&state, id).await?;
    Ok(Json(token.into_wire()))
}

/// Revokes token `id` in the store and drops it from this server's cache.
pub(crate) async fn revoke(state: &AppState, id: i64) -> Result<tandem_store::TokenRow, ApiError> {
    let token = state
        .engine
        .revoke_token(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("token {id} not found: `tandem token list` shows them")))?;
    state.tokens.forget_token(id);
    Ok(token)
}

/// A one-time sign-in link for the caller: opening it in a browser signs in as the caller, with
/// the caller's role, once, within 15 minutes. Revoking the caller's token kills it.
#[utoipa::path(post, path = "/api/v1/login-codes", tag = "admin",
    responses((status = 201, body = LoginCode), (status = 401, body = ErrorBody)))]
pub async fn create_login_code(
    auth: Auth<Viewer>,
    State(state): State<AppState>,
) -> ApiResult<(StatusCode, Json<LoginCode>)> {
    if auth.credential() == Credential::Anonymous {
        return Err(ApiError::unauthorized());
    }
    let code = generate_code();
    let expires_at = tandem_store::now_ms() + LOGIN_CODE_LIFETIME.as_millis() as i64;
    let caller = &auth.0;
    state
        .engine
        .insert_login_code(
            &code,
            &caller.name,
            caller.role,
            auth.credential().token_id(),
            expires_at,
        )
        .await?;
    let path = format!("/login?code={code}");
    Ok((StatusCode::CREATED, Json(LoginCode { code, path, expires_at })))
}

/// The query of `GET /api/v1/events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// Only events after this id.
    pub after: Option<i64>,
    /// At most this many events.
    pub limit: Option<i64>,
}

/// The audit trail: every state change, oldest first, a page at a time (up to 5,000 events a
/// page, 500 by default).
#[utoipa::path(get, path = "/api/v1/events", tag = "admin", params(EventQuery),
    responses((status = 200, body = [Event], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 401, body = ErrorBody)))]
pub async fn list_events(
    auth: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<EventQuery>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let mut events = state.engine.list_events(q.after.unwrap_or(0), limit).await?;
    if !auth.0.role.allows(Role::Admin) {
        // Credentials and addresses are for admins (the audit log); the rest is shared.
        for event in &mut events {
            (event.via, event.address) = (None, None);
        }
    }
    Ok(super::page::paged(events.into_wire(), limit, |e| e.id))
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
    responses((status = 200, body = GcReport), (status = 403, body = ErrorBody)))]
pub async fn collect_garbage(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<GcReport>> {
    Ok(Json(state.engine.collect_garbage_now().await?.into_wire()))
}

/// The servers sharing this database: which one answered, and who holds each lease (the
/// conductor executes runs, drives rollouts and watches the markets; see docs/operations.md).
#[utoipa::path(get, path = "/api/v1/servers", tag = "admin",
    responses((status = 200, body = Servers), (status = 403, body = ErrorBody)))]
pub async fn list_servers(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<Servers>> {
    let engine = &state.engine;
    let leases = engine
        .list_leases()
        .await?
        .into_iter()
        .map(|l| Lease {
            name: l.name,
            holder: l.holder,
            fence: l.fence,
            expires_at: l.expires_at,
        })
        .collect();
    Ok(Json(Servers {
        this: engine.server_name().to_string(),
        this_is_conductor: engine.is_conductor(),
        database: engine.backend_name().to_string(),
        leases,
    }))
}
