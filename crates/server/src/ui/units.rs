//! Figures with their units: a gate's measure and bound as a person reads them (`412 ms`,
//! `1.2 %`, `30 s`, `3 of 3 answers`), whatever unit the gate stored them in.
//!
//! Gates store their figures in the unit they measure in (see `tandem_engine::gates`): the
//! probe counts answers, the bake seconds, a recovery milliseconds, a canary step its share of
//! traffic in percent, and a metric check its measure's unit (an error ratio as a fraction, a
//! latency quantile in seconds). Which measure a metric check is comes from the release's
//! `tandem.yml`, never from its name.

use super::layout::duration;
use tandem_core::gates::{Measure, MetricGates};

/// A gate's figures with their units: the value measured, and the bound it was held to when
/// there is one. `None` when the gate recorded no figure.
pub fn gate_figures(
    gate: &str,
    value: Option<f64>,
    bound: Option<f64>,
    metrics: Option<&MetricGates>,
) -> Option<String> {
    let value = value.filter(|v| v.is_finite())?;
    let bound = bound.filter(|b| b.is_finite());
    let text = match gate {
        "probe" => match bound {
            Some(b) => format!("{} of {} answers", plain(value), plain(b)),
            None => format!("{} answers", plain(value)),
        },
        "canary" => format!("{} % of traffic", plain(value)),
        "bake" => duration((value * 1000.0).round() as i64),
        "recovery" => duration(value.round() as i64),
        _ => {
            let check = gate.strip_prefix("metric:").map(|c| c.split('@').next().unwrap_or(c));
            let measure = check
                .and_then(|name| metrics?.checks.iter().find(|c| c.name == name))
                .map(|c| &c.measure);
            let show = |v: f64| match measure {
                Some(Measure::ErrorRatio { .. }) => ratio(v),
                Some(Measure::Latency { .. }) => seconds(v),
                None => plain(v),
            };
            match bound {
                Some(b) => format!("{} (max {})", show(value), show(b)),
                None => show(value),
            }
        }
    };
    Some(text)
}

/// A ratio as a percentage: one decimal, more for a small non-zero one (`0.05 %`).
pub fn ratio(r: f64) -> String {
    let pct = r * 100.0;
    if pct > 0.0 && pct < 0.1 {
        format!("{} %", trim(format!("{pct:.3}")))
    } else {
        format!("{} %", trim(format!("{pct:.1}")))
    }
}

/// Seconds as a latency reads: `412 ms`, `2.5 ms`, `1.25 s`.
pub fn seconds(s: f64) -> String {
    let ms = s * 1000.0;
    if ms >= 1000.0 {
        format!("{} s", trim(format!("{s:.2}")))
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{} ms", trim(format!("{ms:.2}")))
    }
}

/// A count or a plain figure: whole numbers as such, others with up to three decimals.
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.3}"))
    }
}

fn trim(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> MetricGates {
        let text = "service: shop\npipeline:\n  jobs:\n    test:\n      steps: [{ run: x }]\ngates:\n  metrics:\n    checks:\n\
            \x20     - { name: errors, error-ratio: { errors: 'req{code=\"500\"}', total: req }, max: 1% }\n\
            \x20     - { name: p99, latency: { histogram: req_seconds, quantile: 0.99 }, max: 250ms }\n";
        let spec = tandem_core::pipeline::parse_service_spec("tandem.yml", text).expect("a valid spec");
        spec.gates.metrics.expect("metric gates")
    }

    #[test]
    fn every_gate_figure_reads_in_its_unit() {
        let m = metrics();
        let show = |gate, value, bound| gate_figures(gate, value, bound, Some(&m));
        assert_eq!(show("probe", Some(3.0), Some(3.0)).as_deref(), Some("3 of 3 answers"));
        assert_eq!(show("canary", Some(25.0), None).as_deref(), Some("25 % of traffic"));
        assert_eq!(show("bake", Some(30.0), None).as_deref(), Some("30 s"));
        assert_eq!(show("recovery", Some(212.4), None).as_deref(), Some("212 ms"));
        assert_eq!(
            show("metric:errors@25%", Some(0.406), Some(0.01)).as_deref(),
            Some("40.6 % (max 1 %)")
        );
        assert_eq!(
            show("metric:p99", Some(0.0123), Some(0.25)).as_deref(),
            Some("12 ms (max 250 ms)")
        );
        assert_eq!(show("metric:p99", Some(1.5), None).as_deref(), Some("1.5 s"));
        assert_eq!(
            show("metric:gone", Some(0.5), Some(2.0)).as_deref(),
            Some("0.5 (max 2)")
        );
        assert_eq!(show("probe", None, Some(3.0)), None);
        assert_eq!(
            gate_figures("metric:errors", Some(0.0004), None, None).as_deref(),
            Some("0")
        );
        assert_eq!(ratio(0.0004), "0.04 %");
        assert_eq!(seconds(0.0025), "2.5 ms");
    }
}
