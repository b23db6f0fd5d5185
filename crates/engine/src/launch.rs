//! Market launches. A market not yet live (`planned`, or `launching` once a release runs there)
//! receives deployments like any other; launching it makes it live, which makes its config and
//! flag changes production changes. A launch is refused unless every check of its readiness
//! passes, for every service: config valid for the latest release, flags resolving for the
//! market, the latest release live there, and its probe answering now.

use crate::notifications::Announcement;
use crate::{Engine, Error, Result};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::config::{ConfigSchema, resolve_config};
use tandem_core::flags::{EvaluationContext, MARKET_ATTRIBUTE, evaluate, parse_flags};
use tandem_core::platform::{LaunchState, Market, Platform};
use tandem_core::policy::Event;
use tandem_store::launches::LaunchRow;
use tandem_store::{DeploymentRow, ReleaseRow, StoreError, now_ms};

/// How many times the readiness probe tries before it reports the market down: one blip does
/// not block a launch, a market that is down does.
const PROBE_TRIES: u32 = 3;
/// The pause between two readiness probe tries.
const PROBE_PAUSE: Duration = Duration::from_millis(300);
/// The targeting key flags are evaluated with: a rollout by percentage needs one.
const READINESS_TARGETING_KEY: &str = "tandem-readiness";

/// Whether a market may be launched: every check, passed or not, with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub market: String,
    pub name: String,
    /// planned, launching or live.
    pub state: String,
    /// Every check passed.
    pub ready: bool,
    pub checks: Vec<Check>,
    /// When the checks ran, in Unix milliseconds.
    pub checked_at: i64,
}

/// One item of a readiness checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// config, flags, release or probe.
    pub check: &'static str,
    pub service: String,
    pub passed: bool,
    /// What passed, or what is missing and what to do.
    pub reason: String,
}

impl Readiness {
    /// The checks that did not pass.
    pub fn missing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    /// The failed checks as one line each: `release (shop): …`.
    pub fn missing_lines(&self) -> Vec<String> {
        self.missing()
            .map(|c| format!("{} ({}): {}", c.check, c.service, c.reason))
            .collect()
    }

    /// Why a launch of this market is refused: every check that failed, on one line.
    pub fn refusal(&self) -> String {
        format!(
            "market `{}` is not ready to launch: {}",
            self.market,
            self.missing_lines().join("; ")
        )
    }
}

/// A market made live through Tandem.
#[derive(Debug, Clone, Serialize)]
pub struct Launch {
    pub market: String,
    pub launched_at: i64,
    pub launched_by: String,
    /// The checklist it passed.
    pub readiness: Readiness,
}

/// What a launch did. A market that is not in the platform file is [`Error::NotFound`]; one
/// that is live already is [`Error::Conflict`], saying who launched it and when.
#[derive(Debug, Clone)]
pub enum LaunchOutcome {
    /// The market is live now.
    Launched(Launch),
    /// Refused: a check of its readiness failed (see [`Readiness::refusal`]); nothing changed.
    NotReady(Box<Readiness>),
}

fn describe_launch(launch: Option<&LaunchRow>) -> String {
    match launch {
        Some(l) => format!(
            " (launched by {} at {})",
            l.launched_by,
            jiff::Timestamp::from_millisecond(l.launched_at)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default()
        ),
        None => " (the platform file says so)".to_string(),
    }
}

impl Engine {
    /// Runs the readiness checklist of `market` now (its probes are real requests).
    pub async fn market_readiness(&self, market: &str) -> Result<Readiness> {
        let platform = self.store.load_platform().await?;
        let Some(m) = platform.market(market) else {
            return Err(Error::missing(format!("market `{market}`")));
        };
        let live = self.store.list_live_deployments().await?;
        let mut checks = Vec::new();
        if platform.services.is_empty() {
            checks.push(Check {
                check: "release",
                service: "-".into(),
                passed: false,
                reason: "the platform file declares no service: nothing can run in the market".into(),
            });
        }
        let live_markets: Vec<&str> = platform
            .markets
            .iter()
            .filter(|m| m.state == LaunchState::Live)
            .map(|m| m.id.as_str())
            .collect();
        for service in &platform.services {
            // The release in production: the newest one live in a live market (a newer release
            // halted in its pilot is not what the new market should open with); the newest
            // release when none is live yet.
            let releases = self.store.list_releases(Some(&service.name)).await?;
            let in_production = releases.iter().find(|r| {
                live.iter().any(|d| {
                    d.release_id == r.id && d.service == service.name && live_markets.contains(&d.market.as_str())
                })
            });
            let latest = in_production.or(releases.first()).cloned();
            let running = live.iter().find(|d| d.service == service.name && d.market == market);
            checks.push(
                self.readiness_config(&platform, m, &service.name, latest.as_ref())
                    .await?,
            );
            checks.push(self.readiness_flags(&platform, market, &service.name));
            checks.push(
                self.readiness_release(market, &service.name, latest.as_ref(), running)
                    .await?,
            );
            checks.push(self.readiness_probe(market, &service.name, running).await?);
        }
        Ok(Readiness {
            market: m.id.clone(),
            name: m.name.clone(),
            state: m.state.as_str().to_string(),
            ready: checks.iter().all(|c| c.passed),
            checks,
            checked_at: now_ms(),
        })
    }

    /// Makes `market` live when its readiness checklist passes; refused with what is missing
    /// otherwise. The launch and its checklist are recorded with a `market.launched` event, and
    /// the team is told.
    pub async fn launch_market(self: &Arc<Self>, market: &str, by: &str) -> Result<LaunchOutcome> {
        let platform = self.store.load_platform().await?;
        let Some(m) = platform.market(market) else {
            return Err(Error::not_found(
                "market",
                market,
                format!("market `{market}` is not in the platform file"),
            ));
        };
        if m.state == LaunchState::Live {
            return Err(self.already_live(market).await?);
        }
        let readiness = self.market_readiness(market).await?;
        if !readiness.ready {
            return Ok(LaunchOutcome::NotReady(Box::new(readiness)));
        }
        let checklist = serde_json::to_value(&readiness.checks).map_err(anyhow::Error::from)?;
        let row = match self.store.insert_launch(market, by, &checklist).await {
            Ok(row) => row,
            // Someone else launched it between the check and now.
            Err(StoreError::Conflict(_)) => return Err(self.already_live(market).await?),
            Err(e) => return Err(e.into()),
        };
        tracing::info!(market, by, "market launched");
        self.notify();
        self.announce(Announcement {
            event: Event::MarketLaunched,
            text: format!(
                "Market {market} ({}) is live: launched by {by} once its {} readiness checks passed",
                m.name,
                readiness.checks.len()
            ),
            data: serde_json::json!({
                "market": market, "name": m.name, "by": row.launched_by, "launched_at": row.launched_at,
                "checks": checklist,
            }),
        })
        .await;
        Ok(LaunchOutcome::Launched(Launch {
            market: row.market,
            launched_at: row.launched_at,
            launched_by: row.launched_by,
            readiness: Readiness {
                state: LaunchState::Live.as_str().to_string(),
                ..readiness
            },
        }))
    }

    /// The refusal of a second launch of `market`: who launched it, and when.
    async fn already_live(&self, market: &str) -> Result<Error> {
        let launch = self.store.get_launch(market).await?;
        Ok(Error::conflict(format!(
            "market `{market}` is already live{}",
            describe_launch(launch.as_ref())
        )))
    }

    /// The market's resolved config (the version it would be deployed with) against the config
    /// schema of the service's latest release.
    async fn readiness_config(
        &self,
        platform: &Platform,
        market: &Market,
        service: &str,
        latest: Option<&ReleaseRow>,
    ) -> Result<Check> {
        let check = item("config", service);
        let Some(release) = latest else {
            return Ok(check(
                false,
                format!("{service} has no release yet, so no config schema to check against"),
            ));
        };
        let Some(text) = &release.config_schema else {
            return Ok(check(
                true,
                format!(
                    "{} of {service} declares no config schema: nothing to check",
                    release.version
                ),
            ));
        };
        let schema = match ConfigSchema::parse(&format!("{}'s config schema", release.version), text) {
            Ok(s) => s,
            Err(e) => {
                return Ok(check(
                    false,
                    format!("{}'s config schema cannot be used: {e}", release.version),
                ));
            }
        };
        let (_, layers) = self.config_layers(platform, service, &market.id, None).await?;
        let values = serde_json::Value::Object(resolve_config(&layers, market).values);
        let errors = schema.validate(&market.id, &values);
        Ok(if errors.is_empty() {
            check(
                true,
                format!("{}'s config fits the schema of {}", market.id, release.version),
            )
        } else {
            check(
                false,
                format!(
                    "{}'s config does not fit the schema of {}: {}",
                    market.id,
                    release.version,
                    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ),
            )
        })
    }

    /// The service's flag file in force still compiles against the platform's markets, and every
    /// flag in it evaluates without error for the market. A service without flags passes.
    fn readiness_flags(&self, platform: &Platform, market: &str, service: &str) -> Check {
        let check = item("flags", service);
        let snapshot = self.flags();
        let Some(version) = snapshot.versions.get(service) else {
            return check(true, format!("{service} has no feature flags"));
        };
        let markets: Vec<&str> = platform.markets.iter().map(|m| m.id.as_str()).collect();
        let set = match parse_flags(&format!("flags of {service}"), &version.text, Some(&markets)) {
            Ok(set) => set,
            Err(e) => {
                return check(
                    false,
                    format!(
                        "version {} of {service}'s flags does not compile against the platform: {}",
                        version.version,
                        e.to_string().lines().collect::<Vec<_>>().join("; ")
                    ),
                );
            }
        };
        let context = EvaluationContext::default()
            .with_targeting_key(READINESS_TARGETING_KEY)
            .with(MARKET_ATTRIBUTE, market);
        let failed: Vec<String> = set
            .flags()
            .iter()
            .filter_map(|f| evaluate(f, &context).error().map(|e| e.details.clone()))
            .collect();
        if !failed.is_empty() {
            return check(
                false,
                format!("flags that do not resolve in {market}: {}", failed.join("; ")),
            );
        }
        let own = set.flags().iter().filter(|f| f.market(market).is_some()).count();
        check(
            true,
            format!(
                "{} flag(s) of {service} (version {}) resolve in {market}, {own} with targeting of its own",
                set.len(),
                version.version
            ),
        )
    }

    /// The service's latest release is the one live in the market.
    async fn readiness_release(
        &self,
        market: &str,
        service: &str,
        latest: Option<&ReleaseRow>,
        running: Option<&DeploymentRow>,
    ) -> Result<Check> {
        let check = item("release", service);
        let Some(release) = latest else {
            return Ok(check(
                false,
                format!("{service} has no release yet: a green run on its branch makes one"),
            ));
        };
        let to_do = format!("roll it out: `tandem rollout start --release {}`", release.id);
        Ok(match running {
            Some(d) if d.release_id == release.id => check(
                true,
                format!("{} (the release in production) is live in {market}", release.version),
            ),
            Some(d) => {
                let version = self.store.get_release(d.release_id).await?.version;
                check(
                    false,
                    format!(
                        "{market} runs {version}, not {}, the release in production: {to_do}",
                        release.version
                    ),
                )
            }
            None => check(
                false,
                format!(
                    "no release of {service} is live in {market}; the release in production is {}: {to_do}",
                    release.version
                ),
            ),
        })
    }

    /// The probe of the release running in the market answers 2xx now.
    async fn readiness_probe(&self, market: &str, service: &str, running: Option<&DeploymentRow>) -> Result<Check> {
        let check = item("probe", service);
        let Some(d) = running else {
            return Ok(check(false, format!("nothing of {service} runs in {market} to probe")));
        };
        let Some(base) = d.url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(check(
                true,
                format!(
                    "{service}'s deployment in {market} has no URL to probe (a `command` driver without `url`): its exit status was its gate"
                ),
            ));
        };
        let spec = self.store.get_release(d.release_id).await?.service_spec()?;
        let probe = spec.gates.probe.for_market(market);
        let url = format!("{}{}", base.trim_end_matches('/'), probe.path);
        let mut last = String::new();
        for attempt in 1..=PROBE_TRIES {
            match self.http.get(&url).timeout(probe.timeout).send().await {
                Ok(resp) if resp.status().is_success() => {
                    return Ok(check(true, format!("GET {url} answered {}", resp.status().as_u16())));
                }
                Ok(resp) => last = format!("answered {}", resp.status().as_u16()),
                Err(e) if e.is_timeout() => {
                    last = format!("no answer within {:.1} s", probe.timeout.as_secs_f64());
                }
                Err(e) if e.is_connect() => last = "cannot connect".to_string(),
                Err(e) => last = e.to_string(),
            }
            if attempt < PROBE_TRIES {
                tokio::time::sleep(PROBE_PAUSE).await;
            }
        }
        Ok(check(
            false,
            format!("GET {url} failed {PROBE_TRIES} times in a row, last: {last}"),
        ))
    }
}

/// The verdict maker of one checklist item of one service.
fn item<'a>(check: &'static str, service: &'a str) -> impl Fn(bool, String) -> Check + 'a {
    move |passed, reason| Check {
        check,
        service: service.to_string(),
        passed,
        reason,
    }
}
