//! Leaf-by-leaf diff of two resolved configs (two versions, or two markets), and applying one.

use super::pointer::{self, dotted};
use super::problem::describe_found;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// How one leaf differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    Added { new: Value },
    Removed { old: Value },
    Changed { old: Value, new: Value },
}

/// One leaf that differs, by JSON pointer and dotted path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffEntry {
    pub pointer: String,
    pub path: String,
    #[serde(flatten)]
    pub change: Change,
}

/// Every leaf that differs between two configs, ordered by pointer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigDiff {
    pub entries: Vec<DiffEntry>,
}

impl ConfigDiff {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// One line per leaf: `+ path = new`, `- path (was old)`, `~ path: old → new`.
impl fmt::Display for ConfigDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let path = if e.path.is_empty() { "(root)" } else { &e.path };
            match &e.change {
                Change::Added { new } => write!(f, "+ {path} = {new}")?,
                Change::Removed { old } => write!(f, "- {path} (was {old})")?,
                Change::Changed { old, new } => write!(f, "~ {path}: {old} → {new}")?,
            }
        }
        Ok(())
    }
}

impl DiffEntry {
    /// The change in words for a review: `payment.provider: "adyen" (string) → "mollie" (string)`.
    pub fn describe(&self) -> String {
        match &self.change {
            Change::Added { new } => format!("{}: added, {}", self.path, describe_found(Some(new))),
            Change::Removed { old } => format!("{}: removed, was {}", self.path, describe_found(Some(old))),
            Change::Changed { old, new } => format!(
                "{}: {} → {}",
                self.path,
                describe_found(Some(old)),
                describe_found(Some(new))
            ),
        }
    }
}

/// The leaves that differ from `old` to `new` (see `pointer::leaves`: arrays and empty objects
/// are leaves, compared whole).
pub fn diff_configs(old: &Value, new: &Value) -> ConfigDiff {
    let old_leaves = pointer::leaves(old);
    let new_leaves = pointer::leaves(new);
    let mut entries = Vec::new();
    let mut a = old_leaves.into_iter().peekable();
    let mut b = new_leaves.into_iter().peekable();
    let entry = |pointer: String, change| DiffEntry {
        path: dotted(&pointer),
        pointer,
        change,
    };
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((pa, _)), Some((pb, _))) => pa.cmp(pb),
        };
        match order {
            Ordering::Less => {
                if let Some((p, old)) = a.next() {
                    entries.push(entry(p, Change::Removed { old: old.clone() }));
                }
            }
            Ordering::Greater => {
                if let Some((p, new)) = b.next() {
                    entries.push(entry(p, Change::Added { new: new.clone() }));
                }
            }
            Ordering::Equal => {
                if let (Some((p, old)), Some((_, new))) = (a.next(), b.next())
                    && old != new
                {
                    entries.push(entry(
                        p,
                        Change::Changed {
                            old: old.clone(),
                            new: new.clone(),
                        },
                    ));
                }
            }
        }
    }
    ConfigDiff { entries }
}

/// Applies `diff` to `config`: removals first (pruning the objects they leave empty), then
/// additions and changes. `apply_diff(a, &diff_configs(a, b))` turns `a` into `b`.
pub fn apply_diff(config: &mut Value, diff: &ConfigDiff) {
    for e in &diff.entries {
        if let Change::Removed { .. } = e.change {
            pointer::remove_at(config, &e.pointer);
        }
    }
    for e in &diff.entries {
        match &e.change {
            Change::Added { new } | Change::Changed { new, .. } => pointer::set_at(config, &e.pointer, new.clone()),
            Change::Removed { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_diff_lists_added_removed_and_changed_leaves() {
        let old = json!({"vat_rate": 0.2, "payment": {"provider": "adyen", "methods": ["card"]}, "legacy": 1});
        let new = json!({"vat_rate": 0.21, "payment": {"provider": "adyen", "methods": ["card", "ideal"], "x": {}}});
        let d = diff_configs(&old, &new);
        assert_eq!(
            d.to_string(),
            "- legacy (was 1)\n~ payment.methods: [\"card\"] → [\"card\",\"ideal\"]\n+ payment.x = {}\n~ vat_rate: 0.2 → 0.21"
        );
        assert_eq!(d.entries[3].describe(), "vat_rate: 0.2 (number) → 0.21 (number)");
        assert!(diff_configs(&old, &old).is_empty());
    }

    #[test]
    fn a_diff_serializes_entry_by_entry() {
        let d = diff_configs(&json!({"a": {"b": 1}}), &json!({"a": {"b": 2}}));
        assert_eq!(
            serde_json::to_value(&d).ok(),
            Some(json!([{"pointer": "/a/b", "path": "a.b", "change": "changed", "old": 1, "new": 2}]))
        );
    }

    #[test]
    fn a_scalar_becoming_an_object_is_a_removal_and_additions() {
        let old = json!({"shipping": "disabled"});
        let new = json!({"shipping": {"free_over": 50}});
        let d = diff_configs(&old, &new);
        assert_eq!(
            d.to_string(),
            "- shipping (was \"disabled\")\n+ shipping.free_over = 50"
        );
        let mut patched = old.clone();
        apply_diff(&mut patched, &d);
        assert_eq!(patched, new);
        let mut back = new.clone();
        apply_diff(&mut back, &diff_configs(&new, &old));
        assert_eq!(back, old);
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            (0i64..3).prop_map(Value::from),
            "[xy]{0,1}".prop_map(Value::from),
            prop::collection::vec((0i64..2).prop_map(Value::from), 0..2).prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 3, |inner| {
            prop::collection::btree_map("[a-c]", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect()))
        })
    }

    proptest! {
        #[test]
        fn applying_the_diff_of_a_and_b_to_a_gives_b(a in arb_value(), b in arb_value()) {
            let d = diff_configs(&a, &b);
            let mut patched = a.clone();
            apply_diff(&mut patched, &d);
            prop_assert_eq!(&patched, &b, "diff:\n{}", d);
            prop_assert_eq!(d.is_empty(), a == b);
        }
    }
}
