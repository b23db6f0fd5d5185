//! Charts drawn on the server as SVG with plotters, from plain data: no store, no request, no
//! clock. Each function returns a whole `<svg>` element to embed in a page. Text is drawn by the
//! browser in its sans-serif font (plotters is built without `ttf`, so it reads no font file and
//! only estimates text widths), and plotters escapes every text and attribute it writes.
//!
//! Every chart is honest about missing data: no point at all gives a chart that says "no data";
//! a non-finite value in a line series breaks the line (a bucket with nothing to measure) and
//! never reaches the SVG.
//!
//! Every chart also says what it shows (`a11y`): `role="img"`, an `aria-label` and a `<title>`
//! with its figures, and a tooltip on each bar or mark. Its SVG has a `viewBox`, so a page
//! scales it to its width. Times are in UTC, and the time axis says so.

mod a11y;
mod colours;
mod deployments;
mod draw;
mod flow;
mod groups;
mod keys;
mod lines;
mod mark;
mod timeline;

pub use deployments::{Period, deployments_chart};
pub use flow::{FlowRow, flow_chart};
pub use groups::{Group, groups_chart};
pub use keys::{KeyCard, key_chart, level_name};
pub use lines::{Series, line_chart, note_chart, percent_chart};
pub use mark::Mark;
pub use timeline::{Event, timeline_chart};

#[cfg(test)]
mod tests;
