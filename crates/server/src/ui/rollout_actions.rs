//! The rollout page's buttons: pause, resume, abort, promote and skip a market for operators,
//! approve for the role the platform file names (the form names the wave the page showed, and
//! the approval is recorded only while the rollout still waits for that wave), override a
//! freeze for admins with a reason. Same protections as the run page's buttons: the
//! SameSite=Strict cookie, and a refused foreign `Origin`.
//!
//! Abort, skip and approve go through a confirm step (`GET` of the action's path) that asks
//! for a reason; the post is refused without one, and the reason is recorded as the rollout's
//! decision (audit log, Decisions panel).

use super::forms::{Back, Confirm, OptionalForm, OptionalQuery, confirm_page};
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth, Viewer};
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tandem_core::role::Role;
use tandem_core::state::RolloutState;

/// The form fields a rollout action may carry (also the confirm step's query string).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    /// The market to skip.
    #[serde(default)]
    pub market: String,
    /// Why: required to abort, skip, approve and override a freeze.
    #[serde(default)]
    pub reason: String,
    /// The wave approved or promoted (the one the page showed waiting).
    #[serde(default)]
    pub wave: String,
}

/// Whether `action` asks for confirmation and a reason first.
pub fn needs_reason(action: &str) -> bool {
    matches!(action, "abort" | "skip" | "approve")
}

/// `POST /rollouts/{id}/{pause|resume|skip-blocked|abort|approve|promote|skip|override}`: back to the
/// rollout page.
pub async fn steer(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path((raw, action)): Path<(String, String)>,
    // Pause and resume carry no fields.
    OptionalForm(form): OptionalForm<ActionForm>,
) -> Result<Response, PageError> {
    let id = parse_id("rollout", &raw)?;
    let back = Back::rollout(id);
    let engine = &state.engine;
    let caller = &auth.0;
    let by = &caller.name;
    let verb = verb(&action);
    // Approving needs the wave's own role (checked with the wave, below); the rest operators.
    if action != "approve" && !caller.role.allows(Role::Operator) {
        return Ok(forbidden(&back, caller, verb, Role::Operator));
    }
    let wave = Some(form.wave.trim()).filter(|w| !w.is_empty());
    let reason = form.reason.trim();
    if needs_reason(&action) && reason.is_empty() {
        let problem = "Nothing was done: say why, in a few words.";
        return Ok(confirm(caller, &back, &action, &form, Some(problem)));
    }
    let done = match action.as_str() {
        "pause" => engine.pause_rollout(id, by).await,
        "resume" => engine.resume_rollout(id, by, false).await,
        "skip-blocked" => engine.resume_rollout(id, by, true).await,
        "abort" => engine.abort_rollout_because(id, by, reason).await,
        "approve" => engine.approve_rollout_because(id, wave, by, caller.role, reason).await,
        "promote" => engine.promote_rollout(id, wave, by, caller.role).await,
        "skip" => engine.skip_market_because(id, &form.market, by, Some(reason)).await,
        "override" => {
            if !caller.role.allows(Role::Admin) {
                return Ok(forbidden(&back, caller, verb, Role::Admin));
            }
            engine.override_freeze(id, by, reason).await
        }
        _ => return Err(PageError::not_found(format!("no action `{action}` on rollouts"))),
    };
    match done.map_err(ApiError::from) {
        Ok(_) => Ok(back.to_page()),
        Err(e) => back.refuse_any(caller, e, verb),
    }
}

/// How a refusal page says what could not be done: "Rollout #4 cannot be aborted".
fn verb(action: &str) -> &'static str {
    match action {
        "pause" => "paused",
        "resume" => "resumed",
        "skip-blocked" => "resumed without its blocked markets",
        "abort" => "aborted",
        "approve" => "approved",
        "promote" => "promoted",
        "skip" => "told to skip a market",
        "override" => "let through a freeze",
        _ => "changed",
    }
}

fn forbidden(back: &Back, caller: &Caller, verb: &str, needed: Role) -> Response {
    let why = format!(
        "this needs the {needed} role; you are signed in as {} with the {} role",
        caller.name, caller.role
    );
    back.refused(caller, StatusCode::FORBIDDEN, &format!("{verb} by you"), &why)
}

/// The confirm step of abort, skip and approve.
fn confirm(caller: &Caller, back: &Back, action: &str, form: &ActionForm, problem: Option<&str>) -> Response {
    let id = back.href().rsplit('/').next().unwrap_or_default().to_string();
    let market = form.market.trim();
    let wave = form.wave.trim();
    let (question, explain, button, danger, hidden) = match action {
        "abort" => (
            format!("Abort rollout #{id}?"),
            "No further market is deployed; markets already reached keep what they run. It cannot be resumed."
                .to_string(),
            "Abort the rollout",
            true,
            vec![],
        ),
        "skip" => (
            format!("Skip {market} in rollout #{id}?"),
            format!("{market} keeps what it runs now; the rollout goes on without it."),
            "Skip the market",
            true,
            vec![("market", market.to_string())],
        ),
        _ => (
            format!("Approve wave {wave} of rollout #{id}?"),
            format!("Wave {wave} starts now, with your name on the approval."),
            "Approve the wave",
            false,
            vec![("wave", wave.to_string())],
        ),
    };
    confirm_page(
        caller,
        Confirm {
            back,
            action,
            question,
            explain,
            button,
            danger,
            hidden,
            reason: form.reason.trim(),
            problem,
        },
    )
}

/// `GET` of the same: the confirm step of abort, skip and approve; for the others (where
/// sign-in returns) nothing is done and the user lands on the page.
pub async fn back_to_rollout(
    auth: PageAuth<Viewer>,
    Path((raw, action)): Path<(String, String)>,
    OptionalQuery(form): OptionalQuery<ActionForm>,
) -> Result<Response, PageError> {
    let id = parse_id("rollout", &raw)?;
    if needs_reason(&action) {
        let (back, caller) = (Back::rollout(id), &auth.0);
        // The step is offered to those whose post would be taken (the wave's own role is
        // checked when they approve).
        let needed = if action == "approve" {
            Role::Developer
        } else {
            Role::Operator
        };
        if !caller.role.allows(needed) {
            return Ok(forbidden(&back, caller, verb(&action), needed));
        }
        return Ok(confirm(caller, &back, &action, &form, None));
    }
    Ok(Redirect::to(&format!("/rollouts/{id}")).into_response())
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
    use super::{actions_for, needs_reason};

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

    #[test]
    fn what_stops_or_lets_go_asks_why() {
        assert!(needs_reason("abort") && needs_reason("skip") && needs_reason("approve"));
        assert!(!needs_reason("pause") && !needs_reason("resume"));
    }
}
