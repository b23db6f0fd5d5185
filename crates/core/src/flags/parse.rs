//! Reading a flag file: every problem is collected with its line and column, and the
//! flags are compiled (conditions parsed, variants resolved to indices, weights to slices).

use super::bucket::{BUCKETS, Rollout, basis_points};
use super::eval::json_kind;
use super::expr::parse_condition;
use super::set::FlagSet;
use super::{CompiledFlag, FlagType, Rule, Targeting, Variant};
use crate::error::{Collector, Key, SpecErrors};
use crate::names::did_you_mean as hint;
use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;

/// Longest flag key, so keys stay readable in URLs and logs.
const MAX_KEY_LEN: usize = 128;
/// Longest variant name.
const MAX_VARIANT_LEN: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    flags: BTreeMap<Key, Spanned<RawFlag>>,
}

type Weights = Spanned<BTreeMap<Key, Spanned<f64>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    variants: Spanned<BTreeMap<Key, Spanned<Value>>>,
    default: Spanned<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    /// May be killed at once in an emergency (served its default), reviewed afterwards.
    #[serde(default, rename = "kill-switch")]
    kill_switch: bool,
    #[serde(default)]
    metadata: BTreeMap<Key, Spanned<Value>>,
    #[serde(default)]
    markets: BTreeMap<Key, Spanned<RawMarket>>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    rollout: Option<Weights>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    rollout: Option<Weights>,
    #[serde(default)]
    variant: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "if")]
    condition: Spanned<String>,
    variant: Spanned<String>,
}

/// Parses and compiles a flag file; `file` names it in errors. When `markets` is given,
/// per-market targeting may only name those markets.
///
/// Booleans are YAML 1.2's: only `true` and `false`, so `on`, `off`, `yes` and `no`
/// are strings (handy as variant names).
pub fn parse_flags(file: &str, text: &str, markets: Option<&[&str]>) -> Result<FlagSet, SpecErrors> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let raw: RawFile = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| with_field_hint(SpecErrors::from_yaml(file, &e)))?;
    let mut errors = Collector::new(file);
    let mut flags = Vec::with_capacity(raw.flags.len());
    for (Key(key), flag) in raw.flags {
        let mut check = Check {
            errors: &mut errors,
            text,
            key: &key.value,
            markets,
        };
        if let Some(f) = check.flag(&key, flag.value) {
            flags.push(f);
        }
    }
    errors.finish(())?;
    Ok(FlagSet::new(flags))
}

/// Checks one flag, reporting problems under its key.
struct Check<'c, 'f> {
    errors: &'c mut Collector<'f>,
    text: &'c str,
    key: &'c str,
    markets: Option<&'c [&'c str]>,
}

impl Check<'_, '_> {
    fn push(&mut self, at: &Location, message: impl std::fmt::Display) {
        self.errors.push(at, format!("flag `{}`: {message}", self.key));
    }

    fn flag(&mut self, key: &Spanned<String>, raw: RawFlag) -> Option<CompiledFlag> {
        if !is_flag_key(&key.value) {
            self.push(
                &key.referenced,
                format!(
                    "the key is not valid: expected letters, digits, `-`, `_` and `.` (at most {MAX_KEY_LEN}), starting with a letter or digit"
                ),
            );
        }
        let flag_type = self.flag_type(&raw.kind);
        let variants = self.variants(&raw.variants, flag_type);
        let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        let default = self.variant_index(&raw.default, &names, "default variant");
        let metadata = self.metadata(&raw.metadata);
        let mut markets = Vec::with_capacity(raw.markets.len());
        for (Key(id), m) in &raw.markets {
            self.market_id(id);
            let place = format!("market `{}`: ", id.value);
            let m = &m.value;
            let mut targeting = self.targeting(&place, &m.rules, m.rollout.as_ref(), &names);
            if let Some(v) = &m.variant {
                targeting.variant = self.variant_index(v, &names, &format!("{place}variant"));
                if let Some(r) = &m.rollout {
                    self.push(
                        &r.referenced,
                        format!("market `{}` has both `rollout` and `variant`: a rollout already gives everyone a variant, so keep one", id.value),
                    );
                }
            }
            if m.rules.is_empty() && m.rollout.is_none() && m.variant.is_none() {
                self.push(
                    &id.referenced,
                    format!(
                        "market `{}` has no `rules`, `rollout` or `variant`: add one, or remove the market",
                        id.value
                    ),
                );
            }
            markets.push((id.value.clone(), targeting));
        }
        let targeting = self.targeting("", &raw.rules, raw.rollout.as_ref(), &names);
        Some(CompiledFlag {
            key: key.value.clone(),
            flag_type: flag_type?,
            description: raw.description,
            variants,
            default: default?,
            enabled: raw.enabled,
            kill_switch: raw.kill_switch,
            kills: Vec::new(),
            markets,
            targeting,
            metadata,
        })
    }

    fn flag_type(&mut self, kind: &Spanned<String>) -> Option<FlagType> {
        let found = FlagType::ALL.into_iter().find(|t| t.as_str() == kind.value);
        if found.is_none() {
            let known: Vec<&str> = FlagType::ALL.iter().map(|t| t.as_str()).collect();
            self.push(
                &kind.referenced,
                format!(
                    "type `{}` is not known{}: expected boolean, string, number or object",
                    kind.value,
                    hint(&kind.value, &known)
                ),
            );
        }
        found
    }

    fn variants(&mut self, raw: &Spanned<BTreeMap<Key, Spanned<Value>>>, flag_type: Option<FlagType>) -> Vec<Variant> {
        if raw.value.is_empty() {
            self.push(
                &raw.referenced,
                "no variants: expected at least one, such as `{ on: true, off: false }`",
            );
        }
        let mut out = Vec::with_capacity(raw.value.len());
        for (Key(name), value) in &raw.value {
            if !is_variant_name(&name.value) {
                self.push(
                    &name.referenced,
                    format!(
                        "variant name `{}` is not valid: expected letters, digits, `-`, `_` and `.` (at most {MAX_VARIANT_LEN})",
                        name.value
                    ),
                );
            }
            if let Some(t) = flag_type
                && !t.admits(&value.value)
            {
                let expected = match t {
                    FlagType::Boolean => "true or false",
                    FlagType::String => "a string (quote values such as \"true\" or \"42\")",
                    FlagType::Number => "a number",
                    FlagType::Object => "a mapping such as `{ limit: 3 }`",
                };
                self.push(
                    &value.referenced,
                    format!(
                        "variant `{}` is {}, but the flag's type is {}: expected {expected}",
                        name.value,
                        json_kind(&value.value),
                        t.as_str()
                    ),
                );
            }
            out.push(Variant {
                name: name.value.clone(),
                value: value.value.clone(),
            });
        }
        out
    }

    /// The index of the variant `name` refers to, or an error naming what refers to it.
    fn variant_index(&mut self, name: &Spanned<String>, names: &[&str], what: &str) -> Option<usize> {
        let found = names.iter().position(|n| *n == name.value);
        if found.is_none() {
            self.push(
                &name.referenced,
                format!(
                    "{what} `{}` is not one of the flag's variants{}: expected {}",
                    name.value,
                    hint(&name.value, names),
                    one_of(names)
                ),
            );
        }
        found
    }

    fn metadata(&mut self, raw: &BTreeMap<Key, Spanned<Value>>) -> Map<String, Value> {
        let mut out = Map::new();
        for (Key(name), value) in raw {
            match &value.value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    out.insert(name.value.clone(), value.value.clone());
                }
                other => self.push(
                    &value.referenced,
                    format!(
                        "metadata `{}` is {}: expected a string, a number or a boolean",
                        name.value,
                        json_kind(other)
                    ),
                ),
            }
        }
        out
    }

    fn market_id(&mut self, id: &Spanned<String>) {
        let m = &id.value;
        if !crate::names::is_market_id(m) {
            self.push(
                &id.referenced,
                format!(
                    "market `{m}` is not a valid market id: {}",
                    crate::names::MARKET_ID_EXPECTED
                ),
            );
        } else if let Some(known) = self.markets
            && !known.contains(&m.as_str())
        {
            self.push(
                &id.referenced,
                format!(
                    "market `{m}` is not in the platform{}: expected {}",
                    hint(m, known),
                    one_of(known)
                ),
            );
        }
    }

    fn targeting(&mut self, place: &str, rules: &[RawRule], rollout: Option<&Weights>, names: &[&str]) -> Targeting {
        let mut out = Targeting::default();
        for (i, rule) in rules.iter().enumerate() {
            let c = &rule.condition;
            let condition = match parse_condition(&c.value) {
                Ok(cond) => Some(cond),
                Err(e) => {
                    let (line, column) = column_in_scalar(self.text, &c.referenced, e.offset);
                    self.errors.push_at(
                        line,
                        column,
                        format!(
                            "flag `{}`: {place}rule {} (`if: {}`): {}",
                            self.key,
                            i + 1,
                            c.value,
                            e.message
                        ),
                    );
                    None
                }
            };
            let variant = self.variant_index(&rule.variant, names, &format!("{place}rule {} serves variant", i + 1));
            if let (Some(condition), Some(variant)) = (condition, variant) {
                out.rules.push(Rule { condition, variant });
            }
        }
        if let Some(weights) = rollout {
            out.rollout = self.rollout(place, weights, names);
        }
        out
    }

    fn rollout(&mut self, place: &str, raw: &Weights, names: &[&str]) -> Option<Rollout> {
        let mut weights: Vec<(usize, u16)> = names.iter().enumerate().map(|(i, _)| (i, 0)).collect();
        let mut ok = true;
        let mut total: u32 = 0;
        for (Key(name), w) in &raw.value {
            let Some(i) = self.variant_index(name, names, &format!("{place}rollout variant")) else {
                ok = false;
                continue;
            };
            match basis_points(w.value) {
                Ok(bp) => {
                    weights[i].1 = bp;
                    total += u32::from(bp);
                }
                Err(message) => {
                    self.push(&w.referenced, format!("{place}rollout `{}`: {message}", name.value));
                    ok = false;
                }
            }
        }
        if ok && total != u32::from(BUCKETS) {
            self.push(
                &raw.referenced,
                format!(
                    "{place}rollout weights add up to {}: expected 100 (percent)",
                    f64::from(total) / 100.0
                ),
            );
            ok = false;
        }
        if ok { Rollout::new(weights) } else { None }
    }
}

/// Where character `offset` of a rule condition is in the file: after the opening quote of
/// a quoted scalar, or at the scalar itself for a block scalar, whose lines move.
fn column_in_scalar(text: &str, at: &Location, offset: usize) -> (u64, u64) {
    let line = text.lines().nth(at.line().saturating_sub(1) as usize).unwrap_or("");
    let column = usize::try_from(at.column()).unwrap_or(0);
    let first = line.chars().nth(column.saturating_sub(1));
    let shift = match first {
        Some('"' | '\'') => 1,
        Some('|' | '>') => return (at.line(), at.column()),
        _ => 0,
    };
    (at.line(), at.column() + shift + offset as u64)
}

fn is_flag_key(key: &str) -> bool {
    is_name(key, MAX_KEY_LEN)
}

fn is_variant_name(name: &str) -> bool {
    is_name(name, MAX_VARIANT_LEN)
}

fn is_name(s: &str, max: usize) -> bool {
    let mut chars = s.chars();
    s.len() <= max
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "a declared name".to_string(),
        [one] => format!("`{one}`"),
        _ => format!(
            "one of {}",
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Field names the file knows, for "did you mean" on a misspelled one.
const FIELDS: &[&str] = &[
    "flags",
    "type",
    "description",
    "variants",
    "default",
    "enabled",
    "kill-switch",
    "metadata",
    "markets",
    "rules",
    "rollout",
    "variant",
    "if",
];

/// Adds "(did you mean …?)" to an unknown-field error.
fn with_field_hint(mut errors: SpecErrors) -> SpecErrors {
    for e in &mut errors.0 {
        if let Some(rest) = e.message.strip_prefix("unknown field `")
            && let Some((word, _)) = rest.split_once('`')
            && let Some(h) = crate::names::closest(word, FIELDS)
        {
            e.message = format!("{} (did you mean `{h}`?)", e.message);
        }
    }
    errors
}
