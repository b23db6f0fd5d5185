//! Ideas and commits.

use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use crate::views::{IdeaDetail, idea_detail};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tandem_store::{CommitRow, IdeaRow};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdea {
    pub title: String,
    /// Target market ids; empty or absent means every market.
    #[serde(default)]
    pub markets: Vec<String>,
}

/// Every idea, with where it stands.
#[utoipa::path(get, path = "/api/v1/ideas", tag = "ideas",
    responses((status = 200, body = [IdeaDetail]), (status = 401, body = ErrorBody)))]
pub async fn list_ideas(_: Auth<Viewer>, State(state): State<AppState>) -> ApiResult<Json<Vec<IdeaDetail>>> {
    let mut out = Vec::new();
    for idea in state.engine.store.list_ideas().await? {
        out.push(idea_detail(&state.engine, idea).await?);
    }
    Ok(Json(out))
}

/// Adds an idea; it gets the next `T-n` key, which commit messages mention to link to it.
#[utoipa::path(post, path = "/api/v1/ideas", tag = "ideas", request_body = NewIdea,
    responses((status = 201, body = IdeaRow), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_idea(
    _: Auth<Developer>,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewIdea>,
) -> ApiResult<(StatusCode, Json<IdeaRow>)> {
    if new.title.trim().is_empty() {
        return Err(ApiError::bad_request("`title` is empty: an idea needs a title"));
    }
    let markets = state.engine.store.list_markets().await?;
    if let Some(unknown) = new.markets.iter().find(|m| !markets.iter().any(|k| &k.id == *m)) {
        return Err(ApiError::bad_request(format!(
            "`markets` names unknown market `{unknown}`"
        )));
    }
    let idea = state.engine.store.insert_idea(&new.title, &new.markets).await?;
    state.changed();
    Ok((StatusCode::CREATED, Json(idea)))
}

/// One idea, its commits and the markets where it is live.
#[utoipa::path(get, path = "/api/v1/ideas/{key}", tag = "ideas", params(("key" = String, Path, description = "such as T-12")),
    responses((status = 200, body = IdeaDetail), (status = 404, body = ErrorBody)))]
pub async fn get_idea(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(key): PathParam<String>,
) -> ApiResult<Json<IdeaDetail>> {
    let idea = state.engine.store.get_idea(&key).await?;
    Ok(Json(idea_detail(&state.engine, idea).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CommitQuery {
    pub service: String,
    pub limit: Option<i64>,
}

/// A service's commits, newest first.
#[utoipa::path(get, path = "/api/v1/commits", tag = "ideas", params(CommitQuery),
    responses((status = 200, body = [CommitRow]), (status = 400, body = ErrorBody)))]
pub async fn list_commits(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<CommitQuery>,
) -> ApiResult<Json<Vec<CommitRow>>> {
    Ok(Json(
        state
            .engine
            .store
            .list_commits(&q.service, q.limit.unwrap_or(100))
            .await?,
    ))
}
