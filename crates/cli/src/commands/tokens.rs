use super::text;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token (needs an admin token); its secret is printed once.
    #[command(after_help = "Example:\n  tandem token create ci --role developer")]
    Create {
        name: String,
        /// viewer, developer, operator or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl TokenCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            TokenCommand::Create { name, role, client } => {
                let t: Value = Client::from_args(&client)
                    .post("/api/v1/tokens", &json!({ "name": name, "role": role }))
                    .await?;
                if client.json {
                    return print_json(&t);
                }
                outln!(
                    "Token `{}` ({}), shown once:\n{}",
                    text(&t["name"]),
                    text(&t["role"]),
                    text(&t["secret"])
                )?;
                Ok(())
            }
            TokenCommand::List { client } => {
                let tokens: Vec<Value> = Client::from_args(&client).get("/api/v1/tokens").await?;
                if client.json {
                    return print_json(&tokens);
                }
                let rows = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            text(&t["id"]),
                            text(&t["name"]),
                            text(&t["role"]),
                            time(t["created_at"].as_i64()),
                        ]
                    })
                    .collect();
                print_table(&["id", "name", "role", "created"], rows)?;
                Ok(())
            }
        }
    }
}
