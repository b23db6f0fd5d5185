//! Browser sessions and one-time sign-in codes. A session's id is a random secret held only in
//! the browser's cookie; the store keeps its sha256, so a leaked database opens no session. A
//! session is live until its absolute expiry, until it has been idle too long, or until it is
//! revoked (sign-out, or its token revoked). A code is deleted by the request that uses it, so
//! it works once.

use crate::events::append_event;
use crate::tokens::hash_secret;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::role::Role;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SessionRow {
    pub id: i64,
    #[serde(skip)]
    pub hash: String,
    pub name: String,
    pub role: String,
    /// How the person signed in: `token`, `code`, `sso`, …
    pub source: String,
    /// The token it was opened with, if any: revoking the token ends the session.
    pub token_id: Option<i64>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl SessionRow {
    /// Whether it authenticates a request made at `now` (ms), given the idle limit (ms).
    pub fn is_live(&self, now: i64, idle_ms: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.last_seen_at.saturating_add(idle_ms)
    }
}

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Its id: a random secret that the caller puts in the cookie.
    pub secret: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub source: &'a str,
    pub token_id: Option<i64>,
    pub expires_at: i64,
}

/// A one-time code taken (and so deleted) from the store.
#[derive(Debug, Clone, FromRow)]
pub struct LoginCodeRow {
    pub name: String,
    pub role: String,
    pub token_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_session(&self, new: &NewSession<'_>) -> Result<SessionRow> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        // Expired and revoked sessions are kept a day for the audit trail, then forgotten.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
            .bind(now - 86_400_000)
            .execute(&mut *tx)
            .await?;
        let row: SessionRow = sqlx::query_as(
            "INSERT INTO sessions (hash, name, role, source, token_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING *",
        )
        .bind(hash_secret(new.secret))
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(new.source)
        .bind(new.token_id)
        .bind(now)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({
            "name": new.name, "role": new.role, "source": new.source, "token_id": new.token_id,
        });
        append_event(&mut tx, "session.started", &format!("session/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The session whose id this is, if any, live or not (see [`SessionRow::is_live`]).
    pub async fn find_session(&self, secret: &str) -> Result<Option<SessionRow>> {
        Ok(sqlx::query_as("SELECT * FROM sessions WHERE hash = $1")
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Ends the session whose id this is (sign-out); its row id, if it was live.
    pub async fn revoke_session(&self, secret: &str) -> Result<Option<i64>> {
        let mut tx = self.writer.begin().await?;
        let row: Option<(i64, String)> = sqlx::query_as(
            "UPDATE sessions SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL RETURNING id, name",
        )
        .bind(now_ms())
        .bind(hash_secret(secret))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, name)) = &row {
            let data = serde_json::json!({ "name": name });
            append_event(&mut tx, "session.ended", &format!("session/{id}"), data).await?;
        }
        tx.commit().await?;
        Ok(row.map(|(id, _)| id))
    }

    /// Records that a session was used at `at` (ms): its idle limit counts from there.
    pub async fn touch_session(&self, id: i64, at: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Keeps the hash of a one-time code that signs `name` in with `role` until `expires_at`.
    pub async fn insert_login_code(
        &self,
        secret: &str,
        name: &str,
        role: Role,
        token_id: Option<i64>,
        expires_at: i64,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM login_codes WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO login_codes (hash, name, role, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash_secret(secret))
        .bind(name)
        .bind(role.as_str())
        .bind(token_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a one-time code: deletes it and gives what it was for, if it existed and had not
    /// expired. A second use finds nothing.
    pub async fn take_login_code(&self, secret: &str) -> Result<Option<LoginCodeRow>> {
        let row: Option<LoginCodeRow> = sqlx::query_as(
            "DELETE FROM login_codes WHERE hash = $1 RETURNING name, role, token_id, created_at, expires_at",
        )
        .bind(hash_secret(secret))
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.filter(|c| now_ms() < c.expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn sessions_are_kept_hashed_end_at_sign_out_and_with_their_token() {
        let (_dir, store) = store().await;
        let token = store.insert_token("ana", Role::Operator, "tok").await.unwrap();
        let now = now_ms();
        let new = NewSession {
            secret: "sid",
            name: "ana",
            role: Role::Operator,
            source: "token",
            token_id: Some(token.id),
            expires_at: now + 60_000,
        };
        let s = store.insert_session(&new).await.unwrap();
        assert_ne!(s.hash, "sid");
        let found = store.find_session("sid").await.unwrap().unwrap();
        assert!(found.is_live(now, 10_000));
        assert!(!found.is_live(now + 60_000, 100_000), "past its expiry");
        assert!(!found.is_live(found.last_seen_at + 10_000, 10_000), "idle too long");
        assert_eq!(store.revoke_session("sid").await.unwrap(), Some(s.id));
        assert!(!store.find_session("sid").await.unwrap().unwrap().is_live(now, 10_000));
        assert_eq!(store.revoke_session("sid").await.unwrap(), None);

        store
            .insert_session(&NewSession { secret: "sid2", ..new })
            .await
            .unwrap();
        store.revoke_token(token.id).await.unwrap();
        let s2 = store.find_session("sid2").await.unwrap().unwrap();
        assert!(s2.revoked_at.is_some(), "revoking the token ends its sessions");
    }

    #[tokio::test]
    async fn a_code_works_once_and_not_after_it_expires() {
        let (_dir, store) = store().await;
        let now = now_ms();
        store
            .insert_login_code("c1", "ana", Role::Admin, None, now + 60_000)
            .await
            .unwrap();
        assert_eq!(store.take_login_code("c1").await.unwrap().unwrap().name, "ana");
        assert!(store.take_login_code("c1").await.unwrap().is_none());
        store
            .insert_login_code("c2", "ana", Role::Admin, None, now - 1)
            .await
            .unwrap();
        assert!(store.take_login_code("c2").await.unwrap().is_none());
    }
}
