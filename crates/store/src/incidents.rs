//! Incidents: something broke in a market, linked to the deployment that caused it.

use crate::events::append_event;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct IncidentRow {
    pub id: i64,
    pub service: String,
    pub market: String,
    pub deployment_id: Option<i64>,
    pub title: String,
    /// open or resolved.
    pub state: String,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
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

    pub async fn list_incidents(&self) -> Result<Vec<IncidentRow>> {
        Ok(sqlx::query_as("SELECT * FROM incidents ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?)
    }
}
