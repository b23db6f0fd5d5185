//! Change requests: config and flag changes proposed, checked against every market they touch,
//! reviewed under the platform's `changes` policy, and applied once approved.

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
use tandem_wire::changes::{Change, ChangeDetail, ChangeEdit, NewChangeRequest, ReviewRequest};

/// Which change requests to list, and which page of them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// Only this service's change requests.
    pub service: Option<String>,
    /// Rows to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The id of the last change request of the previous page (its `X-Next-Cursor` header).
    pub after: Option<i64>,
}

/// Change requests, newest first, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangeQuery),
    responses((status = 200, body = [Change], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_changes(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ChangeQuery>,
) -> ApiResult<Response> {
    let page = Page {
        limit: q.limit,
        after: q.after,
    };
    let limit = page.limit()?;
    let changes = state
        .engine
        .list_changes_page(q.service.as_deref(), page.after, limit)
        .await?;
    Ok(paged(changes.into_wire(), limit, |c| c.id))
}

/// Proposes a change. It is checked first: a config change against the schema of the release
/// running in every market it changes, a flag file against the platform; anything invalid is
/// refused (422) with each problem's market and JSON path, and nothing is stored. When the
/// policy needs no approval for it, it is applied at once.
#[utoipa::path(post, path = "/api/v1/services/{service}/changes", tag = "changes", params(("service" = String, Path)),
    request_body = NewChangeRequest,
    responses((status = 201, body = Change), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_change(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(service): PathParam<String>,
    JsonBody(new): JsonBody<NewChangeRequest>,
) -> ApiResult<(StatusCode, Json<Change>)> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("`title` is empty: say what the change is for"));
    }
    let caller = &auth.0;
    let row = match (new.kind.as_str(), new.layers, new.text) {
        ("config", Some(layers), None) => {
            state
                .engine
                .propose_config(&service, title, &layers, &caller.name, caller.role)
                .await?
        }
        ("flags", None, Some(text)) => {
            state
                .engine
                .propose_flags(&service, title, &text, &caller.name, caller.role)
                .await?
        }
        ("config", ..) => {
            return Err(ApiError::bad_request(
                "a `config` change gives `layers` (and no `text`)",
            ));
        }
        ("flags", ..) => return Err(ApiError::bad_request("a `flags` change gives `text` (and no `layers`)")),
        (other, ..) => {
            return Err(ApiError::bad_request(format!(
                "`kind` is `{other}`: expected `config` or `flags`"
            )));
        }
    };
    Ok((StatusCode::CREATED, Json(row.into_wire())))
}

/// A change request with its authors, reviews, the approvals it still needs and its check
/// against the markets it changes (any role).
#[utoipa::path(get, path = "/api/v1/changes/{id}", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeDetail), (status = 404, body = ErrorBody)))]
pub async fn get_change(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<ChangeDetail>> {
    Ok(Json(detail(&state, id).await?))
}

/// Change request `id` as the API answers it; not found when there is none.
pub(crate) async fn detail(state: &AppState, id: i64) -> ApiResult<ChangeDetail> {
    let v = state.engine.change_view(id).await?;
    Ok(ChangeDetail {
        review: v.review,
        check: v.check,
        flags_diff: v.flags_diff,
        flags_error: v.flags_error,
        approvers: v.approvers,
        approvals_needed: v.approvals_needed,
        change: v.change.into_wire(),
        authors: v.authors.into_wire(),
        reviews: v.reviews.into_wire(),
    })
}

/// Edits a change request: checked again, its revision goes up, its approvals reset, and the
/// caller becomes one of its authors (barred from reviewing it, like its opener).
#[utoipa::path(put, path = "/api/v1/changes/{id}", tag = "changes", params(("id" = i64, Path)),
    request_body = ChangeEdit,
    responses((status = 200, body = Change), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn edit_change(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    JsonBody(edit): JsonBody<ChangeEdit>,
) -> ApiResult<Json<Change>> {
    let proposed = match (edit.layers, edit.text) {
        (Some(layers), None) => serde_json::to_string(&layers).map_err(ApiError::internal)?,
        (None, Some(text)) => text,
        _ => return Err(ApiError::bad_request("give either `layers` (config) or `text` (flags)")),
    };
    let row = state
        .engine
        .revise_change(id, &proposed, &auth.0.name, auth.0.role)
        .await?;
    Ok(Json(row.into_wire()))
}

/// Approves the change's current revision (or the `revision` named, which must be the current
/// one). Refused (403) when the policy does not let the caller approve it (anyone who wrote a
/// revision of it, or someone of the wrong side); an approval that completes the policy
/// applies the change.
#[utoipa::path(post, path = "/api/v1/changes/{id}/approve", tag = "changes", params(("id" = i64, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = Change), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_change(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Change>> {
    review(state, auth, id, true, body).await
}

/// Rejects the change's current revision (it can be edited and reviewed again).
#[utoipa::path(post, path = "/api/v1/changes/{id}/reject", tag = "changes", params(("id" = i64, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = Change), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject_change(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Change>> {
    review(state, auth, id, false, body).await
}

async fn review(
    state: AppState,
    auth: Auth<Developer>,
    id: i64,
    approve: bool,
    body: axum::body::Bytes,
) -> ApiResult<Json<Change>> {
    // The body is optional: an empty one is a review of the current revision without a comment.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        ReviewRequest::default()
    } else {
        serde_json::from_slice::<ReviewRequest>(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the request body is not a review `{{ \"comment\", \"revision\" }}`: {e}"
            ))
        })?
    };
    let row = state
        .engine
        .review_revision(
            id,
            request.revision,
            &auth.0.name,
            auth.0.role,
            approve,
            request.comment.as_deref(),
        )
        .await?;
    Ok(Json(row.into_wire()))
}

/// Withdraws an open or rejected change request (its author, or an admin).
#[utoipa::path(post, path = "/api/v1/changes/{id}/withdraw", tag = "changes", params(("id" = i64, Path)),
    responses((status = 200, body = Change), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw_change(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Json<Change>> {
    let change = state.engine.get_change(id).await?;
    if change.author != auth.0.name && auth.0.role != tandem_core::role::Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "only its author ({}) or an admin can withdraw change request {id}",
                change.author
            ),
        ));
    }
    Ok(Json(state.engine.withdraw_change(id, &auth.0.name).await?.into_wire()))
}
