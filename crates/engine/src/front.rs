//! Market fronts: for a service with `gates.canary`, each market is reached through a reverse
//! proxy in Tandem on the market's own port, kept across releases and restarts. The front sends
//! every request to the release the market runs (the stable one) and, while a canary step is
//! judged, a share of them to the new release (drawn at random, request by request); a failed step sends everything back in
//! one move. It counts what each release answered, so each step's figures are the new
//! release's real traffic.

use crate::Engine;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The file in a market's folder that keeps its front's port.
const PORT_FILE: &str = "front.port";
/// The longest a release may take to answer one request through the front.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// One market's front.
#[derive(Debug)]
pub struct Front {
    pub service: String,
    pub market: String,
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
    routes: RwLock<Routes>,
    task: tokio::task::JoinHandle<()>,
}

/// Where requests go.
#[derive(Debug, Default, Clone)]
struct Routes {
    stable: Option<Arc<Upstream>>,
    /// The new release and its share in percent.
    candidate: Option<(Arc<Upstream>, u8)>,
}

/// A release behind the front, with what it answered.
#[derive(Debug)]
pub struct Upstream {
    pub url: String,
    pub requests: AtomicU64,
    /// Answers 5xx, and requests it did not answer at all.
    pub errors: AtomicU64,
}

impl Upstream {
    fn new(url: &str) -> Arc<Self> {
        Arc::new(Self {
            url: url.trim_end_matches('/').to_string(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        })
    }

    /// (requests, errors) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Front {
    /// The front's address, for people and tests.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends every request to `url`, the release the market runs now.
    pub fn set_stable(&self, url: &str) {
        let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
        if r.stable.as_ref().is_none_or(|s| s.url != url.trim_end_matches('/')) {
            r.stable = Some(Upstream::new(url));
        }
        r.candidate = None;
    }

    /// Whether a release serves the market through the front (a canary needs one to compare).
    pub fn has_stable(&self) -> bool {
        self.routes.read().unwrap_or_else(|e| e.into_inner()).stable.is_some()
    }

    /// Sends `percent` of the requests to the new release at `url`; its counts start afresh
    /// unless it already had a share. Returns it, to read its figures.
    pub fn shift(&self, url: &str, percent: u8) -> Arc<Upstream> {
        let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
        let upstream = match &r.candidate {
            Some((u, _)) if u.url == url.trim_end_matches('/') => u.clone(),
            _ => Upstream::new(url),
        };
        r.candidate = Some((upstream.clone(), percent.min(100)));
        upstream
    }

    /// Every request to the stable release again, in one move.
    pub fn back(&self) {
        self.routes.write().unwrap_or_else(|e| e.into_inner()).candidate = None;
    }

    /// The new release's share now (0 without one).
    pub fn candidate_share(&self) -> u8 {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .candidate
            .as_ref()
            .map_or(0, |(_, p)| *p)
    }

    /// Where the next request goes: the candidate with probability `percent` %, drawn at random
    /// for each request (a fixed pattern, one request in four, would meet clients that repeat
    /// a pattern of their own: a page and its sub-request would always split the same way).
    fn pick(&self) -> Option<Arc<Upstream>> {
        let r = self.routes.read().unwrap_or_else(|e| e.into_inner());
        if let Some((c, percent)) = &r.candidate
            && rand::random_range(0..100u8) < *percent
        {
            return Some(c.clone());
        }
        r.stable
            .clone()
            .or_else(|| r.candidate.as_ref().map(|(c, _)| c.clone()))
    }
}

/// The fronts of this server, by (service, market).
#[derive(Debug, Default)]
pub struct Fronts {
    map: tokio::sync::Mutex<HashMap<(String, String), Arc<Front>>>,
}

impl Fronts {
    /// The front of a market, if it has one.
    pub async fn get(&self, service: &str, market: &str) -> Option<Arc<Front>> {
        self.map
            .lock()
            .await
            .get(&(service.to_string(), market.to_string()))
            .cloned()
    }

    /// Every front, for the pages.
    pub async fn all(&self) -> Vec<Arc<Front>> {
        self.map.lock().await.values().cloned().collect()
    }
}

impl Engine {
    /// The front of `market` for `service`, started if it is not: on the port its market folder
    /// keeps (chosen once, when the first front started).
    pub(crate) async fn ensure_front(&self, service: &str, market: &str) -> anyhow::Result<Arc<Front>> {
        let mut map = self.fronts.map.lock().await;
        let key = (service.to_string(), market.to_string());
        if let Some(f) = map.get(&key) {
            return Ok(f.clone());
        }
        let dir = self.market_dir(service, market);
        tokio::fs::create_dir_all(&dir).await?;
        let file = dir.join(PORT_FILE);
        let kept: Option<u16> = tokio::fs::read_to_string(&file)
            .await
            .ok()
            .and_then(|t| t.trim().parse().ok());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", kept.unwrap_or(0)))
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on 127.0.0.1:{} for {market}'s front: {e}",
                    kept.unwrap_or(0)
                )
            })?;
        let port = listener.local_addr()?.port();
        if kept != Some(port) {
            tokio::fs::write(&file, port.to_string()).await?;
        }
        let front = Arc::new_cyclic(|weak: &std::sync::Weak<Front>| {
            let weak = weak.clone();
            let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
            let app = axum::Router::new()
                .fallback(forward)
                .with_state(Proxy { front: weak, client });
            let stop = self.stop.clone();
            let task = tokio::spawn(async move {
                let serve = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await });
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "a market front stopped");
                }
            });
            Front {
                service: service.to_string(),
                market: market.to_string(),
                port,
                routes: RwLock::new(Routes::default()),
                task,
            }
        });
        tracing::info!(service, market, port, "market front listening");
        map.insert(key, front.clone());
        Ok(front)
    }

    /// Points `market`'s front (started if needed) at the release now serving it, when the
    /// service has a canary; a front that cannot start is logged, the market still serves.
    pub(crate) async fn front_serves(
        &self,
        spec: &tandem_core::pipeline::ServiceSpec,
        service: &str,
        market: &str,
        url: &str,
    ) {
        if spec.gates.canary.is_none() || url.is_empty() {
            return;
        }
        match self.ensure_front(service, market).await {
            Ok(front) => front.set_stable(url),
            Err(e) => tracing::error!(service, market, error = %format!("{e:#}"), "cannot start a market front"),
        }
    }

    /// The fronts of this server.
    pub fn fronts(&self) -> &Fronts {
        &self.fronts
    }
}

#[derive(Clone)]
struct Proxy {
    front: std::sync::Weak<Front>,
    client: Client<HttpConnector, Body>,
}

/// Headers that concern one connection, never forwarded (RFC 9110, section 7.6.1).
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

fn strip(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::try_from(n.trim()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    let hop: Vec<HeaderName> = headers.keys().filter(|n| hop_by_hop(n)).cloned().collect();
    for n in hop {
        headers.remove(n);
    }
}

/// Forwards one request to the release `pick` chooses, and its answer back.
async fn forward(State(proxy): State<Proxy>, mut req: Request) -> Response {
    let Some(front) = proxy.front.upgrade() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the market's front is stopping").into_response();
    };
    let Some(upstream) = front.pick() else {
        let text = format!("no release of {} serves {} yet", front.service, front.market);
        return (StatusCode::SERVICE_UNAVAILABLE, text).into_response();
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{path}", upstream.url).parse::<Uri>() else {
        return (StatusCode::BAD_REQUEST, "the request's path cannot be forwarded").into_response();
    };
    *req.uri_mut() = uri;
    strip(req.headers_mut());
    upstream.requests.fetch_add(1, Ordering::Relaxed);
    match tokio::time::timeout(UPSTREAM_TIMEOUT, proxy.client.request(req)).await {
        Ok(Ok(resp)) => {
            if resp.status().is_server_error() {
                upstream.errors.fetch_add(1, Ordering::Relaxed);
            }
            let (mut parts, body) = resp.into_parts();
            strip(&mut parts.headers);
            Response::from_parts(parts, Body::new(body))
        }
        Ok(Err(e)) => {
            upstream.errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(market = %front.market, error = %e, "a release did not answer through the front");
            (
                StatusCode::BAD_GATEWAY,
                format!("{}'s release did not answer", front.market),
            )
                .into_response()
        }
        Err(_) => {
            upstream.errors.fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "{}'s release did not answer within {} s",
                    front.market,
                    UPSTREAM_TIMEOUT.as_secs()
                ),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front() -> Front {
        Front {
            service: "shop".into(),
            market: "fr".into(),
            port: 0,
            routes: RwLock::new(Routes::default()),
            task: tokio::spawn(async {}),
        }
    }

    #[tokio::test]
    async fn each_share_is_kept_whatever_pattern_the_requests_follow() {
        let f = front();
        assert!(f.pick().is_none(), "nothing serves yet");
        f.set_stable("http://127.0.0.1:1");
        for percent in [5u8, 25, 50, 100] {
            let c = f.shift("http://127.0.0.1:2", percent);
            // Every other request is a page's sub-request: each kind gets its share.
            let (mut pages, mut subs) = (0u32, 0u32);
            for i in 0..20_000 {
                if Arc::ptr_eq(&f.pick().unwrap(), &c) {
                    if i % 2 == 0 {
                        pages += 1;
                    } else {
                        subs += 1;
                    }
                }
            }
            for (kind, n) in [("pages", pages), ("sub-requests", subs)] {
                let share = f64::from(n) / 100.0;
                assert!(
                    (share - f64::from(percent)).abs() < 2.0,
                    "{kind} at {percent}%: {share:.1}%"
                );
            }
        }
        f.back();
        assert!((0..100).all(|_| f.pick().unwrap().url.ends_with(":1")));
        assert_eq!(f.candidate_share(), 0);
    }
}
