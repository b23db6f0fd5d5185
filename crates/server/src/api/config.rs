//! A service's resolved config per market, each value with the layer that set it.

use crate::AppState;
use crate::auth::{Auth, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// The market whose config is resolved.
    pub market: String,
}

/// One value of a resolved config.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigEntry {
    /// JSON pointer: `/payment/provider`.
    pub pointer: String,
    /// Dotted form: `payment.provider`.
    pub path: String,
    pub value: serde_json::Value,
    /// The layer that set it: `market facts`, `defaults`, `region west` or `market override`.
    pub origin: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarketConfig {
    pub service: String,
    pub market: String,
    /// The resolved config, as a deployment's config file holds it.
    pub values: serde_json::Value,
    pub entries: Vec<ConfigEntry>,
}

/// A market's resolved config (defaults → region → market), each value with its layer. The
/// answer's `ETag` is a hash of the values: a service polling with `If-None-Match` gets 304
/// while they are unchanged.
#[utoipa::path(get, path = "/api/v1/services/{service}/config", tag = "config",
    params(("service" = String, Path), ConfigQuery),
    responses((status = 200, body = MarketConfig), (status = 304), (status = 404, body = ErrorBody)))]
pub async fn get_config(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(q): QueryParams<ConfigQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let platform = state.engine.store.load_platform().await?;
    let svc = platform
        .service(&service)
        .ok_or_else(|| ApiError::not_found(format!("service `{service}` not found")))?;
    let market = platform
        .market(&q.market)
        .ok_or_else(|| ApiError::not_found(format!("market `{}` not found", q.market)))?;
    let resolution = tandem_core::config::resolve(&svc.config, market);
    let entries = resolution
        .entries()
        .map(|e| ConfigEntry {
            pointer: e.pointer.to_string(),
            path: e.path,
            value: e.value.clone(),
            origin: e.origin.to_string(),
        })
        .collect();
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(resolution.values.to_string().as_bytes())[..16])
    );
    let etag_header = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_header)]).into_response());
    }
    let body = MarketConfig {
        service,
        market: q.market,
        values: resolution.values,
        entries,
    };
    Ok(([(header::ETAG, etag_header)], Json(body)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The market compared from.
    pub from: String,
    /// The market compared to.
    pub to: String,
}

/// One value that differs between two markets' configs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiffLine {
    pub path: String,
    /// added, removed or changed.
    pub change: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

/// How two markets' resolved configs differ, value by value (their own facts included).
#[utoipa::path(get, path = "/api/v1/services/{service}/config/diff", tag = "config",
    params(("service" = String, Path), DiffQuery),
    responses((status = 200, body = [DiffLine]), (status = 404, body = ErrorBody)))]
pub async fn diff_markets(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<Vec<DiffLine>>> {
    let platform = state.engine.store.load_platform().await?;
    let svc = platform
        .service(&service)
        .ok_or_else(|| ApiError::not_found(format!("service `{service}` not found")))?;
    let resolve = |id: &str| {
        platform
            .market(id)
            .map(|m| tandem_core::config::resolve(&svc.config, m).values)
            .ok_or_else(|| ApiError::not_found(format!("market `{id}` not found")))
    };
    let (from, to) = (resolve(&q.from)?, resolve(&q.to)?);
    let diff = tandem_core::config::diff_configs(&from, &to);
    Ok(Json(
        diff.entries
            .into_iter()
            .map(|e| {
                let (change, old, new) = match e.change {
                    tandem_core::config::Change::Added { new } => ("added", None, Some(new)),
                    tandem_core::config::Change::Removed { old } => ("removed", Some(old), None),
                    tandem_core::config::Change::Changed { old, new } => ("changed", Some(old), Some(new)),
                };
                DiffLine {
                    path: e.path,
                    change: change.into(),
                    old,
                    new,
                }
            })
            .collect(),
    ))
}
