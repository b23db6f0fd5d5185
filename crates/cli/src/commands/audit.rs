//! `tandem audit`: the audit log (admins), filtered and paged; `tandem audit verify` checks its
//! hash chain and exits 1 naming every row that was edited or deleted.
//!
//! Routes: `GET /api/v1/audit` (filters and `before` cursor as query) and
//! `GET /api/v1/audit/verify`; both answer admins only.

use crate::client::{Client, ClientArgs};
use crate::output::{print_json_in_order, print_table, time};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use tandem_wire::audit::{AuditPage, ChainReport};

/// `tandem audit`: filters and paging of the audit log, or `verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tandem audit --actor ana --since 24h
  tandem audit --kind rollout --object rollout/12
  tandem audit --before 4810          # the next (older) page
  tandem audit verify --head 4812:9f2c…")]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// Only this actor: a token's name, `tandem` (the server itself), `anonymous`.
    #[arg(long)]
    actor: Option<String>,
    /// Only this kind (`rollout.approved`) or family (`rollout`).
    #[arg(long)]
    kind: Option<String>,
    /// Only this object (`rollout/12`) or type (`rollout`).
    #[arg(long)]
    object: Option<String>,
    /// From this time: RFC 3339, Unix ms, or an age such as 30m, 24h, 7d.
    #[arg(long)]
    since: Option<String>,
    /// Before this time: RFC 3339, Unix ms, or an age.
    #[arg(long)]
    until: Option<String>,
    /// Entries older than this id (the cursor the previous page printed).
    #[arg(long)]
    before: Option<i64>,
    /// Entries per page (at most 500).
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain: exits 1 and names each row that was edited or deleted.
    #[command(after_help = "Example:\n  tandem audit verify\n  tandem audit verify --head 4812:9f2c…")]
    Verify {
        /// A head printed by an earlier verify (`ID:HASH`): checks that row is still there,
        /// unchanged (deleting the newest rows breaks no link; this finds it).
        #[arg(long)]
        head: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// An age (`30m`, `24h`, `7d`) as Unix ms; anything else goes to the server as it is.
fn time_arg(text: &str) -> String {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return text.to_string(),
    };
    match number.parse::<i64>() {
        Ok(n) => (jiff::Timestamp::now().as_millisecond() - n * seconds * 1000).to_string(),
        Err(_) => text.to_string(),
    }
}

/// Prints a page of the audit log, or checks its chain: exit code 1 when `verify` finds a row
/// edited or deleted.
pub async fn run(args: AuditArgs) -> Result<ExitCode> {
    match args.command {
        Some(AuditCommand::Verify { head, client }) => verify(head.as_deref(), &client).await,
        None => list(args).await.map(|_| ExitCode::SUCCESS),
    }
}

async fn list(args: AuditArgs) -> Result<()> {
    let mut query = vec![format!("limit={}", args.limit)];
    let fields = [
        ("actor", args.actor),
        ("kind", args.kind),
        ("object", args.object),
        ("since", args.since.as_deref().map(time_arg)),
        ("until", args.until.as_deref().map(time_arg)),
        ("before", args.before.map(|b| b.to_string())),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            query.push(format!("{name}={}", crate::client::encode(&value)));
        }
    }
    let page: AuditPage = Client::from_args(&args.client)
        .get(&format!("/api/v1/audit?{}", query.join("&")))
        .await?;
    if args.client.json {
        return print_json_in_order(&page);
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows = page
        .entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                time(Some(e.at)),
                dash(&e.actor),
                dash(&e.via),
                dash(&e.address),
                e.kind.clone(),
                e.subject.clone(),
                e.outcome.clone(),
            ]
        })
        .collect();
    print_table(
        &["id", "at (UTC)", "actor", "via", "address", "kind", "object", "outcome"],
        rows,
    )?;
    if let Some(next) = page.next {
        outln!("Older entries: add --before {next}")?;
    }
    Ok(())
}

async fn verify(head: Option<&str>, client_args: &ClientArgs) -> Result<ExitCode> {
    let client = Client::from_args(client_args);
    let report: ChainReport = client.get("/api/v1/audit/verify").await?;
    let mut problems: Vec<String> = report.problems.iter().map(|p| p.message.clone()).collect();
    if report.problems.is_empty() && !report.intact {
        problems.push("the chain is broken (the server listed no detail)".into());
    }
    if let Some(head) = head {
        let (id, hash) = head
            .split_once(':')
            .and_then(|(id, hash)| Some((id.parse::<i64>().ok()?, hash)))
            .context("--head takes ID:HASH, as `tandem audit verify` printed it")?;
        let page: AuditPage = client.get(&format!("/api/v1/audit?before={}&limit=1", id + 1)).await?;
        match page.entries.first() {
            Some(row) if row.id == id && row.hash.as_deref() == Some(hash) => {}
            Some(row) if row.id == id => {
                problems.push(format!("row {id} no longer has the hash you kept: it was rewritten"))
            }
            _ => problems.push(format!("row {id} (the head you kept) was deleted")),
        }
    }
    if client_args.json {
        print_json_in_order(&report)?;
    }
    if !problems.is_empty() {
        if !client_args.json {
            outln!("The audit log was tampered with ({} rows read):", report.rows)?;
            for p in &problems {
                outln!("  - {p}")?;
            }
        }
        bail!(
            "the audit log's hash chain is broken at row {}: restore the database from a backup and find who could write it",
            report
                .problems
                .first()
                .map(|p| p.id.to_string())
                .unwrap_or_else(|| "?".into())
        );
    }
    if !client_args.json {
        match (report.head_id, &report.head_hash) {
            (Some(id), Some(hash)) => {
                outln!("The audit log is intact: {} rows.", report.rows)?;
                outln!("Newest row: {id}:{hash}")?;
                outln!(
                    "Keep that line elsewhere and check it later with `tandem audit verify --head {id}:{hash}`: deleting the newest rows breaks no link."
                )?;
            }
            _ => outln!("The audit log is empty.")?,
        }
        if report.without_actor > 0 {
            outln!(
                "{} rows were written before the audit log existed: they are chained but name no actor.",
                report.without_actor
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
