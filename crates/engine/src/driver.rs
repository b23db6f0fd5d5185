//! Drivers: how a release reaches a market. The rollout engine records the deployment, writes
//! the market's config file, asks the driver to start the release, runs the gates against what
//! it started, then asks the driver to promote it (healthy) or discard it (failed).
//!
//! - [`ProcessDriver`] supervises one local process per market: the new one starts on a free
//!   port beside the old one, which keeps serving until the new one is promoted.
//! - [`CommandDriver`] runs a user's script per market (ssh, kubectl, helm, ansible…) with the
//!   `TANDEM_*` facts in its environment, a timeout, and its output captured. What it deployed
//!   cannot be kept beside the old one, so a failed gate sends the market back by running the
//!   script again with the previous release, unless the service has a canary: then the script
//!   deploys beside the old release and `deploy.shift` moves the traffic (see `gates.rs`).
//!
//! A Kubernetes driver would be a third implementation of [`Driver`].

use crate::Engine;
use crate::supervisor::{MarketProcess, ProcessPlan, free_port};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;
use tandem_core::pipeline::{DeploySpec, Driver as DriverKind, render_deploy_command};
use tandem_store::ReleaseRow;

pub type DriverFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything a driver needs to deploy one release to one market.
#[derive(Debug)]
pub struct Target<'a> {
    pub release: &'a ReleaseRow,
    pub deploy: &'a DeploySpec,
    /// Artifact name → path of its verified copy.
    pub artifacts: &'a HashMap<String, String>,
    pub market: &'a str,
    pub deployment_id: i64,
    /// The market's resolved config, written as JSON.
    pub config_file: PathBuf,
    /// The market's folder: config files and output logs.
    pub dir: PathBuf,
    /// The folder holding the release's artifacts.
    pub artifact_dir: PathBuf,
    /// A port to reuse (a live market started again after a server restart).
    pub port: Option<u16>,
    /// `deploy`, or `rollback` when a market goes back to an earlier release.
    pub action: &'a str,
}

/// One run of a user's command for a market: the deploy itself, or a canary's shift.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserCommand<'a> {
    /// `deploy` or `shift`: what messages call it.
    pub what: &'static str,
    pub run: &'a str,
    /// `TANDEM_ACTION`.
    pub action: &'a str,
    /// `TANDEM_WEIGHT`: the new release's share of the market's traffic, in percent.
    pub weight: Option<u8>,
}

impl<'a> Target<'a> {
    /// The deploy command, as `deploy.run` says, for the target's action.
    pub(crate) fn deploy_command(&self) -> UserCommand<'a> {
        UserCommand {
            what: "deploy",
            run: &self.deploy.run,
            action: self.action,
            weight: None,
        }
    }

    /// `deploy.shift` with a share of traffic for the new release (`None`: no hook).
    pub(crate) fn shift_command(&self, weight: u8) -> Option<UserCommand<'a>> {
        self.deploy.shift.as_deref().map(|run| UserCommand {
            what: "shift",
            run,
            action: "shift",
            weight: Some(weight),
        })
    }
}

impl Target<'_> {
    /// The environment every driver gives what it starts: the facts, nothing of the server's.
    fn env(&self) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = ["PATH", "HOME", "LANG"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        for (k, v) in [
            ("TANDEM_CONFIG_FILE", self.config_file.display().to_string()),
            ("TANDEM_MARKET", self.market.to_string()),
            ("TANDEM_SERVICE", self.release.service.clone()),
            ("TANDEM_RELEASE", self.release.version.clone()),
            ("TANDEM_COMMIT", self.release.commit_sha.clone()),
            ("TANDEM_ARTIFACT_DIR", self.artifact_dir.display().to_string()),
            ("TANDEM_DEPLOYMENT_ID", self.deployment_id.to_string()),
            ("TANDEM_ACTION", self.action.to_string()),
        ] {
            env.insert(k.into(), v);
        }
        env
    }
}

/// What a driver started for a market, for the gates to judge.
#[derive(Debug)]
pub struct Instance {
    /// Base URL where it answers (the gates probe it); `None`: the driver's own result is
    /// the only gate.
    pub url: Option<String>,
    pub pid: Option<u32>,
    /// Where its output goes.
    pub log: PathBuf,
    process: Option<MarketProcess>,
}

impl Instance {
    /// Whether what was started has died, and how.
    pub fn exited(&mut self) -> Option<String> {
        self.process.as_mut().and_then(MarketProcess::exited)
    }
}

/// How a release reaches a market.
pub trait Driver: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    /// Brings the release up for the market. The market's previous release may still serve.
    fn start<'a>(&'a self, engine: &'a Engine, target: &'a Target<'a>) -> DriverFuture<'a, Result<Instance, String>>;
    /// The instance passed its gates: it becomes what serves the market.
    fn promote<'a>(
        &'a self,
        engine: &'a Engine,
        service: &'a str,
        market: &'a str,
        instance: Instance,
    ) -> DriverFuture<'a, ()>;
    /// The instance failed its gates: it is stopped.
    fn discard<'a>(&'a self, engine: &'a Engine, instance: Instance) -> DriverFuture<'a, ()>;
    /// Whether the market's previous release kept serving while the new one was judged (so
    /// nothing needs to be redeployed after a failed gate).
    fn keeps_previous(&self) -> bool;
}

/// The driver a `deploy` section names.
pub fn driver_for(deploy: &DeploySpec) -> Box<dyn Driver> {
    match deploy.driver {
        DriverKind::Process => Box::new(ProcessDriver),
        DriverKind::Command => Box::new(CommandDriver),
    }
}

/// One supervised local process per market.
#[derive(Debug)]
pub struct ProcessDriver;

impl Driver for ProcessDriver {
    fn name(&self) -> &'static str {
        "process"
    }

    fn start<'a>(&'a self, engine: &'a Engine, target: &'a Target<'a>) -> DriverFuture<'a, Result<Instance, String>> {
        Box::pin(async move {
            let port = match target.port {
                Some(p) => p,
                None => free_port().map_err(|e| format!("{e:#}"))?,
            };
            let argv = render_deploy_command(&target.deploy.run, target.artifacts, port)?;
            let mut env = target.env();
            env.insert("PORT".into(), port.to_string());
            let log = target.dir.join(format!("{}.log", target.release.version));
            let plan = ProcessPlan {
                service: target.release.service.clone(),
                market: target.market.to_string(),
                release_id: target.release.id,
                release: target.release.version.clone(),
                deployment_id: target.deployment_id,
                port,
                argv,
                env,
                log: log.clone(),
            };
            let process = engine.supervisor.spawn(plan).await.map_err(|e| format!("{e:#}"))?;
            Ok(Instance {
                url: Some(format!("http://127.0.0.1:{port}")),
                pid: Some(process.pid),
                log,
                process: Some(process),
            })
        })
    }

    fn promote<'a>(
        &'a self,
        engine: &'a Engine,
        service: &'a str,
        market: &'a str,
        instance: Instance,
    ) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            if let Some(process) = instance.process {
                engine.supervisor.promote(service, market, process).await;
            }
        })
    }

    fn discard<'a>(&'a self, engine: &'a Engine, instance: Instance) -> DriverFuture<'a, ()> {
        Box::pin(async move {
            if let Some(process) = instance.process {
                engine.supervisor.stop(process).await;
            }
        })
    }

    fn keeps_previous(&self) -> bool {
        true
    }
}

/// A user's command per market, run through `sh -c` in the market's folder.
#[derive(Debug)]
pub struct CommandDriver;

impl Driver for CommandDriver {
    fn name(&self) -> &'static str {
        "command"
    }

    fn start<'a>(&'a self, engine: &'a Engine, target: &'a Target<'a>) -> DriverFuture<'a, Result<Instance, String>> {
        Box::pin(async move {
            let log = target.dir.join(format!(
                "{}-{}-{}.log",
                target.release.version, target.action, target.deployment_id
            ));
            run_user_command(engine, target, target.deploy_command(), &log).await?;
            Ok(Instance {
                url: target.deploy.url_for(target.market),
                pid: None,
                log,
                process: None,
            })
        })
    }

    fn promote<'a>(&'a self, _: &'a Engine, _: &'a str, _: &'a str, _: Instance) -> DriverFuture<'a, ()> {
        Box::pin(async {})
    }

    fn discard<'a>(&'a self, _: &'a Engine, _: Instance) -> DriverFuture<'a, ()> {
        Box::pin(async {})
    }

    fn keeps_previous(&self) -> bool {
        false
    }
}

/// Runs a user's command for a market where the deploy runs (on the server, or on an agent
/// with `deploy.runs-on`), to its end; its output goes to `log`.
pub(crate) async fn run_user_command(
    engine: &Engine,
    target: &Target<'_>,
    command: UserCommand<'_>,
    log: &std::path::Path,
) -> Result<(), String> {
    match target.deploy.runs_on.is_empty() || !engine.settings.on_agents {
        true => run_command(target, command, log).await,
        false => {
            let region = engine.market_region(target.market).await;
            let labels = target.deploy.runs_on_for(target.market, &region);
            engine.deploy_on_agent(target, command, labels, log).await
        }
    }
}

/// Runs a user's command on the server to its end, within the deploy's timeout; its output
/// goes to `log`.
async fn run_command(target: &Target<'_>, command: UserCommand<'_>, log: &std::path::Path) -> Result<(), String> {
    let what = command.what;
    let out = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut env = target.env();
    env.insert("TANDEM_ACTION".into(), command.action.to_string());
    if let Some(weight) = command.weight {
        env.insert("TANDEM_WEIGHT".into(), weight.to_string());
    }
    let mut child = crate::processes::command("sh", &env, Some(&target.dir))
        .args(["-c", command.run])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the {what} command: {e}"))?;
    let timeout = target.deploy.timeout();
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status.map_err(|e| format!("cannot wait for the {what} command: {e}"))?,
        Err(_) => {
            // The whole group: a script's ssh or kubectl children go too.
            if let Some(pid) = child.id() {
                let group = Pid::from_raw(pid as i32);
                let _ = killpg(group, Signal::SIGTERM);
                if tokio::time::timeout(Duration::from_secs(5), child.wait())
                    .await
                    .is_err()
                {
                    let _ = killpg(group, Signal::SIGKILL);
                }
            }
            let _ = child.wait().await;
            return Err(format!(
                "the {what} command ran past its timeout of {}s and was stopped{}",
                timeout.as_secs(),
                last_words(log).await
            ));
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {what} command failed ({status}){}", last_words(log).await))
    }
}

/// The last line a dead process wrote to its log, to say why it died: `: <line>`, or nothing.
pub(crate) async fn last_words(log: &std::path::Path) -> String {
    let text = tokio::fs::read_to_string(log).await.unwrap_or_default();
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("note:"));
    line.map(|l| format!(": {}", l.chars().take(200).collect::<String>()))
        .unwrap_or_default()
}
