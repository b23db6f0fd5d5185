//! Request counters and a request-duration histogram, exposed in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the duration histogram's buckets: from a cached page (5 ms) to a
/// request slow enough that a person gives up (2.5 s); slower ones land in `+Inf`.
pub const DURATION_BUCKETS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    durations: Mutex<BTreeMap<&'static str, Histogram>>,
}

/// Observations of one path: per-bucket counts (the last one past every bound), sum and count.
#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; DURATION_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// The `path` label for a request path: known routes as-is, everything else
/// as `other` (so scanners cannot blow up the number of series).
pub fn path_label(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, path: &str, code: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((path_label(path), code)).or_insert(0) += 1;
    }

    /// Records how long one answered request took.
    pub fn observe(&self, path: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DURATION_BUCKETS.len());
        let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        let h = durations.entry(path_label(path)).or_default();
        h.buckets[bucket] += 1;
        h.sum += seconds;
        h.count += 1;
    }

    /// Renders all metrics in the Prometheus text format.
    pub fn render(&self, market: &str, release: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP shop_http_requests_total HTTP requests answered, by path and status code.\n");
        out.push_str("# TYPE shop_http_requests_total counter\n");
        {
            let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            for ((path, code), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "shop_http_requests_total{{path=\"{path}\",code=\"{code}\"}} {count}"
                );
            }
        }
        self.render_durations(&mut out);
        out.push_str("# HELP shop_info Market and release of this shop instance.\n");
        out.push_str("# TYPE shop_info gauge\n");
        let _ = writeln!(
            out,
            "shop_info{{market=\"{}\",release=\"{}\"}} 1",
            escape_label(market),
            escape_label(release)
        );
        out
    }
}

impl Metrics {
    /// Renders the duration histogram: cumulative `_bucket{le=…}` series, then `_sum` and `_count`.
    fn render_durations(&self, out: &mut String) {
        const NAME: &str = "shop_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {NAME} Time to answer an HTTP request once it was read, by path."
        );
        let _ = writeln!(out, "# TYPE {NAME} histogram");
        let durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        for (path, h) in durations.iter() {
            let mut cumulative = 0;
            for (i, count) in h.buckets.iter().enumerate() {
                cumulative += count;
                let le = DURATION_BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(out, "{NAME}_bucket{{path=\"{path}\",le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{NAME}_sum{{path=\"{path}\"}} {}", h.sum);
            let _ = writeln!(out, "{NAME}_count{{path=\"{path}\"}} {}", h.count);
        }
    }
}

/// Escapes a label value (backslash, double quote and newline).
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_path_and_code() {
        let m = Metrics::default();
        m.record("/", 200);
        m.record("/", 200);
        m.record("/healthz", 200);
        m.record("/wp-admin", 404);
        m.record("/nope", 404);
        let text = m.render("fr", "1.2.3");
        assert!(
            text.contains("shop_http_requests_total{path=\"/\",code=\"200\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("shop_http_requests_total{path=\"/healthz\",code=\"200\"} 1\n"));
        assert!(text.contains("shop_http_requests_total{path=\"other\",code=\"404\"} 2\n"));
        assert!(text.contains("# TYPE shop_http_requests_total counter\n"));
        assert!(text.ends_with("shop_info{market=\"fr\",release=\"1.2.3\"} 1\n"));
    }

    #[test]
    fn renders_a_cumulative_duration_histogram() {
        let m = Metrics::default();
        m.observe("/", Duration::from_millis(3));
        m.observe("/", Duration::from_millis(40));
        m.observe("/", Duration::from_millis(50));
        m.observe("/", Duration::from_secs(3));
        m.observe("/nope", Duration::from_millis(7));
        let text = m.render("fr", "1.2.3");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("{path=\"/\""))
            .filter(|l| l.starts_with("shop_http_request_duration_seconds"))
            .collect();
        let name = "shop_http_request_duration_seconds";
        assert_eq!(
            lines,
            [
                format!("{name}_bucket{{path=\"/\",le=\"0.005\"}} 1"),
                format!("{name}_bucket{{path=\"/\",le=\"0.01\"}} 1"),
                format!("{name}_bucket{{path=\"/\",le=\"0.025\"}} 1"),
                // A bound holds the observations equal to it (`le`): 50 ms is in 0.05.
                format!("{name}_bucket{{path=\"/\",le=\"0.05\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"0.1\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"0.25\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"0.5\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"1\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"2.5\"}} 3"),
                format!("{name}_bucket{{path=\"/\",le=\"+Inf\"}} 4"),
                format!("{name}_sum{{path=\"/\"}} 3.093"),
                format!("{name}_count{{path=\"/\"}} 4"),
            ]
        );
        assert!(text.contains(&format!("# TYPE {name} histogram\n")));
        assert!(text.contains(&format!("{name}_bucket{{path=\"other\",le=\"0.01\"}} 1\n")));
        assert!(text.contains(&format!("{name}_count{{path=\"other\"}} 1\n")));
        assert!(
            text.ends_with("shop_info{market=\"fr\",release=\"1.2.3\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn escapes_label_values() {
        let text = Metrics::default().render("fr", "a\"b\\c\nd");
        assert!(text.contains(r#"release="a\"b\\c\nd""#), "{text}");
    }
}
