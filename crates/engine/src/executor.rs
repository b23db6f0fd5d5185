//! Where steps run. [`Executor`] is the seam for a remote agent or a container later;
//! [`LocalExecutor`] runs a step as a local process group.
//!
//! A step's whole process group is ended when the step ends, is cancelled or times out (TERM,
//! then KILL after a grace period), so a step that forks children and exits leaves nothing
//! running, and its output pipes close.

use crate::logs::LogWriter;
use crate::masking::Stream;
use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Between TERM and KILL when a step is stopped: time for a test runner to print its summary.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// Bytes read from a step's pipe at once: what a pipe holds by default (64 KiB) in four reads.
const READ_SIZE: usize = 16 * 1024;

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
pub struct LocalExecutor {
    /// A program each step is started through (`[guard, "__step-guard", step…]`): an agent's
    /// own binary, which kills the step if the agent dies (see `tandem_agent::guard`).
    pub guard: Option<PathBuf>,
}

impl Executor for LocalExecutor {
    fn run_step<'a>(
        &'a self,
        step: StepRequest,
        log: &'a mut LogWriter,
        stop: &'a CancellationToken,
        deadline: Option<Instant>,
    ) -> StepFuture<'a> {
        Box::pin(run_local(step, self.guard.as_deref(), log, stop, deadline))
    }
}

async fn run_local(
    step: StepRequest,
    guard: Option<&Path>,
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
    if let Some(guard) = guard {
        let mut guarded = vec![guard.display().to_string(), "__step-guard".into()];
        guarded.append(&mut argv);
        argv = guarded;
    }
    let mut child = crate::processes::command(&argv[0], &step.env, Some(&step.dir))
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start the step's shell in {}", step.dir.display()))?;
    let pid = child.id().map(|p| Pid::from_raw(p as i32));
    // Both pipes are read here, in arrival order, rather than by tasks of their own.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut out_buf, mut err_buf) = (vec![0u8; READ_SIZE], vec![0u8; READ_SIZE]);

    let sleep_until = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_until);
    let mut stopping: Option<(StepEnd, Instant)> = None;
    let status = loop {
        let kill_at = stopping.map(|(_, at)| at);
        let flush_at = log.flush_due();
        tokio::select! {
            status = child.wait() => break status.context("cannot wait for the step")?,
            n = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match n {
                Some(n) => log.output(Stream::Stdout, &out_buf[..n]).await?,
                None => stdout = None,
            },
            n = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match n {
                Some(n) => log.output(Stream::Stderr, &err_buf[..n]).await?,
                None => stderr = None,
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
            _ = tokio::time::sleep_until(flush_at.unwrap_or_else(Instant::now)), if flush_at.is_some() => {
                log.flush().await?;
            }
        }
    };
    // The step is over: whatever it left running in its group goes too, so its pipes close.
    signal(pid, Signal::SIGKILL);
    while stdout.is_some() || stderr.is_some() {
        tokio::select! {
            n = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match n {
                Some(n) => log.output(Stream::Stdout, &out_buf[..n]).await?,
                None => stdout = None,
            },
            n = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match n {
                Some(n) => log.output(Stream::Stderr, &err_buf[..n]).await?,
                None => stderr = None,
            },
        }
    }
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

/// Reads what a pipe has; `None` once it is closed (or broken: nothing more can come).
async fn read_some<R: AsyncRead + Unpin>(pipe: &mut Option<R>, buf: &mut [u8]) -> Option<usize> {
    match pipe {
        Some(p) => p.read(buf).await.ok().filter(|n| *n > 0),
        None => std::future::pending().await,
    }
}

fn signal(group: Option<Pid>, sig: Signal) {
    if let Some(pgid) = group {
        let _ = killpg(pgid, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_runs_with_its_env_in_its_own_group_and_its_output_reaches_the_file_while_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogWriter::new(&path, vec![]).unwrap();
        let mut env = BTreeMap::from([("PATH".to_string(), std::env::var("PATH").unwrap())]);
        env.insert("GREETING".into(), "hello".into());
        let step = StepRequest {
            // `$0` is the shell's name as written, not the path it was found at.
            script: "echo \"$GREETING from $0, HOME ${HOME:-unset}\"; echo group $(cut -d' ' -f5 /proc/$$/stat)
                     echo oops >&2; sleep 1; exit 3"
                .into(),
            shell: None,
            dir: dir.path().to_path_buf(),
            env,
            limits: Default::default(),
        };
        let stop = CancellationToken::new();
        let running = async {
            let end = run_local(step, None, &mut log, &stop, None).await.unwrap();
            log.finish().await.unwrap();
            end
        };
        let watch = async {
            // The step sleeps 1 s after its output: that output is in the file before it ends.
            tokio::time::sleep(LIVE_CHECK).await;
            std::fs::read_to_string(&path).unwrap()
        };
        let (end, live) = tokio::join!(running, watch);
        assert_eq!(end, StepEnd::Exited(3));
        assert!(
            live.contains("] hello from sh, HOME unset\n"),
            "only the step's env: {live:?}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("] oops\n"), "{text}");
        let pgid: i32 = text
            .lines()
            .find_map(|l| l.split_once("] group ").map(|(_, g)| g.trim().parse().unwrap()))
            .unwrap();
        assert_ne!(
            pgid,
            nix::unistd::getpgrp().as_raw(),
            "the step has a process group of its own"
        );
    }

    /// When the test looks at the log: past [`crate::logs::LIVE_DELAY`], before the step ends.
    const LIVE_CHECK: Duration = Duration::from_millis(700);
}
