//! A synthetic year: 50,000 deployments (4 services × 25 markets in 5 waves), 100,000 commit
//! times and 2,000 incidents. `cargo test -p tandem-core --release --lib dora::scale --
//! --ignored --nocapture` prints the time of each computation (no test asserts a time).

use super::*;
use std::time::{Duration, Instant};

const DEPLOYMENTS: usize = 50_000;
const COMMITS: usize = 100_000;
const INCIDENTS: usize = 2_000;
const MARKETS: usize = 25;
const SERVICES: usize = 4;
const YEAR_MS: i64 = 365 * DAY_MS;

/// A fixed xorshift64 sequence: the same year on every run, without a rand dependency.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Deployments in time order, each to one market of one service, with 2 commits each;
/// 3 % rolled back, 1 % failed, 2 % rollbacks; incidents: three in four linked to a deployment,
/// nine in ten resolved.
fn year() -> (Vec<Deployment>, Vec<Incident>) {
    let mut seq = Sequence(0x5EED_D0BA_2021);
    let mut deployments = Vec::with_capacity(DEPLOYMENTS);
    for i in 0..DEPLOYMENTS {
        let finished_at = YEAR_MS / DEPLOYMENTS as i64 * i as i64;
        let market = seq.below(MARKETS as u64) as usize;
        let roll = seq.below(100);
        deployments.push(Deployment {
            id: i as i64,
            service: format!("service-{}", seq.below(SERVICES as u64)),
            market: format!("m{market:02}"),
            wave: (roll != 99).then_some(market as u32 / 5 + 1),
            kind: if seq.below(5) == 0 {
                ChangeKind::Config
            } else {
                ChangeKind::Code
            },
            rollback: roll < 2,
            started_at: finished_at - 5 * 60_000,
            finished_at,
            outcome: match roll {
                2..=4 => Outcome::RolledBack,
                5 => Outcome::Failed,
                _ => Outcome::Succeeded,
            },
            production: true,
            commit_times: (0..COMMITS / DEPLOYMENTS)
                .map(|_| finished_at - seq.below(10 * DAY_MS as u64) as i64)
                .collect(),
            recovered_at: None,
        });
    }
    let incidents = (0..INCIDENTS)
        .map(|i| {
            let deployment = seq.below(DEPLOYMENTS as u64) as usize;
            let opened_at = deployments[deployment].finished_at + 60_000;
            Incident {
                id: i as i64,
                service: deployments[deployment].service.clone(),
                market: deployments[deployment].market.clone(),
                deployment_id: (seq.below(4) != 0).then_some(deployment as i64),
                opened_at,
                resolved_at: (seq.below(10) != 0).then(|| opened_at + seq.below(2 * DAY_MS as u64) as i64),
            }
        })
        .collect();
    (deployments, incidents)
}

/// Best of `runs`: the steady-state cost, apart from a cold first run.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
#[ignore = "prints timings; run with --release --ignored --nocapture"]
fn time_a_year_of_fifty_thousand_deployments() {
    let (deployments, incidents) = year();
    let commits: usize = deployments.iter().map(|d| d.commit_times.len()).sum();
    let filter = Filter::new(Window::new(0, YEAR_MS).unwrap());
    let history = History::new(&deployments, &incidents);
    let grouped = history.compute_grouped_keys(&filter);
    assert_eq!(grouped.by_market.len(), MARKETS);
    assert!(grouped.total.recovery_time.recovered > 0);

    let index = best(10, || History::new(&deployments, &incidents));
    let total = best(10, || history.compute_keys(&filter));
    let by_group = best(10, || history.compute_grouped_keys(&filter));
    let by_day = best(10, || history.compute_series(&filter, Bucket::Day));
    let by_week = best(10, || history.compute_series(&filter, Bucket::Week));
    let end_to_end = best(10, || {
        History::new(&deployments, &incidents).compute_grouped_keys(&filter)
    });
    println!(
        "{} deployments, {commits} commit times, {} incidents; counted {}, CFR {:?}",
        deployments.len(),
        incidents.len(),
        grouped.total.deployment_frequency.deployments,
        grouped.total.change_failure_rate.rate,
    );
    println!("index the history (History::new)          {index:>10.2?}");
    println!("keys of the filter                        {total:>10.2?}");
    println!("keys by market, service and wave          {by_group:>10.2?}");
    println!("series by day (365 buckets)               {by_day:>10.2?}");
    println!("series by week (53 buckets)               {by_week:>10.2?}");
    println!("index + keys by market, service and wave  {end_to_end:>10.2?}");
}
