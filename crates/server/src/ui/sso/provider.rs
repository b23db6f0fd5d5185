//! Talking to the OpenID provider: discovery (cached), the authorization URL, the code
//! exchange and the ID token's verification. Every call follows no redirect and is bounded in
//! time ([`PROVIDER_TIMEOUT`]) and size ([`MAX_PROVIDER_BODY`]).

use super::Refusal;
use crate::AppState;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tandem_core::sso::Sso;

/// How long (seconds) the provider's discovery document and keys are reused: a key rotation
/// at the provider is seen within it.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// Time (seconds) allowed for each call to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer (bytes) read from the provider: discovery, keys and token responses are small.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The provider's metadata, kept for [`METADATA_TTL`], and the HTTP client, built once.
#[derive(Debug, Default)]
pub(super) struct Cache {
    metadata: std::sync::Mutex<Option<(String, Instant, CoreProviderMetadata)>>,
    http: std::sync::OnceLock<reqwest::Client>,
}

/// The provider as this server's client of it.
pub(super) struct Provider {
    client: Client,
    /// The algorithms the provider signs ID tokens with, never `none`.
    algs: Vec<CoreJwsSigningAlgorithm>,
    http: ProviderHttp,
}

/// Who signed in, as the verified ID token says.
#[derive(Debug)]
pub(super) struct Identity {
    /// `preferred_username`, else `email`, else the subject.
    pub name: String,
    /// The groups claim, which the platform file's `sso` section maps to a role.
    pub groups: Vec<String>,
}

impl Provider {
    /// Reads the client secret and the provider's metadata.
    pub(super) async fn connect(state: &AppState, sso: &Sso) -> Result<Provider, Refusal> {
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
        let redirect = RedirectUrl::new(sso.redirect_url.clone())
            .map_err(|e| Refusal::fault("`sso.redirect_url` is not a URL", e))?;
        let http = http(state)?;
        let metadata = metadata(state, sso, &http).await?;
        // An unsigned token proves nothing, whatever the provider advertises.
        let algs = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| **alg != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(sso.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect);
        Ok(Provider { client, algs, http })
    }

    /// Where to send the browser, with a fresh state, nonce and PKCE challenge (S256).
    pub(super) fn authorize_url(&self, sso: &Sso) -> (url::Url, CsrfToken, Nonce, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        // `openid` is always asked for by the crate itself.
        for scope in sso.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        (url, state, nonce, verifier)
    }

    /// Exchanges `code` and verifies the ID token: signature against the provider's keys,
    /// issuer, audience, expiry and `nonce`; then reads the name and the groups claim.
    pub(super) async fn identify(
        &self,
        sso: &Sso,
        code: String,
        verifier: PkceCodeVerifier,
        nonce: &Nonce,
    ) -> Result<Identity, Refusal> {
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Refusal::fault("the provider has no token endpoint", e))?
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| Refusal::fault("the provider refused the sign-in code", error_chain(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| Refusal::fault("the provider's answer has no ID token", "no id_token"))?;
        // Read again with every claim kept, to find the configured groups claim.
        let id_token: GroupsIdToken = id_token
            .to_string()
            .parse()
            .map_err(|e| Refusal::fault("the provider's ID token cannot be read", e))?;
        let verifier = self.client.id_token_verifier().set_allowed_algs(self.algs.clone());
        let claims = id_token
            .claims(&verifier, nonce)
            .map_err(|e| Refusal::fault("the provider's ID token did not pass verification", e))?;
        let name = claims
            .preferred_username()
            .map(|u| u.as_str().to_string())
            .or_else(|| claims.email().map(|e| e.as_str().to_string()))
            .unwrap_or_else(|| claims.subject().as_str().to_string());
        Ok(Identity {
            name,
            groups: groups(&claims.additional_claims().0, &sso.groups_claim),
        })
    }
}

/// The claims besides the standard ones, where the groups claim is found.
#[derive(Debug, Default, Deserialize, Serialize)]
struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

type GroupsIdToken = IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

async fn metadata(state: &AppState, sso: &Sso, http: &ProviderHttp) -> Result<CoreProviderMetadata, Refusal> {
    let cache = &state.sso.provider;
    {
        let cached = cache.metadata.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((issuer, at, metadata)) = cached.as_ref()
            && *issuer == sso.issuer
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
    }
    let issuer = IssuerUrl::new(sso.issuer.clone()).map_err(|e| Refusal::fault("`sso.issuer` is not a URL", e))?;
    // The crate checks that the document names the same issuer.
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| Refusal::fault("the identity provider cannot be reached", error_chain(&e)))?;
    *cache.metadata.lock().unwrap_or_else(|e| e.into_inner()) =
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
        Box::pin(call(&self.0, request))
    }
}

/// The client, built once (it reads the system's certificate authorities).
fn http(state: &AppState) -> Result<ProviderHttp, Refusal> {
    let cache = &state.sso.provider;
    if let Some(client) = cache.http.get() {
        return Ok(ProviderHttp(client.clone()));
    }
    let client = tandem_engine::tls::client_builder()
        // Following redirects would let a provider's answer send Tandem's requests elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .build()
        .map_err(|e| Refusal::fault("cannot set up HTTPS", e))?;
    Ok(ProviderHttp(cache.http.get_or_init(|| client).clone()))
}

/// A call to the provider whose answer is read up to [`MAX_PROVIDER_BODY`] bytes.
async fn call(
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
}
