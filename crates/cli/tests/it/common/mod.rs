//! Helpers shared by the tests that run the `tandem` binary: a command run to its end, a real
//! `tandem serve` on a free port with a fresh data folder, driven through the CLI, and its JSON
//! API, with waiting for a state instead of sleeping.

#![allow(dead_code)] // each test file uses its own share of the helpers
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long `tandem serve` may take to start and say where its admin token is.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for the server to reach a state.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `tandem` with `args` to its end, without colours.
pub fn tandem(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// What a command printed on its standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running `tandem serve`, killed when dropped unless [`Server::stop`] stopped it.
pub struct Server {
    child: Child,
    /// Its URL: `http://127.0.0.1:{port}`.
    pub base: String,
    /// The admin token it made at its first start (read from the file it named).
    pub token: String,
    /// What it printed on stderr up to where it named that file.
    pub startup_log: String,
    /// Its data folder.
    pub data: std::path::PathBuf,
}

impl Server {
    /// Starts `tandem serve` on `platform` (written to `dir/platform.yml`) with its data in
    /// `dir/data`, and waits for it to name the file holding its first admin token (no
    /// terminal is attached, so the token is in that file, not on stderr).
    pub fn start(dir: &Path, platform: &str) -> Server {
        Server::start_with(dir, platform, None)
    }

    /// [`Server::start`] on the PostgreSQL database at `database` (with a fixed secrets key),
    /// or on SQLite in the data folder when `None`.
    pub fn start_with(dir: &Path, platform: &str, database: Option<&str>) -> Server {
        Server::start_full(dir, platform, database, &[])
    }

    /// [`Server::start_with`], with more arguments for `tandem serve`.
    pub fn start_full(dir: &Path, platform: &str, database: Option<&str>, extra: &[&str]) -> Server {
        let file = dir.join("platform.yml");
        std::fs::write(&file, platform).unwrap();
        let port = tandem_testkit::server::free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        if let Some(url) = database {
            command
                .env("TANDEM_DATABASE", url)
                .env("TANDEM_SECRETS_KEY", "7".repeat(64));
        }
        let mut child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--platform"])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // No terminal is attached, so it names the file holding the token, within START_TIMEOUT.
        let printed = tandem_testkit::server::read_until(child.stderr.take().unwrap(), FIRST_TOKEN_FILE, START_TIMEOUT);
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            token: String::new(),
            startup_log: String::new(),
            data: dir.join("data"),
        };
        // Dropped (and so killed) when the file was never named.
        server.startup_log = printed.unwrap_or_else(|printed| panic!("{printed}"));
        server.token = first_token(&server.data);
        server
    }

    /// Runs a client command against the server with its admin token.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as(args, &self.token)
    }

    /// Runs a client command against the server with `token`.
    pub fn cli_as(&self, args: &[&str], token: &str) -> Output {
        let mut all = args.to_vec();
        all.extend(["--server", &self.base, "--token", token]);
        tandem(&all)
    }

    /// Its JSON API with the admin token.
    pub fn api(&self) -> Api {
        Api::new(&self.base, &self.token)
    }

    /// Asks the server to stop (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Nothing is signalled once the child was waited for: `stop` stays a clean exit.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The name of the file, in the data folder, where `tandem serve` puts its first admin token
/// when no terminal is attached.
pub const FIRST_TOKEN_FILE: &str = "first-admin-token";

/// The first admin token of the server whose data folder is `data`.
pub fn first_token(data: &Path) -> String {
    let path = data.join(FIRST_TOKEN_FILE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.trim().to_string()
}

/// Polls `check` until it gives a value, for at most [`DEADLINE`].
pub async fn wait<T>(what: &str, check: impl AsyncFnMut() -> Option<T>) -> T {
    tandem_testkit::wait_for(what, DEADLINE, check).await
}

/// A server's JSON API, called with one token.
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// The API at `base` (`http://127.0.0.1:{port}`), called with `token`.
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            http: tandem_testkit::http(),
            base: base.to_string(),
            token: token.to_string(),
        }
    }

    /// A GET that waits, up to [`DEADLINE`], for a 2xx answer: the server may be (re)starting.
    pub async fn get(&self, path: &str) -> Value {
        let started = Instant::now();
        loop {
            let resp = self
                .http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            if let Ok(r) = resp
                && r.status().is_success()
            {
                return r.json().await.unwrap();
            }
            assert!(started.elapsed() < DEADLINE, "GET {path} never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A POST that must succeed; its JSON answer.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "POST {path}: {}",
            resp.text().await.unwrap()
        );
        resp.json().await.unwrap()
    }

    /// A PUT that must succeed; its JSON answer.
    pub async fn put_json(&self, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "PUT {path}: {}", resp.text().await.unwrap());
        resp.json().await.unwrap()
    }

    /// Runs the pipeline of `service`'s branch head and waits for the release it makes:
    /// (id, version). The run must not fail.
    pub async fn release_of_new_run(&self, service: &str) -> (i64, String) {
        let run = self
            .post(&format!("/api/v1/services/{service}/runs"), serde_json::json!({}))
            .await;
        self.release_of_run(run["id"].as_i64().unwrap(), service).await
    }

    /// Waits for run `run_id` of `service` to make its release: (id, version). The run must
    /// not fail.
    pub async fn release_of_run(&self, run_id: i64, service: &str) -> (i64, String) {
        let version = self
            .wait("the run", async |api| {
                let r = api.get(&format!("/api/v1/runs/{run_id}")).await;
                assert_ne!(r["state"], "failed", "{r}");
                r["release"].as_str().map(String::from)
            })
            .await;
        let releases = self.get(&format!("/api/v1/releases?service={service}")).await;
        let release = releases
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["version"] == version.as_str())
            .unwrap();
        (release["id"].as_i64().unwrap(), version)
    }

    /// Waits for rollout `id` to end (succeeded, halted, failed or aborted); its last state.
    pub async fn rollout_end(&self, id: i64) -> Value {
        self.wait("the rollout to end", async |api| {
            let r = api.get(&format!("/api/v1/rollouts/{id}")).await;
            matches!(r["state"].as_str(), Some("succeeded" | "halted" | "failed" | "aborted")).then_some(r)
        })
        .await
    }

    /// Every deployment, and the releases live in each market (one each, when all is well).
    pub async fn live_releases(&self) -> (Vec<Value>, std::collections::BTreeMap<String, Vec<i64>>) {
        let deployments = self
            .get("/api/v1/deployments?limit=500")
            .await
            .as_array()
            .unwrap()
            .clone();
        assert!(
            deployments.len() < 500,
            "more deployments than one page: page through them"
        );
        let mut live: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        for d in deployments.iter().filter(|d| d["state"] == "live") {
            live.entry(d["market"].as_str().unwrap().to_string())
                .or_default()
                .push(d["release_id"].as_i64().unwrap());
        }
        (deployments, live)
    }

    /// Polls until `check`, given this API, says done.
    pub async fn wait<T>(&self, what: &str, mut check: impl AsyncFnMut(&Api) -> Option<T>) -> T {
        wait(what, async || check(self).await).await
    }
}

/// A repository on `main` whose pipeline (`tandem.yml`, service `service`) passes only in a
/// checkout of the commit (it reads a file of the tree); returns its folder.
pub fn make_repo(root: &Path, service: &str) -> std::path::PathBuf {
    let dir = root.join(service);
    std::fs::create_dir_all(&dir).unwrap();
    tandem_testkit::git(&dir, &["init", "-q", "-b", "main"]);
    let spec = format!(
        "service: {service}\npipeline:\n  jobs:\n    check:\n      steps:\n        - run: test -f tandem.yml\n"
    );
    std::fs::write(dir.join("tandem.yml"), spec).unwrap();
    tandem_testkit::git(&dir, &["add", "."]);
    tandem_testkit::git(&dir, &["commit", "-q", "-m", "first"]);
    dir
}

/// Commits a change on the checked-out branch of `repo`; the new commit's id.
pub fn commit(repo: &Path, message: &str) -> String {
    std::fs::write(repo.join("CHANGES"), message).unwrap();
    tandem_testkit::git(repo, &["add", "."]);
    tandem_testkit::git(repo, &["commit", "-q", "-m", message]);
    tandem_testkit::git(repo, &["rev-parse", "HEAD"])
}

/// 25 market codes, the pilot first.
pub const CODES: [&str; 25] = [
    "fr", "be", "nl", "lu", "de", "at", "ch", "it", "es", "pt", "gr", "mt", "cy", "ie", "gb", "se", "dk", "fi", "ee",
    "lv", "lt", "pl", "cz", "sk", "hu",
];

/// A platform of the markets of `waves`, one wave each, and the service `app` in `repo`.
pub fn platform_of(repo: &Path, waves: &[&[&str]]) -> String {
    let mut text = String::from("markets:\n");
    for code in waves.concat() {
        text.push_str(&format!(
            "  - {{ id: {code}, name: M-{code}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    text.push_str("waves:\n");
    for (i, chunk) in waves.iter().enumerate() {
        text.push_str(&format!("  - {{ name: w{i}, markets: [{}] }}\n", chunk.join(", ")));
    }
    text.push_str(&format!("services:\n  - {{ name: app, repo: {} }}\n", repo.display()));
    text
}
