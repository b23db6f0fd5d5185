//! `tandem secret`: set or rotate, list and delete the secrets the server keeps. A value is read
//! from standard input (or typed at a prompt that does not echo), never from the command line,
//! where `ps` and shell history would show it.
//!
//! Routes: `PUT /api/v1/secrets/{name}` (set or rotate), `GET /api/v1/secrets` (names,
//! where each comes from, versions and dates; never values) and
//! `DELETE /api/v1/secrets/{name}`; all answer admins only.

use super::show;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::io::{IsTerminal, Read};
use tandem_engine::secrets::MAX_SECRET_BYTES;
use tandem_wire::secrets::{NewSecretValue, Secret, SecretEntry};

/// `tandem secret`: set, list, delete.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Set or rotate a secret declared in the platform file (needs an admin token). The value
    /// is read from standard input (one trailing newline dropped), or typed at a prompt.
    #[command(
        after_help = "Examples:\n  tandem secret set REGISTRY_TOKEN            # prompts, without echo\n  \
        vault read -field=token kv/registry | tandem secret set REGISTRY_TOKEN\n  \
        tandem secret set TLS_KEY < tls.key"
    )]
    Set {
        /// The secret's name, as declared under `secrets` in the platform file.
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List secrets: where each value comes from, its version, who set it and when; never a value.
    #[command(after_help = "Example:\n  tandem secret list")]
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a secret's stored value; the environment variable the platform file names, if
    /// any, serves again.
    #[command(after_help = "Example:\n  tandem secret delete REGISTRY_TOKEN")]
    Delete {
        name: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl SecretCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> Result<()> {
        match self {
            SecretCommand::Set { name, client } => {
                let value = read_value(&name)?;
                let row: Secret = Client::from_args(&client)
                    .put(&format!("/api/v1/secrets/{}", encode(&name)), &NewSecretValue { value })
                    .await?;
                if client.json {
                    return print_json(&row);
                }
                outln!(
                    "Secret `{}` set (version {}); the next job that uses it gets the new value.",
                    show(&row.name),
                    show(&row.version)
                )?;
                Ok(())
            }
            SecretCommand::List { client } => {
                let all: Vec<SecretEntry> = Client::from_args(&client).get("/api/v1/secrets").await?;
                if client.json {
                    return print_json(&all);
                }
                let rows = all
                    .iter()
                    .map(|s| {
                        let name = if !s.declared {
                            format!("{} (not declared)", show(&s.name))
                        } else {
                            show(&s.name)
                        };
                        vec![
                            name,
                            show(&s.source),
                            show(&s.env),
                            show(&s.version),
                            time(s.updated_at),
                            show(&s.updated_by),
                        ]
                    })
                    .collect();
                print_table(&["name", "source", "env", "version", "updated", "by"], rows)?;
                Ok(())
            }
            SecretCommand::Delete { name, client } => {
                let row: Secret = Client::from_args(&client)
                    .delete(&format!("/api/v1/secrets/{}", encode(&name)))
                    .await?;
                if client.json {
                    return print_json(&row);
                }
                outln!("Secret `{}`: stored value deleted.", show(&row.name))?;
                Ok(())
            }
        }
    }
}

/// The value: typed at a prompt without echo on a terminal, else all of standard input, less
/// one trailing newline (as `echo` and files add).
fn read_value(name: &str) -> Result<String> {
    let stdin = std::io::stdin();
    let mut value = if stdin.is_terminal() {
        prompt(name)?
    } else {
        let mut bytes = Vec::new();
        stdin
            .lock()
            .take(MAX_SECRET_BYTES as u64 + 2)
            .read_to_end(&mut bytes)
            .context("cannot read the secret's value from standard input")?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the value on standard input is not UTF-8 text"))?
    };
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    if value.is_empty() {
        bail!("no value for secret `{name}`: pipe it on standard input, or type it at the prompt");
    }
    if value.len() > MAX_SECRET_BYTES {
        bail!("the value for secret `{name}` is over {MAX_SECRET_BYTES} bytes");
    }
    Ok(value)
}

/// Reads one line from the terminal with its echo off, restoring it afterwards.
fn prompt(name: &str) -> Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    eprint!("Value for secret `{name}` (not shown): ");
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("cannot read the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("cannot turn the terminal's echo off")?;
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    let restored = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    read.context("cannot read the secret's value from the terminal")?;
    restored.context("cannot turn the terminal's echo back on")?;
    Ok(line)
}
