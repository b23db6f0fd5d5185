//! A service's config: each market's resolved config at the version it runs (with the layer
//! that set each value, an ETag, and a watch), diffs between markets or versions, the versions
//! and their audit log, and rollback.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, stream};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use tandem_store::ChangeRow;
use tandem_wire::config::{ConfigEntry, ConfigLogEntry, ConfigRollbackRequest, ConfigVersion, DiffLine, MarketConfig};
use tandem_wire::rollouts::ConfigMove;

/// The query of `GET /api/v1/services/{service}/config`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// The market whose config is resolved.
    pub market: String,
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
    let body = market_config(&state, &service, &q.market).await?;
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.values.to_string().as_bytes())[..16])
    );
    let etag_header = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_header)]).into_response());
    }
    Ok(([(header::ETAG, etag_header)], Json(body)).into_response())
}

/// A market's resolved config at the version it runs, each value with its layer.
async fn market_config(state: &AppState, service: &str, market: &str) -> ApiResult<MarketConfig> {
    let platform = state.engine.load_platform().await?;
    if platform.service(service).is_none() {
        return Err(ApiError::not_found(format!("service `{service}` not found")));
    }
    let m = platform
        .market(market)
        .ok_or_else(|| ApiError::not_found(format!("market `{market}` not found")))?;
    let (version, layers) = state.engine.config_layers(&platform, service, market, None).await?;
    let resolution = tandem_core::config::resolve(&layers, m);
    let entries = resolution
        .entries()
        .map(|e| ConfigEntry {
            pointer: e.pointer.to_string(),
            path: e.path,
            value: e.value.clone(),
            origin: e.origin.to_string(),
        })
        .collect();
    Ok(MarketConfig {
        service: service.to_string(),
        market: market.to_string(),
        version,
        values: resolution.values,
        entries,
    })
}

/// Server-Sent Events: the market's config now (event `config`, its `id` the version), then
/// again each time the market moves to another config version (a config rollout reached it,
/// or a rollback). The stream ends when the server stops.
#[utoipa::path(get, path = "/api/v1/services/{service}/config/watch", tag = "config",
    params(("service" = String, Path), ConfigQuery),
    responses((status = 200, description = "text/event-stream of `config` events, each a MarketConfig"), (status = 404, body = ErrorBody)))]
pub async fn watch_config(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(q): QueryParams<ConfigQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading, so no move between the two is missed.
    let moves = state.engine.config_moves();
    let first = market_config(&state, &service, &q.market).await?;
    let stop = state.shutdown.clone();
    let start = (state, service, q.market, moves, stop, Some(first));
    let stream = stream::unfold(start, |(state, service, market, mut moves, stop, first)| async move {
        let config = match first {
            Some(config) => config,
            None => loop {
                tokio::select! {
                    _ = stop.cancelled() => return None,
                    moved = moves.recv() => match moved {
                        Ok(m) if m.service == service && m.market == market => break market_config(&state, &service, &market).await.ok()?,
                        Ok(_) => continue,
                        // Missed some: send what is in force now.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break market_config(&state, &service, &market).await.ok()?,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    },
                }
            },
        };
        let event = Event::default()
            .event("config")
            .id(config.version.map(|v| v.to_string()).unwrap_or_default())
            .data(serde_json::to_string(&config).unwrap_or_default());
        Some((Ok(event), (state, service, market, moves, stop, None)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The query of `GET /api/v1/services/{service}/config/diff`: two markets, or two versions.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The market compared from (with `to`), or the market whose config versions are compared.
    pub from: Option<String>,
    /// The market compared to.
    pub to: Option<String>,
    /// With `to_version`: compare two config versions (of `market`'s resolved config, or of
    /// the layers themselves when no market is given).
    pub from_version: Option<i64>,
    /// The version compared to (with `from_version`).
    pub to_version: Option<i64>,
    /// With versions: the market whose resolved config is compared (else the layers).
    pub market: Option<String>,
}

/// How two configs differ, value by value: two markets' resolved configs (`from`, `to`), or
/// two config versions (`from_version`, `to_version`) of one market (`market`) or of the
/// layers as stored.
#[utoipa::path(get, path = "/api/v1/services/{service}/config/diff", tag = "config",
    params(("service" = String, Path), DiffQuery),
    responses((status = 200, body = [DiffLine]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn diff_config(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<Vec<DiffLine>>> {
    let (from, to) = match (&q.from, &q.to, q.from_version, q.to_version) {
        (Some(from), Some(to), None, None) => {
            let configs = state.engine.market_configs(&service).await?;
            let get = |id: &str| {
                configs
                    .get(id)
                    .map(|(_, values)| values.clone())
                    .ok_or_else(|| ApiError::not_found(format!("market `{id}` not found")))
            };
            (get(from)?, get(to)?)
        }
        (None, None, Some(a), Some(b)) => {
            let engine = &state.engine;
            let (va, vb) = (
                engine.get_config_version(&service, a).await?,
                engine.get_config_version(&service, b).await?,
            );
            match q.market.as_deref() {
                Some(market) => {
                    let platform = engine.load_platform().await?;
                    let m = platform
                        .market(market)
                        .ok_or_else(|| ApiError::not_found(format!("market `{market}` not found")))?;
                    (
                        tandem_core::config::resolve(&va.layers()?, m).values,
                        tandem_core::config::resolve(&vb.layers()?, m).values,
                    )
                }
                None => (
                    serde_json::to_value(va.layers()?).map_err(ApiError::internal)?,
                    serde_json::to_value(vb.layers()?).map_err(ApiError::internal)?,
                ),
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "compare two markets with `from` and `to`, or two versions with `from_version` and `to_version` (and optionally `market`)",
            ));
        }
    };
    Ok(Json(diff_lines(tandem_core::config::diff_configs(&from, &to))))
}

/// A diff as the API's lines.
pub(crate) fn diff_lines(diff: tandem_core::config::ConfigDiff) -> Vec<DiffLine> {
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
        .collect()
}

/// A service's config versions, newest first (the layers as stored), a page at a time: the
/// cursor is the `version` (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/services/{service}/config/versions", tag = "config",
    params(("service" = String, Path), Page),
    responses((status = 200, body = [ConfigVersion], headers(("x-next-cursor" = i64, description = "`after` of the next page (a version), when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_config_versions(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let versions = state
        .engine
        .list_config_versions_page(&service, page.after, limit)
        .await?;
    Ok(paged(versions.into_wire(), limit, |v| v.version))
}

/// The audit log of a service's config: each version with its author, approvers, diff,
/// rollout and result, and every market's move to it. Newest first, a page at a time: the
/// cursor is the `version` (see `docs/api.md`). A page costs the same few queries whatever its
/// length.
#[utoipa::path(get, path = "/api/v1/services/{service}/config/log", tag = "config",
    params(("service" = String, Path), Page),
    responses((status = 200, body = [ConfigLogEntry], headers(("x-next-cursor" = i64, description = "`after` of the next page (a version), when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn config_log(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let store = &state.engine;
    // One more row than the page: the version before the page's last one, for its diff.
    let mut versions = store.list_config_versions_page(&service, page.after, limit + 1).await?;
    let older = if versions.len() as i64 > limit {
        versions.pop()
    } else {
        None
    };
    let (Some(newest), Some(oldest)) = (versions.first(), versions.last()) else {
        // An empty page: past the end of the log, or a service without config.
        store.latest_config(&service).await?;
        return Ok(paged(Vec::<ConfigLogEntry>::new(), limit, |e| e.version));
    };
    let (first, last) = (oldest.version, newest.version);
    let moves = store.list_market_configs_of_versions(&service, first, last).await?;
    let running = running_versions(&state, &service).await?;
    let changes: std::collections::HashMap<i64, ChangeRow> = store
        .list_changes_of_config_versions(&service, first, last)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let reviews = store.list_reviews_of_config_versions(&service, first, last).await?;
    let mut entries = Vec::with_capacity(versions.len());
    for (i, v) in versions.iter().enumerate() {
        let before = match versions.get(i + 1).or(older.as_ref()) {
            Some(older) => serde_json::to_value(older.layers()?).map_err(ApiError::internal)?,
            None => serde_json::json!({}),
        };
        let after = serde_json::to_value(v.layers()?).map_err(ApiError::internal)?;
        let change = v.change_id.and_then(|id| changes.get(&id).cloned());
        let approved_by = match &change {
            Some(c) => reviews
                .iter()
                .filter(|r| r.change_id == c.id && r.revision == c.revision && r.verdict == "approve")
                .map(|r| r.reviewer.clone())
                .collect(),
            None => Vec::new(),
        };
        entries.push(ConfigLogEntry {
            version: v.version,
            created_by: v.created_by.clone(),
            created_at: v.created_at,
            message: v.message.clone(),
            change: change.into_wire(),
            approved_by,
            diff: diff_lines(tandem_core::config::diff_configs(&before, &after)),
            markets: running
                .iter()
                .filter(|(_, version)| **version == v.version)
                .map(|(m, _)| m.clone())
                .collect(),
            moves: moves
                .iter()
                .filter(|m| m.version == v.version)
                .cloned()
                .collect::<Vec<_>>()
                .into_wire(),
        });
    }
    Ok(paged(entries, limit, |e| e.version))
}

/// The config version each market of the platform runs (markets never moved run the newest),
/// by market id, in three queries.
async fn running_versions(state: &AppState, service: &str) -> ApiResult<std::collections::BTreeMap<String, i64>> {
    let store = &state.engine;
    let platform = store.load_platform().await?;
    let latest = store.latest_config(service).await?.version;
    let pinned = store.market_config_versions(service).await?;
    Ok(platform
        .markets
        .iter()
        .map(|m| (m.id.clone(), pinned.get(&m.id).copied().unwrap_or(latest)))
        .collect())
}

/// Sends markets back to the config version each ran before its current one, at once (each
/// redeployed behind the gates with that version). An operator's emergency step: no review.
#[utoipa::path(post, path = "/api/v1/services/{service}/config/rollback", tag = "config",
    params(("service" = String, Path)), request_body = ConfigRollbackRequest,
    responses((status = 200, body = [ConfigMove]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rollback_config(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    JsonBody(req): JsonBody<ConfigRollbackRequest>,
) -> ApiResult<Json<Vec<ConfigMove>>> {
    let out = state
        .engine
        .rollback_config(&service, &req.markets, &auth.0.name)
        .await?;
    Ok(Json(out.into_wire()))
}
