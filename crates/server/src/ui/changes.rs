//! Change requests: the list, one request as a reviewer reads it (where it stands under the
//! policy, each changed market's diff, validation, the reviews), and its buttons. The buttons
//! are form posts behind the same walls as the run page's: the SameSite=Strict cookie and a
//! refused foreign `Origin`. Who may review is the policy's call, made by the engine.

use super::forms::{Back, Confirm, OptionalQuery, confirm_page};
use super::layout::{LIVE_REFRESH, Nav, Page, count, dot, empty, page, when};
use super::{PageError, PageResult, parse_id};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth, Viewer, url_encode};
use crate::error::ApiError;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use tandem_core::config::{Change, ChangeCheck, ConfigDiff};
use tandem_core::policy::changes::ReviewState;
use tandem_core::role::Role;
use tandem_core::state::ChangeState;
use tandem_engine::changes::ChangeView;
use tandem_store::ChangeRow;

/// How many change requests the list shows.
const CHANGE_LIST_LIMIT: i64 = 200;

/// Which colour a change request's state gets: open waits on people (amber), not on a fault.
fn change_tone(state: &str) -> &'static str {
    match state {
        "done" => "ok",
        "open" | "applying" | "applied" => "busy",
        "failed" | "rejected" => "bad",
        _ => "idle",
    }
}

fn change_badge(state: &str) -> Markup {
    html! { span class={ "badge " (change_tone(state)) } { (state) } }
}

/// Whether the change is still moving on its own (its config rolling out).
fn in_flight(state: ChangeState) -> bool {
    matches!(state, ChangeState::Applying | ChangeState::Applied)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ChangesQuery {
    /// Only this service's change requests.
    #[serde(default)]
    pub service: Option<String>,
}

/// `GET /changes[?service=]`: change requests, newest first.
pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let service = q.service.as_deref().filter(|s| !s.is_empty());
    let changes = state.engine.list_changes(service, CHANGE_LIST_LIMIT).await?;
    let body = html! {
        div.page-head {
            h1 { "Change requests" @if let Some(s) = service { " · " (s) } }
            span.muted { "config and flag changes, newest first" }
            @if service.is_some() { a.right href="/changes" { "All services" } }
            // Only those who may propose see the way to: a viewer's post would be refused.
            @if auth.0.role.allows(Role::Developer) {
                div.actions.right {
                    a.btn href={ "/changes/new?kind=flags" @if let Some(s) = service { "&service=" (url_encode(s)) } } { "Propose a flag change" }
                    " "
                    a.btn.primary href={ "/changes/new" @if let Some(s) = service { "?service=" (url_encode(s)) } } { "Propose a config change" }
                }
            }
        }
        section.panel {
            @if changes.is_empty() {
                (empty("No change request yet. Propose one here, with `tandem config set SERVICE key=value --market M --title …`, or with `tandem flags apply SERVICE -f flags.yml`."))
            } @else {
                table.data.changes {
                    thead { tr {
                        th { "Change" } th { "Service" } th { "Kind" } th { "Title" } th { "Author" } th { "State" } th { "Updated" }
                    } }
                    tbody {
                        @for c in &changes {
                            tr data-change=(c.id) {
                                td { a href={ "/changes/" (c.id) } { "#" (c.id) } }
                                td { a.filter-link href={ "/changes?service=" (url_encode(&c.service)) } { (c.service) } }
                                td { span.chip { (c.kind) } }
                                td.long { a href={ "/changes/" (c.id) } { (c.title) } }
                                td { (c.author) " " span.muted { (c.author_role) } }
                                td { (change_badge(c.state.as_str())) }
                                td { (when(Some(c.updated_at))) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Change requests",
            nav: Nav::Changes,
            caller: Some(&auth.0),
            refresh: changes.iter().any(|c| in_flight(c.state)).then_some(LIVE_REFRESH),
        },
        body,
    ))
}

/// `GET /changes/{id}`: the change request as a reviewer reads it.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(raw): Path<String>) -> PageResult {
    let id = parse_id("change request", &raw)?;
    let view = state.engine.change_view(id).await.map_err(ApiError::from)?;
    let c = &view.change;
    let caller = &auth.0;
    let platform = state.engine.load_platform().await?;
    // The policy's own verdict on this caller, so the page offers only what will be accepted.
    let authors = state.engine.authors_of(c).await.map_err(ApiError::from)?;
    let may_review = platform
        .changes
        .rule(c.production)
        .may_review(&authors, &caller.name, caller.role);
    let may_withdraw =
        c.state.can_move_to(ChangeState::Withdrawn) && (caller.name == c.author || caller.role == Role::Admin);
    let title = format!("Change request #{id}");
    let body = html! {
        div.page-head {
            h1 { (title) " " (change_badge(c.state.as_str())) }
            @if may_withdraw {
                div.actions {
                    form method="post" action={ "/changes/" (id) "/withdraw" } {
                        button.btn.danger type="submit" { "Withdraw" }
                    }
                }
            }
            div.meta {
                b { (c.title) } (dot())
                span.chip { (c.kind) } " of " a href={ "/changes?service=" (url_encode(&c.service)) } { (c.service) } (dot())
                "by " (c.author) " " span.muted { "as " (c.author_role) } (dot())
                "revision " (c.revision) (dot())
                "opened " (when(Some(c.created_at))) (dot())
                "updated " (when(Some(c.updated_at)))
            }
        }
        (standing(&view))
        (authors_panel(&view))
        @if let Some(check) = &view.check {
            (radius_panel(check))
            (validation_panel(check))
        }
        @if view.change.kind == "flags" {
            (flags_panel(&view))
        }
        (reviews_panel(&view, caller, may_review))
    };
    Ok(page(
        Page {
            title: &title,
            nav: Nav::Changes,
            caller: Some(caller),
            refresh: in_flight(c.state).then_some(LIVE_REFRESH),
        },
        body,
    ))
}

/// Where the change stands: under review, or what applying it came to.
fn standing(view: &ChangeView) -> Markup {
    let c = &view.change;
    html! {
        @match c.state {
            ChangeState::Open => {
                @match &view.review {
                    ReviewState::Waiting { missing, from } => {
                        p.alert.note.standing { "Waits for " b { (count(*missing as usize, "approval")) } " from " b { (from) } "." }
                    }
                    ReviewState::Approved { .. } => { p.alert.note.standing { "Approved: it applies now." } }
                    ReviewState::Rejected { by } => { p.alert.bad.standing { "Rejected by " b { (by) } "." } }
                }
            }
            state => {
                p class={ "alert standing " @if matches!(state, ChangeState::Failed | ChangeState::Rejected) { "bad" } @else { "note" } } {
                    @match &view.review {
                        ReviewState::Approved { by } if !by.is_empty() && state != ChangeState::Withdrawn => {
                            "Approved by " b { (by.join(", ")) } (dot())
                        }
                        _ => {}
                    }
                    (capitalize(c.result.as_deref().unwrap_or(state.as_str())))
                    @if let Some(r) = c.rollout_id { (dot()) a href={ "/rollouts/" (r) } { "see rollout #" (r) " →" } }
                }
            }
        }
    }
}

/// Who wrote each revision: the opener, then every edit. None of them may review it.
fn authors_panel(view: &ChangeView) -> Markup {
    let c = &view.change;
    html! {
        section.panel.authors {
            div.panel-head {
                h2 { "Authors" }
                span.muted { "whoever wrote a revision may not review the change" }
            }
            table.data.authors {
                thead { tr { th { "Revision" } th { "Written by" } th { "Role" } th { "When" } } }
                tbody {
                    @for a in &view.authors {
                        @let earlier = a.revision < c.revision;
                        tr.earlier[earlier] data-revision=(a.revision) {
                            td {
                                (a.revision)
                                @if a.revision == 1 { " " span.muted.small { "opened" } }
                                @if a.revision == c.revision { " " span.muted.small { "current" } }
                            }
                            td { b { (a.author) } }
                            td.muted { (a.role) }
                            td { (when(Some(a.at))) }
                        }
                    }
                }
            }
        }
    }
}

/// The markets the change alters, with each one's diff.
fn radius_panel(check: &ChangeCheck) -> Markup {
    let changed = &check.radius.changed;
    let total = changed.len() + check.radius.unchanged.len();
    html! {
        section.panel {
            div.panel-head {
                h2 { "Blast radius" }
                span { b { (changed.len()) " of " (count(total, "market")) } " change" }
                div.legend {
                    span.key.diff-added { "added" }
                    span.key.diff-removed { "removed" }
                    span.key.diff-changed { "changed" }
                }
            }
            @if changed.is_empty() {
                (empty("No market's config changes any more: the config it was written against has moved on."))
            } @else {
                table.data.diff {
                    thead { tr { th { "Market" } th.key { "Key" } th.old { "Old" } th {} th.new { "New" } } }
                    tbody {
                        @for m in changed {
                            @for (i, e) in m.diff.entries.iter().enumerate() {
                                tr class={ "diff-" (change_kind(&e.change)) } data-market=(m.market) {
                                    @if i == 0 {
                                        td.market rowspan=(m.diff.len()) { (super::links::market(&m.market)) }
                                    }
                                    (diff_cells(&e.path, &e.change))
                                }
                            }
                        }
                    }
                }
            }
            @if !check.radius.unchanged.is_empty() {
                p.last.small { "Unchanged: " (check.radius.unchanged.join(", ")) }
            }
        }
    }
}

fn change_kind(change: &Change) -> &'static str {
    match change {
        Change::Added { .. } => "added",
        Change::Removed { .. } => "removed",
        Change::Changed { .. } => "changed",
    }
}

/// Key, old value, arrow and new value of one leaf that differs.
fn diff_cells(path: &str, change: &Change) -> Markup {
    let absent = html! { span.muted { "—" } };
    let value = |v: &serde_json::Value| html! { code.value { (v.to_string()) } };
    let (old, new) = match change {
        Change::Added { new } => (absent.clone(), value(new)),
        Change::Removed { old } => (value(old), absent.clone()),
        Change::Changed { old, new } => (value(old), value(new)),
    };
    html! {
        td.key { code { (if path.is_empty() { "(root)" } else { path }) } }
        td.old { (old) }
        td.arrow { "→" }
        td.new { (new) }
    }
}

/// Each changed market's proposed config against the schema of the release running there.
fn validation_panel(check: &ChangeCheck) -> Markup {
    let checked: Vec<&str> = check
        .radius
        .markets()
        .filter(|m| !check.unchecked.iter().any(|u| u == m))
        .collect();
    html! {
        section.panel {
            div.panel-head {
                h2 { "Validation" }
                span.muted { "against the config schema of the release running in each changed market, as of now" }
            }
            ul.checks {
                @for e in &check.errors { li.bad { "✗ " (e.to_string()) } }
                @for r in &check.unknown_regions {
                    li.bad { "✗ region `" (r) "`: no market of the platform is in this region" }
                }
                @for m in &check.unknown_markets { li.bad { "✗ market `" (m) "`: not a market of the platform" } }
                @if check.is_valid() && !checked.is_empty() {
                    li.ok { "✓ Valid for the release running in each changed market (" (checked.join(", ")) ")" }
                }
                @if !check.unchecked.is_empty() {
                    li.muted {
                        "Not validated (no release with a config schema runs there): " (check.unchecked.join(", "))
                    }
                }
            }
        }
    }
}

/// A flag change: the leaf diff of the flag file, and why it does not compile if it does not.
fn flags_panel(view: &ChangeView) -> Markup {
    let empty_diff = ConfigDiff::default();
    let diff = view.flags_diff.as_ref().unwrap_or(&empty_diff);
    html! {
        section.panel {
            div.panel-head {
                h2 { "Flag file" }
                span { b { (diff.len()) @if diff.len() == 1 { " leaf" } @else { " leaves" } } " change" }
                div.legend {
                    span.key.diff-added { "added" }
                    span.key.diff-removed { "removed" }
                    span.key.diff-changed { "changed" }
                }
            }
            @if let Some(e) = &view.flags_error {
                pre.check-error { (e) }
            }
            @if diff.is_empty() {
                (empty("The proposed flag file is the one in force."))
            } @else {
                table.data.diff {
                    thead { tr { th.key { "Key" } th.old { "Old" } th {} th.new { "New" } } }
                    tbody {
                        @for e in &diff.entries {
                            tr class={ "diff-" (change_kind(&e.change)) } { (diff_cells(&e.path, &e.change)) }
                        }
                    }
                }
            }
            details.proposed {
                summary { "The proposed flag file" }
                pre.source { (view.change.proposed) }
            }
        }
    }
}

/// The reviews so far, and the review form while the change is open.
fn reviews_panel(view: &ChangeView, caller: &Caller, may_review: Result<(), String>) -> Markup {
    let c = &view.change;
    html! {
        section.panel {
            div.panel-head {
                h2 { "Reviews" }
                span.muted {
                    @if view.approvals_needed == 0 {
                        "needs no approval: it changes no live market"
                    } @else {
                        "needs " (count(view.approvals_needed as usize, "approval")) " from " (view.approvers)
                        @if c.production { ", as it changes a live market" }
                    }
                }
            }
            @if view.reviews.is_empty() {
                (empty("No review yet."))
            } @else {
                table.data.reviews {
                    thead { tr { th { "Who" } th { "Role" } th { "Verdict" } th { "Revision" } th { "Comment" } th { "When" } } }
                    tbody {
                        @for r in &view.reviews {
                            @let earlier = r.revision < c.revision;
                            tr.earlier[earlier] {
                                td { b { (r.reviewer) } }
                                td.muted { (r.role) }
                                td {
                                    @if r.verdict == "approve" { span.badge.ok { "approved" } }
                                    @else { span.badge.bad { "rejected" } }
                                }
                                td { (r.revision) @if earlier { " " span.muted.small { "earlier revision" } } }
                                td.comment { (r.comment.as_deref().unwrap_or_default()) }
                                td { (when(Some(r.at))) }
                            }
                        }
                    }
                }
            }
            @if c.state == ChangeState::Open && caller.role.allows(Role::Developer) {
                @match may_review {
                    Ok(()) => {
                        form.review method="post" action={ "/changes/" (c.id) "/approve" } {
                            // The revision this page shows: a change edited since is not approved blind.
                            input type="hidden" name="revision" value=(c.revision);
                            textarea name="comment" rows="2" placeholder="Comment (optional)" {}
                            div.review-buttons {
                                button.btn.primary type="submit" { "Approve" }
                                // Rejecting asks for confirmation and a reason on a step of its own.
                                a.btn.danger href={ "/changes/" (c.id) "/reject?revision=" (c.revision) } { "Reject" }
                            }
                        }
                    }
                    Err(why) => { p.last.muted { (sentence(&why)) } }
                }
            }
        }
    }
}

/// The fields of a review or withdrawal.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ReviewForm {
    /// The review's comment; the confirm step of a rejection sends it as `reason`.
    #[serde(default, alias = "reason")]
    pub comment: String,
    /// The revision the page showed; a review of another one is refused.
    #[serde(default)]
    pub revision: Option<i64>,
}

/// `POST /changes/{id}/{approve|reject|withdraw}`: back to the change request page.
pub async fn act(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path((raw, action)): Path<(String, String)>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, PageError> {
    let id = parse_id("change request", &raw)?;
    let (engine, caller) = (&state.engine, &auth.0);
    let back = Back::change(id);
    // Withdraw carries no field; a review's fields must read, or it would approve blind.
    let form = match form {
        Ok(Form(f)) => f,
        Err(_) if action == "withdraw" => ReviewForm::default(),
        Err(e) => {
            let why = format!("the form is not a review (`comment`, `revision`): {}", e.body_text());
            return Ok(back.refused(caller, StatusCode::BAD_REQUEST, &refused_verb(&action), &sentence(&why)));
        }
    };
    let comment = Some(form.comment.trim()).filter(|c| !c.is_empty());
    if action == "reject" && comment.is_none() {
        let problem = "Not rejected: say why, so that its author knows what to change.";
        return Ok(confirm_reject(caller, &back, form.revision, Some(problem)));
    }
    let done: tandem_engine::Result<ChangeRow> = match action.as_str() {
        "approve" | "reject" => {
            engine
                .review_revision(
                    id,
                    form.revision,
                    &caller.name,
                    caller.role,
                    action == "approve",
                    comment,
                )
                .await
        }
        "withdraw" => {
            let change = engine.get_change(id).await?;
            if change.author != caller.name && caller.role != Role::Admin {
                let why = format!("only its author ({}) or an admin can withdraw it", change.author);
                return Ok(back.refused(caller, StatusCode::FORBIDDEN, &refused_verb(&action), &sentence(&why)));
            }
            engine.withdraw_change(id, &caller.name).await
        }
        _ => return Err(PageError::not_found(format!("no action `{action}` on change requests"))),
    };
    match done.map_err(ApiError::from) {
        Ok(_) => Ok(back.to_page()),
        // The policy's refusal, a change that moved on, any other refusal: said on a page
        // leading back to it; our own fault on the error page.
        Err(e) if e.status.is_client_error() => {
            Ok(back.refused(caller, e.status, &refused_verb(&action), &sentence(&e.message)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The confirm step of a rejection: why is asked for, and recorded as the review's comment.
fn confirm_reject(caller: &Caller, back: &Back, revision: Option<i64>, problem: Option<&str>) -> Response {
    let id = back.href().rsplit('/').next().unwrap_or_default().to_string();
    confirm_page(
        caller,
        Confirm {
            back,
            action: "reject",
            question: format!("Reject change request #{id}?"),
            explain: "It will not be applied; its author reads your reason and may propose it again.".to_string(),
            button: "Reject the change",
            danger: true,
            hidden: revision.map(|r| ("revision", r.to_string())).into_iter().collect(),
            reason: "",
            problem,
        },
    )
}

/// `GET` of the same: the confirm step of a rejection; otherwise (where sign-in returns)
/// nothing is done and the user lands on the page.
pub async fn back_to_change(
    auth: PageAuth<Developer>,
    Path((raw, action)): Path<(String, String)>,
    OptionalQuery(form): OptionalQuery<ReviewForm>,
) -> Result<Response, PageError> {
    let id = parse_id("change request", &raw)?;
    if action == "reject" {
        return Ok(confirm_reject(&auth.0, &Back::change(id), form.revision, None));
    }
    Ok(Redirect::to(&format!("/changes/{id}")).into_response())
}

/// How a refusal page says `action` could not be done: "approved by you".
fn refused_verb(action: &str) -> String {
    let verb = match action {
        "approve" => "approved",
        "reject" => "rejected",
        _ => "withdrawn",
    };
    format!("{verb} by you")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.trim().chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` with a capital first letter and a closing full stop.
fn sentence(text: &str) -> String {
    let mut out = capitalize(text);
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diff_row_says_how_the_value_changed() {
        let changed = diff_cells(
            "vat_rate",
            &Change::Changed {
                old: json!(0.2),
                new: json!(0.21),
            },
        )
        .into_string();
        assert!(
            changed.contains(r#"<td class="key"><code>vat_rate</code></td>"#),
            "{changed}"
        );
        assert!(
            changed.contains(r#"<td class="old"><code class="value">0.2</code></td>"#),
            "{changed}"
        );
        assert!(
            changed.contains(r#"<td class="new"><code class="value">0.21</code></td>"#),
            "{changed}"
        );
        let added = diff_cells("carrier", &Change::Added { new: json!("post") }).into_string();
        assert!(
            added.contains(r#"<td class="old"><span class="muted">—</span></td>"#),
            "{added}"
        );
        assert!(added.contains("&quot;post&quot;"), "strings keep their quotes: {added}");
    }

    #[test]
    fn open_changes_wait_on_people_not_on_a_fault() {
        assert_eq!(change_tone("open"), "busy");
        assert_eq!(change_tone("done"), "ok");
        assert_eq!(change_tone("rejected"), "bad");
        assert_eq!(change_tone("withdrawn"), "idle");
    }
}
