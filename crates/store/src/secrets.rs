//! Secret values kept by Tandem, sealed under a [`SecretKey`] held outside the database. Rows
//! keep the sealed bytes and who set them; nothing here returns a value except
//! [`Store::get_secret`], whose callers hand it to the jobs that declare it. Setting, deleting
//! and every use append an event naming the secret, never its value.

use crate::events::append_event;
use crate::secret_key::SecretKey;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;
use zeroize::Zeroizing;

/// A stored secret as anyone may see it: no value, sealed or not.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SecretRow {
    pub name: String,
    /// 1 when first set, one more at each rotation.
    pub version: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A secret's value and its version; the value is wiped from memory when dropped.
#[derive(Debug)]
pub struct SecretValue {
    pub version: i64,
    pub value: Zeroizing<String>,
}

#[derive(FromRow)]
struct SealedRow {
    version: i64,
    key_id: String,
    nonce: String,
    sealed: String,
}

impl Store {
    /// Sets (or rotates) the secret `name` to `value`, sealed under `key`, as `by`.
    pub async fn put_secret(&self, key: &SecretKey, name: &str, value: &str, by: &str) -> Result<SecretRow> {
        let (nonce, sealed) = key.seal(name, value.as_bytes()).map_err(|e| StoreError::Corrupt {
            what: format!("secret `{name}`"),
            message: e.to_string(),
        })?;
        let mut tx = self.writer.begin().await?;
        let row: SecretRow = sqlx::query_as(
            "INSERT INTO secret_values (name, version, key_id, nonce, sealed, updated_at, updated_by)
             VALUES ($1, 1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET version = secret_values.version + 1, key_id = $2, nonce = $3, sealed = $4,
                 updated_at = $5, updated_by = $6
             RETURNING name, version, updated_at, updated_by",
        )
        .bind(name)
        .bind(key.id())
        .bind(hex::encode(nonce))
        .bind(hex::encode(sealed))
        .bind(now_ms())
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        // Versions restart at 1 after a delete; the upsert counts them, so two writers never share one.
        let data = serde_json::json!({ "name": name, "version": row.version, "by": by, "rotated": row.version > 1 });
        append_event(&mut tx, "secret.set", &format!("secret/{name}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Deletes the stored value of `name` as `by`; what it was, or `NotFound`.
    pub async fn delete_secret(&self, name: &str, by: &str) -> Result<SecretRow> {
        let mut tx = self.writer.begin().await?;
        let row: SecretRow =
            sqlx::query_as("DELETE FROM secret_values WHERE name = $1 RETURNING name, version, updated_at, updated_by")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("stored secret `{name}`")))?;
        let data = serde_json::json!({ "name": name, "version": row.version, "by": by });
        append_event(&mut tx, "secret.deleted", &format!("secret/{name}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Every stored secret by name, without values.
    pub async fn list_secrets(&self) -> Result<Vec<SecretRow>> {
        Ok(
            sqlx::query_as("SELECT name, version, updated_at, updated_by FROM secret_values ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The stored value of `name`, opened with `key`; `None` when none is stored. A value
    /// sealed under another key, or altered, is an error saying so.
    pub async fn get_secret(&self, key: &SecretKey, name: &str) -> Result<Option<SecretValue>> {
        let row: Option<SealedRow> =
            sqlx::query_as("SELECT version, key_id, nonce, sealed FROM secret_values WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let corrupt = |message: String| StoreError::Corrupt {
            what: format!("secret `{name}`"),
            message,
        };
        if row.key_id != key.id() {
            return Err(corrupt(format!(
                "it was sealed under another secrets key (id {}; this server's key has id {}): start the \
                 server with the key it was set with, or set the secret again",
                row.key_id,
                key.id()
            )));
        }
        let opened = hex::decode(&row.nonce)
            .ok()
            .zip(hex::decode(&row.sealed).ok())
            .and_then(|(nonce, sealed)| key.open(name, &nonce, &sealed))
            .ok_or_else(|| {
                corrupt("its sealed value does not open with this server's key: it was altered; set it again".into())
            })?;
        let value =
            String::from_utf8(opened.to_vec()).map_err(|_| corrupt("its value is not UTF-8; set it again".into()))?;
        Ok(Some(SecretValue {
            version: row.version,
            value: Zeroizing::new(value),
        }))
    }

    /// Records that the secret `name` was used; `data` says by what (a run's job, a webhook)
    /// and from where the value came, never the value.
    pub async fn record_secret_use(&self, name: &str, data: serde_json::Value) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        append_event(&mut tx, "secret.used", &format!("secret/{name}"), data).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::SecretKey;
    use crate::testing::store;

    #[tokio::test]
    async fn secrets_round_trip_sealed_and_rotate_by_version() {
        let (_dir, store) = store().await;
        let key = SecretKey::generate();
        assert!(store.get_secret(&key, "DEPLOY_TOKEN").await.unwrap().is_none());
        let first = store.put_secret(&key, "DEPLOY_TOKEN", "hunter2", "olga").await.unwrap();
        assert_eq!((first.version, first.updated_by.as_str()), (1, "olga"));
        let got = store.get_secret(&key, "DEPLOY_TOKEN").await.unwrap().unwrap();
        assert_eq!((got.version, got.value.as_str()), (1, "hunter2"));

        let second = store
            .put_secret(&key, "DEPLOY_TOKEN", "correct horse", "ana")
            .await
            .unwrap();
        assert_eq!(second.version, 2);
        let got = store.get_secret(&key, "DEPLOY_TOKEN").await.unwrap().unwrap();
        assert_eq!((got.version, got.value.as_str()), (2, "correct horse"));

        // Nothing the database holds shows a value, in any column or event.
        let (sealed,): (String,) = sqlx::query_as("SELECT sealed || nonce || key_id FROM secret_values")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(!sealed.contains("correct horse") && !sealed.contains(&hex::encode("correct horse")));
        let events = store.list_events(0, 100).await.unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["secret.set", "secret.set"]);
        assert!(
            events
                .iter()
                .all(|e| e.subject == "secret/DEPLOY_TOKEN" && !e.data.contains("hunter2"))
        );

        let listed = store.list_secrets().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].name.as_str(), listed[0].version), ("DEPLOY_TOKEN", 2));

        store.delete_secret("DEPLOY_TOKEN", "olga").await.unwrap();
        assert!(store.get_secret(&key, "DEPLOY_TOKEN").await.unwrap().is_none());
        let err = store.delete_secret("DEPLOY_TOKEN", "olga").await.unwrap_err();
        assert!(matches!(err, crate::StoreError::NotFound { .. }), "{err}");
        assert_eq!(
            store.list_events(0, 100).await.unwrap().last().unwrap().kind,
            "secret.deleted"
        );
    }

    #[tokio::test]
    async fn a_value_under_another_key_or_name_is_an_error_not_garbage() {
        let (_dir, store) = store().await;
        let key = SecretKey::generate();
        store.put_secret(&key, "A", "alpha", "olga").await.unwrap();
        store.put_secret(&key, "B", "bravo", "olga").await.unwrap();

        let other = SecretKey::generate();
        let err = store.get_secret(&other, "A").await.unwrap_err().to_string();
        assert!(
            err.contains("secret `A`") && err.contains("sealed under another secrets key"),
            "{err}"
        );
        assert!(err.contains(key.id()) && err.contains(other.id()), "{err}");

        // B's sealed value copied onto A (as someone with the database but not the key could).
        sqlx::query(
            "UPDATE secret_values SET nonce = (SELECT nonce FROM secret_values WHERE name = 'B'),
                 sealed = (SELECT sealed FROM secret_values WHERE name = 'B') WHERE name = 'A'",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        let err = store.get_secret(&key, "A").await.unwrap_err().to_string();
        assert!(err.contains("does not open with this server's key"), "{err}");
        assert_eq!(
            store.get_secret(&key, "B").await.unwrap().unwrap().value.as_str(),
            "bravo"
        );
    }
}
