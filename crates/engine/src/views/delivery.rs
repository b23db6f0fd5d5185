//! The Delivery page's facts: the four DORA keys for a filter (in total and by market), their
//! week-by-week trend, the deployment history they come from (for the timeline), the markets in
//! wave order, and what the monitor measured in each live market over the last hours with the
//! measure of each metric gate check.
//!
//! The history is read once (and cached until something happens, see
//! [`Engine::dora_history`]), indexed once, and every figure comes from that index: nothing is
//! read per market or per week.

use crate::dora::DoraHistory;
use crate::{Engine, Error, Result};
use std::collections::HashMap;
use std::sync::Arc;
use tandem_core::dora::{Bucket, BucketKeys, Filter, GroupedKeys, History, Window};
use tandem_core::gates::Measure;
use tandem_core::pipeline::ServiceSpec;
use tandem_store::{DeploymentRow, SeriesPoint};

use crate::monitor::{LATENCY_SERIES, UP_SERIES};

/// How far back the live series look, in milliseconds: minute buckets, so a few hundred points
/// per market.
pub const LIVE_SPAN_MS: i64 = 6 * 3_600_000;

/// What the Delivery page asks for.
#[derive(Debug, Clone)]
pub struct DeliveryQuery {
    /// The deployments counted (window, service, kind of change).
    pub filter: Filter,
    /// The window of the weekly trend: whole weeks ending at the filter's end.
    pub weekly: Window,
    /// The end of the live series (Unix ms); they cover the [`LIVE_SPAN_MS`] before it.
    pub live_until: i64,
}

/// One service's live series: what the monitor measured in its live markets.
#[derive(Debug, Clone)]
pub struct LiveService {
    /// The service.
    pub service: String,
    /// Each series with points in the span, availability and probe latency first, then the
    /// checks; its points in market order, then time.
    pub series: Vec<(String, Vec<SeriesPoint>)>,
    /// The measure of each metric gate check among them, from the releases' `tandem.yml`
    /// (see [`measures_of`]); a check no release declares any more is absent.
    pub checks: HashMap<String, Measure>,
}

/// The Delivery page.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Every deployment and incident as the DORA math reads them.
    pub history: Arc<DoraHistory>,
    /// The four keys for the filter, in total and by market, service and wave.
    pub keys: GroupedKeys,
    /// The four keys week by week over the weekly window.
    pub weeks: Vec<BucketKeys>,
    /// Every service of the platform.
    pub services: Vec<String>,
    /// Each market the history names, with its place in rollout order (wave by wave, then
    /// those no wave names, in the platform's order); a market the platform no longer has is
    /// absent.
    pub market_rank: HashMap<String, i64>,
    /// The live series of each service the filter names (every service when it names none).
    pub live: Vec<LiveService>,
}

impl Engine {
    /// The Delivery page for `query`.
    pub async fn delivery(&self, query: &DeliveryQuery) -> Result<Delivery> {
        let history = self.dora_history().await?;
        let (keys, weeks) = {
            let (deployments, incidents) = &*history;
            let index = History::new(deployments, incidents);
            let weeks = index
                .compute_series(&query.filter.with_window(query.weekly), Bucket::Week)
                .map_err(|e| Error::invalid(e.to_string()))?;
            (index.compute_grouped_keys(&query.filter), weeks)
        };
        let services: Vec<String> = self.store.list_services().await?.into_iter().map(|s| s.name).collect();
        // Only the markets drawn are ranked: their place in rollout order, read by name.
        let market_rank = {
            let (deployments, incidents) = &*history;
            let mut drawn: Vec<&str> = deployments
                .iter()
                .map(|d| d.market.as_str())
                .chain(incidents.iter().map(|i| i.market.as_str()))
                .collect();
            drawn.sort_unstable();
            drawn.dedup();
            self.store.market_places(&drawn).await?
        };
        let only = query.filter.service.as_deref();
        let live = self.live_series(&services, only, query.live_until).await?;
        Ok(Delivery {
            history,
            keys,
            weeks,
            services,
            market_rank,
            live,
        })
    }

    /// Every series the monitor keeps for each service (one line per market), over the last
    /// [`LIVE_SPAN_MS`] before `to` at minute resolution.
    async fn live_series(&self, services: &[String], only: Option<&str>, to: i64) -> Result<Vec<LiveService>> {
        let resolution = tandem_core::monitor::RESOLUTIONS[0].0;
        let from = to - LIVE_SPAN_MS;
        let live = self.store.list_live_deployments().await?;
        let mut out = Vec::new();
        for service in services.iter().filter(|s| only.is_none_or(|o| o == s.as_str())) {
            let mut series = Vec::new();
            for metric in self.store.series_names(service).await? {
                let points = self.store.series(service, None, &metric, resolution, from, to).await?;
                if !points.is_empty() {
                    series.push((metric, points));
                }
            }
            // Availability and probe latency first, as every service has them; then the checks.
            series.sort_by_key(|(m, _)| (m != UP_SERIES, m != LATENCY_SERIES));
            let names: Vec<&str> = series.iter().map(|(m, _)| m.as_str()).collect();
            let checks = self.check_measures(service, &live, &names).await?;
            out.push(LiveService {
                service: service.clone(),
                series,
                checks,
            });
        }
        Ok(out)
    }

    /// The measure of every check in `names` that a release of `service` declares: from the
    /// releases live in `live` first (what the monitor judges now), then from the newest release
    /// that has it. A release whose spec cannot be read is skipped: its checks' series show
    /// their values as stored.
    async fn check_measures(
        &self,
        service: &str,
        live: &[DeploymentRow],
        names: &[&str],
    ) -> Result<HashMap<String, Measure>> {
        let mut checks = HashMap::new();
        let mut live_releases: Vec<i64> = live
            .iter()
            .filter(|d| d.service == service)
            .map(|d| d.release_id)
            .collect();
        live_releases.sort_unstable_by(|a, b| b.cmp(a));
        live_releases.dedup();
        for id in &live_releases {
            match self.store.get_release(*id).await.and_then(|r| r.service_spec()) {
                Ok(spec) => add_checks(&mut checks, &spec),
                Err(e) => tracing::warn!(release = id, error = %e, "delivery: cannot read a live release's spec"),
            }
        }
        let resolved = |checks: &HashMap<String, Measure>| {
            names
                .iter()
                .all(|n| *n == UP_SERIES || *n == LATENCY_SERIES || checks.contains_key(*n))
        };
        if resolved(&checks) {
            return Ok(checks);
        }
        for release in self.store.list_releases(Some(service)).await? {
            if live_releases.contains(&release.id) {
                continue;
            }
            match release.service_spec() {
                Ok(spec) => add_checks(&mut checks, &spec),
                Err(e) => tracing::warn!(release = release.id, error = %e, "delivery: cannot read a release's spec"),
            }
            if resolved(&checks) {
                break;
            }
        }
        Ok(checks)
    }
}

/// The measure of each metric gate check the specs declare, the first spec that declares a
/// check giving its measure (read the releases in the order that should win).
pub fn measures_of<'a>(specs: impl IntoIterator<Item = &'a ServiceSpec>) -> HashMap<String, Measure> {
    let mut checks = HashMap::new();
    for spec in specs {
        add_checks(&mut checks, spec);
    }
    checks
}

/// Adds the checks of a release's spec that `checks` does not hold yet.
fn add_checks(checks: &mut HashMap<String, Measure>, spec: &ServiceSpec) {
    for check in spec.gates.metrics.iter().flat_map(|m| &m.checks) {
        checks
            .entry(check.name.clone())
            .or_insert_with(|| check.measure.clone());
    }
}
