//! What the market matrix (the overview, `GET /api/v1/markets`) reads: for each service and
//! market of the catalog, the few deployments that say what runs there. Found through the
//! `deployments_by_state` index, so the cost does not grow with the history.

use crate::backend::{Builder, IDS_PER_QUERY, push_in_list};
use crate::rollouts::DeploymentRow;
use crate::{Result, Store};
use std::collections::HashMap;

/// One service in one market: the deployments the matrix shows.
#[derive(Debug, Clone, Default)]
pub struct MarketDeployments {
    /// The live one (the oldest, should there ever be two).
    pub live: Option<DeploymentRow>,
    /// The newest one still deploying.
    pub in_flight: Option<DeploymentRow>,
    /// The newest one, whatever its state.
    pub latest: Option<DeploymentRow>,
}

impl Store {
    /// For each service and market of the catalog, keyed by `(service, market)`; a pair
    /// without any deployment is left out.
    pub async fn list_market_deployments(&self) -> Result<HashMap<(String, String), MarketDeployments>> {
        self.market_deployments(None).await
    }

    /// Like [`Store::list_market_deployments`], for the markets named only: what a page of
    /// markets reads.
    pub async fn list_market_deployments_of(
        &self,
        markets: &[String],
    ) -> Result<HashMap<(String, String), MarketDeployments>> {
        let mut found = HashMap::new();
        for chunk in markets.chunks(IDS_PER_QUERY) {
            found.extend(self.market_deployments(Some(chunk)).await?);
        }
        Ok(found)
    }

    async fn market_deployments(
        &self,
        markets: Option<&[String]>,
    ) -> Result<HashMap<(String, String), MarketDeployments>> {
        /// `(service, market, live, in flight, latest)`: deployment ids.
        type Picks = (String, String, Option<i64>, Option<i64>, Option<i64>);
        let mut query = Builder::new(
            "SELECT s.name, m.id,
                (SELECT id FROM deployments WHERE service = s.name AND market = m.id AND state = 'live'
                 ORDER BY id LIMIT 1),
                (SELECT id FROM deployments WHERE service = s.name AND market = m.id AND state = 'deploying'
                 ORDER BY id DESC LIMIT 1),
                (SELECT id FROM deployments WHERE service = s.name AND market = m.id ORDER BY id DESC LIMIT 1)
             FROM services s CROSS JOIN markets m",
        );
        if let Some(markets) = markets {
            query.push(" WHERE m.id IN ");
            push_in_list(&mut query, markets.iter().map(String::as_str));
        }
        let picks: Vec<Picks> = query.build_query_as().fetch_all(&self.pool).await?;
        let ids: Vec<i64> = picks
            .iter()
            .flat_map(|(_, _, live, flying, latest)| [*live, *flying, *latest])
            .flatten()
            .collect();
        let mut rows: HashMap<i64, DeploymentRow> = HashMap::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut query = Builder::new("SELECT * FROM deployments WHERE id IN ");
            push_in_list(&mut query, chunk.iter().copied());
            let found: Vec<DeploymentRow> = query.build_query_as().fetch_all(&self.pool).await?;
            rows.extend(found.into_iter().map(|d| (d.id, d)));
        }
        let row = |id: Option<i64>| id.and_then(|id| rows.get(&id).cloned());
        Ok(picks
            .into_iter()
            .filter(|(_, _, _, _, latest)| latest.is_some())
            .map(|(service, market, live, flying, latest)| {
                let found = MarketDeployments {
                    live: row(live),
                    in_flight: row(flying),
                    latest: row(latest),
                };
                ((service, market), found)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::NewDeployment;
    use crate::testing::{release, store};
    use tandem_core::platform::parse_platform;

    #[tokio::test]
    async fn each_market_shows_its_live_in_flight_and_latest_deployment() {
        let (_dir, store) = store().await;
        let platform = parse_platform(
            "platform.yml",
            "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: all, markets: [fr, be, nl] }
services:
  - { name: shop, repo: /srv/git/shop }
",
        )
        .unwrap();
        store.sync_platform(&platform).await.unwrap();
        let (v1, v2) = (release(&store).await, release(&store).await);
        let deploy = |market: &'static str, release_id: i64| {
            store.insert_deployment(NewDeployment {
                rollout_id: None,
                service: "shop",
                market,
                release_id,
            })
        };
        // fr: v1 live, v2 deploying. be: v1 live, v2 failed. nl: nothing.
        let fr1 = deploy("fr", v1.id).await.unwrap();
        store
            .mark_deployment_live(fr1.id, "http://127.0.0.1:1", None)
            .await
            .unwrap();
        let fr2 = deploy("fr", v2.id).await.unwrap();
        let be1 = deploy("be", v1.id).await.unwrap();
        store
            .mark_deployment_live(be1.id, "http://127.0.0.1:2", None)
            .await
            .unwrap();
        let be2 = deploy("be", v2.id).await.unwrap();
        store.mark_deployment_failed(be2.id, "probe failed").await.unwrap();

        let found = store.list_market_deployments().await.unwrap();
        let ids = |market: &str| {
            let m = &found[&("shop".to_string(), market.to_string())];
            let id = |d: &Option<crate::DeploymentRow>| d.as_ref().map(|d| d.id);
            (id(&m.live), id(&m.in_flight), id(&m.latest))
        };
        assert_eq!(ids("fr"), (Some(fr1.id), Some(fr2.id), Some(fr2.id)));
        assert_eq!(ids("be"), (Some(be1.id), None, Some(be2.id)));
        assert_eq!(
            found[&("shop".to_string(), "be".to_string())]
                .latest
                .as_ref()
                .unwrap()
                .state,
            "failed"
        );
        assert!(!found.contains_key(&("shop".to_string(), "nl".to_string())));
        assert_eq!(found.len(), 2);
    }
}
