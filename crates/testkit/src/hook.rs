//! A webhook receiver: a tiny HTTP server on 127.0.0.1 that records every JSON body posted to
//! it with its headers, for the tests of notifications and chat hooks.

use axum::extract::State;
use axum::http::HeaderMap;
use std::sync::{Arc, Mutex};

/// What a receiver got, in order: each request's headers and JSON body.
pub type Received = Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>;

/// Starts a receiver on 127.0.0.1 (a free port); returns its URL (`http://127.0.0.1:{port}/hook`)
/// and what it receives. It runs until the test's runtime ends.
pub async fn receiver() -> (String, Received) {
    let received: Received = Default::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(r): State<Received>, headers: HeaderMap, body: String| async move {
                    let body = serde_json::from_str(&body).expect("a hook is sent JSON");
                    r.lock().expect("what the hook received").push((headers, body));
                    "ok"
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on 127.0.0.1");
    let url = format!("http://{}/hook", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}
