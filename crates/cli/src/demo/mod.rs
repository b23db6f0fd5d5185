//! `tandem demo`: the story Tandem exists for, told with real processes and real data. A git
//! repository of the shop is made with commits that mention ideas, a server starts on
//! 127.0.0.1, the real pipeline tests and builds the shop, and the release rolls out wave by
//! wave to 25 markets, each a real process, health-probed and its metrics judged before it
//! serves; an operator approves the waves after the pilot, and the team chat hears of
//! everything that needs a person.

mod chat;
mod launch;
mod monitor;
mod progress;
mod replicas;
mod repo;
mod shoppers;
mod summary;

use crate::client::Client;
use crate::commands::{show, text};
use crate::output::short;
use crate::server::{self, ServeArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use progress::Progress;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use summary::{
    ApprovalLine, Banner, ConfigChanged, Emergency, Evaluated, FlagsTried, GateLine, IncidentLine, MarketLine,
    ReleaseLine, RolloutLine, RolloutRun, RunLine, Share, Shipped, Story, Summary, Timings, Validation,
};
use tandem_core::config::Change as LeafChange;
use tandem_core::flow::Stage;
use tandem_wire::admin::{CreatedToken, LoginCode};
use tandem_wire::changes::{Change, ChangeDetail};
use tandem_wire::config::{ConfigVersion, MarketConfig};
use tandem_wire::dora::DoraAnswer;
use tandem_wire::flags::{FlagEmergency, FlagsProposed};
use tandem_wire::ideas::{Idea, ShippedAnswer};
use tandem_wire::incidents::Incident;
use tandem_wire::markets::MarketStatus;
use tandem_wire::rollouts::{Release, Rollout, RolloutDetail};
use tandem_wire::runs::{Run, RunDetail};

const PLATFORM: &str = include_str!("platform.yml");
const FLAGS: &str = include_str!("flags.yml");
/// How often the demo polls the server while it waits.
const POLL: Duration = Duration::from_millis(200);
/// The pipeline builds a Rust program: generous, since a cold 2-core machine is slow.
const RUN_DEADLINE: Duration = Duration::from_secs(600);
const ROLLOUT_DEADLINE: Duration = Duration::from_secs(300);

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Data folder for the demo (default: a new folder under the system's temp folder).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Tell the story on PostgreSQL: the URL of an empty database (postgres://user@host/db).
    /// Unset: SQLite, in the data folder.
    #[arg(long, env = "TANDEM_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Address for the demo's server.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Print one JSON summary on stdout once the rollout is done.
    #[arg(long)]
    json: bool,
    /// Exit after the summary instead of serving until Ctrl-C (exit code 0 when every market is live).
    #[arg(long)]
    exit_when_done: bool,
}

/// Checks that the database at `url` holds no Tandem yet (the story starts from nothing) and
/// makes the key that seals the demo's secrets, in the data folder; returns the key's file.
async fn prepare_database(data_dir: &Path, url: &str) -> Result<PathBuf> {
    let store = tandem_store::Store::open_with(data_dir, Some(url))
        .await
        .context("cannot open the database given by --database (or TANDEM_DATABASE)")?;
    let empty = store.count_tokens().await? == 0 && store.list_markets().await?.is_empty();
    store.close().await;
    if !empty {
        bail!("the database given by --database already holds a Tandem: the demo starts from an empty database");
    }
    let key_file = data_dir.join("secrets.key");
    tandem_store::SecretKey::load_or_create(&key_file)?;
    Ok(key_file)
}

pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("tandem-demo-{}", tandem_store::now_ms())),
    };
    if data_dir.join("tandem.db").exists() {
        bail!(
            "{} already holds a Tandem database: the demo starts from an empty folder",
            data_dir.display()
        );
    }
    let secrets_key_file = match &args.database {
        None => None,
        Some(url) => Some(prepare_database(&data_dir, url).await?),
    };
    let progress = Progress::new(!args.json);
    progress.say(&format!("Tandem demo in {}", data_dir.display()));

    repo::create(&data_dir.join("repos/shop"))?;
    let (chat, chat_url) = chat::Chat::start().await?;
    let platform_file = data_dir.join("platform.yml");
    let platform = format!(
        "{PLATFORM}
# After the pilot, an operator looks at France before the other markets get the release.
approvals:
  - {{ after: pilot, role: operator }}

# The team's chat hears of everything that needs a person.
notifications:
  - {{ name: team-chat, kind: slack, url: \"{chat_url}\" }}
"
    );
    std::fs::write(&platform_file, platform).with_context(|| format!("cannot write {}", platform_file.display()))?;
    // On PostgreSQL, a second server (a process of its own) starts first and so becomes the
    // conductor; this process's server works beside it (see `replicas`).
    let mut replica = match (&args.database, &secrets_key_file) {
        (Some(url), Some(key)) => {
            let replica = replicas::Replica::start(&data_dir.join("server-b"), &platform_file, url, key)?;
            Some(replica)
        }
        _ => None,
    };
    let serve_args = ServeArgs {
        data_dir: data_dir.clone(),
        platform: Some(platform_file),
        listen: args.listen,
        anonymous_read: false,
        secrets_key_file,
        public_url: None,
        database: args.database.clone(),
        lease_ttl: tandem_engine::conductor::LEASE_TTL,
        no_local_agent: false,
        job_lease: tandem_engine::dispatch::JOB_LEASE,
        series_minutes_kept: tandem_core::monitor::Retention::default().minutes,
        series_hours_kept: tandem_core::monitor::Retention::default().hours,
    };
    let running = server::start(&serve_args).await?;
    let token = match (&running.first_token, &replica) {
        (Some(token), _) => token.clone(),
        (None, Some(replica)) => replica.first_token()?,
        (None, None) => bail!("the demo's server has no first token"),
    };
    let api = Client::new(&running.base_url, Some(token.clone()));
    match &replica {
        Some(r) => progress.say(&format!(
            "Servers on {} and {} (the conductor), sharing one PostgreSQL database",
            running.base_url, r.base_url
        )),
        None => progress.say(&format!("Server on {}", running.base_url)),
    }
    if let Some(agent) = &running.local_agent {
        progress.say(&format!(
            "The server runs no step itself: pipelines run on its local agent, {}",
            agent.sandbox.describe()
        ));
    }

    let outcome = tell_the_story(&api, &progress, &data_dir.join("repos/shop"), &chat, replica.as_mut()).await;
    let (story, all_live) = match outcome {
        Ok(story) => story,
        Err(e) => {
            progress.finish();
            running.stop().await?;
            return Err(e);
        }
    };
    progress.finish();

    let summary = Summary {
        story,
        server: running.base_url.clone(),
        token: token.clone(),
        data_dir: data_dir.display().to_string(),
    };
    if args.json {
        outln!("{}", summary.to_json()?)?;
    } else {
        summary.print()?;
        // A one-time link: no long-lived credential in a URL (nor in the browser's history).
        let link: LoginCode = api.post("/api/v1/login-codes", &json!({})).await?;
        outln!(
            "Dashboard: {}{} (works once, within 15 minutes; later, sign in with the API token below)",
            running.base_url,
            link.path
        )?;
        outln!(
            "API token (admin): {token}\n  e.g. TANDEM_SERVER={} TANDEM_TOKEN={token} tandem market list",
            running.base_url
        )?;
    }

    if !args.exit_when_done {
        if !args.json {
            outln!("\nServing until Ctrl-C…")?;
        }
        server::wait_for_signal().await;
    }
    running.stop().await?;
    Ok(if all_live { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Ideas, the pipeline, the release and the rollouts, through the real API: a good release
/// reaches all 25 markets (an operator approving the waves after the pilot), then a faulty
/// one is caught by its probe in the pilot market.
async fn tell_the_story(
    api: &Client,
    progress: &Progress,
    repo: &Path,
    chat: &chat::Chat,
    replica: Option<&mut replicas::Replica>,
) -> Result<(Story, bool)> {
    // Devs and ops in tandem: the demo's admin is the developer; Olga runs operations.
    let olga: CreatedToken = api
        .post("/api/v1/tokens", &json!({ "name": "olga (ops)", "role": "operator" }))
        .await?;
    let ops = Client::new(api.base_url(), Some(olga.secret));
    // Dana writes code; her changes to flags and config are reviewed by ops.
    let dana: CreatedToken = api
        .post("/api/v1/tokens", &json!({ "name": "dana (dev)", "role": "developer" }))
        .await?;
    let dev_token = dana.secret;
    let dev = Client::new(api.base_url(), Some(dev_token.clone()));
    for (title, markets) in [
        ("Storefront in every market's language and currency", vec![]),
        ("Ship the shop through Tandem's pipeline", vec![]),
        ("Pay with iDEAL in the Netherlands", vec!["nl"]),
    ] {
        add_idea(api, progress, title, &markets).await?;
    }

    let good = build(api, progress).await?;
    let first = roll_out(api, &ops, progress, &good).await?;
    if first.detail.rollout.state != "succeeded" {
        bail!(
            "the first rollout did not succeed: {}",
            serde_json::to_value(&first.detail.rollout.reason)?
        );
    }

    let failover = match replica {
        Some(replica) => Some(replicas::lose_the_conductor(api, progress, replica).await?),
        None => None,
    };

    // Real shoppers in every market, through each market's front: what a canary is judged on.
    let mut shoppers = shoppers::Shoppers::start(api, pilot_name(&first.detail)).await?;
    progress.say(&format!(
        "Shoppers browse the {} live markets through their fronts, France the busiest (a page and its delivery estimate, again and again)",
        shoppers.seen.len()
    ));

    progress.say("A developer pushes a change that passes its tests but has a bug…");
    add_idea(api, progress, "Show a delivery estimate per country", &[]).await?;
    repo::commit_faulty_change(repo)?;
    let faulty = build(api, progress).await?;
    let second = roll_out(api, &ops, progress, &faulty).await?;
    let canary = pilot_gates(&second.detail)
        .into_iter()
        .find(|g| g.gate == "canary" && !g.passed)
        .map(|g| g.reason);
    if let Some(c) = &canary {
        progress.say(&format!(
            "{}'s canary of {}: {c}",
            pilot_name(&second.detail),
            faulty.version
        ));
    }

    let flags = try_the_flags(&dev, &ops, api, progress).await?;
    let config_change = change_a_parameter(&dev, &ops, progress, &dev_token).await?;
    // The shoppers leave before a market is made to hang: what they met is the releases' doing.
    shoppers.stop();
    let (requests, _) = shoppers.totals();
    let errors: std::collections::BTreeMap<String, u64> = shoppers
        .seen
        .keys()
        .map(|m| (m.clone(), shoppers.market(m).1))
        .filter(|(_, e)| *e > 0)
        .collect();
    progress.say(&format!(
        "Shoppers sent {requests} requests to {} markets; errors: {}",
        shoppers.seen.len(),
        if errors.is_empty() {
            "none".to_string()
        } else {
            errors
                .iter()
                .map(|(m, e)| format!("{e} in {m}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    let shoppers = summary::ShoppersLine {
        markets: shoppers.seen.len(),
        requests,
        errors,
        canary,
    };
    let hang = monitor::watch_a_market_hang(api, progress).await?;
    let launched = launch::launch_the_last_market(api, &ops, progress).await?;

    // DORA's four keys over what just happened: every market's deployment counts once.
    let dora: DoraAnswer = api.get("/api/v1/metrics/dora?days=1").await?;
    let code: DoraAnswer = api.get("/api/v1/metrics/dora?days=1&kind=code").await?;
    let keys = &dora.keys.total;
    progress.say(&format!(
        "DORA so far: {} deployments, lead time median {:.1}s (commit to market), change failure rate {}/{}, time to restore {}, config changes {}",
        keys.deployment_frequency.deployments,
        keys.lead_time.median_ms.unwrap_or(0) as f64 / 1000.0,
        keys.change_failure_rate.failed,
        keys.change_failure_rate.deployments,
        keys.recovery_time
            .median_ms
            .map_or("—".to_string(), tandem_core::dora::show_duration),
        keys.deployment_frequency.deployments - code.keys.total.deployment_frequency.deployments,
    ));

    // Idea to production: what shipped today, and how long each idea took to reach its markets.
    let shipped: ShippedAnswer = api.get("/api/v1/flow?days=1").await?;
    let flow: Vec<Shipped> = shipped
        .ideas
        .into_iter()
        .map(|i| {
            let at = |stage: Stage| {
                i.flow
                    .stages
                    .iter()
                    .find(|s| s.stage == stage)
                    .and_then(|s| s.since_created)
            };
            Shipped {
                to_pilot_ms: at(Stage::Pilot),
                to_all_targets_ms: at(Stage::AllTargets),
                now: i.flow.now.stage,
                live_in: i.flow.now.live.len(),
                idea: i.idea.key,
                title: i.idea.title,
            }
        })
        .collect();
    for f in &flow {
        progress.say(&format!(
            "Shipped today: {} \"{}\" is live in {} markets ({}; pilot reached {:.1}s after the idea was filed, all its target markets {:.1}s)",
            f.idea,
            f.title,
            f.live_in,
            f.now.as_str(),
            f.to_pilot_ms.map_or(f64::NAN, |ms| ms as f64) / 1000.0,
            f.to_all_targets_ms.map_or(f64::NAN, |ms| ms as f64) / 1000.0,
        ));
    }

    let markets: Vec<MarketStatus> = api.get_all("/api/v1/markets").await?;
    let mut all_live = true;
    let summary_markets: Vec<MarketLine> = markets
        .into_iter()
        .map(|m| {
            let shop = m.services.into_iter().find(|s| s.service == "shop");
            let state = if shop.as_ref().is_some_and(|s| s.health == "up") {
                "live"
            } else {
                "down"
            };
            all_live &= state == "live";
            // Where shoppers go: the market's front, when the shop has one.
            let (release, url) = shop.map_or((None, None), |s| (s.release, s.front.or(s.url)));
            MarketLine {
                id: m.market.id,
                name: m.market.name,
                wave: m.wave,
                release,
                state,
                url,
            }
        })
        .collect();
    let incidents: Vec<Incident> = api.get("/api/v1/incidents").await?;
    let story = Story {
        markets: summary_markets,
        runs: vec![good.summary(), faulty.summary()],
        release: ReleaseLine {
            id: good.release_id,
            version: good.version.clone(),
        },
        rollouts: vec![first.summary(&good), second.summary(&faulty)],
        shoppers,
        approvals: first
            .detail
            .decisions
            .iter()
            .map(|d| ApprovalLine {
                rollout: first.detail.rollout.id,
                kind: d.kind.clone(),
                by: d.decided_by.clone(),
                wave: d.wave,
            })
            .collect(),
        gates: pilot_gates(&first.detail),
        flags,
        config_change,
        monitor: hang,
        launch: launched,
        flow,
        dora: dora.keys.total,
        // Two approvals asked, two rollouts through, two incidents opened and resolved, a halt, a launch.
        notifications: wait_for_chat(chat, 10).await,
        incidents: incidents
            .into_iter()
            .map(|i| IncidentLine {
                id: i.id,
                market: i.market,
                title: i.title,
                state: i.state,
            })
            .collect(),
        timings: Timings {
            pipeline_ms: good.millis,
            rollout_ms: first.millis,
        },
        failover,
    };
    Ok((story, all_live))
}

async fn add_idea(api: &Client, progress: &Progress, title: &str, markets: &[&str]) -> Result<()> {
    let idea: Idea = api
        .post("/api/v1/ideas", &json!({ "title": title, "markets": markets }))
        .await?;
    progress.say(&format!("Idea {}: {title}", idea.key));
    Ok(())
}

/// A green pipeline run and the release it made.
struct Built {
    run: RunDetail,
    version: String,
    release_id: i64,
    millis: u64,
}

impl Built {
    fn summary(&self) -> RunLine {
        RunLine {
            id: self.run.run.id,
            state: self.run.run.state,
            commit: self.run.run.commit_sha.clone(),
            release: self.version.clone(),
            agents: agents_of(&self.run),
        }
    }
}

/// The agents a run's jobs ran on, each once.
fn agents_of(run: &RunDetail) -> Vec<String> {
    let mut agents: Vec<String> = run.jobs.iter().filter_map(|j| j.job.agent.clone()).collect();
    agents.sort();
    agents.dedup();
    agents
}

/// Starts a run of the shop's branch head and waits for its release.
async fn build(api: &Client, progress: &Progress) -> Result<Built> {
    let started = Instant::now();
    let run: Run = api.post("/api/v1/services/shop/runs", &json!({})).await?;
    let run_id = run.id;
    progress.say(&format!(
        "Pipeline run {run_id} at commit {}: test, then build",
        short(&run.commit_sha)
    ));
    let spinner = progress.spinner("pipeline");
    let run = loop {
        let detail: RunDetail = api.get(&format!("/api/v1/runs/{run_id}")).await?;
        let jobs: Vec<String> = detail
            .jobs
            .iter()
            .map(|j| format!("{} {}", j.job.name, j.job.state.as_str()))
            .collect();
        spinner.set_message(jobs.join(" · "));
        let state = detail.run.state;
        if state == "success" {
            break detail;
        } else if state == "failed" || state == "interrupted" {
            spinner.finish();
            let log = failing_log(api, run_id, &detail).await;
            bail!(
                "pipeline run {run_id} failed: {}\n{log}",
                detail.run.error.as_deref().unwrap_or("a job failed")
            );
        } else if started.elapsed() > RUN_DEADLINE {
            bail!(
                "pipeline run {run_id} did not finish within {}s",
                RUN_DEADLINE.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    };
    spinner.finish();
    let millis = started.elapsed().as_millis() as u64;
    let version = run.release.clone().context("the green run made no release")?;
    progress.say(&format!(
        "Pipeline green in {:.1}s on agent {}: release {version}",
        millis as f64 / 1000.0,
        agents_of(&run).join(", ")
    ));
    let releases: Vec<Release> = api.get("/api/v1/releases?service=shop").await?;
    let release = releases
        .iter()
        .find(|r| r.version == version)
        .context("the release is not listed")?;
    Ok(Built {
        run,
        version,
        release_id: release.id,
        millis,
    })
}

/// A finished rollout.
struct RolledOut {
    detail: RolloutDetail,
    millis: u64,
}

impl RolledOut {
    fn summary(&self, built: &Built) -> RolloutLine {
        RolloutLine {
            id: self.detail.rollout.id,
            release: built.version.clone(),
            state: self.detail.rollout.state,
            reason: self.detail.rollout.reason.clone(),
        }
    }
}

/// An OFREP evaluation (OpenFeature's protocol, not Tandem's API): the flag's value and why.
#[derive(Debug, Default, Deserialize)]
struct Evaluation {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    reason: Value,
}

/// Puts the shop's flags in force and evaluates them over OFREP as the shop's OpenFeature SDK
/// would: 1,000 shoppers in France for the one at 20 % there, the banner per market, the kill
/// switch; then the new checkout killed in France in an emergency, reviewed afterwards.
async fn try_the_flags(dev: &Client, ops: &Client, api: &Client, progress: &Progress) -> Result<FlagsTried> {
    let proposed: FlagsProposed = dev
        .put(
            "/api/v1/services/shop/flags",
            &json!({ "text": FLAGS, "reason": "new checkout for 20 % of France; Black Friday banner in Benelux and France" }),
        )
        .await?;
    let FlagsProposed::Waiting(change) = proposed else {
        bail!("the flag change is not a change request");
    };
    let id = change.id;
    let version: Change = ops
        .post(
            &format!("/api/v1/changes/{id}/approve"),
            &json!({ "comment": "20 % is fine for the pilot" }),
        )
        .await?;
    progress.say(&format!(
        "Dana (dev) proposes the shop's flags as change request {id}; Olga (ops) approves"
    ));
    let eval = async |key: &str, context: Value| -> Result<Evaluation> {
        let (status, answer) = api
            .post_raw(
                &format!("/ofrep/v1/evaluate/flags/{key}"),
                &json!({ "context": context }),
            )
            .await?;
        if status != 200 {
            bail!("OFREP answered {status} for {key}: {answer}");
        }
        serde_json::from_value(answer).with_context(|| format!("OFREP's answer for {key} is not an evaluation"))
    };
    let mut on = 0;
    for user in 0..1000 {
        let answer = eval(
            "new-checkout",
            json!({ "targetingKey": format!("shopper-{user}"), "market": "fr" }),
        )
        .await?;
        on += usize::from(answer.value == true);
    }
    let banner_fr = eval("banner-text", json!({ "market": "fr" })).await?;
    let banner_de = eval("banner-text", json!({ "market": "de" })).await?;
    let kill = eval("delivery-estimate", json!({ "market": "fr" })).await?;
    progress.say(&format!(
        "Flags v{} in force over OFREP: new-checkout on for {on} of 1000 shoppers in fr (20 % asked); banner \"{}\" in fr, \"{}\" in de; delivery-estimate {} ({})",
        show(&version.version),
        text(&banner_fr.value),
        text(&banner_de.value),
        kill.value,
        text(&kill.reason),
    ));
    // The new checkout hurts in France: Olga kills it there at once; Dana reviews it afterwards.
    let killed: FlagEmergency = ops
        .post(
            "/api/v1/flags/new-checkout/kill",
            &json!({ "market": "fr", "reason": "checkout errors in fr" }),
        )
        .await?;
    let after = eval("new-checkout", json!({ "targetingKey": "shopper-1", "market": "fr" })).await?;
    let reviewed: FlagEmergency = dev
        .post(
            &format!("/api/v1/flags/emergencies/{}/review", killed.id),
            &json!({ "approve": true, "comment": "right call" }),
        )
        .await?;
    progress.say(&format!(
        "Olga (ops) kills new-checkout in fr at once (emergency change {}): OFREP answers {} ({}); {} until Dana (dev) reviews it afterwards: {}",
        killed.id,
        after.value,
        text(&after.reason),
        killed.review,
        reviewed.review
    ));
    Ok(FlagsTried {
        emergency: Emergency {
            id: killed.id,
            after: Evaluated {
                value: after.value,
                reason: after.reason,
            },
            review_before: killed.review,
            review_after: reviewed.review,
        },
        version: version.version,
        change: id,
        approved_by: "olga (ops)",
        new_checkout_fr: Share { on, of: 1000 },
        banner: Banner {
            fr: banner_fr.value,
            de: banner_de.value,
        },
        delivery_estimate: Evaluated {
            value: kill.value,
            reason: kill.reason,
        },
    })
}

/// "A simple parameter change", done as a change like code: Dana proposes free shipping from
/// 40 in the Netherlands; the change request shows its blast radius (one market) and is valid
/// for the release running there; Olga approves; a config rollout carries it through the waves
/// (only nl is redeployed, behind its gates) and a service watching nl's config hears it.
async fn change_a_parameter(dev: &Client, ops: &Client, progress: &Progress, dev_token: &str) -> Result<ConfigChanged> {
    let versions: Vec<ConfigVersion> = dev.get("/api/v1/services/shop/config/versions?limit=1").await?;
    let newest = versions.first().map_or("{}", |v| v.layers.as_str());
    let mut layers: tandem_core::platform::ConfigLayers =
        serde_json::from_str(newest).context("the shop's config layers")?;
    tandem_core::config::set_dotted(
        layers.markets.entry("nl".into()).or_default(),
        "free_shipping_threshold",
        json!(40),
    )
    .map_err(anyhow::Error::msg)?;
    let title = "Free shipping from 40 € in the Netherlands";
    let change: Change = dev
        .post(
            "/api/v1/services/shop/changes",
            &json!({ "kind": "config", "title": title, "layers": layers }),
        )
        .await?;
    let id = change.id;
    let detail: ChangeDetail = dev.get(&format!("/api/v1/changes/{id}")).await?;
    let check = detail.check.unwrap_or_default();
    let changed = check.radius.changed;
    let diff: Vec<String> = changed
        .iter()
        .flat_map(|m| {
            m.diff.entries.iter().map(|d| {
                let (old, new) = match &d.change {
                    LeafChange::Added { new } => (&Value::Null, new),
                    LeafChange::Removed { old } => (old, &Value::Null),
                    LeafChange::Changed { old, new } => (old, new),
                };
                format!("{}: {} {old} → {new}", m.market, d.path)
            })
        })
        .collect();
    let unchecked = check.unchecked.len();
    let errors = check.errors.len();
    let validation = match (errors, unchecked) {
        (0, 0) => "valid under the config schema of the release running there".to_string(),
        (0, n) => format!("{n} market(s) not validated: no release with a config schema runs there"),
        (e, _) => format!("{e} error(s) against the config schema"),
    };
    progress.say(&format!(
        "Dana (dev) opens change request {id}: {title} — blast radius {} of 25 markets ({}); {validation}",
        changed.len(),
        diff.join(", "),
    ));

    // A service watching nl's config over SSE, as a running shop would.
    let watch_url = format!("{}/api/v1/services/shop/config/watch?market=nl", dev.base_url());
    let mut watch = tandem_engine::tls::client_builder()
        .build()?
        .get(&watch_url)
        .bearer_auth(dev_token)
        .send()
        .await
        .context("cannot watch nl's config")?;
    let first = next_event(&mut watch).await?;
    let approved_at = Instant::now();
    let approved: Change = ops
        .post(
            &format!("/api/v1/changes/{id}/approve"),
            &json!({ "comment": "checked with finance" }),
        )
        .await?;
    let version = approved.version.context("the approved change made no config version")?;
    progress.say(&format!(
        "Olga (ops) approves: config v{version} rolls out through the waves (nl was on v{})",
        first.0
    ));
    let rollout_id = approved.rollout_id.context("the approved change has no rollout")?;
    let watcher = tokio::spawn(async move {
        loop {
            match next_event(&mut watch).await {
                Ok((v, values)) if v == version => return Ok((approved_at.elapsed(), values)),
                Ok(_) => continue,
                Err(e) => return Err(e),
            }
        }
    });
    let rolled = follow_rollout(dev, ops, progress, rollout_id, changed.len() as u64, approved_at).await?;
    let (heard_after, values) = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .context("the config watcher heard nothing")??
        .context("the config watcher stopped")?;
    // The values are the shop's own config document, whatever its schema says: read as JSON.
    let threshold = values.get("free_shipping_threshold").cloned().unwrap_or_default();
    progress.say(&format!(
        "nl's config watcher got v{version} {:.1}s after the approval (free shipping from {threshold})",
        heard_after.as_secs_f64(),
    ));
    // The rollout ends first; its change request hears of it just after (done, or failed).
    let settle_by = tokio::time::Instant::now() + Duration::from_secs(10);
    let change = loop {
        let change: ChangeDetail = dev.get(&format!("/api/v1/changes/{id}")).await?;
        if change.change.state != "applied" || tokio::time::Instant::now() >= settle_by {
            break change;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Ok(ConfigChanged {
        id,
        title,
        author: change.change.author,
        approved_by: change
            .reviews
            .into_iter()
            .filter(|r| r.verdict == "approve")
            .map(|r| r.reviewer)
            .collect(),
        state: change.change.state,
        version,
        markets_changed: changed.into_iter().map(|m| m.market).collect(),
        validation: Validation { errors, unchecked },
        diff,
        rollout: RolloutRun {
            id: rollout_id,
            state: rolled.detail.rollout.state,
            ms: rolled.millis,
        },
        watcher_ms: heard_after.as_millis() as u64,
    })
}

/// The next `config` event of a config watch: its version and values.
async fn next_event(watch: &mut reqwest::Response) -> Result<(i64, Value)> {
    let mut buffer = String::new();
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let data = event.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim);
            let Some(data) = data else { continue };
            let config: MarketConfig =
                serde_json::from_str(data).context("a config event that is not a market's config")?;
            return Ok((config.version.unwrap_or(0), config.values));
        }
        match tokio::time::timeout(Duration::from_secs(60), watch.chunk()).await {
            Ok(Ok(Some(bytes))) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => bail!("the config watch ended"),
            Ok(Err(e)) => bail!("the config watch failed: {e}"),
            Err(_) => bail!("the config watch was silent for 60 s"),
        }
    }
}

/// The pilot market's gate results in a rollout: what was measured before the release went on.
fn pilot_gates(detail: &RolloutDetail) -> Vec<GateLine> {
    pilot_of(detail)
        .into_iter()
        .flat_map(|m| &m.gates)
        .map(|g| GateLine {
            gate: g.gate.clone(),
            passed: g.passed,
            value: g.value,
            bound: g.bound,
            reason: g.reason.clone(),
        })
        .collect()
}

/// The pilot market of a rollout: the first market of its first wave.
fn pilot_of(detail: &RolloutDetail) -> Option<&tandem_wire::rollouts::WaveMarket> {
    detail.waves.first().and_then(|w| w.markets.first())
}

/// The pilot market's id, for the story's lines.
fn pilot_name(detail: &RolloutDetail) -> &str {
    pilot_of(detail).map_or("the pilot", |m| m.market.as_str())
}

/// What the team chat heard, once it heard at least `wanted` messages (or after a moment:
/// notifications are sent in the background).
async fn wait_for_chat(chat: &chat::Chat, wanted: usize) -> Vec<String> {
    for _ in 0..50 {
        if chat.messages().len() >= wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    chat.messages()
}

/// Rolls a release out through the waves and waits for the rollout to end; when it waits for
/// an approval after the pilot, the operator gives it.
async fn roll_out(api: &Client, ops: &Client, progress: &Progress, built: &Built) -> Result<RolledOut> {
    let started = Instant::now();
    let rollout: Rollout = api
        .post("/api/v1/rollouts", &json!({ "release_id": built.release_id }))
        .await?;
    let rollout_id = rollout.id;
    progress.say(&format!(
        "Rollout {rollout_id} of {}: pilot first, then wave by wave",
        built.version
    ));
    follow_rollout(api, ops, progress, rollout_id, 25, started).await
}

/// Follows a rollout (of a release or a config version) to its end, `markets` being how many
/// markets it deploys; when it waits for an approval after the pilot, the operator gives it.
async fn follow_rollout(
    api: &Client,
    ops: &Client,
    progress: &Progress,
    rollout_id: i64,
    markets: u64,
    started: Instant,
) -> Result<RolledOut> {
    let bar = progress.bar(markets, "rollout");
    let mut approved = std::collections::HashSet::new();
    let detail = loop {
        let detail: RolloutDetail = api.get(&format!("/api/v1/rollouts/{rollout_id}")).await?;
        let done = detail
            .waves
            .iter()
            .flat_map(|w| &w.markets)
            .filter(|m| m.state == "live" || m.state == "failed")
            .count();
        let state = detail.rollout.state;
        let now = match detail.waves.iter().find(|w| w.state == "running") {
            Some(wave) => format!("wave {}", wave.name),
            None if state == "awaiting-approval" => "waiting for an approval".to_string(),
            None => state.as_str().to_string(),
        };
        bar.set(done as u64, &now);
        if state == "succeeded" || state == "halted" || state == "failed" {
            break detail;
        } else if state == "awaiting-approval" && approved.insert(detail.rollout.current_wave) {
            let pilot = pilot_of(&detail);
            let figures: Vec<&str> = pilot
                .into_iter()
                .flat_map(|m| &m.gates)
                .map(|g| g.reason.as_str())
                .collect();
            match pilot {
                Some(pilot) if !figures.is_empty() => progress.say(&format!(
                    "Pilot {} is live; Olga (ops) checks its gates — {} — and approves the next waves",
                    pilot.market,
                    figures.join("; ")
                )),
                _ => progress.say("The pilot's config does not change; Olga (ops) approves the next waves"),
            }
            let _: Rollout = ops
                .post(&format!("/api/v1/rollouts/{rollout_id}/approve"), &json!({}))
                .await?;
        } else if started.elapsed() > ROLLOUT_DEADLINE {
            bail!(
                "rollout {rollout_id} did not finish within {}s",
                ROLLOUT_DEADLINE.as_secs()
            );
        } else {
            tokio::time::sleep(POLL).await;
        }
    };
    bar.finish();
    // One source for the time: the server's record of the rollout (what its page shows), the
    // client's clock only when the server has none.
    let millis = match (detail.rollout.started_at, detail.rollout.finished_at) {
        (Some(s), Some(f)) if f >= s => (f - s) as u64,
        _ => started.elapsed().as_millis() as u64,
    };
    progress.say(&format!(
        "Rollout {rollout_id} {} in {:.1}s{}",
        detail.rollout.state.as_str(),
        millis as f64 / 1000.0,
        detail
            .rollout
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    ));
    Ok(RolledOut { detail, millis })
}

/// The log of the first failed job, to show why the pipeline failed.
async fn failing_log(api: &Client, run_id: i64, detail: &RunDetail) -> String {
    match detail.jobs.iter().find(|j| j.job.state == "failed") {
        Some(j) => api
            .get_text(&format!("/api/v1/runs/{run_id}/jobs/{}/log", j.job.name))
            .await
            .unwrap_or_default(),
        None => String::new(),
    }
}
