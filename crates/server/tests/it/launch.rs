//! Market launches through the real API: a planned market's readiness names what is missing,
//! its launch is refused with those items until its latest release runs there and answers
//! its probe, then it is launched, and a later sync of the platform file keeps it live.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{PLATFORM, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use tandem_core::platform::parse_platform;
use tandem_store::NewDeployment;

/// The seed's platform with Germany not launched yet.
fn planned_platform() -> tandem_core::platform::Platform {
    let text = PLATFORM.replace("timezone: Europe/Berlin }", "timezone: Europe/Berlin, state: planned }");
    parse_platform("platform.yml", &text).unwrap()
}

async fn call(method: reqwest::Method, url: String, token: &str) -> (StatusCode, Value) {
    let resp = tandem_testkit::http()
        .request(method, url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

fn check<'a>(checks: &'a Value, name: &str) -> &'a Value {
    checks.as_array().unwrap().iter().find(|c| c["check"] == name).unwrap()
}

/// A market process that answers 200 on every path, like a healthy release.
async fn healthy_market() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_market_is_refused_with_what_is_missing_then_launched() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    store.sync_platform(&planned_platform()).await.unwrap();
    let (operator, viewer) = (&server.seeded.token, &server.seeded.viewer_token);
    let readiness_url = server.url("/api/v1/markets/de/readiness");
    let launch_url = server.url("/api/v1/markets/de/launch");

    // de runs v1 (the seed's first rollout), on an address that answers nothing.
    let (status, r) = call(reqwest::Method::GET, readiness_url.clone(), viewer).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "launching", "v1 went live there: {r}");
    assert_eq!(r["ready"], false);
    let release = check(&r["checks"], "release");
    assert_eq!(release["passed"], false);
    assert!(
        release["reason"]
            .as_str()
            .unwrap()
            .starts_with("de runs v1, not v2, the release in production"),
        "{release}"
    );
    assert_eq!(
        check(&r["checks"], "probe")["reason"],
        "GET http://127.0.0.1:1/de/healthz failed 3 times in a row, last: cannot connect"
    );
    assert_eq!(check(&r["checks"], "config")["passed"], true);
    assert_eq!(check(&r["checks"], "flags")["reason"], "shop has no feature flags");

    // Refused: viewers may not; operators are told exactly what is missing.
    let (status, _) = call(reqwest::Method::POST, launch_url.clone(), viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, refused) = call(reqwest::Method::POST, launch_url.clone(), operator).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "not_ready");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("market `de` is not ready to launch: release (shop): de runs v1"),
        "{message}"
    );
    let missing: Vec<&str> = refused["error"]["details"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["release", "probe"]);
    let markets: Vec<Value> = tandem_testkit::http()
        .get(server.url("/api/v1/markets"))
        .bearer_auth(viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let de = markets.iter().find(|m| m["id"] == "de").unwrap();
    assert_eq!(de["state"], "launching");

    // v2 goes live in de, answering its probe: ready, and launched.
    let v2 = store.get_release_by_version("shop", "v2").await.unwrap();
    let url = healthy_market().await;
    let d = store
        .insert_deployment(NewDeployment {
            rollout_id: None,
            service: "shop",
            market: "de",
            release_id: v2.id,
        })
        .await
        .unwrap();
    store.mark_deployment_live(d.id, &url, None).await.unwrap();
    let (_, r) = call(reqwest::Method::GET, readiness_url.clone(), viewer).await;
    assert_eq!(r["ready"], true, "{r}");
    assert_eq!(
        check(&r["checks"], "probe")["reason"],
        format!("GET {url}/healthz answered 200")
    );
    let (status, launch) = call(reqwest::Method::POST, launch_url.clone(), operator).await;
    assert_eq!(status, StatusCode::CREATED, "{launch}");
    assert_eq!(launch["launched_by"], "ana");
    assert_eq!(launch["readiness"]["state"], "live");

    let (status, again) = call(reqwest::Method::POST, launch_url.clone(), operator).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("market `de` is already live (launched by ana at "),
        "{again}"
    );
    let (status, _) = call(reqwest::Method::POST, server.url("/api/v1/markets/zz/launch"), operator).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The platform file is read again at each start: de stays live.
    store.sync_platform(&planned_platform()).await.unwrap();
    let (_, r) = call(reqwest::Method::GET, readiness_url, viewer).await;
    assert_eq!(r["state"], "live");
    server.stop().await.unwrap();
}
