//! `tandem lint` on a `tandem.yml` with mistakes at every level: all are printed in one go.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

use tandem_testkit::fixtures::MANY_MISTAKES;

fn lint(args: &[&str]) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.yml"), MANY_MISTAKES).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("lint")
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (dir, out)
}

#[test]
fn tandem_lint_prints_every_mistake_at_once_and_fails() {
    let (_dir, out) = lint(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "tandem.yml:2:1: unknown field `servce`",
        "(did you mean `service`?)",
        "tandem.yml:6:7: jobs form a cycle through `needs`: build → test → build",
        "tandem.yml:6:21: job `build` needs unknown job `lint`",
        "tandem.yml:7:7: unknown field `timout`",
        "(did you mean `timeout`?)",
        "tandem.yml:9:31: unknown field `shel`",
        "(did you mean `shell`?)",
        "tandem.yml:19:9: unknown field `vs-previos`",
        "(did you mean `vs-previous`?)",
        "tandem.yml: 6 errors",
    ] {
        assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
    }
}

#[test]
fn tandem_lint_json_lists_every_mistake_with_its_place() {
    let (_dir, out) = lint(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let places: Vec<(u64, u64)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(places, [(2, 1), (6, 7), (6, 21), (7, 7), (9, 31), (19, 9)]);
}
