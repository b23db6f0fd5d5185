//! Work a server that does not conduct hands to the conductor: a rollback by hand deploys, and
//! only the conductor supervises the markets' processes (a follower that deployed itself would
//! leave the conductor supervising the process it replaced). The follower records the work
//! with who asked (`tandem_store` `handoffs`), wakes the conductor, and waits for the answer;
//! the conductor runs it as that person and writes the answer, or the refusal, back. The caller
//! sees the same answer, or the same refusal, as on the conductor.

use crate::conductor::Signal;
use crate::{Engine, Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tandem_store::HandoffRow;

/// How long a follower waits for the conductor's answer before it gives the caller a
/// conflict (the work stays recorded: a conductor runs it when it can).
const HANDOFF_DEADLINE: Duration = Duration::from_secs(300);
/// How often the follower looks for the answer.
const HANDOFF_POLL: Duration = Duration::from_millis(50);

/// What can be handed off, with its arguments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Handoff {
    Rollback {
        service: String,
        markets: Vec<String>,
    },
    ConfigRollback {
        service: String,
        markets: Vec<String>,
        by: String,
    },
}

impl Handoff {
    fn kind(&self) -> &'static str {
        match self {
            Handoff::Rollback { .. } => "rollback",
            Handoff::ConfigRollback { .. } => "config-rollback",
        }
    }
}

impl Engine {
    /// Hands `work` to the conductor and waits for its answer.
    pub(crate) async fn hand_off<T: DeserializeOwned>(&self, work: Handoff) -> Result<T> {
        let payload = serde_json::to_value(&work).map_err(|e| Error::Internal(e.into()))?;
        let id = self.store.hand_off(work.kind(), &payload).await?;
        self.signal(Signal::Work);
        let asked = tokio::time::Instant::now();
        loop {
            let row = self.store.get_handoff(id).await?;
            if row.done_at.is_some() {
                return match (row.result, row.error) {
                    (Some(result), _) => serde_json::from_str(&result).map_err(|e| Error::Internal(e.into())),
                    (None, Some(error)) => Err(decode_error(&error)),
                    (None, None) => Err(Error::Internal(anyhow::anyhow!("handoff {id} ended without an answer"))),
                };
            }
            if asked.elapsed() > HANDOFF_DEADLINE {
                return Err(Error::Conflict(format!(
                    "no conductor answered within {}s (work {id} stays recorded and runs when one takes it): check `GET /api/v1/servers`",
                    HANDOFF_DEADLINE.as_secs()
                )));
            }
            tokio::time::sleep(HANDOFF_POLL).await;
        }
    }

    /// As the conductor: runs the work handed off and not taken yet, each as who asked.
    pub(crate) async fn run_handoffs(self: &Arc<Self>) {
        let rows = match self.store.take_handoffs(&self.holder).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take handed-off work");
                return;
            }
        };
        for row in rows {
            let engine = self.clone();
            self.spawn_conducted(async move {
                let answer = tandem_store::audit::scope(row.asker(), engine.run_handoff(&row)).await;
                let answer = answer.map(|v| v.to_string()).map_err(|e| encode_error(&e));
                if let Err(e) = engine.store.finish_handoff(row.id, answer).await {
                    tracing::warn!(handoff = row.id, error = %e, "cannot record what handed-off work came to");
                }
                engine.notify();
            });
        }
    }

    async fn run_handoff(self: &Arc<Self>, row: &HandoffRow) -> Result<serde_json::Value> {
        let work: Handoff = serde_json::from_str(&row.payload).map_err(|e| Error::Internal(e.into()))?;
        let value = match work {
            Handoff::Rollback { service, markets } => serde_json::to_value(self.rollback(&service, &markets).await?),
            Handoff::ConfigRollback { service, markets, by } => {
                serde_json::to_value(self.rollback_config(&service, &markets, &by).await?)
            }
        };
        value.map_err(|e| Error::Internal(e.into()))
    }
}

/// A refusal as the follower rebuilds it (our own faults stay on the conductor's log).
fn encode_error(e: &Error) -> String {
    let value = match e {
        Error::NotFound { what, which, message } => {
            serde_json::json!({ "kind": "not-found", "what": what, "which": which, "message": message })
        }
        Error::Conflict(m) => serde_json::json!({ "kind": "conflict", "message": m }),
        Error::Refused { reason, details } => {
            serde_json::json!({ "kind": "refused", "message": reason, "details": details })
        }
        Error::Forbidden(m) => serde_json::json!({ "kind": "forbidden", "message": m }),
        Error::Invalid { message, place } => {
            serde_json::json!({ "kind": "invalid", "message": message, "place": place })
        }
        Error::Internal(e) => {
            tracing::error!(error = %format!("{e:#}"), "handed-off work failed");
            serde_json::json!({ "kind": "internal" })
        }
    };
    value.to_string()
}

fn decode_error(text: &str) -> Error {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let s = |key: &str| v[key].as_str().unwrap_or_default().to_string();
    match v["kind"].as_str() {
        Some("not-found") => Error::NotFound {
            what: s("what"),
            which: s("which"),
            message: s("message"),
        },
        Some("conflict") => Error::Conflict(s("message")),
        Some("refused") => Error::Refused {
            reason: s("message"),
            details: Some(v["details"].clone()).filter(|d| !d.is_null()),
        },
        Some("forbidden") => Error::Forbidden(s("message")),
        Some("invalid") => Error::Invalid {
            message: s("message"),
            place: v["place"].as_str().map(String::from),
        },
        _ => Error::Internal(anyhow::anyhow!(
            "the conductor failed to run handed-off work (see its log)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_cross_to_the_follower_as_they_were() {
        let all = [
            Error::not_found("service", "shop", "unknown service `shop`"),
            Error::Conflict("fr is locked by rollout 3".into()),
            Error::Refused {
                reason: "frozen".into(),
                details: Some(serde_json::json!({ "market": "fr" })),
            },
            Error::Forbidden("operators only".into()),
            Error::Invalid {
                message: "bad".into(),
                place: Some("markets".into()),
            },
        ];
        for e in all {
            let back = decode_error(&encode_error(&e));
            assert_eq!(format!("{back:?}"), format!("{e:?}"));
        }
        assert!(matches!(
            decode_error(&encode_error(&Error::Internal(anyhow::anyhow!("disk full")))),
            Error::Internal(_)
        ));
    }
}
