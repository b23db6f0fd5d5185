//! Decisions and gate results of rollouts: what steers a rollout besides its plan. People's
//! decisions (skip a market, approve or promote a wave, override a freeze) in
//! `rollout_decisions`, and the recorded result of every gate of every deployment in
//! `gate_results`.

use crate::backend::Real;
use crate::events::append_event;
use crate::{Result, RolloutRow, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::state::RolloutState;

/// One decision of a person about a rollout.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub rollout_id: i64,
    /// skip, approve, promote or override.
    pub kind: String,
    /// The wave it is about (approve, promote), or -1.
    pub wave: i64,
    /// The market it is about (skip), or empty.
    pub market: String,
    pub decided_by: String,
    pub reason: Option<String>,
    pub decided_at: i64,
}

/// A decision about to be recorded.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    pub rollout_id: i64,
    pub kind: &'a str,
    pub wave: Option<i64>,
    pub market: Option<&'a str>,
    pub by: &'a str,
    pub reason: Option<&'a str>,
}

/// The result of one gate of one deployment: its figures and a reason a person reads.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct GateResultRow {
    pub id: i64,
    pub deployment_id: i64,
    /// probe, bake, freeze, or `metric:<check name>`.
    pub gate: String,
    #[sqlx(try_from = "crate::backend::Flag")]
    pub passed: bool,
    pub value: Option<f64>,
    pub bound: Option<f64>,
    pub previous: Option<f64>,
    pub reason: String,
    pub recorded_at: i64,
}

/// A gate result about to be recorded.
#[derive(Debug, Clone, Default)]
pub struct NewGateResult {
    pub gate: String,
    pub passed: bool,
    pub value: Option<f64>,
    pub bound: Option<f64>,
    pub previous: Option<f64>,
    pub reason: String,
}

/// A gate result with the market it was measured in, for a rollout's page.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct MarketGateRow {
    pub market: String,
    pub release_id: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub result: GateResultRow,
}

impl Store {
    /// Records a decision once: the same decision made twice (two operators approving at the
    /// same moment) is refused with the name of who made it first.
    pub async fn insert_decision(&self, new: NewDecision<'_>) -> Result<DecisionRow> {
        let mut tx = self.writer.begin().await?;
        let (wave, market) = (new.wave.unwrap_or(-1), new.market.unwrap_or(""));
        let earlier: Option<DecisionRow> = sqlx::query_as(
            "SELECT * FROM rollout_decisions WHERE rollout_id = $1 AND kind = $2 AND wave = $3 AND market = $4",
        )
        .bind(new.rollout_id)
        .bind(new.kind)
        .bind(wave)
        .bind(market)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(e) = earlier {
            return Err(StoreError::Conflict(format!(
                "rollout {}: `{}`{} was already decided by {}",
                new.rollout_id,
                new.kind,
                describe(e.wave, &e.market),
                e.decided_by
            )));
        }
        let row: DecisionRow = sqlx::query_as(
            "INSERT INTO rollout_decisions (rollout_id, kind, wave, market, decided_by, reason, decided_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(new.rollout_id)
        .bind(new.kind)
        .bind(wave)
        .bind(market)
        .bind(new.by)
        .bind(new.reason)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({
            "kind": new.kind, "wave": new.wave, "market": new.market, "by": new.by, "reason": new.reason,
        });
        append_event(
            &mut tx,
            &format!("rollout.{}", new.kind),
            &format!("rollout/{}", new.rollout_id),
            data,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Approves (`approve`) or promotes (`promote`) wave `wave` of a rollout, in one
    /// transaction: only while the rollout waits for an approval to start exactly that wave
    /// (a compare-and-set on its state and current wave), and once. The rollout goes on
    /// (`running`) and its wave loop starts the wave.
    pub async fn decide_wave(&self, rollout_id: i64, wave: i64, kind: &str, by: &str) -> Result<RolloutRow> {
        self.decide_wave_because(rollout_id, wave, kind, by, None).await
    }

    /// [`Store::decide_wave`], recording why the person let the wave start.
    pub async fn decide_wave_because(
        &self,
        rollout_id: i64,
        wave: i64,
        kind: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<RolloutRow> {
        let mut tx = self.writer.begin().await?;
        let current: RolloutRow = sqlx::query_as("SELECT * FROM rollouts WHERE id = $1")
            .bind(rollout_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("rollout {rollout_id}")))?;
        let earlier: Option<DecisionRow> = sqlx::query_as(
            "SELECT * FROM rollout_decisions WHERE rollout_id = $1 AND wave = $2 AND kind IN ('approve', 'promote')
             ORDER BY id LIMIT 1",
        )
        .bind(rollout_id)
        .bind(wave)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(e) = earlier {
            return Err(StoreError::Conflict(format!(
                "rollout {rollout_id}: wave {wave} was already decided by {} (`{}`)",
                e.decided_by, e.kind
            )));
        }
        if current.state != RolloutState::AwaitingApproval {
            return Err(StoreError::Conflict(format!(
                "rollout {rollout_id} is {}: it waits for no approval, so there is nothing to {kind}",
                current.state
            )));
        }
        if current.current_wave != wave {
            return Err(StoreError::Conflict(format!(
                "rollout {rollout_id} waits to start wave {} now, not wave {wave}: look at it again",
                current.current_wave
            )));
        }
        sqlx::query(
            "INSERT INTO rollout_decisions (rollout_id, kind, wave, market, decided_by, reason, decided_at)
             VALUES ($1, $2, $3, '', $4, $5, $6)",
        )
        .bind(rollout_id)
        .bind(kind)
        .bind(wave)
        .bind(by)
        .bind(reason)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let row: RolloutRow = sqlx::query_as(
            "UPDATE rollouts SET state = $3 WHERE id = $1 AND state = $4 AND current_wave = $2
             RETURNING *",
        )
        .bind(rollout_id)
        .bind(wave)
        .bind(RolloutState::Running.as_str())
        .bind(RolloutState::AwaitingApproval.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "kind": kind, "wave": wave, "market": null, "by": by, "reason": reason });
        append_event(
            &mut tx,
            &format!("rollout.{kind}"),
            &format!("rollout/{rollout_id}"),
            data,
        )
        .await?;
        let data = serde_json::json!({ "from": "awaiting-approval", "by": by, "wave": wave });
        append_event(&mut tx, "rollout.running", &format!("rollout/{rollout_id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// What a market about to deploy must know of rollout `rollout_id`'s decisions: whether it
    /// was skipped, and the freeze override if any (not every other market's decisions).
    pub async fn list_decisions_for_market(&self, rollout_id: i64, market: &str) -> Result<Vec<DecisionRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM rollout_decisions
             WHERE rollout_id = $1 AND ((kind = 'skip' AND market = $2) OR kind = 'override') ORDER BY id",
        )
        .bind(rollout_id)
        .bind(market)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_decisions(&self, rollout_id: i64) -> Result<Vec<DecisionRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM rollout_decisions WHERE rollout_id = $1 ORDER BY id")
                .bind(rollout_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn insert_gate_result(&self, deployment_id: i64, new: &NewGateResult) -> Result<GateResultRow> {
        Ok(sqlx::query_as(
            "INSERT INTO gate_results (deployment_id, gate, passed, value, bound, previous, reason, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(deployment_id)
        .bind(&new.gate)
        .bind(new.passed)
        .bind(Real(new.value))
        .bind(Real(new.bound))
        .bind(Real(new.previous))
        .bind(&new.reason)
        .bind(now_ms())
        .fetch_one(&self.writer)
        .await?)
    }

    /// Every gate result of a rollout's deployments, market by market, in the order recorded.
    pub async fn list_rollout_gates(&self, rollout_id: i64) -> Result<Vec<MarketGateRow>> {
        Ok(sqlx::query_as(
            "SELECT d.market, d.release_id, g.* FROM gate_results g JOIN deployments d ON d.id = g.deployment_id
             WHERE d.rollout_id = $1 ORDER BY d.market, g.id",
        )
        .bind(rollout_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_gate_results(&self, deployment_id: i64) -> Result<Vec<GateResultRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM gate_results WHERE deployment_id = $1 ORDER BY id")
                .bind(deployment_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

fn describe(wave: i64, market: &str) -> String {
    match (wave, market) {
        (-1, "") => String::new(),
        (w, "") => format!(" for wave {w}"),
        (-1, m) => format!(" for {m}"),
        (w, m) => format!(" for wave {w} in {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use tandem_core::rollout::PlannedWave;

    /// A gate without figures (a health probe) and gates with them, in any order, many times:
    /// on PostgreSQL a missing figure once made the next present one unwritable.
    #[tokio::test]
    async fn gate_results_with_and_without_figures_are_kept_as_given() {
        let (_dir, store) = store().await;
        let v1 = crate::testing::release(&store).await;
        let deployment = store
            .insert_deployment(crate::NewDeployment {
                rollout_id: None,
                service: "shop",
                market: "fr",
                release_id: v1.id,
            })
            .await
            .unwrap();
        let gate = |value: Option<f64>| NewGateResult {
            gate: "error_ratio".into(),
            passed: value.is_some(),
            value,
            bound: value.map(|_| 0.01),
            previous: None,
            reason: "r".into(),
        };
        let mut expected = Vec::new();
        for round in 0..20 {
            let value = (round % 3 != 0).then_some(round as f64 / 1000.0);
            let row = store.insert_gate_result(deployment.id, &gate(value)).await.unwrap();
            assert_eq!((row.value, row.passed), (value, value.is_some()));
            expected.push(value);
        }
        let stored = store.list_gate_results(deployment.id).await.unwrap();
        assert_eq!(stored.iter().map(|g| g.value).collect::<Vec<_>>(), expected);
        assert!(stored.iter().all(|g| g.previous.is_none()));
    }

    #[tokio::test]
    async fn a_decision_is_recorded_once_and_locks_follow_the_rollout() {
        let (_dir, store) = store().await;
        let v1 = crate::testing::release(&store).await;
        let plan = [PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into(), "de".into()],
        }];
        let r1 = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
        let approve = |by| NewDecision {
            rollout_id: r1.id,
            kind: "approve",
            wave: Some(1),
            market: None,
            by,
            reason: None,
        };
        store.insert_decision(approve("olga")).await.unwrap();
        let err = store.insert_decision(approve("omar")).await.unwrap_err();
        assert!(err.to_string().contains("already decided by olga"), "{err}");
        assert_eq!(store.list_decisions(r1.id).await.unwrap().len(), 1);

        // A rollback by hand in a locked market is refused with the holder's name.
        let err = store.lock_market("shop", "de", "rollback by omar").await.unwrap_err();
        assert!(
            err.to_string().contains(&format!("locked by rollout {}", r1.id)),
            "{err}"
        );
        // A second rollout asking to queue waits, and starts once the first ends.
        let r2 = store
            .insert_rollout_with("shop", v1.id, &plan, "ana", true)
            .await
            .unwrap();
        assert_eq!(r2.state, "queued");
        assert!(store.start_queued_rollouts().await.unwrap().is_empty());
        store
            .update_rollout(r1.id, tandem_core::state::RolloutState::Succeeded, 0, None)
            .await
            .unwrap();
        let started = store.start_queued_rollouts().await.unwrap();
        assert_eq!(started.iter().map(|r| r.id).collect::<Vec<_>>(), [r2.id]);
        assert_eq!(started[0].state, "pending");
        store
            .update_rollout(r2.id, tandem_core::state::RolloutState::Aborted, 0, None)
            .await
            .unwrap();
        store.lock_market("shop", "de", "rollback by omar").await.unwrap();
        store.unlock_market("shop", "de", "rollback by omar").await.unwrap();
        store.lock_market("shop", "de", "rollback by omar").await.unwrap();
    }

    #[tokio::test]
    async fn a_wave_is_approved_only_while_the_rollout_waits_for_that_very_wave() {
        let (_dir, store) = store().await;
        let v1 = crate::testing::release(&store).await;
        let plan = ["pilot", "benelux", "dach"].map(|name| PlannedWave {
            name: name.into(),
            markets: vec![format!("{name}-market")],
        });
        let r = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
        let err = store.decide_wave(r.id, 1, "approve", "olga").await.unwrap_err();
        assert!(
            err.to_string().contains("is pending: it waits for no approval"),
            "{err}"
        );
        store
            .set_rollout_state(
                r.id,
                &[RolloutState::Pending],
                RolloutState::AwaitingApproval,
                "engine",
                Some(2),
            )
            .await
            .unwrap();
        // Read while wave 1 waited: the rollout now waits for wave 2, so nothing is recorded.
        let err = store.decide_wave(r.id, 1, "approve", "olga").await.unwrap_err();
        assert!(
            err.to_string().contains("waits to start wave 2 now, not wave 1"),
            "{err}"
        );
        assert!(store.list_decisions(r.id).await.unwrap().is_empty());
        let row = store.decide_wave(r.id, 2, "approve", "adam").await.unwrap();
        assert_eq!((row.state.as_str(), row.current_wave), ("running", 2));
        let err = store.decide_wave(r.id, 2, "promote", "olga").await.unwrap_err();
        assert!(err.to_string().contains("already decided by adam"), "{err}");
        assert_eq!(store.list_decisions(r.id).await.unwrap().len(), 1);
    }
}
