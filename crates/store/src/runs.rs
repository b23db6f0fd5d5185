//! Pipeline runs, their jobs, steps and artifacts.

use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms, to_json};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::state::{JobState, RunState, StepState};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct RunRow {
    pub id: i64,
    pub service: String,
    pub commit_sha: String,
    pub branch: String,
    /// push, poll, schedule, api, demo, rerun or local.
    pub trigger: String,
    /// queued, running, success, failed, cancelled or interrupted.
    #[sqlx(try_from = "String")]
    pub state: RunState,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The run this one repeats (re-running only its failed jobs).
    pub rerun_of: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct JobRow {
    pub id: i64,
    pub run_id: i64,
    pub name: String,
    pub position: i64,
    /// JSON list of job names.
    pub needs: String,
    /// pending, running, success, failed, cancelled, skipped or interrupted.
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub exit_code: Option<i64>,
    /// sha256 of the job's log blob.
    pub log_digest: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The name of the agent holding (or that last held) the job, when it ran on one.
    pub agent: Option<String>,
    /// Why a job offered to agents still waits (`no agent with labels gpu`), or why it was lost.
    pub waiting: Option<String>,
    /// How many times its agent was lost while running it.
    pub lost: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct StepRow {
    pub id: i64,
    pub job_id: i64,
    pub position: i64,
    pub name: String,
    pub command: String,
    /// pending, running, success, failed, cancelled or skipped.
    #[sqlx(try_from = "String")]
    pub state: StepState,
    pub exit_code: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ArtifactRow {
    pub id: i64,
    pub run_id: i64,
    pub job_id: i64,
    pub name: String,
    pub path: String,
    pub digest: String,
    pub size: i64,
    /// When it may be collected (Unix ms); never while a release references it.
    pub expires_at: Option<i64>,
}

/// Which runs to list; `None` matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFilter<'a> {
    pub service: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// A job to create with its run, with its steps' (name, command).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub name: String,
    pub needs: Vec<String>,
    pub steps: Vec<(String, String)>,
}

/// A job's start (when given) and its steps' rows as they are now, in `tx`.
async fn write_progress(
    tx: &mut crate::backend::Conn,
    job_id: i64,
    started_at: Option<i64>,
    steps: &[StepRow],
) -> Result<()> {
    if let Some(at) = started_at {
        sqlx::query("UPDATE jobs SET state = 'running', started_at = $1, finished_at = NULL WHERE id = $2")
            .bind(at)
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        append_event(tx, "job.running", &format!("job/{job_id}"), serde_json::json!({})).await?;
    }
    for step in steps {
        sqlx::query("UPDATE steps SET state = $1, exit_code = $2, started_at = $3, finished_at = $4 WHERE id = $5")
            .bind(step.state.as_str())
            .bind(step.exit_code)
            .bind(step.started_at)
            .bind(step.finished_at)
            .bind(step.id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Queues a run of `service` at `commit_sha`.
    pub async fn insert_run(&self, service: &str, commit_sha: &str, branch: &str, trigger: &str) -> Result<RunRow> {
        let mut tx = self.writer.begin().await?;
        let row: RunRow = sqlx::query_as(
            "INSERT INTO runs (service, commit_sha, branch, trigger, state, created_at)
             VALUES ($1, $2, $3, $4, 'queued', $5) RETURNING *",
        )
        .bind(service)
        .bind(commit_sha)
        .bind(branch)
        .bind(trigger)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data =
            serde_json::json!({ "service": service, "commit": commit_sha, "branch": branch, "trigger": trigger });
        append_event(&mut tx, "run.queued", &format!("run/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The runs queued and not started, oldest first: the conductor's to start.
    pub async fn list_queued_runs(&self) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM runs WHERE state = 'queued' ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Queues a run that repeats `original` at the same commit, running only the jobs that did
    /// not pass there.
    pub async fn insert_rerun(&self, original: &RunRow, trigger: &str) -> Result<RunRow> {
        let mut tx = self.writer.begin().await?;
        let row: RunRow = sqlx::query_as(
            "INSERT INTO runs (service, commit_sha, branch, trigger, state, created_at, rerun_of)
             VALUES ($1, $2, $3, $4, 'queued', $5, $6) RETURNING *",
        )
        .bind(&original.service)
        .bind(&original.commit_sha)
        .bind(&original.branch)
        .bind(trigger)
        .bind(now_ms())
        .bind(original.id)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "rerun_of": original.id, "trigger": trigger });
        append_event(&mut tx, "run.queued", &format!("run/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a job of a re-run as passed by reusing the original run's job: its log and its
    /// artifacts (same digests) carry over.
    pub async fn reuse_job(&self, run_id: i64, job_id: i64, original: &JobRow) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = 'success', exit_code = $1, log_digest = $2, started_at = $3, finished_at = $4 WHERE id = $5",
        )
        .bind(original.exit_code)
        .bind(&original.log_digest)
        .bind(original.started_at)
        .bind(original.finished_at)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE steps SET state = 'success', exit_code = 0 WHERE job_id = $1")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO artifacts (run_id, job_id, name, path, digest, size, expires_at)
             SELECT $1, $2, name, path, digest, size, expires_at FROM artifacts WHERE job_id = $3",
        )
        .bind(run_id)
        .bind(job_id)
        .bind(original.id)
        .execute(&mut *tx)
        .await?;
        let data = serde_json::json!({ "reused": original.id });
        append_event(&mut tx, "job.reused", &format!("job/{job_id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a run as running and creates its jobs and steps (from the pipeline read at its commit).
    pub async fn start_run(&self, run_id: i64, jobs: &[NewJob]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for (i, job) in jobs.iter().enumerate() {
            let (job_id,): (i64,) = sqlx::query_as(
                "INSERT INTO jobs (run_id, name, position, needs, state) VALUES ($1, $2, $3, $4, 'pending') RETURNING id",
            )
            .bind(run_id)
            .bind(&job.name)
            .bind(i as i64)
            .bind(to_json(&job.needs))
            .fetch_one(&mut *tx)
            .await?;
            for (j, (name, command)) in job.steps.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO steps (job_id, position, name, command, state) VALUES ($1, $2, $3, $4, 'pending')",
                )
                .bind(job_id)
                .bind(j as i64)
                .bind(name)
                .bind(command)
                .execute(&mut *tx)
                .await?;
            }
        }
        let started =
            sqlx::query("UPDATE runs SET state = 'running', started_at = $1 WHERE id = $2 AND state = 'queued'")
                .bind(now_ms())
                .bind(run_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if started != 1 {
            return Err(StoreError::Conflict(format!(
                "run {run_id} is not queued: it started already"
            )));
        }
        append_event(
            &mut tx,
            "run.started",
            &format!("run/{run_id}"),
            serde_json::json!({ "jobs": jobs.len() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a run with `state` (success, failed, interrupted) and an optional error.
    pub async fn finish_run(&self, run_id: i64, state: RunState, error: Option<&str>) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE runs SET state = $1, error = $2, finished_at = $3 WHERE id = $4")
            .bind(state.as_str())
            .bind(error)
            .bind(now_ms())
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE jobs SET state = 'skipped' WHERE run_id = $1 AND state = 'pending'")
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({ "state": state, "error": error });
        append_event(&mut tx, &format!("run.{state}"), &format!("run/{run_id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks runs left running by a previous process as interrupted; returns their ids.
    pub async fn interrupt_unfinished_runs(&self) -> Result<Vec<i64>> {
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM runs WHERE state = 'running'")
            .fetch_all(&self.pool)
            .await?;
        for (id,) in &ids {
            let mut tx = self.writer.begin().await?;
            sqlx::query(
                "UPDATE jobs SET state = 'interrupted', finished_at = $1 WHERE run_id = $2 AND state = 'running'",
            )
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            self.finish_run(
                *id,
                tandem_core::state::RunState::Interrupted,
                Some("the server stopped while this run was in progress"),
            )
            .await?;
        }
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    pub async fn update_job_state(&self, job_id: i64, state: JobState) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = $1,
               started_at = CASE WHEN $1 = 'running' THEN $2 ELSE started_at END,
               finished_at = CASE WHEN $1 = 'running' THEN NULL ELSE $2 END
             WHERE id = $3",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        append_event(
            &mut tx,
            &format!("job.{state}"),
            &format!("job/{job_id}"),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a job with its state, exit code and the digest of its log.
    pub async fn finish_job(
        &self,
        job_id: i64,
        state: JobState,
        exit_code: Option<i64>,
        log_digest: &str,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE jobs SET state = $1, exit_code = $2, log_digest = $3, finished_at = $4 WHERE id = $5")
            .bind(state.as_str())
            .bind(exit_code)
            .bind(log_digest)
            .bind(now_ms())
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({ "exit_code": exit_code });
        append_event(&mut tx, &format!("job.{state}"), &format!("job/{job_id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a job's progress since it was last recorded, in one transaction: that it started
    /// running at `started_at` (Unix ms), when given, and its steps' states, exit codes and
    /// times as the rows hold them. The runner writes a job's progress behind its steps.
    pub async fn save_job_progress(&self, job_id: i64, started_at: Option<i64>, steps: &[StepRow]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        write_progress(&mut tx, job_id, started_at, steps).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a job and records its packed log, with the progress not recorded yet (see
    /// [`Store::save_job_progress`]), in one transaction: one update of the job, its steps',
    /// its log's chunks, and its events (`job.running` if its start was not recorded yet,
    /// `log.stored`, `job.<state>`) appended together.
    pub async fn finish_job_with_log(
        &self,
        job_id: i64,
        state: JobState,
        exit_code: Option<i64>,
        log: &crate::PackedLog,
        started_at: Option<i64>,
        steps: &[StepRow],
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE jobs SET state = $1, exit_code = $2, log_digest = $3, finished_at = $4,
               started_at = COALESCE($5, started_at) WHERE id = $6",
        )
        .bind(state.as_str())
        .bind(exit_code)
        .bind(&log.digest)
        .bind(now_ms())
        .bind(started_at)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        write_progress(&mut tx, job_id, None, steps).await?;
        let stored = crate::logs::insert_chunks(&mut tx, log).await?;
        let subject = format!("job/{job_id}");
        let mut events = Vec::with_capacity(3);
        if started_at.is_some() {
            events.push(("job.running".to_string(), subject.clone(), serde_json::json!({})));
        }
        events.push(stored);
        let data = serde_json::json!({ "exit_code": exit_code, "log_bytes": log.size });
        events.push((format!("job.{state}"), subject, data));
        crate::events::append_events(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_step(&self, step_id: i64, state: StepState, exit_code: Option<i64>) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE steps SET state = $1, exit_code = $2,
               started_at = COALESCE(started_at, $3),
               finished_at = CASE WHEN $1 = 'running' THEN NULL ELSE $3 END
             WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(exit_code)
        .bind(now)
        .bind(step_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn insert_artifact(
        &self,
        run_id: i64,
        job_id: i64,
        path: &str,
        digest: &str,
        size: u64,
    ) -> Result<ArtifactRow> {
        self.insert_artifact_expiring(run_id, job_id, path, digest, size, None)
            .await
    }

    /// Records an artifact that may be collected after `expires_at` (Unix ms) unless a release
    /// references it.
    pub async fn insert_artifact_expiring(
        &self,
        run_id: i64,
        job_id: i64,
        path: &str,
        digest: &str,
        size: u64,
        expires_at: Option<i64>,
    ) -> Result<ArtifactRow> {
        let name = tandem_core::pipeline::artifact_name(path);
        let mut tx = self.writer.begin().await?;
        let row: ArtifactRow = sqlx::query_as(
            "INSERT INTO artifacts (run_id, job_id, name, path, digest, size, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(run_id)
        .bind(job_id)
        .bind(name)
        .bind(path)
        .bind(digest)
        .bind(size as i64)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "name": name, "digest": digest, "size": size });
        append_event(&mut tx, "artifact.stored", &format!("run/{run_id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_run(&self, run_id: i64) -> Result<RunRow> {
        sqlx::query_as("SELECT * FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("run {run_id}")))
    }

    /// Runs, newest first, optionally of one service.
    pub async fn list_runs(&self, service: Option<&str>, limit: i64) -> Result<Vec<RunRow>> {
        self.list_runs_where(
            &RunFilter {
                service,
                ..Default::default()
            },
            limit,
        )
        .await
    }

    /// Runs matching every given filter, newest first.
    pub async fn list_runs_where(&self, filter: &RunFilter<'_>, limit: i64) -> Result<Vec<RunRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM runs WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR branch = $2)
               AND ($3 IS NULL OR state = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(filter.service)
        .bind(filter.branch)
        .bind(filter.state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A page of runs matching every given filter, newest first: at most `limit`, older than
    /// the run with id `after`.
    pub async fn list_runs_page(&self, filter: &RunFilter<'_>, after: Option<i64>, limit: i64) -> Result<Vec<RunRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM runs WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR branch = $2)
               AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.service)
        .bind(filter.branch)
        .bind(filter.state)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_jobs(&self, run_id: i64) -> Result<Vec<JobRow>> {
        Ok(sqlx::query_as(
            "SELECT jobs.*, (SELECT name FROM agents WHERE agents.id = jobs.agent_id) AS agent
             FROM jobs WHERE run_id = $1 ORDER BY position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_steps(&self, job_id: i64) -> Result<Vec<StepRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM steps WHERE job_id = $1 ORDER BY position")
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every step of a run, by job then position.
    pub async fn list_run_steps(&self, run_id: i64) -> Result<Vec<StepRow>> {
        Ok(sqlx::query_as(
            "SELECT steps.* FROM steps JOIN jobs ON jobs.id = steps.job_id WHERE jobs.run_id = $1
             ORDER BY steps.job_id, steps.position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn list_artifacts(&self, run_id: i64) -> Result<Vec<ArtifactRow>> {
        Ok(sqlx::query_as("SELECT * FROM artifacts WHERE run_id = $1 ORDER BY id")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn a_run_moves_through_its_states_and_leaves_events() {
        let (_dir, store) = store().await;
        let run = store.insert_run("shop", "abc", "main", "hand").await.unwrap();
        assert_eq!(run.state, "queued");
        let jobs = [
            NewJob {
                name: "test".into(),
                needs: vec![],
                steps: vec![("test".into(), "cargo test".into())],
            },
            NewJob {
                name: "build".into(),
                needs: vec!["test".into()],
                steps: vec![("build".into(), "cargo build".into())],
            },
        ];
        store.start_run(run.id, &jobs).await.unwrap();
        let listed = store.list_jobs(run.id).await.unwrap();
        assert_eq!(listed.len(), 2);
        store.update_job_state(listed[0].id, JobState::Running).await.unwrap();
        store
            .finish_job(listed[0].id, JobState::Failed, Some(1), "d")
            .await
            .unwrap();
        store
            .finish_run(run.id, RunState::Failed, Some("job test failed"))
            .await
            .unwrap();
        let jobs = store.list_jobs(run.id).await.unwrap();
        assert_eq!(jobs[0].state, "failed");
        assert_eq!(jobs[1].state, "skipped", "jobs that never started are skipped");
        let kinds: Vec<String> = store
            .list_events(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["run.queued", "run.started", "job.running", "job.failed", "run.failed"]
        );
    }

    #[tokio::test]
    async fn a_jobs_progress_is_recorded_in_batches_and_the_rest_with_its_end() {
        let (dir, store) = store().await;
        let run = store.insert_run("shop", "abc", "main", "hand").await.unwrap();
        let job = NewJob {
            name: "test".into(),
            needs: vec![],
            steps: vec![("a".into(), "true".into()), ("b".into(), "false".into())],
        };
        store.start_run(run.id, &[job]).await.unwrap();
        let job_id = store.list_jobs(run.id).await.unwrap()[0].id;
        let mut steps = store.list_run_steps(run.id).await.unwrap();
        assert_eq!(steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);

        steps[0].state = StepState::Success;
        (steps[0].exit_code, steps[0].started_at, steps[0].finished_at) = (Some(0), Some(10), Some(20));
        store.save_job_progress(job_id, Some(5), &steps[..1]).await.unwrap();
        let job = &store.list_jobs(run.id).await.unwrap()[0];
        assert_eq!((job.state.as_str(), job.started_at), ("running", Some(5)));
        let saved = store.list_steps(job_id).await.unwrap();
        assert_eq!((saved[0].state.as_str(), saved[0].finished_at), ("success", Some(20)));
        assert_eq!(saved[1].state, "pending");

        steps[1].state = StepState::Failed;
        (steps[1].exit_code, steps[1].started_at, steps[1].finished_at) = (Some(1), Some(20), Some(30));
        let path = dir.path().join("job.log");
        std::fs::write(&path, "[00:00.000] ▶ b\n").unwrap();
        let log = store.pack_log(&path).await.unwrap();
        store
            .finish_job_with_log(job_id, JobState::Failed, Some(1), &log, None, &steps[1..])
            .await
            .unwrap();
        let job = &store.list_jobs(run.id).await.unwrap()[0];
        assert_eq!(
            (job.state.as_str(), job.exit_code, job.started_at),
            ("failed", Some(1), Some(5))
        );
        let saved = store.list_steps(job_id).await.unwrap();
        assert_eq!((saved[1].state.as_str(), saved[1].exit_code), ("failed", Some(1)));
        let text = store
            .read_log(job.log_digest.as_deref().unwrap(), 0, usize::MAX)
            .await
            .unwrap();
        assert_eq!(text, "[00:00.000] ▶ b\n".as_bytes());
        let kinds: Vec<String> = store
            .list_events(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["run.queued", "run.started", "job.running", "log.stored", "job.failed"]
        );
    }

    #[tokio::test]
    async fn unfinished_runs_are_interrupted_on_restart_and_queued_ones_wait() {
        let (_dir, store) = store().await;
        let run = store.insert_run("shop", "abc", "main", "hand").await.unwrap();
        let queued = store.insert_run("shop", "abd", "main", "hand").await.unwrap();
        assert_eq!(store.list_queued_runs().await.unwrap(), [run.id, queued.id]);
        store.start_run(run.id, &[]).await.unwrap();
        let again = store.start_run(run.id, &[]).await.unwrap_err();
        assert!(again.to_string().contains("started already"), "{again}");
        assert_eq!(store.interrupt_unfinished_runs().await.unwrap(), [run.id]);
        assert_eq!(store.list_queued_runs().await.unwrap(), [queued.id]);
        assert_eq!(store.get_run(run.id).await.unwrap().state, "interrupted");
        assert!(store.interrupt_unfinished_runs().await.unwrap().is_empty());
    }
}
