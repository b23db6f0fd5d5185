//! Rollouts: the list, and one rollout as a waves × markets grid, each cell coloured by the state
//! of its market's deployment; a big wave is summed up and paged (`rollout_waves`).

use super::layout::{LIVE_REFRESH, Nav, Page, badge, dot, elapsed, empty, page, tone, when};
use super::rollout_waves::{Cells, WaveQuery, wave_page, wave_row};
use super::{PageResult, parse_id};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use std::collections::HashMap;
use tandem_core::state::RolloutState;
use tandem_engine::views::rollouts::WaveDetail;
use tandem_store::RolloutRow;

/// How many rollouts the list shows.
const ROLLOUT_LIST_LIMIT: i64 = 100;

/// Whether the rollout carries a config version rather than a release.
fn is_config(r: &RolloutRow) -> bool {
    r.kind == "config"
}

/// What a rollout carries: its release's version, or "config v3, change #2" with a link to the
/// change request that made the config version.
pub(super) fn carries(r: &RolloutRow, release_version: &str) -> Markup {
    match r.config_version.filter(|_| is_config(r)) {
        Some(v) => html! {
            span.version.carries { "config v" (v) }
            @if let Some(c) = r.change_id {
                ", " a.change-link href=(super::links::change_href(c)) { "change #" (c) }
            }
        },
        None => html! { span.carries { (super::links::release(r.release_id, release_version)) } },
    }
}

/// Whether a rollout in `state` holds (or waits for) its markets.
fn is_busy(state: RolloutState) -> bool {
    state.is_in_progress()
}

pub async fn list(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let engine = &state.engine;
    let rollouts = engine.list_rollouts(ROLLOUT_LIST_LIMIT).await?;
    let versions: HashMap<i64, String> = engine
        .list_releases(None)
        .await?
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    let live = rollouts.iter().any(|r| is_busy(r.state));
    let body = html! {
        div.page-head { h1 { "Rollouts" } span.muted { "newest first" } }
        section.panel {
            @if rollouts.is_empty() {
                (empty("No rollout yet. Start one with `tandem rollout start --release <id>`."))
            } @else {
                table.data {
                    thead { tr {
                        th { "Rollout" } th { "Service" } th { "Release" } th { "State" } th { "Wave" }
                        th { "By" } th { "Started" } th.num { "Duration" } th { "Reason" }
                    } }
                    tbody {
                        @for r in &rollouts {
                            @let waves = r.waves().unwrap_or_default();
                            tr {
                                td { a href={ "/rollouts/" (r.id) } { "#" (r.id) } }
                                td { (r.service) }
                                td { b { (carries(r, versions.get(&r.release_id).map_or("?", String::as_str))) } }
                                td { (badge(r.state.as_str())) }
                                td {
                                    @match usize::try_from(r.current_wave).ok().and_then(|i| waves.get(i)) {
                                        Some((name, _)) => { (r.current_wave + 1) "/" (waves.len()) " " span.muted { (name) } }
                                        None => { span.muted { "—" } }
                                    }
                                }
                                td.muted { (r.created_by) }
                                td { (when(r.started_at.or(Some(r.created_at)))) }
                                td.num { (elapsed(r.started_at, r.finished_at)) }
                                td.reason { (r.reason.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Rollouts",
            nav: Nav::Rollouts,
            caller: Some(&auth.0),
            refresh: live.then_some(LIVE_REFRESH),
        },
        body,
    ))
}

/// `GET /rollouts/{id}`: the rollout's waves (a big one summed up), its probe and decisions;
/// `?wave=` pages one wave's markets instead of the summary (`&state=failed&after=bz`).
pub async fn detail(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    query: Result<Query<WaveQuery>, QueryRejection>,
) -> PageResult {
    let id = parse_id("rollout", &raw)?;
    let Query(q) = query?;
    let detail = state.engine.rollout_detail(id).await?;
    let one_wave = q.wave(id, &detail.waves)?;
    let engine = &state.engine;
    let names: HashMap<String, String> = engine
        .list_markets()
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect();
    let versions: HashMap<i64, String> = engine
        .list_releases(None)
        .await?
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect();
    let (r, release) = (&detail.rollout, &detail.release);
    let stopped = matches!(
        r.state,
        RolloutState::Failed | RolloutState::Halted | RolloutState::Aborted
    );
    let can_skip = is_busy(r.state) && auth.0.role.allows(tandem_core::role::Role::Operator);
    let metrics = release.service_spec().ok().and_then(|s| s.gates.metrics);
    let cells = Cells {
        rollout_id: id,
        can_skip,
        names: &names,
        versions: &versions,
        metrics: metrics.as_ref(),
    };
    let one_page = one_wave.map(|w| wave_page(w, &q, &cells)).transpose()?;
    let title = format!("Rollout #{id}");
    let waiting_wave = usize::try_from(r.current_wave)
        .ok()
        .and_then(|i| detail.waves.get(i))
        .map_or("", |w| w.name.as_str());
    let body = html! {
        div.page-head {
            h1 { (title) " · " (r.service) " " (carries(r, &release.version)) " " (badge(r.state.as_str())) }
            @if auth.0.role.allows(tandem_core::role::Role::Developer) {
                div.actions {
                    @for action in super::rollout_actions::actions_for(r.state).iter().filter(|a| {
                        // Approve for those holding the role the platform file names (a developer
                        // when it says so); everything else for operators.
                        if **a == "approve" {
                            detail.approval_role.as_deref()
                                .and_then(|role| role.parse::<tandem_core::role::Role>().ok())
                                .is_none_or(|needed| auth.0.role.allows(needed))
                        } else {
                            auth.0.role.allows(tandem_core::role::Role::Operator)
                        }
                    }) {
                        @let label = match *action {
                            "pause" => "Pause after this wave",
                            "resume" if r.state == RolloutState::Blocked => "Resume (config fixed)",
                            "resume" => "Resume",
                            "skip-blocked" => "Resume without the blocked markets",
                            "approve" => "Approve the next wave",
                            _ => "Abort",
                        };
                        @let class = if *action == "abort" { "btn danger" } else { "btn primary" };
                        @if super::rollout_actions::needs_reason(action) {
                            // Abort and approve ask for confirmation and a reason on a page of their own.
                            a class=(class) href={ "/rollouts/" (r.id) "/" (action)
                                @if *action == "approve" { "?wave=" (crate::auth::url_encode(waiting_wave)) } } { (label) }
                        } @else {
                            form method="post" action={ "/rollouts/" (r.id) "/" (action) } {
                                button class=(class) type="submit" { (label) }
                            }
                        }
                    }
                }
            }
            div.meta {
                @if is_config(r) {
                    // Each market keeps its release and takes the new config: no commit of its own.
                    "each market keeps the release it runs" (dot())
                } @else {
                    "commit " (super::links::commit(&release.service, &release.commit_sha)) (dot())
                    "built by " a href={ "/runs/" (release.run_id) } { "run #" (release.run_id) } (dot())
                }
                span.muted { "started by " (r.created_by) } (dot())
                "started " (when(r.started_at.or(Some(r.created_at)))) (dot())
                (elapsed(r.started_at, r.finished_at))
            }
        }
        @if let Some(role) = &detail.approval_role {
            p.alert.note.approval {
                "Waiting for an approval (" b { (role) } " or above) to start wave "
                b { (usize::try_from(r.current_wave).ok().and_then(|i| detail.waves.get(i)).map_or("?", |w| w.name.as_str())) }
                "."
            }
        }
        @if let Some(reason) = &r.reason {
            p class={ "alert " @if stopped { "bad" } @else { "note" } } { (reason) }
        }
        @if is_busy(r.state) && auth.0.role.allows(tandem_core::role::Role::Admin)
            && r.reason.as_deref().is_some_and(|m| m.contains("waits: freeze")) {
            form.override method="post" action={ "/rollouts/" (r.id) "/override" } {
                label { "Override the freeze (recorded with your name): " }
                input type="text" name="reason" required placeholder="why it cannot wait";
                button.btn.danger type="submit" { "Override" }
            }
        }
        section.panel {
            div.panel-head {
                h2 { "Waves × markets" }
                div.legend {
                    @for s in ["waiting", "deploying", "live", "blocked", "failed", "skipped", "superseded", "unchanged", "not reached"] {
                        span class={ "key " (tone(s)) " st-" (s.replace(' ', "-")) } { (s) }
                    }
                }
            }
            div.grid {
                @match &one_page {
                    Some(paged) => { (paged) }
                    None => {
                        @for w in &detail.waves {
                            (wave_row(w, is_busy(r.state) && usize::try_from(r.current_wave).is_ok_and(|c| c == w.index), &cells))
                        }
                    }
                }
            }
        }
        @if let Ok(spec) = release.service_spec() {
            (probe_panel(&spec.gates.probe, &detail.waves))
        }
        @if !detail.decisions.is_empty() {
            section.panel {
                div.panel-head { h2 { "Decisions" } }
                table.data.decisions {
                    thead { tr { th { "What" } th { "By" } th { "When" } th { "About" } th { "Reason" } } }
                    tbody {
                        @for d in &detail.decisions {
                            tr {
                                td { (d.kind) }
                                td { (d.decided_by) }
                                td { (when(Some(d.decided_at))) }
                                td {
                                    @if !d.market.is_empty() { (d.market) }
                                    @else if d.wave >= 0 {
                                        "wave " (detail.waves.get(d.wave as usize).map_or("?", |w| w.name.as_str()))
                                    }
                                }
                                td.reason { (d.reason.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: &title,
            nav: Nav::Rollouts,
            caller: Some(&auth.0),
            refresh: is_busy(r.state).then_some(LIVE_REFRESH),
        },
        body,
    ))
}

/// The probe each market of the rollout follows: the service's settings, and the markets where
/// they differ (`gates.probe.markets` in `tandem.yml`).
fn probe_panel(probe: &tandem_core::gates::ProbeSpec, waves: &[WaveDetail]) -> Markup {
    let differ: Vec<(&str, tandem_core::gates::Probe)> = waves
        .iter()
        .flat_map(|w| &w.markets)
        .filter(|m| probe.markets.contains_key(&m.market))
        .map(|m| (m.market.as_str(), probe.for_market(&m.market)))
        .collect();
    html! {
        section.panel.probe-settings {
            div.panel-head { h2 { "Probe" } }
            table.data {
                thead { tr { th { "Markets" } th { "Path" } th { "Settings" } } }
                tbody {
                    tr data-market="*" {
                        td { @if differ.is_empty() { "all" } @else { "the others" } }
                        td { code { (probe.base.path) } }
                        td.long { (probe.base.summary()) }
                    }
                    @for (market, p) in &differ {
                        tr data-market=(market) {
                            td { (market) }
                            td { code { (p.path) } }
                            td.long { (p.summary()) }
                        }
                    }
                }
            }
        }
    }
}
