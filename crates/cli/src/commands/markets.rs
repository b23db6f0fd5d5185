use super::text;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use anyhow::bail;
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// List markets with the release each service runs there and its health.
    #[command(after_help = "Example:\n  tandem market list")]
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Check whether a market not yet live may be launched: config valid for the latest
    /// release, flags resolving, the latest release live there, its probe answering now.
    #[command(after_help = "Example:\n  tandem market readiness be")]
    Readiness {
        /// The market's id, such as `be`.
        market: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Make a market live once every readiness check passes; exits 1 naming what is missing
    /// when it is not ready.
    #[command(after_help = "Example:\n  tandem market launch be")]
    Launch {
        /// The market's id, such as `be`.
        market: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl MarketCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            MarketCommand::List { client } => list(client).await,
            MarketCommand::Readiness { market, client } => readiness(&market, client).await,
            MarketCommand::Launch { market, client } => launch(&market, client).await,
        }
    }
}

async fn list(client: ClientArgs) -> anyhow::Result<()> {
    let markets: Vec<Value> = Client::from_args(&client).get("/api/v1/markets").await?;
    if client.json {
        return print_json(&markets);
    }
    let mut rows = Vec::new();
    for m in &markets {
        let services = m["services"].as_array().cloned().unwrap_or_default();
        let running: Vec<String> = services
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    text(&s["service"]),
                    text(&s["release"]),
                    text(&s["health"])
                )
            })
            .collect();
        let since = services.iter().filter_map(|s| s["since"].as_i64()).min();
        let flight: Vec<String> = services
            .iter()
            .filter(|s| !s["in_flight"].is_null())
            .map(|s| text(&s["in_flight"]))
            .collect();
        rows.push(vec![
            text(&m["id"]),
            text(&m["name"]),
            text(&m["wave"]),
            text(&m["state"]),
            running.join(", "),
            time(since),
            if flight.is_empty() {
                "-".into()
            } else {
                flight.join(", ")
            },
        ]);
    }
    print_table(
        &["market", "name", "wave", "launch", "running", "since", "in flight"],
        rows,
    )?;
    Ok(())
}

async fn readiness(market: &str, client: ClientArgs) -> anyhow::Result<()> {
    let path = format!("/api/v1/markets/{}/readiness", encode(market));
    let readiness: Value = Client::from_args(&client).get(&path).await?;
    if client.json {
        return print_json(&readiness);
    }
    print_checks(&readiness["checks"])?;
    let verdict = if readiness["ready"] == true {
        format!("ready: launch it with `tandem market launch {market}`")
    } else {
        let missing = readiness["checks"]
            .as_array()
            .map(|c| c.iter().filter(|c| c["passed"] != true).count())
            .unwrap_or(0);
        format!("not ready: {missing} check(s) missing")
    };
    outln!(
        "{} ({}, {}): {verdict}",
        market,
        text(&readiness["name"]),
        text(&readiness["state"])
    )?;
    Ok(())
}

/// Exit code 1, with the checks that failed, when the server refuses the launch.
async fn launch(market: &str, client: ClientArgs) -> anyhow::Result<()> {
    let path = format!("/api/v1/markets/{}/launch", encode(market));
    let (status, body) = Client::from_args(&client).post_raw(&path, &json!({})).await?;
    if (200..300).contains(&status) {
        if client.json {
            return print_json(&body);
        }
        print_checks(&body["readiness"]["checks"])?;
        outln!(
            "{market} is live: launched by {} at {}",
            text(&body["launched_by"]),
            time(body["launched_at"].as_i64())
        )?;
        return Ok(());
    }
    let message = body["error"]["message"].as_str().unwrap_or("no details").to_string();
    if status == 422 {
        if client.json {
            print_json(&body)?;
        } else {
            print_checks(&body["error"]["details"]["checks"])?;
        }
    }
    bail!("{message} [HTTP {status}]")
}

fn print_checks(checks: &Value) -> std::io::Result<()> {
    let rows = checks
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| {
                    vec![
                        text(&c["check"]),
                        text(&c["service"]),
                        if c["passed"] == true { "ok" } else { "MISSING" }.to_string(),
                        text(&c["reason"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    print_table(&["check", "service", "status", "reason"], rows)
}
