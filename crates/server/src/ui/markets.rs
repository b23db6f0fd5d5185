//! The markets pages: every market in wave order with its launch state, what runs there and
//! its health as the monitor last saw it; one market's readiness checklist and Launch button
//! while it is not live, its launch record and recent probes once it is.
//!
//! The checklist is run afresh on each view of a market not yet live (its probes are real
//! requests), so that page does not refresh itself. The Launch button is a form post behind the
//! same walls as the run page's: the SameSite=Strict cookie and a refused foreign `Origin`; the
//! engine runs the checklist again at the launch, so a page shown earlier decides nothing.
//!
//! Under what runs there now, a market's page tells its history: deployments, incidents, config
//! versions and the flags in force, with every time also in the market's own time zone.

use super::layout::{IDLE_REFRESH, Nav, Page, badge, count, dot, empty, page, utc, when};
use super::{PageError, PageResult, links};
use crate::AppState;
use crate::auth::{Caller, Operator, PageAuth, Viewer};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tandem_core::role::Role;
use tandem_engine::launch::{LaunchOutcome, Readiness};
use tandem_engine::views::market_history::MarketHistory;
use tandem_engine::views::markets::{MarketPage, MarketStatus, MarketsPage, ProbeBucket};
use tandem_store::MarketHealthRow;
use tandem_store::launches::LaunchRow;
use tandem_store::{MARKET_SEARCH_MAX, MarketFilter};

/// Which colour the monitor's verdict gets: failing is on its way down, not down yet.
fn health_tone(state: &str) -> &'static str {
    match state {
        "up" => "ok",
        "failing" => "busy",
        "down" => "bad",
        _ => "idle",
    }
}

fn health_badge(state: &str) -> Markup {
    html! { span class={ "badge " (health_tone(state)) } { (state) } }
}

/// How many service cells (markets × services) a page of the list holds: a page of markets
/// stays under 100 KB however many services there are (about 100 bytes a cell).
const CELLS_PER_PAGE: usize = 500;

/// Markets a list page shows at once, at `services` services: 100, fewer when each market has
/// more than 5 services (50 at 10), never fewer than 10; the rest are a click on "Next" away.
fn markets_per_page(services: usize) -> usize {
    (CELLS_PER_PAGE / services.max(1)).clamp(10, 100)
}

/// The list's search, filters, order and page, as they come in the query string
/// (`?q=par&wave=pilot&health=down&sort=worst&page=2`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketsQuery {
    /// Part of a market's id, name or region, in any case.
    q: Option<String>,
    wave: Option<String>,
    /// The monitor's verdict over its services: up, down or none.
    health: Option<String>,
    /// Its launch state: planned, launching or live.
    state: Option<String>,
    /// `worst`: down first, then those with an open incident, a failed last deployment or a
    /// release on its way, then the rest; otherwise wave order.
    sort: Option<String>,
    /// 1-based.
    page: Option<usize>,
}

impl MarketsQuery {
    /// What the store filters by; a search longer than [`MARKET_SEARCH_MAX`] is refused.
    fn filter(&self) -> Result<MarketFilter, PageError> {
        let text = super::forms::filled(&self.q);
        if text.is_some_and(|t| t.chars().count() > MARKET_SEARCH_MAX) {
            return Err(PageError::from(ApiError::bad_request(format!(
                "the search has more than {MARKET_SEARCH_MAX} characters: search for part of a market's id, name or region"
            ))));
        }
        let owned = |v: &Option<String>| super::forms::filled(v).map(str::to_string);
        Ok(MarketFilter {
            text: text.map(str::to_string),
            wave: owned(&self.wave),
            no_wave: false,
            health: owned(&self.health),
            state: owned(&self.state),
            worst_first: self.worst_first(),
        })
    }

    fn worst_first(&self) -> bool {
        super::forms::filled(&self.sort) == Some("worst")
    }

    fn is_filtered(&self) -> bool {
        [&self.q, &self.wave, &self.health, &self.state]
            .iter()
            .any(|v| super::forms::filled(v).is_some())
    }

    /// This list's link with another page.
    fn href(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [
            ("q", &self.q),
            ("wave", &self.wave),
            ("health", &self.health),
            ("state", &self.state),
            ("sort", &self.sort),
        ] {
            if let Some(v) = super::forms::filled(value) {
                pairs.push((name, v));
            }
        }
        let page = page.to_string();
        pairs.push(("page", &page));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::auth::url_encode(v)))
            .collect();
        format!("/markets?{}", query.join("&"))
    }
}

/// `GET /markets`: the markets in wave order (or worst first), a page at a time, with a search
/// and filters by wave, health and launch state; each with its launch state and, per service,
/// what runs there and its health. Only the page's markets are read.
pub async fn list(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<MarketsQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let filter = q.filter()?;
    let per_page = markets_per_page(state.engine.list_services().await?.len());
    let asked = q.page.unwrap_or(1).max(1);
    let mut facts = state
        .engine
        .markets_page(&filter, (asked - 1) * per_page, per_page)
        .await?;
    let pages = facts.matching.div_ceil(per_page).max(1);
    // A page past the end shows the last one.
    let current = asked.min(pages);
    if current != asked {
        facts = state
            .engine
            .markets_page(&filter, (current - 1) * per_page, per_page)
            .await?;
    }
    let first = (current - 1) * per_page;
    let (on_page, launches) = (&facts.markets, &facts.launches);
    let total = facts.total();
    let down = facts.sum(|w| w.down);
    let waves: Vec<&str> = facts.waves.iter().filter_map(|w| w.wave.as_deref()).collect();
    let body = html! {
        div.page-head {
            h1 { "Markets" }
            span.muted { @if q.worst_first() { "worst first" } @else { "in wave order" } }
            div.stats {
                span.stat.ok { b { (facts.sum(|w| w.live)) } " live" }
                span.stat.busy { b { (facts.sum(|w| w.launching)) } " launching" }
                span.stat { b { (facts.sum(|w| w.planned)) } " planned" }
                a.stat.bad[down > 0] href="/markets?health=down" { b { (down) } " down" }
            }
        }
        form.filters method="get" action="/markets" data-autosubmit {
            label { span { "Search" }
                input type="search" name="q" value=[super::forms::filled(&q.q)] placeholder="id, name or region" maxlength=(MARKET_SEARCH_MAX);
            }
            label { span { "Wave" }
                select name="wave" {
                    option value="" { "every wave" }
                    @for w in &waves { option value=(w) selected[super::forms::filled(&q.wave) == Some(*w)] { (w) } }
                }
            }
            label { span { "Health" }
                select name="health" {
                    option value="" { "any health" }
                    @for h in ["down", "up", "none"] { option value=(h) selected[super::forms::filled(&q.health) == Some(h)] { (h) } }
                }
            }
            label { span { "State" }
                select name="state" {
                    option value="" { "any state" }
                    @for s in ["live", "launching", "planned"] { option value=(s) selected[super::forms::filled(&q.state) == Some(s)] { (s) } }
                }
            }
            label { span { "Order" }
                select name="sort" {
                    option value="" { "wave order" }
                    option value="worst" selected[q.worst_first()] { "worst first" }
                }
            }
            button.btn type="submit" { "Filter" }
        }
        section.panel {
            @if total == 0 {
                (empty("The platform file declares no market."))
            } @else if facts.matching == 0 {
                (empty("No market matches this search."))
            } @else {
                @if facts.matching > per_page || q.is_filtered() {
                    p.muted.small.page-note {
                        "Markets " (first + 1) "–" (first + on_page.len()) " of " (facts.matching)
                        @if q.is_filtered() { " matching (of " (total) ")" }
                    }
                }
                table.data.markets {
                    thead { tr {
                        th { "Wave" } th { "Market" } th { "State" } th { "Region" } th { "Currency" }
                        th { "Services: release and health" } th {}
                    } }
                    tbody {
                        @for m in on_page {
                            (market_row(m, launches.get(&m.market.id), &facts))
                        }
                    }
                }
                @if pages > 1 {
                    nav.pager aria-label="Pages of markets" {
                        @if current > 1 { a href=(q.href(current - 1)) rel="prev" { "← Previous" } }
                        span.muted { "page " (current) " of " (pages) }
                        @if current < pages { a href=(q.href(current + 1)) rel="next" { "Next →" } }
                    }
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Markets",
            nav: Nav::Markets,
            caller: Some(&auth.0),
            refresh: Some(IDLE_REFRESH),
        },
        body,
    ))
}

/// A market's row. Its services cell is compact, for a page of 500 service cells: a line per
/// service that runs, or deploys, something (name, release, what is on its way, health); the
/// services with nothing there on one last line.
fn market_row(m: &MarketStatus, launch: Option<&LaunchRow>, facts: &MarketsPage) -> Markup {
    let id = &m.market.id;
    let idle: Vec<&str> = m
        .services
        .iter()
        .filter(|s| s.release.is_none() && s.in_flight.is_none())
        .map(|s| s.service.as_str())
        .collect();
    html! {
        tr data-market=(id) {
            td.muted { (m.wave.as_deref().unwrap_or("—")) }
            td { a href={ "/markets/" (id) } { span.market-id { (id) } " " (m.market.name) } }
            td {
                (badge(m.market.state.as_str()))
                @if let Some(l) = launch {
                    br; span.small.muted { "by " (l.launched_by) " " (when(Some(l.launched_at))) }
                }
            }
            td { (m.market.region) }
            td { (m.market.currency) }
            td.svcs {
                @for s in m.services.iter().filter(|s| s.release.is_some() || s.in_flight.is_some()) {
                    div {
                        i { (s.service) } " "
                        @match &s.release { Some(v) => { (links::version(&s.service, v)) } None => { "—" } }
                        @if let Some(v) = &s.in_flight { " " span.busy-text { "→ " (links::version(&s.service, v)) } }
                        " " (health_cell(facts.health_of(&s.service, id), s.release.is_some()))
                    }
                }
                @if idle.len() == m.services.len() {
                    span.muted { "nothing deployed" }
                } @else if !idle.is_empty() {
                    div.muted { "nothing deployed: " (idle.join(", ")) }
                }
            }
            td {
                @if m.market.state != "live" { a href={ "/markets/" (id) } { "Readiness" } }
            }
        }
    }
}

/// The monitor's verdict, its latency and open incident; `unknown` for a release it has not
/// probed yet, a dash where nothing runs.
fn health_cell(h: Option<&MarketHealthRow>, running: bool) -> Markup {
    html! {
        @match h {
            Some(h) => {
                (health_badge(h.state.as_str()))
                @if let Some(ms) = h.latency_ms { " " span.small.muted { (latency(ms)) } }
                @if let Some(i) = h.incident_id { " " span.small { (links::incident(i)) } }
            }
            None if running => { (health_badge("unknown")) " " span.small.muted { "not probed yet" } }
            None => { span.muted { "—" } }
        }
    }
}

fn latency(ms: f64) -> String {
    format!("{ms:.0} ms")
}

/// `GET /markets/{id}`: the readiness checklist of a market not yet live, or the launch record
/// and health of a live one.
pub async fn detail(auth: PageAuth<Viewer>, State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let facts = state.engine.market_page(&id, true).await?;
    let history = state.engine.market_history(&id).await?;
    Ok(market_page(&auth.0, &facts, &history, None))
}

/// `POST /markets/{id}/launch`: on to the market's page, live; refused, the same page with what
/// is missing.
pub async fn launch(
    auth: PageAuth<Operator>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (status, readiness, notice) = match state.engine.launch_market(&id, &auth.0.name).await {
        Ok(LaunchOutcome::Launched(_)) => return Ok(Redirect::to(&format!("/markets/{id}")).into_response()),
        Err(tandem_engine::Error::NotFound { .. }) => {
            return Err(PageError::not_found(format!(
                "there is no market `{id}` in the platform file"
            )));
        }
        Ok(LaunchOutcome::NotReady(readiness)) => {
            let failed = readiness.missing().count();
            let notice = format!(
                "Not launched: {} of its readiness checklist {} not pass. Fix them and launch again.",
                count(failed, "check"),
                if failed == 1 { "does" } else { "do" }
            );
            (StatusCode::UNPROCESSABLE_ENTITY, Some(readiness), notice)
        }
        Err(tandem_engine::Error::Conflict(already)) => {
            (StatusCode::CONFLICT, None, format!("Not launched again: {already}."))
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let mut facts = state.engine.market_page(&id, false).await?;
    facts.readiness = readiness.map(|r| *r);
    let history = state.engine.market_history(&id).await?;
    Ok((status, market_page(&auth.0, &facts, &history, Some(&notice))).into_response())
}

/// `GET /markets/{id}/launch`: where sign-in returns; nothing is done, the user lands on the page.
pub async fn back_to_market(Path(id): Path<String>) -> Redirect {
    Redirect::to(&format!("/markets/{}", crate::auth::url_encode(&id)))
}

fn market_page(caller: &Caller, facts: &MarketPage, history: &MarketHistory, notice: Option<&str>) -> maud::Markup {
    let (m, launch, probes) = (&facts.status, &facts.launch, &facts.probes);
    let market = &m.market;
    let title = format!("{} ({})", market.name, market.id);
    let body = html! {
        div.page-head {
            h1 { (market.name) " " span.market-id { (market.id) } " " (badge(market.state.as_str())) }
            a.right href="/markets" { "All markets" }
            div.meta {
                "wave " b { (m.wave.as_deref().unwrap_or("none")) } (dot())
                "region " (market.region) (dot()) (market.currency) (dot()) (market.locale) (dot()) (market.timezone)
            }
        }
        @if let Some(n) = notice { p.alert.bad.notice { (n) } }
        @if let Some(r) = &facts.readiness {
            (readiness_panel(r, caller))
        } @else if market.state == "live" {
            (launch_panel(launch.as_ref()))
        }
        @if !facts.fronts.is_empty() {
            p.fronts {
                "Fronts (real traffic goes through them; a canary gets its share there): "
                @for (i, (service, url, share)) in facts.fronts.iter().enumerate() {
                    @if i > 0 { ", " }
                    b { (service) } " " code { (url) }
                    @if *share > 0 { " (new release: " (share) " %)" }
                }
            }
        }
        section.panel {
            div.panel-head { h2 { "Services" } span.muted { "what runs here, and the monitor's last probe" } }
            table.data.services {
                thead { tr {
                    th { "Service" } th { "Release" } th { "Live since" } th { "Health" } th { "Last probe" } th { "Last error" }
                } }
                tbody {
                    @for s in &m.services {
                        @let h = facts.health_of(&s.service);
                        tr data-service=(s.service) {
                            td { b { (s.service) } }
                            td.long {
                                @match &s.release { Some(v) => { (links::version(&s.service, v)) } None => { span.muted { "nothing live" } } }
                                @if let Some(v) = &s.in_flight { " " span.busy-text.small { "→ " (links::version(&s.service, v)) " deploying" } }
                                @if let Some(f) = &s.last_failure { br; span.small.busy-text { (f) } }
                            }
                            td { (at_market(s.since, &market.timezone)) }
                            td { (health_cell(h, s.release.is_some())) }
                            td { (when(h.map(|h| h.probed_at))) }
                            td.small { (h.and_then(|h| h.error.as_deref()).unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if market.state == "live" || probes.iter().any(|(_, p)| !p.is_empty()) {
            (probes_panel(probes))
        }
        (history_panels(&market.id, &market.timezone, history))
    };
    page(
        Page {
            title: &title,
            nav: Nav::Markets,
            caller: Some(caller),
            refresh: (market.state == "live" && notice.is_none()).then_some(IDLE_REFRESH),
        },
        body,
    )
}

/// One item of a checklist, run now or as stored with a launch.
#[derive(Debug, serde::Deserialize)]
struct Item {
    check: String,
    service: String,
    passed: bool,
    reason: String,
}

fn checklist(items: &[Item]) -> Markup {
    html! {
        table.data.checklist {
            thead { tr { th { "Service" } th { "Check" } th { "Result" } th { "Why" } } }
            tbody {
                @for c in items {
                    tr data-check=(c.check) data-passed=(c.passed) {
                        td { (c.service) }
                        td { b { (c.check) } }
                        td {
                            @if c.passed { span.badge.ok { "✓ passed" } } @else { span.badge.bad { "✗ failed" } }
                        }
                        td.small { (c.reason) }
                    }
                }
            }
        }
    }
}

/// The checklist run now, and the Launch button for operators.
fn readiness_panel(r: &Readiness, caller: &Caller) -> Markup {
    let items: Vec<Item> = r
        .checks
        .iter()
        .map(|c| Item {
            check: c.check.to_string(),
            service: c.service.clone(),
            passed: c.passed,
            reason: c.reason.clone(),
        })
        .collect();
    let passed = items.iter().filter(|c| c.passed).count();
    html! {
        section.panel.readiness {
            div.panel-head {
                h2 { "Readiness" }
                span { b { (passed) " of " (count(items.len(), "check")) } " pass" }
                span.muted { "run " (when(Some(r.checked_at))) ", probes included" }
            }
            (checklist(&items))
            @if caller.role.allows(Role::Operator) {
                form.launch.actions method="post" action={ "/markets/" (r.market) "/launch" } {
                    @if r.ready {
                        button.btn.primary type="submit" { "Launch " (r.name) }
                        span.muted { "Every check passes: launching makes its config and flag changes production changes." }
                    } @else {
                        button.btn type="submit" { "Launch " (r.name) }
                        span.muted { "The checklist is run again at the launch, which is refused while a check fails." }
                    }
                }
            } @else {
                p.last { "An operator launches it once every check passes." }
            }
        }
    }
}

/// Who launched a live market, when, and the checklist it passed.
fn launch_panel(launch: Option<&LaunchRow>) -> Markup {
    html! {
        section.panel.launch-record {
            h2 { "Launch" }
            @match launch {
                Some(l) => {
                    @let items: Vec<Item> = serde_json::from_str(&l.checklist).unwrap_or_default();
                    p { "Launched by " b { (l.launched_by) } " " (when(Some(l.launched_at))) ", passing every check:" }
                    (checklist(&items))
                }
                None => { p.last { "Live from the platform file: it was not launched through Tandem." } }
            }
        }
    }
}

/// All probes of a minute passed (up), none did (down), or some did.
fn bucket_badge(b: &ProbeBucket) -> Markup {
    match b.passed {
        p if p >= b.probes => health_badge("up"),
        0 => health_badge("down"),
        _ => html! { span.badge.busy { "some failed" } },
    }
}

fn probes_panel(probes: &[(String, Vec<ProbeBucket>)]) -> Markup {
    html! {
        section.panel.probes {
            div.panel-head { h2 { "Recent probes" } span.muted { "per minute, newest first" } }
            @if probes.iter().all(|(_, p)| p.is_empty()) {
                (empty("No probe in the last hour: the monitor probes live markets at its interval."))
            } @else {
                table.data {
                    thead { tr { th { "Service" } th { "Minute" } th { "Probes" } th { "Result" } th.num { "Latency" } } }
                    tbody {
                        @for (service, buckets) in probes {
                            @for b in buckets {
                                tr {
                                    td { (service) }
                                    td { (when(Some(b.at))) }
                                    td { (b.passed) " of " (b.probes) " passed" }
                                    td { (bucket_badge(b)) }
                                    td.num { @if let Some(ms) = b.latency_ms { (latency(ms)) } @else { span.muted { "—" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A Unix-ms time on the market's wall clock ("2026-12-07 12:03 CET"), or in UTC when its time
/// zone is unknown.
fn local_time(ms: i64, timezone: &str) -> String {
    let Ok(tz) = jiff::tz::TimeZone::get(timezone) else {
        return utc(ms);
    };
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// A time as "3 min ago", with the market's wall-clock time beside it (and UTC on hover).
fn at_market(ms: Option<i64>, timezone: &str) -> Markup {
    html! {
        @match ms {
            Some(ms) => { (when(Some(ms))) br; span.small.muted.local-time title=(utc(ms)) { (local_time(ms, timezone)) } }
            None => { span.muted { "—" } }
        }
    }
}

/// The market's history: deployments, incidents, config versions and flags in force.
fn history_panels(market: &str, timezone: &str, h: &MarketHistory) -> Markup {
    html! {
        section.panel.history.deployments {
            div.panel-head { h2 { "Deployments" } span.muted { "newest first; times also in " (timezone) } }
            @if h.deployments.is_empty() {
                (empty("Nothing was ever deployed here."))
            } @else {
                table.data {
                    thead { tr { th { "Service" } th { "Release" } th { "Kind" } th { "State" } th { "Rollout" } th { "Started" } th { "Why" } } }
                    tbody {
                        @for d in &h.deployments {
                            tr data-deployment=(d.id) {
                                td { (d.service) }
                                td {
                                    @match h.versions.get(&d.release_id) { Some(v) => { (links::release(d.release_id, v)) } None => { "release #" (d.release_id) } }
                                    @if let Some(p) = d.previous_release_id.and_then(|p| h.versions.get(&p).map(|v| (p, v))) {
                                        span.small.muted { " after " } (links::release(p.0, p.1))
                                    }
                                    @if let Some(v) = d.config_version { span.small.muted { " · config v" (v) } }
                                }
                                td { (d.kind.as_str()) }
                                td { (badge(d.state.as_str())) }
                                td { @match d.rollout_id { Some(r) => { (links::rollout(r)) } None => { span.muted { "—" } } } }
                                td { (at_market(Some(d.started_at), timezone)) }
                                td.small { (d.reason.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        section.panel.history.incidents {
            div.panel-head { h2 { "Incidents" } span.muted { "newest first" } }
            @if h.incidents.is_empty() {
                (empty("No incident here."))
            } @else {
                table.data {
                    thead { tr { th { "Incident" } th { "Service" } th { "State" } th { "Title" } th { "Opened" } th { "Resolved" } } }
                    tbody {
                        @for i in &h.incidents {
                            tr data-incident=(i.id) {
                                td { (links::incident(i.id)) }
                                td { (i.service) }
                                td { (badge(i.state.as_str())) }
                                td.long { (i.title) }
                                td { (at_market(Some(i.opened_at), timezone)) }
                                td { (at_market(i.resolved_at, timezone)) }
                            }
                        }
                    }
                }
            }
        }
        section.panel.history.configs {
            div.panel-head { h2 { "Config versions" } span.muted { "the versions this market moved to, newest first" } }
            @if h.configs.is_empty() {
                (empty("Its config is still the platform file's: no change request has moved it."))
            } @else {
                table.data {
                    thead { tr { th { "Service" } th { "Version" } th { "Change" } th { "Moved by" } th { "When" } th { "Why" } } }
                    tbody {
                        @for c in &h.configs {
                            tr {
                                td { (c.moved.service) }
                                td.long { "v" (c.moved.version) @if let Some(v) = &c.version { " " span.small.muted { (v.message) } } }
                                td { @match c.version.as_ref().and_then(|v| v.change_id) { Some(id) => { (links::change(id)) } None => { span.muted { "—" } } } }
                                td { (c.moved.set_by) }
                                td { (at_market(Some(c.moved.set_at), timezone)) }
                                td.small { (c.moved.reason) }
                            }
                        }
                    }
                }
            }
        }
        section.panel.history.flags-here {
            div.panel-head { h2 { "Flags in force" } span.muted { "what each flag serves here" } }
            @if h.flags.is_empty() {
                (empty("No flag in force."))
            } @else {
                table.data {
                    thead { tr { th { "Flag" } th { "Service" } th { "Serves here" } } }
                    tbody {
                        @for f in &h.flags {
                            tr data-flag=(f.flag.key()) {
                                td { (links::flag(f.flag.key())) }
                                td { (f.service) }
                                td { (super::flags::serves_in(&f.flag, Some(market)).render()) }
                            }
                        }
                    }
                }
            }
        }
    }
}
