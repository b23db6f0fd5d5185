//! Work a server that does not conduct hands to the conductor (migration 0032): a rollback by
//! hand deploys, and only the conductor supervises the markets' processes, so a follower that
//! is asked for one records it here, with who asked (as the audit log names them), and waits;
//! the conductor takes it, runs it as that person, and writes what it came to.

use crate::events::{append_event, resolve_actor};
use crate::{Result, Store, StoreError, audit, now_ms};
use sqlx::FromRow;

/// A piece of handed-off work.
#[derive(Debug, Clone, FromRow)]
pub struct HandoffRow {
    pub id: i64,
    /// What to do: `rollback`, `config-rollback`.
    pub kind: String,
    /// Its arguments, JSON.
    pub payload: String,
    /// Who asked, as the audit log names them, and through what, from where.
    pub actor: String,
    pub via: Option<String>,
    pub address: Option<String>,
    pub created_at: i64,
    /// The server running it.
    pub taken_by: Option<String>,
    pub done_at: Option<i64>,
    /// What it came to (JSON), or why it was refused (JSON), once done.
    pub result: Option<String>,
    pub error: Option<String>,
}

impl HandoffRow {
    /// The audit context to run it in: the person who asked, on the server they asked.
    pub fn asker(&self) -> audit::Slot {
        audit::Slot::acting_for(&self.actor, self.via.clone(), self.address.clone())
    }
}

impl Store {
    /// Records work for the conductor, asked by the current caller; its id.
    pub async fn hand_off(&self, kind: &str, payload: &serde_json::Value) -> Result<i64> {
        let mut tx = self.writer.begin().await?;
        let (actor, via, address) = resolve_actor(&mut tx, audit::current()).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO handoffs (kind, payload, actor, via, address, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(kind)
        .bind(payload.to_string())
        .bind(&actor)
        .bind(&via)
        .bind(&address)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        append_event(
            &mut tx,
            "handoff.asked",
            &format!("handoff/{id}"),
            serde_json::json!({ "kind": kind, "payload": payload }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes, for `server`, the handed-off work nobody took yet, oldest first.
    pub async fn take_handoffs(&self, server: &str) -> Result<Vec<HandoffRow>> {
        Ok(
            sqlx::query_as("UPDATE handoffs SET taken_by = $1 WHERE taken_by IS NULL AND done_at IS NULL RETURNING *")
                .bind(server)
                .fetch_all(&self.writer)
                .await?,
        )
    }

    /// Puts back the work taken and not done (its server stopped): the next conductor takes it.
    pub async fn return_unfinished_handoffs(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE handoffs SET taken_by = NULL WHERE taken_by IS NOT NULL AND done_at IS NULL")
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    /// Records what handed-off work `id` came to: `result` or `error` (JSON).
    pub async fn finish_handoff(&self, id: i64, result: std::result::Result<String, String>) -> Result<()> {
        let (result, error) = match result {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let mut tx = self.writer.begin().await?;
        let done =
            sqlx::query("UPDATE handoffs SET done_at = $1, result = $2, error = $3 WHERE id = $4 AND done_at IS NULL")
                .bind(now_ms())
                .bind(&result)
                .bind(&error)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if done != 1 {
            return Err(StoreError::Conflict(format!("handoff {id} is done already")));
        }
        append_event(
            &mut tx,
            "handoff.done",
            &format!("handoff/{id}"),
            serde_json::json!({ "refused": error.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_handoff(&self, id: i64) -> Result<HandoffRow> {
        sqlx::query_as("SELECT * FROM handoffs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("handoff {id}")))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;

    #[tokio::test]
    async fn work_handed_off_is_taken_once_run_as_who_asked_and_answered() {
        let place = TestDb::new().await;
        let (follower, conductor) = (place.open().await, place.open().await);
        let slot = crate::audit::Slot::request(Some("10.0.0.7".into()));
        let id = crate::audit::scope(slot.clone(), async {
            crate::audit::identify_as("olga", "session/3");
            follower
                .hand_off("rollback", &serde_json::json!({ "service": "shop", "markets": ["fr"] }))
                .await
        })
        .await
        .unwrap();
        let taken = conductor.take_handoffs("server-a").await.unwrap();
        assert_eq!(taken.len(), 1);
        assert!(
            conductor.take_handoffs("server-b").await.unwrap().is_empty(),
            "taken once"
        );
        let asker = taken[0].asker().actor();
        assert_eq!(
            (asker.name.as_deref(), asker.via.as_deref(), asker.address.as_deref()),
            (Some("olga"), Some("session/3"), Some("10.0.0.7"))
        );
        // Its server stopped before it was done: the next conductor takes it again.
        assert_eq!(conductor.return_unfinished_handoffs().await.unwrap(), 1);
        let again = conductor.take_handoffs("server-b").await.unwrap();
        assert_eq!(again[0].id, id);
        conductor.finish_handoff(id, Ok("[]".into())).await.unwrap();
        assert!(
            conductor.finish_handoff(id, Ok("[]".into())).await.is_err(),
            "answered once"
        );
        let done = follower.get_handoff(id).await.unwrap();
        assert_eq!((done.result.as_deref(), done.error), (Some("[]"), None));
        assert!(conductor.take_handoffs("server-c").await.unwrap().is_empty());
    }
}
