//! The run page's buttons: cancel a run in progress, re-run the failed jobs of one that ended.
//!
//! They are plain form posts carrying the SameSite=Strict session cookie; the cross-site layer
//! (`layers::refuse_cross_site`) refuses one that does not come from this server's pages.

use super::forms::Back;
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Developer, PageAuth};
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};

/// `POST /runs/{id}/cancel`: back to the run page, which shows it stopping.
pub async fn cancel(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id("run", &raw)?;
    let done = state.engine.cancel_run(id).await.map_err(crate::error::ApiError::from);
    match done {
        Ok(_) => Ok(Back::run(id).to_page()),
        Err(e) => Back::run(id).refuse_any(&auth.0, e, "cancelled"),
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
        Ok(run) => Ok(Back::run(run.id).to_page()),
        Err(e) => Back::run(id).refuse_any(&auth.0, e, "re-run"),
    }
}

/// `GET /runs/{id}/cancel|rerun`: where sign-in returns after a post without a cookie. Nothing
/// is done on a GET; the user lands on the run page and can press the button again.
pub async fn back_to_run(Path(raw): Path<String>) -> Result<Redirect, PageError> {
    let id = parse_id("run", &raw)?;
    Ok(Redirect::to(&format!("/runs/{id}")))
}
