//! An idea's way to production, as timed stages: created → first commit → green pipeline →
//! release → pilot market → every target market, and where it stands now. Pure: the store
//! loads the facts (the commit graph, green runs, releases, arrivals, live releases), this
//! module only reads them. docs/metrics.md ("Idea to production") gives every definition.
//!
//! Invariants:
//! - A run or a release *contains* the idea when its commit reaches one of the idea's commits
//!   through parents in the recorded history (the same rule as an idea's `live_in`).
//! - A market's *arrival* times come only from the commits each deployment brought to its
//!   market (`deployment_commits`: `git rev-list NEW ^OLD` once the market is live), the same
//!   record DORA's lead time reads, so the two never disagree.
//! - A stage, once reached, stays reached: a rollback changes `now`, not the history.
//! - Durations are never negative: a commit written before its idea was filed waited 0.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Created,
    FirstCommit,
    GreenPipeline,
    Release,
    Pilot,
    AllTargets,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Created,
        Stage::FirstCommit,
        Stage::GreenPipeline,
        Stage::Release,
        Stage::Pilot,
        Stage::AllTargets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Created => "created",
            Stage::FirstCommit => "first_commit",
            Stage::GreenPipeline => "green_pipeline",
            Stage::Release => "release",
            Stage::Pilot => "pilot",
            Stage::AllTargets => "all_targets",
        }
    }
}

/// A commit of a service's recorded history.
#[derive(Debug, Clone)]
pub struct GraphCommit {
    pub service: String,
    pub sha: String,
    pub parents: Vec<String>,
}

/// A run that finished green.
#[derive(Debug, Clone)]
pub struct GreenRun {
    pub id: i64,
    pub service: String,
    pub sha: String,
    pub finished_at: i64,
}

/// A release: built from one commit.
#[derive(Debug, Clone)]
pub struct FlowRelease {
    pub service: String,
    pub version: String,
    pub sha: String,
    pub created_at: i64,
}

/// What a market runs now: its live deployment's release.
#[derive(Debug, Clone)]
pub struct LiveRelease {
    pub service: String,
    pub market: String,
    pub version: String,
    pub sha: String,
    /// When that deployment went live.
    pub since: i64,
}

/// What every idea's flow is read against: the platform, the recorded histories, the green
/// runs, the releases and what each market runs now. Built once for any number of ideas.
#[derive(Debug, Default)]
pub struct FlowContext {
    /// Every market of the platform, in the platform's order.
    pub markets: Vec<String>,
    /// The markets of the first wave.
    pub pilot: Vec<String>,
    pub runs: Vec<GreenRun>,
    pub releases: Vec<FlowRelease>,
    pub live: Vec<LiveRelease>,
    /// service → commit → the commits whose parent it is.
    children: HashMap<String, HashMap<String, Vec<String>>>,
}

impl FlowContext {
    pub fn new(
        markets: Vec<String>,
        pilot: Vec<String>,
        history: &[GraphCommit],
        runs: Vec<GreenRun>,
        releases: Vec<FlowRelease>,
        live: Vec<LiveRelease>,
    ) -> Self {
        let mut children: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
        for c in history {
            let graph = children.entry(c.service.clone()).or_default();
            for p in &c.parents {
                graph.entry(p.clone()).or_default().push(c.sha.clone());
            }
        }
        Self {
            markets,
            pilot,
            runs,
            releases,
            live,
            children,
        }
    }

    /// `(service, sha)` of every recorded commit that contains one of `roots`: the roots and
    /// their descendants.
    fn containing<'a>(&'a self, roots: &'a [IdeaCommit]) -> HashSet<(&'a str, &'a str)> {
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let mut stack: Vec<(&str, &str)> = roots.iter().map(|c| (c.service.as_str(), c.sha.as_str())).collect();
        while let Some((service, sha)) = stack.pop() {
            if !seen.insert((service, sha)) {
                continue;
            }
            if let Some(kids) = self.children.get(service).and_then(|g| g.get(sha)) {
                stack.extend(kids.iter().map(|k| (service, k.as_str())));
            }
        }
        seen
    }
}

/// A commit that mentions the idea.
#[derive(Debug, Clone)]
pub struct IdeaCommit {
    pub service: String,
    pub sha: String,
    /// Author time, Unix ms.
    pub authored_at: i64,
}

/// One of the idea's commits reaching a market: a deployment that went live brought it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub service: String,
    pub market: String,
    pub sha: String,
    /// When the deployment went live.
    pub at: i64,
    /// The release that brought it.
    pub version: String,
}

/// What is known of one idea.
#[derive(Debug, Clone)]
pub struct IdeaFacts {
    pub created_at: i64,
    /// Target markets; empty means every market.
    pub targets: Vec<String>,
    pub commits: Vec<IdeaCommit>,
    pub arrivals: Vec<Arrival>,
}

/// One stage: when it was reached (none while it is not), how long after the stage before it
/// was reached and after the idea was created, and what reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage: Stage,
    pub at: Option<i64>,
    /// Milliseconds since the nearest earlier stage that was reached (0 at `created`).
    pub since_previous: Option<i64>,
    /// Milliseconds since the idea was created.
    pub since_created: Option<i64>,
    /// What reached it: a commit id, `run 12`, `shop v3`, a market id.
    pub by: Option<String>,
}

/// Where the idea is in a market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketState {
    /// The market's live release contains one of the idea's commits.
    Live,
    /// It arrived, then the market went back to a release without it (a rollback).
    Withdrawn,
    /// A target market it has not reached.
    Pending,
}

/// The idea in one market: every target market, and every other market it reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketFlow {
    pub market: String,
    pub state: MarketState,
    pub target: bool,
    pub pilot: bool,
    /// Every time one of its commits arrived there, oldest first (more than one after a
    /// rollback and a new release, or when its commits came in several releases).
    pub arrivals: Vec<i64>,
    /// The first arrival.
    pub arrived_at: Option<i64>,
    /// The release that brought it first.
    pub arrived_with: Option<String>,
    /// Milliseconds from the idea's creation to the first arrival.
    pub since_created: Option<i64>,
    /// The release the market runs now, when it contains the idea.
    pub live_release: Option<String>,
}

/// Where the idea stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    /// The furthest stage reached.
    pub stage: Stage,
    /// Markets whose live release contains one of its commits.
    pub live: Vec<String>,
    /// Target markets where it is not live.
    pub pending: Vec<String>,
}

/// An idea's flow: its six stages in order, where it is now, and its markets (in the
/// platform's order). Plain data, ready to be plotted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub stages: Vec<StageTime>,
    pub now: Now,
    pub markets: Vec<MarketFlow>,
}

impl Flow {
    /// The stage's timing.
    pub fn stage(&self, stage: Stage) -> &StageTime {
        &self.stages[stage as usize]
    }

    /// Whether one of its commits arrived in a market in `[from, to)`.
    pub fn arrived_within(&self, from: i64, to: i64) -> bool {
        self.markets
            .iter()
            .flat_map(|m| &m.arrivals)
            .any(|at| (from..to).contains(at))
    }

    /// The latest arrival in any market, if any.
    pub fn last_arrival(&self) -> Option<i64> {
        self.markets.iter().flat_map(|m| &m.arrivals).max().copied()
    }
}

/// Computes an idea's flow from its facts, read against `ctx`.
pub fn compute_flow(ctx: &FlowContext, idea: &IdeaFacts) -> Flow {
    let contains = ctx.containing(&idea.commits);
    let holds = |service: &str, sha: &str| contains.contains(&(service, sha));
    let mine: HashSet<(&str, &str)> = idea
        .commits
        .iter()
        .map(|c| (c.service.as_str(), c.sha.as_str()))
        .collect();

    let first_commit = idea
        .commits
        .iter()
        .min_by(|a, b| (a.authored_at, &a.sha).cmp(&(b.authored_at, &b.sha)))
        .map(|c| (c.authored_at, c.sha.clone()));
    let green = ctx
        .runs
        .iter()
        .filter(|r| holds(&r.service, &r.sha))
        .min_by_key(|r| (r.finished_at, r.id))
        .map(|r| (r.finished_at, format!("run {}", r.id)));
    let release = ctx
        .releases
        .iter()
        .filter(|r| holds(&r.service, &r.sha))
        .min_by(|a, b| (a.created_at, &a.version).cmp(&(b.created_at, &b.version)))
        .map(|r| (r.created_at, format!("{} {}", r.service, r.version)));

    let targets: Vec<&str> = if idea.targets.is_empty() {
        ctx.markets.iter().map(String::as_str).collect()
    } else {
        idea.targets.iter().map(String::as_str).collect()
    };
    let mut arrivals: Vec<&Arrival> = idea
        .arrivals
        .iter()
        .filter(|a| mine.contains(&(a.service.as_str(), a.sha.as_str())))
        .collect();
    arrivals.sort_by(|a, b| (a.at, &a.market, &a.version).cmp(&(b.at, &b.market, &b.version)));
    let live: Vec<&LiveRelease> = ctx.live.iter().filter(|l| holds(&l.service, &l.sha)).collect();

    let mut markets = Vec::new();
    for market in &ctx.markets {
        let here: Vec<&&Arrival> = arrivals.iter().filter(|a| &a.market == market).collect();
        let mut times: Vec<i64> = here.iter().map(|a| a.at).collect();
        times.dedup();
        let live_release = live
            .iter()
            .filter(|l| &l.market == market)
            .min_by(|a, b| (&a.service, &a.version).cmp(&(&b.service, &b.version)))
            .map(|l| format!("{} {}", l.service, l.version));
        let target = targets.contains(&market.as_str());
        let state = match (&live_release, times.is_empty()) {
            (Some(_), _) => MarketState::Live,
            (None, false) => MarketState::Withdrawn,
            (None, true) if target => MarketState::Pending,
            (None, true) => continue,
        };
        let first = here.first();
        markets.push(MarketFlow {
            market: market.clone(),
            state,
            target,
            pilot: ctx.pilot.contains(market),
            arrived_at: first.map(|a| a.at),
            arrived_with: first.map(|a| format!("{} {}", a.service, a.version)),
            since_created: first.map(|a| (a.at - idea.created_at).max(0)),
            arrivals: times,
            live_release,
        });
    }

    // The pilot: the first wave's markets, or any market when the platform has no waves.
    let pilot = markets
        .iter()
        .filter(|m| ctx.pilot.is_empty() || m.pilot)
        .filter_map(|m| m.arrived_at.map(|at| (at, m.market.clone())))
        .min();
    let target_arrivals: Vec<Option<(i64, String)>> = targets
        .iter()
        .map(|t| {
            markets
                .iter()
                .find(|m| m.market == *t)
                .and_then(|m| m.arrived_at.map(|at| (at, m.market.clone())))
        })
        .collect();
    let all_targets = if target_arrivals.is_empty() || target_arrivals.iter().any(Option::is_none) {
        None
    } else {
        target_arrivals.into_iter().flatten().max()
    };

    let reached = [
        Some((idea.created_at, String::new())),
        first_commit,
        green,
        release,
        pilot,
        all_targets,
    ];
    let mut stages = Vec::with_capacity(reached.len());
    let mut previous = idea.created_at;
    let mut furthest = Stage::Created;
    for (stage, reach) in Stage::ALL.into_iter().zip(reached) {
        let (at, by) = match reach {
            Some((at, by)) => (Some(at), (!by.is_empty()).then_some(by)),
            None => (None, None),
        };
        stages.push(StageTime {
            stage,
            at,
            since_previous: at.map(|at| (at - previous).max(0)),
            since_created: at.map(|at| (at - idea.created_at).max(0)),
            by,
        });
        if let Some(at) = at {
            previous = at;
            furthest = stage;
        }
    }
    let now = Now {
        stage: furthest,
        live: markets
            .iter()
            .filter(|m| m.state == MarketState::Live)
            .map(|m| m.market.clone())
            .collect(),
        pending: markets
            .iter()
            .filter(|m| m.target && m.state != MarketState::Live)
            .map(|m| m.market.clone())
            .collect(),
    };
    Flow { stages, now, markets }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn commit(sha: &str, parents: &[&str]) -> GraphCommit {
        GraphCommit {
            service: "shop".into(),
            sha: sha.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn run(id: i64, sha: &str, finished_at: i64) -> GreenRun {
        GreenRun {
            id,
            service: "shop".into(),
            sha: sha.into(),
            finished_at,
        }
    }

    fn release(version: &str, sha: &str, created_at: i64) -> FlowRelease {
        FlowRelease {
            service: "shop".into(),
            version: version.into(),
            sha: sha.into(),
            created_at,
        }
    }

    fn live(market: &str, version: &str, sha: &str, since: i64) -> LiveRelease {
        LiveRelease {
            service: "shop".into(),
            market: market.into(),
            version: version.into(),
            sha: sha.into(),
            since,
        }
    }

    fn arrival(market: &str, sha: &str, at: i64, version: &str) -> Arrival {
        Arrival {
            service: "shop".into(),
            market: market.into(),
            sha: sha.into(),
            at,
            version: version.into(),
        }
    }

    fn mine(sha: &str, authored_at: i64) -> IdeaCommit {
        IdeaCommit {
            service: "shop".into(),
            sha: sha.into(),
            authored_at,
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// History: a ← b ← c ← m, with a side branch a ← x merged at m (m's parents c and x).
    /// The idea's commits are b (written at 2 h) and x (at 3 h); created at 0.
    ///
    /// - run 1 at a (1 h): does not contain the idea. Run 2 at b finished red (not given).
    ///   Run 3 at c finished at 5 h: contains b → green pipeline at 5 h.
    /// - v1 at a (1 h): no. v2 at m, made at 6 h: contains b and x → release at 6 h.
    /// - v2 went live in fr (pilot) at 8 h, bringing b and x; in be at 12 h; nl is a target
    ///   that it never reached. de is not a target, but got it at 20 h, then was rolled back
    ///   to v1.
    fn context() -> FlowContext {
        FlowContext::new(
            names(&["fr", "be", "nl", "de"]),
            names(&["fr"]),
            &[
                commit("a", &[]),
                commit("b", &["a"]),
                commit("c", &["b"]),
                commit("x", &["a"]),
                commit("m", &["c", "x"]),
            ],
            vec![run(1, "a", H), run(3, "c", 5 * H), run(4, "m", 7 * H)],
            vec![release("v1", "a", H), release("v2", "m", 6 * H)],
            vec![
                live("fr", "v2", "m", 8 * H),
                live("be", "v2", "m", 12 * H),
                live("nl", "v1", "a", H),
                live("de", "v1", "a", 30 * H),
            ],
        )
    }

    fn facts(targets: &[&str]) -> IdeaFacts {
        IdeaFacts {
            created_at: 0,
            targets: names(targets),
            commits: vec![mine("x", 3 * H), mine("b", 2 * H)],
            arrivals: vec![
                arrival("fr", "b", 8 * H, "v2"),
                arrival("fr", "x", 8 * H, "v2"),
                arrival("be", "b", 12 * H, "v2"),
                arrival("be", "x", 12 * H, "v2"),
                arrival("de", "b", 20 * H, "v2"),
                // Someone else's commit in the same deployment is not the idea's.
                arrival("nl", "zzz", 9 * H, "v2"),
            ],
        }
    }

    fn at(flow: &Flow) -> Vec<Option<i64>> {
        flow.stages.iter().map(|s| s.at).collect()
    }

    #[test]
    fn an_idea_on_its_way_stops_at_the_pilot_while_a_target_waits() {
        let flow = compute_flow(&context(), &facts(&["fr", "be", "nl"]));
        assert_eq!(
            at(&flow),
            [Some(0), Some(2 * H), Some(5 * H), Some(6 * H), Some(8 * H), None]
        );
        let since_previous: Vec<Option<i64>> = flow.stages.iter().map(|s| s.since_previous).collect();
        assert_eq!(
            since_previous,
            [Some(0), Some(2 * H), Some(3 * H), Some(H), Some(2 * H), None]
        );
        assert_eq!(flow.stage(Stage::Pilot).since_created, Some(8 * H));
        let by: Vec<Option<&str>> = flow.stages.iter().map(|s| s.by.as_deref()).collect();
        assert_eq!(by, [None, Some("b"), Some("run 3"), Some("shop v2"), Some("fr"), None]);
        assert_eq!(flow.now.stage, Stage::Pilot);
        assert_eq!(flow.now.live, ["fr", "be"]);
        assert_eq!(flow.now.pending, ["nl"]);
        let states: Vec<(&str, MarketState, Option<i64>)> = flow
            .markets
            .iter()
            .map(|m| (m.market.as_str(), m.state, m.arrived_at))
            .collect();
        assert_eq!(
            states,
            [
                ("fr", MarketState::Live, Some(8 * H)),
                ("be", MarketState::Live, Some(12 * H)),
                ("nl", MarketState::Pending, None),
                ("de", MarketState::Withdrawn, Some(20 * H)),
            ]
        );
        assert_eq!(flow.markets[0].arrivals, [8 * H], "two commits, one arrival");
        assert_eq!(flow.markets[0].live_release.as_deref(), Some("shop v2"));
        assert!(!flow.markets[3].target && flow.markets[3].live_release.is_none());
    }

    #[test]
    fn all_targets_is_the_last_target_to_be_reached() {
        let flow = compute_flow(&context(), &facts(&["fr", "be"]));
        let all = flow.stage(Stage::AllTargets);
        assert_eq!((all.at, all.since_previous), (Some(12 * H), Some(4 * H)));
        assert_eq!(all.by.as_deref(), Some("be"));
        assert_eq!(flow.now.stage, Stage::AllTargets);
        assert!(flow.now.pending.is_empty());
        // A target only outside the pilot: the pilot stage is still the pilot's arrival.
        let flow = compute_flow(&context(), &facts(&["be"]));
        assert_eq!(flow.stage(Stage::Pilot).at, Some(8 * H));
        assert_eq!(flow.stage(Stage::AllTargets).at, Some(12 * H));
    }

    #[test]
    fn every_market_is_a_target_when_none_is_named_and_a_rollback_undoes_no_stage() {
        let flow = compute_flow(&context(), &facts(&[]));
        // de was reached at 20 h (then rolled back); nl never: not every target yet.
        assert_eq!(flow.stage(Stage::AllTargets).at, None);
        assert_eq!(flow.now.pending, ["nl", "de"]);
        let mut ctx = context();
        ctx.live.retain(|l| l.market != "nl");
        ctx.markets.retain(|m| m != "nl");
        let flow = compute_flow(&ctx, &facts(&[]));
        assert_eq!(flow.stage(Stage::AllTargets).at, Some(20 * H));
        assert_eq!(flow.now.stage, Stage::AllTargets);
        assert_eq!(flow.now.live, ["fr", "be"], "de runs v1 again");
    }

    #[test]
    fn a_planned_idea_is_created_only_and_waits_everywhere() {
        let idea = IdeaFacts {
            created_at: 5 * H,
            targets: names(&["nl"]),
            commits: vec![],
            arrivals: vec![],
        };
        let flow = compute_flow(&context(), &idea);
        assert_eq!(at(&flow), [Some(5 * H), None, None, None, None, None]);
        assert_eq!(flow.now.stage, Stage::Created);
        assert_eq!(flow.now.pending, ["nl"]);
        assert!(flow.now.live.is_empty());
        assert_eq!(flow.markets.len(), 1);
    }

    #[test]
    fn work_begun_before_the_idea_was_filed_waited_zero_and_red_runs_do_not_count() {
        let mut idea = facts(&["fr"]);
        idea.created_at = 4 * H; // after b (2 h) and x (3 h) were written
        let mut ctx = context();
        ctx.runs.retain(|r| r.id != 3); // only run 4 at m (7 h) is green and contains the idea
        let flow = compute_flow(&ctx, &idea);
        let first = flow.stage(Stage::FirstCommit);
        assert_eq!(
            (first.at, first.since_previous, first.since_created),
            (Some(2 * H), Some(0), Some(0))
        );
        let green = flow.stage(Stage::GreenPipeline);
        // 7 h, measured from the first commit (2 h), the nearest earlier stage reached.
        assert_eq!(
            (green.at, green.since_previous, green.since_created),
            (Some(7 * H), Some(5 * H), Some(3 * H))
        );
        // The release (6 h) was made before that run finished: it waited 0 after it.
        assert_eq!(flow.stage(Stage::Release).since_previous, Some(0));
    }

    #[test]
    fn a_commit_on_a_side_branch_is_contained_only_after_the_merge() {
        // Only x: run 3 at c does not contain it; run 4 at m (the merge) does.
        let mut idea = facts(&["fr"]);
        idea.commits = vec![mine("x", 3 * H)];
        let flow = compute_flow(&context(), &idea);
        assert_eq!(flow.stage(Stage::GreenPipeline).by.as_deref(), Some("run 4"));
        assert_eq!(flow.stage(Stage::GreenPipeline).at, Some(7 * H));
        assert_eq!(flow.stage(Stage::FirstCommit).by.as_deref(), Some("x"));
        // de got b, not x: not a market of this idea.
        assert!(flow.markets.iter().all(|m| m.market != "de"));
    }

    #[test]
    fn no_waves_makes_the_first_market_reached_the_pilot() {
        let mut ctx = context();
        ctx.pilot.clear();
        let mut idea = facts(&["be"]);
        idea.arrivals.retain(|a| a.market != "fr");
        let flow = compute_flow(&ctx, &idea);
        assert_eq!(flow.stage(Stage::Pilot).at, Some(12 * H));
        assert_eq!(flow.stage(Stage::Pilot).by.as_deref(), Some("be"));
    }

    #[test]
    fn arrivals_within_a_window_are_half_open() {
        let flow = compute_flow(&context(), &facts(&["fr"]));
        assert!(flow.arrived_within(8 * H, 9 * H));
        assert!(!flow.arrived_within(0, 8 * H));
        assert!(
            flow.arrived_within(20 * H, 21 * H),
            "de's arrival counts, though withdrawn"
        );
        assert_eq!(flow.last_arrival(), Some(20 * H));
    }
}
