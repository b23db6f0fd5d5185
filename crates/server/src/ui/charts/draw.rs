//! What every chart shares: the stylesheet's colours, the sizes, the title and legend, lanes
//! of rows over time, the SVG document, axes and the small helpers that fit numbers, times and
//! titles to a chart.

use super::a11y::{Tips, describe};
use super::colours::*;
use super::mark::{Mark, mark_element};
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordi32, RangedCoordi64};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// With more series than colours, how many stand out in colour.
pub(super) const STANDOUTS: usize = PALETTE.len() - 1;

pub(super) const FONT: &str = "sans-serif";
/// The longest title drawn, in characters; a longer one is cut with "…".
pub(super) const MAX_TITLE: usize = 90;

/// A chart over time (trends), in SVG pixels: about its size in a half-width panel.
pub const WIDE: (u32, u32) = (620, 276);
/// The height under a time axis: its labels, and below them its time zone.
pub(super) const TIME_AXIS: u32 = 40;
/// What a time axis says under its labels: every time on a chart is in UTC.
pub(super) const TIME_AXIS_DESC: &str = "time (UTC)";
/// How much wider the browser may draw a title than plotters estimates (it measures with no
/// font file): the legend keeps clear of the title by this margin.
pub(super) const TITLE_SLACK: f64 = 1.15;
/// The width of a chart with a lane per market or idea (timeline, idea flow).
pub(super) const LANES_WIDTH: u32 = 820;
/// The width of the idea flow, which has a page of its own: about the page's width, so that
/// scaled to it its text stays at its size.
pub(super) const FLOW_WIDTH: u32 = 1280;
/// The height of a chart with a lane per row, besides its rows: its head and its time axis.
pub(super) const LANES_FRAME: u32 = 108;
/// The width of a chart with a bar per group.
pub(super) const GROUPS_WIDTH: u32 = 400;
/// One of the four keys.
pub const SMALL: (u32, u32) = (300, 170);
/// Height of one row of a chart with a row per market or idea, in pixels.
pub(super) const ROW: u32 = 20;

pub(super) const HOUR_MS: i64 = 3_600_000;
pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(super) type DrawResult = Result<(), Box<dyn std::error::Error>>;
/// The coordinates of a chart with a lane per row: time against lanes (see [`Rows`]).
pub(super) type LanesCoord = Cartesian2d<RangedCoordi64, WithKeyPoints<RangedCoordi32>>;

/// Which grid lines a chart with a lane per row draws.
#[derive(Debug, Clone, Copy)]
pub(super) enum Grid {
    /// Along the middle of each lane, for marks that sit on their lane.
    AcrossLanes,
    /// Down from each time label, for bars that run along their lane.
    DownFromTimes,
}

/// A chart of time (x, from `x0` to `x1`) against named lanes (y, the first at the top), its
/// mesh drawn: `label_width` pixels for the lanes' names, grid lines as `grid` says.
pub(super) fn lanes_chart<'a, 'b>(
    body: &'a Area<'b>,
    lanes: &Rows<'_>,
    (x0, x1): (i64, i64),
    label_width: u32,
    grid: Grid,
) -> Result<ChartContext<'a, SVGBackend<'b>, LanesCoord>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(body)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(TIME_AXIS)
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
        .axis_desc_style(text(12.0, MUTED))
        .x_desc(TIME_AXIS_DESC)
        .x_labels(7)
        .y_labels(lanes.names.len())
        .x_label_formatter(&format_x)
        .y_label_formatter(&format_y)
        .draw()?;
    Ok(chart)
}

/// How a legend shows one series.
#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    Bar(RGBColor),
    Line(RGBColor),
    Mark(Mark),
}

/// Where a chart's title and legend go: the legend beside the title when it all fits on one
/// line, else below the title on lines of its own, as many as it takes.
pub(super) struct Head {
    /// In pixels: [`HEAD_BESIDE`], or [`HEAD_BELOW`] and a [`LEGEND_LINE`] per further line.
    pub(super) height: u32,
    /// Where each key of the legend goes: the left of its swatch, at its middle height.
    keys: Vec<(i32, i32)>,
}

/// The height of a head with the legend beside the title.
pub(super) const HEAD_BESIDE: u32 = 34;
/// The height of a head with the legend on one line below the title.
pub(super) const HEAD_BELOW: u32 = 56;
/// The height of each further line of legend.
pub(super) const LEGEND_LINE: u32 = 20;

pub(super) fn lay_out_head(
    title: &str,
    legend: &[(String, Swatch)],
    width: u32,
) -> Result<Head, Box<dyn std::error::Error>> {
    let title_width = (bold(14.0, TEXT).font.box_size(title)?.0 as f64 * TITLE_SLACK) as i32;
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
pub(super) fn frame<'a>(
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
pub(super) struct Rows<'a> {
    names: &'a [String],
}

impl<'a> Rows<'a> {
    pub(super) fn new(names: &'a [String]) -> Self {
        Self { names }
    }

    pub(super) fn n(&self) -> i32 {
        self.names.len().max(1) as i32
    }

    pub(super) fn range(&self) -> WithKeyPoints<RangedCoordi32> {
        let centres = (0..self.names.len()).map(|i| self.centre(i)).collect();
        (0..2 * self.n()).with_key_points(centres)
    }

    /// The top and bottom of row `i`.
    pub(super) fn band(&self, i: usize) -> (i32, i32) {
        (2 * (self.n() - i as i32), 2 * (self.n() - 1 - i as i32))
    }

    /// The middle of row `i`.
    pub(super) fn centre(&self, i: usize) -> i32 {
        2 * (self.n() - i as i32) - 1
    }

    /// The name of the row whose middle is at `y`.
    pub(super) fn label(&self, y: &i32) -> String {
        let from_top = 2 * self.n() - 1 - y;
        if from_top < 0 || from_top % 2 != 0 {
            return String::new();
        }
        self.names.get((from_top / 2) as usize).cloned().unwrap_or_default()
    }
}

/// Draws into a fresh SVG document of `size`; a chart that fails to draw says so instead.
pub(super) fn render(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> String {
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
pub(super) fn no_data(size: (u32, u32), title: &str, note: &str) -> String {
    let summary = format!("{}: {note}", clean(title));
    let svg = render(size, |root| {
        let body = frame(root, title, &[])?;
        let (w, h) = body.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        body.draw(&Rectangle::new([(10, 0), (w - 10, h - 10)], LINE.stroke_width(1)))?;
        let style = text(13.0, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
        body.draw(&Text::new(note.to_string(), (w / 2, (h - 10) / 2), style))?;
        Ok(())
    });
    describe(svg, &summary, &Tips::default())
}

/// The mesh of a chart over time: light horizontal lines, muted labels.
pub(super) fn time_mesh<DB: DrawingBackend>(
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
        .x_desc(TIME_AXIS_DESC)
        .y_desc(y_label)
        .draw()
}

/// Text of `px` CSS pixels (plotters writes its size ÷ 1.24 into the SVG).
pub(super) fn text(px: f64, colour: RGBColor) -> TextStyle<'static> {
    (FONT, px * 1.24).into_font().color(&colour)
}

pub(super) fn bold(px: f64, colour: RGBColor) -> TextStyle<'static> {
    (FONT, px * 1.24, FontStyle::Bold).into_font().color(&colour)
}

/// The runs of consecutive finite points: a non-finite value breaks a line.
pub(super) fn finite_runs(points: &[(i64, f64)]) -> Vec<&[(i64, f64)]> {
    points
        .split(|(_, y)| !y.is_finite())
        .filter(|run| !run.is_empty())
        .collect()
}

/// The range of `times` to draw over, widened when all are at one instant; `None` if empty.
pub(super) fn time_span(times: impl Iterator<Item = i64>) -> Option<(i64, i64)> {
    let (lo, hi) = times.fold(None, |span: Option<(i64, i64)>, t| match span {
        None => Some((t, t)),
        Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
    })?;
    let pad = ((hi - lo) / 30).max(60_000);
    Some((lo.saturating_sub(pad), hi.saturating_add(pad)))
}

/// A round top for a y axis above `max` (at least 1).
pub(super) fn nice_max(max: f64) -> f64 {
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
pub(super) fn short_number(y: f64) -> String {
    match y.abs() {
        a if a >= 10_000.0 => format!("{:.0}k", y / 1000.0),
        a if a >= 1000.0 => format!("{:.1}k", y / 1000.0),
        a if a >= 10.0 || a == 0.0 || (y.fract() == 0.0) => format!("{y:.0}"),
        a if a >= 1.0 => format!("{y:.1}"),
        _ => format!("{y:.2}"),
    }
}

/// A time axis label in UTC: the day over a span of days, the time of day over a shorter one.
pub(super) fn time_label(ms: i64, span_ms: i64) -> String {
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
pub(super) fn clean(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    if text.chars().count() <= MAX_TITLE {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_TITLE - 1).collect();
    format!("{}…", cut.trim_end())
}
