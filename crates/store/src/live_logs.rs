//! The log of a job still running, for the servers that do not run it (migration 0030). The
//! server running a job writes its log to a file in its work folder, which its own live views
//! read; on PostgreSQL it also hands each piece it writes out to `live_logs`, so any server
//! streams the log while it grows. Once the job ends its whole log is stored as a blob and the
//! pieces go. SQLite has one server: nothing is kept.

use crate::backend::Dialect;
use crate::{Result, Store};

/// Most bytes read in one query.
const READ_ROWS: i64 = 64;

impl Store {
    /// Whether other servers may share this database (PostgreSQL): what one server writes for
    /// the others to read is then worth writing.
    pub fn is_shared(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// Keeps a piece of job `job_id`'s log that starts at byte `offset`. Nothing on SQLite.
    pub async fn append_live_log(&self, job_id: i64, offset: u64, bytes: &[u8]) -> Result<()> {
        if !self.is_shared() || bytes.is_empty() {
            return Ok(());
        }
        sqlx::query("INSERT INTO live_logs (job_id, start_offset, bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(job_id)
            .bind(offset as i64)
            .bind(bytes)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Up to `max` bytes of job `job_id`'s live log from byte `offset`, as far as its pieces
    /// reach without a gap (empty when none is kept).
    pub async fn read_live_log(&self, job_id: i64, offset: u64, max: usize) -> Result<Vec<u8>> {
        if !self.is_shared() {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT start_offset, bytes FROM live_logs
             WHERE job_id = $1 AND start_offset + length(bytes) > $2
             ORDER BY start_offset LIMIT $3",
        )
        .bind(job_id)
        .bind(offset as i64)
        .bind(READ_ROWS)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        let mut at = offset;
        for (start, bytes) in rows {
            let start = start as u64;
            if start > at || out.len() >= max {
                break; // a piece not written yet: what follows waits for it
            }
            let skip = (at - start) as usize;
            let take = (bytes.len() - skip).min(max - out.len());
            out.extend_from_slice(&bytes[skip..skip + take]);
            at += take as u64;
        }
        Ok(out)
    }

    /// Forgets job `job_id`'s live log (its whole log is stored now).
    pub async fn drop_live_log(&self, job_id: i64) -> Result<()> {
        if !self.is_shared() {
            return Ok(());
        }
        sqlx::query("DELETE FROM live_logs WHERE job_id = $1")
            .bind(job_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets the live logs of jobs that are not running any more (a server that died during
    /// a job leaves its pieces behind); returns how many pieces went.
    pub async fn collect_live_logs(&self) -> Result<u64> {
        if !self.is_shared() {
            return Ok(0);
        }
        Ok(sqlx::query(
            "DELETE FROM live_logs WHERE job_id NOT IN (SELECT id FROM jobs WHERE state IN ('pending', 'running'))",
        )
        .execute(&self.writer)
        .await?
        .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;

    #[tokio::test]
    async fn a_running_jobs_log_reads_on_another_server_as_it_grows() {
        let place = TestDb::new().await;
        let (runner, other) = (place.open().await, place.open().await);
        let run = runner.insert_run("shop", "abc", "main", "hand").await.unwrap();
        runner
            .start_run(
                run.id,
                &[crate::NewJob {
                    name: "test".into(),
                    needs: vec![],
                    steps: vec![("test".into(), "true".into())],
                }],
            )
            .await
            .unwrap();
        let job = runner.list_jobs(run.id).await.unwrap()[0].id;
        runner.append_live_log(job, 0, b"[00:00.001] one\n").await.unwrap();
        runner.append_live_log(job, 16, b"[00:00.002] two\n").await.unwrap();
        if !runner.is_shared() {
            assert!(
                other.read_live_log(job, 0, 1 << 20).await.unwrap().is_empty(),
                "one server: the file serves"
            );
            return;
        }
        assert_eq!(
            other.read_live_log(job, 0, 1 << 20).await.unwrap(),
            b"[00:00.001] one\n[00:00.002] two\n"
        );
        assert_eq!(other.read_live_log(job, 21, 5).await.unwrap(), b"0.002");
        assert_eq!(
            other.read_live_log(job, 32, 100).await.unwrap(),
            b"",
            "nothing past the end yet"
        );
        // A piece not there yet (written out of order): what follows waits for it.
        runner.append_live_log(job, 48, b"[00:00.004] four\n").await.unwrap();
        assert_eq!(other.read_live_log(job, 16, 100).await.unwrap(), b"[00:00.002] two\n");
        // A job that is not running any more loses its pieces at the next collection.
        assert_eq!(other.collect_live_logs().await.unwrap(), 0, "still running");
        runner.drop_live_log(job).await.unwrap();
        assert!(other.read_live_log(job, 0, 100).await.unwrap().is_empty());
    }
}
