//! Rollout planning and the gate's decision, as pure functions.

use crate::error::{Collector, Key};
use crate::platform::Platform;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashSet};

/// Markets deploying at once across every rollout, unless the platform file's
/// `rollouts.max-parallel` says otherwise: enough to overlap many services' rollouts, few enough
/// that a server's deploy commands do not swamp its machine.
pub const DEFAULT_MAX_PARALLEL: u32 = 64;
/// Largest limit the platform file may set: more processes at once than this is a mistake.
pub const MAX_LIMIT: u32 = 4096;

/// A market's states in a rollout, worst first, as a rollout's page and API name them.
pub const MARKET_STATES: [&str; 9] = [
    "failed",
    "blocked",
    "deploying",
    "waiting",
    "live",
    "skipped",
    "superseded",
    "unchanged",
    "not reached",
];

/// How many markets deploy at once: the platform file's `rollouts` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutLimits {
    /// Markets deploying at once, every rollout together (`None`: [`DEFAULT_MAX_PARALLEL`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// Markets of one service deploying at once (`None`: the server's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_service: Option<u32>,
    /// Per service, instead of `per_service`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, u32>,
}

impl RolloutLimits {
    /// Markets deploying at once across every rollout.
    pub fn max_parallel(&self) -> usize {
        self.max_parallel.unwrap_or(DEFAULT_MAX_PARALLEL) as usize
    }

    /// Markets of `service` deploying at once; `default` when the file sets nothing for it.
    pub fn for_service(&self, service: &str, default: usize) -> usize {
        self.services
            .get(service)
            .or(self.per_service.as_ref())
            .map_or(default, |n| *n as usize)
    }
}

/// The `rollouts` section as written, with where each value is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRolloutLimits {
    #[serde(default)]
    max_parallel: Option<Spanned<i64>>,
    #[serde(default)]
    per_service: Option<Spanned<i64>>,
    #[serde(default)]
    services: BTreeMap<Key, Spanned<i64>>,
}

/// Checks the `rollouts` section: every limit a whole number from 1 to [`MAX_LIMIT`], every
/// service named under `services` declared.
pub(crate) fn check_limits(
    raw: Option<RawRolloutLimits>,
    services: &[&str],
    errors: &mut Collector<'_>,
) -> RolloutLimits {
    let Some(raw) = raw else {
        return RolloutLimits::default();
    };
    let mut limit = |what: &str, n: &Spanned<i64>| match u32::try_from(n.value) {
        Ok(v) if (1..=MAX_LIMIT).contains(&v) => Some(v),
        _ => {
            errors.push(
                &n.referenced,
                format!(
                    "rollouts: `{what}` is {}: expected a number of markets deploying at once, from 1 to {MAX_LIMIT}",
                    n.value
                ),
            );
            None
        }
    };
    let max_parallel = raw.max_parallel.as_ref().and_then(|n| limit("max-parallel", n));
    let per_service = raw.per_service.as_ref().and_then(|n| limit("per-service", n));
    let mut limits = BTreeMap::new();
    for (Key(name), n) in &raw.services {
        if let Some(v) = limit(&format!("services.{}", name.value), n) {
            limits.insert(name.value.clone(), v);
        }
    }
    for Key(name) in raw.services.keys() {
        if !services.contains(&name.value.as_str()) {
            errors.push(
                &name.referenced,
                format!(
                    "rollouts: `services` names unknown service `{}`{}: expected one of the platform's services",
                    name.value,
                    crate::names::did_you_mean(&name.value, services)
                ),
            );
        }
    }
    RolloutLimits {
        max_parallel,
        per_service,
        services: limits,
    }
}

/// One wave of a rollout plan: the markets it deploys, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedWave {
    pub name: String,
    pub markets: Vec<String>,
}

/// The waves a release goes through: the platform's waves in order, then one last wave holding
/// every market that no wave names, so no market is forgotten.
pub fn plan_waves(platform: &Platform) -> Vec<PlannedWave> {
    let mut plan: Vec<PlannedWave> = platform
        .waves
        .iter()
        .map(|w| PlannedWave {
            name: w.name.clone(),
            markets: w.markets.clone(),
        })
        .collect();
    let placed: HashSet<&str> = platform
        .waves
        .iter()
        .flat_map(|w| w.markets.iter().map(String::as_str))
        .collect();
    let rest: Vec<String> = platform
        .markets
        .iter()
        .filter(|m| !placed.contains(m.id.as_str()))
        .map(|m| m.id.clone())
        .collect();
    if !rest.is_empty() {
        plan.push(PlannedWave {
            name: "rest".to_string(),
            markets: rest,
        });
    }
    plan
}

/// A probe's running tally and its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeTally {
    pub consecutive_successes: u32,
    pub consecutive_failures: u32,
}

/// What the gate decides after a probe answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeVerdict {
    Healthy,
    Unhealthy,
    Pending,
}

impl ProbeTally {
    /// Records one probe answer and decides: healthy after `successes` in a row, unhealthy after
    /// `failures` in a row, otherwise keep probing.
    pub fn record(&mut self, ok: bool, successes: u32, failures: u32) -> ProbeVerdict {
        if ok {
            self.consecutive_successes += 1;
            self.consecutive_failures = 0;
        } else {
            self.consecutive_failures += 1;
            self.consecutive_successes = 0;
        }
        if self.consecutive_successes >= successes.max(1) {
            ProbeVerdict::Healthy
        } else if self.consecutive_failures >= failures.max(1) {
            ProbeVerdict::Unhealthy
        } else {
            ProbeVerdict::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::parse_platform;

    #[test]
    fn markets_outside_every_wave_go_last() {
        let p = parse_platform(
            "p.yml",
            "markets:
  - { id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: de, name: Germany, region: c, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
waves:
  - { name: pilot, markets: [fr] }
",
        )
        .unwrap();
        let plan = plan_waves(&p);
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[1].markets, ["de"]);
    }

    const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
services:
  - { name: shop, repo: ./shop }
  - { name: api, repo: ./api }
";

    #[test]
    fn rollout_limits_apply_per_service_then_to_all() {
        let p = parse_platform("p.yml", PLATFORM).unwrap();
        assert_eq!(p.rollouts.max_parallel(), DEFAULT_MAX_PARALLEL as usize);
        assert_eq!(p.rollouts.for_service("shop", 8), 8);
        let text = format!("{PLATFORM}rollouts: {{ max-parallel: 20, per-service: 4, services: {{ api: 12 }} }}\n");
        let p = parse_platform("p.yml", &text).unwrap();
        assert_eq!(p.rollouts.max_parallel(), 20);
        assert_eq!(p.rollouts.for_service("shop", 8), 4);
        assert_eq!(p.rollouts.for_service("api", 8), 12);
    }

    #[test]
    fn a_bad_rollout_limit_is_named_with_its_place() {
        let text = format!(
            "{PLATFORM}rollouts:\n  max-parallel: 0\n  per-service: 100000\n  services: {{ shpo: 2 }}\n  parallel: 3\n"
        );
        let err = parse_platform("p.yml", &text).unwrap_err().to_string();
        for expected in [
            "p.yml:7:17: rollouts: `max-parallel` is 0: expected a number of markets deploying at once, from 1 to 4096",
            "p.yml:8:16: rollouts: `per-service` is 100000",
            "p.yml:9:15: rollouts: `services` names unknown service `shpo` (did you mean `shop`?)",
            "parallel",
        ] {
            assert!(err.contains(expected), "{expected} not in: {err}");
        }
    }

    #[test]
    fn one_flaky_answer_does_not_fail_the_gate() {
        let mut t = ProbeTally::default();
        assert_eq!(t.record(false, 2, 2), ProbeVerdict::Pending);
        assert_eq!(t.record(true, 2, 2), ProbeVerdict::Pending);
        assert_eq!(t.record(true, 2, 2), ProbeVerdict::Healthy);
        let mut t = ProbeTally::default();
        t.record(false, 2, 2);
        assert_eq!(t.record(false, 2, 2), ProbeVerdict::Unhealthy);
    }
}

/// What a rollout of a release would do in one market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMarket {
    pub market: String,
    /// The release it runs now, if any.
    pub current: Option<String>,
    /// deploy, or already there.
    pub action: String,
    /// Why it could not be deployed now; empty when nothing stands in the way.
    pub blockers: Vec<String>,
}

/// One wave of a release plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedWaveMarkets {
    pub name: String,
    pub markets: Vec<PlannedMarket>,
}

/// What rolling `version` out would do: for each wave and market, what runs there now, whether
/// it would change, and what would block it (`blockers_for` gives a market's own blockers;
/// `global` ones block every market).
pub fn plan_release(
    waves: &[PlannedWave],
    current: &std::collections::HashMap<String, String>,
    version: &str,
    global: &[String],
) -> Vec<PlannedWaveMarkets> {
    waves
        .iter()
        .map(|w| PlannedWaveMarkets {
            name: w.name.clone(),
            markets: w
                .markets
                .iter()
                .map(|m| {
                    let now = current.get(m).cloned();
                    let there = now.as_deref() == Some(version);
                    PlannedMarket {
                        market: m.clone(),
                        current: now,
                        action: if there { "already there" } else { "deploy" }.into(),
                        blockers: if there { Vec::new() } else { global.to_vec() },
                    }
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    #[test]
    fn a_plan_says_what_changes_where_and_what_blocks_it() {
        let waves = [
            PlannedWave {
                name: "pilot".into(),
                markets: vec!["fr".into()],
            },
            PlannedWave {
                name: "rest".into(),
                markets: vec!["be".into(), "de".into()],
            },
        ];
        let current = [
            ("fr".to_string(), "v2".to_string()),
            ("be".to_string(), "v1".to_string()),
        ]
        .into();
        let plan = plan_release(&waves, &current, "v2", &["rollout 4 is in progress".into()]);
        assert_eq!(plan[0].markets[0].action, "already there");
        assert!(plan[0].markets[0].blockers.is_empty());
        assert_eq!(plan[1].markets[0].current.as_deref(), Some("v1"));
        assert_eq!(plan[1].markets[1].current, None);
        assert_eq!(plan[1].markets[1].blockers, ["rollout 4 is in progress"]);
    }
}
