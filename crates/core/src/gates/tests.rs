use super::*;
use proptest::prelude::*;

fn scrape(text: &str) -> Scrape {
    Scrape::parse(text).unwrap()
}

fn sel(text: &str) -> Selector {
    Selector::parse(text).unwrap()
}

fn error_check(max: Option<f64>, vs_previous: Option<f64>) -> MetricCheck {
    MetricCheck {
        name: "errors".into(),
        measure: Measure::ErrorRatio {
            errors: sel(r#"req_total{code=~"5.."}"#),
            total: sel("req_total"),
        },
        max,
        vs_previous,
    }
}

fn latency_check(max: Option<f64>, vs_previous: Option<f64>) -> MetricCheck {
    MetricCheck {
        name: "p99".into(),
        measure: Measure::Latency {
            histogram: sel("h"),
            quantile: 0.99,
        },
        max,
        vs_previous,
    }
}

/// 400 requests in the window, 124 of them errors (the 500 series is born in the window).
const START: &str = "req_total{code=\"200\"} 100\nreq_total{code=\"404\"} 7\n";
const END_BAD: &str = "req_total{code=\"200\"} 376\nreq_total{code=\"500\"} 124\n";

#[test]
fn increase_handles_resets_births_and_deaths() {
    let start = scrape("c{a=\"x\"} 1000\nc{a=\"y\"} 50\nc{a=\"gone\"} 9\n");
    // `x` was reset by a restart, `y` grew, `new` was born, `gone` vanished.
    let end = scrape("c{a=\"x\"} 300\nc{a=\"y\"} 60\nc{a=\"new\"} 5\n");
    assert_eq!(increase(&sel("c"), &start, &end), Some(300.0 + 10.0 + 5.0));
    assert_eq!(increase(&sel("c{a=\"x\"}"), &start, &end), Some(300.0));
    assert_eq!(increase(&sel("c{a=\"gone\"}"), &start, &end), Some(0.0));
    assert_eq!(increase(&sel("d"), &start, &end), None);
    // A counter that is not a number adds nothing.
    assert_eq!(increase(&sel("n"), &scrape("n 1"), &scrape("n NaN")), Some(0.0));
}

#[test]
fn error_ratio_counts_errors_over_requests() {
    let r = error_ratio(
        &sel(r#"req_total{code=~"5.."}"#),
        &sel("req_total"),
        &scrape(START),
        &scrape(END_BAD),
    )
    .unwrap();
    assert_eq!((r.errors, r.requests), (124.0, 400.0));
    assert!((r.ratio - 0.31).abs() < 1e-12);
}

#[test]
fn error_ratio_after_a_restart_uses_the_end_values() {
    let start = scrape("req_total{code=\"200\"} 1000\nreq_total{code=\"500\"} 50\n");
    let end = scrape("req_total{code=\"200\"} 290\nreq_total{code=\"500\"} 10\n");
    let r = error_ratio(&sel(r#"req_total{code=~"5.."}"#), &sel("req_total"), &start, &end).unwrap();
    assert_eq!((r.errors, r.requests), (10.0, 300.0));
}

#[test]
fn error_ratio_without_data_says_why() {
    let errors = sel(r#"req_total{code=~"5.."}"#);
    let empty = Scrape::default();
    assert_eq!(
        error_ratio(&errors, &sel("reqs_total"), &empty, &scrape(END_BAD)),
        Err(MeasureError::Missing {
            metric: "reqs_total".into(),
            selector: "reqs_total".into()
        })
    );
    assert_eq!(
        error_ratio(&errors, &sel("req_total"), &scrape(END_BAD), &scrape(END_BAD)),
        Err(MeasureError::NoRequests)
    );
}

/// Two paths, the `/cart` series born in the window; their increases sum to the cumulative
/// buckets 0.05: 10, 0.1: 50, 0.25: 90, 0.5: 98, +Inf: 100.
const H_START: &str = "\
h_bucket{path=\"/\",le=\"0.05\"} 5
h_bucket{path=\"/\",le=\"0.1\"} 20
h_bucket{path=\"/\",le=\"0.25\"} 30
h_bucket{path=\"/\",le=\"0.5\"} 30
h_bucket{path=\"/\",le=\"+Inf\"} 30
h_sum{path=\"/\"} 3
h_count{path=\"/\"} 30
";
const H_END: &str = "\
h_bucket{path=\"/\",le=\"0.05\"} 10
h_bucket{path=\"/\",le=\"0.1\"} 50
h_bucket{path=\"/\",le=\"0.25\"} 70
h_bucket{path=\"/\",le=\"0.5\"} 75
h_bucket{path=\"/\",le=\"+Inf\"} 76
h_bucket{path=\"/cart\",le=\"0.05\"} 5
h_bucket{path=\"/cart\",le=\"0.10\"} 20
h_bucket{path=\"/cart\",le=\"0.25\"} 50
h_bucket{path=\"/cart\",le=\"0.5\"} 53
h_bucket{path=\"/cart\",le=\"+Inf\"} 54
";

#[test]
fn latency_quantiles_interpolate_like_histogram_quantile() {
    let (start, end) = (scrape(H_START), scrape(H_END));
    let q = |q: f64| latency_quantile(&sel("h"), q, &start, &end).unwrap();
    // rank 5 in (0, 0.05] holding 10: 0 + 0.05 × 5/10.
    assert!((q(0.05).seconds - 0.025).abs() < 1e-12);
    // rank 50 is the top of (0.05, 0.1].
    assert!((q(0.5).seconds - 0.1).abs() < 1e-12);
    // rank 75 in (0.1, 0.25] holding 40 from 50: 0.1 + 0.15 × 25/40.
    assert!((q(0.75).seconds - 0.19375).abs() < 1e-12);
    // rank 99 falls in the +Inf bucket: the highest finite bound.
    assert_eq!(q(0.99).seconds, 0.5);
    assert_eq!(q(0.99).observations, 100.0);
    // Label matchers pick series: `/cart` alone is 5, 20, 50, 53, 54; rank 27 in (0.1, 0.25].
    let cart = latency_quantile(&sel("h{path=\"/cart\"}"), 0.5, &start, &end).unwrap();
    assert!((cart.seconds - (0.1 + 0.15 * 7.0 / 30.0)).abs() < 1e-12);
}

#[test]
fn latency_without_data_says_why() {
    let end = scrape(H_END);
    let empty = Scrape::default();
    assert_eq!(
        latency_quantile(&sel("hh{path=\"/\"}"), 0.9, &empty, &end),
        Err(MeasureError::Missing {
            metric: "hh_bucket".into(),
            selector: "hh_bucket{path=\"/\"}".into()
        })
    );
    assert_eq!(
        latency_quantile(&sel("h"), 0.9, &end, &end),
        Err(MeasureError::NoObservations { histogram: "h".into() })
    );
    assert_eq!(
        latency_quantile(&sel("h{path=\"/none\"}"), 0.9, &empty, &end),
        Err(MeasureError::NoObservations {
            histogram: "h{path=\"/none\"}".into()
        })
    );
    let no_inf = scrape("h_bucket{le=\"0.1\"} 3\nh_bucket{le=\"1\"} 4\n");
    assert_eq!(
        latency_quantile(&sel("h"), 0.9, &empty, &no_inf),
        Err(MeasureError::NoInfBucket { histogram: "h".into() })
    );
}

#[test]
fn bucket_quantile_edge_cases() {
    let inf = f64::INFINITY;
    assert_eq!(bucket_quantile(0.5, &[(inf, 10.0)]), None);
    assert_eq!(bucket_quantile(0.5, &[(1.0, 0.0), (inf, 0.0)]), None);
    assert_eq!(bucket_quantile(0.5, &[(1.0, 5.0), (2.0, 10.0)]), None);
    // Everything above the highest finite bound: that bound.
    assert_eq!(bucket_quantile(0.5, &[(1.0, 0.0), (inf, 10.0)]), Some(1.0));
    // A first bound at or below 0 is returned as is.
    assert_eq!(bucket_quantile(0.1, &[(0.0, 5.0), (1.0, 10.0), (inf, 10.0)]), Some(0.0));
    // Counts that go down (float noise) are read as flat.
    assert_eq!(bucket_quantile(0.5, &[(1.0, 10.0), (2.0, 9.0), (inf, 10.0)]), Some(0.5));
}

#[test]
fn a_fixed_bound_failure_reads_as_a_sentence() {
    let r = judge(
        &error_check(Some(0.02), None),
        1,
        Window::new(&scrape(START), &scrape(END_BAD)),
        None,
    );
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        "error ratio 31.0% (124 of 400 requests) is over the bound 2.0%"
    );
    assert_eq!((r.requests, r.bound), (Some(400), Some(0.02)));
    assert!((r.value.unwrap() - 0.31).abs() < 1e-12);
    assert_eq!(r.kind, CheckKind::ErrorRatio);
}

#[test]
fn no_error_at_all_is_a_plain_zero() {
    // The 5xx series does not exist yet: no error was ever answered.
    let end = scrape("req_total{code=\"200\"} 500\nreq_total{code=\"404\"} 7\n");
    let r = judge(
        &error_check(Some(0.02), None),
        1,
        Window::new(&scrape(START), &end),
        None,
    );
    assert!(r.passed);
    assert_eq!(
        r.reason,
        "error ratio 0.0% (0 of 400 requests) is within the bound 2.0%"
    );
    assert!(r.value.unwrap().is_sign_positive(), "{:?}", r.value);
}

#[test]
fn too_few_requests_cannot_be_judged() {
    let end = scrape("req_total{code=\"200\"} 103\nreq_total{code=\"404\"} 7\n");
    let r = judge(
        &error_check(Some(0.02), None),
        20,
        Window::new(&scrape(START), &end),
        None,
    );
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        "only 3 requests in the window, fewer than min-requests 20: cannot judge"
    );
    assert_eq!((r.requests, r.value), (Some(3), None));
    let idle = judge(&error_check(Some(0.02), None), 1, Window::new(&end, &end), None);
    assert_eq!(idle.reason, "no request in the window: cannot judge");
    assert!(!idle.passed);
}

#[test]
fn a_missing_metric_fails_naming_the_selector() {
    let mut check = error_check(Some(0.02), None);
    check.measure = Measure::ErrorRatio {
        errors: sel(r#"req_totl{code=~"5.."}"#),
        total: sel("req_total"),
    };
    let r = judge(&check, 1, Window::new(&scrape(START), &scrape(END_BAD)), None);
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        r#"the service's metrics have no `req_totl` (selector `req_totl{code=~"5.."}`): cannot judge"#
    );
}

/// Cumulative buckets whose p99 is 412 ms (new) and 120 ms (previous), 1000 requests each.
const NEW_SLOW: &str = "\
h_bucket{le=\"0.1\"} 500
h_bucket{le=\"0.4\"} 984
h_bucket{le=\"0.42\"} 994
h_bucket{le=\"1\"} 1000
h_bucket{le=\"+Inf\"} 1000
";
const PREVIOUS_FAST: &str = "\
h_bucket{le=\"0.1\"} 986
h_bucket{le=\"0.15\"} 996
h_bucket{le=\"1\"} 1000
h_bucket{le=\"+Inf\"} 1000
";
/// p99 of 80 ms: rank 990 in (0.05, 0.1] holding 25 from 975.
const NEW_FAST: &str = "\
h_bucket{le=\"0.05\"} 975
h_bucket{le=\"0.1\"} 1000
h_bucket{le=\"+Inf\"} 1000
";

#[test]
fn latency_against_the_previous_version() {
    let empty = Scrape::default();
    let (slow, previous) = (scrape(NEW_SLOW), scrape(PREVIOUS_FAST));
    let r = judge(
        &latency_check(None, Some(1.5)),
        1,
        Window::new(&empty, &slow),
        Some(Window::new(&empty, &previous)),
    );
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        "p99 latency 412 ms is over 1.5× the previous version's 120 ms"
    );
    assert!((r.previous.unwrap() - 0.12).abs() < 1e-12);
    assert!((r.bound.unwrap() - 0.18).abs() < 1e-12);
    assert_eq!(r.requests, Some(1000));
    assert_eq!(r.kind, CheckKind::Latency);
}

#[test]
fn the_previous_version_as_the_monitor_recorded_it() {
    let empty = Scrape::default();
    let slow = scrape(NEW_SLOW);
    let check = latency_check(Some(1.0), Some(1.5));
    let r = judge_against(
        &check,
        1,
        Window::new(&empty, &slow),
        Some(Baseline::Recorded {
            value: 0.2,
            samples: 58,
        }),
    );
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        "p99 latency 412 ms is over 1.5× the previous version's 200 ms (as the monitor recorded it in its last hour, 58 measurements)"
    );
    assert_eq!(r.previous, Some(0.2));
    // Within: both bounds named, the recorded one as such.
    let r = judge_against(
        &check,
        1,
        Window::new(&empty, &slow),
        Some(Baseline::Recorded { value: 0.3, samples: 2 }),
    );
    assert!(r.passed, "{}", r.reason);
    assert!(
        r.reason
            .contains("within 1 s and within 1.5× the previous version's 300 ms (as the monitor recorded it"),
        "{}",
        r.reason
    );
}

#[test]
fn latency_within_a_fixed_bound() {
    let empty = Scrape::default();
    let fast = scrape(NEW_FAST);
    let r = judge(&latency_check(Some(0.25), None), 1, Window::new(&empty, &fast), None);
    assert!(r.passed, "{}", r.reason);
    assert_eq!(r.reason, "p99 latency 80 ms is within 250 ms");
    let slow = scrape(NEW_SLOW);
    let r = judge(&latency_check(Some(0.25), None), 1, Window::new(&empty, &slow), None);
    assert_eq!(r.reason, "p99 latency 412 ms is over 250 ms");
}

#[test]
fn both_bounds_are_named_when_both_hold_or_both_fail() {
    let start = scrape(START);
    let previous_end = scrape("req_total{code=\"200\"} 496\nreq_total{code=\"500\"} 4\n");
    let good_end = scrape("req_total{code=\"200\"} 496\nreq_total{code=\"500\"} 4\n");
    let r = judge(
        &error_check(Some(0.02), Some(1.5)),
        1,
        Window::new(&start, &good_end),
        Some(Window::new(&start, &previous_end)),
    );
    assert!(r.passed, "{}", r.reason);
    assert_eq!(
        r.reason,
        "error ratio 1.0% (4 of 400 requests) is within the bound 2.0% and within 1.5× the previous version's 1.0%"
    );
    assert!((r.bound.unwrap() - 0.015).abs() < 1e-12);
    let r = judge(
        &error_check(Some(0.02), Some(1.5)),
        1,
        Window::new(&start, &scrape(END_BAD)),
        Some(Window::new(&start, &previous_end)),
    );
    assert_eq!(
        r.reason,
        "error ratio 31.0% (124 of 400 requests) is over the bound 2.0% and over 1.5× the previous version's 1.0%"
    );
}

#[test]
fn a_previous_version_without_data_leaves_the_fixed_bound() {
    let start = scrape(START);
    let good_end = scrape("req_total{code=\"200\"} 496\nreq_total{code=\"500\"} 4\n");
    let new = Window::new(&start, &good_end);
    let idle = scrape(START);
    let previous = Window::new(&idle, &idle);

    let r = judge(&error_check(Some(0.02), Some(1.5)), 1, new, Some(previous));
    assert!(r.passed);
    assert_eq!(
        r.reason,
        "error ratio 1.0% (4 of 400 requests) is within the bound 2.0%; \
         the previous version has no data to compare with (no request in the window), so only the bound was checked"
    );
    assert_eq!((r.previous, r.bound), (None, Some(0.02)));

    let r = judge(&error_check(None, Some(1.5)), 1, new, None);
    assert!(r.passed);
    assert_eq!(
        r.reason,
        "error ratio 1.0% (4 of 400 requests) passes: there is no previous version to compare with"
    );
    assert_eq!(r.bound, None);

    let r = judge(&error_check(Some(0.005), Some(1.5)), 1, new, None);
    assert!(!r.passed);
    assert_eq!(
        r.reason,
        "error ratio 1.0% (4 of 400 requests) is over the bound 0.5%; \
         there is no previous version to compare with, so only the bound was checked"
    );
}

#[test]
fn judge_all_uses_the_gate_min_requests() {
    let gates = MetricGates {
        path: "/metrics".into(),
        window: DEFAULT_WINDOW,
        interval: DEFAULT_INTERVAL,
        min_requests: 501,
        checks: vec![error_check(Some(0.02), None), latency_check(Some(0.25), None)],
    };
    let empty = Scrape::default();
    let end = scrape(&format!("{END_BAD}{NEW_FAST}"));
    let results = judge_all(&gates, Window::new(&empty, &end), None);
    assert_eq!(results.len(), 2);
    assert!(
        results[0]
            .reason
            .starts_with("only 500 requests in the window, fewer than min-requests 501"),
        "{}",
        results[0].reason
    );
    assert!(results[1].passed, "{}", results[1].reason);
}

#[test]
fn results_serialise_for_the_store_and_the_ui() {
    let r = judge(
        &error_check(Some(0.02), None),
        1,
        Window::new(&scrape(START), &scrape(END_BAD)),
        None,
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["kind"], "error-ratio");
    assert_eq!(json["requests"], 400);
    assert_eq!(json["passed"], false);
    assert_eq!(serde_json::from_value::<CheckResult>(json).unwrap(), r);
}

#[test]
fn values_read_as_a_person_writes_them() {
    assert_eq!(percentile(0.99), "p99");
    assert_eq!(percentile(0.999), "p99.9");
    assert_eq!(percentile(0.5), "p50");
    assert_eq!(show_ratio(0.31), "31.0%");
    assert_eq!(show_ratio(0.0), "0.0%");
    assert_eq!(show_ratio(0.0005), "0.05%");
    assert_eq!(show_seconds(0.412), "412 ms");
    assert_eq!(show_seconds(0.0025), "2.5 ms");
    assert_eq!(show_seconds(1.25), "1.25 s");
    assert_eq!(show_seconds(2.0), "2 s");
}

proptest! {
    #[test]
    fn error_ratio_stays_within_0_and_1(
        start in proptest::collection::vec((0usize..6, 0u32..1000), 0..8),
        end in proptest::collection::vec((0usize..6, 0u32..1000), 1..8),
        errors_re in "[0-5]",
    ) {
        let render = |series: &[(usize, u32)]| {
            series.iter().map(|(code, v)| format!("req_total{{code=\"{code}\"}} {v}\n")).collect::<String>()
        };
        let errors = sel(&format!("req_total{{code=~\"{errors_re}|5\"}}"));
        match error_ratio(&errors, &sel("req_total"), &scrape(&render(&start)), &scrape(&render(&end))) {
            Ok(r) => {
                prop_assert!((0.0..=1.0).contains(&r.ratio), "{r:?}");
                prop_assert!(r.errors <= r.requests);
            }
            Err(e) => prop_assert_eq!(e, MeasureError::NoRequests),
        }
    }

    #[test]
    fn quantiles_grow_with_q_and_stay_within_the_bounds(
        increments in proptest::collection::vec(0u32..100, 1..8),
        overflow in 0u32..100,
        q1 in 0.001f64..0.999,
        q2 in 0.001f64..0.999,
    ) {
        let mut buckets = Vec::new();
        let mut count = 0.0;
        for (i, inc) in increments.iter().enumerate() {
            count += f64::from(*inc);
            buckets.push((0.01 * (1u32 << i) as f64, count));
        }
        let highest = buckets[buckets.len() - 1].0;
        buckets.push((f64::INFINITY, count + f64::from(overflow)));
        let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
        match (bucket_quantile(lo, &buckets), bucket_quantile(hi, &buckets)) {
            (Some(a), Some(b)) => {
                prop_assert!(a <= b, "{a} > {b}");
                prop_assert!((0.0..=highest).contains(&a) && (0.0..=highest).contains(&b));
            }
            (a, b) => prop_assert!(a.is_none() && b.is_none() && count + f64::from(overflow) == 0.0),
        }
    }
}
