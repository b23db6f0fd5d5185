//! Layering with provenance: which layer set each leaf of a market's resolved config.
//!
//! Invariant: `origins` holds exactly one entry per leaf of `values` (see `pointer::leaves`),
//! keyed by its JSON pointer. A layer that writes an object merges into what is there; a layer
//! that writes anything else replaces the whole subtree, and the subtree's origins with it.

use super::pointer::{self, push_key};
use crate::platform::{ConfigLayers, Market};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The layer that set one resolved value, with the region's name for a region layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "lowercase")]
pub enum Origin {
    /// Facts of the market itself (its id, name, region, currency, locale, time zone).
    Market,
    Defaults,
    Region {
        region: String,
    },
    /// The market's own override.
    Override,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Market => f.write_str("market facts"),
            Origin::Defaults => f.write_str("defaults"),
            Origin::Region { region } => write!(f, "region {region}"),
            Origin::Override => f.write_str("market override"),
        }
    }
}

/// A market's resolved config and, for each leaf, the layer that set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    pub market: String,
    /// The merged values: always a JSON object.
    pub values: Value,
    /// Leaf JSON pointer (`/payment/provider`) → the layer that set it.
    pub origins: BTreeMap<String, Origin>,
}

/// One leaf of a resolution, as `tandem config show` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedValue<'a> {
    pub pointer: &'a str,
    /// Dotted form of the pointer: `payment.provider`.
    pub path: String,
    pub value: &'a Value,
    pub origin: &'a Origin,
}

impl Resolution {
    /// The layer that set the leaf at `pointer`; `None` for a missing key or a non-empty object.
    pub fn origin(&self, pointer: &str) -> Option<&Origin> {
        self.origins.get(pointer)
    }

    /// Every leaf with its value and origin, ordered by pointer.
    pub fn entries(&self) -> impl Iterator<Item = ResolvedValue<'_>> {
        self.origins.iter().filter_map(|(pointer, origin)| {
            Some(ResolvedValue {
                pointer,
                path: pointer::dotted(pointer),
                value: self.values.pointer(pointer)?,
                origin,
            })
        })
    }
}

/// The names of the market facts every resolved config starts with.
pub const MARKET_FACTS: [&str; 6] = ["market", "name", "region", "currency", "locale", "timezone"];

/// Resolves the config of `market`: its facts, then defaults, then its region's values, then its
/// own overrides. A later layer wins leaf by leaf; objects merge, anything else replaces.
pub fn resolve(layers: &ConfigLayers, market: &Market) -> Resolution {
    let facts = [
        &market.id,
        &market.name,
        &market.region,
        &market.currency,
        &market.locale,
        &market.timezone,
    ];
    let mut values = Map::new();
    let mut origins = BTreeMap::new();
    for (key, value) in MARKET_FACTS.iter().zip(facts) {
        values.insert(key.to_string(), Value::String(value.clone()));
        origins.insert(format!("/{key}"), Origin::Market);
    }
    let mut pointer = String::new();
    merge(
        &mut values,
        &layers.defaults,
        &mut pointer,
        &Origin::Defaults,
        &mut origins,
    );
    if let Some(region) = layers.regions.get(&market.region) {
        let origin = Origin::Region {
            region: market.region.clone(),
        };
        merge(&mut values, region, &mut pointer, &origin, &mut origins);
    }
    if let Some(own) = layers.markets.get(&market.id) {
        merge(&mut values, own, &mut pointer, &Origin::Override, &mut origins);
    }
    Resolution {
        market: market.id.clone(),
        values: Value::Object(values),
        origins,
    }
}

/// Resolves every market, in the order given.
pub fn resolve_all(layers: &ConfigLayers, markets: &[Market]) -> Vec<Resolution> {
    markets.iter().map(|m| resolve(layers, m)).collect()
}

/// Merges `from` into `into`; `pointer` is where `into` sits and is restored on return.
fn merge(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    pointer: &mut String,
    origin: &Origin,
    origins: &mut BTreeMap<String, Origin>,
) {
    for (key, new) in from {
        let len = pointer.len();
        push_key(pointer, key);
        let slot = into.entry(key.clone()).or_insert(Value::Null);
        match (slot, new) {
            // An empty object adds nothing to an object that is there.
            (Value::Object(_), Value::Object(child)) if child.is_empty() => {}
            (Value::Object(existing), Value::Object(child)) => {
                if existing.is_empty() {
                    origins.remove(pointer.as_str());
                }
                merge(existing, child, pointer, origin, origins);
            }
            (slot, Value::Object(child)) if !child.is_empty() => {
                origins.remove(pointer.as_str());
                let mut fresh = Map::new();
                merge(&mut fresh, child, pointer, origin, origins);
                *slot = Value::Object(fresh);
            }
            (slot, leaf) => {
                if matches!(slot, Value::Object(m) if !m.is_empty()) {
                    remove_below(origins, pointer);
                }
                *slot = leaf.clone();
                origins.insert(pointer.clone(), origin.clone());
            }
        }
        pointer.truncate(len);
    }
}

/// Forgets the origins of every leaf strictly below `pointer`.
fn remove_below(origins: &mut BTreeMap<String, Origin>, pointer: &str) {
    let prefix = format!("{pointer}/");
    let below: Vec<String> = origins
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in below {
        origins.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{market, obj};
    use proptest::prelude::*;
    use serde_json::json;

    fn west(r: Value) -> BTreeMap<String, Map<String, Value>> {
        [("west".to_string(), obj(r))].into()
    }

    fn region(name: &str) -> Origin {
        Origin::Region { region: name.into() }
    }

    #[test]
    fn nested_objects_merge_and_each_leaf_keeps_its_layer() {
        let layers = ConfigLayers {
            defaults: obj(json!({"payment": {"provider": "adyen", "methods": ["card"], "retry": {"max": 3}}})),
            regions: west(json!({"payment": {"provider": "mollie"}})),
            markets: [("be".to_string(), obj(json!({"payment": {"retry": {"max": 5}}})))].into(),
        };
        let be = resolve(&layers, &market("be", "west"));
        assert_eq!(
            be.values["payment"],
            json!({"provider": "mollie", "methods": ["card"], "retry": {"max": 5}})
        );
        assert_eq!(be.origin("/payment/provider"), Some(&region("west")));
        assert_eq!(be.origin("/payment/methods"), Some(&Origin::Defaults));
        assert_eq!(be.origin("/payment/retry/max"), Some(&Origin::Override));
        assert_eq!(be.origin("/currency"), Some(&Origin::Market));
        assert_eq!(be.origin("/payment"), None, "a non-empty object is not a leaf");

        let shown: Vec<String> = be
            .entries()
            .map(|e| format!("{} = {} ({})", e.path, e.value, e.origin))
            .collect();
        assert!(
            shown.contains(&r#"payment.provider = "mollie" (region west)"#.to_string()),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"payment.retry.max = 5 (market override)".to_string()),
            "{shown:?}"
        );
    }

    #[test]
    fn a_scalar_replaces_a_subtree_and_its_origins_and_back() {
        let layers = ConfigLayers {
            defaults: obj(json!({"shipping": {"free_over": 50, "carrier": "post"}, "banner": "hello"})),
            regions: west(json!({"shipping": "disabled", "banner": {"text": "hallo"}})),
            markets: [("nl".to_string(), obj(json!({"shipping": {"carrier": "postnl"}})))].into(),
        };
        let de = resolve(&layers, &market("de", "west"));
        assert_eq!(de.values["shipping"], "disabled");
        assert_eq!(de.origin("/shipping"), Some(&region("west")));
        assert_eq!(de.origin("/shipping/carrier"), None);
        assert_eq!(de.origin("/banner/text"), Some(&region("west")));
        assert_eq!(de.origin("/banner"), None);

        let nl = resolve(&layers, &market("nl", "west"));
        assert_eq!(nl.values["shipping"], json!({"carrier": "postnl"}));
        assert_eq!(nl.origin("/shipping"), None);
        assert_eq!(nl.origin("/shipping/carrier"), Some(&Origin::Override));
        assert_eq!(nl.origins.keys().filter(|k| k.starts_with("/shipping")).count(), 1);
    }

    #[test]
    fn empty_objects_are_leaves_until_something_fills_them() {
        let layers = ConfigLayers {
            defaults: obj(json!({"flags": {}, "limits": {"a": 1}})),
            regions: west(json!({"flags": {"beta": true}, "limits": {}})),
            markets: Default::default(),
        };
        let fr = resolve(&layers, &market("fr", "west"));
        assert_eq!(fr.origin("/flags"), None);
        assert_eq!(fr.origin("/flags/beta"), Some(&region("west")));
        assert_eq!(
            fr.origin("/limits/a"),
            Some(&Origin::Defaults),
            "an empty object adds nothing"
        );
        let other = resolve(&layers, &market("us", "americas"));
        assert_eq!(other.origin("/flags"), Some(&Origin::Defaults));
    }

    #[test]
    fn origins_serialize_with_the_region_name() {
        assert_eq!(
            serde_json::to_value(region("west")).ok(),
            Some(json!({"layer": "region", "region": "west"}))
        );
        assert_eq!(
            serde_json::to_value(Origin::Override).ok(),
            Some(json!({"layer": "override"}))
        );
    }

    /// A small config tree: nested objects of a few keys, leaves small integers or strings.
    pub(crate) fn arb_config() -> impl Strategy<Value = Map<String, Value>> {
        let leaf = prop_oneof![
            (0i64..4).prop_map(Value::from),
            "[ab]{1}".prop_map(Value::from),
            Just(json!([])),
            Just(json!({})),
        ];
        let tree = leaf.prop_recursive(3, 24, 3, |inner| {
            prop::collection::btree_map("[a-c]", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect()))
        });
        prop::collection::btree_map("[a-d]", tree, 0..4).prop_map(|m| m.into_iter().collect())
    }

    proptest! {
        #[test]
        fn the_market_layer_wins_for_every_leaf_it_sets(
            defaults in arb_config(), region_layer in arb_config(), own in arb_config()
        ) {
            let layers = ConfigLayers {
                defaults,
                regions: [("west".to_string(), region_layer)].into(),
                markets: [("fr".to_string(), own.clone())].into(),
            };
            let fr = resolve(&layers, &market("fr", "west"));
            // An empty object adds nothing to an object already there, so it is not checked.
            let own = Value::Object(own);
            let set = pointer::leaves(&own).into_iter().filter(|(_, v)| *v != &json!({}));
            for (p, v) in set {
                prop_assert_eq!(fr.values.pointer(&p), Some(v), "value at {}", p);
                prop_assert_eq!(fr.origin(&p).cloned(), Some(Origin::Override), "origin at {}", p);
            }
        }

        #[test]
        fn origins_name_exactly_the_leaves(
            defaults in arb_config(), region_layer in arb_config(), own in arb_config()
        ) {
            let layers = ConfigLayers {
                defaults,
                regions: [("west".to_string(), region_layer)].into(),
                markets: [("fr".to_string(), own)].into(),
            };
            let fr = resolve(&layers, &market("fr", "west"));
            let leaves: Vec<String> = pointer::leaves(&fr.values).into_keys().collect();
            let origins: Vec<String> = fr.origins.keys().cloned().collect();
            prop_assert_eq!(leaves, origins);
        }
    }
}
