//! Ideas: where each stands, and in which markets its commits are live.

use super::PageResult;
use super::layout::{Nav, Page, badge, empty, page, when};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use crate::views::idea_detail;
use axum::extract::State;
use maud::html;

pub async fn list(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let mut ideas = Vec::new();
    for idea in state.engine.store.list_ideas().await? {
        ideas.push(idea_detail(&state.engine, idea).await?);
    }
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
