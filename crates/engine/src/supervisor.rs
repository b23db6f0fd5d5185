//! The `process` driver's supervisor: one local process per service and market, started for a
//! new release, switched to once healthy, and stopped (TERM to its group, then KILL after a
//! grace period) when replaced or when the server shuts down.
//!
//! Every process it starts is recorded in the store before it starts, with its identity (pid,
//! group, start time, boot) once it runs, and forgotten only once nothing of its group is left.
//! So a server started again after a crash finds them all: it adopts the one that still serves
//! a live market's recorded deployment on its recorded port, stops every other one (whole
//! group) before anything starts again, and a clean stop stops every recorded one.

use crate::processes::{self, INSTANCE_VAR};
use anyhow::{Context, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tandem_store::{MarketProcessRow, NewMarketProcess, ProcessIdentity, Store};
use tokio::process::Child;
use tokio::sync::Mutex;

/// How long a stopped process gets between TERM and KILL: enough for a web server to finish
/// its requests, short enough that a rollback stays fast.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The first wait before a crashed market process is started again; it doubles with each
/// crash in a row, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A process that stayed up this long is healthy again: its next crash waits the first backoff.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);

/// What to start for a market: the command, its environment, and what it stands for.
#[derive(Debug, Clone)]
pub struct ProcessPlan {
    pub service: String,
    pub market: String,
    pub release_id: i64,
    /// The release's version.
    pub release: String,
    pub deployment_id: i64,
    pub port: u16,
    pub argv: Vec<String>,
    /// Exactly the environment it gets (the instance marker is added).
    pub env: BTreeMap<String, String>,
    /// Where its output is appended.
    pub log: PathBuf,
}

/// What a live market should run after a restart: a recorded process that still runs this
/// deployment on this port is adopted (see [`Supervisor::reclaim`]).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub service: String,
    pub market: String,
    pub release_id: i64,
    pub release: String,
    pub deployment_id: i64,
    pub port: u16,
    pub log: PathBuf,
}

/// A started (or adopted) market process.
#[derive(Debug)]
pub struct MarketProcess {
    /// `None` for a process adopted after a restart: not this server's child, it is watched
    /// through /proc.
    child: Option<Child>,
    pub pid: u32,
    /// How it was started, to start it again after a crash.
    plan: ProcessPlan,
    /// Its row in the store.
    record: i64,
    instance: String,
    identity: Option<ProcessIdentity>,
    started: Instant,
    /// Crashes in a row, and when the next start may be tried.
    crashes: u32,
    retry_at: Option<Instant>,
}

/// A market process the supervisor found dead and started again (or could not).
#[derive(Debug, Clone)]
pub struct Restart {
    pub service: String,
    pub market: String,
    pub release: String,
    /// How it ended.
    pub status: String,
    /// The new process id, when it started.
    pub pid: Option<u32>,
    /// Crashes in a row so far.
    pub crashes: u32,
    pub error: Option<String>,
}

impl MarketProcess {
    /// Whether the process has exited, and with what.
    pub fn exited(&mut self) -> Option<String> {
        match &mut self.child {
            Some(child) => match child.try_wait() {
                Ok(Some(status)) => Some(status.to_string()),
                Ok(None) => None,
                Err(e) => Some(format!("cannot be waited for: {e}")),
            },
            None => match &self.identity {
                Some(who) if processes::is_alive(who) => None,
                _ => Some("exited (adopted after a restart: its exit status is unknown)".into()),
            },
        }
    }

    /// The port it was started to serve on.
    pub fn port(&self) -> u16 {
        self.plan.port
    }
}

/// The processes that serve each (service, market), and the store that records every process
/// started.
#[derive(Debug)]
pub struct Supervisor {
    store: Store,
    running: Mutex<HashMap<(String, String), MarketProcess>>,
}

impl Supervisor {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            running: Mutex::default(),
        }
    }

    /// Starts what `plan` says, recorded in the store first. It is not yet the market's
    /// process: [`Supervisor::promote`] makes it so once it is healthy.
    pub async fn spawn(&self, plan: ProcessPlan) -> Result<MarketProcess> {
        self.spawn_as(plan, false).await
    }

    async fn spawn_as(&self, plan: ProcessPlan, serving: bool) -> Result<MarketProcess> {
        let instance = processes::new_instance();
        let new = NewMarketProcess {
            service: &plan.service,
            market: &plan.market,
            release_id: plan.release_id,
            deployment_id: plan.deployment_id,
            port: plan.port,
            instance: &instance,
            serving,
        };
        // No record, no process: a process nobody recorded could outlive a crash unseen.
        let record = self.store.insert_market_process(&new).await.with_context(|| {
            format!(
                "cannot record the process of {} in {} before starting it",
                plan.service, plan.market
            )
        })?;
        let child = match start(&plan, &instance) {
            Ok(child) => child,
            Err(e) => {
                self.forget(record).await;
                return Err(e);
            }
        };
        let Some(pid) = child.id() else {
            self.forget(record).await;
            anyhow::bail!("`{}` exited at once", plan.argv.join(" "));
        };
        let identity = processes::identify(pid);
        match &identity {
            Some(who) => {
                if let Err(e) = self.store.set_market_process_identity(record, who).await {
                    // Still found after a crash, by its instance marker.
                    tracing::warn!(pid, error = %e, "cannot record a market process's identity");
                }
            }
            None => tracing::warn!(pid, "cannot read a market process's identity from /proc"),
        }
        Ok(MarketProcess {
            child: Some(child),
            pid,
            plan,
            record,
            instance,
            identity,
            started: Instant::now(),
            crashes: 0,
            retry_at: None,
        })
    }

    async fn forget(&self, record: i64) {
        if let Err(e) = self.store.delete_market_process(record).await {
            tracing::warn!(record, error = %e, "cannot forget a market process");
        }
    }

    /// Looks at every market process: one that died is started again on its port, after a
    /// backoff that doubles with each crash in a row (1 s, 2 s, 4 s … 60 s), once what it left
    /// of its group is stopped. Returns what it found dead and restarted (or could not).
    pub async fn restart_crashed(&self) -> Vec<Restart> {
        let mut out = Vec::new();
        let now = Instant::now();
        let mut running = self.running.lock().await;
        for ((service, market), p) in running.iter_mut() {
            let Some(status) = p.exited() else {
                continue;
            };
            let retry_at = *p.retry_at.get_or_insert_with(|| {
                p.crashes = if p.started.elapsed() > HEALTHY_AFTER {
                    1
                } else {
                    p.crashes + 1
                };
                let wait = FIRST_BACKOFF
                    .saturating_mul(1 << (p.crashes - 1).min(6))
                    .min(MAX_BACKOFF);
                let _ = writeln_log(
                    &p.plan.log,
                    &format!("note: exited ({status}); starting again in {}s", wait.as_secs()),
                );
                now + wait
            });
            if now < retry_at {
                continue;
            }
            let mut restart = Restart {
                service: service.clone(),
                market: market.clone(),
                release: p.plan.release.clone(),
                status,
                pid: None,
                crashes: p.crashes,
                error: None,
            };
            // What it started may still hold its port.
            if processes::stop_group(p.identity.as_ref(), &p.instance, STOP_GRACE).await {
                self.forget(p.record).await;
            }
            match self.spawn_as(p.plan.clone(), true).await {
                Ok(mut fresh) => {
                    fresh.crashes = p.crashes;
                    restart.pid = Some(fresh.pid);
                    *p = fresh;
                }
                Err(e) => {
                    // Tried again after the next backoff.
                    p.crashes += 1;
                    p.retry_at = None;
                    restart.error = Some(format!("{e:#}"));
                }
            }
            out.push(restart);
        }
        out
    }

    /// Makes `process` the one serving the market and stops the one it replaces.
    pub async fn promote(&self, service: &str, market: &str, process: MarketProcess) {
        if let Err(e) = self.store.mark_market_process_serving(process.record).await {
            tracing::warn!(service, market, error = %e, "cannot record a promoted market process");
        }
        let old = self
            .running
            .lock()
            .await
            .insert((service.to_string(), market.to_string()), process);
        if let Some(old) = old {
            self.stop(old).await;
        }
    }

    /// Stops a process and everything it started, and forgets it.
    pub async fn stop(&self, process: MarketProcess) {
        stop_and_forget(self.store.clone(), process).await;
    }

    /// Whether the market's current process is alive.
    pub async fn is_running(&self, service: &str, market: &str) -> bool {
        let mut running = self.running.lock().await;
        match running.get_mut(&(service.to_string(), market.to_string())) {
            Some(p) => p.exited().is_none(),
            None => false,
        }
    }

    /// After a restart, before anything starts: adopts each recorded process that still serves
    /// a wanted market (the recorded deployment and release, alive, listening on its port), and
    /// stops every other recorded process, whole group, and waits for them. Returns the markets
    /// adopted; the others are free to start afresh on their ports.
    pub async fn reclaim(&self, wanted: &[Wanted]) -> HashSet<(String, String)> {
        let mut adopted = HashSet::new();
        let rows = match self.store.list_market_processes().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the market processes a previous server started");
                return adopted;
            }
        };
        let mut stops = tokio::task::JoinSet::new();
        for row in rows {
            let key = (row.service.clone(), row.market.clone());
            let fit = wanted.iter().find(|w| {
                w.service == row.service
                    && w.market == row.market
                    && w.deployment_id == row.deployment_id
                    && w.release_id == row.release_id
                    && i64::from(w.port) == row.port
            });
            if let Some(w) = fit.filter(|_| row.serving && !adopted.contains(&key))
                && let Some(p) = adopt(&row, w)
            {
                tracing::info!(service = %row.service, market = %row.market, pid = p.pid, release = %w.release, "adopted a market process left by the previous server");
                self.running.lock().await.insert(key.clone(), p);
                adopted.insert(key);
                continue;
            }
            stops.spawn(stop_row(self.store.clone(), row));
        }
        let stopped = stops.len();
        while stops.join_next().await.is_some() {}
        if stopped > 0 {
            tracing::warn!(stopped, "stopped market processes left by the previous server");
        }
        adopted
    }

    /// Stops every process: those serving markets, those still judged by their gates, and any
    /// other one recorded (left by a previous server); in parallel, and waits for them.
    pub async fn stop_all(&self) {
        let mut count = self.stop_own().await;
        let mut set = tokio::task::JoinSet::new();
        match self.store.list_market_processes().await {
            Ok(rows) => {
                count += rows.len();
                for row in rows {
                    set.spawn(stop_row(self.store.clone(), row));
                }
                while set.join_next().await.is_some() {}
            }
            Err(e) => tracing::error!(error = %e, "cannot list the market processes left to stop"),
        }
        if count > 0 {
            tracing::info!(count, "stopped market processes");
        }
    }

    /// Stops supervising every process without stopping any (this server is no longer the
    /// conductor: the new one adopts them). Children are still waited for here, so that one
    /// that exits later does not linger as a zombie another server would take for alive.
    pub async fn let_go(&self) {
        let all: Vec<MarketProcess> = self.running.lock().await.drain().map(|(_, p)| p).collect();
        for mut p in all {
            if let Some(mut child) = p.child.take() {
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
            }
        }
    }

    /// Stops the processes this supervisor started or adopted, in parallel, and waits for
    /// them; returns how many. Those recorded by other servers are left alone.
    pub async fn stop_own(&self) -> usize {
        let all: Vec<MarketProcess> = self.running.lock().await.drain().map(|(_, p)| p).collect();
        let count = all.len();
        let mut set = tokio::task::JoinSet::new();
        for p in all {
            set.spawn(stop_and_forget(self.store.clone(), p));
        }
        while set.join_next().await.is_some() {}
        count
    }

    /// Leaves every process running as this server exits (another server adopts them): no
    /// process is stopped, and a child is not killed when its handle goes (its handle is let
    /// go of; the system reaps it once this process is gone).
    pub async fn leave_running(&self) {
        let all: Vec<MarketProcess> = self.running.lock().await.drain().map(|(_, p)| p).collect();
        for mut p in all {
            if let Some(child) = p.child.take() {
                std::mem::forget(child);
            }
        }
    }

    pub async fn count(&self) -> usize {
        self.running.lock().await.len()
    }
}

/// Starts the plan's command with exactly its environment and the instance marker, in a
/// process group of its own, its output appended to its log.
fn start(plan: &ProcessPlan, instance: &str) -> Result<Child> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&plan.log)
        .with_context(|| format!("cannot open {}", plan.log.display()))?;
    let err = out.try_clone()?;
    let (program, args) = plan.argv.split_first().context("empty command")?;
    processes::command(program, &plan.env, None)
        .args(args)
        .env(INSTANCE_VAR, instance)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start `{program}`"))
}

/// The recorded process as a supervised one, when it is still the one recorded, serves on its
/// port, and its command can be read (to start it again after a crash).
fn adopt(row: &MarketProcessRow, w: &Wanted) -> Option<MarketProcess> {
    let who = identity_of(row)?;
    if !processes::is_alive(&who) || !processes::listens(&processes::members(Some(&who), &row.instance), w.port) {
        return None;
    }
    let (argv, env) = processes::command_of(who.pid)?;
    Some(MarketProcess {
        child: None,
        pid: u32::try_from(who.pid).ok()?,
        plan: ProcessPlan {
            service: row.service.clone(),
            market: row.market.clone(),
            release_id: row.release_id,
            release: w.release.clone(),
            deployment_id: row.deployment_id,
            port: w.port,
            argv,
            env,
            log: w.log.clone(),
        },
        record: row.id,
        instance: row.instance.clone(),
        identity: Some(who),
        started: Instant::now(),
        crashes: 0,
        retry_at: None,
    })
}

fn identity_of(row: &MarketProcessRow) -> Option<ProcessIdentity> {
    Some(ProcessIdentity {
        pid: row.pid?,
        pgid: row.pgid?,
        start_ticks: row.start_ticks?,
        boot_id: row.boot_id.clone()?,
    })
}

/// Stops a supervised process and everything of its group (TERM, then KILL after the grace),
/// reaps it, and forgets it once nothing of it is left.
async fn stop_and_forget(store: Store, mut p: MarketProcess) {
    let gone = processes::stop_group(p.identity.as_ref(), &p.instance, STOP_GRACE).await;
    if let Some(child) = &mut p.child {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    forget_if(&store, p.record, gone, &p.plan.service, &p.plan.market).await;
}

/// Stops what a recorded process left running (nothing of a recycled pid), and forgets it.
async fn stop_row(store: Store, row: MarketProcessRow) {
    let who = identity_of(&row);
    let gone = processes::stop_group(who.as_ref(), &row.instance, STOP_GRACE).await;
    forget_if(&store, row.id, gone, &row.service, &row.market).await;
}

async fn forget_if(store: &Store, record: i64, gone: bool, service: &str, market: &str) {
    if !gone {
        tracing::error!(
            service,
            market,
            record,
            "a market process survived KILL; it stays recorded and the next start tries again"
        );
        return;
    }
    if let Err(e) = store.delete_market_process(record).await {
        tracing::warn!(record, error = %e, "cannot forget a stopped market process");
    }
}

/// Appends a line to a market process's log (its own output goes there too).
fn writeln_log(log: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    writeln!(f, "{line}")
}

/// Where market ports are chosen: below the kernel's ephemeral range, so that no outgoing
/// connection (a probe, a scrape, a webhook) can take a port between the moment it is chosen
/// and the moment the market's process binds it.
const MARKET_PORTS: std::ops::Range<u16> = 20_000..32_768;

/// The next port to try, shared by every deployment of this process so that two markets
/// starting together are not handed the same port.
static NEXT_PORT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(u32::MAX);

/// A free TCP port on 127.0.0.1 for a market's process: the next port of [`MARKET_PORTS`]
/// that binds (the start varies with the process id, so parallel servers spread out); port 0's
/// choice when none does.
pub fn free_port() -> Result<u16> {
    let span = u32::from(MARKET_PORTS.end - MARKET_PORTS.start);
    let _ = NEXT_PORT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % span,
        std::sync::atomic::Ordering::Relaxed,
        std::sync::atomic::Ordering::Relaxed,
    );
    for _ in 0..256 {
        let offset = NEXT_PORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % span;
        let port = MARKET_PORTS.start + offset as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}
