//! The markets as lists and summaries show them, read in proportion to what is shown: one page
//! of markets ordered, filtered and counted in SQL, and per-wave counts by health, deployment
//! and incident, rather than every market's every service put together in memory.
//!
//! A market's health is worked out in SQL from the deployments and the monitor's verdicts:
//! down when one of its services is live and judged down, up when something is live there, none
//! otherwise. A live service the monitor has not judged up or down (not probed yet, or failing)
//! is up or down by whether its process runs, which only the engine knows: it passes those
//! markets as `sick` (see [`Store::list_unjudged_live`]).
//!
//! Every condition is an `IN` over a non-correlated subquery that reads only the rows in that
//! state (live, deploying, failed, open incidents, down verdicts): each is read once per query,
//! whatever the number of markets.

use crate::backend::{Builder, Dialect, IDS_PER_QUERY, push_in_list};
use crate::{MarketRow, Result, Store};
use sqlx::FromRow;
use std::collections::HashMap;

/// What a list of markets asks for: a search, filters and an order. Empty means everything.
#[derive(Debug, Clone, Default)]
pub struct MarketFilter {
    /// Part of a market's id, name or region, in any case.
    pub text: Option<String>,
    /// Its wave's name.
    pub wave: Option<String>,
    /// Only the markets of no wave.
    pub no_wave: bool,
    /// Its health over its services: up, down or none.
    pub health: Option<String>,
    /// Its launch state: planned, launching or live.
    pub state: Option<String>,
    /// Down first, then an open incident, a failed last deployment, a release on its way, then
    /// the rest; rollout order within each. Otherwise rollout order.
    pub worst_first: bool,
}

/// A market as a list shows it.
#[derive(Debug, Clone, FromRow)]
pub struct ListedMarket {
    #[sqlx(flatten)]
    pub market: MarketRow,
    /// Its wave, if any.
    pub wave: Option<String>,
    /// up, down or none.
    pub health: String,
    /// How much it needs someone's eyes: 0 (down) to 4 (nothing to see); see
    /// [`MarketFilter::worst_first`].
    pub trouble: i64,
}

/// One wave's markets counted (`None` for the markets of no wave).
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct WaveCounts {
    pub wave: Option<String>,
    pub markets: i64,
    /// Markets whose health is up, and down.
    pub up: i64,
    pub down: i64,
    /// Markets where a release is being deployed.
    pub deploying: i64,
    /// Markets with an open incident.
    pub incident: i64,
    /// Markets where a service's latest deployment failed.
    pub failed: i64,
    /// Markets that need a look (trouble below 4).
    pub troubled: i64,
    /// Markets in each launch state.
    pub live: i64,
    pub launching: i64,
    pub planned: i64,
}

/// The longest search text a list takes, in characters.
pub const MARKET_SEARCH_MAX: usize = 100;

/// `markets m` with, per market, 0/1 flags `down`, `live_here`, `incident`, `failed`,
/// `deploying`, for the markets `sick` to count as down too.
fn flagged_markets<'a>(dialect: Dialect, query: &mut Builder<'a>, sick: &'a [String]) {
    query.push(
        "(SELECT m.*,
            CASE WHEN m.id IN (SELECT h.market FROM market_health h WHERE h.state = 'down'
                                 AND h.service IN (SELECT name FROM services)
                                 AND EXISTS (SELECT 1 FROM deployments d WHERE d.service = h.service
                                             AND d.market = h.market AND d.state = 'live'))",
    );
    if !sick.is_empty() {
        query.push(" OR m.id ");
        dialect.push_in_texts(query, sick);
    }
    query.push(
        " THEN 1 ELSE 0 END AS down,
            CASE WHEN m.id IN (SELECT market FROM deployments WHERE state = 'live'
                               AND service IN (SELECT name FROM services)) THEN 1 ELSE 0 END AS live_here,
            CASE WHEN m.id IN (SELECT market FROM incidents WHERE state = 'open') THEN 1 ELSE 0 END AS incident,
            CASE WHEN m.id IN (SELECT d.market FROM deployments d WHERE d.state = 'failed'
                               AND d.service IN (SELECT name FROM services)
                               AND NOT EXISTS (SELECT 1 FROM deployments e WHERE e.service = d.service
                                               AND e.market = d.market AND e.id > d.id)) THEN 1 ELSE 0 END AS failed,
            CASE WHEN m.id IN (SELECT market FROM deployments WHERE state = 'deploying'
                               AND service IN (SELECT name FROM services)) THEN 1 ELSE 0 END AS deploying
          FROM markets m) AS f",
    );
}

/// The health and trouble of a flagged market `f`.
const HEALTH: &str = "CASE WHEN f.down = 1 THEN 'down' WHEN f.live_here = 1 THEN 'up' ELSE 'none' END";
const TROUBLE: &str = "CAST(CASE WHEN f.down = 1 THEN 0 WHEN f.incident = 1 THEN 1 WHEN f.failed = 1 THEN 2
    WHEN f.deploying = 1 THEN 3 ELSE 4 END AS BIGINT)";

/// Appends ` WHERE …` for `filter` over flagged markets `f`.
fn push_filter<'a>(query: &mut Builder<'a>, filter: &'a MarketFilter) {
    query.push(" WHERE 1 = 1");
    if let Some(text) = &filter.text {
        // LIKE with its wildcards escaped: the text is matched as written.
        let pattern = format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query.push(" AND (lower(f.id) LIKE ");
        query.push_bind(pattern.clone());
        query.push(" ESCAPE '\\' OR lower(f.name) LIKE ");
        query.push_bind(pattern.clone());
        query.push(" ESCAPE '\\' OR lower(f.region) LIKE ");
        query.push_bind(pattern);
        query.push(" ESCAPE '\\')");
    }
    if let Some(wave) = &filter.wave {
        query.push(" AND f.wave = ").push_bind(wave.as_str());
    }
    if filter.no_wave {
        query.push(" AND f.wave IS NULL");
    }
    if let Some(state) = &filter.state {
        query.push(" AND f.state = ").push_bind(state.as_str());
    }
    if let Some(health) = &filter.health {
        query.push(format_args!(" AND {HEALTH} = ")).push_bind(health.as_str());
    }
}

impl Dialect {
    /// Appends `IN (…)` over `items`, bound as one value: a list of any length (an `IN` list
    /// of one bound value per item is capped by the number of parameters).
    pub(crate) fn push_in_texts<'a>(self, query: &mut Builder<'a>, items: &'a [String]) {
        if items.len() <= IDS_PER_QUERY {
            query.push("IN ");
            push_in_list(query, items.iter().map(String::as_str));
            return;
        }
        let json = serde_json::to_string(items).unwrap_or_else(|_| "[]".into());
        match self {
            Dialect::Sqlite => query
                .push("IN (SELECT value FROM json_each(")
                .push_bind(json)
                .push("))"),
            Dialect::Postgres => query
                .push("IN (SELECT jsonb_array_elements_text(CAST(CAST(")
                .push_bind(json)
                .push(" AS TEXT) AS jsonb)))"),
        };
    }
}

impl Store {
    /// The live deployments of a platform service that the monitor has not judged up or down
    /// (never probed, or failing): `(service, market)`. Whether they are up is whether their
    /// process runs, which the caller knows.
    pub async fn list_unjudged_live(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT d.service, d.market FROM deployments d
             WHERE d.state = 'live' AND d.service IN (SELECT name FROM services)
               AND NOT EXISTS (SELECT 1 FROM market_health h WHERE h.service = d.service
                               AND h.market = d.market AND h.state IN ('up', 'down'))
             ORDER BY d.market, d.service",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One page of the markets `filter` keeps (`limit` from `offset`), in rollout order or
    /// worst first, and how many it keeps in all. Markets in `sick` count as down.
    pub async fn list_markets_page(
        &self,
        filter: &MarketFilter,
        sick: &[String],
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ListedMarket>, usize)> {
        let mut count = Builder::new("SELECT count(*) FROM ");
        flagged_markets(self.dialect, &mut count, sick);
        push_filter(&mut count, filter);
        let (matching,): (i64,) = count.build_query_as().fetch_one(&self.pool).await?;

        let mut query = Builder::new(format!(
            "SELECT f.id, f.name, f.region, f.currency, f.locale, f.timezone, f.state, f.position, f.wave,
                    {HEALTH} AS health, {TROUBLE} AS trouble FROM "
        ));
        flagged_markets(self.dialect, &mut query, sick);
        push_filter(&mut query, filter);
        query.push(if filter.worst_first {
            " ORDER BY trouble, f.place"
        } else {
            " ORDER BY f.place"
        });
        query
            .push(" LIMIT ")
            .push_bind(limit as i64)
            .push(" OFFSET ")
            .push_bind(offset as i64);
        let rows = query.build_query_as().fetch_all(&self.pool).await?;
        Ok((rows, usize::try_from(matching).unwrap_or(0)))
    }

    /// Every wave's markets counted by health, deployment, incident and launch state, in wave
    /// order; the markets of no wave last, when there are any. Markets in `sick` count as down.
    pub async fn list_wave_counts(&self, sick: &[String]) -> Result<Vec<WaveCounts>> {
        let mut query = Builder::new(format!(
            "SELECT f.wave, count(*) AS markets,
                sum(CASE WHEN {HEALTH} = 'up' THEN 1 ELSE 0 END) AS up,
                sum(f.down) AS down, sum(f.deploying) AS deploying, sum(f.incident) AS incident,
                sum(f.failed) AS failed, sum(CASE WHEN {TROUBLE} < 4 THEN 1 ELSE 0 END) AS troubled,
                sum(CASE WHEN f.state = 'live' THEN 1 ELSE 0 END) AS live,
                sum(CASE WHEN f.state = 'launching' THEN 1 ELSE 0 END) AS launching,
                sum(CASE WHEN f.state = 'planned' THEN 1 ELSE 0 END) AS planned
             FROM "
        ));
        flagged_markets(self.dialect, &mut query, sick);
        query.push(" GROUP BY f.wave");
        let mut counts: Vec<WaveCounts> = query.build_query_as().fetch_all(&self.pool).await?;
        let order: Vec<(String,)> = sqlx::query_as("SELECT name FROM waves ORDER BY position")
            .fetch_all(&self.pool)
            .await?;
        counts.sort_by_key(|c| {
            c.wave.as_ref().map_or(usize::MAX, |w| {
                order.iter().position(|(n,)| n == w).unwrap_or(usize::MAX - 1)
            })
        });
        Ok(counts)
    }

    /// The markets named, in platform-file order (a name that is no market is left out).
    pub async fn list_markets_named(&self, ids: &[String]) -> Result<Vec<MarketRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = Builder::new("SELECT * FROM markets WHERE id IN ");
            push_in_list(&mut query, chunk.iter().map(String::as_str));
            out.extend(query.build_query_as::<MarketRow>().fetch_all(&self.pool).await?);
        }
        out.sort_by_key(|m| m.position);
        Ok(out)
    }

    /// Each market named with its place in rollout order (wave by wave, as each wave lists
    /// them; the markets of no wave after them); a name that is no market is left out.
    pub async fn market_places(&self, ids: &[&str]) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = Builder::new("SELECT id, place FROM markets WHERE id IN ");
            push_in_list(&mut query, chunk.iter().copied());
            out.extend(query.build_query_as::<(String, i64)>().fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// Up to `limit` markets after market `after` in platform-file order (from the first
    /// without it); `None` when `after` is no market.
    pub async fn list_markets_after(&self, after: Option<&str>, limit: usize) -> Result<Option<Vec<MarketRow>>> {
        let from = match after {
            None => -1,
            Some(id) => {
                let found: Option<(i64,)> = sqlx::query_as("SELECT position FROM markets WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                match found {
                    Some((position,)) => position,
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(
            sqlx::query_as("SELECT * FROM markets WHERE position > $1 ORDER BY position LIMIT $2")
                .bind(from)
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{release, store};
    use crate::{NewDeployment, ProbeRecord, now_ms};
    use tandem_core::platform::parse_platform;

    fn probe(market: &str, deployment_id: i64, up: bool) -> ProbeRecord {
        ProbeRecord {
            service: "shop".into(),
            market: market.into(),
            deployment_id,
            at: now_ms(),
            ok: up,
            latency_ms: None,
            error: None,
            failures_in_a_row: if up { 0 } else { 3 },
            state: if up { "up" } else { "down" }.parse().unwrap(),
            transition: None,
            incident_id: None,
            measurements: Vec::new(),
        }
    }

    fn ids(listed: &[ListedMarket]) -> Vec<&str> {
        listed.iter().map(|l| l.market.id.as_str()).collect()
    }

    /// Deployments and the monitor's health page after a cursor in their own order; markets
    /// named come with their place in rollout order (a name that is no market is left out).
    #[tokio::test]
    async fn deployments_and_health_page_by_cursor_and_markets_read_their_place() {
        let (_dir, store) = store().await;
        let platform = parse_platform(
            "platform.yml",
            "markets:
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: nl, name: Netherlands, region: north, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest, markets: [nl] }
services:
  - { name: shop, repo: /srv/git/shop }
",
        )
        .unwrap();
        store.sync_platform(&platform).await.unwrap();
        let v1 = release(&store).await;
        let mut probes = Vec::new();
        let mut ids = Vec::new();
        for market in ["nl", "de", "fr"] {
            let d = store
                .insert_deployment(NewDeployment {
                    rollout_id: None,
                    service: "shop",
                    market,
                    release_id: v1.id,
                })
                .await
                .unwrap();
            store
                .mark_deployment_live(d.id, "http://127.0.0.1:1", None)
                .await
                .unwrap();
            probes.push(probe(market, d.id, true));
            ids.push(d.id);
        }
        store.record_probes(&probes).await.unwrap();

        let page = |rows: Vec<crate::DeploymentRow>| rows.into_iter().map(|d| d.id).collect::<Vec<_>>();
        assert_eq!(
            page(store.list_deployments_page(None, None, 2).await.unwrap()),
            ids[..2]
        );
        assert_eq!(
            page(store.list_deployments_page(None, Some(ids[1]), 2).await.unwrap()),
            ids[2..]
        );
        assert!(
            store
                .list_deployments_page(Some(999), None, 2)
                .await
                .unwrap()
                .is_empty()
        );

        let markets = |rows: Vec<crate::MarketHealthRow>| rows.into_iter().map(|h| h.market).collect::<Vec<_>>();
        assert_eq!(
            markets(store.list_market_health_page(None, 2).await.unwrap()),
            ["de", "fr"]
        );
        assert_eq!(
            markets(store.list_market_health_page(Some(("shop", "fr")), 2).await.unwrap()),
            ["nl"]
        );
        assert!(
            store
                .list_market_health_page(Some(("zzz", "a")), 2)
                .await
                .unwrap()
                .is_empty()
        );

        let places = store.market_places(&["nl", "de", "fr", "atlantis"]).await.unwrap();
        let mut order: Vec<(&str, i64)> = places.iter().map(|(m, p)| (m.as_str(), *p)).collect();
        order.sort_by_key(|(_, p)| *p);
        let order: Vec<&str> = order.into_iter().map(|(m, _)| m).collect();
        assert_eq!(order, ["fr", "nl", "de"], "the waves' markets first, then the others");
    }

    /// Five markets, each in another plight: the list orders, filters, counts and pages them
    /// as the markets page shows them.
    #[tokio::test]
    async fn markets_are_ordered_filtered_counted_and_paged_in_the_store() {
        let (_dir, store) = store().await;
        let platform = parse_platform(
            "platform.yml",
            "markets:
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: lu, name: Luxembourg, region: west, currency: EUR, locale: fr-LU, timezone: Europe/Luxembourg }
  - { id: nl, name: Netherlands, region: north, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [nl, be, lu] }
services:
  - { name: shop, repo: /srv/git/shop }
  - { name: cart, repo: /srv/git/cart }
",
        )
        .unwrap();
        store.sync_platform(&platform).await.unwrap();
        let v1 = release(&store).await;
        let deploy = async |service: &'static str, market: &'static str| {
            store
                .insert_deployment(NewDeployment {
                    rollout_id: None,
                    service,
                    market,
                    release_id: v1.id,
                })
                .await
                .unwrap()
        };
        // fr: up, with an open incident. nl: judged down. be: live, never probed. lu: its
        // last deployment failed. de (no wave): cart being deployed.
        let mut probes = Vec::new();
        for (market, up) in [("fr", true), ("nl", false)] {
            let d = deploy("shop", market).await;
            store
                .mark_deployment_live(d.id, "http://127.0.0.1:1", None)
                .await
                .unwrap();
            probes.push(probe(market, d.id, up));
        }
        store.record_probes(&probes).await.unwrap();
        store
            .insert_incident("shop", "fr", None, "slow checkout")
            .await
            .unwrap();
        let be = deploy("shop", "be").await;
        store
            .mark_deployment_live(be.id, "http://127.0.0.1:2", None)
            .await
            .unwrap();
        let lu = deploy("shop", "lu").await;
        store.mark_deployment_failed(lu.id, "probe failed").await.unwrap();
        deploy("cart", "de").await;

        assert_eq!(
            store.list_unjudged_live().await.unwrap(),
            [("shop".to_string(), "be".to_string())],
            "only be is live without a verdict"
        );
        let page = async |filter: &MarketFilter, sick: &[String], offset: usize, limit: usize| {
            store.list_markets_page(filter, sick, offset, limit).await.unwrap()
        };
        let all = MarketFilter::default();

        // Rollout order: by wave, as each wave lists its markets; no wave last.
        let (listed, matching) = page(&all, &[], 0, 10).await;
        assert_eq!(ids(&listed), ["fr", "nl", "be", "lu", "de"]);
        assert_eq!(matching, 5);
        let health: Vec<&str> = listed.iter().map(|l| l.health.as_str()).collect();
        assert_eq!(health, ["up", "down", "up", "none", "none"]);
        assert_eq!(listed[0].wave.as_deref(), Some("pilot"));
        assert_eq!(listed[4].wave, None);

        // Worst first: down, an open incident, a failed last deployment, deploying, the rest.
        let worst = MarketFilter {
            worst_first: true,
            ..MarketFilter::default()
        };
        let (listed, _) = page(&worst, &[], 0, 10).await;
        assert_eq!(ids(&listed), ["nl", "fr", "lu", "de", "be"]);
        let trouble: Vec<i64> = listed.iter().map(|l| l.trouble).collect();
        assert_eq!(trouble, [0, 1, 2, 3, 4]);
        // be's process does not run: the engine says so, and be is down too.
        let sick = ["be".to_string()];
        let (listed, _) = page(&worst, &sick, 0, 10).await;
        assert_eq!(ids(&listed), ["nl", "be", "fr", "lu", "de"]);

        // A page: two from the second, with the count of them all.
        let (listed, matching) = page(&all, &[], 1, 2).await;
        assert_eq!((ids(&listed), matching), (vec!["nl", "be"], 5));

        // Filters: text in id, name or region in any case, taken as written; wave; no wave;
        // health; launch state.
        let only = async |filter: MarketFilter, sick: &[String]| {
            let (listed, matching) = page(&filter, sick, 0, 10).await;
            assert_eq!(listed.len(), matching);
            ids(&listed).iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let text = |t: &str| MarketFilter {
            text: Some(t.into()),
            ..MarketFilter::default()
        };
        assert_eq!(only(text("NETHER"), &[]).await, ["nl"]);
        assert_eq!(only(text("West"), &[]).await, ["fr", "be", "lu"]);
        assert_eq!(only(text("_"), &[]).await, Vec::<String>::new(), "`_` is no wildcard");
        assert_eq!(only(text("%"), &[]).await, Vec::<String>::new(), "`%` is no wildcard");
        let wave = MarketFilter {
            wave: Some("benelux".into()),
            ..MarketFilter::default()
        };
        assert_eq!(only(wave, &[]).await, ["nl", "be", "lu"]);
        let loose = MarketFilter {
            no_wave: true,
            ..MarketFilter::default()
        };
        assert_eq!(only(loose, &[]).await, ["de"]);
        let health = |h: &str| MarketFilter {
            health: Some(h.into()),
            ..MarketFilter::default()
        };
        assert_eq!(only(health("down"), &[]).await, ["nl"]);
        assert_eq!(only(health("down"), &sick).await, ["nl", "be"]);
        assert_eq!(only(health("up"), &[]).await, ["fr", "be"]);
        assert_eq!(only(health("none"), &[]).await, ["lu", "de"]);
        let launching = MarketFilter {
            state: Some("launching".into()),
            ..MarketFilter::default()
        };
        assert!(only(launching, &[]).await.is_empty(), "every market is live");

        // Each wave counted, in wave order, the markets of no wave last.
        let counts = store.list_wave_counts(&sick).await.unwrap();
        let pilot = WaveCounts {
            wave: Some("pilot".into()),
            markets: 1,
            up: 1,
            incident: 1,
            troubled: 1,
            live: 1,
            ..WaveCounts::default()
        };
        let benelux = WaveCounts {
            wave: Some("benelux".into()),
            markets: 3,
            down: 2,
            failed: 1,
            troubled: 3,
            live: 3,
            ..WaveCounts::default()
        };
        let loose = WaveCounts {
            wave: None,
            markets: 1,
            deploying: 1,
            troubled: 1,
            live: 1,
            ..WaveCounts::default()
        };
        assert_eq!(counts, [pilot, benelux, loose]);
    }
}
