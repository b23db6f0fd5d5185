//! The audit log (admins): who did what, when, from where, with which outcome; filtered, newest
//! first, paged by cursor; and a check of its hash chain.

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Admin, Auth};
use crate::error::{ApiError, ApiResult, ErrorBody, QueryParams};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tandem_store::AuditFilter;
use tandem_wire::audit::{AuditPage, ChainReport};

/// Entries per page unless `limit` says otherwise.
const DEFAULT_LIMIT: i64 = 100;

/// The filters and cursor of `GET /api/v1/audit`; an unknown parameter is refused (400).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Exactly this actor: a token's name, `tandem` (the server itself), `anonymous`.
    pub actor: Option<String>,
    /// A kind (`rollout.approved`) or a family (`rollout`).
    pub kind: Option<String>,
    /// An object (`rollout/3`, `change/12`) or a type (`rollout`).
    pub object: Option<String>,
    /// From this time on: RFC 3339 (`2026-12-06T10:00:00Z`) or Unix milliseconds.
    pub since: Option<String>,
    /// Before this time: RFC 3339 or Unix milliseconds.
    pub until: Option<String>,
    /// The cursor: the `next` of the previous page.
    pub before: Option<i64>,
    /// Entries per page: 1 to 500, 100 by default.
    pub limit: Option<i64>,
}

/// A time given as RFC 3339 or Unix milliseconds, in Unix milliseconds.
pub fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| {
            ApiError::bad_request(format!(
                "`{field}`: `{text}` is not a time: give RFC 3339 (2026-12-06T10:00:00Z) or Unix milliseconds ({e})"
            ))
        })
}

impl AuditQuery {
    fn filter(self) -> Result<AuditFilter, ApiError> {
        let nonempty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            since: self.since.as_deref().map(|t| parse_time("since", t)).transpose()?,
            until: self.until.as_deref().map(|t| parse_time("until", t)).transpose()?,
            actor: nonempty(self.actor),
            kind: nonempty(self.kind),
            object: nonempty(self.object),
            before: self.before,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT),
        })
    }
}

/// The audit log, newest first: every change and decision with its actor, credential, address
/// and outcome, and every refused state-changing request.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    _: Auth<Admin>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(state.engine.list_audit(&q.filter()?).await?.into_wire()))
}

/// Checks the audit log's hash chain: every row must match its hash and follow the row before
/// it. `intact` is false, and `problems` names the rows, when a row was edited or deleted.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "admin",
    responses((status = 200, body = ChainReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(_: Auth<Admin>, State(state): State<AppState>) -> ApiResult<Json<ChainReport>> {
    Ok(Json(state.engine.verify_audit_chain().await?.into_wire()))
}
