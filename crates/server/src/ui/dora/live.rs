//! The "Live markets" panel of the Delivery page: what the monitor measured in each live market
//! over the last hours (the engine's [`LiveService`] series), one chart per series, each in the
//! unit a person reads.
//!
//! The monitor stores what it measures as it measures it: `up` as 1 or 0 per probe,
//! `probe_latency_ms` in milliseconds, and each metric gate check under the check's name in the
//! check's unit (an error ratio as a fraction, a latency quantile in seconds). Which measure a
//! check is comes from the `tandem.yml` the service's releases carry, never from its name: the
//! engine reads the live releases' first (what the monitor judges now), then the newest release
//! that declares it.

use crate::ui::charts::{self, Series};
use std::collections::HashMap;
use tandem_core::gates::Measure;
use tandem_engine::monitor::{LATENCY_SERIES, UP_SERIES};
use tandem_engine::views::delivery::{LIVE_SPAN_MS, LiveService};

/// The fewest minutes measured that a "last hours" chart draws as lines: fewer is a note saying
/// how many there are, not a line between two points that reads as a trend.
const MIN_MINUTES: usize = 5;

/// How one series reads on a chart.
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    /// What was measured and its unit, for the title: "availability (%)", "errors (error ratio, %)".
    what: String,
    /// The y axis: "% of probes passed", "ms".
    axis: &'static str,
    /// From the value stored to the value drawn.
    scale: f64,
    /// The value drawn is a percentage: the axis tops at 100.
    percent: bool,
}

/// How the series `metric` reads, `checks` giving the measure of each metric gate check. The
/// monitor's own series come first: it writes them whatever the checks are named.
fn reading(metric: &str, checks: &HashMap<String, Measure>) -> Reading {
    let read = |what: String, axis, scale, percent| Reading {
        what,
        axis,
        scale,
        percent,
    };
    match (metric, checks.get(metric)) {
        (UP_SERIES, _) => read("availability (%)".into(), "% of probes passed", 100.0, true),
        (LATENCY_SERIES, _) => read("probe latency (ms)".into(), "ms", 1.0, false),
        (name, Some(Measure::ErrorRatio { .. })) => {
            read(format!("{name} (error ratio, %)"), "% of requests", 100.0, true)
        }
        (name, Some(Measure::Latency { quantile, .. })) => read(
            format!("{name} ({} latency, ms)", quantile_name(*quantile)),
            "ms",
            1000.0,
            false,
        ),
        // A check no release declares any more: its values as stored.
        (name, None) => read(name.to_string(), "unit unknown", 1.0, false),
    }
}

/// What a chart with too few minutes says instead of a line.
fn too_little(minutes: &[i64]) -> String {
    let since = minutes
        .first()
        .and_then(|ms| jiff::Timestamp::from_millisecond(*ms).ok())
        .map(|t| format!(" (since {} UTC)", t.strftime("%H:%M")))
        .unwrap_or_default();
    let measured = match minutes.len() {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    };
    format!("Too little data yet: {measured} measured{since}; a line needs {MIN_MINUTES}.")
}

/// "p99" for 0.99, "p99.9" for 0.999, "p50" for 0.5.
fn quantile_name(quantile: f64) -> String {
    format!("p{}", (quantile * 1000.0).round() / 10.0)
}

/// One chart per series the monitor keeps for each service (one line per market), over the
/// engine's live span ([`LIVE_SPAN_MS`]) at minute resolution; longer spans are
/// in the API at hour resolution.
pub(super) fn live_charts(live: &[LiveService]) -> Vec<String> {
    let hours = LIVE_SPAN_MS / 3_600_000;
    let mut charts = Vec::new();
    for LiveService {
        service,
        series: measured,
        checks,
    } in live
    {
        for (metric, points) in measured {
            let r = reading(metric, checks);
            let mut series: Vec<Series> = Vec::new();
            for p in points {
                if series.last().is_none_or(|s| s.name != p.market) {
                    series.push(Series {
                        name: p.market.clone(),
                        points: Vec::new(),
                    });
                }
                if let Some(s) = series.last_mut() {
                    s.points.push((p.bucket, p.mean() * r.scale));
                }
            }
            let title = format!("{service}: {} per market, last {hours} hours", r.what);
            let mut minutes: Vec<i64> = points.iter().map(|p| p.bucket).collect();
            minutes.sort_unstable();
            minutes.dedup();
            if minutes.len() < MIN_MINUTES {
                charts.push(charts::note_chart(&title, &too_little(&minutes)));
                continue;
            }
            charts.push(if r.percent {
                charts::percent_chart(&title, &series, r.axis)
            } else {
                charts::line_chart(&title, &series, r.axis)
            });
        }
    }
    charts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with(checks: &str) -> tandem_core::pipeline::ServiceSpec {
        let text = format!(
            "service: shop\npipeline:\n  jobs:\n    test:\n      steps: [{{ run: x }}]\ngates:\n  metrics:\n    checks:\n{checks}"
        );
        tandem_core::pipeline::parse_service_spec("tandem.yml", &text).expect("a valid spec")
    }

    fn checks_of(specs: &[&str]) -> HashMap<String, Measure> {
        let specs: Vec<_> = specs.iter().map(|s| spec_with(s)).collect();
        tandem_engine::views::delivery::measures_of(&specs)
    }

    #[test]
    fn each_series_reads_in_the_unit_of_its_measure_not_its_name() {
        // Named against type: the unit follows what each check measures.
        let checks = checks_of(&[
            "      - { name: latency, error-ratio: { errors: 'req{code=\"500\"}', total: req }, max: 2% }\n\
             \x20     - { name: errors, latency: { histogram: req_seconds, quantile: 0.999 }, max: 250ms }\n",
        ]);
        let errors = reading("latency", &checks);
        assert_eq!(
            (errors.what.as_str(), errors.axis, errors.scale, errors.percent),
            ("latency (error ratio, %)", "% of requests", 100.0, true)
        );
        let slow = reading("errors", &checks);
        assert_eq!(
            (slow.what.as_str(), slow.axis, slow.scale, slow.percent),
            ("errors (p99.9 latency, ms)", "ms", 1000.0, false)
        );
        let up = reading(UP_SERIES, &checks);
        assert_eq!((up.axis, up.scale, up.percent), ("% of probes passed", 100.0, true));
        let probe = reading(LATENCY_SERIES, &checks);
        assert_eq!((probe.axis, probe.scale), ("ms", 1.0));
        let gone = reading("old-check", &checks);
        assert_eq!(
            (gone.what.as_str(), gone.axis, gone.scale),
            ("old-check", "unit unknown", 1.0)
        );
    }

    #[test]
    fn too_few_minutes_say_so_instead_of_drawing_a_line() {
        let t = 1_767_225_600_000; // 2026-01-01 00:00 UTC
        assert_eq!(
            too_little(&[t, t + 60_000]),
            "Too little data yet: 2 minutes measured (since 00:00 UTC); a line needs 5."
        );
        assert_eq!(
            too_little(&[t]),
            "Too little data yet: 1 minute measured (since 00:00 UTC); a line needs 5."
        );
    }

    #[test]
    fn the_first_release_read_that_declares_a_check_gives_its_measure() {
        // The live (or newest) release is read first: a check that changed measure since an
        // older release reads in its new unit.
        let checks = checks_of(&[
            "      - { name: p, latency: { histogram: h, quantile: 0.99 }, max: 1s }\n",
            "      - { name: p, error-ratio: { errors: e, total: t }, max: 1% }\n\
             \x20     - { name: q, error-ratio: { errors: e, total: t }, max: 1% }\n",
        ]);
        assert_eq!(reading("p", &checks).what, "p (p99 latency, ms)");
        assert_eq!(reading("q", &checks).what, "q (error ratio, %)");
        assert_eq!(quantile_name(0.5), "p50");
        assert_eq!(quantile_name(0.95), "p95");
    }
}
