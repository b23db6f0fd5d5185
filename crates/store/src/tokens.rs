//! API tokens: only their sha256 is kept, so a leaked database leaks no credential.

use crate::events::append_event;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use tandem_core::role::Role;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    #[serde(skip)]
    pub hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Keeps the hash of a new token's secret (the caller generated it and shows it once).
    pub async fn insert_token(&self, name: &str, role: Role, secret: &str) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await?;
        let row: TokenRow =
            sqlx::query_as("INSERT INTO tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING *")
                .bind(name)
                .bind(role.as_str())
                .bind(hash_token(secret))
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
        let data = serde_json::json!({ "name": name, "role": role });
        append_event(&mut tx, "token.created", &format!("token/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The token whose secret this is, if any.
    pub async fn find_token(&self, secret: &str) -> Result<Option<TokenRow>> {
        Ok(sqlx::query_as("SELECT * FROM tokens WHERE hash = $1")
            .bind(hash_token(secret))
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn count_tokens(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tokens")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        Ok(sqlx::query_as("SELECT * FROM tokens ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn tokens_are_found_by_secret_and_stored_hashed() {
        let (_dir, store) = store().await;
        let t = store.insert_token("ci", Role::Developer, "s3cret").await.unwrap();
        assert_ne!(t.hash, "s3cret");
        assert_eq!(store.find_token("s3cret").await.unwrap().unwrap().role, "developer");
        assert!(store.find_token("other").await.unwrap().is_none());
    }
}
