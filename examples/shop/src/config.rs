//! The market configuration, read from the JSON file named by `TANDEM_CONFIG_FILE`.

use crate::json::{self, Value};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Market id, e.g. `fr` (required).
    pub market: String,
    /// Display name, e.g. `France`.
    pub name: String,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// BCP 47 locale, e.g. `fr-FR`.
    pub locale: String,
    /// VAT as a fraction, e.g. `0.2` for 20 %.
    pub vat_rate: f64,
    pub payment_methods: Vec<String>,
    /// Order total (in the market currency, VAT included) from which shipping is free.
    pub free_shipping_threshold: f64,
}

impl Config {
    /// A configuration with defaults for everything but the market id.
    pub fn with_market(market: &str) -> Config {
        Config {
            market: market.to_string(),
            name: market.to_uppercase(),
            currency: "EUR".to_string(),
            locale: "en".to_string(),
            vat_rate: 0.0,
            payment_methods: vec!["card".to_string()],
            free_shipping_threshold: 50.0,
        }
    }

    /// Reads and validates the config file; errors name the path.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Config::from_json(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))
    }

    /// Parses a config document. Unknown keys are ignored.
    pub fn from_json(text: &str) -> Result<Config, String> {
        let doc = json::parse(text).map_err(|e| format!("invalid JSON at {e}"))?;
        if !matches!(doc, Value::Object(_)) {
            return Err(format!("expected a JSON object, found {}", doc.kind()));
        }
        let market = match string(&doc, "market")? {
            Some(m) if !m.trim().is_empty() => m.trim().to_string(),
            Some(_) => return Err("\"market\" must not be empty".to_string()),
            None => return Err("missing required key \"market\"".to_string()),
        };
        let mut config = Config::with_market(&market);
        if let Some(name) = string(&doc, "name")?.filter(|s| !s.trim().is_empty()) {
            config.name = name.trim().to_string();
        }
        if let Some(currency) = string(&doc, "currency")?.filter(|s| !s.trim().is_empty()) {
            config.currency = currency.trim().to_uppercase();
        }
        if let Some(locale) = string(&doc, "locale")?.filter(|s| !s.trim().is_empty()) {
            config.locale = locale.trim().to_string();
        }
        if let Some(vat) = number(&doc, "vat_rate")? {
            if !(0.0..=1.0).contains(&vat) {
                return Err(format!("\"vat_rate\" must be a fraction between 0 and 1, got {vat}"));
            }
            config.vat_rate = vat;
        }
        if let Some(threshold) = number(&doc, "free_shipping_threshold")? {
            if threshold < 0.0 {
                return Err(format!(
                    "\"free_shipping_threshold\" must not be negative, got {threshold}"
                ));
            }
            config.free_shipping_threshold = threshold;
        }
        match doc.get("payment_methods") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                config.payment_methods = items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s.clone()),
                        other => Err(format!(
                            "\"payment_methods\" must contain strings, found {}",
                            other.kind()
                        )),
                    })
                    .collect::<Result<_, _>>()?;
            }
            Some(other) => {
                return Err(format!(
                    "\"payment_methods\" must be an array of strings, found {}",
                    other.kind()
                ))
            }
        }
        Ok(config)
    }
}

/// An optional string key (`null` counts as absent).
fn string(doc: &Value, key: &str) -> Result<Option<String>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("\"{key}\" must be a string, found {}", other.kind())),
    }
}

/// An optional number key (`null` counts as absent).
fn number(doc: &Value, key: &str) -> Result<Option<f64>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(Some(*n)),
        Some(other) => Err(format!("\"{key}\" must be a number, found {}", other.kind())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config() {
        let c = Config::from_json(
            r#"{"market":"fr","name":"France","currency":"EUR","locale":"fr-FR","vat_rate":0.2,
                "payment_methods":["card","paypal"],"free_shipping_threshold":49.9,"timezone":"Europe/Paris"}"#,
        )
        .unwrap();
        assert_eq!(c.market, "fr");
        assert_eq!(c.name, "France");
        assert_eq!(c.locale, "fr-FR");
        assert_eq!(c.vat_rate, 0.2);
        assert_eq!(c.payment_methods, vec!["card", "paypal"]);
        assert_eq!(c.free_shipping_threshold, 49.9);
    }

    #[test]
    fn defaults_for_missing_keys() {
        let c = Config::from_json(r#"{"market":"de"}"#).unwrap();
        assert_eq!(c, Config::with_market("de"));
        assert_eq!(c.name, "DE");
        assert_eq!(c.currency, "EUR");
    }

    #[test]
    fn errors() {
        let cases = [
            ("{}", "missing required key \"market\""),
            (r#"{"market":""}"#, "must not be empty"),
            (r#"{"market":1}"#, "\"market\" must be a string"),
            (r#"["fr"]"#, "expected a JSON object"),
            (r#"{"market":"fr","vat_rate":"20%"}"#, "\"vat_rate\" must be a number"),
            (r#"{"market":"fr","vat_rate":20}"#, "between 0 and 1"),
            (r#"{"market":"fr","payment_methods":"card"}"#, "must be an array"),
            (r#"{"market":"fr","payment_methods":[1]}"#, "must contain strings"),
            (
                r#"{"market":"fr","free_shipping_threshold":-1}"#,
                "must not be negative",
            ),
            ("{\"market\":", "invalid JSON at line 1"),
        ];
        for (text, expected) in cases {
            let err = Config::from_json(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn load_names_the_path() {
        let err = Config::load(Path::new("/nonexistent/shop-config.json")).unwrap_err();
        assert!(err.contains("/nonexistent/shop-config.json"), "{err}");
    }
}
