//! The overview: the market matrix (what runs where, grouped by wave), what is in flight, open
//! incidents and the latest runs. The one page dev and ops both keep open.

use super::PageResult;
use super::layout::{IDLE_REFRESH, LIVE_REFRESH, Nav, Page, badge, count, dot, empty, page, sha, when};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use crate::views::{MarketStatus, market_matrix};
use axum::extract::State;
use maud::{Markup, html};
use tandem_store::{IncidentRow, RolloutRow, RunRow};

/// How many runs the overview lists.
const LATEST_RUNS: i64 = 5;
/// How many rollouts are read to find those in flight (only a few run at once).
const RECENT_ROLLOUTS: i64 = 50;

pub async fn show(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let engine = &state.engine;
    let matrix = market_matrix(&state.engine).await?;
    let waves = engine.list_waves().await?;
    let rollouts = engine.list_rollouts(RECENT_ROLLOUTS).await?;
    let versions = engine
        .list_release_versions(&rollouts.iter().map(|r| r.release_id).collect::<Vec<_>>())
        .await?;
    let runs = engine.list_runs(None, LATEST_RUNS).await?;
    let incidents: Vec<IncidentRow> = engine.list_open_incidents().await?;

    let flying: Vec<&RolloutRow> = rollouts.iter().filter(|r| r.in_progress()).collect();
    let busy_runs: Vec<&RunRow> = runs.iter().filter(|r| r.state.is_in_progress()).collect();
    let live = !flying.is_empty()
        || !busy_runs.is_empty()
        || matrix.iter().any(|m| m.services.iter().any(|s| s.in_flight.is_some()));

    // Markets in wave order; a market no wave names comes last, as the rollout plan does.
    let mut groups: Vec<(String, Vec<&MarketStatus>)> = waves
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                matrix
                    .iter()
                    .filter(|m| m.wave.as_deref() == Some(w.name.as_str()))
                    .collect(),
            )
        })
        .collect();
    let loose: Vec<&MarketStatus> = matrix.iter().filter(|m| m.wave.is_none()).collect();
    if !loose.is_empty() {
        groups.push(("no wave".to_string(), loose));
    }

    let healthy = |h: &str| matrix.iter().filter(|m| market_health(m) == h).count();
    let body = html! {
        div.page-head {
            h1 { "Overview" }
            div.stats {
                span.stat { b { (matrix.len()) } " markets" }
                span.stat.ok { b { (healthy("up")) } " up" }
                span.stat.bad { b { (healthy("down")) } " down" }
                span.stat.busy { b { (flying.len() + busy_runs.len()) } " in flight" }
                span.stat.bad[!incidents.is_empty()] { b { (incidents.len()) } " open incident" @if incidents.len() != 1 { "s" } }
                a.stat href="/delivery" { "DORA keys →" }
            }
        }
        section.panel {
            h2 { "Markets" }
            @if matrix.is_empty() {
                (empty("No market yet: declare markets in the platform file."))
            }
            div.matrix {
                @for (wave, markets) in &groups {
                    div.wave-row {
                        div.wave-label {
                            span.wave-name { (wave) }
                            span.muted { (count(markets.len(), "market")) }
                        }
                        div.tiles {
                            @for m in markets { (tile(m)) }
                        }
                    }
                }
            }
        }
        div.columns {
            section.panel {
                h2 { "In flight" }
                @if flying.is_empty() && busy_runs.is_empty() {
                    (empty("Nothing in flight."))
                }
                ul.list {
                    @for r in &flying {
                        li {
                            a href={ "/rollouts/" (r.id) } { "Rollout #" (r.id) }
                            " " (r.service) " " b { (versions.get(&r.release_id).map_or("?", String::as_str)) }
                            " " (badge(r.state.as_str()))
                            span.right.muted { "wave " (r.current_wave + 1) }
                        }
                    }
                    @for r in &busy_runs {
                        li {
                            a href={ "/runs/" (r.id) } { "Run #" (r.id) }
                            " " (r.service) " " (sha(&r.commit_sha)) " " (badge(r.state.as_str()))
                            span.right.muted { (when(r.started_at.or(Some(r.created_at)))) }
                        }
                    }
                }
                @if let Some(last) = rollouts.iter().find(|r| !r.in_progress()) {
                    p.last {
                        "Last rollout: "
                        a href={ "/rollouts/" (last.id) } { "#" (last.id) }
                        " " (last.service) " " b { (versions.get(&last.release_id).map_or("?", String::as_str)) }
                        " " (badge(last.state.as_str())) " " (when(last.finished_at.or(Some(last.created_at))))
                    }
                }
            }
            section.panel {
                h2 { a href="/incidents?state=open" { "Open incidents" } }
                @if incidents.is_empty() {
                    (empty("No open incident."))
                }
                ul.list {
                    @for i in &incidents {
                        li {
                            (badge(i.state.as_str())) " "
                            span.market-id { (i.market) } " " a href={ "/incidents/" (i.id) } { (i.title) }
                            span.right.muted { (i.service) (dot()) (when(Some(i.opened_at))) }
                        }
                    }
                }
            }
            section.panel {
                h2 { a href="/runs" { "Latest runs" } }
                @if runs.is_empty() {
                    (empty("No run yet."))
                }
                ul.list {
                    @for r in &runs {
                        li {
                            a href={ "/runs/" (r.id) } { "#" (r.id) }
                            " " (r.service) " " (sha(&r.commit_sha)) " " (badge(r.state.as_str()))
                            span.right.muted { (when(Some(r.created_at))) }
                        }
                    }
                }
            }
        }
    };
    let refresh = Some(if live { LIVE_REFRESH } else { IDLE_REFRESH });
    Ok(page(
        Page {
            title: "Overview",
            nav: Nav::Overview,
            caller: Some(&auth.0),
            refresh,
        },
        body,
    ))
}

/// A market's health over its services: down if one is down, up if one is up, else none.
fn market_health(m: &MarketStatus) -> &'static str {
    if m.services.iter().any(|s| s.health == "down") {
        "down"
    } else if m.services.iter().any(|s| s.health == "up") {
        "up"
    } else {
        "none"
    }
}

fn tile(m: &MarketStatus) -> Markup {
    let health = market_health(m);
    let flying = m.services.iter().any(|s| s.in_flight.is_some());
    html! {
        div class={ "tile h-" (health) @if flying { " flying" } } data-market=(m.market.id) {
            div.tile-head {
                span.market-id { (m.market.id) }
                span.market-name { (m.market.name) }
                span class={ "badge " (match health { "up" => "ok", "down" => "bad", _ => "idle" }) } { (health) }
            }
            @for s in &m.services {
                div.svc {
                    span.svc-name { (s.service) }
                    @match &s.release {
                        Some(version) => {
                            b.version { (version) }
                            span.muted { (when(s.since)) }
                        }
                        None => { span.muted { "nothing deployed" } }
                    }
                    @if let Some(url) = &s.url {
                        a.open href=(url) target="_blank" rel="noopener" title=(url) { "open ↗" }
                    }
                }
                @if let Some(next) = &s.in_flight {
                    div.flight { "deploying " b { (next) } "…" }
                }
                @if let Some(failure) = &s.last_failure {
                    div.failure title=(failure) { (failure) }
                }
            }
            @if m.market.state != "live" {
                div.muted.small { (m.market.state) }
            }
        }
    }
}
