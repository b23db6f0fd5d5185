//! Metric gates: after a market's new process passes its probe, the engine scrapes its
//! Prometheus endpoint at the start and end of a window (and the previous version's, when a
//! check compares with it); this module turns those scrapes into a verdict per check.
//!
//! Invariants: everything is computed from counter *increases* between two scrapes, per
//! series, so a process restart (a counter going down) or a series born in the window never
//! yields a negative or inflated count; a check that cannot be measured on the new version
//! fails with a reason, never passes by default.

mod canary;
mod cursor;
mod exposition;
mod probe;
mod selector;
mod spec;

pub use canary::Canary;
pub(crate) use canary::{RawCanary, check_canary};
pub use exposition::{ExpositionError, Sample, Scrape};
pub use probe::{
    DEFAULT_FAILURES, DEFAULT_PROBE_INTERVAL, DEFAULT_PROBE_PATH, DEFAULT_PROBE_TIMEOUT, DEFAULT_START_PERIOD,
    DEFAULT_SUCCESSES, PROBE_DEADLINE_AFTER_START, Probe, ProbeOverride, ProbeSpec,
};
pub(crate) use probe::{RawProbe, check_probe};
pub use selector::{MatchOp, Matcher, Selector, SelectorError};
pub use spec::{
    DEFAULT_INTERVAL, DEFAULT_METRICS_PATH, DEFAULT_MIN_REQUESTS, DEFAULT_WINDOW, Measure, MetricCheck, MetricGates,
};
pub(crate) use spec::{RawMetricGates, check_metric_gates};

/// The `Accept` header of a scrape: both text formats `Scrape::parse` reads, the Prometheus one
/// first (what every client library writes), and anything else after them so that a service
/// answering with neither gets its body read and named in the error rather than a 406.
pub const SCRAPE_ACCEPT: &str =
    "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1";

use serde::{Deserialize, Serialize};

/// The scrapes at both ends of one process's observation window.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub start: &'a Scrape,
    pub end: &'a Scrape,
}

impl<'a> Window<'a> {
    pub fn new(start: &'a Scrape, end: &'a Scrape) -> Self {
        Self { start, end }
    }
}

/// Why a measure has no value on a window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeasureError {
    /// No series of the metric at all: a typo, or the service does not export it.
    #[error("the service's metrics have no `{metric}` (selector `{selector}`)")]
    Missing { metric: String, selector: String },
    /// The request counter did not increase.
    #[error("no request in the window")]
    NoRequests,
    /// The histogram observed nothing in the window.
    #[error("`{histogram}` observed no request in the window")]
    NoObservations { histogram: String },
    /// Without a `+Inf` bucket the total count, and so every quantile, is unknown.
    #[error("`{histogram}` has no `le=\"+Inf\"` bucket")]
    NoInfBucket { histogram: String },
}

/// How much the counters `selector` matches grew from `start` to `end`, summed over series.
/// A series that went down was reset (its process restarted): its growth is its end value;
/// a series born in the window grew from 0. `None` when `end` has no series of that metric.
pub fn increase(selector: &Selector, start: &Scrape, end: &Scrape) -> Option<f64> {
    if !end.has_metric(selector.name()) {
        return None;
    }
    Some(
        end.series(selector.name())
            .filter(|s| selector.matches_labels(&s.labels))
            .map(|s| counter_increase(start.get(&s.name, &s.labels), s.value))
            // Not `sum()`: an empty float sum is -0.0, which would show as `-0.0%`.
            .fold(0.0, |total, v| total + v),
    )
}

/// The growth of one counter series; non-finite values count as no growth.
fn counter_increase(start: Option<f64>, end: f64) -> f64 {
    if !end.is_finite() {
        return 0.0;
    }
    match start {
        Some(start) if start.is_finite() && end >= start => end - start,
        _ => end.max(0.0),
    }
}

/// Failed requests over all requests in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRatio {
    /// Increase of the error counters, never more than `requests`.
    pub errors: f64,
    /// Increase of the request counters; above 0.
    pub requests: f64,
    /// `errors / requests`, in [0, 1].
    pub ratio: f64,
}

/// Δerrors / Δtotal between two scrapes.
pub fn error_ratio(
    errors: &Selector,
    total: &Selector,
    start: &Scrape,
    end: &Scrape,
) -> Result<ErrorRatio, MeasureError> {
    let missing = |s: &Selector| MeasureError::Missing {
        metric: s.name().to_string(),
        selector: s.to_string(),
    };
    let requests = increase(total, start, end).ok_or_else(|| missing(total))?;
    let failed = increase(errors, start, end).ok_or_else(|| missing(errors))?;
    if requests <= 0.0 {
        return Err(MeasureError::NoRequests);
    }
    // Errors outside `total` (selectors that disagree) cannot make the ratio exceed 1.
    let failed = failed.min(requests);
    Ok(ErrorRatio {
        errors: failed,
        requests,
        ratio: failed / requests,
    })
}

/// A latency quantile over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub seconds: f64,
    /// Requests the histogram observed in the window.
    pub observations: f64,
}

/// The `quantile` of the observations `histogram` (a histogram's own name, with optional label
/// matchers) made between two scrapes, from the increase of its `_bucket{le=…}` series summed
/// over their other labels, interpolated as Prometheus' `histogram_quantile` does.
pub fn latency_quantile(
    histogram: &Selector,
    quantile: f64,
    start: &Scrape,
    end: &Scrape,
) -> Result<Latency, MeasureError> {
    let bucket_name = format!("{}_bucket", histogram.name());
    if !end.has_metric(&bucket_name) {
        return Err(MeasureError::Missing {
            metric: bucket_name.clone(),
            selector: histogram.with_name(&bucket_name).to_string(),
        });
    }
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for s in end.series(&bucket_name) {
        let Some(le) = s.labels.get("le").and_then(|le| exposition::parse_float(le)) else {
            continue;
        };
        if le.is_nan() || !histogram.matches_labels(&s.labels) {
            continue;
        }
        let count = counter_increase(start.get(&s.name, &s.labels), s.value);
        match buckets.iter_mut().find(|(bound, _)| *bound == le) {
            Some((_, c)) => *c += count,
            None => buckets.push((le, count)),
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let name = || histogram.to_string();
    if buckets.is_empty() {
        return Err(MeasureError::NoObservations { histogram: name() });
    }
    if buckets.last().is_some_and(|(le, _)| *le != f64::INFINITY) {
        return Err(MeasureError::NoInfBucket { histogram: name() });
    }
    let observations = buckets.last().map_or(0.0, |(_, c)| *c);
    match bucket_quantile(quantile, &buckets) {
        Some(seconds) if observations > 0.0 => Ok(Latency { seconds, observations }),
        _ => Err(MeasureError::NoObservations { histogram: name() }),
    }
}

/// Prometheus' `histogram_quantile` over cumulative buckets `(upper bound, count)` sorted by
/// bound and ending with `+Inf`: finds the bucket holding the rank `q × total` and interpolates
/// linearly inside it (from 0 for the first bucket). A rank in the `+Inf` bucket gives the
/// highest finite bound. `None` without two buckets, a `+Inf` bucket or any observation.
pub fn bucket_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if buckets.len() < 2 || buckets.last().is_none_or(|(le, _)| *le != f64::INFINITY) || q.is_nan() {
        return None;
    }
    // Counts must not go down from one bucket to the next; float noise or resets can make them.
    let mut cumulative = Vec::with_capacity(buckets.len());
    let mut max = 0.0f64;
    for &(le, count) in buckets {
        max = max.max(count);
        cumulative.push((le, max));
    }
    let total = cumulative[cumulative.len() - 1].1;
    if total <= 0.0 {
        return None;
    }
    let mut rank = q.clamp(0.0, 1.0) * total;
    let b = cumulative.partition_point(|(_, count)| *count < rank);
    let last = cumulative.len() - 1;
    if b >= last {
        return Some(cumulative[last - 1].0);
    }
    if b == 0 && cumulative[0].0 <= 0.0 {
        return Some(cumulative[0].0);
    }
    let (end_bound, mut count) = cumulative[b];
    let mut start_bound = 0.0;
    if b > 0 {
        start_bound = cumulative[b - 1].0;
        count -= cumulative[b - 1].1;
        rank -= cumulative[b - 1].1;
    }
    Some(start_bound + (end_bound - start_bound) * (rank / count))
}

/// What a check measures, as shown in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    ErrorRatio,
    Latency,
}

/// The verdict of one check on one market, stored with the rollout and shown to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub kind: CheckKind,
    /// The new version's value: a ratio in [0, 1], or seconds.
    pub value: Option<f64>,
    /// The previous version's value over the same window, when the check compared with it.
    pub previous: Option<f64>,
    /// The tightest bound the value was held to, in the value's unit.
    pub bound: Option<f64>,
    /// Requests in the window (observations, for a latency).
    pub requests: Option<u64>,
    pub passed: bool,
    /// One sentence for a person, such as `error ratio 31.0% (124 of 400 requests) is over the bound 2.0%`.
    pub reason: String,
}

/// A value measured on one window, or why there is none.
struct Reading {
    value: Result<f64, String>,
    requests: Option<u64>,
    /// The value as a person reads it in a reason: `31.0% (124 of 400 requests)`, `412 ms`.
    shown: String,
}

fn read(check: &MetricCheck, min_requests: u64, w: Window<'_>) -> Reading {
    let no_value = |why: String, requests: Option<u64>| Reading {
        value: Err(why),
        requests,
        shown: String::new(),
    };
    match &check.measure {
        Measure::ErrorRatio { errors, total } => match error_ratio(errors, total, w.start, w.end) {
            Err(e) => no_value(e.to_string(), (e == MeasureError::NoRequests).then_some(0)),
            Ok(r) => {
                let requests = r.requests.round() as u64;
                let word = if requests == 1 { "request" } else { "requests" };
                if requests < min_requests {
                    return no_value(
                        format!("only {requests} {word} in the window, fewer than min-requests {min_requests}"),
                        Some(requests),
                    );
                }
                Reading {
                    value: Ok(r.ratio),
                    requests: Some(requests),
                    shown: format!(
                        "{} ({} of {requests} {word})",
                        show_ratio(r.ratio),
                        r.errors.round() as u64
                    ),
                }
            }
        },
        Measure::Latency { histogram, quantile } => match latency_quantile(histogram, *quantile, w.start, w.end) {
            Err(e) => no_value(e.to_string(), None),
            Ok(l) => Reading {
                value: Ok(l.seconds),
                requests: Some(l.observations.round() as u64),
                shown: show_seconds(l.seconds),
            },
        },
    }
}

/// What a `vs-previous` check compares the new version with.
#[derive(Debug, Clone, Copy)]
pub enum Baseline<'a> {
    /// The previous version, measured over the same window as the new one.
    Window(Window<'a>),
    /// The previous version's value as the monitor recorded it in the market before the
    /// deployment (the mean of its series), from `samples` measurements: for a driver that
    /// replaces the previous version, which cannot be measured beside the new one.
    Recorded { value: f64, samples: u64 },
}

/// Judges one check: the new version's window against `max`, and against `vs-previous` times
/// the previous version's value over its window when there is one. The new version must be
/// measurable; a previous version without data leaves only `max` to judge by.
pub fn judge(check: &MetricCheck, min_requests: u64, new: Window<'_>, previous: Option<Window<'_>>) -> CheckResult {
    judge_against(check, min_requests, new, previous.map(Baseline::Window))
}

/// [`judge`] with any [`Baseline`] for `vs-previous`.
pub fn judge_against(
    check: &MetricCheck,
    min_requests: u64,
    new: Window<'_>,
    baseline: Option<Baseline<'_>>,
) -> CheckResult {
    let (kind, what) = match &check.measure {
        Measure::ErrorRatio { .. } => (CheckKind::ErrorRatio, "error ratio".to_string()),
        Measure::Latency { quantile, .. } => (CheckKind::Latency, format!("{} latency", percentile(*quantile))),
    };
    let show = |v: f64| match kind {
        CheckKind::ErrorRatio => show_ratio(v),
        CheckKind::Latency => show_seconds(v),
    };
    let reading = read(check, min_requests, new);
    let mut result = CheckResult {
        name: check.name.clone(),
        kind,
        value: None,
        previous: None,
        bound: None,
        requests: reading.requests,
        passed: false,
        reason: String::new(),
    };
    let value = match reading.value {
        Ok(v) => v,
        Err(why) => {
            result.reason = format!("{why}: cannot judge");
            return result;
        }
    };
    result.value = Some(value);

    // (bound, how it reads in a reason)
    let mut bounds: Vec<(f64, String)> = Vec::new();
    if let Some(max) = check.max {
        let phrase = match kind {
            CheckKind::ErrorRatio => format!("the bound {}", show(max)),
            CheckKind::Latency => show(max),
        };
        bounds.push((max, phrase));
    }
    let mut no_comparison = None;
    if let Some(factor) = check.vs_previous {
        let previous = baseline.map(|b| match b {
            Baseline::Window(w) => (read(check, min_requests, w).value, None),
            Baseline::Recorded { value, samples } => (Ok(value), Some(samples)),
        });
        match previous {
            None => no_comparison = Some("there is no previous version to compare with".to_string()),
            Some((Err(why), _)) => {
                no_comparison = Some(format!("the previous version has no data to compare with ({why})"))
            }
            Some((Ok(p), recorded)) => {
                result.previous = Some(p);
                let phrase = match recorded {
                    None => format!("{factor}× the previous version's {}", show(p)),
                    Some(n) => format!(
                        "{factor}× the previous version's {} (as the monitor recorded it in its last hour, {n} measurements)",
                        show(p)
                    ),
                };
                bounds.push((factor * p, phrase));
            }
        }
    }
    result.bound = bounds.iter().map(|(b, _)| *b).reduce(f64::min);
    let over: Vec<&str> = bounds
        .iter()
        .filter(|(b, _)| value > *b)
        .map(|(_, phrase)| phrase.as_str())
        .collect();
    result.passed = over.is_empty();
    let subject = format!("{what} {}", reading.shown);
    result.reason = if !over.is_empty() {
        format!("{subject} is over {}", over.join(" and over "))
    } else if bounds.is_empty() {
        format!(
            "{subject} passes: {}",
            no_comparison.as_deref().unwrap_or("the check has no bound")
        )
    } else {
        let within: Vec<&str> = bounds.iter().map(|(_, phrase)| phrase.as_str()).collect();
        format!("{subject} is within {}", within.join(" and within "))
    };
    if let Some(why) = no_comparison
        && !bounds.is_empty()
    {
        result.reason = format!("{}; {why}, so only the bound was checked", result.reason);
    }
    result
}

/// Judges every check of a gate.
pub fn judge_all(gates: &MetricGates, new: Window<'_>, previous: Option<Window<'_>>) -> Vec<CheckResult> {
    judge_all_against(gates, new, |_| previous.map(Baseline::Window))
}

/// Judges every check of a gate, each against the baseline `baseline` gives it.
pub fn judge_all_against<'a>(
    gates: &MetricGates,
    new: Window<'_>,
    baseline: impl Fn(&MetricCheck) -> Option<Baseline<'a>>,
) -> Vec<CheckResult> {
    gates
        .checks
        .iter()
        .map(|c| judge_against(c, gates.min_requests, new, baseline(c)))
        .collect()
}

/// `p99` for 0.99, `p99.9` for 0.999, `p50` for 0.5.
fn percentile(q: f64) -> String {
    format!("p{}", trim_decimals(format!("{:.4}", q * 100.0)))
}

/// A ratio as a percentage: one decimal, more for small non-zero values (`0.05%`).
fn show_ratio(r: f64) -> String {
    let pct = r * 100.0;
    if pct > 0.0 && pct < 0.1 {
        format!("{}%", trim_decimals(format!("{pct:.3}")))
    } else {
        format!("{pct:.1}%")
    }
}

/// Seconds as a person reads a latency: `412 ms`, `2.5 ms`, `1.25 s`.
fn show_seconds(s: f64) -> String {
    let ms = s * 1000.0;
    if ms >= 1000.0 {
        format!("{} s", trim_decimals(format!("{s:.2}")))
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{} ms", trim_decimals(format!("{ms:.2}")))
    }
}

fn trim_decimals(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
