//! `tandem`: one binary for the server, the demo and the client commands.

#![deny(missing_docs)]

// First: its `out!` and `outln!` macros serve the modules below.
#[macro_use]
mod output;
mod agent;
mod client;
mod commands;
mod demo;
mod local_run;
mod server;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `tandem --version`: the release and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TANDEM_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version = VERSION,
    about = "Carry every idea from plan to production, market by market."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Tandem server: API, web UI, pipeline runner and rollout engine.
    #[command(after_help = "Example:\n  tandem serve --platform platform.yml --data-dir /var/lib/tandem")]
    Serve(server::ServeArgs),
    /// Run pipeline jobs for a server: takes the jobs its labels match, over HTTP, with an
    /// agent token.
    #[command(
        after_help = "Example:\n  TANDEM_AGENT_TOKEN=… tandem agent --server https://tandem.example.com --labels gpu,region=eu-west\n  tandem agent --drain --work-dir /var/lib/tandem-agent"
    )]
    Agent(agent::AgentArgs),
    /// Agents: list, register (or rotate, revoke) their tokens, pause, drain, resume.
    #[command(subcommand)]
    Agents(commands::agents::AgentsCommand),
    /// Show the whole loop on a real service: build, release and roll out to 25 markets.
    #[command(after_help = "Example:\n  tandem demo\n  tandem demo --json --exit-when-done")]
    Demo(demo::DemoArgs),
    /// Check a tandem.yml without running it.
    Lint(commands::lint::LintArgs),
    /// Ideas: the work items commits link to (`T-12` in a commit message).
    #[command(subcommand)]
    Idea(commands::ideas::IdeaCommand),
    /// Markets and what runs in each.
    #[command(subcommand)]
    Market(commands::markets::MarketCommand),
    /// Run this repository's pipeline here, or (with a subcommand) list and steer a server's runs.
    Run(commands::runs::RunArgs),
    /// Releases.
    #[command(subcommand)]
    Release(commands::releases::ReleaseCommand),
    /// Rollouts of releases through the waves.
    #[command(subcommand)]
    Rollout(commands::rollouts::RolloutCommand),
    /// Artifacts: download (digest-checked), garbage collection.
    #[command(subcommand)]
    Artifact(commands::artifacts::ArtifactCommand),
    /// Send markets back to their previous release by hand.
    Rollback(commands::rollback::RollbackArgs),
    /// API tokens.
    #[command(subcommand)]
    Token(commands::tokens::TokenCommand),
    /// Secrets kept by Tandem, sealed at rest: set or rotate, list, delete (admins only; values
    /// are never shown back).
    #[command(subcommand)]
    Secret(commands::secrets::SecretCommand),
    /// Per-market configuration: resolved values and their layers, change requests, versions,
    /// rollback.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Feature flags: put a service's flag file in force, see its versions, evaluate over OFREP,
    /// kill a kill switch in an emergency (reviewed afterwards). `tandem flag` works too.
    #[command(subcommand, visible_alias = "flag")]
    Flags(commands::flags::FlagCommand),
    /// DORA's four keys with their levels: deployment frequency, lead time, change failure
    /// rate, recovery time. (`tandem metrics`, its former name, still works.)
    #[command(alias = "metrics")]
    Dora(commands::dora::DoraArgs),
    /// Live markets as the monitor last probed them: up or down, latency, incident. Exits 1
    /// when a market is down.
    Health(commands::health::HealthArgs),
    /// Idea to production: what shipped in the last days, stage by stage, and where it is live.
    Flow(commands::flow::FlowArgs),
    /// Incidents: list, open by hand, resolve, link to a deployment, postmortem draft.
    #[command(subcommand)]
    Incident(commands::incidents::IncidentCommand),
    /// The audit log (admins): who did what, when, from where; `verify` checks its hash chain.
    Audit(commands::audit::AuditArgs),
    /// The database: copy a SQLite data folder's history into PostgreSQL.
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Prints the completion script for a shell, to source from its start-up file.
    #[command(
        after_help = "Example:\n  tandem completions bash > ~/.local/share/bash-completion/completions/tandem\n  tandem completions zsh > \"${fpath[1]}/_tandem\"\n  tandem completions fish > ~/.config/fish/completions/tandem.fish"
    )]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Writes the manual pages (`tandem.1`, `tandem-serve.1`, …), for packages and `man -l`.
    #[command(after_help = "Example:\n  tandem man --dir /usr/share/man/man1")]
    Man {
        /// The folder to write them in (created if needed).
        #[arg(long)]
        dir: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    // An agent starts each step through this program (see `tandem_agent::guard`): at once,
    // before anything else is set up.
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == tandem_agent::guard::GUARD_ARG) {
        return ExitCode::from(tandem_agent::guard::run(args.collect()).clamp(0, 255) as u8);
    }
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve(_) | Command::Agent(_) => "info",
        // The story tells the outage it stages itself; other warnings still show.
        Command::Demo(_) => "warn,tandem_engine::monitor=error",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG").unwrap_or_else(|_| default_level.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or journal gets plain text.
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Every HTTP client (and gix's HTTPS) takes the process's TLS provider: ring, installed once.
    tandem_engine::tls::use_ring();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // The reader of our output went away (`| head`): nothing is wrong, like other Unix tools.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => server::serve(args).await.map(|_| ExitCode::SUCCESS),
        Command::Agent(args) => agent::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Agents(command) => command.run().await.map(|_| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(args).await,
        Command::Lint(args) => commands::lint::run(args),
        Command::Db(c) => c.run().await,
        Command::Idea(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Market(c) => c.run().await,
        Command::Run(args) => match args.command {
            Some(c) => c.run().await.map(|_| ExitCode::SUCCESS),
            None => local_run::run(args.local).await,
        },
        Command::Release(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Rollout(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Token(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Secret(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Rollback(args) => commands::rollback::run(args).await,
        Command::Config(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Flags(c) => c
            .run()
            .await
            .map(|ok| if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }),
        Command::Artifact(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Incident(c) => c.run().await.map(|_| ExitCode::SUCCESS),
        Command::Audit(args) => commands::audit::run(args).await,
        Command::Dora(args) => commands::dora::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Health(args) => commands::health::run(args)
            .await
            .map(|up| if up { ExitCode::SUCCESS } else { ExitCode::FAILURE }),
        Command::Flow(args) => commands::flow::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "tandem", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir } => write_manual(&dir).and_then(|n| {
            outln!("{n} manual pages written to {}", dir.display())?;
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// Writes one manual page per command and subcommand into `dir`; returns how many.
fn write_manual(dir: &std::path::Path) -> anyhow::Result<usize> {
    use anyhow::Context;
    use clap::CommandFactory;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    let mut written = 0;
    let mut pending = vec![("tandem".to_string(), command)];
    while let Some((name, command)) = pending.pop() {
        // Every command but clap's own `help`, which `--help` and the pages already are.
        for sub in command
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            pending.push((format!("{name}-{}", sub.get_name()), sub.clone()));
        }
        let page = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(command.display_name(name.clone()))
            .title(name.clone())
            .source(format!("tandem {VERSION}"))
            .manual("Tandem manual")
            .render(&mut out)?;
        std::fs::write(&page, out).with_context(|| format!("cannot write {}", page.display()))?;
        written += 1;
    }
    Ok(written)
}
