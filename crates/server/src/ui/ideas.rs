//! Ideas: where each stands, and in which markets its commits are live. A page of ideas at a
//! time, read in the same few queries whatever their number.

use super::PageResult;
use super::layout::{Nav, Page, badge, empty, page, when};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

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
                                td { code { (d.idea.key) } }
                                td { (d.idea.title) }
                                td { (badge(d.state.as_str())) }
                                td.muted { @if targets.is_empty() { "all markets" } @else { (targets.join(", ")) } }
                                td {
                                    @for m in &d.live_in { span.chip { (m) } " " }
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
