//! The audit layer: every request runs in its own audit context (see `tandem_store::audit`),
//! holding the peer's address; authentication fills in the caller, so every event the request
//! writes says who, through which credential and from where. A state-changing request that is
//! refused or fails (and any refused sign-in) writes one entry of its own with the outcome,
//! since it changed nothing that would have.

use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use tandem_store::audit::{self, Slot};

/// Longest request path recorded (a refused request's path is the caller's text).
const PATH_MAX: usize = 200;

/// The middleware: see the module note.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_string());
    let method = request.method().clone();
    let path = truncate(request.uri().path());
    let slot = Slot::request(address);
    if let Some(forge) = path.strip_prefix("/hooks/") {
        // A webhook proves itself with a signature, not a credential: name its sender.
        slot.name(&format!("{forge} webhook"));
    }
    let response = audit::scope(slot.clone(), next.run(request)).await;
    let status = response.status();
    let changing = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let sign_in = path == "/login";
    if (changing || sign_in) && (status.is_client_error() || status.is_server_error()) {
        let (kind, outcome) = match (sign_in, status.is_server_error()) {
            (true, _) => ("signin.failed", "refused"),
            (false, false) => ("request.refused", "refused"),
            (false, true) => ("request.failed", "failed"),
        };
        let data = serde_json::json!({ "method": method.as_str(), "path": path, "status": status.as_u16() });
        let subject = format!("request{path}");
        let recorded = audit::scope(slot, state.engine.record_refusal(kind, &subject, data, outcome)).await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, %method, path, "cannot record a refused request in the audit log");
        }
    }
    response
}

fn truncate(path: &str) -> String {
    match path.char_indices().nth(PATH_MAX) {
        Some((at, _)) => format!("{}…", &path[..at]),
        None => path.to_string(),
    }
}
