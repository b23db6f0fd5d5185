//! Sign-in. A person pastes an API token into the form (a POST: the token never sits in a URL),
//! or follows a one-time link (`/login?code=…`, as `tandem demo` prints); either opens a
//! server-side session whose own random id is the cookie (see `auth`). Sign-out revokes it.

use super::PageResult;
use super::layout::head;
use crate::AppState;
use crate::auth::{open_session, safe_next, see_other};
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use tandem_core::role::Role;
use tandem_store::now_ms;

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    token: Option<String>,
    next: Option<String>,
}

/// What `GET /login` reads. A `token` parameter is not among them: credentials stay out of URLs.
#[derive(Debug, Default, Deserialize)]
pub struct SignInLink {
    code: Option<String>,
    next: Option<String>,
}

/// `GET /login`: the form, or, with `?code=…` (a one-time link), a direct sign-in.
pub async fn show(
    State(state): State<AppState>,
    query: Result<Query<SignInLink>, QueryRejection>,
) -> PageResult<Response> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let next = q.next.as_deref();
    let sso = super::sso::settings(&state).await?;
    let Some(code) = q.code else {
        return Ok(form(next, None, sso.as_ref()).into_response());
    };
    let taken = match code.trim() {
        "" => None,
        code => state.engine.take_login_code(code).await?,
    };
    let Some(c) = taken else {
        let message =
            "This sign-in link was already used or has expired. Sign in with an API token, or ask for a new link.";
        return Ok((StatusCode::UNAUTHORIZED, form(next, Some(message), sso.as_ref())).into_response());
    };
    let role: Role = c.role.parse().unwrap_or(Role::Viewer);
    Ok(open_session(&state, &c.name, role, "code", c.token_id, next).await?)
}

/// `POST /login`: checks the token, opens a session and goes back where the user was headed.
pub async fn submit(
    State(state): State<AppState>,
    body: Result<Form<SignInForm>, FormRejection>,
) -> PageResult<Response> {
    let f = body.map(|Form(f)| f).unwrap_or_default();
    let next = f.next.as_deref();
    let token = f.token.as_deref().unwrap_or_default().trim();
    let sso = super::sso::settings(&state).await?;
    let refuse =
        |message: &str| Ok((StatusCode::UNAUTHORIZED, form(next, Some(message), sso.as_ref())).into_response());
    if token.is_empty() {
        return refuse("Paste an API token to sign in.");
    }
    let found = state.engine.find_token(token).await?;
    let Some(t) = found else {
        return refuse(
            "That token is not valid. Check that you copied all of it, or ask an admin for a new one (tandem token create).",
        );
    };
    if !t.is_live(now_ms()) {
        return refuse("That token was revoked or has expired. Ask an admin for a new one (tandem token create).");
    }
    let role: Role = t.role.parse().unwrap_or(Role::Viewer);
    Ok(open_session(&state, &t.name, role, "token", Some(t.id), next).await?)
}

/// `GET|POST /logout`: revokes the session and forgets the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let clear = crate::auth::end_session(&state, &headers).await?;
    Ok(see_other("/login", Some(clear)))
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
