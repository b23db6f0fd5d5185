//! What a caller reads when the engine fails inside: a 500 with the generic message and a
//! reference, never a 422 and never the cause (a path, SQL, a parser's words); and what it reads
//! when the engine refuses: the refusal's own status and message.

#![allow(clippy::unwrap_used)]

use crate::common::{TestServer, corrupt};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends `req` with `token` and gives the status and the JSON body.
async fn call(req: reqwest::RequestBuilder, token: &str) -> (StatusCode, Value) {
    let resp = req.bearer_auth(token).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text })),
    )
}

fn assert_generic_500(status: StatusCode, body: &Value, leaks: &[&str]) {
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("internal error (reference ") && message.contains("its log has the cause"),
        "{message}"
    );
    assert!(body["error"].get("details").is_none(), "{body}");
    let text = body.to_string();
    for leak in leaks {
        assert!(!text.contains(leak), "the body tells `{leak}`: {text}");
    }
}

#[tokio::test]
async fn an_engine_failure_inside_is_a_generic_500_and_a_refusal_keeps_its_status() {
    let s = TestServer::start().await.unwrap();
    let http = tandem_testkit::http();
    let developer = s.seeded.developer_token.clone();

    // Refusals keep their status and the engine's message.
    let propose = |layers: Value| {
        http.post(s.url("/api/v1/services/shop/changes"))
            .json(&json!({ "kind": "config", "title": "VAT 21% in Belgium", "layers": layers }))
    };
    let (status, body) = call(propose(json!({ "markets": { "xx": { "vat_rate": 0.2 } } })), &developer).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_change", "{body}");
    assert!(body["error"]["details"]["unknown_markets"] == json!(["xx"]), "{body}");
    let (status, body) = call(propose(json!({})), &developer).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("nothing to review"),
        "{body}"
    );
    let (status, body) = call(http.get(s.url("/api/v1/changes/999")), &developer).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        http.post(s.url(&format!("/api/v1/runs/{}/rerun", s.seeded.run_id))),
        &developer,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("nothing to re-run"),
        "{body}"
    );

    let (status, created) = call(
        propose(json!({ "markets": { "be": { "vat_rate": 0.21 } } })),
        &developer,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (status, _) = call(http.get(s.url(&format!("/api/v1/changes/{id}"))), &developer).await;
    assert_eq!(status, StatusCode::OK);

    // The stored proposal no longer parses: the engine's fault, not the caller's.
    corrupt(
        &s,
        &format!("UPDATE change_requests SET proposed = '{{ /srv/tandem' WHERE id = {id}"),
    )
    .await;
    let (status, body) = call(http.get(s.url(&format!("/api/v1/changes/{id}"))), &developer).await;
    assert_generic_500(status, &body, &["/srv/tandem", "line 1", "key must be a string"]);

    // A table gone from under the engine: the database's words stay in the log.
    corrupt(&s, "DROP TABLE change_reviews").await;
    let (status, body) = call(http.get(s.url(&format!("/api/v1/changes/{id}"))), &developer).await;
    assert_generic_500(status, &body, &["change_reviews", "no such table", "SELECT"]);
}
