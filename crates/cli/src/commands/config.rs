use super::text;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table};
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// A market's resolved config, each value with the layer that set it.
    #[command(after_help = "Example:\n  tandem config show shop --market nl")]
    Show {
        service: String,
        #[arg(long)]
        market: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// How two markets' configs differ, value by value.
    #[command(after_help = "Example:\n  tandem config diff shop --from fr --to be")]
    Diff {
        service: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl ConfigCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        let (service, market, client) = match self {
            ConfigCommand::Show {
                service,
                market,
                client,
            } => (service, market, client),
            ConfigCommand::Diff {
                service,
                from,
                to,
                client,
            } => return diff(&service, &from, &to, &client).await,
        };
        let config: Value = Client::from_args(&client)
            .get(&format!(
                "/api/v1/services/{}/config?market={}",
                encode(&service),
                encode(&market)
            ))
            .await?;
        if client.json {
            return print_json(&config);
        }
        let rows = config["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| vec![text(&e["path"]), e["value"].to_string(), text(&e["origin"])])
            .collect();
        print_table(&["key", "value", "set by"], rows);
        Ok(())
    }
}

async fn diff(service: &str, from: &str, to: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let lines: Vec<Value> = Client::from_args(client)
        .get(&format!(
            "/api/v1/services/{}/config/diff?from={}&to={}",
            encode(service),
            encode(from),
            encode(to)
        ))
        .await?;
    if client.json {
        return print_json(&lines);
    }
    if lines.is_empty() {
        println!("{from} and {to} have the same config");
        return Ok(());
    }
    for l in &lines {
        let path = text(&l["path"]);
        match l["change"].as_str() {
            Some("added") => println!("+ {path} = {}", l["new"]),
            Some("removed") => println!("- {path} (was {})", l["old"]),
            _ => println!("~ {path}: {} → {}", l["old"], l["new"]),
        }
    }
    Ok(())
}
