//! `tandem run`: the pipeline of the repository in the current folder, on this machine, with
//! the server's own engine (same scheduler, executor and semantics) on a throw-away data
//! folder. It runs the working tree's tracked files as they are now: uncommitted changes
//! included, through `git stash create`, which records them without touching the work tree.

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};
use tandem_core::pipeline::parse_service_spec;
use tandem_core::platform::{ConfigLayers, Platform, Service, Triggers};
use tandem_core::state::{JobState, RunState};
use tandem_engine::{Engine, EngineSettings};
use tandem_store::Store;

/// How often the job tree is redrawn.
const REFRESH: Duration = Duration::from_millis(100);

/// `tandem run` without a subcommand: which pipeline file to run here, and how.
#[derive(Debug, Args)]
pub struct LocalRunArgs {
    /// The repository to run (default: the one holding the current folder).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// A platform file, for `matrix: { market: all }` and secrets.
    #[arg(long)]
    platform: Option<PathBuf>,
    /// How many jobs run at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Print every job's log at the end, not only the failed ones'.
    #[arg(long)]
    logs: bool,
}

/// Runs the pipeline found in `--dir` on a throw-away data folder and prints its jobs as they
/// go: exit code 0 when the run passes, 1 otherwise.
pub async fn run(args: LocalRunArgs) -> Result<ExitCode> {
    let found = Found::probe(&args.dir);
    let root = match &found {
        Some(f) => f.root.clone(),
        None => repo_root(&args.dir)?,
    };
    let text = std::fs::read_to_string(root.join("tandem.yml")).with_context(|| {
        format!(
            "cannot read {}: `tandem run` needs a tandem.yml at the repository root",
            root.join("tandem.yml").display()
        )
    })?;
    let spec = parse_service_spec("tandem.yml", &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (branch, sha) = snapshot(&root, found)?;

    let mut platform = match &args.platform {
        Some(p) => crate::server::load_platform(p)?,
        None => Platform::default(),
    };
    platform.services = vec![Service {
        name: spec.service.clone(),
        repo: root.display().to_string(),
        branch: branch.clone(),
        config: ConfigLayers::default(),
        triggers: Triggers::default(),
    }];
    let data = tempfile::Builder::new()
        .prefix("tandem-run-")
        .tempdir()
        .context("cannot make a temporary data folder")?;
    let store = Store::open(data.path()).await?;
    store.sync_platform(&platform).await?;
    let mut settings = EngineSettings::in_data_dir(data.path());
    settings.max_parallel_jobs = args.parallel.max(1);
    let engine = Engine::new(store, settings).await?;

    let started = Instant::now();
    eprintln!(
        "Running the pipeline of {} at {} ({branch})",
        spec.service,
        &sha[..8.min(sha.len())]
    );
    let run = engine.trigger_run_at(&spec.service, &branch, &sha, "local").await?;
    let mut view = JobView::new();
    // Woken by the engine's changes, not by a clock: the run's end is seen at once, and the
    // job tree is read again at most once per REFRESH while the run goes on.
    let mut changes = engine.subscribe();
    let mut drawn: Option<Instant> = None;
    let run = loop {
        let run = engine.get_run(run.id).await?;
        let over = !run.state.is_in_progress();
        if over || drawn.is_none_or(|at| at.elapsed() >= REFRESH) {
            view.update(&engine.list_jobs(run.id).await?);
            drawn = Some(Instant::now());
        }
        if over {
            break run;
        }
        let _ = tokio::time::timeout(REFRESH, changes.changed()).await;
    };
    view.finish();
    for job in engine.list_jobs(run.id).await? {
        if (args.logs || job.state == JobState::Failed)
            && let Some(digest) = &job.log_digest
            && let Ok(bytes) = engine.read_log(digest, 0, usize::MAX).await
        {
            eprintln!("── log of {} ──", job.name);
            eprint!("{}", String::from_utf8_lossy(&bytes));
        }
    }
    engine.shutdown().await;
    let took = started.elapsed().as_secs_f64();
    if run.state == RunState::Success {
        eprintln!("Pipeline passed in {took:.1}s");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "Pipeline {} in {took:.1}s: {}",
            run.state,
            run.error.as_deref().unwrap_or("a job failed")
        );
        Ok(ExitCode::FAILURE)
    }
}

/// What one git call tells of the repository holding a folder, when all of it is known.
struct Found {
    root: PathBuf,
    branch: String,
    head: String,
}

impl Found {
    /// `None` when the folder is not in a repository or it has no commit yet: the separate
    /// calls below then say which.
    fn probe(dir: &Path) -> Option<Self> {
        let out = git(dir, &["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"]).ok()?;
        match out.lines().collect::<Vec<_>>()[..] {
            [root, head, branch] => Some(Self {
                root: PathBuf::from(root),
                branch: branch.to_string(),
                head: head.to_string(),
            }),
            _ => None,
        }
    }
}

/// The top folder of the git repository holding `dir`.
fn repo_root(dir: &Path) -> Result<PathBuf> {
    let out = git(dir, &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(out))
}

/// The current branch and a commit holding the working tree's tracked files as they are now.
fn snapshot(root: &Path, found: Option<Found>) -> Result<(String, String)> {
    let (branch, head) = match found {
        Some(f) => (f.branch, f.head),
        None => (
            git(root, &["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_else(|_| "HEAD".into()),
            git(root, &["rev-parse", "HEAD"]).context("the repository has no commit yet: commit once, then run")?,
        ),
    };
    let stash = git(root, &["stash", "create", "tandem run"])?;
    Ok((branch, if stash.is_empty() { head } else { stash }))
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run git in {}", dir.display()))?;
    if !out.status.success() {
        bail!(
            "{} is not in a git repository (git {}: {})",
            dir.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The live job tree: spinners on a terminal, a line per change elsewhere.
struct JobView {
    multi: Option<MultiProgress>,
    bars: HashMap<i64, ProgressBar>,
    shown: HashMap<i64, JobState>,
}

impl JobView {
    fn new() -> Self {
        let fancy = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Self {
            multi: fancy.then(MultiProgress::new),
            bars: HashMap::new(),
            shown: HashMap::new(),
        }
    }

    fn update(&mut self, jobs: &[tandem_store::JobRow]) {
        for job in jobs {
            if self.shown.get(&job.id) == Some(&job.state) {
                continue;
            }
            self.shown.insert(job.id, job.state);
            let needs: Vec<String> = serde_json::from_str(&job.needs).unwrap_or_default();
            let label = if needs.is_empty() {
                job.name.clone()
            } else {
                format!("{} ← {}", job.name, needs.join(", "))
            };
            let took = match (job.started_at, job.finished_at) {
                (Some(a), Some(b)) => format!(" in {:.1}s", (b - a) as f64 / 1000.0),
                _ => String::new(),
            };
            let mark = match job.state {
                JobState::Success => "✓",
                JobState::Failed => "✗",
                JobState::Running => "▶",
                JobState::Skipped | JobState::Cancelled => "–",
                JobState::Pending | JobState::Interrupted => "·",
            };
            let line = format!("{mark} {label}: {}{took}", job.state);
            match &self.multi {
                Some(multi) => {
                    let bar = self.bars.entry(job.id).or_insert_with(|| {
                        let b = multi.add(ProgressBar::new_spinner());
                        b.set_style(
                            ProgressStyle::with_template("  {spinner} {msg} [{elapsed}]")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        b.enable_steady_tick(Duration::from_millis(100));
                        b
                    });
                    if job.state.is_in_progress() {
                        bar.set_message(line);
                    } else {
                        bar.finish_with_message(line);
                    }
                }
                None => eprintln!("  {line}"),
            }
        }
    }

    fn finish(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }
}
