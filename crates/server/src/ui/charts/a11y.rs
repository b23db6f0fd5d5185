//! What a chart says besides its picture: a summary with its figures (the `<svg>`'s `<title>`,
//! a tooltip over the whole chart, and its `aria-label`, which a screen reader reads, with
//! `role="img"`), and a tooltip over each bar or mark with that bar's figures.
//!
//! plotters writes no `<title>`; these are added to the SVG it wrote, escaped here.

/// The most tooltips one chart carries: past that, the summary alone (a chart of a year of
/// marks stays small).
pub(super) const MAX_TIPS: usize = 600;

/// Where one tooltip sits, in the SVG's pixels, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tip {
    Rect {
        from: (i32, i32),
        to: (i32, i32),
        text: String,
    },
    Dot {
        at: (i32, i32),
        text: String,
    },
}

/// Collects a chart's tooltips, at most [`MAX_TIPS`].
#[derive(Debug, Default)]
pub(super) struct Tips(Vec<Tip>);

impl Tips {
    pub(super) fn rect(&mut self, from: (i32, i32), to: (i32, i32), text: String) {
        if self.0.len() < MAX_TIPS {
            self.0.push(Tip::Rect { from, to, text });
        }
    }

    pub(super) fn dot(&mut self, at: (i32, i32), text: String) {
        if self.0.len() < MAX_TIPS {
            self.0.push(Tip::Dot { at, text });
        }
    }
}

/// `svg` (a whole `<svg>` document) with `role="img"`, `aria-label` and `<title>` saying
/// `summary`, `class="chart-svg"` and a transparent shape with its `<title>` over each tip.
pub(super) fn describe(svg: String, summary: &str, tips: &Tips) -> String {
    let Some(open_end) = svg.find('>') else {
        return svg;
    };
    let (open, rest) = svg.split_at(open_end);
    let rest = &rest[1..];
    let summary = escape(summary);
    let mut out = String::with_capacity(svg.len() + summary.len() * 2 + tips.0.len() * 120);
    out.push_str(open);
    out.push_str(&format!(
        r#" role="img" aria-label="{summary}"><title>{summary}</title>"#
    ));
    let (body, close) = match rest.trim_end().strip_suffix("</svg>") {
        Some(body) => (body, "</svg>\n"),
        None => (rest, ""),
    };
    out.push_str(body);
    if !tips.0.is_empty() {
        out.push_str(r#"<g class="tips" fill="transparent">"#);
        for tip in &tips.0 {
            match tip {
                Tip::Rect { from, to, text } => {
                    let (x, y) = (from.0.min(to.0), from.1.min(to.1));
                    let (w, h) = ((from.0 - to.0).abs().max(4), (from.1 - to.1).abs().max(4));
                    out.push_str(&format!(
                        r#"<rect x="{x}" y="{y}" width="{w}" height="{h}"><title>{}</title></rect>"#,
                        escape(text)
                    ));
                }
                Tip::Dot { at, text } => out.push_str(&format!(
                    r#"<circle cx="{}" cy="{}" r="6"><title>{}</title></circle>"#,
                    at.0,
                    at.1,
                    escape(text)
                )),
            }
        }
        out.push_str("</g>");
    }
    out.push_str(close);
    out
}

/// Text fit for an attribute or an element's content.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time in UTC for a tooltip or a summary: the minute (`Dec 07 10:40 UTC`).
pub(super) fn at_utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%b %d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A day in UTC (`Dec 07`), for weeks and longer spans.
pub(super) fn day_utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%b %d").to_string())
        .unwrap_or_default()
}

/// A number as a summary reads it: at most two decimals.
pub(super) fn figure(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}
