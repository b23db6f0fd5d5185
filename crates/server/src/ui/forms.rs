//! What the UI's form posts share: reading the posted form, and ending the post, back to the
//! page it came from, or on a page saying why it was refused with a link back.
//!
//! Whether a post may come at all is decided before any handler runs: the cross-site layer
//! (`layers::refuse_cross_site`) refuses every state-changing request that a session cookie
//! authenticates unless it comes from this server's own pages, and the role is the handler's
//! `PageAuth` extractor. The handlers here only do their work.

use super::PageError;
use super::layout::{Nav, Page, capitalize, page};
use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::de::DeserializeOwned;
use tandem_core::role::Role;

/// A text field of a form or query string as the user meant it: trimmed, and `None` when blank.
pub fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A posted form that must read: one that does not is a 400 page saying which field is wrong.
pub struct PostedForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PostedForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(request, state).await {
            Ok(Form(form)) => Ok(PostedForm(form)),
            Err(e) => Err(PageError::from(ApiError::bad_request(e.body_text()))),
        }
    }
}

/// A posted form whose fields are all optional: buttons that carry no field post an empty or no
/// body, which reads as the default.
pub struct OptionalForm<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalForm<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let form: Result<Form<T>, FormRejection> = Form::from_request(request, state).await;
        Ok(OptionalForm(form.map(|Form(f)| f).unwrap_or_default()))
    }
}

/// A query string whose fields are all optional: one that does not read is the default (the
/// confirm steps are reached by links, and a bad link still shows the step).
pub struct OptionalQuery<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequestParts<S> for OptionalQuery<T> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let query = axum::extract::Query::<T>::from_request_parts(parts, state).await;
        Ok(OptionalQuery(query.map(|q| q.0).unwrap_or_default()))
    }
}

/// The page a form post was sent from: where it goes back to, and what a refusal is about.
pub struct Back {
    nav: Nav,
    /// What the page shows, in lower case: "run", "incident", "change request".
    noun: &'static str,
    /// The page's path without its id: "/runs/".
    path: &'static str,
    id: i64,
}

impl Back {
    /// Run `id`'s page.
    pub fn run(id: i64) -> Self {
        Back {
            nav: Nav::Runs,
            noun: "run",
            path: "/runs/",
            id,
        }
    }

    /// Incident `id`'s page.
    pub fn incident(id: i64) -> Self {
        Back {
            nav: Nav::Incidents,
            noun: "incident",
            path: "/incidents/",
            id,
        }
    }

    /// Change request `id`'s page.
    pub fn change(id: i64) -> Self {
        Back {
            nav: Nav::Changes,
            noun: "change request",
            path: "/changes/",
            id,
        }
    }

    /// Rollout `id`'s page.
    pub fn rollout(id: i64) -> Self {
        Back {
            nav: Nav::Rollouts,
            noun: "rollout",
            path: "/rollouts/",
            id,
        }
    }

    /// The page's path: `/rollouts/4`.
    pub fn href(&self) -> String {
        format!("{}{}", self.path, self.id)
    }

    /// A redirect to the page, which shows what the post did.
    pub fn to_page(&self) -> Response {
        Redirect::to(&format!("{}{}", self.path, self.id)).into_response()
    }

    /// The page saying "<Noun> #id cannot be <verb>" with `status`, `message` and a link back.
    pub fn refused(&self, caller: &Caller, status: StatusCode, verb: &str, message: &str) -> Response {
        let (noun, id) = (self.noun, self.id);
        let heading = format!("{} #{id} cannot be {verb}", capitalize(noun));
        let back = (format!("{}{id}", self.path), format!("{noun} #{id}"));
        refusal_page(caller, self.nav, status, &heading, message, &back)
    }

    /// Ends a post refused by the engine or the store: a 4xx (the caller's to fix, or the object
    /// moved on) on a page leading back with `verb`; our own fault (5xx) on the error page.
    pub fn refuse_any(&self, caller: &Caller, e: ApiError, verb: &str) -> Result<Response, PageError> {
        if e.status.is_client_error() {
            Ok(self.refused(caller, e.status, verb, &e.message))
        } else {
            Err(e.into())
        }
    }
}

/// A refusal as a page of the signed-in user's dashboard: why, and a link back to `back`
/// (`(href, what it is)`).
pub fn refusal_page(
    caller: &Caller,
    nav: Nav,
    status: StatusCode,
    heading: &str,
    message: &str,
    back: &(String, String),
) -> Response {
    let title = format!("{} {heading}", status.as_u16());
    let mut text = capitalize(message.trim());
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    let body = html! {
        section.panel.error-page.refusal {
            p.code { (status.as_u16()) }
            h1 { (heading) }
            p.message { (text) }
            p { a.back href=(back.0) { "← Back to " (back.1) } }
        }
    };
    let page = page(
        Page {
            title: &title,
            nav,
            caller: Some(caller),
            refresh: None,
        },
        body,
    );
    (status, page).into_response()
}

/// The page a UI path belongs to, to lead back to: `/rollouts/4/abort` → rollout #4's page,
/// `/changes/new` → the change requests, anything else → the overview.
pub fn page_of(path: &str) -> (Nav, (String, String)) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let family = |first: &str| -> Option<(Nav, &'static str, &'static str)> {
        Some(match first {
            "runs" => (Nav::Runs, "run", "runs"),
            "rollouts" => (Nav::Rollouts, "rollout", "rollouts"),
            "incidents" => (Nav::Incidents, "incident", "incidents"),
            "changes" => (Nav::Changes, "change request", "change requests"),
            "markets" => (Nav::Markets, "market", "markets"),
            "agents" => (Nav::Agents, "agent", "agents"),
            _ => return None,
        })
    };
    match parts.as_slice() {
        [first, id, ..] if family(first).is_some() && *id != "new" => {
            let (nav, one, _) = family(first).unwrap_or((Nav::None, "", ""));
            let shown = if id.bytes().all(|b| b.is_ascii_digit()) {
                format!("{one} #{id}")
            } else {
                format!("{one} {id}")
            };
            (nav, (format!("/{first}/{id}"), shown))
        }
        [first, ..] if family(first).is_some() => {
            let (nav, _, many) = family(first).unwrap_or((Nav::None, "", ""));
            (nav, (format!("/{first}"), format!("the {many}")))
        }
        _ => (Nav::Overview, ("/".to_string(), "the overview".to_string())),
    }
}

/// A page or form post above the signed-in caller's role (403): who they are, what it needs,
/// and the way back to the page they came from.
pub fn forbidden_page(caller: &Caller, needed: Role, path: &str) -> Response {
    let (nav, back) = page_of(path);
    let message = format!(
        "you are signed in as {} with the {} role; this needs the {needed} role or above. Ask an admin for \
         it, or sign in as someone who has it",
        caller.name, caller.role
    );
    refusal_page(
        caller,
        nav,
        StatusCode::FORBIDDEN,
        &format!("This needs the {needed} role"),
        &message,
        &back,
    )
}

/// A step that asks before an action that stops or lets go of something (abort, reject,
/// resolve, skip, approve a wave): what it will do, and a reason that is required and recorded.
pub struct Confirm<'a> {
    /// The object's page, where the form posts (`{page}/{action}`) and Cancel leads.
    pub back: &'a Back,
    /// The action's path segment: `abort`.
    pub action: &'a str,
    /// The question: "Abort rollout #4?".
    pub question: String,
    /// What the action does, in a sentence.
    pub explain: String,
    /// The button's words: "Abort the rollout".
    pub button: &'a str,
    /// Whether the action cannot be undone (a red button).
    pub danger: bool,
    /// Fields the action needs besides the reason: `("market", "nl")`.
    pub hidden: Vec<(&'static str, String)>,
    /// The reason given so far (a post refused for another reason keeps it).
    pub reason: &'a str,
    /// Why the post was not done, when it was refused.
    pub problem: Option<&'a str>,
}

/// The confirm step: 200 when asked for, 422 when a post came back without a reason.
pub fn confirm_page(caller: &Caller, c: Confirm<'_>) -> Response {
    let status = if c.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page_href = c.back.href();
    let body = html! {
        div.page-head { h1 { (c.question) } }
        section.panel.confirm {
            p { (c.explain) }
            @if let Some(p) = c.problem {
                p.alert.bad.problem { (p) }
            }
            form.propose.confirm method="post" action={ (page_href) "/" (c.action) } {
                @for (name, value) in &c.hidden {
                    input type="hidden" name=(name) value=(value);
                }
                label.wide { "Why (required; recorded in the audit log and shown on the " (c.back.noun) ")"
                    textarea.summary name="reason" rows="3" required
                        placeholder="What you saw, and what you decided" { (c.reason) }
                }
                div.review-buttons {
                    button class={ "btn " @if c.danger { "danger" } @else { "primary" } } type="submit" { (c.button) }
                    a.btn href=(page_href) { "Cancel" }
                }
            }
        }
    };
    let title = c.question.clone();
    let page = page(
        Page {
            title: &title,
            nav: c.back.nav,
            caller: Some(caller),
            refresh: None,
        },
        body,
    );
    (status, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_leads_back_to_the_object_it_is_about() {
        let back = |path: &str| page_of(path).1;
        assert_eq!(back("/rollouts/4/abort"), ("/rollouts/4".into(), "rollout #4".into()));
        assert_eq!(
            back("/incidents/7/resolve"),
            ("/incidents/7".into(), "incident #7".into())
        );
        assert_eq!(back("/changes/new"), ("/changes".into(), "the change requests".into()));
        assert_eq!(back("/markets/fr/launch"), ("/markets/fr".into(), "market fr".into()));
        assert_eq!(back("/admin/tokens"), ("/".into(), "the overview".into()));
    }
}
