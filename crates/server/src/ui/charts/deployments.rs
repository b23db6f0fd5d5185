//! The deployments chart: counted deployments per period as bars, the failed part in red.

use super::a11y::{Tips, day_utc, describe};
use super::colours::*;
use super::draw::*;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar of the deployments chart: the counted deployments that finished in `[from, to)`,
/// and how many of them failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
    pub deployments: u64,
    pub failed: u64,
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
    let total: u64 = periods.iter().map(|p| p.deployments).sum();
    let failed: u64 = periods.iter().map(|p| p.failed.min(p.deployments)).sum();
    let summary = format!(
        "{}: {total} deployments, {failed} failed, in {} periods from {} to {} (UTC); the busiest had {busiest}.",
        clean(title),
        periods.len(),
        day_utc(first.from),
        day_utc(last.to),
    );
    let mut tips = Tips::default();
    let svg = render(WIDE, |root| {
        let body = frame(root, title, &keys)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(TIME_AXIS)
            .y_label_area_size(54)
            .build_cartesian_2d(first.from..last.to, 0f64..y_max)?;
        for p in periods {
            let text = format!(
                "{} to {}: {} deployments, {} failed",
                day_utc(p.from),
                day_utc(p.to),
                p.deployments,
                p.failed.min(p.deployments)
            );
            let top = (p.deployments as f64).max(y_max * 0.02);
            tips.rect(
                chart.backend_coord(&(p.from, top)),
                chart.backend_coord(&(p.to, 0.0)),
                text,
            );
        }
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
    });
    describe(svg, &summary, &tips)
}
