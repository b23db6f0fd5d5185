//! Services whose repository is a URL, end to end: a `git daemon` on 127.0.0.1 serves real
//! repositories, `tandem serve` mirrors them under its data folder, and pushes (signed GitHub
//! deliveries), polls and runs by hand are judged against what the remote branch really is.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, commit, make_repo, stderr};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tandem_testkit::git;

const GITHUB: &str = include_str!("../../../server/tests/data/webhook/github_push.json");

/// Numbers each delivery's id: a forge never sends two with one id.
static DELIVERIES: AtomicUsize = AtomicUsize::new(0);

/// How long the daemon may take to listen.
const DAEMON_START: Duration = Duration::from_secs(20);

/// `git daemon` serving every repository under a folder, killed (with the `git-daemon` it
/// runs) when dropped.
struct GitDaemon {
    child: Child,
    port: u16,
}

impl GitDaemon {
    fn start(base: &Path) -> GitDaemon {
        // git daemon takes no port 0: take a free port and give it back just before.
        let port = tandem_testkit::server::free_port();
        let child = Command::new("git")
            .arg("daemon")
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // `git` runs `git-daemon` as its child: a group of their own goes whole.
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + DAEMON_START;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Delivers a GitHub push of `sha` to `main` of repository `repo`, signed with `shop-s3cret`.
async fn push(server: &Server, repo: &str, sha: &str) -> (u16, Value) {
    push_to(server, repo, "main", sha).await
}

/// Delivers a GitHub push of `sha` to `branch` of repository `repo`, signed with `shop-s3cret`.
async fn push_to(server: &Server, repo: &str, branch: &str, sha: &str) -> (u16, Value) {
    let mut body: Value = serde_json::from_str(GITHUB).unwrap();
    body["ref"] = json!(format!("refs/heads/{branch}"));
    body["after"] = json!(sha);
    body["repository"]["name"] = json!(repo);
    let body = serde_json::to_vec(&body).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"shop-s3cret").unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let res = tandem_testkit::http()
        .post(format!("{}/hooks/github", server.base))
        .header("X-Hub-Signature-256", signature)
        .header("X-GitHub-Event", "push")
        .header(
            "X-GitHub-Delivery",
            format!("{repo}-{}", DELIVERIES.fetch_add(1, Ordering::Relaxed)),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn runs(server: &Server, service: &str) -> Vec<Value> {
    let page = server.api().get(&format!("/api/v1/runs?service={service}")).await;
    page.as_array().cloned().unwrap_or_default()
}

/// Waits for a run of `service` at `sha` that ended, and gives it.
async fn ended_run(server: &Server, service: &str, sha: &str) -> Value {
    let api = server.api();
    api.wait(&format!("an ended run of {service} at {sha}"), async |api| {
        let page = api.get(&format!("/api/v1/runs?service={service}")).await;
        page.as_array()?
            .iter()
            .find(|r| r["commit_sha"] == sha && !matches!(r["state"].as_str(), Some("queued" | "running")))
            .cloned()
    })
    .await
}

/// Sets the webhook secret in the server's secrets store (the value on standard input).
fn with_secret(server: &Server) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args([
            "secret",
            "set",
            "SHOP_HOOK",
            "--server",
            &server.base,
            "--token",
            &server.token,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"shop-s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_url_repository_is_mirrored_and_builds_what_its_remote_branch_is() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served");
    let shop = make_repo(&served, "shop");
    let poller = make_repo(&served, "poller");
    let daemon = GitDaemon::start(&served);
    let server = Server::start(
        dir.path(),
        &format!(
            "markets:
  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
services:
  - {{ name: shop, repo: \"{}\", triggers: {{ webhook_secret: SHOP_HOOK }} }}
  - {{ name: poller, repo: \"{}\", triggers: {{ poll: 1s }} }}
secrets:
  SHOP_HOOK: {{}}
",
            daemon.url("shop"),
            daemon.url("poller")
        ),
    );
    with_secret(&server);

    // A commit pushed to the remote's `main` after the server started: the push fetches it.
    let pushed = commit(&shop, "SHOP-431: Klarna");
    let (status, reply) = push(&server, "shop", &pushed).await;
    assert_eq!(status, 202, "{reply}");
    let run = ended_run(&server, "shop", &pushed).await;
    assert_eq!(
        run["state"], "success",
        "the run checked the commit out of the mirror: {run}"
    );
    assert_eq!(run["id"], reply["run"]);
    assert!(
        server.data.join("repos/shop.git/HEAD").exists(),
        "the mirror lives in the data folder"
    );

    // Another branch's commit announced as `main`: refused, nothing built.
    git(&shop, &["checkout", "-q", "-b", "unreviewed"]);
    let evil = commit(&shop, "skip the payment check");
    git(&shop, &["checkout", "-q", "main"]);
    let (status, reply) = push(&server, "shop", &evil).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(reply["error"]["code"], "not_on_branch", "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("commit {evil} is not on branch `main` of `shop`"))
            && message.contains(&format!("the branch is at {pushed}")),
        "{reply}"
    );
    assert_eq!(runs(&server, "shop").await.len(), 1, "no run of unreviewed code");

    // Merged on the remote, the same commit is the branch's and builds.
    git(&shop, &["merge", "-q", "--ff-only", "unreviewed"]);
    let (status, reply) = push(&server, "shop", &evil).await;
    assert_eq!(status, 202, "{reply}");

    // Polling reads the remote branch: its head first, then a commit pushed later.
    let first = git(&poller, &["rev-parse", "HEAD"]);
    let run = ended_run(&server, "poller", &first).await;
    assert_eq!(
        (run["trigger"].as_str(), run["state"].as_str()),
        (Some("poll"), Some("success"))
    );
    let second = commit(&poller, "SHOP-432: Klarna in the north");
    let run = ended_run(&server, "poller", &second).await;
    assert_eq!(
        (run["trigger"].as_str(), run["state"].as_str()),
        (Some("poll"), Some("success"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_or_branchless_repository_is_named_not_a_server_fault() {
    let dir = tempfile::tempdir().unwrap();
    let served = dir.path().join("served");
    make_repo(&served, "shop");
    let daemon = GitDaemon::start(&served);
    // Nothing listens there (taken and given back).
    let down = format!("git://127.0.0.1:{}/shop", tandem_testkit::server::free_port());
    let server = Server::start(
        dir.path(),
        &format!(
            "markets:
  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
services:
  - {{ name: shop, repo: \"{down}\", triggers: {{ webhook_secret: SHOP_HOOK }} }}
  - {{ name: blog, repo: \"{}\", branch: release, triggers: {{ webhook_secret: SHOP_HOOK }} }}
secrets:
  SHOP_HOOK: {{}}
",
            daemon.url("shop")
        ),
    );
    with_secret(&server);
    let sha = "ab".repeat(20);

    // A push to a service whose host is down: 409 naming the service and the URL, recorded.
    let (status, reply) = push(&server, "shop", &sha).await;
    assert_eq!(status, 409, "{reply}");
    assert_eq!(reply["error"]["code"], "cannot_fetch", "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("service `shop`") && message.contains(&down), "{reply}");
    assert!(runs(&server, "shop").await.is_empty());

    // A run by hand: the same clear error, from the CLI's point of view a refusal, not a crash.
    let res = tandem_testkit::http()
        .post(format!("{}/api/v1/services/shop/runs", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let reply: Value = res.json().await.unwrap();
    assert_eq!(status, 422, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("service `shop`") && message.contains(&down), "{reply}");

    // A branch the remote lacks: said as such.
    let (status, reply) = push_to(&server, "blog", "release", &sha).await;
    assert_eq!(status, 409, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("service `blog`") && message.contains("has no branch `release`"),
        "{reply}"
    );

    // The server is still whole.
    assert!(server.api().get("/api/v1/runs").await.is_array());
}
