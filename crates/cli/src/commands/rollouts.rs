//! `tandem rollout`: list, start and show rollouts, and steer one wave by wave (pause, resume,
//! abort, approve, promote, skip a market, override a freeze).

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use serde_json::json;
use tandem_core::rollout::MARKET_STATES;
use tandem_wire::rollouts::{NewRollout, OverrideRequest, Rollout, RolloutDetail, RolloutMarket, WaveMarket};

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Show a rollout as waves × markets: a wave of more than 24 markets as its counts by state
    /// and its failed, blocked and deploying markets; every market with --markets or --wave.
    #[command(
        after_help = "Examples:\n  tandem rollout show 1\n  tandem rollout show 1 --wave rest\n  \
        tandem rollout show 1 --wave rest --state failed\n  tandem rollout show 1 --markets --json"
    )]
    #[command(group(clap::ArgGroup::new("listing").args(["markets", "wave"])))]
    Show {
        id: i64,
        /// Every market of every wave, however many (read a page of 500 after another).
        #[arg(long)]
        markets: bool,
        /// Every market of this wave, however many.
        #[arg(long, value_name = "NAME")]
        wave: Option<String>,
        /// With --markets or --wave: only the markets in this state (failed, blocked, deploying,
        /// waiting, live, skipped, superseded, unchanged, not reached).
        #[arg(long, requires = "listing")]
        state: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Pause a rollout after the wave under way.
    Pause {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resume a paused rollout at its next wave, or a blocked one in its wave: the markets its
    /// config check refused are checked again (fix their config first), or skipped.
    #[command(after_help = "Examples:\n  tandem rollout resume 4\n  tandem rollout resume 4 --skip-blocked")]
    Resume {
        id: i64,
        /// A blocked rollout: go on without the refused markets (they keep what they run and
        /// are listed as skipped, with the reason).
        #[arg(long)]
        skip_blocked: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Abort a rollout: no further wave starts.
    #[command(after_help = "Example:\n  tandem rollout abort 4 --reason \"checkout errors in fr\"")]
    Abort {
        id: i64,
        /// Why: recorded with the decision and shown on the rollout.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve the wave a rollout waits for (the platform file names the role it needs).
    #[command(after_help = "Example:\n  tandem rollout approve 4 --reason \"pilot clean for an hour\"")]
    Approve {
        id: i64,
        /// Why the wave may start: recorded with the decision.
        #[arg(long)]
        reason: Option<String>,
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
        /// Why the market is left out: recorded with the decision.
        #[arg(long)]
        reason: Option<String>,
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

impl RolloutCommand {
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            RolloutCommand::Show {
                id,
                markets,
                wave,
                state,
                client,
            } => {
                if markets || wave.is_some() {
                    return show_markets(id, wave.as_deref(), state.as_deref(), &client).await;
                }
                show_rollout(id, &client).await
            }
            RolloutCommand::Pause { id, client } => steer(id, "pause", &client).await,
            RolloutCommand::Resume {
                id,
                skip_blocked,
                client,
            } => {
                let action = if skip_blocked {
                    "resume?skip-blocked=true"
                } else {
                    "resume"
                };
                steer(id, action, &client).await
            }
            RolloutCommand::Abort { id, reason, client } => steer_because(id, "abort", reason, &client).await,
            RolloutCommand::Approve { id, reason, client } => steer_because(id, "approve", reason, &client).await,
            RolloutCommand::Promote { id, client } => steer(id, "promote", &client).await,
            RolloutCommand::Skip {
                id,
                market,
                reason,
                client,
            } => {
                let action = format!("skip/{}", crate::client::encode(&market));
                steer_because(id, &action, reason, &client).await
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
                let api = Client::from_args(&client);
                let rollouts: Vec<Rollout> = api.get("/api/v1/rollouts").await?;
                if client.json {
                    return print_json(&rollouts);
                }
                // What each carries, as people name it: `v3`, or `config v2 (on v3)`.
                let mut versions = std::collections::HashMap::new();
                for id in rollouts.iter().map(|r| r.release_id) {
                    if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(id) {
                        let release: tandem_wire::rollouts::ReleaseDetail =
                            api.get(&format!("/api/v1/releases/{id}")).await?;
                        slot.insert(release.release.version);
                    }
                }
                let rows = rollouts
                    .iter()
                    .map(|r| {
                        let version = versions.get(&r.release_id).cloned().unwrap_or_default();
                        let carries = match (r.kind.as_str(), r.config_version) {
                            ("config", Some(v)) => format!("config v{v} (on {version})"),
                            _ => version,
                        };
                        vec![
                            show(&r.id),
                            show(&r.service),
                            carries,
                            show(&r.state),
                            show(&r.reason),
                            time(Some(r.created_at)),
                        ]
                    })
                    .collect();
                print_table(&["id", "service", "carries", "state", "reason", "created"], rows)?;
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

/// A wave of more than this many markets is shown as its counts by state and its troubled
/// markets; `--wave` lists all of it.
const WAVE_ROWS: usize = 24;

/// The most failed, blocked or deploying markets a big wave lists.
const TROUBLED_ROWS: usize = 12;

/// A market's row: its wave, id, state, URL, and its gates (or why it stopped).
fn market_row(wave: &str, m: &WaveMarket) -> Vec<String> {
    let d = m.deployment.as_ref();
    let gates: Vec<String> = m
        .gates
        .iter()
        .map(|g| {
            let mark = if g.passed { "✓" } else { "✗" };
            format!("{mark} {}: {}", show(&g.gate), show(&g.reason))
        })
        .collect();
    vec![
        show(&wave),
        show(&m.market),
        show(&m.state),
        show(&d.and_then(|d| d.url.as_ref())),
        if gates.is_empty() {
            show(&d.and_then(|d| d.reason.as_ref()))
        } else {
            gates.join("\n")
        },
    ]
}

const MARKET_COLUMNS: [&str; 5] = ["wave", "market", "state", "url", "gates"];

/// `tandem rollout show ID`: the rollout, each small wave's markets, each big wave's counts
/// and its failed, blocked and deploying markets (read by state, however many it has).
async fn show_rollout(id: i64, client: &ClientArgs) -> anyhow::Result<()> {
    let api = Client::from_args(client);
    let r: RolloutDetail = api.get(&format!("/api/v1/rollouts/{id}")).await?;
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
    let mut big = Vec::new();
    for w in &r.waves {
        // An older server does not say how many: what it listed is all there is.
        let total = w.markets_total.max(w.markets.len());
        if total <= WAVE_ROWS {
            rows.extend(w.markets.iter().map(|m| market_row(&w.name, m)));
            continue;
        }
        let mut troubled = Vec::new();
        for s in ["failed", "blocked", "deploying"] {
            let n = w.markets_by_state.get(s).copied().unwrap_or_default();
            if n == 0 || troubled.len() >= TROUBLED_ROWS {
                continue;
            }
            let path = format!(
                "/api/v1/rollouts/{id}/markets?wave={}&state={s}&limit={}",
                crate::client::encode(&w.name),
                TROUBLED_ROWS - troubled.len()
            );
            let (page, _): (Vec<RolloutMarket>, _) = api.get_page(&path).await?;
            troubled.extend(page);
        }
        rows.extend(troubled.iter().map(|m| market_row(&m.wave, &m.market)));
        big.push(w);
    }
    print_table(&MARKET_COLUMNS, rows)?;
    for w in big {
        let counts: Vec<String> = MARKET_STATES
            .iter()
            .filter_map(|s| w.markets_by_state.get(*s).map(|n| format!("{n} {s}")))
            .collect();
        outln!(
            "Wave {}: {} markets ({}); every one: tandem rollout show {id} --wave {}",
            show(&w.name),
            w.markets_total,
            counts.join(", "),
            show(&w.name)
        )?;
    }
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

/// `tandem rollout show ID --markets` (or `--wave NAME`): every market, a page after another.
async fn show_markets(id: i64, wave: Option<&str>, state: Option<&str>, client: &ClientArgs) -> anyhow::Result<()> {
    let mut query = Vec::new();
    if let Some(w) = wave {
        query.push(format!("wave={}", crate::client::encode(w)));
    }
    if let Some(s) = state {
        query.push(format!("state={}", crate::client::encode(s)));
    }
    let path = format!("/api/v1/rollouts/{id}/markets?{}", query.join("&"));
    let markets: Vec<RolloutMarket> = Client::from_args(client).get_all(&path).await?;
    if client.json {
        return print_json(&markets);
    }
    let rows = markets.iter().map(|m| market_row(&m.wave, &m.market)).collect();
    print_table(&MARKET_COLUMNS, rows)?;
    outln!(
        "{} market{}{}{}",
        markets.len(),
        if markets.len() == 1 { "" } else { "s" },
        state.map(|s| format!(" {s}")).unwrap_or_default(),
        wave.map(|w| format!(" in wave {w}")).unwrap_or_default()
    )?;
    Ok(())
}

async fn steer(id: i64, action: &str, client: &ClientArgs) -> anyhow::Result<()> {
    steer_because(id, action, None, client).await
}

/// [`steer`], with why (recorded by the server with the decision).
async fn steer_because(id: i64, action: &str, reason: Option<String>, client: &ClientArgs) -> anyhow::Result<()> {
    let body = match reason {
        Some(reason) => json!({ "reason": reason }),
        None => json!({}),
    };
    let r: Rollout = Client::from_args(client)
        .post(&format!("/api/v1/rollouts/{id}/{action}"), &body)
        .await?;
    if client.json {
        return print_json(&r);
    }
    outln!("Rollout {id} is now {}", show(&r.state))?;
    Ok(())
}
