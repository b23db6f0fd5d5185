//! Emergency changes of feature flags: a kill switch flipped at once by one person, in force
//! until a reviewed change request lifts it, and reviewed afterwards by the other side. Each
//! step writes its event (audit entry) in the same transaction.

use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;

/// Most emergency changes one list answers.
pub const FLAG_EMERGENCIES_MAX: i64 = 500;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct FlagEmergencyRow {
    pub id: i64,
    pub service: String,
    pub flag: String,
    /// The market it was killed in; `None`: every market.
    pub market: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_role: String,
    pub created_at: i64,
    /// `approve` or `reject`; `None` while unreviewed.
    pub verdict: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_role: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_at: Option<i64>,
    /// The change request asked to lift it, if any.
    pub lift_change: Option<i64>,
    /// When that change request was applied: the kill is no longer in force.
    pub lifted_at: Option<i64>,
}

/// A kill switch flipped in an emergency.
#[derive(Debug, Clone, Copy)]
pub struct NewFlagEmergency<'a> {
    pub service: &'a str,
    pub flag: &'a str,
    pub market: Option<&'a str>,
    pub reason: &'a str,
    pub by: &'a str,
    pub role: &'a str,
}

/// Which emergency changes a list holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlagEmergencyFilter<'a> {
    pub service: Option<&'a str>,
    pub flag: Option<&'a str>,
    /// Only those no one has reviewed yet.
    pub unreviewed: bool,
}

impl Store {
    /// Records a kill switch flipped at once. Refused when the flag is already killed there
    /// (in that market, or everywhere).
    pub async fn insert_flag_emergency(&self, new: NewFlagEmergency<'_>) -> Result<FlagEmergencyRow> {
        let mut tx = self.writer.begin().await?;
        let already: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT id, market FROM flag_emergencies WHERE flag = $1 AND lifted_at IS NULL
             AND (market IS NULL OR $2 IS NULL OR market = $2) ORDER BY id LIMIT 1",
        )
        .bind(new.flag)
        .bind(new.market)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, market)) = already {
            let place = market.map_or("in every market".to_string(), |m| format!("in market `{m}`"));
            return Err(StoreError::Conflict(format!(
                "flag `{}` is already killed {place} (emergency change {id}): lift that one first (tandem flags lift {id})",
                new.flag
            )));
        }
        let row: FlagEmergencyRow = sqlx::query_as(
            "INSERT INTO flag_emergencies (service, flag, market, reason, created_by, created_role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(new.service)
        .bind(new.flag)
        .bind(new.market)
        .bind(new.reason)
        .bind(new.by)
        .bind(new.role)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({
            "id": row.id, "service": new.service, "flag": new.flag, "market": new.market,
            "by": new.by, "reason": new.reason,
        });
        append_event(&mut tx, "flag.killed", &format!("flag/{}", new.flag), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// One emergency change.
    pub async fn get_flag_emergency(&self, id: i64) -> Result<FlagEmergencyRow> {
        sqlx::query_as("SELECT * FROM flag_emergencies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("emergency change {id}")))
    }

    /// The kills in force (not lifted), oldest first.
    pub async fn flag_kills_in_force(&self) -> Result<Vec<FlagEmergencyRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM flag_emergencies WHERE lifted_at IS NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Emergency changes, newest first, at most `limit` (bounded by [`FLAG_EMERGENCIES_MAX`]).
    pub async fn list_flag_emergencies(
        &self,
        filter: FlagEmergencyFilter<'_>,
        limit: i64,
    ) -> Result<Vec<FlagEmergencyRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM flag_emergencies
             WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR flag = $2) AND ($3 = 0 OR verdict IS NULL)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(filter.service)
        .bind(filter.flag)
        .bind(i64::from(filter.unreviewed))
        .bind(limit.clamp(1, FLAG_EMERGENCIES_MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records the review of an emergency change (once: a second review is refused).
    pub async fn review_flag_emergency(
        &self,
        id: i64,
        by: &str,
        role: &str,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<FlagEmergencyRow> {
        let mut tx = self.writer.begin().await?;
        let verdict = if approve { "approve" } else { "reject" };
        let row: Option<FlagEmergencyRow> = sqlx::query_as(
            "UPDATE flag_emergencies SET verdict = $1, reviewed_by = $2, reviewed_role = $3, review_comment = $4,
             reviewed_at = $5 WHERE id = $6 AND verdict IS NULL RETURNING *",
        )
        .bind(verdict)
        .bind(by)
        .bind(role)
        .bind(comment)
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let old = self.get_flag_emergency(id).await?;
            return Err(StoreError::Conflict(format!(
                "emergency change {id} was already reviewed by {} ({}): a review is given once",
                old.reviewed_by.unwrap_or_default(),
                old.verdict.unwrap_or_default()
            )));
        };
        let kind = if approve {
            "flag.kill-approved"
        } else {
            "flag.kill-rejected"
        };
        let data =
            serde_json::json!({ "id": id, "flag": row.flag, "market": row.market, "by": by, "comment": comment });
        append_event(&mut tx, kind, &format!("flag/{}", row.flag), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Links the change request that will lift a kill in force (a later request replaces it).
    pub async fn set_flag_lift_change(&self, id: i64, change_id: i64) -> Result<FlagEmergencyRow> {
        sqlx::query_as("UPDATE flag_emergencies SET lift_change = $1 WHERE id = $2 AND lifted_at IS NULL RETURNING *")
            .bind(change_id)
            .bind(id)
            .fetch_optional(&self.writer)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("emergency change {id} is not in force: nothing to lift")))
    }

    /// Lifts the kills that change request `change_id` was opened to lift; returns them.
    pub async fn lift_flag_kills(&self, change_id: i64) -> Result<Vec<FlagEmergencyRow>> {
        let mut tx = self.writer.begin().await?;
        let rows: Vec<FlagEmergencyRow> = sqlx::query_as(
            "UPDATE flag_emergencies SET lifted_at = $1 WHERE lift_change = $2 AND lifted_at IS NULL RETURNING *",
        )
        .bind(now_ms())
        .bind(change_id)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let data = serde_json::json!({ "id": row.id, "flag": row.flag, "market": row.market, "change": change_id });
            append_event(&mut tx, "flag.kill-lifted", &format!("flag/{}", row.flag), data).await?;
        }
        tx.commit().await?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    fn kill<'a>(flag: &'a str, market: Option<&'a str>) -> NewFlagEmergency<'a> {
        NewFlagEmergency {
            service: "shop",
            flag,
            market,
            reason: "checkout errors",
            by: "olga",
            role: "operator",
        }
    }

    #[tokio::test]
    async fn a_kill_is_in_force_until_its_change_lifts_it_and_is_reviewed_once() {
        let (_dir, store) = store().await;
        let fr = store.insert_flag_emergency(kill("checkout", Some("fr"))).await.unwrap();
        // Killed in fr: not again in fr, nor everywhere; another market is fine.
        for again in [Some("fr"), None] {
            let refused = store.insert_flag_emergency(kill("checkout", again)).await.unwrap_err();
            assert!(
                refused.to_string().contains("already killed in market `fr`"),
                "{refused}"
            );
        }
        store.insert_flag_emergency(kill("checkout", Some("nl"))).await.unwrap();
        assert_eq!(store.flag_kills_in_force().await.unwrap().len(), 2);

        let unreviewed = FlagEmergencyFilter {
            unreviewed: true,
            ..Default::default()
        };
        assert_eq!(store.list_flag_emergencies(unreviewed, 10).await.unwrap().len(), 2);
        let reviewed = store
            .review_flag_emergency(fr.id, "dev", "developer", true, Some("right call"))
            .await
            .unwrap();
        assert_eq!(reviewed.verdict.as_deref(), Some("approve"));
        let twice = store
            .review_flag_emergency(fr.id, "dan", "developer", false, None)
            .await
            .unwrap_err();
        assert!(twice.to_string().contains("already reviewed by dev"), "{twice}");
        assert_eq!(store.list_flag_emergencies(unreviewed, 10).await.unwrap().len(), 1);

        store.set_flag_lift_change(fr.id, 7).await.unwrap();
        assert!(store.lift_flag_kills(8).await.unwrap().is_empty());
        let lifted = store.lift_flag_kills(7).await.unwrap();
        assert_eq!(lifted.iter().map(|r| r.id).collect::<Vec<_>>(), [fr.id]);
        let left = store.flag_kills_in_force().await.unwrap();
        assert_eq!(
            left.iter().map(|r| r.market.as_deref()).collect::<Vec<_>>(),
            [Some("nl")]
        );
        assert!(store.set_flag_lift_change(fr.id, 9).await.is_err());
    }
}
