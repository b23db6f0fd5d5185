//! `tandem demo --json --exit-when-done` end to end: real git, the real pipeline building the
//! shop, 25 real market processes; then what a user would check: every market live on its
//! release, each serving its own language and currency, the ideas linked, and every process
//! stopped when the demo exits.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The demo builds a Rust program on a 2-core machine: give it time, but not forever.
const DEMO_DEADLINE: Duration = Duration::from_secs(900);

fn get(url: &str, token: Option<&str>) -> Result<(u16, String), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = tandem_testkit::http().get(url).timeout(Duration::from_secs(5));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(|e| e.to_string())?))
    })
}

#[test]
fn the_demo_builds_releases_and_rolls_out_to_25_markets() {
    tell_the_story_and_check_it(None);
}

/// The same story on PostgreSQL (`tandem demo --database`), told by two servers one of which
/// is killed half-way, and served again from there.
#[test]
fn the_demo_tells_the_same_story_on_postgres() {
    let database = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(tandem_testkit::postgres::Database::create());
    tell_the_story_and_check_it(Some(&database.url));
}

/// Runs the demo (on SQLite in its data folder, or on the PostgreSQL database at `database`),
/// checks its summary, then serves its data again and checks what a user would see.
fn tell_the_story_and_check_it(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_tandem"));
    if let Some(url) = database {
        demo.args(["demo", "--database", url]);
    } else {
        demo.arg("demo");
    }
    let mut child = demo
        .args(["--json", "--exit-when-done", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEMO_DEADLINE {
            child.kill().unwrap();
            panic!("the demo did not finish within {DEMO_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "demo failed ({status}):\n{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("markets done") && l.trim_end().ends_with(" wave")),
        "a progress line names no wave:\n{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{stderr}"));

    assert!(summary["server"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(summary["token"].as_str().unwrap().starts_with("tdm_"));
    let markets = summary["markets"].as_array().unwrap();
    assert_eq!(markets.len(), 25);
    assert_eq!(markets[0]["id"], "fr", "the pilot market comes first");
    let waves: std::collections::BTreeSet<&str> = markets.iter().map(|m| m["wave"].as_str().unwrap()).collect();
    assert!(waves.len() >= 4, "at least four waves: {waves:?}");
    for m in markets {
        assert_eq!(m["release"], "v1", "{m}");
        assert_eq!(m["state"], "live", "{m}");
    }
    // The first release reached every market; the second, whose new page fails every shopper,
    // was caught by its canary in the pilot market, on a quarter of France's real shoppers,
    // and went no further.
    assert_eq!(summary["rollouts"][0]["state"], "succeeded");
    assert_eq!(summary["rollouts"][1]["release"], "v2");
    assert_eq!(summary["rollouts"][1]["state"], "halted");
    let reason = summary["rollouts"][1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("failed its gate in fr: canary at 25%: metric gate failed: errors: error ratio"),
        "{reason}"
    );
    let shoppers = &summary["shoppers"];
    assert!(shoppers["markets"].as_u64().unwrap() >= 20, "{shoppers}");
    assert!(shoppers["requests"].as_u64().unwrap() > 1000, "{shoppers}");
    let canary = shoppers["canary"].as_str().unwrap();
    assert!(
        canary.starts_with("25% of fr's requests: ") && canary.contains("every request back on the release fr runs "),
        "{canary}"
    );
    // Only France's shoppers met the faulty release, during its one step; nobody else, not even
    // while the config change rolled out through every market's canary.
    let errors = shoppers["errors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["fr"], "{shoppers}");
    // Two incidents: v2's failed gate in fr, and pl hanging (opened and resolved by the monitor).
    let incidents = summary["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{incidents:?}");
    assert!(
        incidents
            .iter()
            .any(|i| i["market"] == "fr" && i["state"] == "resolved")
    );
    let hang = &summary["monitor"];
    assert_eq!(hang["market"], "pl");
    assert!(
        incidents
            .iter()
            .any(|i| i["id"] == hang["incident"] && i["state"] == "resolved"),
        "{hang} {incidents:?}"
    );
    assert!(
        hang["title"]
            .as_str()
            .unwrap()
            .contains("pl stopped answering its probe /healthz"),
        "{hang}"
    );
    assert_eq!(hang["resolved_by"], "tandem (the market answers its probe again)");
    // Idea to production: the ideas whose commits went live today, with the time to their pilot.
    let flow = summary["flow"].as_array().unwrap();
    let t1 = flow.iter().find(|f| f["idea"] == "T-1").expect("T-1 shipped today");
    assert_eq!(
        (t1["now"].as_str(), t1["live_in"].as_u64()),
        (Some("all_targets"), Some(25)),
        "{t1}"
    );
    assert!(
        t1["to_pilot_ms"].as_i64().unwrap() <= t1["to_all_targets_ms"].as_i64().unwrap(),
        "{t1}"
    );
    assert!(
        flow.iter().all(|f| f["idea"] != "T-4"),
        "the faulty change shipped nowhere: {flow:?}"
    );
    // Hungary, planned, got v1 with its wave, passed its launch checklist and was launched.
    let launch = &summary["launch"];
    assert_eq!(launch["state_before"], "launching", "{launch}");
    assert_eq!(launch["launched_by"], "olga (ops)");
    let checks: Vec<&str> = launch["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["config", "flags", "release", "probe"]);
    assert!(
        launch["checks"].as_array().unwrap().iter().all(|c| c["passed"] == true),
        "{launch}"
    );
    assert!(
        hang["deployment"].as_i64().is_some(),
        "linked to pl's live deployment: {hang}"
    );
    assert_eq!(summary["runs"][0]["state"], "success");
    assert_eq!(summary["runs"][1]["state"], "success");
    // The server ran no step: every job of both runs ran on a local agent (on PostgreSQL
    // each of the two servers has one, and either may take a job).
    for run in summary["runs"].as_array().unwrap() {
        let agents = run["agents"].as_array().unwrap();
        let most = if database.is_some() { 2 } else { 1 };
        assert!(
            (1..=most).contains(&agents.len()) && agents.iter().all(|a| a.as_str().unwrap().starts_with("local-")),
            "{run}"
        );
    }
    // On PostgreSQL two servers tell the story: the conductor is killed after the first
    // rollout, the demo's own server takes over and finds every live shop answering; the
    // rest of the story (the faulty release, flags, config, the hang, the launch) runs on it,
    // with the release the dead server built.
    let failover = &summary["failover"];
    if database.is_some() {
        assert_ne!(failover["killed"], failover["survivor"], "{failover}");
        assert!(failover["took_over_ms"].as_u64().unwrap() > 0, "{failover}");
        assert!(failover["live"].as_u64().unwrap() >= 24, "{failover}");
        assert_eq!(failover["answering"], failover["live"], "{failover}");
    } else {
        assert!(failover.is_null(), "one server on SQLite: {failover}");
    }
    // An operator approved the waves after the pilot, once its gates had passed with figures.
    assert_eq!(summary["approvals"][0]["kind"], "approve");
    assert_eq!(summary["approvals"][0]["by"], "olga (ops)");
    let gates: Vec<&str> = summary["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["gate"].as_str().unwrap())
        .collect();
    assert_eq!(gates, ["config", "probe", "metric:errors", "metric:p99-latency"]);
    assert!(summary["gates"].as_array().unwrap().iter().all(|g| g["passed"] == true));
    assert_eq!(summary["gates"][2]["value"], 0.0, "no error in the pilot");
    // The shop's flags answer over OFREP with the demo's token: about a fifth of France on the
    // new checkout (stable hashing of each shopper), the banner per market, the kill switch.
    let flags = &summary["flags"];
    let on = flags["new_checkout_fr"]["on"].as_u64().unwrap();
    assert!((150..=250).contains(&on), "20 % of 1000 shoppers, give or take: {on}");
    assert_eq!(flags["banner"]["fr"], "Black Friday: -20%");
    assert_eq!(flags["banner"]["de"], "Welcome");
    assert_eq!(flags["delivery_estimate"]["reason"], "DISABLED");
    // An emergency: ops kills the new checkout in fr at once; dev reviews it afterwards.
    assert_eq!(flags["emergency"]["after"]["reason"], "DISABLED", "{flags}");
    assert_eq!(flags["emergency"]["after"]["value"], false);
    assert_eq!(flags["emergency"]["review_before"], "unreviewed");
    assert_eq!(flags["emergency"]["review_after"], "approved");
    assert_eq!(
        flags["approved_by"], "olga (ops)",
        "a developer's flag change, approved by ops"
    );
    // One parameter in one market, changed through a change request the other side approved,
    // rolled out behind the gates and heard by a service watching that market's config.
    let change = &summary["config_change"];
    assert_eq!(change["author"], "dana (dev)");
    assert_eq!(change["approved_by"], serde_json::json!(["olga (ops)"]));
    assert_eq!(change["markets_changed"], serde_json::json!(["nl"]));
    assert_eq!(
        change["diff"],
        serde_json::json!(["nl: free_shipping_threshold 50 → 40"])
    );
    assert_eq!(
        (change["state"].as_str(), change["rollout"]["state"].as_str()),
        (Some("done"), Some("succeeded"))
    );
    assert!(change["watcher_ms"].as_u64().is_some());
    // The four keys count what happened: 25 markets, then the pilot's failed deployment, then
    // nl's config deployment (the markets whose config did not change are not deployed). Two
    // failed: v2 in fr, and v1 in pl, whose hang is linked to it.
    let dora = &summary["dora"];
    assert_eq!(dora["deployment_frequency"]["deployments"], 27);
    assert_eq!(dora["change_failure_rate"]["failed"], 2, "{dora}");
    assert!(dora["lead_time"]["commits"].as_u64().unwrap() >= 25, "{dora}");
    // fr was restored when v1 answered again, pl when it answered again: both recovered.
    assert_eq!(dora["recovery_time"]["recovered"], 2, "{dora}");
    assert_eq!(
        change["validation"],
        serde_json::json!({ "errors": 0, "unchecked": 0 }),
        "nl was checked against the schema of the release running there"
    );
    // The team chat heard of the approval asked for, the incident and the halt.
    let told: Vec<&str> = summary["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for wanted in [
        "waits for an approval",
        "Incident 1: shop v2 failed its gate in fr",
        "v2 halted",
        "pl stopped answering its probe",
    ] {
        assert!(told.iter().any(|m| m.contains(wanted)), "{wanted} not in {told:?}");
    }

    // The demo exited, so its server and every market process are gone.
    for m in markets {
        assert!(
            get(m["url"].as_str().unwrap(), None).is_err(),
            "{} still answers after the demo exited",
            m["id"]
        );
    }
    assert!(get(&format!("{}/healthz", summary["server"].as_str().unwrap()), None).is_err());

    // What the demo left in its data folder tells the same story when served again.
    let port = tandem_testkit::server::free_port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_tandem"));
    if let Some(url) = database {
        // The demo made the key its secrets are sealed with, in its data folder.
        serve
            .env("TANDEM_DATABASE", url)
            .env("TANDEM_SECRETS_KEY_FILE", data.join("secrets.key"));
    }
    let mut server = serve
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let token = summary["token"].as_str().unwrap();
    let mut ready = false;
    for _ in 0..300 {
        if get(&format!("{base}/healthz"), None).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let check = || -> Result<(), String> {
        if !ready {
            return Err("the server did not start on the demo's data folder".into());
        }
        // Live markets come back on their recorded ports, serving their own market.
        let mut live: Vec<Value> = Vec::new();
        for _ in 0..300 {
            let (_, body) = get(&format!("{base}/api/v1/markets"), Some(token))?;
            live = serde_json::from_str(&body).map_err(|e| e.to_string())?;
            if live.iter().all(|m| m["services"][0]["health"] == "up") {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            live.iter().all(|m| m["services"][0]["health"] == "up"),
            "every market restarts: {live:?}"
        );
        let url_of = |id: &str| -> String {
            let m = live.iter().find(|m| m["id"] == id).unwrap();
            m["services"][0]["url"].as_str().unwrap().to_string()
        };
        let (_, fr) = get(&format!("{}/", url_of("fr")), None)?;
        assert!(
            fr.contains("€") && fr.contains("France"),
            "the French shop shows euros:\n{fr}"
        );
        let (_, pl) = get(&format!("{}/", url_of("pl")), None)?;
        assert!(
            pl.contains("zł") || pl.contains("PLN"),
            "the Polish shop shows złoty:\n{pl}"
        );
        let (code, health) = get(&format!("{}/healthz", url_of("hu")), None)?;
        assert_eq!((code, health.as_str()), (200, "ok"));

        let (_, ideas) = get(&format!("{base}/api/v1/ideas"), Some(token))?;
        let ideas: Vec<Value> = serde_json::from_str(&ideas).map_err(|e| e.to_string())?;
        let t1 = ideas.iter().find(|i| i["key"] == "T-1").unwrap();
        assert_eq!(t1["state"], "live");
        assert_eq!(t1["live_in"].as_array().unwrap().len(), 25);
        assert_eq!(t1["commits"].as_array().unwrap().len(), 2);
        let t3 = ideas.iter().find(|i| i["key"] == "T-3").unwrap();
        assert_eq!(t3["state"], "planned");
        let t4 = ideas.iter().find(|i| i["key"] == "T-4").unwrap();
        assert_eq!(t4["state"], "in development", "the faulty change is live nowhere");

        // The plan of the faulty v2 says what it would do; v1 is already everywhere.
        let (_, releases) = get(&format!("{base}/api/v1/releases?service=shop"), Some(token))?;
        let releases: Vec<Value> = serde_json::from_str(&releases).map_err(|e| e.to_string())?;
        let id_of = |v: &str| {
            releases.iter().find(|r| r["version"] == v).unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        let (_, plan) = get(&format!("{base}/api/v1/releases/{}/plan", id_of("v2")), Some(token))?;
        let plan: Value = serde_json::from_str(&plan).map_err(|e| e.to_string())?;
        assert_eq!(plan["waves"][0]["name"], "pilot");
        assert_eq!(
            plan["waves"][0]["markets"][0],
            serde_json::json!({ "market": "fr", "current": "v1", "action": "deploy", "blockers": [] })
        );
        assert_eq!(plan["waves"][0]["approval"], Value::Null);
        assert_eq!(
            plan["waves"][1]["approval"],
            "waits for an approval (operator or above)"
        );
        assert_eq!(plan["gates"]["probe"]["path"], "/healthz");
        let (_, plan) = get(&format!("{base}/api/v1/releases/{}/plan", id_of("v1")), Some(token))?;
        assert!(!plan.contains("\"deploy\""), "v1 is already everywhere: {plan}");
        let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["release", "plan", "shop", "v2", "--server", &base, "--token", token])
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())?;
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(
            table.contains("Plan for shop v2") && table.contains("1 pilot") && table.contains("5 north-east"),
            "{table}"
        );

        // The rollouts as people name what they carry: versions, not release ids.
        let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["rollout", "list", "--server", &base, "--token", token])
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())?;
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for carries in ["v1", "v2", "config v2 (on v1)"] {
            assert!(table.contains(carries), "{carries} not in:\n{table}");
        }

        let (_, events) = get(&format!("{base}/api/v1/events?limit=5000"), Some(token))?;
        let events: Vec<Value> = serde_json::from_str(&events).map_err(|e| e.to_string())?;
        let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
        // 25 markets on v1, then nl again with its new config.
        assert_eq!(count("deployment.live"), 26);
        assert_eq!(count("release.created"), 2);
        assert_eq!(count("rollout.succeeded"), 2, "v1's rollout and the config rollout");
        assert_eq!(count("change.done"), 2, "the flag change and the config change");
        assert_eq!(count("rollout.halted"), 1);
        assert_eq!(count("deployment.failed"), 1);
        assert_eq!(count("incident.opened"), 2, "v2's gate in fr, pl's hang");
        assert_eq!((count("market.down"), count("market.up")), (1, 1));
        assert_eq!((count("market.launching"), count("market.launched")), (1, 1));
        // After a restart Hungary is still live: the platform file's `planned` does not undo it.
        let hu = live.iter().find(|m| m["id"] == "hu").unwrap();
        assert_eq!(hu["state"], "live", "{hu}");
        Ok(())
    };
    let result = check();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let stopped = server.wait().unwrap();
    result.unwrap();
    assert!(stopped.success(), "tandem serve stops cleanly on SIGTERM: {stopped}");
}
