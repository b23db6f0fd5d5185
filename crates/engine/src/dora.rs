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

/// How long [`Engine::commits_recorded`] waits for the queue before it says so and lets its
/// caller go on (a store that does not answer must not hold a rollout forever).
const COMMIT_FLUSH_LIMIT: Duration = Duration::from_secs(60);

/// Deployments whose commits wait to be recorded (see [`Engine::record_deployment_commits`]).
#[derive(Debug)]
pub(crate) struct CommitQueue {
    state: std::sync::Mutex<QueueState>,
    /// How many queued deployments were recorded (or given up on, with a warning) so far:
    /// the queue is first in, first out, so these are the first that many queued.
    recorded: tokio::sync::watch::Sender<u64>,
    /// Wakes the recording task before its gathering time is up: someone waits for it.
    hurry: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    pending: Vec<DeploymentRow>,
    /// A task is recording them: new ones join its next batch.
    draining: bool,
    /// How many deployments were taken into a batch so far (with `pending`, every one queued).
    taken: u64,
    /// The recording task does not wait to gather until this many are taken: a caller of
    /// [`Engine::commits_recorded`] waits for them.
    flush_to: u64,
}

impl Default for CommitQueue {
    fn default() -> Self {
        Self {
            state: Default::default(),
            recorded: tokio::sync::watch::channel(0).0,
            hurry: Default::default(),
        }
    }
}

impl CommitQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine {
    /// In the background: records the commits `deployment` (a release now live) brought to its
    /// market — reachable from its release's commit and not from the release the market ran
    /// before — so lead times are exact whatever the merge style. Deployments that go live
    /// while earlier ones are recorded wait and are recorded together: each service's
    /// repository is opened once per batch (markets of one wave make the same move, walked
    /// once), and the batch is written in one transaction. [`Engine::commits_recorded`] waits
    /// for them.
    pub(crate) fn record_deployment_commits(self: &Arc<Self>, deployment: DeploymentRow) {
        let start = {
            let mut queue = self.commit_queue.state();
            queue.pending.push(deployment);
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            let engine = self.clone();
            self.tasks.spawn(async move { engine.drain_commit_queue().await });
        }
    }

    /// Returns once the commits of every deployment queued before the call are recorded,
    /// without waiting for more to gather: a rollout calls it before it records a wave or
    /// itself as done, so whoever reads lead times after "succeeded" reads all of them. Gives
    /// up with a warning after [`COMMIT_FLUSH_LIMIT`].
    pub(crate) async fn commits_recorded(&self) {
        let queue = &self.commit_queue;
        let target = {
            let mut state = queue.state();
            let queued = state.taken + state.pending.len() as u64;
            state.flush_to = state.flush_to.max(queued);
            queued
        };
        let mut recorded = queue.recorded.subscribe();
        if *recorded.borrow() >= target {
            return;
        }
        queue.hurry.notify_one();
        let waited = tokio::time::timeout(COMMIT_FLUSH_LIMIT, recorded.wait_for(|n| *n >= target)).await;
        if !matches!(waited, Ok(Ok(_))) {
            tracing::warn!(
                waited_s = COMMIT_FLUSH_LIMIT.as_secs(),
                "deployments' commits are not recorded yet; lead times will show them once they are"
            );
        }
    }

    /// Records the queued deployments' commits, a batch at a time, until none is left.
    async fn drain_commit_queue(&self) {
        let queue = &self.commit_queue;
        loop {
            // The markets of a wave that go live meanwhile join this batch, unless someone
            // waits for what is queued.
            let hurried = {
                let state = queue.state();
                state.taken < state.flush_to
            };
            if !hurried {
                tokio::select! {
                    () = tokio::time::sleep(COMMIT_GATHER) => {}
                    () = queue.hurry.notified() => {}
                }
            }
            let batch: Vec<DeploymentRow> = {
                let mut state = queue.state();
                if state.pending.is_empty() {
                    state.draining = false;
                    return;
                }
                let take = state.pending.len().min(COMMIT_BATCH);
                state.taken += take as u64;
                state.pending.drain(..take).collect()
            };
            let count = batch.len() as u64;
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
            queue.recorded.send_modify(|n| *n += count);
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
