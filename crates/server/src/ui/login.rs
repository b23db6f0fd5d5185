//! Sign-in with an API token: the token's secret is kept in an HttpOnly cookie that the
//! extractors in `auth` read like a bearer token. Sign-out clears it.

use super::PageResult;
use super::layout::head;
use crate::AppState;
use crate::auth::COOKIE;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct SignIn {
    token: Option<String>,
    next: Option<String>,
}

/// `GET /login`: the form, or, with `?token=…` (the link `tandem demo` prints), a direct sign-in.
pub async fn show(State(state): State<AppState>, query: Result<Query<SignIn>, QueryRejection>) -> PageResult<Response> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    match q.token {
        Some(token) => sign_in(&state, &token, q.next.as_deref()).await,
        None => {
            let sso = super::sso::settings(&state).await?;
            Ok(form(q.next.as_deref(), None, sso.as_ref()).into_response())
        }
    }
}

/// `POST /login`: checks the token, sets the cookie and goes back where the user was headed.
pub async fn submit(State(state): State<AppState>, body: Result<Form<SignIn>, FormRejection>) -> PageResult<Response> {
    let f = body.map(|Form(f)| f).unwrap_or_default();
    sign_in(&state, f.token.as_deref().unwrap_or_default(), f.next.as_deref()).await
}

/// `GET|POST /logout`: forgets the cookie.
pub async fn logout() -> Response {
    let clear = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    see_other("/login", Some(clear))
}

async fn sign_in(state: &AppState, token: &str, next: Option<&str>) -> PageResult<Response> {
    let token = token.trim();
    let sso = super::sso::settings(state).await?;
    let refuse = |message: &str| (StatusCode::UNAUTHORIZED, form(next, Some(message), sso.as_ref())).into_response();
    if token.is_empty() {
        return Ok(refuse("Paste an API token to sign in."));
    }
    if !is_cookie_safe(token) || state.engine.store.find_token(token).await?.is_none() {
        return Ok(refuse(
            "That token is not valid. Check that you copied all of it, or ask an admin for a new one (tandem token create).",
        ));
    }
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    Ok(see_other(safe_next(next), Some(cookie)))
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")),
    );
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where to go after sign-in: only a path on this server (`/…`, not `//host` or `/\host`, which
/// browsers read as another host), in plain printable ASCII; anything else goes to `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n
        }
        _ => "/",
    }
}

/// A cookie value may not hold spaces, quotes, commas, semicolons or backslashes.
fn is_cookie_safe(token: &str) -> bool {
    token
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'))
}

fn form(next: Option<&str>, error: Option<&str>, sso: Option<&tandem_core::sso::Sso>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in", None))
            body.signin {
                main.signin-card {
                    p.brand-big { span.logo { "◆" } "Tandem" }
                    h1 { "Sign in" }
                    p.muted { "Paste an API token. An admin creates one with " code { "tandem token create <name>" } "." }
                    @if let Some(error) = error {
                        p.alert.bad role="alert" { (error) }
                    }
                    form method="post" action="/login" {
                        label for="token" { "API token" }
                        input #token type="password" name="token" autocomplete="current-password" required autofocus;
                        @if let Some(next) = next {
                            input type="hidden" name="next" value=(safe_next(Some(next)));
                        }
                        button.primary type="submit" { "Sign in" }
                    }
                    (super::sso::button(sso, next))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/runs/4?x=1")), "/runs/4?x=1");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("runs")), "/");
        assert_eq!(safe_next(Some("/runs\r\nSet-Cookie: x=1")), "/", "no header injection");
        assert_eq!(safe_next(Some("/café")), "/");
    }

    #[test]
    fn cookie_values_are_plain() {
        assert!(is_cookie_safe("tdm_0123abcdef"));
        assert!(!is_cookie_safe("a b"));
        assert!(!is_cookie_safe("a;b"));
        assert!(!is_cookie_safe("a\"b"));
    }

    #[test]
    fn the_form_escapes_next_and_shows_the_error() {
        let html = form(Some("/runs/1\"><script>"), Some("bad <token>"), None).into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains(r#"value="/runs/1&quot;&gt;&lt;script&gt;""#), "{html}");
        assert!(html.contains("bad &lt;token&gt;"), "{html}");
        let html = form(Some("//evil.example"), None, None).into_string();
        assert!(
            html.contains(r#"name="next" value="/""#),
            "an unsafe next is not carried: {html}"
        );
    }
}
