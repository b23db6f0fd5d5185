//! Sign-in with the company's OpenID Connect provider: authorization code flow with PKCE,
//! configured by the platform file's `sso` section (see docs/sso.md).
//!
//! Invariants: an attempt lives only in this server's memory (state → nonce, PKCE verifier,
//! where to go next, a hash of the browser's binding), at most [`MAX_PENDING`] of them, each for
//! at most [`PENDING_TTL`], and is taken out on its first callback, good or bad. The browser that
//! started it holds the binding in a short-lived cookie; a callback without it (a link forged or
//! replayed from another browser) is refused. The ID token's issuer, audience, signature, expiry
//! and nonce are checked by `openidconnect` before any claim is read.

use super::layout::head;
use super::login::safe_next;
use crate::AppState;
use crate::auth::{COOKIE, generate_secret, url_encode};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IdToken, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tandem_core::role::Role;
use tandem_core::sso::Sso;

/// The cookie binding an attempt to the browser that started it.
const BINDING_COOKIE: &str = "tandem_sso";
/// How long (seconds) a person has to sign in at the provider before the attempt is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(600);
/// Most attempts kept at once: beyond it new ones are refused until old ones end or expire, so
/// an anonymous caller cannot grow the server's memory.
const MAX_PENDING: usize = 10_000;
/// How long (seconds) the provider's discovery document and keys are reused: a key rotation
/// at the provider is seen within it.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// Time (seconds) allowed for each call to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer (bytes) read from the provider: discovery, keys and token responses are small.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// What the server keeps for single sign-on: attempts under way and the provider's metadata.
#[derive(Debug, Default)]
pub struct SsoState {
    pending: Mutex<HashMap<String, Pending>>,
    metadata: Mutex<Option<(String, Instant, CoreProviderMetadata)>>,
    http: std::sync::OnceLock<reqwest::Client>,
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
    Ok(state.engine.store.load_platform().await?.sso)
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
    let client = client(&state, &sso).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in sso.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf, nonce) = request.set_pkce_challenge(challenge).url();
    // One binding per browser, so that sign-ins started in two tabs both succeed.
    let binding = cookie(&headers, BINDING_COOKIE)
        .filter(|b| b.len() == 64 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(random_binding);
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

/// The claims besides the standard ones, where the groups claim is found.
#[derive(Debug, Default, Deserialize, Serialize)]
struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type GroupsIdToken = IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

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
    let presented: [u8; 32] = match cookie(&headers, BINDING_COOKIE) {
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
    let client = client(&state, &sso).await?;
    let http = provider_http(&state)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Refusal::fault("the provider has no token endpoint", e))?
        .set_pkce_verifier(pending.verifier)
        .request_async(&http)
        .await
        .map_err(|e| Refusal::fault("the provider refused the sign-in code", error_chain(&e)))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| Refusal::fault("the provider's answer has no ID token", "no id_token"))?;
    let id_token: GroupsIdToken = id_token
        .to_string()
        .parse()
        .map_err(|e| Refusal::fault("the provider's ID token cannot be read", e))?;
    // The algorithms the provider signs with, never `none`: an unsigned token proves nothing.
    let algs: Vec<CoreJwsSigningAlgorithm> = metadata(&state, &sso)
        .await?
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| **alg != CoreJwsSigningAlgorithm::None)
        .cloned()
        .collect();
    let verifier = client.id_token_verifier().set_allowed_algs(algs);
    let claims = id_token
        .claims(&verifier, &pending.nonce)
        .map_err(|e| Refusal::fault("the provider's ID token did not pass verification", e))?;
    let name = claims
        .preferred_username()
        .map(|u| u.as_str().to_string())
        .or_else(|| claims.email().map(|e| e.as_str().to_string()))
        .unwrap_or_else(|| claims.subject().as_str().to_string());
    let groups = groups(&claims.additional_claims().0, &sso.groups_claim);
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
    start_session(&state, &name, role, "sso", Some(&pending.next))
        .await
        .map_err(Refusal::from)
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

/// A client for the provider: its metadata (cached for [`METADATA_TTL`]), our id and secret.
async fn client(
    state: &AppState,
    sso: &Sso,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    Refusal,
> {
    let secret = match std::env::var(&sso.client_secret_env) {
        Ok(s) if !s.is_empty() => s,
        _ => {
            return Err(Refusal::fault(
                "the client secret is missing",
                format!(
                    "the server's environment variable `{}` (named by `sso.client_secret_env`) is unset or empty",
                    sso.client_secret_env
                ),
            ));
        }
    };
    let redirect =
        RedirectUrl::new(sso.redirect_url.clone()).map_err(|e| Refusal::fault("`sso.redirect_url` is not a URL", e))?;
    let metadata = metadata(state, sso).await?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(sso.client_id.clone()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(redirect))
}

async fn metadata(state: &AppState, sso: &Sso) -> Result<CoreProviderMetadata, Refusal> {
    {
        let cached = state.sso.metadata.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((issuer, at, metadata)) = cached.as_ref()
            && *issuer == sso.issuer
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
    }
    let issuer = IssuerUrl::new(sso.issuer.clone()).map_err(|e| Refusal::fault("`sso.issuer` is not a URL", e))?;
    let http = provider_http(state)?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| Refusal::fault("the identity provider cannot be reached", error_chain(&e)))?;
    *state.sso.metadata.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((sso.issuer.clone(), Instant::now(), metadata.clone()));
    Ok(metadata)
}

/// Tandem's HTTP client towards the provider.
struct ProviderHttp(reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderCallError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, ProviderCallError>> + Send + Sync + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(call_provider(&self.0, request))
    }
}

/// The client, built once (it reads the system's certificate authorities).
fn provider_http(state: &AppState) -> Result<ProviderHttp, Refusal> {
    if let Some(client) = state.sso.http.get() {
        return Ok(ProviderHttp(client.clone()));
    }
    let client = reqwest::Client::builder()
        // Following redirects would let a provider's answer send Tandem's requests elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .build()
        .map_err(|e| Refusal::fault("cannot set up HTTPS", e))?;
    Ok(ProviderHttp(state.sso.http.get_or_init(|| client).clone()))
}

/// A call to the provider whose answer is read up to [`MAX_PROVIDER_BODY`] bytes.
async fn call_provider(
    client: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, ProviderCallError> {
    let mut response = client.execute(request.try_into()?).await?;
    let mut builder = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_PROVIDER_BODY {
            return Err(ProviderCallError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(builder.body(body)?)
}

#[derive(Debug, thiserror::Error)]
enum ProviderCallError {
    #[error("request to the provider failed: {0}")]
    Request(#[from] reqwest::Error),
    #[error("the provider's answer is over {MAX_PROVIDER_BODY} bytes")]
    TooLarge,
    #[error("the provider's answer cannot be read: {0}")]
    Http(#[from] openidconnect::http::Error),
}

/// An error with its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The person's groups: the claim as a list of strings, or a single string.
fn groups(claims: &serde_json::Map<String, serde_json::Value>, claim: &str) -> Vec<String> {
    match claims.get(claim) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
        Some(serde_json::Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    }
}

/// 32 random bytes, hex.
fn random_binding() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

// TEMP until sessions land: signs the person in with a new API token in today's cookie; the
// merge replaces this with `crate::auth::start_session`, which has the same signature.
pub async fn start_session(
    state: &AppState,
    name: &str,
    role: Role,
    source: &str,
    next: Option<&str>,
) -> Result<Response, ApiError> {
    let secret = generate_secret();
    state.engine.store.insert_token(name, role, &secret).await?;
    tracing::debug!(user = %name, %source, "session started");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    let location = HeaderValue::from_str(safe_next(next)).unwrap_or(HeaderValue::from_static("/"));
    headers.insert(header::LOCATION, location);
    let cookie = format!("{COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_as_a_list_or_a_single_name() {
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"groups": ["sre", 3, "dev"], "team": "ops", "n": 1}"#).unwrap();
        assert_eq!(groups(&claims, "groups"), ["sre", "dev"]);
        assert_eq!(groups(&claims, "team"), ["ops"]);
        assert!(groups(&claims, "n").is_empty());
        assert!(groups(&claims, "missing").is_empty());
    }

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
