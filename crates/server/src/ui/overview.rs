//! The overview: the market matrix (what runs where, grouped by wave), what is in flight, open
//! incidents and the latest runs. The one page dev and ops both keep open.

use super::layout::{IDLE_REFRESH, LIVE_REFRESH, Nav, Page, badge, count, dot, empty, page, when};
use super::{PageResult, links};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::State;
use maud::{Markup, html};
use tandem_engine::views::markets::MarketStatus;
use tandem_engine::views::overview::WaveGroup;
use tandem_store::{IncidentRow, RolloutRow, RunRow};

pub async fn show(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let overview = state.engine.overview().await?;
    let (groups, incidents, runs) = (&overview.groups, &overview.incidents, &overview.runs);
    let flying: Vec<&RolloutRow> = overview.rollouts_in_flight.iter().collect();
    let busy_runs: Vec<&RunRow> = overview.runs_in_flight().collect();
    let markets = overview.sum(|c| c.markets);
    let body = html! {
        div.page-head {
            h1 { "Overview" }
            div.stats {
                span.stat { b { (markets) } " markets" }
                span.stat.ok { b { (overview.sum(|c| c.up)) } " up" }
                span.stat.bad { b { (overview.sum(|c| c.down)) } " down" }
                span.stat.busy { b { (flying.len() + busy_runs.len()) } " in flight" }
                span.stat.bad[!incidents.is_empty()] { b { (incidents.len()) } " open incident" @if incidents.len() != 1 { "s" } }
                a.stat href="/releases" { "Releases →" }
                a.stat href="/flags" { "Flags →" }
                a.stat href="/delivery" { "DORA keys →" }
            }
        }
        section.panel {
            h2 { "Markets" }
            @if markets == 0 {
                (empty("No market yet: declare markets in the platform file."))
            }
            div.matrix {
                @for group in groups {
                    div.wave-row {
                        div.wave-label {
                            span.wave-name { (group.name) }
                            span.muted { (count(group.counts.markets as usize, "market")) }
                        }
                        @if group.summed_up() {
                            (wave_summary(group, incidents))
                        } @else {
                            div.tiles {
                                @for m in &group.markets { (tile(m, incidents)) }
                            }
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
                            a href=(links::rollout_href(r.id)) { "Rollout #" (r.id) }
                            " " (r.service) " " b { (links::release(r.release_id, overview.version(r.release_id))) }
                            " " (badge(r.state.as_str()))
                            span.right.muted { "wave " (r.current_wave + 1) }
                        }
                    }
                    @for r in &busy_runs {
                        li {
                            a href=(links::run_href(r.id)) { "Run #" (r.id) }
                            " " (r.service) " " (links::commit(&r.service, &r.commit_sha)) " " (badge(r.state.as_str()))
                            span.right.muted { (when(r.started_at.or(Some(r.created_at)))) }
                        }
                    }
                }
                @if let Some(last) = &overview.last_rollout {
                    p.last {
                        "Last rollout: "
                        a href=(links::rollout_href(last.id)) { "#" (last.id) }
                        " " (last.service) " " b { (super::rollouts::carries(last, overview.version(last.release_id))) }
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
                    @for i in incidents {
                        li {
                            (badge(i.state.as_str())) " "
                            (links::market(&i.market)) " " a href=(links::incident_href(i.id)) { (i.title) }
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
                    @for r in runs {
                        li {
                            a href=(links::run_href(r.id)) { "#" (r.id) }
                            " " (r.service) " " (links::commit(&r.service, &r.commit_sha)) " " (badge(r.state.as_str()))
                            span.right.muted { (when(Some(r.created_at))) }
                        }
                    }
                }
            }
        }
    };
    let refresh = Some(if overview.live() { LIVE_REFRESH } else { IDLE_REFRESH });
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

/// A big wave: how many markets are up, down, deploying, with an open incident or a failed
/// last deployment (counted by the store); the worst of them as tiles; a link to all of them on
/// the markets page.
fn wave_summary(group: &WaveGroup, incidents: &[IncidentRow]) -> Markup {
    let c = &group.counts;
    let all = format!("/markets?wave={}", crate::auth::url_encode(&group.name));
    let more = (c.troubled as usize).saturating_sub(group.markets.len());
    html! {
        div.wave-summary {
            div.summary-counts {
                span.stat.ok { b { (c.up) } " up" }
                @if c.down > 0 { a.stat.bad href={ (all) "&health=down" } { b { (c.down) } " down" } }
                @if c.deploying > 0 { span.stat.busy { b { (c.deploying) } " deploying" } }
                @if c.incident > 0 { span.stat.bad { b { (c.incident) } " with an open incident" } }
                @if c.failed > 0 { span.stat.bad { b { (c.failed) } " last deployment failed" } }
                a.stat href={ (all) "&sort=worst" } { "all " (c.markets) " markets of " (group.name) " →" }
            }
            @if group.markets.is_empty() {
                p.muted.small { "Nothing needs a look in this wave." }
            } @else {
                div.tiles {
                    @for m in &group.markets { (tile(m, incidents)) }
                }
                @if more > 0 {
                    p.small { a href={ (all) "&sort=worst" } { (more) " more that need a look →" } }
                }
            }
        }
    }
}

/// A market's tile: its code and name link to its page, each version to its release, and an
/// open incident there shows on it.
fn tile(m: &MarketStatus, incidents: &[IncidentRow]) -> Markup {
    let health = m.health();
    let flying = m.in_flight();
    let open: Vec<&IncidentRow> = incidents.iter().filter(|i| i.market == m.market.id).collect();
    html! {
        div class={ "tile h-" (health) @if flying { " flying" } @if !open.is_empty() { " incident" } } data-market=(m.market.id) {
            div.tile-head {
                a.tile-link href=(links::market_href(&m.market.id)) title={ "Open " (m.market.name) "'s page" } {
                    span.market-id { (m.market.id) }
                    " "
                    span.market-name { (m.market.name) }
                }
                span class={ "badge " (match health { "up" => "ok", "down" => "bad", _ => "idle" }) } { (health) }
            }
            @for s in &m.services {
                div.svc {
                    span.svc-name { (s.service) }
                    @match &s.release {
                        Some(version) => {
                            b { (links::version(&s.service, version)) }
                            span.muted { (when(s.since)) }
                        }
                        None => { span.muted { "nothing deployed" } }
                    }
                    @if let Some(url) = &s.url {
                        a.open href=(url) target="_blank" rel="noopener" title=(url) { "open ↗" }
                    }
                }
                @if let Some(next) = &s.in_flight {
                    div.flight { "deploying " b { (links::version(&s.service, next)) } "…" }
                }
                @if let Some(failure) = &s.last_failure {
                    div.failure title=(failure) { (failure) }
                }
            }
            @for i in &open {
                div.tile-incident { a href=(links::incident_href(i.id)) title=(i.title) { "⚠ incident #" (i.id) ": " (i.title) } }
            }
            @if m.market.state != "live" {
                div.muted.small { (m.market.state) }
            }
        }
    }
}
