//! Evaluating one flag against one context. The order is fixed: kill switch, then the
//! market's rules, rollout and variant, then the rules and rollout for any market, then
//! the default.

use super::bucket::bucket;
use super::{CompiledFlag, Targeting};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// The context attribute that selects a flag's per-market targeting.
pub const MARKET_ATTRIBUTE: &str = "market";

/// The name under which rules read the targeting key.
pub const TARGETING_KEY: &str = "targetingKey";

/// What the caller knows about the subject of an evaluation (OpenFeature's evaluation context).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvaluationContext {
    /// Always a JSON string when set, so rules can read it like an attribute.
    targeting_key: Option<Value>,
    attributes: Map<String, Value>,
}

impl EvaluationContext {
    /// A context with these attributes and no targeting key.
    pub fn from_attributes(attributes: Map<String, Value>) -> Self {
        Self {
            targeting_key: None,
            attributes,
        }
    }

    pub fn with_targeting_key(mut self, key: impl Into<String>) -> Self {
        self.targeting_key = Some(Value::String(key.into()));
        self
    }

    /// Sets one attribute.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// The targeting key; an empty one counts as none.
    pub fn targeting_key(&self) -> Option<&str> {
        self.targeting_key
            .as_ref()
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
    }

    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// The value at `path` (an attribute, then keys of nested objects); `targetingKey`
    /// names the targeting key.
    pub fn attribute(&self, path: &[Box<str>]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        if &**first == TARGETING_KEY
            && rest.is_empty()
            && let Some(key) = &self.targeting_key
        {
            return Some(key);
        }
        let mut value = self.attributes.get(&**first)?;
        for key in rest {
            value = value.as_object()?.get(&**key)?;
        }
        Some(value)
    }
}

/// Why an evaluation gave its value (OpenFeature's resolution reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The flag has no targeting: it always serves its default.
    Static,
    /// A rule matched, or the market names a variant.
    TargetingMatch,
    /// A percentage rollout picked the variant.
    Split,
    /// The flag is switched off (kill switch): the default variant.
    Disabled,
    /// The flag has targeting, but none of it applied: the default variant.
    Default,
    /// The evaluation failed; see the error code.
    Error,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::Default => "DEFAULT",
            Reason::Error => "ERROR",
        }
    }
}

/// Why an evaluation failed (OpenFeature's error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    FlagNotFound,
    /// A rollout needs a targeting key and the context has none.
    TargetingKeyMissing,
    /// The context is not an object, or an attribute has the wrong type for a rule.
    InvalidContext,
    /// The request body is not JSON.
    ParseError,
    /// For providers: the flag's type is not the one asked for. The server never sends it,
    /// since OFREP requests carry no type.
    TypeMismatch,
    General,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::InvalidContext => "INVALID_CONTEXT",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::General => "GENERAL",
        }
    }

    /// The HTTP status OFREP answers with: 404 for an unknown flag, 400 otherwise.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::FlagNotFound => 404,
            _ => 400,
        }
    }
}

/// A failed evaluation: the code, and details naming the flag, market, rule or JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationError {
    pub code: ErrorCode,
    pub details: String,
}

impl EvaluationError {
    pub fn new(code: ErrorCode, details: impl Into<String>) -> Self {
        Self {
            code,
            details: details.into(),
        }
    }
}

impl fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.details)
    }
}

impl std::error::Error for EvaluationError {}

/// A successful evaluation, borrowed from the flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved<'a> {
    pub value: &'a Value,
    pub variant: &'a str,
    pub reason: Reason,
    pub metadata: &'a Map<String, Value>,
}

/// The outcome of evaluating one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'a> {
    pub key: &'a str,
    pub result: Result<Resolved<'a>, EvaluationError>,
}

impl<'a> Evaluation<'a> {
    /// The evaluation of a key that names no flag.
    pub fn not_found(key: &'a str) -> Self {
        Self {
            key,
            result: Err(EvaluationError::new(
                ErrorCode::FlagNotFound,
                format!("flag `{key}` is not defined"),
            )),
        }
    }

    pub fn reason(&self) -> Reason {
        self.result.as_ref().map_or(Reason::Error, |r| r.reason)
    }

    pub fn value(&self) -> Option<&'a Value> {
        self.result.as_ref().ok().map(|r| r.value)
    }

    pub fn variant(&self) -> Option<&'a str> {
        self.result.as_ref().ok().map(|r| r.variant)
    }

    pub fn error(&self) -> Option<&EvaluationError> {
        self.result.as_ref().err()
    }
}

/// Evaluates `flag` for `ctx`.
pub fn evaluate<'a>(flag: &'a CompiledFlag, ctx: &EvaluationContext) -> Evaluation<'a> {
    let result = resolve(flag, ctx).map(|(index, reason)| {
        let variant = &flag.variants[index];
        Resolved {
            value: &variant.value,
            variant: &variant.name,
            reason,
            metadata: &flag.metadata,
        }
    });
    Evaluation { key: &flag.key, result }
}

fn resolve(flag: &CompiledFlag, ctx: &EvaluationContext) -> Result<(usize, Reason), EvaluationError> {
    if !flag.enabled {
        return Ok((flag.default, Reason::Disabled));
    }
    if !flag.kills.is_empty() {
        let market = ctx.attributes.get(MARKET_ATTRIBUTE).and_then(Value::as_str);
        if flag.is_killed_in(market) {
            return Ok((flag.default, Reason::Disabled));
        }
    }
    if !flag.markets.is_empty() {
        match ctx.attributes.get(MARKET_ATTRIBUTE) {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) => {
                if let Some((market, targeting)) = flag.markets.iter().find(|(m, _)| m.eq_ignore_ascii_case(id))
                    && let Some(hit) = apply(flag, Some(market), targeting, ctx)?
                {
                    return Ok(hit);
                }
            }
            Some(other) => {
                return Err(EvaluationError::new(
                    ErrorCode::InvalidContext,
                    format!(
                        "flag `{}`: attribute `{MARKET_ATTRIBUTE}` is {}, but it names a market: expected a string such as \"fr\"",
                        flag.key,
                        json_kind(other)
                    ),
                ));
            }
        }
    }
    if let Some(hit) = apply(flag, None, &flag.targeting, ctx)? {
        return Ok(hit);
    }
    let reason = if flag.is_static() {
        Reason::Static
    } else {
        Reason::Default
    };
    Ok((flag.default, reason))
}

/// Applies one level of targeting; `None` when none of it applies.
fn apply(
    flag: &CompiledFlag,
    market: Option<&str>,
    targeting: &Targeting,
    ctx: &EvaluationContext,
) -> Result<Option<(usize, Reason)>, EvaluationError> {
    for (i, rule) in targeting.rules.iter().enumerate() {
        match rule.condition.matches(ctx) {
            Ok(true) => return Ok(Some((rule.variant, Reason::TargetingMatch))),
            Ok(false) => {}
            Err(mismatch) => {
                return Err(EvaluationError::new(
                    ErrorCode::InvalidContext,
                    format!(
                        "{}, rule {} (`{}`): {mismatch}",
                        place(flag, market),
                        i + 1,
                        rule.condition.as_str()
                    ),
                ));
            }
        }
    }
    if let Some(rollout) = &targeting.rollout {
        let Some(key) = ctx.targeting_key() else {
            return Err(EvaluationError::new(
                ErrorCode::TargetingKeyMissing,
                format!(
                    "{} splits users by percentage and needs a targeting key: set `{TARGETING_KEY}` in the context",
                    place(flag, market)
                ),
            ));
        };
        return Ok(Some((rollout.pick(bucket(&flag.key, key)), Reason::Split)));
    }
    Ok(targeting.variant.map(|v| (v, Reason::TargetingMatch)))
}

fn place(flag: &CompiledFlag, market: Option<&str>) -> String {
    match market {
        Some(m) => format!("flag `{}`, market `{m}`", flag.key),
        None => format!("flag `{}`", flag.key),
    }
}

/// "a string", "a number", … for messages about JSON values.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
