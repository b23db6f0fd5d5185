//! Configure: per service, a markets × keys grid of the resolved config (each value coloured by
//! the layer that set it) and the feature flags in force with their state per market.

use super::PageResult;
use super::layout::{Nav, Page, empty, page};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use axum::extract::State;
use maud::{Markup, html};
use std::collections::BTreeSet;
use tandem_core::config::{MARKET_FACTS, Origin, Resolution, resolve_all};
use tandem_core::flags::{CompiledFlag, Targeting};

pub async fn show(auth: PageAuth<Viewer>, State(state): State<AppState>) -> PageResult {
    let platform = state.engine.store.load_platform().await?;
    let flags = state.engine.flags();
    let body = html! {
        div.page-head { h1 { "Config & flags" } span.muted { "defaults → region → market; flags over OFREP" } }
        @for service in &platform.services {
            @let configs = resolve_all(&service.config, &platform.markets);
            section.panel {
                div.panel-head {
                    h2 { (service.name) " · config" }
                    div.legend {
                        span.key.layer-defaults { "defaults" }
                        span.key.layer-region { "region" }
                        span.key.layer-override { "market override" }
                    }
                }
                (config_grid(&configs))
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

/// Markets down, keys across (the market's own facts left out: they are its identity).
fn config_grid(configs: &[Resolution]) -> Markup {
    let keys: BTreeSet<&str> = configs
        .iter()
        .flat_map(|c| c.origins.keys().map(String::as_str))
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
                    @for k in &keys { th { code { (k.trim_start_matches('/').replace('/', ".")) } } }
                } }
                tbody {
                    @for c in configs {
                        tr data-market=(c.market) {
                            td { b { (c.market) } }
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
        let configs = resolve_all(&platform.services[0].config, &platform.markets);
        let html = config_grid(&configs).into_string();
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
    }
}
