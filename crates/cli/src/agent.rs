//! `tandem agent`: the process that runs pipeline jobs for a server (see `tandem_agent`), and
//! the local agent `tandem serve` starts beside itself, sandboxed, so that the server executes
//! nothing of a commit's.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// `tandem agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The server's URL (put TLS in front of it for agents on other hosts: docs/agents.md).
    #[arg(long, env = "TANDEM_SERVER", default_value = "http://127.0.0.1:8420")]
    pub server: String,
    /// A file holding the agent's token (`tandem agents register NAME` prints it). Without it,
    /// the environment variable TANDEM_AGENT_TOKEN.
    #[arg(long, env = "TANDEM_AGENT_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the token from the first line of standard input (how `tandem serve` hands it to
    /// its local agent: never in an environment a step could read).
    #[arg(long, hide = true)]
    pub token_stdin: bool,
    /// Labels besides the system and processor (`linux`, `x86_64`), comma-separated, such as
    /// `gpu,region=eu-west`: a job's `runs-on` must all be among them.
    #[arg(long, env = "TANDEM_AGENT_LABELS", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// How many jobs it runs at once.
    #[arg(long, env = "TANDEM_AGENT_CAPACITY", default_value_t = 2)]
    pub capacity: u32,
    /// Its work folder: job workspaces, and the lock that keeps it to one agent.
    #[arg(long, env = "TANDEM_AGENT_DIR", default_value = "tandem-agent")]
    pub work_dir: PathBuf,
    /// Tell the agent running on --work-dir to finish its jobs and exit, and wait for it.
    #[arg(long)]
    pub drain: bool,
}

/// The file in an agent's work folder holding its process id, locked while it runs.
const PID_FILE: &str = "agent.pid";

/// Runs `tandem agent` (or, with `--drain`, drains the one running on the work folder).
pub async fn run(args: AgentArgs) -> Result<()> {
    if args.drain {
        return drain(&args.work_dir).await;
    }
    if args.capacity == 0 || args.capacity > 1024 {
        bail!("--capacity {} is not between 1 and 1024", args.capacity);
    }
    let token = read_token(&args)?;
    let mut labels = tandem_agent::default_labels();
    for label in &args.labels {
        let label = label.trim();
        if label.is_empty() {
            continue;
        }
        if !tandem_core::pipeline::is_label(label) {
            bail!("--labels: `{label}` is not valid: expected 1 to 64 letters, digits or `-_.=/:`");
        }
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_string());
        }
    }
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("cannot create the work folder {}", args.work_dir.display()))?;
    let _lock = lock_work_dir(&args.work_dir)?;
    let stops = tandem_agent::Stops::default();
    let (drain, kill) = (stops.drain.clone(), stops.kill.clone());
    if args.token_stdin {
        // Standard input stays open while the server that started this agent wants it: at its
        // end (the server stops, or died) the jobs stop, unreported, and the agent exits.
        let (drain, quiet) = (stops.drain.clone(), stops.quiet.clone());
        std::thread::spawn(move || {
            use std::io::Read;
            let mut sink = [0u8; 64];
            while std::io::stdin().read(&mut sink).is_ok_and(|n| n > 0) {}
            quiet.cancel();
            drain.cancel();
        });
    }
    let signals = tokio::spawn({
        let (drain, kill) = (drain.clone(), kill.clone());
        async move {
            crate::server::wait_for_signal().await;
            tracing::info!("draining: finishing the jobs under way (signal again to cancel them)");
            drain.cancel();
            crate::server::wait_for_signal().await;
            tracing::warn!("cancelling the jobs under way");
            kill.cancel();
        }
    });
    let settings = tandem_agent::AgentSettings {
        server: args.server.clone(),
        token,
        labels,
        capacity: args.capacity,
        work_dir: args.work_dir.clone(),
    };
    let result = tandem_agent::run(settings, stops).await;
    signals.abort();
    result
}

/// The token, from standard input, a file or TANDEM_AGENT_TOKEN.
fn read_token(args: &AgentArgs) -> Result<String> {
    let token = if args.token_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the agent token from standard input")?;
        line
    } else if let Some(file) = &args.token_file {
        std::fs::read_to_string(file).with_context(|| format!("cannot read the agent token file {}", file.display()))?
    } else {
        std::env::var("TANDEM_AGENT_TOKEN").unwrap_or_default()
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        bail!(
            "no agent token: register the agent with `tandem agents register NAME` (an admin), then pass its token \
             with --token-file FILE or TANDEM_AGENT_TOKEN"
        );
    }
    Ok(token)
}

/// Takes the work folder for this agent alone, and writes its process id there.
fn lock_work_dir(dir: &Path) -> Result<std::fs::File> {
    use std::io::Write;
    let path = dir.join(PID_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another agent is running on {}: give each agent a work folder of its own (--work-dir)",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}

/// `tandem agent --drain`: asks the agent on `dir` to finish its jobs and exit, and waits.
async fn drain(dir: &Path) -> Result<()> {
    let path = dir.join(PID_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no agent has run on {} ({} cannot be read)",
            dir.display(),
            path.display()
        )
    })?;
    let pid: i32 = text
        .trim()
        .parse()
        .with_context(|| format!("{} does not hold a process id", path.display()))?;
    let file = std::fs::File::open(&path)?;
    if file.try_lock_shared().is_ok() {
        eprintln!("No agent is running on {}.", dir.display());
        return Ok(());
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM)
        .with_context(|| format!("cannot signal the agent (process {pid})"))?;
    eprintln!("Agent {pid} is draining: it finishes its jobs, then exits…");
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if file.try_lock_shared().is_ok() {
            eprintln!("Agent {pid} stopped.");
            return Ok(());
        }
    }
}

/// The agent `tandem serve` starts beside itself.
#[derive(Debug)]
pub struct LocalAgent {
    /// How it is kept apart from the server.
    pub sandbox: Sandbox,
    child: tokio::process::Child,
    /// Kept open while the agent is wanted: closing it stops the agent (see [`run`]).
    stdin: Option<tokio::process::ChildStdin>,
}

/// How the local agent is kept from the server's environment, memory and files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sandbox {
    /// bubblewrap: its own PID, IPC and mount namespaces, the system read-only, the data folder
    /// hidden, no capabilities.
    Bubblewrap,
    /// Another user (`nobody`), when Tandem runs as root without bubblewrap.
    OtherUser,
    /// Only a process of its own with a clean environment (say so loudly).
    None,
}

impl Sandbox {
    /// What it is, for a person.
    pub fn describe(self) -> &'static str {
        match self {
            Sandbox::Bubblewrap => "sandboxed by bubblewrap (no view of the server's process, data or secrets)",
            Sandbox::OtherUser => "running as user nobody (bubblewrap is not installed)",
            Sandbox::None => "a separate process, not sandboxed (bubblewrap is not installed)",
        }
    }

    /// The best this machine offers.
    pub fn detect() -> Self {
        let works = std::process::Command::new("bwrap")
            .args([
                "--ro-bind",
                "/",
                "/",
                "--unshare-pid",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "true",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            Sandbox::Bubblewrap
        } else if nix::unistd::geteuid().is_root() {
            Sandbox::OtherUser
        } else {
            Sandbox::None
        }
    }
}

/// What the local agent needs to start.
#[derive(Debug)]
pub struct LocalAgentSettings<'a> {
    pub base_url: &'a str,
    pub token: &'a str,
    pub data_dir: &'a Path,
    /// Files of the server's it must not read (the secrets key file).
    pub hidden_files: Vec<PathBuf>,
    pub capacity: usize,
}

impl LocalAgent {
    /// Starts the local agent as a separate process, in the best sandbox the machine has.
    pub async fn start(settings: LocalAgentSettings<'_>) -> Result<(Self, Sandbox)> {
        use tokio::io::AsyncWriteExt;
        let exe = std::env::current_exe().context("cannot find this program's path")?;
        let data_dir = std::fs::canonicalize(settings.data_dir)
            .with_context(|| format!("cannot resolve {}", settings.data_dir.display()))?;
        let work = data_dir.join("agent");
        std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
        let agent_args: Vec<String> = [
            "agent",
            "--server",
            settings.base_url,
            "--token-stdin",
            "--labels",
            "local",
            "--capacity",
            &settings.capacity.max(1).to_string(),
            "--work-dir",
            &work.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let sandbox = Sandbox::detect();
        let mut command = match sandbox {
            Sandbox::Bubblewrap => {
                let mut c = tokio::process::Command::new("bwrap");
                c.args([
                    "--die-with-parent",
                    "--new-session",
                    "--unshare-pid",
                    "--unshare-ipc",
                    "--unshare-uts",
                ]);
                c.arg("--unshare-cgroup-try");
                if nix::unistd::geteuid().is_root() {
                    // Root without capabilities: cannot undo the mounts below, nor trace anyone.
                    c.args(["--cap-drop", "ALL"]);
                }
                // /tmp stays the host's (tools and tests share files there); the data folder,
                // even under /tmp, is covered below.
                c.args([
                    "--ro-bind",
                    "/",
                    "/",
                    "--dev",
                    "/dev",
                    "--proc",
                    "/proc",
                    "--bind",
                    "/tmp",
                    "/tmp",
                ]);
                c.arg("--tmpfs").arg(&data_dir);
                for file in &settings.hidden_files {
                    if file.exists() {
                        c.arg("--ro-bind").arg("/dev/null").arg(file);
                    }
                }
                c.arg("--bind").arg(&work).arg(&work);
                // The empty folder over the data folder is read-only too: nothing looks written.
                c.arg("--remount-ro").arg(&data_dir);
                // The program itself may live under a hidden folder (a build under /tmp).
                c.arg("--ro-bind").arg(&exe).arg(&exe);
                c.arg("--").arg(&exe).args(&agent_args);
                c
            }
            Sandbox::OtherUser => {
                const NOBODY: u32 = 65534;
                std::os::unix::fs::chown(&work, Some(NOBODY), Some(NOBODY))
                    .with_context(|| format!("cannot give {} to user nobody", work.display()))?;
                let mut c = tokio::process::Command::new(&exe);
                c.args(&agent_args).uid(NOBODY).gid(NOBODY);
                tracing::warn!(
                    "bubblewrap (bwrap) is not installed: the local agent runs as user `nobody`; toolchains under \
                     root's home are out of its reach. Install bubblewrap for a sandbox (docs/agents.md)"
                );
                c
            }
            Sandbox::None => {
                let mut c = tokio::process::Command::new(&exe);
                c.args(&agent_args);
                tracing::warn!(
                    "bubblewrap (bwrap) is not installed: pipeline steps run as this user and could read the data \
                     folder. Install bubblewrap, or run agents elsewhere and start the server with --no-local-agent \
                     (docs/agents.md)"
                );
                c
            }
        };
        command.env_clear();
        for name in tandem_engine::runner::PASSED_THROUGH {
            if let Ok(value) = std::env::var(name) {
                command.env(name, value);
            }
        }
        command.env(
            "TANDEM_LOG",
            std::env::var("TANDEM_LOG").unwrap_or_else(|_| "warn".into()),
        );
        if std::env::var_os("NO_COLOR").is_some() {
            command.env("NO_COLOR", "1");
        }
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start the local agent")?;
        let mut stdin = child.stdin.take();
        if let Some(stdin) = &mut stdin {
            stdin
                .write_all(format!("{}\n", settings.token).as_bytes())
                .await
                .context("cannot hand the local agent its token")?;
            stdin.flush().await.context("cannot hand the local agent its token")?;
        }
        Ok((LocalAgent { sandbox, child, stdin }, sandbox))
    }

    /// Its process id (bubblewrap's, when sandboxed).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops it: its jobs are cancelled (and reported), then it exits; killed after 10 s.
    pub async fn stop(mut self) {
        // The end of its standard input tells it (signals would stop at bubblewrap).
        drop(self.stdin.take());
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
