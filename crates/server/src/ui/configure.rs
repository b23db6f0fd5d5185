//! Configure: per service, a markets × keys grid of the config each market runs (its config
//! version, each value coloured by the layer that set it) and the feature flags in force with
//! their state per market.

use super::PageResult;
use super::layout::{Nav, Page, count, empty, page};
use crate::AppState;
use crate::auth::{PageAuth, Viewer, url_encode};
use crate::error::ApiError;
use axum::extract::State;
use maud::{Markup, html};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use tandem_core::config::{MARKET_FACTS, Origin, Resolution, resolve};
use tandem_core::flags::{CompiledFlag, Targeting};
use tandem_core::platform::{ConfigLayers, Platform, Service};

/// How many of a service's change requests are read to count the open ones.
const OPEN_CHANGES_SCAN: i64 = 500;

/// One market's row of the grid: the config version it runs and its resolved config.
struct MarketRow {
    /// `None` before Tandem keeps the service's config (the platform file's layers apply).
    version: Option<i64>,
    resolution: Resolution,
}

pub async fn show(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let platform = state.engine.load_platform().await?;
    let flags = state.engine.flags();
    let mut configs = Vec::with_capacity(platform.services.len());
    for service in &platform.services {
        let latest = match state.engine.latest_config(&service.name).await {
            Ok(row) => Some(row.version),
            Err(tandem_engine::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let rows = market_rows(&state, &platform, service, latest).await?;
        let open = state
            .engine
            .list_changes(Some(&service.name), OPEN_CHANGES_SCAN)
            .await?
            .iter()
            .filter(|c| c.state == tandem_core::state::ChangeState::Open)
            .count();
        configs.push((latest, rows, open));
    }
    let body = html! {
        div.page-head { h1 { "Config & flags" } span.muted { "defaults → region → market; flags over OFREP" } }
        @for (service, (latest, rows, open)) in platform.services.iter().zip(&configs) {
            section.panel {
                div.panel-head {
                    h2 { (service.name) " · config" }
                    @if let Some(v) = latest { span.muted { "newest version " b { "v" (v) } } }
                    a.open-changes href={ "/changes?service=" (url_encode(&service.name)) } {
                        @if *open == 0 { "change requests" }
                        @else { span.badge.busy { (count(*open, "open change request")) } }
                        " →"
                    }
                    div.legend {
                        span.key.layer-defaults { "defaults" }
                        span.key.layer-region { "region" }
                        span.key.layer-override { "market override" }
                    }
                }
                (config_grid(rows, *latest))
            }
            @let owned: Vec<&CompiledFlag> = flags.set.flags().iter()
                .filter(|f| flags.owners.get(f.key()).is_some_and(|o| o == &service.name))
                .collect();
            section.panel {
                div.panel-head {
                    h2 { (service.name) " · flags" }
                    @if let Some(v) = flags.versions.get(&service.name) {
                        span.muted { "version " (v.version) " by " (v.created_by) }
                    }
                }
                @if owned.is_empty() {
                    (empty("No flag yet. Put a flag file in force with `tandem flags apply SERVICE -f flags.yml`."))
                } @else {
                    (flag_table(&owned))
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

/// Each market's config at the version it runs, resolved with that version's layers so that
/// each value keeps the layer that set it (markets mid-rollout run different versions).
async fn market_rows(
    state: &AppState,
    platform: &Platform,
    service: &Service,
    latest: Option<i64>,
) -> Result<Vec<MarketRow>, ApiError> {
    if latest.is_none() {
        return Ok(platform
            .markets
            .iter()
            .map(|m| MarketRow {
                version: None,
                resolution: resolve(&service.config, m),
            })
            .collect());
    }
    let engine = &state.engine;
    let running = state.engine.market_configs(&service.name).await?;
    let mut layers_of: HashMap<i64, ConfigLayers> = HashMap::new();
    let mut rows = Vec::with_capacity(platform.markets.len());
    for m in &platform.markets {
        let Some(&(version, _)) = running.get(&m.id) else {
            continue;
        };
        let layers = match layers_of.entry(version) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(engine.get_config_version(&service.name, version).await?.layers()?),
        };
        rows.push(MarketRow {
            version: Some(version),
            resolution: resolve(layers, m),
        });
    }
    Ok(rows)
}

/// Markets down, keys across (the market's own facts left out: they are its identity).
fn config_grid(rows: &[MarketRow], latest: Option<i64>) -> Markup {
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
                    @for k in &keys { th { code { (k.trim_start_matches('/').replace('/', ".")) } } }
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
                                        td class={ "layer-" (layer_class(origin)) } title=(origin.to_string()) {
                                            (value)
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

fn layer_class(origin: &Origin) -> &'static str {
    match origin {
        Origin::Market => "facts",
        Origin::Defaults => "defaults",
        Origin::Region { .. } => "region",
        Origin::Override => "override",
    }
}

fn flag_table(flags: &[&CompiledFlag]) -> Markup {
    html! {
        table.data.flags {
            thead { tr {
                th { "Flag" } th { "Type" } th { "State" } th { "Default" } th { "Per market" } th { "Everywhere else" }
            } }
            tbody {
                @for f in flags {
                    tr data-flag=(f.key()) {
                        td { code { (f.key()) } @if let Some(d) = f.description() { div.muted.small { (d) } } }
                        td { (format!("{:?}", f.flag_type()).to_lowercase()) }
                        td {
                            @if f.enabled() { span.badge.ok { "on" } }
                            @else { span.badge.bad title="kill switch: the default for everyone" { "killed" } }
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

/// A targeting block in words: `2 rules, then 20% on / 80% off`.
fn targeting(flag: &CompiledFlag, t: &Targeting) -> String {
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
        let rows: Vec<MarketRow> = resolve_all(&platform.services[0].config, &platform.markets)
            .into_iter()
            .zip([Some(2), Some(1)])
            .map(|(resolution, version)| MarketRow { version, resolution })
            .collect();
        let html = config_grid(&rows, Some(2)).into_string();
        assert!(
            html.contains(r#"<td class="layer-defaults" title="defaults">0.2</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="layer-override" title="market override">0.21</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"class="layer-region" title="region west">post</td>"#),
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
    }
}
