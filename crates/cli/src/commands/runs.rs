use super::text;
use crate::client::{Client, ClientArgs};
use crate::output::{duration, print_json, print_table, short, time};
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// List pipeline runs, newest first.
    #[command(after_help = "Example:\n  tandem run list --service shop")]
    List {
        #[arg(long)]
        service: Option<String>,
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
    /// Start a run of a service's branch head.
    #[command(after_help = "Example:\n  tandem run start shop")]
    Start {
        service: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl RunCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            RunCommand::List { service, client } => {
                let path = match &service {
                    Some(s) => format!("/api/v1/runs?service={s}"),
                    None => "/api/v1/runs".into(),
                };
                let runs: Vec<Value> = Client::from_args(&client).get(&path).await?;
                if client.json {
                    return print_json(&runs);
                }
                let rows = runs
                    .iter()
                    .map(|r| {
                        vec![
                            text(&r["id"]),
                            text(&r["service"]),
                            short(&text(&r["commit_sha"])),
                            text(&r["branch"]),
                            text(&r["trigger"]),
                            text(&r["state"]),
                            time(r["started_at"].as_i64()),
                            duration(r["started_at"].as_i64(), r["finished_at"].as_i64()),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "run", "service", "commit", "branch", "trigger", "state", "started", "took",
                    ],
                    rows,
                );
                Ok(())
            }
            RunCommand::Show { id, logs, client } => {
                let api = Client::from_args(&client);
                let run: Value = api.get(&format!("/api/v1/runs/{id}")).await?;
                if client.json {
                    return print_json(&run);
                }
                println!(
                    "Run {} of {} at {} ({}): {}{}",
                    id,
                    text(&run["service"]),
                    short(&text(&run["commit_sha"])),
                    text(&run["branch"]),
                    text(&run["state"]),
                    run["release"]
                        .as_str()
                        .map(|v| format!(", made release {v}"))
                        .unwrap_or_default()
                );
                if let Some(error) = run["error"].as_str() {
                    println!("  error: {error}");
                }
                let mut rows = Vec::new();
                for job in run["jobs"].as_array().into_iter().flatten() {
                    for step in job["steps"].as_array().into_iter().flatten() {
                        rows.push(vec![
                            text(&job["name"]),
                            text(&step["name"]),
                            text(&step["command"]),
                            text(&step["state"]),
                            text(&step["exit_code"]),
                            duration(step["started_at"].as_i64(), step["finished_at"].as_i64()),
                        ]);
                    }
                }
                print_table(&["job", "step", "command", "state", "exit", "took"], rows);
                for a in run["artifacts"].as_array().into_iter().flatten() {
                    println!(
                        "  artifact {} ({} bytes) sha256:{}",
                        text(&a["path"]),
                        text(&a["size"]),
                        text(&a["digest"])
                    );
                }
                if logs {
                    for job in run["jobs"].as_array().into_iter().flatten() {
                        let name = text(&job["name"]);
                        println!("\n── log of job {name} ──");
                        print!("{}", api.get_text(&format!("/api/v1/runs/{id}/jobs/{name}/log")).await?);
                    }
                }
                Ok(())
            }
            RunCommand::Start { service, client } => {
                let run: Value = Client::from_args(&client)
                    .post(&format!("/api/v1/services/{service}/runs"), &serde_json::json!({}))
                    .await?;
                if client.json {
                    return print_json(&run);
                }
                println!(
                    "Started run {} of {} at {}",
                    text(&run["id"]),
                    service,
                    short(&text(&run["commit_sha"]))
                );
                Ok(())
            }
        }
    }
}
