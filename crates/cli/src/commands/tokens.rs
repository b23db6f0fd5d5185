//! `tandem token`: `create` (`POST /api/v1/tokens`: the secret is printed once), `list`
//! (`GET /api/v1/tokens`: never the secrets) and `revoke` (`DELETE /api/v1/tokens/{id}`: at
//! once, with the browser sessions opened with it). Admins only.

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use tandem_wire::admin::{CreatedToken, NewToken, Token};

/// `tandem token`: create, list, revoke.
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
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            TokenCommand::Create {
                name,
                role,
                expires,
                client,
            } => {
                let body = NewToken {
                    name,
                    role,
                    expires_in: expires,
                };
                let t: CreatedToken = Client::from_args(&client).post("/api/v1/tokens", &body).await?;
                if client.json {
                    return print_json(&t);
                }
                let expiry = match t.token.expires_at {
                    Some(at) => format!(", expires {} UTC", time(Some(at))),
                    None => String::new(),
                };
                outln!(
                    "Token `{}` ({}{expiry}), shown once:\n{}",
                    show(&t.token.name),
                    show(&t.token.role),
                    show(&t.secret)
                )?;
                Ok(())
            }
            TokenCommand::List { client } => {
                let tokens: Vec<Token> = Client::from_args(&client).get("/api/v1/tokens").await?;
                if client.json {
                    return print_json(&tokens);
                }
                let now = tandem_store::now_ms();
                let rows = tokens
                    .iter()
                    .map(|t| {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else if t.expires_at.is_some_and(|at| at <= now) {
                            "expired"
                        } else {
                            "live"
                        };
                        vec![
                            show(&t.id),
                            show(&t.name),
                            show(&t.role),
                            state.to_string(),
                            time(Some(t.created_at)),
                            time(t.last_used_at),
                            time(t.expires_at),
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
                let t: Token = Client::from_args(&client)
                    .delete(&format!("/api/v1/tokens/{id}"))
                    .await?;
                if client.json {
                    return print_json(&t);
                }
                outln!(
                    "Token {} `{}` revoked: it and the browser sessions opened with it no longer work.",
                    show(&t.id),
                    show(&t.name)
                )?;
                Ok(())
            }
        }
    }
}
