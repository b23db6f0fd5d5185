//! The idea flow: each idea as a bar from stage to stage, coloured by the stage it was in.

use super::a11y::{Tips, at_utc, describe};
use super::colours::*;
use super::draw::*;
use plotters::prelude::*;

/// One idea on its way: each stage it goes through, in order, with when it got there (`None`
/// while it has not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    pub key: String,
    pub stages: Vec<(String, Option<i64>)>,
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
    let size = (FLOW_WIDTH, LANES_FRAME + ROW * rows.len().max(1) as u32);
    let Some((x0, x1)) = time_span(times) else {
        return no_data((size.0, WIDE.1), title, "No idea on its way.");
    };
    // An idea still on its way runs on to now (within a year of the last stage reached).
    let x1 = x1.max(now.min(x1.saturating_add(365 * DAY_MS)));
    let keys: Vec<String> = rows.iter().map(|r| clean(&r.key)).collect();
    let legend: Vec<(String, Swatch)> = stages.iter().map(|s| (clean(s), Swatch::Bar(colour(s)))).collect();
    let each: Vec<String> = rows
        .iter()
        .take(40)
        .map(|r| {
            let reached = r.stages.iter().rev().find_map(|(name, t)| t.map(|t| (name, t)));
            match reached {
                Some((name, t)) => format!("{} reached {} at {}", clean(&r.key), clean(name), at_utc(t)),
                None => format!("{} not started", clean(&r.key)),
            }
        })
        .collect();
    let summary = format!("{}: {} ideas. {}.", clean(title), rows.len(), each.join("; "));
    let mut tips = Tips::default();
    let svg = render(size, |root| {
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
                let text = format!("{}: {} from {} to {}", keys[i], clean(name), at_utc(*from), at_utc(to));
                tips.rect(
                    chart.backend_coord(&(*from, top)),
                    chart.backend_coord(&(to.max(*from), bottom)),
                    text,
                );
                let mut r = Rectangle::new([(*from, top), (to.max(*from), bottom)], colour(name).filled());
                r.set_margin(4, 4, 0, 0);
                bars.push(r);
            }
        }
        chart.draw_series(bars)?;
        chart.draw_series(ends)?;
        Ok(())
    });
    describe(svg, &summary, &tips)
}
