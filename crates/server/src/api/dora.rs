//! The four DORA keys over a window, for a service, market, wave and kind of change.

use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, QueryParams};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tandem_core::dora::{Bucket, ChangeKind, DAY_MS, Filter, MAX_BUCKETS, Window};
use tandem_wire::dora::{DoraAnswer, DoraSeries};

/// The filters and window of the DORA routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoraQuery {
    /// Only this service's deployments.
    pub service: Option<String>,
    /// Only this market's deployments.
    pub market: Option<String>,
    /// The wave's place in the rollout plan (0 is the pilot).
    pub wave: Option<u32>,
    /// `code` (releases), `config` (config versions), or both when absent.
    pub kind: Option<String>,
    /// The window ends now and spans this many days (default 30); or give `from` and `to`.
    pub days: Option<u32>,
    /// Start of the window, Unix milliseconds (with `to`).
    pub from: Option<i64>,
    /// End of the window (excluded), Unix milliseconds.
    pub to: Option<i64>,
}

/// Deployment frequency, lead time for changes (median, p90), change failure rate and failed
/// deployment recovery time, with their levels; see docs/metrics.md for every formula.
#[utoipa::path(get, path = "/api/v1/metrics/dora", tag = "metrics", params(DoraQuery),
    responses((status = 200, body = DoraAnswer), (status = 400, body = ErrorBody)))]
pub async fn dora(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<DoraQuery>,
) -> ApiResult<Json<DoraAnswer>> {
    let (from, to, filter) = filter_of(&q)?;
    let keys = state.engine.dora(&filter).await?;
    Ok(Json(DoraAnswer { from, to, keys }))
}

/// The window and filter a query asks for; a 400 naming the parameter when it is wrong.
fn filter_of(q: &DoraQuery) -> ApiResult<(i64, i64, Filter)> {
    let (from, to) = match (q.from, q.to, q.days) {
        (Some(from), Some(to), None) => (from, to),
        (None, None, days) => {
            let to = tandem_store::now_ms() + 1;
            (to - i64::from(days.unwrap_or(30).max(1)) * DAY_MS, to)
        }
        _ => {
            return Err(ApiError::bad_request(
                "give `days`, or both `from` and `to` (Unix milliseconds)",
            ));
        }
    };
    let window = Window::new(from, to).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut filter = Filter::new(window);
    filter.service = q.service.clone();
    filter.market = q.market.clone();
    filter.wave = q.wave;
    filter.kind = match q.kind.as_deref() {
        None => None,
        Some("code") => Some(ChangeKind::Code),
        Some("config") => Some(ChangeKind::Config),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`kind` is `{other}`: expected `code` or `config`"
            )));
        }
    };
    Ok((from, to, filter))
}

/// The bucket size of `GET /api/v1/metrics/dora/series`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// `week` (default) or `day`.
    pub bucket: Option<String>,
}

/// The four keys bucket by bucket over the window: their trend. Same filters as
/// `/api/v1/metrics/dora`; at most 1,000 buckets.
#[utoipa::path(get, path = "/api/v1/metrics/dora/series", tag = "metrics", params(DoraQuery, SeriesParams),
    responses((status = 200, body = DoraSeries), (status = 400, body = ErrorBody)))]
pub async fn dora_series(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<DoraQuery>,
    QueryParams(p): QueryParams<SeriesParams>,
) -> ApiResult<Json<DoraSeries>> {
    let (from, to, filter) = filter_of(&q)?;
    let bucket = match p.bucket.as_deref() {
        None | Some("week") => Bucket::Week,
        Some("day") => Bucket::Day,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`bucket` is `{other}`: expected `week` or `day`"
            )));
        }
    };
    let count = (to - from - 1) / bucket.len_ms() + 1;
    if count > MAX_BUCKETS {
        return Err(ApiError::bad_request(format!(
            "{count} buckets of a {} in the window: at most {MAX_BUCKETS}; widen `bucket` or narrow the window",
            p.bucket.as_deref().unwrap_or("week")
        )));
    }
    let buckets = state.engine.dora_series(&filter, bucket).await?;
    Ok(Json(DoraSeries {
        from,
        to,
        bucket: p.bucket.unwrap_or_else(|| "week".into()),
        buckets,
    }))
}
