//! `tandem secret` with the real binary against a real `tandem serve`: a value goes in on
//! standard input (never on the command line), the list shows names, versions and who set
//! them but never a value, only an admin may set one, and the server keeps its key in the data
//! folder, readable by its owner alone.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, stderr};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
waves:
  - { name: pilot, markets: [fr] }
secrets:
  REGISTRY_TOKEN: {}
  SHOP_WEBHOOK: { env: TANDEM_TEST_SECRETS_SURELY_UNSET }
";

/// Runs a client command against `server` as `token`, with `input` on its standard input.
fn with_stdin(server: &Server, token: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .args(["--server", &server.base, "--token", token])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_secret_set_from_stdin_is_listed_without_its_value_and_only_admins_set_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), PLATFORM);
    let value = "glpat-Zx81-secret-value";

    let out = with_stdin(
        &server,
        &server.token,
        &["secret", "set", "REGISTRY_TOKEN"],
        &format!("{value}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Secret `REGISTRY_TOKEN` set (version 1)"),
        "{}",
        stdout(&out)
    );
    let out = with_stdin(
        &server,
        &server.token,
        &["secret", "set", "REGISTRY_TOKEN"],
        "rotated\n",
    );
    assert!(stdout(&out).contains("(version 2)"), "{}", stdout(&out));

    let out = server.cli(&["secret", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row = table.lines().find(|l| l.contains("REGISTRY_TOKEN")).unwrap_or_default();
    for expected in ["store", " 2 ", "admin"] {
        assert!(row.contains(expected), "`{expected}` in: {table}");
    }
    let row = table.lines().find(|l| l.contains("SHOP_WEBHOOK")).unwrap_or_default();
    assert!(
        row.contains("unset") && row.contains("TANDEM_TEST_SECRETS_SURELY_UNSET"),
        "{table}"
    );
    assert!(!table.contains(value) && !table.contains("rotated"), "{table}");
    let json = stdout(&server.cli(&["secret", "list", "--json"]));
    assert!(!json.contains(value) && !json.contains("rotated"), "{json}");

    // A value on the command line is a usage error: `ps` and shell history would show it.
    let out = server.cli(&["secret", "set", "REGISTRY_TOKEN", value]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Nothing piped in: refused, naming the secret.
    let out = with_stdin(&server, &server.token, &["secret", "set", "REGISTRY_TOKEN"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no value for secret `REGISTRY_TOKEN`"),
        "{}",
        stderr(&out)
    );

    // A developer may not set one; the server says which role it needs.
    let made = server.cli(&["token", "create", "ci", "--role", "developer", "--json"]);
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let developer = made["secret"].as_str().unwrap();
    let out = with_stdin(&server, developer, &["secret", "set", "REGISTRY_TOKEN"], "x\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("needs the admin role"), "{}", stderr(&out));
    assert!(stderr(&out).contains("[HTTP 403]"), "{}", stderr(&out));

    let out = server.cli(&["secret", "delete", "REGISTRY_TOKEN"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&server.cli(&["secret", "list"]));
    let row = table.lines().find(|l| l.contains("REGISTRY_TOKEN")).unwrap_or_default();
    assert!(row.contains("unset"), "{table}");

    // The key is in the data folder, for the server's user alone; the database holds no value.
    let key = dir.path().join("data/secrets.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    server.stop();
    for file in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = file.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "{}",
                path.display()
            );
        }
    }
}
