//! Feature-flag files: every version of each service's file is kept; the newest is in force.

use crate::counters::{Counter, take_next};
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct FlagVersionRow {
    pub id: i64,
    pub service: String,
    /// 1, 2, … per service.
    pub version: i64,
    /// The flag file as written (YAML).
    pub text: String,
    /// The compiled flags' content hash (what OFREP answers as its ETag).
    pub etag: String,
    pub created_by: String,
    pub reason: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Records a new version of a service's flag file (already checked by the caller).
    pub async fn insert_flag_version(
        &self,
        service: &str,
        text: &str,
        etag: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<FlagVersionRow> {
        let mut tx = self.writer.begin().await?;
        let next = take_next(&mut tx, Counter::FlagVersion { service }).await?;
        let row: FlagVersionRow = sqlx::query_as(
            "INSERT INTO flag_versions (service, version, text, etag, created_by, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(service)
        .bind(next)
        .bind(text)
        .bind(etag)
        .bind(by)
        .bind(reason)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "service": service, "version": next, "by": by, "reason": reason });
        append_event(&mut tx, "flags.changed", &format!("flags/{service}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The flag file in force for each service that has one.
    pub async fn current_flag_versions(&self) -> Result<Vec<FlagVersionRow>> {
        Ok(sqlx::query_as(
            "SELECT f.* FROM flag_versions f
             WHERE f.version = (SELECT MAX(version) FROM flag_versions g WHERE g.service = f.service)
             ORDER BY f.service",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of a service's flag file versions, newest first: at most `limit`, older than
    /// version `after`.
    pub async fn list_flag_versions_page(
        &self,
        service: &str,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FlagVersionRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM flag_versions WHERE service = $1 AND ($2 IS NULL OR version < $2)
             ORDER BY version DESC LIMIT $3",
        )
        .bind(service)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One version of a service's flag file.
    pub async fn get_flag_version(&self, service: &str, version: i64) -> Result<FlagVersionRow> {
        sqlx::query_as("SELECT * FROM flag_versions WHERE service = $1 AND version = $2")
            .bind(service)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("flag version {version} of `{service}`")))
    }

    /// A service's flag file versions, newest first.
    pub async fn list_flag_versions(&self, service: &str) -> Result<Vec<FlagVersionRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM flag_versions WHERE service = $1 ORDER BY version DESC")
                .bind(service)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::store;

    #[tokio::test]
    async fn versions_count_up_per_service_and_the_newest_is_in_force() {
        let (_dir, store) = store().await;
        store
            .insert_flag_version("shop", "flags: {}", "e1", "ana", None)
            .await
            .unwrap();
        store
            .insert_flag_version("shop", "flags: { a: 1 }", "e2", "ana", Some("try a"))
            .await
            .unwrap();
        let blog = store
            .insert_flag_version("blog", "flags: {}", "e3", "bo", None)
            .await
            .unwrap();
        assert_eq!(blog.version, 1);
        let current = store.current_flag_versions().await.unwrap();
        let versions: Vec<(&str, i64)> = current.iter().map(|f| (f.service.as_str(), f.version)).collect();
        assert_eq!(versions, [("blog", 1), ("shop", 2)]);
        assert_eq!(
            store.list_flag_versions("shop").await.unwrap()[0].reason.as_deref(),
            Some("try a")
        );
    }
}
