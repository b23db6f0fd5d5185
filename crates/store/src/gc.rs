//! Garbage collection of blobs: expired artifacts are forgotten, then blob files that nothing
//! references any more are deleted, from this server's data folder and, on PostgreSQL, from
//! the database (the copy every server reads from). What a release references is never
//! collected: a run that made a release keeps all its artifacts, whatever their expiry.

use crate::backend::Dialect;
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use std::collections::HashSet;

/// What a collection did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    pub artifacts_expired: u64,
    /// Files deleted from this server's data folder, and their bytes.
    pub blobs_deleted: u64,
    pub bytes_freed: u64,
    /// Blobs deleted from the database (PostgreSQL), and their bytes. Another server's folder
    /// keeps its copies of them until a collection runs there.
    pub shared_blobs_deleted: u64,
    pub shared_bytes_freed: u64,
}

/// Every digest a row references: what collection keeps.
const REFERENCED: &str = "SELECT digest FROM artifacts UNION SELECT log_digest FROM jobs WHERE log_digest IS NOT NULL
     UNION SELECT digest FROM caches UNION SELECT digest FROM log_chunks";

/// Blob files younger than this are never deleted: a job may have stored one a moment ago and
/// not yet recorded the row that references it.
const GRACE_MS: i64 = 60 * 60 * 1000;

impl Store {
    /// Forgets artifacts expired at `now` (unless their run made a release) and deletes the
    /// blobs no row references (files older than the grace period, and on PostgreSQL the
    /// database's copies written or rewritten before it).
    pub async fn collect_garbage(&self, now: i64) -> Result<GcReport> {
        let mut report = GcReport::default();
        let mut tx = self.writer.begin().await?;
        let expired = sqlx::query(
            "DELETE FROM artifacts WHERE expires_at IS NOT NULL AND expires_at <= $1
               AND run_id NOT IN (SELECT run_id FROM releases)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        report.artifacts_expired = expired.rows_affected();
        let referenced: Vec<(String,)> = sqlx::query_as(REFERENCED).fetch_all(&mut *tx).await?;
        let referenced: HashSet<String> = referenced.into_iter().map(|(d,)| d).collect();
        let root = self.blobs().root().to_path_buf();
        let (deleted, freed) = tokio::task::spawn_blocking(move || delete_unreferenced(&root, &referenced, now))
            .await
            .map_err(|e| StoreError::Corrupt {
                what: "garbage collection".into(),
                message: e.to_string(),
            })??;
        report.blobs_deleted = deleted;
        report.bytes_freed = freed;
        if self.dialect == Dialect::Postgres {
            // Chunks go with their row (ON DELETE CASCADE). A writer that finds a blob there
            // already touches its `created_at` under a row lock, so it is not deleted under it.
            let sizes: Vec<(i64,)> = sqlx::query_as(&format!(
                "DELETE FROM blobs WHERE created_at <= $1 AND digest NOT IN ({REFERENCED}) RETURNING size"
            ))
            .bind(now - GRACE_MS)
            .fetch_all(&mut *tx)
            .await?;
            report.shared_blobs_deleted = sizes.len() as u64;
            report.shared_bytes_freed = sizes.iter().map(|(s,)| *s as u64).sum();
        }
        let data = serde_json::to_value(&report).unwrap_or_default();
        append_event(&mut tx, "blobs.collected", "blobs", data).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// [`Store::collect_garbage`] as of now.
    pub async fn collect_garbage_now(&self) -> Result<GcReport> {
        self.collect_garbage(now_ms()).await
    }
}

fn delete_unreferenced(root: &std::path::Path, referenced: &HashSet<String>, now: i64) -> Result<(u64, u64)> {
    let io = |context: String| move |source| StoreError::Io { context, source };
    let (mut deleted, mut freed) = (0, 0);
    for dir in std::fs::read_dir(root).map_err(io(format!("cannot list {}", root.display())))? {
        let dir = dir.map_err(io("cannot list blobs".into()))?;
        let prefix = dir.file_name().to_string_lossy().into_owned();
        if prefix.len() != 2 || !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).map_err(io(format!("cannot list {}", dir.path().display())))? {
            let file = file.map_err(io("cannot list blobs".into()))?;
            let digest = format!("{prefix}{}", file.file_name().to_string_lossy());
            if referenced.contains(&digest) {
                continue;
            }
            let meta = file
                .metadata()
                .map_err(io(format!("cannot read {}", file.path().display())))?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(now, |d| d.as_millis() as i64);
            if now - modified < GRACE_MS {
                continue;
            }
            std::fs::remove_file(file.path()).map_err(io(format!("cannot delete {}", file.path().display())))?;
            deleted += 1;
            freed += meta.len();
        }
    }
    Ok((deleted, freed))
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;
    use tandem_core::pipeline::parse_service_spec;

    #[tokio::test]
    async fn expired_artifacts_go_but_what_a_release_references_stays() {
        let place = TestDb::new().await;
        let store = place.open().await;
        let spec = parse_service_spec(
            "t.yml",
            "service: s\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
        )
        .unwrap();
        let released = store.insert_run("s", "c1", "main", "api").await.unwrap();
        let scratch = store.insert_run("s", "c2", "dev", "api").await.unwrap();
        for run in [&released, &scratch] {
            let job = crate::NewJob {
                name: "a".into(),
                needs: vec![],
                steps: vec![],
            };
            store.start_run(run.id, &[job]).await.unwrap();
        }
        let job_of = |run| {
            let store = store.clone();
            async move { store.list_jobs(run).await.unwrap()[0].id }
        };
        let kept = store.put_blob_bytes(b"release binary".to_vec()).await.unwrap();
        let dropped = store.put_blob_bytes(b"dev binary".to_vec()).await.unwrap();
        let orphan = store.put_blob_bytes(b"nobody".to_vec()).await.unwrap();
        store
            .insert_artifact_expiring(released.id, job_of(released.id).await, "bin", &kept, 14, Some(10))
            .await
            .unwrap();
        store
            .insert_artifact_expiring(scratch.id, job_of(scratch.id).await, "bin", &dropped, 10, Some(10))
            .await
            .unwrap();
        store.insert_release("s", "c1", released.id, &spec).await.unwrap();

        // Within the grace period nothing is deleted from disk, but expired rows go.
        let now = crate::now_ms();
        let report = store.collect_garbage(now).await.unwrap();
        assert_eq!((report.artifacts_expired, report.blobs_deleted), (1, 0));
        assert_eq!(report.shared_blobs_deleted, 0);
        let replica = place.open_replica().await;

        let later = now + 2 * super::GRACE_MS;
        let report = store.collect_garbage(later).await.unwrap();
        assert_eq!(report.blobs_deleted, 2, "the expired artifact and the orphan");
        assert!(store.blobs().read(&kept).is_ok(), "the release's artifact stays");
        assert!(store.blobs().read(&dropped).is_err());
        assert!(store.blobs().read(&orphan).is_err());
        assert_eq!(store.list_artifacts(released.id).await.unwrap().len(), 1);

        let Some((_dir, replica)) = replica else {
            assert_eq!(
                (report.shared_blobs_deleted, report.shared_bytes_freed),
                (0, 0),
                "SQLite"
            );
            return;
        };
        assert_eq!(report.shared_blobs_deleted, 2, "the database's copies too");
        assert_eq!(report.shared_bytes_freed, ("dev binary".len() + "nobody".len()) as u64);
        assert_eq!(replica.read_blob(&kept).await.unwrap(), b"release binary");
        for gone in [&dropped, &orphan] {
            let err = replica.local_blob(gone).await.unwrap_err();
            assert!(matches!(err, crate::StoreError::NotFound { .. }), "{err}");
        }
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM blob_chunks")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(left, 1, "only the kept blob's chunk");
    }

    /// On PostgreSQL, a blob written again (a new reference on its way) counts as new: its
    /// database copy is not collected within the grace period after the rewrite.
    #[tokio::test]
    async fn a_blob_written_again_is_not_collected_under_its_new_reference() {
        let place = TestDb::new().await;
        let store = place.open().await;
        let digest = store.put_blob_bytes(b"cache archive".to_vec()).await.unwrap();
        if place.url().is_none() {
            return; // SQLite: files only, aged by their modification time as before
        }
        let age = || async {
            sqlx::query("UPDATE blobs SET created_at = 0 WHERE digest = $1")
                .bind(&digest)
                .execute(&store.writer)
                .await
                .unwrap();
        };
        age().await;
        store.put_blob_bytes(b"cache archive".to_vec()).await.unwrap();
        let report = store.collect_garbage_now().await.unwrap();
        assert_eq!(report.shared_blobs_deleted, 0, "written again a moment ago");
        age().await;
        let report = store.collect_garbage_now().await.unwrap();
        assert_eq!(report.shared_blobs_deleted, 1);
    }
}
