//! Job caches: which blob holds the saved folders for a service and cache key.

use crate::events::append_event;
use crate::{Result, Store, now_ms};

impl Store {
    /// The digest of the cache saved for `service` under `key`, if any.
    pub async fn get_cache(&self, service: &str, key: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT digest FROM caches WHERE service = $1 AND key = $2")
            .bind(service)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Records (or replaces) the cache saved for `service` under `key`.
    pub async fn save_cache(&self, service: &str, key: &str, digest: &str, size: u64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO caches (service, key, digest, size, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (service, key) DO UPDATE SET digest = $3, size = $4, created_at = $5",
        )
        .bind(service)
        .bind(key)
        .bind(digest)
        .bind(size as i64)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let data = serde_json::json!({ "key": key, "digest": digest, "size": size });
        append_event(&mut tx, "cache.saved", service, data).await?;
        tx.commit().await?;
        Ok(())
    }
}
