//! `tandem config`: per-market configuration and the change requests that move it.
//!
//! - `show` (`GET /api/v1/services/{service}/config?market=`), `diff`
//!   (`GET …/config/diff`), `log` (`GET …/config/log`, followed page by page) and `export`
//!   (`GET …/config/versions`) read, any role;
//! - `apply` and `set` propose a change request (`POST /api/v1/services/{service}/changes`,
//!   developers and up; refused when a market's release schema does not accept it);
//! - `changes` and `change ID` read change requests (`GET /api/v1/changes`,
//!   `GET /api/v1/changes/{id}`); `approve` and `reject` review one
//!   (`POST /api/v1/changes/{id}/approve|reject`; the platform's policy says who may, never an
//!   author of the change);
//! - `rollback` sends markets back to the version each ran before
//!   (`POST /api/v1/services/{service}/config/rollback`, operators and up).

use super::show as field;
use crate::client::{Client, ClientArgs, encode};
use crate::output::{print_json, print_table, time};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tandem_core::config::{Change as LeafChange, ConfigDiff, layers_from_files, layers_to_files, set_dotted};
use tandem_core::platform::ConfigLayers;
use tandem_core::policy::changes::ReviewState;
use tandem_wire::changes::{Change, ChangeDetail, ChangeReview, NewChangeRequest};
use tandem_wire::config::{ConfigLogEntry, ConfigRollbackRequest, ConfigVersion, DiffLine, MarketConfig};
use tandem_wire::rollouts::ConfigMove;

/// `tandem config`: read config, propose and review changes, roll back.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// A market's resolved config (at the version it runs), each value with its layer.
    #[command(after_help = "Example:\n  tandem config show shop --market nl")]
    Show {
        service: String,
        #[arg(long)]
        market: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// How two markets' configs differ, or two config versions (of one market, or the layers).
    #[command(
        after_help = "Examples:\n  tandem config diff shop --from fr --to be\n  tandem config diff shop --from-version 1 --to-version 2 --market nl"
    )]
    Diff {
        service: String,
        /// The market compared from.
        #[arg(long, requires = "to", conflicts_with_all = ["from_version", "to_version"])]
        from: Option<String>,
        /// The market compared to.
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[arg(long, requires = "to_version")]
        from_version: Option<i64>,
        #[arg(long, requires = "from_version")]
        to_version: Option<i64>,
        /// With versions: compare this market's resolved config (otherwise the layers).
        #[arg(long, requires = "from_version")]
        market: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Every config version with its author, approvers, diff, rollout and result.
    #[command(after_help = "Example:\n  tandem config log shop")]
    Log {
        service: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Propose the layers kept in a folder (defaults.yml, regions/*.yml, markets/*.yml) as a
    /// change request: checked against every market it changes, then reviewed.
    #[command(after_help = "Example:\n  tandem config apply shop -f config/ --title \"Benelux moves to Stripe\"")]
    Apply {
        service: String,
        /// The folder holding the layers.
        #[arg(short = 'f', long = "dir")]
        dir: PathBuf,
        #[command(flatten)]
        proposal: Proposal,
    },
    /// Write the layers of the newest version (or of --version) to a folder, for git.
    #[command(after_help = "Example:\n  tandem config export shop -o config/")]
    Export {
        service: String,
        #[arg(short = 'o', long = "dir")]
        dir: PathBuf,
        #[arg(long)]
        version: Option<i64>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Propose one value in one layer as a change request (the value is JSON, or else a string).
    #[command(
        after_help = "Examples:\n  tandem config set shop shipping.free_over=40 --market nl --title \"Free shipping from 40 in NL\"\n  tandem config set shop payment.provider=stripe --region benelux --title \"Stripe for Benelux\""
    )]
    Set {
        service: String,
        /// `key.path=value`.
        assignment: String,
        /// Set it in this market's layer.
        #[arg(long, conflicts_with_all = ["region", "defaults"])]
        market: Option<String>,
        /// Set it in this region's layer.
        #[arg(long, conflicts_with = "defaults")]
        region: Option<String>,
        /// Set it in the defaults.
        #[arg(long)]
        defaults: bool,
        #[command(flatten)]
        proposal: Proposal,
    },
    /// Change requests (config and flags), newest first.
    Changes {
        /// Only this service's.
        service: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A change request: its per-market diff, validation, reviews and where it stands.
    Change {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve a change request (the policy says who may: by default the other side).
    Approve {
        id: i64,
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reject a change request (it can be edited and reviewed again).
    Reject {
        id: i64,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Send markets back to the config version each ran before (all markets without --market).
    #[command(after_help = "Example:\n  tandem config rollback shop --market nl")]
    Rollback {
        service: String,
        #[arg(long)]
        market: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// What a proposal says of itself.
#[derive(Debug, Args)]
pub struct Proposal {
    /// What the change is for, in a line.
    #[arg(long)]
    title: String,
    #[command(flatten)]
    client: ClientArgs,
}

impl ConfigCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            ConfigCommand::Show {
                service,
                market,
                client,
            } => show(&service, &market, &client).await,
            ConfigCommand::Diff {
                service,
                from,
                to,
                from_version,
                to_version,
                market,
                client,
            } => {
                let (query, what) = match (from, to, from_version, to_version) {
                    (Some(f), Some(t), ..) => (
                        format!("from={}&to={}", encode(&f), encode(&t)),
                        format!("{f} and {t} have the same config"),
                    ),
                    (_, _, Some(a), Some(b)) => {
                        let mut q = format!("from_version={a}&to_version={b}");
                        if let Some(m) = &market {
                            q.push_str(&format!("&market={}", encode(m)));
                        }
                        (q, format!("versions {a} and {b} are the same"))
                    }
                    _ => bail!("give --from and --to (markets), or --from-version and --to-version"),
                };
                let lines: Vec<DiffLine> = Client::from_args(&client)
                    .get(&format!("/api/v1/services/{}/config/diff?{query}", encode(&service)))
                    .await?;
                if client.json {
                    return print_json(&lines);
                }
                if lines.is_empty() {
                    outln!("{what}")?;
                }
                print_diff(&lines, "")?;
                Ok(())
            }
            ConfigCommand::Log { service, client } => log(&service, &client).await,
            ConfigCommand::Apply { service, dir, proposal } => {
                let layers = read_folder(&dir)?;
                propose(&service, &layers, &proposal).await
            }
            ConfigCommand::Export {
                service,
                dir,
                version,
                client,
            } => {
                let layers = fetch_layers(&service, version, &client).await?;
                let files = layers_to_files(&layers);
                for (path, body) in &files {
                    let file = dir.join(path);
                    if let Some(parent) = file.parent() {
                        std::fs::create_dir_all(parent)
                            .with_context(|| format!("cannot create {}", parent.display()))?;
                    }
                    std::fs::write(&file, body).with_context(|| format!("cannot write {}", file.display()))?;
                }
                outln!("Wrote {} file(s) to {}", files.len(), dir.display())?;
                Ok(())
            }
            ConfigCommand::Set {
                service,
                assignment,
                market,
                region,
                defaults,
                proposal,
            } => {
                let (path, raw) = assignment
                    .split_once('=')
                    .with_context(|| format!("`{assignment}` is not `key.path=value`"))?;
                let value: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
                let mut layers = fetch_layers(&service, None, &proposal.client).await?;
                let layer = match (&market, &region, defaults) {
                    (Some(m), None, false) => layers.markets.entry(m.clone()).or_default(),
                    (None, Some(r), false) => layers.regions.entry(r.clone()).or_default(),
                    (None, None, true) => &mut layers.defaults,
                    _ => bail!("say which layer: --market M, --region R or --defaults"),
                };
                set_dotted(layer, path.trim(), value).map_err(anyhow::Error::msg)?;
                propose(&service, &layers, &proposal).await
            }
            ConfigCommand::Changes { service, client } => {
                let query = service.map(|s| format!("?service={}", encode(&s))).unwrap_or_default();
                let changes: Vec<Change> = Client::from_args(&client)
                    .get(&format!("/api/v1/changes{query}"))
                    .await?;
                if client.json {
                    return print_json(&changes);
                }
                let rows = changes
                    .iter()
                    .map(|c| {
                        vec![
                            field(&c.id),
                            field(&c.service),
                            field(&c.kind),
                            field(&c.title),
                            field(&c.author),
                            field(&c.state),
                            time(Some(c.updated_at)),
                        ]
                    })
                    .collect();
                print_table(&["id", "service", "kind", "title", "author", "state", "updated"], rows)?;
                Ok(())
            }
            ConfigCommand::Change { id, client } => {
                let detail: ChangeDetail = Client::from_args(&client).get(&format!("/api/v1/changes/{id}")).await?;
                if client.json {
                    return print_json(&detail);
                }
                print_change(&detail)?;
                Ok(())
            }
            ConfigCommand::Approve { id, comment, client } => review(id, "approve", comment, &client).await,
            ConfigCommand::Reject { id, comment, client } => review(id, "reject", Some(comment), &client).await,
            ConfigCommand::Rollback {
                service,
                market,
                client,
            } => {
                let out: Vec<ConfigMove> = Client::from_args(&client)
                    .post(
                        &format!("/api/v1/services/{}/config/rollback", encode(&service)),
                        &ConfigRollbackRequest { markets: market },
                    )
                    .await?;
                if client.json {
                    return print_json(&out);
                }
                let rows = out
                    .iter()
                    .map(|o| {
                        vec![
                            field(&o.market),
                            version(o.from),
                            version(o.to),
                            field(&o.state),
                            field(&o.reason),
                        ]
                    })
                    .collect();
                print_table(&["market", "from", "to", "state", "reason"], rows)?;
                if out.iter().any(|o| o.state == "failed") {
                    bail!("the config rollback failed in some markets");
                }
                Ok(())
            }
        }
    }
}

fn version(v: Option<i64>) -> String {
    v.map(|n| format!("v{n}")).unwrap_or_else(|| "-".into())
}

async fn show(service: &str, market: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let config: MarketConfig = Client::from_args(client)
        .get(&format!(
            "/api/v1/services/{}/config?market={}",
            encode(service),
            encode(market)
        ))
        .await?;
    if client.json {
        return print_json(&config);
    }
    let rows = config
        .entries
        .iter()
        .map(|e| vec![field(&e.path), e.value.to_string(), field(&e.origin)])
        .collect();
    outln!("{service} in {market}: config {}", version(config.version))?;
    print_table(&["key", "value", "set by"], rows)?;
    Ok(())
}

fn print_diff(lines: &[DiffLine], indent: &str) -> std::io::Result<()> {
    // A value as its JSON (`null` when absent), as the diff always showed it.
    let json = |v: &Option<Value>| v.clone().unwrap_or_default();
    for l in lines {
        let path = &l.path;
        match l.change.as_str() {
            "added" => outln!("{indent}+ {path} = {}", json(&l.new))?,
            "removed" => outln!("{indent}- {path} (was {})", json(&l.old))?,
            _ => outln!("{indent}~ {path}: {} → {}", json(&l.old), json(&l.new))?,
        }
    }
    Ok(())
}

/// A core diff (leaf by leaf: added, removed or changed) as diff lines.
fn core_diff_lines(diff: &ConfigDiff) -> Vec<DiffLine> {
    diff.entries
        .iter()
        .map(|e| {
            let (change, old, new) = match &e.change {
                LeafChange::Added { new } => ("added", None, Some(new.clone())),
                LeafChange::Removed { old } => ("removed", Some(old.clone()), None),
                LeafChange::Changed { old, new } => ("changed", Some(old.clone()), Some(new.clone())),
            };
            DiffLine {
                path: e.path.clone(),
                change: change.to_string(),
                old,
                new,
            }
        })
        .collect()
}

/// Rows of the config log asked for at once: a page of the server's most.
const LOG_PAGE: i64 = 500;

/// Prints the whole config log, newest first, reading it a page at a time (`--json`: one array).
async fn log(service: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let http = Client::from_args(client);
    let path = format!("/api/v1/services/{}/config/log?limit={LOG_PAGE}", encode(service));
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(a) => format!("{path}&after={}", encode(a)),
            None => path.clone(),
        };
        let (entries, next): (Vec<ConfigLogEntry>, _) = http.get_page(&url).await?;
        if client.json {
            all.extend(entries);
        } else {
            print_log(&entries)?;
        }
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if client.json {
        return print_json(&all);
    }
    Ok(())
}

/// Prints entries of the config log.
fn print_log(entries: &[ConfigLogEntry]) -> anyhow::Result<()> {
    for e in entries {
        outln!(
            "v{}  {}  by {}{}  — {}",
            e.version,
            time(Some(e.created_at)),
            field(&e.created_by),
            if e.approved_by.is_empty() {
                String::new()
            } else {
                format!(", approved by {}", e.approved_by.join(", "))
            },
            field(&e.message)
        )?;
        if let Some(change) = &e.change {
            outln!(
                "    change request {} ({}): {}",
                change.id,
                field(&change.state),
                field(&change.result)
            )?;
        }
        if !e.markets.is_empty() {
            outln!("    running in: {}", e.markets.join(", "))?;
        }
        if e.version != 1 {
            print_diff(&e.diff, "    ")?;
        }
    }
    Ok(())
}

async fn review(id: i64, verdict: &str, comment: Option<String>, client: &ClientArgs) -> anyhow::Result<()> {
    let row: Change = Client::from_args(client)
        .post(
            &format!("/api/v1/changes/{id}/{verdict}"),
            &json!({ "comment": comment }),
        )
        .await?;
    if client.json {
        return print_json(&row);
    }
    outln!(
        "Change request {id} is {}{}",
        field(&row.state),
        row.result.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
    )?;
    Ok(())
}

/// Proposes layers as a change request and says where it stands.
async fn propose(service: &str, layers: &ConfigLayers, proposal: &Proposal) -> anyhow::Result<()> {
    let client = Client::from_args(&proposal.client);
    let row: Change = client
        .post(
            &format!("/api/v1/services/{}/changes", encode(service)),
            &NewChangeRequest {
                kind: "config".into(),
                title: proposal.title.clone(),
                layers: Some(layers.clone()),
                text: None,
            },
        )
        .await?;
    let detail: ChangeDetail = client.get(&format!("/api/v1/changes/{}", row.id)).await?;
    if proposal.client.json {
        return print_json(&detail);
    }
    print_change(&detail)?;
    Ok(())
}

fn print_change(detail: &ChangeDetail) -> std::io::Result<()> {
    let c = &detail.change;
    outln!(
        "Change request {} — {} ({} of {}, by {}, revision {})",
        c.id,
        field(&c.title),
        field(&c.kind),
        field(&c.service),
        field(&c.author),
        c.revision
    )?;
    let stands = match &detail.review {
        ReviewState::Waiting { missing, from } => format!("waits for {missing} approval(s) from {from}"),
        ReviewState::Approved { .. } => "approved".into(),
        ReviewState::Rejected { by } => format!("rejected by {by}"),
    };
    outln!(
        "State: {}{} — {stands}",
        field(&c.state),
        c.result.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
    )?;
    if let Some(check) = &detail.check {
        let changed = &check.radius.changed;
        outln!(
            "Blast radius: {} market(s) change, {} unchanged",
            changed.len(),
            check.radius.unchanged.len()
        )?;
        for m in changed {
            outln!("  {}:", m.market)?;
            print_diff(&core_diff_lines(&m.diff), "    ")?;
        }
        for e in &check.errors {
            outln!(
                "  ✗ {}: `{}`: expected {}, found {}",
                e.market,
                e.path,
                e.expected,
                e.found.clone().unwrap_or_default()
            )?;
        }
        if !check.unchecked.is_empty() {
            outln!(
                "  not validated (no release with a schema runs there): {}",
                check.unchecked.join(", ")
            )?;
        }
    }
    if let Some(diff) = &detail.flags_diff {
        outln!("Flag file changes:")?;
        print_diff(&core_diff_lines(diff), "  ")?;
    }
    if let Some(e) = &detail.flags_error {
        outln!("  ✗ {e}")?;
    }
    for r in &detail.reviews {
        let r: &ChangeReview = r;
        outln!(
            "  {} {}d (revision {}, {}){}",
            field(&r.reviewer),
            field(&r.verdict),
            r.revision,
            field(&r.role),
            r.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// The layers of a config version (the newest without one), from the server.
async fn fetch_layers(service: &str, version: Option<i64>, client: &ClientArgs) -> anyhow::Result<ConfigLayers> {
    // The newest version, or the one just older than `version + 1`: one row either way.
    let after = version
        .map(|v| format!("&after={}", v.saturating_add(1)))
        .unwrap_or_default();
    let versions: Vec<ConfigVersion> = Client::from_args(client)
        .get(&format!(
            "/api/v1/services/{}/config/versions?limit=1{after}",
            encode(service)
        ))
        .await?;
    let row = versions
        .first()
        .filter(|r| version.is_none_or(|v| r.version == v))
        .with_context(|| match version {
            Some(v) => format!("{service} has no config version {v}"),
            None => format!("{service} has no config version"),
        })?;
    serde_json::from_str(&row.layers).context("the server's layers are not valid")
}

/// Reads the layer files of a folder (see `tandem_core::config::layers_from_files`).
fn read_folder(dir: &Path) -> anyhow::Result<ConfigLayers> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    if files.is_empty() {
        bail!(
            "{} holds no config layer: expected defaults.yml, regions/REGION.yml or markets/MARKET.yml",
            dir.display()
        );
    }
    layers_from_files(&files).map_err(|errors| {
        anyhow::anyhow!(
            "the config in {} cannot be read:\n  {}",
            dir.display(),
            errors.join("\n  ")
        )
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().to_string();
            let body = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            out.push((rel, body));
        }
    }
    Ok(())
}
