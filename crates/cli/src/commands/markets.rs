//! `tandem market`: `list` (`GET /api/v1/markets`: each market with the release every service
//! runs there and its health), `readiness` (`GET /api/v1/markets/{id}/readiness`, any role) and
//! `launch` (`POST /api/v1/markets/{id}/launch`, operators and up; refused, exit 1, naming each
//! check that does not pass).

use super::show;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use tandem_wire::ErrorBody;
use tandem_wire::markets::{Launch, MarketStatus, NotReady, Readiness, ReadinessCheck};

/// `tandem market`: list markets, check readiness, launch.
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
    /// Runs the subcommand against the server; a launch refused for readiness is an error naming
    /// what is missing.
    /// Readiness exits 1 when the market is not ready, so a script can wait on it.
    pub async fn run(self) -> anyhow::Result<std::process::ExitCode> {
        let ok = std::process::ExitCode::SUCCESS;
        match self {
            MarketCommand::List { client } => list(client).await.map(|()| ok),
            MarketCommand::Readiness { market, client } => readiness(&market, client).await,
            MarketCommand::Launch { market, client } => launch(&market, client).await.map(|()| ok),
        }
    }
}

async fn list(client: ClientArgs) -> anyhow::Result<()> {
    let markets: Vec<MarketStatus> = Client::from_args(&client).get_all("/api/v1/markets").await?;
    if client.json {
        return print_json(&markets);
    }
    let mut rows = Vec::new();
    for m in &markets {
        let services = &m.services;
        let running: Vec<String> = services
            .iter()
            .map(|s| format!("{} {} ({})", show(&s.service), show(&s.release), show(&s.health)))
            .collect();
        let since = services.iter().filter_map(|s| s.since).min();
        let flight: Vec<String> = services
            .iter()
            .filter(|s| s.in_flight.is_some())
            .map(|s| show(&s.in_flight))
            .collect();
        rows.push(vec![
            show(&m.market.id),
            show(&m.market.name),
            show(&m.wave),
            show(&m.market.state),
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

/// Exit code 1 when the market is not ready.
async fn readiness(market: &str, client: ClientArgs) -> anyhow::Result<std::process::ExitCode> {
    let path = format!("/api/v1/markets/{}/readiness", encode(market));
    let readiness: Readiness = Client::from_args(&client).get(&path).await?;
    let code = if readiness.ready {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    };
    if client.json {
        return print_json(&readiness).map(|()| code);
    }
    print_checks(&readiness.checks)?;
    let verdict = if readiness.ready {
        format!("ready: launch it with `tandem market launch {market}`")
    } else {
        let missing = readiness.checks.iter().filter(|c| !c.passed).count();
        format!("not ready: {missing} check(s) missing")
    };
    outln!(
        "{} ({}, {}): {verdict}",
        market,
        show(&readiness.name),
        show(&readiness.state)
    )?;
    Ok(code)
}

/// Exit code 1, with the checks that failed, when the server refuses the launch.
async fn launch(market: &str, client: ClientArgs) -> anyhow::Result<()> {
    let path = format!("/api/v1/markets/{}/launch", encode(market));
    let (status, body) = Client::from_args(&client).post_raw(&path, &json!({})).await?;
    if (200..300).contains(&status) {
        let launch: Launch = serde_json::from_value(body).context("the server's answer is not the JSON expected")?;
        if client.json {
            return print_json(&launch);
        }
        print_checks(&launch.readiness.checks)?;
        outln!(
            "{market} is live: launched by {} at {}",
            show(&launch.launched_by),
            time(Some(launch.launched_at))
        )?;
        return Ok(());
    }
    let error = serde_json::from_value::<ErrorBody>(body.clone()).ok();
    let message = error
        .as_ref()
        .map_or_else(|| "no details".to_string(), |e| e.error.message.clone());
    if status == 422 {
        if client.json {
            print_json(&body)?;
        } else {
            let checks = error
                .and_then(|e| e.error.details)
                .and_then(|d| serde_json::from_value::<NotReady>(d).ok())
                .map(|d| d.checks)
                .unwrap_or_default();
            print_checks(&checks)?;
        }
    }
    bail!("{message} [HTTP {status}]")
}

fn print_checks(checks: &[ReadinessCheck]) -> std::io::Result<()> {
    let rows = checks
        .iter()
        .map(|c| {
            vec![
                show(&c.check),
                show(&c.service),
                if c.passed { "ok" } else { "MISSING" }.to_string(),
                show(&c.reason),
            ]
        })
        .collect();
    print_table(&["check", "service", "status", "reason"], rows)
}
