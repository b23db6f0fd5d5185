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

    /// A redirect to the page, which shows what the post did.
    pub fn to_page(&self) -> Response {
        Redirect::to(&format!("{}{}", self.path, self.id)).into_response()
    }

    /// Ends a post: back to the page when `done` went through, else as [`Back::refuse`] says.
    pub fn finish<T>(
        &self,
        caller: &Caller,
        done: Result<T, ApiError>,
        shown: impl FnOnce(&ApiError) -> Option<String>,
    ) -> Result<Response, PageError> {
        match done {
            Ok(_) => Ok(self.to_page()),
            Err(e) => self.refuse(caller, e, shown),
        }
    }

    /// A refusal: on a page of its own that leads back when `shown` gives the verb to say it
    /// with (the engine said no to this user, or the thing moved on), else the error page.
    pub fn refuse(
        &self,
        caller: &Caller,
        e: ApiError,
        shown: impl FnOnce(&ApiError) -> Option<String>,
    ) -> Result<Response, PageError> {
        match shown(&e) {
            Some(verb) => Ok(self.refused(caller, e.status, &verb, &e.message)),
            None => Err(e.into()),
        }
    }

    /// The page saying "<Noun> #id cannot be <verb>" with `status`, `message` and a link back.
    pub fn refused(&self, caller: &Caller, status: StatusCode, verb: &str, message: &str) -> Response {
        let (noun, id) = (self.noun, self.id);
        let heading = format!("{} #{id} cannot be {verb}", capitalize(noun));
        let title = format!("{} {heading}", status.as_u16());
        let body = html! {
            section.panel.error-page {
                p.code { (status.as_u16()) }
                h1 { (heading) }
                p.message { (capitalize(message.trim())) }
                p { a href={ (self.path) (id) } { "← Back to " (noun) " #" (id) } }
            }
        };
        let page = page(
            Page {
                title: &title,
                nav: self.nav,
                caller: Some(caller),
                refresh: None,
            },
            body,
        );
        (status, page).into_response()
    }
}
