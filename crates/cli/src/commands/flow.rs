//! `tandem flow` (what shipped lately and where it is live) and `tandem idea flow KEY` (one
//! idea's stages from creation to every target market).
//!
//! Routes: `GET /api/v1/flow?days=N` and `GET /api/v1/ideas/{key}/flow`, any role.

use super::show;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use clap::Args;
use tandem_core::flow::{Flow, Stage};
use tandem_wire::ideas::{IdeaFlow, ShippedAnswer};

/// The stages after `created`, with the words a table shows for them.
const STAGES: [(Stage, &str); 5] = [
    (Stage::FirstCommit, "first commit"),
    (Stage::GreenPipeline, "green pipeline"),
    (Stage::Release, "release"),
    (Stage::Pilot, "pilot"),
    (Stage::AllTargets, "all targets"),
];

/// `tandem flow`: the window of days to show, and how to print it.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tandem flow\n  tandem flow --days 30 --json")]
pub struct FlowArgs {
    /// The window: this many days up to now.
    #[arg(long, default_value_t = 7)]
    days: u32,
    #[command(flatten)]
    client: ClientArgs,
}

/// What shipped in the last days: each idea that reached a market, its waits stage by stage,
/// and where it is live.
pub async fn run(args: FlowArgs) -> anyhow::Result<()> {
    let answer: ShippedAnswer = Client::from_args(&args.client)
        .get(&format!("/api/v1/flow?days={}", args.days))
        .await?;
    if args.client.json {
        return print_json(&answer);
    }
    if answer.ideas.is_empty() {
        outln!("No idea reached a market in the last {} days.", args.days)?;
        return Ok(());
    }
    let mut headers = vec!["key", "title", "now"];
    headers.extend(STAGES.iter().map(|(_, words)| *words));
    headers.extend(["live in", "pending"]);
    let rows = answer
        .ideas
        .iter()
        .map(|i| {
            let flow = &i.flow;
            let mut row = vec![
                i.idea.key.clone(),
                i.idea.title.clone(),
                flow.now.stage.as_str().to_string(),
            ];
            row.extend(STAGES.iter().map(|(stage, _)| span(since_previous(flow, *stage))));
            row.push(list(&flow.now.live));
            row.push(list(&flow.now.pending));
            row
        })
        .collect();
    print_table(&headers, rows)?;
    outln!("Each stage shows the wait since the stage before it.")?;
    Ok(())
}

/// One idea's stages and markets.
pub async fn show_idea(key: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let answer: IdeaFlow = Client::from_args(client)
        .get(&format!("/api/v1/ideas/{}/flow", encode(key)))
        .await?;
    if client.json {
        return print_json(&answer);
    }
    let flow = &answer.flow;
    outln!(
        "{} {}: {} (live in {}; pending {})",
        answer.idea.key,
        answer.idea.title,
        flow.now.stage.as_str(),
        list(&flow.now.live),
        list(&flow.now.pending)
    )?;
    let stages = flow
        .stages
        .iter()
        .map(|s| {
            vec![
                s.stage.as_str().to_string(),
                time(s.at),
                span(s.since_previous),
                span(s.since_created),
                show(&s.by),
            ]
        })
        .collect();
    print_table(&["stage", "at", "since previous", "since created", "by"], stages)?;
    let markets = flow
        .markets
        .iter()
        .map(|m| {
            let role = match (m.pilot, m.target) {
                (true, true) => "pilot, target",
                (true, false) => "pilot",
                (false, true) => "target",
                (false, false) => "-",
            };
            vec![
                m.market.clone(),
                show(&m.state),
                role.to_string(),
                time(m.arrived_at),
                show(&m.arrived_with),
                span(m.since_created),
                show(&m.live_release),
            ]
        })
        .collect();
    print_table(
        &[
            "market",
            "state",
            "role",
            "arrived",
            "with",
            "since created",
            "runs now",
        ],
        markets,
    )?;
    Ok(())
}

/// The wait before `stage` was reached, if it was.
fn since_previous(flow: &Flow, stage: Stage) -> Option<i64> {
    flow.stages
        .iter()
        .find(|s| s.stage == stage)
        .and_then(|s| s.since_previous)
}

/// Markets as `fr be`, or `-`.
fn list(markets: &[String]) -> String {
    if markets.is_empty() {
        "-".into()
    } else {
        markets.join(" ")
    }
}

/// A wait in milliseconds as `850ms`, `42s`, `3m 04s`, `5h 02m`, `2d 03h`; `-` when none.
fn span(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "-".into() };
    let s = ms / 1000;
    match s {
        _ if ms < 1000 => format!("{ms}ms"),
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn waits_read_in_the_largest_useful_units() {
        assert_eq!(span(None), "-");
        assert_eq!(span(Some(850)), "850ms");
        assert_eq!(span(Some(42_000)), "42s");
        assert_eq!(span(Some(184_000)), "3m 04s");
        assert_eq!(span(Some(5 * 3_600_000 + 120_000)), "5h 02m");
        assert_eq!(span(Some(2 * 86_400_000 + 3 * 3_600_000)), "2d 03h");
    }
}
