//! Release compatibility: before a release lands in a market, that market's resolved config
//! must fit the schema the release was built with; a market whose config does not is blocked,
//! with the exact keys to fix.

use super::problem::{ConfigError, Problem, describe_found};
use super::resolve::Resolution;
use super::schema::ConfigSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Which markets a release may land in, given their current config and the release's schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseCheck {
    /// The release, as people name it in messages: `v7`.
    pub release: String,
    /// Markets whose config the release's schema refuses, each with every reason.
    pub blocked: BTreeMap<String, Vec<ConfigError>>,
    /// Markets whose config fits, in the order given.
    pub ready: Vec<String>,
}

impl ReleaseCheck {
    pub fn is_blocked(&self, market: &str) -> bool {
        self.blocked.contains_key(market)
    }

    /// Why `market` is blocked; empty when it is not.
    pub fn blockers(&self, market: &str) -> &[ConfigError] {
        self.blocked.get(market).map(Vec::as_slice).unwrap_or_default()
    }

    /// The dotted paths of the required keys `market` has no value for.
    pub fn missing_keys(&self, market: &str) -> Vec<&str> {
        self.blockers(market)
            .iter()
            .filter(|e| e.problem == Problem::Missing)
            .map(|e| e.path.as_str())
            .collect()
    }

    /// One line per blocker, for a release plan: `nl: needs `payment.provider` (required by
    /// v7's schema)`.
    pub fn lines(&self) -> Vec<String> {
        let schema = format!("{}'s schema", self.release);
        self.blocked
            .values()
            .flatten()
            .map(|e| {
                let (m, p) = (&e.market, if e.path.is_empty() { "(root)" } else { &e.path });
                match &e.problem {
                    Problem::Missing => format!("{m}: needs `{p}` (required by {schema})"),
                    Problem::Unknown { suggestion, .. } => {
                        let hint = suggestion
                            .as_ref()
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default();
                        format!("{m}: has `{p}`, which {schema} does not allow{hint}")
                    }
                    Problem::WrongType { .. } | Problem::Invalid { .. } => format!(
                        "{m}: `{p}` is {}, {schema} expects {}",
                        describe_found(e.found.as_ref()),
                        e.expected
                    ),
                }
            })
            .collect()
    }
}

impl fmt::Display for ReleaseCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

/// Checks each market's resolved config against `schema`, the schema `release` was built with.
/// The schema is compiled once, by the caller; each market costs one validation.
pub fn check_release(release: &str, schema: &ConfigSchema, configs: &[Resolution]) -> ReleaseCheck {
    let mut check = ReleaseCheck {
        release: release.to_string(),
        blocked: BTreeMap::new(),
        ready: Vec::new(),
    };
    for config in configs {
        let errors = schema.validate(&config.market, &config.values);
        if errors.is_empty() {
            check.ready.push(config.market.clone());
        } else {
            check.blocked.insert(config.market.clone(), errors);
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve_all;
    use crate::config::tests::{market, obj};
    use crate::platform::ConfigLayers;
    use serde_json::json;

    #[test]
    fn a_release_that_needs_a_key_a_market_lacks_is_blocked_there_only() {
        let layers = ConfigLayers {
            defaults: obj(json!({"vat_rate": 0.2, "payment": {"methods": ["card"]}})),
            regions: [("west".to_string(), obj(json!({"payment": {"provider": "adyen"}})))].into(),
            markets: [
                ("be".to_string(), obj(json!({"payment": {"provider": "mollie"}}))),
                (
                    "de".to_string(),
                    obj(json!({"payment": {"provider": "stripe"}, "vat_rate": "19%"})),
                ),
            ]
            .into(),
        };
        let markets = [
            market("fr", "west"),
            market("nl", "benelux"),
            market("be", "benelux"),
            market("de", "central"),
        ];
        let v7 = ConfigSchema::compile(
            "config/schema.json",
            json!({
                "type": "object",
                "required": ["payment"],
                "properties": {
                    "vat_rate": {"type": "number"},
                    "payment": {"type": "object", "required": ["provider"], "properties": {"provider": {"type": "string"}}}
                }
            }),
        );
        let Ok(v7) = v7 else { panic!("{v7:?}") };
        let check = check_release("v7", &v7, &resolve_all(&layers, &markets));
        assert_eq!(check.ready, ["fr", "be"]);
        assert_eq!(check.blocked.keys().collect::<Vec<_>>(), ["de", "nl"]);
        assert!(check.is_blocked("nl") && !check.is_blocked("fr"));
        assert_eq!(check.missing_keys("nl"), ["payment.provider"]);
        assert!(check.missing_keys("de").is_empty());
        assert_eq!(
            check.lines(),
            [
                r#"de: `vat_rate` is "19%" (string), v7's schema expects number"#,
                "nl: needs `payment.provider` (required by v7's schema)",
            ]
        );
    }

    #[test]
    fn an_unknown_key_blocks_a_release_whose_schema_closes_the_object() {
        let layers = ConfigLayers {
            defaults: obj(json!({"shipping": {"free_over": 50, "carier": "post"}})),
            ..Default::default()
        };
        let schema = json!({"properties": {"shipping": {
            "additionalProperties": false,
            "properties": {"free_over": {"type": "integer"}, "carrier": {"type": "string"}}
        }}});
        let Ok(v8) = ConfigSchema::compile("config/schema.json", schema) else {
            panic!()
        };
        let check = check_release("v8", &v8, &resolve_all(&layers, &[market("fr", "west")]));
        assert_eq!(
            check.to_string(),
            "fr: has `shipping.carier`, which v8's schema does not allow; did you mean `carrier`?"
        );
    }
}
