//! Ideas and commits.

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Developer, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tandem_wire::ideas::{Commit, Idea, IdeaDetail, NewIdea};

/// Ideas, oldest first, with where each stands, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/ideas", tag = "ideas", params(Page),
    responses((status = 200, body = [IdeaDetail], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_ideas(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let details = state.engine.ideas_page(page.after, limit).await?;
    Ok(paged(details.into_wire(), limit, |d| d.idea.id))
}

/// Adds an idea; it gets the next `T-n` key, which commit messages mention to link to it.
#[utoipa::path(post, path = "/api/v1/ideas", tag = "ideas", request_body = NewIdea,
    responses((status = 201, body = Idea), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_idea(
    _: Auth<Developer>,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewIdea>,
) -> ApiResult<(StatusCode, Json<Idea>)> {
    if new.title.trim().is_empty() {
        return Err(ApiError::bad_request("`title` is empty: an idea needs a title"));
    }
    let markets = state.engine.list_markets().await?;
    if let Some(unknown) = new.markets.iter().find(|m| !markets.iter().any(|k| &k.id == *m)) {
        return Err(ApiError::bad_request(format!(
            "`markets` names unknown market `{unknown}`"
        )));
    }
    let idea = state.engine.insert_idea(&new.title, &new.markets).await?;
    state.changed();
    Ok((StatusCode::CREATED, Json(idea.into_wire())))
}

/// One idea, its commits and the markets where it is live.
#[utoipa::path(get, path = "/api/v1/ideas/{key}", tag = "ideas", params(("key" = String, Path, description = "such as T-12")),
    responses((status = 200, body = IdeaDetail), (status = 404, body = ErrorBody)))]
pub async fn get_idea(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(key): PathParam<String>,
) -> ApiResult<Json<IdeaDetail>> {
    Ok(Json(state.engine.idea_detail(&key).await?.into_wire()))
}

/// Whose commits to list, and which page of them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommitQuery {
    /// The service whose commits are listed.
    pub service: String,
    /// Commits to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The `sha` of the last commit of the previous page (its `X-Next-Cursor` header).
    pub after: Option<String>,
}

/// A service's commits, newest first, a page at a time: the cursor is the `sha` (see
/// `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/commits", tag = "ideas", params(CommitQuery),
    responses((status = 200, body = [Commit], headers(("x-next-cursor" = String, description = "`after` of the next page (a sha), when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_commits(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<CommitQuery>,
) -> ApiResult<Response> {
    let limit = Page {
        limit: q.limit,
        after: None,
    }
    .limit()?;
    let commits = state
        .engine
        .list_commits_page(&q.service, q.after.as_deref(), limit)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`after` is no commit of `{}`: give the `X-Next-Cursor` of the previous page",
                q.service
            ))
        })?;
    Ok(paged(commits.into_wire(), limit, |c| c.sha.clone()))
}
