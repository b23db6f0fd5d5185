use super::text;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// List markets with the release each service runs there and its health.
    #[command(after_help = "Example:\n  tandem market list")]
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl MarketCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        let MarketCommand::List { client } = self;
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
        );
        Ok(())
    }
}
