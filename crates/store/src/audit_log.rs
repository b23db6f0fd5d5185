//! Reading the audit log: filtered pages, newest first, with a cursor; and verifying its hash
//! chain row by row (bounded memory: the rows are read in batches).

use crate::backend::Builder;
use crate::events::{EventRow, GENESIS, chain_hash};
use crate::{Result, Store};
use serde::{Deserialize, Serialize};

/// Most entries one page holds.
pub const AUDIT_PAGE_MAX: i64 = 500;
/// Rows read per query while verifying.
const VERIFY_BATCH: i64 = 1000;
/// Most problems one verification lists (the first is what matters; the rest help to scope).
const VERIFY_PROBLEMS_MAX: usize = 50;

/// Which entries to read. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this actor (a token's name, `tandem`, `anonymous`).
    pub actor: Option<String>,
    /// This kind (`rollout.approved`) or this family (`rollout`: every `rollout.…`).
    pub kind: Option<String>,
    /// This object (`rollout/3`) or this type (`rollout`: every `rollout/…`).
    pub object: Option<String>,
    /// At or after (Unix ms).
    pub since: Option<i64>,
    /// Before (Unix ms).
    pub until: Option<i64>,
    /// The cursor: only entries with a smaller id (the `next` of the previous page).
    pub before: Option<i64>,
    /// Entries per page, clamped to 1..=[`AUDIT_PAGE_MAX`].
    pub limit: i64,
}

/// One page of entries, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<EventRow>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

/// One broken link in the chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChainProblem {
    /// The row at fault, or the first row after the missing ones.
    pub id: i64,
    /// `edited`, `deleted`, `unsealed` or `relinked`.
    pub problem: String,
    pub message: String,
}

/// What a verification found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainReport {
    /// True when every row matches its hash and follows the row before it.
    pub intact: bool,
    /// Rows read.
    pub rows: i64,
    /// Rows with no actor: written before the audit log existed (hashed when it began).
    pub without_actor: i64,
    /// The newest row's id and hash: keep them elsewhere, so that deleting the newest rows
    /// (which leaves no broken link) is found by comparing.
    pub head_id: Option<i64>,
    pub head_hash: Option<String>,
    /// The broken links, first first (at most 50).
    pub problems: Vec<ChainProblem>,
}

fn push_filter<'a>(q: &mut Builder<'a>, f: &'a AuditFilter) {
    if let Some(actor) = &f.actor {
        q.push(" AND actor = ").push_bind(actor);
    }
    if let Some(kind) = &f.kind {
        q.push(" AND (kind = ").push_bind(kind);
        // A prefix compared as text: case-sensitive on both backends (SQLite's LIKE is not).
        let prefix = format!("{kind}.");
        q.push(" OR substr(kind, 1, length(").push_bind(prefix.clone());
        q.push(")) = ").push_bind(prefix).push(")");
    }
    if let Some(object) = &f.object {
        q.push(" AND (subject = ").push_bind(object);
        let prefix = format!("{object}/");
        q.push(" OR substr(subject, 1, length(").push_bind(prefix.clone());
        q.push(")) = ").push_bind(prefix).push(")");
    }
    if let Some(since) = f.since {
        q.push(" AND at >= ").push_bind(since);
    }
    if let Some(until) = f.until {
        q.push(" AND at < ").push_bind(until);
    }
    if let Some(before) = f.before {
        q.push(" AND id < ").push_bind(before);
    }
}

impl Store {
    /// One page of the audit log, newest first.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        let limit = filter.limit.clamp(1, AUDIT_PAGE_MAX);
        let mut q = Builder::new("SELECT * FROM events WHERE 1 = 1");
        push_filter(&mut q, filter);
        q.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
        let mut entries: Vec<EventRow> = q.build_query_as().fetch_all(&self.pool).await?;
        let next = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    /// Reads the whole chain in id order and reports every row that no longer matches its
    /// hash or no longer follows the row before it.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let mut report = ChainReport {
            intact: true,
            rows: 0,
            without_actor: 0,
            head_id: None,
            head_hash: None,
            problems: Vec::new(),
        };
        // The previous row's id and stored hash (what the next row must point at).
        let (mut prev_id, mut prev_hash) = (0i64, GENESIS.to_string());
        loop {
            let rows: Vec<EventRow> = sqlx::query_as("SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(prev_id)
                .bind(VERIFY_BATCH)
                .fetch_all(&self.pool)
                .await?;
            let done = (rows.len() as i64) < VERIFY_BATCH;
            for row in rows {
                report.rows += 1;
                report.without_actor += i64::from(row.actor.is_none());
                for problem in check_row(prev_id, &prev_hash, &row) {
                    report.intact = false;
                    if report.problems.len() < VERIFY_PROBLEMS_MAX {
                        report.problems.push(problem);
                    }
                }
                prev_id = row.id;
                prev_hash = row.hash.clone().unwrap_or_default();
            }
            if done {
                break;
            }
        }
        if prev_id > 0 {
            report.head_id = Some(prev_id);
            report.head_hash = Some(prev_hash);
        }
        Ok(report)
    }
}

/// What is wrong with `row`, given the row before it (`prev_id` 0: none).
fn check_row(prev_id: i64, prev_hash: &str, row: &EventRow) -> Vec<ChainProblem> {
    let id = row.id;
    let problem = |problem: &str, message: String| ChainProblem {
        id,
        problem: problem.to_string(),
        message,
    };
    let mut out = Vec::new();
    let (Some(stored_prev), Some(hash)) = (&row.prev_hash, &row.hash) else {
        out.push(problem(
            "unsealed",
            format!("row {id} has no hash: it was written or altered outside Tandem"),
        ));
        return out;
    };
    if stored_prev != prev_hash {
        if id > prev_id + 1 {
            let missing = if id == prev_id + 2 {
                format!("row {}", prev_id + 1)
            } else {
                format!("rows {} to {}", prev_id + 1, id - 1)
            };
            out.push(problem(
                "deleted",
                format!("{missing} deleted: row {id} does not follow row {prev_id}"),
            ));
        } else {
            out.push(problem(
                "relinked",
                format!("row {id} does not follow row {prev_id}: row {prev_id} was rewritten with a new hash, or rows were reordered"),
            ));
        }
    }
    if chain_hash(stored_prev, row) != *hash {
        out.push(problem(
            "edited",
            format!(
                "row {id} ({} on {}) was edited: its content no longer matches its hash",
                row.kind, row.subject
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use tandem_core::role::Role;

    async fn tamper(store: &Store, sql: &str) {
        let mut conn = store.writer.acquire().await.unwrap();
        // PostgreSQL names a trigger's table; SQLite refuses the `ON`.
        let on = if store.dialect == crate::backend::Dialect::Postgres {
            " ON events"
        } else {
            ""
        };
        for statement in [
            &*format!("DROP TRIGGER IF EXISTS events_append_only_update{on}"),
            &*format!("DROP TRIGGER IF EXISTS events_append_only_delete{on}"),
            sql,
        ] {
            sqlx::query(statement).execute(&mut *conn).await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_chain_finds_an_edited_a_deleted_and_a_reordered_row() {
        let (_dir, store) = store().await;
        for i in 0..6 {
            store.insert_idea(&format!("idea {i}"), &[]).await.unwrap();
        }
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.intact, "{:?}", report.problems);
        assert_eq!(report.rows, 6);
        assert_eq!(report.head_id, Some(6));

        tamper(&store, "UPDATE events SET data = '{}' WHERE id = 2").await;
        tamper(&store, "DELETE FROM events WHERE id = 4").await;
        tamper(&store, "UPDATE events SET id = 60 WHERE id = 6").await;
        tamper(&store, "UPDATE events SET id = 6 WHERE id = 5").await;
        let report = store.verify_audit_chain().await.unwrap();
        assert!(!report.intact);
        let found: Vec<(i64, &str)> = report.problems.iter().map(|p| (p.id, p.problem.as_str())).collect();
        assert_eq!(found, [(2, "edited"), (6, "deleted"), (6, "edited"), (60, "edited")]);
        assert!(
            report.problems[1].message.contains("rows 4 to 5 deleted"),
            "{:?}",
            report.problems[1]
        );
    }

    #[tokio::test]
    async fn rows_written_without_a_hash_join_the_chain_when_the_store_opens() {
        let (dir, store) = store().await;
        store.insert_idea("Pay with iDEAL", &[]).await.unwrap();
        // As a row from before migration 0022, or from a SQL trigger, lands.
        sqlx::query("INSERT INTO events (id, at, kind, subject, data) SELECT COALESCE(MAX(id), 0) + 1, 1, 'market.launching', 'market/fr', '{}' FROM events")
            .execute(&store.writer)
            .await
            .unwrap();
        store.close().await;
        let store = dir.open().await;
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.intact, "{:?}", report.problems);
        assert_eq!((report.rows, report.without_actor), (2, 1));
        store.insert_idea("Free shipping", &[]).await.unwrap();
        assert!(store.verify_audit_chain().await.unwrap().intact);
    }

    #[tokio::test]
    async fn the_store_refuses_to_change_a_hashed_row() {
        let (_dir, store) = store().await;
        store.insert_idea("Pay with iDEAL", &[]).await.unwrap();
        let mut conn = store.writer.acquire().await.unwrap();
        let err = sqlx::query("DELETE FROM events").execute(&mut *conn).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    #[tokio::test]
    async fn filters_and_the_cursor_walk_the_log_newest_first() {
        let (_dir, store) = store().await;
        for i in 0..5 {
            store.insert_idea(&format!("idea {i}"), &[]).await.unwrap();
        }
        store.insert_token("ci", Role::Developer, "s").await.unwrap();
        let mut filter = AuditFilter {
            kind: Some("idea".into()),
            limit: 2,
            ..AuditFilter::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.list_audit(&filter).await.unwrap();
            seen.extend(page.entries.iter().map(|e| e.subject.clone()));
            match page.next {
                Some(next) => filter.before = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["T-5", "T-4", "T-3", "T-2", "T-1"]);
        let page = store
            .list_audit(&AuditFilter {
                object: Some("token".into()),
                actor: Some("tandem".into()),
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 1);
        assert_eq!(page.entries[0].kind, "token.created");
        let none = AuditFilter {
            object: Some("T-".into()),
            limit: 10,
            ..AuditFilter::default()
        };
        assert!(
            store.list_audit(&none).await.unwrap().entries.is_empty(),
            "an object is matched whole"
        );
    }
}
