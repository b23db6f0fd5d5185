//! Markets, waves and services.

use super::convert::IntoWire;
use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use tandem_wire::markets::{MarketStatus, Service, Wave};

/// Every market, with the release each service runs there, its health and what is in flight.
#[utoipa::path(get, path = "/api/v1/markets", tag = "catalog",
    responses((status = 200, body = [MarketStatus]), (status = 401, body = ErrorBody)))]
pub async fn list_markets(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<MarketStatus>>> {
    Ok(Json(state.engine.market_matrix().await?.into_wire()))
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
