//! What the four DORA keys need from the engine: the commits each release deployment brought
//! to its market (read from the service's git history once the market is live), and the keys
//! themselves over any window, service, market, wave and kind.

use crate::Engine;
use crate::Result;
use crate::history::{History as GitHistory, commits_between};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::dora::{Bucket, BucketKeys, Filter, GroupedKeys, History, Restore};
use tandem_core::state::DeploymentKind;

/// Deployments and incidents as the DORA math reads them.
pub use tandem_store::DoraHistory;
use tandem_store::{DeploymentCommit, DeploymentRow};

/// How many commits a market's first release is said to bring at most (the whole history of
/// an old repository is not one change).
const FIRST_RELEASE_COMMITS: usize = 1000;
/// The most deployments whose commits are read and written together: one transaction, and
/// one repository open per service, for up to this many.
const COMMIT_BATCH: usize = 256;

/// How long the first live deployment's commits wait for others to be recorded with them: one
/// repository open and one transaction for the markets that go live meanwhile, and lead times
/// are readable at most this much later.
const COMMIT_GATHER: Duration = Duration::from_millis(200);

/// Deployments whose commits wait to be recorded (see [`Engine::record_deployment_commits`]).
#[derive(Debug, Default)]
pub(crate) struct CommitQueue {
    pending: Vec<DeploymentRow>,
    /// A task is recording them: new ones join its next batch.
    draining: bool,
}

impl Engine {
    /// In the background: records the commits `deployment` (a release now live) brought to its
    /// market — reachable from its release's commit and not from the release the market ran
    /// before — so lead times are exact whatever the merge style. Deployments that go live
    /// while earlier ones are recorded wait and are recorded together: each service's
    /// repository is opened once per batch (markets of one wave make the same move, walked
    /// once), and the batch is written in one transaction.
    pub(crate) fn record_deployment_commits(self: &Arc<Self>, deployment: DeploymentRow) {
        let start = {
            let mut queue = self.commit_queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.pending.push(deployment);
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            let engine = self.clone();
            self.tasks.spawn(async move { engine.drain_commit_queue().await });
        }
    }

    /// Records the queued deployments' commits, a batch at a time, until none is left.
    async fn drain_commit_queue(&self) {
        loop {
            // The markets of a wave that go live meanwhile join this batch.
            tokio::time::sleep(COMMIT_GATHER).await;
            let batch: Vec<DeploymentRow> = {
                let mut queue = self.commit_queue.lock().unwrap_or_else(|e| e.into_inner());
                if queue.pending.is_empty() {
                    queue.draining = false;
                    return;
                }
                let take = queue.pending.len().min(COMMIT_BATCH);
                queue.pending.drain(..take).collect()
            };
            let mut by_service: HashMap<String, Vec<DeploymentRow>> = HashMap::new();
            for d in batch {
                by_service.entry(d.service.clone()).or_default().push(d);
            }
            let mut rows: Vec<(i64, Vec<DeploymentCommit>)> = Vec::new();
            for (service, deployments) in by_service {
                match self.commits_of(&service, &deployments).await {
                    Ok(found) => rows.extend(found),
                    Err(e) => {
                        for d in &deployments {
                            tracing::warn!(deployment = d.id, error = %format!("{e:#}"), "cannot record a deployment's commits");
                        }
                    }
                }
            }
            if let Err(e) = self.store.insert_deployments_commits(&rows).await {
                for (id, _) in &rows {
                    tracing::warn!(deployment = id, error = %e, "cannot record a deployment's commits");
                }
            }
        }
    }

    /// The commits each of `service`'s `deployments` brought, read with its repository opened
    /// once; a deployment whose commits cannot be read is left out, with a warning.
    async fn commits_of(
        &self,
        service: &str,
        deployments: &[DeploymentRow],
    ) -> Result<Vec<(i64, Vec<DeploymentCommit>)>> {
        let mut shas: HashMap<i64, String> = HashMap::new();
        let mut moves: Vec<(i64, String, Option<String>)> = Vec::with_capacity(deployments.len());
        for d in deployments {
            let mut sha_of = async |id: i64| -> Result<String> {
                if let Some(sha) = shas.get(&id) {
                    return Ok(sha.clone());
                }
                let sha = self.store.get_release(id).await?.commit_sha;
                shas.insert(id, sha.clone());
                Ok(sha)
            };
            let new = match sha_of(d.release_id).await {
                Ok(sha) => sha,
                Err(e) => {
                    tracing::warn!(deployment = d.id, error = %format!("{e:#}"), "cannot record a deployment's commits");
                    continue;
                }
            };
            let previous = match d.previous_release_id {
                Some(id) => match sha_of(id).await {
                    Ok(sha) => Some(sha),
                    Err(e) => {
                        tracing::warn!(deployment = d.id, error = %format!("{e:#}"), "cannot record a deployment's commits");
                        continue;
                    }
                },
                None => None,
            };
            moves.push((d.id, new, previous));
        }
        let repo = self.repo_path(service).await?;
        let found = tokio::task::spawn_blocking(move || {
            let mut history = GitHistory::open(&repo)?.limit_first_release(FIRST_RELEASE_COMMITS);
            let mut out = Vec::with_capacity(moves.len());
            for (id, new, previous) in moves {
                match history.commits_between(&new, previous.as_deref()) {
                    Ok(mut commits) => {
                        if previous.is_none() {
                            commits.truncate(FIRST_RELEASE_COMMITS);
                        }
                        let rows = commits
                            .into_iter()
                            .map(|c| DeploymentCommit {
                                sha: c.sha,
                                authored_at: c.authored_at,
                                committed_at: c.committed_at,
                            })
                            .collect();
                        out.push((id, rows));
                    }
                    Err(e) => {
                        tracing::warn!(deployment = id, error = %e, "cannot record a deployment's commits");
                    }
                }
            }
            anyhow::Ok(out)
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading a deployment's commits stopped: {e}"))??;
        Ok(found)
    }

    /// The commits `deployment` brought to its market, newest first: `(sha, authored_at, first
    /// message line)`. Recorded once a release went live; for a release that never served (it
    /// failed its gate), read from git — the commits it would have brought — and not recorded,
    /// since they never arrived (lead time and the flow count arrivals only).
    pub async fn commits_brought(&self, deployment: &DeploymentRow) -> Result<Vec<(String, i64, Option<String>)>> {
        let recorded = self.store.list_deployment_commits(deployment.id).await?;
        if !recorded.is_empty() || deployment.kind != DeploymentKind::Release || deployment.state.went_live() {
            return Ok(recorded);
        }
        let release = self.store.get_release(deployment.release_id).await?;
        let previous = match deployment.previous_release_id {
            Some(id) => Some(self.store.get_release(id).await?.commit_sha),
            None => None,
        };
        let repo = self.repo_path(&deployment.service).await?;
        let commits = tokio::task::spawn_blocking(move || {
            let mut commits = commits_between(&repo, &release.commit_sha, previous.as_deref())?;
            commits.truncate(FIRST_RELEASE_COMMITS);
            let messages: HashMap<String, String> =
                crate::git::read_history(&repo, &release.commit_sha, FIRST_RELEASE_COMMITS)?
                    .into_iter()
                    .map(|c| (c.sha, c.message))
                    .collect();
            commits.sort_by(|a, b| b.committed_at.cmp(&a.committed_at).then_with(|| a.sha.cmp(&b.sha)));
            anyhow::Ok(
                commits
                    .into_iter()
                    .map(|c| {
                        let message = messages.get(&c.sha).cloned();
                        (c.sha, c.authored_at, message)
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await??;
        Ok(commits)
    }

    /// When failed deployment `id` hurt its market and when the market was restored, as DORA
    /// counts it (`None` when DORA does not count it as a failed change): the restore time an
    /// incident and its postmortem show, the same the Delivery page's medians are made of.
    pub async fn restore_of(&self, id: i64) -> Result<Option<Restore>> {
        let packed = self.dora_history().await?;
        let (deployments, incidents) = &*packed;
        Ok(History::new(deployments, incidents).restore_of(id))
    }

    /// Every deployment and incident as the DORA math reads them. Read whole once, then brought
    /// up to date by reading only what changed since (see `tandem_store::DoraState`): the first
    /// dashboard after a deployment reads that deployment's market, not a year of history.
    pub async fn dora_history(&self) -> Result<Arc<DoraHistory>> {
        let mut cached = self.dora_cache.lock().await;
        match cached.as_mut() {
            Some(state) => {
                self.store.refresh_dora_state(state).await?;
                Ok(state.history())
            }
            None => {
                let state = self.store.read_dora_state().await?;
                let history = state.history();
                *cached = Some(state);
                Ok(history)
            }
        }
    }

    /// Drops the DORA history kept: the next read is whole. For benchmarks, which compare the
    /// read of what changed with a whole one.
    #[doc(hidden)]
    pub async fn forget_dora_history(&self) {
        *self.dora_cache.lock().await = None;
    }

    /// The four keys for `filter`, in total and by market, service and wave.
    pub async fn dora(&self, filter: &Filter) -> Result<GroupedKeys> {
        let packed = self.dora_history().await?;
        let (deployments, incidents) = &*packed;
        let history = History::new(deployments, incidents);
        Ok(history.compute_grouped_keys(filter))
    }

    /// The four keys for `filter`, bucket by bucket over its window (a trend).
    pub async fn dora_series(&self, filter: &Filter, bucket: Bucket) -> Result<Vec<BucketKeys>> {
        let packed = self.dora_history().await?;
        let (deployments, incidents) = &*packed;
        let history = History::new(deployments, incidents);
        history
            .compute_series(filter, bucket)
            .map_err(|e| crate::Error::invalid(e.to_string()))
    }
}
