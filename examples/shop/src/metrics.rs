//! Request counters exposed in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
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
    fn escapes_label_values() {
        let text = Metrics::default().render("fr", "a\"b\\c\nd");
        assert!(text.contains(r#"release="a\"b\\c\nd""#), "{text}");
    }
}
