//! Releases: the list, a page at a time, and one release with what it brings (its commits and
//! the ideas they mention, since the service's release before it), the run that built it, its
//! artifacts with their digests and provenance, its rollouts, the markets that run it now and
//! the config schema it was built with. Also one commit's page: its ideas, runs and releases.

use super::layout::{Nav, Page, badge, count, dot, empty, page, size, utc, when};
use super::links;
use super::{PageError, PageResult, parse_id};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use tandem_engine::views::releases::{CommitPage, ReleasePage};

/// Releases per page of the list.
const PAGE_SIZE: i64 = 50;

/// Which page of releases to show: those older than the release with id `after`, of `service`.
#[derive(Debug, Default, Deserialize)]
pub struct ReleasesQuery {
    after: Option<i64>,
    service: Option<String>,
}

/// `GET /releases`: releases newest first, each with its commit, run and the markets running it.
pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<ReleasesQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let service = q.service.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let releases = state.engine.list_releases_page(service, q.after, PAGE_SIZE).await?;
    let mut live: HashMap<i64, Vec<String>> = HashMap::new();
    for d in state.engine.list_live_deployments().await? {
        live.entry(d.release_id).or_default().push(d.market);
    }
    let next = (releases.len() as i64 >= PAGE_SIZE)
        .then(|| releases.last().map(|r| r.id))
        .flatten();
    let body = html! {
        div.page-head {
            h1 { "Releases" }
            span.muted { "newest first; each built from one commit by one run" }
        }
        section.panel {
            @if releases.is_empty() {
                (empty("No release yet: a green run of a service's pipeline makes one."))
            } @else {
                table.data.releases {
                    thead { tr { th { "Release" } th { "Service" } th { "Commit" } th { "Run" } th { "Runs in" } th { "Built" } } }
                    tbody {
                        @for r in &releases {
                            tr data-release=(r.id) {
                                td { (links::release(r.id, &r.version)) }
                                td { (r.service) }
                                td { (links::commit(&r.service, &r.commit_sha)) }
                                td { (links::run(r.run_id)) }
                                td {
                                    @match live.get(&r.id) {
                                        Some(markets) => { @for m in markets { (links::market(m)) " " } }
                                        None => { span.muted { "—" } }
                                    }
                                }
                                td { (when(Some(r.created_at))) }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = next {
                p { a href={ "/releases?after=" (next) @if let Some(s) = service { "&service=" (crate::auth::url_encode(s)) } } { "Older releases →" } }
            }
        }
    };
    Ok(page(
        Page {
            title: "Releases",
            nav: Nav::Releases,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// `GET /releases/{id}`: one release.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id = parse_id("release", &raw)?;
    let facts = state.engine.release_page(id).await?;
    Ok(release_page(&auth, &facts))
}

/// `GET /releases/{service}/{version}`: the release known by its version, at its own address.
pub async fn by_version(
    _: PageAuth<Viewer>,
    State(state): State<AppState>,
    Path((service, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let release = state
        .engine
        .get_release_by_version(&service, &version)
        .await
        .map_err(|e| match e {
            tandem_engine::Error::NotFound { .. } => {
                PageError::not_found(format!("service `{service}` has no release `{version}`"))
            }
            e => e.into(),
        })?;
    Ok(Redirect::to(&links::release_href(release.id)).into_response())
}

fn release_page(auth: &PageAuth<Viewer>, f: &ReleasePage) -> Markup {
    let r = &f.release;
    let title = format!("{} {}", r.service, r.version);
    let body = html! {
        div.page-head {
            h1 { (r.service) " " span.version { (r.version) } }
            a.right href="/releases" { "All releases" }
            div.meta {
                "built " (when(Some(r.created_at))) (dot())
                "from " (links::commit(&r.service, &r.commit_sha)) (dot())
                "by " (links::run(r.run_id))
                @if let Some(p) = &f.previous { (dot()) "after " (links::release(p.id, &p.version)) }
                @if let Some(n) = &f.next { (dot()) "before " (links::release(n.id, &n.version)) }
            }
        }
        section.panel.runs-now {
            div.panel-head { h2 { "Where it runs now" } span.muted { (count(f.live.len(), "market")) } }
            @if f.live.is_empty() {
                (empty("No market runs this release now."))
            } @else {
                ul.chips {
                    @for d in &f.live {
                        li { (links::market(&d.market)) " " span.muted.small { "since " (when(d.finished_at)) } }
                    }
                }
            }
        }
        section.panel.brings {
            div.panel-head {
                h2 { "What it brings" }
                span.muted {
                    (count(f.commits.len() + f.more_commits, "commit"))
                    @match &f.previous { Some(p) => { " since " (p.version) } None => { ", its service's first release" } }
                }
            }
            @if !f.ideas.is_empty() {
                p { "Ideas: " @for k in &f.ideas { (links::idea(k)) " " } }
            }
            @if f.commits.is_empty() {
                (empty("No new commit: it was built from a commit an earlier release already had, or its history was not read."))
            } @else {
                table.data.commits {
                    thead { tr { th { "Commit" } th { "Message" } th { "Author" } th { "Committed" } } }
                    tbody {
                        @for c in &f.commits {
                            tr {
                                td { (links::commit(&c.service, &c.sha)) }
                                td.long { (c.message.lines().next().unwrap_or("")) }
                                td { (c.author) }
                                td { (when(Some(c.committed_at))) }
                            }
                        }
                    }
                }
                @if f.more_commits > 0 { p.muted { "… and " (count(f.more_commits, "older commit")) "." } }
            }
        }
        section.panel.provenance {
            div.panel-head { h2 { "Artifacts and provenance" } }
            p {
                "Built by "
                @match &f.run {
                    Some(run) => { (links::run(run.id)) " " (badge(run.state.as_str())) " on branch " code { (run.branch) } " (" (run.trigger) ")" }
                    None => { "run #" (r.run_id) " (no longer kept)" }
                }
                " from commit " code { (r.commit_sha) }
                @if !r.builder.is_empty() { ", builder " code { (r.builder) } }
                ", at " (utc(r.created_at)) "."
            }
            @if f.artifacts.is_empty() {
                (empty("This release bundles no artifact."))
            } @else {
                table.data.artifacts {
                    thead { tr { th { "File" } th { "sha256" } th.num { "Size" } } }
                    tbody {
                        @for a in &f.artifacts {
                            tr {
                                td { code { (a.name) } }
                                td { code.digest { (a.digest) } }
                                td.num { (size(a.size)) }
                            }
                        }
                    }
                }
            }
        }
        section.panel.rollouts {
            div.panel-head { h2 { "Rollouts" } }
            @if f.rollouts.is_empty() {
                (empty("Not rolled out yet."))
            } @else {
                table.data {
                    thead { tr { th { "Rollout" } th { "State" } th { "By" } th { "Started" } th { "Finished" } } }
                    tbody {
                        @for ro in &f.rollouts {
                            tr {
                                td { (links::rollout(ro.id)) }
                                td { (badge(ro.state.as_str())) }
                                td { (ro.created_by) }
                                td { (when(ro.started_at.or(Some(ro.created_at)))) }
                                td { (when(ro.finished_at)) }
                            }
                        }
                    }
                }
            }
        }
        section.panel.schema {
            div.panel-head { h2 { "Config schema" } span.muted { "what this release's code accepts as config" } }
            @match &r.config_schema {
                Some(text) => {
                    (schema_keys(text))
                    details { summary { "The schema as JSON" } pre.schema { (pretty_json(text)) } }
                }
                None => { (empty("Its tandem.yml names no config schema.")) }
            }
        }
    };
    page(
        Page {
            title: &title,
            nav: Nav::Releases,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    )
}

/// The keys a config schema declares, with their type, the values they allow and their
/// description; nothing when it declares no `properties`.
fn schema_keys(text: &str) -> Markup {
    let schema: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
        return html! {};
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let allows = |p: &serde_json::Value| -> String {
        let mut parts = Vec::new();
        for (key, label) in [
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("exclusiveMinimum", ">"),
            ("exclusiveMaximum", "<"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("pattern", "matches"),
        ] {
            if let Some(v) = p.get(key) {
                parts.push(format!("{label} {v}"));
            }
        }
        if let Some(values) = p.get("enum").and_then(|e| e.as_array()) {
            let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            parts.push(format!("one of {}", values.join(", ")));
        }
        parts.join(", ")
    };
    html! {
        table.data.schema-keys {
            thead { tr { th { "Key" } th { "Type" } th { "Unit" } th { "Allows" } th { "Description" } } }
            tbody {
                @for (key, p) in properties {
                    tr {
                        td { code { (key) } @if required.contains(&key.as_str()) { " " span.small.muted { "required" } } }
                        td { (p.get("type").map(|t| t.to_string().replace('"', "")).unwrap_or_default()) }
                        td.small { (unit_of(p)) }
                        td.small { (allows(p)) }
                        td.small { (p.get("description").and_then(|d| d.as_str()).unwrap_or("")) }
                    }
                }
            }
        }
    }
}

/// A schema property's unit (`x-unit`), in words: empty when it declares none.
fn unit_of(property: &serde_json::Value) -> String {
    match property
        .get(tandem_core::config::UNIT_KEYWORD)
        .and_then(|u| u.as_str())
        .map(str::trim)
    {
        Some("currency") => "the market's currency".into(),
        Some("ratio") => "a fraction (shown as %)".into(),
        Some(unit) => unit.into(),
        None => String::new(),
    }
}

/// JSON re-indented for reading; anything else as it is.
fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

/// `GET /commits/{service}/{sha}`: one commit, the ideas it mentions, its runs and releases.
pub async fn commit(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    Path((service, sha)): Path<(String, String)>,
) -> PageResult {
    let f = state.engine.commit_page(&service, &sha).await?;
    Ok(commit_page(&auth, &f))
}

fn commit_page(auth: &PageAuth<Viewer>, f: &CommitPage) -> Markup {
    let short: String = f.sha.chars().take(8).collect();
    let title = format!("{} commit {short}", f.service);
    let body = html! {
        div.page-head {
            h1 { "Commit " code { (short) } }
            div.meta {
                b { (f.service) } (dot())
                @if let Some(c) = &f.commit { (c.author) (dot()) "committed " (when(Some(c.committed_at))) (dot()) }
                code.small { (f.sha) }
            }
        }
        section.panel {
            @match &f.commit {
                Some(c) => {
                    pre.commit-message { (c.message) }
                    @let parents: Vec<&str> = c.parents.split_whitespace().collect();
                    @if !parents.is_empty() { p.muted { "Parents: " @for p in parents { code.sha { (p.chars().take(8).collect::<String>()) } " " } } }
                }
                None => { (empty("Its message was not read: the service's history was read after it was built.")) }
            }
            @if !f.ideas.is_empty() { p { "Ideas: " @for k in &f.ideas { (links::idea(k)) " " } } }
        }
        div.columns {
            section.panel {
                h2 { "Runs" }
                @if f.runs.is_empty() { (empty("No run of this commit.")) }
                ul.list {
                    @for r in &f.runs {
                        li { (links::run(r.id)) " " (badge(r.state.as_str())) span.right.muted { (when(Some(r.created_at))) } }
                    }
                }
            }
            section.panel {
                h2 { "Releases built from it" }
                @if f.releases.is_empty() { (empty("No release was built from this commit.")) }
                ul.list {
                    @for r in &f.releases {
                        li { (links::release(r.id, &r.version)) span.right.muted { (when(Some(r.created_at))) } }
                    }
                }
            }
        }
    };
    page(
        Page {
            title: &title,
            nav: Nav::Releases,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_table_says_each_keys_unit() {
        let schema = r#"{"type":"object","required":["vat_rate"],"properties":{
            "vat_rate":{"type":"number","maximum":0.5,"x-unit":"ratio"},
            "free_shipping_threshold":{"type":"number","x-unit":"currency"},
            "timeout":{"type":"number","x-unit":"s"},
            "name":{"type":"string"}}}"#;
        let html = super::schema_keys(schema).into_string();
        for want in [
            "<th>Unit</th>",
            "a fraction (shown as %)",
            "the market's currency",
            ">s</td>",
        ] {
            assert!(html.contains(want), "missing {want:?} in {html}");
        }
    }
}
