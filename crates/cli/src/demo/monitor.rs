//! The monitor's part of the story: a live market hangs (its process is paused, so it is still
//! "running"), only its probe can tell; the monitor opens an incident linked to the market's
//! deployment, and resolves it when the market answers again.

use super::progress::Progress;
use super::summary::Hang;
use crate::client::Client;
use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::{Duration, Instant};
use tandem_wire::incidents::Incident;
use tandem_wire::rollouts::Deployment;

/// The market that hangs.
const MARKET: &str = "pl";
/// The longest the demo waits for the monitor: the shop's `monitor` section probes every
/// second and opens an incident after 3 failures, so a few seconds are enough.
const PATIENCE: Duration = Duration::from_secs(60);

/// Resumes the paused process however the story ends.
struct Paused(Pid);

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

pub(super) async fn watch_a_market_hang(api: &Client, progress: &Progress) -> Result<Hang> {
    let deployments: Vec<Deployment> = api.get_all("/api/v1/deployments").await?;
    let live = deployments
        .iter()
        .rev()
        .find(|d| d.service == "shop" && d.market == MARKET && d.state == "live")
        .with_context(|| format!("the shop is not live in {MARKET}"))?;
    let pid = live
        .pid
        .and_then(|p| i32::try_from(p).ok())
        .with_context(|| format!("{MARKET}'s process has no pid"))?;
    progress.say("Poland's shop hangs (its process is paused): it still runs, so only its probe can tell…");
    let pid = Pid::from_raw(pid);
    kill(pid, Signal::SIGSTOP).with_context(|| format!("cannot pause {MARKET}'s process"))?;
    let paused = Paused(pid);
    let started = Instant::now();
    let incident = loop {
        let incidents: Vec<Incident> = api.get("/api/v1/incidents").await?;
        if let Some(i) = incidents
            .into_iter()
            .find(|i| i.source == "probe" && i.market == MARKET && i.state == "open")
        {
            break i;
        }
        if started.elapsed() > PATIENCE {
            bail!(
                "the monitor opened no incident for {MARKET} in {} s",
                PATIENCE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let detected = started.elapsed();
    progress.say(&format!(
        "The monitor opened incident {} after {:.1}s: {}",
        incident.id,
        detected.as_secs_f64(),
        incident.title
    ));
    drop(paused);
    let resumed = Instant::now();
    let id = incident.id;
    let resolved = loop {
        let incidents: Vec<Incident> = api.get("/api/v1/incidents").await?;
        if let Some(i) = incidents.into_iter().find(|i| i.id == id && i.state == "resolved") {
            break i;
        }
        if resumed.elapsed() > PATIENCE {
            bail!(
                "incident {id} was not resolved {} s after {MARKET} answered again",
                PATIENCE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    progress.say(&format!(
        "{MARKET} answers again: the monitor resolved incident {id} {:.1}s later",
        resumed.elapsed().as_secs_f64()
    ));
    Ok(Hang {
        market: MARKET,
        incident: id,
        title: incident.title,
        deployment: incident.deployment_id,
        detected_ms: detected.as_millis() as u64,
        resolved_by: resolved.resolved_by,
        outage_ms: resolved.resolved_at.map(|r| r - incident.opened_at),
    })
}
