//! What the incident pages read: incidents with the release their deployment brought, and one
//! incident's timeline from the events table (its own events, its deployment's, and its market's
//! `market.down` / `market.up` around it), each through the `events_by_subject` index.

use crate::{EventRow, IncidentRow, Result, Store};
use serde::Serialize;
use sqlx::FromRow;

/// How far (milliseconds) before an incident opened and after it was resolved the market's
/// `market.down` / `market.up` events still belong to its story: one monitor outage around it.
pub const MARKET_EVENT_MARGIN_MS: i64 = 3_600_000;

/// An incident with the version of the release its linked deployment brought.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct IncidentListRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub incident: IncidentRow,
    pub release_version: Option<String>,
}

impl Store {
    /// Incidents newest first, only those in `state` (`open`, `resolved`) when given.
    pub async fn list_incidents_with_releases(&self, state: Option<&str>, limit: i64) -> Result<Vec<IncidentListRow>> {
        Ok(sqlx::query_as(
            "SELECT i.*, r.version AS release_version FROM incidents i
             LEFT JOIN deployments d ON d.id = i.deployment_id
             LEFT JOIN releases r ON r.id = d.release_id
             WHERE ($1 IS NULL OR i.state = $1)
             ORDER BY i.id DESC LIMIT $2",
        )
        .bind(state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The events of `incident`'s story, oldest first, at most `limit`: its own, its linked
    /// deployment's, and its market's going down and up from [`MARKET_EVENT_MARGIN_MS`] before
    /// it opened until as long after it was resolved (until `now` while it is open).
    pub async fn list_incident_events(&self, incident: &IncidentRow, now: i64, limit: i64) -> Result<Vec<EventRow>> {
        let until = incident.resolved_at.unwrap_or(now);
        let deployment = incident.deployment_id.map(|d| format!("deployment/{d}"));
        Ok(sqlx::query_as(
            "SELECT * FROM (
                 SELECT * FROM events WHERE subject = $1
                 UNION ALL
                 SELECT * FROM events WHERE subject = $2
                 UNION ALL
                 SELECT * FROM events WHERE subject = $3 AND at BETWEEN $4 AND $5
                   AND kind IN ('market.down', 'market.up')
             ) AS story ORDER BY at, id LIMIT $6",
        )
        .bind(format!("incident/{}", incident.id))
        .bind(deployment)
        .bind(format!("market/{}/{}", incident.service, incident.market))
        .bind(incident.opened_at - MARKET_EVENT_MARGIN_MS)
        .bind(until + MARKET_EVENT_MARGIN_MS)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::{NewDeployment, NewIncident, ProbeRecord, now_ms};

    #[tokio::test]
    async fn an_incident_story_holds_its_deployment_and_its_market_and_nothing_else() {
        let (_dir, store) = crate::testing::store().await;
        let release = crate::testing::release(&store).await;
        let deploy = |market| NewDeployment {
            rollout_id: None,
            service: "shop",
            market,
            release_id: release.id,
        };
        let nl = store.insert_deployment(deploy("nl")).await.unwrap();
        store.mark_deployment_failed(nl.id, "probe failed").await.unwrap();
        let be = store.insert_deployment(deploy("be")).await.unwrap();
        let (incident, _) = store
            .open_incident(NewIncident {
                service: "shop",
                market: "nl",
                title: "checkout down",
                summary: None,
                source: "person",
                opened_by: "ana",
                opened_at: now_ms(),
                fingerprint: None,
                // Named: by default an incident blames the deployment serving, and nl's never did.
                deployment_id: Some(nl.id),
            })
            .await
            .unwrap();
        let probe = |market: &str, deployment_id, kind| ProbeRecord {
            service: "shop".into(),
            market: market.into(),
            deployment_id,
            at: now_ms(),
            ok: kind == "market.up",
            latency_ms: None,
            error: None,
            failures_in_a_row: 0,
            state: tandem_core::state::HealthState::Up,
            transition: Some(kind),
            incident_id: None,
            measurements: vec![],
        };
        store
            .record_probes(&[probe("nl", nl.id, "market.down"), probe("be", be.id, "market.down")])
            .await
            .unwrap();
        let incident = store.resolve_incident(incident.id, "ana", now_ms()).await.unwrap();

        let kinds: Vec<(String, String)> = store
            .list_incident_events(&incident, now_ms(), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.subject))
            .collect();
        let want = |k: &str, s: &str| (k.to_string(), s.to_string());
        assert_eq!(
            kinds,
            [
                want("deployment.started", &format!("deployment/{}", nl.id)),
                want("deployment.failed", &format!("deployment/{}", nl.id)),
                want("incident.opened", &format!("incident/{}", incident.id)),
                want("market.down", "market/shop/nl"),
                want("incident.resolved", &format!("incident/{}", incident.id)),
            ]
        );

        let listed = store.list_incidents_with_releases(Some("resolved"), 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].release_version.as_deref(), Some(release.version.as_str()));
        assert!(
            store
                .list_incidents_with_releases(Some("open"), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
