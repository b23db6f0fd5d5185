//! Ideas and the commits that mention them.

use crate::counters::{Counter, take_next};
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms, to_json};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::idea::{find_idea_keys, idea_key};

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct IdeaRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    /// JSON list of target market ids; empty means every market.
    pub markets: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct CommitRow {
    pub service: String,
    pub sha: String,
    /// Parent ids, space-separated.
    pub parents: String,
    pub author: String,
    pub authored_at: i64,
    pub committed_at: i64,
    pub message: String,
}

#[derive(Debug, FromRow)]
struct IdeaCommitRow {
    idea_key: String,
    #[sqlx(flatten)]
    commit: CommitRow,
}

/// A commit read from git.
#[derive(Debug, Clone)]
pub struct NewCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub author: String,
    pub authored_at: i64,
    pub committed_at: i64,
    pub message: String,
}

impl Store {
    /// Creates an idea with the next `T-n` key.
    pub async fn insert_idea(&self, title: &str, markets: &[String]) -> Result<IdeaRow> {
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::Conflict("an idea needs a title".into()));
        }
        let mut tx = self.writer.begin().await?;
        let next = take_next(&mut tx, Counter::Idea).await?;
        let key = idea_key(next);
        let row: IdeaRow = sqlx::query_as(
            "INSERT INTO ideas (id, key, title, markets, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *",
        )
        .bind(next)
        .bind(&key)
        .bind(title)
        .bind(to_json(&markets))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        append_event(&mut tx, "idea.created", &key, serde_json::json!({ "title": title })).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn list_ideas(&self) -> Result<Vec<IdeaRow>> {
        Ok(sqlx::query_as("SELECT * FROM ideas ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn get_idea(&self, key: &str) -> Result<IdeaRow> {
        sqlx::query_as("SELECT * FROM ideas WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("idea {key}")))
    }

    /// Records commits read from git (known ones are skipped) and links each to the ideas its
    /// message mentions. Returns how many were new.
    pub async fn insert_commits(&self, service: &str, commits: &[NewCommit]) -> Result<usize> {
        let mut tx = self.writer.begin().await?;
        let mut added = 0;
        for c in commits {
            let done = sqlx::query(
                "INSERT INTO commits (service, sha, parents, author, authored_at, committed_at, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(service)
            .bind(&c.sha)
            .bind(c.parents.join(" "))
            .bind(&c.author)
            .bind(c.authored_at)
            .bind(c.committed_at)
            .bind(&c.message)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            added += 1;
            let keys = find_idea_keys(&c.message);
            for key in &keys {
                sqlx::query(
                    "INSERT INTO commit_ideas (service, sha, idea_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(service)
                .bind(&c.sha)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
            let data = serde_json::json!({ "sha": c.sha, "ideas": keys });
            append_event(&mut tx, "commit.recorded", service, data).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Commits of a service, newest first.
    pub async fn list_commits(&self, service: &str, limit: i64) -> Result<Vec<CommitRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM commits WHERE service = $1 ORDER BY committed_at DESC, sha LIMIT $2")
                .bind(service)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A page of a service's commits, newest first (by commit time, then id): at most `limit`,
    /// past the commit `after`. `None` when `after` is no commit of the service.
    pub async fn list_commits_page(
        &self,
        service: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<CommitRow>>> {
        let Some(after) = after else {
            return self.list_commits(service, limit).await.map(Some);
        };
        let cursor: Option<(i64,)> = sqlx::query_as("SELECT committed_at FROM commits WHERE service = $1 AND sha = $2")
            .bind(service)
            .bind(after)
            .fetch_optional(&self.pool)
            .await?;
        let Some((at,)) = cursor else {
            return Ok(None);
        };
        Ok(Some(
            sqlx::query_as(
                "SELECT * FROM commits WHERE service = $1 AND (committed_at < $2 OR (committed_at = $2 AND sha > $3))
                 ORDER BY committed_at DESC, sha LIMIT $4",
            )
            .bind(service)
            .bind(at)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        ))
    }

    /// A page of ideas in creation order: at most `limit`, past the idea with id `after`.
    pub async fn list_ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<IdeaRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM ideas WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The commits that mention the ideas of [`Store::list_ideas_page`] with the same `after`
    /// and `limit`, in one query: `(idea key, commit)`, oldest first.
    pub async fn list_commits_of_ideas_page(&self, after: Option<i64>, limit: i64) -> Result<Vec<(String, CommitRow)>> {
        let rows: Vec<IdeaCommitRow> = sqlx::query_as(
            "SELECT ci.idea_key, c.* FROM commits c JOIN commit_ideas ci ON ci.service = c.service AND ci.sha = c.sha
             WHERE ci.idea_key IN (SELECT key FROM ideas WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2)
             ORDER BY c.committed_at",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.idea_key, r.commit)).collect())
    }

    /// Commits that mention an idea, oldest first.
    pub async fn list_idea_commits(&self, key: &str) -> Result<Vec<CommitRow>> {
        Ok(sqlx::query_as(
            "SELECT c.* FROM commits c JOIN commit_ideas ci ON ci.service = c.service AND ci.sha = c.sha
             WHERE ci.idea_key = $1 ORDER BY c.committed_at",
        )
        .bind(key)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn ideas_get_keys_and_commits_link_to_them() {
        let (_dir, store) = store().await;
        let a = store.insert_idea("Show prices with VAT", &[]).await.unwrap();
        let b = store.insert_idea("Pay with iDEAL", &["nl".into()]).await.unwrap();
        assert_eq!((a.key.as_str(), b.key.as_str()), ("T-1", "T-2"));
        assert!(store.insert_idea("  ", &[]).await.is_err());

        let commit = |sha: &str, msg: &str| NewCommit {
            sha: sha.into(),
            parents: vec![],
            author: "Ana".into(),
            authored_at: 1,
            committed_at: 1,
            message: msg.into(),
        };
        let commits = [commit("a1", "T-1: VAT on the page"), commit("b2", "T-1 T-2 both")];
        assert_eq!(store.insert_commits("shop", &commits).await.unwrap(), 2);
        assert_eq!(store.insert_commits("shop", &commits).await.unwrap(), 0);
        assert_eq!(store.list_idea_commits("T-1").await.unwrap().len(), 2);
        assert_eq!(store.list_idea_commits("T-2").await.unwrap()[0].sha, "b2");
    }
}
