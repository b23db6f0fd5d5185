//! Where ideas stand, as the ideas page and `/api/v1/ideas` show them: each idea's commits and
//! the markets whose live release contains one of them, a page of ideas in the same few
//! queries whatever their number.

use crate::{Engine, Result};
use std::collections::HashMap;
use tandem_store::{CommitRow, IdeaRow};

/// An idea with where it stands: its state, the markets it is live in and its commits.
#[derive(Debug, Clone)]
pub struct IdeaDetail {
    /// The idea.
    pub idea: IdeaRow,
    /// planned (no commit yet), in development (commits, not live anywhere) or live.
    pub state: String,
    /// Markets whose live release contains a commit of this idea.
    pub live_in: Vec<String>,
    /// The commits that mention its key.
    pub commits: Vec<CommitRow>,
}

impl Engine {
    /// Idea `key` and where it stands; not found when there is no such idea.
    pub async fn idea_detail(&self, key: &str) -> Result<IdeaDetail> {
        let idea = self.store.get_idea(key).await?;
        let commits = self.store.list_idea_commits(&idea.key).await?;
        let mut commits_by_idea = HashMap::from([(idea.key.clone(), commits)]);
        let mut details = self.ideas_detail(vec![idea], &mut commits_by_idea).await?;
        Ok(details.remove(0))
    }

    /// A page of ideas, oldest first, past the idea with id `after`, each with where it stands.
    pub async fn ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IdeaDetail>> {
        let ideas = self.store.list_ideas_page(after, limit).await?;
        let mut commits: HashMap<String, Vec<CommitRow>> = HashMap::new();
        for (key, commit) in self.store.list_commits_of_ideas_page(after, limit).await? {
            commits.entry(key).or_default().push(commit);
        }
        self.ideas_detail(ideas, &mut commits).await
    }

    /// Where each of `ideas` stands, given their commits (by idea key): a commit is live in a
    /// market when the release live there reaches it through parents
    /// ([`Engine::markets_live_with`]).
    async fn ideas_detail(
        &self,
        ideas: Vec<IdeaRow>,
        commits_by_idea: &mut HashMap<String, Vec<CommitRow>>,
    ) -> Result<Vec<IdeaDetail>> {
        let mut live_by_idea = self.markets_live_with(commits_by_idea).await?;
        let mut out = Vec::with_capacity(ideas.len());
        for idea in ideas {
            let commits = commits_by_idea.remove(&idea.key).unwrap_or_default();
            let live_in = live_by_idea.remove(&idea.key).unwrap_or_default();
            let state = if !live_in.is_empty() {
                "live"
            } else if !commits.is_empty() {
                "in development"
            } else {
                "planned"
            };
            out.push(IdeaDetail {
                idea,
                state: state.into(),
                live_in,
                commits,
            });
        }
        Ok(out)
    }
}
