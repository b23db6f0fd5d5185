//! Incidents: something broke in a market, linked to the deployment that caused it.

use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::state::IncidentState;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub service: String,
    pub market: String,
    pub deployment_id: Option<i64>,
    pub title: String,
    /// open or resolved.
    #[sqlx(try_from = "String")]
    pub state: IncidentState,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// gate (a failed gate), rollback (by hand), probe (the monitor), alertmanager, or person.
    pub source: String,
    pub opened_by: Option<String>,
    pub resolved_by: Option<String>,
    /// For an Alertmanager alert: its fingerprint (the same alert firing again is this incident).
    pub fingerprint: Option<String>,
    /// More than the title: an alert's description, a person's notes.
    pub summary: Option<String>,
}

/// An incident about to be opened by a person or an alert.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    pub service: &'a str,
    pub market: &'a str,
    pub title: &'a str,
    pub summary: Option<&'a str>,
    /// alertmanager or person.
    pub source: &'a str,
    pub opened_by: &'a str,
    /// When it began (an alert's `startsAt`), Unix milliseconds.
    pub opened_at: i64,
    pub fingerprint: Option<&'a str>,
    /// The deployment that caused it; `None`: the deployment serving the market when it began
    /// (the last one to go live by then).
    pub deployment_id: Option<i64>,
}

impl Store {
    pub async fn insert_incident(
        &self,
        service: &str,
        market: &str,
        deployment_id: Option<i64>,
        title: &str,
    ) -> Result<IncidentRow> {
        let mut tx = self.writer.begin().await?;
        let row: IncidentRow = sqlx::query_as(
            "INSERT INTO incidents (service, market, deployment_id, title, state, opened_at)
             VALUES ($1, $2, $3, $4, 'open', $5) RETURNING *",
        )
        .bind(service)
        .bind(market)
        .bind(deployment_id)
        .bind(title)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data =
            serde_json::json!({ "service": service, "market": market, "deployment": deployment_id, "title": title });
        append_event(&mut tx, "incident.opened", &format!("incident/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Opens an incident (by a person or an alert), linked to the deployment given or else to
    /// the deployment serving its market when it began (the last one to go live by then). An alert whose
    /// fingerprint is already open is that incident: it is returned, nothing new is opened.
    pub async fn open_incident(&self, new: NewIncident<'_>) -> Result<(IncidentRow, bool)> {
        let mut tx = self.writer.begin().await?;
        if let Some(fingerprint) = new.fingerprint {
            let open: Option<IncidentRow> = sqlx::query_as(
                "SELECT * FROM incidents WHERE fingerprint = $1 AND state = 'open' ORDER BY id DESC LIMIT 1",
            )
            .bind(fingerprint)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(open) = open {
                return Ok((open, false));
            }
        }
        let deployment_id = match new.deployment_id {
            Some(id) => {
                let exists: Option<(String, String)> =
                    sqlx::query_as("SELECT service, market FROM deployments WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match exists {
                    Some((s, m)) if s == new.service && m == new.market => Some(id),
                    Some((s, m)) => {
                        return Err(StoreError::Conflict(format!(
                            "deployment {id} is of {s} in {m}, not of {} in {}",
                            new.service, new.market
                        )));
                    }
                    None => return Err(StoreError::not_found(format!("deployment {id}"))),
                }
            }
            // The deployment serving the market when it began: the last to go live by then. One
            // that failed (never served), was cut short or is still starting is not to blame.
            None => sqlx::query_as::<_, (i64,)>(
                "SELECT id FROM deployments WHERE service = $1 AND market = $2 AND finished_at <= $3
                   AND state IN ('live', 'superseded')
                 ORDER BY finished_at DESC, id DESC LIMIT 1",
            )
            .bind(new.service)
            .bind(new.market)
            .bind(new.opened_at)
            .fetch_optional(&mut *tx)
            .await?
            .map(|(id,)| id),
        };
        let row: IncidentRow = sqlx::query_as(
            "INSERT INTO incidents (service, market, deployment_id, title, state, opened_at, source, opened_by, fingerprint, summary)
             VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9) RETURNING *",
        )
        .bind(new.service)
        .bind(new.market)
        .bind(deployment_id)
        .bind(new.title)
        .bind(new.opened_at)
        .bind(new.source)
        .bind(new.opened_by)
        .bind(new.fingerprint)
        .bind(new.summary)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({
            "service": new.service, "market": new.market, "deployment": deployment_id, "title": new.title,
            "source": new.source, "by": new.opened_by,
        });
        append_event(&mut tx, "incident.opened", &format!("incident/{}", row.id), data).await?;
        tx.commit().await?;
        Ok((row, true))
    }

    /// Resolves an open incident at `at`; a conflict naming who resolved it if it was already.
    pub async fn resolve_incident(&self, id: i64, by: &str, at: i64) -> Result<IncidentRow> {
        self.resolve_incident_because(id, by, at, None).await
    }

    /// [`Store::resolve_incident`], recording in its event what the person says fixed it.
    pub async fn resolve_incident_because(
        &self,
        id: i64,
        by: &str,
        at: i64,
        reason: Option<&str>,
    ) -> Result<IncidentRow> {
        let mut tx = self.writer.begin().await?;
        let current = get(&mut tx, id).await?;
        if !current.state.can_move_to(IncidentState::Resolved) {
            return Err(StoreError::Conflict(format!(
                "incident {id} was already resolved by {}",
                current.resolved_by.as_deref().unwrap_or("tandem")
            )));
        }
        let at = at.max(current.opened_at);
        let row: IncidentRow = sqlx::query_as(
            "UPDATE incidents SET state = 'resolved', resolved_at = $1, resolved_by = $2 WHERE id = $3 RETURNING *",
        )
        .bind(at)
        .bind(by)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "by": by, "after_ms": at - current.opened_at, "reason": reason });
        append_event(&mut tx, "incident.resolved", &format!("incident/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Links an incident to another deployment of its market (a person knows better).
    pub async fn link_incident(&self, id: i64, deployment_id: i64, by: &str) -> Result<IncidentRow> {
        let mut tx = self.writer.begin().await?;
        let current = get(&mut tx, id).await?;
        let found: Option<(String, String)> = sqlx::query_as("SELECT service, market FROM deployments WHERE id = $1")
            .bind(deployment_id)
            .fetch_optional(&mut *tx)
            .await?;
        match found {
            None => return Err(StoreError::not_found(format!("deployment {deployment_id}"))),
            Some((s, m)) if s != current.service || m != current.market => {
                return Err(StoreError::Conflict(format!(
                    "deployment {deployment_id} is of {s} in {m}; incident {id} is of {} in {}",
                    current.service, current.market
                )));
            }
            Some(_) => {}
        }
        let row: IncidentRow = sqlx::query_as("UPDATE incidents SET deployment_id = $1 WHERE id = $2 RETURNING *")
            .bind(deployment_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let data = serde_json::json!({ "by": by, "from": current.deployment_id, "to": deployment_id });
        append_event(&mut tx, "incident.linked", &format!("incident/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_incident(&self, id: i64) -> Result<IncidentRow> {
        let mut conn = self.pool.acquire().await?;
        get(&mut conn, id).await
    }

    /// The open incident an alert with this fingerprint opened, if any.
    pub async fn open_incident_of_alert(&self, fingerprint: &str) -> Result<Option<IncidentRow>> {
        Ok(
            sqlx::query_as(
                "SELECT * FROM incidents WHERE fingerprint = $1 AND state = 'open' ORDER BY id DESC LIMIT 1",
            )
            .bind(fingerprint)
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    /// The incident a failed gate opened for rollout `rollout_id` (open or resolved), if any:
    /// one rollout halting opens at most one.
    pub async fn get_gate_incident_of_rollout(&self, rollout_id: i64) -> Result<Option<IncidentRow>> {
        Ok(sqlx::query_as(
            "SELECT i.* FROM incidents i JOIN deployments d ON d.id = i.deployment_id
             WHERE d.rollout_id = $1 AND i.source = 'gate' ORDER BY i.id LIMIT 1",
        )
        .bind(rollout_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn get_deployment(&self, id: i64) -> Result<crate::DeploymentRow> {
        sqlx::query_as("SELECT * FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("deployment {id}")))
    }

    /// Open incidents, newest first (through the `incidents_open` index).
    pub async fn list_open_incidents(&self) -> Result<Vec<IncidentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM incidents WHERE state = 'open' ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A page of incidents, newest first: at most `limit`, older than the incident with id `after`.
    pub async fn list_incidents_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IncidentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM incidents WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn list_incidents(&self) -> Result<Vec<IncidentRow>> {
        Ok(sqlx::query_as("SELECT * FROM incidents ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?)
    }
}

async fn get(conn: &mut crate::backend::Conn, id: i64) -> Result<IncidentRow> {
    sqlx::query_as("SELECT * FROM incidents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("incident {id}")))
}
