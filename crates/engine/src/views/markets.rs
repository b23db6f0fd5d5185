//! The markets as people look at them: the market matrix (every market with, per service, what
//! runs there, what is in flight, its health and its last failure), the markets page in wave
//! order with launches and the monitor's verdicts, and one market's page with its readiness
//! checklist (while it is not live), its launch and its recent probes.

use crate::launch::Readiness;
use crate::{Engine, Error, Result};
use std::collections::HashMap;
use tandem_core::platform::LaunchState;
use tandem_core::state::DeploymentState;
use tandem_store::launches::LaunchRow;
use tandem_store::{MarketDeployments, MarketFilter, MarketHealthRow, MarketRow, WaveCounts, now_ms};

/// The width of one bucket of recent probes, in seconds: the finest resolution the monitor keeps.
const PROBE_BUCKET: i64 = 60;
/// How far back the recent probes of a market go, in milliseconds.
const PROBE_WINDOW_MS: i64 = 3_600_000;
/// How many buckets of recent probes a market page lists, newest first.
const PROBE_ROWS: usize = 10;

/// One service's state in one market.
#[derive(Debug, Clone)]
pub struct MarketService {
    /// The service's name.
    pub service: String,
    /// The release running now, if any.
    pub release: Option<String>,
    /// Where the live release answers, if anything is live.
    pub url: Option<String>,
    /// The market's front for this service (a service with `gates.canary`): where its real
    /// traffic goes.
    pub front: Option<String>,
    /// Since when (Unix ms) that release has been live.
    pub since: Option<i64>,
    /// up (its probe answers), down (the monitor's probes fail, or its process is gone), or
    /// none (nothing deployed).
    pub health: String,
    /// A release being deployed right now, if any.
    pub in_flight: Option<String>,
    /// The latest deployment here, when it failed and nothing went live since: release and reason.
    pub last_failure: Option<String>,
}

/// A market with what runs there.
#[derive(Debug, Clone)]
pub struct MarketStatus {
    /// The market itself.
    pub market: MarketRow,
    /// The wave it belongs to, if any.
    pub wave: Option<String>,
    /// Every service of the platform, in this market.
    pub services: Vec<MarketService>,
}

impl MarketStatus {
    /// The market's health over its services: down if one is down, up if one is up, else none.
    pub fn health(&self) -> &'static str {
        if self.services.iter().any(|s| s.health == "down") {
            "down"
        } else if self.services.iter().any(|s| s.health == "up") {
            "up"
        } else {
            "none"
        }
    }

    /// Whether a release is being deployed to it now.
    pub fn in_flight(&self) -> bool {
        self.services.iter().any(|s| s.in_flight.is_some())
    }
}

/// A page of the markets page: the markets a search keeps, a page of them, with their launches
/// and the monitor's verdicts, and every wave's counts.
#[derive(Debug, Clone)]
pub struct MarketsPage {
    /// This page's markets, in the order asked (rollout order, or worst first).
    pub markets: Vec<MarketStatus>,
    /// How many markets the search keeps, over every page.
    pub matching: usize,
    /// Every wave's markets counted, in wave order (the markets of no wave last).
    pub waves: Vec<WaveCounts>,
    /// This page's launched markets' launches, by market id.
    pub launches: HashMap<String, LaunchRow>,
    /// The monitor's last verdict of every service in this page's markets, by (service,
    /// market).
    pub health: HashMap<(String, String), MarketHealthRow>,
}

impl MarketsPage {
    /// The monitor's verdict of `service` in `market`, if it has one.
    pub fn health_of(&self, service: &str, market: &str) -> Option<&MarketHealthRow> {
        self.health.get(&(service.to_string(), market.to_string()))
    }

    /// How many markets there are, over every wave.
    pub fn total(&self) -> usize {
        self.waves.iter().map(|w| w.markets as usize).sum()
    }

    /// The sum of one count over every wave.
    pub fn sum(&self, count: impl Fn(&WaveCounts) -> i64) -> usize {
        self.waves.iter().map(|w| count(w) as usize).sum()
    }
}

/// One minute of a market's probes of one service.
#[derive(Debug, Clone)]
pub struct ProbeBucket {
    /// The minute's start, Unix ms.
    pub at: i64,
    /// Probes made in it.
    pub probes: i64,
    /// Probes that passed.
    pub passed: i64,
    /// Mean probe latency, when measured.
    pub latency_ms: Option<f64>,
}

/// One market's page.
#[derive(Debug, Clone)]
pub struct MarketPage {
    /// The market and what runs there.
    pub status: MarketStatus,
    /// The monitor's last verdict of each service here.
    pub health: Vec<MarketHealthRow>,
    /// Its launch through Tandem, if it was launched so.
    pub launch: Option<LaunchRow>,
    /// Its readiness checklist, run now, when asked for and the market is not live.
    pub readiness: Option<Readiness>,
    /// Per service with a release here, its last minutes of probes, newest first.
    pub probes: Vec<(String, Vec<ProbeBucket>)>,
    /// The market's fronts (services with `gates.canary`): service, address, and the share of
    /// requests a new release gets now (0 outside a canary step).
    pub fronts: Vec<(String, String, u8)>,
}

impl MarketPage {
    /// The monitor's verdict of `service` here, if it has one.
    pub fn health_of(&self, service: &str) -> Option<&MarketHealthRow> {
        self.health.iter().find(|h| h.service == service)
    }
}

impl Engine {
    /// The market matrix (`GET /api/v1/markets`, the overview and markets pages): every market
    /// with, per service, what runs there, what is in flight, its health and its last failure.
    /// A fixed number of store reads, however many markets.
    pub async fn market_matrix(&self) -> Result<Vec<MarketStatus>> {
        let markets = self.store.list_markets().await?;
        self.statuses(markets).await
    }

    /// A page of the market matrix (`GET /api/v1/markets?after=&limit=`): the `limit` markets
    /// after market `after` in platform-file order (from the first without it). Only the page's
    /// markets are read and put together. Not found when `after` is no market.
    pub async fn market_matrix_page(&self, after: Option<&str>, limit: usize) -> Result<Vec<MarketStatus>> {
        let page = self.store.list_markets_after(after, limit).await?.ok_or_else(|| {
            let id = after.unwrap_or_default();
            Error::not_found(
                "market",
                id,
                format!("there is no market `{id}` to page after: `after` is the `X-Next-Cursor` of the previous page"),
            )
        })?;
        self.statuses(page).await
    }

    /// The markets whose live services include one the monitor has not judged up or down and
    /// whose process does not run: down, as [`MarketStatus::health`] says, though SQL cannot
    /// tell. Usually none: the monitor judges a live market within its first probes.
    pub(crate) async fn sick_markets(&self) -> Result<Vec<String>> {
        let mut sick: Vec<String> = Vec::new();
        for (service, market) in self.store.list_unjudged_live().await? {
            if sick.last() != Some(&market) && !self.supervisor.is_running(&service, &market).await {
                sick.push(market);
            }
        }
        sick.dedup();
        Ok(sick)
    }

    /// What runs in each of `markets`, for every service: a fixed number of store reads, each
    /// of them over these markets only.
    pub(crate) async fn statuses(&self, markets: Vec<MarketRow>) -> Result<Vec<MarketStatus>> {
        if markets.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = markets.iter().map(|m| m.id.clone()).collect();
        let waves = self.store.list_waves().await?;
        let services = self.store.list_services().await?;
        // Only the deployments the matrix shows, not the whole history.
        let deployments = self.store.list_market_deployments_of(&ids).await?;
        let fronts: HashMap<(String, String), String> = self
            .fronts()
            .all()
            .await
            .into_iter()
            .map(|f| ((f.service.clone(), f.market.clone()), f.url()))
            .collect();
        let monitored: HashMap<(String, String), String> = self
            .store
            .list_market_health_of(&ids)
            .await?
            .into_iter()
            .map(|h| ((h.service, h.market), h.state.to_string()))
            .collect();
        let shown: Vec<i64> = deployments
            .values()
            .flat_map(|m| [&m.live, &m.in_flight, &m.latest])
            .flatten()
            .map(|d| d.release_id)
            .collect();
        let releases = self.store.list_release_versions(&shown).await?;
        // Each market's wave, looked up once: a scan of every wave per market would cost
        // markets² at thousands of markets.
        let wave_of: HashMap<&str, &str> = waves
            .iter()
            .flat_map(|w| w.markets.iter().map(move |m| (m.as_str(), w.name.as_str())))
            .collect();
        let none = MarketDeployments::default();
        let mut out = Vec::with_capacity(markets.len());
        for market in markets {
            let mut per_service = Vec::new();
            for s in &services {
                let mine = deployments.get(&(s.name.clone(), market.id.clone())).unwrap_or(&none);
                let live = mine.live.as_ref();
                let in_flight = mine.in_flight.as_ref();
                let last_failure = mine
                    .latest
                    .as_ref()
                    .filter(|d| d.state == DeploymentState::Failed)
                    .map(|d| {
                        let version = releases.get(&d.release_id).map_or("?", String::as_str);
                        format!(
                            "{version} failed: {}",
                            d.reason.as_deref().unwrap_or("no reason recorded")
                        )
                    });
                let verdict = monitored.get(&(s.name.clone(), market.id.clone())).map(String::as_str);
                let health = match (live, verdict) {
                    // The monitor's last probe, when it has one; else whether the process runs.
                    (Some(_), Some(verdict @ ("up" | "down"))) => verdict,
                    (Some(_), _) if self.supervisor.is_running(&s.name, &market.id).await => "up",
                    (Some(_), _) => "down",
                    (None, _) => "none",
                };
                per_service.push(MarketService {
                    service: s.name.clone(),
                    release: live.and_then(|d| releases.get(&d.release_id).cloned()),
                    url: live.and_then(|d| d.url.clone()),
                    front: fronts.get(&(s.name.clone(), market.id.clone())).cloned(),
                    since: live.and_then(|d| d.finished_at),
                    health: health.into(),
                    in_flight: in_flight.and_then(|d| releases.get(&d.release_id).cloned()),
                    last_failure,
                });
            }
            out.push(MarketStatus {
                wave: wave_of.get(market.id.as_str()).map(|w| w.to_string()),
                market,
                services: per_service,
            });
        }
        Ok(out)
    }

    /// A page of the markets page: the markets `filter` keeps, `limit` from `offset`, with
    /// their launches and the monitor's verdicts, and every wave's counts. Ordered, filtered,
    /// counted and paged in SQL: only the page's markets are put together.
    pub async fn markets_page(&self, filter: &MarketFilter, offset: usize, limit: usize) -> Result<MarketsPage> {
        let sick = self.sick_markets().await?;
        let (listed, matching) = self.store.list_markets_page(filter, &sick, offset, limit).await?;
        let waves = self.store.list_wave_counts(&sick).await?;
        let ids: Vec<String> = listed.iter().map(|l| l.market.id.clone()).collect();
        let markets = self.statuses(listed.into_iter().map(|l| l.market).collect()).await?;
        let launches = self
            .store
            .list_launches_of(&ids)
            .await?
            .into_iter()
            .map(|l| (l.market.clone(), l))
            .collect();
        let health = self
            .store
            .list_market_health_of(&ids)
            .await?
            .into_iter()
            .map(|h| ((h.service.clone(), h.market.clone()), h))
            .collect();
        Ok(MarketsPage {
            markets,
            matching,
            waves,
            launches,
            health,
        })
    }

    /// Market `id`'s page; with `checklist`, its readiness checklist is run now (its probes are
    /// real requests) unless it is live. Not found when the platform file has no such market.
    pub async fn market_page(&self, id: &str, checklist: bool) -> Result<MarketPage> {
        let named = self.store.list_markets_named(&[id.to_string()]).await?;
        let status =
            self.statuses(named).await?.into_iter().next().ok_or_else(|| {
                Error::not_found("market", id, format!("there is no market `{id}` in the platform file"))
            })?;
        let readiness = if checklist && status.market.state != LaunchState::Live {
            Some(self.market_readiness(id).await?)
        } else {
            None
        };
        let health = self.store.list_market_health_of(&[id.to_string()]).await?;
        let launch = self.store.get_launch(id).await?;
        let mut probes = Vec::new();
        for s in status.services.iter().filter(|s| s.release.is_some()) {
            probes.push((s.service.clone(), self.recent_probes(&s.service, id).await?));
        }
        let mut fronts: Vec<(String, String, u8)> = self
            .fronts()
            .all()
            .await
            .into_iter()
            .filter(|f| f.market == id)
            .map(|f| (f.service.clone(), f.url(), f.candidate_share()))
            .collect();
        fronts.sort();
        Ok(MarketPage {
            status,
            health,
            launch,
            readiness,
            probes,
            fronts,
        })
    }

    /// The last minutes of probes of `service` in `market`, newest first.
    async fn recent_probes(&self, service: &str, market: &str) -> Result<Vec<ProbeBucket>> {
        let to = now_ms() + PROBE_BUCKET * 1000;
        let from = to - PROBE_WINDOW_MS;
        let up = self
            .store
            .series(service, Some(market), "up", PROBE_BUCKET, from, to)
            .await?;
        let latency: HashMap<i64, f64> = self
            .store
            .series(service, Some(market), "probe_latency_ms", PROBE_BUCKET, from, to)
            .await?
            .into_iter()
            .map(|p| (p.bucket, p.mean()))
            .collect();
        Ok(up
            .iter()
            .rev()
            .take(PROBE_ROWS)
            .map(|p| ProbeBucket {
                at: p.bucket,
                probes: p.count,
                passed: p.sum.round() as i64,
                latency_ms: latency.get(&p.bucket).copied(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(id: &str, position: i64, health: &[&str]) -> MarketStatus {
        MarketStatus {
            market: MarketRow {
                id: id.into(),
                name: id.to_uppercase(),
                region: "west".into(),
                currency: "EUR".into(),
                locale: "fr-FR".into(),
                timezone: "Europe/Paris".into(),
                state: LaunchState::Live,
                position,
            },
            wave: None,
            services: health
                .iter()
                .map(|h| MarketService {
                    service: "shop".into(),
                    release: None,
                    url: None,
                    front: None,
                    since: None,
                    health: h.to_string(),
                    in_flight: None,
                    last_failure: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_market_is_down_when_one_service_is_and_up_when_one_answers() {
        assert_eq!(market("fr", 0, &["up", "down"]).health(), "down");
        assert_eq!(market("fr", 0, &["none", "up"]).health(), "up");
        assert_eq!(market("fr", 0, &["none"]).health(), "none");
        assert_eq!(market("fr", 0, &[]).health(), "none");
    }
}
