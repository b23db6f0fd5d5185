//! What happened, read through the engine: runs with their jobs, steps, logs and artifacts;
//! releases, rollouts and deployments with their gates and decisions; incidents; config
//! versions and change requests; market health and metric series; the audit trail and the
//! event log; webhook deliveries; and the admin's garbage collection. The server shapes pages
//! and answers from these and never reaches the store itself.

use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_store::incident_history::IncidentListRow;
use tandem_store::{
    ArtifactRow, AuditFilter, AuditPage, ChainReport, ChangeReviewRow, ChangeRow, Claim, ConfigVersionRow, DecisionRow,
    DeploymentRow, EventRow, GcReport, IncidentRow, JobRow, MarketConfigRow, MarketDeployments, MarketGateRow,
    MarketHealthRow, NewDelivery, ReleaseArtifact, ReleaseRow, RolloutRow, RunFilter, RunRow, SeriesPoint, StateCounts,
    StepRow,
};

/// Runs, jobs, steps, logs and artifacts.
impl Engine {
    /// Run `id`.
    pub async fn get_run(&self, id: i64) -> Result<RunRow> {
        Ok(self.store.get_run(id).await?)
    }

    /// Up to `limit` runs, newest first, of `service` or of all.
    pub async fn list_runs(&self, service: Option<&str>, limit: i64) -> Result<Vec<RunRow>> {
        Ok(self.store.list_runs(service, limit).await?)
    }

    /// Up to `limit` runs matching `filter`, newest first.
    pub async fn list_runs_where(&self, filter: &RunFilter<'_>, limit: i64) -> Result<Vec<RunRow>> {
        Ok(self.store.list_runs_where(filter, limit).await?)
    }

    /// One page of runs matching `filter`, after the cursor `after`.
    pub async fn list_runs_page(&self, filter: &RunFilter<'_>, after: Option<i64>, limit: i64) -> Result<Vec<RunRow>> {
        Ok(self.store.list_runs_page(filter, after, limit).await?)
    }

    /// The jobs of run `run_id`.
    pub async fn list_jobs(&self, run_id: i64) -> Result<Vec<JobRow>> {
        Ok(self.store.list_jobs(run_id).await?)
    }

    /// The jobs of run `run_id`, each with its steps.
    pub async fn list_jobs_with_steps(&self, run_id: i64) -> Result<Vec<(JobRow, Vec<StepRow>)>> {
        let mut out = Vec::new();
        for job in self.store.list_jobs(run_id).await? {
            let steps = self.store.list_steps(job.id).await?;
            out.push((job, steps));
        }
        Ok(out)
    }

    /// The version of the release `run` made, if it made one.
    pub async fn release_made_by(&self, run: &RunRow) -> Result<Option<String>> {
        Ok(self
            .store
            .list_releases(Some(&run.service))
            .await?
            .into_iter()
            .find(|r| r.run_id == run.id)
            .map(|r| r.version))
    }

    /// The artifacts run `run_id` stored.
    pub async fn list_artifacts(&self, run_id: i64) -> Result<Vec<ArtifactRow>> {
        Ok(self.store.list_artifacts(run_id).await?)
    }

    /// Up to `max` bytes from `offset` of the stored log `digest`.
    pub async fn read_log(&self, digest: &str, offset: u64, max: usize) -> Result<Vec<u8>> {
        Ok(self.store.read_log(digest, offset, max).await?)
    }

    /// The size in bytes of the stored log `digest` (a log stored whole, as older servers did,
    /// is measured by its file).
    pub async fn stored_log_size(&self, digest: &str) -> Result<u64> {
        Ok(match self.store.log_size(digest).await? {
            0 => match self.store.local_blob(digest).await {
                Ok(path) => tokio::fs::metadata(path).await.map_or(0, |m| m.len()),
                Err(_) => 0,
            },
            n => n,
        })
    }

    /// Opens the stored blob (an artifact) whose sha256 is `digest`, fetched into this
    /// server's data folder first if another server stored it.
    pub async fn open_blob(&self, digest: &str) -> Result<std::fs::File> {
        self.store.local_blob(digest).await?;
        let store = self.store.clone();
        let digest = digest.to_string();
        let opened = tokio::task::spawn_blocking(move || store.blobs().open_blob(&digest)).await;
        Ok(opened.map_err(|e| anyhow::anyhow!("cannot open a blob: {e}"))??)
    }
}

/// Releases, rollouts, deployments, gates and decisions.
impl Engine {
    /// Release `id`.
    pub async fn get_release(&self, id: i64) -> Result<ReleaseRow> {
        Ok(self.store.get_release(id).await?)
    }

    /// Every release, of `service` or of all.
    pub async fn list_releases(&self, service: Option<&str>) -> Result<Vec<ReleaseRow>> {
        Ok(self.store.list_releases(service).await?)
    }

    /// One page of releases, of `service` or of all, after the cursor `after`.
    pub async fn list_releases_page(
        &self,
        service: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReleaseRow>> {
        Ok(self.store.list_releases_page(service, after, limit).await?)
    }

    /// The versions of the releases `ids`, by id.
    pub async fn list_release_versions(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        Ok(self.store.list_release_versions(ids).await?)
    }

    /// The artifacts release `release_id` bundles.
    pub async fn list_release_artifacts(&self, release_id: i64) -> Result<Vec<ReleaseArtifact>> {
        Ok(self.store.list_release_artifacts(release_id).await?)
    }

    /// Rollout `id`.
    pub async fn get_rollout(&self, id: i64) -> Result<RolloutRow> {
        Ok(self.store.get_rollout(id).await?)
    }

    /// Up to `limit` rollouts, newest first.
    pub async fn list_rollouts(&self, limit: i64) -> Result<Vec<RolloutRow>> {
        Ok(self.store.list_rollouts(limit).await?)
    }

    /// One page of rollouts after the cursor `after`.
    pub async fn list_rollouts_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<RolloutRow>> {
        Ok(self.store.list_rollouts_page(after, limit).await?)
    }

    /// The deployments of rollout `rollout_id`, or every deployment.
    pub async fn list_deployments(&self, rollout_id: Option<i64>) -> Result<Vec<DeploymentRow>> {
        Ok(self.store.list_deployments(rollout_id).await?)
    }

    /// A page of deployments (of rollout `rollout_id`, or all), oldest first, after id `after`.
    pub async fn list_deployments_page(
        &self,
        rollout_id: Option<i64>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeploymentRow>> {
        Ok(self.store.list_deployments_page(rollout_id, after, limit).await?)
    }

    /// The deployments of `service` in `market`.
    pub async fn list_deployments_of_market(&self, service: &str, market: &str) -> Result<Vec<DeploymentRow>> {
        Ok(self.store.list_deployments_of_market(service, market).await?)
    }

    /// The deployment live in each market now.
    pub async fn list_live_deployments(&self) -> Result<Vec<DeploymentRow>> {
        Ok(self.store.list_live_deployments().await?)
    }

    /// Per (service, market): the live, in-flight and latest deployment, as the matrix shows.
    pub async fn list_market_deployments(&self) -> Result<HashMap<(String, String), MarketDeployments>> {
        Ok(self.store.list_market_deployments().await?)
    }

    /// The (market, holder) locks held on `service`'s markets.
    pub async fn list_market_locks(&self, service: &str) -> Result<Vec<(String, String)>> {
        Ok(self.store.list_market_locks(service).await?)
    }

    /// The gates rollout `rollout_id` ran, per market.
    pub async fn list_rollout_gates(&self, rollout_id: i64) -> Result<Vec<MarketGateRow>> {
        Ok(self.store.list_rollout_gates(rollout_id).await?)
    }

    /// What people decided on rollout `rollout_id`.
    pub async fn list_decisions(&self, rollout_id: i64) -> Result<Vec<DecisionRow>> {
        Ok(self.store.list_decisions(rollout_id).await?)
    }
}

/// Incidents.
impl Engine {
    /// Incident `id`.
    pub async fn get_incident(&self, id: i64) -> Result<IncidentRow> {
        Ok(self.store.get_incident(id).await?)
    }

    /// Every open incident.
    pub async fn list_open_incidents(&self) -> Result<Vec<IncidentRow>> {
        Ok(self.store.list_open_incidents().await?)
    }

    /// One page of incidents after the cursor `after`.
    pub async fn list_incidents_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IncidentRow>> {
        Ok(self.store.list_incidents_page(after, limit).await?)
    }

    /// Up to `limit` incidents in `state` (or any), with the release each was linked to.
    pub async fn list_incidents_with_releases(&self, state: Option<&str>, limit: i64) -> Result<Vec<IncidentListRow>> {
        Ok(self.store.list_incidents_with_releases(state, limit).await?)
    }

    /// Up to `limit` events of `incident`'s timeline, as of `now` (Unix ms).
    pub async fn list_incident_events(&self, incident: &IncidentRow, now: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(self.store.list_incident_events(incident, now, limit).await?)
    }

    /// The incident Alertmanager's alert `fingerprint` opened, while it is open.
    pub async fn open_incident_of_alert(&self, fingerprint: &str) -> Result<Option<IncidentRow>> {
        Ok(self.store.open_incident_of_alert(fingerprint).await?)
    }

    /// Links incident `id` to the deployment that caused it.
    pub async fn link_incident(&self, id: i64, deployment_id: i64, by: &str) -> Result<IncidentRow> {
        Ok(self.store.link_incident(id, deployment_id, by).await?)
    }
}

/// Config versions and change requests.
impl Engine {
    /// `service`'s newest config version.
    pub async fn latest_config(&self, service: &str) -> Result<ConfigVersionRow> {
        Ok(self.store.latest_config(service).await?)
    }

    /// Version `version` of `service`'s config.
    pub async fn get_config_version(&self, service: &str, version: i64) -> Result<ConfigVersionRow> {
        Ok(self.store.get_config_version(service, version).await?)
    }

    /// A page of `service`'s config versions, newest first, older than `after`.
    pub async fn list_config_versions_page(
        &self,
        service: &str,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ConfigVersionRow>> {
        Ok(self.store.list_config_versions_page(service, after, limit).await?)
    }

    /// The config version each market of `service` was last moved to, by market id (markets
    /// never moved are absent: they run the newest).
    pub async fn market_config_versions(&self, service: &str) -> Result<std::collections::BTreeMap<String, i64>> {
        Ok(self.store.market_config_versions(service).await?)
    }

    /// Every market's move to a config version of `service` between `first` and `last`.
    pub async fn list_market_configs_of_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<MarketConfigRow>> {
        Ok(self.store.list_market_configs_of_versions(service, first, last).await?)
    }

    /// The reviews of the change requests that made `service`'s config versions `first..=last`.
    pub async fn list_reviews_of_config_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<ChangeReviewRow>> {
        Ok(self.store.list_reviews_of_config_versions(service, first, last).await?)
    }

    /// The change requests that made `service`'s config versions `first..=last`.
    pub async fn list_changes_of_config_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<ChangeRow>> {
        Ok(self.store.list_changes_of_config_versions(service, first, last).await?)
    }

    /// A page of change requests, newest first, of `service` or of all, older than `after`.
    pub async fn list_changes_page(
        &self,
        service: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ChangeRow>> {
        Ok(self.store.list_changes_page(service, after, limit).await?)
    }

    /// Change request `id`.
    pub async fn get_change(&self, id: i64) -> Result<ChangeRow> {
        Ok(self.store.get_change(id).await?)
    }

    /// Up to `limit` change requests, newest first, of `service` or of all.
    pub async fn list_changes(&self, service: Option<&str>, limit: i64) -> Result<Vec<ChangeRow>> {
        Ok(self.store.list_changes(service, limit).await?)
    }
}

/// Health, metrics, the audit trail, events, webhook deliveries and garbage collection.
impl Engine {
    /// The monitor's last verdict per (service, market).
    pub async fn list_market_health(&self) -> Result<Vec<MarketHealthRow>> {
        Ok(self.store.list_market_health().await?)
    }

    /// A page of [`Engine::list_market_health`], after the (service, market) `after`.
    pub async fn list_market_health_page(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<MarketHealthRow>> {
        Ok(self.store.list_market_health_page(after, limit).await?)
    }

    /// The names of the metric series `service` has.
    pub async fn series_names(&self, service: &str) -> Result<Vec<String>> {
        Ok(self.store.series_names(service).await?)
    }

    /// The points of `service`'s series `metric` (in `market` or all), in buckets of
    /// `resolution` ms between `from` and `to` (Unix ms).
    pub async fn series(
        &self,
        service: &str,
        market: Option<&str>,
        metric: &str,
        resolution: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        Ok(self.store.series(service, market, metric, resolution, from, to).await?)
    }

    /// How many runs, rollouts, deployments and incidents are in each state (for `/metrics`).
    pub async fn state_counts(&self) -> Result<StateCounts> {
        Ok(self.store.state_counts().await?)
    }

    /// One page of the audit trail matching `filter`.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        Ok(self.store.list_audit(filter).await?)
    }

    /// Checks the audit trail's hash chain end to end.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        Ok(self.store.verify_audit_chain().await?)
    }

    /// Up to `limit` events after event `after_id`.
    pub async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(self.store.list_events(after_id, limit).await?)
    }

    /// Claims a webhook delivery, or tells it is a replay of one already received.
    pub async fn claim_delivery(&self, new: NewDelivery<'_>) -> Result<Claim> {
        Ok(self.store.claim_delivery(new).await?)
    }

    /// Records that `delivery` queued run `run_id`.
    pub async fn set_delivery_run(&self, delivery: i64, run_id: i64) -> Result<()> {
        Ok(self.store.set_delivery_run(delivery, run_id).await?)
    }

    /// Records that `delivery` was refused, and why.
    pub async fn refuse_delivery(&self, delivery: i64, reason: &str) -> Result<()> {
        Ok(self.store.refuse_delivery(delivery, reason).await?)
    }

    /// Collects the blobs nothing references, now.
    /// Up to `max` bytes from `offset` of the log of job `job_id` while it runs on another
    /// server (read from the database; empty on SQLite or when nothing is written yet).
    pub async fn read_live_log(&self, job_id: i64, offset: u64, max: usize) -> Result<Vec<u8>> {
        Ok(self.store.read_live_log(job_id, offset, max).await?)
    }

    pub async fn collect_garbage_now(&self) -> Result<GcReport> {
        Ok(self.store.collect_garbage_now().await?)
    }
}
