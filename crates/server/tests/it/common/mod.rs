//! Test helpers: a real server on port 0 with a temporary data folder, realistic seed data
//! written through the store's API, and a helper that waits for a state instead of sleeping.

#![allow(dead_code)] // each test file uses its own share of the helpers

pub mod browser;
mod roles;

pub use roles::RoleServer;

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::platform::parse_platform;
use tandem_core::role::Role;
use tandem_core::rollout::plan_waves;
use tandem_engine::{Engine, EngineSettings};
use tandem_server::{AppState, ServerSettings};
use tandem_store::{NewCommit, NewDeployment, NewJob, Store, now_ms};
use tandem_testkit::hook::Received;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a graceful stop may take before the test gives up on it.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

pub const PLATFORM: &str = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
  - { id: lu, name: Luxembourg, region: west, currency: EUR, locale: fr-LU, timezone: Europe/Luxembourg }
  - { id: ch, name: Switzerland, region: central, currency: CHF, locale: de-CH, timezone: Europe/Zurich }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be, nl, lu] }
  - { name: dach, markets: [ch, de] }
services:
  - { name: shop, repo: /srv/git/shop }
";

const SPEC: &str = "\
service: shop
pipeline:
  jobs:
    test:
      steps:
        - run: cargo test
    build:
      needs: [test]
      steps:
        - run: cargo build --release
      artifacts: [target/release/shop]
";

pub const TEST_LOG: &str = "$ cargo test
running 12 tests
test checkout::vat_is_added_to_prices ... ok
test checkout::<script>alert(1)</script> ... ok
test result: ok. 12 passed; 0 failed; 0 ignored
";

/// A job's log as the executor writes it: time stamps, and colours as `cargo test` prints them.
pub const ANSI_LOG: &str = "[00:00.004] $ cargo test --features market-be
[00:00.912] \x1b[1;32m   Compiling\x1b[0m shop v0.1.0
[00:02.310] running 3 tests
[00:02.311] test checkout::vat_is_21_percent_in_be ... \x1b[32mok\x1b[0m
[00:02.312] test checkout::<script>alert(2)</script> ... \x1b[32mok\x1b[0m
[00:02.318] test payments::bancontact_refunds ... \x1b[1;31mFAILED\x1b[0m
[00:02.319] \x1b[33mwarning\x1b[0m: payments::bancontact_refunds: expected 200, got 502
[00:02.321] test result: \x1b[31mFAILED\x1b[0m. 2 passed; 1 failed; 0 ignored
";

/// The failed run's jobs: (name, needs, state). Three levels: `package` needs all the others
/// and was skipped because `test (be)` failed.
pub const FAILED_RUN_JOBS: [(&str, &[&str], &str); 5] = [
    ("lint", &[], "success"),
    ("unit", &[], "success"),
    ("test (fr)", &["unit"], "success"),
    ("test (be)", &["unit"], "failed"),
    ("package", &["lint", "test (fr)", "test (be)"], "skipped"),
];

pub const FAILED_REASON: &str = "probe /healthz failed 2 times in a row: connection refused";

/// What the seed made, for tests to look for.
#[derive(Debug)]
pub struct Seeded {
    /// An operator token's secret.
    pub token: String,
    /// A finished, green run with two jobs, logs and an artifact.
    pub run_id: i64,
    /// A rollout of v2 that failed in `nl` during the benelux wave.
    pub rollout_id: i64,
    /// A run in progress (as the store sees it; no engine task runs it).
    pub busy_run_id: i64,
    /// A failed run of branch `t-2-ideal` with the jobs of [`FAILED_RUN_JOBS`].
    pub failed_run_id: i64,
    /// A viewer's and a developer's token secrets.
    pub viewer_token: String,
    pub developer_token: String,
}

/// A server on 127.0.0.1, port 0, over a temporary data folder. Dropping it asks the server to
/// stop (a test that fails still cleans up); [`TestServer::stop`] also waits for it.
pub struct TestServer {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub seeded: Seeded,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<()>>>,
    _data: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Result<Self> {
        Self::start_with(ServerSettings::default()).await
    }

    /// [`TestServer::start`] with the operator's `settings` (a public URL, anonymous reads).
    pub async fn start_with(settings: ServerSettings) -> Result<Self> {
        let data = tempfile::tempdir().context("cannot create a data folder")?;
        let store = Store::open(data.path()).await?;
        let engine = Engine::new(store, EngineSettings::in_data_dir(data.path())).await?;
        let seeded = seed(&engine, data.path()).await.context("cannot seed the store")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let state = AppState::new(engine.clone(), settings);
        let handle = tokio::spawn(tandem_server::serve(listener, state, async {
            let _ = rx.await;
        }));
        Ok(Self {
            addr,
            engine,
            seeded,
            shutdown: Some(tx),
            handle: Some(handle),
            _data: data,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// This server's origin, as a browser on it sends in `Origin`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs in with `token` through the sign-in form, as a browser does, and gives the
    /// `Cookie` header value of the session it opened.
    pub async fn session_cookie(&self, token: &str) -> String {
        sign_in(&self.url("/login"), &self.origin(), token).await
    }

    /// Stops the server and waits for it (and its market processes) to end.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(STOP_TIMEOUT, handle)
                .await
                .context("the server did not stop in time")???;
        }
        Ok(())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// Polls `check` until it returns `Some`, for at most `timeout`; the error names `what` and the
/// last thing `check` saw.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    tandem_testkit::try_wait_for(what, timeout, async || check().await.map_err(|e| format!("{e:#}")))
        .await
        .map_err(anyhow::Error::msg)
}

/// Posts `token` to the sign-in form at `login` (from `origin`) and gives the `Cookie` header
/// value of the session it opened; panics, saying why, when sign-in fails.
pub async fn sign_in(login: &str, origin: &str, token: &str) -> String {
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let r = http
        .post(login)
        .header(reqwest::header::ORIGIN, origin)
        .form(&[("token", token)])
        .send()
        .await
        .expect("the sign-in form answers");
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "sign-in with a token");
    let set = r
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("sign-in sets a cookie");
    set.split(';').next().unwrap_or_default().to_string()
}

/// Somebody signed in to the pages at `base` with a token: reads pages as that session.
pub struct Visitor {
    base: String,
    cookie: String,
    http: reqwest::Client,
}

impl Visitor {
    /// Signs in at `base`'s login form with `token` (panics, saying why, when that fails).
    pub async fn sign_in(base: &str, token: &str) -> Self {
        Visitor {
            base: base.to_string(),
            cookie: sign_in(&format!("{base}/login"), base, token).await,
            http: tandem_testkit::http(),
        }
    }

    /// `path` (with its query) as this session sees it: the status and the body.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status();
        (
            status,
            r.text().await.unwrap_or_else(|e| panic!("GET {path}'s body: {e}")),
        )
    }

    /// `path`'s body, which must come with 200 OK.
    pub async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, reqwest::StatusCode::OK, "GET {path}: {body}");
        body
    }
}

/// A platform of 6 markets in 3 waves, one service, two green runs (v1, v2), a rollout of v1
/// that went everywhere, a rollout of v2 that failed in `nl`, a run in progress, ideas linked to
/// commits, an open incident, and market processes (`sleep`) so most markets answer as up.
async fn seed(engine: &Engine, data: &std::path::Path) -> Result<Seeded> {
    let store = &engine.store_for_tests();
    let platform = parse_platform("platform.yml", PLATFORM)?;
    store.sync_platform(&platform).await?;
    let spec = tandem_core::pipeline::parse_service_spec("tandem.yml", SPEC)?;

    let (c1, c2, c3) = (
        "3f2a9c1d7e4b5a6978812f0c3d4e5f6a7b8c9d0e",
        "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c",
        "c0ffee12d34db33f5678abcdef0123456789abcd",
    );
    store.insert_idea("Show prices with VAT included", &[]).await?;
    store.insert_idea("Pay with iDEAL", &["nl".to_string()]).await?;
    store.insert_idea("Free shipping threshold per market", &[]).await?;
    let commit = |sha: &str, parents: &[&str], message: &str| NewCommit {
        sha: sha.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        author: "Ana Martin".into(),
        authored_at: now_ms() - 3_600_000,
        committed_at: now_ms() - 3_600_000,
        message: message.into(),
    };
    store
        .insert_commits(
            "shop",
            &[
                commit(c1, &[], "T-1: show prices with VAT included"),
                commit(c2, &[c1], "T-2: pay with iDEAL in the Netherlands"),
                commit(c3, &[c2], "T-3: free shipping threshold (work in progress)"),
            ],
        )
        .await?;

    let run_id = green_run(engine, c1, "push").await?;
    let v1 = store.insert_release("shop", c1, run_id, &spec).await?;
    let run2 = green_run(engine, c2, "push").await?;
    let v2 = store.insert_release("shop", c2, run2, &spec).await?;

    // A run still going: the overview shows it in flight.
    let busy = store.insert_run("shop", c3, "t-3-shipping", "push").await?;
    store.start_run(busy.id, &jobs()).await?;
    let first = engine.list_jobs(busy.id).await?.remove(0);
    store
        .update_job_state(first.id, tandem_core::state::JobState::Running)
        .await?;

    let failed_run_id = failed_run(engine, c2).await?;

    let plan = plan_waves(&platform);
    let r1 = store.insert_rollout("shop", v1.id, &plan, "ana").await?;
    store
        .update_rollout(r1.id, tandem_core::state::RolloutState::Running, 0, None)
        .await?;
    for m in &platform.markets {
        let d = store.insert_deployment(new_deployment(r1.id, &m.id, v1.id)).await?;
        store
            .mark_deployment_live(d.id, &format!("http://127.0.0.1:1/{}", m.id), None)
            .await?;
    }
    store
        .update_rollout(r1.id, tandem_core::state::RolloutState::Succeeded, 2, None)
        .await?;

    let r2 = store.insert_rollout("shop", v2.id, &plan, "ana").await?;
    store
        .update_rollout(r2.id, tandem_core::state::RolloutState::Running, 0, None)
        .await?;
    for market in ["fr", "be", "lu"] {
        let d = store.insert_deployment(new_deployment(r2.id, market, v2.id)).await?;
        store
            .mark_deployment_live(d.id, &format!("http://127.0.0.1:1/{market}"), None)
            .await?;
    }
    let failed = store.insert_deployment(new_deployment(r2.id, "nl", v2.id)).await?;
    store.mark_deployment_failed(failed.id, FAILED_REASON).await?;
    let reason = format!("market nl failed its gate ({FAILED_REASON}); the rollout stopped at wave benelux");
    store
        .update_rollout(r2.id, tandem_core::state::RolloutState::Failed, 1, Some(&reason))
        .await?;
    store
        .insert_incident("shop", "nl", Some(failed.id), "Release v2 failed its gate in nl")
        .await?;

    // Every live market but ch has a process; ch shows as down.
    for market in ["fr", "be", "nl", "lu", "de"] {
        let plan = tandem_engine::supervisor::ProcessPlan {
            service: "shop".into(),
            market: market.into(),
            release_id: v1.id,
            release: "seed".into(),
            deployment_id: 0,
            port: 1,
            argv: vec!["/bin/sleep".into(), "600".into()],
            env: BTreeMap::new(),
            log: data.join(format!("{market}.log")),
        };
        let process = engine.supervisor.spawn(plan).await?;
        engine.supervisor.promote("shop", market, process).await;
    }

    let token = tandem_server::auth::generate_secret();
    store.insert_token("ana", Role::Operator, &token).await?;
    let viewer_token = tandem_server::auth::generate_secret();
    store.insert_token("vic", Role::Viewer, &viewer_token).await?;
    let developer_token = tandem_server::auth::generate_secret();
    store.insert_token("dev", Role::Developer, &developer_token).await?;
    Ok(Seeded {
        token,
        run_id,
        rollout_id: r2.id,
        busy_run_id: busy.id,
        failed_run_id,
        viewer_token,
        developer_token,
    })
}

fn new_deployment(rollout_id: i64, market: &str, release_id: i64) -> NewDeployment<'_> {
    NewDeployment {
        rollout_id: Some(rollout_id),
        service: "shop",
        market,
        release_id,
    }
}

fn jobs() -> Vec<NewJob> {
    vec![
        NewJob {
            name: "test".into(),
            needs: vec![],
            steps: vec![("cargo test".into(), "cargo test --workspace".into())],
        },
        NewJob {
            name: "build".into(),
            needs: vec!["test".into()],
            steps: vec![("cargo build".into(), "cargo build --release".into())],
        },
    ]
}

/// A run whose two jobs passed, with their logs and the build's artifact stored.
async fn green_run(engine: &Engine, commit: &str, trigger: &str) -> Result<i64> {
    let store = &engine.store_for_tests();
    let run = store.insert_run("shop", commit, "main", trigger).await?;
    store.start_run(run.id, &jobs()).await?;
    let logs = [
        TEST_LOG,
        "$ cargo build --release\n   Compiling shop v0.1.0\n    Finished `release` profile in 4.21s\n",
    ];
    for (job, log) in engine.list_jobs(run.id).await?.into_iter().zip(logs) {
        store
            .update_job_state(job.id, tandem_core::state::JobState::Running)
            .await?;
        for step in store.list_steps(job.id).await? {
            store
                .update_step(step.id, tandem_core::state::StepState::Running, None)
                .await?;
            store
                .update_step(step.id, tandem_core::state::StepState::Success, Some(0))
                .await?;
        }
        let digest = store.blobs().put_bytes(log.as_bytes())?;
        if job.name == "build" {
            let binary = format!("#!/bin/sh\n# shop built from {commit}\n");
            let artifact = store.blobs().put_bytes(binary.as_bytes())?;
            store
                .insert_artifact(run.id, job.id, "target/release/shop", &artifact, binary.len() as u64)
                .await?;
        }
        store
            .finish_job(job.id, tandem_core::state::JobState::Success, Some(0), &digest)
            .await?;
    }
    store
        .finish_run(run.id, tandem_core::state::RunState::Success, None)
        .await?;
    Ok(run.id)
}

/// A run of a three-level graph where `test (be)` failed (its log in colour) and `package`,
/// which needs it, was skipped.
async fn failed_run(engine: &Engine, commit: &str) -> Result<i64> {
    let store = &engine.store_for_tests();
    let run = store.insert_run("shop", commit, "t-2-ideal", "push").await?;
    let jobs: Vec<NewJob> = FAILED_RUN_JOBS
        .iter()
        .map(|(name, needs, _)| NewJob {
            name: name.to_string(),
            needs: needs.iter().map(|n| n.to_string()).collect(),
            steps: vec![(format!("{name} step"), format!("make {}", name.replace(' ', "-")))],
        })
        .collect();
    store.start_run(run.id, &jobs).await?;
    for (job, (_, _, state)) in engine.list_jobs(run.id).await?.into_iter().zip(FAILED_RUN_JOBS) {
        if state == "skipped" {
            continue; // finishing the run marks it skipped
        }
        let (log, code) = match state {
            "failed" => (ANSI_LOG.to_string(), 101),
            _ => (
                format!("[00:00.010] $ make {}\n[00:00.420] \x1b[32mdone\x1b[0m\n", job.name),
                0,
            ),
        };
        store
            .update_job_state(job.id, tandem_core::state::JobState::Running)
            .await?;
        for step in store.list_steps(job.id).await? {
            store
                .update_step(step.id, tandem_core::state::StepState::Running, None)
                .await?;
            store.update_step(step.id, state.parse()?, Some(code)).await?;
        }
        let digest = store.blobs().put_bytes(log.as_bytes())?;
        store.finish_job(job.id, state.parse()?, Some(code), &digest).await?;
    }
    store
        .finish_run(
            run.id,
            tandem_core::state::RunState::Failed,
            Some("job `test (be)` failed"),
        )
        .await?;
    Ok(run.id)
}

/// How long a test waits for a notification: they are sent in the background.
const TOLD_TIMEOUT: Duration = Duration::from_secs(10);

/// A Slack-compatible hook on 127.0.0.1: its URL, and what it received (each body's `text` is
/// the message).
pub async fn chat() -> (String, Received) {
    tandem_testkit::hook::receiver().await
}

/// Waits (notifications are sent in the background) for a message that starts with `start`.
pub async fn told(told: &Received, start: &str) -> String {
    let found = tandem_testkit::try_wait_for(start, TOLD_TIMEOUT, async || {
        let got = told.lock().map_err(|_| "the messages")?;
        Ok::<_, &str>(got.iter().find_map(|(_, body)| {
            body["text"]
                .as_str()
                .filter(|m| m.starts_with(start))
                .map(str::to_string)
        }))
    })
    .await;
    found.unwrap_or_else(|_| {
        panic!(
            "no message starting with {start:?} in {:?}",
            told.lock().expect("the messages")
        )
    })
}

/// Writes straight into the server's database, behind the engine's back (to break it).
pub async fn corrupt(s: &TestServer, sql: &str) {
    let data = s
        .engine
        .settings
        .work_dir
        .parent()
        .expect("the work folder is in the data folder");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(data.join("tandem.db"));
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .expect("the database opens");
    sqlx::query(sql).execute(&mut db).await.expect("the statement runs");
}
