//! Line charts over time: one line per series (markets, percentiles), the ones unlike the rest
//! in colour when there are more series than colours.

use super::a11y::{Tips, at_utc, describe, figure};
use super::colours::*;
use super::draw::*;
use plotters::prelude::*;

/// One line of a line chart: `(Unix ms, value)` points, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(i64, f64)>,
}

/// Lines over time, all in the unit `y_label` names; the y axis starts at zero.
pub fn line_chart(title: &str, series: &[Series], y_label: &str) -> String {
    draw_lines(title, series, y_label, f64::INFINITY)
}

/// Lines of percentages over time: as [`line_chart`], but the y axis goes no higher than 100
/// while every value fits, so a market always up reads as a line along the top.
pub fn percent_chart(title: &str, series: &[Series], y_label: &str) -> String {
    draw_lines(title, series, y_label, 100.0)
}

/// A chart of `WIDE` size with only its title and `note`: what a line chart shows when there
/// is too little to draw a line (say why, and when there will be enough).
pub fn note_chart(title: &str, note: &str) -> String {
    no_data(WIDE, title, note)
}

/// Lines over time; the y axis from zero to a round top above the highest value, at most
/// `y_ceiling` when that value is no higher.
fn draw_lines(title: &str, series: &[Series], y_label: &str, y_ceiling: f64) -> String {
    let finite = || series.iter().flat_map(|s| &s.points).filter(|(_, y)| y.is_finite());
    if finite().next().is_none() {
        return no_data(WIDE, title, "No data in this window.");
    }
    // Over every point, measured or not: a lone measure shows where in the window it falls.
    let Some((x0, x1)) = time_span(series.iter().flat_map(|s| &s.points).map(|(x, _)| *x)) else {
        return no_data(WIDE, title, "No data in this window.");
    };
    let highest = finite().map(|(_, y)| *y).fold(0.0, f64::max);
    let y_max = match nice_max(highest) {
        top if highest <= y_ceiling => top.min(y_ceiling),
        top => top,
    };
    let y_label = clean(y_label);
    let (grey, coloured) = standouts(series);
    let mut keys: Vec<(String, Swatch)> = coloured
        .iter()
        .enumerate()
        .map(|(i, s)| (clean(&s.name), Swatch::Line(PALETTE[i % PALETTE.len()])))
        .collect();
    if !grey.is_empty() {
        let others = match (coloured.is_empty(), grey.len()) {
            (true, n) => format!("all {n}, alike"),
            (false, 1) => "1 other".to_string(),
            (false, n) => format!("{n} others"),
        };
        keys.push((others, Swatch::Line(OTHERS)));
    }
    // A legend on more than one line makes the chart taller, not its plot smaller.
    let taller = lay_out_head(&clean(title), &keys, WIDE.0).map_or(0, |h| h.height.saturating_sub(HEAD_BELOW));
    let summary = summarize(title, &y_label, (x0, x1), &grey, &coloured);
    // A tooltip on each point of the coloured lines, while they are few enough to carry one.
    let coloured_points: usize = coloured.iter().map(|s| s.points.len()).sum();
    let mut tips = Tips::default();
    let svg = render((WIDE.0, WIDE.1 + taller), |root| {
        let body = frame(root, title, &keys)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(TIME_AXIS)
            .y_label_area_size(54)
            .build_cartesian_2d(x0..x1, 0f64..y_max)?;
        let (span, format_y) = (x1 - x0, |y: &f64| short_number(*y));
        let format_x = |x: &i64| time_label(*x, span);
        time_mesh(&mut chart, &format_x, &format_y, &y_label)?;
        let drawn = grey.iter().map(|s| (*s, OTHERS, 1, 2)).chain(
            coloured
                .iter()
                .enumerate()
                .map(|(i, s)| (*s, PALETTE[i % PALETTE.len()], 2, 3)),
        );
        for (s, colour, width, dot) in drawn {
            for run in finite_runs(&s.points).into_iter().filter(|run| run.len() > 1) {
                chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(width)))?;
            }
            let points = s.points.iter().filter(|(_, y)| y.is_finite());
            chart.draw_series(points.map(|&p| Circle::new(p, dot, colour.filled())))?;
        }
        if coloured_points <= super::a11y::MAX_TIPS {
            for s in &coloured {
                for &(x, y) in s.points.iter().filter(|(_, y)| y.is_finite()) {
                    let text = format!("{} at {}: {} {y_label}", clean(&s.name), at_utc(x), figure(y));
                    tips.dot(chart.backend_coord(&(x, y)), text);
                }
            }
        }
        Ok(())
    });
    describe(svg, &summary, &tips)
}

/// What a line chart shows, in words: each coloured series' last value and range, then the
/// range of the grey ones.
fn summarize(title: &str, unit: &str, (x0, x1): (i64, i64), grey: &[&Series], coloured: &[&Series]) -> String {
    let range = |series: &[&Series]| {
        let values = || {
            series
                .iter()
                .flat_map(|s| &s.points)
                .map(|(_, y)| *y)
                .filter(|y| y.is_finite())
        };
        let lo = values().fold(f64::INFINITY, f64::min);
        let hi = values().fold(f64::NEG_INFINITY, f64::max);
        (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
    };
    let mut parts: Vec<String> = coloured
        .iter()
        .filter_map(|s| {
            let (lo, hi) = range(&[*s])?;
            let last = s.points.iter().rev().map(|(_, y)| *y).find(|y| y.is_finite())?;
            Some(format!(
                "{}: last {} {unit}, from {} to {}",
                clean(&s.name),
                figure(last),
                figure(lo),
                figure(hi)
            ))
        })
        .collect();
    if let Some((lo, hi)) = range(grey) {
        let n = grey.len();
        let who = if coloured.is_empty() {
            format!("all {n}")
        } else {
            format!("{n} others")
        };
        parts.push(format!("{who}: from {} to {} {unit}", figure(lo), figure(hi)));
    }
    format!(
        "{}, {} to {}: {}.",
        clean(title),
        at_utc(x0),
        at_utc(x1),
        parts.join("; ")
    )
}

/// Splits series into those drawn in grey and those drawn in colour. While there are no more
/// series than colours, every one has its own. With more (25 markets), one colour per series
/// would repeat and name nothing, so the [`STANDOUTS`] furthest from the others — by how far
/// their mean strays from the median of every series' mean — are coloured, the furthest first,
/// and the rest drawn in grey behind them: the market that behaves unlike the others shows.
/// A series no further than the median is never coloured, so when all are alike all are grey.
fn standouts(series: &[Series]) -> (Vec<&Series>, Vec<&Series>) {
    if series.len() <= PALETTE.len() {
        return (Vec::new(), series.iter().collect());
    }
    // Each series' mean, read once; `None` for a series with nothing measured.
    let means: Vec<Option<f64>> = series
        .iter()
        .map(|s| {
            let finite: Vec<f64> = s.points.iter().map(|(_, y)| *y).filter(|y| y.is_finite()).collect();
            (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
        })
        .collect();
    let mut sorted: Vec<f64> = means.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let mut ranked: Vec<(f64, &Series)> = means
        .iter()
        .zip(series)
        .map(|(mean, s)| (mean.map_or(f64::NEG_INFINITY, |m| (m - median).abs()), s))
        .collect();
    // The furthest first; among equals, by name, so the same data draws the same chart.
    ranked.sort_by(|(a, sa), (b, sb)| b.total_cmp(a).then_with(|| sa.name.cmp(&sb.name)));
    let apart = ranked.iter().take(STANDOUTS).take_while(|(d, _)| *d > 0.0).count();
    let grey = ranked.split_off(apart);
    let mut grey: Vec<&Series> = grey.into_iter().map(|(_, s)| s).collect();
    grey.sort_by(|a, b| a.name.cmp(&b.name));
    (grey, ranked.into_iter().map(|(_, s)| s).collect())
}
