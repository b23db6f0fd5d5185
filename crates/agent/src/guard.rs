//! The step guard (`tandem __step-guard PROGRAM ARGS…`): an agent starts each step through it,
//! so that a step never outlives its agent. It starts the step in its own process group (the
//! one the agent made for the step), waits for it, and when the agent is gone (its parent
//! changed: killed, crashed) kills the whole group. It outlives a TERM itself, so the step keeps
//! its grace period, and ends as the step ended (its code, or killed when the step was).

use std::ffi::OsString;
use std::time::Duration;

/// How often the guard looks whether its agent is still there.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The first argument that makes `tandem` a step guard.
pub const GUARD_ARG: &str = "__step-guard";

/// Runs the guard over `argv`; returns the exit code to end with.
pub fn run(argv: Vec<OsString>) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        eprintln!("tandem {GUARD_ARG}: no program to run");
        return 127;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tandem {GUARD_ARG}: cannot start: {e}");
            return 127;
        }
    };
    runtime.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Held, not acted on: the step gets the same signals (they go to the whole group).
        let _term = signal(SignalKind::terminate());
        let _int = signal(SignalKind::interrupt());
        let parent = nix::unistd::getppid();
        let mut child = match tokio::process::Command::new(program).args(args).spawn() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{}: cannot start: {e}", program.to_string_lossy());
                return 127;
            }
        };
        let mut look = tokio::time::interval(LOOK_EVERY);
        loop {
            tokio::select! {
                status = child.wait() => {
                    use std::os::unix::process::ExitStatusExt;
                    return match status {
                        Ok(s) if s.code().is_some() => s.code().unwrap_or(1),
                        Ok(s) if s.signal().is_some() => {
                            // Ended by a signal: so does the guard, for the agent to see it so.
                            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
                            128 + s.signal().unwrap_or(9)
                        }
                        _ => 1,
                    };
                }
                _ = look.tick() => {
                    if nix::unistd::getppid() != parent {
                        // The agent is gone: so is the step, all of it.
                        let _ = nix::sys::signal::killpg(nix::unistd::getpgrp(), nix::sys::signal::Signal::SIGKILL);
                        return 137;
                    }
                }
            }
        }
    })
}
