//! Read models shared by the JSON API and the web UI: the market matrix, a run with its jobs,
//! a rollout as waves × markets, an idea with where it stands.

use crate::error::ApiResult;
use serde::Serialize;
use std::collections::HashMap;
use tandem_core::state::{DeploymentKind, DeploymentState, RolloutState};
use tandem_engine::Engine;
use tandem_store::{
    ArtifactRow, CommitRow, DeploymentRow, IdeaRow, JobRow, MarketDeployments, MarketRow, ReleaseRow, RolloutRow,
    RunRow, StepRow,
};

/// One service's state in one market.
#[derive(Debug, Serialize)]
pub struct MarketService {
    /// The service's name.
    pub service: String,
    /// The release running now, if any.
    pub release: Option<String>,
    /// Where the live release answers, if anything is live.
    pub url: Option<String>,
    /// Since when (Unix ms) that release has been live.
    pub since: Option<i64>,
    /// up (its probe answers), down (the monitor's probes fail, or its process is gone), or
    /// none (nothing deployed).
    pub health: String,
    /// A release being deployed right now, if any.
    pub in_flight: Option<String>,
    /// The latest deployment here, when it failed and nothing went live since: release and reason.
    pub last_failure: Option<String>,
}

/// A market with what runs there.
#[derive(Debug, Serialize)]
pub struct MarketStatus {
    /// The market itself.
    #[serde(flatten)]
    pub market: MarketRow,
    /// The wave it belongs to, if any.
    pub wave: Option<String>,
    /// Every service of the platform, in this market.
    pub services: Vec<MarketService>,
}

/// The market matrix (`GET /api/v1/markets`, the Markets page): every market with, per service,
/// what runs there, what is in flight, its health and its last failure. A fixed number of
/// store reads, however many markets.
pub async fn market_matrix(engine: &Engine) -> ApiResult<Vec<MarketStatus>> {
    let markets = engine.list_markets().await?;
    let waves = engine.list_waves().await?;
    let services = engine.list_services().await?;
    // Only the deployments the matrix shows, not the whole history.
    let deployments = engine.list_market_deployments().await?;
    let monitored: HashMap<(String, String), String> = engine
        .list_market_health()
        .await?
        .into_iter()
        .map(|h| ((h.service, h.market), h.state.to_string()))
        .collect();
    let shown: Vec<i64> = deployments
        .values()
        .flat_map(|m| [&m.live, &m.in_flight, &m.latest])
        .flatten()
        .map(|d| d.release_id)
        .collect();
    let releases = engine.list_release_versions(&shown).await?;
    let none = MarketDeployments::default();
    let mut out = Vec::new();
    for market in markets {
        let mut per_service = Vec::new();
        for s in &services {
            let mine = deployments.get(&(s.name.clone(), market.id.clone())).unwrap_or(&none);
            let live = mine.live.as_ref();
            let in_flight = mine.in_flight.as_ref();
            let last_failure = mine
                .latest
                .as_ref()
                .filter(|d| d.state == DeploymentState::Failed)
                .map(|d| {
                    let version = releases.get(&d.release_id).map_or("?", String::as_str);
                    format!(
                        "{version} failed: {}",
                        d.reason.as_deref().unwrap_or("no reason recorded")
                    )
                });
            let verdict = monitored.get(&(s.name.clone(), market.id.clone())).map(String::as_str);
            let health = match (live, verdict) {
                // The monitor's last probe, when it has one; else whether the process runs.
                (Some(_), Some(verdict @ ("up" | "down"))) => verdict,
                (Some(_), _) if engine.supervisor.is_running(&s.name, &market.id).await => "up",
                (Some(_), _) => "down",
                (None, _) => "none",
            };
            per_service.push(MarketService {
                service: s.name.clone(),
                release: live.and_then(|d| releases.get(&d.release_id).cloned()),
                url: live.and_then(|d| d.url.clone()),
                since: live.and_then(|d| d.finished_at),
                health: health.into(),
                in_flight: in_flight.and_then(|d| releases.get(&d.release_id).cloned()),
                last_failure,
            });
        }
        out.push(MarketStatus {
            wave: waves
                .iter()
                .find(|w| w.markets.contains(&market.id))
                .map(|w| w.name.clone()),
            market,
            services: per_service,
        });
    }
    Ok(out)
}

/// A job of a run with its steps.
#[derive(Debug, Serialize)]
pub struct JobDetail {
    /// The job.
    #[serde(flatten)]
    pub job: JobRow,
    /// Its steps, in order.
    pub steps: Vec<StepRow>,
}

/// A run with its jobs, steps, artifacts and the release it made.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: RunRow,
    /// Its jobs, each with its steps.
    pub jobs: Vec<JobDetail>,
    /// The artifacts it kept.
    pub artifacts: Vec<ArtifactRow>,
    /// The release this run made, if any.
    pub release: Option<String>,
}

/// Run `id` with its jobs, steps, artifacts and release (`GET /api/v1/runs/{id}`, the run
/// page); not found when there is no such run.
pub async fn run_detail(engine: &Engine, id: i64) -> ApiResult<RunDetail> {
    let run = engine.get_run(id).await?;
    let jobs = engine
        .list_jobs_with_steps(id)
        .await?
        .into_iter()
        .map(|(job, steps)| JobDetail { job, steps })
        .collect();
    let release = engine.release_made_by(&run).await?;
    Ok(RunDetail {
        artifacts: engine.list_artifacts(id).await?,
        run,
        jobs,
        release,
    })
}

/// One market of a wave in a rollout.
#[derive(Debug, Serialize)]
pub struct WaveMarket {
    /// The market's id.
    pub market: String,
    /// waiting, deploying, live, failed, superseded, skipped, or not reached (the rollout
    /// stopped first).
    pub state: String,
    /// The rollout's latest deployment into this market, if it got that far.
    pub deployment: Option<DeploymentRow>,
    /// Every gate of this market's deployments in the rollout, with figures and reasons.
    pub gates: Vec<tandem_store::GateResultRow>,
}

/// One wave of a rollout, with its markets.
#[derive(Debug, Serialize)]
pub struct WaveDetail {
    /// Its place in the plan (0 is the pilot).
    pub index: usize,
    /// Its name in the platform file.
    pub name: String,
    /// waiting, running, done, failed, or not reached.
    pub state: String,
    /// Its markets, in the platform file's order.
    pub markets: Vec<WaveMarket>,
}

/// A rollout as waves × markets, with the release it carries and what people decided.
#[derive(Debug, Serialize)]
pub struct RolloutDetail {
    /// The rollout.
    #[serde(flatten)]
    pub rollout: RolloutRow,
    /// The release the rollout row names.
    pub release: ReleaseRow,
    /// Its waves in order.
    pub waves: Vec<WaveDetail>,
    /// What people decided: skips, approvals, promotions, freeze overrides.
    pub decisions: Vec<tandem_store::DecisionRow>,
    /// While `awaiting-approval`: the role an approval needs.
    pub approval_role: Option<String>,
}

/// Rollout `id` as waves × markets (`GET /api/v1/rollouts/{id}`, the rollout page); not found
/// when there is no such rollout.
pub async fn rollout_detail(engine: &Engine, id: i64) -> ApiResult<RolloutDetail> {
    let rollout = engine.get_rollout(id).await?;
    let release = engine.get_release(rollout.release_id).await?;
    let deployments = engine.list_deployments(Some(id)).await?;
    let gates = engine.list_rollout_gates(id).await?;
    let decisions = engine.list_decisions(id).await?;
    // Once a rollout stopped, markets it never reached will not be deployed by it.
    let unreached = if matches!(
        rollout.state,
        RolloutState::Halted | RolloutState::Failed | RolloutState::Aborted
    ) {
        "not reached"
    } else {
        "waiting"
    };
    let mut waves = Vec::new();
    for (index, (name, markets)) in rollout.waves()?.into_iter().enumerate() {
        let markets: Vec<WaveMarket> = markets
            .into_iter()
            .map(|m| {
                // The rollout's own deployment there (a rollback after a failed gate follows it).
                let d = deployments
                    .iter()
                    .rfind(|d| d.market == m && d.kind == DeploymentKind::Release)
                    .cloned();
                let skipped = decisions.iter().any(|x| x.kind == "skip" && x.market == m);
                let state = match &d {
                    Some(d) => d.state.to_string(),
                    None if skipped => "skipped".to_string(),
                    None => unreached.to_string(),
                };
                WaveMarket {
                    gates: gates
                        .iter()
                        .filter(|g| g.market == m)
                        .map(|g| g.result.clone())
                        .collect(),
                    state,
                    market: m,
                    deployment: d,
                }
            })
            .collect();
        let state = if markets.iter().any(|m| m.state == "failed") {
            "failed"
        } else if markets
            .iter()
            .all(|m| matches!(m.state.as_str(), "live" | "superseded" | "skipped"))
        {
            "done"
        } else if markets.iter().any(|m| m.state != unreached) {
            "running"
        } else {
            unreached
        };
        waves.push(WaveDetail {
            index,
            name,
            state: state.into(),
            markets,
        });
    }
    let approval_role = if rollout.state == RolloutState::AwaitingApproval {
        // Operators approve unless the platform file names another role.
        Some(
            engine
                .approval_role(id)
                .await?
                .unwrap_or(tandem_core::role::Role::Operator)
                .to_string(),
        )
    } else {
        None
    };
    Ok(RolloutDetail {
        rollout,
        release,
        waves,
        decisions,
        approval_role,
    })
}

/// An idea with where it stands: its state, the markets it is live in and its commits.
#[derive(Debug, Serialize)]
pub struct IdeaDetail {
    /// The idea.
    #[serde(flatten)]
    pub idea: IdeaRow,
    /// planned (no commit yet), in development (commits, not live anywhere) or live.
    pub state: String,
    /// Markets whose live release contains a commit of this idea.
    pub live_in: Vec<String>,
    /// The commits that mention its key.
    pub commits: Vec<CommitRow>,
}

/// Where an idea stands: its commits, and the markets whose live release contains one of them
/// (a commit is contained when the release's commit reaches it through parents).
pub async fn idea_detail(engine: &Engine, idea: IdeaRow) -> ApiResult<IdeaDetail> {
    let commits = engine.list_idea_commits(&idea.key).await?;
    let mut commits_by_idea = HashMap::from([(idea.key.clone(), commits)]);
    let mut details = ideas_detail(engine, vec![idea], &mut commits_by_idea).await?;
    Ok(details.remove(0))
}

/// Where each of `ideas` stands, given their commits (by idea key); the engine finds the
/// markets that run each one ([`Engine::markets_live_with`]).
pub async fn ideas_detail(
    engine: &Engine,
    ideas: Vec<IdeaRow>,
    commits_by_idea: &mut HashMap<String, Vec<CommitRow>>,
) -> ApiResult<Vec<IdeaDetail>> {
    let mut live_by_idea = engine.markets_live_with(commits_by_idea).await?;
    let mut out = Vec::with_capacity(ideas.len());
    for idea in ideas {
        let commits = commits_by_idea.remove(&idea.key).unwrap_or_default();
        let live_in = live_by_idea.remove(&idea.key).unwrap_or_default();
        let state = if !live_in.is_empty() {
            "live"
        } else if !commits.is_empty() {
            "in development"
        } else {
            "planned"
        };
        out.push(IdeaDetail {
            idea,
            state: state.into(),
            live_in,
            commits,
        });
    }
    Ok(out)
}
