//! Releases, rollouts, deployments and incidents.

use crate::AppState;
use crate::auth::{Auth, Operator, Viewer};
use crate::error::{ApiResult, ErrorBody, PathParam, QueryParams};
use crate::views::{RolloutDetail, rollout_detail};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tandem_store::{DeploymentRow, IncidentRow, ReleaseArtifact, ReleaseRow, RolloutRow};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReleaseQuery {
    pub service: Option<String>,
}

/// Releases, newest first.
#[utoipa::path(get, path = "/api/v1/releases", tag = "releases", params(ReleaseQuery),
    responses((status = 200, body = [ReleaseRow]), (status = 401, body = ErrorBody)))]
pub async fn list_releases(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ReleaseQuery>,
) -> ApiResult<Json<Vec<ReleaseRow>>> {
    Ok(Json(state.engine.store.list_releases(q.service.as_deref()).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseDetail {
    #[serde(flatten)]
    pub release: ReleaseRow,
    pub artifacts: Vec<ReleaseArtifact>,
}

/// A release with its artifacts' digests.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = ReleaseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_release(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<ReleaseDetail>> {
    let release = state.engine.store.get_release(id).await?;
    let artifacts = state.engine.store.list_release_artifacts(id).await?;
    Ok(Json(ReleaseDetail { release, artifacts }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRollout {
    pub release_id: i64,
}

/// Rollouts, newest first.
#[utoipa::path(get, path = "/api/v1/rollouts", tag = "releases",
    responses((status = 200, body = [RolloutRow]), (status = 401, body = ErrorBody)))]
pub async fn list_rollouts(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<RolloutRow>>> {
    Ok(Json(state.engine.store.list_rollouts(100).await?))
}

/// Starts rolling a release out through the waves.
#[utoipa::path(post, path = "/api/v1/rollouts", tag = "releases", request_body = NewRollout,
    responses((status = 202, body = RolloutRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    crate::error::JsonBody(new): crate::error::JsonBody<NewRollout>,
) -> ApiResult<(StatusCode, Json<RolloutRow>)> {
    let rollout = state.engine.start_rollout(new.release_id, &auth.0.name).await?;
    Ok((StatusCode::ACCEPTED, Json(rollout)))
}

/// A rollout as waves × markets.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutDetail), (status = 404, body = ErrorBody)))]
pub async fn get_rollout(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RolloutDetail>> {
    Ok(Json(rollout_detail(&state.engine, id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeploymentQuery {
    pub rollout: Option<i64>,
}

/// Deployments (one release landing in one market), oldest first.
#[utoipa::path(get, path = "/api/v1/deployments", tag = "releases", params(DeploymentQuery),
    responses((status = 200, body = [DeploymentRow]), (status = 401, body = ErrorBody)))]
pub async fn list_deployments(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<DeploymentQuery>,
) -> ApiResult<Json<Vec<DeploymentRow>>> {
    Ok(Json(state.engine.store.list_deployments(q.rollout).await?))
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "releases",
    responses((status = 200, body = [IncidentRow]), (status = 401, body = ErrorBody)))]
pub async fn list_incidents(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<IncidentRow>>> {
    Ok(Json(state.engine.store.list_incidents().await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// Markets to roll back.
    #[serde(default)]
    pub markets: Vec<String>,
    /// Every market of the service instead.
    #[serde(default)]
    pub all: bool,
}

/// One market's rollback.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollbackResult {
    pub market: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// rolled back, failed or skipped.
    pub state: String,
    pub reason: String,
}

/// Sends markets back to the release each ran before its current one, recorded as deployments
/// of kind `rollback`.
#[utoipa::path(post, path = "/api/v1/services/{service}/rollback", tag = "releases", params(("service" = String, Path)),
    request_body = RollbackRequest,
    responses((status = 200, body = [RollbackResult]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rollback(
    _: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    crate::error::JsonBody(req): crate::error::JsonBody<RollbackRequest>,
) -> ApiResult<Json<Vec<RollbackResult>>> {
    let markets = match (req.all, req.markets.is_empty()) {
        (true, true) => state
            .engine
            .store
            .list_markets()
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect(),
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
    Ok(Json(
        outcomes
            .into_iter()
            .map(|o| RollbackResult {
                market: o.market,
                from: o.from,
                to: o.to,
                state: o.state,
                reason: o.reason,
            })
            .collect(),
    ))
}

/// One market in a release plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanMarket {
    pub market: String,
    /// The release running there now.
    pub current: Option<String>,
    /// deploy, or already there.
    pub action: String,
    pub blockers: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanWave {
    pub name: String,
    pub markets: Vec<PlanMarket>,
}

/// What rolling a release out would do, wave by wave: its gates and, per market, what runs
/// there now and what would block it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleasePlan {
    pub service: String,
    pub version: String,
    pub commit_sha: String,
    /// The release's gates, from its tandem.yml.
    pub gates: serde_json::Value,
    pub waves: Vec<PlanWave>,
}

/// The plan of a release (nothing is changed).
#[utoipa::path(get, path = "/api/v1/releases/{id}/plan", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = ReleasePlan), (status = 404, body = ErrorBody)))]
pub async fn plan_release(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<ReleasePlan>> {
    let store = &state.engine.store;
    let release = store.get_release(id).await?;
    let spec = release.service_spec()?;
    let platform = store.load_platform().await?;
    let versions: std::collections::HashMap<i64, String> = store
        .list_releases(Some(&release.service))
        .await?
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    let current = store
        .list_live_deployments()
        .await?
        .into_iter()
        .filter(|d| d.service == release.service)
        .filter_map(|d| versions.get(&d.release_id).map(|v| (d.market, v.clone())))
        .collect();
    let mut global = Vec::new();
    if let Some(r) = store
        .list_unfinished_rollouts()
        .await?
        .into_iter()
        .find(|r| r.service == release.service)
    {
        global.push(format!("rollout {} of {} is in progress", r.id, r.service));
    }
    if spec.deploy.is_none() {
        global.push("its tandem.yml has no `deploy` section".into());
    }
    let plan = tandem_core::rollout::plan_release(
        &tandem_core::rollout::plan_waves(&platform),
        &current,
        &release.version,
        &global,
    );
    Ok(Json(ReleasePlan {
        gates: serde_json::to_value(&spec.gates).unwrap_or_default(),
        service: release.service,
        version: release.version,
        commit_sha: release.commit_sha,
        waves: plan
            .into_iter()
            .map(|w| PlanWave {
                name: w.name,
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

/// Pauses a rollout: the wave under way finishes, the next waits for resume.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/pause", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RolloutRow>> {
    Ok(Json(state.engine.pause_rollout(id, &auth.0.name).await?))
}

/// Resumes a paused rollout at its next wave.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/resume", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RolloutRow>> {
    Ok(Json(state.engine.resume_rollout(id, &auth.0.name).await?))
}

/// Aborts a rollout: no further wave starts; every market keeps what it runs.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/abort", tag = "releases", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn abort_rollout(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<RolloutRow>> {
    Ok(Json(state.engine.abort_rollout(id, &auth.0.name).await?))
}
