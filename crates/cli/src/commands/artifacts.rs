//! `tandem artifact download DIGEST` (fetches an artifact from `GET /api/v1/artifacts/{digest}`,
//! any role, and refuses to write it unless its sha256 matches the digest asked for) and
//! `tandem artifact gc` (`POST /api/v1/gc`, admins: expired artifacts no release needs and
//! unreferenced blobs are removed now).

use crate::client::{Client, ClientArgs};
use crate::output::print_json;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tandem_wire::admin::GcReport;

/// `tandem artifact`: download an artifact, or collect garbage.
#[derive(Debug, Subcommand)]
pub enum ArtifactCommand {
    /// Download an artifact by its sha256 digest (see `tandem run show`), checking the digest.
    #[command(after_help = "Example:\n  tandem artifact download 68f9cf7a… --output shop")]
    Download {
        digest: String,
        /// Where to write it (default: the digest as file name).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Collect garbage now: expired artifacts no release needs, and unreferenced blobs.
    Gc {
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl ArtifactCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> Result<()> {
        match self {
            ArtifactCommand::Download { digest, output, client } => {
                let bytes = Client::from_args(&client)
                    .get_bytes(&format!("/api/v1/artifacts/{digest}"))
                    .await?;
                let got = hex::encode(Sha256::digest(&bytes));
                if got != digest {
                    bail!("the download's sha256 is {got}, not {digest}: nothing was written");
                }
                let path = output.unwrap_or_else(|| PathBuf::from(&digest));
                std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
                outln!("Wrote {} ({} bytes, sha256 verified)", path.display(), bytes.len())?;
                Ok(())
            }
            ArtifactCommand::Gc { client } => {
                let report: GcReport = Client::from_args(&client)
                    .post("/api/v1/gc", &serde_json::json!({}))
                    .await?;
                if client.json {
                    return print_json(&report);
                }
                outln!(
                    "Forgot {} expired artifacts, deleted {} blobs, freed {} bytes",
                    report.artifacts_expired,
                    report.blobs_deleted,
                    report.bytes_freed
                )?;
                Ok(())
            }
        }
    }
}
