//! Pipeline runs: the list (filtered by service, branch and state), and one run with its job
//! graph, jobs, steps, coloured logs and artifacts, and the buttons to cancel or re-run it.
//!
//! A running job's log is live: its `<pre>` names the log stream (`format=html`) from the byte
//! offset and the colours where the page's text ends, and `live.js` appends what comes; without
//! JS, the page's refresh shows the log as it grows.

use super::ansi::LogHtml;
use super::graph::{self, GraphJob};
use super::layout::{LIVE_REFRESH, Nav, Page, badge, dot, duration, elapsed, empty, page, size, when};
use super::{PageResult, links, parse_id};
use crate::AppState;
use crate::auth::{PageAuth, Viewer, url_encode};
use crate::views_log::{LogTail, job_log_tail};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use tandem_core::role::Role;
use tandem_core::state::{JobState, RunState};
use tandem_engine::views::runs::{JobDetail, RunDetail};
use tandem_store::{RunFilter, RunRow, now_ms};

/// How many runs the list shows.
const RUN_LIST_LIMIT: i64 = 100;
/// How much of a job's log (bytes, from its end) the page shows; the whole log is a link away.
/// Bounds the page's size and the browser's work on every live refresh; a live log keeps about
/// as many characters, dropping the oldest.
const LOG_TAIL: usize = 256 * 1024;

/// Whether a run in `state` is still queued or running.
pub fn is_busy(state: RunState) -> bool {
    state.is_in_progress()
}

/// Whether a run in `state` can be re-run (its failed jobs, on a new run).
pub fn can_rerun(state: RunState) -> bool {
    matches!(state, RunState::Failed | RunState::Cancelled | RunState::Interrupted)
}

/// The list's filters, as they come in the query string (`?service=shop&state=failed`).
#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    service: Option<String>,
    branch: Option<String>,
    state: Option<String>,
}

impl RunsQuery {
    fn filter(&self) -> RunFilter<'_> {
        RunFilter {
            service: super::forms::filled(&self.service),
            branch: super::forms::filled(&self.branch),
            state: super::forms::filled(&self.state),
        }
    }

    fn is_empty(&self) -> bool {
        let f = self.filter();
        f.service.is_none() && f.branch.is_none() && f.state.is_none()
    }

    /// The list's URL with these filters and `key` set to `value`.
    fn href_with(&self, key: &str, value: &str) -> String {
        let f = self.filter();
        let pairs = [("service", f.service), ("branch", f.branch), ("state", f.state)];
        let query: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| (k, if k == key { Some(value) } else { v }))
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", url_encode(v))))
            .collect();
        if query.is_empty() {
            "/runs".to_string()
        } else {
            format!("/runs?{}", query.join("&"))
        }
    }
}

pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let engine = &state.engine;
    let runs = engine.list_runs_where(&q.filter(), RUN_LIST_LIMIT).await?;
    let services: Vec<String> = engine.list_services().await?.into_iter().map(|s| s.name).collect();
    let live = runs.iter().any(|r| is_busy(r.state));
    let body = html! {
        div.page-head { h1 { "Runs" } span.muted { "newest first" } }
        (filter_form(&q, &services, &runs))
        section.panel {
            @if !runs.is_empty() {
                (run_table(&runs, &q))
            } @else if q.is_empty() {
                (empty("No run yet. Push to a service's branch, or start one with `tandem run start <service>`."))
            } @else {
                (empty("No run matches these filters."))
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

fn filter_form(q: &RunsQuery, services: &[String], runs: &[RunRow]) -> Markup {
    let f = q.filter();
    let mut branches: Vec<&str> = runs.iter().map(|r| r.branch.as_str()).collect();
    branches.sort_unstable();
    branches.dedup();
    let unknown_service = f.service.filter(|s| !services.iter().any(|known| known == s));
    html! {
        form.filters method="get" action="/runs" data-autosubmit {
            label { span { "Service" }
                select name="service" {
                    option value="" { "all services" }
                    @for s in services.iter().map(String::as_str).chain(unknown_service) {
                        option value=(s) selected[f.service == Some(s)] { (s) }
                    }
                }
            }
            label { span { "Branch" }
                input type="search" name="branch" value=[f.branch] placeholder="any branch" list="branches";
                datalist id="branches" { @for b in &branches { option value=(b) {} } }
            }
            label { span { "State" }
                select name="state" {
                    option value="" { "any state" }
                    @for s in RunState::ALL.iter().map(|s| s.as_str()) {
                        option value=(s) selected[f.state == Some(s)] { (s) }
                    }
                }
            }
            button.btn type="submit" { "Filter" }
            @if !q.is_empty() { a.clear href="/runs" { "Clear filters" } }
        }
    }
}

fn run_table(runs: &[RunRow], q: &RunsQuery) -> Markup {
    html! {
        table.data.runs {
            thead { tr { th { "Run" } th { "Service" } th { "Commit" } th { "Branch" } th { "Trigger" } th { "State" } th { "Started" } th.num { "Duration" } } }
            tbody {
                @for r in runs {
                    tr data-run=(r.id) {
                        td {
                            a href={ "/runs/" (r.id) } { "#" (r.id) }
                            @if let Some(original) = r.rerun_of {
                                " " span.rerun { "rerun of " a href={ "/runs/" (original) } { "#" (original) } }
                            }
                        }
                        td { a.filter-link href=(q.href_with("service", &r.service)) { (r.service) } }
                        td { (links::commit(&r.service, &r.commit_sha)) }
                        td { a.filter-link href=(q.href_with("branch", &r.branch)) { (r.branch) } }
                        td.muted { (r.trigger) }
                        td { a.filter-link href=(q.href_with("state", r.state.as_str())) { (badge(r.state.as_str())) } }
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
    let run = state.engine.run_detail(id).await?;
    let mut logs = Vec::with_capacity(run.jobs.len());
    for job in &run.jobs {
        // A lost log blob should not hide the rest of the run.
        let log = job_log_tail(&state.engine, id, &job.job.name, LOG_TAIL).await;
        logs.push(log.map_err(|e| format!("(cannot read this log: {})", e.message)));
    }
    let r = &run.run;
    let title = format!("Run #{id}");
    let may_act = auth.0.role.allows(Role::Developer);
    let body = html! {
        div.page-head {
            h1 { (title) " " (badge(r.state.as_str())) }
            @if may_act { (actions(r)) }
            div.meta {
                b { (r.service) } (dot()) (links::commit(&r.service, &r.commit_sha)) (dot()) (r.branch) (dot())
                span.muted { "by " (r.trigger) } (dot())
                @if let Some(original) = r.rerun_of {
                    span.rerun { "rerun of " a href={ "/runs/" (original) } { "#" (original) } } (dot())
                }
                "started " (when(r.started_at.or(Some(r.created_at)))) (dot())
                (elapsed(r.started_at, r.finished_at))
                @if let Some(version) = &run.release {
                    (dot()) "released as " b { (links::version(&r.service, version)) }
                }
            }
        }
        @if let Some(error) = &r.error {
            p.alert.bad { (error) }
        }
        @if !run.jobs.is_empty() {
            (graph_panel(&run))
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
            section.panel {
                @if is_busy(r.state) { (empty("This run has no job yet.")) } @else { (empty("This run ended before any job started.")) }
            }
        }
        @for (job, log) in run.jobs.iter().zip(&logs) {
            (job_panel(id, job, log))
        }
    };
    Ok(page(
        Page {
            title: &title,
            nav: Nav::Runs,
            caller: Some(&auth.0),
            refresh: is_busy(r.state).then_some(LIVE_REFRESH),
        },
        body,
    ))
}

/// Cancel and re-run, for a caller allowed to use them, when the run's state permits.
fn actions(r: &RunRow) -> Markup {
    html! {
        div.actions {
            @if can_rerun(r.state) {
                form method="post" action={ "/runs/" (r.id) "/rerun" } {
                    button.btn.primary type="submit" title="A new run of this commit: jobs that passed are reused, the others run again" { "Re-run failed jobs" }
                }
            }
            @if is_busy(r.state) {
                form method="post" action={ "/runs/" (r.id) "/cancel" } {
                    button.btn.danger type="submit" title="Stops running steps (TERM, then KILL) and skips the jobs left" { "Cancel run" }
                }
            }
        }
    }
}

fn graph_panel(run: &RunDetail) -> Markup {
    let jobs: Vec<GraphJob> = run
        .jobs
        .iter()
        .map(|j| GraphJob {
            name: j.job.name.clone(),
            state: j.job.state.to_string(),
            needs: serde_json::from_str(&j.job.needs).unwrap_or_default(),
            href: format!("#job-{}", j.job.position),
            detail: job_summary(j),
        })
        .collect();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for j in &run.jobs {
        match counts.iter_mut().find(|(s, _)| *s == j.job.state.as_str()) {
            Some((_, n)) => *n += 1,
            None => counts.push((j.job.state.as_str(), 1)),
        }
    }
    html! {
        section.panel.graph-panel {
            div.panel-head {
                h2 { "Job graph" }
                span.muted.small {
                    @for (i, (state, n)) in counts.iter().enumerate() {
                        @if i > 0 { (dot()) }
                        (n) " " (if *state == "success" { "passed" } else { state })
                    }
                }
            }
            div.graph-wrap id="graph" { (graph::render(&jobs)) }
        }
    }
}

/// "failed · exit 1 · 3 s", "running · 12 s", "pending".
fn job_summary(j: &JobDetail) -> String {
    let job = &j.job;
    let mut parts = vec![job.state.to_string()];
    if let Some(code) = job.exit_code.filter(|&c| c != 0) {
        parts.push(format!("exit {code}"));
    }
    match (job.started_at, job.finished_at) {
        (Some(s), Some(f)) => parts.push(duration(f - s)),
        (Some(s), None) => parts.push(duration(now_ms() - s)),
        _ => {}
    }
    parts.join(" · ")
}

/// A job with its steps and its log; live (see the module's note) while it runs and its log
/// could be read.
fn job_panel(run_id: i64, j: &JobDetail, tail: &Result<LogTail, String>) -> Markup {
    let job = &j.job;
    let needs: Vec<String> = serde_json::from_str(&job.needs).unwrap_or_default();
    let raw = format!("/api/v1/runs/{run_id}/jobs/{}/log", url_encode(&job.name));
    let (log, earlier, end, total) = match tail {
        Ok(t) => (t.text.as_str(), t.earlier, Some(t.end), t.size),
        Err(message) => (message.as_str(), false, None, 0),
    };
    let (shown, cut) = log_tail(log);
    let cut = cut || earlier;
    let mut renderer = LogHtml::default();
    // The renderer escapes every byte of the log; only its own spans are markup.
    let rendered = renderer.render(shown);
    let stream = end.filter(|_| job.state == JobState::Running).map(|end| {
        let sgr = renderer.sgr();
        let sgr = if sgr.is_empty() {
            String::new()
        } else {
            format!("&sgr={}", url_encode(&sgr))
        };
        format!("{raw}/stream?format=html&offset={end}{sgr}")
    });
    html! {
        section.panel.job id={ "job-" (job.position) } data-job=(job.name) {
            div.job-head {
                h2 { (job.name) }
                (badge(job.state.as_str()))
                @if !needs.is_empty() {
                    span.muted { "needs " (needs.join(", ")) }
                }
                @if let Some(agent) = &job.agent {
                    span.muted.agent { "on agent " a href="/agents" { (agent) } }
                }
                @if job.lost > 0 {
                    span.muted.lost { "lost its agent " (job.lost) "× — ran again" }
                }
                span.right.muted {
                    @if let Some(code) = job.exit_code { "exit " (code) (dot()) }
                    (elapsed(job.started_at, job.finished_at))
                    @if !log.is_empty() { (dot()) a href=(raw) { "raw log" } }
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
                                td { (badge(s.state.as_str())) }
                                td.num { @if let Some(code) = s.exit_code { (code) } @else { span.muted { "—" } } }
                                td.num { (elapsed(s.started_at, s.finished_at)) }
                            }
                        }
                    }
                }
            }
            @if job.state == JobState::Pending && let Some(why) = &job.waiting {
                p.waiting { "Waits for an agent: " (why) }
            }
            @if log.is_empty() {
                p.empty { @if job.state == "skipped" { "Skipped: a job it needs did not pass." } @else { "No output yet." } }
            } @else if cut {
                p.log-cut.muted.small { "Showing the last " (size(LOG_TAIL as i64)) " of " (size(total.max(log.len() as u64) as i64)) ". " a href=(raw) { "Open the whole log" } }
            }
            // Hidden while empty: a live log shows itself when output comes.
            @if !log.is_empty() || stream.is_some() {
                pre.log id={ "log-" (job.position) } hidden[log.is_empty()] data-stream=[stream.as_deref()] data-cap=[stream.is_some().then_some(LOG_TAIL)] {
                    (PreEscaped(rendered))
                }
            }
        }
    }
}

/// The end of a long log, from a line start; and whether it was cut.
fn log_tail(log: &str) -> (&str, bool) {
    if log.len() <= LOG_TAIL {
        return (log, false);
    }
    let mut start = log.len() - LOG_TAIL;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    let tail = &log[start..];
    match tail.find('\n') {
        Some(nl) if nl + 1 < tail.len() => (&tail[nl + 1..], true),
        _ => (tail, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_links_keep_the_other_filters() {
        let q = RunsQuery {
            service: Some("shop".into()),
            branch: Some("  ".into()),
            state: Some("failed".into()),
        };
        assert_eq!(q.filter().branch, None, "blank means any");
        assert_eq!(
            q.href_with("branch", "t-2 & co"),
            "/runs?service=shop&branch=t-2%20%26%20co&state=failed"
        );
        assert_eq!(q.href_with("state", "success"), "/runs?service=shop&state=success");
        assert_eq!(RunsQuery::default().href_with("service", "shop"), "/runs?service=shop");
    }

    #[test]
    fn long_logs_are_cut_at_a_line_start() {
        let line = "é".repeat(99) + "\n";
        let log = line.repeat(LOG_TAIL / line.len() + 10);
        let (tail, cut) = log_tail(&log);
        assert!(cut && tail.len() <= LOG_TAIL && tail.starts_with('é'), "{}", tail.len());
        assert_eq!(log_tail("short\n"), ("short\n", false));
    }

    #[test]
    fn states_decide_the_buttons() {
        use RunState::*;
        assert!(is_busy(Queued) && is_busy(Running) && !is_busy(Failed));
        for s in [Failed, Cancelled, Interrupted] {
            assert!(can_rerun(s), "{s}");
        }
        for s in [Success, Running, Queued] {
            assert!(!can_rerun(s), "{s}");
        }
    }
}
