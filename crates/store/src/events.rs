//! The append-only events table: one row per state change, written in the change's transaction.

use crate::{Result, Store, now_ms};
use serde::Serialize;
use sqlx::{FromRow, SqliteConnection};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct EventRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub subject: String,
    /// JSON text with the change's details.
    pub data: String,
}

/// Appends an event; call it with the transaction that makes the change.
pub(crate) async fn append_event(
    conn: &mut SqliteConnection,
    kind: &str,
    subject: &str,
    data: serde_json::Value,
) -> Result<()> {
    sqlx::query("INSERT INTO events (at, kind, subject, data) VALUES ($1, $2, $3, $4)")
        .bind(now_ms())
        .bind(kind)
        .bind(subject)
        .bind(data.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Records something that happened outside any other change (a notification delivered
    /// or not), in its own transaction.
    pub async fn record_event(&self, kind: &str, subject: &str, data: serde_json::Value) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        append_event(&mut conn, kind, subject, data).await
    }

    /// The id of the newest event (0 when there is none): every state change appends one, so
    /// an unchanged id means unchanged state (caches are keyed by it).
    pub async fn last_event_id(&self) -> Result<i64> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }

    /// Events after `after_id`, oldest first.
    pub async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
