//! JSON pointers (RFC 6901) for config values, and the dotted form people read.
//!
//! A config is a tree of objects; its *leaves* are the values that are not objects, plus empty
//! objects. Arrays are leaves too: a layer replaces an array whole, it never merges one.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One step of a path: a key in an object or an index in an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Appends `/key` to a pointer, escaping `~` and `/` as RFC 6901 says.
pub fn push_key(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&escape(key));
}

fn escape(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

/// The keys of a pointer, unescaped: `/payment/provider` → `["payment", "provider"]`.
pub fn split_pointer(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The pointer of a path: `[payment, methods, 0]` → `/payment/methods/0`.
pub fn pointer_of(segments: &[Segment]) -> String {
    let mut pointer = String::new();
    for s in segments {
        match s {
            Segment::Key(k) => push_key(&mut pointer, k),
            Segment::Index(i) => {
                let _ = write!(pointer, "/{i}");
            }
        }
    }
    pointer
}

/// The dotted form of a path: `payment.methods[0]`; a key that is not a plain word is quoted:
/// `labels["fr-BE.name"]`. The root is the empty string.
pub fn dotted_of(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Key(k) if is_word(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Key(k) => {
                let quoted = serde_json::to_string(k).unwrap_or_else(|_| format!("\"{k}\""));
                let _ = write!(out, "[{quoted}]");
            }
            Segment::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// The dotted form of a pointer whose every segment is an object key (as leaf pointers are).
pub fn dotted(pointer: &str) -> String {
    let segments: Vec<Segment> = split_pointer(pointer).into_iter().map(Segment::Key).collect();
    dotted_of(&segments)
}

fn is_word(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every leaf of `value` by pointer. A value that is not an object is one leaf at the root (`""`);
/// an empty object at the root has no leaves.
pub fn leaves(value: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    match value {
        Value::Object(map) => collect_leaves(map, &mut String::new(), &mut out),
        other => {
            out.insert(String::new(), other);
        }
    }
    out
}

fn collect_leaves<'a>(map: &'a Map<String, Value>, pointer: &mut String, out: &mut BTreeMap<String, &'a Value>) {
    for (key, value) in map {
        let len = pointer.len();
        push_key(pointer, key);
        match value {
            Value::Object(child) if !child.is_empty() => collect_leaves(child, pointer, out),
            leaf => {
                out.insert(pointer.clone(), leaf);
            }
        }
        pointer.truncate(len);
    }
}

/// Sets the value at `pointer`, making objects on the way (a non-object in the way is replaced).
/// The empty pointer replaces the whole value.
pub fn set_at(root: &mut Value, pointer: &str, value: Value) {
    let keys = split_pointer(pointer);
    let Some((last, parents)) = keys.split_last() else {
        *root = value;
        return;
    };
    let mut node = root;
    for key in parents {
        node = object_mut(node)
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    object_mut(node).insert(last.clone(), value);
}

fn object_mut(node: &mut Value) -> &mut Map<String, Value> {
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    match node {
        Value::Object(map) => map,
        _ => unreachable!("made an object just above"),
    }
}

/// Removes the value at `pointer`, then the objects above it that this left empty (never the
/// root). The empty pointer leaves an empty object.
pub fn remove_at(root: &mut Value, pointer: &str) {
    let keys = split_pointer(pointer);
    if keys.is_empty() {
        *root = Value::Object(Map::new());
        return;
    }
    remove_keys(root, &keys);
}

/// Removes `keys` under `node`; true when `node` is an object left empty by it.
fn remove_keys(node: &mut Value, keys: &[String]) -> bool {
    let (Some((first, rest)), Value::Object(map)) = (keys.split_first(), node) else {
        return false;
    };
    if rest.is_empty() {
        map.remove(first);
    } else if let Some(child) = map.get_mut(first)
        && remove_keys(child, rest)
    {
        map.remove(first);
    }
    map.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_escape_and_dotted_paths_quote_odd_keys() {
        let segments = [
            Segment::Key("labels".into()),
            Segment::Key("a/b~c".into()),
            Segment::Key("fr-BE.name".into()),
            Segment::Index(2),
        ];
        assert_eq!(pointer_of(&segments), "/labels/a~1b~0c/fr-BE.name/2");
        assert_eq!(dotted_of(&segments), r#"labels["a/b~c"]["fr-BE.name"][2]"#);
        assert_eq!(split_pointer("/labels/a~1b~0c"), ["labels", "a/b~c"]);
        assert_eq!(dotted("/payment/provider"), "payment.provider");
        assert_eq!(dotted(""), "");
    }

    #[test]
    fn leaves_are_non_objects_and_empty_objects() {
        let v = json!({"a": {"b": 1, "c": {}}, "d": [1, {"e": 2}], "f": null});
        let l = leaves(&v);
        assert_eq!(l.keys().collect::<Vec<_>>(), ["/a/b", "/a/c", "/d", "/f"]);
        assert_eq!(leaves(&json!(5)).keys().collect::<Vec<_>>(), [""]);
        assert!(leaves(&json!({})).is_empty());
    }

    #[test]
    fn set_makes_parents_and_remove_prunes_them() {
        let mut v = json!({"x": 1});
        set_at(&mut v, "/x/y/z", json!(2));
        assert_eq!(v, json!({"x": {"y": {"z": 2}}}));
        set_at(&mut v, "/w", json!(true));
        remove_at(&mut v, "/x/y/z");
        assert_eq!(v, json!({"w": true}));
        remove_at(&mut v, "/nope/deeper");
        assert_eq!(v, json!({"w": true}));
        remove_at(&mut v, "");
        assert_eq!(v, json!({}));
    }
}
