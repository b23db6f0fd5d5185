//! Webhook deliveries: a provider may send one delivery twice (a retry, a "redeliver" click);
//! the unique `(provider, delivery_id)` row makes the second one a no-op. The row is claimed
//! before the run is queued and forgotten if queueing fails, so a redelivery can try again.

use crate::events::append_event;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct DeliveryRow {
    pub id: i64,
    /// github, gitlab or gitea.
    pub provider: String,
    /// The provider's id for the delivery (or `sha256:` and a hash of its body).
    pub delivery_id: String,
    pub service: String,
    pub received_at: i64,
    /// `received` while being processed, then `queued`.
    pub outcome: String,
    pub run_id: Option<i64>,
}

impl Store {
    /// Claims a delivery: `true` when it is new, `false` when it was already received.
    pub async fn record_delivery(&self, provider: &str, delivery_id: &str, service: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO deliveries (provider, delivery_id, service, received_at, outcome)
             VALUES ($1, $2, $3, $4, 'received')
             ON CONFLICT (provider, delivery_id) DO NOTHING",
        )
        .bind(provider)
        .bind(delivery_id)
        .bind(service)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            let data = serde_json::json!({ "provider": provider, "delivery": delivery_id, "service": service });
            append_event(&mut tx, "delivery.received", &format!("service/{service}"), data).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Records the run a claimed delivery queued.
    pub async fn set_delivery_run(&self, provider: &str, delivery_id: &str, run_id: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE deliveries SET outcome = 'queued', run_id = $1 WHERE provider = $2 AND delivery_id = $3")
            .bind(run_id)
            .bind(provider)
            .bind(delivery_id)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({ "provider": provider, "delivery": delivery_id, "run": run_id });
        append_event(&mut tx, "delivery.queued", &format!("run/{run_id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Drops the claim of a delivery that could not be processed, so a redelivery is not a duplicate.
    pub async fn forget_delivery(&self, provider: &str, delivery_id: &str, reason: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let gone: Option<(String,)> = sqlx::query_as(
            "DELETE FROM deliveries WHERE provider = $1 AND delivery_id = $2 AND outcome = 'received' RETURNING service",
        )
        .bind(provider)
        .bind(delivery_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((service,)) = gone {
            let data = serde_json::json!({ "provider": provider, "delivery": delivery_id, "error": reason });
            append_event(&mut tx, "delivery.failed", &format!("service/{service}"), data).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries, newest first.
    pub async fn list_deliveries(&self, limit: i64) -> Result<Vec<DeliveryRow>> {
        Ok(sqlx::query_as("SELECT * FROM deliveries ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::store;

    #[tokio::test]
    async fn a_delivery_is_new_once_per_provider() {
        let (_dir, store) = store().await;
        assert!(store.record_delivery("github", "d-1", "shop").await.unwrap());
        assert!(!store.record_delivery("github", "d-1", "shop").await.unwrap());
        assert!(store.record_delivery("gitea", "d-1", "shop").await.unwrap());

        let run = store.insert_run("shop", "abc", "main", "push").await.unwrap();
        store.set_delivery_run("github", "d-1", run.id).await.unwrap();
        let rows = store.list_deliveries(10).await.unwrap();
        assert_eq!(rows.len(), 2);
        let github = rows.iter().find(|d| d.provider == "github").unwrap();
        assert_eq!((github.outcome.as_str(), github.run_id), ("queued", Some(run.id)));

        let kinds: Vec<String> = store
            .list_events(0, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "delivery.received").count(),
            2,
            "{kinds:?}"
        );
        assert!(kinds.contains(&"delivery.queued".to_string()), "{kinds:?}");
    }

    #[tokio::test]
    async fn a_forgotten_delivery_can_be_received_again_but_a_queued_one_stays() {
        let (_dir, store) = store().await;
        assert!(store.record_delivery("gitlab", "u-1", "shop").await.unwrap());
        store
            .forget_delivery("gitlab", "u-1", "commit not found")
            .await
            .unwrap();
        assert!(store.record_delivery("gitlab", "u-1", "shop").await.unwrap());

        let run = store.insert_run("shop", "abc", "main", "push").await.unwrap();
        store.set_delivery_run("gitlab", "u-1", run.id).await.unwrap();
        store.forget_delivery("gitlab", "u-1", "late").await.unwrap();
        assert!(!store.record_delivery("gitlab", "u-1", "shop").await.unwrap());
    }
}
