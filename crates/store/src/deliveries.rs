//! Webhook deliveries. A forge may send one delivery twice (a retry, a "redeliver" click), and
//! anyone who saw a signed body may send it again with a fresh delivery id, which no signature
//! covers. So a delivery is known by what was signed: the sha256 of its body, unique per
//! service. And one commit is claimed by at most one delivery at a time (unique while
//! `received` or `queued`), and not at all once a run of it exists, so however many forges or
//! deliveries announce a commit, it gets one run.
//!
//! A claim is made before the run is queued, in one transaction with its checks. A delivery
//! that is refused (its commit is not on the branch, or not in the repository yet) keeps its
//! row and reason, and may be delivered again: it is then checked again.

use crate::events::append_event;
use crate::{Result, Store, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    /// github, gitlab or gitea.
    pub provider: String,
    /// The forge's delivery-id header, for the operator: not signed, so not trusted.
    pub delivery_id: Option<String>,
    pub service: String,
    /// The hex sha256 of the body (`id:…` for deliveries received before digests were kept).
    pub digest: String,
    pub branch: Option<String>,
    pub commit_sha: Option<String>,
    pub received_at: i64,
    /// `received` while being processed, `queued` with its run, `ignored` (the commit was
    /// already announced or built) or `refused` (see `reason`).
    pub outcome: String,
    /// Why the delivery was ignored or refused.
    pub reason: Option<String>,
    pub run_id: Option<i64>,
}

/// A push delivery to claim.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    pub provider: &'a str,
    pub delivery_id: Option<&'a str>,
    pub service: &'a str,
    /// The hex sha256 of the body.
    pub digest: &'a str,
    pub branch: &'a str,
    pub commit_sha: &'a str,
}

/// What a claim found.
#[derive(Debug, Clone)]
pub enum Claim {
    /// The delivery is new and its commit unclaimed: build it, then record the run (or refuse).
    Claimed { id: i64 },
    /// The same body was received before: what became of it.
    Replay(DeliveryRow),
    /// The commit was already announced by another delivery or built by a run; the delivery
    /// is recorded as ignored, with this reason and that run.
    AlreadyAnnounced { reason: String, run_id: Option<i64> },
}

impl Store {
    /// Claims a push delivery (see the module's note): new, a replay, or a commit already
    /// announced.
    pub async fn claim_delivery(&self, new: NewDelivery<'_>) -> Result<Claim> {
        let mut tx = self.writer.begin().await?;
        let known: Option<DeliveryRow> = sqlx::query_as("SELECT * FROM deliveries WHERE service = $1 AND digest = $2")
            .bind(new.service)
            .bind(new.digest)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = &known
            && row.outcome != "refused"
        {
            return Ok(Claim::Replay(row.clone()));
        }
        let claimed: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, run_id FROM deliveries
             WHERE service = $1 AND commit_sha = $2 AND outcome IN ('received', 'queued') LIMIT 1",
        )
        .bind(new.service)
        .bind(new.commit_sha)
        .fetch_optional(&mut *tx)
        .await?;
        let built: Option<(i64,)> =
            match claimed {
                Some(_) => None,
                None => sqlx::query_as(
                    "SELECT id FROM runs WHERE service = $1 AND commit_sha = $2 AND branch = $3 ORDER BY id LIMIT 1",
                )
                .bind(new.service)
                .bind(new.commit_sha)
                .bind(new.branch)
                .fetch_optional(&mut *tx)
                .await?,
            };
        let commit = new.commit_sha;
        let ignored = match (claimed, built) {
            (Some((other, run)), _) => Some((
                match run {
                    Some(run) => {
                        format!("commit {commit} was already announced by delivery {other}, which queued run {run}")
                    }
                    None => {
                        format!("commit {commit} was already announced by delivery {other}, which is being processed")
                    }
                },
                run,
            )),
            (None, Some((run,))) => Some((format!("commit {commit} was already built by run {run}"), Some(run))),
            (None, None) => None,
        };
        let (outcome, reason, run_id) = match &ignored {
            Some((reason, run)) => ("ignored", Some(reason.as_str()), *run),
            None => ("received", None, None),
        };
        let id: (i64,) = match known {
            // A refused delivery sent again is checked again, in its own row.
            Some(row) => sqlx::query_as(
                "UPDATE deliveries SET provider = $1, delivery_id = $2, received_at = $3, outcome = $4,
                        reason = $5, run_id = $6
                 WHERE id = $7 RETURNING id",
            )
            .bind(new.provider)
            .bind(new.delivery_id)
            .bind(now_ms())
            .bind(outcome)
            .bind(reason)
            .bind(run_id)
            .bind(row.id),
            None => sqlx::query_as(
                "INSERT INTO deliveries
                   (provider, delivery_id, service, digest, branch, commit_sha, received_at, outcome, reason, run_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(new.provider)
            .bind(new.delivery_id)
            .bind(new.service)
            .bind(new.digest)
            .bind(new.branch)
            .bind(new.commit_sha)
            .bind(now_ms())
            .bind(outcome)
            .bind(reason)
            .bind(run_id),
        }
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({
            "provider": new.provider, "delivery": id.0, "delivery_id": new.delivery_id, "service": new.service,
            "digest": new.digest, "branch": new.branch, "commit": commit, "reason": reason, "run": run_id,
        });
        let kind = if ignored.is_some() {
            "delivery.ignored"
        } else {
            "delivery.received"
        };
        append_event(&mut tx, kind, &format!("service/{}", new.service), data).await?;
        tx.commit().await?;
        Ok(match ignored {
            Some((reason, run_id)) => Claim::AlreadyAnnounced { reason, run_id },
            None => Claim::Claimed { id: id.0 },
        })
    }

    /// Records the run a claimed delivery queued.
    pub async fn set_delivery_run(&self, delivery: i64, run_id: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE deliveries SET outcome = 'queued', run_id = $1 WHERE id = $2")
            .bind(run_id)
            .bind(delivery)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({ "delivery": delivery, "run": run_id });
        append_event(&mut tx, "delivery.queued", &format!("run/{run_id}"), data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses a claimed delivery, with why: its commit is free again, and the same delivery
    /// sent again is checked again.
    pub async fn refuse_delivery(&self, delivery: i64, reason: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE deliveries SET outcome = 'refused', reason = $1 WHERE id = $2 AND outcome = 'received'
             RETURNING service",
        )
        .bind(reason)
        .bind(delivery)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((service,)) = row {
            let data = serde_json::json!({ "delivery": delivery, "reason": reason });
            append_event(&mut tx, "delivery.refused", &format!("service/{service}"), data).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries, newest first.
    pub async fn list_deliveries(&self, limit: i64) -> Result<Vec<DeliveryRow>> {
        Ok(sqlx::query_as("SELECT * FROM deliveries ORDER BY id DESC LIMIT $1")
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    fn push<'a>(provider: &'a str, digest: &'a str, commit: &'a str) -> NewDelivery<'a> {
        NewDelivery {
            provider,
            delivery_id: Some("header-id"),
            service: "shop",
            digest,
            branch: "main",
            commit_sha: commit,
        }
    }

    fn claimed(claim: Claim) -> i64 {
        match claim {
            Claim::Claimed { id } => id,
            other => panic!("expected a new claim, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_body_is_new_once_per_service_whatever_its_delivery_id() {
        let (_dir, store) = store().await;
        let id = claimed(store.claim_delivery(push("github", "d1", "c1")).await.unwrap());
        let again = NewDelivery {
            delivery_id: Some("a-fresh-id"),
            ..push("github", "d1", "c1")
        };
        let Claim::Replay(row) = store.claim_delivery(again).await.unwrap() else {
            panic!("the same body is a replay")
        };
        assert_eq!((row.id, row.outcome.as_str()), (id, "received"));
        let blog = NewDelivery {
            service: "blog",
            ..push("github", "d1", "c1")
        };
        claimed(store.claim_delivery(blog).await.unwrap());

        let run = store.insert_run("shop", "c1", "main", "push").await.unwrap();
        store.set_delivery_run(id, run.id).await.unwrap();
        let rows = store.list_deliveries(10).await.unwrap();
        assert_eq!(rows.len(), 2);
        let shop = rows.iter().find(|d| d.service == "shop").unwrap();
        assert_eq!((shop.outcome.as_str(), shop.run_id), ("queued", Some(run.id)));
        assert_eq!(shop.delivery_id.as_deref(), Some("header-id"));

        let kinds: Vec<String> = store
            .list_events(0, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "delivery.received").count(),
            2,
            "{kinds:?}"
        );
        assert!(kinds.contains(&"delivery.queued".to_string()), "{kinds:?}");
    }

    #[tokio::test]
    async fn one_commit_is_claimed_once_however_many_forges_announce_it() {
        let (_dir, store) = store().await;
        let first = claimed(store.claim_delivery(push("github", "gh-body", "c1")).await.unwrap());
        let Claim::AlreadyAnnounced { reason, run_id } =
            store.claim_delivery(push("gitea", "gt-body", "c1")).await.unwrap()
        else {
            panic!("a second forge announcing c1 is ignored")
        };
        assert!(reason.contains(&format!("announced by delivery {first}")), "{reason}");
        assert_eq!(run_id, None);

        let run = store.insert_run("shop", "c1", "main", "push").await.unwrap();
        store.set_delivery_run(first, run.id).await.unwrap();
        let Claim::AlreadyAnnounced { reason, run_id } =
            store.claim_delivery(push("gitlab", "gl-body", "c1")).await.unwrap()
        else {
            panic!("a third is ignored too")
        };
        assert!(reason.contains(&format!("queued run {}", run.id)), "{reason}");
        assert_eq!(run_id, Some(run.id));

        // A commit built without any delivery (polling, by hand) is not built again by one.
        let polled = store.insert_run("shop", "c2", "main", "poll").await.unwrap();
        let Claim::AlreadyAnnounced { reason, run_id } =
            store.claim_delivery(push("github", "gh-2", "c2")).await.unwrap()
        else {
            panic!("c2 was built")
        };
        assert_eq!(reason, format!("commit c2 was already built by run {}", polled.id));
        assert_eq!(run_id, Some(polled.id));
        let ignored = store.list_deliveries(10).await.unwrap();
        assert_eq!(
            ignored.iter().filter(|d| d.outcome == "ignored").count(),
            3,
            "{ignored:#?}"
        );
    }

    #[tokio::test]
    async fn a_refused_delivery_frees_its_commit_and_is_checked_again_when_sent_again() {
        let (_dir, store) = store().await;
        let id = claimed(store.claim_delivery(push("gitlab", "b1", "c1")).await.unwrap());
        store
            .refuse_delivery(id, "commit c1 is not on branch `main`")
            .await
            .unwrap();
        let row = &store.list_deliveries(1).await.unwrap()[0];
        assert_eq!(
            (row.outcome.as_str(), row.reason.as_deref()),
            ("refused", Some("commit c1 is not on branch `main`"))
        );
        // Another delivery may claim the commit; the refused one sent again is checked again.
        let other = claimed(store.claim_delivery(push("github", "b2", "c1")).await.unwrap());
        store.refuse_delivery(other, "not yet").await.unwrap();
        assert_eq!(
            claimed(store.claim_delivery(push("gitlab", "b1", "c1")).await.unwrap()),
            id
        );

        let run = store.insert_run("shop", "c1", "main", "push").await.unwrap();
        store.set_delivery_run(id, run.id).await.unwrap();
        store.refuse_delivery(id, "late").await.unwrap();
        let Claim::Replay(row) = store.claim_delivery(push("gitlab", "b1", "c1")).await.unwrap() else {
            panic!("a queued delivery stays")
        };
        assert_eq!((row.outcome.as_str(), row.run_id), ("queued", Some(run.id)));
    }

    #[tokio::test]
    async fn deliveries_received_before_digests_survive_the_migration() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let all = sqlx::migrate!("migrations/sqlite");
        let mut before = sqlx::migrate!("migrations/sqlite");
        before.migrations = all.migrations.iter().filter(|m| m.version < 19).cloned().collect();
        before.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO deliveries (provider, delivery_id, service, received_at, outcome) VALUES
             ('github', 'd-1', 'shop', 1, 'queued'), ('gitea', 'd-1', 'shop', 2, 'queued')",
        )
        .execute(&pool)
        .await
        .unwrap();
        all.run(&pool).await.unwrap();
        let rows: Vec<DeliveryRow> = sqlx::query_as("SELECT * FROM deliveries ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        let kept: Vec<(&str, Option<&str>, &str)> = rows
            .iter()
            .map(|r| (r.provider.as_str(), r.delivery_id.as_deref(), r.digest.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("github", Some("d-1"), "id:github:d-1"),
                ("gitea", Some("d-1"), "id:gitea:d-1")
            ]
        );
    }
}
