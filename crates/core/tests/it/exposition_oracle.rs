//! Tandem's Prometheus text parser checked against an independent one.
//!
//! Release gates and the monitor read `/metrics` with `tandem_core::gates::Scrape`, our own
//! parser (docs/monitor.md says why no crate does that job). This test renders random but valid
//! scrapes, parses them with both ours and `prom_text_format_parser`, and requires the same
//! series and values. The scrapes cover every metric type, HELP text, timestamps, the special
//! values, and label values holding what breaks naive splitting: `,` `=` `{` `}` `"` `\`,
//! newlines and non-ASCII text.

use prom_text_format_parser::{Type, ValueType};
use proptest::prelude::*;
use std::collections::BTreeMap;
use tandem_core::gates::Scrape;

type Labels = BTreeMap<String, String>;

/// A series as both parsers must see it: full sample name, unescaped labels, value bits.
type Series = BTreeMap<(String, Labels), String>;

#[derive(Debug, Clone)]
enum Kind {
    Counter,
    Gauge,
    Untyped,
    Histogram,
    Summary,
}

#[derive(Debug, Clone)]
struct Family {
    name: String,
    kind: Kind,
    help: Option<String>,
    /// One label set per series (histograms and summaries add `le` / `quantile`).
    series: Vec<(Labels, f64, Option<i64>)>,
}

/// Go's `FormatFloat` spellings of the special values, which the format requires.
fn render_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// A value's identity for comparison: every NaN is one NaN.
fn key(v: f64) -> String {
    if v.is_nan() { "NaN".into() } else { format!("{v:e}") }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn unescape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn render_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

fn line(out: &mut String, name: &str, labels: &Labels, value: f64, ts: Option<i64>, expect: &mut Series) {
    out.push_str(&format!("{name}{} {}", render_labels(labels), render_value(value)));
    if let Some(ts) = ts {
        out.push_str(&format!(" {ts}"));
    }
    out.push('\n');
    expect.insert((name.to_string(), labels.clone()), key(value));
}

/// Renders the families as a scrape, and the series any correct parser must read from it.
fn render(families: &[Family]) -> (String, Series) {
    let mut out = String::new();
    let mut expect = Series::new();
    for f in families {
        if let Some(help) = &f.help {
            out.push_str(&format!(
                "# HELP {} {}\n",
                f.name,
                help.replace('\\', "\\\\").replace('\n', "\\n")
            ));
        }
        let kind = match f.kind {
            Kind::Counter => Some("counter"),
            Kind::Gauge => Some("gauge"),
            Kind::Untyped => None,
            Kind::Histogram => Some("histogram"),
            Kind::Summary => Some("summary"),
        };
        if let Some(kind) = kind {
            out.push_str(&format!("# TYPE {} {kind}\n", f.name));
        }
        for (labels, value, ts) in &f.series {
            match f.kind {
                Kind::Counter | Kind::Gauge | Kind::Untyped => {
                    line(&mut out, &f.name, labels, *value, *ts, &mut expect)
                }
                Kind::Histogram => {
                    let mut total = 0.0;
                    for (i, le) in ["0.005", "0.1", "2.5", "+Inf"].into_iter().enumerate() {
                        total += (value.abs() % 1000.0).floor() + i as f64;
                        let mut with_le = labels.clone();
                        with_le.insert("le".into(), le.into());
                        line(
                            &mut out,
                            &format!("{}_bucket", f.name),
                            &with_le,
                            total,
                            *ts,
                            &mut expect,
                        );
                    }
                    line(&mut out, &format!("{}_sum", f.name), labels, *value, *ts, &mut expect);
                    line(&mut out, &format!("{}_count", f.name), labels, total, *ts, &mut expect);
                }
                Kind::Summary => {
                    for (i, q) in ["0.5", "0.9", "0.99"].into_iter().enumerate() {
                        let mut with_q = labels.clone();
                        with_q.insert("quantile".into(), q.into());
                        line(&mut out, &f.name, &with_q, *value + i as f64, *ts, &mut expect);
                    }
                    line(
                        &mut out,
                        &format!("{}_sum", f.name),
                        labels,
                        *value * 3.0,
                        *ts,
                        &mut expect,
                    );
                    line(&mut out, &format!("{}_count", f.name), labels, 3.0, *ts, &mut expect);
                }
            }
        }
    }
    (out, expect)
}

/// What ours read.
fn ours(text: &str) -> Series {
    let scrape = Scrape::parse(text).unwrap_or_else(|e| panic!("ours rejected a valid scrape: {e}\n{text}"));
    scrape
        .samples()
        .iter()
        .map(|s| ((s.name.clone(), s.labels.clone()), key(s.value)))
        .collect()
}

/// What the independent parser read, flattened back to sample names.
fn oracle(text: &str) -> Series {
    let scrape = prom_text_format_parser::Scrape::parse(text)
        .unwrap_or_else(|e| panic!("the oracle rejected a valid scrape: {e:?}\n{text}"));
    let mut series = Series::new();
    for metric in &scrape.metrics {
        for sample in &metric.samples {
            let suffix = match (metric.kind, sample.value.value_type) {
                (Type::Histogram, ValueType::Sample) => "_bucket",
                (_, ValueType::Sum) => "_sum",
                (_, ValueType::Count) => "_count",
                _ => "",
            };
            let labels: Labels = sample
                .labels
                .iter()
                .map(|l| (l.key.clone(), unescape_label(&l.value)))
                .collect();
            let value: f64 = sample.value.value.parse().expect("the oracle validated the float");
            series.insert((format!("{}{suffix}", metric.name), labels), key(value));
        }
    }
    series
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1e15f64..1e15,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => (0u32..1000).prop_map(|n| f64::from(n) * 1e-9),
    ]
}

/// Label values with the characters that break a parser splitting on `,`, `=` or braces.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,10}",
        "[,={}\"\\\\ /a-z]{0,10}",
        Just("line one\nline two".to_string()),
        Just("C:\\DIR\\FILE.TXT".to_string()),
        Just("/users/{id}?a=1,b=2".to_string()),
    ]
}

fn family(index: usize) -> impl Strategy<Value = Family> {
    let kind = prop_oneof![
        Just(Kind::Counter),
        Just(Kind::Gauge),
        Just(Kind::Untyped),
        Just(Kind::Histogram),
        Just(Kind::Summary),
    ];
    // Ending the name with the family's index keeps names distinct and never `_sum`-like.
    let name = "[a-zA-Z_:][a-zA-Z0-9_:]{0,8}".prop_map(move |n| format!("{n}_{index}"));
    let help = proptest::option::of("\\PC{0,20}");
    let labels =
        proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,6}", label_value(), 0..4).prop_map(|mut l| {
            // Histograms and summaries own these two label names.
            l.remove("le");
            l.remove("quantile");
            l
        });
    let series = proptest::collection::btree_set(labels, 1..4).prop_flat_map(|sets| {
        let n = sets.len();
        (
            Just(sets.into_iter().collect::<Vec<_>>()),
            proptest::collection::vec((value(), proptest::option::of(0i64..2_000_000_000_000)), n),
        )
    });
    (name, kind, help, series).prop_map(|(name, kind, help, (sets, values))| Family {
        name,
        kind,
        help,
        series: sets
            .into_iter()
            .zip(values)
            .map(|(labels, (v, ts))| (labels, v, ts))
            .collect(),
    })
}

fn families() -> impl Strategy<Value = Vec<Family>> {
    (1usize..6).prop_flat_map(|n| (0..n).map(family).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ours_reads_what_an_independent_parser_reads(families in families()) {
        let (text, expected) = render(&families);
        let ours = ours(&text);
        prop_assert_eq!(&ours, &oracle(&text), "{}", text);
        prop_assert_eq!(&ours, &expected, "{}", text);
    }
}

/// Real scrapes as the common client libraries write them: both parsers agree on each.
#[test]
fn client_library_scrapes_read_the_same() {
    let go = "# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n\
              # TYPE go_gc_duration_seconds summary\n\
              go_gc_duration_seconds{quantile=\"0\"} 2.1e-05\n\
              go_gc_duration_seconds{quantile=\"1\"} 0.000101\n\
              go_gc_duration_seconds_sum 0.000402\n\
              go_gc_duration_seconds_count 7\n\
              # HELP go_info Information about the Go environment.\n\
              # TYPE go_info gauge\n\
              go_info{version=\"go1.21.1\"} 1\n\
              # HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.\n\
              # TYPE promhttp_metric_handler_requests_total counter\n\
              promhttp_metric_handler_requests_total{code=\"200\"} 0\n";
    let python = "# HELP python_info Python platform information\n\
                  # TYPE python_info gauge\n\
                  python_info{implementation=\"CPython\",major=\"3\",minor=\"11\",version=\"3.11.2\"} 1.0\n\
                  # HELP requests_total Requests\n\
                  # TYPE requests_total counter\n\
                  requests_total{path=\"/\"} 3.0\n\
                  # HELP requests_created Requests\n\
                  # TYPE requests_created gauge\n\
                  requests_created{path=\"/\"} 1.7e+09\n\
                  # HELP lat_seconds Latency\n\
                  # TYPE lat_seconds histogram\n\
                  lat_seconds_bucket{le=\"0.1\"} 1.0\n\
                  lat_seconds_bucket{le=\"+Inf\"} 2.0\n\
                  lat_seconds_count 2.0\n\
                  lat_seconds_sum 0.3\n";
    for text in [go, python] {
        let ours = ours(text);
        assert_eq!(ours, oracle(text), "{text}");
        assert!(ours.len() >= 4, "{text}");
    }
}

/// Where the independent parser refuses valid scrapes that Tandem must read, ours reads them.
/// These are the reasons it is a test oracle here and not the parser.
#[test]
fn scrapes_the_oracle_refuses_are_read() {
    for (text, series) in [
        // A family declared before its first sample: a labelled counter nobody has hit yet.
        ("# TYPE shop_requests_total counter\n# TYPE up gauge\nup 1\n", 1),
        // A service with no metrics yet.
        ("", 0),
        // Windows line ends.
        ("a 1\r\nb 2\r\n", 2),
        // OpenMetrics, which Prometheus client libraries answer when asked for it.
        ("# TYPE runs counter\nruns_total{state=\"ok\"} 3\n# EOF\n", 1),
    ] {
        assert!(prom_text_format_parser::Scrape::parse(text).is_err(), "{text:?}");
        let scrape = Scrape::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(scrape.samples().len(), series, "{text:?}");
    }
}
