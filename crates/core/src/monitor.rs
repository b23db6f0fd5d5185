//! Watching live markets: the `monitor:` section of `tandem.yml`, the rule that turns probe
//! results into an incident and back, and the buckets that keep measurements as downsampled
//! series.
//!
//! ```yaml
//! monitor:
//!   interval: 15s   # how often each live market is probed (and its metrics read)
//!   timeout: 2s     # how long one probe may take before it counts as failed
//!   failures: 3     # failed probes in a row that open an incident
//! ```

use crate::duration::parse_duration;
use crate::error::Collector;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::time::Duration;

/// Default time between two probes of a live market: often enough to open an incident within a
/// minute (with [`DEFAULT_FAILURES`]), rare enough to cost nothing to 25 markets.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Default longest wait for one probe's answer; a slower answer is a failure.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default failed probes in a row before an incident: one lost packet opens nothing.
pub const DEFAULT_FAILURES: u32 = 3;
/// The shortest interval accepted: below it the monitor would probe faster than it can record.
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// The series every probe adds to, whatever the service's checks: 1 or 0 per probe.
pub const UP_SERIES: &str = "up";
/// The series every passing probe adds to: how long it took, in milliseconds.
pub const LATENCY_SERIES: &str = "probe_latency_ms";

/// How live markets of a service are watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorSpec {
    pub interval: Duration,
    pub timeout: Duration,
    pub failures: u32,
}

impl Default for MonitorSpec {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            failures: DEFAULT_FAILURES,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitor {
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    failures: Option<Spanned<u32>>,
}

/// Validates `monitor:`; every problem goes to `errors` with its place.
pub(crate) fn check_monitor(errors: &mut Collector<'_>, raw: &Spanned<RawMonitor>) -> MonitorSpec {
    let mut spec = MonitorSpec::default();
    let mut duration = |field: &Option<Spanned<String>>, name: &str, slot: &mut Duration| {
        if let Some(text) = field {
            match parse_duration(&text.value) {
                Ok(d) if d < MIN_INTERVAL => errors.push(
                    &text.referenced,
                    format!(
                        "`monitor.{name}` {} is too short: expected at least {} ms",
                        text.value,
                        MIN_INTERVAL.as_millis()
                    ),
                ),
                Ok(d) => *slot = d,
                Err(e) => errors.push(&text.referenced, format!("`monitor.{name}`: {e}")),
            }
        }
    };
    duration(&raw.value.interval, "interval", &mut spec.interval);
    duration(&raw.value.timeout, "timeout", &mut spec.timeout);
    if let Some(f) = &raw.value.failures {
        if f.value == 0 {
            errors.push(
                &f.referenced,
                "`monitor.failures` is 0: expected at least 1 failed probe",
            );
        } else {
            spec.failures = f.value;
        }
    }
    if spec.timeout > spec.interval {
        errors.push(
            &raw.referenced,
            format!(
                "`monitor.timeout` ({} ms) is longer than `monitor.interval` ({} ms): a probe would still be waiting when the next one is due",
                spec.timeout.as_millis(),
                spec.interval.as_millis()
            ),
        );
    }
    spec
}

/// What the monitor knows of one market between probes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Failed probes in a row (0 after a success).
    pub failures_in_a_row: u32,
    /// An incident the monitor opened and has not yet seen recover.
    pub incident_open: bool,
}

/// What one probe result asks the monitor to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing to tell anyone.
    Steady,
    /// The market has failed `failures` probes in a row: open an incident.
    Down,
    /// The market answers again after the monitor's incident: resolve it.
    Recovered,
}

impl Health {
    /// Records one probe result against the `failures` threshold.
    pub fn observe(&mut self, ok: bool, failures: u32) -> Transition {
        if ok {
            self.failures_in_a_row = 0;
            if std::mem::take(&mut self.incident_open) {
                return Transition::Recovered;
            }
            return Transition::Steady;
        }
        self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
        if !self.incident_open && self.failures_in_a_row >= failures.max(1) {
            self.incident_open = true;
            return Transition::Down;
        }
        Transition::Steady
    }
}

/// The resolutions series are kept at, finest first: (seconds per bucket, how long kept by
/// default). A minute for two days of detail (pages draw at most six hours of it), an hour for
/// a quarter of trends, like a long-term store's downsampled tier (2,160 points per series and
/// market). Probes write minutes; finished hours are rolled up from them.
pub const RESOLUTIONS: [(i64, Duration); 2] = [
    (60, Duration::from_secs(2 * 86_400)),
    (3_600, Duration::from_secs(90 * 86_400)),
];

/// How long series are kept: minute buckets for `minutes`, hour buckets (rolled up from the
/// minutes) for `hours`. Set by `tandem serve --series-minutes-kept/--series-hours-kept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub minutes: Duration,
    pub hours: Duration,
}

/// The least minute detail kept: the Delivery page draws the last six hours at minute
/// resolution, and an hour is rolled up only once it is over.
pub const MIN_MINUTES_KEPT: Duration = Duration::from_secs(6 * 3600);

impl Default for Retention {
    fn default() -> Self {
        Self {
            minutes: RESOLUTIONS[0].1,
            hours: RESOLUTIONS[1].1,
        }
    }
}

impl Retention {
    /// Checks a retention people asked for: enough minutes for the Delivery page, and hours
    /// kept at least as long as minutes (a coarser view never stops before the finer one).
    pub fn new(minutes: Duration, hours: Duration) -> Result<Self, String> {
        if minutes < MIN_MINUTES_KEPT {
            return Err(format!(
                "minute series kept for {} s: expected at least 6h (the Delivery page draws six hours of minutes)",
                minutes.as_secs()
            ));
        }
        if hours < minutes {
            return Err(format!(
                "hour series kept for {} s, less than minute series ({} s): expected at least as long",
                hours.as_secs(),
                minutes.as_secs()
            ));
        }
        Ok(Self { minutes, hours })
    }
}

/// Where in every `interval` a market is probed: an offset from the monitor's start, the same
/// for a market on every server and run (a hash of its service and market), so that markets'
/// probes spread over the interval instead of all falling due in the same instant.
pub fn probe_offset(service: &str, market: &str, interval: Duration) -> Duration {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in service.bytes().chain([b'/']).chain(market.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let micros = interval.as_micros().max(1) as u64;
    Duration::from_micros(hash % micros)
}

/// The first time at or after `after` (counted, like `offset`, from the monitor's start) at
/// which a market probed every `interval` at `offset` is due.
pub fn next_probe(after: Duration, offset: Duration, interval: Duration) -> Duration {
    let interval = interval.as_micros().max(1);
    let (after, offset) = (after.as_micros(), offset.as_micros() % interval);
    let rounds = after.saturating_sub(offset).div_ceil(interval);
    Duration::from_micros((offset + rounds * interval) as u64)
}

/// The start (Unix ms) of the bucket of `resolution` seconds holding time `at_ms`.
pub fn bucket_start(at_ms: i64, resolution: i64) -> i64 {
    let width = resolution * 1000;
    at_ms.div_euclid(width) * width
}

/// The resolution that answers a query over `span` with at most about `points` buckets.
pub fn resolution_for(span: Duration, points: u64) -> i64 {
    let wanted = span.as_secs() / points.max(1);
    RESOLUTIONS
        .iter()
        .map(|(r, _)| *r)
        .find(|r| *r as u64 >= wanted)
        .unwrap_or(RESOLUTIONS[RESOLUTIONS.len() - 1].0)
}

/// One bucket of a downsampled series: enough to draw a mean, a range and the last value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
}

impl Bucket {
    pub fn of(value: f64) -> Self {
        Self {
            count: 1,
            sum: value,
            min: value,
            max: value,
            last: value,
        }
    }

    /// Adds a later measurement.
    pub fn add(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.last = value;
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse_service_spec;
    use proptest::prelude::*;

    const BASE: &str = "service: shop\npipeline:\n  jobs:\n    t:\n      steps:\n        - run: true\n";

    #[test]
    fn monitor_defaults_when_the_section_is_absent() {
        let spec = parse_service_spec("tandem.yml", BASE).expect("valid");
        assert_eq!(spec.monitor, MonitorSpec::default());
    }

    #[test]
    fn monitor_section_is_read() {
        let text = format!("{BASE}monitor: {{ interval: 5s, timeout: 500ms, failures: 2 }}\n");
        let spec = parse_service_spec("tandem.yml", &text).expect("valid");
        assert_eq!(
            spec.monitor,
            MonitorSpec {
                interval: Duration::from_secs(5),
                timeout: Duration::from_millis(500),
                failures: 2
            }
        );
    }

    #[test]
    fn monitor_errors_name_their_place() {
        let text = format!("{BASE}monitor:\n  interval: 10ms\n  timeout: soon\n  failures: 0\n");
        let err = parse_service_spec("tandem.yml", &text)
            .expect_err("invalid")
            .to_string();
        assert!(
            err.contains("tandem.yml:8:13: `monitor.interval` 10ms is too short"),
            "{err}"
        );
        assert!(err.contains("tandem.yml:9:12: `monitor.timeout`"), "{err}");
        assert!(err.contains("tandem.yml:10:13: `monitor.failures` is 0"), "{err}");
        let text = format!("{BASE}monitor: {{ interval: 1s, timeout: 3s }}\n");
        let err = parse_service_spec("tandem.yml", &text)
            .expect_err("invalid")
            .to_string();
        assert!(err.contains("longer than `monitor.interval`"), "{err}");
    }

    #[test]
    fn an_incident_opens_after_failures_in_a_row_and_resolves_on_the_first_success() {
        let mut h = Health::default();
        assert_eq!(h.observe(false, 3), Transition::Steady);
        assert_eq!(h.observe(true, 3), Transition::Steady, "a success resets the count");
        assert_eq!(h.observe(false, 3), Transition::Steady);
        assert_eq!(h.observe(false, 3), Transition::Steady);
        assert_eq!(h.observe(false, 3), Transition::Down);
        assert_eq!(h.observe(false, 3), Transition::Steady, "one incident per outage");
        assert_eq!(h.failures_in_a_row, 4);
        assert_eq!(h.observe(true, 3), Transition::Recovered);
        assert_eq!(h.observe(true, 3), Transition::Steady);
    }

    #[test]
    fn buckets_align_on_their_resolution() {
        assert_eq!(bucket_start(125_000, 60), 120_000);
        assert_eq!(bucket_start(3_599_999, 3_600), 0);
        assert_eq!(bucket_start(-1, 60), -60_000);
        assert_eq!(resolution_for(Duration::from_secs(3_600), 120), 60);
        assert_eq!(resolution_for(Duration::from_secs(30 * 86_400), 200), 3_600);
        let mut b = Bucket::of(2.0);
        b.add(4.0);
        b.add(0.0);
        assert_eq!((b.count, b.min, b.max, b.last, b.mean()), (3, 0.0, 4.0, 0.0, 2.0));
    }

    #[test]
    fn markets_are_probed_at_offsets_spread_over_the_interval() {
        let interval = Duration::from_secs(15);
        let codes = [
            "fr", "be", "nl", "lu", "de", "at", "ch", "it", "es", "pt", "gr", "mt", "cy", "ie", "gb", "se", "dk", "fi",
            "ee", "lv", "lt", "pl", "cz", "sk", "hu",
        ];
        let mut seconds: Vec<u64> = codes
            .iter()
            .map(|m| probe_offset("shop", m, interval).as_secs())
            .collect();
        assert!(seconds.iter().all(|s| *s < 15));
        seconds.sort();
        seconds.dedup();
        assert!(seconds.len() >= 10, "25 markets fall in {seconds:?} of 15 seconds");
        assert_eq!(
            probe_offset("shop", "fr", interval),
            probe_offset("shop", "fr", interval),
            "the same market keeps its place"
        );
        let (s, ms) = (Duration::from_secs, Duration::from_millis);
        assert_eq!(next_probe(s(0), ms(300), s(1)), ms(300));
        assert_eq!(next_probe(ms(300), ms(300), s(1)), ms(300));
        assert_eq!(next_probe(ms(301), ms(300), s(1)), ms(1300));
        assert_eq!(next_probe(ms(5_000), ms(300), s(1)), ms(5_300));
    }

    #[test]
    fn retention_keeps_enough_minutes_and_no_fewer_hours() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert!(Retention::new(h(48), h(24 * 400)).is_ok());
        let err = Retention::new(h(1), h(24)).unwrap_err();
        assert!(err.contains("at least 6h"), "{err}");
        let err = Retention::new(h(48), h(24)).unwrap_err();
        assert!(err.contains("less than minute series"), "{err}");
    }

    proptest! {
        #[test]
        fn a_probe_falls_due_on_its_offset_within_one_interval(after in 0u64..10_000_000, offset in 0u64..5_000_000, interval in 1u64..5_000_000) {
            let (after, offset, interval) = (Duration::from_micros(after), Duration::from_micros(offset % interval), Duration::from_micros(interval));
            let next = next_probe(after, offset, interval);
            prop_assert!(next >= after && next < after + interval);
            prop_assert_eq!((next.as_micros() - offset.as_micros()) % interval.as_micros(), 0);
        }

        #[test]
        fn down_and_recovered_alternate(results in proptest::collection::vec(any::<bool>(), 0..200), failures in 1u32..5) {
            let mut h = Health::default();
            let mut open = false;
            for ok in results {
                match h.observe(ok, failures) {
                    Transition::Down => { prop_assert!(!open); open = true; }
                    Transition::Recovered => { prop_assert!(open); prop_assert!(ok); open = false; }
                    Transition::Steady => {}
                }
                prop_assert_eq!(open, h.incident_open);
            }
        }

        #[test]
        fn a_bucket_holds_its_time(at in -10_000_000_000i64..10_000_000_000, r in prop_oneof![Just(60i64), Just(3600i64)]) {
            let start = bucket_start(at, r);
            prop_assert!(start <= at && at < start + r * 1000);
        }
    }
}
