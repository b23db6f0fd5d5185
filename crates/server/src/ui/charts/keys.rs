//! One of the four DORA keys as a small chart: its value, its level on the ladder, its trend.

use super::a11y::{Tips, describe};
use super::colours::*;
use super::draw::*;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tandem_core::dora::Level;

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

/// One key: its name, value and level on a ladder of the four levels, and its trend below.
pub fn key_chart(key: &KeyCard<'_>) -> String {
    let (name, value, detail) = (clean(key.name), clean(key.value), clean(key.detail));
    let summary = format!(
        "{name}: {value} ({}), {detail}",
        key.level.map_or("no level", level_name)
    );
    let svg = render(SMALL, |root| {
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
    });
    describe(svg, &summary, &Tips::default())
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
