//! The emergency path of `tandem flags`: `kill` flips a kill switch at once
//! (`POST /api/v1/flags/{key}/kill`, the platform's emergency role, operator by default),
//! `emergencies` lists the emergency changes and where their review stands, `review` gives
//! the review afterwards (the other side, never the author), `lift` opens the change request
//! that lifts a kill (reviewed like any flag change).

use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use clap::{ArgGroup, Subcommand};
use tandem_wire::changes::Change;
use tandem_wire::flags::{FlagEmergency, FlagEmergencyReview, FlagKillRequest, FlagLiftRequest};

/// The emergency subcommands, flattened into `tandem flags`.
#[derive(Debug, Subcommand)]
pub enum EmergencyCommand {
    /// Kill a kill-switch flag now (it serves its default variant), everywhere or in one market:
    /// an emergency change, shown as unreviewed until the other side reviews it.
    #[command(
        after_help = "Example:\n  tandem flags kill new-checkout --market fr --reason \"payment errors since 14:02\""
    )]
    Kill {
        flag: String,
        /// Kill it in this market only (default: every market).
        #[arg(long)]
        market: Option<String>,
        /// Why, kept with the emergency change and in the audit log.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The emergency changes of flags, newest first, and where each one's review stands.
    #[command(after_help = "Example:\n  tandem flags emergencies --unreviewed")]
    Emergencies {
        /// Only this service's flags.
        #[arg(long)]
        service: Option<String>,
        /// Only this flag.
        #[arg(long)]
        flag: Option<String>,
        /// Only those no one has reviewed yet.
        #[arg(long)]
        unreviewed: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Review an emergency change afterwards (the other side; never its author). A rejection
    /// reverts nothing: lift the kill with `tandem flags lift`.
    #[command(
        group(ArgGroup::new("verdict").required(true).args(["approve", "reject"])),
        after_help = "Example:\n  tandem flags review 3 --approve --comment \"right call, bug filed as SHOP-512\""
    )]
    Review {
        id: i64,
        /// The kill was right.
        #[arg(long)]
        approve: bool,
        /// The kill was not needed (it stays in force until lifted).
        #[arg(long)]
        reject: bool,
        /// What the reviewer says, kept with the review.
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Ask to lift a kill: opens a change request, reviewed like any flag change; its approval
    /// lifts the kill.
    #[command(after_help = "Example:\n  tandem flags lift 3 --reason \"fixed in 2.4.1\"")]
    Lift {
        id: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl EmergencyCommand {
    pub async fn run(self) -> anyhow::Result<bool> {
        match self {
            EmergencyCommand::Kill {
                flag,
                market,
                reason,
                client,
            } => {
                let row: FlagEmergency = Client::from_args(&client)
                    .post(
                        &format!("/api/v1/flags/{}/kill", encode(&flag)),
                        &FlagKillRequest { market, reason },
                    )
                    .await?;
                if client.json {
                    print_json(&row)?;
                } else {
                    outln!(
                        "Flag {} killed {}: it serves its default now (emergency change {}).\nUnreviewed until the other side reviews it: tandem flags review {} --approve|--reject",
                        row.flag,
                        place(&row),
                        row.id,
                        row.id
                    )?;
                }
            }
            EmergencyCommand::Emergencies {
                service,
                flag,
                unreviewed,
                client,
            } => {
                let mut query = vec![format!("unreviewed={unreviewed}")];
                query.extend(service.map(|s| format!("service={}", encode(&s))));
                query.extend(flag.map(|f| format!("flag={}", encode(&f))));
                let rows: Vec<FlagEmergency> = Client::from_args(&client)
                    .get(&format!("/api/v1/flags/emergencies?{}", query.join("&")))
                    .await?;
                if client.json {
                    print_json(&rows)?;
                } else if rows.is_empty() {
                    outln!("No emergency change.")?;
                } else {
                    print_emergencies(&rows)?;
                }
            }
            EmergencyCommand::Review {
                id,
                approve,
                reject: _,
                comment,
                client,
            } => {
                let row: FlagEmergency = Client::from_args(&client)
                    .post(
                        &format!("/api/v1/flags/emergencies/{id}/review"),
                        &FlagEmergencyReview { approve, comment },
                    )
                    .await?;
                if client.json {
                    print_json(&row)?;
                } else {
                    let still = if row.in_force {
                        " The kill holds until lifted (tandem flags lift)."
                    } else {
                        ""
                    };
                    outln!("Emergency change {} {}.{still}", row.id, row.review)?;
                }
            }
            EmergencyCommand::Lift { id, reason, client } => {
                let change: Change = Client::from_args(&client)
                    .post(
                        &format!("/api/v1/flags/emergencies/{id}/lift"),
                        &FlagLiftRequest { reason },
                    )
                    .await?;
                if client.json {
                    print_json(&change)?;
                } else if change.state == tandem_core::state::ChangeState::Done {
                    outln!(
                        "Emergency change {id} lifted (change request {}, no approval needed).",
                        change.id
                    )?;
                } else {
                    outln!(
                        "Change request {} opened to lift emergency change {id}: the kill holds until it is approved (tandem config change {})",
                        change.id,
                        change.id
                    )?;
                }
            }
        }
        Ok(true)
    }
}

/// "everywhere" or "in fr".
fn place(row: &FlagEmergency) -> String {
    row.market
        .as_deref()
        .map_or("everywhere".to_string(), |m| format!("in {m}"))
}

/// The emergency changes as a table: one row each, its review in one word.
pub fn print_emergencies(rows: &[FlagEmergency]) -> std::io::Result<()> {
    let rows = rows
        .iter()
        .map(|r| {
            let review = match &r.reviewed_by {
                Some(by) => format!("{} by {by}", r.review),
                None => r.review.to_uppercase(),
            };
            let state = match (r.in_force, r.lift_change) {
                (false, _) => "lifted".to_string(),
                (true, Some(c)) => format!("in force (lift: change {c})"),
                (true, None) => "in force".to_string(),
            };
            vec![
                r.id.to_string(),
                r.flag.clone(),
                r.market.clone().unwrap_or_else(|| "every market".into()),
                r.created_by.clone(),
                time(Some(r.created_at)),
                r.reason.clone(),
                review,
                state,
            ]
        })
        .collect();
    print_table(&["id", "flag", "where", "by", "when", "reason", "review", "kill"], rows)
}
