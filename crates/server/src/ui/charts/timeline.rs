//! The timeline: what happened on each market over time, one mark per event.

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
