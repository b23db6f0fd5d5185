//! `tandem db copy` and `tandem serve --database` as an operator runs them: a team's SQLite
//! history moves to PostgreSQL and a server carries on from it, with the same tokens, ideas
//! and audit chain; a second copy, a missing key and a wrong folder are refused, and a
//! password in the database URL never shows in an error.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Api, Server, stderr, tandem};
use std::process::{Command, Stdio};
use std::time::Duration;
use tandem_testkit::postgres::Database;

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
";

fn copy(from: &std::path::Path, url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["db", "copy", "--from"])
        .arg(from)
        .env("TANDEM_DATABASE", url)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `tandem serve --listen 127.0.0.1:{port} --data-dir {data}`, on the database `url` when
/// given (through TANDEM_DATABASE, as an operator would pass a URL holding a password).
fn serve(port: u16, data: &std::path::Path, url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env("NO_COLOR", "1");
    if let Some(url) = url {
        command.env("TANDEM_DATABASE", url);
    }
    command
}

#[tokio::test]
async fn a_sqlite_history_moves_to_postgres_and_a_server_carries_on_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), PLATFORM);
    for title in ["Pay with iDEAL", "Free shipping"] {
        let out = server.cli(&["idea", "add", title]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let admin = server.token.clone();
    let data = server.data.clone();
    assert!(server.stop().success());

    let database = Database::create().await;
    let out = copy(&data, &database.url);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}{}", stderr(&out));
    assert!(said.contains("every table holds the same rows on both sides"), "{said}");
    assert!(said.contains("ideas") && said.contains("events"), "{said}");
    assert!(said.contains("Uploaded") && said.contains("blobs ("), "{said}");

    // Copying again would mix two histories: refused, nothing written.
    let again = copy(&data, &database.url);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));

    // Several servers share one database: each must seal secrets with the same key.
    let port = tandem_testkit::server::free_port();
    let listen = format!("127.0.0.1:{port}");
    let keyless = serve(port, &data, Some(&database.url)).output().unwrap();
    assert!(!keyless.status.success());
    assert!(
        stderr(&keyless).contains("give the key that seals secrets"),
        "{}",
        stderr(&keyless)
    );

    let mut child = serve(port, &data, Some(&database.url))
        .arg("--secrets-key-file")
        .arg(data.join("secrets.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = tandem_testkit::server::read_until(
        child.stderr.take().unwrap(),
        "tandem is serving",
        Duration::from_secs(60),
    );
    let guard = scopeguard(child);
    started.unwrap_or_else(|printed| panic!("{printed}"));

    // A second server on the same data folder would share its work folders: refused.
    // (Servers share a database, each with a folder of its own: see replicas.rs.)
    let second = serve(tandem_testkit::server::free_port(), &data, Some(&database.url))
        .arg("--secrets-key-file")
        .arg(data.join("secrets.key"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("another Tandem server is using the data folder"),
        "{}",
        stderr(&second)
    );

    let base = format!("http://{listen}");
    let api = Api::new(&base, &admin);
    let ideas = api.get("/api/v1/ideas").await;
    let titles: Vec<&str> = ideas
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Pay with iDEAL", "Free shipping"]);
    let made = api
        .post("/api/v1/ideas", serde_json::json!({ "title": "Show VAT" }))
        .await;
    assert_eq!(made["key"], "T-3", "numbers carry on after the copied ones");
    let verify = tandem(&["audit", "verify", "--server", &base, "--token", &admin]);
    let said = String::from_utf8_lossy(&verify.stdout).to_string();
    assert!(verify.status.success(), "{said}{}", stderr(&verify));
    assert!(said.contains("The audit log is intact"), "{said}");
    drop(guard);
}

#[test]
fn a_folder_without_a_database_and_a_password_in_the_url_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let out = copy(dir.path(), "postgres://postgres@127.0.0.1:5432/test");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("holds no Tandem database"), "{}", stderr(&out));
    assert!(!dir.path().join("tandem.db").exists(), "nothing is made in the folder");

    // Nothing listens on port 1: the server cannot open its database, and says so without
    // the password.
    let port = tandem_testkit::server::free_port();
    let out = serve(port, &dir.path().join("data"), None)
        .args(["--database", "postgres://tandem:hunter2@127.0.0.1:1/tandem"])
        .env("TANDEM_SECRETS_KEY", "0".repeat(64))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("cannot open the database given by --database"), "{said}");
    assert!(!said.contains("hunter2"), "{said}");

    let out = serve(port, &dir.path().join("data"), None)
        .args(["--database", "mysql://tandem:hunter2@127.0.0.1/tandem"])
        .env("TANDEM_SECRETS_KEY", "0".repeat(64))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("`mysql` is not one Tandem speaks"), "{said}");
    assert!(!said.contains("hunter2"), "{said}");
}

/// Kills the server when the test ends, pass or fail.
fn scopeguard(child: std::process::Child) -> impl Drop {
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    Kill(child)
}

/// The network to PostgreSQL fails under a running server: requests answer 503 with
/// Retry-After and write nothing; when it is back, the server answers again without a restart.
/// (Several threads: the proxy runs while the test waits for the server's start.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_cut_off_requests_answer_503_and_the_server_carries_on_after() {
    let database = Database::create().await;
    let proxy = tandem_testkit::proxy::Proxy::start(database.address()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), PLATFORM, Some(&database.url_through(proxy.port)));
    let api = server.api();
    api.post("/api/v1/ideas", serde_json::json!({ "title": "Before" }))
        .await;

    proxy.cut().await;
    let http = tandem_testkit::http();
    let idea = |title: &str| {
        http.post(format!("{}/api/v1/ideas", server.base))
            .bearer_auth(&server.token)
            .json(&serde_json::json!({ "title": title }))
            .send()
    };
    let answer = idea("During").await.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(answer.headers()["retry-after"], "5");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(!body.to_string().contains("5432"), "nothing of the inside: {body}");
    let listed = http
        .get(format!("{}/api/v1/ideas", server.base))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 503);

    proxy.restore();
    let ideas = api.get("/api/v1/ideas").await;
    let titles: Vec<&str> = ideas
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Before"], "the refused write left nothing behind");
    let after = api.post("/api/v1/ideas", serde_json::json!({ "title": "After" })).await;
    assert_eq!(after["key"], "T-2");
    assert!(server.stop().success());
}
