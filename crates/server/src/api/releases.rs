//! Releases: list, detail, the plan of a rollout before it starts, and rollback of markets to
//! the release each ran before.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiResult, ErrorBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tandem_wire::rollouts::{PlanMarket, PlanWave, Release, ReleaseDetail, ReleaseMove, ReleasePlan, RollbackRequest};

/// The filter of `GET /api/v1/releases`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReleaseQuery {
    /// Only this service's releases.
    pub service: Option<String>,
}

/// Releases, newest first, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/releases", tag = "releases", params(ReleaseQuery, Page),
    responses((status = 200, body = [Release], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_releases(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ReleaseQuery>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let rows = state
        .engine
        .list_releases_page(q.service.as_deref(), page.after, limit)
        .await?;
    Ok(paged(rows.into_wire(), limit, |r| r.id))
}

/// A release with its artifacts' digests.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = ReleaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_release(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<ReleaseDetail>> {
    let release = state.engine.get_release(id).await?;
    let artifacts = state.engine.list_release_artifacts(id).await?;
    Ok(Json(ReleaseDetail {
        release: release.into_wire(),
        artifacts: artifacts.into_wire(),
    }))
}

/// Sends markets back to the release each ran before its current one, recorded as deployments
/// of kind `rollback`.
#[utoipa::path(post, path = "/api/v1/services/{service}/rollback", tag = "releases", params(("service" = String, Path)),
    request_body = RollbackRequest,
    responses((status = 200, body = [ReleaseMove]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rollback(
    _: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    crate::error::JsonBody(req): crate::error::JsonBody<RollbackRequest>,
) -> ApiResult<Json<Vec<ReleaseMove>>> {
    let markets = match (req.all, req.markets.is_empty()) {
        (true, true) => state.engine.list_markets().await?.into_iter().map(|m| m.id).collect(),
        (false, false) => req.markets,
        (true, false) => {
            return Err(crate::error::ApiError::bad_request(
                "give `markets` or `all: true`, not both",
            ));
        }
        (false, true) => {
            return Err(crate::error::ApiError::bad_request(
                "name the `markets` to roll back, or set `all: true`",
            ));
        }
    };
    let outcomes = state.engine.rollback(&service, &markets).await?;
    Ok(Json(outcomes.into_wire()))
}

/// The plan of a release (nothing is changed).
#[utoipa::path(get, path = "/api/v1/releases/{id}/plan", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = ReleasePlan), (status = 404, body = ErrorBody)))]
pub async fn plan_release(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<ReleasePlan>> {
    let engine = &state.engine;
    let release = engine.get_release(id).await?;
    let spec = release.service_spec()?;
    let platform = engine.load_platform().await?;
    let versions: std::collections::HashMap<i64, String> = engine
        .list_releases(Some(&release.service))
        .await?
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    let current = engine
        .list_live_deployments()
        .await?
        .into_iter()
        .filter(|d| d.service == release.service)
        .filter_map(|d| versions.get(&d.release_id).map(|v| (d.market, v.clone())))
        .collect();
    let mut global = Vec::new();
    if spec.deploy.is_none() {
        global.push("its tandem.yml has no `deploy` section".into());
    }
    let waves = tandem_core::rollout::plan_waves(&platform);
    let mut plan = tandem_core::rollout::plan_release(&waves, &current, &release.version, &global);
    // Per market: a lock another rollout holds, a freeze in force now (in the market's zone).
    let locks: std::collections::HashMap<String, String> =
        engine.list_market_locks(&release.service).await?.into_iter().collect();
    let now = jiff::Timestamp::now();
    for m in plan.iter_mut().flat_map(|w| w.markets.iter_mut()) {
        if let Some(holder) = locks.get(&m.market) {
            m.blockers.push(format!("locked by {holder}"));
        }
        if let Some(hit) = platform.active_freeze(&m.market, now) {
            let tz = platform
                .market(&m.market)
                .and_then(|x| jiff::tz::TimeZone::get(&x.timezone).ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            m.blockers.push(format!(
                "freeze `{}` until {} (admin override needed before then)",
                hit.name,
                hit.until.to_zoned(tz).strftime("%a %Y-%m-%d %H:%M %Z")
            ));
        }
    }
    // A release that declares a config schema: each market whose config it rejects, with the keys.
    if let Some(text) = &release.config_schema {
        match tandem_core::config::ConfigSchema::parse("config schema", text) {
            Ok(schema) => {
                // What each market runs now (its config version), not the platform file's.
                let configs: Vec<_> = engine
                    .configs_in_force(&release.service)
                    .await?
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                let check = tandem_core::config::check_release(&release.version, &schema, &configs);
                for m in plan.iter_mut().flat_map(|w| w.markets.iter_mut()) {
                    let market = m.market.clone();
                    m.blockers.extend(
                        check
                            .lines()
                            .into_iter()
                            .filter(|l| l.starts_with(&format!("{market}: "))),
                    );
                }
            }
            Err(e) => global_note(&mut plan, &format!("its config schema cannot be used: {e}")),
        }
    }
    let approvals: Vec<Option<String>> = (0..plan.len())
        .map(|i| {
            i.checked_sub(1)
                .and_then(|p| platform.approval_after(&plan[p].name))
                .map(|a| format!("waits for an approval ({} or above)", a.role))
        })
        .collect();
    Ok(Json(ReleasePlan {
        gates: serde_json::to_value(&spec.gates).unwrap_or_default(),
        service: release.service,
        version: release.version,
        commit_sha: release.commit_sha,
        waves: plan
            .into_iter()
            .zip(approvals)
            .map(|(w, approval)| PlanWave {
                name: w.name,
                approval,
                markets: w
                    .markets
                    .into_iter()
                    .map(|m| PlanMarket {
                        market: m.market,
                        current: m.current,
                        action: m.action,
                        blockers: m.blockers,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// A blocker for every market of a plan.
fn global_note(plan: &mut [tandem_core::rollout::PlannedWaveMarkets], note: &str) {
    for m in plan.iter_mut().flat_map(|w| w.markets.iter_mut()) {
        m.blockers.push(note.to_string());
    }
}
