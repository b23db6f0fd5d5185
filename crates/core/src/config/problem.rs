//! What is wrong with a market's config, in words a person acts on: the market, the key (JSON
//! pointer and dotted path), what the schema expected and what was found.

use super::pointer::{Segment, dotted_of, pointer_of};
use super::resolve::MARKET_FACTS;
use jsonschema::ReferencingError;
use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// How a value breaks the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A key the schema requires has no value.
    Missing,
    /// The value is not of the JSON type(s) the schema names.
    WrongType { types: Vec<String> },
    /// A key the schema does not allow (`additionalProperties: false` or
    /// `unevaluatedProperties: false`), with the keys it names there and the closest of them.
    Unknown {
        allowed: Vec<String>,
        suggestion: Option<String>,
    },
    /// Any other rule of the schema (`enum`, `minimum`, `pattern`, …), by its keyword.
    Invalid { keyword: String },
}

/// One way one market's config breaks a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ConfigError {
    pub market: String,
    /// JSON pointer of the value: `/payment/provider`.
    pub pointer: String,
    /// The same path, dotted: `payment.provider`.
    pub path: String,
    #[serde(flatten)]
    pub problem: Problem,
    /// What the schema expected, in words: `integer`, `one of "adyen", "mollie"`, `at least 0`.
    pub expected: String,
    /// The value found; `None` when the key is missing.
    pub found: Option<Value>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(root)" } else { &self.path };
        write!(f, "{}: `{path}`: ", self.market)?;
        match &self.problem {
            Problem::Missing => write!(f, "missing: the schema requires this key"),
            Problem::Unknown { suggestion, .. } => {
                write!(f, "unknown key: expected {}", self.expected)?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                if self.pointer.matches('/').count() == 1 && MARKET_FACTS.contains(&self.path.as_str()) {
                    write!(
                        f,
                        " (`{path}` is a market fact Tandem puts in every config: declare it)"
                    )?;
                }
                Ok(())
            }
            Problem::WrongType { .. } | Problem::Invalid { .. } => {
                write!(
                    f,
                    "expected {}, found {}",
                    self.expected,
                    describe_found(self.found.as_ref())
                )
            }
        }
    }
}

/// One problem found by the validator, located in the instance.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub segments: Vec<Segment>,
    pub problem: Problem,
    pub expected: String,
    pub found: Option<Value>,
}

impl Located {
    pub(crate) fn into_error(self, market: &str) -> ConfigError {
        ConfigError {
            market: market.to_string(),
            pointer: pointer_of(&self.segments),
            path: dotted_of(&self.segments),
            problem: self.problem,
            expected: self.expected,
            found: self.found,
        }
    }
}

/// The problems one validation error stands for (one per unknown key, so each is named).
/// `schema` is the document the error's schema path points into, to list the allowed keys.
pub(crate) fn locate(error: &ValidationError<'_>, schema: Option<&Value>) -> Vec<Located> {
    let segments: Vec<Segment> = error
        .instance_path()
        .iter()
        .map(|s| match s {
            jsonschema::paths::LocationSegment::Property(p) => Segment::Key(p.into_owned()),
            jsonschema::paths::LocationSegment::Index(i) => Segment::Index(i),
        })
        .collect();
    let instance = error.instance();
    let keyword = error.kind().keyword().to_string();
    let one = |problem: Problem, expected: String| {
        vec![Located {
            segments: segments.clone(),
            problem,
            expected,
            found: Some(instance.clone().into_owned()),
        }]
    };
    match error.kind() {
        Kind::Required { property } => {
            let key = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            let mut segments = segments.clone();
            segments.push(Segment::Key(key));
            vec![Located {
                segments,
                problem: Problem::Missing,
                expected: "a value (the key is required)".into(),
                found: None,
            }]
        }
        Kind::AdditionalProperties { unexpected } | Kind::UnevaluatedProperties { unexpected } => {
            let allowed = allowed_keys(schema, error.schema_path().as_str());
            unexpected
                .iter()
                .map(|key| {
                    let mut at = segments.clone();
                    at.push(Segment::Key(key.clone()));
                    let known: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    Located {
                        segments: at,
                        problem: Problem::Unknown {
                            allowed: allowed.clone(),
                            suggestion: crate::names::closest(key, &known).map(str::to_string),
                        },
                        expected: expected_keys(&allowed),
                        found: instance.get(key).cloned(),
                    }
                })
                .collect()
        }
        Kind::Type { kind } => {
            let types: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let expected = types.join(" or ");
            one(Problem::WrongType { types }, expected)
        }
        kind => one(Problem::Invalid { keyword }, expected_for(kind, error)),
    }
}

/// The keys an object schema names beside the `additionalProperties` keyword at `schema_path`.
fn allowed_keys(schema: Option<&Value>, schema_path: &str) -> Vec<String> {
    let Some((parent, _)) = schema_path.rsplit_once('/') else {
        return Vec::new();
    };
    schema
        .and_then(|s| s.pointer(&format!("{parent}/properties")))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

/// At most this many allowed keys are listed in a message; the rest are counted.
const LISTED_KEYS: usize = 8;

fn expected_keys(allowed: &[String]) -> String {
    if allowed.is_empty() {
        return "no other keys here".into();
    }
    let mut list: Vec<String> = allowed.iter().take(LISTED_KEYS).map(|k| format!("`{k}`")).collect();
    if allowed.len() > LISTED_KEYS {
        list.push(format!("… ({} more)", allowed.len() - LISTED_KEYS));
    }
    format!("one of the keys {}", list.join(", "))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a rule expected, in words.
fn expected_for(kind: &Kind, error: &ValidationError<'_>) -> String {
    match kind {
        Kind::Enum { options } => match options.as_array() {
            Some(list) => {
                let items: Vec<String> = list.iter().map(Value::to_string).collect();
                format!("one of {}", items.join(", "))
            }
            None => format!("one of {options}"),
        },
        Kind::Constant { expected_value } => format!("exactly {expected_value}"),
        Kind::Minimum { limit } => format!("at least {limit}"),
        Kind::Maximum { limit } => format!("at most {limit}"),
        Kind::ExclusiveMinimum { limit } => format!("more than {limit}"),
        Kind::ExclusiveMaximum { limit } => format!("less than {limit}"),
        Kind::MultipleOf { multiple_of } => format!("a multiple of {multiple_of}"),
        Kind::MinLength { limit } => format!("at least {}", plural(*limit, "character", "characters")),
        Kind::MaxLength { limit } => format!("at most {}", plural(*limit, "character", "characters")),
        Kind::MinItems { limit } => format!("at least {}", plural(*limit, "item", "items")),
        Kind::MaxItems { limit } => format!("at most {}", plural(*limit, "item", "items")),
        Kind::MinProperties { limit } => format!("at least {}", plural(*limit, "key", "keys")),
        Kind::MaxProperties { limit } => format!("at most {}", plural(*limit, "key", "keys")),
        Kind::Pattern { pattern } => format!("a string matching `{pattern}`"),
        Kind::Format { format } => format!("a valid `{format}`"),
        Kind::UniqueItems => "items that are all different".into(),
        Kind::Contains => "an array with at least one item matching `contains`".into(),
        Kind::FalseSchema => "no value (the schema allows none here)".into(),
        Kind::AnyOf { .. } | Kind::OneOfNotValid { .. } => {
            format!("a value matching one of the `{}` alternatives", kind.keyword())
        }
        Kind::OneOfMultipleValid { .. } => "a value matching exactly one `oneOf` alternative".into(),
        Kind::Not { schema } => format!("a value not matching {schema}"),
        Kind::PropertyNames { error } => format!("key names that pass `propertyNames` ({error})"),
        Kind::Referencing(ReferencingError::Unretrievable { uri, .. }) => {
            format!("a `$ref` inside the schema file (`{uri}` is outside it; Tandem fetches nothing)")
        }
        Kind::Referencing(e) => format!("a `$ref` that resolves ({e})"),
        _ => format!("a value valid under `{}` ({error})", kind.keyword()),
    }
}

/// A found value for a message: compact JSON, cut when long, with its JSON type.
pub(crate) fn describe_found(found: Option<&Value>) -> String {
    /// Longest JSON text of a found value shown in a message, in characters.
    const SHOWN: usize = 60;
    let Some(value) = found else {
        return "nothing".into();
    };
    let text = value.to_string();
    let text = if text.chars().count() > SHOWN {
        format!("{}…", text.chars().take(SHOWN).collect::<String>())
    } else {
        text
    };
    format!("{text} ({})", json_type(value))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
