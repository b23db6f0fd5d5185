//! A YAML document as a tree that keeps every key (even one written twice) and every place,
//! and the blanking out of entries: replaced by spaces, so that every other place keeps its
//! line and column, and checked by reading the result again.

use serde::de::{self, Visitor};
use serde_saphyr::{Location, Spanned};
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

/// A YAML node and where it was written.
#[derive(Debug)]
pub(crate) struct Node {
    pub(super) at: Location,
    pub(super) value: Value,
}

#[derive(Debug)]
pub(crate) enum Value {
    Map(Vec<(Spanned<String>, Node)>),
    List(Vec<Node>),
    /// Its text, and what it reads as: "a string", "a number", "a boolean".
    Scalar(String, &'static str),
    Null,
}

impl<'de> de::Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Spanned<Value> as de::Deserialize>::deserialize(d)?;
        Ok(Node {
            at: s.referenced,
            value: s.value,
        })
    }
}

impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a boolean"))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a number"))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a number"))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a number"))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a number"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a number"))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a string"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string(), "a string"))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Scalar(String::from_utf8_lossy(v).into_owned(), "a string"))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((Spanned::new(key.value.0, key.referenced, key.defined), value));
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key written as any scalar, as text.
struct KeyText(String);

impl<'de> de::Deserialize<'de> for KeyText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Scalar(text, _) => Ok(KeyText(text)),
            Value::Null => Ok(KeyText("null".into())),
            _ => Err(de::Error::custom("a mapping or list as a key")),
        }
    }
}

/// Reads the document as a tree, keeping every key, even one written twice.
pub(super) fn read_tree(text: &str) -> Result<Node, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::PassThrough,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options)
}

/// An entry to blank out: its bytes, and where its key starts.
#[derive(Debug)]
pub(super) struct Removed {
    pub range: Range<usize>,
    pub key: usize,
}

/// `text` with the entries in `removed` blanked out, if it then reads as `doc` without them.
pub(super) fn without(text: &str, doc: &Node, removed: &[Removed]) -> Option<String> {
    let rest: String = text
        .char_indices()
        .map(|(i, c)| {
            let blank = c != '\n' && c != '\r' && removed.iter().any(|r| r.range.contains(&i));
            if blank { ' ' } else { c }
        })
        .collect();
    let keys: HashSet<usize> = removed.iter().map(|r| r.key).collect();
    let reread = read_tree(&rest).ok()?;
    same(doc, &reread, &keys).then_some(rest)
}

/// Whether `b` is `a` without the entries whose keys start at `removed`.
fn same(a: &Node, b: &Node, removed: &HashSet<usize>) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(x), y) => {
            let kept: Vec<_> = x
                .iter()
                .filter(|(k, _)| byte_offset(&k.referenced).is_none_or(|o| !removed.contains(&o)))
                .collect();
            match y {
                Value::Map(y) => {
                    kept.len() == y.len()
                        && kept
                            .iter()
                            .zip(y)
                            .all(|((k1, v1), (k2, v2))| k1.value == k2.value && same(v1, v2, removed))
                }
                Value::Null => kept.is_empty(),
                _ => false,
            }
        }
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b, removed)),
        (Value::Scalar(t1, k1), Value::Scalar(t2, k2)) => t1 == t2 && k1 == k2,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// The bytes of an entry: its key, its `:`, its value and, in flow style, the comma after.
pub(super) fn entry_range(text: &str, key: &Spanned<String>, value: &Node, flow: bool) -> Option<Range<usize>> {
    let start = byte_offset(&key.referenced)?;
    let key_end = byte_end(&key.referenced)?;
    let mut end = node_end(text, value)?.max(key_end);
    let colon = skip(text, key_end, b" \t");
    if text.as_bytes().get(colon) == Some(&b':') {
        end = end.max(colon + 1);
    }
    if flow {
        let comma = skip(text, end, b" \t\r\n");
        if text.as_bytes().get(comma) == Some(&b',') {
            end = comma + 1;
        }
    }
    Some(start..end)
}

/// Where a node's text ends: its last descendant, and a flow collection's closing bracket.
fn node_end(text: &str, node: &Node) -> Option<usize> {
    let start = byte_offset(&node.at)?;
    let mut end = byte_end(&node.at)?;
    let close = match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                end = end.max(byte_end(&k.referenced)?).max(node_end(text, v)?);
            }
            b'}'
        }
        Value::List(items) => {
            for item in items {
                end = end.max(node_end(text, item)?);
            }
            b']'
        }
        Value::Scalar(..) | Value::Null => return Some(end),
    };
    if !is_flow(text, node) {
        return Some(end);
    }
    // Between the last item and the bracket: blanks, commas, a `:` with no value, comments.
    let mut at = end.max(start + 1);
    loop {
        at = skip(text, at, b" \t\r\n,:");
        match text.as_bytes().get(at) {
            Some(&b'#') => at = text[at..].find('\n').map_or(text.len(), |n| at + n),
            Some(&c) if c == close => return Some(at + 1),
            _ => return None,
        }
    }
}

pub(super) fn is_flow(text: &str, node: &Node) -> bool {
    let at = byte_offset(&node.at).and_then(|o| text.as_bytes().get(o));
    match node.value {
        Value::Map(_) => at == Some(&b'{'),
        Value::List(_) => at == Some(&b'['),
        _ => false,
    }
}

pub(super) fn byte_offset(at: &Location) -> Option<usize> {
    at.span().byte_offset().and_then(|o| usize::try_from(o).ok())
}

fn byte_end(at: &Location) -> Option<usize> {
    Some(byte_offset(at)? + usize::try_from(at.span().byte_len()?).ok()?)
}

/// The first byte at or after `from` that is not one of `bytes`.
fn skip(text: &str, from: usize, bytes: &[u8]) -> usize {
    text.as_bytes()
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| !bytes.contains(b)))
        .map_or(text.len(), |n| from + n)
}
