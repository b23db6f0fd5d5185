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
}

impl ConfigCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        let ConfigCommand::Show {
            service,
            market,
            client,
        } = self;
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
