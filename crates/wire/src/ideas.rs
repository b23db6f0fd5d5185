//! Ideas (work items), the commits that mention them, and their way to production.

use serde::{Deserialize, Serialize};

/// A work item.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Idea {
    /// The idea's id.
    pub id: i64,
    /// Its key, such as `T-12`: commit messages mention it.
    pub key: String,
    /// Its title.
    pub title: String,
    /// The target market ids; empty means every market.
    pub markets: Vec<String>,
    /// When it was created.
    pub created_at: i64,
}

/// A commit read from git.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Commit {
    /// Its service.
    pub service: String,
    /// Its id.
    pub sha: String,
    /// Parent ids, space-separated.
    pub parents: String,
    /// Its author.
    pub author: String,
    /// When it was written.
    pub authored_at: i64,
    /// When it was committed.
    pub committed_at: i64,
    /// Its message.
    pub message: String,
}

/// Adds an idea.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdea {
    /// Its title.
    pub title: String,
    /// Target market ids; empty or absent means every market.
    #[serde(default)]
    pub markets: Vec<String>,
}

/// An idea with where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdeaDetail {
    /// The idea.
    #[serde(flatten)]
    pub idea: Idea,
    /// planned (no commit yet), in development (commits, not live anywhere) or live.
    pub state: String,
    /// Markets whose live release contains a commit of this idea.
    pub live_in: Vec<String>,
    /// Its commits.
    pub commits: Vec<Commit>,
}

/// An idea and its way to production.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdeaFlow {
    /// The idea.
    pub idea: Idea,
    /// `{ stages, now, markets }`: `stages` lists created, first_commit, green_pipeline,
    /// release, pilot and all_targets in order, each `{ stage, at, since_previous,
    /// since_created, by }` (Unix ms and ms; null while not reached); `now` is `{ stage,
    /// live, pending }`; `markets` is `[{ market, state (live, withdrawn, pending), target,
    /// pilot, arrivals, arrived_at, arrived_with, since_created, live_release }]`.
    #[schema(value_type = Object)]
    pub flow: tandem_core::flow::Flow,
    /// Markets where one of its commits arrived within the window asked for (window queries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_to: Option<Vec<String>>,
}

/// What shipped in a window.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShippedAnswer {
    /// Start of the window, Unix ms.
    pub from: i64,
    /// End of the window (excluded), Unix ms.
    pub to: i64,
    /// Ideas that reached at least one market in the window, the latest arrival first.
    pub ideas: Vec<IdeaFlow>,
}
