//! `tandem db copy`: moves a team's whole history from a SQLite data folder to PostgreSQL.
//!
//! It calls no server: it opens the data folder's database and the PostgreSQL database itself
//! (stop the server that uses the folder first), copies every table in one PostgreSQL
//! transaction, and prints each table's row count and checksum on both sides.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tandem_store::Store;

/// `tandem db`: the database behind a Tandem server.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy a SQLite data folder's whole history (runs, releases, deployments, config
    /// versions, audit log, DORA history) into an empty PostgreSQL database, then check every
    /// table by row count and SHA-256. Stop the server using the folder first.
    #[command(
        after_help = "Example:\n  TANDEM_DATABASE=postgres://tandem@db.internal/tandem tandem db copy --from /var/lib/tandem\n\nThen serve with the same data folder (its blobs: logs and artifacts) and its secrets key:\n  tandem serve --data-dir /var/lib/tandem --secrets-key-file /var/lib/tandem/secrets.key"
    )]
    Copy(CopyArgs),
}

/// `tandem db copy`: from which data folder, to which database.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The data folder whose `tandem.db` (SQLite) is copied.
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL database to fill (empty). Prefer TANDEM_DATABASE when the URL holds a
    /// password.
    #[arg(long, env = "TANDEM_DATABASE", hide_env_values = true)]
    to: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl DbCommand {
    /// Exit code 0 when every table holds the same rows on both sides.
    pub async fn run(self) -> Result<ExitCode> {
        match self {
            DbCommand::Copy(args) => copy(args).await,
        }
    }
}

async fn copy(args: CopyArgs) -> Result<ExitCode> {
    if !args.from.join("tandem.db").is_file() {
        bail!(
            "{} holds no Tandem database (tandem.db): give the data folder a server ran with",
            args.from.display()
        );
    }
    let source = Store::open(&args.from)
        .await
        .with_context(|| format!("cannot open the data folder {}", args.from.display()))?;
    let target = Store::open_with(&args.from, Some(&args.to))
        .await
        .context("cannot open the database given by --to (or TANDEM_DATABASE)")?;
    let report = source
        .copy_into(&target)
        .await
        .context("the copy failed; nothing was written")?;
    source.close().await;
    target.close().await;
    if args.json {
        outln!(
            "{}",
            serde_json::json!({ "verified": report.verified(), "rows": report.rows(), "tables": report.tables, "blobs": report.blobs })
        )?;
    } else {
        outln!(
            "{:<24} {:>9}  {:<16}  {:<16}",
            "TABLE",
            "ROWS",
            "SQLITE SHA-256",
            "POSTGRES SHA-256"
        )?;
        for t in &report.tables {
            outln!(
                "{:<24} {:>9}  {:<16}  {:<16}{}",
                t.table,
                t.rows,
                short(&t.source_sha256),
                short(&t.target_sha256),
                if t.matches() { "" } else { "  DIFFERS" }
            )?;
        }
        outln!(
            "Uploaded {} blobs ({} bytes) from the data folder, each checked against its sha256.",
            report.blobs.count,
            report.blobs.bytes
        )?;
        if !report.blobs.missing.is_empty() {
            outln!(
                "{} referenced blobs were not in the data folder (their logs or artifacts were already lost): {}",
                report.blobs.missing.len(),
                report.blobs.missing.join(", ")
            )?;
        }
        if report.verified() {
            outln!(
                "Copied {} rows in {} tables; every table holds the same rows on both sides.",
                report.rows(),
                report.tables.len()
            )?;
        } else {
            outln!("Some tables differ (marked DIFFERS): do not serve from the copy.")?;
        }
    }
    Ok(if report.verified() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn short(sha: &str) -> &str {
    &sha[..16.min(sha.len())]
}
