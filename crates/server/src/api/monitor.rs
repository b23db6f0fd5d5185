//! What the monitor sees: each live market's health, and the series it keeps.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, QueryParams};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use std::time::Duration;
use tandem_core::monitor::{RESOLUTIONS, resolution_for};
use tandem_wire::monitor::{MarketHealth, SeriesAnswer};

/// `?limit=` and `?after=SERVICE/MARKET` of `GET /api/v1/health`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HealthQuery {
    /// Rows to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// `SERVICE/MARKET` of the last row of the previous page (its `X-Next-Cursor` header).
    pub after: Option<String>,
}

/// Every live market's health as last probed, by service then market, a page at a time.
#[utoipa::path(get, path = "/api/v1/health", tag = "monitor", params(HealthQuery),
    responses((status = 200, body = [MarketHealth], headers(("x-next-cursor" = String, description = "`after` of the next page (`SERVICE/MARKET`), when this one is full"))),
        (status = 400, body = ErrorBody)))]
pub async fn list_health(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<HealthQuery>,
) -> ApiResult<Response> {
    let limit = Page {
        limit: q.limit,
        after: None,
    }
    .limit()?;
    let after = match q.after.as_deref() {
        None => None,
        Some(cursor) => Some(cursor.split_once('/').ok_or_else(|| {
            ApiError::bad_request(format!(
                "`after` is `{cursor}`: give `SERVICE/MARKET`, the `X-Next-Cursor` of the previous page"
            ))
        })?),
    };
    let rows = state.engine.list_market_health_page(after, limit).await?;
    Ok(paged(rows.into_wire(), limit, |h| {
        format!("{}/{}", h.service, h.market)
    }))
}

/// The names of a service's series.
#[utoipa::path(get, path = "/api/v1/services/{service}/series", tag = "monitor",
    params(("service" = String, Path)),
    responses((status = 200, body = [String])))]
pub async fn list_series(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(state.engine.series_names(&service).await?))
}

/// The market and window of a service's metric series.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// One market; all markets when absent.
    pub market: Option<String>,
    /// The window ends now and spans this many hours (default 24).
    pub hours: Option<u32>,
    /// Seconds per point: 60 or 3600; chosen from the window when absent (about 200 points).
    pub resolution: Option<i64>,
}

/// One series of a service: probe latency (`probe_latency_ms`), `up` (1 or 0 per probe), and
/// one series per metric gate check (its value over each probe interval).
#[utoipa::path(get, path = "/api/v1/services/{service}/series/{metric}", tag = "monitor",
    params(("service" = String, Path), ("metric" = String, Path), SeriesQuery),
    responses((status = 200, body = SeriesAnswer), (status = 400, body = ErrorBody)))]
pub async fn get_series(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    Path((service, metric)): Path<(String, String)>,
    QueryParams(q): QueryParams<SeriesQuery>,
) -> ApiResult<Json<SeriesAnswer>> {
    let hours = q.hours.unwrap_or(24).max(1);
    let span = Duration::from_secs(u64::from(hours) * 3600);
    let resolution = match q.resolution {
        None => resolution_for(span, 200),
        Some(r) if RESOLUTIONS.iter().any(|(known, _)| *known == r) => r,
        Some(r) => {
            return Err(ApiError::bad_request(format!(
                "`resolution` is {r}: expected one of {}",
                RESOLUTIONS.map(|(r, _)| r.to_string()).join(", ")
            )));
        }
    };
    let to = tandem_store::now_ms() + 1;
    let from = to - span.as_millis() as i64;
    let points = state
        .engine
        .series(&service, q.market.as_deref(), &metric, resolution, from, to)
        .await?
        .into_wire();
    Ok(Json(SeriesAnswer {
        service,
        metric,
        resolution,
        from,
        to,
        points,
    }))
}
