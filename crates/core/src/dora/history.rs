//! A history of deployments and incidents, judged once, then counted under any filter in one
//! pass: as a total, grouped by market, service and wave, or bucketed by day or week.

use super::keys::{Keys, Restore, Tally, Verdict};
use super::level::{DAY_MS, WEEK_MS};
use super::{Deployment, DoraError, Filter, Incident, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The most buckets a series may have: a trend chart shows a few hundred points at most, and
/// the cap keeps a mistaken window (years by day) from allocating without bound.
pub const MAX_BUCKETS: i64 = 1_000;

/// The keys of a filter, and of each market, service and wave within it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedKeys {
    pub total: Keys,
    pub by_market: BTreeMap<String, Keys>,
    pub by_service: BTreeMap<String, Keys>,
    /// Deployments made outside a rollout have no wave and are in no group here, so only these
    /// groups may add up to less than the total.
    pub by_wave: BTreeMap<u32, Keys>,
}

/// The length of a series' buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// 24 hours.
    Day,
    /// 7 × 24 hours.
    Week,
}

impl Bucket {
    /// Its length in milliseconds.
    pub fn len_ms(self) -> i64 {
        match self {
            Bucket::Day => DAY_MS,
            Bucket::Week => WEEK_MS,
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
        })
    }
}

/// The keys of the deployments that finished in `[from, to)`, one point of a trend chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketKeys {
    pub from: i64,
    pub to: i64,
    pub keys: Keys,
}

/// Deployments and incidents, with what the whole history says about each deployment.
#[derive(Debug, Clone)]
pub struct History<'a> {
    deployments: &'a [Deployment],
    /// Per deployment, in the same order.
    rows: Vec<Row>,
    /// The markets, by their index in rows.
    markets: Vec<&'a str>,
    /// The services, by their index in rows.
    services: Vec<&'a str>,
}

/// One deployment's market and service as indexes (so grouping needs no hashing), and what the
/// history says about it: `None` when it is never counted.
#[derive(Debug, Clone, Copy)]
struct Row {
    market: u32,
    service: u32,
    verdict: Option<Verdict>,
}

impl<'a> History<'a> {
    /// Judges every deployment once: failed or not, and when its market was restored.
    /// O(n log n) in deployments, O(m) in incidents.
    pub fn new(deployments: &'a [Deployment], incidents: &[Incident]) -> Self {
        let links = link_incidents(incidents);
        let (mut markets, mut services) = (Names::default(), Names::default());
        let targets: Vec<(u32, u32)> = deployments
            .iter()
            .map(|d| (services.index(&d.service), markets.index(&d.market)))
            .collect();
        let next_good = find_next_good_finishes(deployments, &targets, &links);
        let rows = deployments
            .iter()
            .zip(targets)
            .zip(next_good)
            .map(|((d, (service, market)), next)| Row {
                market,
                service,
                verdict: judge(d, links.get(&d.id), next),
            })
            .collect();
        Self {
            deployments,
            rows,
            markets: markets.names,
            services: services.names,
        }
    }

    /// The keys of the deployments `filter` counts.
    pub fn compute_keys(&self, filter: &Filter) -> Keys {
        let mut total = Tally::default();
        for (d, _, verdict) in self.counted(filter) {
            total.add(d, verdict);
        }
        total.finish(filter.window().len_ms())
    }

    /// The keys of the deployments `filter` counts, in total and by market, service and wave,
    /// in one pass over the deployments.
    pub fn compute_grouped_keys(&self, filter: &Filter) -> GroupedKeys {
        let mut total = Tally::default();
        let mut by_market: Vec<Tally> = self.markets.iter().map(|_| Tally::default()).collect();
        let mut by_service: Vec<Tally> = self.services.iter().map(|_| Tally::default()).collect();
        let mut by_wave: BTreeMap<u32, Tally> = BTreeMap::new();
        for (d, row, verdict) in self.counted(filter) {
            total.add(d, verdict);
            by_market[row.market as usize].add(d, verdict);
            by_service[row.service as usize].add(d, verdict);
            if let Some(wave) = d.wave {
                by_wave.entry(wave).or_default().add(d, verdict);
            }
        }
        let window_ms = filter.window().len_ms();
        GroupedKeys {
            total: total.finish(window_ms),
            by_market: finish_groups(self.markets.iter().map(|m| m.to_string()).zip(by_market), window_ms),
            by_service: finish_groups(self.services.iter().map(|s| s.to_string()).zip(by_service), window_ms),
            by_wave: finish_groups(by_wave, window_ms),
        }
    }

    /// The keys per `bucket` over the filter's window, oldest first, in one pass. Buckets start
    /// at the window's `from` (choose it at the midnight wanted); the last one ends at `to` and
    /// may be shorter, its rates taken over its own length.
    pub fn compute_series(&self, filter: &Filter, bucket: Bucket) -> Result<Vec<BucketKeys>, DoraError> {
        let window = filter.window();
        let size = bucket.len_ms();
        let buckets = (window.len_ms() - 1) / size + 1;
        if buckets > MAX_BUCKETS {
            return Err(DoraError::TooManyBuckets {
                bucket,
                buckets,
                max: MAX_BUCKETS,
            });
        }
        let mut tallies: Vec<Tally> = (0..buckets).map(|_| Tally::default()).collect();
        for (d, _, verdict) in self.counted(filter) {
            // In the window, so the index is in 0..buckets.
            let index = (d.finished_at - window.from()) / size;
            if let Some(tally) = usize::try_from(index).ok().and_then(|i| tallies.get_mut(i)) {
                tally.add(d, verdict);
            }
        }
        Ok(tallies
            .into_iter()
            .zip(0..)
            .map(|(tally, i)| {
                let from = window.from() + i * size;
                let to = from.saturating_add(size).min(window.to());
                BucketKeys {
                    from,
                    to,
                    keys: tally.finish(to - from),
                }
            })
            .collect())
    }

    /// When failed deployment `id` began to hurt its market and when the market was restored:
    /// the one restore time every page shows (the keys' medians are made of these). `None` when
    /// `id` is not a failed deployment DORA counts (not in the history, not production, a
    /// rollback, or not failed).
    pub fn restore_of(&self, id: i64) -> Option<Restore> {
        self.deployments
            .iter()
            .zip(&self.rows)
            .find(|(d, _)| d.id == id)
            .and_then(|(_, row)| match row.verdict {
                Some(Verdict::Failed(restore)) => Some(restore),
                _ => None,
            })
    }

    /// The deployments `filter` counts, with their rows and verdicts.
    fn counted<'s>(&'s self, filter: &'s Filter) -> impl Iterator<Item = (&'a Deployment, &'s Row, Verdict)> + 's {
        self.deployments
            .iter()
            .zip(&self.rows)
            .filter_map(move |(d, row)| row.verdict.filter(|_| filter.matches(d)).map(|v| (d, row, v)))
    }
}

/// Names given indexes in the order first seen.
#[derive(Debug, Default)]
struct Names<'a> {
    indexes: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Names<'a> {
    /// The index of `name`, new if it was not seen before.
    fn index(&mut self, name: &'a str) -> u32 {
        *self.indexes.entry(name).or_insert_with(|| {
            self.names.push(name);
            (self.names.len() - 1) as u32
        })
    }
}

/// The keys of each group that counted a deployment, in key order.
fn finish_groups<K: Ord>(groups: impl IntoIterator<Item = (K, Tally)>, window_ms: i64) -> BTreeMap<K, Keys> {
    groups
        .into_iter()
        .filter(|(_, tally)| !tally.is_empty())
        .map(|(key, tally)| (key, tally.finish(window_ms)))
        .collect()
}

/// The incidents linked to one deployment.
#[derive(Debug, Clone, Copy)]
struct Link {
    unresolved: u32,
    first_opened_at: i64,
    last_resolved_at: i64,
}

impl Link {
    /// When the last of its incidents was resolved; `None` while one is open.
    fn resolved_at(self) -> Option<i64> {
        (self.unresolved == 0).then_some(self.last_resolved_at)
    }
}

/// The incidents of each deployment that has any, by deployment id.
fn link_incidents(incidents: &[Incident]) -> HashMap<i64, Link> {
    let mut links: HashMap<i64, Link> = HashMap::new();
    for incident in incidents {
        let Some(deployment) = incident.deployment_id else {
            continue;
        };
        let link = links.entry(deployment).or_insert(Link {
            unresolved: 0,
            first_opened_at: i64::MAX,
            last_resolved_at: i64::MIN,
        });
        link.first_opened_at = link.first_opened_at.min(incident.opened_at);
        match incident.resolved_at {
            Some(at) => link.last_resolved_at = link.last_resolved_at.max(at),
            None => link.unresolved += 1,
        }
    }
    links
}

/// Whether `d` is a deployment that leaves its market healthy: production, succeeded, and no
/// incident linked to it. A rollback qualifies.
fn is_good(d: &Deployment, links: &HashMap<i64, Link>) -> bool {
    d.production && d.outcome == Outcome::Succeeded && !links.contains_key(&d.id)
}

/// For each deployment (same order), when the next good deployment to the same service and
/// market finished: the first after it by `(finished_at, id)`, skipping failed ones. `targets`
/// holds each deployment's (service, market) indexes. One sort of compact keys, then one
/// backward sweep per service and market.
fn find_next_good_finishes(
    deployments: &[Deployment],
    targets: &[(u32, u32)],
    links: &HashMap<i64, Link>,
) -> Vec<Option<i64>> {
    let mut order: Vec<((u32, u32), i64, i64, usize)> = deployments
        .iter()
        .zip(targets)
        .enumerate()
        .filter(|(_, (d, _))| d.production)
        .map(|(i, (d, target))| (*target, d.finished_at, d.id, i))
        .collect();
    order.sort_unstable();
    let mut next = vec![None; deployments.len()];
    let mut current: Option<(u32, u32)> = None;
    let mut next_good: Option<i64> = None;
    for &(target, _, _, i) in order.iter().rev() {
        if current != Some(target) {
            current = Some(target);
            next_good = None;
        }
        next[i] = next_good;
        if is_good(&deployments[i], links) {
            next_good = Some(deployments[i].finished_at);
        }
    }
    next
}

/// What the history says about `d`; `None` when it is never counted (not production, or a
/// rollback, which brings no change).
fn judge(d: &Deployment, link: Option<&Link>, next_good_finish: Option<i64>) -> Option<Verdict> {
    if !d.production || d.rollback {
        return None;
    }
    if d.outcome == Outcome::Succeeded && link.is_none() {
        return Some(Verdict::Good);
    }
    // A deployment that never served may have disturbed the market from the moment it began.
    // One that served hurt from when its first incident opened (it may have served well for
    // days before), but not before it went live; without an incident, from when it went live.
    let hurt_from = match d.outcome {
        Outcome::Failed => d.started_at,
        Outcome::Succeeded | Outcome::RolledBack => {
            link.map_or(d.finished_at, |l| l.first_opened_at.max(d.finished_at))
        }
    };
    let restored_at = [next_good_finish, link.and_then(|l| l.resolved_at()), d.recovered_at]
        .into_iter()
        .flatten()
        .min();
    Some(Verdict::Failed(Restore { hurt_from, restored_at }))
}
