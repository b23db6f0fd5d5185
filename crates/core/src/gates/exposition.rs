//! The Prometheus text exposition format (0.0.4), and the sample lines of OpenMetrics text.
//!
//! Only samples matter to a gate: `# HELP`, `# TYPE` and other comments are skipped, and a
//! histogram is read through its flat `_bucket{le=…}` series. Like Prometheus, one bad line
//! rejects the whole scrape rather than silently dropping series a gate might need.

use super::cursor::Cursor;
use super::selector::Selector;
use std::collections::BTreeMap;

/// One series and its value at scrape time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of one scrape, one per series, sorted by name and labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    samples: Vec<Sample>,
}

/// A line of a scrape that is not in the text format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ExpositionError {
    /// From 1.
    pub line: usize,
    /// From 1.
    pub column: usize,
    pub message: String,
}

impl Scrape {
    /// Parses a scrape body. A series given twice keeps its first value, as Prometheus does.
    pub fn parse(text: &str) -> Result<Scrape, ExpositionError> {
        let mut samples: Vec<Sample> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let trimmed = line.trim_start_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let sample = parse_sample(line).map_err(|(offset, message)| ExpositionError {
                line: i + 1,
                column: offset + 1,
                message,
            })?;
            samples.push(sample);
        }
        // A stable sort keeps the first of two equal series in front, and dedup keeps that one.
        samples.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
        samples.dedup_by(|later, first| later.name == first.name && later.labels == first.labels);
        Ok(Scrape { samples })
    }

    /// Builds a scrape from samples (tests and callers that read another format).
    pub fn from_samples(samples: impl IntoIterator<Item = Sample>) -> Scrape {
        let mut samples: Vec<Sample> = samples.into_iter().collect();
        samples.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
        samples.dedup_by(|later, first| later.name == first.name && later.labels == first.labels);
        Scrape { samples }
    }

    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The series named `name`.
    pub fn series<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        let start = self.samples.partition_point(|s| s.name.as_str() < name);
        self.samples[start..].iter().take_while(move |s| s.name == name)
    }

    /// Whether any series has this metric name.
    pub fn has_metric(&self, name: &str) -> bool {
        self.series(name).next().is_some()
    }

    /// The value of the series `name{labels}`, if the scrape has it.
    pub fn get(&self, name: &str, labels: &BTreeMap<String, String>) -> Option<f64> {
        self.samples
            .binary_search_by(|s| (s.name.as_str(), &s.labels).cmp(&(name, labels)))
            .ok()
            .map(|i| self.samples[i].value)
    }

    /// The sum over the series `selector` matches; `None` when no series has its metric name.
    pub fn value(&self, selector: &Selector) -> Option<f64> {
        if !self.has_metric(selector.name()) {
            return None;
        }
        Some(
            self.series(selector.name())
                .filter(|s| selector.matches_labels(&s.labels))
                .map(|s| s.value)
                // Not `sum()`: an empty float sum is -0.0, which would show as `-0.0%`.
                .fold(0.0, |total, v| total + v),
        )
    }
}

/// Parses `name{label="value",…} value [timestamp] [# exemplar]`; errors carry a character offset.
fn parse_sample(line: &str) -> Result<Sample, (usize, String)> {
    let mut c = Cursor::new(line);
    let fail = |c: &Cursor<'_>, message: String| (c.offset(), message);
    c.skip_blanks();
    let Some(name) = c.name(true) else {
        let found = c.peek().map(|ch| format!("`{ch}`")).unwrap_or_default();
        return Err(fail(&c, format!("expected a metric name, found {found}")));
    };
    c.skip_blanks();
    let mut labels = BTreeMap::new();
    if c.eat("{") {
        loop {
            c.skip_blanks();
            if c.eat("}") {
                break;
            }
            let Some(label) = c.name(false) else {
                return Err(fail(&c, "expected a label name or `}`".into()));
            };
            c.skip_blanks();
            if !c.eat("=") {
                return Err(fail(&c, format!("expected `=` after label `{label}`")));
            }
            c.skip_blanks();
            if !c.eat("\"") {
                return Err(fail(&c, format!("expected a quoted value for label `{label}`")));
            }
            let value = c
                .quoted('"', |e| match e {
                    '\\' | '"' => Some(e),
                    'n' => Some('\n'),
                    _ => None,
                })
                .map_err(|e| fail(&c, e))?;
            if labels.insert(label.to_string(), value).is_some() {
                return Err(fail(&c, format!("label `{label}` is given twice")));
            }
            c.skip_blanks();
            if !c.eat(",") && c.peek() != Some('}') {
                return Err(fail(&c, "expected `,` or `}` after a label".into()));
            }
        }
        c.skip_blanks();
    }
    let at = c.offset();
    let word = c.word();
    if word.is_empty() {
        return Err((at, format!("expected a value after `{name}`")));
    }
    let value = parse_float(word).ok_or_else(|| (at, format!("`{word}` is not a number")))?;
    c.skip_blanks();
    if !c.at_end() && c.peek() != Some('#') {
        // A timestamp: milliseconds here, seconds with a fraction in OpenMetrics; a gate uses its own clock.
        let at = c.offset();
        let word = c.word();
        if parse_float(word).is_none_or(|t| !t.is_finite()) {
            return Err((at, format!("`{word}` is not a timestamp")));
        }
        c.skip_blanks();
    }
    // What is left may only be an OpenMetrics exemplar (`# {trace_id="…"} 1`), which a gate ignores.
    if !c.at_end() && c.peek() != Some('#') {
        return Err(fail(&c, format!("unexpected `{}` after the value", c.rest())));
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// A Go `ParseFloat` value: decimal, exponent, `NaN`, `+Inf`, `-Inf` (Rust's parser takes the same).
pub(super) fn parse_float(text: &str) -> Option<f64> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_the_documented_example() {
        let text = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A histogram, which has a pretty complex representation in the text format:
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
"#;
        let s = Scrape::parse(text).unwrap();
        assert_eq!(s.samples().len(), 9);
        assert_eq!(
            s.get("http_requests_total", &labels(&[("method", "post"), ("code", "400")])),
            Some(3.0)
        );
        assert_eq!(
            s.get("http_request_duration_seconds_bucket", &labels(&[("le", "+Inf")])),
            Some(144320.0)
        );
        assert_eq!(
            s.get(
                "msdos_file_access_time_seconds",
                &labels(&[
                    ("path", r"C:\DIR\FILE.TXT"),
                    ("error", "Cannot find file:\n\"FILE.TXT\"")
                ])
            ),
            Some(1.458255915e9)
        );
        assert_eq!(
            s.get("something_weird", &labels(&[("problem", "division by zero")])),
            Some(f64::INFINITY)
        );
        assert_eq!(s.get("metric_without_timestamp_and_labels", &labels(&[])), Some(12.47));
    }

    #[test]
    fn label_values_may_hold_braces_commas_and_equals() {
        // Route templates (`/users/{id}`) and query strings are common label values.
        let text = "r_total{path=\"/users/{id}\",code=\"500\"} 7\n\
                    r_total{path=\"/a,b\", code=\"200\"} 5\n\
                    r_total { path = \"/q?x=1\" , code=\"200\" , } 3\n\
                    bare_total{} 4\r\n";
        let s = Scrape::parse(text).unwrap();
        assert_eq!(
            s.get("r_total", &labels(&[("path", "/users/{id}"), ("code", "500")])),
            Some(7.0)
        );
        assert_eq!(
            s.get("r_total", &labels(&[("path", "/a,b"), ("code", "200")])),
            Some(5.0)
        );
        assert_eq!(
            s.get("r_total", &labels(&[("path", "/q?x=1"), ("code", "200")])),
            Some(3.0)
        );
        assert_eq!(s.get("bare_total", &labels(&[])), Some(4.0));
    }

    #[test]
    fn openmetrics_timestamps_exemplars_and_eof_are_accepted() {
        let text = "# TYPE foo counter\n\
                    foo_total{a=\"1\"} 17 1520879607.789 # {trace_id=\"oHg5SJYRHA0\"} 9.8 1520879607.789\n\
                    foo_total{a=\"2\"} 1 # {trace_id=\"x\"} 1\n\
                    # EOF\n";
        let s = Scrape::parse(text).unwrap();
        assert_eq!(s.get("foo_total", &labels(&[("a", "1")])), Some(17.0));
        assert_eq!(s.get("foo_total", &labels(&[("a", "2")])), Some(1.0));
    }

    #[test]
    fn special_values_parse() {
        let s = Scrape::parse("a NaN\nb -Inf\nc 1e-3\nd -0.5\n").unwrap();
        assert!(s.get("a", &labels(&[])).unwrap().is_nan());
        assert_eq!(s.get("b", &labels(&[])), Some(f64::NEG_INFINITY));
        assert_eq!(s.get("c", &labels(&[])), Some(0.001));
        assert_eq!(s.get("d", &labels(&[])), Some(-0.5));
    }

    #[test]
    fn a_series_given_twice_keeps_its_first_value() {
        let s = Scrape::parse("x{a=\"1\"} 1\ny 5\nx{a=\"1\"} 2\n").unwrap();
        assert_eq!(s.samples().len(), 2);
        assert_eq!(s.get("x", &labels(&[("a", "1")])), Some(1.0));
    }

    #[test]
    fn bad_lines_reject_the_scrape_with_their_place() {
        for (text, line, column, message) in [
            ("<!DOCTYPE html>", 1, 1, "expected a metric name, found `<`"),
            ("ok 1\nx{a=\"1} 2\n", 2, 6, "no closing \""),
            ("x{a=\"\\t\"} 1", 1, 6, "`\\t` is not a known escape sequence"),
            ("x{a=1} 1", 1, 5, "expected a quoted value for label `a`"),
            ("x{a=\"1\" b=\"2\"} 1", 1, 9, "expected `,` or `}`"),
            ("x{a=\"1\",a=\"2\"} 1", 1, 14, "label `a` is given twice"),
            ("x", 1, 2, "expected a value after `x`"),
            ("x{}", 1, 4, "expected a value after `x`"),
            ("x one", 1, 3, "`one` is not a number"),
            ("x 1 later", 1, 5, "`later` is not a timestamp"),
            ("x 1 2 3", 1, 7, "unexpected `3` after the value"),
            ("x ++1", 1, 3, "`++1` is not a number"),
        ] {
            let err = Scrape::parse(text).unwrap_err();
            assert!(err.message.contains(message), "{text:?}: {err}");
            assert_eq!((err.line, err.column), (line, column), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_selector_sums_the_series_it_matches() {
        let s = Scrape::parse(
            "req_total{code=\"200\",path=\"/\"} 90\n\
             req_total{code=\"500\",path=\"/\"} 4\n\
             req_total{code=\"503\",path=\"/cart\"} 6\n",
        )
        .unwrap();
        let value = |text: &str| s.value(&Selector::parse(text).unwrap());
        assert_eq!(value("req_total"), Some(100.0));
        assert_eq!(value("req_total{code=~\"5..\"}"), Some(10.0));
        assert_eq!(value("req_total{code=~\"5..\",path!=\"/\"}"), Some(6.0));
        assert_eq!(value("req_total{code=\"418\"}"), Some(0.0));
        assert_eq!(value("reqs_total"), None);
    }

    proptest! {
        #[test]
        fn rendered_samples_parse_back(
            series in proptest::collection::btree_map(
                ("[a-z_:][a-z0-9_:]{0,8}", proptest::collection::btree_map("[a-z_][a-z0-9_]{0,5}", "\\PC{0,8}", 0..4)),
                -1e12f64..1e12,
                0..12,
            ),
        ) {
            let mut text = String::new();
            for ((name, labels), value) in &series {
                let rendered: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")))
                    .collect();
                text.push_str(&format!("{name}{{{}}} {value}\n", rendered.join(",")));
            }
            let scrape = Scrape::parse(&text).unwrap();
            prop_assert_eq!(scrape.samples().len(), series.len());
            for ((name, labels), value) in &series {
                prop_assert_eq!(scrape.get(name, labels), Some(*value));
            }
        }
    }
}
