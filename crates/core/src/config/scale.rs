//! The issue's measure: resolve and validate the config of 25 markets × 500 keys.
//! `cargo test -p tandem-core --release --lib config::scale -- --ignored --nocapture` prints
//! the time per full check (figures go to docs/benchmarks.md; no test asserts a time).

use super::tests::market;
use super::*;
use crate::platform::{ConfigLayers, Market};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MARKETS: usize = 25;
const REGIONS: usize = 5;
const GROUPS: usize = 50;
const KEYS_PER_GROUP: usize = 10;

fn value(group: usize, key: usize, salt: usize) -> Value {
    match key % 3 {
        0 => json!((group * key + salt) % 100),
        1 => json!(format!("v{}", (group + key + salt) % 7)),
        _ => json!(salt.is_multiple_of(2)),
    }
}

/// 50 groups of 10 keys; each region overrides 100 leaves, each market 20.
fn layers() -> (ConfigLayers, Vec<Market>) {
    let group = |salt: usize, every: usize| {
        let mut root = serde_json::Map::new();
        for g in 0..GROUPS {
            let mut keys = serde_json::Map::new();
            for k in (0..KEYS_PER_GROUP).filter(|k| (g * KEYS_PER_GROUP + k + salt).is_multiple_of(every)) {
                keys.insert(format!("key_{k}"), value(g, k, salt));
            }
            if !keys.is_empty() {
                root.insert(format!("group_{g}"), Value::Object(keys));
            }
        }
        root
    };
    let markets: Vec<Market> = (0..MARKETS)
        .map(|i| market(&format!("m{i:02}"), &format!("r{}", i % REGIONS)))
        .collect();
    let layers = ConfigLayers {
        defaults: group(0, 1),
        regions: (0..REGIONS).map(|r| (format!("r{r}"), group(r + 1, 5))).collect(),
        markets: markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), group(i + 7, 25)))
            .collect(),
    };
    (layers, markets)
}

fn schema() -> ConfigSchema {
    let mut properties = serde_json::Map::new();
    for g in 0..GROUPS {
        let mut keys = serde_json::Map::new();
        for k in 0..KEYS_PER_GROUP {
            let rule = match k % 3 {
                0 => json!({"type": "integer", "minimum": 0, "maximum": 99}),
                1 => json!({"type": "string", "enum": ["v0", "v1", "v2", "v3", "v4", "v5", "v6"]}),
                _ => json!({"type": "boolean"}),
            };
            keys.insert(format!("key_{k}"), rule);
        }
        let required: Vec<String> = (0..KEYS_PER_GROUP).map(|k| format!("key_{k}")).collect();
        properties.insert(
            format!("group_{g}"),
            json!({"type": "object", "additionalProperties": false, "required": required, "properties": keys}),
        );
    }
    let document = json!({"type": "object", "required": ["group_0"], "properties": properties});
    match ConfigSchema::compile("scale/schema.json", document) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn twenty_five_markets_of_five_hundred_keys_resolve_and_validate() {
    let (layers, markets) = layers();
    let schema = schema();
    let resolved = resolve_all(&layers, &markets);
    assert_eq!(resolved.len(), MARKETS);
    for r in &resolved {
        let config_leaves = r.origins.len() - MARKET_FACTS.len();
        assert_eq!(config_leaves, GROUPS * KEYS_PER_GROUP, "{}", r.market);
    }
    let overridden = resolved[3].origins.values().filter(|o| **o == Origin::Override).count();
    assert_eq!(overridden, GROUPS * KEYS_PER_GROUP / 25);
    let check = check_release("v1", &schema, &resolved);
    assert_eq!(check.ready.len(), MARKETS, "{check}");

    let mut broken = layers.clone();
    broken
        .markets
        .insert("m07".into(), tests::obj(json!({"group_42": {"key_3": "many"}})));
    let check = check_release("v2", &schema, &resolve_all(&broken, &markets));
    assert_eq!(
        check.lines(),
        [r#"m07: `group_42.key_3` is "many" (string), v2's schema expects integer"#]
    );
}

/// Best of `runs`: the steady-state cost, apart from a cold first run.
fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
#[ignore = "prints timings; run with --release --ignored --nocapture"]
fn time_a_full_check_of_25_markets_by_500_keys() {
    let (layers, markets) = layers();
    let compile = best(5, || {
        schema();
    });
    let schema = schema();
    let resolve = best(20, || {
        std::hint::black_box(resolve_all(&layers, &markets));
    });
    let resolved = resolve_all(&layers, &markets);
    let validate = best(20, || {
        std::hint::black_box(check_release("v1", &schema, &resolved));
    });
    let full = best(20, || {
        let resolved = resolve_all(&layers, &markets);
        std::hint::black_box(check_release("v1", &schema, &resolved));
    });
    let mut proposed = layers.clone();
    proposed
        .regions
        .insert("r2".into(), tests::obj(json!({"group_1": {"key_1": "v6"}})));
    let change = best(20, || {
        std::hint::black_box(check_change(&layers, &proposed, &markets, |_| Some(&schema)));
    });
    println!(
        "config check, {MARKETS} markets x {} keys (best of 20):",
        GROUPS * KEYS_PER_GROUP
    );
    println!("  compile schema once:        {compile:?}");
    println!("  resolve all markets:        {resolve:?}");
    println!("  validate all markets:       {validate:?}");
    println!("  full check (resolve+valid): {full:?}");
    println!("  check a region change:      {change:?}");
}
