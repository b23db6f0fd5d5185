//! The rollout page's buttons: pause, resume and abort, for operators. Same protections as the
//! run page's buttons: the SameSite=Strict cookie, and a refused foreign `Origin`.

use super::run_actions::refuse_foreign_origin;
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Operator, PageAuth};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};

/// `POST /rollouts/{id}/{pause|resume|abort}`: back to the rollout page.
pub async fn steer(
    auth: PageAuth<Operator>,
    State(state): State<AppState>,
    Path((raw, action)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = parse_id("rollout", &raw)?;
    if let Some(refusal) = refuse_foreign_origin(&headers, &uri, &auth.0) {
        return Ok(refusal);
    }
    let engine = &state.engine;
    let by = &auth.0.name;
    let done = match action.as_str() {
        "pause" => engine.pause_rollout(id, by).await,
        "resume" => engine.resume_rollout(id, by).await,
        "abort" => engine.abort_rollout(id, by).await,
        _ => return Err(PageError::not_found(format!("no action `{action}` on rollouts"))),
    };
    done.map_err(crate::error::ApiError::from)?;
    Ok(Redirect::to(&format!("/rollouts/{id}")).into_response())
}

/// `GET` of the same: where sign-in returns; nothing is done, the user lands on the page.
pub async fn back_to_rollout(Path((raw, _)): Path<(String, String)>) -> Result<Redirect, PageError> {
    let id = parse_id("rollout", &raw)?;
    Ok(Redirect::to(&format!("/rollouts/{id}")))
}

/// Which buttons a rollout in `state` offers.
pub fn actions_for(state: &str) -> &'static [&'static str] {
    match state {
        "pending" | "running" => &["pause", "abort"],
        "paused" => &["resume", "abort"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::actions_for;

    #[test]
    fn only_what_the_state_allows_is_offered() {
        assert_eq!(actions_for("running"), ["pause", "abort"]);
        assert_eq!(actions_for("paused"), ["resume", "abort"]);
        assert!(actions_for("succeeded").is_empty() && actions_for("aborted").is_empty());
    }
}
