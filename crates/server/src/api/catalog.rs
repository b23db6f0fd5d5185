//! Markets, waves and services.

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use tandem_wire::markets::{MarketStatus, Service, Wave};

/// `?limit=` and `?after=` of the markets list: `after` is a market id.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MarketsPage {
    /// Markets to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The id of the last market of the previous page (its `X-Next-Cursor` header).
    pub after: Option<String>,
}

/// The markets in platform-file order, a page at a time, each with the release each service
/// runs there, its health and what is in flight. The cursor is the market id (see
/// `docs/api.md`); only the page's markets are put together, however many the platform has.
#[utoipa::path(get, path = "/api/v1/markets", tag = "catalog", params(MarketsPage),
    responses((status = 200, body = [MarketStatus], headers(("x-next-cursor" = String, description = "`after` of the next page (a market id), when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_markets(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<MarketsPage>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = super::page::Page {
        limit: q.limit,
        after: None,
    }
    .limit()?;
    let markets = state
        .engine
        .market_matrix_page(q.after.as_deref(), limit as usize)
        .await
        .map_err(|e| match e {
            // A cursor that is no market is the caller's mistake, as with commits.
            tandem_engine::Error::NotFound { message, .. } => ApiError::bad_request(message),
            e => e.into(),
        })?
        .into_wire();
    Ok(super::page::paged(markets, limit, |m: &MarketStatus| {
        m.market.id.clone()
    }))
}

/// The waves, in rollout order.
#[utoipa::path(get, path = "/api/v1/waves", tag = "catalog",
    responses((status = 200, body = [Wave]), (status = 401, body = ErrorBody)))]
pub async fn list_waves(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<Wave>>> {
    Ok(Json(state.engine.list_waves().await?.into_wire()))
}

/// The services of the platform.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalog",
    responses((status = 200, body = [Service]), (status = 401, body = ErrorBody)))]
pub async fn list_services(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<Service>>> {
    Ok(Json(state.engine.list_services().await?.into_wire()))
}
