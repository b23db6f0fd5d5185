//! The audit log page (admins): who did what, when, through which credential, from where, with
//! which outcome; filtered like `tandem audit`, newest first, paged by cursor; and, on demand,
//! a check of the hash chain.

use super::PageResult;
use super::forms::filled;
use super::layout::{Nav, Page, empty, page, when};
use crate::AppState;
use crate::api::audit::parse_time;
use crate::auth::{Admin, PageAuth, url_encode};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use tandem_store::{AuditFilter, ChainReport, EventRow};

/// Entries per page.
const PAGE_SIZE: i64 = 100;
/// Characters of an entry's details shown in the table (the API has them whole).
const DETAILS_MAX: usize = 160;

/// The page's filters, as they come in the query string.
#[derive(Debug, Default, Deserialize)]
pub struct AuditPageQuery {
    actor: Option<String>,
    kind: Option<String>,
    object: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<i64>,
    verify: Option<String>,
}

impl AuditPageQuery {
    /// The text filters that are set, as query pairs (for the next page's link).
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("actor", filled(&self.actor)),
            ("kind", filled(&self.kind)),
            ("object", filled(&self.object)),
            ("since", filled(&self.since)),
            ("until", filled(&self.until)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    fn href_before(&self, before: i64) -> String {
        let mut query: Vec<String> = self
            .pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        query.push(format!("before={before}"));
        format!("/audit?{}", query.join("&"))
    }
}

pub async fn show(
    auth: PageAuth<Admin>,
    State(state): State<AppState>,
    query: Result<Query<AuditPageQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let filter = AuditFilter {
        actor: filled(&q.actor).map(str::to_string),
        kind: filled(&q.kind).map(str::to_string),
        object: filled(&q.object).map(str::to_string),
        since: filled(&q.since).map(|t| parse_time("since", t)).transpose()?,
        until: filled(&q.until).map(|t| parse_time("until", t)).transpose()?,
        before: q.before,
        limit: PAGE_SIZE,
    };
    let engine = &state.engine;
    let audit = engine.list_audit(&filter).await?;
    let report = match q.verify {
        Some(_) => Some(engine.verify_audit_chain().await?),
        None => None,
    };
    let body = html! {
        div.page-head {
            h1 { "Audit log" }
            span.muted { "every change and decision: who, through which credential, from where; newest first" }
            form method="get" action="/audit" { input type="hidden" name="verify" value="1"; button.btn type="submit" { "Verify the chain" } }
        }
        @if let Some(report) = &report { (chain(report)) }
        form.filters method="get" action="/audit" {
            label { span { "Actor" } input type="search" name="actor" value=[filled(&q.actor)] placeholder="anyone"; }
            label { span { "Kind" } input type="search" name="kind" value=[filled(&q.kind)] placeholder="rollout, change.approved…"; }
            label { span { "Object" } input type="search" name="object" value=[filled(&q.object)] placeholder="rollout/12"; }
            label { span { "Since" } input type="search" name="since" value=[filled(&q.since)] placeholder="2026-12-06T08:00:00Z"; }
            label { span { "Until" } input type="search" name="until" value=[filled(&q.until)] placeholder="RFC 3339"; }
            button.btn type="submit" { "Filter" }
            @if !q.pairs().is_empty() || q.before.is_some() { a.clear href="/audit" { "Clear filters" } }
        }
        section.panel {
            @if audit.entries.is_empty() {
                (empty("No entry matches these filters."))
            } @else {
                (entries(&audit.entries))
            }
            @if let Some(next) = audit.next {
                p { a href=(q.href_before(next)) { "Older entries →" } }
            }
        }
    };
    Ok(page(
        Page {
            title: "Audit log",
            nav: Nav::Audit,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

fn chain(report: &ChainReport) -> Markup {
    html! {
        @if report.intact {
            p.alert.good role="status" {
                "The chain is intact: " (report.rows) " rows. Newest row "
                (report.head_id.unwrap_or(0)) ": " code { (report.head_hash.as_deref().unwrap_or("-")) }
                " — keep it elsewhere; `tandem audit verify --head` checks it later."
            }
        } @else {
            div.alert.bad role="alert" {
                p { "The chain is broken: rows were edited or deleted outside Tandem." }
                ul { @for p in &report.problems { li { (p.message) } } }
            }
        }
    }
}

fn entries(rows: &[EventRow]) -> Markup {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    html! {
        table.data.audit {
            thead { tr {
                th.num { "#" } th { "When" } th { "Actor" } th { "Via" } th { "Address" } th { "Kind" } th { "Object" } th { "Outcome" } th { "Details" }
            } }
            tbody {
                @for e in rows {
                    tr data-entry=(e.id) {
                        td.num { (e.id) }
                        td.nowrap { (when(Some(e.at))) }
                        td { (dash(&e.actor)) }
                        td.muted { (dash(&e.via)) }
                        td.muted { (dash(&e.address)) }
                        td { code { (e.kind) } }
                        td.subject { (e.subject) }
                        td { span class={ "badge " (if e.outcome == "ok" { "ok" } else { "bad" }) } { (e.outcome) } }
                        td.long { code.muted { (details(&e.data)) } }
                    }
                }
            }
        }
    }
}

fn details(data: &str) -> String {
    match data.char_indices().nth(DETAILS_MAX) {
        Some((at, _)) => format!("{}…", &data[..at]),
        None => data.to_string(),
    }
}
