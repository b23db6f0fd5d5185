//! Feature flags: a service's flag file, parsed and compiled once, then evaluated per
//! request against an OpenFeature evaluation context (see docs/flags.md).
//!
//! Parsing checks everything that can be checked ahead (types of variant values, rule
//! conditions, rollout weights, market ids), so evaluation can only fail on the caller's
//! context. A compiled flag is never cloned or re-parsed while evaluating: an
//! [`Evaluation`] borrows its value, variant and metadata from the flag.

pub mod bucket;
mod eval;
pub mod expr;
pub mod ofrep;
mod parse;
mod set;
#[cfg(test)]
mod tests;

pub use bucket::{BUCKETS, Rollout, bucket};
pub use eval::{
    ErrorCode, Evaluation, EvaluationContext, EvaluationError, MARKET_ATTRIBUTE, Reason, Resolved, TARGETING_KEY,
    evaluate,
};
pub use expr::{Condition, ExprError, Mismatch, parse_condition};
pub use parse::parse_flags;
pub use set::FlagSet;

use serde::Serialize;
use serde_json::{Map, Value};

/// The type of a flag's values; every variant of a flag has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagType {
    Boolean,
    String,
    Number,
    Object,
}

impl FlagType {
    pub const ALL: [FlagType; 4] = [FlagType::Boolean, FlagType::String, FlagType::Number, FlagType::Object];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Number => "number",
            FlagType::Object => "object",
        }
    }

    /// Whether `value` has this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            FlagType::Boolean => value.is_boolean(),
            FlagType::String => value.is_string(),
            FlagType::Number => value.is_number(),
            FlagType::Object => value.is_object(),
        }
    }
}

/// One named value a flag can take.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    pub value: Value,
}

/// `if: <condition>` → serve `variant`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    condition: Condition,
    variant: usize,
}

impl Rule {
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Index of the served variant in [`CompiledFlag::variants`].
    pub fn variant(&self) -> usize {
        self.variant
    }
}

/// Rules, then a rollout, then a fixed variant: for one market or for any market.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targeting {
    rules: Vec<Rule>,
    rollout: Option<Rollout>,
    /// A market's fallback variant (never set at the top level, where `default` serves).
    variant: Option<usize>,
}

impl Targeting {
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rollout(&self) -> Option<&Rollout> {
        self.rollout.as_ref()
    }

    pub fn variant(&self) -> Option<usize> {
        self.variant
    }

    fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.rollout.is_none() && self.variant.is_none()
    }
}

/// Where an emergency kill holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kill {
    /// Every market, and contexts with no market.
    Everywhere,
    /// Contexts whose `market` attribute names this market (ASCII case ignored).
    Market(String),
}

/// A validated flag, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFlag {
    key: String,
    flag_type: FlagType,
    description: Option<String>,
    /// Sorted by name; rules, rollouts and `default` refer to them by index.
    variants: Vec<Variant>,
    default: usize,
    enabled: bool,
    /// `kill-switch: true`: an operator may kill it at once, reviewed afterwards.
    kill_switch: bool,
    /// Emergency kills in force (not part of the file): each serves the default.
    kills: Vec<Kill>,
    /// Sorted by market id.
    markets: Vec<(String, Targeting)>,
    targeting: Targeting,
    /// Returned with every evaluation; values are strings, numbers or booleans (OFREP).
    metadata: Map<String, Value>,
}

impl CompiledFlag {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn flag_type(&self) -> FlagType {
        self.flag_type
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    pub fn variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    pub fn default_variant(&self) -> &Variant {
        &self.variants[self.default]
    }

    /// `false` is the kill switch: every evaluation serves the default, reason `DISABLED`.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether the file marks it `kill-switch: true`: it may be killed in an emergency.
    pub fn kill_switch(&self) -> bool {
        self.kill_switch
    }

    /// The emergency kills in force on it.
    pub fn kills(&self) -> &[Kill] {
        &self.kills
    }

    /// The flag with one more emergency kill in force: where it holds, every evaluation serves
    /// the default variant, reason `DISABLED`, as with `enabled: false`.
    pub fn with_kill(mut self, kill: Kill) -> Self {
        if !self.kills.contains(&kill) {
            self.kills.push(kill);
        }
        self
    }

    /// Whether an emergency kill holds for a context in `market` (`None`: no market given).
    pub fn is_killed_in(&self, market: Option<&str>) -> bool {
        self.kills.iter().any(|k| match k {
            Kill::Everywhere => true,
            Kill::Market(m) => market.is_some_and(|id| m.eq_ignore_ascii_case(id)),
        })
    }

    /// Per-market targeting, by market id.
    pub fn markets(&self) -> impl Iterator<Item = (&str, &Targeting)> {
        self.markets.iter().map(|(m, t)| (m.as_str(), t))
    }

    /// The targeting for a market, matched without regard to ASCII case.
    pub fn market(&self, id: &str) -> Option<&Targeting> {
        self.markets
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(id))
            .map(|(_, t)| t)
    }

    /// Targeting for any market.
    pub fn targeting(&self) -> &Targeting {
        &self.targeting
    }

    pub fn metadata(&self) -> &Map<String, Value> {
        &self.metadata
    }

    /// Whether the flag has no rule, rollout or market at all: it always serves its default.
    pub fn is_static(&self) -> bool {
        self.markets.is_empty() && self.targeting.is_empty()
    }
}
