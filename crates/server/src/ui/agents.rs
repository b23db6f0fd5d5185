//! The agents page: every agent with its labels, jobs running against its capacity, mode,
//! version, host and when it was last seen; operators pause, drain or resume one here.

use super::PageResult;
use super::layout::{Nav, Page, badge, empty, page, when};
use crate::AppState;
use crate::auth::{Operator, PageAuth, Viewer};
use axum::extract::{Path, State};
use axum::response::Redirect;
use maud::html;
use tandem_core::role::Role;

/// An agent counts as connected this long after it last asked for work.
const CONNECTED: i64 = 60_000;

/// `GET /agents`.
pub async fn list(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let agents = state.engine.list_agents().await?;
    let now = tandem_store::now_ms();
    let steer = auth.0.role.allows(Role::Operator);
    let busy = agents.iter().any(|(_, running)| *running > 0);
    let body = html! {
        div.page-head {
            h1 { "Agents" }
            span.muted { "they run every pipeline job; add one with " code { "tandem agents register NAME" } " (docs/agents.md)" }
        }
        section.panel {
            @if agents.is_empty() {
                (empty("No agent yet: jobs wait until one connects."))
            } @else {
                table.data.agents {
                    thead { tr { th { "name" } th { "labels" } th.num { "jobs" } th { "state" } th { "version" } th { "host" } th { "last seen" } @if steer { th {} } } }
                    tbody {
                        @for (a, running) in &agents {
                            @let connected = a.revoked_at.is_none() && a.seen_at.is_some_and(|s| now - s < CONNECTED);
                            @let shown = if a.revoked_at.is_some() { "revoked" } else if !connected { "offline" } else { a.mode.as_str() };
                            tr id={ "agent-" (a.name) } {
                                td { (a.name) }
                                td { @for l in a.labels() { span.label { (l) } " " } }
                                td.num { (running) " / " (a.capacity) }
                                td { (badge(shown)) }
                                td { (a.version.as_deref().unwrap_or("—")) }
                                td { (a.host.as_deref().unwrap_or("—")) }
                                td { (when(a.seen_at)) }
                                @if steer {
                                    td {
                                        @if a.revoked_at.is_none() {
                                            @for (mode, label) in [("paused", "Pause"), ("draining", "Drain"), ("active", "Resume")] {
                                                @if a.mode != mode {
                                                    form.inline method="post" action={ "/agents/" (a.name) "/" (mode) } {
                                                        button.btn type="submit" { (label) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Agents",
            nav: Nav::Agents,
            caller: Some(&auth.0),
            refresh: busy.then_some(super::layout::LIVE_REFRESH),
        },
        body,
    ))
}

/// `POST /agents/{name}/{mode}`: pauses, drains or resumes it; back to the list.
pub async fn set_mode(
    auth: PageAuth<Operator>,
    State(state): State<AppState>,
    Path((name, mode)): Path<(String, String)>,
) -> PageResult<Redirect> {
    state.engine.set_agent_mode(&name, &mode, &auth.0.name).await?;
    Ok(Redirect::to(&format!("/agents#agent-{name}")))
}

/// `GET /agents/{name}/{mode}`: where sign-in returns; nothing is done on a GET.
pub async fn back_to_agents() -> Redirect {
    Redirect::to("/agents")
}
