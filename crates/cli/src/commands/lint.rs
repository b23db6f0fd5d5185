//! `tandem lint`: checks a `tandem.yml` without running it.
//!
//! It calls no server: the file is parsed and checked here, with the same parser the server
//! uses, and every mistake is printed with its line and column.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tandem_core::pipeline::parse_service_spec;

/// `tandem lint`: the file to check, and how to print the result.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tandem lint\n  tandem lint services/shop/tandem.yml --json")]
pub struct LintArgs {
    /// The file to check.
    #[arg(default_value = "tandem.yml")]
    file: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Exit code 0 when the file is valid, 1 when it has errors (all of them are printed).
pub fn run(args: LintArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.display().to_string();
    match parse_service_spec(&name, &text) {
        Ok(spec) => {
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({ "file": name, "ok": true, "errors": [], "spec": spec })
                )?;
            } else {
                let order: Vec<&str> = spec.jobs.iter().map(|j| j.name.as_str()).collect();
                outln!(
                    "{name}: ok — service {}, {} jobs ({})",
                    spec.service,
                    order.len(),
                    order.join(" → ")
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            if args.json {
                outln!(
                    "{}",
                    serde_json::json!({ "file": name, "ok": false, "errors": errors.0 })
                )?;
            } else {
                for e in &errors.0 {
                    eprintln!("{e}");
                }
                eprintln!(
                    "{name}: {} error{}",
                    errors.0.len(),
                    if errors.0.len() == 1 { "" } else { "s" }
                );
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
