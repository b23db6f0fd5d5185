//! The charts as a browser gets them: well-formed SVG that names its data and says when there
//! is none.

use super::draw::*;
use super::mark::*;
use super::*;
use tandem_core::dora::Level;

const T0: i64 = 1_767_225_600_000; // 2026-01-01 00:00 UTC

/// Checks what a browser needs: one well-nested `<svg>` document, no `NaN`, no raw `<` in
/// text. Returns the text of every `<text>` element.
fn check_svg(svg: &str) -> Vec<String> {
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    let mut open: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let between = &rest[..start];
        if open.last().is_some_and(|t| t == "text") && !between.trim().is_empty() {
            texts.push(between.trim().to_string());
        }
        let end = rest[start..].find('>').expect("every tag closes") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name.trim()), "tags nest in {svg}");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("a tag name");
            open.push(name.to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed {open:?}");
    texts
}

#[test]
fn a_line_chart_names_its_series_and_breaks_at_gaps() {
    let series = [
        Series {
            name: "lead time".into(),
            points: vec![
                (T0, 2.0),
                (T0 + DAY_MS, 3.0),
                (T0 + 2 * DAY_MS, f64::NAN),
                (T0 + 3 * DAY_MS, 4.0),
                (T0 + 4 * DAY_MS, 5.5),
            ],
        },
        Series {
            name: "recovery".into(),
            points: vec![(T0, 0.5), (T0 + DAY_MS, 1.0), (T0 + 2 * DAY_MS, f64::INFINITY)],
        },
    ];
    let svg = line_chart("Lead time & recovery", &series, "hours");
    let texts = check_svg(&svg);
    for needle in ["Lead time &amp; recovery", "lead time", "recovery", "hours", "Jan 01"] {
        assert!(texts.iter().any(|t| t == needle), "{needle} in {texts:?}");
    }
    // Two runs for the first series (broken by NaN), one for the second, and a legend
    // line for each series.
    assert_eq!(svg.matches(r#"stroke-width="2" points"#).count(), 3 + 2, "{svg}");
}

#[test]
fn a_percentage_axis_tops_at_100() {
    let up = |top: f64| {
        [Series {
            name: "fr".into(),
            points: vec![(T0, top), (T0 + 60_000, top / 2.0)],
        }]
    };
    let texts = check_svg(&percent_chart("Availability", &up(100.0), "% of probes passed"));
    assert!(texts.iter().any(|t| t == "100"), "{texts:?}");
    assert!(!texts.iter().any(|t| t == "200"), "{texts:?}");
    // The same values on an open axis go past 100; a small percentage keeps its own scale.
    assert!(
        check_svg(&line_chart("Open", &up(100.0), "%"))
            .iter()
            .any(|t| t == "200")
    );
    let texts = check_svg(&percent_chart("Errors", &up(0.3), "% of requests"));
    assert!(!texts.iter().any(|t| t == "100"), "{texts:?}");
}

#[test]
fn a_long_legend_wraps_inside_the_chart_which_grows_to_keep_its_plot() {
    let series: Vec<Series> = [
        "checkout-europe-west",
        "checkout-europe-central",
        "checkout-europe-north",
        "checkout-europe-south",
        "checkout-europe-east",
        "checkout-europe-islands",
    ]
    .iter()
    .map(|m| Series {
        name: m.to_string(),
        points: vec![(T0, 1.0), (T0 + 60_000, 2.0)],
    })
    .collect();
    let svg = line_chart("shop: probe latency (ms) per market, last 6 hours", &series, "ms");
    let texts = check_svg(&svg);
    for s in &series {
        assert!(texts.contains(&s.name), "{} in {texts:?}", s.name);
    }
    let lefts: Vec<i32> = svg
        .split("<text x=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    assert!(
        lefts.iter().all(|x| *x < WIDE.0 as i32 - 12),
        "every label starts inside: {lefts:?}"
    );
    let taller: Vec<u32> = (1..4).map(|lines| WIDE.1 + lines * LEGEND_LINE).collect();
    assert!(
        taller.iter().any(|h| svg.contains(&format!(r#"height="{h}""#))),
        "more lines of legend, a taller chart: {svg}"
    );
    // A legend on one line keeps the usual size.
    let short = line_chart("Probe latency", &series[..2], "ms");
    assert!(short.contains(&format!(r#"height="{}""#, WIDE.1)), "{short}");
}

#[test]
fn with_more_series_than_colours_the_ones_unlike_the_rest_stand_out() {
    let markets = [
        "at", "be", "ch", "cy", "cz", "de", "dk", "ee", "es", "fi", "fr", "gb", "gr", "hu", "ie", "it", "lt", "lu",
        "lv", "mt", "nl", "pl", "pt", "se", "sk",
    ];
    // Every market answers in about 2 ms; pl hangs, de is slow, fr is a little slow.
    let latency = |m: &str| match m {
        "pl" => 250.0,
        "de" => 40.0,
        "fr" => 9.0,
        _ => 2.0 + (m.as_bytes()[0] % 3) as f64 * 0.1,
    };
    let series: Vec<Series> = markets
        .iter()
        .map(|m| Series {
            name: m.to_string(),
            points: vec![(T0, latency(m)), (T0 + 60_000, latency(m))],
        })
        .collect();
    let svg = line_chart("shop: probe latency (ms) per market, last 6 hours", &series, "ms");
    let texts = check_svg(&svg);
    let legend: Vec<&String> = texts.iter().filter(|t| markets.contains(&t.as_str())).collect();
    assert_eq!(legend.len(), STANDOUTS, "{texts:?}");
    assert_eq!(&legend[..3], ["pl", "de", "fr"], "the furthest first: {texts:?}");
    assert!(texts.iter().any(|t| t == "20 others"), "{texts:?}");
    // Nothing is dropped: the 20 others are drawn in grey (and their legend key).
    let grey = svg.matches(r##"stroke="#B8BEC8""##).count();
    assert_eq!(grey, 20 + 1, "{svg}");
    // Up to six series, each has its own colour and key, in the order given.
    let texts = check_svg(&line_chart("x", &series[..6], "ms"));
    let legend: Vec<&String> = texts.iter().filter(|t| markets.contains(&t.as_str())).collect();
    assert_eq!(legend, ["at", "be", "ch", "cy", "cz", "de"]);
    assert!(!texts.iter().any(|t| t.ends_with("others")), "{texts:?}");
    // When every market measures the same, none is singled out.
    let alike: Vec<Series> = markets
        .iter()
        .map(|m| Series {
            name: m.to_string(),
            points: vec![(T0, 0.0), (T0 + 60_000, 0.0)],
        })
        .collect();
    let texts = check_svg(&percent_chart("errors", &alike, "% of requests"));
    assert!(!texts.iter().any(|t| markets.contains(&t.as_str())), "{texts:?}");
    assert!(texts.iter().any(|t| t == "all 25, alike"), "{texts:?}");
}

#[test]
fn thousands_of_markets_draw_as_a_band_and_a_median_with_about_a_point_a_pixel() {
    // 2,000 markets over 6 hours at minute points; m0 hangs.
    let series: Vec<Series> = (0..2000)
        .map(|i| Series {
            name: format!("m{i}"),
            points: (0..360)
                .map(|t| (T0 + t * 60_000, if i == 0 { 250.0 } else { 2.0 + (i % 7) as f64 }))
                .collect(),
        })
        .collect();
    let svg = line_chart("shop: probe latency (ms) per market, last 6 hours", &series, "ms");
    let texts = check_svg(&svg);
    assert!(
        texts.iter().any(|t| t == "m0"),
        "the outlier keeps its colour: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.ends_with("others: median and range")),
        "{texts:?}"
    );
    // One band and one median line for the grey ones (plus the legend's key), not 1,995 lines.
    assert!(
        svg.matches(r##"stroke="#B8BEC8""##).count() <= 3,
        "grey lines drawn one by one"
    );
    assert!(svg.len() < 120_000, "the chart stays small: {} bytes", svg.len());
    // Its words still span every market.
    assert!(label_of(&svg).contains("others: from 2 to 8 ms"), "{}", label_of(&svg));

    // A line of more points than pixels is averaged down, its gaps kept.
    let mut points: Vec<(i64, f64)> = (0..5000).map(|t| (T0 + t * 1000, 1.0)).collect();
    for p in &mut points[2000..2500] {
        p.1 = f64::NAN;
    }
    let thin = super::lines::thin_for_tests(&points, 500);
    assert!(thin.len() <= 500, "{}", thin.len());
    assert!(thin.iter().any(|(_, y)| y.is_nan()), "the gap stays a gap");
    assert!(thin.iter().filter(|(_, y)| y.is_finite()).all(|(_, y)| *y == 1.0));
}

#[test]
fn empty_data_says_so() {
    for svg in [
        line_chart("Lead time", &[], "hours"),
        line_chart(
            "Lead time",
            &[Series {
                name: "x".into(),
                points: vec![(T0, f64::NAN)],
            }],
            "h",
        ),
        deployments_chart("Deployments per week", &[]),
        deployments_chart(
            "Deployments per week",
            &[Period {
                from: T0,
                to: T0 + 7 * DAY_MS,
                deployments: 0,
                failed: 0,
            }],
        ),
        groups_chart("By market", &[]),
        timeline_chart("Markets", &["fr".into()], &[]),
        flow_chart("Idea flow", &[], T0),
    ] {
        let texts = check_svg(&svg);
        assert!(
            texts.iter().any(|t| t.starts_with("No ") || t.starts_with("Nothing")),
            "{texts:?}"
        );
        assert!(!svg.contains("<polyline"), "no line drawn from no data: {svg}");
    }
}

#[test]
fn titles_are_escaped_and_cleaned() {
    let svg = line_chart(
        "<script>alert(1)</script>\u{7}",
        &[Series {
            name: "a\"b".into(),
            points: vec![(T0, 1.0)],
        }],
        "x",
    );
    check_svg(&svg);
    assert!(!svg.contains("<script>") && !svg.contains('\u{7}'), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{svg}");
    assert!(svg.contains("a&quot;b"), "{svg}");
    let long = "x".repeat(200);
    assert_eq!(clean(&long).chars().count(), MAX_TITLE);
}

#[test]
fn deployments_bars_mark_failures() {
    let week = 7 * DAY_MS;
    let periods = [
        Period {
            from: T0,
            to: T0 + week,
            deployments: 25,
            failed: 0,
        },
        Period {
            from: T0 + week,
            to: T0 + 2 * week,
            deployments: 4,
            failed: 1,
        },
        Period {
            from: T0 + 2 * week,
            to: T0 + 3 * week,
            deployments: 0,
            failed: 0,
        },
    ];
    let svg = deployments_chart("Deployments per week", &periods);
    let texts = check_svg(&svg);
    for needle in ["Deployments per week", "succeeded", "failed", "25", "4 (1 failed)"] {
        assert!(texts.iter().any(|t| t == needle), "{needle} in {texts:?}");
    }
    assert!(svg.contains("#C0262D") || svg.contains("#c0262d"), "a red bar: {svg}");
}

#[test]
fn groups_and_timeline_show_every_row() {
    let groups = [
        Group {
            name: "fr".into(),
            deployments: 3,
            failed: 1,
        },
        Group {
            name: "be".into(),
            deployments: 2,
            failed: 0,
        },
    ];
    let texts = check_svg(&groups_chart("By market", &groups));
    assert!(
        texts.contains(&"fr".to_string()) && texts.contains(&"be".to_string()),
        "{texts:?}"
    );

    let rows = ["fr".to_string(), "be".to_string(), "ch".to_string()];
    let events = [
        Event {
            row: 0,
            at: T0,
            mark: Mark::Release,
        },
        Event {
            row: 0,
            at: T0 + HOUR_MS,
            mark: Mark::RolledBack,
        },
        Event {
            row: 0,
            at: T0 + HOUR_MS + 60_000,
            mark: Mark::Rollback,
        },
        Event {
            row: 1,
            at: T0 + 2 * HOUR_MS,
            mark: Mark::Config,
        },
        Event {
            row: 0,
            at: T0 + HOUR_MS,
            mark: Mark::Incident,
        },
        Event {
            row: 9,
            at: T0,
            mark: Mark::Failed,
        }, // no such row: ignored
    ];
    let texts = check_svg(&timeline_chart("Markets", &rows, &events));
    for needle in [
        "fr",
        "be",
        "ch",
        "release",
        "rolled back",
        "rollback",
        "config change",
        "incident",
    ] {
        assert!(texts.iter().any(|t| t == needle), "{needle} in {texts:?}");
    }
    assert!(
        !texts.iter().any(|t| t == "failed"),
        "no failed mark to explain: {texts:?}"
    );
}

#[test]
fn idea_flow_runs_from_stage_to_stage() {
    let stage = |name: &str, at: Option<i64>| (name.to_string(), at);
    let rows = [
        FlowRow {
            key: "T-1".into(),
            stages: vec![
                stage("planned", Some(T0)),
                stage("in code", Some(T0 + DAY_MS)),
                stage("live", Some(T0 + 2 * DAY_MS)),
            ],
        },
        FlowRow {
            key: "T-2".into(),
            stages: vec![
                stage("planned", Some(T0 + DAY_MS)),
                stage("in code", None),
                stage("live", None),
            ],
        },
    ];
    let svg = flow_chart("Idea flow", &rows, T0 + 3 * DAY_MS);
    let texts = check_svg(&svg);
    for needle in ["Idea flow", "T-1", "T-2", "planned", "in code", "live"] {
        assert!(texts.iter().any(|t| t == needle), "{needle} in {texts:?}");
    }
    // T-1: two bars and an end dot; T-2: one bar running on to now. Besides: the
    // background and three legend keys.
    let (drawn, tips) = svg.split_once(r#"<g class="tips""#).expect("tooltips");
    assert_eq!(drawn.matches("<rect").count(), 1 + 3 + 3, "{svg}");
    assert_eq!(drawn.matches("<circle").count(), 1, "{svg}");
    // A tooltip on each bar, saying when the idea was at that stage.
    assert_eq!(tips.matches("<rect").count(), 3, "{svg}");
    assert!(
        tips.contains("<title>T-1: planned from Jan 01 00:00 UTC to Jan 02 00:00 UTC</title>"),
        "{tips}"
    );
}

/// The `aria-label` of a chart's `<svg>`, checked against its `<title>`.
fn label_of(svg: &str) -> String {
    let open = &svg[..svg.find('>').expect("an open tag")];
    assert!(open.contains(r#"role="img""#), "{open}");
    assert!(open.contains("viewBox="), "scales to its page: {open}");
    let label = open
        .split(r#"aria-label=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an aria-label")
        .to_string();
    assert!(svg.contains(&format!("<title>{label}</title>")), "{svg}");
    label
}

#[test]
fn every_chart_says_what_it_shows_in_words_and_on_hover() {
    let line = line_chart(
        "Probe latency",
        &[Series {
            name: "fr".into(),
            points: vec![(T0, 12.0), (T0 + 60_000, 30.5), (T0 + 120_000, 20.0)],
        }],
        "ms",
    );
    let label = label_of(&line);
    assert!(
        label.contains("Probe latency") && label.contains("fr: last 20 ms, from 12 to 30.5"),
        "{label}"
    );
    assert!(
        line.contains("<title>fr at Jan 01 00:01 UTC: 30.5 ms</title>"),
        "{line}"
    );
    assert!(
        check_svg(&line).contains(&TIME_AXIS_DESC.to_string()),
        "the time axis names its zone"
    );

    let periods = [
        Period {
            from: T0,
            to: T0 + 7 * DAY_MS,
            deployments: 4,
            failed: 1,
        },
        Period {
            from: T0 + 7 * DAY_MS,
            to: T0 + 14 * DAY_MS,
            deployments: 2,
            failed: 0,
        },
    ];
    let bars = deployments_chart("Deployments per week", &periods);
    let label = label_of(&bars);
    assert!(label.contains("6 deployments, 1 failed"), "{label}");
    assert!(
        bars.contains("<title>Jan 01 to Jan 08: 4 deployments, 1 failed</title>"),
        "{bars}"
    );

    let groups = groups_chart(
        "By market",
        &[
            Group {
                name: "fr".into(),
                deployments: 3,
                failed: 1,
            },
            Group {
                name: "be".into(),
                deployments: 2,
                failed: 0,
            },
        ],
    );
    assert!(label_of(&groups).contains("fr 3 (1 failed), be 2"), "{groups}");
    assert!(
        groups.contains("<title>be: 2 deployments, 0 failed</title>"),
        "{groups}"
    );

    let rows = ["fr".to_string()];
    let timeline = timeline_chart(
        "What happened",
        &rows,
        &[Event {
            row: 0,
            at: T0,
            mark: Mark::Incident,
        }],
    );
    assert!(label_of(&timeline).contains("1 incident"), "{timeline}");
    assert!(
        timeline.contains("<title>fr: incident at Jan 01 00:00 UTC</title>"),
        "{timeline}"
    );

    let key = key_chart(&KeyCard {
        name: "Change failure rate",
        value: "7 %",
        detail: "2 of 27 deployments failed",
        level: Some(Level::Elite),
        trend: &[],
    });
    assert_eq!(
        label_of(&key),
        "Change failure rate: 7 % (elite), 2 of 27 deployments failed"
    );

    let empty = line_chart("Nothing <here>", &[], "ms");
    assert_eq!(label_of(&empty), "Nothing &lt;here&gt;: No data in this window.");
    let note = note_chart("Availability", "Too little data yet.");
    assert_eq!(label_of(&note), "Availability: Too little data yet.");
}

#[test]
fn a_key_shows_its_value_level_and_trend() {
    let week = 7 * DAY_MS;
    let trend = [
        (T0, 2.0),
        (T0 + week, 2.5),
        (T0 + 2 * week, f64::NAN),
        (T0 + 3 * week, 3.0),
        (T0 + 4 * week, 1.0),
    ];
    let card = KeyCard {
        name: "Lead time",
        value: "4 h",
        detail: "median of 13 commits",
        level: Some(Level::High),
        trend: &trend,
    };
    let svg = key_chart(&card);
    let texts = check_svg(&svg);
    for needle in [
        "Lead time",
        "4 h",
        "median of 13 commits",
        "elite",
        "high",
        "medium",
        "low",
    ] {
        assert!(texts.iter().any(|t| t == needle), "{needle} in {texts:?}");
    }
    assert_eq!(
        svg.matches(r#"stroke-width="2" points"#).count(),
        2,
        "broken at the gap: {svg}"
    );
    let none = key_chart(&KeyCard {
        level: None,
        trend: &[],
        ..card
    });
    assert!(check_svg(&none).iter().any(|t| t == "no trend yet"));
}

#[test]
fn axis_numbers_and_tops_are_round() {
    assert_eq!(nice_max(0.0), 1.0);
    assert_eq!(nice_max(f64::NAN), 1.0);
    assert_eq!(nice_max(7.0), 10.0);
    assert_eq!(nice_max(25.0), 50.0);
    assert_eq!(nice_max(0.3), 1.0);
    assert_eq!(short_number(3.0), "3");
    assert_eq!(short_number(2.5), "2.5");
    assert_eq!(short_number(0.25), "0.25");
    assert_eq!(short_number(1234.0), "1.2k");
    assert_eq!(time_label(T0, DAY_MS), "00:00");
    assert_eq!(time_label(T0 + 90_000, HOUR_MS), "00:01:30");
    assert_eq!(time_label(T0, 10 * DAY_MS), "Jan 01");
}

#[test]
fn a_legend_beside_its_title_keeps_clear_of_it_with_room_for_a_wider_font() {
    let title = "shop: availability (%) per market, last 6 hours";
    let keys = [("pl".to_string(), Swatch::Line(super::colours::LINK))];
    let head = lay_out_head(title, &keys, WIDE.0).expect("a head");
    let estimated = bold(14.0, super::colours::TEXT)
        .font
        .box_size(title)
        .expect("a width")
        .0 as f64;
    let svg = line_chart(
        title,
        &[Series {
            name: "pl".into(),
            points: vec![(T0, 1.0), (T0 + 60_000, 2.0)],
        }],
        "%",
    );
    // The key's swatch starts past the title as plotters estimates it, widened by the slack.
    let first_key = svg
        .split("<text x=\"")
        .skip(2)
        .find_map(|rest| rest.split('"').next()?.parse::<f64>().ok())
        .expect("the key's label");
    assert_eq!(head.height, HEAD_BESIDE, "one short key fits beside the title");
    assert!(
        first_key - 16.0 >= 12.0 + estimated * TITLE_SLACK,
        "{first_key} vs {estimated}: {svg}"
    );
}
