use super::text;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Args;
use serde_json::Value;

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
    let rows: Vec<Value> = Client::from_args(&args.client).get("/api/v1/health").await?;
    let rows: Vec<Value> = rows
        .into_iter()
        .filter(|r| !args.down || r["state"] == "down")
        .collect();
    let all_up = rows.iter().all(|r| r["state"] == "up");
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
                text(&r["service"]),
                text(&r["market"]),
                text(&r["state"]),
                r["latency_ms"]
                    .as_f64()
                    .map(|l| format!("{l:.1} ms"))
                    .unwrap_or_else(|| "-".into()),
                time(r["probed_at"].as_i64()),
                time(r["last_ok_at"].as_i64()),
                match r["failures_in_a_row"].as_i64() {
                    Some(0) | None => "-".into(),
                    Some(n) => n.to_string(),
                },
                r["incident_id"]
                    .as_i64()
                    .map(|i| format!("#{i}"))
                    .unwrap_or_else(|| "-".into()),
                r["error"].as_str().unwrap_or("").to_string(),
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
