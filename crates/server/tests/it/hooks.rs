//! A push webhook the engine fails to judge through its own fault: the sender gets the generic
//! 500 with a reference, and the delivery (and its `delivery.refused` event in the audit log)
//! keeps that answer as its reason, never the database's words.

#![allow(clippy::unwrap_used)]

use crate::common::{TestServer, corrupt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tandem_core::platform::parse_platform;
use tandem_testkit::{git, make_repo};

const GITLAB: &str = include_str!("../../tests/data/webhook/gitlab_push.json");
const SECRET: &str = "a-gitlab-token-for-tests";

#[tokio::test]
async fn a_push_failing_inside_is_stored_as_what_its_sender_was_told() {
    let s = TestServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    make_repo(&repo, &[("T-1: first", "README", "hello\n")]);
    let head = git(&repo, &["rev-parse", "HEAD"]);
    let platform = format!(
        "markets:
  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
services:
  - {{ name: app, repo: {}, triggers: {{ webhook_secret: HOOK }} }}
secrets:
  HOOK: {{}}
",
        repo.display()
    );
    let store = s.engine.store_for_tests();
    store
        .sync_platform(&parse_platform("p.yml", &platform).unwrap())
        .await
        .unwrap();
    s.engine.set_secret("HOOK", SECRET, "test").await.unwrap();
    // The commits table is gone from under the engine: recording the pushed commit fails.
    corrupt(&s, "DROP TABLE commits").await;

    let mut payload: Value = serde_json::from_str(GITLAB).unwrap();
    payload["after"] = json!(head);
    let resp = tandem_testkit::http()
        .post(s.url("/hooks/gitlab?service=app"))
        .header("X-Gitlab-Token", SECRET)
        .header("X-Gitlab-Event", "Push Hook")
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&payload).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let answer: Value = resp.json().await.unwrap();
    let told = answer["error"]["message"].as_str().unwrap();
    assert!(told.starts_with("internal error (reference "), "{answer}");

    // What the delivery keeps, and what the audit log says of it: what its sender was told.
    let delivery = store.list_deliveries(1).await.unwrap().remove(0);
    assert_eq!(delivery.outcome, "refused");
    assert_eq!(delivery.reason.as_deref(), Some(told));
    let events = s.engine.list_events(0, 10_000).await.unwrap();
    let refused = events.iter().rfind(|e| e.kind == "delivery.refused").unwrap();
    let data: Value = serde_json::from_str(&refused.data).unwrap();
    assert_eq!(data["reason"], told);
    for leak in ["commits", "no such table", "INSERT"] {
        assert!(
            !refused.data.contains(leak),
            "the stored reason tells `{leak}`: {}",
            refused.data
        );
    }
}
