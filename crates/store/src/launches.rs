//! Market launches: a market not yet live made live through Tandem, with who, when and the
//! readiness checklist it passed. The platform file says where a market starts; a recorded
//! launch wins over its `state: planned` at every sync, so a launch survives restarts.

use crate::backend::Conn;
use crate::events::append_event;
use crate::{Result, Store, StoreError, now_ms};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct LaunchRow {
    pub market: String,
    pub launched_at: i64,
    /// The name of the person (token) who launched it.
    pub launched_by: String,
    /// JSON text: the readiness checklist as it stood at the launch.
    pub checklist: String,
}

impl Store {
    /// Records the launch of `market`, makes it live and appends `market.launched`, in one
    /// transaction. Refused when the market is unknown or already live.
    pub async fn insert_launch(&self, market: &str, by: &str, checklist: &serde_json::Value) -> Result<LaunchRow> {
        let mut tx = self.writer.begin().await?;
        let state: Option<(String,)> = sqlx::query_as("SELECT state FROM markets WHERE id = $1")
            .bind(market)
            .fetch_optional(&mut *tx)
            .await?;
        match state {
            None => return Err(StoreError::not_found(format!("market `{market}`"))),
            Some((state,)) if state == "live" => {
                return Err(StoreError::Conflict(format!("market `{market}` is already live")));
            }
            Some(_) => {}
        }
        let row: LaunchRow = sqlx::query_as(
            "INSERT INTO market_launches (market, launched_at, launched_by, checklist) VALUES ($1, $2, $3, $4)
             ON CONFLICT (market) DO UPDATE SET launched_at = $2, launched_by = $3, checklist = $4
             RETURNING *",
        )
        .bind(market)
        .bind(now_ms())
        .bind(by)
        .bind(checklist.to_string())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE markets SET state = 'live' WHERE id = $1")
            .bind(market)
            .execute(&mut *tx)
            .await?;
        let data = serde_json::json!({ "market": market, "by": by, "checklist": checklist });
        append_event(&mut tx, "market.launched", &format!("market/{market}"), data).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The launch of `market`, if it was launched through Tandem.
    pub async fn get_launch(&self, market: &str) -> Result<Option<LaunchRow>> {
        Ok(sqlx::query_as("SELECT * FROM market_launches WHERE market = $1")
            .bind(market)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The launches of the markets named, oldest first.
    pub async fn list_launches_of(&self, markets: &[String]) -> Result<Vec<LaunchRow>> {
        let mut out = Vec::new();
        for chunk in markets.chunks(crate::backend::IDS_PER_QUERY) {
            let mut query = crate::backend::Builder::new("SELECT * FROM market_launches WHERE market IN ");
            crate::backend::push_in_list(&mut query, chunk.iter().map(String::as_str));
            out.extend(query.build_query_as::<LaunchRow>().fetch_all(&self.pool).await?);
        }
        out.sort_by(|a, b| (a.launched_at, &a.market).cmp(&(b.launched_at, &b.market)));
        Ok(out)
    }

    /// Every launch, oldest first.
    pub async fn list_launches(&self) -> Result<Vec<LaunchRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM market_launches ORDER BY launched_at, market")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// Puts recorded facts over the platform file's launch states, in the sync's transaction: a
/// launched market is live; a planned market that already ran a release is launching.
pub(crate) async fn apply_launches(conn: &mut Conn) -> Result<()> {
    sqlx::query("UPDATE markets SET state = 'live' WHERE id IN (SELECT market FROM market_launches)")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE markets SET state = 'launching'
         WHERE state = 'planned' AND id IN (SELECT market FROM deployments WHERE state IN ('live', 'superseded'))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::testing::{release, store};
    use crate::{NewDeployment, StoreError};
    use tandem_core::platform::{LaunchState, parse_platform};

    const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels, state: planned }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam, state: planned }
";

    fn state_of(markets: &[crate::MarketRow], id: &str) -> &'static str {
        markets
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.state.as_str())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_launch_makes_a_market_live_and_outlives_the_platform_file() {
        let (dir, store) = store().await;
        let platform = parse_platform("p.yml", PLATFORM).unwrap();
        store.sync_platform(&platform).await.unwrap();

        let checklist = serde_json::json!([{ "check": "release", "passed": true }]);
        let row = store.insert_launch("be", "ops", &checklist).await.unwrap();
        assert_eq!(row.launched_by, "ops");
        assert_eq!(state_of(&store.list_markets().await.unwrap(), "be"), "live");
        let events = store.list_events(0, 100).await.unwrap();
        let launched = events.iter().find(|e| e.kind == "market.launched").unwrap();
        assert_eq!(launched.subject, "market/be");
        assert!(launched.data.contains("\"by\":\"ops\""), "{}", launched.data);

        let again = store.insert_launch("be", "ops", &checklist).await.unwrap_err();
        assert!(
            matches!(&again, StoreError::Conflict(m) if m == "market `be` is already live"),
            "{again}"
        );
        let unknown = store.insert_launch("xx", "ops", &checklist).await.unwrap_err();
        assert!(matches!(unknown, StoreError::NotFound { .. }), "{unknown}");

        // A restart syncs the file again: `state: planned` does not undo the launch.
        store.close().await;
        let store = dir.open().await;
        store.sync_platform(&platform).await.unwrap();
        let loaded = store.load_platform().await.unwrap();
        assert_eq!(loaded.market("be").unwrap().state, LaunchState::Live);
        assert_eq!(loaded.market("nl").unwrap().state, LaunchState::Planned);
        assert_eq!(
            store.get_launch("be").await.unwrap().unwrap().checklist,
            checklist.to_string()
        );
        assert!(store.get_launch("nl").await.unwrap().is_none());
        assert_eq!(store.list_launches().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_planned_market_is_launching_once_a_release_went_live_there() {
        let (_dir, store) = store().await;
        let platform = parse_platform("p.yml", PLATFORM).unwrap();
        store.sync_platform(&platform).await.unwrap();
        let v1 = release(&store).await;
        let new = |market| NewDeployment {
            rollout_id: None,
            service: "shop",
            market,
            release_id: v1.id,
        };
        let failed = store.insert_deployment(new("nl")).await.unwrap();
        store.mark_deployment_failed(failed.id, "probe failed").await.unwrap();
        let d = store.insert_deployment(new("be")).await.unwrap();
        assert_eq!(state_of(&store.list_markets().await.unwrap(), "be"), "planned");
        store
            .mark_deployment_live(d.id, "http://127.0.0.1:1", None)
            .await
            .unwrap();

        let markets = store.list_markets().await.unwrap();
        assert_eq!(state_of(&markets, "be"), "launching");
        assert_eq!(state_of(&markets, "nl"), "planned", "a failed deployment is no start");
        let events = store.list_events(0, 100).await.unwrap();
        let launching: Vec<_> = events.iter().filter(|e| e.kind == "market.launching").collect();
        assert_eq!(launching.len(), 1);
        assert_eq!(launching[0].subject, "market/be");

        // A second release going live records nothing more; a sync keeps the state.
        let d2 = store.insert_deployment(new("be")).await.unwrap();
        store
            .mark_deployment_live(d2.id, "http://127.0.0.1:2", None)
            .await
            .unwrap();
        store.sync_platform(&platform).await.unwrap();
        assert_eq!(state_of(&store.list_markets().await.unwrap(), "be"), "launching");
        let events = store.list_events(0, 100).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.kind == "market.launching").count(), 1);
    }
}
