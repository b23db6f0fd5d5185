//! `tandem release` and `tandem rollout`.
//!
//! - `release list` (`GET /api/v1/releases`) and `release plan` (`GET /api/v1/releases/{id}/plan`:
//!   waves, gates, what runs where, what blocks it), any role;
//! - `rollout list`, `rollout show` (`GET /api/v1/rollouts`, `GET /api/v1/rollouts/{id}`), any role;
//! - `rollout start` (`POST /api/v1/rollouts`, operators and up; with `--queue` it waits for the
//!   rollout holding its markets instead of being refused);
//! - `rollout pause|resume|abort|promote` (`POST /api/v1/rollouts/{id}/{action}`, operators and
//!   up), `rollout approve` (`POST …/approve`: the role the platform file names for the wave),
//!   `rollout skip` (`POST …/skip/{market}`, operators and up) and `rollout override`
//!   (`POST …/override`, admins: deploy into frozen markets, the reason recorded).

use super::{show, text};
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, short, time};
use clap::Subcommand;
use tandem_wire::rollouts::{Release, ReleasePlan};

/// `tandem release`: list releases, plan one's rollout.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Show what rolling a release out would do: waves, gates, what runs where, what blocks it.
    #[command(after_help = "Example:\n  tandem release plan shop v3")]
    Plan {
        service: String,
        version: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List releases, newest first.
    #[command(after_help = "Example:\n  tandem release list --service shop")]
    List {
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl ReleaseCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        let (service, client) = match self {
            ReleaseCommand::Plan {
                service,
                version,
                client,
            } => return plan(&service, &version, &client).await,
            ReleaseCommand::List { service, client } => (service, client),
        };
        let path = match &service {
            Some(s) => format!("/api/v1/releases?service={s}"),
            None => "/api/v1/releases".into(),
        };
        let releases: Vec<Release> = Client::from_args(&client).get(&path).await?;
        if client.json {
            return print_json(&releases);
        }
        let rows = releases
            .iter()
            .map(|r| {
                vec![
                    show(&r.id),
                    show(&r.service),
                    show(&r.version),
                    short(&show(&r.commit_sha)),
                    show(&r.run_id),
                    time(Some(r.created_at)),
                ]
            })
            .collect();
        print_table(&["id", "service", "version", "commit", "run", "created"], rows)?;
        Ok(())
    }
}

async fn plan(service: &str, version: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let api = Client::from_args(client);
    let releases: Vec<Release> = api
        .get(&format!("/api/v1/releases?service={}", crate::client::encode(service)))
        .await?;
    let release = releases.iter().find(|r| r.version == version).ok_or_else(|| {
        anyhow::anyhow!("{service} has no release {version}: see `tandem release list --service {service}`")
    })?;
    let plan: ReleasePlan = api.get(&format!("/api/v1/releases/{}/plan", release.id)).await?;
    if client.json {
        return print_json(&plan);
    }
    // The gates are the release's tandem.yml section, carried as it was written.
    let gate = |pointer: &str| text(plan.gates.pointer(pointer).unwrap_or(&serde_json::Value::Null));
    outln!(
        "Plan for {} {} (commit {}), gates: probe {} ({} in a row to pass, {} to fail), bake {}s",
        show(&plan.service),
        show(&plan.version),
        short(&show(&plan.commit_sha)),
        gate("/probe/path"),
        gate("/probe/successes"),
        gate("/probe/failures"),
        plan.gates.pointer("/bake/secs").and_then(|s| s.as_u64()).unwrap_or(0)
    )?;
    let mut rows = Vec::new();
    for (i, w) in plan.waves.iter().enumerate() {
        for m in &w.markets {
            let blockers = &m.blockers;
            rows.push(vec![
                match w.approval.as_deref() {
                    Some(a) => format!("{} {} ({a})", i + 1, show(&w.name)),
                    None => format!("{} {}", i + 1, show(&w.name)),
                },
                show(&m.market),
                show(&m.current),
                show(&m.action),
                if blockers.is_empty() {
                    "-".into()
                } else {
                    blockers.join("; ")
                },
            ]);
        }
    }
    print_table(&["wave", "market", "runs now", "action", "blocked by"], rows)?;
    Ok(())
}
