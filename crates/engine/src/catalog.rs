//! What the platform holds, read through the engine: the platform file as synced, its markets,
//! waves and services, market launches, ideas and the commits that mention them, their flow
//! facts, and each service's flag versions. Reads only; the rules that change these live in
//! their own modules ([`crate::launch`], [`crate::flags`], ...).

use crate::Engine;
use tandem_core::platform::Platform;
use tandem_store::launches::LaunchRow;
use tandem_store::{CommitRow, FlagVersionRow, FlowFacts, IdeaRow, MarketRow, ServiceRow, StoreError, WaveRow};

impl Engine {
    /// The platform file as last synced (markets, waves, services, policies).
    pub async fn load_platform(&self) -> Result<Platform, StoreError> {
        self.store.load_platform().await
    }

    /// Every market.
    pub async fn list_markets(&self) -> Result<Vec<MarketRow>, StoreError> {
        self.store.list_markets().await
    }

    /// Every wave, in rollout order.
    pub async fn list_waves(&self) -> Result<Vec<WaveRow>, StoreError> {
        self.store.list_waves().await
    }

    /// Every service.
    pub async fn list_services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        self.store.list_services().await
    }

    /// The launch of `market`, if one was ever started.
    pub async fn get_launch(&self, market: &str) -> Result<Option<LaunchRow>, StoreError> {
        self.store.get_launch(market).await
    }

    /// Every market launch, oldest first.
    pub async fn list_launches(&self) -> Result<Vec<LaunchRow>, StoreError> {
        self.store.list_launches().await
    }

    /// Every idea.
    pub async fn list_ideas(&self) -> Result<Vec<IdeaRow>, StoreError> {
        self.store.list_ideas().await
    }

    /// One page of ideas, newest first, after the cursor `after`.
    pub async fn list_ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IdeaRow>, StoreError> {
        self.store.list_ideas_page(after, limit).await
    }

    /// The commits of the ideas of the same page as [`Engine::list_ideas_page`], by idea key.
    pub async fn list_commits_of_ideas_page(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(String, CommitRow)>, StoreError> {
        self.store.list_commits_of_ideas_page(after, limit).await
    }

    /// Records a new idea targeting `markets`.
    pub async fn insert_idea(&self, title: &str, markets: &[String]) -> Result<IdeaRow, StoreError> {
        self.store.insert_idea(title, markets).await
    }

    /// The idea with key `key`.
    pub async fn get_idea(&self, key: &str) -> Result<IdeaRow, StoreError> {
        self.store.get_idea(key).await
    }

    /// The commits that mention the idea `key`.
    pub async fn list_idea_commits(&self, key: &str) -> Result<Vec<CommitRow>, StoreError> {
        self.store.list_idea_commits(key).await
    }

    /// Up to `limit` commits of `service`, newest first.
    pub async fn list_commits(&self, service: &str, limit: i64) -> Result<Vec<CommitRow>, StoreError> {
        self.store.list_commits(service, limit).await
    }

    /// What is known of idea `key`'s way to production (commits, runs, releases, deployments).
    pub async fn load_idea_flow(&self, key: &str) -> Result<FlowFacts, StoreError> {
        self.store.load_idea_flow(key).await
    }

    /// The same facts for everything that went live between `from` and `to` (Unix ms).
    pub async fn load_shipped_flow(&self, from: i64, to: i64) -> Result<FlowFacts, StoreError> {
        self.store.load_shipped_flow(from, to).await
    }

    /// Every version of `service`'s flags.
    pub async fn list_flag_versions(&self, service: &str) -> Result<Vec<FlagVersionRow>, StoreError> {
        self.store.list_flag_versions(service).await
    }
}
