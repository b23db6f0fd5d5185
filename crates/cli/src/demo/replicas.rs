//! On PostgreSQL the demo runs two servers on one database, as a team runs replicas behind a
//! load balancer. The second server starts first, as a process of its own, and so holds the
//! conductor's lease: it executes the runs and drives the rollouts. The demo talks only to the
//! first (in this process), which records the work and tells the conductor. After the first
//! rollout, the conductor's host "dies" (the process is killed with SIGKILL): the first server
//! takes over within seconds, adopts the 25 shops the dead one left serving, and the story
//! carries on.

use super::progress::Progress;
use super::summary::Failover;
use crate::client::Client;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tandem_wire::admin::Servers;
use tandem_wire::markets::MarketStatus;

/// How long the second server may take to start.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long the first server may take to become the conductor and find every shop again.
const TAKEOVER_DEADLINE: Duration = Duration::from_secs(60);

/// The second server: a `tandem serve` process on the same database, its data in a folder of
/// its own. Stopped (SIGTERM, then SIGKILL) when dropped, unless it was killed.
#[derive(Debug)]
pub(super) struct Replica {
    child: Option<Child>,
    pub base_url: String,
    pub data_dir: PathBuf,
}

impl Replica {
    /// Starts `tandem serve` on `database` with `platform`, the secrets key in `key_file` and
    /// its data (and its log, `serve.log`) in `data_dir`; waits until it serves.
    pub fn start(data_dir: &Path, platform: &Path, database: &str, key_file: &Path) -> Result<Replica> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
        let port = listener.local_addr()?.port();
        drop(listener);
        let log_path = data_dir.join("serve.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
        let child = Command::new(std::env::current_exe().context("cannot find the tandem binary")?)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--platform"])
            .arg(platform)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--secrets-key-file")
            .arg(key_file)
            .env("TANDEM_DATABASE", database)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start the second server")?;
        let mut replica = Replica {
            child: Some(child),
            base_url: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
        };
        let started = Instant::now();
        loop {
            let printed = std::fs::read_to_string(&log_path).unwrap_or_default();
            if printed.contains("tandem is serving") && data_dir.join(crate::server::FIRST_TOKEN_FILE).exists() {
                return Ok(replica);
            }
            if let Some(child) = replica.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                replica.child = None;
                bail!("the second server stopped at start ({status}):\n{printed}");
            }
            if started.elapsed() > START_DEADLINE {
                bail!("the second server did not start within {START_DEADLINE:?}:\n{printed}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The admin token the second server made (it started first on the empty database).
    pub fn first_token(&self) -> Result<String> {
        let path = self.data_dir.join(crate::server::FIRST_TOKEN_FILE);
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .trim()
            .to_string())
    }

    /// SIGKILL: no shutdown, no lease given up, the shops left running.
    fn kill(&mut self) -> Result<u32> {
        let mut child = self.child.take().context("the second server is not running")?;
        let pid = child.id();
        child.kill().context("cannot kill the second server")?;
        child.wait()?;
        Ok(pid)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // A clean stop: it stops the shops it supervises.
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The conductor dies: the second server is killed; the first takes over, and every shop that
/// served before serves still.
pub(super) async fn lose_the_conductor(api: &Client, progress: &Progress, replica: &mut Replica) -> Result<Failover> {
    let before: Servers = api.get("/api/v1/servers").await?;
    let conductor = before
        .leases
        .iter()
        .find(|l| l.name == "conductor")
        .map(|l| l.holder.clone())
        .context("no server holds the conductor's lease")?;
    if before.this_is_conductor {
        bail!("the demo's own server is the conductor: the second server was meant to be");
    }
    let count = |markets: &[MarketStatus], up: bool| {
        markets
            .iter()
            .filter(|m| {
                m.services
                    .iter()
                    .any(|s| s.service == "shop" && s.release.is_some() && (!up || s.health == "up"))
            })
            .count()
    };
    let markets: Vec<MarketStatus> = api.get_all("/api/v1/markets").await?;
    let live = count(&markets, false);
    progress.say(&format!(
        "Two Tandem servers share the database; {} (the conductor: it ran the pipeline and drove the rollout) dies: kill -9",
        replica.base_url
    ));
    let pid = replica.kill()?;
    let killed = Instant::now();
    let took_over = loop {
        let now: Servers = api.get("/api/v1/servers").await?;
        if now.this_is_conductor {
            break killed.elapsed();
        }
        if killed.elapsed() > TAKEOVER_DEADLINE {
            bail!("the demo's server did not take over within {TAKEOVER_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The new conductor adopts the shops the dead one left running, then probes them.
    let answering = loop {
        let markets: Vec<MarketStatus> = api.get_all("/api/v1/markets").await?;
        let up = count(&markets, true);
        if up >= live || killed.elapsed() > TAKEOVER_DEADLINE {
            break up;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    progress.say(&format!(
        "This server took over as conductor {:.1}s after the kill; {answering} of the {live} live shops answer its probes",
        took_over.as_secs_f64()
    ));
    Ok(Failover {
        killed: conductor,
        killed_pid: pid,
        survivor: before.this,
        took_over_ms: took_over.as_millis() as u64,
        live,
        answering,
    })
}
