//! `POST /hooks/alertmanager`: Prometheus Alertmanager's webhook (payload version 4). Each
//! firing alert whose labels name a `service` and a `market` of the platform opens an incident
//! (once per fingerprint while it is open), linked to the deployment serving that market when
//! the alert started (never one that failed and never served); a resolved alert resolves it at its `endsAt`. Alertmanager authenticates
//! with a bearer token (`http_config.authorization` in its receiver), operator role.

use crate::AppState;
use crate::auth::{Auth, Operator};
use crate::error::{ApiError, ApiResult, JsonBody};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tandem_store::NewIncident;

/// The body Alertmanager posts to a webhook receiver: the fields Tandem reads of it (the rest
/// is ignored).
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// The payload's version; anything but `"4"` is refused with 400.
    pub version: Option<String>,
    /// The alerts of the group, firing or resolved.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// One alert of a [`Notification`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`; any other status is ignored (and said so in the answer).
    pub status: String,
    /// Its labels: `service` and `market` must name a service and a market of the platform,
    /// `alertname` titles the incident.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its annotations: `summary` joins the incident's title, `description` is its summary.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When it started firing (RFC 3339): the incident's opening time.
    pub starts_at: Option<String>,
    /// When it stopped (RFC 3339; Alertmanager's year 1 means not yet): the resolution time.
    pub ends_at: Option<String>,
    /// Alertmanager's identity of the alert: one open incident per fingerprint.
    pub fingerprint: Option<String>,
}

/// What became of each alert.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// The alert's fingerprint (its labels when Alertmanager sent none).
    pub fingerprint: String,
    /// opened, already open, resolved, not open, or ignored (with why).
    pub result: String,
    /// The incident it opened, found open or resolved, if any.
    pub incident: Option<i64>,
}

fn millis(text: Option<&str>) -> Option<i64> {
    let t: jiff::Timestamp = text?.parse().ok()?;
    // Alertmanager's "no end": 0001-01-01T00:00:00Z.
    (t.as_second() > 0).then(|| t.as_millisecond())
}

/// `POST /hooks/alertmanager` (operators and up): opens or resolves one incident per alert and
/// answers what became of each, in order. A payload of another version is refused (400); an
/// alert without `service` and `market` labels of the platform, or of another status, is
/// ignored and named as such, so Alertmanager does not retry it.
pub async fn receive(
    auth: Auth<Operator>,
    State(state): State<AppState>,
    JsonBody(n): JsonBody<Notification>,
) -> ApiResult<Json<Vec<Outcome>>> {
    if n.version.as_deref().is_some_and(|v| v != "4") {
        return Err(ApiError::bad_request(format!(
            "Alertmanager payload version {} is not supported: expected 4",
            n.version.unwrap_or_default()
        )));
    }
    let platform = state.engine.load_platform().await?;
    let engine = &state.engine;
    let mut out = Vec::new();
    for alert in &n.alerts {
        let name = alert.labels.get("alertname").cloned().unwrap_or_else(|| "alert".into());
        let fingerprint = alert.fingerprint.clone().unwrap_or_else(|| {
            // Alertmanager always sends one; without, the labels identify the alert.
            format!("{:?}", alert.labels)
        });
        let mut outcome = Outcome {
            fingerprint: fingerprint.clone(),
            result: String::new(),
            incident: None,
        };
        let (Some(service), Some(market)) = (alert.labels.get("service"), alert.labels.get("market")) else {
            outcome.result = "ignored: the alert has no `service` and `market` labels".into();
            out.push(outcome);
            continue;
        };
        if platform.service(service).is_none() || platform.market(market).is_none() {
            outcome.result = format!("ignored: `{service}` in `{market}` is not a service and market of the platform");
            out.push(outcome);
            continue;
        }
        match alert.status.as_str() {
            "firing" => {
                let title = match alert.annotations.get("summary") {
                    Some(s) => format!("{name}: {s}"),
                    None => name.clone(),
                };
                let (row, opened) = state
                    .engine
                    .open_incident(NewIncident {
                        service,
                        market,
                        title: &title,
                        summary: alert.annotations.get("description").map(String::as_str),
                        source: "alertmanager",
                        opened_by: &auth.0.name,
                        opened_at: millis(alert.starts_at.as_deref()).unwrap_or_else(tandem_store::now_ms),
                        fingerprint: Some(&fingerprint),
                        deployment_id: None,
                    })
                    .await?;
                outcome.result = if opened { "opened" } else { "already open" }.into();
                outcome.incident = Some(row.id);
            }
            "resolved" => match engine.open_incident_of_alert(&fingerprint).await? {
                Some(open) => {
                    let at = millis(alert.ends_at.as_deref()).unwrap_or_else(tandem_store::now_ms);
                    state.engine.resolve_incident(open.id, "alertmanager", at).await?;
                    outcome.result = "resolved".into();
                    outcome.incident = Some(open.id);
                }
                None => outcome.result = "not open".into(),
            },
            other => outcome.result = format!("ignored: status `{other}` is neither firing nor resolved"),
        }
        out.push(outcome);
    }
    state.engine.notify();
    Ok(Json(out))
}
