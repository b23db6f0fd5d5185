//! Canary traffic through a market's front (`gates.canary`, `process` driver): real requests
//! reach each market through Tandem's front; a new release gets each step's share of them and
//! is judged on its own metrics; a release that answers its real requests with errors fails at
//! its first step and every request goes back to the stable release at once.
//!
//! The market processes are this test binary itself, run as `canary::market_process` (which
//! serves only when started by the process driver): `/healthz` answers, any other path answers
//! 200, or 500 for a release whose `release.txt` starts with `bad`, and `/metrics` counts the
//! answers.

#![allow(clippy::unwrap_used)]

use crate::common;
use crate::control::{Fixture, MARKETS, fixture_with_markets};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Not a check: a market process (see the module's text). Returns at once unless the process
/// driver started it (`PORT` and `TANDEM_ARTIFACT_DIR` set).
#[test]
fn market_process() {
    let (Ok(port), Ok(artifacts)) = (std::env::var("PORT"), std::env::var("TANDEM_ARTIFACT_DIR")) else {
        return;
    };
    let release = std::fs::read_to_string(std::path::Path::new(&artifacts).join("release.txt")).unwrap();
    let bad = release.starts_with("bad");
    let counts = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (served, probes) = (counts.clone(), counts.clone());
        let app = axum::Router::new()
            .route(
                "/healthz",
                axum::routing::get(move || {
                    // Counted, as a real service counts every request it answers.
                    probes.0.fetch_add(1, Ordering::Relaxed);
                    async { "ok" }
                }),
            )
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let (ok, failed) = (counts.0.load(Ordering::Relaxed), counts.1.load(Ordering::Relaxed));
                    async move {
                        format!(
                            "# TYPE app_requests_total counter\napp_requests_total{{code=\"200\"}} {ok}\napp_requests_total{{code=\"500\"}} {failed}\n"
                        )
                    }
                }),
            )
            .fallback(move || {
                let served = served.clone();
                async move {
                    if bad {
                        served.1.fetch_add(1, Ordering::Relaxed);
                        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom")
                    } else {
                        served.0.fetch_add(1, Ordering::Relaxed);
                        (axum::http::StatusCode::OK, "a page of the shop")
                    }
                }
            });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap()))
            .await
            .unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

fn spec() -> String {
    let exe = std::env::current_exe().unwrap();
    format!(
        "service: app
pipeline:
  jobs:
    build:
      steps:
        - run: cp VERSION release.txt
      artifacts: [release.txt, deploy.sh]
deploy:
  driver: process
  run: \"{} canary::market_process --exact --nocapture --quiet\"
gates:
  metrics:
    window: 600ms
    interval: 200ms
    min-requests: 2
    checks:
      - name: errors
        error-ratio: {{ errors: 'app_requests_total{{code=~\"5..\"}}', total: app_requests_total }}
        max: 5%
  canary:
    steps: [20%, 50%, 100%]
",
        exe.display()
    )
}

/// Shoppers: a request to `url` every 5 ms until stopped; counts (answers, 5xx).
struct Shoppers {
    seen: Arc<(AtomicU64, AtomicU64)>,
    task: tokio::task::JoinHandle<()>,
}

impl Shoppers {
    fn start(url: String) -> Self {
        let seen = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
        let counts = seen.clone();
        let task = tokio::spawn(async move {
            let http = tandem_testkit::http();
            loop {
                if let Ok(r) = http.get(format!("{url}/product/42")).send().await {
                    counts.0.fetch_add(1, Ordering::Relaxed);
                    if r.status().is_server_error() {
                        counts.1.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        Self { seen, task }
    }

    fn counts(&self) -> (u64, u64) {
        (self.seen.0.load(Ordering::Relaxed), self.seen.1.load(Ordering::Relaxed))
    }
}

impl Drop for Shoppers {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn canary_gates(f: &Fixture, rollout: i64, market: &str) -> Vec<tandem_store::GateResultRow> {
    f.engine
        .list_rollout_gates(rollout)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.market == market && g.result.gate == "canary")
        .map(|g| g.result)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_is_judged_on_its_share_of_real_traffic_and_a_bad_one_sends_it_all_back_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture_with_markets(MARKETS, &spec(), dir).await;
    let engine = &f.engine;

    // The first release goes straight to every market: nothing to compare with yet.
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    assert!(
        canary_gates(&f, r1.id, "fr").await.is_empty(),
        "nothing to shift traffic from"
    );
    let front = engine.fronts().get("app", "fr").await.expect("fr has a front");
    let matrix = engine.market_matrix().await.unwrap();
    let fr = matrix.iter().find(|m| m.market.id == "fr").unwrap();
    assert_eq!(
        fr.services[0].front.as_deref(),
        Some(front.url().as_str()),
        "the API names the front"
    );
    let shoppers = Shoppers::start(front.url());
    // Every market has its shoppers: a canary with no traffic cannot be judged.
    let mut others = Vec::new();
    for m in ["de", "pl"] {
        others.push(Shoppers::start(engine.fronts().get("app", m).await.unwrap().url()));
    }
    common::wait_for("shoppers served in fr", async || {
        (shoppers.counts().0 >= 20).then_some(())
    })
    .await;
    assert_eq!(shoppers.counts().1, 0);

    // A good release: 20 %, 50 %, then all of fr's shoppers, each step judged on its share.
    let v2 = f.release("good-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "succeeded", "{:?}", r2.reason);
    let steps = canary_gates(&f, r2.id, "fr").await;
    assert_eq!(
        steps.iter().map(|g| (g.value, g.passed)).collect::<Vec<_>>(),
        [(Some(20.0), true), (Some(50.0), true), (Some(100.0), true)],
        "{steps:?}"
    );
    assert!(
        steps[0].reason.starts_with("20% of fr's requests: "),
        "{}",
        steps[0].reason
    );
    let gates = engine.list_rollout_gates(r2.id).await.unwrap();
    assert!(
        gates
            .iter()
            .any(|g| g.market == "fr" && g.result.gate == "metric:errors@20%" && g.result.passed),
        "each step's checks are recorded under its share: {gates:?}"
    );
    assert_eq!(shoppers.counts().1, 0, "no shopper saw an error");
    assert_eq!(front.candidate_share(), 0, "good-2 is the stable release now");

    // A release that fails real requests: at 20 % the error ratio trips the gate, and every
    // request goes back to good-2 in one move.
    let v3 = f.release("bad-3").await;
    let r3 = engine.start_rollout(v3, "ana").await.unwrap();
    let r3 = f.wait_state(r3.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r3.state, "halted");
    let reason = r3.reason.unwrap();
    assert!(
        reason.contains("fr: canary at 20%: metric gate failed: errors: error ratio"),
        "{reason}"
    );
    let steps = canary_gates(&f, r3.id, "fr").await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(!steps[0].passed);
    assert!(
        steps[0].reason.contains("every request back on the release fr runs "),
        "{}",
        steps[0].reason
    );
    assert_eq!(front.candidate_share(), 0);
    let (_, errors_before) = shoppers.counts();
    assert!(errors_before > 0, "some of fr's shoppers met the bad release");
    let (served, _) = shoppers.counts();
    common::wait_for("shoppers served after the canary", async || {
        (shoppers.counts().0 >= served + 50).then_some(())
    })
    .await;
    assert_eq!(shoppers.counts().1, errors_before, "no error once traffic went back");
    drop((shoppers, others));
    engine.shutdown().await;
}

/// The `command` driver's canary: the team's load balancer, told each step's share by
/// `deploy.shift` (`TANDEM_ACTION=shift`, `TANDEM_WEIGHT`). The hook records each call in the
/// market's folder (`weights`) and keeps the share the new release has (`weight`).
/// It refuses v4's first step, as a load balancer that does not know the new pool would.
const SHIFT: &str = r#"echo "$TANDEM_ACTION $TANDEM_RELEASE $TANDEM_WEIGHT" >> weights; if [ "$TANDEM_RELEASE $TANDEM_WEIGHT" = "v4 20" ]; then echo "lb: no pool for v4" >&2; exit 2; fi; echo "$TANDEM_WEIGHT" > weight"#;

/// What stands behind `deploy.url` in this test: each market's new release, as its load
/// balancer feeds it. `/{market}/healthz` answers (and is counted); `/{market}/metrics` counts
/// the requests the release the deploy script last brought up (`current`) got: at each scrape,
/// as many as its share in `weight`, all failed for a release whose text starts with `buggy`.
async fn balanced_markets(markets: std::path::PathBuf) -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::{Path, State};
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Counts = Arc<Mutex<HashMap<(String, String), (u64, u64)>>>;
    let counts: Counts = Arc::default();
    let app = axum::Router::new()
        .route(
            "/{market}/healthz",
            axum::routing::get(
                |State((markets, counts)): State<(std::path::PathBuf, Counts)>, Path(market): Path<String>| async move {
                    // Counted, as a real service counts every request it answers.
                    let release = std::fs::read_to_string(markets.join(&market).join("current")).unwrap_or_default();
                    counts.lock().unwrap().entry((market, release.trim().to_string())).or_default().0 += 1;
                    "ok"
                },
            ),
        )
        .route(
            "/{market}/metrics",
            axum::routing::get(
                |State((markets, counts)): State<(std::path::PathBuf, Counts)>, Path(market): Path<String>| async move {
                    let read = |f: &str| std::fs::read_to_string(markets.join(&market).join(f)).unwrap_or_default();
                    let release = read("current").trim().to_string();
                    let weight: u64 = read("weight").trim().parse().unwrap_or(0);
                    let mut all = counts.lock().unwrap();
                    let (ok, failed) = all.entry((market, release.clone())).or_default();
                    match release.starts_with("buggy") {
                        true => *failed += weight,
                        false => *ok += weight,
                    }
                    format!(
                        "# TYPE app_requests_total counter\napp_requests_total{{code=\"200\"}} {ok}\napp_requests_total{{code=\"500\"}} {failed}\n"
                    )
                },
            ),
        )
        .with_state((markets, counts));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_command_driver_the_teams_load_balancer_gets_each_steps_weight_and_zero_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let markets = dir.path().join("data/deploy/app/markets");
    let (balancer, server) = balanced_markets(markets.clone()).await;
    let spec = format!(
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
  shift: '{SHIFT}'
  url: \"{balancer}/{{market}}\"
gates:
  metrics:
    window: 600ms
    interval: 200ms
    min-requests: 2
    checks:
      - name: errors
        error-ratio: {{ errors: 'app_requests_total{{code=~\"5..\"}}', total: app_requests_total }}
        max: 5%
  canary:
    steps: [20%, 50%]
"
    );
    let f = fixture_with_markets(MARKETS, &spec, dir).await;
    let engine = &f.engine;
    let weights = |market: &str| {
        std::fs::read_to_string(markets.join(market).join("weights"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };

    // A first release has nothing to shift from: once it passes, it gets all the traffic.
    let v1 = f.release("good-1").await;
    let r1 = engine.start_rollout(v1, "ana").await.unwrap();
    let r1 = f.wait_state(r1.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r1.state, "succeeded", "{:?}", r1.reason);
    assert_eq!(weights("fr"), ["shift v1 100"]);
    assert!(canary_gates(&f, r1.id, "fr").await.is_empty());

    // A good release: 20 %, 50 %, each judged on its own metrics, then all of the market.
    let v2 = f.release("good-2").await;
    let r2 = engine.start_rollout(v2, "ana").await.unwrap();
    let r2 = f.wait_state(r2.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r2.state, "succeeded", "{:?}", r2.reason);
    assert_eq!(
        weights("pl"),
        ["shift v1 100", "shift v2 20", "shift v2 50", "shift v2 100"]
    );
    let steps = canary_gates(&f, r2.id, "fr").await;
    assert_eq!(
        steps.iter().map(|g| (g.value, g.passed)).collect::<Vec<_>>(),
        [(Some(20.0), true), (Some(50.0), true)],
        "{steps:?}"
    );
    assert!(
        steps[0]
            .reason
            .starts_with("20% of fr's traffic, set by `deploy.shift` in "),
        "{}",
        steps[0].reason
    );
    let gates = engine.list_rollout_gates(r2.id).await.unwrap();
    assert!(
        gates
            .iter()
            .any(|g| g.market == "fr" && g.result.gate == "metric:errors@50%" && g.result.passed),
        "{gates:?}"
    );

    // A release that fails its real traffic: at 20 % its error ratio trips the gate, the load
    // balancer is told 0, and the release the market ran is not deployed again (it never
    // stopped serving).
    let v3 = f.release("buggy-3").await;
    let r3 = engine.start_rollout(v3, "ana").await.unwrap();
    let r3 = f.wait_state(r3.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r3.state, "halted");
    let reason = r3.reason.unwrap();
    assert!(
        reason.contains("fr: canary at 20%: metric gate failed: errors: error ratio"),
        "{reason}"
    );
    assert_eq!(weights("fr")[4..], ["shift v3 20", "shift v3 0"], "{:?}", weights("fr"));
    assert_eq!(
        weights("de").last().map(String::as_str),
        Some("shift v2 100"),
        "the rollout halted before de"
    );
    let steps = canary_gates(&f, r3.id, "fr").await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(
        steps[0]
            .reason
            .contains("`deploy.shift` with weight 0 sent every request back"),
        "{}",
        steps[0].reason
    );
    let rolled_back = std::fs::read_dir(markets.join("fr"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains("-rollback-"));
    assert!(!rolled_back, "nothing to deploy again: good-2 kept serving");
    let live = engine.list_live_deployments().await.unwrap();
    let fr = live.iter().find(|d| d.market == "fr").unwrap();
    assert_eq!(fr.release_id, v2, "fr is still on good-2");

    // A load balancer that refuses a step: the step fails with its words, and it is told 0.
    let v4 = f.release("good-4").await;
    let r4 = engine.start_rollout(v4, "ana").await.unwrap();
    let r4 = f.wait_state(r4.id, &["succeeded", "halted", "failed"]).await;
    assert_eq!(r4.state, "halted");
    let reason = r4.reason.unwrap();
    assert!(
        reason.contains("fr: canary at 20%: the shift command failed (exit status: 2): lb: no pool for v4"),
        "{reason}"
    );
    assert_eq!(weights("fr")[6..], ["shift v4 20", "shift v4 0"], "{:?}", weights("fr"));
    server.abort();
    engine.shutdown().await;
}
