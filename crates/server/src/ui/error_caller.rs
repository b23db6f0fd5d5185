//! An error page keeps the signed-in user: a page that cannot be shown (a 404, a refusal)
//! is rendered where nobody is known yet (`PageError` has no request), so this layer, seeing
//! one go out to a browser with a session, renders it again with the caller in its header —
//! their name, role and menu, and Sign out. Only error pages pay for the session lookup.

use super::layout::error_page_for;
use crate::AppState;
use crate::auth::{PageAuth, Viewer, session_cookie};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

/// What an error page said, attached to its response for [`keep_caller`].
#[derive(Debug, Clone)]
pub(crate) struct ErrorShown {
    pub heading: &'static str,
    pub message: String,
}

/// Renders an error page again with the signed-in caller, when the request has a live session.
pub async fn keep_caller(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let asked = session_cookie(request.headers()).map(|_| {
        let mut copy = Request::new(());
        *copy.uri_mut() = request.uri().clone();
        *copy.headers_mut() = request.headers().clone();
        copy
    });
    let response = next.run(request).await;
    let (Some(shown), Some(asked)) = (response.extensions().get::<ErrorShown>().cloned(), asked) else {
        return response;
    };
    let (mut parts, ()) = asked.into_parts();
    let Ok(auth) = PageAuth::<Viewer>::from_request_parts(&mut parts, &state).await else {
        return response;
    };
    let caller = auth.0;
    let (mut head, _) = response.into_parts();
    head.headers.remove(header::CONTENT_LENGTH);
    let page = error_page_for(Some(&caller), head.status, shown.heading, &shown.message);
    Response::from_parts(head, Body::from(page.into_string()))
}
