//! The demo's team chat: a Slack-compatible incoming webhook on 127.0.0.1 that keeps what
//! Tandem told the team (approvals asked for, incidents, rollbacks, halted rollouts).

use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};

/// The messages received, in order.
#[derive(Debug, Clone, Default)]
pub struct Chat {
    messages: Arc<Mutex<Vec<String>>>,
}

impl Chat {
    /// Starts listening; returns the chat and the webhook's URL. It stops with the demo.
    pub async fn start() -> Result<(Chat, String)> {
        let chat = Chat::default();
        let messages = chat.messages.clone();
        let app = axum::Router::new().route(
            "/team-chat",
            axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
                let messages = messages.clone();
                async move {
                    let text = body["text"].as_str().unwrap_or_default().to_string();
                    messages.lock().unwrap_or_else(|e| e.into_inner()).push(text);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot start the demo's team chat")?;
        let url = format!("http://{}/team-chat", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((chat, url))
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
