//! The unit of each config value, as the service's config schema declares it with the
//! `x-unit` annotation beside a property's type (JSON Schema lets a schema carry keywords of
//! its own; validators ignore them):
//!
//! - `"x-unit": "currency"`: an amount in the market's own currency (its `currency` fact);
//! - `"x-unit": "ratio"`: a fraction, read as a percentage (`0.2` is 20 %);
//! - any other text names the unit itself: `"s"`, `"ms"`, `"%"`, `"items"`.

use serde_json::Value;
use std::collections::BTreeMap;

/// The annotation a schema declares a unit with.
pub const UNIT_KEYWORD: &str = "x-unit";

/// How deep into nested objects units are looked for: a schema deeper than this is unusual,
/// and a cycle of `$ref`s is never followed anyway.
const MAX_DEPTH: usize = 8;

/// What a config value is measured in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// An amount in the market's own currency.
    Currency,
    /// A fraction, read as a percentage.
    Ratio,
    /// A unit named as is: `s`, `ms`, `%`.
    Named(String),
}

impl Unit {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "" => None,
            "currency" => Some(Unit::Currency),
            "ratio" => Some(Unit::Ratio),
            other => Some(Unit::Named(other.to_string())),
        }
    }
}

/// The unit of each property of `schema` that declares one, by JSON pointer (`/vat_rate`,
/// `/shipping/threshold`), through nested `properties`.
pub fn schema_units(schema: &Value) -> BTreeMap<String, Unit> {
    let mut out = BTreeMap::new();
    collect(schema, "", 0, &mut out);
    out
}

fn collect(schema: &Value, pointer: &str, depth: usize, out: &mut BTreeMap<String, Unit>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let path = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
        if let Some(unit) = property.get(UNIT_KEYWORD).and_then(Value::as_str).and_then(Unit::parse) {
            out.insert(path.clone(), unit);
        }
        collect(property, &path, depth + 1, out);
    }
}

/// `value` with its unit, as a person reads it: `50 EUR`, `0.2 (20 %)`, `30 s`. A value that
/// is not a number keeps its text; a currency with no currency known shows the number alone.
pub fn with_unit(value: &Value, unit: &Unit, currency: Option<&str>) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let Some(number) = value.as_f64() else {
        return text;
    };
    match unit {
        Unit::Currency => match currency {
            Some(c) => format!("{text} {c}"),
            None => text,
        },
        Unit::Ratio => {
            let pct = (number * 100.0 * 1000.0).round() / 1000.0;
            format!("{text} ({pct} %)")
        }
        Unit::Named(u) => format!("{text} {u}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn units_come_from_the_schema_and_read_with_their_value() {
        let schema = json!({
            "type": "object",
            "properties": {
                "vat_rate": { "type": "number", "x-unit": "ratio" },
                "free_shipping_threshold": { "type": "number", "x-unit": "currency" },
                "locale": { "type": "string" },
                "shipping": { "type": "object", "properties": { "timeout": { "type": "integer", "x-unit": "s" } } },
                "blank": { "type": "number", "x-unit": " " }
            }
        });
        let units = schema_units(&schema);
        assert_eq!(units.len(), 3, "{units:?}");
        assert_eq!(units["/vat_rate"], Unit::Ratio);
        assert_eq!(units["/free_shipping_threshold"], Unit::Currency);
        assert_eq!(units["/shipping/timeout"], Unit::Named("s".into()));

        assert_eq!(with_unit(&json!(0.21), &Unit::Ratio, None), "0.21 (21 %)");
        assert_eq!(with_unit(&json!(50), &Unit::Currency, Some("EUR")), "50 EUR");
        assert_eq!(with_unit(&json!(50), &Unit::Currency, None), "50");
        assert_eq!(with_unit(&json!(30), &Unit::Named("s".into()), None), "30 s");
        assert_eq!(with_unit(&json!("n/a"), &Unit::Named("s".into()), None), "n/a");
        assert!(schema_units(&json!({ "type": "object" })).is_empty());
    }
}
