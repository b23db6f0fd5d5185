//! Agents and the jobs they take.
//!
//! - An agent is known by a token of its own kind (only its sha256 is kept): it can take jobs
//!   and nothing else. An admin registers, rotates and revokes it; an operator pauses or drains
//!   it.
//! - A job is *offered* (its plan and the labels it needs are written), *claimed* by one agent
//!   under a lease (a conditional update: two agents cannot both win), renewed by the agent's
//!   reports, and *ended* by the agent holding the claim. The claim is named by the sha256 of
//!   a job token given to that agent alone; when a job is lost (its lease ran out) the claim is
//!   cleared, so an agent that comes back late can no longer report into it.

use crate::events::append_event;
use crate::tokens::hash_secret;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct AgentRow {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub hash: String,
    pub created_at: i64,
    pub created_by: String,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// JSON list of the labels it last announced.
    pub labels: String,
    pub capacity: i64,
    pub version: Option<String>,
    pub host: Option<String>,
    /// When it last asked for work or reported (Unix ms).
    pub seen_at: Option<i64>,
    /// active, paused (takes no new job) or draining (takes no new job, exits when idle).
    pub mode: String,
}

impl AgentRow {
    pub fn labels(&self) -> Vec<String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }
}

/// The modes an operator may set.
pub const AGENT_MODES: [&str; 3] = ["active", "paused", "draining"];

/// A job offered to agents and not taken yet.
#[derive(Debug, Clone, FromRow)]
pub struct OfferedJob {
    pub id: i64,
    pub run_id: i64,
    /// JSON list of labels.
    pub runs_on: Option<String>,
    pub offered_at: i64,
    pub waiting: Option<String>,
}

impl OfferedJob {
    pub fn runs_on(&self) -> Vec<String> {
        self.runs_on
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default()
    }
}

/// A job as its claim holder sees it.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub run_id: i64,
    pub name: String,
    pub agent_id: Option<i64>,
    /// The holding agent's name.
    pub agent: Option<String>,
    pub plan: Option<String>,
    pub lease_until: Option<i64>,
    pub cancel_asked_at: Option<i64>,
    pub claims: i64,
    pub lost: i64,
}

/// Where a job offered to agents stands, for the runner waiting on it.
#[derive(Debug, Clone, FromRow)]
pub struct DispatchedJob {
    pub id: i64,
    pub state: String,
    pub agent_id: Option<i64>,
    pub claim_hash: Option<String>,
    pub lease_until: Option<i64>,
    pub claims: i64,
    pub lost: i64,
    pub waiting: Option<String>,
}

impl Store {
    /// Registers an agent under `name` with the hash of `secret`. A revoked agent's name can
    /// be registered again; a live one's cannot.
    pub async fn register_agent(&self, name: &str, secret: &str, by: &str) -> Result<AgentRow> {
        let mut tx = self.writer.begin().await?;
        let existing: Option<AgentRow> = sqlx::query_as("SELECT * FROM agents WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let now = now_ms();
        let row: AgentRow = match existing {
            Some(a) if a.revoked_at.is_none() => {
                return Err(StoreError::Conflict(format!(
                    "agent `{name}` is registered already: rotate its token, or revoke it first"
                )));
            }
            Some(a) => sqlx::query_as(
                "UPDATE agents SET hash = $1, created_at = $2, created_by = $3, rotated_at = NULL, revoked_at = NULL,
                   mode = 'active' WHERE id = $4 RETURNING *",
            )
            .bind(hash_secret(secret))
            .bind(now)
            .bind(by)
            .bind(a.id)
            .fetch_one(&mut *tx)
            .await?,
            None => {
                sqlx::query_as(
                    "INSERT INTO agents (name, hash, created_at, created_by) VALUES ($1, $2, $3, $4) RETURNING *",
                )
                .bind(name)
                .bind(hash_secret(secret))
                .bind(now)
                .bind(by)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        append_event(
            &mut tx,
            "agent.registered",
            &format!("agent/{name}"),
            serde_json::json!({ "by": by }),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Gives a live agent a new token; the old one stops working at once.
    pub async fn rotate_agent(&self, name: &str, secret: &str) -> Result<AgentRow> {
        let mut tx = self.writer.begin().await?;
        let row: Option<AgentRow> = sqlx::query_as(
            "UPDATE agents SET hash = $1, rotated_at = $2 WHERE name = $3 AND revoked_at IS NULL RETURNING *",
        )
        .bind(hash_secret(secret))
        .bind(now_ms())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or_else(|| StoreError::not_found(format!("live agent `{name}`")))?;
        append_event(
            &mut tx,
            "agent.rotated",
            &format!("agent/{name}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Revokes an agent: its token stops working, and the jobs it holds are lost at once (given
    /// to another agent or failed, as each job says, by the run waiting on them).
    pub async fn revoke_agent(&self, name: &str) -> Result<AgentRow> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let row: Option<AgentRow> =
            sqlx::query_as("UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE name = $2 RETURNING *")
                .bind(now)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let row = row.ok_or_else(|| StoreError::not_found(format!("agent `{name}`")))?;
        sqlx::query("UPDATE jobs SET lease_until = $1 WHERE agent_id = $2 AND state = 'running'")
            .bind(now)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        append_event(
            &mut tx,
            "agent.revoked",
            &format!("agent/{name}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Sets an agent's mode (one of [`AGENT_MODES`]).
    pub async fn set_agent_mode(&self, name: &str, mode: &str, by: &str) -> Result<AgentRow> {
        if !AGENT_MODES.contains(&mode) {
            return Err(StoreError::Conflict(format!(
                "`{mode}` is not an agent mode: expected active, paused or draining"
            )));
        }
        let mut tx = self.writer.begin().await?;
        let row: Option<AgentRow> =
            sqlx::query_as("UPDATE agents SET mode = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING *")
                .bind(mode)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let row = row.ok_or_else(|| StoreError::not_found(format!("live agent `{name}`")))?;
        append_event(
            &mut tx,
            &format!("agent.{mode}"),
            &format!("agent/{name}"),
            serde_json::json!({ "by": by }),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The live agent whose token this is.
    pub async fn find_agent(&self, secret: &str) -> Result<Option<AgentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM agents WHERE hash = $1 AND revoked_at IS NULL")
                .bind(hash_secret(secret))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn get_agent(&self, id: i64) -> Result<Option<AgentRow>> {
        Ok(sqlx::query_as("SELECT * FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records what an agent says of itself as it asks for work.
    pub async fn agent_seen(&self, id: i64, labels: &[String], capacity: i64, version: &str, host: &str) -> Result<()> {
        sqlx::query(
            "UPDATE agents SET labels = $1, capacity = $2, version = $3, host = $4, seen_at = $5 WHERE id = $6",
        )
        .bind(serde_json::to_string(labels).unwrap_or_else(|_| "[]".into()))
        .bind(capacity)
        .bind(version)
        .bind(host)
        .bind(now_ms())
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every agent, by name, with how many jobs each holds now.
    pub async fn list_agents(&self) -> Result<Vec<(AgentRow, i64)>> {
        let agents: Vec<AgentRow> = sqlx::query_as("SELECT * FROM agents ORDER BY name LIMIT 10000")
            .fetch_all(&self.pool)
            .await?;
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT agent_id, COUNT(*) FROM jobs WHERE state = 'running' AND agent_id IS NOT NULL GROUP BY agent_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(agents
            .into_iter()
            .map(|a| {
                let n = counts.iter().find(|(id, _)| *id == a.id).map_or(0, |(_, n)| *n);
                (a, n)
            })
            .collect())
    }

    /// Offers a job to agents: its plan (JSON, without secrets) and the labels it needs.
    pub async fn offer_job(&self, job_id: i64, plan: &str, runs_on: &[String]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE jobs SET plan = $1, runs_on = $2, offered_at = $3, waiting = NULL WHERE id = $4 AND state = 'pending'",
        )
        .bind(plan)
        .bind(serde_json::to_string(runs_on).unwrap_or_else(|_| "[]".into()))
        .bind(now_ms())
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        append_event(
            &mut tx,
            "job.offered",
            &format!("job/{job_id}"),
            serde_json::json!({ "runs_on": runs_on }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Jobs offered and not taken, oldest first, of runs still running.
    pub async fn list_offered_jobs(&self, limit: i64) -> Result<Vec<OfferedJob>> {
        Ok(sqlx::query_as(
            "SELECT id, run_id, runs_on, offered_at, waiting FROM jobs
             WHERE agent_id IS NULL AND offered_at IS NOT NULL AND state = 'pending'
               AND run_id IN (SELECT id FROM runs WHERE state = 'running')
             ORDER BY offered_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Gives an offered job to an agent under a lease until `lease_until`, if nobody took it
    /// first; returns its plan. `token` is the job token handed to that agent alone.
    pub async fn claim_job(
        &self,
        job_id: i64,
        agent: &AgentRow,
        token: &str,
        lease_until: i64,
    ) -> Result<Option<String>> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let plan: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE jobs SET agent_id = $1, claim_hash = $2, lease_until = $3, claims = claims + 1, state = 'running',
               started_at = COALESCE(started_at, $4), finished_at = NULL, waiting = NULL, cancel_asked_at = NULL
             WHERE id = $5 AND agent_id IS NULL AND offered_at IS NOT NULL AND state = 'pending'
               AND run_id IN (SELECT id FROM runs WHERE state = 'running')
             RETURNING plan",
        )
        .bind(agent.id)
        .bind(hash_secret(token))
        .bind(lease_until)
        .bind(now)
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((plan,)) = plan else {
            return Ok(None);
        };
        append_event(
            &mut tx,
            "job.running",
            &format!("job/{job_id}"),
            serde_json::json!({ "agent": agent.name }),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(plan.unwrap_or_default()))
    }

    /// The running job this job token was given for, if its claim still holds.
    pub async fn find_claimed_job(&self, job_id: i64, token: &str) -> Result<Option<ClaimedJob>> {
        Ok(sqlx::query_as(
            "SELECT id, run_id, name, agent_id, (SELECT name FROM agents WHERE agents.id = jobs.agent_id) AS agent,
               plan, lease_until, cancel_asked_at, claims, lost FROM jobs
             WHERE id = $1 AND claim_hash = $2 AND state = 'running'",
        )
        .bind(job_id)
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Extends the lease of a job whose claim still holds; returns whether a cancel was asked,
    /// or `None` when the claim is gone.
    pub async fn renew_job_lease(&self, job_id: i64, token: &str, until: i64) -> Result<Option<bool>> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND claim_hash = $3 AND state = 'running'
             RETURNING cancel_asked_at",
        )
        .bind(until)
        .bind(job_id)
        .bind(hash_secret(token))
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(|(asked,)| asked.is_some()))
    }

    /// Where a dispatched job stands.
    pub async fn get_dispatched_job(&self, job_id: i64) -> Result<DispatchedJob> {
        sqlx::query_as(
            "SELECT id, state, agent_id, claim_hash, lease_until, claims, lost, waiting FROM jobs WHERE id = $1",
        )
        .bind(job_id)
        .fetch_optional(&self.writer)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("job {job_id}")))
    }

    /// A job whose agent stopped answering: if the claim seen (`claim_hash`) still holds and its
    /// lease ran out, the job is offered again (`retry`) or failed. Returns whether it was lost
    /// here (false: it was reported or lost meanwhile).
    pub async fn lose_job(&self, job_id: i64, claim_hash: &str, retry: bool, why: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let agent: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT agent_id FROM jobs WHERE id = $1 AND claim_hash = $2 AND state = 'running' AND lease_until < $3",
        )
        .bind(job_id)
        .bind(claim_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((agent_id,)) = agent else {
            return Ok(false);
        };
        let agent_name: Option<(String,)> = sqlx::query_as("SELECT name FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(&mut *tx)
            .await?;
        let agent = agent_name.map(|(n,)| n).unwrap_or_default();
        // Not seen since: a claim it left waiting (it froze mid-request) gets no job until it
        // asks again.
        sqlx::query("UPDATE agents SET seen_at = NULL WHERE id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        if retry {
            sqlx::query(
                "UPDATE jobs SET agent_id = NULL, claim_hash = NULL, lease_until = NULL, lost = lost + 1, state = 'pending',
                   offered_at = $1, waiting = $2, cancel_asked_at = NULL WHERE id = $3",
            )
            .bind(now)
            .bind(why)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
            // The steps start over on the next agent.
            sqlx::query(
                "UPDATE steps SET state = 'pending', exit_code = NULL, started_at = NULL, finished_at = NULL WHERE job_id = $1",
            )
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE jobs SET claim_hash = NULL, lease_until = NULL, lost = lost + 1, state = 'failed', finished_at = $1,
                   waiting = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(why)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        }
        let data = serde_json::json!({ "agent": agent, "retried": retry, "why": why });
        append_event(&mut tx, "job.lost", &format!("job/{job_id}"), data).await?;
        if !retry {
            append_event(&mut tx, "job.failed", &format!("job/{job_id}"), serde_json::json!({})).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Asks for a dispatched job to stop: one no agent took yet is cancelled here (returns
    /// true); one an agent holds is told at its next report.
    pub async fn ask_cancel_job(&self, job_id: i64) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let unclaimed = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $1, offered_at = NULL
             WHERE id = $2 AND state = 'pending' AND agent_id IS NULL",
        )
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if unclaimed {
            sqlx::query("UPDATE steps SET state = 'cancelled' WHERE job_id = $1 AND state = 'pending'")
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            append_event(
                &mut tx,
                "job.cancelled",
                &format!("job/{job_id}"),
                serde_json::json!({}),
            )
            .await?;
        } else {
            sqlx::query("UPDATE jobs SET cancel_asked_at = COALESCE(cancel_asked_at, $1) WHERE id = $2")
                .bind(now)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(unclaimed)
    }

    /// Why an offered job still waits (shown beside it), written when it changes.
    pub async fn set_job_waiting(&self, job_id: i64, why: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE jobs SET waiting = $1 WHERE id = $2 AND state = 'pending'")
            .bind(why)
            .bind(job_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A step of a claimed job changed, as its agent reports (times are this server's).
    pub async fn report_step(
        &self,
        job_id: i64,
        step_id: i64,
        state: tandem_core::state::StepState,
        exit_code: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE steps SET state = $1, exit_code = $2,
               started_at = COALESCE(started_at, $3),
               finished_at = CASE WHEN $1 = 'running' THEN NULL ELSE $3 END
             WHERE job_id = $4 AND id = $5",
        )
        .bind(state.as_str())
        .bind(exit_code)
        .bind(now)
        .bind(job_id)
        .bind(step_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Ends a claimed job with its packed log, if the claim named by `token` still holds;
    /// returns whether it did. The claim dies with the job.
    pub async fn finish_claimed_job(
        &self,
        job_id: i64,
        token: &str,
        state: tandem_core::state::JobState,
        exit_code: Option<i64>,
        log: &crate::PackedLog,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let ended = sqlx::query(
            "UPDATE jobs SET state = $1, exit_code = $2, log_digest = $3, finished_at = $4, claim_hash = NULL,
               lease_until = NULL WHERE id = $5 AND claim_hash = $6 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(exit_code)
        .bind(&log.digest)
        .bind(now_ms())
        .bind(job_id)
        .bind(hash_secret(token))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !ended {
            return Ok(false);
        }
        crate::logs::record_chunks(&mut tx, log).await?;
        let data = serde_json::json!({ "exit_code": exit_code, "log_bytes": log.size });
        append_event(&mut tx, &format!("job.{state}"), &format!("job/{job_id}"), data).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Work for agents other than a job (a market's deploy command), as its waiter sees it.
#[derive(Debug, Clone, FromRow)]
pub struct TaskRow {
    pub id: i64,
    pub kind: String,
    pub plan: String,
    /// JSON list of labels.
    pub runs_on: String,
    pub agent_id: Option<i64>,
    pub claim_hash: Option<String>,
    pub lease_until: Option<i64>,
    /// pending, running, success or failed.
    pub state: String,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub log: Option<String>,
}

impl TaskRow {
    pub fn runs_on(&self) -> Vec<String> {
        serde_json::from_str(&self.runs_on).unwrap_or_default()
    }
}

/// How much of a task's log is kept (its end: what says why it failed).
pub const TASK_LOG_MAX: usize = 256 * 1024;

impl Store {
    /// Offers a task (its plan: JSON) to agents with `runs_on`; returns its id.
    pub async fn offer_task(&self, kind: &str, plan: &str, runs_on: &[String]) -> Result<i64> {
        let mut tx = self.writer.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO agent_tasks (kind, plan, runs_on, created_at, state) VALUES ($1, $2, $3, $4, 'pending') RETURNING id",
        )
        .bind(kind)
        .bind(plan)
        .bind(serde_json::to_string(runs_on).unwrap_or_else(|_| "[]".into()))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "kind": kind, "runs_on": runs_on });
        append_event(&mut tx, "task.offered", &format!("task/{id}"), data).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Tasks no agent took yet, oldest first.
    pub async fn list_offered_tasks(&self, limit: i64) -> Result<Vec<TaskRow>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, plan, runs_on, agent_id, claim_hash, lease_until, state, exit_code, error, NULL AS log
             FROM agent_tasks WHERE state = 'pending' ORDER BY created_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Gives a pending task to `agent` under a lease, if nobody took it first.
    pub async fn claim_task(&self, task_id: i64, agent: &AgentRow, token: &str, lease_until: i64) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let taken = sqlx::query(
            "UPDATE agent_tasks SET agent_id = $1, claim_hash = $2, lease_until = $3, state = 'running'
             WHERE id = $4 AND state = 'pending'",
        )
        .bind(agent.id)
        .bind(hash_secret(token))
        .bind(lease_until)
        .bind(task_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if taken {
            let data = serde_json::json!({ "agent": agent.name });
            append_event(&mut tx, "task.running", &format!("task/{task_id}"), data).await?;
            tx.commit().await?;
        }
        Ok(taken)
    }

    /// The running task this token was given for, if its claim still holds.
    pub async fn find_claimed_task(&self, task_id: i64, token: &str) -> Result<Option<TaskRow>> {
        Ok(sqlx::query_as(
            "SELECT id, kind, plan, runs_on, agent_id, claim_hash, lease_until, state, exit_code, error, NULL AS log
             FROM agent_tasks WHERE id = $1 AND claim_hash = $2 AND state = 'running'",
        )
        .bind(task_id)
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Extends a claimed task's lease; false when the claim is gone.
    pub async fn renew_task_lease(&self, task_id: i64, token: &str, until: i64) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE agent_tasks SET lease_until = $1 WHERE id = $2 AND claim_hash = $3 AND state = 'running'",
        )
        .bind(until)
        .bind(task_id)
        .bind(hash_secret(token))
        .execute(&self.writer)
        .await?
        .rows_affected()
            > 0)
    }

    /// Ends a claimed task with its exit code and log (its last [`TASK_LOG_MAX`] bytes), if the
    /// claim still holds; returns whether it did.
    pub async fn finish_task(
        &self,
        task_id: i64,
        token: &str,
        passed: bool,
        exit_code: Option<i64>,
        log: &str,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let cut = log.len().saturating_sub(TASK_LOG_MAX);
        let cut = (cut..=log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(log.len());
        let state = if passed { "success" } else { "failed" };
        let ended = sqlx::query(
            "UPDATE agent_tasks SET state = $1, exit_code = $2, log = $3, finished_at = $4, claim_hash = NULL
             WHERE id = $5 AND claim_hash = $6 AND state = 'running'",
        )
        .bind(state)
        .bind(exit_code)
        .bind(&log[cut..])
        .bind(now_ms())
        .bind(task_id)
        .bind(hash_secret(token))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if ended {
            let data = serde_json::json!({ "exit_code": exit_code });
            append_event(&mut tx, &format!("task.{state}"), &format!("task/{task_id}"), data).await?;
            tx.commit().await?;
        }
        Ok(ended)
    }

    pub async fn get_task(&self, task_id: i64) -> Result<TaskRow> {
        sqlx::query_as("SELECT id, kind, plan, runs_on, agent_id, claim_hash, lease_until, state, exit_code, error, log FROM agent_tasks WHERE id = $1")
            .bind(task_id)
            .fetch_optional(&self.writer)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("task {task_id}")))
    }

    /// Fails a task: one no agent took (`claim_hash` none), or one whose agent's lease ran out
    /// under the claim seen. Returns whether it failed here.
    pub async fn fail_task(&self, task_id: i64, claim_hash: Option<&str>, why: &str) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let failed = match claim_hash {
            None => sqlx::query(
                "UPDATE agent_tasks SET state = 'failed', error = $1, finished_at = $2 WHERE id = $3 AND state = 'pending'",
            )
            .bind(why)
            .bind(now)
            .bind(task_id)
            .execute(&mut *tx)
            .await?,
            Some(claim) => sqlx::query(
                "UPDATE agent_tasks SET state = 'failed', error = $1, finished_at = $2, claim_hash = NULL
                 WHERE id = $3 AND state = 'running' AND claim_hash = $4 AND lease_until < $2",
            )
            .bind(why)
            .bind(now)
            .bind(task_id)
            .bind(claim)
            .execute(&mut *tx)
            .await?,
        }
        .rows_affected()
            > 0;
        if failed {
            append_event(
                &mut tx,
                "task.failed",
                &format!("task/{task_id}"),
                serde_json::json!({ "why": why }),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(failed)
    }
}
