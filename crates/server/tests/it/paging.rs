//! The lists that came last to the paging scheme of `docs/api.md`: config versions, the config
//! log, flag versions, change requests and commits, through the real server. Walking a list by
//! its `X-Next-Cursor` gives every row once, in order; a `limit` below 1 is refused; the config
//! log's diffs hold across page boundaries. And the ideas page comes a page at a time.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestServer;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use tandem_core::platform::ConfigLayers;
use tandem_store::{NewChange, NewCommit, NewConfigVersion};

/// A GET as the seeded viewer.
async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    tandem_testkit::http()
        .get(server.url(path))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await
        .unwrap()
}

/// Walks a list page by page with `limit=2`, as a script would: every row, and the pages read.
async fn walk(server: &TestServer, path: &str) -> (Vec<Value>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut rows, mut after, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let url = match &after {
            Some(a) => format!("{path}{sep}limit=2&after={a}"),
            None => format!("{path}{sep}limit=2"),
        };
        let resp = get(server, &url).await;
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        after = resp
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_string());
        let page: Vec<Value> = resp.json().await.unwrap();
        assert!(page.len() <= 2, "{url}: {page:?}");
        rows.extend(page);
        pages += 1;
        assert!(pages < 100, "{path}: the cursor goes round in circles");
        if after.is_none() {
            return (rows, pages);
        }
    }
}

/// The whole list in one page (the lists here are shorter than the most a page holds).
async fn whole(server: &TestServer, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let resp = get(server, &format!("{path}{sep}limit=500")).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    assert!(resp.headers().get("x-next-cursor").is_none(), "{path}: one page");
    resp.json().await.unwrap()
}

/// Asserts that `limit` below 1 is refused with the common message, and that more than the
/// most is served as the most.
async fn limits_are_bounded(server: &TestServer, path: &str) {
    let sep = if path.contains('?') { '&' } else { '?' };
    for bad in ["0", "-1"] {
        let resp = get(server, &format!("{path}{sep}limit={bad}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path} limit={bad}");
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`limit` is {bad}")) && message.contains("from 1 to 500"),
            "{path}: {message}"
        );
    }
    let resp = get(server, &format!("{path}{sep}limit=501")).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}: limit=501 is served as 500");
    let rows: Vec<Value> = resp.json().await.unwrap();
    assert!(rows.len() <= 500, "{path}");
}

/// The config layers whose defaults hold `step`.
fn layers(step: i64) -> ConfigLayers {
    let mut layers = ConfigLayers::default();
    layers.defaults.insert("step".into(), json!(step));
    layers
}

#[tokio::test]
async fn config_versions_and_log_page_by_version_and_keep_each_diff() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    let base = server.engine.latest_config("shop").await.unwrap().version;
    for i in 1..=6 {
        store
            .insert_config_version(
                NewConfigVersion {
                    service: "shop",
                    layers: &layers(i),
                    base: base + i - 1,
                    by: "dana",
                    message: &format!("step {i}"),
                    change_id: None,
                },
                &[],
            )
            .await
            .unwrap();
    }
    let newest = base + 6;
    let expected: Vec<i64> = (1..=newest).rev().collect();

    let versions = "/api/v1/services/shop/config/versions";
    let (rows, pages) = walk(&server, versions).await;
    let walked: Vec<i64> = rows.iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(walked, expected, "every version once, newest first");
    assert_eq!(pages, expected.len().div_ceil(2));
    assert_eq!(rows, whole(&server, versions).await);
    limits_are_bounded(&server, versions).await;

    let log = "/api/v1/services/shop/config/log";
    let (entries, _) = walk(&server, log).await;
    let walked: Vec<i64> = entries.iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(walked, expected, "every log entry once, newest first");
    assert_eq!(
        entries,
        whole(&server, log).await,
        "pages hold what one long page holds"
    );
    // Each version's diff is against the one just before it, also where that one is on the
    // next page (the last entry of each page of 2).
    for e in &entries {
        let version = e["version"].as_i64().unwrap();
        let step = version - base;
        let want = match step {
            1 => json!({ "path": "defaults.step", "change": "added", "old": null, "new": 1 }),
            2.. => json!({ "path": "defaults.step", "change": "changed", "old": step - 1, "new": step }),
            _ => continue,
        };
        let diff = e["diff"].as_array().unwrap();
        assert!(diff.contains(&want), "diff of version {version}: {diff:?}");
        assert!(step == 1 || diff.len() == 1, "diff of version {version}: {diff:?}");
    }
    let second = get(&server, &format!("{log}?limit=2&after={newest}")).await;
    let second: Vec<Value> = second.json().await.unwrap();
    assert_eq!(second[0]["version"], newest - 1, "page 2 starts past the cursor");
    assert_eq!(
        second[1]["diff"],
        json!([{ "path": "defaults.step", "change": "changed", "old": 3, "new": 4 }]),
        "page 2's last entry is diffed against the version on page 3"
    );
    limits_are_bounded(&server, log).await;

    let resp = get(&server, "/api/v1/services/nope/config/log").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "no config, no log");
    let resp = get(&server, &format!("{log}?after=1")).await;
    assert_eq!(resp.status(), StatusCode::OK, "past the oldest: the log is over");
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn flag_versions_change_requests_and_commits_walk_by_cursor() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    for i in 1..=5 {
        let text = format!("flags: {{}}\n# {i}\n");
        store
            .insert_flag_version("shop", &text, &format!("etag-{i}"), "dana", Some(&format!("flags {i}")))
            .await
            .unwrap();
        store
            .insert_change(NewChange {
                service: "shop",
                kind: "config",
                title: &format!("change {i}"),
                author: "dana",
                author_role: "developer",
                base_version: 1,
                proposed: "{}",
                production: false,
            })
            .await
            .unwrap();
    }
    // Two commits at one time: the cursor must still tell them apart.
    let commits: Vec<NewCommit> = (1..=5)
        .map(|i| NewCommit {
            sha: format!("{i:040x}"),
            parents: Vec::new(),
            author: "Ana Martin".into(),
            authored_at: 1_000 + i.min(4),
            committed_at: 1_000 + i.min(4),
            message: format!("commit {i}"),
        })
        .collect();
    store.insert_commits("shop", &commits).await.unwrap();

    let flags = "/api/v1/services/shop/flags";
    let (rows, _) = walk(&server, flags).await;
    let versions: Vec<i64> = rows.iter().map(|r| r["version"].as_i64().unwrap()).collect();
    let newest = versions[0];
    assert!(newest >= 5, "{versions:?}");
    assert_eq!(
        versions,
        (1..=newest).rev().collect::<Vec<_>>(),
        "every flag version once"
    );
    assert_eq!(rows, whole(&server, flags).await);
    limits_are_bounded(&server, flags).await;

    let changes = "/api/v1/changes";
    let (rows, pages) = walk(&server, changes).await;
    let titles: Vec<&str> = rows.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["change 5", "change 4", "change 3", "change 2", "change 1"]);
    assert_eq!(pages, 3);
    let (of_shop, _) = walk(&server, "/api/v1/changes?service=shop").await;
    assert_eq!(of_shop, rows, "the service filter pages the same way");
    assert_eq!(
        whole(&server, "/api/v1/changes?service=blog").await,
        Vec::<Value>::new()
    );
    limits_are_bounded(&server, changes).await;

    let list = "/api/v1/commits?service=shop";
    let (rows, _) = walk(&server, list).await;
    let all = whole(&server, list).await;
    assert_eq!(rows, all, "every commit once, in the list's order");
    let ours: Vec<&str> = rows
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .filter(|m| m.starts_with("commit "))
        .collect();
    assert_eq!(ours, ["commit 4", "commit 5", "commit 3", "commit 2", "commit 1"]);
    limits_are_bounded(&server, list).await;
    let resp = get(&server, &format!("{list}&after=not-a-commit")).await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "an unknown cursor is the caller's mistake"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`after` is no commit of `shop`"),
        "{body}"
    );
}

#[tokio::test]
async fn the_ideas_page_shows_a_page_of_ideas_with_a_link_to_the_next() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    let before = server.engine.list_ideas_page(None, 500).await.unwrap().len();
    for i in before + 1..=101 {
        store.insert_idea(&format!("idea number {i}"), &[]).await.unwrap();
    }
    let cookie = server.session_cookie(&server.seeded.viewer_token).await;
    let page = |path: String| {
        let req = tandem_testkit::http().get(server.url(&path)).header(COOKIE, &cookie);
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            resp.text().await.unwrap()
        }
    };
    let first = page("/ideas".into()).await;
    assert!(first.contains("idea number 100<"), "the first page holds 100 ideas");
    assert!(!first.contains("idea number 101<"), "and no more");
    let last = server
        .engine
        .list_ideas_page(None, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .id;
    let link = format!("/ideas?after={last}");
    assert!(first.contains(&link), "a link to the next page");
    let second = page(link).await;
    assert!(second.contains("idea number 101<"), "the next page holds the rest");
    assert!(!second.contains("idea number 100<") && !second.contains("/ideas?after="));
}

/// Deployments, the monitor's health and the audit events come a page at a time like every
/// other list: each page goes on where the last stopped, and the pages together are the list.
#[tokio::test]
async fn deployments_health_and_events_walk_by_cursor() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    // The seeded deployments (two rollouts), and each market's shop probed.
    let deployments = server.engine.list_deployments(None).await.unwrap();
    assert!(deployments.len() >= 5, "{}", deployments.len());
    let probes: Vec<tandem_store::ProbeRecord> = deployments
        .iter()
        .filter(|d| d.state == tandem_core::state::DeploymentState::Live)
        .map(|d| tandem_store::ProbeRecord {
            service: d.service.clone(),
            market: d.market.clone(),
            deployment_id: d.id,
            at: tandem_store::now_ms(),
            ok: true,
            latency_ms: Some(12.0),
            error: None,
            failures_in_a_row: 0,
            state: "up".parse().unwrap(),
            transition: None,
            incident_id: None,
            measurements: Vec::new(),
        })
        .collect();
    store.record_probes(&probes).await.unwrap();

    let list = "/api/v1/deployments";
    let (rows, pages) = walk(&server, list).await;
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        deployments.iter().map(|d| d.id).collect::<Vec<_>>(),
        "every deployment once, oldest first"
    );
    // A full page always says where the next starts: an even list ends on an empty page.
    assert_eq!(pages, deployments.len() / 2 + 1);
    assert_eq!(rows, whole(&server, list).await);
    let first = deployments.iter().filter_map(|d| d.rollout_id).min().unwrap();
    let (of_rollout, _) = walk(&server, &format!("{list}?rollout={first}")).await;
    assert!(
        !of_rollout.is_empty() && of_rollout.iter().all(|d| d["rollout_id"] == first),
        "{of_rollout:?}"
    );
    limits_are_bounded(&server, list).await;

    let list = "/api/v1/health";
    let (rows, _) = walk(&server, list).await;
    let keys: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}", r["service"].as_str().unwrap(), r["market"].as_str().unwrap()))
        .collect();
    let mut expected: Vec<String> = server
        .engine
        .list_market_health()
        .await
        .unwrap()
        .iter()
        .map(|h| format!("{}/{}", h.service, h.market))
        .collect();
    assert!(expected.len() >= 5, "{expected:?}");
    assert_eq!(keys, expected, "every market's health once, by service then market");
    expected.sort();
    assert_eq!(keys, expected);
    limits_are_bounded(&server, list).await;
    let resp = get(&server, &format!("{list}?after=fr")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("give `SERVICE/MARKET`"),
        "{body}"
    );

    // Events: two pages of 5 are the first 10, the second starting after the first's cursor.
    let events = async |path: &str| {
        let resp = get(&server, path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let next = resp
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_string());
        let rows: Vec<Value> = resp.json().await.unwrap();
        (rows, next)
    };
    let (ten, _) = events("/api/v1/events?limit=10").await;
    assert_eq!(ten.len(), 10, "the seeded store holds more than 10 events");
    let (mut pages, next) = events("/api/v1/events?limit=5").await;
    let next = next.expect("a full page says where the next starts");
    assert_eq!(next, pages[4]["id"].to_string());
    let (second, _) = events(&format!("/api/v1/events?limit=5&after={next}")).await;
    pages.extend(second);
    assert_eq!(pages, ten);
}
