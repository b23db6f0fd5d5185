//! `tandem run` with a subcommand: a server's pipeline runs. `list` (`GET /api/v1/runs`) and
//! `show` (`GET /api/v1/runs/{id}`, with `--logs` each job's
//! `GET /api/v1/runs/{id}/jobs/{job}/log`) for any role; `cancel` and `rerun`
//! (`POST /api/v1/runs/{id}/cancel|rerun`) and `start` (`POST /api/v1/services/{service}/runs`)
//! for developers and up. Without a subcommand, `tandem run` runs the pipeline here
//! (`crate::local_run`, no server).

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{duration, print_json, print_table, short, time};
use clap::Subcommand;
use tandem_core::state::JobState;
use tandem_wire::runs::{Run, RunDetail};

/// `tandem run` alone runs the local pipeline; with a subcommand it talks to a server.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Examples:\n  tandem run                 # the pipeline of this repository, here\n  tandem run list --state failed\n  tandem run rerun 12"
)]
pub struct RunArgs {
    /// A subcommand acting on a server's runs; none runs the pipeline here.
    #[command(subcommand)]
    pub command: Option<RunCommand>,
    /// What a local run takes, when no subcommand is given.
    #[command(flatten)]
    pub local: crate::local_run::LocalRunArgs,
}

/// `tandem run` subcommands: a server's pipeline runs.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// List pipeline runs, newest first.
    #[command(after_help = "Example:\n  tandem run list --service shop --state failed")]
    List {
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        branch: Option<String>,
        /// queued, running, success, failed, cancelled or interrupted.
        #[arg(long)]
        state: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a run: its jobs, steps, artifacts and (with --logs) logs.
    #[command(after_help = "Example:\n  tandem run show 1 --logs")]
    Show {
        id: i64,
        /// Print every job's log too.
        #[arg(long)]
        logs: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Cancel a run in progress.
    #[command(after_help = "Example:\n  tandem run cancel 12")]
    Cancel {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Run again the jobs of a run that did not pass (those that passed are reused).
    #[command(after_help = "Example:\n  tandem run rerun 12")]
    Rerun {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Start a run of a service's branch head.
    #[command(after_help = "Example:\n  tandem run start shop")]
    Start {
        service: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl RunCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            RunCommand::List {
                service,
                branch,
                state,
                client,
            } => {
                let query: Vec<String> = [("service", service), ("branch", branch), ("state", state)]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| format!("{k}={}", crate::client::encode(&v))))
                    .collect();
                let path = format!("/api/v1/runs?{}", query.join("&"));
                let runs: Vec<Run> = Client::from_args(&client).get(&path).await?;
                if client.json {
                    return print_json(&runs);
                }
                let rows = runs
                    .iter()
                    .map(|r| {
                        vec![
                            show(&r.id),
                            show(&r.service),
                            short(&show(&r.commit_sha)),
                            show(&r.branch),
                            show(&r.trigger),
                            show(&r.state),
                            time(r.started_at),
                            duration(r.started_at, r.finished_at),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "run", "service", "commit", "branch", "trigger", "state", "started", "took",
                    ],
                    rows,
                )?;
                Ok(())
            }
            RunCommand::Show { id, logs, client } => {
                let api = Client::from_args(&client);
                let run: RunDetail = api.get(&format!("/api/v1/runs/{id}")).await?;
                if client.json {
                    return print_json(&run);
                }
                outln!(
                    "Run {} of {} at {} ({}): {}{}",
                    id,
                    show(&run.run.service),
                    short(&show(&run.run.commit_sha)),
                    show(&run.run.branch),
                    show(&run.run.state),
                    run.release
                        .as_deref()
                        .map(|v| format!(", made release {v}"))
                        .unwrap_or_default()
                )?;
                if let Some(error) = &run.run.error {
                    outln!("  error: {error}")?;
                }
                let mut rows = Vec::new();
                for job in &run.jobs {
                    for step in &job.steps {
                        rows.push(vec![
                            show(&job.job.name),
                            show(&step.name),
                            show(&step.command),
                            show(&step.state),
                            show(&step.exit_code),
                            duration(step.started_at, step.finished_at),
                        ]);
                    }
                }
                print_table(&["job", "step", "command", "state", "exit", "took"], rows)?;
                for job in &run.jobs {
                    let name = show(&job.job.name);
                    if let Some(agent) = &job.job.agent {
                        outln!("  job {name} ran on agent {}", show(agent))?;
                    }
                    if job.job.lost > 0 {
                        outln!("  job {name} lost its agent {} time(s) and ran again", job.job.lost)?;
                    }
                    if let Some(why) = job
                        .job
                        .waiting
                        .as_deref()
                        .filter(|_| job.job.state == JobState::Pending)
                    {
                        outln!("  job {name} waits: {}", show(&why))?;
                    }
                }
                for a in &run.artifacts {
                    outln!(
                        "  artifact {} ({} bytes) sha256:{}",
                        show(&a.path),
                        show(&a.size),
                        show(&a.digest)
                    )?;
                }
                if logs {
                    for job in &run.jobs {
                        let name = show(&job.job.name);
                        outln!("\n── log of job {name} ──")?;
                        out!("{}", api.get_text(&format!("/api/v1/runs/{id}/jobs/{name}/log")).await?)?;
                    }
                }
                Ok(())
            }
            RunCommand::Cancel { id, client } => {
                let run: Run = Client::from_args(&client)
                    .post(&format!("/api/v1/runs/{id}/cancel"), &serde_json::json!({}))
                    .await?;
                if client.json {
                    return print_json(&run);
                }
                outln!("Cancelling run {id}")?;
                Ok(())
            }
            RunCommand::Rerun { id, client } => {
                let run: Run = Client::from_args(&client)
                    .post(&format!("/api/v1/runs/{id}/rerun"), &serde_json::json!({}))
                    .await?;
                if client.json {
                    return print_json(&run);
                }
                outln!("Started run {} re-running the failed jobs of run {id}", show(&run.id))?;
                Ok(())
            }
            RunCommand::Start { service, client } => {
                let run: Run = Client::from_args(&client)
                    .post(&format!("/api/v1/services/{service}/runs"), &serde_json::json!({}))
                    .await?;
                if client.json {
                    return print_json(&run);
                }
                outln!(
                    "Started run {} of {} at {}",
                    show(&run.id),
                    service,
                    short(&show(&run.commit_sha))
                )?;
                Ok(())
            }
        }
    }
}
