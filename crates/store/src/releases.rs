//! Releases: immutable, versioned bundles of artifacts built from one commit by one run.

use crate::backend::{Builder, IDS_PER_QUERY, push_in_list};
use crate::counters::{Counter, take_next};
use crate::events::append_event;
use crate::{Result, Store, StoreError, from_json, now_ms, to_json};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use tandem_core::pipeline::ServiceSpec;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ReleaseRow {
    pub id: i64,
    pub service: String,
    pub version: String,
    pub commit_sha: String,
    pub run_id: i64,
    /// The `tandem.yml` the release was built with, as JSON.
    pub spec: String,
    pub created_at: i64,
    /// Who built it: the Tandem build and the machine that ran its pipeline.
    pub builder: String,
    /// The JSON Schema of the service's config it was built with, when `tandem.yml` names one.
    pub config_schema: Option<String>,
}

/// One file of a release, by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseArtifact {
    pub name: String,
    pub digest: String,
    pub size: i64,
}

impl ReleaseRow {
    /// The `tandem.yml` the release was built with.
    pub fn service_spec(&self) -> Result<ServiceSpec> {
        from_json("release spec", &self.spec)
    }
}

impl Store {
    /// Makes the next release (`v1`, `v2`, …) of `service` from a green run.
    pub async fn insert_release(
        &self,
        service: &str,
        commit_sha: &str,
        run_id: i64,
        spec: &ServiceSpec,
    ) -> Result<ReleaseRow> {
        self.insert_release_by(service, commit_sha, run_id, spec, "").await
    }

    /// Makes the next release, recording who built it (its provenance: commit, run, builder,
    /// and through the run its artifacts' digests).
    pub async fn insert_release_by(
        &self,
        service: &str,
        commit_sha: &str,
        run_id: i64,
        spec: &ServiceSpec,
        builder: &str,
    ) -> Result<ReleaseRow> {
        self.insert_release_with(service, commit_sha, run_id, spec, builder, None)
            .await
    }

    /// Like [`Store::insert_release_by`], with the config schema read at the release's commit.
    pub async fn insert_release_with(
        &self,
        service: &str,
        commit_sha: &str,
        run_id: i64,
        spec: &ServiceSpec,
        builder: &str,
        config_schema: Option<&str>,
    ) -> Result<ReleaseRow> {
        let mut tx = self.writer.begin().await?;
        let version = format!("v{}", take_next(&mut tx, Counter::Release { service }).await?);
        let row: ReleaseRow = sqlx::query_as(
            "INSERT INTO releases (service, version, commit_sha, run_id, spec, created_at, builder, config_schema)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(service)
        .bind(&version)
        .bind(commit_sha)
        .bind(run_id)
        .bind(to_json(spec))
        .bind(now_ms())
        .bind(builder)
        .bind(config_schema)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "service": service, "version": version, "commit": commit_sha, "run": run_id });
        append_event(&mut tx, "release.created", &format!("release/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_release(&self, id: i64) -> Result<ReleaseRow> {
        sqlx::query_as("SELECT * FROM releases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("release {id}")))
    }

    pub async fn get_release_by_version(&self, service: &str, version: &str) -> Result<ReleaseRow> {
        sqlx::query_as("SELECT * FROM releases WHERE service = $1 AND version = $2")
            .bind(service)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("release {version} of {service}")))
    }

    /// The versions of the releases `ids` names, by id (an unknown id is left out).
    pub async fn list_release_versions(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
        let mut versions = std::collections::HashMap::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = Builder::new("SELECT id, version FROM releases WHERE id IN ");
            push_in_list(&mut query, chunk.iter().copied());
            let rows: Vec<(i64, String)> = query.build_query_as().fetch_all(&self.pool).await?;
            versions.extend(rows);
        }
        Ok(versions)
    }

    /// Releases, newest first, optionally of one service.
    pub async fn list_releases(&self, service: Option<&str>) -> Result<Vec<ReleaseRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM releases WHERE ($1 IS NULL OR service = $1) ORDER BY id DESC")
                .bind(service)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A page of releases, newest first: at most `limit`, older than the release with id `after`.
    pub async fn list_releases_page(
        &self,
        service: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReleaseRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM releases WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(service)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The files of a release: the artifacts its run stored.
    pub async fn list_release_artifacts(&self, release_id: i64) -> Result<Vec<ReleaseArtifact>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT a.name, a.digest, a.size FROM artifacts a JOIN releases r ON r.run_id = a.run_id
             WHERE r.id = $1 ORDER BY a.id",
        )
        .bind(release_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, digest, size)| ReleaseArtifact { name, digest, size })
            .collect())
    }
}
