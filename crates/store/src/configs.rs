//! Config kept by Tandem: every version of a service's layers, the version each market runs
//! (moved by config deployments), and change requests with their reviews.

use crate::counters::{Counter, take_next};
use crate::events::append_event;
use crate::{Result, Store, StoreError, from_json, now_ms, sql_states, to_json};
use serde::Serialize;
use sqlx::FromRow;
use std::collections::BTreeMap;
use tandem_core::platform::ConfigLayers;
use tandem_core::state::ChangeState;

/// One version of a service's config layers.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ConfigVersionRow {
    pub id: i64,
    pub service: String,
    /// 1, 2, … per service.
    pub version: i64,
    /// The layers as JSON: `{ "defaults", "regions", "markets" }`.
    pub layers: String,
    pub created_by: String,
    pub message: String,
    /// The change request it came from, if any.
    pub change_id: Option<i64>,
    pub created_at: i64,
}

impl ConfigVersionRow {
    pub fn layers(&self) -> Result<ConfigLayers> {
        from_json("config layers", &self.layers)
    }
}

/// A market moved to a config version (by a deployment, or directly where nothing runs).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct MarketConfigRow {
    pub id: i64,
    pub service: String,
    pub market: String,
    pub version: i64,
    pub deployment_id: Option<i64>,
    pub set_by: String,
    pub reason: String,
    pub set_at: i64,
}

/// A proposed config or flag change and where it stands.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub service: String,
    /// `config` (new layers, as JSON) or `flags` (a new flag file, as YAML).
    pub kind: String,
    pub title: String,
    pub author: String,
    /// The author's role when proposing: it says which side must approve.
    pub author_role: String,
    /// open, rejected, applied (its config is rolling out or its flags are in force), done,
    /// failed or withdrawn (and applying, for the moment it is being applied).
    #[sqlx(try_from = "String")]
    pub state: ChangeState,
    /// 1, then one more at each edit; reviews count for the revision they were given to.
    pub revision: i64,
    /// The config (or flag) version the proposal was written against.
    pub base_version: i64,
    pub proposed: String,
    /// Whether it changes at least one live market (the policy's `production` rule).
    #[sqlx(try_from = "crate::backend::Flag")]
    pub production: bool,
    /// What applying it came to, in words.
    pub result: Option<String>,
    /// The config (or flag) version it created when applied.
    pub version: Option<i64>,
    /// The config rollout that carries it to the markets.
    pub rollout_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ChangeReviewRow {
    pub id: i64,
    pub change_id: i64,
    pub revision: i64,
    pub reviewer: String,
    pub role: String,
    /// approve or reject.
    pub verdict: String,
    pub comment: Option<String>,
    pub at: i64,
}

/// Who wrote one revision of a change request (its opener wrote revision 1).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ChangeRevisionRow {
    pub id: i64,
    pub change_id: i64,
    pub revision: i64,
    pub author: String,
    /// Their role when they wrote it.
    pub role: String,
    pub at: i64,
}

/// A change request about to be recorded.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    pub service: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub author: &'a str,
    pub author_role: &'a str,
    pub base_version: i64,
    pub proposed: &'a str,
    pub production: bool,
}

/// A config version about to be recorded, written against version `base`.
#[derive(Debug, Clone, Copy)]
pub struct NewConfigVersion<'a> {
    pub service: &'a str,
    pub layers: &'a ConfigLayers,
    pub base: i64,
    pub by: &'a str,
    pub message: &'a str,
    pub change_id: Option<i64>,
}

impl Store {
    /// Records version 1 of a service's config from the platform file, once: afterwards Tandem
    /// keeps the config and the platform file's `config` is not read again.
    pub(crate) async fn seed_config(
        conn: &mut crate::backend::Conn,
        service: &str,
        layers: &ConfigLayers,
    ) -> Result<bool> {
        // Version 1 exists once the service has any version; a second writer's insert is a no-op.
        let inserted = sqlx::query(
            "INSERT INTO config_versions (service, version, layers, created_by, message, change_id, created_at)
             SELECT $1, 1, $2, 'platform file', 'imported from the platform file', NULL, $3
             WHERE NOT EXISTS (SELECT 1 FROM config_versions WHERE service = $1)
             ON CONFLICT (service, version) DO NOTHING",
        )
        .bind(service)
        .bind(to_json(layers))
        .bind(now_ms())
        .execute(&mut *conn)
        .await?
        .rows_affected();
        Ok(inserted > 0)
    }

    /// The newest config version of a service.
    pub async fn latest_config(&self, service: &str) -> Result<ConfigVersionRow> {
        sqlx::query_as("SELECT * FROM config_versions WHERE service = $1 ORDER BY version DESC LIMIT 1")
            .bind(service)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("config of service `{service}`")))
    }

    pub async fn get_config_version(&self, service: &str, version: i64) -> Result<ConfigVersionRow> {
        sqlx::query_as("SELECT * FROM config_versions WHERE service = $1 AND version = $2")
            .bind(service)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("config version {version} of `{service}`")))
    }

    /// A page of a service's config versions, newest first: at most `limit`, older than version
    /// `after`.
    pub async fn list_config_versions_page(
        &self,
        service: &str,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ConfigVersionRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM config_versions WHERE service = $1 AND ($2 IS NULL OR version < $2)
             ORDER BY version DESC LIMIT $3",
        )
        .bind(service)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The config version each market runs (markets never moved run the newest version).
    pub async fn market_config_versions(&self, service: &str) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT market, version FROM market_configs m
             WHERE service = $1 AND id = (SELECT MAX(id) FROM market_configs WHERE service = m.service AND market = m.market)",
        )
        .bind(service)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The config version `market` runs (its last move, else the newest), without its layers;
    /// `None` when Tandem keeps no config for the service.
    pub async fn market_config_version(&self, service: &str, market: &str) -> Result<Option<i64>> {
        let pinned: Option<(i64,)> = sqlx::query_as(
            "SELECT version FROM market_configs WHERE service = $1 AND market = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(service)
        .bind(market)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((version,)) = pinned {
            return Ok(Some(version));
        }
        let newest: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM config_versions WHERE service = $1 ORDER BY version DESC LIMIT 1")
                .bind(service)
                .fetch_optional(&self.pool)
                .await?;
        Ok(newest.map(|(v,)| v))
    }

    /// The config version `market` runs and its layers.
    pub async fn market_config(&self, service: &str, market: &str) -> Result<ConfigVersionRow> {
        let pinned: Option<(i64,)> = sqlx::query_as(
            "SELECT version FROM market_configs WHERE service = $1 AND market = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(service)
        .bind(market)
        .fetch_optional(&self.pool)
        .await?;
        match pinned {
            Some((version,)) => self.get_config_version(service, version).await,
            None => self.latest_config(service).await,
        }
    }

    /// The versions a market has run, newest first.
    pub async fn market_config_history(&self, service: &str, market: &str) -> Result<Vec<MarketConfigRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM market_configs WHERE service = $1 AND market = $2 ORDER BY id DESC")
                .bind(service)
                .bind(market)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The market moves of a service's config to the versions `first` to `last`, newest first
    /// (for a page of the config log).
    pub async fn list_market_configs_of_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<MarketConfigRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM market_configs WHERE service = $1 AND version BETWEEN $2 AND $3 ORDER BY id DESC",
        )
        .bind(service)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a new config version written against `base` (refused when another version came
    /// since). Markets not yet pinned to a version are pinned to the one they ran, so that only
    /// a config deployment moves them; all in one transaction.
    pub async fn insert_config_version(
        &self,
        new: NewConfigVersion<'_>,
        markets: &[String],
    ) -> Result<ConfigVersionRow> {
        let NewConfigVersion {
            service,
            layers,
            base,
            by,
            message,
            change_id,
        } = new;
        let mut tx = self.writer.begin().await?;
        let latest = take_next(&mut tx, Counter::ConfigVersion { service }).await? - 1;
        if latest != base {
            return Err(StoreError::Conflict(format!(
                "the config of {service} is at version {latest} now, not {base} as this change expects: edit it against version {latest}"
            )));
        }
        let now = now_ms();
        for market in markets {
            sqlx::query(
                "INSERT INTO market_configs (service, market, version, deployment_id, set_by, reason, set_at)
                 SELECT $1, $2, $3, NULL, 'tandem', 'the version it ran when a newer one was written', $4
                 WHERE $3 > 0 AND NOT EXISTS (SELECT 1 FROM market_configs WHERE service = $1 AND market = $2)",
            )
            .bind(service)
            .bind(market)
            .bind(latest)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let row: ConfigVersionRow = sqlx::query_as(
            "INSERT INTO config_versions (service, version, layers, created_by, message, change_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(service)
        .bind(latest + 1)
        .bind(to_json(layers))
        .bind(by)
        .bind(message)
        .bind(change_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "service": service, "version": row.version, "by": by, "change": change_id });
        append_event(&mut tx, "config.version", &format!("config/{service}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Moves a market to a config version without a deployment (nothing runs there, or its
    /// resolved config does not change).
    pub async fn set_market_config(
        &self,
        service: &str,
        market: &str,
        version: i64,
        by: &str,
        reason: &str,
    ) -> Result<MarketConfigRow> {
        let mut tx = self.writer.begin().await?;
        let row = insert_market_config(&mut tx, service, market, version, None, by, reason).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a change request; state `open`, revision 1.
    pub async fn insert_change(&self, new: NewChange<'_>) -> Result<ChangeRow> {
        let mut tx = self.writer.begin().await?;
        let now = now_ms();
        let row: ChangeRow = sqlx::query_as(
            "INSERT INTO change_requests (service, kind, title, author, author_role, state, revision, base_version,
               proposed, production, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'open', 1, $6, $7, $8, $9, $9) RETURNING *",
        )
        .bind(new.service)
        .bind(new.kind)
        .bind(new.title)
        .bind(new.author)
        .bind(new.author_role)
        .bind(new.base_version)
        .bind(new.proposed)
        .bind(new.production)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        insert_revision(&mut tx, row.id, 1, new.author, new.author_role, now).await?;
        let data =
            serde_json::json!({ "service": new.service, "kind": new.kind, "title": new.title, "author": new.author });
        append_event(&mut tx, "change.opened", &format!("change/{}", row.id), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn get_change(&self, id: i64) -> Result<ChangeRow> {
        sqlx::query_as("SELECT * FROM change_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("change request {id}")))
    }

    /// Change requests, newest first; of one service, when given.
    pub async fn list_changes(&self, service: Option<&str>, limit: i64) -> Result<Vec<ChangeRow>> {
        self.list_changes_page(service, None, limit).await
    }

    /// A page of change requests, newest first (of one service, when given): at most `limit`,
    /// older than the change request with id `after`.
    pub async fn list_changes_page(
        &self,
        service: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ChangeRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM change_requests WHERE ($1 IS NULL OR service = $1) AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .bind(service)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A new proposal for an open (or rejected) change by `by` (holding `role`): its revision
    /// goes up, so the reviews given so far no longer count, `by` is recorded as the author of
    /// the new revision, and it is open again.
    pub async fn revise_change(
        &self,
        id: i64,
        proposed: &str,
        base_version: i64,
        production: bool,
        by: &str,
        role: &str,
    ) -> Result<ChangeRow> {
        let mut tx = self.writer.begin().await?;
        // An edit opens the change again, from any state that may become open.
        let sql = format!(
            "UPDATE change_requests SET proposed = $1, base_version = $2, production = $3, revision = revision + 1,
               state = $6, updated_at = $4
             WHERE id = $5 AND state IN ({}) RETURNING *",
            sql_states(
                ChangeState::sources(ChangeState::Open)
                    .into_iter()
                    .map(ChangeState::as_str)
            )
        );
        let row: Option<ChangeRow> = sqlx::query_as(&sql)
            .bind(proposed)
            .bind(base_version)
            .bind(production)
            .bind(now_ms())
            .bind(id)
            .bind(ChangeState::Open.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            let current = self.get_change(id).await?;
            return Err(StoreError::Conflict(format!(
                "change request {id} is {}: only an open or rejected change can be edited",
                current.state
            )));
        };
        insert_revision(&mut tx, id, row.revision, by, role, row.updated_at).await?;
        let data = serde_json::json!({ "by": by, "role": role, "revision": row.revision });
        append_event(&mut tx, "change.revised", &format!("change/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a review of the change's revision `revision`; refused if the change moved on.
    pub async fn insert_review(
        &self,
        id: i64,
        revision: i64,
        reviewer: &str,
        role: &str,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<ChangeReviewRow> {
        let mut tx = self.writer.begin().await?;
        let current: Option<(String, i64)> =
            sqlx::query_as("SELECT state, revision FROM change_requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((state, current_revision)) = current else {
            return Err(StoreError::not_found(format!("change request {id}")));
        };
        if state != ChangeState::Open.as_str() {
            return Err(StoreError::Conflict(format!(
                "change request {id} is {state}: there is nothing to review"
            )));
        }
        if current_revision != revision {
            return Err(StoreError::Conflict(format!(
                "change request {id} was edited (revision {current_revision}): review the new revision"
            )));
        }
        let verdict = if approve { "approve" } else { "reject" };
        let row: ChangeReviewRow = sqlx::query_as(
            "INSERT INTO change_reviews (change_id, revision, reviewer, role, verdict, comment, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(id)
        .bind(revision)
        .bind(reviewer)
        .bind(role)
        .bind(verdict)
        .bind(comment)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let data = serde_json::json!({ "by": reviewer, "role": role, "verdict": verdict, "revision": revision, "comment": comment });
        append_event(&mut tx, &format!("change.{verdict}"), &format!("change/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Who wrote each revision of a change, oldest first.
    pub async fn list_change_revisions(&self, id: i64) -> Result<Vec<ChangeRevisionRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM change_revisions WHERE change_id = $1 ORDER BY revision")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The change requests the config versions `first` to `last` of `service` came from, in one
    /// query.
    pub async fn list_changes_of_config_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<ChangeRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM change_requests WHERE id IN
               (SELECT change_id FROM config_versions
                WHERE service = $1 AND version BETWEEN $2 AND $3 AND change_id IS NOT NULL)",
        )
        .bind(service)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The reviews of those change requests, in one query, oldest first.
    pub async fn list_reviews_of_config_versions(
        &self,
        service: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<ChangeReviewRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM change_reviews WHERE change_id IN
               (SELECT change_id FROM config_versions
                WHERE service = $1 AND version BETWEEN $2 AND $3 AND change_id IS NOT NULL)
             ORDER BY id",
        )
        .bind(service)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every review of a change, oldest first (of every revision).
    pub async fn list_reviews(&self, id: i64) -> Result<Vec<ChangeReviewRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM change_reviews WHERE change_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Moves a change from one of `from` to `to`, recording what it came to; a conflict naming
    /// its state otherwise (two reviewers approving at once apply it once).
    pub async fn set_change_state(
        &self,
        id: i64,
        from: &[ChangeState],
        to: ChangeState,
        result: Option<&str>,
        version: Option<i64>,
        rollout_id: Option<i64>,
    ) -> Result<ChangeRow> {
        let mut tx = self.writer.begin().await?;
        let current: ChangeRow = sqlx::query_as("SELECT * FROM change_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("change request {id}")))?;
        debug_assert!(from.iter().all(|f| f.can_move_to(to)), "{from:?} -> {to}");
        if !from.contains(&current.state) {
            return Err(StoreError::Conflict(format!(
                "change request {id} is {}: it cannot become {to}",
                current.state
            )));
        }
        let row: ChangeRow = sqlx::query_as(
            "UPDATE change_requests SET state = $1, result = COALESCE($2, result), version = COALESCE($3, version),
               rollout_id = COALESCE($4, rollout_id), updated_at = $5
             WHERE id = $6 RETURNING *",
        )
        .bind(to.as_str())
        .bind(result)
        .bind(version)
        .bind(rollout_id)
        .bind(now_ms())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let data =
            serde_json::json!({ "from": current.state, "result": result, "version": version, "rollout": rollout_id });
        append_event(&mut tx, &format!("change.{to}"), &format!("change/{id}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }
}

async fn insert_revision(
    conn: &mut crate::backend::Conn,
    change_id: i64,
    revision: i64,
    author: &str,
    role: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO change_revisions (change_id, revision, author, role, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(change_id)
        .bind(revision)
        .bind(author)
        .bind(role)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn insert_market_config(
    conn: &mut crate::backend::Conn,
    service: &str,
    market: &str,
    version: i64,
    deployment_id: Option<i64>,
    by: &str,
    reason: &str,
) -> Result<MarketConfigRow> {
    let row: MarketConfigRow = sqlx::query_as(
        "INSERT INTO market_configs (service, market, version, deployment_id, set_by, reason, set_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(service)
    .bind(market)
    .bind(version)
    .bind(deployment_id)
    .bind(by)
    .bind(reason)
    .bind(now_ms())
    .fetch_one(&mut *conn)
    .await?;
    let data = serde_json::json!({ "service": service, "market": market, "version": version, "deployment": deployment_id, "by": by });
    append_event(conn, "config.market", &format!("config/{service}/{market}"), data).await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use serde_json::json;

    fn layers(vat: f64) -> ConfigLayers {
        ConfigLayers {
            defaults: json!({ "vat_rate": vat }).as_object().cloned().unwrap(),
            ..Default::default()
        }
    }

    fn new<'a>(layers: &'a ConfigLayers, base: i64, by: &'a str, message: &'a str) -> NewConfigVersion<'a> {
        NewConfigVersion {
            service: "shop",
            layers,
            base,
            by,
            message,
            change_id: None,
        }
    }

    #[tokio::test]
    async fn markets_keep_their_version_until_moved() {
        let (_dir, store) = store().await;
        let mut tx = store.writer.begin().await.unwrap();
        assert!(Store::seed_config(&mut tx, "shop", &layers(0.2)).await.unwrap());
        assert!(
            !Store::seed_config(&mut tx, "shop", &layers(0.3)).await.unwrap(),
            "seeded once"
        );
        tx.commit().await.unwrap();
        assert_eq!(store.market_config("shop", "fr").await.unwrap().version, 1);

        let markets = vec!["fr".to_string(), "nl".to_string()];
        let (l21, l22) = (layers(0.21), layers(0.22));
        let v2 = store
            .insert_config_version(new(&l21, 1, "olga", "vat"), &markets)
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(store.market_config("shop", "fr").await.unwrap().version, 1, "pinned");
        let err = store
            .insert_config_version(new(&l22, 1, "dana", "stale"), &markets)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is at version 2 now, not 1"), "{err}");

        store.set_market_config("shop", "nl", 2, "test", "moved").await.unwrap();
        let versions = store.market_config_versions("shop").await.unwrap();
        assert_eq!(versions["fr"], 1);
        assert_eq!(versions["nl"], 2);
        assert_eq!(
            store.market_config("shop", "nl").await.unwrap().layers().unwrap(),
            layers(0.21)
        );
        assert_eq!(store.market_config_history("shop", "nl").await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_edit_resets_the_reviews_that_count() {
        let (_dir, store) = store().await;
        let c = store
            .insert_change(NewChange {
                service: "shop",
                kind: "config",
                title: "vat",
                author: "dana",
                author_role: "developer",
                base_version: 1,
                proposed: "{}",
                production: true,
            })
            .await
            .unwrap();
        store
            .insert_review(c.id, 1, "olga", "operator", true, None)
            .await
            .unwrap();
        let c2 = store
            .revise_change(c.id, "{\"a\":1}", 1, true, "dave", "developer")
            .await
            .unwrap();
        assert_eq!(c2.revision, 2);
        let authors: Vec<(i64, String)> = store
            .list_change_revisions(c.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.revision, r.author))
            .collect();
        assert_eq!(authors, [(1, "dana".to_string()), (2, "dave".to_string())]);
        let err = store
            .insert_review(c.id, 1, "omar", "operator", true, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("was edited (revision 2)"), "{err}");
        store
            .set_change_state(
                c.id,
                &[ChangeState::Open],
                ChangeState::Applying,
                Some("v2"),
                Some(2),
                None,
            )
            .await
            .unwrap();
        let err = store
            .set_change_state(c.id, &[ChangeState::Open], ChangeState::Applying, None, None, None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is applying"), "{err}");
    }

    #[tokio::test]
    async fn revisions_written_before_the_authors_were_kept_are_carried_over() {
        // A data folder at migration 0017, with a change opened by dana and edited by dave.
        let dir = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("tandem.db"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut before = sqlx::migrate!("migrations/sqlite");
        before.migrations = before.migrations.iter().filter(|m| m.version < 18).cloned().collect();
        before.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO change_requests (id, service, kind, title, author, author_role, state, revision, base_version,
               proposed, production, created_at, updated_at)
             VALUES (7, 'shop', 'config', 'vat', 'dana', 'developer', 'open', 2, 1, '{}', 1, 10, 20)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO events (at, kind, subject, data) VALUES (20, 'change.revised', 'change/7', '{\"by\":\"dave\",\"revision\":2}')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(dir.path()).await.unwrap();
        let revisions: Vec<(i64, String, String)> = store
            .list_change_revisions(7)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.revision, r.author, r.role))
            .collect();
        assert_eq!(
            revisions,
            [
                (1, "dana".to_string(), "developer".to_string()),
                (2, "dave".to_string(), "developer".to_string())
            ]
        );
    }
}
