//! Two `tandem serve` on one PostgreSQL database, each with its own data folder, as an
//! operator runs replicas behind a load balancer: requests land on either, the one holding
//! the conductor's lease does the work that must happen once, flags changed (or killed in an
//! emergency) through one are evaluated by the other, and when the conductor is killed (SIGKILL) mid-rollout the other
//! takes over within seconds and finishes the rollout with the artifact the first one built
//! (blobs are shared through the database): every market ends on exactly one release and no
//! deployment's step ran twice.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Api, CODES, platform_of};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tandem_testkit::git;
use tandem_testkit::postgres::Database;

/// The secrets key every replica shares (hex).
const KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

const FLAGS: &str = "flags:
  new-checkout:
    type: boolean
    variants: { on: true, off: false }
    default: off
    kill-switch: true
";

/// A `tandem serve` replica, stopped when dropped.
struct Replica {
    child: Child,
    base: String,
    /// How it was started, to start it again.
    data: PathBuf,
    platform: PathBuf,
    database: String,
}

impl Replica {
    /// Starts a replica on `database` with its data in `data`; waits until it prints `until`.
    fn start(data: &Path, platform: &Path, database: &str, until: &str) -> Replica {
        let port = tandem_testkit::server::free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--platform"])
            .arg(platform)
            .arg("--data-dir")
            .arg(data)
            .env("TANDEM_DATABASE", database)
            .env("TANDEM_SECRETS_KEY", KEY)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let printed = tandem_testkit::server::read_until(child.stderr.take().unwrap(), until, Duration::from_secs(60));
        let replica = Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
            platform: platform.to_path_buf(),
            database: database.to_string(),
        };
        printed.unwrap_or_else(|printed| panic!("{printed}"));
        replica
    }

    /// Kills the server (SIGKILL) and starts it again on its folder, at once.
    fn restart(mut self) -> Replica {
        let (data, platform, database) = (self.data.clone(), self.platform.clone(), self.database.clone());
        self.signal(nix::sys::signal::Signal::SIGKILL);
        self.child.wait().unwrap();
        drop(self); // gone already: only waited for
        Replica::start(&data, &platform, &database, "tandem is serving")
    }

    /// Asks the server to stop (SIGTERM) and waits for it to exit.
    fn stop(mut self) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.child.wait().unwrap()
    }

    /// Sends `signal` to the server's process.
    fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }
}

impl Drop for Replica {
    /// Asks the server to stop (so that, as the conductor, it stops its markets' processes),
    /// and kills it if it has not within 20 s. A server already gone is only waited for.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(nix::sys::signal::Signal::SIGTERM);
            for _ in 0..400 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two servers on `database` with their data under `dir` (`a`, `b`): the first makes the
/// admin token and takes the conductor's lease. The servers and the token.
fn two_servers(dir: &Path, platform: &Path, database: &str) -> (Replica, Replica, String) {
    let first = Replica::start(&dir.join("a"), platform, database, common::FIRST_TOKEN_FILE);
    let token = common::first_token(&dir.join("a"));
    let second = Replica::start(&dir.join("b"), platform, database, "tandem is serving");
    (first, second, token)
}

/// Makes `repo` a repository on `main` holding what is in it, in one commit.
fn first_commit(repo: &Path) {
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "the app"]);
}

/// A repository whose release (its artifact `release.txt` says `1`) deploys with a command
/// that journals each deployment (by id, with the artifact's text) into `journal`.
fn make_app(root: &Path, journal: &Path) -> PathBuf {
    let repo = root.join("app");
    std::fs::create_dir_all(&repo).unwrap();
    let j = journal.display();
    std::fs::write(
        repo.join("tandem.yml"),
        format!(
            "service: app
pipeline:
  jobs:
    build:
      steps: [{{ run: echo building && sleep 1.5 && cp VERSION release.txt }}]
      artifacts: [release.txt]
deploy:
  driver: command
  run: echo \"start $TANDEM_DEPLOYMENT_ID $TANDEM_MARKET $(cat $TANDEM_ARTIFACT_DIR/release.txt)\" >> {j} && sleep 0.3 && echo \"done $TANDEM_DEPLOYMENT_ID $TANDEM_MARKET\" >> {j}
"
        ),
    )
    .unwrap();
    std::fs::write(repo.join("VERSION"), "1\n").unwrap();
    first_commit(&repo);
    repo
}

async fn servers(api: &Api) -> Value {
    api.get("/api/v1/servers").await
}

fn conductor(servers: &Value) -> Option<&str> {
    servers["leases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "conductor")
        .and_then(|l| l["holder"].as_str())
}

/// Two servers on a fresh database, the first the conductor, and the app they deliver.
struct Pair {
    first: Replica,
    second: Replica,
    token: String,
    journal: PathBuf,
    repo: PathBuf,
    // Dropped last: the servers stop before their folder and database go.
    _dir: tempfile::TempDir,
    _database: Database,
}

impl Pair {
    async fn start() -> Pair {
        let database = Database::create().await;
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal");
        let repo = make_app(dir.path(), &journal);
        let platform = dir.path().join("platform.yml");
        std::fs::write(
            &platform,
            platform_of(
                &repo,
                &[&CODES[..1], &CODES[1..4], &CODES[4..7], &CODES[7..13], &CODES[13..]],
            ),
        )
        .unwrap();
        let (first, second, token) = two_servers(dir.path(), &platform, &database.url);
        Pair {
            first,
            second,
            token,
            journal,
            repo,
            _dir: dir,
            _database: database,
        }
    }

    fn apis(&self) -> (Api, Api) {
        (
            Api::new(&self.first.base, &self.token),
            Api::new(&self.second.base, &self.token),
        )
    }

    /// Builds the app through `via` and starts its rollout there; waits until a few markets
    /// are live (the rollout still under way); the rollout's id and the release's.
    async fn rollout_under_way(&self, via: &Api) -> (i64, i64) {
        let (release_id, _) = via.release_of_new_run("app").await;
        let rollout = via.post("/api/v1/rollouts", json!({ "release_id": release_id })).await;
        let id = rollout["id"].as_i64().unwrap();
        via.wait("a few markets to be deployed", async |api| {
            let d = api.get(&format!("/api/v1/deployments?rollout={id}")).await;
            (d.as_array().unwrap().iter().filter(|d| d["state"] == "live").count() >= 4).then_some(())
        })
        .await;
        let r = via.get(&format!("/api/v1/rollouts/{id}")).await;
        assert_ne!(r["state"], "succeeded", "the rollout is still under way");
        (id, release_id)
    }

    /// Waits for rollout `id` to succeed; then every market runs `release_id`, once, nothing
    /// is half-done, and no deployment's step ran twice (nor unrecorded).
    async fn check_the_end(&self, via: &Api, id: i64, release_id: i64) {
        let end = via.rollout_end(id).await;
        assert_eq!(end["state"], "succeeded", "{end}");
        let (deployments, live) = via.live_releases().await;
        assert_eq!(live.len(), 25, "every market is live: {live:?}");
        for (market, releases) in &live {
            assert_eq!(releases, &[release_id], "{market} runs {releases:?}");
        }
        assert!(deployments.iter().all(|d| d["state"] != "deploying"));
        let recorded: HashSet<i64> = deployments.iter().map(|d| d["id"].as_i64().unwrap()).collect();
        let text = std::fs::read_to_string(&self.journal).unwrap();
        let mut started = HashSet::new();
        for line in text.lines().filter(|l| l.starts_with("start ")) {
            assert!(line.ends_with(" 1"), "every deploy read the release's artifact: {line}");
            let id: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            assert!(recorded.contains(&id), "deployment {id} ran but was never recorded");
            assert!(started.insert(id), "deployment {id} ran twice:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_database_and_the_second_takes_over_when_the_first_is_killed() {
    let pair = Pair::start().await;
    let (first, second, token) = (&pair.first, &pair.second, &pair.token);
    let (a, b) = pair.apis();
    let (seen_by_a, seen_by_b) = (servers(&a).await, servers(&b).await);
    assert_eq!(seen_by_a["database"], "PostgreSQL");
    assert_ne!(
        seen_by_a["this"], seen_by_b["this"],
        "each server has a name of its own"
    );
    assert_eq!(seen_by_a["this_is_conductor"], true, "{seen_by_a}");
    assert_eq!(seen_by_b["this_is_conductor"], false, "{seen_by_b}");
    assert_eq!(conductor(&seen_by_b), seen_by_a["this"].as_str());

    // Flags put in force through one server are evaluated by the other at once: proposed
    // by a developer through the second, approved by an operator through the first.
    let made = async |name: &str, role: &str| {
        a.post("/api/v1/tokens", json!({ "name": name, "role": role })).await["secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (developer, operator) = (made("dev", "developer").await, made("ops", "operator").await);
    let change = Api::new(&second.base, &developer)
        .put_json(
            "/api/v1/services/app/flags",
            json!({ "text": FLAGS, "reason": "launch" }),
        )
        .await;
    let change_id = change["id"].as_i64().unwrap();
    let approved = Api::new(&first.base, &operator)
        .post(&format!("/api/v1/changes/{change_id}/approve"), json!({}))
        .await;
    assert_eq!(approved["state"], "done", "{approved}");
    let ofrep = |base: &str| {
        let request = tandem_testkit::http()
            .post(format!("{base}/ofrep/v1/evaluate/flags/new-checkout"))
            .bearer_auth(token)
            .json(&json!({ "context": { "targetingKey": "u1" } }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    for base in [&first.base, &second.base] {
        let answer = common::wait("both servers to evaluate the new flag", async || {
            let answer = ofrep(base).await;
            (answer["value"] == false).then_some(answer)
        })
        .await;
        assert_eq!(answer["variant"], "off", "{answer}");
    }
    // An emergency kill through the second server: the first answers it at once.
    Api::new(&second.base, &operator)
        .post(
            "/api/v1/flags/new-checkout/kill",
            json!({ "reason": "errors in every market" }),
        )
        .await;
    for base in [&first.base, &second.base] {
        let answer = common::wait("both servers to serve the kill", async || {
            let answer = ofrep(base).await;
            (answer["reason"] == "DISABLED").then_some(answer)
        })
        .await;
        assert_eq!(answer["value"], false, "{answer}");
    }

    // A run asked of the second server is executed by the conductor (the first), and its log
    // streams from the second while the job runs.
    let run = b.post("/api/v1/services/app/runs", json!({})).await;
    let run_id = run["id"].as_i64().unwrap();
    let seen = b
        .wait("the second server to show the running job's log", async |b| {
            let job = &b.get(&format!("/api/v1/runs/{run_id}")).await["jobs"][0];
            let log = tandem_testkit::http()
                .get(format!("{}/api/v1/runs/{run_id}/jobs/build/log", second.base))
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (log.contains("building")).then(|| (job["state"].clone(), log))
        })
        .await;
    assert_eq!(seen.0, "running", "the log was read while the job ran: {seen:?}");
    let (release_id, _) = b.release_of_run(run_id, "app").await;

    // A rollout asked of the second server is driven by the first, until it is killed.
    let rollout = b.post("/api/v1/rollouts", json!({ "release_id": release_id })).await;
    let id = rollout["id"].as_i64().unwrap();
    b.wait("a few markets to be deployed", async |b| {
        let d = b.get(&format!("/api/v1/deployments?rollout={id}")).await;
        (d.as_array().unwrap().iter().filter(|d| d["state"] == "live").count() >= 4).then_some(())
    })
    .await;
    let Pair { first, .. } = &pair;
    let pid = first.child.id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let killed = Instant::now();
    b.wait("the second server to take over", async |b| {
        (servers(b).await["this_is_conductor"] == true).then_some(())
    })
    .await;
    eprintln!(
        "the second server became the conductor {:?} after the first was killed",
        killed.elapsed()
    );
    pair.check_the_end(&b, id, release_id).await;
}

/// The conductor is paused (SIGSTOP: its connections stay open, so it looks alive, but it
/// renews nothing), as a host that stalls or a network that drops would leave it. Its lease
/// runs out and the second server takes over; when the first wakes up (SIGCONT) it finds it
/// lost the lease, writes nothing more as conductor (fencing) and stands by; the rollout ends
/// as if it had never been there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_conductor_that_wakes_up_writes_nothing_more_as_conductor() {
    let pair = Pair::start().await;
    let (a, b) = pair.apis();
    let (id, release_id) = pair.rollout_under_way(&b).await;
    pair.first.signal(nix::sys::signal::Signal::SIGSTOP);
    let paused = Instant::now();
    b.wait("the second server to take over", async |b| {
        (servers(b).await["this_is_conductor"] == true).then_some(())
    })
    .await;
    let took_over = paused.elapsed();
    assert!(
        took_over >= Duration::from_secs(2),
        "a live-looking conductor is not taken over before its lease runs out ({took_over:?})"
    );
    eprintln!("the second server became the conductor {took_over:?} after the first was paused");
    pair.first.signal(nix::sys::signal::Signal::SIGCONT);
    let woke = a
        .wait("the first server to learn it is not the conductor", async |a| {
            let seen = servers(a).await;
            (seen["this_is_conductor"] == false).then_some(seen)
        })
        .await;
    assert_ne!(conductor(&woke), woke["this"].as_str(), "{woke}");
    pair.check_the_end(&b, id, release_id).await;
}

/// Many rollouts, the conductor killed (SIGKILL) at random moments during each and started
/// again at once, as the chaos test does to a lone server: every rollout completes on
/// whichever server conducts, every market ends on exactly one release, no deploy step runs
/// twice, no market is deployed twice by one rollout, and DORA's keys are those of the same
/// rollouts without kills (an interrupted deployment is no change failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conductors_killed_at_random_moments_leave_every_rollout_whole() {
    use rand::Rng;
    let mut pair = Pair::start().await;
    let mut rng = rand::rng();
    let rounds = std::env::var("TANDEM_CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2usize);
    let (mut kills, mut last_release) = (0, 0);
    for round in 2..rounds + 2 {
        std::fs::write(pair.repo.join("VERSION"), format!("{round}\n")).unwrap();
        git(&pair.repo, &["commit", "-q", "-am", &format!("release {round}")]);
        let (_, b) = pair.apis();
        let (id, release_id) = pair.rollout_under_way(&b).await;
        last_release = release_id;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(rng.random_range(50..500))).await;
            let (_, b) = pair.apis();
            if b.get(&format!("/api/v1/rollouts/{id}")).await["state"] == "succeeded" {
                break;
            }
            // Kill whichever server conducts now, and start it again.
            let (a, _) = pair.apis();
            let first_conducts = servers(&a).await["this_is_conductor"] == true;
            if first_conducts {
                pair.first = pair.first.restart();
            } else {
                pair.second = pair.second.restart();
            }
            kills += 1;
        }
        let (_, b) = pair.apis();
        let end = b.rollout_end(id).await;
        assert_eq!(end["state"], "succeeded", "round {round}: {end}");
    }
    let (a, _) = pair.apis();
    let (deployments, live) = a.live_releases().await;
    let cut = deployments.iter().filter(|d| d["state"] == "failed").count();
    eprintln!("{kills} conductors killed over {rounds} rollouts, {cut} deployments cut short");
    assert_eq!(live.len(), 25, "{live:?}");
    for (market, releases) in &live {
        assert_eq!(releases, &[last_release], "{market} runs {releases:?}");
    }
    // No market was deployed twice by one rollout: one deployment that went live each.
    let mut landed = HashSet::new();
    for d in deployments
        .iter()
        .filter(|d| d["state"] == "live" || d["state"] == "superseded")
    {
        let key = (d["rollout_id"].as_i64(), d["market"].as_str().unwrap().to_string());
        assert!(landed.insert(key.clone()), "{key:?} went live twice");
    }
    let text = std::fs::read_to_string(&pair.journal).unwrap();
    let mut started = HashSet::new();
    for line in text.lines().filter(|l| l.starts_with("start ")) {
        let id: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(started.insert(id), "deployment {id} ran twice:\n{text}");
    }
    // DORA: every rollout's 25 deployments, none failed, as if nothing had been killed.
    let dora = a.get("/api/v1/metrics/dora?days=1").await;
    let keys = &dora["keys"]["total"];
    assert_eq!(keys["deployment_frequency"]["deployments"], 25 * rounds, "{keys}");
    assert_eq!(keys["change_failure_rate"]["failed"], 0, "{keys}");
}

/// Two servers on a fresh database delivering, with the `process` driver, a small web server
/// to two markets; rolled out through the follower. The servers, the markets' URLs, and what
/// keeps the folder and database alive.
async fn process_markets() -> (Replica, Replica, Vec<String>, String, (tempfile::TempDir, Database)) {
    let (first, second, urls, token, keep, _) = process_markets_in().await;
    (first, second, urls, token, keep)
}

/// [`process_markets`], and the app's repository.
async fn process_markets_in() -> (
    Replica,
    Replica,
    Vec<String>,
    String,
    (tempfile::TempDir, Database),
    PathBuf,
) {
    let database = Database::create().await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        "service: app
pipeline:
  jobs:
    build:
      steps: [{ run: 'true' }]
deploy:
  driver: process
  run: \"python3 -m http.server {port} --bind 127.0.0.1\"
gates:
  probe: { path: /, successes: 1, failures: 3 }
",
    )
    .unwrap();
    first_commit(&repo);
    let platform = dir.path().join("platform.yml");
    std::fs::write(&platform, platform_of(&repo, &[&["fr"], &["be"]])).unwrap();
    let (first, second, token) = two_servers(dir.path(), &platform, &database.url);
    let b = Api::new(&second.base, &token);
    let (release_id, _) = b.release_of_new_run("app").await;
    let id = b.post("/api/v1/rollouts", json!({ "release_id": release_id })).await["id"]
        .as_i64()
        .unwrap();
    let end = b.rollout_end(id).await;
    assert_eq!(end["state"], "succeeded", "{end}");
    let (deployments, _) = b.live_releases().await;
    let urls: Vec<String> = deployments
        .iter()
        .filter(|d| d["state"] == "live")
        .map(|d| d["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls.len(), 2, "{deployments:?}");
    assert_eq!(serving(&urls).await, 2, "both markets serve");
    (first, second, urls, token, (dir, database), repo)
}

/// The live URLs of the markets, as the API says.
async fn live_urls(api: &Api) -> Vec<String> {
    let (deployments, _) = api.live_releases().await;
    deployments
        .iter()
        .filter(|d| d["state"] == "live")
        .map(|d| d["url"].as_str().unwrap().to_string())
        .collect()
}

/// How many of `urls` answer 2xx.
async fn serving(urls: &[String]) -> usize {
    let mut up = 0;
    for url in urls {
        let answer = tandem_testkit::http()
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        up += usize::from(answer.is_ok_and(|r| r.status().is_success()));
    }
    up
}

/// A follower stopped cleanly (a rolling restart) leaves serving the markets' processes the
/// conductor supervises (`process` driver: a small web server per market); the conductor,
/// stopped cleanly with nobody standing by, stops them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_stopped_cleanly_leaves_the_conductors_markets_serving() {
    let (first, second, urls, _, _keep) = process_markets().await;
    assert!(second.stop().success());
    assert_eq!(
        serving(&urls).await,
        2,
        "the follower's stop left the conductor's markets alone"
    );
    assert!(first.stop().success());
    assert_eq!(serving(&urls).await, 0, "the conductor's stop stopped its markets");
}

/// The conductor stopped cleanly while another server stands by (a rolling restart of the
/// conductor) leaves its markets serving; the other server takes over at once and adopts
/// them, and stops them when it stops in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conductor_stopped_cleanly_hands_its_markets_over() {
    let (first, second, urls, token, _keep) = process_markets().await;
    assert!(first.stop().success());
    assert_eq!(serving(&urls).await, 2, "the markets served on through the handover");
    let b = Api::new(&second.base, &token);
    b.wait("the second server to take over", async |b| {
        (servers(b).await["this_is_conductor"] == true).then_some(())
    })
    .await;
    assert_eq!(serving(&urls).await, 2);
    assert!(second.stop().success());
    assert_eq!(
        serving(&urls).await,
        0,
        "the new conductor had adopted them, and stopped them"
    );
}

/// A rollback by hand asked of the follower is run by the conductor, which supervises the
/// markets: the release it replaces stops serving (a follower running it itself would start
/// the old release beside the new one, which the conductor kept supervising).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_asked_of_a_follower_is_run_by_the_conductor() {
    let (first, second, v1_urls, token, _keep, repo) = process_markets_in().await;
    let b = Api::new(&second.base, &token);
    std::fs::write(repo.join("CHANGES"), "v2").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "v2"]);
    let (v2, _) = b.release_of_new_run("app").await;
    let id = b.post("/api/v1/rollouts", json!({ "release_id": v2 })).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(b.rollout_end(id).await["state"], "succeeded");
    let v2_urls = live_urls(&b).await;
    assert_eq!(serving(&v2_urls).await, 2);
    assert_eq!(serving(&v1_urls).await, 0, "v1 was replaced");

    let moves = b.post("/api/v1/services/app/rollback", json!({ "all": true })).await;
    let states: Vec<&str> = moves
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 2, "{moves}");
    assert!(states.iter().all(|s| *s != "failed" && *s != "skipped"), "{moves}");
    let back = live_urls(&b).await;
    assert_eq!(serving(&back).await, 2, "v1 serves again");
    assert_eq!(serving(&v2_urls).await, 0, "v2 stopped: nothing left behind ({moves})");
    // The rollback is recorded as the person who asked, on the server they asked.
    let audit = b.get("/api/v1/audit?kind=handoff").await;
    assert!(audit.to_string().contains("handoff.asked"), "{audit}");
    // Stopped, the follower first: nothing of either release is left running.
    assert!(second.stop().success());
    assert!(first.stop().success());
    let every: Vec<String> = [v1_urls, v2_urls, back].concat();
    assert_eq!(serving(&every).await, 0);
}
