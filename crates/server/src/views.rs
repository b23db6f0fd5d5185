//! Read models shared by the JSON API and the web UI: the market matrix, a run with its jobs,
//! a rollout as waves × markets, an idea with where it stands.

use crate::error::ApiResult;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use tandem_core::state::{DeploymentKind, DeploymentState, RolloutState};
use tandem_engine::Engine;
use tandem_store::{
    ArtifactRow, CommitRow, DeploymentRow, IdeaRow, JobRow, MarketDeployments, MarketRow, ReleaseRow, RolloutRow,
    RunRow, StepRow,
};

/// One service's state in one market.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarketService {
    pub service: String,
    /// The release running now, if any.
    pub release: Option<String>,
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarketStatus {
    #[serde(flatten)]
    pub market: MarketRow,
    pub wave: Option<String>,
    pub services: Vec<MarketService>,
}

pub async fn market_matrix(engine: &Engine) -> ApiResult<Vec<MarketStatus>> {
    let store = &engine.store;
    let markets = store.list_markets().await?;
    let waves = store.list_waves().await?;
    let services = store.list_services().await?;
    // Only the deployments the matrix shows, not the whole history.
    let deployments = store.list_market_deployments().await?;
    let monitored: HashMap<(String, String), String> = store
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
    let releases = store.list_release_versions(&shown).await?;
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: JobRow,
    pub steps: Vec<StepRow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRow,
    pub jobs: Vec<JobDetail>,
    pub artifacts: Vec<ArtifactRow>,
    /// The release this run made, if any.
    pub release: Option<String>,
}

pub async fn run_detail(engine: &Engine, id: i64) -> ApiResult<RunDetail> {
    let store = &engine.store;
    let run = store.get_run(id).await?;
    let mut jobs = Vec::new();
    for job in store.list_jobs(id).await? {
        let steps = store.list_steps(job.id).await?;
        jobs.push(JobDetail { job, steps });
    }
    let release = store
        .list_releases(Some(&run.service))
        .await?
        .into_iter()
        .find(|r| r.run_id == id)
        .map(|r| r.version);
    Ok(RunDetail {
        artifacts: store.list_artifacts(id).await?,
        run,
        jobs,
        release,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WaveMarket {
    pub market: String,
    /// waiting, deploying, live, failed, superseded, skipped, or not reached (the rollout
    /// stopped first).
    pub state: String,
    pub deployment: Option<DeploymentRow>,
    /// Every gate of this market's deployments in the rollout, with figures and reasons.
    pub gates: Vec<tandem_store::GateResultRow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WaveDetail {
    pub index: usize,
    pub name: String,
    /// waiting, running, done, failed, or not reached.
    pub state: String,
    pub markets: Vec<WaveMarket>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RolloutDetail {
    #[serde(flatten)]
    pub rollout: RolloutRow,
    pub release: ReleaseRow,
    pub waves: Vec<WaveDetail>,
    /// What people decided: skips, approvals, promotions, freeze overrides.
    pub decisions: Vec<tandem_store::DecisionRow>,
    /// While `awaiting-approval`: the role an approval needs.
    pub approval_role: Option<String>,
}

pub async fn rollout_detail(engine: &Engine, id: i64) -> ApiResult<RolloutDetail> {
    let store = &engine.store;
    let rollout = store.get_rollout(id).await?;
    let release = store.get_release(rollout.release_id).await?;
    let deployments = store.list_deployments(Some(id)).await?;
    let gates = store.list_rollout_gates(id).await?;
    let decisions = store.list_decisions(id).await?;
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdeaDetail {
    #[serde(flatten)]
    pub idea: IdeaRow,
    /// planned (no commit yet), in development (commits, not live anywhere) or live.
    pub state: String,
    /// Markets whose live release contains a commit of this idea.
    pub live_in: Vec<String>,
    pub commits: Vec<CommitRow>,
}

/// Where an idea stands: its commits, and the markets whose live release contains one of them
/// (a commit is contained when the release's commit reaches it through parents).
pub async fn idea_detail(engine: &Engine, idea: IdeaRow) -> ApiResult<IdeaDetail> {
    let commits = engine.store.list_idea_commits(&idea.key).await?;
    let mut commits_by_idea = HashMap::from([(idea.key.clone(), commits)]);
    let mut details = ideas_detail(engine, vec![idea], &mut commits_by_idea).await?;
    Ok(details.remove(0))
}

/// Where each of `ideas` stands, given their commits (by idea key), with the same few queries
/// however many ideas there are: live deployments, releases and each service's commit graph are
/// read once, and each live release's reach computed once.
pub async fn ideas_detail(
    engine: &Engine,
    ideas: Vec<IdeaRow>,
    commits_by_idea: &mut HashMap<String, Vec<CommitRow>>,
) -> ApiResult<Vec<IdeaDetail>> {
    let store = &engine.store;
    // (service, release commit, market) of every live market, when any idea has commits.
    let mut live: Vec<(String, String, String)> = Vec::new();
    let mut graphs: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    if commits_by_idea.values().any(|c| !c.is_empty()) {
        let releases: HashMap<i64, ReleaseRow> = store
            .list_releases(None)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for d in store.list_live_deployments().await? {
            let Some(release) = releases.get(&d.release_id) else {
                continue;
            };
            if !graphs.contains_key(&d.service) {
                let all = store.list_commits(&d.service, i64::MAX).await?;
                graphs.insert(
                    d.service.clone(),
                    all.into_iter()
                        .map(|c| (c.sha, c.parents.split_whitespace().map(String::from).collect()))
                        .collect(),
                );
            }
            live.push((d.service.clone(), release.commit_sha.clone(), d.market.clone()));
        }
    }
    let mut reaches: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for (service, sha, _) in &live {
        reaches
            .entry((service.as_str(), sha.as_str()))
            .or_insert_with(|| tandem_core::idea::reachable(&graphs[service], sha));
    }
    let mut out = Vec::with_capacity(ideas.len());
    for idea in ideas {
        let commits = commits_by_idea.remove(&idea.key).unwrap_or_default();
        let mut live_in: Vec<String> = live
            .iter()
            .filter(|(service, sha, _)| {
                let reach = &reaches[&(service.as_str(), sha.as_str())];
                commits
                    .iter()
                    .any(|c| &c.service == service && reach.contains(c.sha.as_str()))
            })
            .map(|(_, _, market)| market.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        live_in.sort();
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
