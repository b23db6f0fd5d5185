//! Tandem's workers: the git reader, the pipeline runner, the rollout engine and the supervisor
//! of market processes. They act on the store and leave every result in it; the server and the
//! CLI drive them through [`Engine`].

pub mod access;
mod cache;
pub mod catalog;
pub mod changes;
pub mod conductor;
pub mod configs;
pub mod deploy;
pub mod dispatch;
pub mod dora;
pub mod driver;
pub mod error;
pub mod executor;
pub mod flag_emergencies;
pub mod flags;
pub mod front;
pub mod gates;
pub mod git;
mod handoff;
pub mod history;
pub mod incidents;
mod job;
pub mod launch;
pub mod logs;
pub mod masking;
pub mod mirror;
pub mod monitor;
pub mod notifications;
pub mod pipeline;
pub mod plan;
pub mod processes;
pub mod records;
pub mod rollback;
pub mod rollout;
pub mod runner;
pub mod secrets;
mod slots;
mod snapshot;
pub mod supervisor;
pub mod tls;
pub mod triggers;
pub mod views;

pub use error::{Error, Result};

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tandem_core::platform::Service;
use tandem_store::{RolloutRow, RunRow, Store};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How many commits of a branch are read when syncing a repository.
const HISTORY_LIMIT: usize = 1000;
/// How long artifacts are kept when their job sets no `retention` and no release needs them.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86400);
/// Largest artifact a job may store: beyond it is almost surely a mistake (a whole target dir).
const MAX_ARTIFACT_BYTES: u64 = 2 << 30;
/// How often blobs nothing references are collected.
pub const GC_INTERVAL: Duration = Duration::from_secs(3600);

/// How long shutdown waits for runs and rollouts under way before stopping processes anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where the engine works, and how hard.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Fresh job workspaces and live logs.
    pub work_dir: PathBuf,
    /// Released artifacts and per-market config files and logs.
    pub deploy_dir: PathBuf,
    /// How many markets of one wave deploy at once.
    pub max_parallel_markets: usize,
    /// How many jobs of one run run at once.
    pub max_parallel_jobs: usize,
    /// Largest artifact a job may store, in bytes.
    pub max_artifact_bytes: u64,
    /// Most bytes of output a job's log keeps.
    pub max_log_bytes: u64,
    /// The key sealing secrets in the store; `None`: the key file in the data folder, made on
    /// first start.
    pub secrets_key: Option<Arc<tandem_store::SecretKey>>,
    /// How long the conductor's lease lasts without renewal (see [`conductor`]).
    pub lease_ttl: Duration,
    /// Whether jobs run on agents (see [`dispatch`]) rather than in this process (`tandem run`
    /// and the engine's own tests).
    pub on_agents: bool,
    /// How long an agent holds a job without reporting (see [`dispatch::JOB_LEASE`]).
    pub job_lease: Duration,
    /// How long the monitor's series are kept, at each resolution (see [`monitor`]).
    pub series_retention: tandem_core::monitor::Retention,
}

impl EngineSettings {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            work_dir: data_dir.join("work"),
            deploy_dir: data_dir.join("deploy"),
            max_parallel_markets: 8,
            max_parallel_jobs: 4,
            max_artifact_bytes: MAX_ARTIFACT_BYTES,
            max_log_bytes: logs::DEFAULT_LOG_LIMIT,
            secrets_key: None,
            lease_ttl: conductor::LEASE_TTL,
            on_agents: false,
            job_lease: dispatch::JOB_LEASE,
            series_retention: tandem_core::monitor::Retention::default(),
        }
    }
}

/// The workers, sharing the store, the supervisor and a change signal for live views.
#[derive(Debug)]
pub struct Engine {
    /// Private: the server and the CLI read and act through the engine's methods (see
    /// [`access`], [`catalog`], [`records`]), so every rule lives behind one door.
    store: Store,
    pub settings: EngineSettings,
    pub supervisor: supervisor::Supervisor,
    /// The markets' fronts (services with `gates.canary`).
    fronts: front::Fronts,
    /// Where steps run.
    pub executor: Arc<dyn executor::Executor>,
    /// Runs in progress, to cancel them.
    running_runs: tokio::sync::Mutex<std::collections::HashMap<i64, CancellationToken>>,
    http: reqwest::Client,
    tasks: TaskTracker,
    /// Cancelled at shutdown: stops the background loops (triggers).
    stop: CancellationToken,
    changes: tokio::sync::watch::Sender<u64>,
    /// The signals on `changes` that are not one market's deployment starting or ending.
    wide_changes: tokio::sync::watch::Sender<u64>,
    /// What the signals on `changes` were about, for the monitor (see [`monitor::Touched`]).
    touched: std::sync::Mutex<monitor::Touched>,
    /// How many times the monitor read every live market (see [`Engine::monitor_whole_reads`]).
    monitor_whole_reads: std::sync::atomic::AtomicU64,
    /// How many times a wave's markets read their rollout's state and decisions (see
    /// [`Engine::rollout_reads`]).
    rollout_reads: std::sync::atomic::AtomicU64,
    /// Live deployments whose commits wait to be recorded (see [`dora`]).
    commit_queue: dora::CommitQueue,
    /// The feature flags in force (see [`Engine::flags`]), and their ETag for watchers.
    flags: std::sync::RwLock<Arc<flags::FlagSnapshot>>,
    flag_changes: tokio::sync::watch::Sender<String>,
    /// Markets moving to a new config version, for config watchers.
    config_moves: tokio::sync::broadcast::Sender<configs::ConfigMove>,
    /// True while [`Engine::recover`] starts live markets again: the monitor waits, so that a
    /// market not yet restarted is not taken for one that went down.
    restarting: std::sync::atomic::AtomicBool,
    /// The DORA history last read, and what it was read up to (refreshed by what changed).
    dora_cache: tokio::sync::Mutex<Option<tandem_store::DoraState>>,
    /// Held while a failed gate finds or opens its rollout's one incident, so markets of one
    /// wave failing together open one incident, not one each.
    halt_incident: tokio::sync::Mutex<()>,
    /// Seals and opens the secrets store's values (see [`Engine::secret`]).
    secrets_key: Arc<tandem_store::SecretKey>,
    /// Mirrors of the services whose repository is a URL, under `<data>/repos`.
    mirrors: mirror::Mirrors,
    /// This server's name among those sharing the database (see [`conductor`]).
    holder: String,
    /// Whether this server is the conductor (see [`conductor`]).
    part: std::sync::Mutex<conductor::Part>,
    /// When the conductor's lease was last renewed (Unix ms, this server's clock).
    renewed_at: std::sync::atomic::AtomicI64,
    /// While conductor: its sign of life for the others (see [`conductor`]).
    alive: std::sync::Mutex<Option<tandem_store::leases::Liveness>>,
    /// While another server conducts: this one stands by (see [`conductor`]).
    standby: std::sync::Mutex<Option<tandem_store::leases::Standby>>,
    /// The fence of the conductor's lease this server saw at its last try.
    seen_fence: std::sync::atomic::AtomicI64,
    /// The rollouts this server's driver is driving.
    driving: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// How many markets deploy at once, in all and per service (see [`slots`]).
    slots: slots::Slots,
    /// Wakes the sender of "something changed" signals.
    outbox: tokio::sync::Notify,
    /// Wakes the conductor to look for work recorded for it.
    work: tokio::sync::Notify,
    /// Held while an archive of a commit's tree is made for agents (see [`dispatch`]).
    sources: tokio::sync::Mutex<()>,
}

impl Engine {
    pub async fn new(store: Store, settings: EngineSettings) -> Result<Arc<Self>> {
        for dir in [&settings.work_dir, &settings.deploy_dir] {
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let http = crate::tls::client_builder()
            .build()
            .context("cannot build the probe client")?;
        let supervisor = supervisor::Supervisor::new(store.clone());
        let secrets_key = secrets::resolve_key(settings.secrets_key.clone(), store.data_dir())?;
        let mirrors = mirror::Mirrors::new(store.data_dir().join("repos"));
        let holder = conductor::server_name(store.data_dir())?;
        let engine = Arc::new(Self {
            store,
            settings,
            supervisor,
            fronts: front::Fronts::default(),
            executor: Arc::new(executor::LocalExecutor::default()),
            running_runs: Default::default(),
            http,
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            changes: tokio::sync::watch::channel(0).0,
            wide_changes: tokio::sync::watch::channel(0).0,
            touched: Default::default(),
            monitor_whole_reads: Default::default(),
            rollout_reads: Default::default(),
            commit_queue: Default::default(),
            flags: std::sync::RwLock::new(Arc::new(flags::FlagSnapshot {
                set: tandem_core::flags::FlagSet::new(Vec::new()),
                versions: Default::default(),
                owners: Default::default(),
                kills: Vec::new(),
            })),
            flag_changes: tokio::sync::watch::channel(String::new()).0,
            config_moves: tokio::sync::broadcast::channel(1024).0,
            restarting: std::sync::atomic::AtomicBool::new(false),
            dora_cache: tokio::sync::Mutex::new(None),
            halt_incident: tokio::sync::Mutex::new(()),
            secrets_key,
            mirrors,
            holder,
            part: std::sync::Mutex::new(conductor::Part::Sole),
            renewed_at: Default::default(),
            alive: Default::default(),
            standby: Default::default(),
            seen_fence: Default::default(),
            driving: Default::default(),
            slots: Default::default(),
            outbox: tokio::sync::Notify::new(),
            work: tokio::sync::Notify::new(),
            sources: tokio::sync::Mutex::new(()),
        });
        engine.load_flags().await?;
        Ok(engine)
    }

    /// The store, for tests that set up or check what the engine cannot do for them.
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn store_for_tests(&self) -> &Store {
        &self.store
    }

    /// A receiver that wakes on every change the engine makes (for live views).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Like [`Engine::subscribe`], without the signals of one market's deployment starting or
    /// ending (two per market of a rollout): for watchers those never concern, such as an
    /// agent's request for work, which a deployment on an agent wakes through the task it
    /// queues.
    pub fn subscribe_wide(&self) -> tokio::sync::watch::Receiver<u64> {
        self.wide_changes.subscribe()
    }

    /// Wakes the live views of this server, and (through a signal) of every server sharing
    /// the database.
    pub fn notify(&self) {
        self.changed_widely();
        self.outbox.notify_one();
    }

    /// A change that may concern any market or any watcher (this server's or another's).
    fn changed_widely(&self) {
        self.touched.lock().unwrap_or_else(|e| e.into_inner()).widen();
        self.changes.send_modify(|n| *n += 1);
        self.wide_changes.send_modify(|n| *n += 1);
    }

    /// [`Engine::notify`] for a change that concerns only `service` in `market` (a deployment
    /// starting or ending): the monitor then reads that market alone, not every live market.
    pub(crate) fn notify_market(&self, service: &str, market: &str) {
        self.touched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(service, market);
        self.changes.send_modify(|n| *n += 1);
        self.outbox.notify_one();
    }

    /// How many times the monitor read every live market: on its rescan and on changes that
    /// may concern any market, never once per market deployed.
    #[doc(hidden)]
    pub fn monitor_whole_reads(&self) -> u64 {
        self.monitor_whole_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether what changed since the monitor last asked may concern any market, and how many
    /// markets it named otherwise (the monitor reads them at once past a few).
    pub(crate) fn peek_touched(&self) -> (bool, usize) {
        let touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        (touched.is_wide(), touched.named())
    }

    /// How many times the markets of rollouts' waves read their rollout's state and decisions:
    /// once a wave, and again on wide changes, never once per market.
    #[doc(hidden)]
    pub fn rollout_reads(&self) -> u64 {
        self.rollout_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What changed since the monitor last asked (and forgets it).
    pub(crate) fn take_touched(&self) -> monitor::Touched {
        std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Marks what the previous conductor left unfinished: runs it was executing are
    /// interrupted and deployments it left half-done failed (queued runs wait for this one);
    /// stale health and market locks are forgotten.
    async fn recover_now(&self) -> Result<()> {
        let runs = self.store.interrupt_unfinished_runs().await?;
        let deployments = self.store.fail_unfinished_deployments().await?;
        if !runs.is_empty() || deployments > 0 {
            tracing::warn!(
                runs = runs.len(),
                deployments,
                "marked work left unfinished by the previous conductor"
            );
        }
        self.store.forget_stale_health().await?;
        let returned = self.store.return_unfinished_handoffs().await?;
        if returned > 0 {
            tracing::warn!(returned, "work handed to the previous conductor runs again");
        }
        let stale = self.store.release_stale_locks().await?;
        if stale > 0 {
            tracing::warn!(stale, "released market locks nothing holds any more");
        }
        Ok(())
    }

    /// Picks up the processes of live markets: a process the previous server left serving a
    /// live market (its recorded deployment, alive, on its recorded port) is adopted; every
    /// other process it left is stopped, whole group; then the markets not adopted are started
    /// again, on their recorded ports and in parallel.
    async fn restart_live_markets(self: &Arc<Self>) -> Result<()> {
        let mut wanted = Vec::new();
        let mut starts = Vec::new();
        for d in self.store.list_live_deployments().await? {
            let release = self.store.get_release(d.release_id).await?;
            let spec = release.service_spec()?;
            // Only the process driver's markets run here; a command's deployment lives elsewhere.
            if spec
                .deploy
                .as_ref()
                .is_none_or(|dep| dep.driver != tandem_core::pipeline::Driver::Process)
            {
                continue;
            }
            let Some(port) = d
                .url
                .as_deref()
                .and_then(|u| u.rsplit(':').next())
                .and_then(|p| p.parse().ok())
            else {
                continue;
            };
            wanted.push(supervisor::Wanted {
                service: d.service.clone(),
                market: d.market.clone(),
                release_id: release.id,
                release: release.version.clone(),
                deployment_id: d.id,
                port,
                log: self
                    .market_dir(&d.service, &d.market)
                    .join(format!("{}.log", release.version)),
            });
            starts.push((d, release, spec, port));
        }
        // Before anything starts: what still holds a port must be adopted or gone.
        let adopted = self.supervisor.reclaim(&wanted).await;
        // The fronts of adopted markets serve them again at once; a restarted market's, once
        // it answers.
        for (d, _, spec, _) in starts
            .iter()
            .filter(|(d, ..)| adopted.contains(&(d.service.clone(), d.market.clone())))
        {
            self.front_serves(spec, &d.service, &d.market, d.url.as_deref().unwrap_or_default())
                .await;
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(self.settings.max_parallel_markets));
        let snapshot = self.snapshot().await?;
        let mut set = tokio::task::JoinSet::new();
        for (d, release, spec, port) in starts {
            if adopted.contains(&(d.service.clone(), d.market.clone())) {
                continue;
            }
            let artifacts = self.release_artifact_paths(&release).await?;
            let (engine, limit, snapshot) = (self.clone(), limit.clone(), snapshot.clone());
            set.spawn(tandem_store::inherit(async move {
                let _permit = limit.acquire_owned().await;
                if engine.stop.is_cancelled() {
                    return; // shutting down: nothing new starts
                }
                let landing = gates::Landing {
                    snapshot: &snapshot,
                    release: &release,
                    spec: &spec,
                    artifacts: &artifacts,
                    market: &d.market,
                    deployment_id: d.id,
                    port: Some(port),
                    action: "restart",
                    config_version: d.config_version,
                };
                match engine.start_and_judge(landing).await {
                    Ok(gates::Passed {
                        driver, instance, url, ..
                    }) => {
                        let pid = instance.pid;
                        driver.promote(&engine, &d.service, &d.market, instance).await;
                        engine
                            .front_serves(&spec, &d.service, &d.market, url.as_deref().unwrap_or_default())
                            .await;
                        if let Some(pid) = pid
                            && let Err(e) = engine.store.set_live_pid(&d.service, &d.market, pid).await
                        {
                            tracing::warn!(market = %d.market, error = %e, "cannot record a restarted process");
                        }
                    }
                    Err(f) => tracing::warn!(market = %d.market, reason = %f.reason, "cannot restart a live market"),
                }
            }));
        }
        while set.join_next().await.is_some() {}
        self.notify();
        Ok(())
    }

    async fn release_artifact_paths(
        &self,
        release: &tandem_store::ReleaseRow,
    ) -> Result<std::collections::HashMap<String, String>> {
        let dir = self.release_dir(release);
        Ok(self
            .store
            .list_release_artifacts(release.id)
            .await?
            .into_iter()
            .map(|a| (a.name.clone(), dir.join(&a.name).display().to_string()))
            .collect())
    }

    /// Reads new commits of a service's branch into the store; returns the branch head.
    pub async fn sync_commits(&self, service: &str) -> Result<String> {
        let svc = self.platform_service(service).await?;
        let repo = self.fetch_repo(service).await?;
        let branch = svc.branch.clone();
        let (head, commits) = tokio::task::spawn_blocking(move || -> Result<_> {
            let head = git::branch_head(&repo, &branch)?;
            let commits = git::read_history(&repo, &head, HISTORY_LIMIT)?;
            Ok((head, commits))
        })
        .await??;
        let added = self.store.insert_commits(service, &commits).await?;
        if added > 0 {
            tracing::info!(service, added, "recorded commits");
            self.notify();
        }
        Ok(head)
    }

    /// Queues a run of the service's branch head and starts it in the background.
    pub async fn trigger_run(self: &Arc<Self>, service: &str, trigger: &str) -> Result<RunRow> {
        let head = self.sync_commits(service).await?;
        let svc = self.platform_service(service).await?;
        self.queue_run(service, &svc.branch, &head, trigger).await
    }

    /// Queues a run of `sha` on `branch` (as a push webhook reports it) and starts it in the
    /// background. The commit must be in the service's repository.
    pub async fn trigger_run_at(
        self: &Arc<Self>,
        service: &str,
        branch: &str,
        sha: &str,
        trigger: &str,
    ) -> Result<RunRow> {
        let repo = self.repo_path(service).await?;
        let shown = tandem_core::platform::redact_url(&self.platform_service(service).await?.repo);
        let sha2 = sha.to_string();
        let commits = tokio::task::spawn_blocking(move || git::read_history(&repo, &sha2, HISTORY_LIMIT))
            .await?
            .map_err(|e| {
                Error::refused(format!(
                    "commit {sha} is not in the repository of `{service}` ({shown}): {e:#}"
                ))
            })?;
        if self.store.insert_commits(service, &commits).await? > 0 {
            self.notify();
        }
        self.queue_run(service, branch, sha, trigger).await
    }

    async fn queue_run(self: &Arc<Self>, service: &str, branch: &str, sha: &str, trigger: &str) -> Result<RunRow> {
        let run = self.store.insert_run(service, sha, branch, trigger).await?;
        self.notify();
        self.spawn_run(run.id).await;
        Ok(run)
    }

    /// Executes queued run `id` here when this server is the conductor (and nothing here
    /// executes it yet); otherwise the conductor is told.
    pub(crate) async fn spawn_run(self: &Arc<Self>, id: i64) {
        if !self.is_conductor() {
            self.signal(conductor::Signal::Work);
            return;
        }
        {
            let mut running = self.running_runs.lock().await;
            if running.contains_key(&id) {
                return;
            }
            running.insert(id, CancellationToken::new());
        }
        let engine = self.clone();
        if !self.spawn_conducted(async move { engine.execute_run(id).await }) {
            self.running_runs.lock().await.remove(&id);
        }
    }

    /// Queues a run that repeats `run_id` at the same commit, running only the jobs that did
    /// not pass there.
    pub async fn rerun_failed(self: &Arc<Self>, run_id: i64) -> Result<RunRow> {
        let original = self.store.get_run(run_id).await?;
        if original.state.is_in_progress() {
            return Err(Error::conflict(format!(
                "run {run_id} is still {}: wait for it to end",
                original.state
            )));
        }
        if original.state == tandem_core::state::RunState::Success {
            return Err(Error::conflict(format!(
                "run {run_id} passed: there is nothing to re-run"
            )));
        }
        let run = self.store.insert_rerun(&original, "rerun").await?;
        self.notify();
        self.spawn_run(run.id).await;
        Ok(run)
    }

    /// Records a rollout of a release and starts it in the background.
    pub async fn start_rollout(self: &Arc<Self>, release_id: i64, created_by: &str) -> Result<RolloutRow> {
        self.start_rollout_with(release_id, created_by, false).await
    }

    /// Like [`Engine::start_rollout`]; with `queue`, a rollout whose markets are held by
    /// another waits for them instead of being refused.
    pub async fn start_rollout_with(
        self: &Arc<Self>,
        release_id: i64,
        created_by: &str,
        queue: bool,
    ) -> Result<RolloutRow> {
        let rollout = self.create_rollout(release_id, created_by, queue).await?;
        self.notify();
        if rollout.state != tandem_core::state::RolloutState::Queued {
            self.spawn_rollout(rollout.id);
        }
        Ok(rollout)
    }

    /// Drives rollout `rollout_id` here when this server is the conductor (and does not drive
    /// it yet); otherwise the conductor is told.
    pub(crate) fn spawn_rollout(self: &Arc<Self>, rollout_id: i64) {
        if !self.is_conductor() {
            self.signal(conductor::Signal::Work);
            return;
        }
        if !self.claim_rollout(rollout_id) {
            return;
        }
        let engine = self.clone();
        if !self.spawn_conducted(async move {
            engine.execute_rollout(rollout_id).await;
            engine.release_rollout(rollout_id);
        }) {
            self.release_rollout(rollout_id);
        }
    }

    pub(crate) async fn platform_service(&self, service: &str) -> Result<Service> {
        self.store
            .load_platform()
            .await?
            .service(service)
            .cloned()
            .ok_or_else(|| {
                Error::not_found(
                    "service",
                    service,
                    format!("unknown service `{service}`: it is not in the platform file"),
                )
            })
    }

    /// Where the service's repository is read: its local path, or the mirror of its URL (made
    /// and fetched on first use). Reads what the mirror holds; see [`Engine::fetch_repo`].
    pub(crate) async fn repo_path(&self, service: &str) -> Result<PathBuf> {
        // The service's row alone: every market's deployment asks (for its commits).
        let svc = self.store.get_service(service).await?.ok_or_else(|| {
            Error::not_found(
                "service",
                service,
                format!("unknown service `{service}`: it is not in the platform file"),
            )
        })?;
        if let Some(url) = tandem_core::platform::remote_repo_url(&svc.repo) {
            let mirror = self.mirrors.path(service);
            if mirror.join("HEAD").exists() {
                return Ok(mirror);
            }
            return Ok(self.mirrors.fetch(service, url, &svc.branch).await?);
        }
        let path = PathBuf::from(svc.repo.strip_prefix("file://").unwrap_or(&svc.repo));
        if !path.exists() {
            return Err(Error::refused(format!(
                "the repository of service `{service}` does not exist: {}",
                path.display()
            )));
        }
        Ok(path)
    }

    /// [`Engine::repo_path`], once the service's branch is fetched from its URL (a local
    /// repository is read in place, always current). A failed fetch is a
    /// [`mirror::FetchError`] naming the service and the URL.
    pub(crate) async fn fetch_repo(&self, service: &str) -> Result<PathBuf> {
        let svc = self.platform_service(service).await?;
        match tandem_core::platform::remote_repo_url(&svc.repo) {
            Some(url) => Ok(self.mirrors.fetch(service, url, &svc.branch).await?),
            None => self.repo_path(service).await,
        }
    }

    /// [`Engine::repo_path`], fetched first when the mirror lacks commit `sha`.
    pub(crate) async fn repo_with_commit(&self, service: &str, sha: &str) -> Result<PathBuf> {
        let repo = self.repo_path(service).await?;
        let svc = self.platform_service(service).await?;
        if tandem_core::platform::remote_repo_url(&svc.repo).is_none() {
            return Ok(repo);
        }
        let (path, commit) = (repo.clone(), sha.to_string());
        if tokio::task::spawn_blocking(move || git::has_commit(&path, &commit)).await?? {
            return Ok(repo);
        }
        self.fetch_repo(service).await
    }

    /// Stops taking work, waits (up to a grace period) for work under way, then stops the
    /// market processes: every one when this server conducts (or works alone) and no other
    /// server stands by, none when one does (it takes the lease over at once and adopts
    /// them), only those it started itself when another server conducts (the rest are the
    /// conductor's).
    pub async fn shutdown(&self) {
        let conducting = self.is_conductor();
        let handing_over = conducting && self.anyone_standing_by().await;
        self.stop.cancel();
        self.tasks.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tasks.wait()).await.is_err() {
            tracing::warn!("work still under way at shutdown; it will be marked on the next start");
        }
        if handing_over {
            tracing::info!("another server stands by: the market processes are left for it to adopt");
            self.supervisor.leave_running().await;
        } else if conducting {
            self.supervisor.stop_all().await;
        } else {
            self.supervisor.stop_own().await;
        }
    }
}
