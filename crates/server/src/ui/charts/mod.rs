//! Charts drawn on the server as SVG with plotters, from plain data: no store, no request, no
//! clock. Each function returns a whole `<svg>` element to embed in a page. Text is drawn by the
//! browser in its sans-serif font (plotters is built without `ttf`, so it reads no font file and
//! only estimates text widths), and plotters escapes every text and attribute it writes.
//!
//! Every chart is honest about missing data: no point at all gives a chart that says "no data";
//! a non-finite value in a line series breaks the line (a bucket with nothing to measure) and
//! never reaches the SVG.

use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordi32, RangedCoordi64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tandem_core::dora::Level;

/// The stylesheet's colours (assets/tandem.css), so charts sit well in their panels.
const TEXT: RGBColor = RGBColor(0x1b, 0x22, 0x30);
const MUTED: RGBColor = RGBColor(0x68, 0x73, 0x85);
const LINE: RGBColor = RGBColor(0xe2, 0xe5, 0xea);
const LINK: RGBColor = RGBColor(0x1f, 0x5f, 0xbf);
const OK: RGBColor = RGBColor(0x17, 0x80, 0x3d);
const BUSY: RGBColor = RGBColor(0xa1, 0x5c, 0x07);
const BAD: RGBColor = RGBColor(0xc0, 0x26, 0x2d);
const IDLE: RGBColor = RGBColor(0x5b, 0x64, 0x73);
const IDLE_BG: RGBColor = RGBColor(0xec, 0xee, 0xf2);
const PURPLE: RGBColor = RGBColor(0x6f, 0x42, 0xc1);
const TEAL: RGBColor = RGBColor(0x0e, 0x7c, 0x86);

/// Colours of successive series or stages.
const PALETTE: [RGBColor; 6] = [LINK, OK, BUSY, PURPLE, TEAL, BAD];
/// Series beyond the palette: drawn behind the coloured ones, one legend key for them all.
const OTHERS: RGBColor = RGBColor(0xb8, 0xbe, 0xc8);
/// With more series than colours, how many stand out in colour.
const STANDOUTS: usize = PALETTE.len() - 1;

const FONT: &str = "sans-serif";
/// The longest title drawn, in characters; a longer one is cut with "…".
const MAX_TITLE: usize = 90;

/// A chart over time (trends), in SVG pixels: about its size in a half-width panel.
pub const WIDE: (u32, u32) = (620, 260);
/// The width of a chart with a lane per market or idea (timeline, idea flow).
const LANES_WIDTH: u32 = 820;
/// The width of a chart with a bar per group.
const GROUPS_WIDTH: u32 = 400;
/// One of the four keys.
pub const SMALL: (u32, u32) = (300, 170);
/// Height of one row of a chart with a row per market or idea, in pixels.
const ROW: u32 = 20;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;
/// The coordinates of a chart with a lane per row: time against lanes (see [`Rows`]).
type LanesCoord = Cartesian2d<RangedCoordi64, WithKeyPoints<RangedCoordi32>>;

/// One line of a line chart: `(Unix ms, value)` points, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(i64, f64)>,
}

/// One bar of the deployments chart: the counted deployments that finished in `[from, to)`,
/// and how many of them failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
    pub deployments: u64,
    pub failed: u64,
}

/// One bar of a chart by group (market, service): deployments and how many failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub deployments: u64,
    pub failed: u64,
}

/// What happened, as a timeline marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// A release went live and stayed.
    Release,
    /// A config version went live and stayed.
    Config,
    /// A deployment went live, then its market was sent back.
    RolledBack,
    /// A deployment never served (its gate failed before the switch).
    Failed,
    /// A rollback: the market went back to what it ran before.
    Rollback,
    /// An incident was opened.
    Incident,
}

impl Mark {
    const ALL: [Mark; 6] = [
        Mark::Release,
        Mark::Config,
        Mark::RolledBack,
        Mark::Failed,
        Mark::Rollback,
        Mark::Incident,
    ];

    fn label(self) -> &'static str {
        match self {
            Mark::Release => "release",
            Mark::Config => "config change",
            Mark::RolledBack => "rolled back",
            Mark::Failed => "failed",
            Mark::Rollback => "rollback",
            Mark::Incident => "incident",
        }
    }
}

/// One mark on a timeline: on row `row` (an index into the chart's rows) at `at` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub row: usize,
    pub at: i64,
    pub mark: Mark,
}

/// One idea on its way: each stage it goes through, in order, with when it got there (`None`
/// while it has not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub key: String,
    pub stages: Vec<(String, Option<i64>)>,
}

/// One of the four keys: its name, its value as text, a detail line, its level, and its trend.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCard<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub detail: &'a str,
    pub level: Option<Level>,
    /// `(Unix ms, value)` per bucket; non-finite for a bucket with nothing to measure.
    pub trend: &'a [(i64, f64)],
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
    render((WIDE.0, WIDE.1 + taller), |root| {
        let body = frame(root, title, &keys)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(22)
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
        Ok(())
    })
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

/// Counted deployments per period as bars, the failed part of each in red on top.
pub fn deployments_chart(title: &str, periods: &[Period]) -> String {
    let busiest = periods.iter().map(|p| p.deployments).max().unwrap_or(0);
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return no_data(WIDE, title, "No deployment in this window.");
    };
    if busiest == 0 || first.from >= last.to {
        return no_data(WIDE, title, "No deployment in this window.");
    }
    let y_max = nice_max(busiest as f64);
    let labelled = periods.len() <= 16;
    let keys = [
        ("succeeded".to_string(), Swatch::Bar(OK)),
        ("failed".to_string(), Swatch::Bar(BAD)),
    ];
    render(WIDE, |root| {
        let body = frame(root, title, &keys)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(22)
            .y_label_area_size(54)
            .build_cartesian_2d(first.from..last.to, 0f64..y_max)?;
        let span = last.to - first.from;
        let format_x = |x: &i64| time_label(*x, span);
        let format_y = |y: &f64| short_number(*y);
        time_mesh(&mut chart, &format_x, &format_y, "deployments")?;
        let bar = |from: i64, to: i64, low: f64, high: f64, colour: RGBColor| {
            let mut r = Rectangle::new([(from, low), (to, high)], colour.filled());
            r.set_margin(0, 0, 2, 2);
            r
        };
        let good = |p: &Period| (p.deployments - p.failed.min(p.deployments)) as f64;
        chart.draw_series(periods.iter().map(|p| bar(p.from, p.to, 0.0, good(p), OK)))?;
        chart.draw_series(
            periods
                .iter()
                .filter(|p| p.failed > 0)
                .map(|p| bar(p.from, p.to, good(p), p.deployments as f64, BAD)),
        )?;
        if labelled {
            let style = text(12.0, TEXT).pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(periods.iter().filter(|p| p.deployments > 0).map(|p| {
                let label = match p.failed {
                    0 => p.deployments.to_string(),
                    f => format!("{} ({f} failed)", p.deployments),
                };
                Text::new(
                    label,
                    (p.from + (p.to - p.from) / 2, p.deployments as f64),
                    style.clone(),
                )
            }))?;
        }
        Ok(())
    })
}

/// Deployments per group (a market, a service) as horizontal bars, failed part in red; the
/// groups top to bottom in the order given.
pub fn groups_chart(title: &str, groups: &[Group]) -> String {
    let busiest = groups.iter().map(|g| g.deployments).max().unwrap_or(0);
    let size = (GROUPS_WIDTH, 90 + ROW * groups.len().max(1) as u32);
    if busiest == 0 {
        return no_data((size.0, WIDE.1), title, "No deployment in this window.");
    }
    let names: Vec<String> = groups.iter().map(|g| clean(&g.name)).collect();
    let x_max = nice_max(busiest as f64);
    let keys = [
        ("succeeded".to_string(), Swatch::Bar(OK)),
        ("failed".to_string(), Swatch::Bar(BAD)),
    ];
    render(size, |root| {
        let body = frame(root, title, &keys)?;
        let rows = Rows::new(&names);
        let mut chart = ChartBuilder::on(&body)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..x_max, rows.range())?;
        let format_x = |x: &f64| short_number(*x);
        let format_y = |y: &i32| rows.label(y);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(LINE)
            .light_line_style(TRANSPARENT)
            .axis_style(MUTED)
            .label_style(text(12.0, MUTED))
            .x_labels(5)
            .y_labels(names.len())
            .x_label_formatter(&format_x)
            .y_label_formatter(&format_y)
            .draw()?;
        let bar = |i: usize, low: f64, high: f64, colour: RGBColor| {
            let (top, bottom) = rows.band(i);
            let mut r = Rectangle::new([(low, top), (high, bottom)], colour.filled());
            r.set_margin(3, 3, 0, 0);
            r
        };
        let good = |g: &Group| (g.deployments - g.failed.min(g.deployments)) as f64;
        chart.draw_series(groups.iter().enumerate().map(|(i, g)| bar(i, 0.0, good(g), OK)))?;
        chart.draw_series(
            groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.failed > 0)
                .map(|(i, g)| bar(i, good(g), g.deployments as f64, BAD)),
        )?;
        Ok(())
    })
}

/// What happened on each row (a market) over time: one mark per event, by kind.
pub fn timeline_chart(title: &str, rows: &[String], events: &[Event]) -> String {
    let events: Vec<&Event> = events.iter().filter(|e| e.row < rows.len()).collect();
    let size = (LANES_WIDTH, 90 + ROW * rows.len().max(1) as u32);
    let Some((x0, x1)) = time_span(events.iter().map(|e| e.at)) else {
        return no_data((size.0, WIDE.1), title, "Nothing happened in this window.");
    };
    let names: Vec<String> = rows.iter().map(|r| clean(r)).collect();
    let keys: Vec<(String, Swatch)> = Mark::ALL
        .into_iter()
        .filter(|m| events.iter().any(|e| e.mark == *m))
        .map(|m| (m.label().to_string(), Swatch::Mark(m)))
        .collect();
    render(size, |root| {
        let body = frame(root, title, &keys)?;
        let rows = Rows::new(&names);
        let mut chart = lanes_chart(&body, &rows, (x0, x1), 44, Grid::AcrossLanes)?;
        for mark in Mark::ALL {
            let points = events
                .iter()
                .filter(|e| e.mark == mark)
                .map(|e| (e.at, rows.centre(e.row)));
            chart.draw_series(points.map(|p| mark_element(mark, p)))?;
        }
        Ok(())
    })
}

/// Each idea as a horizontal bar from stage to stage, coloured by the stage it was in; an idea
/// not at its last stage yet runs on to `now`, one at its last stage ends with a dot.
pub fn flow_chart(title: &str, rows: &[FlowRow], now: i64) -> String {
    let mut stages: Vec<&str> = Vec::new();
    for (name, _) in rows.iter().flat_map(|r| &r.stages) {
        if !stages.contains(&name.as_str()) {
            stages.push(name);
        }
    }
    let colour = |name: &str| {
        let i = stages.iter().position(|s| *s == name).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    let times = rows.iter().flat_map(|r| r.stages.iter().filter_map(|(_, t)| *t));
    let size = (LANES_WIDTH, 90 + ROW * rows.len().max(1) as u32);
    let Some((x0, x1)) = time_span(times) else {
        return no_data((size.0, WIDE.1), title, "No idea on its way.");
    };
    // An idea still on its way runs on to now (within a year of the last stage reached).
    let x1 = x1.max(now.min(x1.saturating_add(365 * DAY_MS)));
    let keys: Vec<String> = rows.iter().map(|r| clean(&r.key)).collect();
    let legend: Vec<(String, Swatch)> = stages.iter().map(|s| (clean(s), Swatch::Bar(colour(s)))).collect();
    render(size, |root| {
        let body = frame(root, title, &legend)?;
        let lanes = Rows::new(&keys);
        let mut chart = lanes_chart(&body, &lanes, (x0, x1), 64, Grid::DownFromTimes)?;
        let mut bars = Vec::new();
        let mut ends = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let reached: Vec<(&str, i64)> = row
                .stages
                .iter()
                .filter_map(|(name, t)| t.map(|t| (name.as_str(), t)))
                .collect();
            let done = row.stages.last().is_some_and(|(_, t)| t.is_some());
            let (top, bottom) = lanes.band(i);
            for (j, (name, from)) in reached.iter().enumerate() {
                let to = match reached.get(j + 1) {
                    Some((_, t)) => *t,
                    None if done => {
                        ends.push(Circle::new((*from, lanes.centre(i)), 5, colour(name).filled()));
                        continue;
                    }
                    None => now.min(x1),
                };
                let mut r = Rectangle::new([(*from, top), (to.max(*from), bottom)], colour(name).filled());
                r.set_margin(4, 4, 0, 0);
                bars.push(r);
            }
        }
        chart.draw_series(bars)?;
        chart.draw_series(ends)?;
        Ok(())
    })
}

/// Which grid lines a chart with a lane per row draws.
#[derive(Debug, Clone, Copy)]
enum Grid {
    /// Along the middle of each lane, for marks that sit on their lane.
    AcrossLanes,
    /// Down from each time label, for bars that run along their lane.
    DownFromTimes,
}

/// A chart of time (x, from `x0` to `x1`) against named lanes (y, the first at the top), its
/// mesh drawn: `label_width` pixels for the lanes' names, grid lines as `grid` says.
fn lanes_chart<'a, 'b>(
    body: &'a Area<'b>,
    lanes: &Rows<'_>,
    (x0, x1): (i64, i64),
    label_width: u32,
    grid: Grid,
) -> Result<ChartContext<'a, SVGBackend<'b>, LanesCoord>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(body)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(22)
        .y_label_area_size(label_width)
        .build_cartesian_2d(x0..x1, lanes.range())?;
    let span = x1 - x0;
    let format_x = |x: &i64| time_label(*x, span);
    let format_y = |y: &i32| lanes.label(y);
    let mut mesh = chart.configure_mesh();
    match grid {
        Grid::AcrossLanes => mesh.disable_x_mesh(),
        Grid::DownFromTimes => mesh.disable_y_mesh(),
    };
    mesh.bold_line_style(LINE)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(12.0, MUTED))
        .x_labels(7)
        .y_labels(lanes.names.len())
        .x_label_formatter(&format_x)
        .y_label_formatter(&format_y)
        .draw()?;
    Ok(chart)
}

/// One key: its name, value and level on a ladder of the four levels, and its trend below.
pub fn key_chart(key: &KeyCard<'_>) -> String {
    let (name, value, detail) = (clean(key.name), clean(key.value), clean(key.detail));
    render(SMALL, |root| {
        let (w, _) = root.dim_in_pixel();
        let w = w as i32;
        root.draw(&Text::new(name.clone(), (12, 10), bold(13.0, MUTED)))?;
        let value_colour = key.level.map_or(TEXT, level_colour);
        root.draw(&Text::new(value.clone(), (12, 30), bold(24.0, value_colour)))?;
        root.draw(&Text::new(detail.clone(), (12, 60), text(12.0, MUTED)))?;
        let levels = [Level::Elite, Level::High, Level::Medium, Level::Low];
        let step = (w - 24) / levels.len() as i32;
        for (i, level) in levels.into_iter().enumerate() {
            let x = 12 + i as i32 * step;
            let current = key.level == Some(level);
            let (fill, ink) = if current {
                (level_colour(level), WHITE)
            } else {
                (IDLE_BG, MUTED)
            };
            root.draw(&Rectangle::new([(x, 82), (x + step - 3, 102)], fill.filled()))?;
            let style = if current { bold(12.0, ink) } else { text(12.0, ink) };
            let style = style.pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(level_name(level), (x + (step - 3) / 2, 92), style))?;
        }
        let trend: Vec<(i64, f64)> = key.trend.iter().copied().filter(|(_, y)| y.is_finite()).collect();
        let (_, lower) = root.split_vertically(110);
        let Some((x0, x1)) = time_span(trend.iter().map(|(x, _)| *x)) else {
            let style = text(12.0, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
            lower.draw(&Text::new("no trend yet", (w / 2, 28), style))?;
            return Ok(());
        };
        let y_max = nice_max(trend.iter().map(|(_, y)| *y).fold(0.0, f64::max));
        let mut chart = ChartBuilder::on(&lower)
            .margin_left(12)
            .margin_right(12)
            .margin_top(6)
            .margin_bottom(8)
            .build_cartesian_2d(x0..x1, 0f64..y_max)?;
        let colour = key.level.map_or(IDLE, level_colour);
        chart.draw_series(std::iter::once(PathElement::new(vec![(x0, 0.0), (x1, 0.0)], LINE)))?;
        for run in finite_runs(key.trend).into_iter().filter(|run| run.len() > 1) {
            chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(2)))?;
        }
        chart.draw_series(trend.iter().map(|&p| Circle::new(p, 2, colour.filled())))?;
        Ok(())
    })
}

/// "elite", "high", "medium", "low".
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Elite => "elite",
        Level::High => "high",
        Level::Medium => "medium",
        Level::Low => "low",
    }
}

fn level_colour(level: Level) -> RGBColor {
    match level {
        Level::Elite => OK,
        Level::High => LINK,
        Level::Medium => BUSY,
        Level::Low => BAD,
    }
}

/// The element drawn for one timeline mark at `p`.
fn mark_element<DB: DrawingBackend, C: Clone + 'static>(mark: Mark, p: C) -> DynElement<'static, DB, C> {
    match mark {
        Mark::Release => Circle::new(p, 4, OK.filled()).into_dyn(),
        Mark::Config => TriangleMarker::new(p, 6, LINK.filled()).into_dyn(),
        Mark::RolledBack => Circle::new(p, 5, BUSY.stroke_width(2)).into_dyn(),
        Mark::Failed => Circle::new(p, 4, BAD.filled()).into_dyn(),
        Mark::Rollback => TriangleMarker::new(p, 6, BUSY.filled()).into_dyn(),
        Mark::Incident => Cross::new(p, 5, BAD.stroke_width(2)).into_dyn(),
    }
}

/// How a legend shows one series.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    Bar(RGBColor),
    Line(RGBColor),
    Mark(Mark),
}

/// Where a chart's title and legend go: the legend beside the title when it all fits on one
/// line, else below the title on lines of its own, as many as it takes.
struct Head {
    /// In pixels: [`HEAD_BESIDE`], or [`HEAD_BELOW`] and a [`LEGEND_LINE`] per further line.
    height: u32,
    /// Where each key of the legend goes: the left of its swatch, at its middle height.
    keys: Vec<(i32, i32)>,
}

/// The height of a head with the legend beside the title.
const HEAD_BESIDE: u32 = 34;
/// The height of a head with the legend on one line below the title.
const HEAD_BELOW: u32 = 56;
/// The height of each further line of legend.
const LEGEND_LINE: u32 = 20;

fn lay_out_head(title: &str, legend: &[(String, Swatch)], width: u32) -> Result<Head, Box<dyn std::error::Error>> {
    let title_width = bold(14.0, TEXT).font.box_size(title)?.0 as i32;
    let label_style = text(12.0, MUTED);
    let mut widths = Vec::with_capacity(legend.len());
    for (label, _) in legend {
        widths.push(16 + label_style.font.box_size(label)?.0 as i32 + 18);
    }
    let width = width as i32;
    let beside = 12 + title_width + 24;
    let (mut x, mut y) = if beside + widths.iter().sum::<i32>() <= width {
        (beside, 19)
    } else {
        (12, 41)
    };
    let mut keys = Vec::with_capacity(widths.len());
    for w in widths {
        // A key goes on the next line when its label would pass the right margin.
        if x > 12 && x + w - 18 > width - 12 {
            (x, y) = (12, y + LEGEND_LINE as i32);
        }
        keys.push((x, y));
        x += w;
    }
    let height = match y {
        19 => HEAD_BESIDE,
        _ => HEAD_BELOW + (y - 41) as u32,
    };
    Ok(Head { height, keys })
}

/// Draws the title and the legend (see [`Head`]); returns the area left for the chart.
fn frame<'a>(
    root: &Area<'a>,
    title: &str,
    legend: &[(String, Swatch)],
) -> Result<Area<'a>, Box<dyn std::error::Error>> {
    let title = clean(title);
    let layout = lay_out_head(&title, legend, root.dim_in_pixel().0)?;
    let (head, body) = root.split_vertically(layout.height);
    head.draw(&Text::new(title, (12, 10), bold(14.0, TEXT)))?;
    let label_style = text(12.0, MUTED);
    for ((label, swatch), (x, y)) in legend.iter().zip(layout.keys) {
        match *swatch {
            Swatch::Bar(c) => head.draw(&Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()))?,
            Swatch::Line(c) => head.draw(&PathElement::new(vec![(x - 2, y), (x + 12, y)], c.stroke_width(2)))?,
            Swatch::Mark(m) => head.draw(&mark_element(m, (x + 5, y)))?,
        }
        head.draw(&Text::new(label.clone(), (x + 16, y - 7), label_style.clone()))?;
    }
    Ok(body)
}

/// Named rows on a y axis, the first at the top: row `i` spans `[2(n - 1 - i), 2(n - i)]`, and
/// the axis has one key point (label, grid line) at the middle of each row. (Integers, doubled,
/// so the middles are exact and plotters formats the axis.)
struct Rows<'a> {
    names: &'a [String],
}

impl<'a> Rows<'a> {
    fn new(names: &'a [String]) -> Self {
        Self { names }
    }

    fn n(&self) -> i32 {
        self.names.len().max(1) as i32
    }

    fn range(&self) -> WithKeyPoints<RangedCoordi32> {
        let centres = (0..self.names.len()).map(|i| self.centre(i)).collect();
        (0..2 * self.n()).with_key_points(centres)
    }

    /// The top and bottom of row `i`.
    fn band(&self, i: usize) -> (i32, i32) {
        (2 * (self.n() - i as i32), 2 * (self.n() - 1 - i as i32))
    }

    /// The middle of row `i`.
    fn centre(&self, i: usize) -> i32 {
        2 * (self.n() - i as i32) - 1
    }

    /// The name of the row whose middle is at `y`.
    fn label(&self, y: &i32) -> String {
        let from_top = 2 * self.n() - 1 - y;
        if from_top < 0 || from_top % 2 != 0 {
            return String::new();
        }
        self.names.get((from_top / 2) as usize).cloned().unwrap_or_default()
    }
}

/// Draws into a fresh SVG document of `size`; a chart that fails to draw says so instead.
fn render(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> String {
    let mut svg = String::new();
    let drawn: DrawResult = (|| {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!(error = %e, "cannot draw a chart");
            let mut svg = String::new();
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            let _ = root.fill(&WHITE);
            let _ = root.draw(&Text::new("This chart cannot be drawn.", (12, 20), text(13.0, MUTED)));
            let _ = root.present();
            drop(root);
            svg
        }
    }
}

/// A chart with its title and a note saying why there is nothing to draw.
fn no_data(size: (u32, u32), title: &str, note: &str) -> String {
    render(size, |root| {
        let body = frame(root, title, &[])?;
        let (w, h) = body.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        body.draw(&Rectangle::new([(10, 0), (w - 10, h - 10)], LINE.stroke_width(1)))?;
        let style = text(13.0, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
        body.draw(&Text::new(note.to_string(), (w / 2, (h - 10) / 2), style))?;
        Ok(())
    })
}

/// The mesh of a chart over time: light horizontal lines, muted labels.
fn time_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordi64, plotters::coord::types::RangedCoordf64>>,
    format_x: &dyn Fn(&i64) -> String,
    format_y: &dyn Fn(&f64) -> String,
    y_label: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(LINE)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(12.0, MUTED))
        .axis_desc_style(text(12.0, MUTED))
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(format_x)
        .y_label_formatter(format_y)
        .y_desc(y_label)
        .draw()
}

/// Text of `px` CSS pixels (plotters writes its size ÷ 1.24 into the SVG).
fn text(px: f64, colour: RGBColor) -> TextStyle<'static> {
    (FONT, px * 1.24).into_font().color(&colour)
}

fn bold(px: f64, colour: RGBColor) -> TextStyle<'static> {
    (FONT, px * 1.24, FontStyle::Bold).into_font().color(&colour)
}

/// The runs of consecutive finite points: a non-finite value breaks a line.
fn finite_runs(points: &[(i64, f64)]) -> Vec<&[(i64, f64)]> {
    points
        .split(|(_, y)| !y.is_finite())
        .filter(|run| !run.is_empty())
        .collect()
}

/// The range of `times` to draw over, widened when all are at one instant; `None` if empty.
fn time_span(times: impl Iterator<Item = i64>) -> Option<(i64, i64)> {
    let (lo, hi) = times.fold(None, |span: Option<(i64, i64)>, t| match span {
        None => Some((t, t)),
        Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
    })?;
    let pad = ((hi - lo) / 30).max(60_000);
    Some((lo.saturating_sub(pad), hi.saturating_add(pad)))
}

/// A round top for a y axis above `max` (at least 1).
fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf((max * 1.1).log10().floor());
    let top = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|t| *t >= max * 1.1)
        .unwrap_or(10.0 * magnitude);
    top.max(1.0)
}

/// "3", "2.5", "0.25", "1.2k".
fn short_number(y: f64) -> String {
    match y.abs() {
        a if a >= 10_000.0 => format!("{:.0}k", y / 1000.0),
        a if a >= 1000.0 => format!("{:.1}k", y / 1000.0),
        a if a >= 10.0 || a == 0.0 || (y.fract() == 0.0) => format!("{y:.0}"),
        a if a >= 1.0 => format!("{y:.1}"),
        _ => format!("{y:.2}"),
    }
}

/// A time axis label in UTC: the day over a span of days, the time of day over a shorter one.
fn time_label(ms: i64, span_ms: i64) -> String {
    let format = match span_ms {
        s if s >= 2 * DAY_MS => "%b %d",
        s if s >= 2 * HOUR_MS => "%H:%M",
        _ => "%H:%M:%S",
    };
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime(format).to_string())
        .unwrap_or_default()
}

/// A title or label fit for a chart: no control characters, at most [`MAX_TITLE`] characters.
/// (plotters escapes `<`, `&` and quotes itself.)
fn clean(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    if text.chars().count() <= MAX_TITLE {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_TITLE - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(svg.matches("<rect").count(), 1 + 3 + 3, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
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
}
