//! `tandem rollout show` at hundreds of markets, through the real binary against a served
//! instance: a big wave is told as its counts and its failed market; `--wave` and `--markets`
//! list every market, past the 500 the rollout's own answer holds, a page after another.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::Server;
use serde_json::{Value, json};
use tandem_testkit::git;

/// `n` markets with two-letter ids (`aa`, `ab`, …): a pilot of one, the rest in one wave.
fn platform(n: usize, repo: &std::path::Path) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..n)
        .map(|i| format!("{}{}", (b'a' + (i / 26) as u8) as char, (b'a' + (i % 26) as u8) as char))
        .collect();
    let mut yml = String::from("markets:\n");
    for id in &ids {
        yml.push_str(&format!(
            "  - {{ id: {id}, name: Store {id}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    yml.push_str(&format!(
        "waves:\n  - {{ name: pilot, markets: [{}] }}\n  - {{ name: rest, markets: [{}] }}\n",
        ids[0],
        ids[1..].join(", ")
    ));
    yml.push_str(&format!("services:\n  - {{ name: app, repo: {} }}\n", repo.display()));
    (ids, yml)
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", common::stderr(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// 600 markets; the deploy fails in `ab`, the big wave's first market, so the rollout halts
/// in that wave (its other markets deploy alongside: how many is not what is checked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_show_sums_up_a_big_wave_and_pages_through_all_of_its_markets() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        "service: app
pipeline:
  jobs:
    build:
      steps: [{ run: echo 1 > release.txt }]
      artifacts: [release.txt]
deploy:
  driver: command
  run: test \"$TANDEM_MARKET\" != ab
",
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    let (ids, yml) = platform(600, &repo);
    let server = Server::start(dir.path(), &yml);
    let api = server.api();
    let (release_id, _) = api.release_of_new_run("app").await;
    let rollout = api.post("/api/v1/rollouts", json!({ "release_id": release_id })).await;
    let id = rollout["id"].as_i64().unwrap().to_string();
    let end = api.rollout_end(rollout["id"].as_i64().unwrap()).await;
    assert_ne!(end["state"], "succeeded", "ab's deploy fails: {end}");

    // The rollout: the pilot's row, ab's failure, the big wave's counts, not 600 rows.
    let shown = stdout(&server.cli(&["rollout", "show", &id]));
    assert!(
        shown
            .lines()
            .any(|l| l.contains("pilot") && l.contains(" aa ") && l.contains("live")),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.contains("rest") && l.contains(" ab ") && l.contains("failed")),
        "{shown}"
    );
    assert!(
        shown.contains("Wave rest: 599 markets (1 failed, ")
            && shown.contains(
                "every one: tandem rollout show {id} --wave rest"
                    .replace("{id}", &id)
                    .as_str()
            ),
        "{shown}"
    );
    assert!(shown.lines().count() < 40, "{} lines: {shown}", shown.lines().count());

    // Every market of the wave, past the 500 the rollout's answer lists, once each in order.
    let wave = stdout(&server.cli(&["rollout", "show", &id, "--wave", "rest"]));
    // Table rows read `│ rest ┆ ab ┆ failed ┆ …`.
    let rows: Vec<&str> = wave
        .lines()
        .map(|l| l.trim_start_matches('│').split('┆').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells[0] == "rest")
        .map(|cells| cells[1])
        .collect();
    assert_eq!(rows, ids[1..], "{wave}");
    assert!(wave.contains("599 markets in wave rest"), "{wave}");
    let failed = stdout(&server.cli(&["rollout", "show", &id, "--wave", "rest", "--state", "failed"]));
    assert!(failed.contains("1 market failed in wave rest"), "{failed}");
    let out = server.cli(&["rollout", "show", &id, "--markets", "--json"]);
    let all: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let markets: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["market"].as_str().unwrap())
        .collect();
    assert_eq!(markets, ids, "every market of every wave");

    // A state without a list to pick from is a usage error; an unknown state says which exist.
    let out = server.cli(&["rollout", "show", &id, "--state", "failed"]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    let out = server.cli(&["rollout", "show", &id, "--wave", "rest", "--state", "sleepy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("use one of failed, blocked"),
        "{}",
        common::stderr(&out)
    );
    server.stop();
}
