//! Triggers end to end: `tandem serve` as a child process (its webhook secrets come from its
//! environment), real git repositories made with the `git` CLI, and signed deliveries built from
//! the recorded payloads in `crates/server/tests/data/webhook`.

#![allow(clippy::unwrap_used)]

use crate::common::{commit, make_repo};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_testkit::git;

const GITHUB: &str = include_str!("../../../server/tests/data/webhook/github_push.json");
const GITLAB: &str = include_str!("../../../server/tests/data/webhook/gitlab_push.json");
const GITEA: &str = include_str!("../../../server/tests/data/webhook/gitea_push.json");

/// How long a test waits for the server or a run before failing.
const WAIT: Duration = Duration::from_secs(30);

const MARKETS: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A recorded payload pushing `sha` to `branch` of repository `repo`.
fn payload(recorded: &str, repo: &str, branch: &str, sha: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_str(recorded).unwrap();
    v["ref"] = json!(format!("refs/heads/{branch}"));
    v["after"] = json!(sha);
    v["repository"]["name"] = json!(repo);
    if v.get("project").is_some() {
        v["project"]["path"] = json!(repo);
    }
    serde_json::to_vec(&v).unwrap()
}

/// `tandem serve` in a child process, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<u8>>>,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(platform: &Path, env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = tandem_testkit::server::free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args([
                "serve",
                "--anonymous-read",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--platform",
            ])
            .arg(platform)
            .arg("--data-dir")
            .arg(data.path())
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (mut err, sink) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _data: data,
        };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start: {}", server.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    async fn runs(&self, service: &str) -> Vec<Value> {
        let url = format!("{}/api/v1/runs?service={service}", self.url);
        let res = tandem_testkit::http().get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        res.json().await.unwrap()
    }

    /// Polls the runs of `service` until `check` finds what it wants, for at most [`WAIT`].
    async fn wait_for_run(&self, service: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let runs = self.runs(service).await;
            if let Some(run) = runs.iter().find(|r| check(r)) {
                return run.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no {what} after {WAIT:?}; runs: {runs:#?}\nlog:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Posts a delivery; returns the status and the JSON body.
async fn deliver(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
    let mut req = tandem_testkit::http().post(url).body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_pushes_queue_one_run_per_delivery_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shop = make_repo(dir.path(), "shop");
    let blog = make_repo(dir.path(), "blog");
    let (shop_var, blog_var) = (
        format!("TANDEM_TEST_SHOP_HOOK_{}", std::process::id()),
        format!("TANDEM_TEST_BLOG_HOOK_{}", std::process::id()),
    );
    let platform = dir.path().join("platform.yml");
    std::fs::write(
        &platform,
        format!(
            "{MARKETS}services:
  - {{ name: shop, repo: {}, triggers: {{ webhook_secret: SHOP_HOOK }} }}
  - {{ name: blog, repo: {}, triggers: {{ webhook_secret: BLOG_HOOK }} }}
secrets:
  SHOP_HOOK: {{ env: {shop_var} }}
  BLOG_HOOK: {{ env: {blog_var} }}
",
            shop.display(),
            blog.display()
        ),
    )
    .unwrap();
    let server = Server::start(&platform, &[(&shop_var, "shop-s3cret"), (&blog_var, "blog-s3cret")]);
    let github = format!("{}/hooks/github", server.url);
    let github_headers = |body: &[u8], secret: &str, delivery: &str| {
        vec![
            ("X-Hub-Signature-256", format!("sha256={}", sign(secret, body))),
            ("X-GitHub-Event", "push".to_string()),
            ("X-GitHub-Delivery", delivery.to_string()),
        ]
    };

    // GitHub: a signed push queues a run of the pushed commit.
    let first = git(&shop, &["rev-parse", "HEAD"]);
    let body = payload(GITHUB, "shop", "main", &first);
    let (status, reply) = deliver(&github, &github_headers(&body, "shop-s3cret", "gh-1"), body.clone()).await;
    assert_eq!(status, 202, "{reply}\n{}", server.log());
    let run_id = reply["run"].as_i64().unwrap();
    let runs = server.runs("shop").await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (runs[0]["id"].as_i64(), runs[0]["trigger"].as_str()),
        (Some(run_id), Some("push"))
    );
    assert_eq!(runs[0]["commit_sha"], first.as_str());
    assert_eq!(runs[0]["branch"], "main");

    // The same delivery again is a duplicate and starts nothing.
    let (status, reply) = deliver(&github, &github_headers(&body, "shop-s3cret", "gh-1"), body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["ignored"].as_str().unwrap().contains("duplicate"), "{reply}");

    // Bad and missing signatures, and another service's secret.
    let (status, reply) = deliver(&github, &github_headers(&body, "guess", "gh-2"), body.clone()).await;
    assert_eq!(status, 401, "{reply}");
    assert!(message(&reply).contains("not authenticated"), "{reply}");
    assert!(
        server.log().contains("`X-Hub-Signature-256` does not match"),
        "the log names the reason: {}",
        server.log()
    );
    let unsigned = vec![
        ("X-GitHub-Event", "push".to_string()),
        ("X-GitHub-Delivery", "gh-3".to_string()),
    ];
    let (status, reply) = deliver(&github, &unsigned, body.clone()).await;
    assert_eq!(status, 401, "{reply}");
    assert!(
        message(&reply).contains("missing `X-Hub-Signature-256` header"),
        "{reply}"
    );
    let blog_body = payload(GITHUB, "blog", "main", &git(&blog, &["rev-parse", "HEAD"]));
    let (status, reply) = deliver(&github, &github_headers(&blog_body, "shop-s3cret", "gh-4"), blog_body).await;
    assert_eq!(status, 401, "each service has its own secret: {reply}");

    // A malformed body, another branch, an unknown repository, a commit git does not have.
    let junk = b"{\"ref\": \"refs/heads/main\", ".to_vec();
    let (status, reply) = deliver(&github, &github_headers(&junk, "shop-s3cret", "gh-5"), junk).await;
    assert_eq!(status, 400, "{reply}");
    assert!(message(&reply).contains("not valid JSON"), "{reply}");
    let no_after = br#"{"ref": "refs/heads/main", "repository": {"name": "shop"}}"#.to_vec();
    let (status, reply) = deliver(&github, &github_headers(&no_after, "shop-s3cret", "gh-6"), no_after).await;
    assert_eq!(status, 400, "{reply}");
    assert!(message(&reply).contains("no `after`"), "{reply}");
    let other = payload(GITHUB, "shop", "feature", &first);
    let (status, reply) = deliver(&github, &github_headers(&other, "shop-s3cret", "gh-7"), other).await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["ignored"].as_str().unwrap().contains("push to branch `feature`"),
        "{reply}"
    );
    let stranger = payload(GITHUB, "warehouse", "main", &first);
    let (status, reply) = deliver(&github, &github_headers(&stranger, "shop-s3cret", "gh-8"), stranger).await;
    assert_eq!(
        status, 401,
        "an unknown service is not told apart from a bad signature: {reply}"
    );
    assert!(server.log().contains("repository `warehouse`"), "{}", server.log());
    let missing = payload(GITHUB, "shop", "main", &"ab".repeat(20));
    for _ in 0..2 {
        // Refused, and not remembered: a redelivery once the commit exists may still build it.
        let (status, reply) = deliver(
            &github,
            &github_headers(&missing, "shop-s3cret", "gh-9"),
            missing.clone(),
        )
        .await;
        assert_eq!(status, 422, "{reply}");
        assert!(
            message(&reply).contains("is not in the repository of `shop`"),
            "{reply}"
        );
    }

    // GitLab: the token header, no delivery id (the body's hash stands in for it).
    let second = commit(&shop, "SHOP-431: Belgian VAT at 21%");
    let body = payload(GITLAB, "shop", "main", &second);
    let headers = vec![
        ("X-Gitlab-Token", "shop-s3cret".to_string()),
        ("X-Gitlab-Event", "Push Hook".to_string()),
    ];
    let (status, reply) = deliver(&format!("{}/hooks/gitlab", server.url), &headers, body.clone()).await;
    assert_eq!(status, 202, "{reply}");
    let (status, reply) = deliver(&format!("{}/hooks/gitlab", server.url), &headers, body).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["ignored"].as_str().unwrap().contains("duplicate"), "{reply}");
    let wrong = vec![
        ("X-Gitlab-Token", "shop-s3cre".to_string()),
        ("X-Gitlab-Event", "Push Hook".to_string()),
    ];
    let (status, _) = deliver(
        &format!("{}/hooks/gitlab", server.url),
        &wrong,
        payload(GITLAB, "shop", "main", &second),
    )
    .await;
    assert_eq!(status, 401);

    // Gitea: a bare hex signature; a non-push event is acknowledged and ignored.
    let third = commit(&shop, "Swiss francs");
    let body = payload(GITEA, "shop", "main", &third);
    let gitea = format!("{}/hooks/gitea", server.url);
    let headers = |event: &str, delivery: &str, body: &[u8]| {
        vec![
            ("X-Gitea-Signature", sign("shop-s3cret", body)),
            ("X-Gitea-Event", event.to_string()),
            ("X-Gitea-Delivery", delivery.to_string()),
        ]
    };
    let (status, reply) = deliver(&gitea, &headers("push", "gt-1", &body), body.clone()).await;
    assert_eq!(status, 202, "{reply}");
    let (status, reply) = deliver(&gitea, &headers("issues", "gt-2", &body), body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["ignored"].as_str().unwrap().contains("not a push"), "{reply}");

    let runs = server.runs("shop").await;
    let built: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r["trigger"].as_str().unwrap(), r["commit_sha"].as_str().unwrap()))
        .collect();
    assert_eq!(
        built,
        [
            ("push", third.as_str()),
            ("push", second.as_str()),
            ("push", first.as_str())
        ],
        "one run per delivery, newest first"
    );
    assert!(server.runs("blog").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_builds_new_commits_and_schedules_fire() {
    let dir = tempfile::tempdir().unwrap();
    let poller = make_repo(dir.path(), "poller");
    let nightly = make_repo(dir.path(), "nightly");
    let platform = dir.path().join("platform.yml");
    std::fs::write(
        &platform,
        format!(
            "{MARKETS}services:
  - {{ name: poller, repo: {}, triggers: {{ poll: 1s }} }}
  - {{ name: nightly, repo: {}, triggers: {{ schedules: [\"*/2 * * * * *\"] }} }}
",
            poller.display(),
            nightly.display()
        ),
    )
    .unwrap();
    let server = Server::start(&platform, &[]);

    // The first poll builds the head, which was never built.
    let first = git(&poller, &["rev-parse", "HEAD"]);
    server
        .wait_for_run("poller", "poll run of the head", |r| {
            r["trigger"] == "poll" && r["commit_sha"] == first.as_str()
        })
        .await;
    let second = commit(&poller, "SHOP-432: Klarna in the north");
    let run = server
        .wait_for_run("poller", "poll run of the new commit", |r| {
            r["commit_sha"] == second.as_str()
        })
        .await;
    assert_eq!(run["trigger"], "poll");
    assert_eq!(run["branch"], "main");
    // Later polls see the head already built and start nothing more.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let runs = server.runs("poller").await;
    assert_eq!(runs.len(), 2, "one run per new commit: {runs:#?}");

    let run = server
        .wait_for_run("nightly", "scheduled run", |r| r["trigger"] == "schedule")
        .await;
    assert_eq!(run["commit_sha"], git(&nightly, &["rev-parse", "HEAD"]).as_str());
}

/// A server with one service `shop` taking webhooks signed with `shop-s3cret`.
fn shop_server(dir: &Path) -> (Server, PathBuf) {
    let shop = make_repo(dir, "shop");
    let var = format!("TANDEM_TEST_SHOP_HOOK_{}", std::process::id());
    let platform = dir.join("platform.yml");
    std::fs::write(
        &platform,
        format!(
            "{MARKETS}services:
  - {{ name: shop, repo: {}, triggers: {{ webhook_secret: SHOP_HOOK }} }}
secrets:
  SHOP_HOOK: {{ env: {var} }}
",
            shop.display()
        ),
    )
    .unwrap();
    (Server::start(&platform, &[(&var, "shop-s3cret")]), shop)
}

fn github_headers(body: &[u8], delivery: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Hub-Signature-256", format!("sha256={}", sign("shop-s3cret", body))),
        ("X-GitHub-Event", "push".to_string()),
        ("X-GitHub-Delivery", delivery.to_string()),
    ]
}

fn gitea_headers(body: &[u8], delivery: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-Gitea-Signature", sign("shop-s3cret", body)),
        ("X-Gitea-Event", "push".to_string()),
        ("X-Gitea-Delivery", delivery.to_string()),
    ]
}

/// The server's events of `kind`, oldest first.
async fn events(server: &Server, kind: &str) -> Vec<Value> {
    let res = tandem_testkit::http()
        .get(format!("{}/api/v1/events?limit=5000", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all: Vec<Value> = res.json().await.unwrap();
    all.into_iter().filter(|e| e["kind"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_naming_the_branch_with_another_branchs_commit_builds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shop) = shop_server(dir.path());
    let reviewed = git(&shop, &["rev-parse", "HEAD"]);
    git(&shop, &["checkout", "-q", "-b", "unreviewed"]);
    let evil = commit(&shop, "skip the payment check");
    git(&shop, &["checkout", "-q", "main"]);
    let github = format!("{}/hooks/github", server.url);

    // Correctly signed, naming `main`, with the commit of another branch: refused, nothing built.
    let body = payload(GITHUB, "shop", "main", &evil);
    let (status, reply) = deliver(&github, &github_headers(&body, "gh-evil"), body.clone()).await;
    assert_eq!(status, 409, "{reply}");
    let refusal = message(&reply);
    assert!(
        refusal.contains(&format!("commit {evil} is not on branch `main` of `shop`"))
            && refusal.contains(&format!("the branch is at {reviewed}")),
        "{reply}"
    );
    assert!(server.runs("shop").await.is_empty(), "no run of unreviewed code");
    let refused = events(&server, "delivery.refused").await;
    assert_eq!(refused.len(), 1, "{refused:#?}");
    let data: Value = serde_json::from_str(refused[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["reason"], refusal, "the store keeps the reason");
    // Sent again, it is checked again, and refused again.
    let (status, _) = deliver(&github, &github_headers(&body, "gh-evil-2"), body).await;
    assert_eq!(status, 409);

    // The branch's real head: one run.
    let body = payload(GITHUB, "shop", "main", &reviewed);
    let (status, reply) = deliver(&github, &github_headers(&body, "gh-head"), body).await;
    assert_eq!(status, 202, "{reply}");
    let runs = server.runs("shop").await;
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (runs[0]["commit_sha"].as_str(), runs[0]["id"].as_i64()),
        (Some(reviewed.as_str()), reply["run"].as_i64())
    );

    // Once merged into `main`, the same commit is the branch's and builds.
    git(&shop, &["merge", "-q", "--ff-only", "unreviewed"]);
    let body = payload(GITHUB, "shop", "main", &evil);
    let (status, reply) = deliver(&github, &github_headers(&body, "gh-merged"), body).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(server.runs("shop").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn replays_and_forges_announcing_one_commit_make_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shop) = shop_server(dir.path());
    let first = git(&shop, &["rev-parse", "HEAD"]);
    let github = format!("{}/hooks/github", server.url);
    let body = payload(GITHUB, "shop", "main", &first);
    let (status, reply) = deliver(&github, &github_headers(&body, "gh-1"), body.clone()).await;
    assert_eq!(status, 202, "{reply}");
    let run = reply["run"].as_i64().unwrap();

    // The same signed body with a fresh delivery id (the header no signature covers): a replay.
    for fresh in ["gh-2", "forged-id", ""] {
        let (status, reply) = deliver(&github, &github_headers(&body, fresh), body.clone()).await;
        assert_eq!(status, 200, "{reply}");
        assert!(reply["ignored"].as_str().unwrap().contains("duplicate"), "{reply}");
        assert_eq!(reply["run"].as_i64(), Some(run), "{reply}");
    }

    // Gitea and GitLab announcing the same commit (other bodies): ignored, naming the run.
    let gitea_body = payload(GITEA, "shop", "main", &first);
    let (status, reply) = deliver(
        &format!("{}/hooks/gitea", server.url),
        &gitea_headers(&gitea_body, "gt-1"),
        gitea_body,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["ignored"]
            .as_str()
            .unwrap()
            .contains(&format!("commit {first} was already announced")),
        "{reply}"
    );
    assert_eq!(reply["run"].as_i64(), Some(run));
    // GitLab signs nothing (its token is a password): a body edited to look new is still the commit.
    let mut gitlab_body: Value = serde_json::from_slice(&payload(GITLAB, "shop", "main", &first)).unwrap();
    gitlab_body["checkout_sha"] = json!(first);
    gitlab_body["total_commits_count"] = json!(99);
    let headers = vec![
        ("X-Gitlab-Token", "shop-s3cret".to_string()),
        ("X-Gitlab-Event", "Push Hook".to_string()),
        ("X-Gitlab-Event-UUID", "gl-1".to_string()),
    ];
    let (status, reply) = deliver(
        &format!("{}/hooks/gitlab", server.url),
        &headers,
        serde_json::to_vec(&gitlab_body).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["run"].as_i64(), Some(run), "{reply}");

    let runs = server.runs("shop").await;
    assert_eq!(runs.len(), 1, "one commit, one run: {runs:#?}");
    assert_eq!(events(&server, "delivery.ignored").await.len(), 2);

    // A new commit announced by two forges at once: still one run.
    let second = commit(&shop, "SHOP-433: Swiss VAT");
    let (gh, gt) = (
        payload(GITHUB, "shop", "main", &second),
        payload(GITEA, "shop", "main", &second),
    );
    let gitea = format!("{}/hooks/gitea", server.url);
    let (gh_headers, gt_headers) = (github_headers(&gh, "gh-3"), gitea_headers(&gt, "gt-2"));
    let ((s1, r1), (s2, r2)) = tokio::join!(
        deliver(&github, &gh_headers, gh.clone()),
        deliver(&gitea, &gt_headers, gt.clone()),
    );
    let mut statuses = [s1, s2];
    statuses.sort();
    assert_eq!(statuses, [200, 202], "{r1}\n{r2}");
    let runs = server.runs("shop").await;
    assert_eq!(
        runs.iter().filter(|r| r["commit_sha"] == second.as_str()).count(),
        1,
        "{runs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_callers_cannot_tell_services_or_their_set_up_apart() {
    let dir = tempfile::tempdir().unwrap();
    let shop = make_repo(dir.path(), "shop");
    let blog = make_repo(dir.path(), "blog");
    let wiki = make_repo(dir.path(), "wiki");
    let (shop_var, unset_var) = (
        format!("TANDEM_TEST_SHOP_HOOK_{}", std::process::id()),
        format!("TANDEM_TEST_UNSET_HOOK_{}", std::process::id()),
    );
    let platform = dir.path().join("platform.yml");
    std::fs::write(
        &platform,
        format!(
            "{MARKETS}services:
  - {{ name: shop, repo: {}, triggers: {{ webhook_secret: SHOP_HOOK }} }}
  - {{ name: blog, repo: {}, triggers: {{ webhook_secret: BLOG_HOOK }} }}
  - {{ name: wiki, repo: {} }}
secrets:
  SHOP_HOOK: {{ env: {shop_var} }}
  BLOG_HOOK: {{ env: {unset_var} }}
",
            shop.display(),
            blog.display(),
            wiki.display()
        ),
    )
    .unwrap();
    let server = Server::start(&platform, &[(&shop_var, "shop-s3cret")]);
    let github = format!("{}/hooks/github", server.url);
    let sha = git(&shop, &["rev-parse", "HEAD"]);

    let raw = |url: String, body: Vec<u8>| async move {
        let res = tandem_testkit::http()
            .post(url)
            .header("X-Hub-Signature-256", format!("sha256={}", sign("a-guess", &body)))
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", "probe")
            .body(body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    };
    let answers = [
        (
            "a bad signature",
            raw(github.clone(), payload(GITHUB, "shop", "main", &sha)).await,
        ),
        (
            "an unknown repository",
            raw(github.clone(), payload(GITHUB, "warehouse", "main", &sha)).await,
        ),
        (
            "an unknown ?service=",
            raw(format!("{github}?service=ghost"), payload(GITHUB, "shop", "main", &sha)).await,
        ),
        (
            "a secret whose variable is unset",
            raw(github.clone(), payload(GITHUB, "blog", "main", &sha)).await,
        ),
        (
            "a service that takes no webhooks",
            raw(github.clone(), payload(GITHUB, "wiki", "main", &sha)).await,
        ),
    ];
    for (what, answer) in &answers {
        assert_eq!(answer, &answers[0].1, "{what} answers like a bad signature");
    }
    assert_eq!(answers[0].1.0, 401, "{}", answers[0].1.1);
    assert!(!answers[0].1.1.contains(&unset_var), "{}", answers[0].1.1);

    // The operator's log names each real reason, and never a secret's value.
    let log = server.log();
    for reason in [
        "`X-Hub-Signature-256` does not match".to_string(),
        "repository `warehouse`".to_string(),
        "service `ghost`".to_string(),
        unset_var.clone(),
        "service `wiki` takes no webhooks".to_string(),
    ] {
        assert!(log.contains(&reason), "the log names {reason}:\n{log}");
    }
    assert!(!log.contains("shop-s3cret"), "{log}");
    assert!(server.runs("shop").await.is_empty());
}
