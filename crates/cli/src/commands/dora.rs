//! `tandem dora` (alias `tandem metrics`): DORA's four keys with their levels
//! (`GET /api/v1/metrics/dora`, any role), over a window of days, for code, config or both,
//! optionally one row per market, service or wave.

use super::show;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table};
use clap::{Args, ValueEnum};
use tandem_core::dora::{Keys, Level};
use tandem_wire::dora::DoraAnswer;

/// Which changes to count.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Releases.
    Code,
    /// Config versions.
    Config,
}

/// `tandem dora`: the window, the kind of change, the filters and the grouping.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tandem dora\n  tandem dora --service shop --by market --days 90\n  tandem dora --kind config --json"
)]
pub struct DoraArgs {
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    market: Option<String>,
    /// The wave's place in the rollout plan (0 is the pilot).
    #[arg(long)]
    wave: Option<u32>,
    /// Count only releases (code) or only config versions; both by default.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The window: this many days up to now.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// One row per market, service or wave.
    #[arg(long, value_parser = ["market", "service", "wave"])]
    by: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// The four DORA keys, with their levels (Accelerate State of DevOps 2021).
pub async fn run(args: DoraArgs) -> anyhow::Result<()> {
    let mut query = format!("days={}", args.days);
    for (name, value) in [("service", &args.service), ("market", &args.market)] {
        if let Some(v) = value {
            query.push_str(&format!("&{name}={}", encode(v)));
        }
    }
    if let Some(w) = args.wave {
        query.push_str(&format!("&wave={w}"));
    }
    if let Some(k) = args.kind {
        query.push_str(match k {
            Kind::Code => "&kind=code",
            Kind::Config => "&kind=config",
        });
    }
    let answer: DoraAnswer = Client::from_args(&args.client)
        .get(&format!("/api/v1/metrics/dora?{query}"))
        .await?;
    if args.client.json {
        return print_json(&answer);
    }
    let keys = &answer.keys;
    let mut rows: Vec<(String, &Keys)> = match args.by.as_deref() {
        Some("market") => keys.by_market.iter().map(|(name, k)| (name.clone(), k)).collect(),
        Some("service") => keys.by_service.iter().map(|(name, k)| (name.clone(), k)).collect(),
        Some("wave") => keys.by_wave.iter().map(|(wave, k)| (wave.to_string(), k)).collect(),
        _ => vec![("all".to_string(), &keys.total)],
    };
    // Groups in the order of their names as text (wave 10 before wave 2), as always printed.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let header = args.by.as_deref().unwrap_or("scope");
    let table = rows
        .into_iter()
        .map(|(name, k)| {
            let df = &k.deployment_frequency;
            let lt = &k.lead_time;
            let cfr = &k.change_failure_rate;
            let rt = &k.recovery_time;
            vec![
                name,
                format!("{} ({:.2}/day) {}", df.deployments, df.per_day, level(df.level)),
                format!(
                    "{} / p90 {} {}",
                    millis(lt.median_ms),
                    millis(lt.p90_ms),
                    level(lt.level)
                ),
                match cfr.rate {
                    Some(r) => format!(
                        "{:.1}% ({}/{}) {}",
                        r * 100.0,
                        cfr.failed,
                        cfr.deployments,
                        level(cfr.level)
                    ),
                    None => "-".into(),
                },
                format!("{} {}", millis(rt.median_ms), level(rt.level)),
            ]
        })
        .collect();
    print_table(
        &[
            header,
            "deployments",
            "lead time (median / p90)",
            "change failure rate",
            "recovery (median)",
        ],
        table,
    )?;
    outln!("Levels: Accelerate State of DevOps 2021; definitions in docs/metrics.md.")?;
    Ok(())
}

/// A level as `[elite]`, or nothing when there is none.
fn level(level: Option<Level>) -> String {
    level.map(|l| format!("[{}]", show(&l))).unwrap_or_default()
}

/// A duration in milliseconds, for people: `850 ms`, `4.2 s`, `3.5 min`, `2.1 h`, `3.0 d`.
fn millis(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "-".into();
    };
    let ms = ms as f64;
    match ms {
        m if m < 1000.0 => format!("{m:.0} ms"),
        m if m < 60_000.0 => format!("{:.1} s", m / 1000.0),
        m if m < 3_600_000.0 => format!("{:.1} min", m / 60_000.0),
        m if m < 86_400_000.0 => format!("{:.1} h", m / 3_600_000.0),
        m => format!("{:.1} d", m / 86_400_000.0),
    }
}
