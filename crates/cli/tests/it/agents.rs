//! Agents, attacked from outside: real `tandem serve` and `tandem agent` processes on
//! 127.0.0.1. Jobs go to the agents whose labels they need; an agent killed with SIGKILL
//! mid-job loses its job to another agent, once, and its step dies with it; a job no agent can
//! take says why; tokens of one kind open nothing of another's; and a step of the server's own
//! (sandboxed) local agent cannot read the server's secrets, nor write its data folder, nor
//! even see the server's process.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Api, Server, platform_of};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tandem_testkit::git;

/// A `tandem agent` process, killed when dropped.
struct Agent {
    child: Child,
    work: PathBuf,
}

impl Agent {
    /// Starts `tandem agent` for `server` with `token`, extra `labels`, in `work`.
    fn start(server: &Server, token: &str, labels: &str, work: &Path) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args([
                "agent",
                "--server",
                &server.base,
                "--capacity",
                "2",
                "--labels",
                labels,
                "--work-dir",
            ])
            .arg(work)
            .env("TANDEM_AGENT_TOKEN", token)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Agent {
            child,
            work: work.to_path_buf(),
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits for it to exit; its status and what it printed.
    fn wait(mut self) -> (std::process::ExitStatus, String) {
        use std::io::Read;
        let status = self.child.wait().unwrap();
        let mut printed = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut printed).unwrap();
        (status, printed)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed when dropped: a failing test leaves nothing running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Registers an agent through the CLI; its token.
fn register(server: &Server, name: &str) -> String {
    let out = server.cli(&["agents", "register", name, "--json"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["token"].as_str().unwrap().to_string()
}

/// A repository of service `app` whose pipeline is `jobs` (YAML under `jobs:`).
fn app_repo(root: &Path, jobs: &str) -> PathBuf {
    let repo = root.join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        format!("service: app\npipeline:\n  jobs:\n{jobs}"),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    repo
}

/// The jobs of run `id`, by name (none before the run starts).
async fn jobs_of(api: &Api, id: i64) -> std::collections::BTreeMap<String, Value> {
    let run = api.get(&format!("/api/v1/runs/{id}")).await;
    run["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let job = if j.get("job").is_some() {
                j["job"].clone()
            } else {
                j.clone()
            };
            (job["name"].as_str().unwrap().to_string(), job)
        })
        .collect()
}

/// Waits for run `id` to end; its state.
async fn run_end(api: &Api, id: i64) -> String {
    api.wait(&format!("run {id} to end"), async |api| {
        let run = api.get(&format!("/api/v1/runs/{id}")).await;
        let state = run["run"]["state"].as_str().or(run["state"].as_str())?.to_string();
        (!matches!(state.as_str(), "queued" | "running")).then_some(state)
    })
    .await
}

async fn trigger(api: &Api) -> i64 {
    let run = api.post("/api/v1/services/app/runs", json!({})).await;
    run["id"].as_i64().or(run["run"]["id"].as_i64()).unwrap()
}

/// Whether process `pid` is alive (not gone, not a zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
        .unwrap_or(false)
}

/// The host pid of the process whose command line holds `marker`, if any.
fn find_process(marker: &str) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        (text.contains(marker) && !text.contains("sh -e -c")).then_some(pid)
    })
}

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_go_to_agents_by_label_and_a_killed_agents_job_runs_again_elsewhere_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = app_repo(
        dir.path(),
        "    gpu:
      runs-on: gpu
      steps: [{ run: echo on a gpu }]
    eu:
      runs-on: [region=eu-west]
      steps: [{ run: echo in the eu }]
    plain:
      steps: [{ run: test -f tandem.yml }]
    slow:
      runs-on: slow
      needs: [gpu, eu, plain]
      steps:
        - run: echo started; sleep 6.25; echo finished
",
    );
    let server = Server::start_full(
        dir.path(),
        &platform_of(&repo, &[&["fr"]]),
        None,
        &["--no-local-agent", "--job-lease", "4s"],
    );
    let api = server.api();
    let (ta, tb, tc) = (register(&server, "a"), register(&server, "b"), register(&server, "c"));
    let mut agents = [
        Some(Agent::start(&server, &ta, "gpu,slow", &dir.path().join("agent-a"))),
        Some(Agent::start(
            &server,
            &tb,
            "region=eu-west,slow",
            &dir.path().join("agent-b"),
        )),
        Some(Agent::start(&server, &tc, "", &dir.path().join("agent-c"))),
    ];
    let listed = api
        .wait("three agents connected", async |api| {
            let list = api.get("/api/v1/agents").await;
            let n = list.as_array()?.iter().filter(|a| a["connected"] == true).count();
            (n == 3).then_some(list)
        })
        .await;
    let labels: Vec<Value> = listed.as_array().unwrap().iter().map(|a| a["labels"].clone()).collect();
    assert!(labels[0].as_array().unwrap().contains(&json!("gpu")), "{listed}");

    let run = trigger(&api).await;
    // The slow job starts on one of the two agents with `slow`: kill that one mid-step.
    let (first, step_pid) = api
        .wait("the slow job's step to run", async |api| {
            let jobs = jobs_of(api, run).await;
            let slow = jobs.get("slow")?;
            let agent = slow["agent"].as_str()?.to_string();
            let pid = find_process("sleep 6.25")?;
            (slow["state"] == "running").then_some((agent, pid))
        })
        .await;
    let index = match first.as_str() {
        "a" => 0,
        "b" => 1,
        other => panic!("the slow job went to agent {other}, which lacks the label"),
    };
    let killed = agents[index].take().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(killed.pid()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    drop(killed);
    // Its step goes with it (the step guard sees its agent gone).
    common::wait("the killed agent's step to stop", async || {
        (!alive(step_pid)).then_some(())
    })
    .await;

    assert_eq!(run_end(&api, run).await, "success");
    let jobs = jobs_of(&api, run).await;
    assert_eq!(jobs["gpu"]["agent"], "a", "{jobs:?}");
    assert_eq!(jobs["eu"]["agent"], "b", "{jobs:?}");
    let slow = &jobs["slow"];
    let second = slow["agent"].as_str().unwrap();
    assert_ne!(second, first, "the slow job ran again on the other agent");
    assert_eq!(slow["lost"], 1, "{slow}");
    assert_eq!(
        slow["needs"],
        json!(["gpu", "eu", "plain"]),
        "a JSON list, not JSON in a string"
    );
    let log = tandem_testkit::http()
        .get(format!("{}/api/v1/runs/{run}/jobs/slow/log", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        log.matches("] started\n").count(),
        1,
        "the log is the second agent's alone: {log}"
    );
    assert!(log.contains("] finished\n"), "{log}");
    // Taken exactly twice: once by the killed agent, once by the other.
    let slow_id = slow["id"].as_i64().unwrap();
    let events = api.get("/api/v1/events?limit=10000").await;
    let of_slow = |kind: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind && e["subject"] == format!("job/{slow_id}"))
            .count()
    };
    assert_eq!((of_slow("job.running"), of_slow("job.lost")), (2, 1), "{events}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_no_agent_can_take_says_why_and_tokens_open_nothing_of_another_kind() {
    let dir = tempfile::tempdir().unwrap();
    let repo = app_repo(
        dir.path(),
        "    build:
      runs-on: arm64-box
      steps: [{ run: echo built }]
",
    );
    let server = Server::start_full(dir.path(), &platform_of(&repo, &[&["fr"]]), None, &["--no-local-agent"]);
    let api = server.api();
    let run = trigger(&api).await;
    let why = api
        .wait("the job to say why it waits", async |api| {
            jobs_of(api, run).await.get("build")?["waiting"]
                .as_str()
                .map(String::from)
        })
        .await;
    assert_eq!(why, "no agent is connected");

    let token = register(&server, "box");
    let wrong = Agent::start(&server, &token, "x86-box", &dir.path().join("wrong"));
    api.wait("the reason to name the missing label", async |api| {
        let why = jobs_of(api, run).await.get("build")?["waiting"]
            .as_str()
            .map(String::from)?;
        (why == "no agent with labels arm64-box").then_some(())
    })
    .await;
    // An operator sees it in the CLI too.
    let out = server.cli(&["run", "show", &run.to_string()]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("no agent with labels arm64-box"),
        "{printed}{}",
        common::stderr(&out)
    );
    // The agent token is not an API token, and an API token cannot take jobs. (A connection
    // per request: the server answers a too-large body before reading it all and closes that
    // connection, which a pooled client could pick for the next request.)
    let http = tandem_testkit::http_builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let status = http
        .get(format!("{}/api/v1/runs", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let status = http
        .post(format!("{}/api/v1/agent/claim", server.base))
        .bearer_auth(&server.token)
        .json(&json!({ "labels": ["arm64-box"], "capacity": 1, "free": 1, "version": "x", "host": "h" }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "an admin token takes no job");
    let huge = json!({ "labels": vec!["x"; 800_000], "capacity": 1, "free": 1, "version": "x", "host": "h" });
    let status = http
        .post(format!("{}/api/v1/agent/claim", server.base))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 413, "a claim's body is bounded");
    let status = http
        .post(format!("{}/api/v1/agent/jobs/1/beat", server.base))
        .bearer_auth("tjob_forged")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 409, "a forged job token reports on nothing");

    // Revoked: the agent stops, saying why.
    let out = server.cli(&["agents", "revoke", "box"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (status, printed) = tokio::task::spawn_blocking(move || wrong.wait()).await.unwrap();
    assert!(!status.success());
    assert!(printed.contains("refused the agent token"), "{printed}");

    // An agent with the label takes the job; drained, it finishes and exits.
    let token = register(&server, "arm");
    let arm = Agent::start(&server, &token, "arm64-box", &dir.path().join("arm"));
    assert_eq!(run_end(&api, run).await, "success");
    assert_eq!(jobs_of(&api, run).await["build"]["agent"], "arm");
    let out = common::tandem(&["agent", "--drain", "--work-dir", arm.work.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let (status, _) = tokio::task::spawn_blocking(move || arm.wait()).await.unwrap();
    assert!(status.success(), "a drained agent exits cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_cannot_read_the_servers_secrets_nor_write_its_data_nor_see_its_process() {
    if !Path::new("/usr/bin/bwrap").exists() {
        panic!("this test needs bubblewrap (apt-get install bubblewrap), which .ci/run installs");
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let attack = format!(
        "    attack:
      steps:
        - run: |
            echo \"parent: $(tr '\\0' ' ' < /proc/$PPID/environ)\"
            for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f 2>/dev/null; done > seen.txt || true
            cat seen.txt
            ls -a {data} 2>&1 | sed 's/^/data: /'
            cat {data}/secrets.key 2>&1 | sed 's/^/key: /' || true
            echo owned > {data}/tandem.db 2>&1 && echo WROTE-THE-DATABASE || echo database write refused
            sleep 7.75
",
        data = data.display()
    );
    let repo = app_repo(dir.path(), &attack);
    let file = dir.path().join("platform.yml");
    std::fs::write(&file, platform_of(&repo, &[&["fr"]])).unwrap();
    let port = tandem_testkit::server::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--platform"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .env("TANDEM_SHOP_WEBHOOK", "hunter2-webhook-secret")
        .env("SERVER_ONLY_SECRET", "s3cr3t-of-the-server")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let printed = child.stderr.take().unwrap();
    let mut child = KillOnDrop(child);
    tandem_testkit::server::read_until(printed, common::FIRST_TOKEN_FILE, Duration::from_secs(30)).unwrap();
    let server_pid = child.0.id() as i32;
    let base = format!("http://127.0.0.1:{port}");
    let api = Api::new(&base, &common::first_token(&data));
    let run = trigger(&api).await;

    // While the step sleeps: it is not the server's child, nor in the server's PID namespace.
    let step = common::wait("the attack's step to run", async || find_process("sleep 7.75")).await;
    assert_ne!(parent_of(step), server_pid, "the server spawned the step itself");
    let ns = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    assert_ne!(ns(step), ns(server_pid), "the step shares the server's PID namespace");
    let mut ancestor = step;
    while ancestor > 1 && ancestor != server_pid {
        ancestor = parent_of(ancestor);
    }
    assert_eq!(ancestor, server_pid, "the step runs under the server's local agent");

    assert_eq!(run_end(&api, run).await, "success");
    let log = tandem_testkit::http()
        .get(format!("{base}/api/v1/runs/{run}/jobs/attack/log"))
        .bearer_auth(common::first_token(&data))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("parent: "), "{log}");
    for secret in ["hunter2-webhook-secret", "s3cr3t-of-the-server", "tagent_", "tdm_"] {
        assert!(!log.contains(secret), "the step read `{secret}`:\n{log}");
    }
    assert!(log.contains("database write refused"), "{log}");
    assert!(!log.contains("] WROTE-THE-DATABASE"), "{log}");
    assert!(!log.contains("data: tandem.db"), "the step sees the data folder: {log}");
    let db = std::fs::read(data.join("tandem.db")).unwrap();
    assert!(db.starts_with(b"SQLite format 3"), "the database was overwritten");
    // The server still answers from its database.
    assert_eq!(api.get("/api/v1/markets").await.as_array().unwrap().len(), 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server_pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_markets_deploy_command_runs_on_the_agent_in_its_region() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    let repo = dir.path().join("app");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("VERSION"), "1\n").unwrap();
    std::fs::write(
        repo.join("tandem.yml"),
        format!(
            "service: app
pipeline:
  jobs:
    build:
      steps: [{{ run: cp VERSION release.txt }}]
      artifacts: [release.txt]
deploy:
  driver: command
  runs-on: ['region={{region}}']
  run: echo \"$TANDEM_MARKET $(cat $TANDEM_ARTIFACT_DIR/release.txt) $PWD\" >> {0}
  shift: echo \"$TANDEM_ACTION $TANDEM_MARKET $TANDEM_WEIGHT $PWD\" >> {0}
",
            journal.display()
        ),
    )
    .unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "the app"]);
    let platform = format!(
        "markets:
  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
  - {{ id: de, name: Germany, region: central, currency: EUR, locale: de-DE, timezone: Europe/Berlin }}
waves:
  - {{ name: all, markets: [fr, de] }}
services:
  - {{ name: app, repo: {} }}
",
        repo.display()
    );
    let server = Server::start_full(dir.path(), &platform, None, &["--no-local-agent"]);
    let api = server.api();
    let _west = Agent::start(
        &server,
        &register(&server, "west"),
        "region=west",
        &dir.path().join("agent-west"),
    );
    let _central = Agent::start(
        &server,
        &register(&server, "central"),
        "region=central",
        &dir.path().join("agent-central"),
    );
    let (release_id, _) = api.release_of_new_run("app").await;
    let rollout = api.post("/api/v1/rollouts", json!({ "release_id": release_id })).await;
    let end = api.rollout_end(rollout["id"].as_i64().unwrap()).await;
    assert_eq!(end["state"], "succeeded", "{end}");
    // Answers hold JSON values, never JSON in strings.
    assert_eq!(end["plan"][0]["markets"], json!(["fr", "de"]), "{end}");
    let release = api.get(&format!("/api/v1/releases/{release_id}")).await;
    assert_eq!(
        release["spec"]["deploy"]["runs-on"],
        json!(["region={region}"]),
        "{release}"
    );
    let lines = std::fs::read_to_string(&journal).unwrap();
    let mut lines: Vec<&str> = lines.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 4, "{lines:?}");
    // `deploy.shift` runs where the deploy ran: the load balancer there gives it the market.
    let shifts = lines.split_off(2);
    assert!(
        shifts[0].starts_with("shift de 100 ") && shifts[0].contains("agent-central"),
        "{shifts:?}"
    );
    assert!(
        shifts[1].starts_with("shift fr 100 ") && shifts[1].contains("agent-west"),
        "{shifts:?}"
    );
    assert!(
        lines[0].starts_with("de 1 ") && lines[0].contains("agent-central"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("fr 1 ") && lines[1].contains("agent-west"),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_frozen_past_its_lease_cannot_report_into_the_job_that_moved_on() {
    let dir = tempfile::tempdir().unwrap();
    let repo = app_repo(
        dir.path(),
        "    long:
      runs-on: x
      steps:
        - run: echo started; sleep 8.5; echo finished
",
    );
    let server = Server::start_full(
        dir.path(),
        &platform_of(&repo, &[&["fr"]]),
        None,
        &["--no-local-agent", "--job-lease", "4s"],
    );
    let api = server.api();
    let one = Agent::start(&server, &register(&server, "one"), "x", &dir.path().join("one"));
    let run = trigger(&api).await;
    let step = api
        .wait("the job to run on agent one", async |api| {
            let jobs = jobs_of(api, run).await;
            (jobs.get("long")?["agent"] == "one").then_some(())?;
            find_process("sleep 8.5")
        })
        .await;
    // Frozen (as a paused VM would be): its lease runs out and the job goes to agent two.
    let pid = nix::unistd::Pid::from_raw(one.pid());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let _two = Agent::start(&server, &register(&server, "two"), "x", &dir.path().join("two"));
    api.wait("the job to move to agent two", async |api| {
        let jobs = jobs_of(api, run).await;
        let long = jobs.get("long")?;
        (long["agent"] == "two" && long["state"] == "running").then_some(())
    })
    .await;
    // Woken, agent one is refused (409) at its next report, and stops its step itself.
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    common::wait("agent one to stop its step", async || (!alive(step)).then_some(())).await;
    assert_eq!(run_end(&api, run).await, "success");
    let long = jobs_of(&api, run).await["long"].clone();
    assert_eq!(
        (long["agent"].as_str(), long["lost"].as_i64()),
        (Some("two"), Some(1)),
        "{long}"
    );
    let log = tandem_testkit::http()
        .get(format!("{}/api/v1/runs/{run}/jobs/long/log", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        log.matches("] started\n").count(),
        1,
        "only agent two's report counts: {log}"
    );
    assert_eq!(log.matches("] finished\n").count(), 1, "{log}");
}
