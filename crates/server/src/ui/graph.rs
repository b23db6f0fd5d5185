//! The job graph of a run, drawn as server-side SVG: one column per DAG depth (a job with no
//! `needs` has depth 1, any other 1 + the deepest of its needs), a box per job coloured by its
//! state, and a curve from each need to the job that waits for it.
//!
//! Layout is a pure function of the jobs' `needs`. Inside a column, jobs sit in the order of
//! the mean height of their needs (fewer crossings), then in pipeline order; columns are
//! centred on the tallest one. A `needs` cycle or an unknown name (both refused when the
//! pipeline is read) cannot hang or break the layout: depths are capped and unknown names
//! ignored.

use super::layout::tone;
use maud::{Markup, html};
use std::collections::BTreeMap;

/// Box size and spacing, in SVG pixels (the SVG is drawn at 1:1).
const BOX_W: u32 = 200;
const BOX_H: u32 = 46;
/// Box height when a column is long (a matrix over many markets): the name only.
const BOX_H_COMPACT: u32 = 28;
/// A column taller than this many jobs switches the graph to compact boxes.
const COMPACT_AFTER: usize = 8;
/// Height of the lane an edge takes through a column it skips.
const LANE_H: u32 = 10;
const GAP_X: u32 = 56;
const GAP_Y: u32 = 12;
const PAD: u32 = 4;
/// Characters of a job name that fit in a box (monospace, 12.5 px); longer names end in "…".
const NAME_CHARS: usize = 21;

/// A job as the graph needs it.
#[derive(Debug, Clone)]
pub struct GraphJob {
    pub name: String,
    pub state: String,
    pub needs: Vec<String>,
    /// Where a click on the box goes.
    pub href: String,
    /// A short line under the name: state, exit code, duration.
    pub detail: String,
}

/// Where one job's box sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub column: usize,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    /// In the order of the jobs given.
    pub boxes: Vec<Placed>,
    /// (need, job) index pairs.
    pub edges: Vec<(usize, usize)>,
    /// Where a long edge crosses a column it skips: (need, column) → the lane's centre height.
    /// Edges from one need share their lanes.
    pub lanes: BTreeMap<(usize, usize), u32>,
    pub box_h: u32,
    pub width: u32,
    pub height: u32,
}

impl Layout {
    /// The points an edge goes through: out of the need's box, along its lanes, into the job's.
    pub fn route(&self, from: usize, to: usize) -> Vec<(u32, u32)> {
        let (a, b) = (self.boxes[from], self.boxes[to]);
        let mid = self.box_h / 2;
        let mut points = vec![(a.x + BOX_W, a.y + mid)];
        for column in a.column + 1..b.column {
            if let Some(&y) = self.lanes.get(&(from, column)) {
                let x = column_x(column);
                points.extend([(x, y), (x + BOX_W, y)]);
            }
        }
        points.push((b.x, b.y + mid));
        points
    }
}

/// What takes room in a column: a job's box, or the lane of a need's edges passing through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Job(usize),
    Lane(usize),
}

fn column_x(column: usize) -> u32 {
    PAD + column as u32 * (BOX_W + GAP_X)
}

/// Depth of each job (1 for no needs), from each job's needs as indices.
pub fn depths(needs: &[Vec<usize>]) -> Vec<usize> {
    let n = needs.len();
    let mut depth = vec![1; n];
    // Relaxation settles a DAG in at most n passes; a cycle stops at the cap instead.
    for _ in 0..n {
        let mut changed = false;
        for (i, deps) in needs.iter().enumerate() {
            let d = deps.iter().map(|&j| depth[j] + 1).max().unwrap_or(1).min(n);
            if d != depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    depth
}

/// Places the jobs in columns by depth and rows by their needs' heights; an edge that skips
/// columns gets a lane of its own in each, so it never runs under a box.
pub fn place(jobs: &[GraphJob]) -> Layout {
    let index = |name: &str| jobs.iter().position(|j| j.name == name);
    let needs: Vec<Vec<usize>> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| j.needs.iter().filter_map(|n| index(n)).filter(|&k| k != i).collect())
        .collect();
    let column: Vec<usize> = depths(&needs).into_iter().map(|d| d - 1).collect();
    let columns = column.iter().map(|c| c + 1).max().unwrap_or(0);
    let edges: Vec<(usize, usize)> = needs
        .iter()
        .enumerate()
        .flat_map(|(i, deps)| deps.iter().map(move |&k| (k, i)))
        .collect();

    let mut slots: Vec<Vec<Slot>> = vec![Vec::new(); columns];
    for (i, &c) in column.iter().enumerate() {
        slots[c].push(Slot::Job(i));
    }
    for &(k, i) in &edges {
        for passed in slots.iter_mut().take(column[i]).skip(column[k] + 1) {
            if !passed.contains(&Slot::Lane(k)) {
                passed.push(Slot::Lane(k));
            }
        }
    }
    let most_jobs = slots
        .iter()
        .map(|s| s.iter().filter(|s| matches!(s, Slot::Job(_))).count())
        .max()
        .unwrap_or(0);
    let box_h = if most_jobs > COMPACT_AFTER {
        BOX_H_COMPACT
    } else {
        BOX_H
    };
    let slot_h = |s: &Slot| if matches!(s, Slot::Job(_)) { box_h } else { LANE_H };
    let column_h = |s: &[Slot]| (s.iter().map(slot_h).sum::<u32>() + GAP_Y * s.len() as u32).saturating_sub(GAP_Y);
    let tallest = slots.iter().map(|s| column_h(s)).max().unwrap_or(0);

    let mut boxes = vec![Placed { column: 0, x: 0, y: 0 }; jobs.len()];
    let mut centres = vec![0.0_f64; jobs.len()];
    let mut lanes: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    for (c, members) in slots.iter().enumerate() {
        // Where a need's edges leave the previous column: its box, or its lane there.
        let seen_at = |k: usize| -> Option<f64> {
            match column[k] + 1 {
                next if next == c => Some(centres[k]),
                next if next < c => lanes.get(&(k, c - 1)).map(|&y| f64::from(y)),
                _ => None,
            }
        };
        let key = |slot: &Slot| -> f64 {
            let ys: Vec<f64> = match *slot {
                Slot::Job(i) => needs[i].iter().filter_map(|&k| seen_at(k)).collect(),
                Slot::Lane(k) => seen_at(k).into_iter().collect(),
            };
            if ys.is_empty() {
                f64::INFINITY
            } else {
                ys.iter().sum::<f64>() / ys.len() as f64
            }
        };
        let mut ordered: Vec<(f64, Slot)> = members.iter().map(|s| (key(s), *s)).collect();
        ordered.sort_by(|a, b| a.0.total_cmp(&b.0)); // stable: ties keep pipeline order
        let mut y = PAD + (tallest - column_h(members)) / 2;
        for (_, slot) in ordered {
            match slot {
                Slot::Job(i) => {
                    boxes[i] = Placed {
                        column: c,
                        x: column_x(c),
                        y,
                    };
                    centres[i] = f64::from(y + box_h / 2);
                }
                Slot::Lane(k) => {
                    lanes.insert((k, c), y + LANE_H / 2);
                }
            }
            y += slot_h(&slot) + GAP_Y;
        }
    }
    Layout {
        boxes,
        edges,
        lanes,
        box_h,
        width: 2 * PAD + columns as u32 * BOX_W + columns.saturating_sub(1) as u32 * GAP_X,
        height: 2 * PAD + tallest,
    }
}

/// An SVG path through `points`: curves between columns, straight along lanes.
fn path(points: &[(u32, u32)]) -> String {
    let mut d = String::new();
    for (n, pair) in points.windows(2).enumerate() {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if n == 0 {
            d.push_str(&format!("M{x1} {y1}"));
        }
        if y1 == y2 {
            d.push_str(&format!(" L{x2} {y2}"));
        } else {
            let bend = x2.saturating_sub(x1) / 2;
            d.push_str(&format!(
                " C{} {y1} {} {y2} {x2} {y2}",
                x1 + bend,
                x2.saturating_sub(bend)
            ));
        }
    }
    d
}

/// The graph as an inline SVG.
pub fn render(jobs: &[GraphJob]) -> Markup {
    let l = place(jobs);
    let mid = l.box_h / 2;
    let label = summary(jobs);
    html! {
        svg.graph xmlns="http://www.w3.org/2000/svg" width=(l.width) height=(l.height)
            viewBox={ "0 0 " (l.width) " " (l.height) } role="img" aria-label=(label) {
            title { (label) }
            g.edges {
                @for &(from, to) in &l.edges {
                    path class={ "edge " (tone(&jobs[from].state)) @if is_waiting(&jobs[to].state) { " waiting" } }
                        d=(path(&l.route(from, to))) {}
                }
            }
            @for (job, at) in jobs.iter().zip(&l.boxes) {
                a class={ "gnode " (tone(job.state.as_str())) " st-" (job.state) } href=(job.href)
                    data-job=(job.name) data-column=(at.column) data-state=(job.state) {
                    title { (job.name) " — " (job.detail) }
                    rect x=(at.x) y=(at.y) width=(BOX_W) height=(l.box_h) rx="6" {}
                    (icon(&job.state, at.x + 16, at.y + mid))
                    @if l.box_h == BOX_H {
                        text.gname x=(at.x + 32) y=(at.y + 20) { (fit(&job.name)) }
                        text.gmeta x=(at.x + 32) y=(at.y + 36) { (job.detail) }
                    } @else {
                        text.gname x=(at.x + 32) y=(at.y + mid + 4) { (fit(&job.name)) }
                    }
                }
            }
        }
    }
}

/// The most jobs the graph's label names one by one.
const NAMED_JOBS: usize = 30;

/// The graph in words, for a screen reader and as its tooltip: each job, its state, what it
/// needs.
fn summary(jobs: &[GraphJob]) -> String {
    let named: Vec<String> = jobs
        .iter()
        .take(NAMED_JOBS)
        .map(|j| match j.needs.as_slice() {
            [] => format!("{} {}", j.name, j.state),
            needs => format!("{} {} (needs {})", j.name, j.state, needs.join(", ")),
        })
        .collect();
    let more = jobs.len().saturating_sub(NAMED_JOBS);
    let tail = if more > 0 {
        format!(", and {more} more")
    } else {
        String::new()
    };
    let n = jobs.len();
    format!(
        "Job graph, {n} job{}: {}{tail}",
        if n == 1 { "" } else { "s" },
        named.join("; ")
    )
}

fn is_waiting(state: &str) -> bool {
    matches!(state, "pending" | "skipped" | "cancelled")
}

/// A state's icon: a disc in the state's colour with a white mark drawn as a path, so it does
/// not depend on the fonts installed.
fn icon(state: &str, cx: u32, cy: u32) -> Markup {
    let mark = match state {
        "success" => "M-3.5 0.2 L-1 2.8 L3.8 -2.6",
        "failed" => "M-2.8 -2.8 L2.8 2.8 M2.8 -2.8 L-2.8 2.8",
        "skipped" => "M-3.2 0 H3.2",
        "cancelled" => "M-2.8 2.8 L2.8 -2.8",
        "interrupted" => "M0 -3.6 V0.8 M0 3.2 V3.6",
        _ => "",
    };
    html! {
        g.gicon transform={ "translate(" (cx) " " (cy) ")" } {
            circle r="8" {}
            @if !mark.is_empty() { path d=(mark) {} }
        }
    }
}

fn fit(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        name.to_string()
    } else {
        let mut short: String = name.chars().take(NAME_CHARS - 1).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, needs: &[&str]) -> GraphJob {
        GraphJob {
            name: name.into(),
            state: "success".into(),
            needs: needs.iter().map(|n| n.to_string()).collect(),
            href: format!("#{name}"),
            detail: String::new(),
        }
    }

    #[test]
    fn depth_is_one_more_than_the_deepest_need() {
        assert_eq!(depths(&[vec![], vec![0], vec![0, 1], vec![]]), vec![1, 2, 3, 1]);
        assert_eq!(depths(&[vec![1], vec![]]), vec![2, 1], "a need declared later");
        assert_eq!(depths(&[]), Vec::<usize>::new());
    }

    #[test]
    fn a_cycle_is_capped_instead_of_looping() {
        let d = depths(&[vec![1], vec![0], vec![]]);
        assert!(d.iter().all(|&d| (1..=3).contains(&d)), "{d:?}");
    }

    #[test]
    fn jobs_sit_in_columns_by_depth() {
        let jobs = [
            job("lint", &[]),
            job("unit", &[]),
            job("test (fr)", &["unit"]),
            job("test (be)", &["unit"]),
            job("package", &["lint", "test (fr)", "test (be)", "nope"]),
        ];
        let l = place(&jobs);
        let columns: Vec<usize> = l.boxes.iter().map(|b| b.column).collect();
        assert_eq!(columns, [0, 0, 1, 1, 2]);
        assert_eq!(
            l.edges,
            [(1, 2), (1, 3), (0, 4), (2, 4), (3, 4)],
            "unknown needs are ignored"
        );
        assert!(l.boxes[2].x > l.boxes[0].x && l.boxes[4].x > l.boxes[2].x);
        assert_eq!(l.width, 2 * PAD + 3 * BOX_W + 2 * GAP_X);
        // Column 1 is the tallest: lint's lane, then the two tests.
        assert_eq!(l.height, 2 * PAD + LANE_H + 2 * BOX_H + 2 * GAP_Y);
        let inside = |b: &Placed| b.x + BOX_W <= l.width && b.y + l.box_h <= l.height;
        assert!(l.boxes.iter().all(inside));
        assert!(l.boxes[1].y > l.boxes[0].y, "pipeline order inside a column");
        let single = l.boxes[4].y + BOX_H / 2;
        assert_eq!(single, l.height / 2, "a lone box is centred on the column");
    }

    #[test]
    fn long_edges_take_a_lane_clear_of_the_boxes() {
        let jobs = [
            job("lint", &[]),
            job("unit", &[]),
            job("test", &["unit"]),
            job("e2e", &["test"]),
            job("deploy", &["lint", "e2e"]),
            job("notify", &["lint"]),
        ];
        let l = place(&jobs);
        assert_eq!(
            l.lanes.keys().copied().collect::<Vec<_>>(),
            [(0, 1), (0, 2)],
            "one lane per need and column"
        );
        for (&(_, column), &y) in &l.lanes {
            for b in l.boxes.iter().filter(|b| b.column == column) {
                assert!(y < b.y || y > b.y + l.box_h, "lane at {y} runs under a box at {}", b.y);
            }
        }
        let route = l.route(0, 4);
        assert_eq!(route.len(), 6, "out, across two lanes, in: {route:?}");
        assert_eq!(route[1].1, route[2].1, "straight along a lane");
        assert_eq!(l.route(2, 3).len(), 2, "a short edge goes straight to its job");
        let d = path(&route);
        assert!(
            d.starts_with(&format!("M{} {}", route[0].0, route[0].1)) && d.contains(" L"),
            "{d}"
        );
    }

    #[test]
    fn rows_follow_their_needs_to_avoid_crossings() {
        // b2 needs the lower box of column 1: it goes below b1.
        let jobs = [job("a1", &[]), job("a2", &[]), job("b2", &["a2"]), job("b1", &["a1"])];
        let l = place(&jobs);
        assert!(l.boxes[3].y < l.boxes[2].y, "{:?}", l.boxes);
    }

    #[test]
    fn long_columns_get_compact_boxes() {
        let mut jobs = vec![job("build", &[])];
        for m in ["fr", "be", "nl", "lu", "ch", "de", "at", "it", "es"] {
            jobs.push(job(&format!("deploy ({m})"), &["build"]));
        }
        let l = place(&jobs);
        assert_eq!(l.box_h, BOX_H_COMPACT);
        assert_eq!(l.height, 2 * PAD + 9 * (BOX_H_COMPACT + GAP_Y) - GAP_Y);
    }

    #[test]
    fn the_svg_escapes_names_and_shortens_long_ones() {
        let mut j = job("<b>a-very-long-job-name-indeed</b>", &[]);
        j.state = "failed".into();
        let svg = render(&[j]).into_string();
        assert!(svg.contains("&lt;b&gt;a-very-long-job-n…"), "{svg}");
        assert!(svg.contains(r#"class="gnode bad st-failed""#), "{svg}");
        assert!(svg.contains(r#"data-column="0""#), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(
            svg.contains(
                r#"role="img" aria-label="Job graph, 1 job: &lt;b&gt;a-very-long-job-name-indeed&lt;/b&gt; failed""#
            ),
            "the graph says what it shows: {svg}"
        );
    }
}
