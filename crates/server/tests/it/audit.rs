//! The audit log through the real server on 127.0.0.1: who acted (token name and id), from
//! which address, refused requests and failed sign-ins, filters, cursor paging, the admin page,
//! and the chain check.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;
use tandem_core::role::Role;

/// An admin token for reading the audit log: (secret, token id).
async fn admin(s: &TestServer) -> (String, i64) {
    let secret = tandem_server::auth::generate_secret();
    let token = s
        .engine
        .insert_token_expiring("root", Role::Admin, &secret, None)
        .await
        .unwrap();
    (secret, token.id)
}

async fn audit(s: &TestServer, token: &str, query: &str) -> Value {
    let resp = tandem_testkit::http()
        .get(s.url(&format!("/api/v1/audit?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    resp.json().await.unwrap()
}

fn entries(page: &Value) -> Vec<Value> {
    page["entries"].as_array().unwrap().clone()
}

async fn token_id(s: &TestServer, name: &str) -> i64 {
    let tokens = s.engine.list_tokens().await.unwrap();
    tokens.iter().find(|t| t.name == name).unwrap().id
}

#[tokio::test]
async fn an_approval_names_the_token_its_id_and_the_callers_address() {
    let s = TestServer::start().await.unwrap();
    let (root, _) = admin(&s).await;
    let store = &s.engine.store_for_tests();
    let v1 = s
        .engine
        .list_releases(Some("shop"))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.version == "v1")
        .unwrap();
    let platform = s.engine.load_platform().await.unwrap();
    let plan = tandem_core::rollout::plan_waves(&platform);
    let r = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
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

    let http = tandem_testkit::http();
    let approve = s.url(&format!("/api/v1/rollouts/{}/approve", r.id));
    let refused = http
        .post(&approve)
        .bearer_auth(&s.seeded.viewer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let approved = http.post(&approve).bearer_auth(&s.seeded.token).send().await.unwrap();
    assert_eq!(approved.status(), StatusCode::OK);

    let page = audit(&s, &root, &format!("object=rollout/{}", r.id)).await;
    let ana = format!("token/{}", token_id(&s, "ana").await);
    let by_ana: Vec<Value> = entries(&page).into_iter().filter(|e| e["actor"] == "ana").collect();
    assert!(!by_ana.is_empty(), "the approval is ana's: {page:#}");
    for e in &by_ana {
        assert_eq!(e["via"], ana.as_str(), "{e}");
        assert_eq!(e["address"], "127.0.0.1", "{e}");
        assert_eq!(e["outcome"], "ok", "{e}");
        assert_eq!(e["hash"].as_str().unwrap().len(), 64, "{e}");
    }
    assert!(
        by_ana.iter().any(|e| e["data"].as_str().unwrap().contains("approve")),
        "the approval decision is there: {by_ana:#?}"
    );
    // What the engine's setup did is the server's own work, not ana's.
    let created = entries(&page)
        .into_iter()
        .find(|e| e["kind"] == "rollout.created")
        .unwrap();
    assert_eq!(created["actor"], "tandem");

    // The viewer's refused approval is there too, with its outcome.
    let page = audit(&s, &root, "kind=request&actor=vic").await;
    let refusal = &entries(&page)[0];
    assert_eq!(refusal["kind"], "request.refused");
    assert_eq!(refusal["outcome"], "refused");
    assert_eq!(refusal["via"], format!("token/{}", token_id(&s, "vic").await));
    assert_eq!(refusal["address"], "127.0.0.1");
    assert!(refusal["data"].as_str().unwrap().contains("403"), "{refusal}");

    // Only admins read it; the shared event feed hides credentials and addresses.
    let viewer = http
        .get(s.url("/api/v1/audit"))
        .bearer_auth(&s.seeded.token)
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN);
    let events: Vec<Value> = http
        .get(s.url("/api/v1/events?limit=5000"))
        .bearer_auth(&s.seeded.viewer_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(events.iter().any(|e| e["actor"] == "ana"));
    assert!(events.iter().all(|e| e["address"].is_null() && e["via"].is_null()));
    s.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_sign_in_is_recorded_without_the_token_it_tried() {
    let s = TestServer::start().await.unwrap();
    let (root, _) = admin(&s).await;
    let resp = tandem_testkit::http()
        .post(s.url("/login"))
        .form(&[("token", "tdm_guessed-secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let page = audit(&s, &root, "kind=signin.failed").await;
    let entries = entries(&page);
    assert_eq!(entries.len(), 1, "{page:#}");
    let e = &entries[0];
    assert_eq!(
        (e["actor"].as_str(), e["outcome"].as_str(), e["address"].as_str()),
        (Some("anonymous"), Some("refused"), Some("127.0.0.1"))
    );
    assert!(!e.to_string().contains("guessed"), "no credential in the log: {e}");
    s.stop().await.unwrap();
}

#[tokio::test]
async fn filters_and_the_cursor_page_through_the_whole_log() {
    let s = TestServer::start().await.unwrap();
    let (root, root_id) = admin(&s).await;
    let everything: Vec<i64> = entries(&audit(&s, &root, "limit=500").await)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(everything.len() > 20, "the seed wrote a history");
    assert!(everything.windows(2).all(|w| w[0] > w[1]), "newest first");

    let mut paged = Vec::new();
    let mut query = "limit=7".to_string();
    loop {
        let page = audit(&s, &root, &query).await;
        paged.extend(entries(&page).iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next"].as_i64() {
            Some(next) => query = format!("limit=7&before={next}"),
            None => break,
        }
    }
    assert_eq!(paged, everything, "the pages hold every entry once, in order");

    let created = entries(&audit(&s, &root, "kind=token.created").await);
    assert_eq!(created.len(), 4, "ana, vic, dev and root");
    let root_token = entries(&audit(&s, &root, &format!("object=token/{root_id}")).await);
    assert_eq!(root_token.len(), 1);
    assert_eq!(root_token[0]["kind"], "token.created");
    let at = root_token[0]["at"].as_i64().unwrap();
    let since = entries(&audit(&s, &root, &format!("since={at}&kind=token")).await);
    assert!(since.iter().all(|e| e["at"].as_i64().unwrap() >= at));
    assert!(since.iter().any(|e| e["subject"] == format!("token/{root_id}")));
    assert!(entries(&audit(&s, &root, "until=2000-01-01T00:00:00Z").await).is_empty());
    assert!(entries(&audit(&s, &root, "actor=nobody").await).is_empty());

    let bad = tandem_testkit::http()
        .get(s.url("/api/v1/audit?since=yesterday"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("`since`"));
    s.stop().await.unwrap();
}

#[tokio::test]
async fn the_admin_page_shows_the_log_and_checks_the_chain() {
    let s = TestServer::start().await.unwrap();
    let (root, _) = admin(&s).await;
    let http = tandem_testkit::http();
    let page = |token: String, path: &str| {
        let req = http.get(s.url(path)).bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    let refused = page(s.seeded.token.clone(), "/audit").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "operators do not read it");
    let html = page(root.clone(), "/audit?kind=token").await.text().await.unwrap();
    assert!(html.contains("Audit log"));
    assert!(html.contains("token.created"));
    assert!(!html.contains("idea.created"), "the filter applies");
    assert!(
        html.contains(r#"href="/audit""#),
        "the admin sees the page in the navigation"
    );
    let html = page(root, "/audit?verify=1").await.text().await.unwrap();
    assert!(html.contains("The chain is intact"), "{html}");

    let report: Value = http
        .get(s.url("/api/v1/audit/verify"))
        .bearer_auth(tandem_server::auth::generate_secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["error"]["code"], "unauthorized");
    s.stop().await.unwrap();
}
