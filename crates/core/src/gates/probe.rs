//! `gates.probe` in `tandem.yml`: how a market's new release is probed before anything else is
//! judged — the path, how often, how long one answer may take, how long a slow starter has
//! before its failures count, and how many answers in a row decide — for the service, and per
//! market where one differs (`markets: { br: { start-period: 40s } }`).

use crate::duration::parse_duration;
use crate::error::Collector;
use crate::names::is_name;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::time::Duration;

/// The probed path when `path` is not given.
pub const DEFAULT_PROBE_PATH: &str = "/healthz";
/// Time between two probes when `interval` is not given: short, since a rollout's markets wait
/// on their probes, and a health endpoint is cheap.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long one probe may wait for its answer when `timeout` is not given.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a starting release's failures do not count when `start-period` is not given.
pub const DEFAULT_START_PERIOD: Duration = Duration::from_secs(2);
/// Answers in a row that pass the probe when `successes` is not given.
pub const DEFAULT_SUCCESSES: u32 = 1;
/// Answers in a row that fail the probe when `failures` is not given.
pub const DEFAULT_FAILURES: u32 = 3;
/// How long after its start period a release has to pass its probe at all.
pub const PROBE_DEADLINE_AFTER_START: Duration = Duration::from_secs(30);

/// The longest `interval`, `timeout` or `start-period` accepted: past an hour a rollout would
/// look stuck, and the value is more likely a typo (`10m` for `10s`).
const LONGEST: Duration = Duration::from_secs(3600);
/// The most answers in a row a probe may ask for.
const MOST_IN_A_ROW: u32 = 100;

/// One market's probe: what the gate runner follows (see [`ProbeSpec::for_market`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Probe {
    #[serde(default = "default_path")]
    pub path: String,
    /// Time between the end of one probe and the start of the next.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// How long one probe waits for its answer; no answer in time is a failure.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// From the release's start: failures do not count until this has passed or the probe has
    /// answered once, whichever comes first (a process still starting refuses connections).
    #[serde(default = "default_start_period")]
    pub start_period: Duration,
    /// Answers in a row that pass the probe.
    #[serde(default = "default_successes")]
    pub successes: u32,
    /// Counted failures in a row that fail it.
    #[serde(default = "default_failures")]
    pub failures: u32,
}

/// `gates.probe`: the service's probe, and what differs in some markets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSpec {
    /// The service's probe, in every market that changes nothing of it.
    #[serde(flatten)]
    pub base: Probe,
    /// Market id → the settings that differ there (the others are the service's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub markets: BTreeMap<String, ProbeOverride>,
}

/// What a market changes of its service's probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProbeOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
}

fn default_path() -> String {
    DEFAULT_PROBE_PATH.to_string()
}
fn default_interval() -> Duration {
    DEFAULT_PROBE_INTERVAL
}
fn default_timeout() -> Duration {
    DEFAULT_PROBE_TIMEOUT
}
fn default_start_period() -> Duration {
    DEFAULT_START_PERIOD
}
fn default_successes() -> u32 {
    DEFAULT_SUCCESSES
}
fn default_failures() -> u32 {
    DEFAULT_FAILURES
}

impl Default for Probe {
    fn default() -> Self {
        Self {
            path: default_path(),
            interval: DEFAULT_PROBE_INTERVAL,
            timeout: DEFAULT_PROBE_TIMEOUT,
            start_period: DEFAULT_START_PERIOD,
            successes: DEFAULT_SUCCESSES,
            failures: DEFAULT_FAILURES,
        }
    }
}

impl Probe {
    /// The latest a release may pass its probe, from its start: its start period, then
    /// [`PROBE_DEADLINE_AFTER_START`] (a probe that keeps flapping never passes).
    pub fn deadline(&self) -> Duration {
        self.start_period + PROBE_DEADLINE_AFTER_START
    }

    /// The settings in a few words, for a gate's reason and the rollout page: `every 100 ms,
    /// 2 s timeout, 2 s start period, 1 to pass, 3 to fail`.
    pub fn summary(&self) -> String {
        format!(
            "every {}, {} timeout, {} start period, {} in a row to pass, {} to fail",
            words(self.interval),
            words(self.timeout),
            words(self.start_period),
            self.successes,
            self.failures
        )
    }
}

/// A duration as the file would write it: `250 ms`, `2 s`, `1.5 s`, `5 min`.
fn words(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

impl ProbeSpec {
    /// The probe `market` follows: the service's, with what the market changes of it.
    pub fn for_market(&self, market: &str) -> Probe {
        let mut p = self.base.clone();
        if let Some(o) = self.markets.get(market) {
            apply(&mut p, o);
        }
        p
    }
}

/// `gates.probe` as written, and each market's override in it (where `markets` is refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawProbe {
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    start_period: Option<Spanned<String>>,
    #[serde(default)]
    successes: Option<Spanned<u32>>,
    #[serde(default)]
    failures: Option<Spanned<u32>>,
    #[serde(default)]
    markets: Option<Spanned<BTreeMap<String, Spanned<RawProbe>>>>,
}

/// Validates `gates.probe`, reporting every problem to `errors` with its place; a setting that
/// fails keeps its default in the value returned (which the caller drops on error).
pub(crate) fn check_probe(errors: &mut Collector<'_>, raw: RawProbe) -> ProbeSpec {
    let base = check_settings(errors, "gates.probe", &raw);
    let mut spec = ProbeSpec::default();
    apply(&mut spec.base, &base);
    if let Some(markets) = raw.markets {
        if markets.value.is_empty() {
            errors.push(
                &markets.referenced,
                "`gates.probe.markets` is empty: name a market and what differs there, such as `br: { start-period: 40s }`",
            );
        }
        for (market, settings) in markets.value {
            let at = format!("gates.probe.markets.{market}");
            if !is_name(&market) {
                errors.push(
                    &settings.referenced,
                    format!("`{market}` is not a market id: expected lower-case letters, digits and dashes"),
                );
            }
            if let Some(nested) = &settings.value.markets {
                errors.push(
                    &nested.referenced,
                    format!("`{at}.markets`: a market's probe cannot name other markets"),
                );
            }
            let o = check_settings(errors, &at, &settings.value);
            if o == ProbeOverride::default() {
                errors.push(
                    &settings.referenced,
                    format!("`{at}` changes nothing: give the settings that differ in {market}"),
                );
            }
            spec.markets.insert(market, o);
        }
    }
    spec
}

fn apply(p: &mut Probe, o: &ProbeOverride) {
    if let Some(v) = &o.path {
        p.path.clone_from(v);
    }
    p.interval = o.interval.unwrap_or(p.interval);
    p.timeout = o.timeout.unwrap_or(p.timeout);
    p.start_period = o.start_period.unwrap_or(p.start_period);
    p.successes = o.successes.unwrap_or(p.successes);
    p.failures = o.failures.unwrap_or(p.failures);
}

/// Checks one set of settings (`at` names it in messages) and returns what it sets.
fn check_settings(errors: &mut Collector<'_>, at: &str, raw: &RawProbe) -> ProbeOverride {
    let mut out = ProbeOverride::default();
    if let Some(path) = &raw.path {
        if path.value.starts_with('/') {
            out.path = Some(path.value.clone());
        } else {
            errors.push(
                &path.referenced,
                format!(
                    "`{at}.path: {}` is not a path: expected one starting with `/`, such as `/healthz`",
                    path.value
                ),
            );
        }
    }
    let mut duration = |field: &str, raw: &Option<Spanned<String>>, zero_ok: bool| -> Option<Duration> {
        let d = raw.as_ref()?;
        match parse_duration(&d.value) {
            Ok(v) if v.is_zero() && !zero_ok => {
                errors.push(&d.referenced, format!("`{at}.{field}` must be longer than 0"));
                None
            }
            Ok(v) if v > LONGEST => {
                errors.push(
                    &d.referenced,
                    format!("`{at}.{field}: {}` is longer than the most allowed, 1h", d.value),
                );
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(&d.referenced, format!("`{at}.{field}`: {e}"));
                None
            }
        }
    };
    out.interval = duration("interval", &raw.interval, false);
    out.timeout = duration("timeout", &raw.timeout, false);
    out.start_period = duration("start-period", &raw.start_period, true);
    let mut count = |field: &str, raw: &Option<Spanned<u32>>| -> Option<u32> {
        let n = raw.as_ref()?;
        if (1..=MOST_IN_A_ROW).contains(&n.value) {
            Some(n.value)
        } else {
            errors.push(
                &n.referenced,
                format!(
                    "`{at}.{field}: {}` is out of range: expected 1 to {MOST_IN_A_ROW} answers in a row",
                    n.value
                ),
            );
            None
        }
    };
    out.successes = count("successes", &raw.successes);
    out.failures = count("failures", &raw.failures);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse_service_spec;

    fn spec_with(probe: &str) -> String {
        format!(
            "service: shop
pipeline:
  jobs:
    build:
      steps:
        - run: make
deploy:
  driver: process
  run: \"shop --port {{port}}\"
gates:
  probe:
{probe}"
        )
    }

    #[test]
    fn a_service_without_settings_gets_the_documented_defaults() {
        let s = parse_service_spec("tandem.yml", &spec_with("    path: /healthz\n")).unwrap();
        let p = s.gates.probe.for_market("fr");
        assert_eq!(p, Probe::default());
        assert_eq!(p.interval, Duration::from_millis(100));
        assert_eq!(p.start_period, Duration::from_secs(2));
        assert_eq!(p.deadline(), Duration::from_secs(32));
        assert_eq!(
            p.summary(),
            "every 100 ms, 2 s timeout, 2 s start period, 1 in a row to pass, 3 to fail"
        );
    }

    #[test]
    fn a_market_changes_only_what_it_names() {
        let text = spec_with(
            "    interval: 500ms
    timeout: 1s
    start-period: 5s
    successes: 2
    failures: 4
    markets:
      br: { start-period: 40s, timeout: 3s }
",
        );
        let s = parse_service_spec("tandem.yml", &text).unwrap();
        let fr = s.gates.probe.for_market("fr");
        assert_eq!(
            (fr.interval, fr.timeout, fr.start_period, fr.successes, fr.failures),
            (
                Duration::from_millis(500),
                Duration::from_secs(1),
                Duration::from_secs(5),
                2,
                4
            )
        );
        let br = s.gates.probe.for_market("br");
        assert_eq!(
            (br.interval, br.timeout, br.start_period, br.successes, br.failures),
            (
                Duration::from_millis(500),
                Duration::from_secs(3),
                Duration::from_secs(40),
                2,
                4
            )
        );
        assert_eq!(br.deadline(), Duration::from_secs(70));
    }

    #[test]
    fn a_stored_spec_from_before_the_settings_reads_with_the_defaults() {
        let old: ProbeSpec = serde_json::from_str(r#"{"path":"/ready","successes":2,"failures":5}"#).unwrap();
        assert_eq!(old.base.path, "/ready");
        assert_eq!((old.base.successes, old.base.failures), (2, 5));
        assert_eq!(old.base.interval, DEFAULT_PROBE_INTERVAL);
        let again: ProbeSpec = serde_json::from_value(serde_json::to_value(&old).unwrap()).unwrap();
        assert_eq!(again, old);
    }

    #[test]
    fn every_bad_setting_is_reported_with_its_line_and_column() {
        let text = spec_with(
            "    path: healthz
    interval: 0s
    timeout: 2 parsecs
    start-period: 2h
    successes: 0
    failures: 101
    markets:
      BR: { timeout: 1s }
      de: {}
",
        );
        let errors = parse_service_spec("tandem.yml", &text).unwrap_err().to_string();
        let lines: Vec<&str> = errors.lines().collect();
        let expected = [
            "tandem.yml:12:11: `gates.probe.path: healthz` is not a path",
            "tandem.yml:13:15: `gates.probe.interval` must be longer than 0",
            "tandem.yml:14:14: `gates.probe.timeout`: duration `2 parsecs`",
            "tandem.yml:15:19: `gates.probe.start-period: 2h` is longer than the most allowed, 1h",
            "tandem.yml:16:16: `gates.probe.successes: 0` is out of range: expected 1 to 100",
            "tandem.yml:17:15: `gates.probe.failures: 101` is out of range",
            "tandem.yml:19:11: `BR` is not a market id",
            "tandem.yml:20:11: `gates.probe.markets.de` changes nothing",
        ];
        for want in expected {
            assert!(
                lines.iter().any(|l| l.starts_with(want)),
                "missing {want:?} in:\n{errors}"
            );
        }
        assert_eq!(lines.len(), expected.len(), "{errors}");
    }

    #[test]
    fn an_unknown_setting_is_named_with_the_ones_expected() {
        let errors = parse_service_spec("tandem.yml", &spec_with("    start_period: 5s\n"))
            .unwrap_err()
            .to_string();
        assert!(errors.contains("start_period"), "{errors}");
        assert!(errors.contains("start-period"), "{errors}");
    }
}
