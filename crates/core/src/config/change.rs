//! A proposed config change: which markets it changes (its blast radius), how, and whether it
//! leaves every one of them valid under the schema of the release running there.

use super::diff::{ConfigDiff, diff_configs};
use super::problem::ConfigError;
use super::resolve::resolve;
use super::schema::ConfigSchema;
use crate::platform::{ConfigLayers, Market};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One market whose resolved config a change alters, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketChange {
    pub market: String,
    pub diff: ConfigDiff,
}

/// The markets a change alters (in the order the markets were given) and those it leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlastRadius {
    pub changed: Vec<MarketChange>,
    pub unchanged: Vec<String>,
}

impl BlastRadius {
    /// The ids of the markets whose config changes.
    pub fn markets(&self) -> impl Iterator<Item = &str> {
        self.changed.iter().map(|c| c.market.as_str())
    }

    /// How `market`'s config changes; `None` if it does not.
    pub fn diff(&self, market: &str) -> Option<&ConfigDiff> {
        self.changed.iter().find(|c| c.market == market).map(|c| &c.diff)
    }

    /// True when the change alters no market's config.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }
}

/// Which markets' resolved configs differ between the `current` and `proposed` layers, with
/// the leaf-level diff of each.
pub fn blast_radius(current: &ConfigLayers, proposed: &ConfigLayers, markets: &[Market]) -> BlastRadius {
    radius_with(current, proposed, markets, |_, _| {})
}

/// Computes the blast radius; `visit` sees each changed market and its proposed config.
fn radius_with(
    current: &ConfigLayers,
    proposed: &ConfigLayers,
    markets: &[Market],
    mut visit: impl FnMut(&Market, &serde_json::Value),
) -> BlastRadius {
    let mut radius = BlastRadius::default();
    for market in markets {
        if !touches(current, proposed, market) {
            radius.unchanged.push(market.id.clone());
            continue;
        }
        let before = resolve(current, market);
        let after = resolve(proposed, market);
        let diff = diff_configs(&before.values, &after.values);
        if diff.is_empty() {
            radius.unchanged.push(market.id.clone());
        } else {
            visit(market, &after.values);
            radius.changed.push(MarketChange {
                market: market.id.clone(),
                diff,
            });
        }
    }
    radius
}

/// Whether any layer that `market` reads differs (cheap: spares resolving untouched markets).
fn touches(current: &ConfigLayers, proposed: &ConfigLayers, market: &Market) -> bool {
    current.defaults != proposed.defaults
        || current.regions.get(&market.region) != proposed.regions.get(&market.region)
        || current.markets.get(&market.id) != proposed.markets.get(&market.id)
}

/// A change checked before review: its blast radius and everything that would refuse it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeCheck {
    pub radius: BlastRadius,
    /// Every way a changed market's proposed config breaks the schema of its running release.
    pub errors: Vec<ConfigError>,
    /// Changed markets that were not validated: no release with a schema runs there.
    pub unchecked: Vec<String>,
    /// Regions whose layer the change edits but that no market belongs to (likely a typo).
    pub unknown_regions: Vec<String>,
    /// Market layers the change edits for ids that are not markets.
    pub unknown_markets: Vec<String>,
}

impl ChangeCheck {
    /// True when nothing refuses the change.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.unknown_regions.is_empty() && self.unknown_markets.is_empty()
    }
}

/// Checks a proposed change: its blast radius, each changed market's proposed config against
/// `schema_for(market id)` (the schema of the release running there), and layers it edits that
/// name no market or region.
pub fn check_change<'s>(
    current: &ConfigLayers,
    proposed: &ConfigLayers,
    markets: &[Market],
    schema_for: impl Fn(&str) -> Option<&'s ConfigSchema>,
) -> ChangeCheck {
    let mut errors = Vec::new();
    let mut unchecked = Vec::new();
    let radius = radius_with(current, proposed, markets, |market, config| {
        match schema_for(&market.id) {
            Some(schema) => errors.extend(schema.validate(&market.id, config)),
            None => unchecked.push(market.id.clone()),
        }
    });
    let regions: BTreeSet<&str> = markets.iter().map(|m| m.region.as_str()).collect();
    let ids: BTreeSet<&str> = markets.iter().map(|m| m.id.as_str()).collect();
    let edited = |cur: &std::collections::BTreeMap<String, _>, new: &std::collections::BTreeMap<String, _>| {
        let names: BTreeSet<&String> = cur.keys().chain(new.keys()).collect();
        names
            .into_iter()
            .filter(|n| cur.get(*n) != new.get(*n))
            .cloned()
            .collect::<Vec<String>>()
    };
    ChangeCheck {
        radius,
        errors,
        unchecked,
        unknown_regions: edited(&current.regions, &proposed.regions)
            .into_iter()
            .filter(|r| !regions.contains(r.as_str()))
            .collect(),
        unknown_markets: edited(&current.markets, &proposed.markets)
            .into_iter()
            .filter(|m| !ids.contains(m.as_str()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Change;
    use crate::config::tests::{market, obj};
    use serde_json::json;

    fn platform() -> (ConfigLayers, Vec<Market>) {
        let layers = ConfigLayers {
            defaults: obj(json!({"vat_rate": 0.2, "payment": {"provider": "adyen"}})),
            regions: [("benelux".to_string(), obj(json!({"payment": {"provider": "mollie"}})))].into(),
            markets: [("be".to_string(), obj(json!({"vat_rate": 0.21})))].into(),
        };
        let markets = vec![market("fr", "west"), market("be", "benelux"), market("nl", "benelux")];
        (layers, markets)
    }

    #[test]
    fn a_region_change_reaches_exactly_the_markets_of_the_region() {
        let (current, markets) = platform();
        let mut proposed = current.clone();
        proposed
            .regions
            .insert("benelux".into(), obj(json!({"payment": {"provider": "stripe"}})));
        let radius = blast_radius(&current, &proposed, &markets);
        assert_eq!(radius.markets().collect::<Vec<_>>(), ["be", "nl"]);
        assert_eq!(radius.unchanged, ["fr"]);
        let nl = radius.diff("nl").map(|d| d.entries.clone()).unwrap_or_default();
        assert_eq!(nl.len(), 1);
        assert_eq!(nl[0].path, "payment.provider");
        assert_eq!(
            nl[0].change,
            Change::Changed {
                old: json!("mollie"),
                new: json!("stripe")
            }
        );
    }

    #[test]
    fn a_default_hidden_by_overrides_changes_no_market() {
        let (current, markets) = platform();
        let mut proposed = current.clone();
        proposed
            .defaults
            .insert("payment".into(), json!({"provider": "worldline"}));
        let radius = blast_radius(&current, &proposed, &markets);
        assert_eq!(
            radius.markets().collect::<Vec<_>>(),
            ["fr"],
            "benelux sets its own provider"
        );
        let mut same = current.clone();
        same.markets
            .insert("nl".into(), obj(json!({"payment": {"provider": "mollie"}})));
        assert!(
            blast_radius(&current, &same, &markets).is_empty(),
            "same resolved values"
        );
    }

    #[test]
    fn a_change_that_breaks_a_market_is_refused_with_that_market() {
        let (current, markets) = platform();
        let schema = ConfigSchema::compile(
            "config/schema.json",
            json!({"properties": {"vat_rate": {"type": "number", "maximum": 1}}}),
        );
        let Ok(schema) = schema else { panic!("{schema:?}") };
        let mut proposed = current.clone();
        proposed.markets.insert("be".into(), obj(json!({"vat_rate": 21})));
        proposed.markets.insert("fr".into(), obj(json!({"vat_rate": 0.2})));
        proposed.regions.insert("benelx".into(), obj(json!({"vat_rate": 0.1})));
        proposed.markets.insert("xx".into(), obj(json!({"vat_rate": 0.1})));
        let check = check_change(&current, &proposed, &markets, |m| (m == "be").then_some(&schema));
        assert!(!check.is_valid());
        assert_eq!(check.errors.len(), 1, "{:?}", check.errors);
        assert_eq!(
            check.errors[0].to_string(),
            "be: `vat_rate`: expected at most 1, found 21 (integer)"
        );
        assert_eq!(
            check.unchecked,
            Vec::<String>::new(),
            "fr resolves as before, so it is not in the radius"
        );
        assert_eq!(check.unknown_regions, ["benelx"]);
        assert_eq!(check.unknown_markets, ["xx"]);

        proposed.markets.insert("nl".into(), obj(json!({"vat_rate": 0.09})));
        let check = check_change(&current, &proposed, &markets, |m| (m == "be").then_some(&schema));
        assert_eq!(check.unchecked, ["nl"]);
    }
}
