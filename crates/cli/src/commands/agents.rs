//! `tandem agents`: list the agents (`GET /api/v1/agents`), register one or give it a new token
//! (admins; the token is printed once), revoke one, pause, drain or resume one (operators).

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use tandem_wire::agents::{Agent, AgentMode, AgentToken, NewAgent};

/// `tandem agents`: list, register, rotate, revoke, pause, drain, resume.
#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List agents: labels, capacity, running jobs, version, last seen, mode.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Register an agent (needs an admin token); its token is printed once.
    #[command(
        after_help = "Example:\n  tandem agents register build-eu-1\n  TANDEM_AGENT_TOKEN=… tandem agent --server https://tandem.example.com --labels region=eu-west"
    )]
    Register {
        /// Its name: letters, digits, `-`, `_` or `.`.
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Give an agent a new token, printed once; the old one stops working at once.
    Rotate {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke an agent: its token stops working, and its jobs go to another agent.
    Revoke {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Pause an agent: it takes no new job.
    Pause {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Drain an agent: it finishes its jobs, then exits.
    Drain {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Let a paused or draining agent take jobs again.
    Resume {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl AgentsCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            AgentsCommand::List { client } => {
                let agents: Vec<Agent> = Client::from_args(&client).get("/api/v1/agents").await?;
                if client.json {
                    return print_json(&agents);
                }
                let rows = agents
                    .iter()
                    .map(|a| {
                        let state = match (&a.revoked_at, a.connected) {
                            (Some(_), _) => "revoked".to_string(),
                            (None, true) => a.mode.clone(),
                            (None, false) => format!("{} (not connected)", a.mode),
                        };
                        vec![
                            show(&a.name),
                            show(&a.labels.join(", ")),
                            format!("{}/{}", a.running, a.capacity),
                            state,
                            show(&a.version.as_deref().unwrap_or("-")),
                            show(&a.host.as_deref().unwrap_or("-")),
                            time(a.seen_at),
                        ]
                    })
                    .collect();
                print_table(
                    &["name", "labels", "jobs", "state", "version", "host", "last seen"],
                    rows,
                )?;
                Ok(())
            }
            AgentsCommand::Register { name, client } => {
                let t: AgentToken = Client::from_args(&client)
                    .post("/api/v1/agents", &NewAgent { name })
                    .await?;
                print_token(&client, &t, "registered")
            }
            AgentsCommand::Rotate { name, client } => {
                let t: AgentToken = Client::from_args(&client)
                    .post(
                        &format!("/api/v1/agents/{}/rotate", encode(&name)),
                        &serde_json::json!({}),
                    )
                    .await?;
                print_token(&client, &t, "given a new token (the old one no longer works)")
            }
            AgentsCommand::Revoke { name, client } => {
                let a: Agent = Client::from_args(&client)
                    .delete(&format!("/api/v1/agents/{}", encode(&name)))
                    .await?;
                if client.json {
                    return print_json(&a);
                }
                outln!(
                    "Agent `{}` revoked: its token no longer works, and its jobs go to another agent.",
                    show(&a.name)
                )?;
                Ok(())
            }
            AgentsCommand::Pause { name, client } => set_mode(&client, &name, "paused").await,
            AgentsCommand::Drain { name, client } => set_mode(&client, &name, "draining").await,
            AgentsCommand::Resume { name, client } => set_mode(&client, &name, "active").await,
        }
    }
}

async fn set_mode(client: &ClientArgs, name: &str, mode: &str) -> anyhow::Result<()> {
    let a: Agent = Client::from_args(client)
        .post(
            &format!("/api/v1/agents/{}/mode", encode(name)),
            &AgentMode { mode: mode.to_string() },
        )
        .await?;
    if client.json {
        return print_json(&a);
    }
    let what = match mode {
        "paused" => "paused: it takes no new job",
        "draining" => "draining: it finishes its jobs, then exits",
        _ => "active: it takes jobs",
    };
    outln!("Agent `{}` is {what}.", show(&a.name))?;
    Ok(())
}

fn print_token(client: &ClientArgs, t: &AgentToken, what: &str) -> anyhow::Result<()> {
    if client.json {
        return print_json(t);
    }
    outln!(
        "Agent `{}` {what}. Its token, shown once:\n{}\nStart it with:\n  TANDEM_AGENT_TOKEN=… tandem agent --server {}",
        show(&t.agent.name),
        show(&t.token),
        show(&client.server)
    )?;
    Ok(())
}

/// An agent's name in a URL path (names are letters, digits, `-`, `_`, `.`; anything else is
/// refused by the server, but still kept out of the path's structure).
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
