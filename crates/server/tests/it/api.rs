//! The JSON API through the real router on port 0: credentials and roles on every route,
//! caller mistakes as 4xx with the JSON error body, the OpenAPI document and `/metrics`.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{chat, told};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_core::platform::parse_platform;
use tandem_core::role::Role;
use tandem_server::ServerSettings;
use tandem_store::Store;

const PLATFORM: &str = "
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be] }
services:
  - { name: shop, repo: /nonexistent/shop }
";

/// The server of these tests: [`PLATFORM`], a token per role, anonymous reads as asked.
type Server = common::RoleServer;

async fn start(anonymous_read: bool) -> Server {
    let settings = ServerSettings {
        anonymous_read,
        ..ServerSettings::default()
    };
    Server::start(PLATFORM, settings).await
}

async fn error_code(resp: reqwest::Response) -> (StatusCode, String, String) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    (
        status,
        body["error"]["code"].as_str().unwrap().to_string(),
        body["error"]["message"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn every_route_but_healthz_needs_a_credential() {
    let s = start(false).await;
    let ok = s.get("/healthz", None).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "ok");
    for path in [
        "/api/v1/markets",
        "/api/v1/runs",
        "/api/v1/ideas",
        "/api/v1/openapi.json",
        "/metrics",
        "/api/v1/events",
    ] {
        let (status, code, message) = error_code(s.get(path, None).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(code, "unauthorized");
        assert!(message.contains("Authorization: Bearer"), "{message}");
    }
    let wrong = tandem_testkit::http()
        .get(format!("{}/api/v1/markets", s.base))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn roles_are_checked_on_writes() {
    let s = start(false).await;
    let (status, code, message) = error_code(
        s.post("/api/v1/ideas", Some(Role::Viewer))
            .json(&json!({ "title": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    assert!(
        message.contains("needs the developer role; your credential has viewer"),
        "{message}"
    );

    let created = s
        .post("/api/v1/ideas", Some(Role::Developer))
        .json(&json!({ "title": "Pay with iDEAL", "markets": ["be"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.json::<Value>().await.unwrap()["key"], "T-1");

    let (status, _, _) = error_code(
        s.post("/api/v1/rollouts", Some(Role::Developer))
            .json(&json!({ "release_id": 1 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = error_code(
        s.post("/api/v1/tokens", Some(Role::Operator))
            .json(&json!({ "name": "x", "role": "admin" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let made: Value = s
        .post("/api/v1/tokens", Some(Role::Admin))
        .json(&json!({ "name": "ci", "role": "developer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = made["secret"].as_str().unwrap();
    let who: Value = tandem_testkit::http()
        .get(format!("{}/api/v1/whoami", s.base))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who, json!({ "name": "ci", "role": "developer" }));
    let listed: Value = s
        .get("/api/v1/tokens", Some(Role::Admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains(secret), "token secrets are never listed");
}

#[tokio::test]
async fn caller_mistakes_get_4xx_with_a_json_body() {
    let s = start(false).await;
    let bad_json = s
        .post("/api/v1/ideas", Some(Role::Admin))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(bad_json).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));

    let unknown_field = s
        .post("/api/v1/ideas", Some(Role::Admin))
        .json(&json!({ "title": "x", "colour": "red" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), StatusCode::BAD_REQUEST);

    let empty = s
        .post("/api/v1/ideas", Some(Role::Admin))
        .json(&json!({ "title": "  " }))
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_code(empty).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("title"), "{message}");

    let unknown_market = s
        .post("/api/v1/ideas", Some(Role::Admin))
        .json(&json!({ "title": "x", "markets": ["zz"] }))
        .send()
        .await
        .unwrap();
    let (_, _, message) = error_code(unknown_market).await;
    assert!(message.contains("unknown market `zz`"), "{message}");

    let (status, code, _) = error_code(s.get("/no/such/route", Some(Role::Viewer)).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let page = s
        .get("/no/such/page", None)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.text().await.unwrap().contains("<html"),
        "browsers get an HTML page"
    );

    let (status, code, _) = error_code(s.get("/api/v1/runs/42", Some(Role::Viewer)).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, _) = error_code(s.get("/api/v1/runs/abc", Some(Role::Viewer)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = error_code(
        s.get("/api/v1/artifacts/..%2F..%2Fetc", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, message) = error_code(
        s.post("/api/v1/services/nope/runs", Some(Role::Developer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message.contains("nope"), "{message}");
    let (status, _, message) = error_code(
        s.post("/api/v1/services/shop/runs", Some(Role::Developer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("/nonexistent/shop"), "{message}");
}

#[tokio::test]
async fn anonymous_read_is_off_unless_turned_on_and_never_writes() {
    let s = start(true).await;
    let markets: Value = s
        .get("/api/v1/markets", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(markets.as_array().unwrap().len(), 2);
    assert_eq!(markets[0]["wave"], "pilot");
    let (status, _, _) = error_code(
        s.post("/api/v1/ideas", None)
            .json(&json!({ "title": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn openapi_document_and_metrics_describe_the_server() {
    let s = start(false).await;
    let doc: Value = s
        .get("/api/v1/openapi.json", Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/markets",
        "/api/v1/ideas",
        "/api/v1/runs/{id}",
        "/api/v1/rollouts",
        "/api/v1/tokens",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI misses {path}");
    }
    assert!(doc["components"]["schemas"]["Run"].is_object());
    // Rollbacks of releases and of config answer the one "market moved" type.
    assert!(
        doc["components"]["schemas"]["MarketMove_String"].is_object()
            || doc["components"]["schemas"]["MarketMove"].is_object()
    );

    s.get("/api/v1/markets", Some(Role::Viewer)).send().await.unwrap();
    let text = s
        .get("/metrics", Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("tandem_http_requests_total{method=\"GET\",route=\"/api/v1/markets\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("tandem_market_processes 0"), "{text}");
    // The store's size: SQLite's file and its log, as a sysadmin's `du` sees them.
    let gauge: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tandem_store_size_bytes "))
        .unwrap_or_else(|| panic!("no store size in {text}"))
        .parse()
        .unwrap();
    let db = s.engine.store_for_tests().data_dir().join("tandem.db");
    let on_disk = |f: &std::path::Path| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
    let file = on_disk(&db);
    assert!(file > 0, "{}", db.display());
    assert!(
        (file..=file + on_disk(&db.with_extension("db-wal"))).contains(&gauge),
        "{gauge} bytes reported, the file has {file}"
    );
    for queue in ["runs", "jobs", "rollouts", "approvals", "change_requests"] {
        assert!(
            text.contains(&format!("tandem_queue_depth{{queue=\"{queue}\"}} 0")),
            "{text}"
        );
    }
    assert!(text.trim_end().ends_with("# EOF"));

    // The monitor's views answer before anything is live, and refuse a resolution they do not keep.
    let health: serde_json::Value = s
        .get("/api/v1/health", Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, serde_json::json!([]));
    let resp = s
        .get("/api/v1/services/shop/series/up?resolution=5", Some(Role::Viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["message"], "`resolution` is 5: expected one of 60, 3600");
}

/// Reads an SSE body until `needle` has arrived; returns everything read.
async fn read_until(resp: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains(needle) {
        assert!(std::time::Instant::now() < deadline, "no `{needle}` in:\n{seen}");
        match tokio::time::timeout(std::time::Duration::from_secs(5), resp.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => break,
            _ => {}
        }
    }
    seen
}

/// A run of `shop` whose one job (`test`) is running.
async fn running_job(s: &Server) -> (tandem_store::RunRow, i64) {
    let store = &s.engine.store_for_tests();
    let run = store.insert_run("shop", "abc", "main", "api").await.unwrap();
    let job = tandem_store::NewJob {
        name: "test".into(),
        needs: vec![],
        steps: vec![("t".into(), "cargo test".into())],
    };
    store.start_run(run.id, &[job]).await.unwrap();
    let job_id = s.engine.list_jobs(run.id).await.unwrap()[0].id;
    store
        .update_job_state(job_id, tandem_core::state::JobState::Running)
        .await
        .unwrap();
    (run, job_id)
}

#[tokio::test]
async fn open_streams_do_not_hold_up_a_shutdown() {
    let mut s = start(false).await;
    let (run, job_id) = running_job(&s).await;
    std::fs::write(s.engine.job_log_path(job_id), "compiling\n").unwrap();
    let mut log = s
        .get(
            &format!("/api/v1/runs/{}/jobs/test/log/stream", run.id),
            Some(Role::Viewer),
        )
        .send()
        .await
        .unwrap();
    read_until(&mut log, "compiling").await;
    let mut flags = s.get("/ofrep/v1/events", Some(Role::Viewer)).send().await.unwrap();
    read_until(&mut flags, "refetchEvaluation").await;
    let served = s.begin_stop();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), served).await;
    assert!(ended.is_ok(), "the server still waits on its open streams");
    assert!(ended.unwrap().unwrap().is_ok());
}

#[tokio::test]
async fn a_jobs_log_streams_live_and_resumes_from_an_offset() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let (run, job_id) = running_job(&s).await;
    let live = s.engine.job_log_path(job_id);
    std::fs::write(&live, "first line\n").unwrap();

    let url = format!("/api/v1/runs/{}/jobs/test/log/stream", run.id);
    let mut resp = s.get(&url, Some(Role::Viewer)).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let first = read_until(&mut resp, "first line").await;
    assert!(first.contains("event: log") && first.contains("id: 11"), "{first}");

    std::fs::write(&live, "first line\nsecond line\n").unwrap();
    read_until(&mut resp, "second line").await;
    let digest = store.blobs().put_bytes(b"first line\nsecond line\n").unwrap();
    store
        .finish_job(job_id, tandem_core::state::JobState::Success, Some(0), &digest)
        .await
        .unwrap();
    let end = read_until(&mut resp, "event: end").await;
    assert!(end.contains("data: success"), "{end}");

    // A client that reconnects gets only what it had not seen.
    let mut resumed = s
        .get(&url, Some(Role::Viewer))
        .header("last-event-id", "11")
        .send()
        .await
        .unwrap();
    let rest = read_until(&mut resumed, "event: end").await;
    assert!(rest.contains("second line") && !rest.contains("first line"), "{rest}");

    let (status, _, _) = error_code(
        s.get(
            &format!("/api/v1/runs/{}/jobs/nope/log/stream", run.id),
            Some(Role::Viewer),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rollback_by_hand_checks_its_request() {
    let s = start(false).await;
    let path = "/api/v1/services/shop/rollback";
    let (status, _, _) = error_code(
        s.post(path, Some(Role::Developer))
            .json(&json!({ "all": true }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "rollback needs an operator");
    let (status, _, message) = error_code(
        s.post(path, Some(Role::Operator))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("`markets`"), "{message}");
    let (status, _, _) = error_code(
        s.post(path, Some(Role::Operator))
            .json(&json!({ "all": true, "markets": ["fr"] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, message) = error_code(
        s.post("/api/v1/services/nope/rollback", Some(Role::Operator))
            .json(&json!({ "all": true }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, message.contains("nope")), (StatusCode::NOT_FOUND, true));
    // Nothing is deployed yet: every market is skipped, and says why.
    let done: Value = s
        .post(path, Some(Role::Operator))
        .json(&json!({ "all": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done.as_array().unwrap().len(), 2);
    assert_eq!(done[0]["state"], "skipped");
    assert_eq!(done[0]["reason"], "nothing is deployed here");
}

/// A release of `shop` that can be rolled out (its tandem.yml has `deploy`), with a config
/// schema when given one.
async fn deployable_release(store: &Store, schema: Option<&str>) -> tandem_store::ReleaseRow {
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\ndeploy:\n  driver: process\n  run: x\n",
    )
    .unwrap();
    let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
    store
        .insert_release_with("shop", "c1", run.id, &spec, "test", schema)
        .await
        .unwrap()
}

#[tokio::test]
async fn steering_a_rollout_checks_roles_locks_and_states() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let v1 = deployable_release(store, None).await;
    let platform = s.engine.load_platform().await.unwrap();
    let r = store
        .insert_rollout("shop", v1.id, &tandem_core::rollout::plan_waves(&platform), "ana")
        .await
        .unwrap();
    let post = |path: String, role: Role, body: Value| {
        let req = s.post(&path, Some(role)).json(&body);
        async move { req.send().await.unwrap() }
    };

    // Its markets are locked: a second rollout is refused with the holder's name, or queued.
    let (status, _, message) = error_code(
        post(
            "/api/v1/rollouts".into(),
            Role::Operator,
            json!({ "release_id": v1.id }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains(&format!("locked by rollout {}", r.id)), "{message}");
    let queued = post(
        "/api/v1/rollouts".into(),
        Role::Operator,
        json!({ "release_id": v1.id, "queue": true }),
    )
    .await;
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    assert_eq!(queued.json::<Value>().await.unwrap()["state"], "queued");
    let plan = s
        .get_json(&format!("/api/v1/releases/{}/plan", v1.id), Role::Viewer)
        .await;
    let blockers = plan["waves"][0]["markets"][0]["blockers"].to_string();
    assert!(blockers.contains(&format!("locked by rollout {}", r.id)), "{blockers}");

    // Skipping a market needs an operator and a market of the rollout.
    let skip = |market: &str| format!("/api/v1/rollouts/{}/skip/{market}", r.id);
    assert_eq!(
        post(skip("be"), Role::Developer, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(skip("xx"), Role::Operator, json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(skip("be"), Role::Operator, json!({})).await.status(),
        StatusCode::OK
    );
    let (status, _, message) = error_code(post(skip("be"), Role::Operator, json!({})).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "skipped twice");
    assert!(message.contains("already decided by operator"), "{message}");

    // Approving: only while the rollout waits for it, and only for the role it needs.
    let approve = format!("/api/v1/rollouts/{}/approve", r.id);
    let (status, _, message) = error_code(post(approve.clone(), Role::Operator, json!({})).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("waits for no approval"), "{message}");
    store
        .set_rollout_state(
            r.id,
            &[tandem_core::state::RolloutState::Pending],
            tandem_core::state::RolloutState::AwaitingApproval,
            "engine",
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(
        post(approve.clone(), Role::Developer, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    let approved: Value = post(approve.clone(), Role::Operator, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["state"], "running");
    let detail = s.get_json(&format!("/api/v1/rollouts/{}", r.id), Role::Viewer).await;
    let kinds: Vec<&str> = detail["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["skip", "approve"]);
    assert_eq!(detail["waves"][1]["markets"][0]["state"], "skipped");

    // Overriding a freeze: admins only, with a reason.
    let over = format!("/api/v1/rollouts/{}/override", r.id);
    assert_eq!(
        post(over.clone(), Role::Operator, json!({ "reason": "x" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(over.clone(), Role::Admin, json!({ "reason": " " })).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(over, Role::Admin, json!({ "reason": "hotfix for a payment outage" }))
            .await
            .status(),
        StatusCode::OK
    );
}

const FLAGS: &str = r#"flags:
  new-checkout:
    type: boolean
    variants: { on: true, off: false }
    default: off
    markets:
      fr:
        rollout: { on: 50, off: 50 }
  banner-text:
    type: string
    variants: { plain: "Welcome", sale: "Sale: -20%" }
    default: plain
    rules:
      - if: 'country == "BE"'
        variant: sale
"#;

#[tokio::test]
async fn flag_changes_are_reviewed_by_the_other_side_and_evaluated_over_ofrep() {
    let s = start(false).await;
    let put = |role: Role, text: String| {
        let req = tandem_testkit::http()
            .put(format!("{}/api/v1/services/shop/flags", s.base))
            .bearer_auth(s.token(role))
            .json(&json!({ "text": text, "reason": "launch" }));
        async move { req.send().await.unwrap() }
    };
    assert_eq!(put(Role::Viewer, FLAGS.into()).await.status(), StatusCode::FORBIDDEN);
    let (status, _, message) =
        error_code(put(Role::Developer, FLAGS.replace("default: off", "default: of")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message.contains("flags of shop:5:"),
        "the error names the file's line: {message}"
    );
    let (status, _, message) = error_code(
        put(
            Role::Developer,
            FLAGS.replace("fr:\n        rollout", "xx:\n        rollout"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("xx"), "an unknown market is refused: {message}");
    assert_eq!(
        s.get_json("/api/v1/changes", Role::Viewer).await,
        json!([]),
        "nothing refused was kept"
    );

    // A developer's flag change waits for an operator.
    let proposed = put(Role::Developer, FLAGS.into()).await;
    assert_eq!(proposed.status(), StatusCode::ACCEPTED);
    let change: Value = proposed.json().await.unwrap();
    assert_eq!(
        (change["kind"].as_str(), change["state"].as_str()),
        (Some("flags"), Some("open"))
    );
    let id = change["id"].as_i64().unwrap();
    let detail = s.get_json(&format!("/api/v1/changes/{id}"), Role::Viewer).await;
    assert_eq!(detail["review"]["state"], "waiting");
    assert_eq!(detail["approvers"], "an operator (ops side)");
    let added: Vec<&str> = detail["flags_diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(added.contains(&"flags.new-checkout.default"), "{added:?}");
    let approve = |role: Role| {
        let req = tandem_testkit::http()
            .post(format!("{}/api/v1/changes/{id}/approve", s.base))
            .bearer_auth(s.token(role));
        async move { req.send().await.unwrap() }
    };
    let (status, _, message) = error_code(approve(Role::Developer).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(message.contains("wrote this change"), "{message}");
    let approved = approve(Role::Operator).await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["state"], "done");
    assert_eq!(approved["version"], 1);
    assert_eq!(
        s.get_json("/api/v1/services/shop/flags", Role::Viewer).await[0]["version"],
        1
    );

    let ofrep = |path: &str, role: Option<Role>, body: Value| {
        let mut req = tandem_testkit::http().post(format!("{}{path}", s.base)).json(&body);
        if let Some(r) = role {
            req = req.bearer_auth(s.token(r));
        }
        async move { req.send().await.unwrap() }
    };
    let single = "/ofrep/v1/evaluate/flags/banner-text";
    assert_eq!(
        ofrep(single, None, json!({ "context": {} })).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = ofrep(single, Some(Role::Viewer), json!({ "context": { "country": "BE" } })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "key": "banner-text", "value": "Sale: -20%", "reason": "TARGETING_MATCH", "variant": "sale", "metadata": {} })
    );
    // The same targeting key always lands on the same variant.
    let ctx = json!({ "context": { "targetingKey": "user-42", "market": "fr" } });
    let first: Value = ofrep("/ofrep/v1/evaluate/flags/new-checkout", Some(Role::Viewer), ctx.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["reason"], "SPLIT");
    for _ in 0..3 {
        let again: Value = ofrep("/ofrep/v1/evaluate/flags/new-checkout", Some(Role::Viewer), ctx.clone())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["variant"], first["variant"]);
    }
    let r = ofrep(
        "/ofrep/v1/evaluate/flags/nope",
        Some(Role::Viewer),
        json!({ "context": {} }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "FLAG_NOT_FOUND");
    let r = ofrep(
        "/ofrep/v1/evaluate/flags/new-checkout",
        Some(Role::Viewer),
        json!({ "context": { "market": "fr" } }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "TARGETING_KEY_MISSING");
    let r = tandem_testkit::http()
        .post(format!("{}{single}", s.base))
        .bearer_auth(s.token(Role::Viewer))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "PARSE_ERROR");

    // Bulk: an ETag, and 304 while nothing changed.
    let bulk = format!("{}/ofrep/v1/evaluate/flags", s.base);
    let r = ofrep("/ofrep/v1/evaluate/flags", Some(Role::Viewer), ctx.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let all: Value = r.json().await.unwrap();
    assert_eq!(all["flags"].as_array().unwrap().len(), 2);
    assert_eq!(all["refreshConnections"][0]["url"], "/ofrep/v1/events");
    let again = tandem_testkit::http()
        .post(&bulk)
        .bearer_auth(s.token(Role::Viewer))
        .header("if-none-match", &etag)
        .json(&ctx)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // A change of the flags in force reaches watchers at once, and the ETag moves.
    let mut events = s.get("/ofrep/v1/events", Some(Role::Viewer)).send().await.unwrap();
    read_until(&mut events, "refetchEvaluation").await;
    // An operator's change waits for a developer.
    let v2 = put(Role::Operator, FLAGS.replace("Sale: -20%", "Sale: -30%")).await;
    assert_eq!(v2.status(), StatusCode::ACCEPTED);
    let v2: Value = v2.json().await.unwrap();
    let approved: Value = s
        .post(&format!("/api/v1/changes/{}/approve", v2["id"]), Some(Role::Developer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(approved["version"], 2);
    let seen = read_until(&mut events, "refetchEvaluation").await;
    assert!(!seen.contains(&etag), "{seen}");
    let changed = tandem_testkit::http()
        .post(&bulk)
        .bearer_auth(s.token(Role::Viewer))
        .header("if-none-match", &etag)
        .json(&ctx)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_release_plan_names_the_config_keys_a_market_lacks() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let schema = r#"{ "type": "object", "required": ["payment_provider"] }"#;
    let v1 = deployable_release(store, Some(schema)).await;
    let plan = s
        .get_json(&format!("/api/v1/releases/{}/plan", v1.id), Role::Viewer)
        .await;
    let blockers = plan["waves"][0]["markets"][0]["blockers"].to_string();
    assert!(
        blockers.contains("fr: needs `payment_provider` (required by v1's schema)"),
        "{blockers}"
    );
    // France gets the key through a config version (the platform file stays as it was): the
    // plan reads the config in force, so France is no longer blocked; the others still are.
    let latest = store.latest_config("shop").await.unwrap();
    let mut layers = latest.layers().unwrap();
    layers
        .markets
        .entry("fr".into())
        .or_default()
        .insert("payment_provider".into(), json!("adyen"));
    let platform = s.engine.load_platform().await.unwrap();
    let others: Vec<String> = platform
        .markets
        .iter()
        .map(|m| m.id.clone())
        .filter(|m| m != "fr")
        .collect();
    let v2 = store
        .insert_config_version(
            tandem_store::NewConfigVersion {
                service: "shop",
                layers: &layers,
                base: latest.version,
                by: "test",
                message: "payment provider for fr",
                change_id: None,
            },
            &others,
        )
        .await
        .unwrap();
    store
        .set_market_config("shop", "fr", v2.version, "test", "test")
        .await
        .unwrap();
    let plan = s
        .get_json(&format!("/api/v1/releases/{}/plan", v1.id), Role::Viewer)
        .await;
    let markets = plan["waves"][0]["markets"].as_array().unwrap();
    let fr = markets.iter().find(|m| m["market"] == "fr").unwrap();
    assert!(!fr["blockers"].to_string().contains("payment_provider"), "{fr}");
    let blocked_elsewhere = plan["waves"].to_string();
    assert!(blocked_elsewhere.contains("needs `payment_provider`"), "{plan}");
}

#[tokio::test]
async fn a_markets_config_shows_each_value_with_its_layer() {
    let s = start(false).await;
    let config = s.get_json("/api/v1/services/shop/config?market=fr", Role::Viewer).await;
    assert_eq!(config["values"]["currency"], "EUR");
    let currency = config["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "currency")
        .unwrap();
    assert_eq!(currency["origin"], "market facts");
    // A service polling its config gets 304 while nothing changed.
    let first = s
        .get("/api/v1/services/shop/config?market=fr", Some(Role::Viewer))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = s
        .get("/api/v1/services/shop/config?market=fr", Some(Role::Viewer))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let other = s
        .get("/api/v1/services/shop/config?market=be", Some(Role::Viewer))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another market's config is another version"
    );
    // Two markets compared: their own facts differ.
    let diff = s
        .get_json("/api/v1/services/shop/config/diff?from=fr&to=be", Role::Viewer)
        .await;
    let locale = diff.as_array().unwrap().iter().find(|l| l["path"] == "locale").unwrap();
    assert_eq!(
        (&locale["change"], &locale["old"], &locale["new"]),
        (&json!("changed"), &json!("fr-FR"), &json!("fr-BE"))
    );
    let (status, _, message) = error_code(
        s.get("/api/v1/services/shop/config?market=xx", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, message.contains("`xx`")), (StatusCode::NOT_FOUND, true));
}

#[tokio::test]
async fn a_config_change_request_is_checked_reviewed_watched_logged_and_rolled_back() {
    let s = start(false).await;
    let propose = |role: Role, layers: Value| {
        let req = s
            .post("/api/v1/services/shop/changes", Some(role))
            .json(&json!({ "kind": "config", "title": "VAT 21% in Belgium", "layers": layers }));
        async move { req.send().await.unwrap() }
    };
    // Bad input is refused with where, and nothing is kept.
    let (status, code, message) =
        error_code(propose(Role::Developer, json!({ "markets": { "xx": { "vat_rate": 0.2 } } })).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_change")
    );
    assert!(
        message.contains("market `xx`: not a market of the platform"),
        "{message}"
    );
    let (status, _, message) = error_code(propose(Role::Developer, json!({})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("nothing to review"), "{message}");
    assert_eq!(propose(Role::Viewer, json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.get_json("/api/v1/changes", Role::Viewer).await, json!([]));

    let created = propose(Role::Developer, json!({ "markets": { "be": { "vat_rate": 0.21 } } })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let detail = s.get_json(&format!("/api/v1/changes/{id}"), Role::Viewer).await;
    assert_eq!(detail["change"]["state"], "open");
    assert_eq!(detail["check"]["radius"]["unchanged"], json!(["fr"]));
    let be = &detail["check"]["radius"]["changed"][0];
    assert_eq!(be["market"], "be");
    assert_eq!(be["diff"][0]["path"], "vat_rate");
    assert_eq!(detail["check"]["unchecked"], json!(["be"]), "no release runs in be");

    // A service watching be's config hears the new version once it is approved.
    let mut watch = s
        .get("/api/v1/services/shop/config/watch?market=be", Some(Role::Viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(watch.status(), StatusCode::OK);
    let first = read_until(&mut watch, "\n\n").await;
    assert!(first.contains("event: config") && first.contains("id: 1"), "{first}");
    let approved = s
        .post(&format!("/api/v1/changes/{id}/approve"), Some(Role::Operator))
        .json(&json!({ "comment": "fine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!((&approved["state"], &approved["version"]), (&json!("done"), &json!(2)));
    let next = read_until(&mut watch, "\"vat_rate\":0.21").await;
    assert!(next.contains("id: 2"), "{next}");

    let be = s.get_json("/api/v1/services/shop/config?market=be", Role::Viewer).await;
    assert_eq!((&be["version"], &be["values"]["vat_rate"]), (&json!(2), &json!(0.21)));
    let diff = s
        .get_json(
            "/api/v1/services/shop/config/diff?from_version=1&to_version=2&market=be",
            Role::Viewer,
        )
        .await;
    assert_eq!(
        diff,
        json!([{ "path": "vat_rate", "change": "added", "old": null, "new": 0.21 }])
    );
    let log = s.get_json("/api/v1/services/shop/config/log", Role::Viewer).await;
    assert_eq!(log[0]["version"], 2);
    assert_eq!(log[0]["approved_by"], json!(["operator"]));
    assert_eq!(log[0]["change"]["id"], id);
    assert_eq!(log[1]["created_by"], "platform file");

    // Rollback is an operator's step, in one call.
    let rollback = |role: Role| {
        let req = s
            .post("/api/v1/services/shop/config/rollback", Some(role))
            .json(&json!({ "markets": ["be"] }));
        async move { req.send().await.unwrap() }
    };
    assert_eq!(rollback(Role::Developer).await.status(), StatusCode::FORBIDDEN);
    let out: Value = rollback(Role::Operator).await.json().await.unwrap();
    assert_eq!(
        (&out[0]["from"], &out[0]["to"], &out[0]["state"]),
        (&json!(2), &json!(1), &json!("rolled back"))
    );
    let be = s.get_json("/api/v1/services/shop/config?market=be", Role::Viewer).await;
    assert_eq!((&be["version"], be["values"].get("vat_rate")), (&json!(1), None));
}

#[tokio::test]
async fn the_four_keys_count_failed_deployments_not_incidents() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let v1 = deployable_release(store, None).await;
    let plan = [
        tandem_core::rollout::PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into()],
        },
        tandem_core::rollout::PlannedWave {
            name: "benelux".into(),
            markets: vec!["be".into()],
        },
    ];
    let rollout = store.insert_rollout("shop", v1.id, &plan, "ops").await.unwrap();
    let deploy = |market: &'static str| tandem_store::NewDeployment {
        rollout_id: Some(rollout.id),
        service: "shop",
        market,
        release_id: v1.id,
    };
    let hour = 3_600_000;
    let now = tandem_store::now_ms();
    let fr = store.insert_deployment(deploy("fr")).await.unwrap();
    store.mark_deployment_live(fr.id, "http://fr", None).await.unwrap();
    let be = store.insert_deployment(deploy("be")).await.unwrap();
    store.mark_deployment_live(be.id, "http://be", None).await.unwrap();
    let fr2 = store.insert_deployment(deploy("fr")).await.unwrap();
    store.mark_deployment_failed(fr2.id, "probe failed").await.unwrap();
    // Two incidents on be's deployment count once; one without a deployment counts zero.
    store.insert_incident("shop", "be", Some(be.id), "slow").await.unwrap();
    store
        .insert_incident("shop", "be", Some(be.id), "slower")
        .await
        .unwrap();
    store.insert_incident("shop", "fr", None, "unrelated").await.unwrap();
    let commit = |sha: &str, hours_ago: i64| tandem_store::DeploymentCommit {
        sha: sha.into(),
        authored_at: now - hours_ago * hour,
        committed_at: now - hours_ago * hour,
    };
    store
        .insert_deployment_commits(fr.id, &[commit("a", 2), commit("b", 6)])
        .await
        .unwrap();
    store.insert_deployment_commits(be.id, &[commit("a", 2)]).await.unwrap();

    let dora = s.get_json("/api/v1/metrics/dora?days=1", Role::Viewer).await;
    let total = &dora["keys"]["total"];
    assert_eq!(total["deployment_frequency"]["deployments"], 3);
    assert_eq!(
        (
            &total["change_failure_rate"]["failed"],
            &total["change_failure_rate"]["deployments"]
        ),
        (&json!(2), &json!(3)),
        "fr2 failed, be has incidents: 2 of 3, whatever the number of incidents"
    );
    // Lead times, once per market a commit reached: 2 h (fr), 6 h (fr), 2 h (be) → median 2 h.
    assert_eq!(total["lead_time"]["commits"], 3);
    let median = total["lead_time"]["median_ms"].as_i64().unwrap();
    assert!((2 * hour..2 * hour + 60_000).contains(&median), "{median}");
    let p90 = total["lead_time"]["p90_ms"].as_i64().unwrap();
    assert!((6 * hour..6 * hour + 60_000).contains(&p90), "{p90}");
    assert_eq!(
        dora["keys"]["by_market"]["fr"]["deployment_frequency"]["deployments"],
        2
    );
    assert_eq!(dora["keys"]["by_wave"]["1"]["deployment_frequency"]["deployments"], 1);
    let config = s
        .get_json("/api/v1/metrics/dora?days=1&kind=config", Role::Viewer)
        .await;
    assert_eq!(config["keys"]["total"]["deployment_frequency"]["deployments"], 0);
    let (status, _, message) = error_code(
        s.get("/api/v1/metrics/dora?kind=infra", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("expected `code` or `config`"), "{message}");
}

#[tokio::test]
async fn incidents_come_from_alertmanager_and_people_and_draft_their_postmortem() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let (hook, chat) = chat().await;
    let platform = format!(
        "{PLATFORM}notifications:\n  - {{ name: chat, kind: slack, url: \"{hook}\", events: [incident.opened, incident.resolved] }}\n"
    );
    store
        .sync_platform(&parse_platform("p.yml", &platform).unwrap())
        .await
        .unwrap();
    let v1 = deployable_release(store, None).await;
    let plan = [tandem_core::rollout::PlannedWave {
        name: "pilot".into(),
        markets: vec!["fr".into()],
    }];
    let rollout = store.insert_rollout("shop", v1.id, &plan, "ops").await.unwrap();
    let d = store
        .insert_deployment(tandem_store::NewDeployment {
            rollout_id: Some(rollout.id),
            service: "shop",
            market: "fr",
            release_id: v1.id,
        })
        .await
        .unwrap();
    store.mark_deployment_live(d.id, "http://fr", None).await.unwrap();

    // Alertmanager's webhook (payload version 4), with a bearer token.
    let alert = |status: &str| {
        json!({
            "version": "4", "status": status, "receiver": "tandem", "groupKey": "{}:{}",
            "alerts": [
                { "status": status, "fingerprint": "f00d",
                  "labels": { "alertname": "HighErrorRate", "service": "shop", "market": "fr" },
                  "annotations": { "summary": "5xx above 2%" },
                  "startsAt": "2099-01-01T10:00:00Z", "endsAt": if status == "resolved" { "2099-01-01T10:20:00Z" } else { "0001-01-01T00:00:00Z" } },
                { "status": status, "fingerprint": "beef", "labels": { "alertname": "DiskFull" } }
            ]
        })
    };
    let hook = |role: Option<Role>, body: Value| {
        let req = s.post("/hooks/alertmanager", role).json(&body);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(hook(None, alert("firing")).await.status(), StatusCode::UNAUTHORIZED);
    let fired: Value = hook(Some(Role::Operator), alert("firing")).await.json().await.unwrap();
    assert_eq!(fired[0]["result"], "opened");
    assert!(
        fired[1]["result"]
            .as_str()
            .unwrap()
            .starts_with("ignored: the alert has no `service`")
    );
    let again: Value = hook(Some(Role::Operator), alert("firing")).await.json().await.unwrap();
    assert_eq!(
        (&again[0]["result"], &again[0]["incident"]),
        (&json!("already open"), &fired[0]["incident"])
    );
    let id = fired[0]["incident"].as_i64().unwrap();
    let incident = s.engine.get_incident(id).await.unwrap();
    assert_eq!(
        incident.deployment_id,
        Some(d.id),
        "linked to the deployment serving the market"
    );
    assert_eq!(incident.title, "HighErrorRate: 5xx above 2%");
    let resolved: Value = hook(Some(Role::Operator), alert("resolved"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved[0]["result"], "resolved");
    let incident = s.engine.get_incident(id).await.unwrap();
    assert_eq!(incident.resolved_at.unwrap() - incident.opened_at, 20 * 60_000);
    assert_eq!(
        told(&chat, &format!("Incident {id} of shop in fr opened")).await,
        format!("Incident {id} of shop in fr opened by operator: HighErrorRate: 5xx above 2%")
    );
    assert_eq!(
        told(&chat, &format!("Incident {id} of shop in fr resolved")).await,
        format!("Incident {id} of shop in fr resolved by alertmanager after 20 min: HighErrorRate: 5xx above 2%")
    );

    // A person opens one, links it, resolves it; the postmortem tells what changed.
    let opened = s
        .post("/api/v1/incidents", Some(Role::Developer))
        .json(&json!({ "service": "shop", "market": "fr", "title": "Checkout is slow" }))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    let opened: Value = opened.json().await.unwrap();
    assert_eq!(
        (&opened["source"], &opened["deployment_id"]),
        (&json!("person"), &json!(d.id))
    );
    let other = s
        .post("/api/v1/incidents", Some(Role::Developer))
        .json(&json!({ "service": "shop", "market": "be", "title": "x", "deployment_id": d.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::CONFLICT,
        "fr's deployment cannot cause be's incident"
    );
    let pid = opened["id"].as_i64().unwrap();
    let resolve = |role: Role| {
        let req = s.post(&format!("/api/v1/incidents/{pid}/resolve"), Some(role));
        async move { req.send().await.unwrap() }
    };
    assert_eq!(resolve(Role::Viewer).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(resolve(Role::Developer).await.status(), StatusCode::OK);
    let (status, _, message) = error_code(resolve(Role::Developer).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("already resolved by developer"), "{message}");
    assert_eq!(
        told(&chat, &format!("Incident {pid} of shop in fr opened")).await,
        format!("Incident {pid} of shop in fr opened by developer: Checkout is slow")
    );
    let by_hand = told(&chat, &format!("Incident {pid} of shop in fr resolved")).await;
    assert!(
        by_hand.starts_with(&format!("Incident {pid} of shop in fr resolved by developer after ")),
        "{by_hand}"
    );
    assert!(by_hand.ends_with(": Checkout is slow"), "{by_hand}");
    assert_eq!(
        chat.lock().unwrap().len(),
        4,
        "one message per incident opened and per resolution, none for the repeated alert or the refused resolve"
    );
    let md = s
        .get(&format!("/api/v1/incidents/{id}/postmortem"), Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        md.starts_with(&format!("# Incident {id}: HighErrorRate: 5xx above 2%")),
        "{md}"
    );
    assert!(
        md.contains(&format!("Deployment {} (release) of shop v1 to fr, live", d.id)),
        "{md}"
    );
    assert!(md.contains("after 20 min"), "{md}");
    assert!(md.contains("## Timeline") && md.contains("## What we learned"), "{md}");
}

/// A request as a person holding the token `secret`, for people beyond the one per role.
fn as_person(method: reqwest::Method, url: String, secret: &str) -> reqwest::RequestBuilder {
    tandem_testkit::http().request(method, url).bearer_auth(secret)
}

#[tokio::test]
async fn whoever_revised_a_change_is_an_author_and_cannot_approve_it() {
    let s = start(false).await;
    for (name, role) in [
        ("omar", Role::Operator),
        ("olga", Role::Operator),
        ("dave", Role::Developer),
    ] {
        s.engine
            .insert_token_expiring(name, role, &format!("secret-{name}"), None)
            .await
            .unwrap();
    }
    let url = |path: String| format!("{}{path}", s.base);
    let layers = |vat: f64| json!({ "markets": { "be": { "vat_rate": vat } } });
    let created = s
        .post("/api/v1/services/shop/changes", Some(Role::Developer))
        .json(&json!({ "kind": "config", "title": "VAT in Belgium", "layers": layers(0.21) }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let change = format!("/api/v1/changes/{id}");
    let approve = |who: &str, body: Value| {
        as_person(
            reqwest::Method::POST,
            url(format!("{change}/approve")),
            &format!("secret-{who}"),
        )
        .json(&body)
    };

    // Omar, an operator who did not open it, rewrites it and approves his own revision.
    let revised = as_person(reqwest::Method::PUT, url(change.clone()), "secret-omar")
        .json(&json!({ "layers": layers(0.25) }))
        .send()
        .await
        .unwrap();
    assert_eq!(revised.status(), StatusCode::OK);
    assert_eq!(revised.json::<Value>().await.unwrap()["revision"], 2);
    let (status, code, message) = error_code(approve("omar", json!({})).send().await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{message}"
    );
    assert!(message.contains("omar wrote this change (revision 2)"), "{message}");

    // The change says who wrote which revision; both sides wrote it, so both must approve.
    let detail = s.get_json(&change, Role::Viewer).await;
    let authors: Vec<(i64, &str, &str)> = detail["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["revision"].as_i64().unwrap(),
                a["author"].as_str().unwrap(),
                a["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(authors, [(1, "developer", "developer"), (2, "omar", "operator")]);
    assert_eq!(detail["change"]["state"], "open");
    assert_eq!(detail["approvers"], "a developer (dev side) and an operator (ops side)");

    // An approval is for one exact revision: naming the one read before the edit is refused.
    let (status, _, message) = error_code(approve("olga", json!({ "revision": 1 })).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("is at revision 2 now"), "{message}");
    let r = approve("olga", json!({ "revision": 2, "comment": "25% checked" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["state"],
        "open",
        "ops approved, dev has not"
    );
    let detail = s.get_json(&change, Role::Viewer).await;
    assert_eq!(
        detail["review"],
        json!({ "state": "waiting", "missing": 1, "from": "a developer (dev side)" })
    );

    // The opener edits it again: Olga's approval no longer counts, and the opener may not approve.
    let r = tandem_testkit::http()
        .put(url(change.clone()))
        .bearer_auth(s.token(Role::Developer))
        .json(&json!({ "layers": layers(0.22) }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let detail = s.get_json(&change, Role::Viewer).await;
    assert_eq!(detail["review"]["missing"], 2, "a revision resets approvals: {detail}");
    assert_eq!(detail["authors"][2]["author"], "developer");
    let (status, _, message) = error_code(
        s.post(&format!("{change}/approve"), Some(Role::Developer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        message.contains("developer wrote this change (revisions 1 and 3)"),
        "{message}"
    );
    assert_eq!(
        approve("omar", json!({})).send().await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "an author of an earlier revision stays an author"
    );

    // Two people who wrote none of it, one per side, apply it.
    assert_eq!(
        approve("olga", json!({})).send().await.unwrap().status(),
        StatusCode::OK
    );
    let done: Value = approve("dave", json!({ "revision": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["state"], "done", "{done}");
    let be = s.get_json("/api/v1/services/shop/config?market=be", Role::Viewer).await;
    assert_eq!(be["values"]["vat_rate"], 0.22);
}

#[tokio::test]
async fn a_flag_change_revised_by_an_operator_needs_someone_else() {
    let s = start(false).await;
    s.engine
        .insert_token_expiring("omar", Role::Operator, "secret-omar", None)
        .await
        .unwrap();
    let proposed = tandem_testkit::http()
        .put(format!("{}/api/v1/services/shop/flags", s.base))
        .bearer_auth(s.token(Role::Developer))
        .json(&json!({ "text": FLAGS, "reason": "launch" }))
        .send()
        .await
        .unwrap();
    assert_eq!(proposed.status(), StatusCode::ACCEPTED);
    let id = proposed.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let change = format!("{}/api/v1/changes/{id}", s.base);
    // Omar turns the new checkout on everywhere, then approves it as the ops side.
    let r = as_person(reqwest::Method::PUT, change.clone(), "secret-omar")
        .json(&json!({ "text": FLAGS.replace("default: off", "default: on") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _, message) = error_code(
        as_person(reqwest::Method::POST, format!("{change}/approve"), "secret-omar")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(message.contains("omar wrote this change (revision 2)"), "{message}");
    assert!(
        s.get_json("/api/v1/services/shop/flags", Role::Viewer)
            .await
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing in force"
    );
    let detail = s.get_json(&format!("/api/v1/changes/{id}"), Role::Viewer).await;
    assert_eq!(detail["authors"][1]["author"], "omar");
    // Both sides wrote it: another operator's approval is not enough, and the developer who
    // opened it may not give the developer side's.
    let r = s
        .post(&format!("/api/v1/changes/{id}/approve"), Some(Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "open");
    assert_eq!(
        s.post(&format!("/api/v1/changes/{id}/approve"), Some(Role::Developer))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

const THREE_WAVES: &str = "
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be] }
  - { name: dach, markets: [de] }
services:
  - { name: shop, repo: /nonexistent/shop }
approvals:
  - { after: pilot, role: operator }
  - { after: benelux, role: admin }
";

#[tokio::test]
async fn approving_a_wave_names_it_and_needs_that_waves_own_role() {
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    store
        .sync_platform(&parse_platform("p.yml", THREE_WAVES).unwrap())
        .await
        .unwrap();
    let v1 = deployable_release(store, None).await;
    let platform = s.engine.load_platform().await.unwrap();
    let r = store
        .insert_rollout("shop", v1.id, &tandem_core::rollout::plan_waves(&platform), "ana")
        .await
        .unwrap();
    let approve = |id: i64, role: Role, body: Value| {
        let req = s
            .post(&format!("/api/v1/rollouts/{id}/approve"), Some(role))
            .json(&body);
        async move { req.send().await.unwrap() }
    };

    // A viewer is refused for what it is, whether the rollout exists or not.
    let (status, code, _) = error_code(approve(r.id, Role::Viewer, json!({})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, _, _) = error_code(approve(9999, Role::Viewer, json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not 404: a viewer may never approve");

    // Waiting for benelux (an operator's approval).
    store
        .set_rollout_state(
            r.id,
            &[tandem_core::state::RolloutState::Pending],
            tandem_core::state::RolloutState::AwaitingApproval,
            "engine",
            Some(1),
        )
        .await
        .unwrap();
    let (status, _, message) = error_code(approve(r.id, Role::Developer, json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        message.contains("wave `benelux`") && message.contains("operator"),
        "{message}"
    );
    let (status, _, message) = error_code(approve(r.id, Role::Operator, json!({ "wave": "dach" })).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(
        message.contains("waits for an approval of wave `benelux`, not of wave `dach`"),
        "{message}"
    );
    let ok = approve(r.id, Role::Operator, json!({ "wave": "benelux" })).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.json::<Value>().await.unwrap()["state"], "running");

    // The rollout moves on to wait for dach, which needs an admin. An operator who read the
    // page while benelux waited and approves "benelux" does not approve dach instead.
    store
        .set_rollout_state(
            r.id,
            &[tandem_core::state::RolloutState::Running],
            tandem_core::state::RolloutState::AwaitingApproval,
            "engine",
            Some(2),
        )
        .await
        .unwrap();
    let (status, _, message) = error_code(approve(r.id, Role::Operator, json!({ "wave": "benelux" })).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(
        message.contains("waits for an approval of wave `dach`, not of wave `benelux`"),
        "{message}"
    );
    let (status, _, message) = error_code(approve(r.id, Role::Operator, json!({})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(
        message.contains("wave `dach`") && message.contains("admin role"),
        "{message}"
    );
    let (status, _, _) = error_code(approve(r.id, Role::Operator, json!({ "wave": "nope" })).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let promote = s
        .post(&format!("/api/v1/rollouts/{}/promote", r.id), Some(Role::Operator))
        .send()
        .await
        .unwrap();
    assert_eq!(
        promote.status(),
        StatusCode::FORBIDDEN,
        "promote needs the wave's role too"
    );
    assert_eq!(s.engine.get_rollout(r.id).await.unwrap().state, "awaiting-approval");
    let ok = approve(r.id, Role::Admin, json!({ "wave": "dach" })).await;
    assert_eq!(ok.status(), StatusCode::OK);

    let detail = s.get_json(&format!("/api/v1/rollouts/{}", r.id), Role::Viewer).await;
    let decided: Vec<(i64, &str)> = detail["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["wave"].as_i64().unwrap(), d["decided_by"].as_str().unwrap()))
        .collect();
    assert_eq!(decided, [(1, "operator"), (2, "admin")]);
}

#[tokio::test]
async fn our_faults_answer_500_without_their_details_and_bodies_get_413_and_415() {
    let server = common::TestServer::start().await.unwrap();
    let http = tandem_testkit::http();
    let seeded = &server.seeded;
    // Every stored blob is damaged on disk (a folder where its file was): reading a log fails
    // by the server's fault now.
    let blobs = server.engine.store_for_tests().blobs().root().to_path_buf();
    let jobs = server.engine.list_jobs(seeded.run_id).await.unwrap();
    let job = jobs.iter().find(|j| j.log_digest.is_some()).unwrap();
    for entry in walk(&blobs) {
        std::fs::remove_file(&entry).unwrap();
        std::fs::create_dir(&entry).unwrap();
    }
    let resp = http
        .get(server.url(&format!("/api/v1/runs/{}/jobs/{}/log", seeded.run_id, job.name)))
        .bearer_auth(&seeded.token)
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_code(resp).await;
    assert_eq!((status, code.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
    assert!(message.contains("reference"), "{message}");
    for inner in ["directory", "blob", "os error", blobs.to_str().unwrap()] {
        assert!(!message.contains(inner), "`{inner}` told to the caller: {message}");
    }

    let too_big = format!("{{\"title\": \"{}\"}}", "x".repeat(3 << 20));
    let resp = http
        .post(server.url("/api/v1/ideas"))
        .bearer_auth(&seeded.token)
        .header("content-type", "application/json")
        .body(too_big)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );

    let resp = http
        .post(server.url("/api/v1/ideas"))
        .bearer_auth(&seeded.token)
        .header("content-type", "text/plain")
        .body("{\"title\": \"x\"}")
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_code(resp).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    assert!(message.contains("application/json"), "{message}");
}

/// Every file under `dir`, at any depth.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn lists_come_a_bounded_page_at_a_time_with_a_cursor_to_the_next() {
    let s = start(false).await;
    for i in 1..=5 {
        let resp = s
            .post("/api/v1/ideas", Some(Role::Developer))
            .json(&json!({ "title": format!("idea {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let resp = s
            .post("/api/v1/incidents", Some(Role::Developer))
            .json(&json!({ "service": "shop", "market": "fr", "title": format!("incident {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    // Walks a list page by page, as a script would: the titles, in order.
    let walk = async |path: &str| {
        let (mut titles, mut after, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let url = match &after {
                Some(a) => format!("{path}?limit=2&after={a}"),
                None => format!("{path}?limit=2"),
            };
            let resp = s.get(&url, Some(Role::Viewer)).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{url}");
            after = resp
                .headers()
                .get("x-next-cursor")
                .map(|v| v.to_str().unwrap().to_string());
            let rows: Vec<Value> = resp.json().await.unwrap();
            assert!(rows.len() <= 2, "{url}: {rows:?}");
            titles.extend(rows.iter().map(|r| r["title"].as_str().unwrap().to_string()));
            pages += 1;
            if after.is_none() {
                return (titles, pages);
            }
        }
    };
    let (ideas, pages) = walk("/api/v1/ideas").await;
    assert_eq!(ideas, ["idea 1", "idea 2", "idea 3", "idea 4", "idea 5"]);
    assert_eq!(pages, 3);
    let (incidents, _) = walk("/api/v1/incidents").await;
    assert_eq!(
        incidents,
        ["incident 5", "incident 4", "incident 3", "incident 2", "incident 1"]
    );

    for path in [
        "/api/v1/ideas",
        "/api/v1/runs",
        "/api/v1/releases",
        "/api/v1/rollouts",
        "/api/v1/incidents",
    ] {
        let (status, _, message) = error_code(
            s.get(&format!("{path}?limit=-1"), Some(Role::Viewer))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(message.contains("from 1 to 500"), "{path}: {message}");
        let resp = s
            .get(&format!("{path}?limit=1000000"), Some(Role::Viewer))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{path}: a large limit is served as the most"
        );
    }
    let (status, _, _) = error_code(
        s.get("/api/v1/commits?service=shop&limit=-1", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "commits too: -1 is not `everything`");

    // Markets page by market id, in platform-file order.
    let resp = s
        .get("/api/v1/markets?limit=1", Some(Role::Viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let next = resp.headers()["x-next-cursor"].to_str().unwrap().to_string();
    let first: Vec<Value> = resp.json().await.unwrap();
    assert_eq!((first.len(), first[0]["id"].as_str()), (1, Some(next.as_str())));
    let resp = s
        .get(&format!("/api/v1/markets?limit=1&after={next}"), Some(Role::Viewer))
        .send()
        .await
        .unwrap();
    let second: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(second[0]["id"], first[0]["id"]);
    let all: Vec<Value> = s
        .get("/api/v1/markets", Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        all[..2],
        [first[0].clone(), second[0].clone()],
        "pages follow the whole list"
    );
    let (status, _, message) = error_code(
        s.get("/api/v1/markets?after=atlantis", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("no market `atlantis`"), "{message}");
    let (status, _, message) = error_code(
        s.get("/api/v1/markets?page=2", Some(Role::Viewer))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an unknown parameter is refused: {message}"
    );
}

#[tokio::test]
async fn logs_and_artifacts_download_whole_as_streams() {
    use sha2::Digest;
    let server = common::TestServer::start().await.unwrap();
    let http = tandem_testkit::http();
    let seeded = &server.seeded;
    let artifacts = server.engine.list_artifacts(seeded.run_id).await.unwrap();
    let artifact = &artifacts[0];
    let resp = http
        .get(server.url(&format!("/api/v1/artifacts/{}", artifact.digest)))
        .bearer_auth(&seeded.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-length"].to_str().unwrap(),
        artifact.size.to_string(),
        "its size is known before its bytes"
    );
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), artifact.digest);

    let job = &server.engine.list_jobs(seeded.run_id).await.unwrap()[0];
    let stored = server
        .engine
        .read_log(job.log_digest.as_deref().unwrap(), 0, usize::MAX)
        .await
        .unwrap();
    let resp = http
        .get(server.url(&format!("/api/v1/runs/{}/jobs/{}/log", seeded.run_id, job.name)))
        .bearer_auth(&seeded.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap(), stored, "the whole log, byte for byte");
}

/// A server whose `shop` reads a real git repository: `v1` at its first commit went live in fr,
/// then `v2`, two commits later, failed its gate there (it never served) and opened an
/// incident. Returns the server, v1's and v2's deployments and the incident.
async fn a_failed_gate_after_v1(dir: &std::path::Path) -> (Server, i64, i64, i64) {
    use tandem_testkit::git;
    let s = start(false).await;
    let store = &s.engine.store_for_tests();
    let repo = dir.join("shop");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let commit = |file: &str, message: &str| {
        std::fs::write(repo.join(file), message).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", message]);
        git(&repo, &["rev-parse", "HEAD"]).trim().to_string()
    };
    let c1 = commit("a", "T-1: the shop");
    commit("b", "T-4: a delivery estimate per country");
    let c3 = commit("c", "T-4: show the estimate on the product page");
    let platform = PLATFORM.replace("/nonexistent/shop", &repo.display().to_string());
    store
        .sync_platform(&parse_platform("p.yml", &platform).unwrap())
        .await
        .unwrap();
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\ndeploy:\n  driver: process\n  run: x\n",
    )
    .unwrap();
    let release = |sha: String| {
        let spec = spec.clone();
        async move {
            let run = store.insert_run("shop", &sha, "main", "hand").await.unwrap();
            store
                .insert_release_with("shop", &sha, run.id, &spec, "test", None)
                .await
                .unwrap()
        }
    };
    let (v1, v2) = (release(c1).await, release(c3).await);
    let deploy = |release_id| tandem_store::NewDeployment {
        rollout_id: None,
        service: "shop",
        market: "fr",
        release_id,
    };
    let serving = store.insert_deployment(deploy(v1.id)).await.unwrap();
    store.mark_deployment_live(serving.id, "http://fr", None).await.unwrap();
    let failed = store.insert_deployment(deploy(v2.id)).await.unwrap();
    store
        .mark_deployment_failed(failed.id, "/healthz answered 500")
        .await
        .unwrap();
    let incident = store
        .insert_incident("shop", "fr", Some(failed.id), "shop v2 failed its gate in fr")
        .await
        .unwrap();
    (s, serving.id, failed.id, incident.id)
}

#[tokio::test]
async fn an_alert_firing_after_a_failed_deployment_blames_the_release_serving() {
    let dir = tempfile::tempdir().unwrap();
    let (s, serving, failed, _) = a_failed_gate_after_v1(dir.path()).await;
    // The alert starts after v2 failed: fr was served by v1 all along.
    let starts = jiff::Timestamp::from_millisecond(tandem_store::now_ms() + 1000).unwrap();
    let alert = json!({
        "version": "4", "status": "firing", "receiver": "tandem", "groupKey": "{}:{}",
        "alerts": [{ "status": "firing", "fingerprint": "c0de",
                     "labels": { "alertname": "CheckoutErrors", "service": "shop", "market": "fr" },
                     "startsAt": starts.to_string(), "endsAt": "0001-01-01T00:00:00Z" }]
    });
    let fired: Value = s
        .post("/hooks/alertmanager", Some(Role::Operator))
        .json(&alert)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fired[0]["result"], "opened", "{fired}");
    let id = fired[0]["incident"].as_i64().unwrap();
    let list = s.get_json("/api/v1/incidents", Role::Viewer).await;
    let incident = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("incident {id} is listed: {list}"));
    assert_eq!(
        incident["deployment_id"],
        json!(serving),
        "v1's deployment {serving} served fr; v2's {failed} never did"
    );

    // A person opening one by hand, naming no deployment, blames the same.
    let opened: Value = s
        .post("/api/v1/incidents", Some(Role::Developer))
        .json(&json!({ "service": "shop", "market": "fr", "title": "Checkout is slow" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(opened["deployment_id"], json!(serving), "{opened}");
}

#[tokio::test]
async fn a_failed_gates_postmortem_lists_the_commits_the_release_brought() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _, _, incident) = a_failed_gate_after_v1(dir.path()).await;
    let md = s
        .get(&format!("/api/v1/incidents/{incident}/postmortem"), Some(Role::Viewer))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        md.contains("### Commits the release brought (it never served) (2)"),
        "{md}"
    );
    assert!(md.contains("T-4: show the estimate on the product page"), "{md}");
    assert!(md.contains("T-4: a delivery estimate per country"), "{md}");
    assert!(!md.contains("T-1: the shop"), "v1 brought that one: {md}");
    assert!(md.contains("**Time to restore:**"), "{md}");
}

/// A rollout's markets come a page at a time in plan order, each with its wave and what the
/// rollout did there, as the rollout's detail lists them; the detail says how many markets each
/// wave has.
#[tokio::test]
async fn a_rollouts_markets_come_a_page_at_a_time_in_plan_order() {
    let server = common::TestServer::start().await.unwrap();
    let http = tandem_testkit::http();
    let id = server.seeded.rollout_id;
    let get = async |path: String| {
        http.get(server.url(&path))
            .bearer_auth(&server.seeded.viewer_token)
            .send()
            .await
            .unwrap()
    };
    let detail: Value = get(format!("/api/v1/rollouts/{id}")).await.json().await.unwrap();
    let mut plan = Vec::new();
    for wave in detail["waves"].as_array().unwrap() {
        let markets = wave["markets"].as_array().unwrap();
        assert_eq!(wave["markets_total"].as_u64(), Some(markets.len() as u64), "{wave}");
        for m in markets {
            plan.push((wave["name"].clone(), m["market"].clone(), m["state"].clone()));
        }
    }
    assert!(plan.len() > 4, "more markets than a page of 4: {plan:?}");
    assert!(
        plan.iter().any(|(_, m, state)| m == "nl" && state == "failed"),
        "{plan:?}"
    );

    // Pages of 4 follow the plan, each page's last market the cursor to the next.
    let (mut seen, mut after) = (Vec::new(), None::<String>);
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/rollouts/{id}/markets?limit=4&after={a}"),
            None => format!("/api/v1/rollouts/{id}/markets?limit=4"),
        };
        let resp = get(path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let next = resp
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_string());
        let rows: Vec<Value> = resp.json().await.unwrap();
        assert!(rows.len() <= 4);
        seen.extend(
            rows.iter()
                .map(|r| (r["wave"].clone(), r["market"].clone(), r["state"].clone())),
        );
        match next {
            Some(n) => {
                assert_eq!(rows.last().unwrap()["market"], n.as_str());
                after = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(seen, plan);

    // One wave's markets only.
    let wave = plan[plan.len() - 1].0.as_str().unwrap().to_string();
    let rows: Vec<Value> = get(format!("/api/v1/rollouts/{id}/markets?wave={wave}"))
        .await
        .json()
        .await
        .unwrap();
    let expected: Vec<&Value> = plan
        .iter()
        .filter(|(w, _, _)| w == wave.as_str())
        .map(|(_, m, _)| m)
        .collect();
    let found: Vec<&Value> = rows.iter().map(|r| &r["market"]).collect();
    assert_eq!(found, expected);

    // A market or wave the rollout does not have is the caller's mistake.
    for (path, says) in [
        (
            format!("/api/v1/rollouts/{id}/markets?after=atlantis"),
            "no market `atlantis`",
        ),
        (
            format!("/api/v1/rollouts/{id}/markets?wave=nowhere"),
            "no wave `nowhere`",
        ),
    ] {
        let (status, _, message) = error_code(get(path).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message.contains(says), "{message}");
    }
    let resp = get("/api/v1/rollouts/999999/markets".to_string()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
