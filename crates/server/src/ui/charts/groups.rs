//! Deployments by group (market, service) as horizontal bars, the failed part in red.

use super::a11y::{Tips, describe};
use super::colours::*;
use super::draw::*;
use plotters::prelude::*;

/// One bar of a chart by group (market, service): deployments and how many failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub deployments: u64,
    pub failed: u64,
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
    let each: Vec<String> = groups
        .iter()
        .take(40)
        .map(|g| match g.failed {
            0 => format!("{} {}", clean(&g.name), g.deployments),
            f => format!("{} {} ({f} failed)", clean(&g.name), g.deployments),
        })
        .collect();
    let more = groups.len().saturating_sub(40);
    let summary = format!(
        "{}: {}{}.",
        clean(title),
        each.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    );
    let mut tips = Tips::default();
    let svg = render(size, |root| {
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
        for (i, g) in groups.iter().enumerate() {
            let (top, bottom) = rows.band(i);
            let text = format!("{}: {} deployments, {} failed", clean(&g.name), g.deployments, g.failed);
            tips.rect(
                chart.backend_coord(&(0.0, top)),
                chart.backend_coord(&((g.deployments as f64).max(x_max * 0.02), bottom)),
                text,
            );
        }
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
    });
    describe(svg, &summary, &tips)
}
