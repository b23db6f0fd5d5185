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
use serde_json::json;
use tandem_wire::rollouts::{NewRollout, OverrideRequest, Release, ReleasePlan, Rollout, RolloutDetail};

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

/// `tandem rollout`: start, show, list and steer rollouts.
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Show a rollout as waves × markets.
    #[command(after_help = "Example:\n  tandem rollout show 1")]
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Pause a rollout after the wave under way.
    Pause {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resume a paused rollout at its next wave.
    Resume {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Abort a rollout: no further wave starts.
    Abort {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve the wave a rollout waits for (the platform file names the role it needs).
    #[command(after_help = "Example:\n  tandem rollout approve 4")]
    Approve {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Go on to the next wave now: approves a waiting rollout, resumes a paused one.
    Promote {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Leave a market out of a rollout; it keeps the release it runs.
    #[command(after_help = "Example:\n  tandem rollout skip 4 --market nl")]
    Skip {
        id: i64,
        #[arg(long)]
        market: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Deploy into markets under a freeze anyway (admin; the reason is recorded).
    #[command(
        after_help = "Example:\n  tandem rollout override 4 --reason \"payment outage fix, approved by the CTO\""
    )]
    Override {
        id: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List rollouts, newest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Roll a release out through every wave.
    #[command(after_help = "Example:\n  tandem rollout start --release 3")]
    Start {
        /// The release id (see `tandem release list`).
        #[arg(long)]
        release: i64,
        /// When another rollout holds one of its markets, wait for it instead of failing.
        #[arg(long)]
        queue: bool,
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

impl RolloutCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            RolloutCommand::Show { id, client } => {
                let r: RolloutDetail = Client::from_args(&client)
                    .get(&format!("/api/v1/rollouts/{id}"))
                    .await?;
                if client.json {
                    return print_json(&r);
                }
                outln!(
                    "Rollout {id}: {} {} → {}{}",
                    show(&r.rollout.service),
                    show(&r.release.version),
                    show(&r.rollout.state),
                    r.rollout
                        .reason
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                )?;
                if let Some(role) = &r.approval_role {
                    outln!("Waiting for an approval ({role} or above): tandem rollout approve {id}")?;
                }
                let mut rows = Vec::new();
                for w in &r.waves {
                    for m in &w.markets {
                        let d = m.deployment.as_ref();
                        let gates: Vec<String> = m
                            .gates
                            .iter()
                            .map(|g| {
                                let mark = if g.passed { "✓" } else { "✗" };
                                format!("{mark} {}: {}", show(&g.gate), show(&g.reason))
                            })
                            .collect();
                        rows.push(vec![
                            show(&w.name),
                            show(&m.market),
                            show(&m.state),
                            show(&d.and_then(|d| d.url.as_ref())),
                            if gates.is_empty() {
                                show(&d.and_then(|d| d.reason.as_ref()))
                            } else {
                                gates.join("\n")
                            },
                        ]);
                    }
                }
                print_table(&["wave", "market", "state", "url", "gates"], rows)?;
                for d in &r.decisions {
                    outln!(
                        "{} by {}{}{}",
                        show(&d.kind),
                        show(&d.decided_by),
                        Some(d.market.as_str())
                            .filter(|m| !m.is_empty())
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default(),
                        d.reason.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                    )?;
                }
                Ok(())
            }
            RolloutCommand::Pause { id, client } => steer(id, "pause", &client).await,
            RolloutCommand::Resume { id, client } => steer(id, "resume", &client).await,
            RolloutCommand::Abort { id, client } => steer(id, "abort", &client).await,
            RolloutCommand::Approve { id, client } => steer(id, "approve", &client).await,
            RolloutCommand::Promote { id, client } => steer(id, "promote", &client).await,
            RolloutCommand::Skip { id, market, client } => {
                steer(id, &format!("skip/{}", crate::client::encode(&market)), &client).await
            }
            RolloutCommand::Override { id, reason, client } => {
                let r: Rollout = Client::from_args(&client)
                    .post(&format!("/api/v1/rollouts/{id}/override"), &OverrideRequest { reason })
                    .await?;
                if client.json {
                    return print_json(&r);
                }
                outln!("Rollout {id} may now deploy into frozen markets (reason recorded)")?;
                Ok(())
            }
            RolloutCommand::List { client } => {
                let rollouts: Vec<Rollout> = Client::from_args(&client).get("/api/v1/rollouts").await?;
                if client.json {
                    return print_json(&rollouts);
                }
                let rows = rollouts
                    .iter()
                    .map(|r| {
                        vec![
                            show(&r.id),
                            show(&r.service),
                            show(&r.release_id),
                            show(&r.state),
                            show(&r.reason),
                            time(Some(r.created_at)),
                        ]
                    })
                    .collect();
                print_table(&["id", "service", "release", "state", "reason", "created"], rows)?;
                Ok(())
            }
            RolloutCommand::Start { release, queue, client } => {
                let r: Rollout = Client::from_args(&client)
                    .post(
                        "/api/v1/rollouts",
                        &NewRollout {
                            release_id: release,
                            queue,
                        },
                    )
                    .await?;
                if client.json {
                    return print_json(&r);
                }
                if r.state == "queued" {
                    outln!(
                        "Rollout {} of release {release} is queued behind the rollout holding its markets",
                        show(&r.id)
                    )?;
                } else {
                    outln!("Started rollout {} of release {release}", show(&r.id))?;
                }
                Ok(())
            }
        }
    }
}

async fn steer(id: i64, action: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let r: Rollout = Client::from_args(client)
        .post(&format!("/api/v1/rollouts/{id}/{action}"), &json!({}))
        .await?;
    if client.json {
        return print_json(&r);
    }
    outln!("Rollout {id} is now {}", show(&r.state))?;
    Ok(())
}
