//! `tandem completions SHELL` and `tandem man` as a person installs them: the script a real
//! bash sources completes `tandem rol` to the commands that start so, an unknown shell is
//! refused, and `man` reads the pages.

#![allow(clippy::unwrap_used)]

use crate::common::{stderr, tandem};
use std::process::Command;

#[test]
fn bash_completes_the_commands_from_the_script_tandem_prints() {
    let out = tandem(&["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tandem.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // As bash calls a completion function: the command, the word being completed, the one before.
    let completed = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(tandem rol); COMP_CWORD=1; _tandem tandem rol tandem; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&completed.stdout);
    let mut words: Vec<&str> = words.split_whitespace().collect();
    words.sort();
    assert_eq!(words, ["rollback", "rollout"], "{}", stderr(&completed));

    for shell in ["zsh", "fish"] {
        let out = tandem(&["completions", shell]);
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{shell}: {}",
            stderr(&out)
        );
    }
    let out = tandem(&["completions", "cmd.exe"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cmd.exe"), "{}", stderr(&out));
}

#[test]
fn tandem_man_writes_a_page_per_command_that_man_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = tandem(&["man", "--dir", &dir.path().display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dir.path().join("tandem-rollout-resume.1")).unwrap();
    assert!(page.contains(".TH tandem-rollout-resume 1"), "{page}");
    assert!(page.contains("skip\\-blocked"), "{page}");
    assert!(dir.path().join("tandem.1").exists());
    assert!(
        !dir.path().join("tandem-help.1").exists(),
        "clap's help command has no page"
    );
    if Command::new("man").arg("--version").output().is_ok() {
        let shown = Command::new("man")
            .arg("-l")
            .arg(dir.path().join("tandem-serve.1"))
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains("--platform"), "{text}");
    }
}
