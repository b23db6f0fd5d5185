//! Rollouts (a release moving through the waves) and deployments (one release landing in one
//! market, the unit DORA counts). A market runs the release of its one `live` deployment.

use crate::events::append_event;
use crate::{Result, Store, StoreError, from_json, now_ms, sql_states, to_json};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::rollout::PlannedWave;
use tandem_core::state::{DeploymentKind, DeploymentState, RolloutState};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct RolloutRow {
    pub id: i64,
    pub service: String,
    pub release_id: i64,
    /// queued, pending, running, awaiting-approval, paused, succeeded, halted, aborted or failed.
    #[sqlx(try_from = "String")]
    pub state: RolloutState,
    /// JSON list of waves: `[{ "name", "markets" }]`.
    pub plan: String,
    /// Index of the wave in progress (or the last one reached).
    pub current_wave: i64,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Whether it was asked to wait for other rollouts' locks rather than be refused.
    #[sqlx(try_from = "crate::backend::Flag")]
    pub queued: bool,
    /// `release` (a release moves through the waves) or `config` (a config version does,
    /// each market redeploying the release it runs with the new config).
    pub kind: String,
    /// For a config rollout: the config version it carries.
    pub config_version: Option<i64>,
    /// For a config rollout: the change request it carries.
    pub change_id: Option<i64>,
}

impl RolloutRow {
    /// Whether it holds its markets' locks (or waits for them, `queued`).
    pub fn in_progress(&self) -> bool {
        self.state.is_in_progress()
    }

    pub fn waves(&self) -> Result<Vec<(String, Vec<String>)>> {
        let plan: Vec<serde_json::Value> = from_json("rollout plan", &self.plan)?;
        Ok(plan
            .into_iter()
            .map(|w| {
                let name = w["name"].as_str().unwrap_or_default().to_string();
                let markets = w["markets"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|m| m.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                (name, markets)
            })
            .collect())
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DeploymentRow {
    pub id: i64,
    pub rollout_id: Option<i64>,
    pub service: String,
    pub market: String,
    pub release_id: i64,
    pub previous_release_id: Option<i64>,
    /// release, config (the market's release again, with a new config version) or rollback.
    #[sqlx(try_from = "String")]
    pub kind: DeploymentKind,
    /// deploying, live, failed or superseded.
    #[sqlx(try_from = "String")]
    pub state: DeploymentState,
    pub url: Option<String>,
    pub pid: Option<i64>,
    pub reason: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The config version the market was started with.
    pub config_version: Option<i64>,
}

/// What a config rollout carries to the markets: a config version, and the change request
/// that made it.
#[derive(Debug, Clone, Copy)]
pub struct ConfigPayload {
    /// The config version each market moves to.
    pub version: i64,
    /// The change request it applies, if any.
    pub change_id: Option<i64>,
}

/// A deployment about to start.
#[derive(Debug, Clone)]
pub struct NewDeployment<'a> {
    pub rollout_id: Option<i64>,
    pub service: &'a str,
    pub market: &'a str,
    pub release_id: i64,
}

impl Store {
    /// Records a rollout and takes the lock of each of its markets; refused with the holder's
    /// name when another rollout (or a rollback) holds one of them.
    pub async fn insert_rollout(
        &self,
        service: &str,
        release_id: i64,
        plan: &[PlannedWave],
        created_by: &str,
    ) -> Result<RolloutRow> {
        self.insert_rollout_with(service, release_id, plan, created_by, false)
            .await
    }

    /// Like [`Store::insert_rollout`]; with `queue`, a rollout whose markets are locked is
    /// recorded as `queued` and starts when [`Store::start_queued_rollouts`] finds them free.
    pub async fn insert_rollout_with(
        &self,
        service: &str,
        release_id: i64,
        plan: &[PlannedWave],
        created_by: &str,
        queue: bool,
    ) -> Result<RolloutRow> {
        self.insert_rollout_of(service, release_id, plan, created_by, queue, None)
            .await
    }

    /// Like [`Store::insert_rollout_with`]; with `config`, a config rollout of that version.
    pub async fn insert_rollout_of(
        &self,
        service: &str,
        release_id: i64,
        plan: &[PlannedWave],
        created_by: &str,
        queue: bool,
        config: Option<ConfigPayload>,
    ) -> Result<RolloutRow> {
        let mut tx = self.writer.begin().await?;
        let markets: Vec<&str> = plan.iter().flat_map(|w| w.markets.iter().map(String::as_str)).collect();
        let holder = first_lock_holder(&mut tx, service, &markets).await?;
        if holder.is_some() && queue {
            // Queued behind the holder, and behind any rollout queued before it.
        } else if let Some(holder) = holder {
            return Err(StoreError::Conflict(holder));
        }
        let state = if holder.is_some() {
            RolloutState::Queued
        } else {
            RolloutState::Pending
        };
        let row: RolloutRow = sqlx::query_as(
            "INSERT INTO rollouts (service, release_id, state, plan, current_wave, created_by, created_at, queued,
               kind, config_version, change_id)
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10) RETURNING *",
        )
        .bind(service)
        .bind(release_id)
        .bind(state.as_str())
        .bind(to_json(&plan))
        .bind(created_by)
        .bind(now_ms())
        .bind(queue)
        .bind(if config.is_some() { "config" } else { "release" })
        .bind(config.map(|c| c.version))
        .bind(config.and_then(|c| c.change_id))
        .fetch_one(&mut *tx)
        .await?;
        if holder.is_none() {
            take_locks(&mut tx, service, &markets, row.id, &format!("rollout {}", row.id)).await?;
        }
        let data = serde_json::json!({
            "service": service, "release": release_id, "waves": plan.len(), "state": state,
            "config_version": config.map(|c| c.version),
        });
        append_event(&mut tx, "rollout.created", &format!("rollout/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Queued rollouts whose markets are all free now take their locks and become `pending`,
    /// oldest first; returns them for the engine to start.
    pub async fn start_queued_rollouts(&self) -> Result<Vec<RolloutRow>> {
        let mut tx = self.writer.begin().await?;
        let queued: Vec<RolloutRow> = sqlx::query_as("SELECT * FROM rollouts WHERE state = $1 ORDER BY id")
            .bind(RolloutState::Queued.as_str())
            .fetch_all(&mut *tx)
            .await?;
        let mut started = Vec::new();
        let mut blocked_services = std::collections::HashSet::new();
        for r in queued {
            // A service's queue is first come, first served.
            if blocked_services.contains(&r.service) {
                continue;
            }
            let waves = r.waves()?;
            let markets: Vec<&str> = waves.iter().flat_map(|(_, m)| m.iter().map(String::as_str)).collect();
            if first_lock_holder(&mut tx, &r.service, &markets).await?.is_some() {
                blocked_services.insert(r.service.clone());
                continue;
            }
            take_locks(&mut tx, &r.service, &markets, r.id, &format!("rollout {}", r.id)).await?;
            let row: RolloutRow = sqlx::query_as("UPDATE rollouts SET state = $2 WHERE id = $1 RETURNING *")
                .bind(r.id)
                .bind(RolloutState::Pending.as_str())
                .fetch_one(&mut *tx)
                .await?;
            append_event(
                &mut tx,
                "rollout.pending",
                &format!("rollout/{}", r.id),
                serde_json::json!({ "from": "queued", "by": "engine" }),
            )
            .await?;
            started.push(row);
        }
        tx.commit().await?;
        Ok(started)
    }

    /// Takes the lock of one market for a rollback by hand; refused with the holder's name.
    pub async fn lock_market(&self, service: &str, market: &str, holder: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        if let Some(h) = first_lock_holder(&mut tx, service, &[market]).await? {
            return Err(StoreError::Conflict(h));
        }
        sqlx::query(
            "INSERT INTO market_locks (service, market, rollout_id, holder, acquired_at) VALUES ($1, $2, NULL, $3, $4)",
        )
        .bind(service)
        .bind(market)
        .bind(holder)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The locks held on a service's markets: market → holder.
    pub async fn list_market_locks(&self, service: &str) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT market, holder FROM market_locks WHERE service = $1 ORDER BY market")
                .bind(service)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Gives back a lock taken with [`Store::lock_market`].
    pub async fn unlock_market(&self, service: &str, market: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM market_locks WHERE service = $1 AND market = $2 AND holder = $3")
            .bind(service)
            .bind(market)
            .bind(holder)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Locks that no running rollout or rollback holds any more: those of rollouts that ended
    /// (a crash between two writes cannot leave one, but an old database may) and those of
    /// rollbacks by hand a stopped server left behind. Called at start-up.
    pub async fn release_stale_locks(&self) -> Result<u64> {
        let sql = format!(
            "DELETE FROM market_locks WHERE rollout_id IS NULL
                OR rollout_id IN (SELECT id FROM rollouts WHERE state IN ({}))",
            sql_states(RolloutState::ALL.iter().filter(|s| s.is_final()).map(|s| s.as_str()))
        );
        let done = sqlx::query(&sql).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }

    /// Records where the engine's run of a rollout stands (the end of a wave, of the rollout,
    /// or an error); unconditional, as only the engine's run writes these.
    pub async fn update_rollout(
        &self,
        id: i64,
        state: RolloutState,
        current_wave: i64,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE rollouts SET state = $1, current_wave = $2, reason = COALESCE($3, reason),
               started_at = COALESCE(started_at, $4),
               finished_at = CASE WHEN $1 IN ('succeeded', 'halted', 'failed') THEN $4 ELSE NULL END
             WHERE id = $5",
        )
        .bind(state.as_str())
        .bind(current_wave)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if state.is_final() {
            release_locks(&mut tx, id).await?;
        }
        let data = serde_json::json!({ "state": state, "wave": current_wave, "reason": reason });
        append_event(&mut tx, &format!("rollout.{state}"), &format!("rollout/{id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets what a person reads about why a rollout is where it is (a market waiting out a
    /// freeze), without changing its state.
    pub async fn set_rollout_reason(&self, id: i64, reason: &str) -> Result<()> {
        sqlx::query("UPDATE rollouts SET reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Moves a rollout to `to` only if it is in one of `from` (a person's pause, resume or
    /// abort, or the engine starting a wave); otherwise a conflict naming its state.
    pub async fn set_rollout_state(
        &self,
        id: i64,
        from: &[RolloutState],
        to: RolloutState,
        by: &str,
        wave: Option<i64>,
    ) -> Result<RolloutRow> {
        self.set_rollout_state_because(id, from, to, by, wave, None).await
    }

    /// Like [`Store::set_rollout_state`], with the rollout's reason set in the same write
    /// (`None` keeps it): nobody reads the new state beside the previous state's reason.
    pub async fn set_rollout_state_because(
        &self,
        id: i64,
        from: &[RolloutState],
        to: RolloutState,
        by: &str,
        wave: Option<i64>,
        reason: Option<&str>,
    ) -> Result<RolloutRow> {
        debug_assert!(from.iter().all(|f| f.can_move_to(to)), "{from:?} -> {to}");
        let mut tx = self.writer.begin().await?;
        let current: RolloutRow = sqlx::query_as("SELECT * FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("rollout {id}")))?;
        if !from.contains(&current.state) {
            let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
            return Err(StoreError::Conflict(format!(
                "rollout {id} is {}: it cannot become {to} (only from {})",
                current.state,
                from.join(" or ")
            )));
        }
        let now = now_ms();
        let row: RolloutRow = sqlx::query_as(
            "UPDATE rollouts SET state = $1, current_wave = COALESCE($2, current_wave),
               started_at = COALESCE(started_at, $3),
               finished_at = CASE WHEN $1 IN ('succeeded', 'halted', 'failed', 'aborted') THEN $3 ELSE NULL END,
               reason = COALESCE($5, reason)
             WHERE id = $4 RETURNING *",
        )
        .bind(to.as_str())
        .bind(wave)
        .bind(now)
        .bind(id)
        .bind(reason)
        .fetch_one(&mut *tx)
        .await?;
        if to.is_final() {
            release_locks(&mut tx, id).await?;
        }
        let data = serde_json::json!({ "from": current.state, "by": by, "wave": row.current_wave });
        append_event(&mut tx, &format!("rollout.{to}"), &format!("rollout/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_rollout(&self, id: i64) -> Result<RolloutRow> {
        sqlx::query_as("SELECT * FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("rollout {id}")))
    }

    /// Rollout `id`'s state alone: what a market about to deploy checks, without its plan.
    pub async fn get_rollout_state(&self, id: i64) -> Result<RolloutState> {
        let row: Option<(String,)> = sqlx::query_as("SELECT state FROM rollouts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let (state,) = row.ok_or_else(|| StoreError::not_found(format!("rollout {id}")))?;
        state
            .parse()
            .map_err(|e: tandem_core::state::UnknownState| StoreError::Corrupt {
                what: format!("rollout {id}'s state"),
                message: e.to_string(),
            })
    }

    pub async fn list_rollouts(&self, limit: i64) -> Result<Vec<RolloutRow>> {
        Ok(sqlx::query_as("SELECT * FROM rollouts ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// A page of rollouts, newest first: at most `limit`, older than the rollout with id `after`.
    pub async fn list_rollouts_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<RolloutRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM rollouts WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Rollouts a previous process left unfinished.
    pub async fn list_unfinished_rollouts(&self) -> Result<Vec<RolloutRow>> {
        let sql = format!(
            "SELECT * FROM rollouts WHERE state IN ({}) ORDER BY id",
            sql_states(
                RolloutState::ALL
                    .iter()
                    .filter(|s| s.is_in_progress() && **s != RolloutState::Queued)
                    .map(|s| s.as_str())
            )
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// Records the intent to deploy a release to a market, before anything starts.
    pub async fn insert_deployment(&self, new: NewDeployment<'_>) -> Result<DeploymentRow> {
        self.insert_deployment_of_kind(new, DeploymentKind::Release).await
    }

    /// Records the intent to deploy, of a kind: `release` (from a rollout) or `rollback` (by hand).
    pub async fn insert_deployment_of_kind(
        &self,
        new: NewDeployment<'_>,
        kind: DeploymentKind,
    ) -> Result<DeploymentRow> {
        self.insert_deployment_with(new, kind, None).await
    }

    /// Records the intent to deploy, of a kind, starting the market with a config version.
    pub async fn insert_deployment_with(
        &self,
        new: NewDeployment<'_>,
        kind: DeploymentKind,
        config_version: Option<i64>,
    ) -> Result<DeploymentRow> {
        let mut tx = self.writer.begin().await?;
        let previous: Option<(i64,)> =
            sqlx::query_as("SELECT release_id FROM deployments WHERE service = $1 AND market = $2 AND state = 'live'")
                .bind(new.service)
                .bind(new.market)
                .fetch_optional(&mut *tx)
                .await?;
        let row: DeploymentRow = sqlx::query_as(
            "INSERT INTO deployments (rollout_id, service, market, release_id, previous_release_id, kind, state, started_at,
               config_version)
             VALUES ($1, $2, $3, $4, $5, $7, 'deploying', $6, $8) RETURNING *",
        )
        .bind(new.rollout_id)
        .bind(new.service)
        .bind(new.market)
        .bind(new.release_id)
        .bind(previous.map(|p| p.0))
        .bind(now_ms())
        .bind(kind.as_str())
        .bind(config_version)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "service": new.service, "market": new.market, "release": new.release_id, "kind": kind });
        append_event(&mut tx, "deployment.started", &format!("deployment/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The deployment passed its gate: it becomes the market's live one, the previous is superseded.
    pub async fn mark_deployment_live(&self, id: i64, url: &str, pid: Option<u32>) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let d: DeploymentRow = sqlx::query_as("SELECT * FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE deployments SET state = 'superseded' WHERE service = $1 AND market = $2 AND state = 'live'",
        )
        .bind(&d.service)
        .bind(&d.market)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE deployments SET state = 'live', url = $1, pid = $2, finished_at = $3 WHERE id = $4")
            .bind(url)
            .bind(pid.map(i64::from))
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // A config deployment moves its market to its version; so does a release deployment
        // that brought another version than the market's (a market its config check refused,
        // tried again with the fixed version).
        let pinned: Option<(i64,)> = sqlx::query_as(
            "SELECT version FROM market_configs WHERE service = $1 AND market = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(&d.service)
        .bind(&d.market)
        .fetch_optional(&mut *tx)
        .await?;
        let moves = match d.config_version {
            Some(v) if d.kind == "config" => Some((v, "config deployment passed its gates")),
            Some(v) if d.kind == "release" && pinned.is_some_and(|(p,)| p != v) => {
                Some((v, "release deployment brought the market's fixed config"))
            }
            _ => None,
        };
        if let Some((version, why)) = moves {
            // The market now runs that config version: in the same transaction as the switch.
            crate::configs::insert_market_config(
                &mut tx,
                &d.service,
                &d.market,
                version,
                Some(id),
                // The person who rolled a config back by hand, or the rollout engine.
                &crate::audit::current_name(),
                why,
            )
            .await?;
        }
        let data = serde_json::json!({ "market": d.market, "release": d.release_id, "url": url });
        append_event(&mut tx, "deployment.live", &format!("deployment/{id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A live market's process was started again (after a crash): its new process id.
    pub async fn set_live_pid(&self, service: &str, market: &str, pid: u32) -> Result<()> {
        sqlx::query("UPDATE deployments SET pid = $1 WHERE service = $2 AND market = $3 AND state = 'live'")
            .bind(i64::from(pid))
            .bind(service)
            .bind(market)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The deployment failed; the market keeps (or returns to) its previous release.
    pub async fn mark_deployment_failed(&self, id: i64, reason: &str) -> Result<()> {
        self.end_deployment_failed(id, reason, false).await
    }

    /// Marks deployment `id` blocked: refused before anything started (the market's config does
    /// not fit the release), so the market kept what it ran. DORA does not count it.
    pub async fn mark_deployment_blocked(&self, id: i64, reason: &str) -> Result<()> {
        let data = serde_json::json!({ "reason": reason });
        self.end_deployment(id, "blocked", reason, false, data).await
    }

    /// Marks deployment `id` failed; `interrupted` when its server stopped during it (then
    /// DORA's keys do not count it: the resumed rollout deploys the market again).
    async fn end_deployment_failed(&self, id: i64, reason: &str, interrupted: bool) -> Result<()> {
        let data = serde_json::json!({ "reason": reason, "interrupted": interrupted });
        self.end_deployment(id, "failed", reason, interrupted, data).await
    }

    /// Ends deployment `id` in `state` (`failed` or `blocked`) with its reason, and records
    /// `deployment.<state>` with `data`, in one transaction.
    async fn end_deployment(
        &self,
        id: i64,
        state: &str,
        reason: &str,
        interrupted: bool,
        data: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE deployments SET state = $1, reason = $2, finished_at = $3, interrupted = $4 WHERE id = $5")
            .bind(state)
            .bind(reason)
            .bind(now_ms())
            .bind(i64::from(interrupted))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append_event(
            &mut tx,
            &format!("deployment.{state}"),
            &format!("deployment/{id}"),
            data,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_deployments(&self, rollout_id: Option<i64>) -> Result<Vec<DeploymentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM deployments WHERE ($1 IS NULL OR rollout_id = $1) ORDER BY id")
                .bind(rollout_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A page of deployments (of rollout `rollout_id`, or all), oldest first, after the one
    /// with id `after`.
    pub async fn list_deployments_page(
        &self,
        rollout_id: Option<i64>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeploymentRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM deployments WHERE ($1 IS NULL OR rollout_id = $1) AND ($2 IS NULL OR id > $2)
             ORDER BY id LIMIT $3",
        )
        .bind(rollout_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The release a market ran before its current one: the newest release older than the one
    /// live now that was once live there. `None` when there is none to go back to.
    pub async fn previous_good_release(&self, service: &str, market: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT release_id FROM deployments
             WHERE service = $1 AND market = $2 AND state = 'superseded'
               AND release_id < (SELECT release_id FROM deployments WHERE service = $1 AND market = $2 AND state = 'live')
             ORDER BY release_id DESC LIMIT 1",
        )
        .bind(service)
        .bind(market)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.0))
    }

    /// Every deployment of a service to a market, oldest first.
    pub async fn list_deployments_of_market(&self, service: &str, market: &str) -> Result<Vec<DeploymentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM deployments WHERE service = $1 AND market = $2 ORDER BY id")
                .bind(service)
                .bind(market)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Each market's live deployment of every service.
    pub async fn list_live_deployments(&self) -> Result<Vec<DeploymentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM deployments WHERE state = 'live' ORDER BY service, market")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// `service`'s live deployment in `market`, if any.
    pub async fn get_live_deployment(&self, service: &str, market: &str) -> Result<Option<DeploymentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM deployments WHERE service = $1 AND market = $2 AND state = 'live'")
                .bind(service)
                .bind(market)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The deployments live or under way of each (service, market) of `keys`, by service,
    /// market and id: the monitor reads the markets the engine's signals named within a short
    /// while in one statement (a few hundred keys at most), not two statements each.
    /// [`Store::market_reads`] counts the statements.
    pub async fn live_and_deploying_of(&self, keys: &[(String, String)]) -> Result<Vec<DeploymentRow>> {
        let mut keys: Vec<(&str, &str)> = keys.iter().map(|(s, m)| (s.as_str(), m.as_str())).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut rows = Vec::new();
        // A statement binds a market and, per service, its name: at most `IDS_PER_QUERY` values.
        for chunk in keys.chunks(crate::backend::IDS_PER_QUERY / 2) {
            let mut query =
                crate::backend::Builder::new("SELECT * FROM deployments WHERE state IN ('live', 'deploying') AND (");
            for (i, group) in chunk.chunk_by(|a, b| a.0 == b.0).enumerate() {
                query.push(if i == 0 { "(service = " } else { " OR (service = " });
                query.push_bind(group[0].0).push(" AND market IN ");
                crate::backend::push_in_list(&mut query, group.iter().map(|k| k.1));
                query.push(")");
            }
            query.push(") ORDER BY service, market, id");
            self.market_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Its text varies with the number of keys: not kept prepared.
            let found: Vec<DeploymentRow> = query.build_query_as().persistent(false).fetch_all(&self.pool).await?;
            rows.extend(found);
        }
        Ok(rows)
    }

    /// How many statements [`Store::live_and_deploying_of`] ran since this store was opened.
    pub fn market_reads(&self) -> u64 {
        self.market_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The markets where release `release_id` of `service` is live.
    pub async fn list_markets_running(&self, service: &str, release_id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT market FROM deployments WHERE service = $1 AND release_id = $2 AND state = 'live' ORDER BY market",
        )
        .bind(service)
        .bind(release_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(m,)| m).collect())
    }

    /// Deployments left `deploying` by a previous process: they are marked failed.
    pub async fn fail_unfinished_deployments(&self) -> Result<usize> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM deployments WHERE state = 'deploying'")
            .fetch_all(&self.pool)
            .await?;
        for (id,) in &rows {
            self.end_deployment_failed(*id, "the server stopped during this deployment", true)
                .await?;
        }
        Ok(rows.len())
    }
}

/// Who holds the lock of one of `markets` of `service`, as a sentence; `None` when all are free.
async fn first_lock_holder(conn: &mut crate::backend::Conn, service: &str, markets: &[&str]) -> Result<Option<String>> {
    let held: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT market, holder, acquired_at FROM market_locks WHERE service = $1 ORDER BY market")
            .bind(service)
            .fetch_all(&mut *conn)
            .await?;
    Ok(held
        .into_iter()
        .find(|(m, _, _)| markets.contains(&m.as_str()))
        .map(|(market, holder, _)| {
            format!("{service} in {market} is locked by {holder}: wait for it to end, or ask to be queued")
        }))
}

async fn take_locks(
    conn: &mut crate::backend::Conn,
    service: &str,
    markets: &[&str],
    rollout_id: i64,
    holder: &str,
) -> Result<()> {
    let now = now_ms();
    for market in markets {
        sqlx::query(
            "INSERT INTO market_locks (service, market, rollout_id, holder, acquired_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(service)
        .bind(market)
        .bind(rollout_id)
        .bind(holder)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn release_locks(conn: &mut crate::backend::Conn, rollout_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM market_locks WHERE rollout_id = $1")
        .bind(rollout_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use tandem_core::pipeline::parse_service_spec;

    #[tokio::test]
    async fn a_market_has_one_live_deployment_and_one_rollout_at_a_time() {
        let (_dir, store) = store().await;
        let spec = parse_service_spec(
            "t.yml",
            "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
        )
        .unwrap();
        let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
        let v1 = store.insert_release("shop", "c1", run.id, &spec).await.unwrap();
        let v2 = store.insert_release("shop", "c1", run.id, &spec).await.unwrap();
        assert_eq!((v1.version.as_str(), v2.version.as_str()), ("v1", "v2"));

        let plan = [PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into()],
        }];
        let r = store.insert_rollout("shop", v1.id, &plan, "test").await.unwrap();
        let err = store.insert_rollout("shop", v2.id, &plan, "test").await.unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("shop in fr is locked by rollout {}", r.id)),
            "{err}"
        );
        assert_eq!(store.get_rollout(r.id).await.unwrap().waves().unwrap()[0].1, ["fr"]);

        let new = |release_id| NewDeployment {
            rollout_id: Some(r.id),
            service: "shop",
            market: "fr",
            release_id,
        };
        let d1 = store.insert_deployment(new(v1.id)).await.unwrap();
        store.mark_deployment_live(d1.id, "http://x", Some(1)).await.unwrap();
        let d2 = store.insert_deployment(new(v2.id)).await.unwrap();
        assert_eq!(d2.previous_release_id, Some(v1.id));
        store.mark_deployment_live(d2.id, "http://y", Some(2)).await.unwrap();
        let live = store.list_live_deployments().await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].release_id, v2.id);

        let d3 = store.insert_deployment(new(v1.id)).await.unwrap();
        store.mark_deployment_failed(d3.id, "probe failed").await.unwrap();
        assert_eq!(store.list_live_deployments().await.unwrap()[0].id, d2.id);
    }

    /// The monitor's read of the markets it was told about: one statement for many markets of
    /// several services, only their deployments live or under way.
    #[tokio::test]
    async fn the_markets_named_are_read_live_or_deploying_in_one_statement() {
        let (_dir, store) = store().await;
        let v1 = crate::testing::release(&store).await;
        fn new<'a>(service: &'a str, market: &'a str, release_id: i64) -> NewDeployment<'a> {
            NewDeployment {
                rollout_id: None,
                service,
                market,
                release_id,
            }
        }
        let mut live = Vec::new();
        for i in 0..300 {
            let d = store
                .insert_deployment(new("shop", &format!("m{i:03}"), v1.id))
                .await
                .unwrap();
            store.mark_deployment_live(d.id, "http://x", None).await.unwrap();
            live.push(d.id);
        }
        // m000 deploys again; m001 failed its next deployment; api is live in m000 too.
        let deploying = store.insert_deployment(new("shop", "m000", v1.id)).await.unwrap();
        let failed = store.insert_deployment(new("shop", "m001", v1.id)).await.unwrap();
        store.mark_deployment_failed(failed.id, "probe failed").await.unwrap();
        let api = store.insert_deployment(new("api", "m000", v1.id)).await.unwrap();
        store.mark_deployment_live(api.id, "http://api", None).await.unwrap();

        let key = |s: &str, m: &str| (s.to_string(), m.to_string());
        let mut keys: Vec<(String, String)> = (0..250).map(|i| key("shop", &format!("m{i:03}"))).collect();
        keys.extend([
            key("api", "m000"),
            key("api", "m001"),
            key("shop", "nowhere"),
            key("shop", "m000"),
        ]);
        let reads = store.market_reads();
        let rows = store.live_and_deploying_of(&keys).await.unwrap();
        assert_eq!(store.market_reads() - reads, 1, "one statement");
        let got: Vec<(String, String, i64, DeploymentState)> =
            rows.into_iter().map(|d| (d.service, d.market, d.id, d.state)).collect();
        let mut want = vec![
            ("api".to_string(), "m000".to_string(), api.id, DeploymentState::Live),
            ("shop".into(), "m000".into(), live[0], DeploymentState::Live),
            ("shop".into(), "m000".into(), deploying.id, DeploymentState::Deploying),
        ];
        want.extend((1..250).map(|i| ("shop".to_string(), format!("m{i:03}"), live[i], DeploymentState::Live)));
        assert_eq!(got, want);
        assert!(store.live_and_deploying_of(&[]).await.unwrap().is_empty());

        // More keys than one statement binds: read in as many statements as they need.
        let many: Vec<(String, String)> = (0..1_200).map(|i| key("shop", &format!("m{i:03}"))).collect();
        let reads = store.market_reads();
        assert_eq!(store.live_and_deploying_of(&many).await.unwrap().len(), 301);
        assert_eq!(store.market_reads() - reads, 3);
    }

    #[tokio::test]
    async fn a_market_reads_its_own_rows_without_the_plan() {
        let (_dir, store) = store().await;
        let v1 = crate::testing::release(&store).await;
        let plan = [PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into(), "be".into()],
        }];
        let r = store.insert_rollout("shop", v1.id, &plan, "test").await.unwrap();
        assert_eq!(store.get_rollout_state(r.id).await.unwrap(), RolloutState::Pending);
        assert!(matches!(
            store.get_rollout_state(r.id + 1).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.get_live_deployment("shop", "fr").await.unwrap().is_none());
        let d = store
            .insert_deployment(NewDeployment {
                rollout_id: Some(r.id),
                service: "shop",
                market: "fr",
                release_id: v1.id,
            })
            .await
            .unwrap();
        assert!(store.list_markets_running("shop", v1.id).await.unwrap().is_empty());
        store.mark_deployment_live(d.id, "http://x", None).await.unwrap();
        assert_eq!(store.get_live_deployment("shop", "fr").await.unwrap().unwrap().id, d.id);
        assert!(store.get_live_deployment("shop", "be").await.unwrap().is_none());
        assert_eq!(store.list_markets_running("shop", v1.id).await.unwrap(), ["fr"]);
        for (kind, market) in [("skip", Some("be")), ("skip", Some("fr")), ("override", None)] {
            store
                .insert_decision(crate::NewDecision {
                    rollout_id: r.id,
                    kind,
                    wave: None,
                    market,
                    by: "ines",
                    reason: Some("test"),
                })
                .await
                .unwrap();
        }
        let about_be = store.list_decisions_for_market(r.id, "be").await.unwrap();
        let kinds: Vec<(&str, &str)> = about_be.iter().map(|d| (d.kind.as_str(), d.market.as_str())).collect();
        assert_eq!(kinds, [("skip", "be"), ("override", "")]);
    }

    #[tokio::test]
    async fn a_row_with_an_unknown_state_is_an_error_naming_it() {
        let (_dir, store) = store().await;
        let spec = parse_service_spec(
            "t.yml",
            "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
        )
        .unwrap();
        let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
        let v1 = store.insert_release("shop", "c1", run.id, &spec).await.unwrap();
        let plan = [PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into()],
        }];
        let r = store.insert_rollout("shop", v1.id, &plan, "test").await.unwrap();
        assert_eq!(r.state, RolloutState::Pending);
        sqlx::query("UPDATE rollouts SET state = $2 WHERE id = $1")
            .bind(r.id)
            .bind("runnin")
            .execute(&store.writer)
            .await
            .unwrap();
        // An error naming the column, not a panic. (sqlx's `try_from` cannot print our error
        // from its generic code, so the value is not named yet: see the note in `lib.rs`.)
        let err = store.get_rollout(r.id).await.unwrap_err().to_string();
        assert!(err.contains("decoding column state"), "{err}");
    }
}
