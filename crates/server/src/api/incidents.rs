//! Incidents opened by a person, resolved by hand, linked to another deployment, and their
//! postmortem draft. (Gates open incidents themselves; Alertmanager through `/hooks/alertmanager`.)

use super::convert::IntoWire;
use super::page::{Page, paged};
use crate::AppState;
use crate::auth::{Auth, Developer, Operator, Viewer};
use crate::error::{ApiError, ApiResult, ErrorBody, JsonBody, PathParam, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tandem_store::NewIncident;
use tandem_wire::incidents::{Incident, LinkIncident, OpenIncident};

/// Opens an incident by hand, linked to the deployment named or else to the deployment serving
/// that market when it opened.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = OpenIncident,
    responses((status = 201, body = Incident), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn open_incident(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<OpenIncident>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let platform = state.engine.load_platform().await?;
    if platform.service(&new.service).is_none() {
        return Err(ApiError::not_found(format!("service `{}` not found", new.service)));
    }
    if platform.market(&new.market).is_none() {
        return Err(ApiError::not_found(format!("market `{}` not found", new.market)));
    }
    if new.title.trim().is_empty() {
        return Err(ApiError::bad_request("`title` is empty: say what is broken"));
    }
    let (row, _) = state
        .engine
        .open_incident(NewIncident {
            service: &new.service,
            market: &new.market,
            title: new.title.trim(),
            summary: new.summary.as_deref(),
            source: "person",
            opened_by: &auth.0.name,
            opened_at: tandem_store::now_ms(),
            fingerprint: None,
            deployment_id: new.deployment_id,
        })
        .await?;
    state.engine.notify();
    Ok((StatusCode::CREATED, Json(row.into_wire())))
}

/// Resolves an open incident now. An optional `{ "reason" }` (what fixed it) goes on its
/// timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents", params(("id" = i64, Path)),
    request_body = tandem_wire::rollouts::ReasonRequest,
    responses((status = 200, body = Incident), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve_incident(
    auth: Auth<Developer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Incident>> {
    let req: tandem_wire::rollouts::ReasonRequest = super::rollouts::optional_body(&body, "{ \"reason\": \"…\" }")?;
    let reason = super::rollouts::reason_of(req.reason.as_deref())?;
    let row = state
        .engine
        .resolve_incident_because(id, &auth.0.name, tandem_store::now_ms(), reason)
        .await?;
    state.engine.notify();
    Ok(Json(row.into_wire()))
}

/// Links an incident to another deployment of its market (what DORA's change failure rate
/// counts).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/deployment", tag = "incidents", params(("id" = i64, Path)),
    request_body = LinkIncident,
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn link_incident(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
    JsonBody(link): JsonBody<LinkIncident>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        state
            .engine
            .link_incident(id, link.deployment_id, &auth.0.name)
            .await?
            .into_wire(),
    ))
}

/// A postmortem draft in Markdown: what changed (the deployment, its commits, its config diff),
/// the gates' figures, the timeline, and blank sections for what was learned.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/postmortem", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 200, description = "text/markdown"), (status = 404, body = ErrorBody)))]
pub async fn postmortem(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    PathParam(id): PathParam<i64>,
) -> ApiResult<Response> {
    let text = state.engine.postmortem(id).await?;
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response())
}

/// Incidents, newest first, a page at a time (see `docs/api.md`).
#[utoipa::path(get, path = "/api/v1/incidents", tag = "releases", params(Page),
    responses((status = 200, body = [Incident], headers(("x-next-cursor" = i64, description = "`after` of the next page, when this one is full"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_incidents(
    _: Auth<Viewer>,
    State(state): State<AppState>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let rows = state.engine.list_incidents_page(page.after, limit).await?;
    Ok(paged(rows.into_wire(), limit, |r| r.id))
}
