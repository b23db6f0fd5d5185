//! Configure: per service, a markets × keys grid of the config each market runs (its config
//! version, each value coloured by the layer that set it) and the feature flags in force with
//! their state per market, and their emergency changes (kills), unreviewed until the other side
//! reviews them.

use super::PageResult;
use super::layout::{Nav, Page, count, empty, page, when};
use crate::AppState;
use crate::auth::{PageAuth, Viewer, url_encode};
use axum::extract::State;
use maud::{Markup, html};
use std::collections::{BTreeMap, BTreeSet};
use tandem_core::config::{MARKET_FACTS, Origin, Unit, with_unit};
use tandem_core::flags::{CompiledFlag, Kill, Targeting};
use tandem_engine::views::configure::MarketConfig;
use tandem_store::FlagEmergencyRow;

pub async fn show(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let services = state.engine.configure_page().await?;
    let body = html! {
        div.page-head { h1 { "Config & flags" } span.muted { "defaults → region → market; flags over OFREP" } }
        @for s in &services {
            section.panel {
                div.panel-head {
                    h2 { (s.service) " · config" }
                    @if let Some(v) = s.latest { span.muted { "newest version " b { "v" (v) } } }
                    a.open-changes href={ "/changes?service=" (url_encode(&s.service)) } {
                        @if s.open_changes == 0 { "change requests" }
                        @else { span.badge.busy { (count(s.open_changes, "open change request")) } }
                        " →"
                    }
                    div.legend {
                        span.key.layer-defaults { "defaults" }
                        span.key.layer-region { "region" }
                        span.key.layer-override { "market override" }
                    }
                }
                (config_grid(&s.markets, s.latest, &s.units))
            }
            section.panel {
                div.panel-head {
                    h2 { (s.service) " · flags" }
                    @if let Some(v) = &s.flag_version {
                        span.muted { "version " (v.version) " by " (v.created_by) }
                    }
                }
                @if s.flags.is_empty() {
                    (empty("No flag yet. Put a flag file in force with `tandem flags apply SERVICE -f flags.yml`."))
                } @else {
                    (flag_table(&s.flags))
                }
                @if !s.emergencies.is_empty() {
                    (emergency_table(&s.emergencies))
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Config & flags",
            nav: Nav::Config,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

/// Markets down, keys across (the market's own facts left out: they are its identity); each
/// value with the unit its schema declares (`units`), an amount in the market's currency.
fn config_grid(rows: &[MarketConfig], latest: Option<i64>, units: &BTreeMap<String, Unit>) -> Markup {
    let keys: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.resolution.origins.keys().map(String::as_str))
        .filter(|p| !MARKET_FACTS.iter().any(|f| p.strip_prefix('/') == Some(f)))
        .collect();
    if keys.is_empty() {
        return empty(
            "No config value yet: each market has only its own facts (id, currency, locale…). Set `config` for the service in the platform file.",
        );
    }
    html! {
        div.scroll-x {
            table.data.config-grid {
                thead { tr {
                    th { "Market" }
                    th { "Version" }
                    @for k in &keys {
                        th {
                            code { (k.trim_start_matches('/').replace('/', ".")) }
                            @if let Some(u) = units.get(*k) { " " span.unit { "(" (unit_name(u)) ")" } }
                        }
                    }
                } }
                tbody {
                    @for r in rows {
                        @let c = &r.resolution;
                        tr data-market=(c.market) {
                            td { b { (c.market) } }
                            (version_cell(r.version, latest))
                            @for k in &keys {
                                @match c.origin(k) {
                                    Some(origin) => {
                                        @let value = pointer_value(&c.values, k);
                                        @let unit = unit_of(&c.values, k, units).filter(|u| u.len() > value.len());
                                        td class={ "layer-" (layer_class(origin)) } title=(origin.to_string()) {
                                            span.value { (value) }
                                            @if let Some(u) = unit { span.unit { (u[value.len()..]) } }
                                        }
                                    }
                                    None => { td.muted { "—" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The config version a market runs; one behind the newest stands out (a config rollout has
/// not reached it yet, or it was rolled back).
fn version_cell(version: Option<i64>, latest: Option<i64>) -> Markup {
    match (version, latest) {
        (Some(v), Some(l)) if v < l => html! {
            td.config-version.behind title={ "runs config v" (v) "; the newest is v" (l) } { "v" (v) }
        },
        (Some(v), _) => html! { td.config-version title={ "runs config v" (v) } { "v" (v) } },
        (None, _) => html! { td.config-version.muted title="from the platform file" { "—" } },
    }
}

fn pointer_value(values: &serde_json::Value, pointer: &str) -> String {
    match values.pointer(pointer) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

/// The value at `pointer` with its unit (`0.2 (20 %)`, `40 EUR`), when its schema declares one.
fn unit_of(values: &serde_json::Value, pointer: &str, units: &BTreeMap<String, Unit>) -> Option<String> {
    let unit = units.get(pointer)?;
    let currency = values.pointer("/currency").and_then(serde_json::Value::as_str);
    Some(with_unit(values.pointer(pointer)?, unit, currency))
}

/// What a column's unit is, in its head.
fn unit_name(unit: &Unit) -> &str {
    match unit {
        Unit::Currency => "market currency",
        Unit::Ratio => "ratio",
        Unit::Named(u) => u,
    }
}

fn layer_class(origin: &Origin) -> &'static str {
    match origin {
        Origin::Market => "facts",
        Origin::Defaults => "defaults",
        Origin::Region { .. } => "region",
        Origin::Override => "override",
    }
}

fn flag_table(flags: &[CompiledFlag]) -> Markup {
    html! {
        table.data.flags {
            thead { tr {
                th { "Flag" } th { "Type" } th { "State" } th { "Default" } th { "Per market" } th { "Everywhere else" }
            } }
            tbody {
                @for f in flags {
                    tr data-flag=(f.key()) {
                        td.long { (super::links::flag(f.key())) @if let Some(d) = f.description() { div.muted.small { (d) } } }
                        td { (format!("{:?}", f.flag_type()).to_lowercase()) }
                        td {
                            @if !f.enabled() { span.badge.bad title="kill switch: the default for everyone" { "killed" } }
                            @else if f.is_killed_in(None) { span.badge.bad title="emergency kill: the default for everyone" { "killed (emergency)" } }
                            @else if !f.kills().is_empty() {
                                span.badge.bad title="emergency kill: the default in these markets" {
                                    "killed in " (f.kills().iter().filter_map(|k| match k { Kill::Market(m) => Some(m.as_str()), Kill::Everywhere => None }).collect::<Vec<_>>().join(", "))
                                }
                            }
                            @else { span.badge.ok { "on" } }
                            @if f.kill_switch() { div.muted.small { "kill switch" } }
                        }
                        td { code { (f.default_variant().name) } }
                        td {
                            @for (market, t) in f.markets() {
                                div { b { (market) } ": " (targeting(f, t)) }
                            }
                        }
                        td { (targeting(f, f.targeting())) }
                    }
                }
            }
        }
    }
}

/// The emergency changes of a service's flags: who killed what where, why, and the review,
/// `unreviewed` until someone of the other side gives it (`tandem flags review ID`).
fn emergency_table(rows: &[FlagEmergencyRow]) -> Markup {
    html! {
        h3 { "Emergency changes" }
        table.data.emergencies {
            thead { tr {
                th { "#" } th { "Flag" } th { "Where" } th { "By" } th { "When" } th { "Why" } th { "Review" } th { "Kill" }
            } }
            tbody {
                @for r in rows {
                    tr data-emergency=(r.id) {
                        td { (r.id) }
                        td { (super::links::flag(&r.flag)) }
                        td { (r.market.as_deref().unwrap_or("every market")) }
                        td { (r.created_by) }
                        td { (when(Some(r.created_at))) }
                        td.long { (r.reason) }
                        td {
                            @match (r.verdict.as_deref(), r.reviewed_by.as_deref()) {
                                (Some("approve"), Some(by)) => { span.badge.ok { "approved" } " by " (by) },
                                (Some(_), by) => { span.badge.bad { "rejected" } " by " (by.unwrap_or("?")) },
                                (None, _) => {
                                    span.badge.busy title={ "review it: tandem flags review " (r.id) " --approve|--reject" } { "unreviewed" }
                                },
                            }
                            @if let Some(c) = &r.review_comment { div.muted.small { (c) } }
                        }
                        td {
                            @if r.lifted_at.is_some() { "lifted" }
                            @else if let Some(c) = r.lift_change { "in force · " a href={ "/changes/" (c) } { "lift: change " (c) } }
                            @else { "in force" }
                        }
                    }
                }
            }
        }
    }
}

/// A targeting block in words: `2 rules, then 20% on / 80% off`.
pub(super) fn targeting(flag: &CompiledFlag, t: &Targeting) -> String {
    let mut parts = Vec::new();
    if !t.rules().is_empty() {
        parts.push(format!("{} rule(s)", t.rules().len()));
    }
    if let Some(r) = t.rollout() {
        let split: Vec<String> = r
            .weights()
            .iter()
            .map(|(i, bp)| {
                let name = flag.variants().get(*i).map_or("?", |v| v.name.as_str());
                format!("{}% {name}", f64::from(*bp) / 100.0)
            })
            .collect();
        parts.push(split.join(" / "));
    }
    if let Some(i) = t.variant() {
        parts.push(format!(
            "all {}",
            flag.variants().get(i).map_or("?", |v| v.name.as_str())
        ));
    }
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join(", then ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::config::resolve_all;
    use tandem_core::platform::parse_platform;

    #[test]
    fn each_value_is_marked_with_the_layer_that_set_it() {
        let platform = parse_platform(
            "p.yml",
            "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
services:
  - name: shop
    repo: /nonexistent
    config: { defaults: { vat_rate: 0.2 }, regions: { west: { carrier: post } }, markets: { be: { vat_rate: 0.21 } } }
",
        )
        .unwrap();
        let rows: Vec<MarketConfig> = resolve_all(&platform.services[0].config, &platform.markets)
            .into_iter()
            .zip([Some(2), Some(1)])
            .map(|(resolution, version)| MarketConfig { version, resolution })
            .collect();
        let html = config_grid(&rows, Some(2), &BTreeMap::new()).into_string();
        assert!(
            html.contains(r#"<td class="layer-defaults" title="defaults"><span class="value">0.2</span></td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="layer-override" title="market override"><span class="value">0.21</span></td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"class="layer-region" title="region west"><span class="value">post</span></td>"#),
            "{html}"
        );
        assert!(!html.contains("EUR"), "the market's own facts are left out: {html}");
        assert!(
            html.contains(r#"<td class="config-version" title="runs config v2">v2</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="config-version behind" title="runs config v1; the newest is v2">v1</td>"#),
            "a market behind the newest version stands out: {html}"
        );

        // With the units a schema declares: a ratio also as a percentage, an amount in the
        // market's own currency, the unit in the column's head.
        let units = tandem_core::config::schema_units(&serde_json::json!({
            "properties": { "vat_rate": { "type": "number", "x-unit": "ratio" } }
        }));
        let html = config_grid(&rows, Some(2), &units).into_string();
        assert!(
            html.contains(r#"<code>vat_rate</code> <span class="unit">(ratio)</span>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<span class="value">0.21</span><span class="unit"> (21 %)</span>"#),
            "{html}"
        );
    }
}
