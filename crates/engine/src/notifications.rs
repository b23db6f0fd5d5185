//! Telling the team: each event of the platform file's `notifications` goes to its hooks, a
//! generic JSON webhook (signed with HMAC-SHA256 when it names a secret) or a Slack-compatible
//! one (`{"text": …}`). Delivery is in the background, tried three times, and each outcome is
//! recorded as an event, so a hook that is down never slows or fails a rollout.

use crate::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::policy::{Event, Notification, NotificationKind};

/// Attempts per hook, and the wait before each retry.
const BACKOFF: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];
const HOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// What is announced: the event, a sentence for people, and the facts for machines.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub event: Event,
    pub text: String,
    pub data: serde_json::Value,
}

impl Engine {
    /// Sends an announcement to every hook that wants its event, in the background.
    pub async fn announce(self: &Arc<Self>, announcement: Announcement) {
        let platform = match self.store.load_platform().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot load the platform to send notifications");
                return;
            }
        };
        for hook in platform.notifications_for(announcement.event) {
            let secret = match &hook.secret {
                Some(name) => match crate::secrets::secret_value(&platform, name) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        tracing::warn!(hook = %hook.name, error = %format!("{e:#}"), "notification not signed");
                        None
                    }
                },
                None => None,
            };
            let (engine, hook, announcement) = (self.clone(), hook.clone(), announcement.clone());
            self.tasks
                .spawn(async move { engine.deliver(&hook, secret.as_deref(), &announcement).await });
        }
    }

    async fn deliver(&self, hook: &Notification, secret: Option<&str>, a: &Announcement) {
        let body = body(hook.kind, a);
        let mut last_error = String::new();
        for attempt in 0..=BACKOFF.len() {
            if attempt > 0 {
                tokio::time::sleep(BACKOFF[attempt - 1]).await;
            }
            let mut request = self
                .http
                .post(&hook.url)
                .timeout(HOOK_TIMEOUT)
                .header("content-type", "application/json")
                .header("x-tandem-event", a.event.as_str());
            if let Some(secret) = secret {
                request = request.header("x-tandem-signature-256", signature(secret, &body));
            }
            match request.body(body.clone()).send().await {
                Ok(resp) if resp.status().is_success() => {
                    self.record(hook, a, "notification.sent", None, attempt + 1).await;
                    return;
                }
                Ok(resp) => last_error = format!("the hook answered {}", resp.status()),
                Err(e) => last_error = format!("cannot reach the hook: {e}"),
            }
        }
        tracing::warn!(hook = %hook.name, error = %last_error, "notification not delivered");
        self.record(hook, a, "notification.failed", Some(&last_error), BACKOFF.len() + 1)
            .await;
    }

    async fn record(&self, hook: &Notification, a: &Announcement, kind: &str, error: Option<&str>, attempts: usize) {
        let data = serde_json::json!({
            "event": a.event.as_str(), "hook": hook.name, "attempts": attempts, "error": error,
        });
        if let Err(e) = self
            .store
            .record_event(kind, &format!("notification/{}", hook.name), data)
            .await
        {
            tracing::warn!(error = %e, "cannot record a notification's outcome");
        }
    }
}

/// The request body for a kind of hook.
fn body(kind: NotificationKind, a: &Announcement) -> String {
    let value = match kind {
        NotificationKind::Slack => serde_json::json!({ "text": a.text }),
        NotificationKind::Webhook => serde_json::json!({
            "event": a.event.as_str(),
            "at": jiff::Timestamp::now().to_string(),
            "text": a.text,
            "data": a.data,
        }),
    };
    value.to_string()
}

/// `sha256=<hex>` of the body under the hook's secret, as GitHub signs its webhooks.
fn signature(secret: &str, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_gets_text_and_webhooks_get_the_facts() {
        let a = Announcement {
            event: Event::RolloutHalted,
            text: "rollout 3 of shop halted".into(),
            data: serde_json::json!({ "rollout": 3 }),
        };
        let slack: serde_json::Value = serde_json::from_str(&body(NotificationKind::Slack, &a)).unwrap();
        assert_eq!(slack, serde_json::json!({ "text": "rollout 3 of shop halted" }));
        let hook: serde_json::Value = serde_json::from_str(&body(NotificationKind::Webhook, &a)).unwrap();
        assert_eq!(hook["event"], "rollout.halted");
        assert_eq!(hook["data"]["rollout"], 3);
        // The signature is the one any HMAC-SHA256 implementation computes for this key and body.
        assert_eq!(
            signature("key", "The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
