//! `tandem incident`: `list` (`GET /api/v1/incidents`, any role), `open`
//! (`POST /api/v1/incidents`, developers and up), `resolve`
//! (`POST /api/v1/incidents/{id}/resolve`, developers and up), `link` to the deployment that
//! caused it (`PUT /api/v1/incidents/{id}/deployment`, operators and up) and `postmortem`, a
//! Markdown draft (`GET /api/v1/incidents/{id}/postmortem`, any role).

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use serde_json::json;
use tandem_wire::incidents::{Incident, LinkIncident, OpenIncident};

/// `tandem incident`: list, open, resolve, link, postmortem.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Incidents, newest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Open an incident by hand (linked to the deployment serving the market unless --deployment).
    #[command(after_help = "Example:\n  tandem incident open shop --market nl --title \"iDEAL payments time out\"")]
    Open {
        service: String,
        #[arg(long)]
        market: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        summary: Option<String>,
        #[arg(long)]
        deployment: Option<i64>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resolve an open incident.
    #[command(after_help = "Example:\n  tandem incident resolve 3 --reason \"rolled back to v1\"")]
    Resolve {
        id: i64,
        /// What fixed it: goes on the incident's timeline.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Link an incident to the deployment that caused it.
    Link {
        id: i64,
        #[arg(long)]
        deployment: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A postmortem draft in Markdown: what changed, the gates, the timeline.
    Postmortem {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl IncidentCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            IncidentCommand::List { client } => {
                let rows: Vec<Incident> = Client::from_args(&client).get("/api/v1/incidents").await?;
                if client.json {
                    return print_json(&rows);
                }
                let table = rows
                    .iter()
                    .map(|i| {
                        vec![
                            show(&i.id),
                            show(&i.service),
                            show(&i.market),
                            show(&i.state),
                            show(&i.source),
                            show(&i.deployment_id),
                            time(Some(i.opened_at)),
                            show(&i.title),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "id",
                        "service",
                        "market",
                        "state",
                        "source",
                        "deployment",
                        "opened",
                        "title",
                    ],
                    table,
                )?;
                Ok(())
            }
            IncidentCommand::Open {
                service,
                market,
                title,
                summary,
                deployment,
                client,
            } => {
                let row: Incident = Client::from_args(&client)
                    .post(
                        "/api/v1/incidents",
                        &OpenIncident {
                            service,
                            market: market.clone(),
                            title,
                            summary,
                            deployment_id: deployment,
                        },
                    )
                    .await?;
                if client.json {
                    return print_json(&row);
                }
                outln!(
                    "Incident {} opened in {market}, linked to deployment {}",
                    show(&row.id),
                    show(&row.deployment_id)
                )?;
                Ok(())
            }
            IncidentCommand::Resolve { id, reason, client } => {
                let body = match reason {
                    Some(reason) => json!({ "reason": reason }),
                    None => json!({}),
                };
                let row: Incident = Client::from_args(&client)
                    .post(&format!("/api/v1/incidents/{id}/resolve"), &body)
                    .await?;
                if client.json {
                    return print_json(&row);
                }
                outln!("Incident {id} resolved")?;
                Ok(())
            }
            IncidentCommand::Link { id, deployment, client } => {
                let row: Incident = Client::from_args(&client)
                    .put(
                        &format!("/api/v1/incidents/{id}/deployment"),
                        &LinkIncident {
                            deployment_id: deployment,
                        },
                    )
                    .await?;
                if client.json {
                    return print_json(&row);
                }
                outln!("Incident {id} is linked to deployment {deployment}")?;
                Ok(())
            }
            IncidentCommand::Postmortem { id, client } => {
                let text = Client::from_args(&client)
                    .get_text(&format!("/api/v1/incidents/{id}/postmortem"))
                    .await?;
                out!("{text}")?;
                Ok(())
            }
        }
    }
}
