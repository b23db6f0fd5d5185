//! Steering rollouts with the `command` driver (a user's script per market, as for ssh,
//! kubectl or helm): a failed deploy sends the market back by itself and tells the team;
//! approvals between waves, skipped markets, market locks (refused or queued), freezes and
//! their override by an admin; a command that hangs is stopped at its timeout.

#![allow(clippy::unwrap_used)]

use crate::common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_core::role::Role;
use tandem_engine::Engine;
use tandem_store::RolloutRow;
use tandem_testkit::git;

/// The deploy script: records the release a market runs (and its config) in the market's
/// folder, fails in `fr` for a release whose text starts with `bad`, in `de` for a config with
/// `maintenance: true`, and hangs for a release starting with `slow`.
const DEPLOY: &str = r#"set -e
v=$(cat "$TANDEM_ARTIFACT_DIR/release.txt")
echo "$TANDEM_ACTION $v ($TANDEM_RELEASE) to $TANDEM_MARKET with config $(cat "$TANDEM_CONFIG_FILE" | tr -d ' \n')"
case "$v" in
  bad*) if [ "$TANDEM_MARKET" = fr ]; then echo "boom: the database migration failed" >&2; exit 3; fi ;;
  slow*) sleep 60 ;;
esac
if grep -q '"maintenance": true' "$TANDEM_CONFIG_FILE" && [ "$TANDEM_MARKET" = de ]; then
  echo "boom: maintenance mode refuses all traffic" >&2; exit 5
fi
echo "$v" > current
cp "$TANDEM_CONFIG_FILE" config.json
"#;

fn spec(timeout: &str) -> String {
    spec_with(&format!("  timeout: {timeout}\n"))
}

/// The app's `tandem.yml`, with `extra` after its `deploy` section's `run`.
fn spec_with(extra: &str) -> String {
    format!(
        "service: app
pipeline:
  jobs:
    build:
      steps:
        - run: cp VERSION release.txt
      artifacts: [release.txt, deploy.sh]
deploy:
  driver: command
  run: sh \"$TANDEM_ARTIFACT_DIR/deploy.sh\"
{extra}"
    )
}

pub(crate) const MARKETS: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
  - { id: pl, name: Poland, region: east, currency: PLN, locale: pl-PL, timezone: Europe/Warsaw }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest, markets: [de, pl] }
services:
  - { name: app, repo: REPO, config: { defaults: { vat_rate: 0.2 } } }
";

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) repo: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) engine: Arc<Engine>,
}

async fn fixture(policies: &str, timeout: &str) -> Fixture {
    fixture_with(policies, &spec(timeout), tempfile::tempdir().unwrap()).await
}

async fn fixture_with(policies: &str, spec: &str, dir: tempfile::TempDir) -> Fixture {
    fixture_with_markets(&format!("{MARKETS}{policies}"), spec, dir).await
}

/// A fixture whose platform file is `platform` (with `REPO` for the repository's path).
pub(crate) async fn fixture_with_markets(platform: &str, spec: &str, dir: tempfile::TempDir) -> Fixture {
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("tandem.yml"), spec).unwrap();
    std::fs::write(repo.join("deploy.sh"), DEPLOY).unwrap();
    std::fs::write(repo.join("VERSION"), "none\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "T-1: the app"]);
    let platform = platform.replace("REPO", &repo.display().to_string());
    let data = dir.path().join("data");
    let engine = common::engine(&data, &platform).await;
    Fixture {
        _dir: dir,
        repo,
        data,
        engine,
    }
}

impl Fixture {
    /// Commits `version` and runs the pipeline to a release; returns its id.
    pub(crate) async fn release(&self, version: &str) -> i64 {
        std::fs::write(self.repo.join("VERSION"), format!("{version}\n")).unwrap();
        git(&self.repo, &["commit", "-q", "-am", &format!("release {version}")]);
        let run = self.engine.trigger_run("app", "test").await.unwrap();
        let engine = &self.engine;
        let run = common::wait_for("the run", async || {
            let r = engine.get_run(run.id).await.unwrap();
            matches!(r.state.as_str(), "success" | "failed").then_some(r)
        })
        .await;
        assert_eq!(run.state, "success", "run failed: {:?}", run.error);
        let releases = engine.list_releases(Some("app")).await.unwrap();
        releases.into_iter().find(|r| r.run_id == run.id).unwrap().id
    }

    pub(crate) async fn wait_state(&self, id: i64, states: &[&str]) -> RolloutRow {
        let engine = &self.engine;
        common::wait_for(&format!("rollout {id} to be {states:?}"), async || {
            let r = engine.get_rollout(id).await.unwrap();
            states.contains(&r.state.as_str()).then_some(r)
        })
        .await
    }

    /// The config file the market's last good deployment was started with.
    fn config(&self, market: &str) -> serde_json::Value {
        let path = self.data.join("deploy/app/markets").join(market).join("config.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// What the deploy script last recorded in a market.
    fn current(&self, market: &str) -> Option<String> {
        let path = self.data.join("deploy/app/markets").join(market).join("current");
        std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_command_sends_the_market_back_by_itself_and_tells_the_team() {
    let (hook, received) = common::receiver().await;
    let (slack, slack_received) = common::receiver().await;
    let policies = format!(
        "notifications:
  - {{ name: ops, kind: webhook, url: {hook} }}
  - {{ name: chat, kind: slack, url: {slack}, events: [rollout.halted] }}
"
    );
    let f = fixture(&policies, "10m").await;
    let engine = &f.engine;

    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    for m in ["fr", "de", "pl"] {
        assert_eq!(f.current(m).as_deref(), Some("good-1"), "{m}");
    }
    // The script saw the facts in its environment and the market's resolved config.
    let log = std::fs::read_dir(f.data.join("deploy/app/markets/fr"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap();
    assert!(log.contains("deploy good-1 (v1) to fr with config {"), "{log}");
    assert!(log.contains("\"vat_rate\":0.2"), "{log}");

    let v2 = f.release("bad-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "halted");
    let reason = r2.reason.unwrap();
    assert!(reason.contains("fr: the deploy command failed"), "{reason}");
    assert!(reason.contains("boom: the database migration failed"), "{reason}");
    // fr went back to v1 by itself, recorded as a rollback; de and pl were never touched.
    assert_eq!(f.current("fr").as_deref(), Some("good-1"));
    let deployments = engine.list_deployments(Some(r2.id)).await.unwrap();
    let kinds: Vec<(&str, &str, i64)> = deployments
        .iter()
        .map(|d| (d.kind.as_str(), d.state.as_str(), d.release_id))
        .collect();
    assert_eq!(kinds, [("release", "failed", v2), ("rollback", "live", v1)]);
    assert!(deployments.iter().all(|d| d.market == "fr"));
    let live = engine.list_live_deployments().await.unwrap();
    assert_eq!(live.iter().filter(|d| d.release_id == v1).count(), 3);
    // The gate result keeps the reason; the incident is linked to the failed deployment.
    let gates = engine
        .store_for_tests()
        .list_gate_results(deployments[0].id)
        .await
        .unwrap();
    assert_eq!((gates[0].gate.as_str(), gates[0].passed), ("deploy", false));
    let incidents = engine.store_for_tests().list_incidents().await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].deployment_id, Some(deployments[0].id));
    assert_eq!(
        incidents[0].state, "resolved",
        "fr is restored once good-1 is deployed again"
    );
    assert!(incidents[0].resolved_by.as_deref().unwrap().starts_with("tandem"));

    // The team heard of it: the generic hook got every event with its facts, the Slack
    // hook only what it asked for, as text.
    let events = common::wait_for("the notifications", async || {
        let got = received.lock().unwrap().clone();
        let events: Vec<String> = got
            .iter()
            .map(|(_, b)| b["event"].as_str().unwrap().to_string())
            .collect();
        (events.len() >= 5).then_some(got)
    })
    .await;
    let names: Vec<&str> = events.iter().map(|(_, b)| b["event"].as_str().unwrap()).collect();
    for wanted in [
        "rollout.succeeded",
        "incident.opened",
        "incident.resolved",
        "rollback",
        "rollout.halted",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    let (headers, incident) = events.iter().find(|(_, b)| b["event"] == "incident.opened").unwrap();
    assert_eq!(headers["x-tandem-event"], "incident.opened");
    assert_eq!(incident["data"]["market"], "fr");
    assert_eq!(incident["data"]["deployment"], deployments[0].id);
    // Its end too: who resolved it (the recovery), and how long it lasted.
    let resolved = common::wait_for_event(&received, "incident.resolved").await;
    let text = resolved["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "Incident {} of app in fr resolved by tandem (the previous release answers its probe) after ",
            incidents[0].id
        )),
        "{text}"
    );
    assert!(text.ends_with(&format!(": {}", incidents[0].title)), "{text}");
    let lasted = incidents[0].resolved_at.unwrap() - incidents[0].opened_at;
    assert_eq!(resolved["data"]["lasted_ms"], lasted);
    assert_eq!(resolved["data"]["source"], incidents[0].source);
    let slack = common::wait_for("the slack message", async || {
        slack_received.lock().unwrap().first().map(|(_, b)| b.clone())
    })
    .await;
    let text = slack["text"].as_str().unwrap();
    assert!(text.contains(&format!("Rollout {} of app v2 halted", r2.id)), "{text}");
    assert_eq!(
        slack_received.lock().unwrap().len(),
        1,
        "slack asked for rollout.halted only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_skips_and_locks_steer_a_rollout() {
    let f = fixture("approvals:\n  - { after: pilot, role: operator }\n", "10m").await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    // After the pilot, the rollout waits for a person.
    let waiting = f.wait_state(r1.id, &["awaiting-approval"]).await;
    assert_eq!(waiting.current_wave, 1);
    assert_eq!(f.current("fr").as_deref(), Some("good-1"));
    assert_eq!(f.current("de"), None);
    assert_eq!(
        engine.approval_role(r1.id).await.unwrap(),
        Some(tandem_core::role::Role::Operator)
    );

    // Its markets are locked: a second rollout is refused with the holder's name, or queued.
    let v2 = f.release("good-2").await;
    let err = engine.start_rollout(v2, "ben").await.unwrap_err();
    assert!(
        err.to_string().contains(&format!("locked by rollout {}", r1.id)),
        "{err}"
    );
    let r2 = engine.start_rollout_with(v2, "ben", true).await.unwrap();
    assert_eq!(r2.state, "queued");
    // A rollback by hand of a locked market is refused too.
    let back = engine.rollback("app", &["fr".into()]).await.unwrap();
    assert_eq!(back[0].state, "failed");
    assert!(
        back[0].reason.contains(&format!("locked by rollout {}", r1.id)),
        "{}",
        back[0].reason
    );

    // pl is skipped; fr, deployed already, cannot be.
    engine.skip_market(r1.id, "pl", "olga").await.unwrap();
    let err = engine.skip_market(r1.id, "fr", "olga").await.unwrap_err();
    assert!(err.to_string().contains("fr was already deployed"), "{err}");

    // Two operators approve at the same moment: one approval is recorded, the other refused.
    let (a, b) = tokio::join!(
        engine.approve_rollout(r1.id, None, "olga", Role::Admin),
        engine.approve_rollout(r1.id, None, "omar", Role::Admin)
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one approval passes: {a:?} {b:?}");
    let refused = a.err().or(b.err()).unwrap().to_string();
    assert!(refused.contains("already decided by"), "{refused}");

    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    assert_eq!(f.current("de").as_deref(), Some("good-1"));
    assert_eq!(f.current("pl"), None, "pl was skipped");
    let decisions = engine.list_decisions(r1.id).await.unwrap();
    let kinds: Vec<&str> = decisions.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["skip", "approve"]);

    // The queued rollout started once the first ended; promote stands in for the approval.
    f.wait_state(r2.id, &["awaiting-approval"]).await;
    engine.promote_rollout(r2.id, None, "olga", Role::Admin).await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "succeeded", "{:?}", r2.reason);
    for m in ["fr", "de", "pl"] {
        assert_eq!(f.current(m).as_deref(), Some("good-2"), "{m}");
    }
    let err = engine
        .approve_rollout(r2.id, None, "olga", Role::Admin)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("waits for no approval"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_market_waits_until_an_admin_overrides_and_a_hanging_command_is_stopped() {
    // de is frozen for the whole century, in its own time zone.
    let f = fixture(
        "freezes:\n  - { name: always, markets: [de], from: \"2000-01-01T00:00\", to: \"2100-01-01T00:00\" }\n",
        "1s",
    )
    .await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let engine2 = engine.clone();
    common::wait_for("de to wait out its freeze", async || {
        let r = engine2.get_rollout(r1.id).await.unwrap();
        r.reason.filter(|m| m.contains("de waits: freeze `always`")).map(|_| ())
    })
    .await;
    // pl, in the same wave but not frozen, deploys meanwhile.
    common::wait_for("pl to deploy beside the frozen de", async || {
        (f.current("pl").as_deref() == Some("good-1")).then_some(())
    })
    .await;
    assert_eq!(f.current("de"), None);
    let err = engine.override_freeze(r1.id, "root", " ").await.unwrap_err();
    assert!(err.to_string().contains("needs a reason"), "{err}");
    engine
        .override_freeze(r1.id, "root", "security fix, agreed with the market lead")
        .await
        .unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    assert_eq!(f.current("de").as_deref(), Some("good-1"));
    let decisions = engine.list_decisions(r1.id).await.unwrap();
    assert_eq!(decisions[0].decided_by, "root");
    assert_eq!(
        decisions[0].reason.as_deref(),
        Some("security fix, agreed with the market lead")
    );

    // A deploy command that hangs is stopped at its timeout; fr keeps its release.
    let v2 = f.release("slow-2").await;
    let started = Instant::now();
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "halted");
    assert!(
        r2.reason.as_deref().unwrap().contains("ran past its timeout of 1s"),
        "{:?}",
        r2.reason
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the hanging command was not stopped"
    );
    assert_eq!(f.current("fr").as_deref(), Some("good-1"));
}

/// A stand-in for where the command deploys: `/{market}/healthz` answers 200, and
/// `/{market}/metrics` counts 20 more requests at each scrape, half of them errors while the
/// market runs a `noisy` release (as the deploy script recorded under `markets`).
async fn fake_markets(markets: PathBuf) -> String {
    let counts: Arc<Mutex<std::collections::HashMap<String, (u64, u64)>>> = Default::default();
    let app = axum::Router::new()
        .route("/{market}/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/{market}/metrics",
            axum::routing::get(
                move |axum::extract::Path(market): axum::extract::Path<String>| {
                    let (counts, markets) = (counts.clone(), markets.clone());
                    async move {
                        let current = std::fs::read_to_string(markets.join(&market).join("current")).unwrap_or_default();
                        let mut counts = counts.lock().unwrap();
                        let (total, errors) = counts.entry(market).or_default();
                        *total += 20;
                        if current.starts_with("noisy") {
                            *errors += 10;
                        }
                        format!(
                            "# TYPE app_requests_total counter\napp_requests_total{{code=\"200\"}} {}\napp_requests_total{{code=\"500\"}} {}\n",
                            *total - *errors,
                            *errors
                        )
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_error_ratio_breaks_its_bound_fails_its_metric_gate() {
    let dir = tempfile::tempdir().unwrap();
    let url = fake_markets(dir.path().join("data/deploy/app/markets")).await;
    let extra = format!(
        "  url: {url}/{{market}}
gates:
  probe: {{ path: /healthz, successes: 1, failures: 2 }}
  metrics:
    window: 600ms
    interval: 200ms
    min-requests: 10
    checks:
      - name: errors
        error-ratio: {{ errors: 'app_requests_total{{code=~\"5..\"}}', total: app_requests_total }}
        max: 0.05
"
    );
    let f = fixture_with("", &spec_with(&extra), dir).await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    let gates = engine.list_rollout_gates(r1.id).await.unwrap();
    let fr: Vec<_> = gates.iter().filter(|g| g.market == "fr").map(|g| &g.result).collect();
    assert_eq!(
        fr.iter().map(|g| g.gate.as_str()).collect::<Vec<_>>(),
        ["probe", "metric:errors"]
    );
    assert!(fr[1].passed);
    assert_eq!((fr[1].value, fr[1].bound), (Some(0.0), Some(0.05)));

    let v2 = f.release("noisy-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "halted");
    let reason = r2.reason.unwrap();
    assert!(
        reason.contains("fr: metric gate failed: errors: error ratio 50.0%"),
        "{reason}"
    );
    assert!(reason.contains("over the bound 5.0%"), "{reason}");
    let gates = engine.list_rollout_gates(r2.id).await.unwrap();
    let failed = gates.iter().find(|g| g.result.gate == "metric:errors").unwrap();
    assert!(!failed.result.passed);
    assert_eq!(failed.result.value, Some(0.5));
    // The market went back to good-1 by itself; the other waves were never reached.
    assert_eq!(f.current("fr").as_deref(), Some("good-1"));
    assert_eq!(f.current("de").as_deref(), Some("good-1"));
}

/// A stand-in for a slow starter's markets: `/{market}/healthz` answers 503 until `starts_in`
/// after the market's deploy script wrote its `current` file (a service warming up).
async fn slow_markets(markets: PathBuf, starts_in: Duration) -> String {
    let app = axum::Router::new().route(
        "/{market}/healthz",
        axum::routing::get(move |axum::extract::Path(market): axum::extract::Path<String>| {
            let markets = markets.clone();
            async move {
                let written = std::fs::metadata(markets.join(&market).join("current")).and_then(|m| m.modified());
                match written {
                    Ok(at) if at.elapsed().unwrap_or_default() >= starts_in => (axum::http::StatusCode::OK, "ok"),
                    _ => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "warming up"),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_starter_passes_where_its_start_period_covers_its_start_and_fails_where_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let url = slow_markets(dir.path().join("data/deploy/app/markets"), Duration::from_millis(2500)).await;
    // The service's probe is the default (2 s start period); France's covers the 2.5 s start.
    let extra = format!(
        "  url: {url}/{{market}}
gates:
  probe:
    path: /healthz
    markets:
      fr: {{ start-period: 6s }}
"
    );
    let f = fixture_with("", &spec_with(&extra), dir).await;
    let engine = &f.engine;
    let v1 = f.release("warm-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "halted", "{:?}", r1.reason);
    let gates = engine.list_rollout_gates(r1.id).await.unwrap();
    let probe = |market: &str| {
        gates
            .iter()
            .find(|g| g.market == market && g.result.gate == "probe")
            .map(|g| g.result.clone())
            .unwrap_or_else(|| panic!("no probe gate in {market}: {gates:?}"))
    };
    let fr = probe("fr");
    assert!(fr.passed, "{}", fr.reason);
    assert!(fr.reason.contains("6 s start period"), "{}", fr.reason);
    let de = probe("de");
    assert!(!de.passed, "{}", de.reason);
    assert!(
        de.reason.contains("probe /healthz failed 3 times in a row"),
        "{}",
        de.reason
    );
    assert!(de.reason.contains("2 s start period"), "{}", de.reason);
    assert_eq!(f.current("fr").as_deref(), Some("warm-1"));
    // A failed gate puts the release itself in question: a halted rollout does not resume.
    let err = engine.resume_rollout(r1.id, "olga", false).await.unwrap_err();
    assert!(err.to_string().contains("start a new rollout"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_deployment_is_compared_with_what_the_monitor_recorded_of_the_release_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let url = fake_markets(dir.path().join("data/deploy/app/markets")).await;
    let extra = format!(
        "  url: {url}/{{market}}
gates:
  metrics:
    window: 600ms
    interval: 200ms
    checks:
      - name: errors
        error-ratio: {{ errors: 'app_requests_total{{code=~\"5..\"}}', total: app_requests_total }}
        vs-previous: 2
monitor: {{ interval: 200ms, timeout: 200ms, failures: 3 }}
"
    );
    let f = fixture_with("", &spec_with(&extra), dir).await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    let gates = engine.list_rollout_gates(r1.id).await.unwrap();
    let first = gates
        .iter()
        .find(|g| g.market == "fr" && g.result.gate == "metric:errors")
        .unwrap();
    assert!(
        first
            .result
            .reason
            .contains("there is no previous version to compare with"),
        "the command driver replaced nothing measurable yet: {}",
        first.result.reason
    );

    // The monitor watches good-1 in fr: its error ratio, measured probe after probe.
    engine.start_triggers();
    let store = engine.store_for_tests().clone();
    common::wait_for("fr's error series", async || {
        let points = store
            .series("app", Some("fr"), "errors", 60, 0, i64::MAX)
            .await
            .unwrap();
        (points.iter().map(|p| p.count).sum::<i64>() >= 3).then_some(())
    })
    .await;

    // noisy-2 replaces good-1: it cannot be measured beside it, so it is held to twice what the
    // monitor recorded of good-1 (no error at all).
    let v2 = f.release("noisy-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "halted", "{:?}", r2.reason);
    let gates = engine.list_rollout_gates(r2.id).await.unwrap();
    let failed = gates.iter().find(|g| g.result.gate == "metric:errors").unwrap();
    assert_eq!((failed.market.as_str(), failed.result.passed), ("fr", false));
    assert_eq!(failed.result.previous, Some(0.0));
    assert!(
        failed.result.reason.starts_with("error ratio 50.0%")
            && failed
                .result
                .reason
                .contains("over 2× the previous version's 0.0% (as the monitor recorded it in its last hour"),
        "{}",
        failed.result.reason
    );
    assert_eq!(f.current("fr").as_deref(), Some("good-1"));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_config_schema_a_market_fails_is_blocked_there_with_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    // fr and de have a payment provider; pl has none.
    let markets = MARKETS.replace(
        "config: { defaults: { vat_rate: 0.2 } }",
        "config: { defaults: { vat_rate: 0.2 }, markets: { fr: { payment: { provider: adyen } }, de: { payment: { provider: mollie } } } }",
    );
    let f = fixture_with_markets(&markets, &spec("10m"), dir).await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    assert_eq!(
        f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await.state,
        "succeeded"
    );

    // v2's code needs `payment.provider`, and says so in its config schema.
    std::fs::write(
        f.repo.join("schema.json"),
        r#"{ "type": "object", "required": ["payment"],
             "properties": { "payment": { "type": "object", "required": ["provider"],
                                          "properties": { "provider": { "enum": ["adyen", "mollie"] } } } } }"#,
    )
    .unwrap();
    let spec = std::fs::read_to_string(f.repo.join("tandem.yml")).unwrap();
    std::fs::write(
        f.repo.join("tandem.yml"),
        format!("{spec}config:\n  schema: schema.json\n"),
    )
    .unwrap();
    git(&f.repo, &["add", "."]);
    let v2 = f.release("good-2").await;
    let release = engine.get_release(v2).await.unwrap();
    assert!(
        release.config_schema.unwrap().contains("provider"),
        "the release keeps its schema"
    );
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    // pl is refused before anything starts: the rollout is blocked, not halted, and waits.
    let r2 = f.wait_state(r2.id, &["blocked", "succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "blocked", "{:?}", r2.reason);
    let reason = r2.reason.unwrap();
    assert!(reason.contains("pl's config does not fit v2's schema"), "{reason}");
    assert!(reason.contains("`payment`"), "{reason}");
    assert_eq!(f.current("fr").as_deref(), Some("good-2"));
    assert_eq!(f.current("de").as_deref(), Some("good-2"));
    assert_eq!(f.current("pl").as_deref(), Some("good-1"), "pl was never touched");
    let deployments = engine.list_deployments(Some(r2.id)).await.unwrap();
    assert!(
        deployments.iter().all(|d| d.kind == "release"),
        "nothing to send back: {deployments:?}"
    );
    let pl: Vec<_> = deployments.iter().filter(|d| d.market == "pl").collect();
    assert_eq!((pl.len(), pl[0].state.as_str()), (1, "blocked"));
    // A refusal is not an incident, nor a failed change.
    let store = engine.store_for_tests().clone();
    assert!(store.list_incidents().await.unwrap().is_empty());
    let (history, _) = store.dora_history().await.unwrap();
    assert!(history.iter().all(|d| d.id != pl[0].id), "DORA counts a refusal");

    // Resumed before the fix: only pl is checked again, and refused again.
    engine.resume_rollout(r2.id, "olga", false).await.unwrap();
    common::wait_for("pl refused a second time", async || {
        let d = engine.list_deployments(Some(r2.id)).await.unwrap();
        let refused = d.iter().filter(|d| d.market == "pl" && d.state == "blocked").count();
        let blocked = engine.get_rollout(r2.id).await.unwrap().state == "blocked";
        (refused == 2 && blocked).then_some(())
    })
    .await;
    let deployments = engine.list_deployments(Some(r2.id)).await.unwrap();
    assert_eq!(
        deployments.iter().filter(|d| d.market == "fr").count(),
        1,
        "fr was not deployed again"
    );

    // A blocked rollout cannot skip a market it deployed.
    let err = engine.skip_market(r2.id, "fr", "olga").await.unwrap_err();
    assert!(err.to_string().contains("already deployed"), "{err}");

    // The fix: pl gets a payment provider, reviewed and approved. Its config rollout waits for
    // the blocked one; resuming tries pl again with the fixed version, and the rollout ends.
    use tandem_core::platform::ConfigLayers;
    let mut layers: ConfigLayers = engine.latest_config("app").await.unwrap().layers().unwrap();
    layers
        .markets
        .entry("pl".into())
        .or_default()
        .insert("payment".into(), serde_json::json!({ "provider": "adyen" }));
    let change = engine
        .propose_config("app", "pl pays with adyen", &layers, "dana", Role::Developer)
        .await
        .unwrap();
    let applied = engine
        .review_change(change.id, "olga", Role::Operator, true, None)
        .await
        .unwrap();
    assert_eq!(applied.state, "applied");
    let resumed = engine.resume_rollout(r2.id, "olga", false).await.unwrap();
    assert_eq!(resumed.state, "running");
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "succeeded", "{:?}", r2.reason);
    assert_eq!(f.current("pl").as_deref(), Some("good-2"));
    assert_eq!(f.config("pl")["payment"]["provider"], "adyen");
    assert!(store.list_incidents().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_rollout_goes_on_without_its_refused_markets_which_are_listed_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture_with_markets(MARKETS, &spec("10m"), dir).await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    assert_eq!(
        f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await.state,
        "succeeded"
    );
    // v2 needs `loyalty`, which no market has: the pilot (fr) is refused.
    std::fs::write(
        f.repo.join("schema.json"),
        r#"{ "type": "object", "required": ["loyalty"] }"#,
    )
    .unwrap();
    let spec = std::fs::read_to_string(f.repo.join("tandem.yml")).unwrap();
    std::fs::write(
        f.repo.join("tandem.yml"),
        format!("{spec}config:\n  schema: schema.json\n"),
    )
    .unwrap();
    git(&f.repo, &["add", "."]);
    let v2 = f.release("good-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["blocked", "succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "blocked");

    // Resuming without a blocked rollout is refused; so is skipping the blocked ones of a
    // rollout that is not blocked.
    let err = engine.resume_rollout(r1.id, "olga", true).await.unwrap_err();
    assert!(err.to_string().contains("only a blocked rollout"), "{err}");

    // Without the blocked markets: fr is skipped with its reason; the next wave is refused too.
    engine.resume_rollout(r2.id, "olga", true).await.unwrap();
    let r2 = f.wait_state(r2.id, &["blocked", "succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "blocked");
    assert!(
        r2.reason.as_deref().unwrap().contains("wave `rest` is blocked"),
        "{:?}",
        r2.reason
    );
    engine.resume_rollout(r2.id, "olga", true).await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "succeeded", "{:?}", r2.reason);
    let detail = engine.rollout_detail(r2.id).await.unwrap();
    for w in &detail.waves {
        for m in &w.markets {
            assert_eq!(m.state, "skipped", "{}", m.market);
            assert_eq!(
                f.current(&m.market).as_deref(),
                Some("good-1"),
                "{} keeps its release",
                m.market
            );
        }
    }
    let skips: Vec<_> = detail.decisions.iter().filter(|d| d.kind == "skip").collect();
    assert_eq!(skips.len(), 3);
    assert!(
        skips.iter().all(|d| d.decided_by == "olga"
            && d.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("blocked: ") && r.contains("loyalty"))),
        "{skips:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_config_change_rolls_out_behind_the_gates_and_rolls_back() {
    use tandem_core::platform::ConfigLayers;
    use tandem_core::role::Role;
    let f = fixture("", "10m").await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    f.wait_state(r1.id, &["succeeded"]).await;
    let mut moves = engine.config_moves();

    // A developer raises the VAT rate; an operator approves; it reaches every market.
    let mut layers: ConfigLayers = engine.latest_config("app").await.unwrap().layers().unwrap();
    layers.defaults.insert("vat_rate".into(), serde_json::json!(0.21));
    let change = engine
        .propose_config("app", "VAT 21%", &layers, "dana", Role::Developer)
        .await
        .unwrap();
    assert_eq!(change.state, "open", "a live market changes: it waits for ops");
    let err = engine
        .review_change(change.id, "dave", Role::Developer, true, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs an operator"), "{err}");
    let applied = engine
        .review_change(change.id, "olga", Role::Operator, true, Some("ok for all"))
        .await
        .unwrap();
    assert_eq!((applied.state.as_str(), applied.version), ("applied", Some(2)));
    let rollout = f
        .wait_state(applied.rollout_id.unwrap(), &["succeeded", "halted", "failed"])
        .await;
    assert_eq!((rollout.state.as_str(), rollout.kind.as_str()), ("succeeded", "config"));
    for market in ["fr", "de", "pl"] {
        assert_eq!(f.config(market)["vat_rate"], 0.21, "{market} runs the new config");
        assert_eq!(
            f.current(market).as_deref(),
            Some("good-1"),
            "{market} keeps its release"
        );
    }
    // The change request hears of its rollout's end just after the rollout is recorded.
    common::wait_for("the change request done", async || {
        (engine.get_change(change.id).await.unwrap().state == "done").then_some(())
    })
    .await;
    let versions = engine.market_config_versions("app").await.unwrap();
    assert!(versions.values().all(|v| *v == 2), "{versions:?}");
    // Its page and `GET /api/v1/rollouts/{id}` read the markets' real states, not "waiting".
    let detail = engine.rollout_detail(rollout.id).await.unwrap();
    let states = |d: &tandem_engine::views::rollouts::RolloutDetail| -> Vec<(String, String, String)> {
        d.waves
            .iter()
            .flat_map(|w| {
                w.markets
                    .iter()
                    .map(|m| (w.state.clone(), m.market.clone(), m.state.clone()))
            })
            .collect()
    };
    assert!(
        states(&detail)
            .iter()
            .all(|(wave, _, market)| wave == "done" && market == "live"),
        "{:?}",
        states(&detail)
    );
    let deployments = engine.list_deployments(Some(rollout.id)).await.unwrap();
    assert_eq!(deployments.len(), 3);
    assert!(
        deployments
            .iter()
            .all(|d| d.kind == "config" && d.config_version == Some(2))
    );
    let mut heard = Vec::new();
    while let Ok(m) = moves.try_recv() {
        heard.push((m.market, m.version));
    }
    heard.sort();
    assert_eq!(
        heard,
        [("de".to_string(), 2), ("fr".to_string(), 2), ("pl".to_string(), 2)]
    );

    // A change that breaks de: de fails its gate and goes back; the rollout halts there.
    layers.defaults.insert("maintenance".into(), serde_json::json!(true));
    let change = engine
        .propose_config("app", "Maintenance mode", &layers, "olga", Role::Operator)
        .await
        .unwrap();
    let applied = engine
        .review_change(change.id, "dana", Role::Developer, true, None)
        .await
        .unwrap();
    let rollout = f
        .wait_state(applied.rollout_id.unwrap(), &["succeeded", "halted", "failed"])
        .await;
    assert_eq!(rollout.state, "halted");
    assert!(rollout.reason.unwrap().contains("de: "), "the reason names the market");
    let detail = engine.rollout_detail(rollout.id).await.unwrap();
    let by_market: std::collections::HashMap<String, String> =
        states(&detail).into_iter().map(|(_, m, state)| (m, state)).collect();
    assert_eq!(
        (
            by_market["fr"].as_str(),
            by_market["de"].as_str(),
            by_market["pl"].as_str()
        ),
        ("live", "failed", "live"),
        "de failed; pl, in the same wave, took the change: {by_market:?}"
    );
    assert_eq!(f.config("fr")["maintenance"], true);
    assert_eq!(f.config("de").get("maintenance"), None, "de went back to its config");
    let versions = engine.market_config_versions("app").await.unwrap();
    assert_eq!((versions["fr"], versions["de"]), (3, 2));
    common::wait_for("the change request failed", async || {
        (engine.get_change(change.id).await.unwrap().state == "failed").then_some(())
    })
    .await;
    let incidents = engine.store_for_tests().list_incidents().await.unwrap();
    let incident = incidents
        .iter()
        .find(|i| i.title.starts_with("app config v3 (on v1) failed its gate in de"))
        .unwrap_or_else(|| panic!("{incidents:?}"));
    assert_eq!(incident.state, "resolved", "de runs its previous config again");
    // The postmortem says what changed: the config, value by value.
    let md = engine.postmortem(incident.id).await.unwrap();
    assert!(md.contains("### Config (v2 → v3)"), "{md}");
    assert!(md.contains("- `maintenance`: added, true"), "{md}");
    assert!(md.contains("| deploy | **no** |"), "{md}");

    // fr goes back to the config it ran before, in one step.
    // Asked in olga's request: the config history says she did it, not `tandem`.
    let request = tandem_store::audit::Slot::request(None);
    let out = tandem_store::audit::scope(request, async {
        tandem_store::audit::identify_as("olga", "token/9");
        engine.rollback_config("app", &["fr".into()], "olga").await
    })
    .await
    .unwrap();
    assert_eq!(
        (out[0].from, out[0].to, out[0].state.as_str()),
        (Some(3), Some(2), "rolled back")
    );
    assert_eq!(f.config("fr").get("maintenance"), None);
    assert_eq!(engine.market_config_versions("app").await.unwrap()["fr"], 2);
    let history = engine
        .store_for_tests()
        .market_config_history("app", "fr")
        .await
        .unwrap();
    assert_eq!((history[0].version, history[0].set_by.as_str()), (2, "olga"));
}

/// One rollout halting opens one incident: both markets of the pilot wave fail their deploy
/// command; the incident is linked to one of them and names the other, and each market still
/// gets its own restore time (its automatic rollback), neither left waiting on the incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_halt_of_two_markets_opens_one_incident_and_each_market_keeps_its_restore_time() {
    let platform = MARKETS.replace(
        "  - { name: pilot, markets: [fr] }\n  - { name: rest, markets: [de, pl] }",
        "  - { name: pilot, markets: [fr, de] }\n  - { name: rest, markets: [pl] }",
    );
    let f = fixture_with_markets(&platform, &spec("10m"), tempfile::tempdir().unwrap()).await;
    let engine = &f.engine;
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    assert_eq!(
        f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await.state,
        "succeeded"
    );

    // From now on the script fails a `bad` release in every market.
    let script = DEPLOY.replace("if [ \"$TANDEM_MARKET\" = fr ]; then echo", "if true; then echo");
    std::fs::write(f.repo.join("deploy.sh"), script).unwrap();
    let v2 = f.release("bad-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "halted", "{:?}", r2.reason);
    let failed: Vec<_> = engine
        .list_deployments(Some(r2.id))
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.state.as_str() == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "fr and de failed: {failed:?}");

    let incidents = engine.store_for_tests().list_incidents().await.unwrap();
    assert_eq!(incidents.len(), 1, "one halt, one incident: {incidents:?}");
    let incident = &incidents[0];
    let linked = failed
        .iter()
        .find(|d| Some(d.id) == incident.deployment_id)
        .expect("linked to one of the failed deployments");
    let other = failed.iter().find(|d| d.id != linked.id).unwrap();
    let md = engine.postmortem(incident.id).await.unwrap();
    assert!(
        md.contains(&format!(
            "- {}: deployment {} of v2 failed its gate",
            other.market, other.id
        )),
        "the incident names the other market: {md}"
    );

    // Each market was restored by its own rollback to v1: both recovered, none waiting.
    let now = tandem_store::now_ms();
    let window = tandem_core::dora::Window::new(now - 3_600_000, now + 60_000).unwrap();
    let keys = engine.dora(&tandem_core::dora::Filter::new(window)).await.unwrap();
    for market in ["fr", "de"] {
        let k = &keys.by_market[market];
        assert_eq!(k.change_failure_rate.failed, 1, "{market}");
        assert_eq!(
            (k.recovery_time.recovered, k.recovery_time.unrecovered),
            (1, 0),
            "{market}"
        );
    }
}
