//! Flow: what shipped in the last days and where it is live, with the wait at each stage from
//! an idea's creation to every target market. The numbers come from `api::flow`; the chart
//! (an idea per row, a bar from stage to stage) is drawn by `charts::flow_chart`.

use super::PageResult;
use super::layout::{Nav, Page, badge, duration, empty, page, utc, when};
use crate::AppState;
use crate::api::flow::{shipped_ideas, window};
use crate::auth::{PageAuth, Viewer};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use tandem_core::flow::{Flow, MarketState, Stage, StageTime};

/// The window when the page is asked for without one: a week.
const DEFAULT_DAYS: u32 = 7;

#[derive(Debug, Deserialize)]
pub struct FlowQuery {
    days: Option<u32>,
}

/// What a person reads for each stage.
pub(super) fn label(stage: Stage) -> &'static str {
    match stage {
        Stage::Created => "created",
        Stage::FirstCommit => "first commit",
        Stage::GreenPipeline => "green pipeline",
        Stage::Release => "release",
        Stage::Pilot => "pilot market",
        Stage::AllTargets => "all target markets",
    }
}

pub async fn show(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<FlowQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let days = q.days.unwrap_or(DEFAULT_DAYS).max(1);
    let (from, to) = window(days);
    let ideas = shipped_ideas(&state.engine, from, to).await?;
    let heading = if days == 7 {
        "this week".to_string()
    } else {
        format!("the last {days} days")
    };
    let body = html! {
        div.page-head {
            h1 { "Flow" }
            span.muted { "what shipped " (heading) ", and where it is live" }
        }
        form.filters method="get" action="/flow" data-autosubmit {
            label { span { "Days" }
                select name="days" {
                    @for d in [1u32, 7, 14, 30, 90] {
                        option value=(d) selected[d == days] { (d) }
                    }
                }
            }
        }
        section.panel {
            @if ideas.is_empty() {
                (empty("No idea reached a market in this window. An idea ships when a release carrying a commit that mentions its key goes live in a market."))
            } @else {
                figure.chart #flow-chart { (PreEscaped(flow_chart(&ideas, to))) }
                table.data #flow {
                    thead { tr {
                        th { "Idea" } th { "Now" }
                        @for stage in &Stage::ALL[1..] { th.num title="wait since the stage before" { "→ " (label(*stage)) } }
                        th.num title="from the idea's creation to its furthest stage" { "Total" }
                        th { "Live in" } th { "Pending" }
                    } }
                    tbody {
                        @for i in &ideas {
                            tr data-idea=(i.idea.key) {
                                td.long { (super::links::idea(&i.idea.key)) " " (i.idea.title) }
                                td { (badge(label(i.flow.now.stage))) }
                                @for stage in &i.flow.stages[1..] { (wait(stage)) }
                                td.num { (total(&i.flow)) }
                                td { (live_in(&i.flow)) }
                                td.muted {
                                    @if i.flow.now.pending.is_empty() { "—" } @else { (i.flow.now.pending.join(", ")) }
                                }
                            }
                        }
                    }
                }
                p.muted { "Each stage shows the wait since the stage before it; hover for the time. "
                    "The pilot is the first wave's markets; an idea with no target markets targets them all." }
            }
        }
    };
    Ok(page(
        Page {
            title: "Flow",
            nav: Nav::Flow,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// A stage's wait since the stage before, with its time and what reached it on hover.
fn wait(stage: &StageTime) -> Markup {
    match (stage.at, stage.since_previous) {
        (Some(at), Some(ms)) => {
            let by = stage.by.as_deref().unwrap_or("");
            html! { td.num data-stage=(stage.stage.as_str()) title={ (utc(at)) " " (by) } { (duration(ms)) } }
        }
        _ => html! { td.num.muted data-stage=(stage.stage.as_str()) { "—" } },
    }
}

fn total(flow: &Flow) -> Markup {
    match flow.stages.iter().rev().find_map(|s| s.since_created) {
        Some(ms) if flow.now.stage != Stage::Created => html! { (duration(ms)) },
        _ => html! { span.muted { "—" } },
    }
}

/// The markets where it is live, each with when it arrived there.
fn live_in(flow: &Flow) -> Markup {
    html! {
        @for m in flow.markets.iter().filter(|m| m.state == MarketState::Live) {
            span.chip title={ "first arrived " (m.arrived_at.map(utc).unwrap_or_default()) } { (super::links::market(&m.market)) }
            " "
        }
        @if flow.now.live.is_empty() { span.muted { "—" } }
        @for m in flow.markets.iter().filter(|m| m.state == MarketState::Withdrawn) {
            span.chip.muted title="arrived, then rolled back" { (m.market) " ↩" } " "
        }
        @if let Some(first) = flow.markets.iter().filter_map(|m| m.arrived_at).min() {
            span.muted { " first " (when(Some(first))) }
        }
    }
}

/// The ideas as rows of the flow chart, each stage at the time it was reached.
fn flow_chart(ideas: &[crate::api::flow::IdeaFlow], now: i64) -> String {
    let rows: Vec<super::charts::FlowRow> = ideas
        .iter()
        .map(|i| super::charts::FlowRow {
            key: i.idea.key.clone(),
            stages: i
                .flow
                .stages
                .iter()
                .map(|s| (label(s.stage).to_string(), s.at))
                .collect(),
        })
        .collect();
    super::charts::flow_chart("From idea to every target market", &rows, now)
}
