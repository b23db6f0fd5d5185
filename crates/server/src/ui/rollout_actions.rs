//! The rollout page's buttons: pause, resume, abort, promote and skip a market for operators,
//! approve for the role the platform file names (the form names the wave the page showed, and
//! the approval is recorded only while the rollout still waits for that wave), override a
//! freeze for admins with a reason. Same protections as the run page's buttons: the SameSite=Strict cookie, and
//! a refused foreign `Origin`.

use super::forms::{Back, OptionalForm};
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Developer, PageAuth};
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use tandem_core::role::Role;
use tandem_core::state::RolloutState;

/// The form fields a rollout action may carry.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    /// The market to skip.
    #[serde(default)]
    pub market: String,
    /// Why a freeze is overridden.
    #[serde(default)]
    pub reason: String,
    /// The wave approved or promoted (the one the page showed waiting).
    #[serde(default)]
    pub wave: String,
}

/// `POST /rollouts/{id}/{pause|resume|skip-blocked|abort|approve|promote|skip|override}`: back to the
/// rollout page.
pub async fn steer(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path((raw, action)): Path<(String, String)>,
    // Pause, resume and abort carry no fields.
    OptionalForm(form): OptionalForm<ActionForm>,
) -> Result<Response, PageError> {
    let id = parse_id("rollout", &raw)?;
    let back = Back::rollout(id);
    let engine = &state.engine;
    let by = &auth.0.name;
    // Approving needs the wave's own role (checked with the wave, below); the rest operators.
    if action != "approve" && !auth.0.role.allows(Role::Operator) {
        return Err(forbidden(Role::Operator, auth.0.role));
    }
    let wave = Some(form.wave.trim()).filter(|w| !w.is_empty());
    let done = match action.as_str() {
        "pause" => engine.pause_rollout(id, by).await,
        "resume" => engine.resume_rollout(id, by, false).await,
        "skip-blocked" => engine.resume_rollout(id, by, true).await,
        "abort" => engine.abort_rollout(id, by).await,
        "approve" => engine.approve_rollout(id, wave, by, auth.0.role).await,
        "promote" => engine.promote_rollout(id, wave, by, auth.0.role).await,
        "skip" => engine.skip_market(id, &form.market, by).await,
        "override" => {
            if !auth.0.role.allows(Role::Admin) {
                return Err(forbidden(Role::Admin, auth.0.role));
            }
            engine.override_freeze(id, by, &form.reason).await
        }
        _ => return Err(PageError::not_found(format!("no action `{action}` on rollouts"))),
    };
    back.finish(&auth.0, done.map_err(crate::error::ApiError::from), |_| None)
}

fn forbidden(needed: Role, had: Role) -> PageError {
    PageError::from(crate::error::ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "forbidden",
        format!("this needs the {needed} role; your credential has {had}"),
    ))
}

/// `GET` of the same: where sign-in returns; nothing is done, the user lands on the page.
pub async fn back_to_rollout(Path((raw, _)): Path<(String, String)>) -> Result<Redirect, PageError> {
    let id = parse_id("rollout", &raw)?;
    Ok(Redirect::to(&format!("/rollouts/{id}")))
}

/// Which buttons a rollout in `state` offers.
pub fn actions_for(state: RolloutState) -> &'static [&'static str] {
    match state {
        RolloutState::Pending | RolloutState::Running => &["pause", "abort"],
        RolloutState::AwaitingApproval => &["approve", "pause", "abort"],
        RolloutState::Paused => &["resume", "abort"],
        RolloutState::Blocked => &["resume", "skip-blocked", "abort"],
        RolloutState::Queued => &["abort"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::actions_for;

    #[test]
    fn only_what_the_state_allows_is_offered() {
        use tandem_core::state::RolloutState::*;
        assert_eq!(actions_for(Running), ["pause", "abort"]);
        assert_eq!(actions_for(Paused), ["resume", "abort"]);
        assert_eq!(actions_for(Blocked), ["resume", "skip-blocked", "abort"]);
        assert!(actions_for(Halted).is_empty());
        assert_eq!(actions_for(AwaitingApproval), ["approve", "pause", "abort"]);
        assert!(actions_for(Succeeded).is_empty() && actions_for(Aborted).is_empty());
    }
}
