use super::text;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token (needs an admin token); its secret is printed once.
    #[command(after_help = "Example:\n  tandem token create ci --role developer --expires 30d")]
    Create {
        name: String,
        /// viewer, developer, operator or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
        /// How long it works, such as 30d, 12h or 90m (default: until revoked).
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List tokens (never their secrets): role, state, last use, expiry.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a token at once, with the browser sessions opened with it (needs an admin token).
    #[command(after_help = "Example:\n  tandem token revoke 4")]
    Revoke {
        /// The token's id, as `tandem token list` shows it.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl TokenCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            TokenCommand::Create {
                name,
                role,
                expires,
                client,
            } => {
                let mut body = json!({ "name": name, "role": role });
                if let Some(e) = expires {
                    body["expires_in"] = json!(e);
                }
                let t: Value = Client::from_args(&client).post("/api/v1/tokens", &body).await?;
                if client.json {
                    return print_json(&t);
                }
                let expiry = match t["expires_at"].as_i64() {
                    Some(at) => format!(", expires {} UTC", time(Some(at))),
                    None => String::new(),
                };
                outln!(
                    "Token `{}` ({}{expiry}), shown once:\n{}",
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
                let now = tandem_store::now_ms();
                let rows = tokens
                    .iter()
                    .map(|t| {
                        let state = if !t["revoked_at"].is_null() {
                            "revoked"
                        } else if t["expires_at"].as_i64().is_some_and(|at| at <= now) {
                            "expired"
                        } else {
                            "live"
                        };
                        vec![
                            text(&t["id"]),
                            text(&t["name"]),
                            text(&t["role"]),
                            state.to_string(),
                            time(t["created_at"].as_i64()),
                            time(t["last_used_at"].as_i64()),
                            time(t["expires_at"].as_i64()),
                        ]
                    })
                    .collect();
                print_table(
                    &["id", "name", "role", "state", "created", "last used", "expires"],
                    rows,
                )?;
                Ok(())
            }
            TokenCommand::Revoke { id, client } => {
                let t: Value = Client::from_args(&client)
                    .delete(&format!("/api/v1/tokens/{id}"))
                    .await?;
                if client.json {
                    return print_json(&t);
                }
                outln!(
                    "Token {} `{}` revoked: it and the browser sessions opened with it no longer work.",
                    text(&t["id"]),
                    text(&t["name"])
                )?;
                Ok(())
            }
        }
    }
}
