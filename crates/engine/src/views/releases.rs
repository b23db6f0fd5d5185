//! A release as its page shows it: the commits (and the ideas they mention) it brings since the
//! service's release before it, the run that built it, its artifacts, its rollouts and the
//! markets that run it now; and one commit with its runs and the releases built from it. The
//! commits a release brings are those its commit reaches through parents and the previous
//! release's does not, read from the service's commit graph once.

use crate::{Engine, Error, Result};
use std::collections::{BTreeSet, HashMap};
use tandem_core::idea::{find_idea_keys, reachable};
use tandem_store::{CommitRow, DeploymentRow, ReleaseArtifact, ReleaseRow, RolloutRow, RunRow};

/// How many commits a release page lists, newest first; the rest are counted.
pub const COMMITS_SHOWN: usize = 100;
/// How many recent rollouts are scanned for a release's own.
const ROLLOUTS_SCANNED: i64 = 500;
/// How many of a service's recent runs are scanned for a commit's.
const RUNS_SCANNED: i64 = 500;

/// One release and everything around it.
#[derive(Debug, Clone)]
pub struct ReleasePage {
    pub release: ReleaseRow,
    /// The service's release just before it, if any.
    pub previous: Option<ReleaseRow>,
    /// The service's release just after it, if any.
    pub next: Option<ReleaseRow>,
    /// The commits it brings since `previous`, newest first (at most [`COMMITS_SHOWN`]).
    pub commits: Vec<CommitRow>,
    /// How many more it brings than are listed.
    pub more_commits: usize,
    /// The idea keys those commits mention, sorted, each once.
    pub ideas: Vec<String>,
    /// The run that built it (gone only if it was collected).
    pub run: Option<RunRow>,
    pub artifacts: Vec<ReleaseArtifact>,
    /// Its rollouts, newest first.
    pub rollouts: Vec<RolloutRow>,
    /// The deployments of it live now, one per market.
    pub live: Vec<DeploymentRow>,
}

/// One commit, with what was made of it.
#[derive(Debug, Clone)]
pub struct CommitPage {
    pub service: String,
    /// Its full id.
    pub sha: String,
    /// The commit as read from git; `None` when its history was not read.
    pub commit: Option<CommitRow>,
    /// The idea keys its message mentions.
    pub ideas: Vec<String>,
    /// Its runs, newest first (among the service's recent ones).
    pub runs: Vec<RunRow>,
    /// The releases built from it.
    pub releases: Vec<ReleaseRow>,
}

impl Engine {
    /// Release `id`'s page; not found when there is no such release.
    pub async fn release_page(&self, id: i64) -> Result<ReleasePage> {
        let release = self.store.get_release(id).await?;
        let siblings = self.store.list_releases(Some(&release.service)).await?;
        let previous = siblings
            .iter()
            .filter(|r| r.id < release.id)
            .max_by_key(|r| r.id)
            .cloned();
        let next = siblings
            .iter()
            .filter(|r| r.id > release.id)
            .min_by_key(|r| r.id)
            .cloned();
        let all = self.store.list_commits(&release.service, i64::MAX).await?;
        let graph: HashMap<String, Vec<String>> = all
            .iter()
            .map(|c| (c.sha.clone(), c.parents.split_whitespace().map(String::from).collect()))
            .collect();
        let brought = {
            let mine = reachable(&graph, &release.commit_sha);
            let before = previous
                .as_ref()
                .map(|p| reachable(&graph, &p.commit_sha))
                .unwrap_or_default();
            mine.into_iter()
                .filter(|sha| !before.contains(sha))
                .map(String::from)
                .collect::<BTreeSet<String>>()
        };
        let mut commits: Vec<CommitRow> = all.into_iter().filter(|c| brought.contains(&c.sha)).collect();
        commits.sort_by_key(|c| std::cmp::Reverse(c.committed_at));
        let ideas: BTreeSet<String> = commits.iter().flat_map(|c| find_idea_keys(&c.message)).collect();
        let more_commits = commits.len().saturating_sub(COMMITS_SHOWN);
        commits.truncate(COMMITS_SHOWN);
        let run = match self.store.get_run(release.run_id).await.map_err(Error::from) {
            Ok(run) => Some(run),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let rollouts = self
            .store
            .list_rollouts(ROLLOUTS_SCANNED)
            .await?
            .into_iter()
            .filter(|r| r.release_id == id)
            .collect();
        let mut live: Vec<DeploymentRow> = self
            .store
            .list_live_deployments()
            .await?
            .into_iter()
            .filter(|d| d.release_id == id)
            .collect();
        live.sort_by(|a, b| a.market.cmp(&b.market));
        Ok(ReleasePage {
            artifacts: self.store.list_release_artifacts(id).await?,
            release,
            previous,
            next,
            commits,
            more_commits,
            ideas: ideas.into_iter().collect(),
            run,
            rollouts,
            live,
        })
    }

    /// The release `version` of `service`; not found when it has none such.
    pub async fn get_release_by_version(&self, service: &str, version: &str) -> Result<ReleaseRow> {
        Ok(self.store.get_release_by_version(service, version).await?)
    }

    /// Commit `sha` of `service` (a unique prefix of at least 7 characters will do), with its
    /// runs and releases; not found when the service has no such commit, nor run or release of
    /// it (a commit built before its history was read has runs but no row).
    pub async fn commit_page(&self, service: &str, sha: &str) -> Result<CommitPage> {
        let mut found: Vec<CommitRow> = self
            .store
            .list_commits(service, i64::MAX)
            .await?
            .into_iter()
            .filter(|c| c.sha == sha || (sha.len() >= 7 && c.sha.starts_with(sha)))
            .collect();
        let commit = (found.len() == 1).then(|| found.remove(0));
        let full = commit.as_ref().map_or(sha, |c| c.sha.as_str()).to_string();
        let runs: Vec<RunRow> = self
            .store
            .list_runs(Some(service), RUNS_SCANNED)
            .await?
            .into_iter()
            .filter(|r| r.commit_sha == full)
            .collect();
        let mut releases: Vec<ReleaseRow> = self
            .store
            .list_releases(Some(service))
            .await?
            .into_iter()
            .filter(|r| r.commit_sha == full)
            .collect();
        if commit.is_none() && runs.is_empty() && releases.is_empty() {
            return Err(Error::not_found(
                "commit",
                sha,
                format!("service `{service}` has no commit `{sha}`"),
            ));
        }
        releases.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(CommitPage {
            ideas: commit.as_ref().map(|c| find_idea_keys(&c.message)).unwrap_or_default(),
            service: service.to_string(),
            sha: full,
            commit,
            runs,
            releases,
        })
    }
}

/// How many of a service's newest releases are checked for an idea's commits.
const RELEASES_SCANNED: usize = 50;

/// An idea as its page shows it, beyond where it stands: its commits' runs and the releases
/// that contain one of its commits.
#[derive(Debug, Clone)]
pub struct IdeaWork {
    /// Runs of its commits, newest first.
    pub runs: Vec<RunRow>,
    /// Releases (among each service's newest) whose commit reaches one of its commits, newest
    /// first.
    pub releases: Vec<ReleaseRow>,
}

impl Engine {
    /// The runs of `commits` and the releases containing one of them.
    pub async fn idea_work(&self, commits: &[CommitRow]) -> Result<IdeaWork> {
        let services: BTreeSet<&str> = commits.iter().map(|c| c.service.as_str()).collect();
        let (mut runs, mut releases) = (Vec::new(), Vec::new());
        for service in services {
            let shas: BTreeSet<&str> = commits
                .iter()
                .filter(|c| c.service == service)
                .map(|c| c.sha.as_str())
                .collect();
            runs.extend(
                self.store
                    .list_runs(Some(service), RUNS_SCANNED)
                    .await?
                    .into_iter()
                    .filter(|r| shas.contains(r.commit_sha.as_str())),
            );
            let graph: HashMap<String, Vec<String>> = self
                .store
                .list_commits(service, i64::MAX)
                .await?
                .into_iter()
                .map(|c| (c.sha, c.parents.split_whitespace().map(String::from).collect()))
                .collect();
            for r in self
                .store
                .list_releases(Some(service))
                .await?
                .into_iter()
                .take(RELEASES_SCANNED)
            {
                let reach = reachable(&graph, &r.commit_sha);
                if shas.iter().any(|s| reach.contains(s)) {
                    releases.push(r);
                }
            }
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        releases.sort_by_key(|r| std::cmp::Reverse(r.id));
        Ok(IdeaWork { runs, releases })
    }
}
