//! `tandem health`: live markets as the monitor last probed them (`GET /api/v1/health`, any
//! role): up or down, latency, open incident. Exits 1 when a market is down.

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Args;
use tandem_wire::monitor::MarketHealth;

/// `tandem health`: which markets to show, and how.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tandem health\n  tandem health --down\n  tandem health --json")]
pub struct HealthArgs {
    /// Only markets that are down.
    #[arg(long)]
    down: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Every live market as the monitor last probed it. Exits 1 when a market is down.
pub async fn run(args: HealthArgs) -> anyhow::Result<bool> {
    let rows: Vec<MarketHealth> = Client::from_args(&args.client).get_all("/api/v1/health").await?;
    let rows: Vec<MarketHealth> = rows.into_iter().filter(|r| !args.down || r.state == "down").collect();
    let all_up = rows.iter().all(|r| r.state == "up");
    if args.client.json {
        print_json(&rows)?;
        return Ok(all_up);
    }
    if rows.is_empty() {
        outln!(
            "{}",
            if args.down {
                "No market is down."
            } else {
                "No live market is monitored yet."
            }
        )?;
        return Ok(true);
    }
    let table = rows
        .iter()
        .map(|r| {
            vec![
                show(&r.service),
                show(&r.market),
                show(&r.state),
                r.latency_ms.map(|l| format!("{l:.1} ms")).unwrap_or_else(|| "-".into()),
                time(Some(r.probed_at)),
                time(r.last_ok_at),
                match Some(r.failures_in_a_row) {
                    Some(0) | None => "-".into(),
                    Some(n) => n.to_string(),
                },
                r.incident_id.map(|i| format!("#{i}")).unwrap_or_else(|| "-".into()),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(
        &[
            "service", "market", "state", "latency", "probed", "last ok", "failing", "incident", "error",
        ],
        table,
    )?;
    Ok(all_up)
}
