//! Sign-in with the company's OpenID Connect provider: authorization code flow with PKCE,
//! configured by the platform file's `sso` section (see docs/sso.md).
//!
//! Invariants: an attempt lives only in this server's memory (state → nonce, PKCE verifier,
//! where to go next, a hash of the browser's binding), at most `MAX_PENDING` of them, each for
//! at most `PENDING_TTL`, and is taken out on its first callback, good or bad. The browser that
//! started it holds the binding in a short-lived cookie; a callback without it (a link forged or
//! replayed from another browser) is refused. The ID token's issuer, audience, signature, expiry
//! and nonce are checked by `openidconnect` before any claim is read.

mod provider;

use super::layout::head;

use crate::AppState;
use crate::auth::{safe_next, url_encode};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use openidconnect::{Nonce, PkceCodeVerifier};
use provider::{Identity, Provider};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tandem_core::sso::Sso;

/// The cookie binding an attempt to the browser that started it.
const BINDING_COOKIE: &str = "tandem_sso";
/// How long (seconds) a person has to sign in at the provider before the attempt is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Most attempts kept at once: beyond it new ones are refused until old ones end or expire, so
/// an anonymous caller cannot grow the server's memory.
const MAX_PENDING: usize = 10_000;

/// What the server keeps for single sign-on: attempts under way and the provider's metadata.
#[derive(Debug, Default)]
pub struct SsoState {
    pending: Mutex<HashMap<String, Pending>>,
    provider: provider::Cache,
}

#[derive(Debug)]
struct Pending {
    issuer: String,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    binding: [u8; 32],
    next: String,
    started: Instant,
}

impl SsoState {
    /// Keeps an attempt, refusing when too many are under way.
    fn insert(&self, state: String, pending: Pending) -> Result<(), Refusal> {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_PENDING {
            map.retain(|_, p| p.started.elapsed() < PENDING_TTL);
        }
        if map.len() >= MAX_PENDING {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sign-ins under way",
                "Too many sign-ins are under way right now. Try again in a few minutes.",
            ));
        }
        map.insert(state, pending);
        Ok(())
    }

    /// Takes out the attempt named `state`, if there is one and it has not expired.
    fn take(&self, state: &str) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(state).filter(|p| p.started.elapsed() < PENDING_TTL)
    }
}

/// A page telling the person why they are not signed in; details for the admin go to the log.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    heading: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, heading: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            heading,
            message: message.into(),
        }
    }

    /// A fault in the set-up or at the provider: logged in full, shown in general terms.
    fn fault(what: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "single sign-on: {what}");
        Self::new(
            StatusCode::BAD_GATEWAY,
            "Single sign-on is not working",
            format!("Single sign-on failed: {what}. An admin finds the reason in the server's log."),
        )
    }

    fn invalid_link() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Sign-in link not valid",
            "This sign-in link is not valid, has expired, was already used or was started in another browser. Start again from the sign-in page.",
        )
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::fault("the server could not read its settings", e.message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, card(self.heading, &self.message)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn card(heading: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(heading, None))
            body.signin {
                main.signin-card {
                    p.brand-big { span.logo { "◆" } "Tandem" }
                    h1 { (heading) }
                    p.alert.bad role="alert" { (message) }
                    p { a href="/login" { "← Back to sign-in" } }
                }
            }
        }
    }
}

/// The `sso` section of the platform, if single sign-on is set up.
pub async fn settings(state: &AppState) -> Result<Option<Sso>, ApiError> {
    Ok(state.engine.load_platform().await?.sso)
}

/// The sign-in page's button, when single sign-on is set up: a link, not a form, so that a
/// `form-action` policy does not stop the redirect to the provider.
pub fn button(sso: Option<&Sso>, next: Option<&str>) -> Markup {
    let href = match next {
        Some(next) => format!("/login/sso?next={}", url_encode(safe_next(Some(next)))),
        None => "/login/sso".to_string(),
    };
    html! {
        @if let Some(sso) = sso {
            a.sso href=(href) { "Sign in with " (sso.name) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Start {
    next: Option<String>,
}

/// `GET /login/sso`: sends the browser to the provider with a fresh state, nonce and PKCE
/// challenge, and binds the attempt to this browser.
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Start>, QueryRejection>,
) -> Result<Response, Refusal> {
    let next = query.map(|Query(q)| q).unwrap_or_default().next;
    let sso = configured(&state).await?;
    let (url, csrf, nonce, verifier) = Provider::connect(&state, &sso).await?.authorize_url(&sso);
    // One binding per browser, so that sign-ins started in two tabs both succeed.
    let binding = crate::auth::cookie(&headers, BINDING_COOKIE)
        .filter(|b| b.len() == 64 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| crate::auth::random_hex(""));
    state.sso.insert(
        csrf.secret().clone(),
        Pending {
            issuer: sso.issuer.clone(),
            nonce,
            verifier,
            binding: Sha256::digest(binding.as_bytes()).into(),
            next: safe_next(next.as_deref()).to_string(),
            started: Instant::now(),
        },
    )?;
    let secure = if sso.is_https() { "; Secure" } else { "" };
    // Lax, not Strict: the provider's redirect back is a cross-site navigation.
    let binding_cookie = format!(
        "{BINDING_COOKIE}={binding}; HttpOnly; SameSite=Lax; Path=/login/sso; Max-Age={}{secure}",
        PENDING_TTL.as_secs()
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(url.as_str()).map_err(|e| Refusal::fault("the provider's sign-in URL", e))?;
    headers.insert(header::LOCATION, location);
    if let Ok(value) = HeaderValue::from_str(&binding_cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Callback {
    state: Option<String>,
    code: Option<String>,
    /// The provider that answered (RFC 9207), if it says.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /login/sso/callback`: checks the attempt, exchanges the code, verifies the ID token,
/// maps the person's groups to a role and starts their session.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Callback>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let pending = q
        .state
        .as_deref()
        .and_then(|s| state.sso.take(s))
        .ok_or_else(Refusal::invalid_link)?;
    let presented: [u8; 32] = match crate::auth::cookie(&headers, BINDING_COOKIE) {
        Some(b) => Sha256::digest(b.as_bytes()).into(),
        None => [0; 32],
    };
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&presented[..], &pending.binding[..])) {
        tracing::warn!("single sign-on: a callback came from a browser that did not start the sign-in");
        return Err(Refusal::invalid_link());
    }
    if let Some(error) = q.error {
        let description = q.error_description.unwrap_or_default();
        let shown: String = format!("{error}: {description}").chars().take(300).collect();
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "Sign-in refused by the identity provider",
            format!("The identity provider did not sign you in ({shown})."),
        ));
    }
    let code = q.code.ok_or_else(Refusal::invalid_link)?;
    let sso = configured(&state).await?;
    // An answer from another provider than the one asked (a mix-up) is not this sign-in's.
    if sso.issuer != pending.issuer || q.iss.as_deref().is_some_and(|iss| iss != sso.issuer) {
        return Err(Refusal::invalid_link());
    }
    let Identity { name, groups } = Provider::connect(&state, &sso)
        .await?
        .identify(&sso, code, pending.verifier, &pending.nonce)
        .await?;
    let Some(role) = sso.role_for(&groups) else {
        tracing::info!(user = %name, groups = ?groups, "single sign-on: refused, no group maps to a role");
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "No access to Tandem",
            format!(
                "You signed in at {} as {name}, but none of your groups gives access to Tandem. Ask an admin to map one of your groups to a role (the `sso.groups` section of the platform file).",
                sso.name
            ),
        ));
    };
    tracing::info!(user = %name, %role, "single sign-on: signed in");
    let session = crate::auth::start_session(&state, &name, role, "sso", Some(&pending.next))
        .await
        .map_err(Refusal::from)?;
    Ok(within_the_site(session))
}

/// The session's answer (a 303 that sets the cookie) as a page that moves on by itself. This
/// request came from the provider, another site: a browser would not send the SameSite=Strict
/// session cookie on a redirect that continues it, but does on a navigation this page starts.
fn within_the_site(session: Response) -> Response {
    let (parts, _) = session.into_parts();
    let next = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/")
        .to_string();
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={next}"));
                title { "Signed in" }
            }
            body { p { "Signed in. " a href=(next) { "Continue" } } }
        }
    };
    let mut response = page.into_response();
    for cookie in parts.headers.get_all(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The `sso` settings, or a page saying single sign-on is not set up.
async fn configured(state: &AppState) -> Result<Sso, Refusal> {
    settings(state).await?.ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "Single sign-on is not set up",
            "This server has no single sign-on. Sign in with an API token, or ask an admin to add an `sso` section to the platform file.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_used_once_and_bounded() {
        let sso = SsoState::default();
        let pending = || Pending {
            issuer: "https://id.example.com".into(),
            nonce: Nonce::new_random(),
            verifier: PkceCodeVerifier::new("v".repeat(43)),
            binding: [1; 32],
            next: "/".into(),
            started: Instant::now(),
        };
        sso.insert("a".into(), pending()).unwrap();
        assert!(sso.take("a").is_some());
        assert!(sso.take("a").is_none(), "an attempt is used once");
        for i in 0..MAX_PENDING {
            sso.insert(i.to_string(), pending()).unwrap();
        }
        let refused = sso.insert("one-more".into(), pending()).unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
