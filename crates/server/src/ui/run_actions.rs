//! The run page's buttons: cancel a run in progress, re-run the failed jobs of one that ended.
//!
//! They are plain form posts carrying the SameSite=Strict sign-in cookie, which no cross-site
//! request carries: that is the CSRF protection. As a second wall, a request whose `Origin`
//! names another host than the one it was sent to is refused.

use super::layout::{Nav, Page, page};
use super::{PageError, parse_id};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

/// `POST /runs/{id}/cancel`: back to the run page, which shows it stopping.
pub async fn cancel(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = parse_id("run", &raw)?;
    if let Some(refusal) = refuse_foreign_origin(&headers, &uri, &auth.0) {
        return Ok(refusal);
    }
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
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = parse_id("run", &raw)?;
    if let Some(refusal) = refuse_foreign_origin(&headers, &uri, &auth.0) {
        return Ok(refusal);
    }
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

/// A 403 page when the request's `Origin`, if it has one, is not this server: the `Host` it was
/// sent to (the URI's authority over HTTP/2), or the one a reverse proxy forwarded.
pub(super) fn refuse_foreign_origin(headers: &HeaderMap, uri: &Uri, caller: &Caller) -> Option<Response> {
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("(not text)");
    let hosts = [header::HOST.as_str(), "x-forwarded-host"]
        .into_iter()
        .filter_map(|h| headers.get(h)?.to_str().ok())
        .chain(uri.authority().map(|a| a.as_str()));
    if hosts.into_iter().any(|host| same_origin(origin, host)) {
        return None;
    }
    let message = format!(
        "This form was sent from another site ({origin}), so it was refused. Open the run page on this \
         server and press the button there."
    );
    Some(message_page(
        caller,
        StatusCode::FORBIDDEN,
        "Request refused",
        &message,
        None,
    ))
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (a `Host` header: `host[:port]`).
fn same_origin(origin: &str, host: &str) -> bool {
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|authority| !host.is_empty() && authority.eq_ignore_ascii_case(host.trim()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use tandem_core::role::Role;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins_must_name_this_host() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("https://Tandem.example.com", "tandem.example.com"));
        assert!(!same_origin("http://evil.example", "tandem.example.com"));
        assert!(!same_origin("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("http://", ""));
    }

    #[test]
    fn a_post_without_origin_or_from_this_host_passes() {
        let path = Uri::from_static("/runs/1/cancel");
        let caller = Caller {
            name: "dev".into(),
            role: Role::Developer,
        };
        assert!(refuse_foreign_origin(&headers(&[("host", "a:1")]), &path, &caller).is_none());
        assert!(
            refuse_foreign_origin(&headers(&[("host", "a:1"), ("origin", "http://a:1")]), &path, &caller).is_none()
        );
        let behind_proxy = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "tandem.example.com"),
            ("origin", "https://tandem.example.com"),
        ]);
        assert!(refuse_foreign_origin(&behind_proxy, &path, &caller).is_none());
        let foreign = refuse_foreign_origin(&headers(&[("host", "a:1"), ("origin", "http://b:1")]), &path, &caller);
        assert_eq!(foreign.map(|r| r.status()), Some(StatusCode::FORBIDDEN));
        let http2 = Uri::from_static("https://tandem.example.com/runs/1/cancel");
        let origin = headers(&[("origin", "https://tandem.example.com")]);
        assert!(
            refuse_foreign_origin(&origin, &http2, &caller).is_none(),
            "HTTP/2 has no Host"
        );
        let foreign = refuse_foreign_origin(&origin, &path, &caller);
        assert_eq!(foreign.map(|r| r.status()), Some(StatusCode::FORBIDDEN));
    }
}
