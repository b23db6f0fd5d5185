//! The `process` driver's supervisor: one local process per service and market, started for a
//! new release, switched to once healthy, and stopped (TERM, then KILL after a grace period)
//! when replaced or when the server shuts down.

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
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

/// A started market process.
#[derive(Debug)]
pub struct MarketProcess {
    pub child: Child,
    pub pid: u32,
    pub port: u16,
    pub release: String,
    /// How to start it again after a crash.
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    log: std::path::PathBuf,
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
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("cannot be waited for: {e}")),
        }
    }
}

/// The processes that serve each (service, market).
#[derive(Debug, Default)]
pub struct Supervisor {
    running: Mutex<HashMap<(String, String), MarketProcess>>,
}

impl Supervisor {
    /// Starts `argv` with exactly `env`, its output appended to `log`. It is not yet the
    /// market's process: [`Supervisor::promote`] makes it so once it is healthy.
    pub fn spawn(
        &self,
        argv: &[String],
        env: &BTreeMap<String, String>,
        log: &Path,
        port: u16,
        release: &str,
    ) -> Result<MarketProcess> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let err = out.try_clone()?;
        let (program, args) = argv.split_first().context("empty command")?;
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start `{program}`"))?;
        let pid = child.id().context("the process exited at once")?;
        Ok(MarketProcess {
            child,
            pid,
            port,
            release: release.to_string(),
            argv: argv.to_vec(),
            env: env.clone(),
            log: log.to_path_buf(),
            started: Instant::now(),
            crashes: 0,
            retry_at: None,
        })
    }

    /// Looks at every market process: one that died is started again on its port, after a
    /// backoff that doubles with each crash in a row (1 s, 2 s, 4 s … 60 s). Returns what it
    /// found dead and restarted (or could not).
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
                    &p.log,
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
                release: p.release.clone(),
                status,
                pid: None,
                crashes: p.crashes,
                error: None,
            };
            match self.spawn(&p.argv, &p.env, &p.log, p.port, &p.release) {
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
        let old = self
            .running
            .lock()
            .await
            .insert((service.to_string(), market.to_string()), process);
        if let Some(old) = old {
            stop(old).await;
        }
    }

    /// Whether the market's current process is alive.
    pub async fn is_running(&self, service: &str, market: &str) -> bool {
        let mut running = self.running.lock().await;
        match running.get_mut(&(service.to_string(), market.to_string())) {
            Some(p) => p.exited().is_none(),
            None => false,
        }
    }

    /// Stops every process, in parallel, and waits for them.
    pub async fn stop_all(&self) {
        let all: Vec<MarketProcess> = self.running.lock().await.drain().map(|(_, p)| p).collect();
        let count = all.len();
        futures_join_all(all.into_iter().map(stop)).await;
        if count > 0 {
            tracing::info!(count, "stopped market processes");
        }
    }

    pub async fn count(&self) -> usize {
        self.running.lock().await.len()
    }
}

/// Appends a line to a market process's log (its own output goes there too).
fn writeln_log(log: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    writeln!(f, "{line}")
}

/// Stops a process and everything it started: TERM to its group, then KILL after the grace.
pub async fn stop(mut process: MarketProcess) {
    let group = Pid::from_raw(process.pid as i32);
    let _ = killpg(group, Signal::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, process.child.wait()).await.is_err() {
        let _ = killpg(group, Signal::SIGKILL);
        let _ = process.child.wait().await;
    }
}

async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(futures: impl Iterator<Item = F>) {
    let mut set = tokio::task::JoinSet::new();
    for f in futures {
        set.spawn(f);
    }
    while set.join_next().await.is_some() {}
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
