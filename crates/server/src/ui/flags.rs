//! Feature flags: every flag in force, and one flag with what it serves in each market, its
//! history (the versions of its service's flag file that added, changed or removed it, and the
//! change requests that made them) and its emergency changes; with, for a kill switch and a
//! person holding the platform's emergency role, the button that kills it at once.
//!
//! The kill is a form post behind the same walls as every other (the SameSite=Strict cookie
//! and the cross-site layer's Origin check); it calls the engine's emergency path, the very
//! function `POST /api/v1/flags/{key}/kill` calls, which checks the role again and records an
//! emergency change, unreviewed until someone of the other side reviews it.

use super::configure::targeting;
use super::forms::PostedForm;
use super::layout::{Nav, Page, capitalize, count, dot, empty, page, when};
use super::links;
use super::{PageError, PageResult};
use crate::AppState;
use crate::auth::{Caller, Developer, PageAuth, Viewer};
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tandem_core::flags::{CompiledFlag, Kill};
use tandem_engine::flag_emergencies::KillRequest;
use tandem_engine::views::flag_pages::FlagPage;
use tandem_store::FlagEmergencyRow;

/// What decides a flag's value in a market, and what it serves there.
pub struct Serves {
    /// disabled, killed, market rule, every market or default.
    pub why: &'static str,
    /// What it serves, in words.
    pub what: String,
    /// The badge's colour: bad (off by a kill or its file), ok (targeted), idle (its default).
    pub tone: &'static str,
}

impl Serves {
    pub fn render(&self) -> Markup {
        html! { span class={ "badge " (self.tone) } { (self.why) } " " (self.what) }
    }
}

/// What a flag serves in `market` (`None`: a context with no market), and why.
pub fn serves_in(flag: &CompiledFlag, market: Option<&str>) -> Serves {
    let default = &flag.default_variant().name;
    let serves = |why, what, tone| Serves { why, what, tone };
    if !flag.enabled() {
        return serves(
            "disabled",
            format!("serves {default} (its file says enabled: false)"),
            "bad",
        );
    }
    if flag.is_killed_in(market) {
        return serves("killed", format!("serves {default} (emergency kill)"), "bad");
    }
    match market.and_then(|m| flag.market(m)) {
        Some(t) => serves("market rule", targeting(flag, t), "ok"),
        None => match targeting(flag, flag.targeting()).as_str() {
            "—" => serves("default", format!("serves {default}"), "idle"),
            t => serves("every market", t.to_string(), "ok"),
        },
    }
}

/// The flag's state everywhere, as a badge.
fn state_badge(flag: &CompiledFlag) -> Markup {
    let killed_in: Vec<&str> = flag
        .kills()
        .iter()
        .filter_map(|k| match k {
            Kill::Market(m) => Some(m.as_str()),
            Kill::Everywhere => None,
        })
        .collect();
    html! {
        @if !flag.enabled() { span.badge.bad { "off" } }
        @else if flag.is_killed_in(None) { span.badge.bad { "killed (emergency)" } }
        @else if !killed_in.is_empty() { span.badge.bad { "killed in " (killed_in.join(", ")) } }
        @else { span.badge.ok { "on" } }
    }
}

/// `GET /flags`: every flag in force.
pub async fn list(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let flags = state.engine.flags_in_force();
    let body = html! {
        div.page-head {
            h1 { "Flags" }
            span.muted { "in force now, evaluated over OFREP" }
            a.right href="/config" { "Config & flags →" }
        }
        section.panel {
            @if flags.is_empty() {
                (empty("No flag yet. Put a flag file in force with `tandem flags apply SERVICE -f flags.yml`."))
            } @else {
                table.data.flags {
                    thead { tr { th { "Flag" } th { "Service" } th { "State" } th { "Default" } th { "Markets with a rule" } } }
                    tbody {
                        @for f in &flags {
                            tr data-flag=(f.flag.key()) {
                                td {
                                    (links::flag(f.flag.key()))
                                    @if let Some(d) = f.flag.description() { div.muted.small { (d) } }
                                }
                                td { (f.service) }
                                td { (state_badge(&f.flag)) @if f.flag.kill_switch() { div.muted.small { "kill switch" } } }
                                td { code { (f.flag.default_variant().name) } }
                                td {
                                    @for (m, _) in f.flag.markets() { (links::market(m)) " " }
                                    @if f.flag.markets().next().is_none() { span.muted { "—" } }
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
            title: "Flags",
            nav: Nav::Flags,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// `GET /flags/{key}`: one flag.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(key): Path<String>) -> PageResult {
    let facts = state.engine.flag_page(&key).await?;
    let may_kill = state
        .engine
        .check_emergency_role(&auth.0.name, auth.0.role)
        .await
        .is_ok();
    Ok(flag_page(&auth.0, &facts, may_kill))
}

fn flag_page(caller: &Caller, f: &FlagPage, may_kill: bool) -> Markup {
    let flag = &f.flag.flag;
    let key = flag.key();
    // Markets served otherwise than every market: a rule of their own, or a kill there.
    let everywhere = serves_in(flag, None);
    let own: Vec<_> = f
        .markets
        .iter()
        .filter(|m| serves_in(flag, Some(&m.id)).why != everywhere.why || flag.market(&m.id).is_some())
        .collect();
    let body = html! {
        div.page-head {
            h1 { "Flag " code { (key) } " " (state_badge(flag)) }
            a.right href="/flags" { "All flags" }
            div.meta {
                "service " b { (f.flag.service) } (dot())
                (format!("{:?}", flag.flag_type()).to_lowercase()) (dot())
                "default " code { (flag.default_variant().name) }
                @if let Some(v) = &f.version { (dot()) "from flag file v" (v.version) " by " (v.created_by) " " (when(Some(v.created_at))) }
                @if flag.kill_switch() { (dot()) "kill switch" }
            }
            @if let Some(d) = flag.description() { p.muted { (d) } }
        }
        @if flag.kill_switch() && may_kill && flag.enabled() && !flag.is_killed_in(None) {
            (kill_form(key, f))
        }
        section.panel.per-market {
            div.panel-head { h2 { "Per market" } span.muted { "what an evaluation with that market gets" } }
            table.data {
                thead { tr { th { "Market" } th { "Serves" } } }
                tbody {
                    @for m in &own {
                        tr data-market=(m.id) {
                            td { (links::market(&m.id)) " " (m.name) }
                            td { (serves_in(flag, Some(&m.id)).render()) }
                        }
                    }
                    @if own.len() < f.markets.len() {
                        tr.others {
                            td { @if own.is_empty() { "Every market" } @else { "Every other market (" (f.markets.len() - own.len()) ")" } }
                            td { (everywhere.render()) }
                        }
                    }
                }
            }
            p.muted { "Variants: " @for v in flag.variants() { code { (v.name) } " = " code { (v.value.to_string()) } " " } }
        }
        section.panel.history {
            div.panel-head { h2 { "History" } span.muted { "the versions of the flag file that changed it, newest first" } }
            @if f.history.is_empty() {
                (empty("No recorded version changed it."))
            } @else {
                table.data {
                    thead { tr { th { "Version" } th { "What" } th { "By" } th { "When" } th { "Why" } th { "Change request" } } }
                    tbody {
                        @for s in &f.history {
                            tr {
                                td { "v" (s.version.version) }
                                td { (s.edit.as_str()) }
                                td { (s.version.created_by) }
                                td { (when(Some(s.version.created_at))) }
                                td.long { (s.version.reason.as_deref().unwrap_or("")) }
                                td {
                                    @match &s.change {
                                        Some(c) => { (links::change(c.id)) " " (c.title) }
                                        None => { span.muted { "applied directly" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel.emergencies {
            div.panel-head { h2 { "Emergency changes" } span.muted { (count(f.emergencies.len(), "kill")) } }
            @if f.emergencies.is_empty() {
                (empty("Never killed in an emergency."))
            } @else {
                (emergency_table(&f.emergencies))
            }
        }
    };
    page(
        Page {
            title: &format!("Flag {key}"),
            nav: Nav::Flags,
            caller: Some(caller),
            refresh: None,
        },
        body,
    )
}

/// The kill switch: a reason and where, then the emergency path.
fn kill_form(key: &str, f: &FlagPage) -> Markup {
    html! {
        section.panel.kill {
            h2 { "Kill switch" }
            p { "Serves " code { (f.flag.flag.default_variant().name) } " at once, on every server. "
                "Recorded as an emergency change, unreviewed until someone of the other side reviews it; "
                "lifting it is a change request." }
            form.kill.actions method="post" action={ (links::flag_href(key)) "/kill" } {
                label { span { "Where" }
                    select name="market" {
                        option value="" { "every market" }
                        @for m in &f.markets {
                            @if !f.flag.flag.is_killed_in(Some(&m.id)) { option value=(m.id) { (m.id) " · " (m.name) } }
                        }
                    }
                }
                label { span { "Why" } input type="text" name="reason" required maxlength="1000" placeholder="what is breaking"; }
                button.btn.danger type="submit" { "Kill " (key) " now" }
            }
        }
    }
}

fn emergency_table(rows: &[FlagEmergencyRow]) -> Markup {
    html! {
        table.data.emergency-list {
            thead { tr { th { "#" } th { "Where" } th { "By" } th { "When" } th { "Why" } th { "Review" } th { "Kill" } } }
            tbody {
                @for r in rows {
                    tr data-emergency=(r.id) {
                        td { (r.id) }
                        td { @match &r.market { Some(m) => { (links::market(m)) }, None => { "every market" } } }
                        td { (r.created_by) }
                        td { (when(Some(r.created_at))) }
                        td.long { (r.reason) }
                        td {
                            @match (r.verdict.as_deref(), r.reviewed_by.as_deref()) {
                                (Some("approve"), by) => { span.badge.ok { "approved" } " by " (by.unwrap_or("?")) },
                                (Some(_), by) => { span.badge.bad { "rejected" } " by " (by.unwrap_or("?")) },
                                (None, _) => { span.badge.busy title={ "review it: tandem flags review " (r.id) " --approve|--reject" } { "unreviewed" } },
                            }
                        }
                        td {
                            @if r.lifted_at.is_some() { "lifted" }
                            @else if let Some(c) = r.lift_change { "in force · lift: " (links::change(c)) }
                            @else { "in force" }
                        }
                    }
                }
            }
        }
    }
}

/// The kill form's fields.
#[derive(Debug, Deserialize)]
pub struct KillForm {
    #[serde(default)]
    market: String,
    #[serde(default)]
    reason: String,
}

/// `POST /flags/{key}/kill`: the emergency path; back to the flag's page, which shows the kill
/// and its review `unreviewed`; refused, a page saying why with a link back.
pub async fn kill(
    auth: PageAuth<Developer>,
    State(state): State<AppState>,
    Path(key): Path<String>,
    PostedForm(form): PostedForm<KillForm>,
) -> Result<Response, PageError> {
    let market = Some(form.market.trim()).filter(|m| !m.is_empty());
    let request = KillRequest {
        flag: &key,
        market,
        reason: form.reason.trim(),
    };
    match state.engine.kill_flag(request, &auth.0.name, auth.0.role).await {
        Ok(_) => Ok(Redirect::to(&links::flag_href(&key)).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return Err(e.into());
            }
            Ok(refused(&auth.0, &key, e.status, &e.message))
        }
    }
}

/// `GET /flags/{key}/kill`: where sign-in returns; nothing is done, the user lands on the flag.
pub async fn back_to_flag(Path(key): Path<String>) -> Redirect {
    Redirect::to(&links::flag_href(&key))
}

fn refused(caller: &Caller, key: &str, status: StatusCode, message: &str) -> Response {
    let heading = format!("Flag {key} cannot be killed");
    let body = html! {
        section.panel.error-page {
            p.code { (status.as_u16()) }
            h1 { (heading) }
            p.message { (capitalize(message.trim())) }
            p { a href=(links::flag_href(key)) { "← Back to flag " (key) } }
        }
    };
    let title = format!("{} {heading}", status.as_u16());
    let markup = page(
        Page {
            title: &title,
            nav: Nav::Flags,
            caller: Some(caller),
            refresh: None,
        },
        body,
    );
    (status, markup).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::flags::parse_flags;

    #[test]
    fn each_market_says_why_it_gets_what_it_gets() {
        let text = "flags:\n  new-checkout:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    kill-switch: true\n    markets:\n      fr:\n        variant: on\n";
        let set = parse_flags("flags.yml", text, None).unwrap();
        let flag = set.get("new-checkout").unwrap().clone();
        let fr = serves_in(&flag, Some("fr"));
        assert_eq!((fr.why, fr.what.as_str(), fr.tone), ("market rule", "all on", "ok"));
        let be = serves_in(&flag, Some("be"));
        assert_eq!((be.why, be.what.as_str(), be.tone), ("default", "serves off", "idle"));
        let killed = flag.clone().with_kill(Kill::Market("fr".into()));
        assert_eq!(serves_in(&killed, Some("fr")).why, "killed");
        assert_eq!(
            serves_in(&killed, Some("be")).why,
            "default",
            "a kill in fr holds in fr only"
        );
        let everywhere = flag.with_kill(Kill::Everywhere);
        assert_eq!(serves_in(&everywhere, None).what, "serves off (emergency kill)");
    }
}
