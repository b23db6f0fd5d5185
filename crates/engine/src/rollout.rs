//! The rollout engine: a release moves wave by wave; in each wave its markets deploy in
//! parallel (up to a limit), each through [`Engine::deploy_market`]. Between waves the rollout
//! may wait for a person's approval (the platform's `approvals`); a market waits out its
//! freezes (in its own time zone) unless an admin overrides them; people can pause, resume,
//! abort, skip a market or promote. A market that fails its gate halts the rollout before the
//! next wave. Every step is recorded before it acts, so a restarted server resumes it.
//!
//! Its cost per market does not grow with the number of markets: the plan is read once per
//! rollout, the platform once per wave ([`Snapshot`]), the rollout's state and decisions once
//! per wave and again only when the engine signals a change ([`Decided`]), and each market
//! reads and writes only its own rows (its config version, its deployment). Markets deploy within the
//! platform's limits ([`crate::slots`]): so many per service, so many across every rollout.

use crate::Engine;
use crate::Result;
use crate::deploy::MarketOutcome;
use crate::notifications::Announcement;
use crate::snapshot::Snapshot;
use anyhow::{Context, anyhow, bail};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::platform::Platform;
use tandem_core::policy::Event;
use tandem_core::role::Role;
use tandem_core::rollout::plan_waves;
use tandem_core::state::{ChangeState, DeploymentKind, RolloutState};
use tandem_store::{NewDecision, ReleaseRow, RolloutRow, StoreError};

/// How often a waiting rollout (paused, awaiting approval, frozen) looks for a change.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// What a wave's markets look at before each deploys: the rollout's state and its decisions
/// (skips, overrides), read once for the wave, and again when the engine signalled a change that
/// may concern them since (every skip, override and abort goes through the engine, which
/// signals; another server's through its signal, and a lost signal's catch-up signals too), or,
/// for a market waiting out a freeze, when older than [`WAIT_POLL`]. Not per market: the markets
/// of a wave share it.
#[derive(Debug, Default)]
pub(crate) struct Decided {
    seen: tokio::sync::Mutex<Option<Seen>>,
}

#[derive(Debug)]
struct Seen {
    /// The engine's count of wide changes when this was read ([`Engine::subscribe_wide`]).
    version: u64,
    at: Instant,
    state: RolloutState,
    decisions: Arc<Vec<tandem_store::DecisionRow>>,
}

/// The wave an approval is for, as read while the rollout waited for it, and the role the
/// approval needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WaveApproval {
    rollout_id: i64,
    /// Its index in the rollout's plan.
    index: i64,
    name: String,
    role: Role,
}

impl WaveApproval {
    /// Whether someone holding `role` may approve it (never a viewer); refused (403) saying who
    /// may.
    fn allows(&self, role: Role) -> Result<()> {
        if role.allows(self.role) && role.allows(Role::Developer) {
            Ok(())
        } else {
            Err(crate::Error::Forbidden(format!(
                "approving wave `{}` of rollout {} needs the {} role; your credential has {role}",
                self.name, self.rollout_id, self.role
            )))
        }
    }
}

/// What a rollout carries to each market: a release or a config version.
enum RolloutPayload {
    /// A release: its spec and its artifacts' paths.
    Release(Box<tandem_core::pipeline::ServiceSpec>, HashMap<String, String>),
    /// A config version: each market redeploys the release it runs with it.
    Config(i64),
}

impl Engine {
    /// Plans and records a rollout of a release to every wave; the caller spawns its execution.
    /// With `queue`, a rollout whose markets another rollout holds waits for them (`queued`)
    /// instead of being refused.
    pub async fn create_rollout(&self, release_id: i64, created_by: &str, queue: bool) -> Result<RolloutRow> {
        let release = self.store.get_release(release_id).await?;
        let spec = release.service_spec()?;
        if spec.deploy.is_none() {
            return Err(crate::Error::refused(format!(
                "release {} of {} cannot be rolled out: its tandem.yml has no `deploy` section",
                release.version, release.service
            )));
        }
        let platform = self.store.load_platform().await?;
        let plan = plan_waves(&platform);
        Ok(self
            .store
            .insert_rollout_with(&release.service, release_id, &plan, created_by, queue)
            .await?)
    }

    /// Runs a rollout from its current wave to its end. Errors are recorded on the rollout.
    /// When it ends, the team is told and queued rollouts whose markets are now free start.
    pub async fn execute_rollout(self: &Arc<Self>, rollout_id: i64) {
        // Ended or still queued (seen unfinished just before it ended, say): nothing to drive.
        match self.store.get_rollout(rollout_id).await {
            Ok(r) if r.state.is_in_progress() && r.state != RolloutState::Queued => {}
            _ => return,
        }
        if let Err(e) = self.try_execute_rollout(rollout_id).await {
            tracing::warn!(rollout_id, error = %format!("{e:#}"), "rollout failed");
            let wave = self
                .store
                .get_rollout(rollout_id)
                .await
                .map(|r| r.current_wave)
                .unwrap_or(0);
            if let Err(e) = self
                .store
                .update_rollout(rollout_id, RolloutState::Failed, wave, Some(&format!("{e:#}")))
                .await
            {
                tracing::error!(rollout_id, error = %e, "cannot record a rollout's failure");
            }
        }
        self.notify();
        if let Ok(r) = self.store.get_rollout(rollout_id).await {
            self.settle_config_rollout(&r).await;
            self.announce_end(&r).await;
        }
        self.start_queued_rollouts().await;
    }

    /// Starts every queued rollout whose markets are free.
    pub(crate) async fn start_queued_rollouts(self: &Arc<Self>) {
        match self.store.start_queued_rollouts().await {
            Ok(started) => {
                for r in started {
                    tracing::info!(rollout = r.id, "queued rollout starts");
                    self.spawn_rollout(r.id);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot start queued rollouts"),
        }
    }

    /// A config rollout that ended tells its change request what it came to.
    async fn settle_config_rollout(&self, r: &RolloutRow) {
        let (Some(change), Some(version)) = (r.change_id, r.config_version) else {
            return;
        };
        let (state, result) = match r.state {
            RolloutState::Succeeded => (
                ChangeState::Done,
                format!("config v{version} reached every market (rollout {})", r.id),
            ),
            RolloutState::Halted | RolloutState::Failed | RolloutState::Aborted => (
                ChangeState::Failed,
                format!(
                    "rollout {} of config v{version} {}: {}",
                    r.id,
                    r.state,
                    r.reason.as_deref().unwrap_or("no reason recorded")
                ),
            ),
            _ => return,
        };
        if let Err(e) = self
            .store
            .set_change_state(change, &[ChangeState::Applied], state, Some(&result), None, None)
            .await
        {
            tracing::warn!(change, error = %e, "cannot record what a change request came to");
        }
    }

    async fn announce_end(self: &Arc<Self>, r: &RolloutRow) {
        let version = match (r.kind.as_str(), r.config_version) {
            ("config", Some(v)) => format!("config v{v}"),
            _ => match self.store.get_release(r.release_id).await {
                Ok(release) => release.version,
                Err(_) => format!("release {}", r.release_id),
            },
        };
        let (event, text) = match r.state {
            RolloutState::Succeeded => (
                Event::RolloutSucceeded,
                format!("Rollout {} of {} {version} reached every market", r.id, r.service),
            ),
            RolloutState::Halted | RolloutState::Failed => (
                Event::RolloutHalted,
                format!(
                    "Rollout {} of {} {version} {}: {}",
                    r.id,
                    r.service,
                    r.state,
                    r.reason.as_deref().unwrap_or("no reason recorded")
                ),
            ),
            _ => return,
        };
        let data = serde_json::json!({
            "rollout": r.id, "service": r.service, "release": version, "state": r.state, "reason": r.reason,
        });
        self.announce(Announcement { event, text, data }).await;
    }

    async fn try_execute_rollout(self: &Arc<Self>, rollout_id: i64) -> anyhow::Result<()> {
        let rollout = self.store.get_rollout(rollout_id).await?;
        let release = self.store.get_release(rollout.release_id).await?;
        let payload = match (rollout.kind.as_str(), rollout.config_version) {
            ("config", Some(version)) => RolloutPayload::Config(version),
            ("config", None) => bail!("config rollout {rollout_id} names no config version"),
            _ => RolloutPayload::Release(Box::new(release.service_spec()?), self.prepare_release(&release).await?),
        };
        let payload = Arc::new(payload);
        // The plan is read once: no market's deployment reads it again.
        let waves = rollout.waves()?;
        let started = Instant::now();
        let mut probe_total = Duration::ZERO;
        // A market already on this release or config version (a rollout resumed after a
        // restart, or a new rollout of a release that halted) is done; so is each market that
        // passes.
        let mut done: HashSet<String> = match payload.as_ref() {
            RolloutPayload::Release(..) => self
                .store
                .list_markets_running(&release.service, release.id)
                .await?
                .into_iter()
                .collect(),
            RolloutPayload::Config(version) => self
                .store
                .market_config_versions(&release.service)
                .await?
                .into_iter()
                .filter(|(_, v)| v == version)
                .map(|(m, _)| m)
                .collect(),
        };
        for (index, (name, markets)) in waves.iter().enumerate().skip(rollout.current_wave as usize) {
            // The platform is read once per wave, and handed to each of its markets.
            let snapshot = self.snapshot().await?;
            if !self
                .wait_to_start_wave(rollout_id, index, &waves, &snapshot.platform)
                .await?
            {
                tracing::info!(rollout_id, "rollout aborted");
                return Ok(());
            }
            self.notify();
            tracing::info!(rollout_id, wave = %name, markets = markets.len(), "wave started");
            let limits = &snapshot.platform.rollouts;
            let slots = self.slots.of_service(
                &release.service,
                limits.for_service(&release.service, self.settings.max_parallel_markets),
                limits.max_parallel(),
            );
            // Markets the config check refused in the previous pass of this wave: tried again
            // with the service's newest config version (the fix a person approved meanwhile,
            // whose own config rollout waits behind this one).
            let mut retried: HashSet<String> = HashSet::new();
            let decided = Arc::new(Decided::default());
            loop {
                let newest_config = if retried.is_empty() {
                    None
                } else {
                    Some(self.store.latest_config(&release.service).await?.version)
                };
                let mut set = tokio::task::JoinSet::new();
                for market in markets.iter().filter(|m| !done.contains(*m)) {
                    let (engine, slots, release, payload, market, snapshot, decided) = (
                        self.clone(),
                        slots.clone(),
                        release.clone(),
                        payload.clone(),
                        market.clone(),
                        snapshot.clone(),
                        decided.clone(),
                    );
                    let config_version = newest_config.filter(|_| retried.contains(&market));
                    set.spawn(tandem_store::inherit(async move {
                        let _turn = slots.service().await;
                        let may = engine.wait_for_market(rollout_id, &market, &snapshot, &decided).await;
                        let _slot = match may {
                            Ok(None) => slots.global().await,
                            _ => None,
                        };
                        match may {
                            Ok(None) => match payload.as_ref() {
                                RolloutPayload::Release(spec, artifacts) => {
                                    engine
                                        .deploy_market_with(
                                            Some(rollout_id),
                                            DeploymentKind::Release,
                                            &release,
                                            spec,
                                            artifacts,
                                            &market,
                                            config_version,
                                            &snapshot,
                                        )
                                        .await
                                }
                                RolloutPayload::Config(version) => engine
                                    .move_market_config(
                                        Some(rollout_id),
                                        &release.service,
                                        &market,
                                        *version,
                                        "tandem",
                                        &format!("config rollout {rollout_id}"),
                                        &snapshot,
                                    )
                                    .await
                                    .unwrap_or_else(|e| {
                                        MarketOutcome::new(&market, false, format!("{e:#}"), Duration::ZERO)
                                    }),
                            },
                            Ok(Some(why)) => MarketOutcome::skipped(&market, why),
                            Err(e) => MarketOutcome::new(&market, false, format!("{e:#}"), Duration::ZERO),
                        }
                    }));
                }
                let (mut failed, mut blocked) = (Vec::new(), Vec::new());
                retried.clear();
                while let Some(joined) = set.join_next().await {
                    let outcome = joined.map_err(|e| anyhow!("a market's deployment panicked: {e}"))?;
                    probe_total += outcome.probe_time;
                    if outcome.healthy {
                        done.insert(outcome.market.clone());
                    }
                    if outcome.blocked {
                        retried.insert(outcome.market.clone());
                        blocked.push(format!("{}: {}", outcome.market, outcome.reason));
                    } else if !outcome.healthy {
                        failed.push(format!("{}: {}", outcome.market, outcome.reason));
                    }
                }
                // Whoever reads the wave's (or the rollout's) end reads the commits it brought.
                self.commits_recorded().await;
                failed.sort();
                blocked.sort();
                if !failed.is_empty() {
                    let mut reason = format!("wave `{name}` failed its gate in {}", failed.join("; "));
                    if !blocked.is_empty() {
                        reason.push_str(&format!("; blocked before deploying: {}", blocked.join("; ")));
                    }
                    if self.store.get_rollout_state(rollout_id).await? != RolloutState::Aborted {
                        self.store
                            .update_rollout(rollout_id, RolloutState::Halted, index as i64, Some(&reason))
                            .await?;
                    }
                    return Ok(());
                }
                if blocked.is_empty() {
                    break;
                }
                // Refused markets deployed nothing: the rollout waits for a person to fix their
                // config and resume (only those markets are tried again), to resume without them
                // (they are skipped, with the reason), or to abort.
                if !self.wait_while_blocked(rollout_id, index, name, &blocked).await? {
                    return Ok(());
                }
            }
        }
        let last = waves.len().saturating_sub(1) as i64;
        if self.store.get_rollout_state(rollout_id).await? == RolloutState::Aborted {
            return Ok(());
        }
        self.store
            .update_rollout(rollout_id, RolloutState::Succeeded, last, None)
            .await?;
        tracing::info!(
            rollout_id,
            elapsed_ms = started.elapsed().as_millis() as u64,
            probe_ms = probe_total.as_millis() as u64,
            "rollout done"
        );
        Ok(())
    }

    /// Starts wave `index` unless a person paused the rollout (then waits for resume or abort)
    /// or aborted it, and once the approval the platform asks for after the previous wave is
    /// given; returns false when the rollout was aborted.
    async fn wait_to_start_wave(
        self: &Arc<Self>,
        rollout_id: i64,
        index: usize,
        waves: &[(String, Vec<String>)],
        platform: &Platform,
    ) -> Result<bool> {
        let approval = index
            .checked_sub(1)
            .and_then(|previous| platform.approval_after(&waves[previous].0))
            .cloned();
        let wave = index as i64;
        let mut announced = false;
        loop {
            let r = self.store.get_rollout(rollout_id).await?;
            match r.state {
                RolloutState::Aborted => return Ok(false),
                RolloutState::Paused => {
                    tokio::time::sleep(WAIT_POLL).await;
                    continue;
                }
                RolloutState::Pending | RolloutState::Running | RolloutState::AwaitingApproval => {}
                other => {
                    return Err(crate::Error::conflict(format!(
                        "rollout {rollout_id} is {other}: it cannot start wave {index}"
                    )));
                }
            }
            let approved = match &approval {
                None => true,
                Some(_) => self
                    .store
                    .list_decisions(rollout_id)
                    .await?
                    .iter()
                    .any(|d| d.wave == wave && matches!(d.kind.as_str(), "approve" | "promote")),
            };
            let to = if approved {
                RolloutState::Running
            } else {
                RolloutState::AwaitingApproval
            };
            if r.state != to || r.current_wave != wave {
                match self
                    .store
                    .set_rollout_state(
                        rollout_id,
                        &[
                            RolloutState::Pending,
                            RolloutState::Running,
                            RolloutState::AwaitingApproval,
                        ],
                        to,
                        "engine",
                        Some(wave),
                    )
                    .await
                {
                    Ok(_) => self.notify(),
                    // A person paused or aborted it meanwhile: look again.
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            if approved {
                return Ok(true);
            }
            if let Some(a) = &approval
                && !announced
                && r.state != RolloutState::AwaitingApproval
            {
                let text = format!(
                    "Rollout {rollout_id} of {} waits for an approval ({} or above) to start wave `{}`",
                    r.service, a.role, waves[index].0
                );
                let data = serde_json::json!({
                    "rollout": rollout_id, "service": r.service, "wave": waves[index].0, "role": a.role.as_str(),
                });
                self.announce(Announcement {
                    event: Event::ApprovalRequested,
                    text,
                    data,
                })
                .await;
                announced = true;
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Marks the rollout blocked in wave `index` by its refused markets (`blocked`: `market:
    /// reason`), tells the team, and waits for a person: true once resumed (with the markets
    /// fixed, or skipped), false when aborted.
    async fn wait_while_blocked(
        self: &Arc<Self>,
        rollout_id: i64,
        index: usize,
        wave: &str,
        blocked: &[String],
    ) -> Result<bool> {
        let reason = format!(
            "wave `{wave}` is blocked: {} — fix the config and resume (only these markets are checked again), \
             resume without them (`--skip-blocked`), or abort",
            blocked.join("; ")
        );
        match self
            .store
            .set_rollout_state_because(
                rollout_id,
                &[RolloutState::Running, RolloutState::Paused],
                RolloutState::Blocked,
                "engine",
                Some(index as i64),
                Some(&reason),
            )
            .await
        {
            Ok(r) => {
                self.notify();
                let version = match self.store.get_release(r.release_id).await {
                    Ok(release) => release.version,
                    Err(_) => format!("release {}", r.release_id),
                };
                self.announce(Announcement {
                    event: Event::RolloutBlocked,
                    text: format!(
                        "Rollout {rollout_id} of {} {version} is blocked in wave `{wave}`: {}",
                        r.service,
                        blocked.join("; ")
                    ),
                    data: serde_json::json!({
                        "rollout": rollout_id, "service": r.service, "release": version, "wave": wave,
                        "blocked": blocked,
                    }),
                })
                .await;
            }
            // Aborted meanwhile.
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        loop {
            tokio::time::sleep(WAIT_POLL).await;
            match self.store.get_rollout_state(rollout_id).await? {
                RolloutState::Blocked => {}
                RolloutState::Running => return Ok(true),
                RolloutState::Aborted => return Ok(false),
                other => {
                    return Err(crate::Error::conflict(format!(
                        "rollout {rollout_id} is {other}: it cannot go on with wave {index}"
                    )));
                }
            }
        }
    }

    /// Waits until `market` may be deployed: not frozen (or an admin overrode the freeze).
    /// Returns why it is not deployed at all (skipped by a person, or the rollout aborted).
    /// Reads neither the plan nor the platform (the wave's `snapshot`), and the rollout's
    /// state and decisions only as the wave's `decided` says.
    async fn wait_for_market(
        &self,
        rollout_id: i64,
        market: &str,
        snapshot: &Snapshot,
        decided: &Decided,
    ) -> Result<Option<String>> {
        let mut told = false;
        let mut max_age = None;
        loop {
            let (state, decisions) = self.decided(rollout_id, decided, max_age).await?;
            // Waiting out a freeze: read again at least every poll, as a safety net.
            max_age = Some(WAIT_POLL);
            if state == RolloutState::Aborted {
                return Ok(Some("the rollout was aborted before this market".into()));
            }
            if let Some(d) = decisions.iter().find(|d| d.kind == "skip" && d.market == market) {
                return Ok(Some(format!("skipped by {}", d.decided_by)));
            }
            let Some(m) = snapshot.market(market) else {
                return Ok(None);
            };
            let Some(hit) = snapshot.platform.active_freeze_of(m, jiff::Timestamp::now()) else {
                return Ok(None);
            };
            if let Some(o) = decisions.iter().find(|d| d.kind == "override") {
                let reason = format!(
                    "freeze `{}` ({}) overridden by {}: {}",
                    hit.name,
                    hit.local,
                    o.decided_by,
                    o.reason.as_deref().unwrap_or("")
                );
                tracing::info!(rollout_id, market, %reason, "freeze overridden");
                self.freeze_note(rollout_id, market, &reason).await;
                return Ok(None);
            }
            if !told {
                let reason = format!(
                    "{market} waits: freeze `{}` until {} ({})",
                    hit.name,
                    hit.until
                        .to_zoned(jiff::tz::TimeZone::get(&m.timezone).unwrap_or(jiff::tz::TimeZone::UTC))
                        .strftime("%a %Y-%m-%d %H:%M %Z"),
                    hit.local
                );
                self.store.set_rollout_reason(rollout_id, &reason).await?;
                self.notify();
                told = true;
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// The rollout's state and decisions as `decided` holds them, read again when the engine
    /// signalled a wide change since (or when older than `max_age`).
    async fn decided(
        &self,
        rollout_id: i64,
        decided: &Decided,
        max_age: Option<Duration>,
    ) -> Result<(RolloutState, Arc<Vec<tandem_store::DecisionRow>>)> {
        let mut seen = decided.seen.lock().await;
        // Taken before the read: a change signalled during it is read again next time.
        let version = *self.wide_changes.borrow();
        if let Some(s) = seen.as_ref()
            && s.version == version
            && max_age.is_none_or(|age| s.at.elapsed() < age)
        {
            return Ok((s.state, s.decisions.clone()));
        }
        self.rollout_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let state = self.store.get_rollout_state(rollout_id).await?;
        let decisions = Arc::new(self.store.list_decisions(rollout_id).await?);
        *seen = Some(Seen {
            version,
            at: Instant::now(),
            state,
            decisions: decisions.clone(),
        });
        Ok((state, decisions))
    }

    async fn freeze_note(&self, rollout_id: i64, market: &str, reason: &str) {
        if let Err(e) = self
            .store
            .set_rollout_reason(rollout_id, &format!("{market}: {reason}"))
            .await
        {
            tracing::warn!(rollout_id, error = %e, "cannot record a freeze override");
        }
    }

    /// Pauses a rollout: the wave under way finishes, the next does not start until resumed.
    pub async fn pause_rollout(&self, id: i64, by: &str) -> Result<RolloutRow> {
        let row = self
            .store
            .set_rollout_state(
                id,
                &RolloutState::sources(RolloutState::Paused),
                RolloutState::Paused,
                by,
                None,
            )
            .await?;
        self.notify();
        Ok(row)
    }

    /// Resumes a paused rollout at its next wave, or a blocked one in its wave: its refused
    /// markets are checked again (once their config is fixed) or, with `skip_blocked`, skipped
    /// with the reason they were refused (they keep what they run).
    pub async fn resume_rollout(&self, id: i64, by: &str, skip_blocked: bool) -> Result<RolloutRow> {
        let r = self.store.get_rollout(id).await?;
        if skip_blocked {
            if r.state != RolloutState::Blocked {
                return Err(crate::Error::Conflict(format!(
                    "rollout {id} is {}: only a blocked rollout resumes without its blocked markets",
                    r.state
                )));
            }
            let skipped: HashSet<String> = self
                .store
                .list_decisions(id)
                .await?
                .into_iter()
                .filter(|d| d.kind == "skip")
                .map(|d| d.market)
                .collect();
            for (market, reason) in self.blocked_markets(id).await? {
                if skipped.contains(&market) {
                    continue;
                }
                self.store
                    .insert_decision(NewDecision {
                        rollout_id: id,
                        kind: "skip",
                        wave: None,
                        market: Some(&market),
                        by,
                        reason: Some(&format!("blocked: {reason}")),
                    })
                    .await?;
            }
        }
        let resumed = format!("resumed by {by}");
        let row = self
            .store
            .set_rollout_state_because(
                id,
                &[RolloutState::Paused, RolloutState::Blocked],
                RolloutState::Running,
                by,
                None,
                (r.state == RolloutState::Blocked).then_some(resumed.as_str()),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) if r.state == RolloutState::Halted => crate::Error::Conflict(format!(
                    "rollout {id} is halted: a market failed its gate, so the release itself is in question; \
                     fix it and start a new rollout (the markets that passed are not deployed again)"
                )),
                e => e.into(),
            })?;
        self.notify();
        Ok(row)
    }

    /// The markets whose latest deployment by rollout `id` was refused before it started, with
    /// why.
    async fn blocked_markets(&self, id: i64) -> Result<Vec<(String, String)>> {
        let mut latest: std::collections::BTreeMap<String, tandem_store::DeploymentRow> = Default::default();
        for d in self.store.list_deployments(Some(id)).await? {
            // A release rollout's deployments are `release`, a config rollout's `config`.
            if d.kind != DeploymentKind::Rollback {
                latest.insert(d.market.clone(), d);
            }
        }
        Ok(latest
            .into_values()
            .filter(|d| d.state == tandem_core::state::DeploymentState::Blocked)
            .map(|d| (d.market, d.reason.unwrap_or_default()))
            .collect())
    }

    /// Aborts a rollout: no further wave starts; markets keep what they run now.
    /// [`Engine::abort_rollout`], recording why: a decision (`abort`, in the audit log and the
    /// rollout's decisions) and the reason the rollout page shows.
    pub async fn abort_rollout_because(&self, id: i64, by: &str, reason: &str) -> Result<RolloutRow> {
        let row = self.abort_rollout(id, by).await?;
        self.store
            .insert_decision(NewDecision {
                rollout_id: id,
                kind: "abort",
                wave: Some(row.current_wave),
                market: None,
                by,
                reason: Some(reason),
            })
            .await?;
        self.store
            .set_rollout_reason(id, &format!("aborted by {by}: {reason}"))
            .await?;
        Ok(self.store.get_rollout(id).await?)
    }

    pub async fn abort_rollout(&self, id: i64, by: &str) -> Result<RolloutRow> {
        let row = self
            .store
            .set_rollout_state(
                id,
                &RolloutState::sources(RolloutState::Aborted),
                RolloutState::Aborted,
                by,
                None,
            )
            .await?;
        self.notify();
        Ok(row)
    }

    /// The role an approval of this rollout's awaited wave needs, from the platform file.
    pub async fn approval_role(&self, id: i64) -> Result<Option<Role>> {
        let r = self.store.get_rollout(id).await?;
        let waves = r.waves()?;
        let platform = self.store.load_platform().await?;
        Ok((r.current_wave as usize)
            .checked_sub(1)
            .and_then(|i| waves.get(i))
            .and_then(|(name, _)| platform.approval_after(name))
            .map(|a| a.role))
    }

    /// The wave an approval of rollout `id` is for — `wave` by name, or the one it waits to
    /// start when `None` — and the role that approval needs. Refused (409) unless the rollout
    /// waits for an approval of exactly that wave; 404 for a wave the rollout does not have.
    async fn wave_awaiting(&self, id: i64, wave: Option<&str>) -> Result<WaveApproval> {
        let r = self.store.get_rollout(id).await?;
        let waves = r.waves()?;
        let index = match wave {
            None => r.current_wave,
            Some(name) => waves
                .iter()
                .position(|(w, _)| w == name)
                .map(|i| i as i64)
                .ok_or_else(|| crate::Error::missing(format!("wave `{name}` in rollout {id}")))?,
        };
        if r.state != RolloutState::AwaitingApproval {
            return Err(crate::Error::Conflict(format!(
                "rollout {id} is {}: it waits for no approval, so there is nothing to approve",
                r.state
            )));
        }
        let name_of = |i: i64| {
            usize::try_from(i)
                .ok()
                .and_then(|i| waves.get(i))
                .map_or_else(|| format!("#{i}"), |(n, _)| n.clone())
        };
        if index != r.current_wave {
            return Err(crate::Error::Conflict(format!(
                "rollout {id} waits for an approval of wave `{}`, not of wave `{}`",
                name_of(r.current_wave),
                name_of(index)
            )));
        }
        let platform = self.store.load_platform().await?;
        // Operators approve unless the platform file names another role.
        let role = (index as usize)
            .checked_sub(1)
            .and_then(|i| waves.get(i))
            .and_then(|(previous, _)| platform.approval_after(previous))
            .map_or(Role::Operator, |a| a.role);
        Ok(WaveApproval {
            rollout_id: id,
            index,
            name: name_of(index),
            role,
        })
    }

    /// Records the approval (`approve`) or promotion (`promote`) of exactly `wave` by `by`,
    /// holding `role`: refused (403) unless `role` may approve that wave, and (409) if the
    /// rollout no longer waits for it, so the role checked is always the role of the wave
    /// approved. Two people approving at once: the second is refused.
    async fn decide_wave(
        &self,
        wave: &WaveApproval,
        by: &str,
        role: Role,
        kind: &str,
        reason: Option<&str>,
    ) -> Result<RolloutRow> {
        wave.allows(role)?;
        let row = self
            .store
            .decide_wave_because(wave.rollout_id, wave.index, kind, by, reason)
            .await?;
        self.notify();
        Ok(row)
    }

    /// Approves the wave rollout `id` waits for (or `wave`, which must be that one) as `by`,
    /// holding `role`: the platform file's `approvals` name the role each wave needs (operator
    /// by default); a viewer never may. 409 when the rollout waits for no approval of that
    /// wave, 404 for a wave it does not have.
    pub async fn approve_rollout(&self, id: i64, wave: Option<&str>, by: &str, role: Role) -> Result<RolloutRow> {
        let wave = self.wave_awaiting(id, wave).await?;
        self.decide_wave(&wave, by, role, "approve", None).await
    }

    /// [`Engine::approve_rollout`], recording why the wave may start.
    pub async fn approve_rollout_because(
        &self,
        id: i64,
        wave: Option<&str>,
        by: &str,
        role: Role,
        reason: &str,
    ) -> Result<RolloutRow> {
        let wave = self.wave_awaiting(id, wave).await?;
        self.decide_wave(&wave, by, role, "approve", Some(reason)).await
    }

    /// Goes on to the next wave now: a paused rollout is resumed (promoting a paused rollout
    /// means resuming it, whatever `wave` says); one awaiting approval gets it, as
    /// [`Engine::approve_rollout`] checks it, recorded as a promotion.
    pub async fn promote_rollout(&self, id: i64, wave: Option<&str>, by: &str, role: Role) -> Result<RolloutRow> {
        let r = self.store.get_rollout(id).await?;
        if r.state == RolloutState::Paused {
            return self.resume_rollout(id, by, false).await;
        }
        let wave = self.wave_awaiting(id, wave).await?;
        self.decide_wave(&wave, by, role, "promote", None).await
    }

    /// Leaves a market out of a rollout: it keeps what it runs. Refused once it was deployed.
    pub async fn skip_market(&self, id: i64, market: &str, by: &str) -> Result<RolloutRow> {
        self.skip_market_because(id, market, by, None).await
    }

    /// [`Engine::skip_market`], recording why the market is left out.
    pub async fn skip_market_because(
        &self,
        id: i64,
        market: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<RolloutRow> {
        let r = self.store.get_rollout(id).await?;
        if !r.in_progress() {
            return Err(crate::Error::Conflict(format!(
                "rollout {id} is {}: it deploys no more markets",
                r.state
            )));
        }
        if !r.waves()?.iter().any(|(_, ms)| ms.iter().any(|m| m == market)) {
            return Err(crate::Error::missing(format!("market `{market}` in rollout {id}")));
        }
        if let Some(d) = self
            .store
            .list_deployments(Some(id))
            .await?
            .into_iter()
            .rfind(|d| d.market == market && d.kind != DeploymentKind::Rollback)
            .filter(|d| d.state != tandem_core::state::DeploymentState::Blocked)
        {
            return Err(crate::Error::Conflict(format!(
                "{market} was already deployed by rollout {id} (deployment {}, {}): it cannot be skipped",
                d.id, d.state
            )));
        }
        self.store
            .insert_decision(NewDecision {
                rollout_id: id,
                kind: "skip",
                wave: None,
                market: Some(market),
                by,
                reason,
            })
            .await?;
        self.notify();
        Ok(self.store.get_rollout(id).await?)
    }

    /// Lets a rollout deploy into frozen markets. The caller checked it is an admin; the
    /// reason is required and recorded.
    pub async fn override_freeze(&self, id: i64, by: &str, reason: &str) -> Result<RolloutRow> {
        if reason.trim().is_empty() {
            return Err(crate::Error::Conflict("overriding a freeze needs a reason".into()));
        }
        let r = self.store.get_rollout(id).await?;
        if !r.in_progress() {
            return Err(crate::Error::Conflict(format!(
                "rollout {id} is {}: there is nothing to override",
                r.state
            )));
        }
        self.store
            .insert_decision(NewDecision {
                rollout_id: id,
                kind: "override",
                wave: None,
                market: None,
                by,
                reason: Some(reason),
            })
            .await?;
        self.notify();
        Ok(self.store.get_rollout(id).await?)
    }

    /// Copies a release's artifacts out of the blob store (fetched from the database first if
    /// this server lacks them, then each digest verified) into the folder its processes run
    /// from; returns artifact name → path.
    pub(crate) async fn prepare_release(&self, release: &ReleaseRow) -> anyhow::Result<HashMap<String, String>> {
        let dir = self.release_dir(release);
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut paths = HashMap::new();
        for a in self.store.list_release_artifacts(release.id).await? {
            let source = self.store.local_blob(&a.digest).await?;
            let blobs = self.store.blobs().clone();
            let digest = a.digest.clone();
            if !tokio::task::spawn_blocking(move || blobs.verify(&digest)).await?? {
                bail!(
                    "artifact {} of release {} does not match its digest {}: refusing to deploy it",
                    a.name,
                    release.version,
                    a.digest
                );
            }
            let dest = dir.join(&a.name);
            if !dest.exists() {
                let tmp = dir.join(format!(".{}.tmp", a.name));
                tokio::fs::copy(&source, &tmp).await?;
                use std::os::unix::fs::PermissionsExt;
                tokio::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).await?;
                tokio::fs::rename(&tmp, &dest).await?;
            }
            paths.insert(a.name.clone(), dest.display().to_string());
        }
        Ok(paths)
    }

    /// Where a release's artifacts are copied for its processes to run from.
    pub(crate) fn release_dir(&self, release: &ReleaseRow) -> PathBuf {
        self.settings
            .deploy_dir
            .join(&release.service)
            .join("releases")
            .join(&release.version)
    }

    pub(crate) fn market_dir(&self, service: &str, market: &str) -> PathBuf {
        self.settings.deploy_dir.join(service).join("markets").join(market)
    }
}
