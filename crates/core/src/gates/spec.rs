//! `gates.metrics` in `tandem.yml`: the Prometheus endpoint a rollout reads after a market's
//! probe passes, how long it watches, and the checks the new version must pass.

use super::selector::Selector;
use crate::duration::parse_duration;
use crate::error::Collector;
use crate::names::is_name;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::time::Duration;

/// Where the service's metrics are read when `path` is not given.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";
/// How long a gate observes when `window` is not given: long enough for a few scrapes of real traffic.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);
/// Time between two scrapes when `interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Requests an error-ratio check needs in the window when `min-requests` is not given.
pub const DEFAULT_MIN_REQUESTS: u64 = 1;

/// `gates.metrics`: checks judged on the service's Prometheus metrics over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricGates {
    /// The HTTP path of the service's metrics, such as `/metrics`.
    pub path: String,
    /// How long the gate observes: its checks compare the scrapes at both ends.
    pub window: Duration,
    /// Time between scrapes; never longer than `window`.
    pub interval: Duration,
    /// Below this many requests in the window an error-ratio check cannot judge, and fails.
    pub min_requests: u64,
    pub checks: Vec<MetricCheck>,
}

/// One check: a measure and the bounds it must keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    /// Unique within the gate.
    pub name: String,
    pub measure: Measure,
    /// A fixed bound: a ratio in [0, 1] for an error ratio, seconds for a latency.
    #[serde(default)]
    pub max: Option<f64>,
    /// At most this many times the previous version's value over the same window.
    #[serde(default)]
    pub vs_previous: Option<f64>,
}

/// What a check measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// The increase of `errors` over the increase of `total`, both counters.
    ErrorRatio { errors: Selector, total: Selector },
    /// A quantile (0.99 for p99) of a histogram's observations in the window, in seconds;
    /// `histogram` names the histogram itself (without `_bucket`), with optional label matchers.
    Latency { histogram: Selector, quantile: f64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawMetricGates {
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    min_requests: Option<Spanned<u64>>,
    checks: Spanned<Vec<Spanned<RawCheck>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCheck {
    name: Spanned<String>,
    #[serde(default)]
    error_ratio: Option<Spanned<RawErrorRatio>>,
    #[serde(default)]
    latency: Option<Spanned<RawLatency>>,
    #[serde(default)]
    max: Option<Spanned<RawBound>>,
    #[serde(default)]
    vs_previous: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorRatio {
    errors: Spanned<String>,
    total: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLatency {
    histogram: Spanned<String>,
    quantile: Spanned<f64>,
}

/// `max: 0.02`, `max: 2%` or `max: 250ms`: which one fits depends on the measure.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawBound {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for RawBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawBound::Number(n) => write!(f, "{n}"),
            RawBound::Text(t) => f.write_str(t),
        }
    }
}

/// Validates `gates.metrics`, reporting every problem to `errors` with its place; fields
/// that fail keep their defaults in the value returned (which the caller drops on error).
pub(crate) fn check_metric_gates(errors: &mut Collector<'_>, raw: RawMetricGates) -> MetricGates {
    let mut gates = MetricGates {
        path: DEFAULT_METRICS_PATH.to_string(),
        window: DEFAULT_WINDOW,
        interval: DEFAULT_INTERVAL,
        min_requests: DEFAULT_MIN_REQUESTS,
        checks: Vec::new(),
    };
    if let Some(path) = raw.path {
        if path.value.starts_with('/') {
            gates.path = path.value;
        } else {
            errors.push(
                &path.referenced,
                format!(
                    "metrics `path: {}` is not a path: expected one starting with `/`, such as `/metrics`",
                    path.value
                ),
            );
        }
    }
    let mut duration = |field: &str, raw: &Option<Spanned<String>>, into: &mut Duration| {
        if let Some(d) = raw {
            match parse_duration(&d.value) {
                Ok(v) if v.is_zero() => errors.push(&d.referenced, format!("`{field}` must be longer than 0")),
                Ok(v) => *into = v,
                Err(e) => errors.push(&d.referenced, format!("`{field}`: {e}")),
            }
        }
    };
    duration("window", &raw.window, &mut gates.window);
    duration("interval", &raw.interval, &mut gates.interval);
    let parses = |d: &Option<Spanned<String>>| {
        d.as_ref()
            .is_none_or(|d| parse_duration(&d.value).is_ok_and(|v| !v.is_zero()))
    };
    if gates.interval > gates.window && parses(&raw.window) && parses(&raw.interval) {
        match (&raw.interval, &raw.window) {
            (Some(i), Some(w)) => errors.push(
                &i.referenced,
                format!(
                    "`interval: {}` is longer than `window: {}`: the gate needs two scrapes in its window",
                    i.value, w.value
                ),
            ),
            (Some(i), None) => errors.push(
                &i.referenced,
                format!(
                    "`interval: {}` is longer than the default `window` of {:?}: set a longer `window` too",
                    i.value, DEFAULT_WINDOW
                ),
            ),
            (None, Some(w)) => errors.push(
                &w.referenced,
                format!(
                    "`window: {}` is shorter than the default `interval` of {:?}: set a shorter `interval` too",
                    w.value, DEFAULT_INTERVAL
                ),
            ),
            (None, None) => {}
        }
    }
    if let Some(m) = raw.min_requests {
        if m.value == 0 {
            errors.push(&m.referenced, "`min-requests` is 0: expected at least 1");
        } else {
            gates.min_requests = m.value;
        }
    }
    if raw.checks.value.is_empty() {
        errors.push(
            &raw.checks.referenced,
            "`metrics` has no check: add one under `checks`, or remove `metrics`",
        );
    }
    let mut names = HashSet::new();
    for check in raw.checks.value {
        let name = &check.value.name;
        if !is_name(&name.value) {
            errors.push(
                &name.referenced,
                format!(
                    "check name `{}` is not valid: expected lower-case letters, digits, `-` and `_`",
                    name.value
                ),
            );
        } else if [crate::monitor::UP_SERIES, crate::monitor::LATENCY_SERIES].contains(&name.value.as_str()) {
            errors.push(
                &name.referenced,
                format!(
                    "check name `{}` is the monitor's own series of every probe: give the check another name",
                    name.value
                ),
            );
        } else if !names.insert(name.value.clone()) {
            errors.push(
                &name.referenced,
                format!(
                    "check name `{}` is used twice: each check needs its own name",
                    name.value
                ),
            );
        }
        if let Some(check) = check_one(errors, check.value) {
            gates.checks.push(check);
        }
    }
    gates
}

/// Validates one check; `None` when it has no usable measure.
fn check_one(errors: &mut Collector<'_>, raw: RawCheck) -> Option<MetricCheck> {
    let name = raw.name.value.as_str();
    let measure = match (&raw.error_ratio, &raw.latency) {
        (None, None) => {
            errors.push(
                &raw.name.referenced,
                format!("check `{name}` measures nothing: give it `error-ratio` or `latency`"),
            );
            None
        }
        (Some(_), Some(l)) => {
            errors.push(
                &l.referenced,
                format!("check `{name}` has both `error-ratio` and `latency`: make them two checks"),
            );
            None
        }
        (Some(e), None) => {
            let errors_sel = selector(errors, name, "errors", &e.value.errors);
            let total = selector(errors, name, "total", &e.value.total);
            errors_sel
                .zip(total)
                .map(|(errors, total)| Measure::ErrorRatio { errors, total })
        }
        (None, Some(l)) => {
            let histogram = selector(errors, name, "histogram", &l.value.histogram);
            if let Some(h) = &histogram {
                if let Some(base) = h.name().strip_suffix("_bucket") {
                    errors.push(
                        &l.value.histogram.referenced,
                        format!(
                            "`histogram` of check `{name}` names the series `{}`: name the histogram itself, `{base}`",
                            h.name()
                        ),
                    );
                }
                if h.matchers().iter().any(|m| m.label == "le") {
                    errors.push(
                        &l.value.histogram.referenced,
                        format!("`histogram` of check `{name}` matches on `le`: a quantile needs every bucket"),
                    );
                }
            }
            let q = &l.value.quantile;
            if !(q.value > 0.0 && q.value < 1.0) {
                errors.push(
                    &q.referenced,
                    format!(
                        "`quantile` of check `{name}` is {}: expected a number between 0 and 1, such as 0.99",
                        q.value
                    ),
                );
            }
            histogram.map(|histogram| Measure::Latency {
                histogram,
                quantile: q.value,
            })
        }
    };
    if raw.max.is_none() && raw.vs_previous.is_none() {
        errors.push(
            &raw.name.referenced,
            format!("check `{name}` has no bound: give it `max`, `vs-previous` or both"),
        );
    }
    let max = match (&raw.max, &raw.error_ratio, &raw.latency) {
        (Some(m), Some(_), None) => ratio_bound(errors, name, m),
        (Some(m), None, Some(_)) => latency_bound(errors, name, m),
        _ => None,
    };
    let vs_previous = raw.vs_previous.as_ref().and_then(|f| {
        if f.value.is_finite() && f.value > 0.0 {
            Some(f.value)
        } else {
            errors.push(
                &f.referenced,
                format!(
                    "`vs-previous` of check `{name}` is {}: expected a factor above 0, such as 1.5",
                    f.value
                ),
            );
            None
        }
    });
    Some(MetricCheck {
        name: name.to_string(),
        measure: measure?,
        max,
        vs_previous,
    })
}

/// Parses a selector, reporting an error at the character it concerns.
fn selector(errors: &mut Collector<'_>, check: &str, field: &str, text: &Spanned<String>) -> Option<Selector> {
    match Selector::parse(&text.value) {
        Ok(s) => Some(s),
        Err(e) => {
            let at = text.referenced;
            // A quoted scalar's place is its opening quote, one column before its text.
            let quoted = at.span().len() != text.value.chars().count() as u64;
            errors.push_at(
                at.line(),
                at.column() + e.offset as u64 + u64::from(quoted),
                format!("`{field}` of check `{check}`: {e}"),
            );
            None
        }
    }
}

fn ratio_bound(errors: &mut Collector<'_>, check: &str, raw: &Spanned<RawBound>) -> Option<f64> {
    let value = match &raw.value {
        RawBound::Number(n) => Some(*n),
        RawBound::Text(t) => t
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<f64>().ok())
            .map(|p| p / 100.0),
    };
    match value {
        Some(v) if (0.0..=1.0).contains(&v) => Some(v),
        _ => {
            errors.push(
                &raw.referenced,
                format!(
                    "`max: {}` of check `{check}` is not an error ratio: expected a number between 0 and 1, such as 0.02 (or 2%)",
                    raw.value
                ),
            );
            None
        }
    }
}

fn latency_bound(errors: &mut Collector<'_>, check: &str, raw: &Spanned<RawBound>) -> Option<f64> {
    match &raw.value {
        RawBound::Number(n) => {
            errors.push(
                &raw.referenced,
                format!(
                    "`max: {n}` of check `{check}` is not a duration: write it with a unit, such as `250ms` or `1s`"
                ),
            );
            None
        }
        RawBound::Text(t) => match parse_duration(t) {
            Ok(d) => Some(d.as_secs_f64()),
            Err(e) => {
                errors.push(&raw.referenced, format!("`max` of check `{check}`: {e}"));
                None
            }
        },
    }
}

impl MetricCheck {
    /// Whether the check compares with the previous version (the engine then scrapes it too).
    pub fn needs_previous(&self) -> bool {
        self.vs_previous.is_some()
    }
}

impl MetricGates {
    /// Whether any check compares with the previous version.
    pub fn needs_previous(&self) -> bool {
        self.checks.iter().any(MetricCheck::needs_previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse_service_spec;

    fn spec_with(gates: &str) -> String {
        format!("service: shop\npipeline:\n  jobs:\n    test:\n      steps: [{{ run: x }}]\ngates:\n{gates}")
    }

    const DOCUMENTED: &str = r#"  probe: { path: /healthz, successes: 1, failures: 3 }
  bake: 10s
  metrics:
    path: /metrics
    window: 10s
    interval: 2s
    min-requests: 20
    checks:
      - name: errors
        error-ratio: { errors: 'shop_http_requests_total{code=~"5.."}', total: shop_http_requests_total }
        max: 0.02
        vs-previous: 1.5
      - name: p99
        latency: { histogram: shop_http_request_duration_seconds, quantile: 0.99 }
        max: 250ms
"#;

    #[test]
    fn parses_the_documented_shape() {
        let spec = parse_service_spec("tandem.yml", &spec_with(DOCUMENTED)).unwrap();
        let m = spec.gates.metrics.as_ref().unwrap();
        assert_eq!(m.path, "/metrics");
        assert_eq!(
            (m.window, m.interval, m.min_requests),
            (Duration::from_secs(10), Duration::from_secs(2), 20)
        );
        assert_eq!(m.checks.len(), 2);
        let errors = &m.checks[0];
        assert_eq!((errors.max, errors.vs_previous), (Some(0.02), Some(1.5)));
        match &errors.measure {
            Measure::ErrorRatio { errors, total } => {
                assert_eq!(errors.to_string(), r#"shop_http_requests_total{code=~"5.."}"#);
                assert_eq!(total.to_string(), "shop_http_requests_total");
            }
            other => panic!("{other:?}"),
        }
        let p99 = &m.checks[1];
        assert_eq!((p99.max, p99.vs_previous), (Some(0.25), None));
        assert!(matches!(&p99.measure, Measure::Latency { quantile, .. } if *quantile == 0.99));
        assert!(m.needs_previous());
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let text = spec_with(
            "  metrics:\n    checks:\n      - { name: e, error-ratio: { errors: 'r{c=\"5\"}', total: r }, max: 2% }\n",
        );
        let spec = parse_service_spec("tandem.yml", &text).unwrap();
        let m = spec.gates.metrics.unwrap();
        assert_eq!(m.path, DEFAULT_METRICS_PATH);
        assert_eq!(
            (m.window, m.interval, m.min_requests),
            (DEFAULT_WINDOW, DEFAULT_INTERVAL, DEFAULT_MIN_REQUESTS)
        );
        assert_eq!(m.checks[0].max, Some(0.02));
        assert!(!m.needs_previous());
        let without = parse_service_spec("tandem.yml", &spec_with("  bake: 1s\n")).unwrap();
        assert_eq!(without.gates.metrics, None);
    }

    #[test]
    fn the_spec_round_trips_through_json_and_old_releases_still_read() {
        let spec = parse_service_spec("tandem.yml", &spec_with(DOCUMENTED)).unwrap();
        let json = serde_json::to_string(&spec.gates).unwrap();
        assert!(
            json.contains(r#""errors":"shop_http_requests_total{code=~\"5..\"}""#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<crate::pipeline::Gates>(&json).unwrap(),
            spec.gates
        );
        // A release stored before metric gates existed has no `metrics` key.
        let old = r#"{"probe":{"path":"/healthz","successes":1,"failures":3},"bake":{"secs":30,"nanos":0}}"#;
        let gates: crate::pipeline::Gates = serde_json::from_str(old).unwrap();
        assert_eq!(gates.metrics, None);
        assert!(!serde_json::to_string(&gates).unwrap().contains("metrics"));
    }

    #[test]
    fn every_mistake_is_reported_with_its_place() {
        let text = spec_with(
            r#"  metrics:
    path: metrics
    window: 10s
    interval: 20s
    min-requests: 0
    checks:
      - name: errors
        error-ratio: { errors: 'r{code=~"5(.."}', total: 'r{code="2"' }
        max: 1.5
      - name: errors
        latency: { histogram: h_bucket, quantile: 1.5 }
        max: 0.25
      - name: Slow
        latency: { histogram: 'h{le="1"}', quantile: 0.5 }
        max: soon
        vs-previous: 0
      - name: none
        max: 0.1
      - name: both
        error-ratio: { errors: a, total: b }
        latency: { histogram: h, quantile: 0.5 }
      - name: latency-ratio
        latency: { histogram: h, quantile: 0.5 }
        max: 2%
      - name: up
        error-ratio: { errors: a, total: b }
        max: 1%
"#,
        );
        let err = parse_service_spec("tandem.yml", &text).unwrap_err();
        let shown = err.to_string();
        for expected in [
            "tandem.yml:8:11: metrics `path: metrics` is not a path",
            "tandem.yml:10:15: `interval: 20s` is longer than `window: 10s`",
            "tandem.yml:11:19: `min-requests` is 0: expected at least 1",
            "tandem.yml:14:41: `errors` of check `errors`: regex `5(..` is not valid: unclosed group",
            "tandem.yml:14:69: `total` of check `errors`: expected `,` or `}` after a label matcher",
            "tandem.yml:15:14: `max: 1.5` of check `errors` is not an error ratio",
            "tandem.yml:16:15: check name `errors` is used twice",
            "tandem.yml:17:31: `histogram` of check `errors` names the series `h_bucket`: name the histogram itself, `h`",
            "tandem.yml:17:51: `quantile` of check `errors` is 1.5: expected a number between 0 and 1",
            "tandem.yml:18:14: `max: 0.25` of check `errors` is not a duration",
            "tandem.yml:19:15: check name `Slow` is not valid",
            "`histogram` of check `Slow` matches on `le`",
            "tandem.yml:21:14: `max` of check `Slow`: duration `soon` is not valid",
            "tandem.yml:22:22: `vs-previous` of check `Slow` is 0: expected a factor above 0",
            "tandem.yml:23:15: check `none` measures nothing: give it `error-ratio` or `latency`",
            "check `both` has both `error-ratio` and `latency`",
            "check `both` has no bound",
            "tandem.yml:30:14: `max` of check `latency-ratio`: duration `2%` has unknown unit `%`",
            "tandem.yml:31:15: check name `up` is the monitor's own series of every probe",
        ] {
            assert!(shown.contains(expected), "expected `{expected}` in:\n{shown}");
        }
        assert_eq!(err.0.len(), 19, "{shown}");
    }

    #[test]
    fn a_window_shorter_than_the_default_interval_is_refused() {
        let text = spec_with(
            "  metrics:\n    window: 2s\n    checks:\n      - { name: e, error-ratio: { errors: a, total: b }, max: 0.1 }\n",
        );
        let err = parse_service_spec("tandem.yml", &text).unwrap_err();
        assert!(
            err.to_string()
                .contains("`window: 2s` is shorter than the default `interval` of 5s"),
            "{err}"
        );
        let text = spec_with("  metrics:\n    checks: []\n");
        let err = parse_service_spec("tandem.yml", &text).unwrap_err();
        assert!(err.to_string().contains("`metrics` has no check"), "{err}");
    }

    #[test]
    fn unknown_keys_get_a_hint() {
        let text = spec_with("  metrics:\n    windw: 10s\n    checks: []\n");
        let err = parse_service_spec("tandem.yml", &text).unwrap_err();
        assert!(err.to_string().contains("(did you mean `window`?)"), "{err}");
        assert_eq!(err.0[0].line, 8, "{err}");
        let text = spec_with(
            "  metrics:\n    checks:\n      - { name: e, error-ratio: { errors: a, total: b }, vs-previos: 2 }\n",
        );
        let err = parse_service_spec("tandem.yml", &text).unwrap_err();
        assert!(err.to_string().contains("(did you mean `vs-previous`?)"), "{err}");
    }
}
