//! Tandem's HTTP server: the JSON API under `/api/v1` (with its OpenAPI document), `/metrics`,
//! `/healthz`, sign-in and the server-rendered web UI. [`app`] builds the router so tests can
//! drive it on port 0; [`serve`] runs it until a shutdown signal.

#![deny(missing_docs)]

pub mod agent_api;
pub mod alertmanager;
pub mod api;
pub mod audit;
pub mod auth;
pub mod error;
pub mod hooks;
pub mod layers;
pub mod metrics;
pub mod ofrep;
pub mod ui;
mod views_log;

use axum::Router;
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use tandem_engine::Engine;

/// How the operator set the server up.
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// Whether callers without a credential may read (never write).
    pub anonymous_read: bool,
    /// The origin browsers reach the server at (`https://tandem.example.com`), when set: the
    /// only origin a cookie-authenticated change is accepted from, and with `https` the session
    /// cookie gets `Secure`. Unset, the request's own `Host` is the origin.
    pub public_url: Option<PublicUrl>,
}

impl ServerSettings {
    /// Whether browsers reach the server over TLS.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.origin.starts_with("https://"))
    }
}

/// A server's public URL, reduced to its origin (`scheme://host[:port]`, lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower case: compared with a request's `Origin` as is.
    pub origin: String,
}

impl std::str::FromStr for PublicUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            format!("public URL `{text}` is not a URL ({e}): expected one such as https://tandem.example.com")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "public URL `{text}` must be an http:// or https:// URL with a host, such as https://tandem.example.com"
            ));
        }
        Ok(PublicUrl {
            origin: url.origin().ascii_serialization(),
        })
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The engine: the one door to Tandem's state and workers.
    pub engine: Arc<Engine>,
    /// How the operator set the server up.
    pub settings: ServerSettings,
    /// Tandem's own `/metrics` registry.
    pub metrics: Arc<metrics::Metrics>,
    /// The OpenAPI document, generated from the handlers once at start-up.
    pub openapi: Arc<serde_json::Value>,
    /// Cancelled when the server starts shutting down: long-lived streams end with it, so
    /// the graceful shutdown does not wait on them.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Credentials recently checked (see [`auth::TokenCache`]).
    pub tokens: Arc<auth::TokenCache>,
    /// Single sign-on attempts under way and the provider's metadata (see [`ui::sso`]).
    pub sso: Arc<ui::sso::SsoState>,
}

impl AppState {
    /// The state for a server over `engine`: the OpenAPI document is generated here, once, and
    /// the credential cache and SSO state start empty.
    pub fn new(engine: Arc<Engine>, settings: ServerSettings) -> Self {
        let (_, openapi) = api::router();
        Self {
            engine,
            settings,
            metrics: Arc::new(metrics::Metrics::default()),
            openapi: Arc::new(serde_json::to_value(&openapi).unwrap_or_default()),
            shutdown: tokio_util::sync::CancellationToken::new(),
            tokens: Arc::new(auth::TokenCache::default()),
            sso: Arc::new(ui::sso::SsoState::default()),
        }
    }

    /// Tells live views that something changed.
    pub fn changed(&self) {
        self.engine.notify();
    }
}

/// The whole router.
pub fn app(state: AppState) -> Router {
    let (api, _) = api::router();
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(api::openapi_json))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::serve_metrics))
        .merge(hooks::router())
        .merge(agent_api::router())
        .merge(ofrep::router())
        .merge(ui::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), ui::keep_caller))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layers::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(layers::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Unknown routes: an HTML page for browsers, the JSON error body for everyone else.
async fn not_found(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        ui::PageError::not_found("no such page").into_response()
    } else {
        error::ApiError::not_found("no such route").into_response()
    }
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then lets requests under way
/// finish and stops the engine (and so every market process).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = state.engine.clone();
    let streams = state.shutdown.clone();
    let router = app(state);
    let shutdown = async move {
        shutdown.await;
        streams.cancel();
    };
    // The peer's address reaches the audit log through `ConnectInfo`.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await?;
    engine.shutdown().await;
    Ok(())
}
