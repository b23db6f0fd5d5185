//! Rollouts: a release moving through the waves, steered wave by wave (pause, resume, abort,
//! approve, promote, skip a market, override a freeze), and the deployments it made.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Admin, Auth, Developer, Operator, Viewer};
use crate::error::{ApiResult, ErrorBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tandem_core::rollout::MARKET_STATES;
use tandem_wire::rollouts::{
    Deployment, NewRollout, OverrideRequest, ReasonRequest, Rollout, RolloutDetail, RolloutMarket, WaveDecisionRequest,
};

/// Rollouts, newest first, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/rollouts", tag = "releases", params(Page),
    responses((status = 200, body = [Rollout], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_rollouts(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let rows = state.engine.list_rollouts_page(page.after, limit).await?;
    Ok(paged(rows.into_wire(), limit, |r| r.id))
}

/// Starts rolling a release out through the waves.
#[utoipa::path(post, path = "/api/v1/rollouts", tag = "releases", request_body = NewRollout,
    responses((status = 202, body = Rollout), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    crate::error::JsonBody(new): crate::error::JsonBody<NewRollout>,
) -> ApiResult<(StatusCode, Json<Rollout>)> {
    let rollout = state
        .engine
        .start_rollout_with(new.release_id, &auth.0.name, new.queue)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(rollout.into_wire())))
}

/// How many markets of a wave `GET /api/v1/rollouts/{id}` lists: the answer stays bounded at
/// thousands of markets; the rest come a page at a time from `/rollouts/{id}/markets`.
pub const WAVE_MARKETS_LISTED: usize = 500;

/// A rollout as waves × markets. A wave of more than 500 markets lists its first 500
/// (`markets_total` says how many it has): page through the rest with
/// `GET /api/v1/rollouts/{id}/markets?wave=`.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutDetail), (status = 404, body = ErrorBody)))]
pub async fn get_rollout(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RolloutDetail>> {
    let mut detail = state.engine.rollout_detail(id).await?;
    // Only what is answered becomes wire types and JSON; the counts are over every market.
    let counts: Vec<(usize, BTreeMap<String, usize>)> = detail
        .waves
        .iter()
        .map(|w| {
            let mut by_state = BTreeMap::new();
            for m in &w.markets {
                *by_state.entry(m.state.clone()).or_default() += 1;
            }
            (w.markets.len(), by_state)
        })
        .collect();
    for wave in &mut detail.waves {
        wave.markets.truncate(WAVE_MARKETS_LISTED);
    }
    let mut wire = detail.into_wire();
    for (wave, (total, by_state)) in wire.waves.iter_mut().zip(counts) {
        wave.markets_total = total;
        wave.markets_by_state = by_state;
    }
    Ok(Json(wire))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RolloutMarketsQuery {
    /// Only this wave's markets; every wave's, in plan order, without it.
    pub wave: Option<String>,
    /// Only the markets in this state: failed, blocked, deploying, waiting, live, skipped,
    /// superseded, unchanged or not reached.
    pub state: Option<String>,
    /// Markets to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The market after which this page starts (the previous page's `X-Next-Cursor`).
    pub after: Option<String>,
}

/// A rollout's markets, a page at a time in plan order (wave by wave, as each wave lists
/// them): each with its wave, state, the rollout's deployment there and its gates.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}/markets", tag = "releases", params(("id" = i64, Path), RolloutMarketsQuery),
    responses((status = 200, body = [RolloutMarket], headers(("x-next-cursor" = String, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_rollout_markets(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    QueryParams(q): QueryParams<RolloutMarketsQuery>,
) -> ApiResult<Response> {
    let limit = Page {
        limit: q.limit,
        after: None,
    }
    .limit()?;
    let detail = state.engine.rollout_detail(id).await?;
    if let Some(wave) = &q.wave
        && !detail.waves.iter().any(|w| &w.name == wave)
    {
        return Err(crate::error::ApiError::bad_request(format!(
            "rollout {id} has no wave `{wave}`: see its waves in GET /api/v1/rollouts/{id}"
        )));
    }
    if let Some(s) = &q.state
        && !MARKET_STATES.contains(&s.as_str())
    {
        return Err(crate::error::ApiError::bad_request(format!(
            "`{s}` is not a market's state in a rollout: use one of {}",
            MARKET_STATES.join(", ")
        )));
    }
    let mut all = detail
        .waves
        .into_iter()
        .filter(|w| q.wave.as_ref().is_none_or(|name| &w.name == name))
        .flat_map(|w| {
            let name = w.name;
            w.markets.into_iter().map(move |m| (name.clone(), m))
        })
        .filter(|(_, m)| q.state.as_ref().is_none_or(|s| &m.state == s));
    let mut rows = Vec::new();
    if let Some(after) = &q.after
        && !all.by_ref().any(|(_, m)| &m.market == after)
    {
        return Err(crate::error::ApiError::bad_request(format!(
            "rollout {id} has no market `{after}` to page after: `after` is the `X-Next-Cursor` of the previous page"
        )));
    }
    for (wave, market) in all.take(limit as usize) {
        rows.push(RolloutMarket {
            wave,
            market: market.into_wire(),
        });
    }
    Ok(paged(rows, limit, |r| r.market.market.clone()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeploymentQuery {
    /// Only this rollout's deployments.
    pub rollout: Option<i64>,
    /// Rows to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The id of the last deployment of the previous page (its `X-Next-Cursor` header).
    pub after: Option<i64>,
}

/// Deployments (one release landing in one market), oldest first, a page at a time (see
/// `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/deployments", tag = "releases", params(DeploymentQuery),
    responses((status = 200, body = [Deployment], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_deployments(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<DeploymentQuery>,
) -> ApiResult<Response> {
    let limit = Page {
        limit: q.limit,
        after: None,
    }
    .limit()?;
    let rows = state.engine.list_deployments_page(q.rollout, q.after, limit).await?;
    Ok(paged(rows.into_wire(), limit, |d| d.id))
}

/// Pauses a rollout: the wave under way finishes, the next waits for resume.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/pause", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = Rollout), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Rollout>> {
    Ok(Json(state.engine.pause_rollout(id, &auth.0.name).await?.into_wire()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResumeQuery {
    /// A blocked rollout only: go on without the markets its config check refused; they keep
    /// what they run and are listed as skipped, with the reason.
    #[serde(default, rename = "skip-blocked")]
    #[param(rename = "skip-blocked")]
    pub skip_blocked: bool,
}

/// Resumes a paused rollout at its next wave, or a blocked one in its wave (its refused markets
/// are checked again, or skipped with `?skip-blocked=true`). A halted rollout does not resume.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/resume", tag = "releases", params(("id" = i64, Path), ResumeQuery),
    responses((status = 200, body = Rollout), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    QueryParams(q): QueryParams<ResumeQuery>,
) -> ApiResult<Json<Rollout>> {
    Ok(Json(
        state
            .engine
            .resume_rollout(id, &auth.0.name, q.skip_blocked)
            .await?
            .into_wire(),
    ))
}

/// Aborts a rollout: no further wave starts; every market keeps what it runs. An optional
/// `{ "reason" }` is recorded with the decision and shown on the rollout.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/abort", tag = "releases", params(("id" = i64, Path)),
    request_body = ReasonRequest,
    responses((status = 200, body = Rollout), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn abort_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Rollout>> {
    let req: ReasonRequest = optional_body(&body, "{ \"reason\": \"…\" }")?;
    let row = match reason_of(req.reason.as_deref())? {
        Some(reason) => state.engine.abort_rollout_because(id, &auth.0.name, reason).await?,
        None => state.engine.abort_rollout(id, &auth.0.name).await?,
    };
    Ok(Json(row.into_wire()))
}

/// The most characters a reason may have.
const REASON_MAX: usize = 1000;

/// A reason given, trimmed (`None` when empty), refused when longer than [`REASON_MAX`].
pub(crate) fn reason_of(reason: Option<&str>) -> ApiResult<Option<&str>> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() > REASON_MAX => Err(crate::error::ApiError::bad_request(format!(
            "the reason has more than {REASON_MAX} characters: say it shorter"
        ))),
        other => Ok(other),
    }
}

/// Reads an optional JSON body (empty means every field's default); `shape` says what it
/// should look like when it is not that.
pub(crate) fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8], shape: &str) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| crate::error::ApiError::bad_request(format!("the request body is not `{shape}`: {e}")))
}

/// Reads an optional `{ "wave", "reason" }` body (empty means the wave the rollout waits for).
fn wave_request(body: &[u8]) -> ApiResult<WaveDecisionRequest> {
    optional_body(body, "{ \"wave\": \"NAME\", \"reason\": \"…\" }")
}

/// Approves the wave a rollout waits for (or the `wave` named, which must be that one); the
/// platform file's `approvals` name the role it needs (operator by default). Viewers never may.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/approve", tag = "releases", params(("id" = i64, Path)),
    request_body = WaveDecisionRequest,
    responses((status = 200, body = Rollout), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_rollout(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Rollout>> {
    let req = wave_request(&body)?;
    let (by, role) = (&auth.0.name, auth.0.role);
    let row = match reason_of(req.reason.as_deref())? {
        Some(reason) => {
            state
                .engine
                .approve_rollout_because(id, req.wave.as_deref(), by, role, reason)
                .await?
        }
        None => state.engine.approve_rollout(id, req.wave.as_deref(), by, role).await?,
    };
    Ok(Json(row.into_wire()))
}

/// Goes on to the next wave now: gives the approval a waiting rollout needs (operator, or the
/// approval's role if higher; the `wave` named must be the one it waits for), or resumes a
/// paused one.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/promote", tag = "releases", params(("id" = i64, Path)),
    request_body = WaveDecisionRequest,
    responses((status = 200, body = Rollout), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn promote_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Rollout>> {
    let req = wave_request(&body)?;
    let (by, role) = (&auth.0.name, auth.0.role);
    Ok(Json(
        state
            .engine
            .promote_rollout(id, req.wave.as_deref(), by, role)
            .await?
            .into_wire(),
    ))
}

/// Leaves a market out of a rollout (it keeps what it runs); refused once it was deployed. An
/// optional `{ "reason" }` is recorded with the decision.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/skip/{market}", tag = "releases",
    params(("id" = i64, Path), ("market" = String, Path)),
    request_body = ReasonRequest,
    responses((status = 200, body = Rollout), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn skip_market(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam((id, market)): PathParam<(i64, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Rollout>> {
    let req: ReasonRequest = optional_body(&body, "{ \"reason\": \"…\" }")?;
    let reason = reason_of(req.reason.as_deref())?;
    Ok(Json(
        state
            .engine
            .skip_market_because(id, &market, &auth.0.name, reason)
            .await?
            .into_wire(),
    ))
}

/// Lets a rollout deploy into markets under a freeze (admin only, with a reason).
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/override", tag = "releases", params(("id" = i64, Path)),
    request_body = OverrideRequest,
    responses((status = 200, body = Rollout), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn override_freeze(
    auth: Auth<Admin>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    crate::error::JsonBody(req): crate::error::JsonBody<OverrideRequest>,
) -> ApiResult<Json<Rollout>> {
    if req.reason.trim().is_empty() {
        return Err(crate::error::ApiError::bad_request(
            "overriding a freeze needs a `reason`",
        ));
    }
    Ok(Json(
        state
            .engine
            .override_freeze(id, &auth.0.name, &req.reason)
            .await?
            .into_wire(),
    ))
}
