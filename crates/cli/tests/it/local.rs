//! `tandem run` and `tandem lint` on a repository, without a server.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use tandem_testkit::git;

fn tandem(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn repo(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.yml"), spec).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "committed\n").unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "first"]);
    dir
}

const SPEC: &str = "service: notes
pipeline:
  jobs:
    check:
      steps:
        - run: grep -q edited notes.txt
    after:
      needs: [check]
      steps: [{ run: echo after }]
";

#[test]
fn tandem_run_runs_the_working_tree_and_exits_with_the_pipelines_result() {
    let dir = repo(SPEC);
    let out = tandem(dir.path(), &["run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the committed file lacks `edited`:\n{err}");
    assert!(
        err.contains("✗ check: failed") && err.contains("– after ← check: skipped"),
        "{err}"
    );
    assert!(
        err.contains("── log of check ──"),
        "the failed job's log is shown:\n{err}"
    );

    // Uncommitted changes are what a developer wants to try: they are included.
    std::fs::write(dir.path().join("notes.txt"), "edited\n").unwrap();
    let out = tandem(dir.path(), &["run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("✓ after ← check: success") && err.contains("Pipeline passed"),
        "{err}"
    );
    // …without touching the work tree or the branch.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "edited\n"
    );
}

#[test]
fn tandem_run_explains_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = tandem(dir.path(), &["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not in a git repository"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = repo("service: notes\npipeline:\n  jobs:\n    a:\n      needs: [b]\n      steps: [{ run: x }]\n");
    let out = tandem(dir.path(), &["run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("tandem.yml:5:15: job `a` needs unknown job `b`"), "{err}");
}

#[test]
fn tandem_lint_reports_every_error_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tandem.yml");
    std::fs::write(&file, SPEC).unwrap();
    let out = tandem(dir.path(), &["lint"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "tandem.yml: ok — service notes, 2 jobs (check → after)"
    );

    std::fs::write(&file, "service: notes\npipeline:\n  jobs:\n    a:\n      if: brnch == 'main'\n      timeout: later\n      steps: [{ run: x }]\n").unwrap();
    let out = tandem(dir.path(), &["lint", "tandem.yml", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(5), Some(11))
    );
    assert!(errors[0]["message"].as_str().unwrap().contains("did you mean `branch`"));
    assert!(errors[1]["message"].as_str().unwrap().contains("`timeout`"));

    let out = tandem(dir.path(), &["lint", "missing.yml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read missing.yml"));
}

#[test]
fn tandem_lint_checks_the_probe_settings_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tandem.yml");
    let spec = |probe: &str| {
        format!(
            "service: notes\npipeline:\n  jobs:\n    a:\n      steps: [{{ run: x }}]\ndeploy:\n  driver: process\n  run: \"notes --port {{port}}\"\ngates:\n  probe:\n{probe}"
        )
    };
    std::fs::write(
        &file,
        spec("    interval: 1s\n    start-period: 30s\n    markets:\n      br: { start-period: 45s }\n"),
    )
    .unwrap();
    let out = tandem(dir.path(), &["lint", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let probe = &report["spec"]["gates"]["probe"];
    assert_eq!(probe["start-period"]["secs"], 30, "{probe}");
    assert_eq!(probe["markets"]["br"]["start-period"]["secs"], 45, "{probe}");

    std::fs::write(
        &file,
        spec("    interval: 0s\n    start-period: soon\n    failures: 0\n"),
    )
    .unwrap();
    let out = tandem(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tandem.yml:11:15: `gates.probe.interval` must be longer than 0"),
        "{err}"
    );
    assert!(
        err.contains("tandem.yml:12:19: `gates.probe.start-period`: duration `soon`"),
        "{err}"
    );
    assert!(
        err.contains("tandem.yml:13:15: `gates.probe.failures: 0` is out of range"),
        "{err}"
    );
    assert!(err.contains("tandem.yml: 3 errors"), "{err}");
}

#[test]
fn secrets_never_reach_the_stored_log_however_a_step_prints_them() {
    let key = "-----BEGIN TEST KEY-----\nMIIBsecretlineNumberTwo\n-----END TEST KEY-----";
    let split = "firsthalfSECONDHALF";
    let dir = repo(
        "service: notes
pipeline:
  jobs:
    leak:
      secrets: [KEY, SPLIT]
      steps:
        # The multi-line secret in one write; the other in two writes with the other pipe's
        # output in between (the pauses make each write reach the runner on its own).
        - run: |
            printf 'key:\\n%s\\nend of key\\n' \"$KEY\"
            printf '%.9s' \"$SPLIT\"; sleep 0.3
            echo 'on stderr between the halves' >&2; sleep 0.3
            printf '%s\\n' \"${SPLIT#?????????}\"
",
    );
    let platform = dir.path().join("platform.yml");
    std::fs::write(
        &platform,
        "markets:\n  - { id: fr, name: France, region: w, currency: EUR, locale: fr-FR, timezone: Europe/Paris }\nservices: []\nsecrets:\n  KEY: { env: TANDEM_TEST_KEY }\n  SPLIT: { env: TANDEM_TEST_SPLIT }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["run", "--logs", "--platform"])
        .arg(&platform)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TANDEM_TEST_KEY", key)
        .env("TANDEM_TEST_SPLIT", split)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let log = err.split_once("── log of leak ──").unwrap().1;
    // What a reader sees, time stamps left out.
    let text: String = log
        .lines()
        .map(|l| l.split_once("] ").map_or(l, |x| x.1))
        .collect::<Vec<_>>()
        .join("\n");
    for shown in ["MIIBsecretlineNumberTwo", "BEGIN TEST KEY", "firsthalf", "SECONDHALF"] {
        assert!(!text.contains(shown), "`{shown}` leaked:\n{text}");
    }
    assert!(text.contains("key:\n***\nend of key"), "{text}");
    assert!(text.contains("on stderr between the halves\n***"), "{text}");
}

#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tandem.yml"), SPEC).unwrap();
    for args in [&["lint"][..], &["lint", "--json"]] {
        // `tandem lint | head -0`: the reading end is closed before tandem writes a byte.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(args)
            .current_dir(dir.path())
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}: nothing to say");
    }
}
