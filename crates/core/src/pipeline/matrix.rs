//! `matrix:` — a job that runs once per combination of values, including once per market.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The values of one matrix axis: a list, or `all` (for `market`: every market of the platform).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Axis {
    Values(Vec<String>),
    All(String),
}

/// More combinations than this is almost surely a mistake, and would flood the runner.
pub const MAX_COMBINATIONS: usize = 256;

/// Checks a matrix as written.
pub fn check(matrix: &BTreeMap<String, Axis>) -> Result<(), String> {
    if matrix.is_empty() {
        return Err("it has no axis".into());
    }
    let mut size = 1usize;
    for (name, axis) in matrix {
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || name.is_empty()
        {
            return Err(format!(
                "axis `{name}` is not a valid name: expected lower-case letters, digits and `_`"
            ));
        }
        match axis {
            Axis::Values(v) if v.is_empty() => return Err(format!("axis `{name}` has no value")),
            Axis::Values(v) => size = size.saturating_mul(v.len()),
            Axis::All(word) if word == "all" && name == "market" => size = size.saturating_mul(25),
            Axis::All(word) => {
                return Err(format!(
                    "axis `{name}: {word}` is not a list: only `market: all` may stand for a list"
                ));
            }
        }
    }
    if size > MAX_COMBINATIONS {
        return Err(format!("it makes {size} combinations: at most {MAX_COMBINATIONS}"));
    }
    Ok(())
}

/// Every combination of a matrix, in a stable order (axes by name, values as written);
/// `market: all` takes `markets`.
pub fn combinations(matrix: &BTreeMap<String, Axis>, markets: &[String]) -> Vec<BTreeMap<String, String>> {
    let mut out = vec![BTreeMap::new()];
    for (name, axis) in matrix {
        let values: Vec<String> = match axis {
            Axis::Values(v) => v.clone(),
            Axis::All(_) => markets.to_vec(),
        };
        out = out
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |v| {
                    let mut c = combo.clone();
                    c.insert(name.clone(), v.clone());
                    c
                })
            })
            .collect();
    }
    out
}

/// The name of one run of a matrix job: `build (fr, stable)`.
pub fn instance_name(job: &str, values: &BTreeMap<String, String>) -> String {
    if values.is_empty() {
        job.to_string()
    } else {
        format!("{job} ({})", values.values().cloned().collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_cover_every_pair_in_a_stable_order() {
        let m: BTreeMap<String, Axis> = [
            (
                "toolchain".to_string(),
                Axis::Values(vec!["stable".into(), "beta".into()]),
            ),
            ("market".to_string(), Axis::All("all".into())),
        ]
        .into();
        let combos = combinations(&m, &["fr".into(), "be".into()]);
        assert_eq!(combos.len(), 4);
        assert_eq!(instance_name("test", &combos[0]), "test (fr, stable)");
        assert_eq!(instance_name("test", &combos[3]), "test (be, beta)");
        assert!(check(&m).is_ok());
    }

    #[test]
    fn bad_matrices_are_explained() {
        let m: BTreeMap<String, Axis> = [("os".to_string(), Axis::All("all".into()))].into();
        assert!(check(&m).unwrap_err().contains("only `market: all`"));
        let m: BTreeMap<String, Axis> = [("os".to_string(), Axis::Values(vec![]))].into();
        assert!(check(&m).unwrap_err().contains("has no value"));
        let big: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let m: BTreeMap<String, Axis> = [
            ("a".to_string(), Axis::Values(big.clone())),
            ("b".to_string(), Axis::Values(big)),
        ]
        .into();
        assert!(check(&m).unwrap_err().contains("400 combinations"));
    }
}
