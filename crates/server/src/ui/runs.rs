//! Pipeline runs: the list, and one run with its jobs, steps, logs and artifacts.

use super::layout::{LIVE_REFRESH, Nav, Page, badge, dot, elapsed, empty, page, sha, size, when};
use super::{PageResult, parse_id};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use crate::views::{JobDetail, run_detail};
use crate::views_log::job_log;
use axum::extract::{Path, State};
use maud::{Markup, html};
use tandem_store::RunRow;

/// How many runs the list shows.
const RUN_LIST_LIMIT: i64 = 100;

fn is_busy(state: &str) -> bool {
    matches!(state, "queued" | "running")
}

pub async fn list(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let runs = state.engine.store.list_runs(None, RUN_LIST_LIMIT).await?;
    let live = runs.iter().any(|r| is_busy(&r.state));
    let body = html! {
        div.page-head { h1 { "Runs" } span.muted { "newest first" } }
        section.panel {
            @if runs.is_empty() {
                (empty("No run yet. Push to a service's branch, or start one with `tandem run start <service>`."))
            } @else {
                (run_table(&runs))
            }
        }
    };
    Ok(page(
        Page {
            title: "Runs",
            nav: Nav::Runs,
            caller: Some(&auth.0),
            refresh: live.then_some(LIVE_REFRESH),
        },
        body,
    ))
}

fn run_table(runs: &[RunRow]) -> Markup {
    html! {
        table.data {
            thead { tr { th { "Run" } th { "Service" } th { "Commit" } th { "Branch" } th { "Trigger" } th { "State" } th { "Started" } th.num { "Duration" } } }
            tbody {
                @for r in runs {
                    tr {
                        td { a href={ "/runs/" (r.id) } { "#" (r.id) } }
                        td { (r.service) }
                        td { (sha(&r.commit_sha)) }
                        td { (r.branch) }
                        td.muted { (r.trigger) }
                        td { (badge(&r.state)) }
                        td { (when(r.started_at.or(Some(r.created_at)))) }
                        td.num { (elapsed(r.started_at, r.finished_at)) }
                    }
                }
            }
        }
    }
}

pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id = parse_id("run", &raw)?;
    let run = run_detail(&state.engine, id).await?;
    let mut logs = Vec::with_capacity(run.jobs.len());
    for job in &run.jobs {
        // A lost log blob should not hide the rest of the run.
        let log = job_log(&state.engine, id, &job.job.name).await;
        logs.push(log.unwrap_or_else(|e| format!("(cannot read this log: {})", e.message)));
    }
    let r = &run.run;
    let title = format!("Run #{id}");
    let body = html! {
        div.page-head {
            h1 { (title) " " (badge(&r.state)) }
            div.meta {
                b { (r.service) } (dot()) (sha(&r.commit_sha)) (dot()) (r.branch) (dot())
                span.muted { "by " (r.trigger) } (dot())
                "started " (when(r.started_at.or(Some(r.created_at)))) (dot())
                (elapsed(r.started_at, r.finished_at))
                @if let Some(version) = &run.release {
                    (dot()) "released as " b.version { (version) }
                }
            }
        }
        @if let Some(error) = &r.error {
            p.alert.bad { (error) }
        }
        @if !run.artifacts.is_empty() {
            section.panel {
                h2 { "Artifacts" }
                table.data {
                    thead { tr { th { "Name" } th.num { "Size" } th { "sha256" } th {} } }
                    tbody {
                        @for a in &run.artifacts {
                            tr {
                                td { code { (a.name) } }
                                td.num { (size(a.size)) }
                                td { code.digest title=(a.digest) { (a.digest.chars().take(16).collect::<String>()) "…" } }
                                td { a href={ "/api/v1/artifacts/" (a.digest) } download=(a.name) { "download" } }
                            }
                        }
                    }
                }
            }
        }
        @if run.jobs.is_empty() {
            section.panel { (empty("This run has no job yet.")) }
        }
        @for (job, log) in run.jobs.iter().zip(&logs) {
            (job_panel(job, log))
        }
    };
    Ok(page(
        Page {
            title: &title,
            nav: Nav::Runs,
            caller: Some(&auth.0),
            refresh: is_busy(&r.state).then_some(LIVE_REFRESH),
        },
        body,
    ))
}

fn job_panel(j: &JobDetail, log: &str) -> Markup {
    let job = &j.job;
    let needs: Vec<String> = serde_json::from_str(&job.needs).unwrap_or_default();
    html! {
        section.panel.job id={ "job-" (job.name) } {
            div.job-head {
                h2 { (job.name) }
                (badge(&job.state))
                @if !needs.is_empty() {
                    span.muted { "needs " (needs.join(", ")) }
                }
                span.right.muted {
                    @if let Some(code) = job.exit_code { "exit " (code) (dot()) }
                    (elapsed(job.started_at, job.finished_at))
                }
            }
            @if !j.steps.is_empty() {
                table.data.steps {
                    thead { tr { th { "Step" } th { "Command" } th { "State" } th.num { "Exit" } th.num { "Duration" } } }
                    tbody {
                        @for s in &j.steps {
                            tr {
                                td { (s.name) }
                                td { code { (s.command) } }
                                td { (badge(&s.state)) }
                                td.num { @if let Some(code) = s.exit_code { (code) } @else { span.muted { "—" } } }
                                td.num { (elapsed(s.started_at, s.finished_at)) }
                            }
                        }
                    }
                }
            }
            @if log.is_empty() {
                p.empty { "No output yet." }
            } @else {
                pre.log id={ "log-" (job.name) } { (log) }
            }
        }
    }
}
