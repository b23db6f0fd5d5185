//! A server killed (SIGKILL) at random moments during 25-market rollouts, many rounds, and
//! started again each time: every rollout still ends, every market ends on exactly one
//! release, and no deploy step ran twice for one deployment. The `command` driver runs a
//! script that journals each deploy, so the test sees what really ran.

#![allow(clippy::unwrap_used)]

mod common;

use common::Api;
use rand::Rng;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tandem_testkit::git;

const CODES: [&str; 25] = [
    "fr", "be", "nl", "lu", "de", "at", "ch", "it", "es", "pt", "gr", "mt", "cy", "ie", "gb", "se", "dk", "fi", "ee",
    "lv", "lt", "pl", "cz", "sk", "hu",
];
/// Releases rolled out (`TANDEM_CHAOS_ROUNDS` for a longer soak), and the most kills per rollout.
const ROUNDS: usize = 3;
const KILLS_PER_ROUND: usize = 4;

/// Journals the start and end of each deploy (by deployment id) in the market's folder.
const DEPLOY: &str = r#"echo "start $TANDEM_DEPLOYMENT_ID $TANDEM_RELEASE" >> journal
sleep 0.2
echo "done $TANDEM_DEPLOYMENT_ID $TANDEM_RELEASE" >> journal
"#;

fn platform(repo: &Path) -> String {
    let mut text = String::from("markets:\n");
    for code in CODES {
        text.push_str(&format!(
            "  - {{ id: {code}, name: M-{code}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    text.push_str("waves:\n");
    for (i, chunk) in [&CODES[..1], &CODES[1..4], &CODES[4..7], &CODES[7..13], &CODES[13..]]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("  - {{ name: w{i}, markets: [{}] }}\n", chunk.join(", ")));
    }
    text.push_str(&format!("services:\n  - {{ name: app, repo: {} }}\n", repo.display()));
    text
}

struct Server {
    child: Child,
    base: String,
    port: u16,
    data: PathBuf,
    platform: PathBuf,
}

impl Server {
    fn start(data: &Path, platform: &Path, port: u16) -> (Server, Option<String>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--platform"])
            .arg(platform)
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first start names the file holding the admin token; later ones make none.
        let mut err = child.stderr.take().unwrap();
        let token = if data.join("tandem.db").exists() {
            None
        } else {
            wait_for_token_file(&mut err);
            Some(common::first_token(data))
        };
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            data: data.to_path_buf(),
            platform: platform.to_path_buf(),
        };
        (server, token)
    }

    fn kill(mut self) {
        // SIGKILL to this exact process: no shutdown, no cleanup.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn restart(self) -> Server {
        let (data, platform, port) = (self.data.clone(), self.platform.clone(), self.port);
        self.kill();
        Server::start(&data, &platform, port).0
    }
}

fn wait_for_token_file(err: &mut impl std::io::Read) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        assert!(
            err.read(&mut byte).unwrap() > 0,
            "server exited: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(i) = text.find(common::FIRST_TOKEN_FILE)
            && text[i..].contains('\n')
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_rollout_leaves_every_market_on_exactly_one_release() {
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
      artifacts: [release.txt, deploy.sh]
deploy:
  driver: command
  run: sh \"$TANDEM_ARTIFACT_DIR/deploy.sh\"
",
    )
    .unwrap();
    std::fs::write(repo.join("deploy.sh"), DEPLOY).unwrap();
    std::fs::write(repo.join("VERSION"), "0\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    let platform_file = dir.path().join("platform.yml");
    std::fs::write(&platform_file, platform(&repo)).unwrap();
    let data = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut server, token) = Server::start(&data, &platform_file, port);
    let api = Api::new(&server.base, &token.unwrap());
    let mut rng = rand::rng();
    let mut kills = 0;
    let mut mid_wave = 0;
    let mut last_release = 0;
    let rounds = std::env::var("TANDEM_CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    for round in 1..=rounds {
        std::fs::write(repo.join("VERSION"), format!("{round}\n")).unwrap();
        git(&repo, &["commit", "-q", "-am", &format!("release {round}")]);
        let run = api.post("/api/v1/services/app/runs", json!({})).await;
        let run_id = run["id"].as_i64().unwrap();
        let version = api
            .wait("the run", async |api| {
                let r = api.get(&format!("/api/v1/runs/{run_id}")).await;
                assert_ne!(r["state"], "failed", "{r}");
                r["release"].as_str().map(String::from)
            })
            .await;
        let releases = api.get("/api/v1/releases?service=app").await;
        let release = releases
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["version"] == version.as_str())
            .unwrap();
        last_release = release["id"].as_i64().unwrap();
        let rollout = api
            .post("/api/v1/rollouts", json!({ "release_id": last_release }))
            .await;
        let id = rollout["id"].as_i64().unwrap();
        // Kill the server at random moments while the rollout is under way.
        for _ in 0..KILLS_PER_ROUND {
            tokio::time::sleep(Duration::from_millis(rng.random_range(20..400))).await;
            let r = api.get(&format!("/api/v1/rollouts/{id}")).await;
            if r["state"] == "succeeded" {
                break;
            }
            let deploying = api.get(&format!("/api/v1/deployments?rollout={id}")).await;
            mid_wave += usize::from(deploying.as_array().unwrap().iter().any(|d| d["state"] == "deploying"));
            server = server.restart();
            kills += 1;
        }
        let end = api
            .wait("the rollout to end", async |api| {
                let r = api.get(&format!("/api/v1/rollouts/{id}")).await;
                matches!(r["state"].as_str(), Some("succeeded" | "halted" | "failed" | "aborted")).then_some(r)
            })
            .await;
        assert_eq!(end["state"], "succeeded", "round {round}: {end}");
    }
    assert!(kills >= rounds, "the server was killed {kills} times");
    assert!(
        mid_wave > 0,
        "no kill landed while a market was deploying ({kills} kills)"
    );
    eprintln!("{kills} kills over {rounds} rollouts, {mid_wave} while markets were deploying");

    // Every market runs exactly one release: the last one.
    let deployments = api.get("/api/v1/deployments").await;
    let deployments = deployments.as_array().unwrap();
    let mut live: HashMap<&str, Vec<i64>> = HashMap::new();
    for d in deployments.iter().filter(|d| d["state"] == "live") {
        live.entry(d["market"].as_str().unwrap())
            .or_default()
            .push(d["release_id"].as_i64().unwrap());
    }
    assert_eq!(live.len(), 25, "every market is live: {live:?}");
    for (market, releases) in &live {
        assert_eq!(releases, &[last_release], "{market} runs {releases:?}");
    }
    assert!(
        deployments.iter().all(|d| d["state"] != "deploying"),
        "nothing is left half-done"
    );
    // Each deploy step ran at most once per recorded deployment, and every one that ran was
    // recorded first.
    let recorded: HashSet<i64> = deployments.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    for code in CODES {
        let journal = std::fs::read_to_string(data.join("deploy/app/markets").join(code).join("journal")).unwrap();
        let mut started = HashSet::new();
        for line in journal.lines().filter(|l| l.starts_with("start ")) {
            let id: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            assert!(
                recorded.contains(&id),
                "{code}: deployment {id} ran but was never recorded"
            );
            assert!(started.insert(id), "{code}: deployment {id} ran twice:\n{journal}");
        }
        // The live deployment's step ran to its end.
        let live_id = deployments
            .iter()
            .find(|d| d["market"] == code && d["state"] == "live")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        assert!(journal.contains(&format!("done {live_id} ")), "{code}:\n{journal}");
    }
    server.kill();
}
