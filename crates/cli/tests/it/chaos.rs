//! A server killed (SIGKILL) at random moments during 25-market rollouts, many rounds, and
//! started again each time: every rollout still ends, every market ends on exactly one
//! release, and no deploy step ran twice for one deployment. The `command` driver runs a
//! script that journals each deploy, so the test sees what really ran.
//!
//! With the `process` driver (the demo's shop as each market's process), the same kills leave
//! no process behind: after every round each live market runs exactly one process of this test,
//! of its recorded release and deployment, the one the server says it supervises, and the
//! health answer says up; a clean stop leaves none, of any release.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Api, CODES, platform_of};
use rand::Rng;
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tandem_testkit::git;

/// Releases rolled out (`TANDEM_CHAOS_ROUNDS` for a longer soak), and the most kills per rollout.
const ROUNDS: usize = 3;
const KILLS_PER_ROUND: usize = 4;

/// Journals the start and end of each deploy (by deployment id) in the market's folder.
const DEPLOY: &str = r#"echo "start $TANDEM_DEPLOYMENT_ID $TANDEM_RELEASE" >> journal
sleep 0.2
echo "done $TANDEM_DEPLOYMENT_ID $TANDEM_RELEASE" >> journal
"#;

fn platform(repo: &Path) -> String {
    platform_of(
        repo,
        &[&CODES[..1], &CODES[1..4], &CODES[4..7], &CODES[7..13], &CODES[13..]],
    )
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

    /// Asks the server to stop (SIGTERM) and waits until it exited.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    /// A failing test leaves nothing running (after `kill` or `stop`, nothing is signalled:
    /// the child was waited for).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let port = tandem_testkit::server::free_port();
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
        last_release = new_release(&api, &repo, round).await.0;
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
        let end = api.rollout_end(id).await;
        assert_eq!(end["state"], "succeeded", "round {round}: {end}");
    }
    assert!(kills >= rounds, "the server was killed {kills} times");
    assert!(
        mid_wave > 0,
        "no kill landed while a market was deploying ({kills} kills)"
    );
    eprintln!("{kills} kills over {rounds} rollouts, {mid_wave} while markets were deploying");

    // Every market runs exactly one release: the last one.
    let (deployments, live) = api.live_releases().await;
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

/// The markets of the `process` driver's rounds (fewer: each runs a real process), by wave.
const PROCESS_WAVES: [&[&str]; 3] = [&["fr"], &["be", "nl", "lu"], &["de", "at", "ch", "it"]];

/// The demo's shop, built (offline) once into this test's own target folder: the market process.
fn shop_binary() -> PathBuf {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop/Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chaos-shop");
    let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
        .args(["build", "--offline", "--release", "--quiet", "--manifest-path"])
        .arg(&shop)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success(), "cannot build the shop");
    target.join("release/shop")
}

/// A repository of `app`, whose release is the prebuilt shop run by the `process` driver, and a
/// platform file for it; returns (repo, platform file, data folder).
fn process_service(dir: &Path, bake: &str) -> (PathBuf, PathBuf, PathBuf) {
    let repo = dir.join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        format!(
            "service: app
pipeline:
  env: {{ SHOP_BIN: \"{}\" }}
  jobs:
    build:
      steps: [{{ run: cp \"$SHOP_BIN\" shop && cp VERSION version.txt }}]
      artifacts: [shop, version.txt]
deploy:
  driver: process
  run: \"{{artifact:shop}} --port {{port}}\"
monitor: {{ interval: 300ms, timeout: 250ms, failures: 3 }}
gates:
  probe: {{ path: /healthz, successes: 1, failures: 3 }}
  bake: {bake}
",
            shop_binary().display()
        ),
    )
    .unwrap();
    std::fs::write(repo.join("VERSION"), "0\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    let platform_file = dir.join("platform.yml");
    std::fs::write(&platform_file, platform_of(&repo, &PROCESS_WAVES)).unwrap();
    (repo, platform_file, dir.join("data"))
}

/// Commits a new VERSION, runs the pipeline and returns the release it made: (id, version).
async fn new_release(api: &Api, repo: &Path, round: usize) -> (i64, String) {
    std::fs::write(repo.join("VERSION"), format!("{round}\n")).unwrap();
    git(repo, &["commit", "-q", "-am", &format!("release {round}")]);
    api.release_of_new_run("app").await
}

/// A market process of this test (its config file lies in the test's data folder), as /proc
/// shows it: what its environment says it is.
#[derive(Debug, Clone)]
struct Seen {
    pid: i32,
    market: String,
    release: String,
    deployment: i64,
}

fn market_processes(data: &Path) -> Vec<Seen> {
    let prefix = data.to_string_lossy().into_owned();
    procfs::process::all_processes()
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|p| {
            let stat = p.stat().ok().filter(|s| s.state != 'Z')?;
            let env = p.environ().ok()?;
            let get = |k: &str| {
                env.get(std::ffi::OsStr::new(k))
                    .map(|v| v.to_string_lossy().into_owned())
            };
            get("TANDEM_CONFIG_FILE")?.starts_with(&prefix).then_some(())?;
            Some(Seen {
                pid: stat.pid,
                market: get("TANDEM_MARKET")?,
                release: get("TANDEM_RELEASE")?,
                deployment: get("TANDEM_DEPLOYMENT_ID")?.parse().ok()?,
            })
        })
        .collect()
}

/// What differs between the live markets of `rollout` (all of `markets`, on `version`) and the
/// processes running: each live market must run exactly one process, of its recorded release
/// and deployment, whose pid is the one the server recorded (it supervises it), and the health
/// answer must say it is up. Empty when all holds; else the live processes too.
async fn census(api: &Api, data: &Path, rollout: i64, version: &str, markets: &[&str]) -> (Vec<String>, Vec<Seen>) {
    let deployments = api.get(&format!("/api/v1/deployments?rollout={rollout}")).await;
    let health = api.get("/api/v1/health").await;
    let seen = market_processes(data);
    let mut problems = Vec::new();
    for market in markets {
        let live: Vec<_> = deployments
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["market"] == *market && d["state"] == "live")
            .collect();
        let [live] = live[..] else {
            problems.push(format!("{market}: {} live deployments of the rollout", live.len()));
            continue;
        };
        let id = live["id"].as_i64().unwrap();
        let mine: Vec<&Seen> = seen.iter().filter(|s| s.market == *market).collect();
        match mine[..] {
            [p] if p.release == version && p.deployment == id && live["pid"].as_i64() == Some(i64::from(p.pid)) => {}
            _ => problems.push(format!(
                "{market}: live deployment {id} ({version}, pid {}) but processes {mine:?}",
                live["pid"]
            )),
        }
        let up = health
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["market"] == *market && h["state"] == "up" && h["deployment_id"].as_i64() == Some(id));
        if !up {
            problems.push(format!(
                "{market}: the health answer does not say deployment {id} is up"
            ));
        }
    }
    let strays: Vec<&Seen> = seen.iter().filter(|s| !markets.contains(&s.market.as_str())).collect();
    if !strays.is_empty() {
        problems.push(format!("processes of no live market: {strays:?}"));
    }
    (problems, seen)
}

/// Waits until [`census`] finds nothing wrong; panics with what it found last. Returns the
/// processes.
async fn assert_census(api: &Api, data: &Path, rollout: i64, version: &str, markets: &[&str]) -> Vec<Seen> {
    let started = std::time::Instant::now();
    loop {
        let (problems, seen) = census(api, data, rollout, version, markets).await;
        if problems.is_empty() {
            return seen;
        }
        assert!(
            started.elapsed() < common::DEADLINE,
            "the processes do not match the live markets:\n{}",
            problems.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_rollout_leaves_one_supervised_process_per_market() {
    let dir = tempfile::tempdir().unwrap();
    // A short bake keeps each wave under way long enough for kills to land in it.
    let (repo, platform_file, data) = process_service(dir.path(), "1s");
    let markets = PROCESS_WAVES.concat();
    let (mut server, token) = Server::start(&data, &platform_file, tandem_testkit::server::free_port());
    let api = Api::new(&server.base, &token.unwrap());
    let mut rng = rand::rng();
    let (mut kills, mut mid_wave) = (0, 0);
    let rounds = std::env::var("TANDEM_CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    for round in 1..=rounds {
        let (release_id, version) = new_release(&api, &repo, round).await;
        let rollout = api.post("/api/v1/rollouts", json!({ "release_id": release_id })).await;
        let id = rollout["id"].as_i64().unwrap();
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
        let end = api.rollout_end(id).await;
        assert_eq!(end["state"], "succeeded", "round {round}: {end}");
        let before = assert_census(&api, &data, id, &version, &markets).await;

        // Killed while nothing is deployed, the server adopts what runs: the same processes.
        server = server.restart();
        kills += 1;
        let after = assert_census(&api, &data, id, &version, &markets).await;
        let pids = |seen: &[Seen]| {
            let mut pids: Vec<(String, i32)> = seen.iter().map(|s| (s.market.clone(), s.pid)).collect();
            pids.sort();
            pids
        };
        assert_eq!(
            pids(&after),
            pids(&before),
            "round {round}: the processes were not adopted"
        );
    }
    assert!(
        mid_wave > 0,
        "no kill landed while a market was deploying ({kills} kills)"
    );
    eprintln!("{kills} kills over {rounds} rollouts, {mid_wave} while markets were deploying");
    assert_eq!(server.stop().code(), Some(0));
    let left = market_processes(&data);
    assert!(left.is_empty(), "market processes outlived a clean stop: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_leaves_no_market_process_of_any_release() {
    let dir = tempfile::tempdir().unwrap();
    // A bake keeps the new release beside the old one for a while.
    let (repo, platform_file, data) = process_service(dir.path(), "3s");
    let markets = PROCESS_WAVES.concat();
    let (server, token) = Server::start(&data, &platform_file, tandem_testkit::server::free_port());
    let api = Api::new(&server.base, &token.unwrap());
    let (first, _) = new_release(&api, &repo, 1).await;
    let r1 = api.post("/api/v1/rollouts", json!({ "release_id": first })).await;
    let r1 = r1["id"].as_i64().unwrap();
    api.wait("the first rollout", async |api| {
        let r = api.get(&format!("/api/v1/rollouts/{r1}")).await;
        (r["state"] == "succeeded").then_some(())
    })
    .await;
    let (second, v2) = new_release(&api, &repo, 2).await;
    api.post("/api/v1/rollouts", json!({ "release_id": second })).await;
    // The pilot's new process is baking beside the old one: both releases run.
    let both = api
        .wait("both releases to run", async |_| {
            let seen = market_processes(&data);
            (seen.iter().any(|s| s.release == v2) && seen.iter().any(|s| s.release != v2)).then_some(seen)
        })
        .await;
    assert!(both.len() > markets.len(), "{both:?}");

    // Killed, then started again and stopped cleanly: nothing of either release remains.
    let server = server.restart();
    api.get("/api/v1/health").await;
    assert_eq!(server.stop().code(), Some(0));
    let left = market_processes(&data);
    assert!(left.is_empty(), "market processes outlived a clean stop: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_on_a_markets_port_is_not_reported_up() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, platform_file, data) = process_service(dir.path(), "0s");
    let markets = PROCESS_WAVES.concat();
    let (server, token) = Server::start(&data, &platform_file, tandem_testkit::server::free_port());
    let api = Api::new(&server.base, &token.unwrap());
    let (release, version) = new_release(&api, &repo, 1).await;
    let rollout = api.post("/api/v1/rollouts", json!({ "release_id": release })).await;
    let id = rollout["id"].as_i64().unwrap();
    api.wait("the rollout", async |api| {
        let r = api.get(&format!("/api/v1/rollouts/{id}")).await;
        (r["state"] == "succeeded").then_some(())
    })
    .await;
    let seen = assert_census(&api, &data, id, &version, &markets).await;

    let deployments = api.get(&format!("/api/v1/deployments?rollout={id}")).await;
    let url = deployments
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["market"] == "fr")
        .unwrap()["url"]
        .clone();
    let fr_port: u16 = url.as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();

    // The server dies, so does fr's process, and a stranger takes fr's port and answers 200.
    let (data_dir, platform, port) = (server.data.clone(), server.platform.clone(), server.port);
    server.kill();
    let fr = seen.iter().find(|s| s.market == "fr").unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(fr.pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let stranger = api
        .wait("fr's port to be free", async |_| {
            std::net::TcpListener::bind(("127.0.0.1", fr_port)).ok()
        })
        .await;
    std::thread::spawn(move || {
        for conn in stranger.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut conn, &mut buf);
            let _ = std::io::Write::write_all(
                &mut conn,
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            );
        }
    });
    let (server, _) = Server::start(&data_dir, &platform, port);
    let health = api
        .wait("fr to be reported down", async |api| {
            let health = api.get("/api/v1/health").await;
            let fr = health.as_array().unwrap().iter().find(|h| h["market"] == "fr")?.clone();
            assert_ne!(fr["state"], "up", "a stranger on fr's port is reported up: {fr}");
            (fr["state"] == "down").then_some(fr)
        })
        .await;
    assert!(health["error"].as_str().unwrap().contains("supervision"), "{health}");
    assert_eq!(server.stop().code(), Some(0));
    assert!(market_processes(&data).is_empty());
}
