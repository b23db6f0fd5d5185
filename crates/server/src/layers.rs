//! Two layers around every route.
//!
//! Cross-site requests: a browser attaches the session cookie to whatever page asks, so a
//! state-changing request (anything but GET, HEAD, OPTIONS) that a cookie authenticates must
//! prove it comes from this server's own pages: its `Origin` (or, without one,
//! `Sec-Fetch-Site: same-origin`, or else its `Referer`) must be this server's origin — the
//! configured public URL, else the `Host` the request was sent to (never `X-Forwarded-Host`,
//! which any client can write). Otherwise: 403. A request carrying `Authorization` is not a
//! browser's ambient credential and passes; so does one with no session cookie (it is then
//! anonymous, and the routes refuse what anonymous callers may not do).
//!
//! Security headers: every response forbids framing, MIME sniffing and leaking full URLs in
//! `Referer`, and carries a Content-Security-Policy allowing only this server's own script,
//! stylesheet and connections (the pages have no inline script or style).

use crate::AppState;
use crate::auth::session_cookie;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The pages load one script and one stylesheet from this server, open event streams and fetch
/// pages from it, and post forms to it; nothing else, and nobody may frame them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Refuses a cookie-authenticated, state-changing request that does not come from this server.
pub async fn refuse_cross_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let exempt = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || headers.contains_key(header::AUTHORIZATION)
        || session_cookie(headers).is_none();
    if exempt {
        return next.run(request).await;
    }
    let own = own_origins(&state, headers, request.uri());
    match check_origin(headers, &own) {
        Ok(()) => next.run(request).await,
        Err(why) => refusal(request.uri().path(), headers, &why),
    }
}

/// The origins this server answers as: the public URL's, else `http(s)://` + the `Host` the
/// request was sent to (the URI's authority over HTTP/2).
fn own_origins(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Vec<String> {
    if let Some(public) = &state.settings.public_url {
        return vec![public.origin.clone()];
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty());
    match host {
        Some(h) => vec![format!("http://{h}"), format!("https://{h}")],
        None => Vec::new(),
    }
}

/// Ok when the request shows it comes from one of `own`; else why not, for the user.
fn check_origin(headers: &HeaderMap, own: &[String]) -> Result<(), String> {
    let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("(not text)").trim());
    let is_own = |origin: &str| own.iter().any(|o| o.eq_ignore_ascii_case(origin));
    if let Some(origin) = text(header::ORIGIN) {
        return if is_own(origin) {
            Ok(())
        } else {
            Err(format!("it was sent from another site ({origin})"))
        };
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return if site == "same-origin" {
            Ok(())
        } else {
            Err(format!(
                "the browser says it was sent from another site (Sec-Fetch-Site: {site})"
            ))
        };
    }
    if let Some(referer) = text(header::REFERER) {
        let origin = url::Url::parse(referer).map(|u| u.origin().ascii_serialization());
        return match origin {
            Ok(o) if is_own(&o) => Ok(()),
            _ => Err(format!("it was sent from another site (Referer: {referer})")),
        };
    }
    Err("it carries no Origin, Sec-Fetch-Site or Referer header to show it comes from this server".into())
}

fn refusal(path: &str, headers: &HeaderMap, why: &str) -> Response {
    let message = format!(
        "This request was refused because {why}. A change made with a sign-in cookie must come from this \
         server's own pages: open the page on this server and try again. Scripts should send an API token \
         (Authorization: Bearer) instead of a cookie."
    );
    let error = ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", message);
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if path.starts_with("/api/")
        || (!wants_html
            && headers
                .get(header::CONTENT_TYPE)
                .is_some_and(|t| t == "application/json"))
    {
        error.into_response()
    } else {
        crate::ui::PageError::from(error).into_response()
    }
}

/// Adds the security headers to every response (a handler's own value wins).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_origin_must_be_this_server() {
        let own = vec!["http://a:1".to_string(), "https://a:1".to_string()];
        assert!(check_origin(&headers(&[("origin", "http://a:1")]), &own).is_ok());
        assert!(check_origin(&headers(&[("origin", "HTTPS://A:1")]), &own).is_ok());
        assert!(check_origin(&headers(&[("origin", "http://b:1")]), &own).is_err());
        assert!(check_origin(&headers(&[("origin", "null")]), &own).is_err());
        assert!(check_origin(&headers(&[("origin", "http://a:1.evil")]), &own).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), &own).is_ok());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), &own).is_err());
        assert!(check_origin(&headers(&[("referer", "http://a:1/runs/4")]), &own).is_ok());
        assert!(check_origin(&headers(&[("referer", "http://a:1.evil/")]), &own).is_err());
        assert!(check_origin(&headers(&[("referer", "not a url")]), &own).is_err());
        let none = check_origin(&HeaderMap::new(), &own).unwrap_err();
        assert!(none.contains("no Origin"), "{none}");
        assert!(
            check_origin(&headers(&[("origin", "http://a:1")]), &[]).is_err(),
            "no Host: nothing matches"
        );
    }
}
