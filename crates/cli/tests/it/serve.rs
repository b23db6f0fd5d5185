//! `tandem serve` refuses bad input with a clear message and writes nothing; client commands
//! talk to a running server and print what a user reads.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, stderr, tandem};
use std::path::Path;
use std::process::{Command, Output};

const MARKETS: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
";

fn serve_with(dir: &Path, platform: &str) -> Output {
    let file = dir.join("platform.yml");
    std::fs::write(&file, platform).unwrap();
    let data = dir.join("data");
    tandem(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--platform",
        file.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

#[test]
fn a_bad_platform_file_is_refused_with_its_place_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            format!("{MARKETS}waves:\n  - {{ name: pilot, markets: [fr, xx] }}\n"),
            "platform.yml:5:34: wave `pilot` names unknown market `xx`",
        ),
        (
            format!("{MARKETS}  - {{ id: fr, name: F, region: w, currency: EUR, locale: fr, timezone: UTC }}\n"),
            "platform.yml:4:11: market `fr` is declared twice",
        ),
        ("markets:\n  - { id: fr\n".to_string(), "platform.yml:"),
        (format!("{MARKETS}wavez: []\n"), "wavez"),
        (
            format!("{MARKETS}services:\n  - {{ name: shop, repo: no/such/repo }}\n"),
            "service `shop` names repository",
        ),
    ];
    for (text, expected) in cases {
        let out = serve_with(dir.path(), &text);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = stderr(&out);
        assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            !dir.path().join("data").exists(),
            "a refused platform file writes nothing"
        );
    }
}

#[test]
fn a_port_in_use_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let file = dir.path().join("platform.yml");
    std::fs::write(&file, MARKETS).unwrap();
    let out = tandem(&[
        "serve",
        "--listen",
        &addr,
        "--platform",
        file.to_str().unwrap(),
        "--data-dir",
        dir.path().join("d").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_with_2_and_client_errors_say_what_to_do() {
    let out = tandem(&["idea", "add"]);
    assert_eq!(out.status.code(), Some(2));
    let out = tandem(&["market", "list", "--server", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach the Tandem server at http://127.0.0.1:9"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn client_commands_drive_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &format!("{MARKETS}waves:\n  - {{ name: pilot, markets: [fr] }}\n"),
    );
    let token = server.token.clone();
    let with = |args: &[&str], token: &str| server.cli_as(args, token);

    let out = with(&["idea", "add", "Pay with iDEAL", "--market", "be"], &token);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Added idea T-1: Pay with iDEAL"
    );
    let out = with(&["idea", "list", "--json"], &token);
    let ideas: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ideas[0]["state"], "planned");

    let out = with(&["market", "list"], &token);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("France") && table.contains("pilot") && table.contains("Belgium"),
        "{table}"
    );

    let out = with(&["token", "create", "reader", "--role", "viewer", "--json"], &token);
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let viewer = made["secret"].as_str().unwrap().to_string();
    let out = with(&["idea", "add", "Sneaky"], &viewer);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("needs the developer role; your credential has viewer [HTTP 403]"),
        "{}",
        stderr(&out)
    );
    let out = with(&["run", "list"], "wrong");
    assert!(
        stderr(&out).contains("pass --token or set TANDEM_TOKEN"),
        "{}",
        stderr(&out)
    );
    let out = with(&["rollout", "show", "7"], &viewer);
    assert!(
        stderr(&out).contains("rollout 7 not found [HTTP 404]"),
        "{}",
        stderr(&out)
    );

    let status = server.stop();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
}

#[test]
fn config_changes_are_proposed_reviewed_logged_and_rolled_back_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "shop",
    ]);
    let platform = format!(
        "{MARKETS}services:\n  - {{ name: shop, repo: {}, config: {{ defaults: {{ vat_rate: 0.2 }} }} }}\n",
        repo.display()
    );
    let server = Server::start(dir.path(), &platform);
    let admin = server.token.clone();
    let with = |args: &[&str], token: &str| server.cli_as(args, token);
    let out = with(&["token", "create", "dana", "--role", "developer", "--json"], &admin);
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dana = made["secret"].as_str().unwrap().to_string();

    // The layers kept in git: exported, edited, proposed back.
    let folder = dir.path().join("config");
    let out = with(&["config", "export", "shop", "-o", folder.to_str().unwrap()], &dana);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(folder.join("defaults.yml")).unwrap().trim(),
        "vat_rate: 0.2"
    );
    std::fs::create_dir_all(folder.join("markets")).unwrap();
    std::fs::write(folder.join("markets/be.yml"), "vat_rate: 0.21\n").unwrap();
    std::fs::write(folder.join("markets/xx.yml"), "vat_rate: 0.1\n").unwrap();
    let apply = |token: &str| {
        with(
            &[
                "config",
                "apply",
                "shop",
                "-f",
                folder.to_str().unwrap(),
                "--title",
                "VAT 21% in Belgium",
            ],
            token,
        )
    };
    let out = apply(&dana);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("market `xx`: not a market of the platform [HTTP 422]"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(folder.join("markets/xx.yml")).unwrap();
    let out = apply(&dana);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("Change request 1 — VAT 21% in Belgium"), "{shown}");
    assert!(
        shown.contains("Blast radius: 1 market(s) change, 1 unchanged"),
        "{shown}"
    );
    assert!(shown.contains("~ vat_rate: 0.2 → 0.21"), "{shown}");
    assert!(
        shown.contains("waits for 1 approval(s) from an operator (ops side)"),
        "{shown}"
    );

    // The admin is on the ops side: its approval applies the change.
    let out = with(&["config", "approve", "1", "--comment", "checked"], &admin);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Change request 1 is done"));
    let out = with(&["config", "show", "shop", "--market", "be"], &dana);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("shop in be: config v2"), "{shown}");
    assert!(
        shown.contains("vat_rate") && shown.contains("0.21") && shown.contains("market override"),
        "{shown}"
    );
    let out = with(&["config", "log", "shop"], &dana);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("v2") && log.contains("approved by admin"), "{log}");
    assert!(log.contains("+ markets.be.vat_rate = 0.21"), "{log}");

    // One value, one layer; then nl… is not a market: refused before anything is stored.
    let out = with(
        &[
            "config",
            "set",
            "shop",
            "vat_rate=0.19",
            "--market",
            "fr",
            "--title",
            "VAT 19% in France",
        ],
        &admin,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("waits for 1 approval(s) from a developer (dev side)"));

    let out = with(&["config", "rollback", "shop", "--market", "be"], &dana);
    assert!(stderr(&out).contains("[HTTP 403]"), "{}", stderr(&out));
    let out = with(&["config", "rollback", "shop", "--market", "be"], &admin);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("v2") && table.contains("v1") && table.contains("rolled back"),
        "{table}"
    );

    assert!(server.stop().success(), "serve exits 0 on SIGTERM");
}

#[test]
fn without_a_terminal_the_first_admin_token_goes_to_an_owner_only_file_not_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &format!("{MARKETS}waves:\n  - {{ name: pilot, markets: [fr] }}\n"),
    );
    let file = server.data.join(common::FIRST_TOKEN_FILE);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{} is readable by its owner alone", file.display());
    assert!(server.token.starts_with("tdm_"), "{}", server.token);
    assert!(
        !server.startup_log.contains(&server.token) && !server.startup_log.contains("tdm_"),
        "the token is not in the log: {}",
        server.startup_log
    );
    assert!(
        server.startup_log.contains(&file.display().to_string()),
        "the log says where it is: {}",
        server.startup_log
    );
    let out = server.cli(&["market", "list"]);
    assert!(out.status.success(), "the token in the file works: {}", stderr(&out));
}

#[test]
fn tokens_get_an_expiry_and_are_revoked_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &format!("{MARKETS}waves:\n  - {{ name: pilot, markets: [fr] }}\n"),
    );
    let out = server.cli(&[
        "token",
        "create",
        "ci",
        "--role",
        "viewer",
        "--expires",
        "30d",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(created["expires_at"].is_i64(), "{created}");
    let (id, secret) = (
        created["id"].to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    assert!(server.cli_as(&["market", "list"], &secret).status.success());

    let out = server.cli(&["token", "create", "x", "--expires", "forever"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("expires_in"), "{}", stderr(&out));

    let out = server.cli(&["token", "revoke", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
    let out = server.cli_as(&["market", "list"], &secret);
    assert_eq!(out.status.code(), Some(1), "a revoked token works no more");
    assert!(
        stderr(&out).contains("revoked [HTTP 401]") || stderr(&out).contains("revoked"),
        "{}",
        stderr(&out)
    );
    let listed = String::from_utf8_lossy(&server.cli(&["token", "list"]).stdout).into_owned();
    assert!(listed.contains("revoked") && listed.contains("last used"), "{listed}");
}
