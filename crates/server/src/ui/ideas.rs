//! Ideas: where each stands, and in which markets its commits are live. A page of ideas at a
//! time, read in the same few queries whatever their number; and one idea's page with its
//! commits, their runs, the releases that carry them, the markets reached and its flow (the
//! wait at each stage from its creation to every target market).

use super::layout::{Nav, Page, badge, count, dot, duration, empty, page, utc, when};
use super::{PageError, PageResult, links};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use tandem_core::flow::{Flow, MarketState, Stage, compute_flow};
use tandem_store::CommitRow;

/// Ideas per page.
const PAGE_SIZE: i64 = 100;

/// Which page of ideas to show: those past the idea with id `after`.
#[derive(Debug, Default, Deserialize)]
pub struct IdeasPageQuery {
    after: Option<i64>,
}

/// `GET /ideas`: a page of ideas, oldest first, with a link to the next page when it is full.
pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<IdeasPageQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let ideas = state.engine.ideas_page(q.after, PAGE_SIZE).await?;
    let next = (ideas.len() as i64 >= PAGE_SIZE)
        .then(|| ideas.last().map(|d| d.idea.id))
        .flatten();
    let body = html! {
        div.page-head { h1 { "Ideas" } span.muted { "mention an idea's key in a commit message to link it" } a href="/flow" { "What shipped this week →" } }
        section.panel {
            @if ideas.is_empty() {
                (empty("No idea yet. Add one with `tandem idea add \"<title>\"`."))
            } @else {
                table.data {
                    thead { tr {
                        th { "Key" } th { "Title" } th { "State" } th { "Targets" } th { "Live in" } th.num { "Commits" } th { "Created" }
                    } }
                    tbody {
                        @for d in &ideas {
                            @let targets: Vec<String> = serde_json::from_str(&d.idea.markets).unwrap_or_default();
                            tr {
                                td { (links::idea(&d.idea.key)) }
                                td.long { (d.idea.title) }
                                td { (badge(d.state.as_str())) }
                                td.muted { @if targets.is_empty() { "all markets" } @else { @for m in &targets { (links::market(m)) " " } } }
                                td {
                                    @for m in &d.live_in { span.chip { (links::market(m)) } " " }
                                    @if d.live_in.is_empty() { span.muted { "—" } }
                                }
                                td.num { (d.commits.len()) }
                                td { (when(Some(d.idea.created_at))) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href=(format!("/ideas?after={next}")) { "Later ideas →" } }
            }
        }
    };
    Ok(page(
        Page {
            title: "Ideas",
            nav: Nav::Ideas,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// `GET /ideas/{key}`: one idea.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(key): Path<String>) -> PageResult {
    let engine = &state.engine;
    let d = engine.idea_detail(&key).await.map_err(|e| match e {
        tandem_engine::Error::NotFound { .. } => PageError::not_found(format!("there is no idea `{key}`")),
        e => e.into(),
    })?;
    let facts = engine.load_idea_flow(&key).await?;
    let flow = facts
        .ideas
        .first()
        .map(|(_, idea_facts)| compute_flow(&facts.context, idea_facts));
    let work = engine.idea_work(&d.commits).await?;
    let targets: Vec<String> = serde_json::from_str(&d.idea.markets).unwrap_or_default();
    let body = html! {
        div.page-head {
            h1 { code { (d.idea.key) } " " (d.idea.title) " " (badge(d.state.as_str())) }
            a.right href="/ideas" { "All ideas" }
            div.meta {
                "created " (when(Some(d.idea.created_at))) (dot())
                "targets " @if targets.is_empty() { "every market" } @else { @for m in &targets { (links::market(m)) " " } }
                (dot()) "live in " (count(d.live_in.len(), "market"))
            }
        }
        @if let Some(flow) = &flow { (flow_panel(&d.idea.key, flow, &d.commits)) }
        section.panel.commits {
            h2 { "Commits" }
            @if d.commits.is_empty() {
                (empty("No commit mentions this key yet."))
            } @else {
                table.data {
                    thead { tr { th { "Commit" } th { "Service" } th { "Message" } th { "Author" } th { "Committed" } } }
                    tbody {
                        @for c in &d.commits {
                            tr {
                                td { (links::commit(&c.service, &c.sha)) }
                                td { (c.service) }
                                td.long { (c.message.lines().next().unwrap_or("")) }
                                td { (c.author) }
                                td { (when(Some(c.committed_at))) }
                            }
                        }
                    }
                }
            }
        }
        div.columns {
            section.panel.runs {
                h2 { "Runs" }
                @if work.runs.is_empty() { (empty("No run of its commits.")) }
                ul.list {
                    @for r in &work.runs {
                        li { (links::run(r.id)) " " (r.service) " " (links::commit(&r.service, &r.commit_sha)) " " (badge(r.state.as_str())) span.right.muted { (when(Some(r.created_at))) } }
                    }
                }
            }
            section.panel.releases {
                h2 { "Releases that carry it" }
                @if work.releases.is_empty() { (empty("No release carries it yet.")) }
                ul.list {
                    @for r in &work.releases {
                        li { (r.service) " " (links::release(r.id, &r.version)) span.right.muted { (when(Some(r.created_at))) } }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: &format!("{} {}", d.idea.key, d.idea.title),
            nav: Nav::Ideas,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// The idea's stages with when each was reached and the wait since the one before, and its
/// markets: where it is live, withdrawn or pending.
fn flow_panel(key: &str, flow: &Flow, commits: &[CommitRow]) -> Markup {
    // The Flow page's chart, for this idea alone: a bar from stage to stage, running on to now
    // while the idea is on its way.
    let row = super::charts::FlowRow {
        key: key.to_string(),
        stages: flow
            .stages
            .iter()
            .map(|s| (super::flow::label(s.stage).to_string(), s.at))
            .collect(),
    };
    let chart = super::charts::flow_chart("From idea to every target market", &[row], tandem_store::now_ms());
    let reached: Vec<_> = flow
        .markets
        .iter()
        .filter(|m| m.state != MarketState::Pending)
        .collect();
    let pending: Vec<_> = flow
        .markets
        .iter()
        .filter(|m| m.state == MarketState::Pending)
        .collect();
    html! {
        section.panel.flow {
            div.panel-head { h2 { "Flow" } span.muted { "now: " (super::flow::label(flow.now.stage)) } }
            figure.chart #idea-flow-chart { (maud::PreEscaped(chart)) }
            table.data.stages {
                thead { tr { th { "Stage" } th { "Reached" } th.num { "Wait since the stage before" } th { "By" } } }
                tbody {
                    @for s in &flow.stages {
                        tr data-stage=(s.stage.as_str()) {
                            td { (super::flow::label(s.stage)) }
                            td { @match s.at { Some(at) => { time title=(utc(at)) { (utc(at)) } }, None => { span.muted { "not yet" } } } }
                            td.num { @match s.since_previous { Some(ms) if s.at.is_some() => { (duration(ms)) }, _ => { span.muted { "—" } } } }
                            td.small { (stage_by(s.stage, s.by.as_deref(), commits)) }
                        }
                    }
                }
            }
            @if !pending.is_empty() {
                p.pending { "Not reached yet: " @for m in &pending { (links::market(&m.market)) @if m.pilot { " " span.small.muted { "(pilot)" } } " " } }
            }
            @if !reached.is_empty() {
                h3 { "Markets reached" }
                table.data.idea-markets {
                    thead { tr { th { "Market" } th { "State" } th { "First arrived" } th { "With" } th { "Runs now" } } }
                    tbody {
                        @for m in &reached {
                            tr data-market=(m.market) {
                                td { (links::market(&m.market)) @if m.pilot { " " span.muted.small { "pilot" } } @if !m.target { " " span.muted.small { "not a target" } } }
                                td { (badge(match m.state { MarketState::Live => "live", MarketState::Withdrawn => "withdrawn", MarketState::Pending => "pending" })) }
                                td { (when(m.arrived_at)) }
                                td { (release_text(m.arrived_with.as_deref())) }
                                td { (release_text(m.live_release.as_deref())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What reached a stage, as a link: a commit, a run, a release or a market.
fn stage_by(stage: Stage, by: Option<&str>, commits: &[CommitRow]) -> Markup {
    let Some(by) = by else { return html! {} };
    match stage {
        Stage::FirstCommit => match commits.iter().find(|c| c.sha == by) {
            Some(c) => links::commit(&c.service, &c.sha),
            None => html! { code { (by) } },
        },
        Stage::GreenPipeline => match by.strip_prefix("run ").and_then(|n| n.parse().ok()) {
            Some(id) => links::run(id),
            None => html! { (by) },
        },
        Stage::Release => release_text(Some(by)),
        Stage::Pilot | Stage::AllTargets if !by.contains(' ') => links::market(by),
        _ => html! { (by) },
    }
}

/// "shop v3" as the service and a link to the release.
fn release_text(text: Option<&str>) -> Markup {
    match text.and_then(|t| t.split_once(' ')) {
        Some((service, version)) => html! { (service) " " (links::version(service, version)) },
        None => html! { span.muted { "—" } },
    }
}
