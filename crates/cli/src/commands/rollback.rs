//! `tandem rollback SERVICE --market M | --all`: sends markets back to the release each ran
//! before (`POST /api/v1/services/{service}/rollback`, operators and up) and prints each
//! market's move; exits 1 when a market could not go back.

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table};
use anyhow::{Result, bail};
use clap::Args;
use tandem_wire::rollouts::{ReleaseMove, RollbackRequest};

/// Send markets back to the release each ran before, in seconds.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tandem rollback shop --market fr\n  tandem rollback shop --all")]
pub struct RollbackArgs {
    service: String,
    /// A market to roll back (repeatable).
    #[arg(long = "market")]
    markets: Vec<String>,
    /// Every market of the service.
    #[arg(long, conflicts_with = "markets")]
    all: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Exit code 1 when a market could not go back.
pub async fn run(args: RollbackArgs) -> Result<std::process::ExitCode> {
    if args.markets.is_empty() && !args.all {
        bail!("name markets with --market M (repeatable), or use --all");
    }
    let body = RollbackRequest {
        markets: args.markets,
        all: args.all,
    };
    let results: Vec<ReleaseMove> = Client::from_args(&args.client)
        .post(&format!("/api/v1/services/{}/rollback", args.service), &body)
        .await?;
    let failed = results.iter().any(|r| r.state == "failed");
    if args.client.json {
        print_json(&results)?;
    } else {
        let rows = results
            .iter()
            .map(|r| {
                vec![
                    show(&r.market),
                    show(&r.from),
                    show(&r.to),
                    show(&r.state),
                    show(&r.reason),
                ]
            })
            .collect();
        print_table(&["market", "from", "to", "state", "reason"], rows)?;
    }
    Ok(if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}
