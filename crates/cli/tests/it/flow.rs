//! Idea to production end to end: a real server, a real git repository, real pipeline runs and
//! rollouts through two waves (the `command` driver runs a shell script), driven through the
//! CLI. Every stage time `tandem idea flow --json` reports is checked against what the test
//! itself saw: the commit time git recorded, the run, the release, each market's deployment.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, wait};
use serde_json::{Value, json};
use tandem_testkit::git;

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be, nl] }
services:
  - { name: app, repo: REPO }
";

impl Server {
    fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "tandem {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs the branch head's pipeline; returns the finished run and its release.
    async fn run_to_release(&self) -> (Value, Value) {
        let run = self.api().post("/api/v1/services/app/runs", json!({})).await;
        let id = run["id"].as_i64().unwrap();
        let run = wait("the run", async || {
            let r = self.api().get(&format!("/api/v1/runs/{id}")).await;
            assert_ne!(r["state"], "failed", "{r}");
            (r["state"] == "success" && r["release"].is_string()).then_some(r)
        })
        .await;
        let releases = self.api().get("/api/v1/releases?service=app").await;
        let release = releases
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["run_id"] == id)
            .unwrap()
            .clone();
        (run, release)
    }

    /// Rolls a release out through both waves; returns its deployments.
    async fn roll_out(&self, release: &Value) -> Vec<Value> {
        let rollout = self
            .api()
            .post("/api/v1/rollouts", json!({ "release_id": release["id"] }))
            .await;
        let id = rollout["id"].as_i64().unwrap();
        let end = wait("the rollout", async || {
            let r = self.api().get(&format!("/api/v1/rollouts/{id}")).await;
            matches!(r["state"].as_str(), Some("succeeded" | "halted" | "failed" | "aborted")).then_some(r)
        })
        .await;
        assert_eq!(end["state"], "succeeded", "{end}");
        self.api()
            .get(&format!("/api/v1/deployments?rollout={id}"))
            .await
            .as_array()
            .unwrap()
            .clone()
    }
}

fn stage<'a>(flow: &'a Value, name: &str) -> &'a Value {
    flow["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .unwrap()
}

fn finished_in(deployments: &[Value], market: &str) -> i64 {
    deployments.iter().find(|d| d["market"] == market).unwrap()["finished_at"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ideas_stages_are_the_times_of_its_commit_run_release_and_deployments() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        "service: app
pipeline:
  jobs:
    build:
      steps: [{ run: cp VERSION release.txt }]
      artifacts: [release.txt]
deploy:
  driver: command
  run: cat \"$TANDEM_ARTIFACT_DIR/release.txt\"
",
    )
    .unwrap();
    std::fs::write(repo.join("VERSION"), "1\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    let server = Server::start(dir.path(), &PLATFORM.replace("REPO", &repo.display().to_string()));

    // v1, before the idea: every market runs it.
    let (_, v1) = server.run_to_release().await;
    server.roll_out(&v1).await;

    // The idea, for France and Belgium; its commit, then a commit on top that does not
    // mention it: the pipeline runs at the head, which contains the idea's commit.
    let idea = server.cli_json(&["idea", "add", "Pay with iDEAL", "--market", "fr", "--market", "be"]);
    let key = idea["key"].as_str().unwrap().to_string();
    assert_eq!(
        idea["markets"],
        json!(["fr", "be"]),
        "a JSON list, not JSON in a string"
    );
    let created_at = idea["created_at"].as_i64().unwrap();
    let planned = server.cli_json(&["idea", "flow", &key]);
    assert_eq!(planned["flow"]["now"]["stage"], "created");
    assert_eq!(planned["flow"]["now"]["pending"], json!(["fr", "be"]));

    std::fs::write(repo.join("VERSION"), "2\n").unwrap();
    git(&repo, &["commit", "-q", "-am", &format!("{key}: pay with iDEAL")]);
    let idea_sha = git(&repo, &["rev-parse", "HEAD"]);
    let authored_s: i64 = git(&repo, &["log", "-1", "--format=%at"]).parse().unwrap();
    std::fs::write(repo.join("NOTES"), "tidy\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "tidy the notes"]);
    let (run, v2) = server.run_to_release().await;
    assert_ne!(run["commit_sha"], idea_sha.as_str(), "the run is at a descendant");
    let after_release = server.cli_json(&["idea", "flow", &key]);
    assert_eq!(after_release["flow"]["now"]["stage"], "release");

    let deployments = server.roll_out(&v2).await;
    let (fr, be, nl) = (
        finished_in(&deployments, "fr"),
        finished_in(&deployments, "be"),
        finished_in(&deployments, "nl"),
    );

    // The commits each deployment brought are read in the background: wait for them.
    let answer = wait("the idea to reach every target", async || {
        let a = server.cli_json(&["idea", "flow", &key]);
        (a["flow"]["now"]["stage"] == "all_targets" && a["flow"]["now"]["live"].as_array()?.len() == 3).then_some(a)
    })
    .await;
    let flow = &answer["flow"];
    let expected = [
        ("created", created_at),
        ("first_commit", authored_s * 1000),
        ("green_pipeline", run["finished_at"].as_i64().unwrap()),
        ("release", v2["created_at"].as_i64().unwrap()),
        ("pilot", fr),
        ("all_targets", fr.max(be)),
    ];
    let mut previous = created_at;
    for (name, at) in expected {
        let s = stage(flow, name);
        assert_eq!(s["at"], at, "{name}: {s}");
        assert_eq!(s["since_created"], (at - created_at).max(0), "{name}");
        assert_eq!(s["since_previous"], (at - previous).max(0), "{name}");
        previous = at;
    }
    assert_eq!(stage(flow, "first_commit")["by"], idea_sha.as_str());
    assert_eq!(stage(flow, "green_pipeline")["by"], format!("run {}", run["id"]));
    assert_eq!(stage(flow, "release")["by"], "app v2");
    assert_eq!(flow["now"]["live"], json!(["fr", "be", "nl"]));
    assert_eq!(flow["now"]["pending"], json!([]));
    let markets = flow["markets"].as_array().unwrap();
    let arrived: Vec<(&str, i64, bool)> = markets
        .iter()
        .map(|m| {
            (
                m["market"].as_str().unwrap(),
                m["arrived_at"].as_i64().unwrap(),
                m["target"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(arrived, [("fr", fr, true), ("be", be, true), ("nl", nl, false)]);

    // What shipped this week: the idea, in the three markets. v1's commit mentions no idea.
    let week = server.cli_json(&["flow"]);
    let ideas = week["ideas"].as_array().unwrap();
    assert_eq!(ideas.len(), 1, "{week}");
    assert_eq!(ideas[0]["idea"]["key"], key.as_str());
    assert_eq!(ideas[0]["shipped_to"], json!(["fr", "be", "nl"]));
    assert_eq!(ideas[0]["flow"], *flow);
    let table = server.cli(&["flow", "--days", "7"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(&key) && text.contains("all_targets") && text.contains("fr be nl"),
        "{text}"
    );
    let table = server.cli(&["idea", "flow", &key]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("green_pipeline") && text.contains(&format!("run {}", run["id"])),
        "{text}"
    );
    // Both routes write the idea's flow as the same text, its keys in the order the API
    // documents: stages, now, markets.
    let raw = |path: String| {
        let (base, token) = (server.base.clone(), server.token.clone());
        async move {
            let answer = tandem_testkit::http()
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{path}");
            answer.text().await.unwrap()
        }
    };
    let one = raw(format!("/api/v1/ideas/{key}/flow")).await;
    let shipped = raw("/api/v1/flow?days=7".to_string()).await;
    let start = one.find("\"flow\":{").expect("the idea's flow") + "\"flow\":".len();
    let end = one[start..].find(",\"markets\":").expect("its markets") + start;
    let head = &one[start..end];
    assert!(head.starts_with("{\"stages\":[{\"stage\":\"created\",\"at\":"), "{one}");
    assert!(head.contains("],\"now\":{\"stage\":\"all_targets\",\"live\":"), "{one}");
    let whole = &one[start..one.rfind(",\"shipped_to\"").unwrap_or(one.len() - 1)];
    assert!(
        shipped.contains(whole),
        "/flow writes the same flow as /ideas/{key}/flow:\n{one}\n{shipped}"
    );
    // A window that ended before the rollout holds nothing.
    let before = server.api().get(&format!("/api/v1/flow?from=0&to={fr}")).await;
    assert_eq!(before["ideas"], json!([]));
    let page = tandem_testkit::http()
        .get(format!("{}/flow", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-idea=\"{key}\"")),
        "the flow page lists the idea"
    );
    let chart = &html[html.find("id=\"flow-chart\"").expect("the flow chart")..];
    assert!(
        chart.contains("<svg") && chart.contains(key.as_str()) && chart.contains("pilot market"),
        "the chart draws the idea's stages"
    );

    // nl goes back to v1: the idea is no longer live there; no stage is undone.
    server
        .api()
        .post("/api/v1/services/app/rollback", json!({ "markets": ["nl"] }))
        .await;
    let after = server.cli_json(&["idea", "flow", &key]);
    assert_eq!(after["flow"]["now"]["live"], json!(["fr", "be"]));
    assert_eq!(after["flow"]["now"]["stage"], "all_targets");
    assert_eq!(after["flow"]["stages"], flow["stages"]);
    let nl_now = after["flow"]["markets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["market"] == "nl")
        .unwrap()
        .clone();
    assert_eq!(nl_now["state"], "withdrawn");

    let missing = server.cli(&["idea", "flow", "T-99"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("T-99"));

    // DORA's keys under the command's name, and under its former name `metrics`: the same
    // deployments counted, at least the rollout's three.
    let deployments = |answer: &Value| answer["keys"]["total"]["deployment_frequency"]["deployments"].as_u64();
    let dora = server.cli_json(&["dora", "--service", "app"]);
    let former = server.cli_json(&["metrics", "--service", "app"]);
    assert!(deployments(&dora) >= Some(3), "{dora}");
    assert_eq!(deployments(&former), deployments(&dora), "{former}");
}
