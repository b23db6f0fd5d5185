//! API tokens: only their sha256 is kept, so a leaked database leaks no credential. A token may
//! expire and may be revoked; either way it authenticates nobody from then on, and revoking
//! one also revokes the browser sessions opened with it.

use crate::events::append_event;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use tandem_core::role::Role;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    #[serde(skip)]
    pub hash: String,
    pub created_at: i64,
    /// When it last authenticated a request (written at most about once a minute).
    pub last_used_at: Option<i64>,
    /// When it stops working (ms since the epoch); none: it does not expire.
    pub expires_at: Option<i64>,
    /// When an admin revoked it.
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    /// Whether it authenticates a request made at `now` (ms).
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// The sha256 of a secret (a token's, a session id, a one-time code), as stored.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Keeps the hash of a new token's secret (the caller generated it and shows it once).
    pub async fn insert_token(&self, name: &str, role: Role, secret: &str) -> Result<TokenRow> {
        self.insert_token_expiring(name, role, secret, None).await
    }

    /// Like [`Store::insert_token`], for a token that stops working at `expires_at` (ms).
    pub async fn insert_token_expiring(
        &self,
        name: &str,
        role: Role,
        secret: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRow> {
        let mut tx = self.writer.begin().await?;
        let row: TokenRow = sqlx::query_as(
            "INSERT INTO tokens (name, role, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash_secret(secret))
        .bind(now_ms())
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "name": name, "role": role, "expires_at": expires_at });
        append_event(&mut tx, "token.created", &format!("token/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The token whose secret this is, if any, live or not (see [`TokenRow::is_live`]).
    pub async fn find_token(&self, secret: &str) -> Result<Option<TokenRow>> {
        Ok(sqlx::query_as("SELECT * FROM tokens WHERE hash = $1")
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn get_token(&self, id: i64) -> Result<Option<TokenRow>> {
        Ok(sqlx::query_as("SELECT * FROM tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Revokes a token and every session opened with it. Revoking it again changes nothing.
    /// None when there is no such token.
    pub async fn revoke_token(&self, id: i64) -> Result<Option<TokenRow>> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let row: Option<TokenRow> =
            sqlx::query_as("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *")
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if row.revoked_at == Some(now) {
            let sessions =
                sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            sqlx::query("DELETE FROM login_codes WHERE token_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let data = serde_json::json!({ "name": row.name, "sessions_revoked": sessions });
            append_event(&mut tx, "token.revoked", &format!("token/{id}"), data).await?;
        }
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Records that a token authenticated a request at `at` (ms).
    pub async fn touch_token(&self, id: i64, at: i64) -> Result<()> {
        sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn count_tokens(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tokens")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Every token, oldest first (a list an admin keeps short: one per person or machine).
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>> {
        Ok(sqlx::query_as("SELECT * FROM tokens ORDER BY id LIMIT 10000")
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

    #[tokio::test]
    async fn expired_and_revoked_tokens_are_not_live() {
        let (_dir, store) = store().await;
        let now = now_ms();
        let t = store
            .insert_token_expiring("ci", Role::Developer, "a", Some(now + 60_000))
            .await
            .unwrap();
        assert!(t.is_live(now));
        assert!(!t.is_live(now + 60_000));
        let revoked = store.revoke_token(t.id).await.unwrap().unwrap();
        assert!(!revoked.is_live(now));
        let again = store.revoke_token(t.id).await.unwrap().unwrap();
        assert_eq!(
            again.revoked_at, revoked.revoked_at,
            "revoking twice keeps the first time"
        );
        assert!(store.revoke_token(9999).await.unwrap().is_none());
    }
}
