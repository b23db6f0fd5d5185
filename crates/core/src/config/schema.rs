//! A service's config schema (JSON Schema), compiled once and used for every market.

use super::pointer::{Segment, dotted_of, pointer_of};
use super::problem::{ConfigError, Problem, describe_found, locate};
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// A compiled JSON Schema for a service's config. Compile it once per release and validate
/// every market with it: compiling is the costly part.
#[derive(Debug, Clone)]
pub struct ConfigSchema {
    file: String,
    document: Value,
    validator: jsonschema::Validator,
}

/// A schema that cannot be used: not JSON, or not a valid JSON Schema. Every problem found is
/// listed, each with the JSON path inside the schema (or the line and column for bad JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct SchemaError {
    /// The schema's file, as the repository names it: `config/schema.json`.
    pub file: String,
    pub problems: Vec<SchemaProblem>,
}

/// One problem in a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaProblem {
    /// JSON pointer inside the schema: `/properties/vat_rate/type`.
    pub pointer: String,
    /// Line and column, for a file that is not JSON at all.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a valid JSON Schema", self.file)?;
        for p in &self.problems {
            match (p.line, p.column) {
                (Some(line), Some(column)) => write!(f, "\n  {}:{line}:{column}: {}", self.file, p.message)?,
                _ if p.pointer.is_empty() => write!(f, "\n  at the root: {}", p.message)?,
                _ => write!(f, "\n  at `{}`: {}", p.pointer, p.message)?,
            }
        }
        Ok(())
    }
}

impl ConfigSchema {
    /// Parses and compiles the schema text of `file`.
    pub fn parse(file: &str, text: &str) -> Result<Self, SchemaError> {
        let document: Value = serde_json::from_str(text).map_err(|e| SchemaError {
            file: file.to_string(),
            problems: vec![SchemaProblem {
                pointer: String::new(),
                line: Some(e.line()),
                column: Some(e.column()),
                message: format!("not valid JSON: {e}"),
            }],
        })?;
        Self::compile(file, document)
    }

    /// Checks `document` against its draft's meta-schema (2020-12 unless `$schema` names
    /// another), then compiles it. `$ref`s must point inside the document: nothing is fetched.
    pub fn compile(file: &str, document: Value) -> Result<Self, SchemaError> {
        let refuse = |problems| SchemaError {
            file: file.to_string(),
            problems,
        };
        let problems = check_against_meta_schema(&document);
        if !problems.is_empty() {
            return Err(refuse(problems));
        }
        match jsonschema::options().build(&document) {
            Ok(validator) => Ok(ConfigSchema {
                file: file.to_string(),
                document,
                validator,
            }),
            Err(e) => Err(refuse(schema_problems(&e))),
        }
    }

    /// The schema's file, as given when it was compiled.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The schema itself, to store with the release that was built with it.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// True when `config` fits the schema.
    pub fn is_valid(&self, config: &Value) -> bool {
        self.validator.is_valid(config)
    }

    /// Every way `market`'s resolved `config` breaks the schema, ordered by JSON path.
    pub fn validate(&self, market: &str, config: &Value) -> Vec<ConfigError> {
        if self.validator.is_valid(config) {
            return Vec::new();
        }
        let mut errors: Vec<ConfigError> = self
            .validator
            .iter_errors(config)
            .flat_map(|e| locate(&e, Some(&self.document)))
            .map(|l| l.into_error(market))
            .collect();
        errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        errors
    }
}

fn check_against_meta_schema(document: &Value) -> Vec<SchemaProblem> {
    let meta = match jsonschema::meta::validator_for(document) {
        Ok(meta) => meta,
        Err(e) => {
            let pointer = if document.get("$schema").is_some() {
                "/$schema"
            } else {
                ""
            };
            return vec![SchemaProblem {
                pointer: pointer.into(),
                line: None,
                column: None,
                message: format!("unknown meta-schema: {e}"),
            }];
        }
    };
    let mut problems: Vec<SchemaProblem> = Vec::new();
    for error in meta.iter_errors(document) {
        for p in schema_problems(&error) {
            // The meta-schemas reach one rule through several `$ref`s: keep one of each.
            if !problems.contains(&p) {
                problems.push(p);
            }
        }
    }
    problems.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    problems
}

/// The problems of a schema, from an error of its meta-schema (or of compiling it).
fn schema_problems(error: &jsonschema::ValidationError<'_>) -> Vec<SchemaProblem> {
    locate(error, None)
        .into_iter()
        .map(|l| {
            let is_type = matches!(l.segments.last(), Some(Segment::Key(k)) if k == "type");
            let message = match &l.problem {
                Problem::Invalid { keyword } if keyword == "anyOf" && is_type => format!(
                    "expected a JSON type (array, boolean, integer, null, number, object or string) \
                     or a list of them, found {}",
                    describe_found(l.found.as_ref())
                ),
                Problem::Missing => format!("`{}` is required here", dotted_of(&l.segments)),
                Problem::Unknown { .. } => format!("unknown keyword; expected {}", l.expected),
                _ => format!("expected {}, found {}", l.expected, describe_found(l.found.as_ref())),
            };
            SchemaProblem {
                pointer: pointer_of(&l.segments),
                line: None,
                column: None,
                message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Problem;
    use serde_json::json;

    fn shop_schema() -> ConfigSchema {
        let schema = json!({
            "type": "object",
            "required": ["vat_rate", "payment"],
            "properties": {
                "vat_rate": {"type": "number", "minimum": 0, "maximum": 1},
                "payment": {
                    "type": "object",
                    "required": ["provider"],
                    "additionalProperties": false,
                    "properties": {
                        "provider": {"enum": ["adyen", "mollie", "stripe"]},
                        "methods": {"type": "array", "items": {"type": "string"}},
                        "retries": {"type": "integer"}
                    }
                },
                "shipping": {"type": "object", "properties": {"free_over": {"type": "integer"}}}
            }
        });
        match ConfigSchema::compile("config/schema.json", schema) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn invalid(schema: Value) -> SchemaError {
        match ConfigSchema::compile("config/schema.json", schema) {
            Ok(_) => panic!("the schema compiled"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_compiled_schema_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<ConfigSchema>();
    }

    #[test]
    fn an_invalid_schema_is_refused_with_each_path_in_the_schema() {
        let e = invalid(json!({
            "properties": {"vat_rate": {"type": "numbr"}, "free_over": {"minimum": "50"}},
            "required": "vat_rate"
        }));
        let at: Vec<&str> = e.problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            at,
            [
                "/properties/free_over/minimum",
                "/properties/vat_rate/type",
                "/required"
            ],
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.starts_with("config/schema.json is not a valid JSON Schema"),
            "{text}"
        );
        assert!(
            text.contains(r#"at `/properties/vat_rate/type`: expected a JSON type (array, boolean, integer, null, number, object or string) or a list of them, found "numbr" (string)"#),
            "{text}"
        );
        assert!(
            text.contains(r#"at `/required`: expected array, found "vat_rate" (string)"#),
            "{text}"
        );
    }

    #[test]
    fn a_schema_that_is_not_json_or_does_not_compile_is_refused() {
        let e = ConfigSchema::parse("config/schema.json", "{\n  \"type\": \"object\",\n}").err();
        let p = e.as_ref().map(|e| &e.problems[0]);
        assert_eq!(p.and_then(|p| p.line), Some(3), "{e:?}");

        let e = invalid(json!({"pattern": "(unclosed"}));
        assert_eq!(e.problems[0].pointer, "/pattern", "{e}");
        assert!(e.to_string().contains("expected a valid `regex`"), "{e}");

        let e = invalid(json!({"$ref": "https://example.com/schema.json"}));
        assert!(e.to_string().contains("Tandem fetches nothing"), "{e}");

        let e = invalid(json!(42));
        assert_eq!(e.problems.len(), 1, "{e}");
        assert!(
            e.to_string()
                .contains("at the root: expected boolean or object, found 42 (integer)"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_type_at_a_nested_path_names_the_market_path_and_both_types() {
        let config = json!({"vat_rate": 0.2, "payment": {"provider": "adyen", "retries": "3"}});
        let errors = shop_schema().validate("nl", &config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!(
            (e.market.as_str(), e.pointer.as_str(), e.path.as_str()),
            ("nl", "/payment/retries", "payment.retries")
        );
        assert_eq!(
            e.problem,
            Problem::WrongType {
                types: vec!["integer".into()]
            }
        );
        assert_eq!(e.found, Some(json!("3")));
        assert_eq!(
            e.to_string(),
            r#"nl: `payment.retries`: expected integer, found "3" (string)"#
        );
    }

    #[test]
    fn a_missing_required_key_is_named_exactly() {
        let errors = shop_schema().validate("nl", &json!({"vat_rate": 0.09, "payment": {}}));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].pointer, "/payment/provider");
        assert_eq!(errors[0].problem, Problem::Missing);
        assert_eq!(errors[0].found, None);
        assert_eq!(
            errors[0].to_string(),
            "nl: `payment.provider`: missing: the schema requires this key"
        );
    }

    #[test]
    fn unknown_keys_are_named_only_where_the_schema_forbids_them() {
        let config = json!({
            "vat_rate": 0.2,
            "payment": {"provider": "adyen", "method": ["card"]},
            "shipping": {"free_over": 50, "carrier": "post"},
            "extra": true
        });
        let errors = shop_schema().validate("be", &config);
        assert_eq!(errors.len(), 1, "only `payment` forbids other keys: {errors:?}");
        let e = &errors[0];
        assert_eq!(e.path, "payment.method");
        assert_eq!(e.found, Some(json!(["card"])));
        let Problem::Unknown { allowed, suggestion } = &e.problem else {
            panic!("{e:?}")
        };
        assert_eq!(allowed, &["methods", "provider", "retries"]);
        assert_eq!(suggestion.as_deref(), Some("methods"));
        assert_eq!(
            e.to_string(),
            "be: `payment.method`: unknown key: expected one of the keys `methods`, `provider`, `retries` \
             (did you mean `methods`?)"
        );
    }

    #[test]
    fn other_rules_say_what_they_expected() {
        let config = json!({"vat_rate": -0.1, "payment": {"provider": "paypal", "methods": ["card", 3]}});
        let errors = shop_schema().validate("fr", &config);
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "fr: `payment.methods[1]`: expected string, found 3 (integer)",
                r#"fr: `payment.provider`: expected one of "adyen", "mollie", "stripe", found "paypal" (string)"#,
                "fr: `vat_rate`: expected at least 0, found -0.1 (number)",
            ]
        );
        assert!(shop_schema().is_valid(&json!({"vat_rate": 0.2, "payment": {"provider": "stripe"}})));
    }

    #[test]
    fn errors_serialize_flat_for_the_api() {
        let errors = shop_schema().validate("nl", &json!({"vat_rate": 0.09, "payment": {}}));
        assert_eq!(
            serde_json::to_value(&errors[0]).ok(),
            Some(json!({
                "market": "nl", "pointer": "/payment/provider", "path": "payment.provider",
                "kind": "missing", "expected": "a value (the key is required)", "found": null
            }))
        );
    }
}
