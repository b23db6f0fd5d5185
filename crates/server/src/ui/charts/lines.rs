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

/// More grey series than this are drawn as one band (their range at each time) and their median
/// line, not a line each: a chart of 5,000 markets costs what one of 25 does.
const GREY_LINES: usize = 50;

/// A line of more points than this marks only its lone points with a dot (a line joins the
/// rest): dots on every minute of six hours would weigh more than the lines.
const DOTTED: usize = 60;

/// Points a line keeps at most: about one per pixel of the plot; more are averaged down.
const MAX_POINTS: usize = (WIDE.0 - 100) as usize;

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
        let others = if grey.len() > GREY_LINES {
            format!("{others}: median and range")
        } else {
            others
        };
        keys.push((others, Swatch::Line(OTHERS)));
    }
    // Many grey series become their range and median; every line keeps about a point a pixel.
    let band = (grey.len() > GREY_LINES).then(|| Band::of(&grey));
    let thin_grey: Vec<Series> = if band.is_some() {
        Vec::new()
    } else {
        grey.iter().map(|s| thinned(s)).collect()
    };
    let thin_coloured: Vec<Series> = coloured.iter().map(|s| thinned(s)).collect();
    // A legend on more than one line makes the chart taller, not its plot smaller.
    let taller = lay_out_head(&clean(title), &keys, WIDE.0).map_or(0, |h| h.height.saturating_sub(HEAD_BELOW));
    let summary = summarize(title, &y_label, (x0, x1), &grey, &coloured);
    // A tooltip on each point of the coloured lines, while they are few enough to carry one.
    let coloured_points: usize = coloured.iter().map(|s| s.points.len().min(MAX_POINTS)).sum();
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
        if let Some(band) = &band {
            let outline: Vec<(i64, f64)> = band.low.iter().chain(band.high.iter().rev()).copied().collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, OTHERS.mix(0.3).filled())))?;
            chart.draw_series(LineSeries::new(band.median.iter().copied(), OTHERS.stroke_width(1)))?;
        }
        let drawn = thin_grey.iter().map(|s| (s, OTHERS, 1, 2)).chain(
            thin_coloured
                .iter()
                .enumerate()
                .map(|(i, s)| (s, PALETTE[i % PALETTE.len()], 2, 3)),
        );
        for (s, colour, width, dot) in drawn {
            let runs = finite_runs(&s.points);
            for run in runs.iter().filter(|run| run.len() > 1) {
                chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(width)))?;
            }
            let dots: Vec<(i64, f64)> = if s.points.len() <= DOTTED {
                s.points.iter().filter(|(_, y)| y.is_finite()).copied().collect()
            } else {
                runs.iter().filter(|run| run.len() == 1).map(|run| run[0]).collect()
            };
            chart.draw_series(dots.into_iter().map(|p| Circle::new(p, dot, colour.filled())))?;
        }
        if coloured_points <= super::a11y::MAX_TIPS {
            for s in &thin_coloured {
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

/// Many series as one: at each time any of them was measured, their lowest, median and highest
/// value (at most [`MAX_POINTS`] times, averaged down).
struct Band {
    low: Vec<(i64, f64)>,
    median: Vec<(i64, f64)>,
    high: Vec<(i64, f64)>,
}

impl Band {
    fn of(series: &[&Series]) -> Band {
        let mut at: std::collections::BTreeMap<i64, Vec<f64>> = std::collections::BTreeMap::new();
        for &(x, y) in series.iter().flat_map(|s| &s.points).filter(|(_, y)| y.is_finite()) {
            at.entry(x).or_default().push(y);
        }
        let (mut low, mut median, mut high) = (Vec::new(), Vec::new(), Vec::new());
        for (x, mut ys) in at {
            ys.sort_by(f64::total_cmp);
            low.push((x, ys[0]));
            median.push((x, ys[ys.len() / 2]));
            high.push((x, ys[ys.len() - 1]));
        }
        Band {
            low: thin(&low, MAX_POINTS),
            median: thin(&median, MAX_POINTS),
            high: thin(&high, MAX_POINTS),
        }
    }
}

#[cfg(test)]
pub(super) fn thin_for_tests(points: &[(i64, f64)], max: usize) -> Vec<(i64, f64)> {
    thin(points, max)
}

/// `s` with at most [`MAX_POINTS`] points.
fn thinned(s: &Series) -> Series {
    Series {
        name: s.name.clone(),
        points: thin(&s.points, MAX_POINTS),
    }
}

/// `points` (oldest first) averaged down to at most `max`: the span cut into `max` equal slices,
/// each slice's measured values averaged at its first point's time; a slice with nothing
/// measured keeps a gap (NaN), so a line breaks where the data does.
fn thin(points: &[(i64, f64)], max: usize) -> Vec<(i64, f64)> {
    if points.len() <= max || max == 0 {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let span = (x1 - x0).max(1) as f64;
    let mut out: Vec<(i64, f64)> = Vec::with_capacity(max);
    let mut slice = usize::MAX;
    let (mut sum, mut n) = (0.0, 0usize);
    for &(x, y) in points {
        let here = (((x - x0) as f64 / span) * max as f64).min(max as f64 - 1.0) as usize;
        if here != slice {
            if let Some(last) = out.last_mut() {
                last.1 = if n > 0 { sum / n as f64 } else { f64::NAN };
            }
            out.push((x, f64::NAN));
            (slice, sum, n) = (here, 0.0, 0);
        }
        if y.is_finite() {
            sum += y;
            n += 1;
        }
    }
    if let Some(last) = out.last_mut() {
        last.1 = if n > 0 { sum / n as f64 } else { f64::NAN };
    }
    out
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
