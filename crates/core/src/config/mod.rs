//! Config as a change like code: layered values (defaults → region → market) with the layer
//! that set each leaf, a JSON Schema that the service's code declares, validation of every
//! market against it, release compatibility, diffs and the blast radius of a change.
//!
//! Everything here is pure: the store keeps layers and schemas, the engine and the API call in.
//! See docs/config.md.

mod change;
mod diff;
mod files;
mod pointer;
mod problem;
mod release;
mod resolve;
mod schema;
mod units;

#[cfg(test)]
mod scale;

pub use change::{BlastRadius, ChangeCheck, MarketChange, blast_radius, check_change};
pub use diff::{Change, ConfigDiff, DiffEntry, apply_diff, diff_configs};
pub use files::{layers_from_files, layers_to_files, set_dotted};
pub use pointer::{Segment, dotted, dotted_of, pointer_of, split_pointer};
pub use problem::{ConfigError, Problem};
pub use release::{ReleaseCheck, check_release};
pub use resolve::{MARKET_FACTS, Origin, Resolution, ResolvedValue, resolve, resolve_all};
pub use schema::{ConfigSchema, SchemaError, SchemaProblem};
pub use units::{UNIT_KEYWORD, Unit, schema_units, with_unit};

use crate::platform::{ConfigLayers, Market};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The layer that set a resolved value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Facts of the market itself (its id, name, currency, locale, time zone).
    Market,
    Defaults,
    Region,
    Override,
}

impl From<&Origin> for Layer {
    fn from(origin: &Origin) -> Self {
        match origin {
            Origin::Market => Layer::Market,
            Origin::Defaults => Layer::Defaults,
            Origin::Region { .. } => Layer::Region,
            Origin::Override => Layer::Override,
        }
    }
}

/// A market's resolved config, and the last layer that wrote under each top-level key.
/// [`resolve`] gives the layer of every leaf instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedConfig {
    pub values: Map<String, Value>,
    pub sources: BTreeMap<String, Layer>,
}

/// Resolves the config of `market`: the market's own facts, then defaults, then its region's
/// values, then its own overrides; a later layer wins key by key, and nested objects merge.
pub fn resolve_config(layers: &ConfigLayers, market: &Market) -> ResolvedConfig {
    let values = match resolve(layers, market).values {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut sources: BTreeMap<String, Layer> = MARKET_FACTS.iter().map(|k| (k.to_string(), Layer::Market)).collect();
    let empty = Map::new();
    let ordered = [
        (Layer::Defaults, &layers.defaults),
        (Layer::Region, layers.regions.get(&market.region).unwrap_or(&empty)),
        (Layer::Override, layers.markets.get(&market.id).unwrap_or(&empty)),
    ];
    for (layer, map) in ordered {
        for key in map.keys() {
            sources.insert(key.clone(), layer.clone());
        }
    }
    ResolvedConfig { values, sources }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::platform::LaunchState;
    use proptest::prelude::*;
    use serde_json::json;

    pub(crate) fn market(id: &str, region: &str) -> Market {
        Market {
            id: id.into(),
            name: id.to_uppercase(),
            region: region.into(),
            currency: "EUR".into(),
            locale: "fr-FR".into(),
            timezone: "Europe/Paris".into(),
            state: LaunchState::Live,
        }
    }

    pub(crate) fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn later_layers_win_and_remember_their_layer() {
        let layers = ConfigLayers {
            defaults: obj(json!({"vat_rate": 0.2, "shipping": {"free_over": 50, "carrier": "post"}})),
            regions: [("west".to_string(), obj(json!({"shipping": {"free_over": 40}})))].into(),
            markets: [("be".to_string(), obj(json!({"vat_rate": 0.21})))].into(),
        };
        let be = resolve_config(&layers, &market("be", "west"));
        assert_eq!(be.values["vat_rate"], 0.21);
        assert_eq!(be.values["shipping"], json!({"free_over": 40, "carrier": "post"}));
        assert_eq!(be.sources["vat_rate"], Layer::Override);
        assert_eq!(be.sources["shipping"], Layer::Region);
        assert_eq!(be.sources["currency"], Layer::Market);

        let de = resolve_config(&layers, &market("de", "central"));
        assert_eq!(de.values["vat_rate"], 0.2);
        assert_eq!(de.sources["vat_rate"], Layer::Defaults);
    }

    proptest! {
        #[test]
        fn a_market_override_always_wins(d in 0i64..100, r in 0i64..100, m in 0i64..100) {
            let layers = ConfigLayers {
                defaults: obj(json!({"k": d})),
                regions: [("west".to_string(), obj(json!({"k": r})))].into(),
                markets: [("fr".to_string(), obj(json!({"k": m})))].into(),
            };
            let fr = resolve_config(&layers, &market("fr", "west"));
            prop_assert_eq!(&fr.values["k"], &json!(m));
            let de = resolve_config(&layers, &market("de", "west"));
            prop_assert_eq!(&de.values["k"], &json!(r));
        }
    }
}
