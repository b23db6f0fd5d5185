//! `tandem market readiness` and `tandem market launch` against a real `tandem serve`: a planned
//! market with nothing released is refused, exit code 1, with every missing item printed.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::Server;

#[test]
fn a_market_that_is_not_ready_exits_1_on_readiness_and_launch_naming_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    std::fs::create_dir_all(&repo).unwrap();
    let platform = format!(
        "markets:
  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}
  - {{ id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels, state: planned }}
services:
  - {{ name: shop, repo: {} }}
",
        repo.display()
    );
    let server = Server::start(dir.path(), &platform);
    let with = |args: &[&str]| server.cli(args);

    // Not ready: the checklist, and exit code 1 (a script can wait on it).
    let out = with(&["market", "readiness", "be"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(with(&["market", "readiness", "be", "--json"]).status.code(), Some(1));
    // The server writes no colour codes to a log that is not a terminal.
    assert!(!server.startup_log.contains('\u{1b}'), "{}", server.startup_log);
    assert!(
        stdout.contains("shop has no release yet: a green run on its branch makes one"),
        "{stdout}"
    );
    assert!(
        stdout.contains("be (Belgium, planned): not ready: 3 check(s) missing"),
        "{stdout}"
    );

    let out = with(&["market", "launch", "be"]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("MISSING"), "the checklist is printed: {stdout}");
    assert!(
        stderr.starts_with("error: market `be` is not ready to launch: config (shop): shop has no release yet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("probe (shop): nothing of shop runs in be to probe"),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("[HTTP 422]"), "{stderr}");

    let out = with(&["market", "launch", "be", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<&str> = body["error"]["details"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["config", "release", "probe"]);

    let out = with(&["market", "launch", "fr"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("market `fr` is already live (the platform file says so) [HTTP 409]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
