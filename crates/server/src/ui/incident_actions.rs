//! The incident pages' form and buttons: open an incident by hand, resolve one, link one to
//! another deployment of its market. Same store calls and roles as the API (developer to open
//! and resolve, operator to link), behind the walls of every form post here: the
//! SameSite=Strict cookie and a refused foreign `Origin`.

use super::forms::{Back, Confirm, OptionalForm, PostedForm, confirm_page};
use super::layout::{Nav, Page, page};
use super::{PageError, PageResult, parse_id};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use tandem_core::platform::Platform;
use tandem_core::role::Role;
use tandem_store::{NewIncident, now_ms};

/// What the caller's role lets them do on the incident pages (the API's rules).
#[derive(Debug, Clone, Copy)]
pub struct MayAct {
    pub open: bool,
    pub resolve: bool,
    pub link: bool,
}

pub fn may_act(caller: &Caller) -> MayAct {
    MayAct {
        open: caller.role.allows(Role::Developer),
        resolve: caller.role.allows(Role::Developer),
        link: caller.role.allows(Role::Operator),
    }
}

/// What the form holds (also its query string, to open it prefilled).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub market: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// Empty: the deployment serving the market.
    #[serde(default)]
    pub deployment_id: String,
}

/// `GET /incidents/new`: the form.
pub async fn show(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    query: Result<Query<OpenForm>, QueryRejection>,
) -> PageResult {
    let Query(form) = query?;
    let platform = state.engine.load_platform().await?;
    Ok(render(&auth.0, &platform, &form, &[]))
}

/// `POST /incidents/new`: opens the incident and shows it; back to the form, with what is
/// wrong field by field, when refused.
pub async fn submit(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    PostedForm(form): PostedForm<OpenForm>,
) -> Result<Response, PageError> {
    let platform = state.engine.load_platform().await?;
    let mut problems = Vec::new();
    if platform.service(&form.service).is_none() {
        problems.push(format!("service `{}` is not a service of the platform", form.service));
    }
    if platform.market(&form.market).is_none() {
        problems.push(format!("market `{}` is not a market of the platform", form.market));
    }
    if form.title.trim().is_empty() {
        problems.push("title is empty: say what is broken".to_string());
    }
    let deployment_id = match form.deployment_id.trim() {
        "" => None,
        raw => match raw.trim_start_matches('#').parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                problems.push(format!("deployment `{raw}` is not a deployment id (a number)"));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Ok(refused_form(&auth.0, &platform, &form, &problems));
    }
    let summary = Some(form.summary.trim()).filter(|s| !s.is_empty());
    let opened = state
        .engine
        .open_incident(NewIncident {
            service: &form.service,
            market: &form.market,
            title: form.title.trim(),
            summary,
            source: "person",
            opened_by: &auth.0.name,
            opened_at: now_ms(),
            fingerprint: None,
            deployment_id,
        })
        .await
        .map_err(ApiError::from);
    match opened {
        Ok((row, _)) => {
            state.engine.notify();
            Ok(Redirect::to(&format!("/incidents/{}", row.id)).into_response())
        }
        // A deployment that does not exist, or is of another market: the form says which.
        Err(e) if matches!(e.status, StatusCode::NOT_FOUND | StatusCode::CONFLICT) => {
            Ok(refused_form(&auth.0, &platform, &form, &[e.message]))
        }
        Err(e) => Err(e.into()),
    }
}

fn refused_form(caller: &Caller, platform: &Platform, form: &OpenForm, problems: &[String]) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        render(caller, platform, form, problems),
    )
        .into_response()
}

fn render(caller: &Caller, platform: &Platform, form: &OpenForm, problems: &[String]) -> Markup {
    let unknown_service = Some(form.service.as_str()).filter(|s| !s.is_empty() && platform.service(s).is_none());
    let unknown_market = Some(form.market.as_str()).filter(|m| !m.is_empty() && platform.market(m).is_none());
    let body = html! {
        div.page-head {
            h1 { "Open an incident" }
            span.muted { "linked to the deployment you name, else to the one serving the market" }
        }
        @if !problems.is_empty() {
            section.panel.problems {
                p { strong { "Not opened:" } " nothing was stored." }
                ul.checks { @for p in problems { li.bad { "✗ " (p) } } }
            }
        }
        section.panel {
            form.propose method="post" action="/incidents/new" {
                label { "Service"
                    select name="service" {
                        @for s in platform.services.iter().map(|s| s.name.as_str()).chain(unknown_service) {
                            option value=(s) selected[s == form.service] { (s) }
                        }
                    }
                }
                label { "Market"
                    select name="market" {
                        @for m in &platform.markets {
                            option value=(m.id) selected[m.id == form.market] { (m.id) " — " (m.name) }
                        }
                        @if let Some(m) = unknown_market { option value=(m) selected { (m) } }
                    }
                }
                label { "Deployment (optional)"
                    input type="text" name="deployment_id" inputmode="numeric" value=(form.deployment_id)
                        placeholder="the market's last";
                }
                label.wide { "Title" input type="text" name="title" value=(form.title) placeholder="iDEAL payments time out"; }
                label.wide { "Summary (optional)"
                    textarea.summary name="summary" rows="4"
                        placeholder="What people see, since when, what was tried" { (form.summary) }
                }
                div.review-buttons { button.btn.primary type="submit" { "Open the incident" } }
            }
        }
    };
    page(
        Page {
            title: "Open an incident",
            nav: Nav::Incidents,
            caller: Some(caller),
            refresh: None,
        },
        body,
    )
}

/// The fields a button may carry.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ActionForm {
    /// The deployment to link the incident to.
    #[serde(default)]
    pub deployment_id: String,
    /// Why it is resolved (what fixed it): required, recorded in its timeline.
    #[serde(default)]
    pub reason: String,
}

/// `POST /incidents/{id}/{resolve|link}`: back to the incident page.
pub async fn act(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path((raw, action)): Path<(String, String)>,
    OptionalForm(form): OptionalForm<ActionForm>,
) -> Result<Response, PageError> {
    let id = parse_id("incident", &raw)?;
    let back = Back::incident(id);
    let caller = &auth.0;
    let engine = &state.engine;
    let reason = form.reason.trim();
    let done = match action.as_str() {
        "resolve" if reason.is_empty() => {
            return Ok(confirm_resolve(
                caller,
                &back,
                Some("Not resolved: say what fixed it, in a few words."),
            ));
        }
        "resolve" => {
            state
                .engine
                .resolve_incident_because(id, &caller.name, now_ms(), Some(reason))
                .await
        }
        "link" => {
            if !may_act(caller).link {
                let why = format!(
                    "this needs the {} role; your credential has {}",
                    Role::Operator,
                    caller.role
                );
                return Ok(back.refused(caller, StatusCode::FORBIDDEN, "linked", &why));
            }
            let Ok(deployment) = form.deployment_id.trim().trim_start_matches('#').parse::<i64>() else {
                let why = format!("deployment `{}` is not a deployment id (a number)", form.deployment_id);
                return Ok(back.refused(caller, StatusCode::BAD_REQUEST, "linked", &why));
            };
            engine.link_incident(id, deployment, &caller.name).await
        }
        _ => return Err(PageError::not_found(format!("no action `{action}` on incidents"))),
    };
    match done.map_err(ApiError::from) {
        Ok(_) => {
            state.engine.notify();
            Ok(back.to_page())
        }
        // Already resolved, or a deployment of another market: said on a page leading back.
        Err(e) => back.refuse_any(caller, e, if action == "link" { "linked" } else { "resolved" }),
    }
}

/// The confirm step of resolving: what fixed it is asked for, and recorded.
fn confirm_resolve(caller: &Caller, back: &Back, problem: Option<&str>) -> Response {
    let id = back.href().rsplit('/').next().unwrap_or_default().to_string();
    confirm_page(
        caller,
        Confirm {
            back,
            action: "resolve",
            question: format!("Resolve incident #{id}?"),
            explain: "It counts as restored from now: the time to restore and the postmortem use this time."
                .to_string(),
            button: "Resolve the incident",
            danger: false,
            hidden: vec![],
            reason: "",
            problem,
        },
    )
}

/// `GET` of the same: the confirm step of resolving; for linking (where sign-in returns)
/// nothing is done and the user lands on the page.
pub async fn back_to_incident(
    auth: PageAuth<Developer>,
    Path((raw, action)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = parse_id("incident", &raw)?;
    if action == "resolve" {
        return Ok(confirm_resolve(&auth.0, &Back::incident(id), None));
    }
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn developers_open_and_resolve_and_operators_also_link() {
        let who = |role| Caller { name: "x".into(), role };
        let viewer = may_act(&who(Role::Viewer));
        assert!(!viewer.open && !viewer.resolve && !viewer.link);
        let developer = may_act(&who(Role::Developer));
        assert!(developer.open && developer.resolve && !developer.link);
        let operator = may_act(&who(Role::Operator));
        assert!(operator.open && operator.resolve && operator.link);
    }
}
