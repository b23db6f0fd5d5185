//! Config layers as a folder of files, for teams that keep config in git:
//!
//! ```text
//! defaults.yml            the defaults layer
//! regions/benelux.yml     one file per region
//! markets/nl.yml          one file per market
//! ```
//!
//! Each file is a YAML (`.yml`, `.yaml`) or JSON (`.json`) mapping. Reading refuses any other
//! file, a file that is not a mapping, and a layer given twice (`nl.yml` and `nl.json`), naming
//! the file, with the line and column of a syntax error.

use crate::platform::ConfigLayers;
use serde_json::{Map, Value};

/// Reads layers from `(relative path, text)` pairs. Every problem is returned at once.
pub fn layers_from_files(files: &[(String, String)]) -> Result<ConfigLayers, Vec<String>> {
    let mut layers = ConfigLayers::default();
    let mut defaults_seen = false;
    let mut errors = Vec::new();
    for (path, text) in files {
        let Some((place, name)) = classify(path) else {
            errors.push(format!(
                "{path}: not a config layer: expected `defaults.yml`, `regions/REGION.yml` or `markets/MARKET.yml` (or .yaml, .json)"
            ));
            continue;
        };
        let map = match parse(path, text) {
            Ok(map) => map,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let twice = match place {
            Place::Defaults => std::mem::replace(&mut defaults_seen, true),
            Place::Region => layers.regions.contains_key(name),
            Place::Market => layers.markets.contains_key(name),
        };
        if twice {
            errors.push(format!("{path}: this layer is given by another file too"));
            continue;
        }
        match place {
            Place::Defaults => layers.defaults = map,
            Place::Region => {
                layers.regions.insert(name.to_string(), map);
            }
            Place::Market => {
                layers.markets.insert(name.to_string(), map);
            }
        }
    }
    if errors.is_empty() { Ok(layers) } else { Err(errors) }
}

/// Writes layers as `(relative path, YAML text)` pairs, in the layout [`layers_from_files`]
/// reads. Empty region and market layers are left out.
pub fn layers_to_files(layers: &ConfigLayers) -> Vec<(String, String)> {
    let yaml = |map: &Map<String, Value>| {
        if map.is_empty() {
            "{}\n".to_string()
        } else {
            serde_saphyr::to_string(map).unwrap_or_else(|_| format!("{}\n", Value::Object(map.clone())))
        }
    };
    let mut files = vec![("defaults.yml".to_string(), yaml(&layers.defaults))];
    for (region, map) in layers.regions.iter().filter(|(_, m)| !m.is_empty()) {
        files.push((format!("regions/{region}.yml"), yaml(map)));
    }
    for (market, map) in layers.markets.iter().filter(|(_, m)| !m.is_empty()) {
        files.push((format!("markets/{market}.yml"), yaml(map)));
    }
    files
}

/// Sets `path` (dotted: `payment.provider`) in a layer to `value`, creating the objects on the
/// way; refused when the path is empty or crosses a value that is not an object.
pub fn set_dotted(layer: &mut Map<String, Value>, path: &str, value: Value) -> Result<(), String> {
    let keys: Vec<&str> = path.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!(
            "`{path}` is not a key path: expected keys joined by dots, such as `payment.provider`"
        ));
    }
    let (last, parents) = keys.split_last().expect("split gives at least one key");
    let mut map = layer;
    for (i, key) in parents.iter().enumerate() {
        let slot = map.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
        map = match slot {
            Value::Object(inner) => inner,
            other => {
                return Err(format!(
                    "`{}` is {}, not an object: `{path}` cannot be set under it",
                    keys[..=i].join("."),
                    super::problem::describe_found(Some(other))
                ));
            }
        };
    }
    map.insert(last.to_string(), value);
    Ok(())
}

#[derive(Clone, Copy)]
enum Place {
    Defaults,
    Region,
    Market,
}

fn classify(path: &str) -> Option<(Place, &str)> {
    let path = path.strip_prefix("./").unwrap_or(path);
    if let Some(rest) = path.strip_prefix("regions/") {
        return stem(rest).map(|r| (Place::Region, r));
    }
    if let Some(rest) = path.strip_prefix("markets/") {
        return stem(rest).map(|m| (Place::Market, m));
    }
    stem(path).filter(|s| *s == "defaults").map(|s| (Place::Defaults, s))
}

/// A file name without its extension, when it is a YAML or JSON file in that very folder.
fn stem(file: &str) -> Option<&str> {
    [".yml", ".yaml", ".json"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .filter(|s| !s.is_empty() && !s.contains('/'))
}

fn parse(path: &str, text: &str) -> Result<Map<String, Value>, String> {
    let value: Value = if path.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| format!("{path}:{}:{}: {e}", e.line(), e.column()))?
    } else if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_saphyr::from_str(text).map_err(|e| format!("{path}: {e}"))?
    };
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(format!(
            "{path}: expected a mapping of config keys, found {}",
            super::problem::describe_found(Some(&other))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect()
    }

    #[test]
    fn a_folder_round_trips() {
        let layers = layers_from_files(&files(&[
            ("defaults.yml", "vat_rate: 0.2\npayment:\n  provider: adyen\n"),
            ("regions/benelux.json", r#"{"payment": {"provider": "mollie"}}"#),
            ("markets/nl.yaml", "vat_rate: 0.21\n"),
        ]))
        .unwrap();
        assert_eq!(layers.defaults["payment"], json!({"provider": "adyen"}));
        assert_eq!(layers.regions["benelux"]["payment"]["provider"], "mollie");
        assert_eq!(layers.markets["nl"]["vat_rate"], 0.21);
        let written = layers_to_files(&layers);
        assert_eq!(
            written.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["defaults.yml", "regions/benelux.yml", "markets/nl.yml"]
        );
        assert_eq!(layers_from_files(&written).unwrap(), layers);
    }

    #[test]
    fn a_dotted_path_is_set_inside_its_objects() {
        let mut layer = json!({"payment": {"provider": "adyen"}, "vat_rate": 0.2})
            .as_object()
            .cloned()
            .unwrap();
        set_dotted(&mut layer, "payment.provider", json!("stripe")).unwrap();
        set_dotted(&mut layer, "shipping.free_over", json!(40)).unwrap();
        assert_eq!(
            Value::Object(layer.clone()),
            json!({"payment": {"provider": "stripe"}, "vat_rate": 0.2, "shipping": {"free_over": 40}})
        );
        assert_eq!(
            set_dotted(&mut layer, "vat_rate.x", json!(1)).unwrap_err(),
            "`vat_rate` is 0.2 (number), not an object: `vat_rate.x` cannot be set under it"
        );
        assert!(set_dotted(&mut layer, "a..b", json!(1)).is_err());
    }

    #[test]
    fn every_bad_file_is_named() {
        let errors = layers_from_files(&files(&[
            ("defaults.yml", "- a list\n"),
            ("markets/nl.yml", "vat_rate: [\n"),
            ("markets/nl.json", "{}"),
            ("notes.txt", "hello"),
            ("regions/benelux.json", "{\"a\": }"),
        ]))
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_eq!(
            errors[0],
            "defaults.yml: expected a mapping of config keys, found [\"a list\"] (array)"
        );
        assert!(errors[1].starts_with("markets/nl.yml: "), "{}", errors[1]);
        assert!(errors[2].starts_with("notes.txt: not a config layer"), "{}", errors[2]);
        assert!(errors[3].starts_with("regions/benelux.json:1:7: "), "{}", errors[3]);
    }
}
