//! The run page's buttons: cancel a run in progress, re-run the failed jobs of one that ended.
//!
//! They are plain form posts carrying the SameSite=Strict session cookie; the cross-site layer
//! (`layers::refuse_cross_site`) refuses one that does not come from this server's pages.

use super::layout::{Nav, Page, page};
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

/// `POST /runs/{id}/cancel`: back to the run page, which shows it stopping.
pub async fn cancel(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id("run", &raw)?;
    match state.engine.cancel_run(id).await.map_err(crate::error::ApiError::from) {
        Ok(()) => Ok(Redirect::to(&format!("/runs/{id}")).into_response()),
        Err(e) if e.status == StatusCode::CONFLICT => Ok(refused(&auth.0, id, "cancelled", &e.message)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /runs/{id}/rerun`: on to the new run's page.
pub async fn rerun(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id("run", &raw)?;
    match state
        .engine
        .rerun_failed(id)
        .await
        .map_err(crate::error::ApiError::from)
    {
        Ok(run) => Ok(Redirect::to(&format!("/runs/{}", run.id)).into_response()),
        Err(e) if e.status == StatusCode::CONFLICT => Ok(refused(&auth.0, id, "re-run", &e.message)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /runs/{id}/cancel|rerun`: where sign-in returns after a post without a cookie. Nothing
/// is done on a GET; the user lands on the run page and can press the button again.
pub async fn back_to_run(Path(raw): Path<String>) -> Result<Redirect, PageError> {
    let id = parse_id("run", &raw)?;
    Ok(Redirect::to(&format!("/runs/{id}")))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn refused(caller: &Caller, run_id: i64, verb: &str, message: &str) -> Response {
    let heading = format!("Run #{run_id} cannot be {verb}");
    message_page(caller, StatusCode::CONFLICT, &heading, message, Some(run_id))
}

fn message_page(caller: &Caller, status: StatusCode, heading: &str, message: &str, run_id: Option<i64>) -> Response {
    let title = format!("{} {heading}", status.as_u16());
    let body = html! {
        section.panel.error-page {
            p.code { (status.as_u16()) }
            h1 { (heading) }
            p.message { (capitalize(message)) }
            p {
                @if let Some(id) = run_id {
                    a href={ "/runs/" (id) } { "← Back to run #" (id) }
                } @else {
                    a href="/runs" { "← Back to the runs" }
                }
            }
        }
    };
    let page = page(
        Page {
            title: &title,
            nav: Nav::Runs,
            caller: Some(caller),
            refresh: None,
        },
        body,
    );
    (status, page).into_response()
}
