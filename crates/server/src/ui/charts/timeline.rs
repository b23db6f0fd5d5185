//! The timeline: what happened on each market over time, one mark per event.

use super::a11y::{Tips, at_utc, describe};
use super::draw::*;
use super::mark::*;

/// One mark on a timeline: on row `row` (an index into the chart's rows) at `at` (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub row: usize,
    pub at: i64,
    pub mark: Mark,
}

/// What happened on each row (a market) over time: one mark per event, by kind.
pub fn timeline_chart(title: &str, rows: &[String], events: &[Event]) -> String {
    let events: Vec<&Event> = events.iter().filter(|e| e.row < rows.len()).collect();
    let size = (LANES_WIDTH, LANES_FRAME + ROW * rows.len().max(1) as u32);
    let Some((x0, x1)) = time_span(events.iter().map(|e| e.at)) else {
        return no_data((size.0, WIDE.1), title, "Nothing happened in this window.");
    };
    let names: Vec<String> = rows.iter().map(|r| clean(r)).collect();
    let keys: Vec<(String, Swatch)> = Mark::ALL
        .into_iter()
        .filter(|m| events.iter().any(|e| e.mark == *m))
        .map(|m| (m.label().to_string(), Swatch::Mark(m)))
        .collect();
    let counts: Vec<String> = Mark::ALL
        .into_iter()
        .filter_map(|m| {
            let n = events.iter().filter(|e| e.mark == m).count();
            (n > 0).then(|| format!("{n} {}", m.label()))
        })
        .collect();
    let summary = format!(
        "{}: in {} rows, from {} to {}: {}.",
        clean(title),
        names.len(),
        at_utc(x0),
        at_utc(x1),
        counts.join(", ")
    );
    let mut tips = Tips::default();
    let svg = render(size, |root| {
        let body = frame(root, title, &keys)?;
        let rows = Rows::new(&names);
        let mut chart = lanes_chart(&body, &rows, (x0, x1), 44, Grid::AcrossLanes)?;
        for e in &events {
            let text = format!("{}: {} at {}", names[e.row], e.mark.label(), at_utc(e.at));
            tips.dot(chart.backend_coord(&(e.at, rows.centre(e.row))), text);
        }
        for mark in Mark::ALL {
            let points = events
                .iter()
                .filter(|e| e.mark == mark)
                .map(|e| (e.at, rows.centre(e.row)));
            chart.draw_series(points.map(|p| mark_element(mark, p)))?;
        }
        Ok(())
    });
    describe(svg, &summary, &tips)
}
