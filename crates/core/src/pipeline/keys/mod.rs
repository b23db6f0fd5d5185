//! A first pass over a YAML file that finds every structural mistake at once: unknown keys,
//! keys given twice, unknown enum words, and a mapping, list or value where another is expected.
//!
//! Serde stops at the first such mistake, so the file is first read into a `Node` tree that
//! keeps each place, and walked against what the `Deserialize` types that will read it expect.
//! Nothing is listed by hand, so nothing can drift from the types: `expect_at` drives a
//! type's own `Deserialize` impl with a `Probe` deserializer that follows a path (struct
//! fields, map values, list items, `Option` and `Spanned` wrappers) and records what the impl
//! asks for at its end — for a struct, the field names serde itself checks keys against, and
//! whether it refuses others (`deny_unknown_fields`). The walk reports only what serde would
//! refuse too; what it cannot see (untagged enums, scalar types, missing fields) is left to the
//! deserialization that follows.

mod probe;
mod tree;

pub(crate) use probe::expect_at;

use crate::error::{Collector, SpecError, SpecErrors};
use crate::names::closest;
use serde::de::{self, DeserializeOwned};
use serde_saphyr::Spanned;
use tree::{Node, Removed, Value};

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    /// An item of a list, by index (the types ignore it; messages show it).
    Item(usize),
}

/// What a type expects at one place of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A struct: the keys it knows, and whether it refuses others.
    Fields {
        names: &'static [&'static str],
        strict: bool,
    },
    /// A map with keys of the user's choosing (`env`, `jobs`).
    Map,
    List,
    /// A string, number or boolean.
    Scalar,
    /// An enum: one of these words (or, for one with data, a mapping).
    Variant(&'static [&'static str]),
    /// Anything: the type reads the value as a whole (an untagged enum, a JSON value).
    Anything,
}

/// What a type expects at a path relative to where it starts, such as `expect_at::<RawSpec>`.
pub(crate) type Describe = fn(&[Step]) -> Expect;

/// A place the root type cannot describe (an untagged enum): the types that may sit there,
/// tried in order by the shape of the YAML found. `at` matches key by key; `*` matches any
/// key or list item.
#[derive(Debug)]
pub(crate) struct Untagged {
    pub at: &'static [&'static str],
    pub one_of: &'static [Describe],
}

/// Reads a `T` from `text`, finding every structural mistake first.
///
/// Without one, this is plain deserialization. With some, the entries at fault are blanked
/// out (replaced by spaces, so every other place keeps its line and column) and the rest is
/// read, so that the caller's own checks run on it too: the value comes back with the
/// mistakes, to report together. When the rest cannot be read, or reads differently from the
/// document without those entries, the mistakes come back alone.
pub(crate) fn read<T: DeserializeOwned>(
    file: &str,
    text: &str,
    untagged: &[Untagged],
) -> Result<(T, Vec<SpecError>), SpecErrors> {
    let Ok(doc) = tree::read_tree(text) else {
        // Not YAML at all: the parser's error is the one to show.
        return deserialize(file, text).map(|value| (value, Vec::new()));
    };
    let mut walk = Walk {
        text,
        errors: Collector::new(file),
        untagged,
        removed: Some(Vec::new()),
    };
    walk.node(&doc, &mut Vec::new(), 0, expect_at::<T>, None);
    let SpecErrors(errors) = match walk.errors.finish(()) {
        Ok(()) => return deserialize(file, text).map(|value| (value, Vec::new())),
        Err(errors) => errors,
    };
    let rest = walk
        .removed
        .and_then(|removed| tree::without(text, &doc, &removed))
        .and_then(|rest| serde_saphyr::from_str::<T>(&rest).ok());
    match rest {
        Some(value) => Ok((value, errors)),
        None => Err(SpecErrors(errors)),
    }
}

fn deserialize<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, SpecErrors> {
    serde_saphyr::from_str(text).map_err(|e| with_found(with_key_hint(SpecErrors::from_yaml(file, &e)), text))
}

/// Adds `(did you mean `x`?)` to serde's unknown-key error when a known key is a likely typo away.
fn with_key_hint(mut errors: SpecErrors) -> SpecErrors {
    for e in &mut errors.0 {
        let Some(rest) = e.message.strip_prefix("unknown field `") else {
            continue;
        };
        let Some((word, rest)) = rest.split_once('`') else {
            continue;
        };
        let Some((_, expected)) = rest.split_once("expected ") else {
            continue;
        };
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        let known: Vec<&str> = expected
            .split(", ")
            .flat_map(|k| k.split(" or "))
            .map(|k| k.trim().trim_matches('`'))
            .collect();
        if let Some(hint) = closest(word, &known) {
            e.message = format!("{} (did you mean `{hint}`?)", e.message);
        }
    }
    errors
}

/// A YAML parser's terse message said as a person would, with what stands at the place: the
/// reader sees what was expected and what was found.
fn with_found(mut errors: SpecErrors, text: &str) -> SpecErrors {
    for e in &mut errors.0 {
        let plain = match e.message.as_str() {
            "expected string scalar" => Some("expected a single value (text)"),
            "expected mapping start" => Some("expected a mapping: `key: value` lines, indented under the key above"),
            "expected sequence start" => Some("expected a list: `- item` lines, or `[a, b]`"),
            _ => None,
        };
        let line = usize::try_from(e.line)
            .ok()
            .and_then(|l| text.lines().nth(l.saturating_sub(1)));
        let found = line.map(|l| {
            let start = usize::try_from(e.column).unwrap_or(1).saturating_sub(1);
            l.char_indices()
                .skip_while(|(i, _)| *i < start)
                .map(|(_, c)| c)
                .take(40)
                .collect::<String>()
        });
        let Some(found) = found.map(|f| f.trim_end().to_string()).filter(|f| !f.is_empty()) else {
            if let Some(plain) = plain {
                e.message = plain.to_string();
            }
            continue;
        };
        let hint = match found.chars().next() {
            Some('[') if !found.contains(']') => " (a `[` list must close with `]`)",
            Some('{') if !found.contains('}') => " (a `{` mapping must close with `}`)",
            Some('"' | '\'') => " (a quoted value must close with the same quote)",
            _ => "",
        };
        e.message = format!("{}, found `{found}`{hint}", plain.unwrap_or(&e.message));
    }
    errors
}

// --- the walk ------------------------------------------------------------------------------

struct Walk<'a, 'f> {
    text: &'a str,
    errors: Collector<'f>,
    untagged: &'a [Untagged],
    /// The entries at fault, to blank out; `None` once one cannot be placed.
    removed: Option<Vec<Removed>>,
}

/// A mapping entry, and whether its mapping is written in flow style (`{ a: 1 }`).
#[derive(Clone, Copy)]
struct Entry<'n> {
    key: &'n Spanned<String>,
    value: &'n Node,
    flow: bool,
}

impl Walk<'_, '_> {
    /// Checks `node` at `path`; `describe` tells what is expected at `path[base..]`, and
    /// `entry` is the innermost mapping entry holding the node (blanked out if it is wrong).
    fn node(&mut self, node: &Node, path: &mut Vec<Step>, base: usize, describe: Describe, entry: Option<Entry<'_>>) {
        let (describe, base) = match self.untagged.iter().find(|u| matches(u.at, path)) {
            Some(u) => match u.one_of.iter().find(|d| fits(d(&[]), &node.value)) {
                Some(d) => (*d, path.len()),
                None => {
                    let expected: Vec<&str> = u.one_of.iter().map(|d| shape(d(&[]))).collect();
                    self.wrong_type(node, path, &expected.join(" or "), entry);
                    return;
                }
            },
            None => (describe, base),
        };
        let expect = describe(&path[base..]);
        match (&node.value, expect) {
            (Value::Null, _) | (_, Expect::Anything) => {}
            (Value::Map(entries), Expect::Fields { names, strict }) => {
                let flow = tree::is_flow(self.text, node);
                self.duplicates(entries, flow);
                for (key, value) in entries {
                    let here = Entry { key, value, flow };
                    if names.contains(&key.value.as_str()) {
                        path.push(Step::Key(key.value.clone()));
                        self.node(value, path, base, describe, Some(here));
                        path.pop();
                    } else if strict {
                        let mut message = <de::value::Error as de::Error>::unknown_field(&key.value, names).to_string();
                        if let Some(hint) = closest(&key.value, names) {
                            message.push_str(&format!(" (did you mean `{hint}`?)"));
                        }
                        self.errors.push(&key.referenced, message);
                        self.remove(Some(here));
                    }
                }
            }
            (Value::Map(entries), Expect::Map) => {
                let flow = tree::is_flow(self.text, node);
                self.duplicates(entries, flow);
                for (key, value) in entries {
                    path.push(Step::Key(key.value.clone()));
                    self.node(value, path, base, describe, Some(Entry { key, value, flow }));
                    path.pop();
                }
            }
            (Value::List(items), Expect::List) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Item(i));
                    self.node(item, path, base, describe, entry);
                    path.pop();
                }
            }
            (Value::Scalar(..), Expect::Scalar) | (Value::Map(_), Expect::Variant(_)) => {}
            (Value::Scalar(word, _), Expect::Variant(words)) => {
                if !words.contains(&word.as_str()) {
                    let mut message = <de::value::Error as de::Error>::unknown_variant(word, words).to_string();
                    if let Some(hint) = closest(word, words) {
                        message.push_str(&format!(" (did you mean `{hint}`?)"));
                    }
                    self.errors.push(&node.at, message);
                    self.remove(entry);
                }
            }
            (_, expect) => self.wrong_type(node, path, shape(expect), entry),
        }
    }

    /// Reports each key written again in the same mapping.
    fn duplicates(&mut self, entries: &[(Spanned<String>, Node)], flow: bool) {
        for (i, (key, value)) in entries.iter().enumerate() {
            if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.value == key.value) {
                self.errors.push(
                    &key.referenced,
                    format!(
                        "duplicate key `{}`: it is already set on line {}; keep one",
                        key.value,
                        first.referenced.line()
                    ),
                );
                self.remove(Some(Entry { key, value, flow }));
            }
        }
    }

    fn wrong_type(&mut self, node: &Node, path: &[Step], expected: &str, entry: Option<Entry<'_>>) {
        if matches!(node.value, Value::Null) {
            return;
        }
        let found = match &node.value {
            Value::Map(_) => "a mapping",
            Value::List(_) => "a list",
            Value::Scalar(_, kind) => kind,
            Value::Null => "nothing",
        };
        let mut message = format!("`{}`: expected {expected}, found {found}", place(path));
        if let (Value::Scalar(text, _), "a list") = (&node.value, expected) {
            message.push_str(&format!(" (write `[{text}]` for a list of one)"));
        }
        self.errors.push(&node.at, message);
        self.remove(entry);
    }

    /// Marks `entry` to be blanked out. Without one (the whole file is wrong), or for an entry
    /// that comes through an alias (its text is shared), nothing can be.
    fn remove(&mut self, entry: Option<Entry<'_>>) {
        let range = entry.filter(|e| e.key.referenced == e.key.defined).and_then(|e| {
            let range = tree::entry_range(self.text, e.key, e.value, e.flow)?;
            Some((range, tree::byte_offset(&e.key.referenced)?))
        });
        match (range, &mut self.removed) {
            (Some((range, key)), Some(removed)) => removed.push(Removed { range, key }),
            _ => self.removed = None,
        }
    }
}

/// Whether a node of this shape can be read as `expect`.
fn fits(expect: Expect, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Map(_) => matches!(
            expect,
            Expect::Fields { .. } | Expect::Map | Expect::Variant(_) | Expect::Anything
        ),
        Value::List(_) => matches!(expect, Expect::List | Expect::Anything),
        Value::Scalar(..) => matches!(expect, Expect::Scalar | Expect::Variant(_) | Expect::Anything),
    }
}

fn shape(expect: Expect) -> &'static str {
    match expect {
        Expect::Fields { .. } | Expect::Map => "a mapping",
        Expect::List => "a list",
        Expect::Scalar | Expect::Variant(_) => "a single value",
        Expect::Anything => "anything",
    }
}

fn matches(pattern: &[&str], path: &[Step]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(p, s)| match s {
            _ if *p == "*" => true,
            Step::Key(k) => k == p,
            Step::Item(_) => false,
        })
}

/// A path as the user would write it: `pipeline.jobs.build.steps[0]`.
fn place(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Item(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() { "the file".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Outer {
        name: Spanned<String>,
        #[serde(default)]
        items: Option<Spanned<Vec<Spanned<Inner>>>>,
        by_name: BTreeMap<String, Inner>,
        lenient: Lenient,
        kind: Kind,
    }

    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[serde(rename = "if")]
        condition: Option<String>,
        count: u32,
    }

    #[allow(dead_code)]
    #[derive(Deserialize)]
    struct Lenient {
        a: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Process,
        Command,
    }

    fn at(path: &[&str]) -> Expect {
        let steps: Vec<Step> = path
            .iter()
            .map(|s| {
                if *s == "*" {
                    Step::Item(0)
                } else {
                    Step::Key(s.to_string())
                }
            })
            .collect();
        expect_at::<Outer>(&steps)
    }

    #[test]
    fn the_probe_reads_field_names_from_the_type() {
        assert_eq!(
            at(&[]),
            Expect::Fields {
                names: &["name", "items", "by-name", "lenient", "kind"],
                strict: true
            }
        );
        assert_eq!(at(&["by-name"]), Expect::Map);
        assert_eq!(
            at(&["by-name", "anything"]),
            Expect::Fields {
                names: &["if", "count"],
                strict: true
            }
        );
        assert_eq!(at(&["by-name", "anything", "count"]), Expect::Scalar);
        assert_eq!(
            at(&["lenient"]),
            Expect::Fields {
                names: &["a"],
                strict: false
            }
        );
        assert_eq!(at(&["kind"]), Expect::Variant(&["process", "command"]));
        assert_eq!(at(&["nothing"]), Expect::Anything);
    }

    #[test]
    fn the_probe_sees_through_spanned() {
        assert_eq!(at(&["name"]), Expect::Scalar);
        assert_eq!(at(&["items"]), Expect::List);
        assert_eq!(
            at(&["items", "*"]),
            Expect::Fields {
                names: &["if", "count"],
                strict: true
            }
        );
    }

    fn check(text: &str) -> Vec<String> {
        match read::<Outer>("f.yml", text, &[]) {
            Ok((_, errors)) => errors.iter().map(|e| e.to_string()).collect(),
            Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn every_mistake_is_found_in_one_pass() {
        let text = "\
name: x
nme: y
items:
  - { count: 1, cuont: 2 }
  - count: 3
    iff: x
by-name:
  a: { count: 1 }
  a: { count: 2, extra: 3 }
lenient: { a: x, b: y }
kind: proces
";
        let errors = check(text);
        assert_eq!(
            errors,
            [
                "f.yml:2:1: unknown field `nme`, expected one of `name`, `items`, `by-name`, `lenient`, `kind` (did you mean `name`?)",
                "f.yml:4:17: unknown field `cuont`, expected `if` or `count` (did you mean `count`?)",
                "f.yml:6:5: unknown field `iff`, expected `if` or `count` (did you mean `if`?)",
                "f.yml:9:3: duplicate key `a`: it is already set on line 8; keep one",
                "f.yml:9:18: unknown field `extra`, expected `if` or `count`",
                "f.yml:11:7: unknown variant `proces`, expected `process` or `command` (did you mean `process`?)",
            ]
        );
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_named_with_its_path() {
        let errors = check("name: [x]\nitems: one\nby-name: { a: 3 }\nlenient: x\nkind: {}\n");
        assert_eq!(
            errors,
            [
                "f.yml:1:7: `name`: expected a single value, found a list",
                "f.yml:2:8: `items`: expected a list, found a string (write `[one]` for a list of one)",
                "f.yml:3:15: `by-name.a`: expected a mapping, found a number",
                "f.yml:4:10: `lenient`: expected a mapping, found a string",
            ]
        );
    }

    #[test]
    fn the_rest_is_read_without_the_entries_at_fault() {
        let text = "\
name: x
nme: y
items: [{ cuont: 2, count: 1 }, { count: 3 }]
by-name:
  a: { count: 1 }
  a: { count: 2 }
lenient: { a: x }
kind: process
";
        let (outer, errors) = read::<Outer>("f.yml", text, &[]).unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
        let items = outer.items.unwrap().value;
        assert_eq!((items.len(), items[0].value.count, items[1].value.count), (2, 1, 3));
        assert_eq!(outer.by_name["a"].count, 1);
        assert_eq!(outer.lenient.a, "x");
    }

    #[test]
    fn without_a_readable_rest_the_mistakes_come_alone() {
        // `steps`-like: blanking the misspelt required key leaves it missing.
        let err = read::<Outer>("f.yml", "nam: x\nby-name: {}\nlenient: { a: x }\nkind: process\n", &[]);
        let err = err.map(|_| ()).unwrap_err();
        assert_eq!(err.0.len(), 1, "{err}");
        assert!(err.0[0].message.contains("(did you mean `name`?)"), "{err}");
        // Through an alias, the text is shared: it is not blanked.
        let text = "name: x\nby-name:\n  a: &x { count: 1, cuont: 2 }\n  b: *x\nlenient: { a: x }\nkind: process\n";
        let err = read::<Outer>("f.yml", text, &[]).map(|_| ()).unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
    }

    #[test]
    fn a_file_that_is_not_yaml_is_left_to_the_parser() {
        let errors = check("name: x\nitems: [unclosed\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("f.yml:"), "{errors:?}");
    }
}
