//! Where steps run. [`Executor`] is the seam for a remote agent or a container later;
//! [`LocalExecutor`] runs a step as a local process group.
//!
//! A step's whole process group is ended when the step ends, is cancelled or times out (TERM,
//! then KILL after a grace period), so a step that forks children and exits leaves nothing
//! running, and its output pipes close.

use crate::logs::LogWriter;
use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Between TERM and KILL when a step is stopped: time for a test runner to print its summary.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// One step to run.
#[derive(Debug, Clone)]
pub struct StepRequest {
    pub script: String,
    /// `None`: `sh -e`. Otherwise a shell or interpreter given the script file.
    pub shell: Option<String>,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    /// Per-process resource limits for everything the step starts.
    pub limits: tandem_core::pipeline::Limits,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEnd {
    Exited(i32),
    /// Ended by a signal it did not ask for.
    Signalled,
    TimedOut,
    Cancelled,
}

impl StepEnd {
    pub fn ok(self) -> bool {
        self == StepEnd::Exited(0)
    }

    pub fn code(self) -> Option<i64> {
        match self {
            StepEnd::Exited(c) => Some(i64::from(c)),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            StepEnd::Exited(c) => format!("exited with code {c}"),
            StepEnd::Signalled => "was ended by a signal".into(),
            StepEnd::TimedOut => "ran past the job's timeout and was stopped".into(),
            StepEnd::Cancelled => "was cancelled".into(),
        }
    }
}

pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<StepEnd>> + Send + 'a>>;

/// Runs steps somewhere.
pub trait Executor: Send + Sync + std::fmt::Debug {
    fn run_step<'a>(
        &'a self,
        step: StepRequest,
        log: &'a mut LogWriter,
        stop: &'a CancellationToken,
        deadline: Option<Instant>,
    ) -> StepFuture<'a>;
}

/// Runs steps as local processes.
#[derive(Debug, Default)]
pub struct LocalExecutor;

impl Executor for LocalExecutor {
    fn run_step<'a>(
        &'a self,
        step: StepRequest,
        log: &'a mut LogWriter,
        stop: &'a CancellationToken,
        deadline: Option<Instant>,
    ) -> StepFuture<'a> {
        Box::pin(run_local(step, log, stop, deadline))
    }
}

async fn run_local(
    step: StepRequest,
    log: &mut LogWriter,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<StepEnd> {
    let mut argv: Vec<String> = match step.shell.as_deref().map(str::trim) {
        None | Some("sh") => vec!["sh".into(), "-e".into(), "-c".into(), step.script.clone()],
        Some("bash") => ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
            .iter()
            .map(|s| s.to_string())
            .chain([step.script.clone()])
            .collect(),
        Some(other) => {
            // Any other interpreter gets the script as a file, like GitHub Actions' custom shells.
            let script = step.dir.join(format!(".tandem-step-{}", std::process::id()));
            tokio::fs::write(&script, &step.script)
                .await
                .context("cannot write the step's script")?;
            other
                .split_whitespace()
                .map(String::from)
                .chain([script.display().to_string()])
                .collect()
        }
    };
    if let Some(ulimits) = ulimit_script(&step.limits) {
        // Limits are set by a small shell that then becomes the step's interpreter (no unsafe
        // pre-exec hook needed); everything the step starts inherits them.
        let mut wrapped = vec![
            "sh".to_string(),
            "-c".into(),
            format!("{ulimits} exec \"$@\""),
            "tandem-limits".into(),
        ];
        wrapped.append(&mut argv);
        argv = wrapped;
    }
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    let mut child = command
        .current_dir(&step.dir)
        .env_clear()
        .envs(&step.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start the step's shell in {}", step.dir.display()))?;
    let pid = child.id().map(|p| Pid::from_raw(p as i32));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let mut readers = tokio::task::JoinSet::new();
    let streams: [Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ];
    for mut stream in streams.into_iter().flatten() {
        let tx = tx.clone();
        readers.spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 || tx.send(buf[..n].to_vec()).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let sleep_until = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_until);
    let mut stopping: Option<(StepEnd, Instant)> = None;
    let mut output_open = true;
    let status = loop {
        let kill_at = stopping.map(|(_, at)| at);
        tokio::select! {
            status = child.wait() => break status.context("cannot wait for the step")?,
            chunk = rx.recv(), if output_open => match chunk {
                Some(c) => log.output(&c).await?,
                None => output_open = false,
            },
            _ = stop.cancelled(), if stopping.is_none() => {
                signal(pid, Signal::SIGTERM);
                stopping = Some((StepEnd::Cancelled, Instant::now() + STOP_GRACE));
            }
            _ = &mut sleep_until, if stopping.is_none() => {
                signal(pid, Signal::SIGTERM);
                stopping = Some((StepEnd::TimedOut, Instant::now() + STOP_GRACE));
            }
            _ = tokio::time::sleep_until(kill_at.unwrap_or_else(Instant::now)), if kill_at.is_some() => {
                signal(pid, Signal::SIGKILL);
            }
        }
    };
    // The step is over: whatever it left running in its group goes too, so its pipes close.
    signal(pid, Signal::SIGKILL);
    while let Some(chunk) = rx.recv().await {
        log.output(&chunk).await?;
    }
    while readers.join_next().await.is_some() {}
    log.end_output().await?;
    if let Some((end, _)) = stopping {
        return Ok(end);
    }
    Ok(match status.code() {
        Some(code) => StepEnd::Exited(code),
        None => StepEnd::Signalled,
    })
}

/// `ulimit` commands for the limits set, or `None` when there is none. Uses the flags POSIX sh
/// and dash share: -v (KiB of address space), -f (512-byte blocks), -t (CPU s), -n (files).
fn ulimit_script(limits: &tandem_core::pipeline::Limits) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(b) = limits.memory_bytes {
        parts.push(format!("ulimit -v {} &&", (b / 1024).max(1)));
    }
    if let Some(b) = limits.file_size_bytes {
        parts.push(format!("ulimit -f {} &&", (b / 512).max(1)));
    }
    if let Some(s) = limits.cpu_seconds {
        parts.push(format!("ulimit -t {s} &&"));
    }
    if let Some(n) = limits.open_files {
        parts.push(format!("ulimit -n {n} &&"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn signal(group: Option<Pid>, sig: Signal) {
    if let Some(pgid) = group {
        let _ = killpg(pgid, sig);
    }
}
