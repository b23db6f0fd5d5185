//! The secrets store through the real router: only admins set, list and delete; no answer ever
//! holds a value; a rotation reaches the next pipeline job (seen in an artifact the job wrote)
//! while the job's log masks the value; each use is in the event log, without the value.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{PLATFORM, TestServer, wait_for};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tandem_core::platform::parse_platform;
use tandem_core::role::Role;

/// A job that gets DEPLOY_TOKEN, keeps its digest as an artifact and tries to print it.
const SPEC: &str = r#"service: shop
pipeline:
  jobs:
    deploy:
      secrets: [DEPLOY_TOKEN]
      steps:
        - run: printf '%s' "$DEPLOY_TOKEN" | sha256sum | cut -c1-64 > digest.txt
        - run: echo "token is $DEPLOY_TOKEN"
      artifacts: [digest.txt]
"#;

/// How long a one-job run of shell steps may take on a busy machine.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

struct Fixture {
    server: TestServer,
    admin: String,
    http: reqwest::Client,
    _repo: tempfile::TempDir,
}

impl Fixture {
    /// The seeded server, its service `shop` now a real repository whose pipeline uses the
    /// secret DEPLOY_TOKEN (declared with no environment variable), and an admin token.
    async fn start() -> Fixture {
        let server = TestServer::start().await.unwrap();
        let repo = tempfile::tempdir().unwrap();
        tandem_testkit::make_repo(repo.path(), &[("T-1: deploy with a token", "tandem.yml", SPEC)]);
        let platform = format!(
            "{}secrets:\n  DEPLOY_TOKEN: {{}}\n",
            PLATFORM.replace("/srv/git/shop", &repo.path().display().to_string())
        );
        let store = &server.engine.store_for_tests();
        store
            .sync_platform(&parse_platform("platform.yml", &platform).unwrap())
            .await
            .unwrap();
        let admin = tandem_server::auth::generate_secret();
        store.insert_token("olga", Role::Admin, &admin).await.unwrap();
        Fixture {
            server,
            admin,
            http: tandem_testkit::http(),
            _repo: repo,
        }
    }

    async fn put(&self, name: &str, token: &str, body: Value) -> reqwest::Response {
        self.http
            .put(self.server.url(&format!("/api/v1/secrets/{name}")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs the pipeline once; the run's detail once it ended, and its job's log.
    async fn run_pipeline(&self) -> (Value, String) {
        let token = &self.server.seeded.developer_token;
        let run: Value = self
            .http
            .post(self.server.url("/api/v1/services/shop/runs"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = run["id"].as_i64().unwrap();
        let detail = wait_for("the run to end", RUN_DEADLINE, || async {
            let d: Value = self.get(&format!("/api/v1/runs/{id}"), token).await.json().await?;
            Ok(matches!(d["state"].as_str(), Some("success" | "failed")).then_some(d))
        })
        .await
        .unwrap();
        let log = self
            .get(&format!("/api/v1/runs/{id}/jobs/deploy/log"), token)
            .await
            .text()
            .await
            .unwrap();
        (detail, log)
    }

    /// The digest the job wrote into its artifact.
    async fn artifact_digest(&self, run: &Value) -> String {
        let digest = run["artifacts"][0]["digest"].as_str().unwrap();
        let token = &self.server.seeded.viewer_token;
        let bytes = self.get(&format!("/api/v1/artifacts/{digest}"), token).await;
        bytes.text().await.unwrap().trim().to_string()
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn only_admins_set_list_and_delete_secrets_and_no_answer_holds_a_value() {
    let f = Fixture::start().await;
    let value = "tok-4b1d-9e0c-first";
    for (who, token) in [
        ("developer", &f.server.seeded.developer_token),
        ("operator", &f.server.seeded.token),
        ("viewer", &f.server.seeded.viewer_token),
    ] {
        let resp = f.put("DEPLOY_TOKEN", token, json!({ "value": value })).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{who} sets a secret");
        let resp = f.get("/api/v1/secrets", token).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{who} lists secrets");
        let resp = f
            .http
            .delete(f.server.url("/api/v1/secrets/DEPLOY_TOKEN"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{who} deletes a secret");
    }
    let anonymous = f.http.get(f.server.url("/api/v1/secrets")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let resp = f.put("DEPLOY_TOKEN", &f.admin, json!({ "value": value })).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp.text().await.unwrap();
    assert!(!set.contains(value), "{set}");
    let set: Value = serde_json::from_str(&set).unwrap();
    assert_eq!(
        (set["version"].as_i64(), set["updated_by"].as_str()),
        (Some(1), Some("olga"))
    );

    let resp = f.put("DEPLOY_TOKEN", &f.admin, json!({ "value": "tok-second" })).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["version"], 2);

    let listed = f.get("/api/v1/secrets", &f.admin).await.text().await.unwrap();
    assert!(!listed.contains(value) && !listed.contains("tok-second"), "{listed}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(
        listed,
        json!([{ "name": "DEPLOY_TOKEN", "declared": true, "source": "store", "env": null,
                 "version": 2, "updated_at": listed[0]["updated_at"], "updated_by": "olga" }])
    );

    // A name the platform file does not declare, a bad name, an empty value: refused.
    let resp = f.put("OTHER_TOKEN", &f.admin, json!({ "value": "x" })).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not declared under `secrets`")
    );
    let resp = f.put("deploy-token", &f.admin, json!({ "value": "x" })).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = f.put("DEPLOY_TOKEN", &f.admin, json!({ "value": "" })).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The audit trail says who set what, never the value.
    let events = f.get("/api/v1/events?limit=5000", &f.admin).await.text().await.unwrap();
    assert!(!events.contains(value) && !events.contains("tok-second"));
    let events: Vec<Value> = serde_json::from_str(&events).unwrap();
    let set_events = events.iter().filter(|e| e["kind"] == "secret.set").count();
    assert_eq!(set_events, 2);

    let resp = f
        .http
        .delete(f.server.url("/api/v1/secrets/DEPLOY_TOKEN"))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let listed: Value = f.get("/api/v1/secrets", &f.admin).await.json().await.unwrap();
    assert_eq!(listed[0]["source"], "unset");
    let again = f
        .http
        .delete(f.server.url("/api/v1/secrets/DEPLOY_TOKEN"))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    f.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_rotation_reaches_the_next_job_without_a_restart_and_the_log_masks_it() {
    let f = Fixture::start().await;
    let first = "tok-first-7c2e91";
    let second = "tok-second-d40a3b";
    f.put("DEPLOY_TOKEN", &f.admin, json!({ "value": first })).await;
    let (run1, log1) = f.run_pipeline().await;
    assert_eq!(run1["state"], "success", "{run1}\n{log1}");
    assert_eq!(f.artifact_digest(&run1).await, sha256_hex(first));
    assert!(log1.contains("token is ***") && !log1.contains(first), "{log1}");

    f.put("DEPLOY_TOKEN", &f.admin, json!({ "value": second })).await;
    let (run2, log2) = f.run_pipeline().await;
    assert_eq!(run2["state"], "success", "{run2}\n{log2}");
    assert_eq!(f.artifact_digest(&run2).await, sha256_hex(second));
    assert!(log2.contains("token is ***") && !log2.contains(second), "{log2}");

    // Each use is recorded with the run and job and the version used; never the value.
    let events = f.get("/api/v1/events?limit=5000", &f.admin).await.text().await.unwrap();
    assert!(!events.contains(first) && !events.contains(second));
    let events: Vec<Value> = serde_json::from_str(&events).unwrap();
    let used: Vec<Value> = events
        .iter()
        .filter(|e| e["kind"] == "secret.used")
        .map(|e| {
            assert_eq!(e["subject"], "secret/DEPLOY_TOKEN");
            serde_json::from_str(e["data"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert_eq!(
        used,
        [
            json!({ "run": run1["id"], "job": "deploy", "source": "store", "version": 1 }),
            json!({ "run": run2["id"], "job": "deploy", "source": "store", "version": 2 }),
        ]
    );

    // Deleted, with no environment variable named: the next job cannot get it and fails.
    f.http
        .delete(f.server.url("/api/v1/secrets/DEPLOY_TOKEN"))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    let (run3, _) = f.run_pipeline().await;
    assert_eq!(run3["state"], "failed", "{run3}");
    f.server.stop().await.unwrap();
}
