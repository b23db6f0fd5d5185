//! A rollout's waves on its page. A small wave shows each market as a cell; a big one is summed
//! up: its counts by state, worst first, its failed and blocked markets named as cells, and a
//! link to its markets a page at a time (`/rollouts/{id}?wave=&state=&after=`). The page holds
//! at most a few hundred cells whatever the number of markets.

use super::PageError;
use super::layout::{badge, count, tone, when};
use crate::error::ApiError;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use tandem_core::state::DeploymentKind;
// A market's states, worst first: the order of a wave's counts.
use tandem_core::rollout::MARKET_STATES as STATES;
use tandem_engine::views::rollouts::{WaveDetail, WaveMarket};

/// A wave of at most this many markets shows each as a cell; a bigger one is summed up.
pub const WAVE_CELLS: usize = 24;

/// The most failed, blocked or deploying markets a summed-up wave names as cells.
pub const TROUBLED_CELLS: usize = 12;

/// Markets a page of one wave shows (`?wave=`): about 100 KB of cells with their gates.
pub const WAVE_PAGE: usize = 100;

/// Markets of these states are named on a summed-up wave, in this order.
const TROUBLED: [&str; 3] = ["failed", "blocked", "deploying"];

/// One wave's markets a page at a time, as they come in the query string
/// (`?wave=rest&state=failed&after=bz`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveQuery {
    /// The wave whose markets to page; the summary of every wave without it.
    pub wave: Option<String>,
    /// Only its markets in this state (see [`STATES`]).
    pub state: Option<String>,
    /// The market after which the page starts: the last one of the previous page.
    pub after: Option<String>,
}

impl WaveQuery {
    /// The wave asked for, if any, checked against the rollout's waves and the known states.
    pub fn wave<'a>(&self, rollout_id: i64, waves: &'a [WaveDetail]) -> Result<Option<&'a WaveDetail>, PageError> {
        let filled = |v: &Option<String>| super::forms::filled(v).map(str::to_string);
        if let Some(s) = filled(&self.state)
            && !STATES.contains(&s.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "`{s}` is not a market's state in a rollout: use one of {}",
                STATES.join(", ")
            ))
            .into());
        }
        let Some(name) = filled(&self.wave) else {
            if filled(&self.state).is_some() || filled(&self.after).is_some() {
                return Err(
                    ApiError::bad_request("`state` and `after` page one wave's markets: name it with `wave=`").into(),
                );
            }
            return Ok(None);
        };
        match waves.iter().find(|w| w.name == name) {
            Some(w) => Ok(Some(w)),
            None => Err(ApiError::bad_request(format!(
                "rollout {rollout_id} has no wave `{name}`: its waves are {}",
                waves.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .into()),
        }
    }

    fn state(&self) -> Option<&str> {
        super::forms::filled(&self.state)
    }

    fn after(&self) -> Option<&str> {
        super::forms::filled(&self.after)
    }
}

/// The link to a page of one wave's markets (in `state` only, starting after `after`).
pub fn wave_href(rollout_id: i64, wave: &str, state: Option<&str>, after: Option<&str>) -> String {
    let mut href = format!("/rollouts/{rollout_id}?wave={}", crate::auth::url_encode(wave));
    for (name, value) in [("state", state), ("after", after)] {
        if let Some(v) = value {
            href.push_str(&format!("&{name}={}", crate::auth::url_encode(v)));
        }
    }
    href
}

/// What every cell of the page needs besides its market.
pub struct Cells<'a> {
    pub rollout_id: i64,
    /// An operator may skip a waiting market of a rollout under way.
    pub can_skip: bool,
    /// Market ids to names.
    pub names: &'a HashMap<String, String>,
    /// Release ids to versions.
    pub versions: &'a HashMap<i64, String>,
    pub metrics: Option<&'a tandem_core::gates::MetricGates>,
}

/// A wave's row: each market as a cell when it is small, summed up when it is big.
pub fn wave_row(w: &WaveDetail, is_current: bool, cells: &Cells) -> Markup {
    html! {
        div.grid-row.current[is_current] data-wave=(w.name) {
            (wave_label(w))
            @if w.markets.len() <= WAVE_CELLS {
                div.cells { @for m in &w.markets { (cell(m, cells)) } }
            } @else {
                (wave_summary(w, cells))
            }
        }
    }
}

/// A wave's place, name and state.
fn wave_label(w: &WaveDetail) -> Markup {
    html! {
        div.wave-label {
            span.wave-name { span.wave-idx { (w.index + 1) } (w.name) }
            (badge(w.state.as_str()))
        }
    }
}

/// How many markets of the wave are in each state, worst first; states with none left out.
fn counts(w: &WaveDetail) -> Vec<(&'static str, usize)> {
    let mut by_state: HashMap<&str, usize> = HashMap::new();
    for m in &w.markets {
        *by_state.entry(m.state.as_str()).or_default() += 1;
    }
    STATES
        .iter()
        .filter_map(|s| by_state.get(s).map(|n| (*s, *n)))
        .collect()
}

/// A big wave: its counts by state (each a link to those markets), its failed, blocked and
/// deploying markets as cells (at most [`TROUBLED_CELLS`]) and a link to all of its markets.
fn wave_summary(w: &WaveDetail, cells: &Cells) -> Markup {
    let troubled: Vec<&WaveMarket> = TROUBLED
        .iter()
        .flat_map(|s| w.markets.iter().filter(move |m| m.state == *s))
        .take(TROUBLED_CELLS)
        .collect();
    let counts = counts(w);
    // Failed and blocked markets not named here, reached through their counts.
    let unnamed: Vec<(&str, usize)> = ["failed", "blocked"]
        .into_iter()
        .filter_map(|s| {
            let all = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
            let shown = troubled.iter().filter(|m| m.state == s).count();
            (all > shown).then_some((s, all - shown))
        })
        .collect();
    html! {
        div.wave-summary {
            div.summary-counts {
                @for (s, n) in &counts {
                    a class={ "stat " (tone(s)) } data-state=(s) href=(wave_href(cells.rollout_id, &w.name, Some(s), None)) {
                        b { (n) } " " (s)
                    }
                }
                a.stat href=(wave_href(cells.rollout_id, &w.name, None, None)) {
                    "all " (w.markets.len()) " markets of " (w.name) " →"
                }
            }
            @if troubled.is_empty() {
                p.muted.small { "No market of this wave failed, is blocked or is deploying." }
            } @else {
                div.cells { @for m in &troubled { (cell(m, cells)) } }
            }
            @if !unnamed.is_empty() {
                p.small {
                    "And "
                    @for (i, (s, n)) in unnamed.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(wave_href(cells.rollout_id, &w.name, Some(s), None)) { (n) " more " (s) }
                    }
                    " →"
                }
            }
        }
    }
}

/// One wave's markets, [`WAVE_PAGE`] at a time in plan order (in one state when asked), with
/// the link to the next page.
pub fn wave_page(w: &WaveDetail, q: &WaveQuery, cells: &Cells) -> Result<Markup, PageError> {
    let matching: Vec<&WaveMarket> = w
        .markets
        .iter()
        .filter(|m| q.state().is_none_or(|s| m.state == s))
        .collect();
    let first = match q.after() {
        None => 0,
        Some(after) => match matching.iter().position(|m| m.market == after) {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::bad_request(format!(
                    "wave {} has no market `{after}` to page after{}: follow the page's own links",
                    w.name,
                    q.state().map(|s| format!(" among its {s} markets")).unwrap_or_default()
                ))
                .into());
            }
        },
    };
    let page: Vec<&WaveMarket> = matching.iter().skip(first).take(WAVE_PAGE).copied().collect();
    let next = page
        .last()
        .filter(|_| first + page.len() < matching.len())
        .map(|m| wave_href(cells.rollout_id, &w.name, q.state(), Some(&m.market)));
    Ok(html! {
        div.grid-row data-wave=(w.name) {
            (wave_label(w))
            div.wave-summary { div.summary-counts {
                a.stat href={ "/rollouts/" (cells.rollout_id) } { "← every wave" }
                @for (s, n) in counts(w) {
                    a class={ "stat " (tone(s)) @if q.state() == Some(s) { " chosen" } } data-state=(s)
                        href=(wave_href(cells.rollout_id, &w.name, Some(s), None)) { b { (n) } " " (s) }
                }
                @if q.state().is_some() {
                    a.stat href=(wave_href(cells.rollout_id, &w.name, None, None)) { "all " (w.markets.len()) " markets" }
                }
            }
            @if page.is_empty() {
                p.empty { "No market of this wave is " (q.state().unwrap_or("here")) "." }
            } @else {
                p.muted.small.page-note {
                    "Markets " (first + 1) "–" (first + page.len()) " of " (count(matching.len(), "market"))
                    @if let Some(s) = q.state() { " " (s) } " in wave " (w.name)
                }
                div.cells { @for m in &page { (cell(m, cells)) } }
            }
            @if first > 0 || next.is_some() {
                nav.pager aria-label="Pages of the wave's markets" {
                    @if first > 0 { a href=(wave_href(cells.rollout_id, &w.name, q.state(), None)) { "← First page" } }
                    @if let Some(next) = &next { a href=(next) rel="next" { "Next →" } }
                }
            }
            }
        }
    })
}

/// A market's cell: its state, the rollout's deployment there, its gates with their figures.
fn cell(m: &WaveMarket, c: &Cells) -> Markup {
    html! {
        div class={ "cell " (tone(m.state.as_str())) " st-" (m.state.replace(' ', "-")) } data-market=(m.market) data-state=(m.state) {
            div.cell-head {
                (super::links::market(&m.market))
                span.market-name { (c.names.get(&m.market).map_or("", String::as_str)) }
            }
            div.cell-state { (m.state) }
            @if m.state == "unchanged" {
                div.cell-meta.muted { "same values: not redeployed" }
            }
            @if let Some(d) = &m.deployment {
                div.cell-meta {
                    b { (super::links::release(d.release_id, c.versions.get(&d.release_id).map_or("?", String::as_str))) }
                    @if let Some(v) = d.config_version.filter(|_| d.kind == DeploymentKind::Config) {
                        " " span.version { "config v" (v) }
                    }
                    " " (when(d.finished_at.or(Some(d.started_at))))
                }
                @if let Some(reason) = d.reason.as_deref().filter(|r| {
                    matches!(m.state.as_str(), "failed" | "blocked" | "skipped")
                        && !m.gates.iter().any(|g| !g.passed && g.reason == *r)
                }) {
                    div.reason { (reason) }
                }
            }
            @if !m.gates.is_empty() {
                ul.gates {
                    @for g in &m.gates {
                        li class={ "gate " @if g.passed { "ok" } @else { "bad" } } data-gate=(g.gate) {
                            span.gate-mark { @if g.passed { "✓" } @else { "✗" } }
                            " " b { (g.gate) } " "
                            @if let Some(f) = super::units::gate_figures(&g.gate, g.value, g.bound, c.metrics) {
                                span.figure { (f) } " "
                            }
                            span.gate-reason { (g.reason) }
                        }
                    }
                }
            }
            @if c.can_skip && m.state == "waiting" {
                a.btn.small.skip href={ "/rollouts/" (c.rollout_id) "/skip?market=" (crate::auth::url_encode(&m.market)) } { "Skip" }
            }
        }
    }
}
