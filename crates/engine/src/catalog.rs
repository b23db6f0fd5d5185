//! What the platform holds, read through the engine: the platform file as synced, its markets,
//! waves and services, market launches, ideas and the commits that mention them, their flow
//! facts, and each service's flag versions. Reads only; the rules that change these live in
//! their own modules ([`crate::launch`], [`crate::flags`], ...).

use crate::{Engine, Result};
use std::collections::{HashMap, HashSet};
use tandem_core::platform::Platform;
use tandem_store::launches::LaunchRow;
use tandem_store::{CommitRow, FlagVersionRow, FlowFacts, IdeaRow, MarketRow, ReleaseRow, ServiceRow, WaveRow};

impl Engine {
    /// The platform file as last synced (markets, waves, services, policies).
    pub async fn load_platform(&self) -> Result<Platform> {
        Ok(self.store.load_platform().await?)
    }

    /// Every market.
    pub async fn list_markets(&self) -> Result<Vec<MarketRow>> {
        Ok(self.store.list_markets().await?)
    }

    /// Every wave, in rollout order.
    pub async fn list_waves(&self) -> Result<Vec<WaveRow>> {
        Ok(self.store.list_waves().await?)
    }

    /// Every service.
    pub async fn list_services(&self) -> Result<Vec<ServiceRow>> {
        Ok(self.store.list_services().await?)
    }

    /// The launch of `market`, if one was ever started.
    pub async fn get_launch(&self, market: &str) -> Result<Option<LaunchRow>> {
        Ok(self.store.get_launch(market).await?)
    }

    /// Every market launch, oldest first.
    pub async fn list_launches(&self) -> Result<Vec<LaunchRow>> {
        Ok(self.store.list_launches().await?)
    }

    /// Every idea.
    pub async fn list_ideas(&self) -> Result<Vec<IdeaRow>> {
        Ok(self.store.list_ideas().await?)
    }

    /// One page of ideas, newest first, after the cursor `after`.
    pub async fn list_ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IdeaRow>> {
        Ok(self.store.list_ideas_page(after, limit).await?)
    }

    /// The commits of the ideas of the same page as [`Engine::list_ideas_page`], by idea key.
    pub async fn list_commits_of_ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<(String, CommitRow)>> {
        Ok(self.store.list_commits_of_ideas_page(after, limit).await?)
    }

    /// Records a new idea targeting `markets`.
    pub async fn insert_idea(&self, title: &str, markets: &[String]) -> Result<IdeaRow> {
        Ok(self.store.insert_idea(title, markets).await?)
    }

    /// The idea with key `key`.
    pub async fn get_idea(&self, key: &str) -> Result<IdeaRow> {
        Ok(self.store.get_idea(key).await?)
    }

    /// The commits that mention the idea `key`.
    pub async fn list_idea_commits(&self, key: &str) -> Result<Vec<CommitRow>> {
        Ok(self.store.list_idea_commits(key).await?)
    }

    /// Up to `limit` commits of `service`, newest first.
    pub async fn list_commits(&self, service: &str, limit: i64) -> Result<Vec<CommitRow>> {
        Ok(self.store.list_commits(service, limit).await?)
    }

    /// What is known of idea `key`'s way to production (commits, runs, releases, deployments).
    pub async fn load_idea_flow(&self, key: &str) -> Result<FlowFacts> {
        Ok(self.store.load_idea_flow(key).await?)
    }

    /// The same facts for everything that went live between `from` and `to` (Unix ms).
    pub async fn load_shipped_flow(&self, from: i64, to: i64) -> Result<FlowFacts> {
        Ok(self.store.load_shipped_flow(from, to).await?)
    }

    /// A page of `service`'s flag versions, newest first, older than `after`.
    pub async fn list_flag_versions_page(
        &self,
        service: &str,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FlagVersionRow>> {
        Ok(self.store.list_flag_versions_page(service, after, limit).await?)
    }

    /// Version `version` of `service`'s flag file.
    pub async fn get_flag_version(&self, service: &str, version: i64) -> Result<FlagVersionRow> {
        Ok(self.store.get_flag_version(service, version).await?)
    }

    /// A page of `service`'s commits, newest first, after the commit `after`; `None` when
    /// `after` is no commit of `service`.
    pub async fn list_commits_page(
        &self,
        service: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<CommitRow>>> {
        Ok(self.store.list_commits_page(service, after, limit).await?)
    }

    /// Every version of `service`'s flags.
    pub async fn list_flag_versions(&self, service: &str) -> Result<Vec<FlagVersionRow>> {
        Ok(self.store.list_flag_versions(service).await?)
    }

    /// For each idea key of `commits_by_idea`, the markets (sorted, each once) whose live
    /// release contains one of its commits: a commit is contained when the release's commit
    /// reaches it through parents. The same few queries however many ideas there are: live
    /// deployments, releases and each service's commit graph are read once, and each live
    /// release's reach computed once. An idea no live release contains has no entry.
    pub async fn markets_live_with(
        &self,
        commits_by_idea: &HashMap<String, Vec<CommitRow>>,
    ) -> Result<HashMap<String, Vec<String>>> {
        // (service, release commit, market) of every live market, when any idea has commits.
        let mut live: Vec<(String, String, String)> = Vec::new();
        let mut graphs: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
        if commits_by_idea.values().any(|c| !c.is_empty()) {
            let releases: HashMap<i64, ReleaseRow> = self
                .store
                .list_releases(None)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            for d in self.store.list_live_deployments().await? {
                let Some(release) = releases.get(&d.release_id) else {
                    continue;
                };
                if !graphs.contains_key(&d.service) {
                    let all = self.store.list_commits(&d.service, i64::MAX).await?;
                    graphs.insert(
                        d.service.clone(),
                        all.into_iter()
                            .map(|c| (c.sha, c.parents.split_whitespace().map(String::from).collect()))
                            .collect(),
                    );
                }
                live.push((d.service.clone(), release.commit_sha.clone(), d.market.clone()));
            }
        }
        let mut reaches: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
        for (service, sha, _) in &live {
            reaches
                .entry((service.as_str(), sha.as_str()))
                .or_insert_with(|| tandem_core::idea::reachable(&graphs[service], sha));
        }
        let mut out = HashMap::new();
        for (key, commits) in commits_by_idea {
            let mut live_in: Vec<String> = live
                .iter()
                .filter(|(service, sha, _)| {
                    let reach = &reaches[&(service.as_str(), sha.as_str())];
                    commits
                        .iter()
                        .any(|c| &c.service == service && reach.contains(c.sha.as_str()))
                })
                .map(|(_, _, market)| market.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if !live_in.is_empty() {
                live_in.sort();
                out.insert(key.clone(), live_in);
            }
        }
        Ok(out)
    }
}
