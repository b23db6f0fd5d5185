//! Incidents: the list, and one incident as a responder reads it — the facts, the deployment
//! it is linked to, the timeline from the events table, and the postmortem draft. The buttons
//! (open, resolve, link) live in `incident_actions.rs`.

use super::incident_actions::{MayAct, may_act};
use super::layout::{Nav, Page, badge, dot, duration, elapsed, empty, page, utc, when};
use super::{PageResult, links, parse_id};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde_json::Value;
use std::collections::HashMap;
use tandem_core::dora::{RESTORE_DEFINITION, Restore, show_duration};
use tandem_core::state::IncidentState;
use tandem_store::incident_history::IncidentListRow;
use tandem_store::{DeploymentRow, EventRow, IncidentRow};

/// How many incidents the list shows.
const INCIDENT_LIST_LIMIT: i64 = 200;
/// How many of the market's deployments the link form offers, newest first.
const LINK_CHOICES: usize = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub struct IncidentsQuery {
    #[serde(default)]
    pub state: Option<String>,
}

/// `GET /incidents[?state=open|resolved]`: incidents, newest first.
pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<IncidentsQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let filter = q.state.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = filter.filter(|s| s.parse::<IncidentState>().is_err()) {
        return Err(ApiError::bad_request(format!("state `{s}` is not a state of incidents: open or resolved")).into());
    }
    let incidents = state
        .engine
        .list_incidents_with_releases(filter, INCIDENT_LIST_LIMIT)
        .await?;
    let may = may_act(&auth.0);
    let body = html! {
        div.page-head {
            h1 { "Incidents" @if let Some(s) = filter { " · " (s) } }
            span.muted { "newest first" }
            @if may.open {
                div.actions { a.btn.primary href="/incidents/new" { "Open an incident" } }
            }
        }
        form.filters method="get" action="/incidents" data-autosubmit {
            label { span { "State" }
                select name="state" {
                    option value="" { "any state" }
                    @for s in IncidentState::ALL.iter().map(|s| s.as_str()) { option value=(s) selected[filter == Some(s)] { (s) } }
                }
            }
            button.btn type="submit" { "Filter" }
            @if filter.is_some() { a.clear href="/incidents" { "All incidents" } }
        }
        section.panel {
            @if incidents.is_empty() {
                @if filter.is_some() {
                    (empty("No incident in this state."))
                } @else {
                    (empty("No incident yet. Gates, the monitor and Alertmanager open them; so can you, here or with `tandem incident open SERVICE --market M --title …`."))
                }
            } @else {
                (incident_table(&incidents))
            }
        }
    };
    Ok(page(
        Page {
            title: "Incidents",
            nav: Nav::Incidents,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

fn incident_table(incidents: &[IncidentListRow]) -> Markup {
    html! {
        table.data.incidents {
            thead { tr {
                th { "Incident" } th { "State" } th { "Service" } th { "Market" } th { "Source" } th { "Title" }
                th { "Deployment" } th { "Opened" } th { "Resolved" } th.num { "Duration" }
            } }
            tbody {
                @for row in incidents {
                    @let i = &row.incident;
                    tr data-incident=(i.id) {
                        td { a href={ "/incidents/" (i.id) } { "#" (i.id) } }
                        td { (badge(i.state.as_str())) }
                        td { (i.service) }
                        td { (links::market(&i.market)) }
                        td { span.chip { (i.source) } }
                        td.long { a href={ "/incidents/" (i.id) } { (i.title) } }
                        td {
                            @match (i.deployment_id, &row.release_version) {
                                (Some(d), Some(v)) => { b { (links::version(&i.service, v)) } " " span.muted { "#" (d) } }
                                (Some(d), None) => { span.muted { "#" (d) } }
                                (None, _) => { span.muted { "—" } }
                            }
                        }
                        td.nowrap { (when(Some(i.opened_at))) }
                        td.nowrap { (when(i.resolved_at)) }
                        td.num { (elapsed(Some(i.opened_at), i.resolved_at)) }
                    }
                }
            }
        }
    }
}

/// `GET /incidents/{id}`: the incident, its deployment, its timeline and its postmortem draft.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id = parse_id("incident", &raw)?;
    let detail = state.engine.incident_detail(id).await?;
    let (i, versions, events) = (&detail.incident, &detail.versions, &detail.events);
    let (deployments, postmortem) = (&detail.deployments, &detail.postmortem);
    let may = may_act(&auth.0);
    let title = format!("Incident #{id}");
    let body = html! {
        div.page-head {
            h1 { (title) " " (badge(i.state.as_str())) }
            @if may.resolve && i.state == IncidentState::Open {
                div.actions {
                    // Resolving asks what fixed it, on a confirm step.
                    a.btn.primary href={ "/incidents/" (id) "/resolve" } { "Resolve" }
                }
            }
            (facts(i, detail.market_name.as_deref()))
            @if let Some(why) = resolution(i, events) {
                p.resolution { "Resolved" @if let Some(by) = &i.resolved_by { " by " (by) } ": " (why) }
            }
            @if let Some(c) = detail.change_id { p.caused-by { "Caused by " (links::change(c)) ", the change request its deployment carried." } }
        }
        @if let Some(summary) = &i.summary { p.alert.note { (summary) } }
        (deployment_panel(i, detail.linked(), deployments, versions, may))
        (restore_panel(detail.restore.as_ref()))
        (timeline_panel(i, events, versions))
        section.panel {
            div.panel-head {
                h2 { "Postmortem draft" }
                span.muted { "Markdown, to copy into your notes" }
                a.right href={ "/api/v1/incidents/" (id) "/postmortem" } { "Raw Markdown →" }
            }
            details.proposed.postmortem open {
                summary { "postmortem-" (id) ".md" }
                pre.wrap { (postmortem) }
            }
        }
    };
    Ok(page(
        Page {
            title: &title,
            nav: Nav::Incidents,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// The meta line: what, where, from where, by whom, when, how long.
fn facts(i: &IncidentRow, market_name: Option<&str>) -> Markup {
    html! {
        div.meta {
            b { (i.title) } (dot())
            (i.service) " in " (links::market(&i.market))
            @if let Some(n) = market_name { " " span.muted { (n) } }
            (dot())
            "source " span.chip { (i.source) }
            @if let Some(by) = &i.opened_by { " by " (by) }
            (dot())
            "opened " (when(Some(i.opened_at)))
            @if let Some(at) = i.resolved_at {
                (dot()) "resolved " (when(Some(at)))
                @if let Some(by) = &i.resolved_by { " by " (by) }
            }
            (dot())
            @if i.resolved_at.is_some() { "lasted " } @else { "open for " }
            (elapsed(Some(i.opened_at), i.resolved_at))
        }
    }
}

/// Its deployment's time to restore, as the Delivery page counts it, with its definition.
fn restore_panel(restore: Option<&Restore>) -> Markup {
    let Some(r) = restore else {
        return html! {};
    };
    html! {
        section.panel.restore {
            div.panel-head {
                h2 { "Time to restore" }
                span.muted { "the figure the Delivery page's medians are made of" }
            }
            p {
                @match r.recovery_ms() {
                    Some(ms) => {
                        b.restore-time title=(RESTORE_DEFINITION) { (show_duration(ms)) }
                        " — from " (when(Some(r.hurt_from))) " to " (when(r.restored_at))
                    }
                    None => { b.restore-time title=(RESTORE_DEFINITION) { "not yet restored" } " — hurt from " (when(Some(r.hurt_from))) }
                }
            }
            p.small.muted { (RESTORE_DEFINITION) }
        }
    }
}

fn version(versions: &HashMap<i64, String>, release_id: i64) -> &str {
    versions.get(&release_id).map_or("?", String::as_str)
}

/// The deployment the incident is blamed on, and for operators a form to blame another.
fn deployment_panel(
    i: &IncidentRow,
    linked: Option<&DeploymentRow>,
    deployments: &[DeploymentRow],
    versions: &HashMap<i64, String>,
    may: MayAct,
) -> Markup {
    html! {
        section.panel {
            div.panel-head {
                h2 { "Deployment" }
                span.muted { "what DORA's change failure rate counts against" }
            }
            @match linked {
                None => { (empty("No deployment is linked to this incident.")) }
                Some(d) => {
                    p.linked-deployment {
                        "Deployment " b { "#" (d.id) } " of " b { (links::release(d.release_id, version(versions, d.release_id))) }
                        " (" (d.kind) ") to " (links::market(&d.market)) " " (badge(d.state.as_str()))
                        (dot()) "started " (when(Some(d.started_at)))
                        @if let Some(p) = d.previous_release_id { (dot()) "replaced " (links::release(p, version(versions, p))) }
                        @if let Some(r) = d.rollout_id { (dot()) a href=(links::rollout_href(r)) { "rollout #" (r) " →" } }
                    }
                    @if let Some(reason) = &d.reason { p.small.muted { (reason) } }
                }
            }
            @if may.link && deployments.len() > 1 {
                form.override method="post" action={ "/incidents/" (i.id) "/link" } {
                    label for="deployment_id" { "Link to" }
                    select id="deployment_id" name="deployment_id" {
                        @for d in deployments.iter().take(LINK_CHOICES) {
                            option value=(d.id) selected[Some(d.id) == i.deployment_id] {
                                "#" (d.id) " · " (version(versions, d.release_id)) " · " (d.kind) " · " (d.state) " · " (utc(d.started_at))
                            }
                        }
                    }
                    button.btn type="submit" { "Link" }
                }
            }
        }
    }
}

fn timeline_panel(i: &IncidentRow, events: &[EventRow], versions: &HashMap<i64, String>) -> Markup {
    // One source for each time: the incident's own opening and resolution are shown at the
    // times its header shows (an alert's or a gate's start), not when the row was written.
    let mut rows: Vec<(i64, &EventRow)> = events.iter().map(|e| (shown_at(i, e), e)).collect();
    rows.sort_by_key(|(at, e)| (*at, e.id));
    html! {
        section.panel {
            div.panel-head {
                h2 { "Timeline" }
                span.muted { "this incident's events, its deployment's, and " (i.market) " going down and up around it" }
            }
            @if rows.is_empty() {
                (empty("No event recorded for this incident."))
            } @else {
                table.data.timeline {
                    thead { tr { th { "When (UTC)" } th.num { "From opening" } th { "What happened" } } }
                    tbody {
                        @for (at, e) in &rows {
                            tr data-kind=(e.kind) {
                                td.nowrap { time datetime=(utc(*at)) { (utc(*at).trim_end_matches(" UTC")) } }
                                td.num.muted { (offset(at - i.opened_at)) }
                                td.long {
                                    (describe(e, versions))
                                    @if *at != e.at && (e.at - at).abs() >= 1000 {
                                        // The incident is dated from when it began (an alert's
                                        // start, the first failed probe); it was written later.
                                        span.muted { " — dated from when it began; recorded at " (offset(e.at - i.opened_at)) }
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

/// When the timeline shows event `e`: the incident's own opening and resolution at the times
/// the incident records, anything else when it was recorded.
fn shown_at(i: &IncidentRow, e: &EventRow) -> i64 {
    let own = e.subject == format!("incident/{}", i.id);
    match e.kind.as_str() {
        "incident.opened" if own => i.opened_at,
        "incident.resolved" if own => i.resolved_at.unwrap_or(e.at),
        _ => e.at,
    }
}

/// Why the incident was resolved, as the person resolving it said.
fn resolution(i: &IncidentRow, events: &[EventRow]) -> Option<String> {
    let own = format!("incident/{}", i.id);
    events
        .iter()
        .rfind(|e| e.kind == "incident.resolved" && e.subject == own)
        .and_then(|e| serde_json::from_str::<Value>(&e.data).ok())
        .and_then(|d| d.get("reason").and_then(Value::as_str).map(str::to_string))
        .filter(|r| !r.trim().is_empty())
}

/// A time relative to the incident's opening: "−3 min 2 s", "0 ms", "+1 h 5 min".
fn offset(ms: i64) -> String {
    match ms {
        0 => "0 ms".to_string(),
        m if m < 0 => format!("−{}", duration(-m)),
        m => format!("+{}", duration(m)),
    }
}

/// One event in a sentence, from its kind and data.
fn describe(e: &EventRow, versions: &HashMap<i64, String>) -> String {
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    let text = |k: &str| data.get(k).and_then(Value::as_str);
    let int = |k: &str| data.get(k).and_then(Value::as_i64);
    let by = text("by").map(|b| format!(" by {b}")).unwrap_or_default();
    let subject_id = e.subject.rsplit('/').next().unwrap_or_default();
    match e.kind.as_str() {
        "incident.opened" => {
            let source = text("source").map(|s| format!(" ({s})")).unwrap_or_default();
            let linked = int("deployment")
                .map(|d| format!(", linked to deployment #{d}"))
                .unwrap_or_default();
            format!("Opened{by}{source}{linked}")
        }
        "incident.resolved" => {
            let after = int("after_ms")
                .map(|ms| format!(" after {}", duration(ms)))
                .unwrap_or_default();
            let reason = text("reason").map(|r| format!(": {r}")).unwrap_or_default();
            format!("Resolved{by}{after}{reason}")
        }
        "incident.linked" => {
            let from = int("from").map_or("none".to_string(), |d| format!("#{d}"));
            let to = int("to").map_or("?".to_string(), |d| format!("#{d}"));
            format!("Linked to deployment {to} (was {from}){by}")
        }
        "incident.also_failed" => format!(
            "Deployment #{} of {} also failed its gate in {}{}",
            int("deployment").map_or("?".to_string(), |d| d.to_string()),
            text("release").unwrap_or("?"),
            text("market").unwrap_or("?"),
            text("reason").map(|r| format!(": {r}")).unwrap_or_default()
        ),
        "deployment.started" => {
            let release = int("release").map_or("?", |r| version(versions, r));
            let kind = text("kind").unwrap_or("release");
            format!("Deployment #{subject_id} of {release} started ({kind})")
        }
        "deployment.live" => format!("Deployment #{subject_id} went live"),
        "deployment.failed" => format!(
            "Deployment #{subject_id} failed{}",
            text("reason").map(|r| format!(": {r}")).unwrap_or_default()
        ),
        "market.down" => {
            let failures = int("failures")
                .map(|n| format!(" after {n} failed probes"))
                .unwrap_or_default();
            let error = text("error").map(|r| format!(": {r}")).unwrap_or_default();
            format!("The market went down{failures}{error}")
        }
        "deployment.commits" => {
            let n = int("commits").unwrap_or(0);
            let commits = if n == 1 {
                "1 commit".to_string()
            } else {
                format!("{n} commits")
            };
            format!("Deployment #{subject_id} brought {commits} to the market")
        }
        "market.up" => "The market answers its probe again".to_string(),
        other => in_words(other, &e.subject, &by),
    }
}

/// An event this page has no sentence for, in words: `rollout.halted` of `rollout/2` →
/// "Rollout #2 halted".
fn in_words(kind: &str, subject: &str, by: &str) -> String {
    let (noun, verb) = kind.split_once('.').unwrap_or((kind, ""));
    let id = subject.rsplit('/').next().filter(|id| !id.is_empty() && *id != noun);
    let what = noun.replace(['_', '-'], " ");
    let mut words = super::layout::capitalize(&what);
    if let Some(id) = id {
        if id.bytes().all(|b| b.is_ascii_digit()) {
            words.push_str(&format!(" #{id}"));
        } else {
            words.push_str(&format!(" {id}"));
        }
    }
    if !verb.is_empty() {
        words.push(' ');
        words.push_str(&verb.replace(['_', '-', '.'], " "));
    }
    words.push_str(by);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, subject: &str, data: &str) -> EventRow {
        EventRow {
            id: 1,
            at: 0,
            kind: kind.into(),
            subject: subject.into(),
            data: data.into(),
            ..EventRow::default()
        }
    }

    #[test]
    fn events_read_as_sentences() {
        let versions = HashMap::from([(3, "v2".to_string())]);
        let say = |kind, subject, data| describe(&event(kind, subject, data), &versions);
        assert_eq!(
            say(
                "incident.opened",
                "incident/4",
                r#"{"by":"ana","source":"person","deployment":9}"#
            ),
            "Opened by ana (person), linked to deployment #9"
        );
        assert_eq!(
            say("incident.resolved", "incident/4", r#"{"by":"ana","after_ms":184000}"#),
            "Resolved by ana after 3 min 4 s"
        );
        assert_eq!(
            say("incident.linked", "incident/4", r#"{"by":"ops","from":null,"to":7}"#),
            "Linked to deployment #7 (was none) by ops"
        );
        assert_eq!(
            say(
                "deployment.started",
                "deployment/9",
                r#"{"release":3,"kind":"release"}"#
            ),
            "Deployment #9 of v2 started (release)"
        );
        assert_eq!(
            say(
                "market.down",
                "market/shop/nl",
                r#"{"failures":3,"error":"connection refused"}"#
            ),
            "The market went down after 3 failed probes: connection refused"
        );
        assert_eq!(say("rollout.paused", "rollout/1", "not json"), "Rollout #1 paused");
        assert_eq!(
            say("deployment.commits", "deployment/9", r#"{"deployment":9,"commits":3}"#),
            "Deployment #9 brought 3 commits to the market"
        );
        assert_eq!(
            say(
                "incident.resolved",
                "incident/4",
                r#"{"by":"ana","after_ms":1000,"reason":"rolled back"}"#
            ),
            "Resolved by ana after 1 s: rolled back"
        );
    }

    #[test]
    fn offsets_are_signed() {
        assert_eq!(offset(0), "0 ms");
        assert_eq!(offset(-184_000), "−3 min 4 s");
        assert_eq!(offset(7_500_000), "+2 h 5 min");
    }
}
