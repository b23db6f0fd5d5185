//! `tandem flags`: `apply` proposes a service's flag file (`PUT /api/v1/services/{service}/flags`,
//! developers and up: in force at once, or a change request when the policy asks for review;
//! a file with any error changes nothing), `show` lists its versions
//! (`GET /api/v1/services/{service}/flags`) and `eval` evaluates one flag as an OpenFeature
//! SDK would (`POST /ofrep/v1/evaluate/flags/{key}`; exits 1 when the server refuses). The
//! emergency path (`kill`, `emergencies`, `review`, `lift`) is in [`super::flag_emergency`].

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;
use tandem_wire::flags::{FlagEmergency, FlagVersion, FlagsProposed, NewFlagVersion};
use tandem_wire::ofrep::Evaluation;

/// `tandem flags`: propose a flag file, list its versions, evaluate a flag; kill a kill switch
/// in an emergency.
#[derive(Debug, Subcommand)]
pub enum FlagCommand {
    /// Propose a service's flag file (checked first; a file with any error changes nothing): in
    /// force at once when the platform's `changes` policy needs no approval, otherwise a change
    /// request.
    #[command(
        after_help = "Example:\n  tandem flags apply shop -f flags.yml --reason \"20% of France on the new checkout\""
    )]
    Apply {
        service: String,
        /// The flag file (YAML; see docs/flags.md).
        #[arg(short, long)]
        file: PathBuf,
        /// Why it changes, kept with the version.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The versions of a service's flag file, and the one in force.
    Show {
        service: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Evaluate a flag over OFREP, as an OpenFeature SDK would.
    #[command(
        after_help = "Example:\n  tandem flags eval new-checkout --context '{\"targetingKey\": \"user-42\", \"market\": \"fr\"}'"
    )]
    Eval {
        key: String,
        /// The evaluation context (JSON object: `targetingKey` and attributes).
        #[arg(long, default_value = "{}")]
        context: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    #[command(flatten)]
    Emergency(super::flag_emergency::EmergencyCommand),
}

impl FlagCommand {
    /// Runs the subcommand against the server; `false` (exit code 1) when an evaluation is refused.
    pub async fn run(self) -> anyhow::Result<bool> {
        match self {
            FlagCommand::Emergency(c) => c.run().await,
            FlagCommand::Apply {
                service,
                file,
                reason,
                client,
            } => {
                let body = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                let row: FlagsProposed = Client::from_args(&client)
                    .put(
                        &format!("/api/v1/services/{}/flags", crate::client::encode(&service)),
                        &NewFlagVersion { text: body, reason },
                    )
                    .await?;
                if client.json {
                    print_json(&row)?;
                } else {
                    match &row {
                        FlagsProposed::Waiting(change) => outln!(
                            "Change request {} opened for the flags of {service}: it waits for its approval (tandem config change {})",
                            change.id,
                            change.id
                        )?,
                        FlagsProposed::InForce(version) => {
                            outln!("Flags of {service}: version {} in force", version.version)?
                        }
                    }
                }
                Ok(true)
            }
            FlagCommand::Show { service, client } => {
                let versions: Vec<FlagVersion> = Client::from_args(&client)
                    .get(&format!("/api/v1/services/{}/flags", crate::client::encode(&service)))
                    .await?;
                if client.json {
                    print_json(&versions)?;
                    return Ok(true);
                }
                let rows = versions
                    .iter()
                    .map(|v| {
                        vec![
                            show(&v.version),
                            show(&v.created_by),
                            time(Some(v.created_at)),
                            show(&v.reason),
                        ]
                    })
                    .collect();
                print_table(&["version", "by", "when", "reason"], rows)?;
                let emergencies: Vec<FlagEmergency> = Client::from_args(&client)
                    .get(&format!(
                        "/api/v1/flags/emergencies?service={}",
                        crate::client::encode(&service)
                    ))
                    .await?;
                if !emergencies.is_empty() {
                    outln!("\nEmergency changes:")?;
                    super::flag_emergency::print_emergencies(&emergencies)?;
                }
                if let Some(current) = versions.first() {
                    outln!(
                        "\nIn force (version {}):\n{}",
                        show(&current.version),
                        show(&current.text)
                    )?;
                }
                Ok(true)
            }
            FlagCommand::Eval { key, context, client } => {
                let context: Value = serde_json::from_str(&context)
                    .context("--context is not JSON: expected an object such as {\"targetingKey\": \"u1\"}")?;
                let (status, answer) = Client::from_args(&client)
                    .post_raw(
                        &format!("/ofrep/v1/evaluate/flags/{}", crate::client::encode(&key)),
                        &json!({ "context": context }),
                    )
                    .await?;
                let answer: Evaluation = serde_json::from_value(answer)
                    .with_context(|| format!("the server's answer is not an OFREP evaluation [HTTP {status}]"))?;
                if client.json {
                    print_json(&answer)?;
                } else {
                    outln!("{}", describe(&key, &answer))?;
                }
                Ok((200..300).contains(&status))
            }
        }
    }
}

/// One line for an evaluation: `key = value (variant v, REASON)`, or `key: CODE: details`;
/// `-` stands for what the server left out.
fn describe(key: &str, answer: &Evaluation) -> String {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    match answer {
        Evaluation::Failure(f) => format!("{key}: {}: {}", f.error_code, or_dash(&f.error_details)),
        Evaluation::Success(s) => format!(
            "{key} = {} (variant {}, {})",
            s.value,
            or_dash(&s.variant),
            or_dash(&s.reason)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: Value) -> Evaluation {
        serde_json::from_value(body).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_evaluation_reads_as_before() {
        let on =
            read(json!({"key": "new-checkout", "value": true, "reason": "SPLIT", "variant": "on", "metadata": {}}));
        assert_eq!(describe("new-checkout", &on), "new-checkout = true (variant on, SPLIT)");
        let banner =
            read(json!({"key": "banner", "value": "Welcome", "reason": "DEFAULT", "variant": "plain", "metadata": {}}));
        assert_eq!(
            describe("banner", &banner),
            "banner = \"Welcome\" (variant plain, DEFAULT)"
        );
        let bare = read(json!({"key": "k", "value": {"n": 1}}));
        assert_eq!(describe("k", &bare), "k = {\"n\":1} (variant -, -)");
        let missing =
            read(json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag `nope` is not defined"}));
        assert_eq!(
            describe("nope", &missing),
            "nope: FLAG_NOT_FOUND: flag `nope` is not defined"
        );
        let terse = read(json!({"key": "k", "errorCode": "GENERAL"}));
        assert_eq!(describe("k", &terse), "k: GENERAL: -");
    }
}
