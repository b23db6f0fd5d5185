//! Rollout planning and the gate's decision, as pure functions.

use crate::platform::Platform;
use serde::Serialize;

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
    let rest: Vec<String> = platform
        .markets
        .iter()
        .filter(|m| !platform.waves.iter().any(|w| w.markets.contains(&m.id)))
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
