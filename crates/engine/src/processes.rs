//! What the kernel (Linux /proc) says about the market processes Tandem started, so that a
//! server started again after a crash can tell its own processes from strangers.
//!
//! A process is Tandem's when its recorded identity still holds: same pid, same start time
//! (clock ticks after boot) and same boot. A pid alone is never enough: the kernel reuses it.
//! While the recorded leader runs, its whole process group is Tandem's (the group's number
//! stays taken while it has a member). Once the leader is gone, a member counts only when its
//! environment carries the process's instance marker (`TANDEM_INSTANCE`), which is also how a
//! process is found whose pid was never recorded (the server died in between).

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use procfs::process::{FDTarget, Process};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tandem_store::ProcessIdentity;

/// The environment variable that marks a market process (and what it starts) as one instance.
pub const INSTANCE_VAR: &str = "TANDEM_INSTANCE";
/// How often a stopping group is looked at again.
const STOP_POLL: Duration = Duration::from_millis(50);
/// How long a group gets to vanish after KILL (the kernel needs a moment to tear it down).
const KILL_WAIT: Duration = Duration::from_secs(2);

/// A fresh instance marker: unique per server process and start.
pub fn new_instance() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}-{nanos:x}-{n:x}", std::process::id())
}

/// This boot's id; empty when /proc does not say.
fn boot_id() -> String {
    procfs::sys::kernel::random::boot_id().unwrap_or_default()
}

/// Who `pid` is now: its group, start time and boot; `None` when it is gone.
pub fn identify(pid: u32) -> Option<ProcessIdentity> {
    let stat = Process::new(i32::try_from(pid).ok()?).ok()?.stat().ok()?;
    Some(ProcessIdentity {
        pid: i64::from(stat.pid),
        pgid: i64::from(stat.pgrp),
        start_ticks: i64::try_from(stat.starttime).ok()?,
        boot_id: boot_id(),
    })
}

/// Whether the recorded process still runs (not a zombie): same pid, start time and boot.
pub fn is_alive(who: &ProcessIdentity) -> bool {
    let Ok(pid) = i32::try_from(who.pid) else {
        return false;
    };
    let Ok(stat) = Process::new(pid).and_then(|p| p.stat()) else {
        return false;
    };
    stat.state != 'Z' && i64::try_from(stat.starttime).is_ok_and(|t| t == who.start_ticks) && who.boot_id == boot_id()
}

/// Whether `pid`'s environment carries `instance`.
fn carries(pid: i32, instance: &str) -> bool {
    Process::new(pid)
        .and_then(|p| p.environ())
        .is_ok_and(|env| env.get(std::ffi::OsStr::new(INSTANCE_VAR)) == Some(&instance.into()))
}

/// The live (non-zombie) processes of the recorded process's group, or (no identity, or its
/// leader gone) those that carry its instance marker.
pub fn members(who: Option<&ProcessIdentity>, instance: &str) -> Vec<i32> {
    let leader_alive = who.is_some_and(is_alive);
    let (Ok(me), Ok(all)) = (
        Process::myself().and_then(|p| p.uid()),
        procfs::process::all_processes(),
    ) else {
        return Vec::new();
    };
    all.filter_map(Result::ok)
        .filter(|p| p.uid().is_ok_and(|u| u == me))
        .filter_map(|p| p.stat().ok())
        .filter(|s| s.state != 'Z')
        .filter(|s| match who {
            Some(w) if leader_alive => i64::from(s.pgrp) == w.pgid,
            Some(w) => i64::from(s.pgrp) == w.pgid && carries(s.pid, instance),
            None => carries(s.pid, instance),
        })
        .map(|s| s.pid)
        .collect()
}

/// Whether one of `pids` holds a TCP socket listening on `port`.
pub fn listens(pids: &[i32], port: u16) -> bool {
    let sockets: HashSet<u64> = [procfs::net::tcp(), procfs::net::tcp6()]
        .into_iter()
        .filter_map(Result::ok)
        .flatten()
        .filter(|e| e.state == procfs::net::TcpState::Listen && e.local_address.port() == port)
        .map(|e| e.inode)
        .collect();
    !sockets.is_empty()
        && pids.iter().any(|&pid| {
            Process::new(pid).and_then(|p| p.fd()).is_ok_and(|fds| {
                fds.filter_map(Result::ok)
                    .any(|fd| matches!(fd.target, FDTarget::Socket(inode) if sockets.contains(&inode)))
            })
        })
}

/// The command line and environment `pid` was started with, to start it again the same way.
pub fn command_of(pid: i64) -> Option<(Vec<String>, BTreeMap<String, String>)> {
    let p = Process::new(i32::try_from(pid).ok()?).ok()?;
    let argv = p.cmdline().ok().filter(|a| !a.is_empty())?;
    let env = p
        .environ()
        .ok()?
        .into_iter()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    Some((argv, env))
}

/// Stops the recorded process and everything of its group: TERM, then KILL after `grace`.
/// Returns once none is left (true), or when some survived KILL (false).
pub async fn stop_group(who: Option<&ProcessIdentity>, instance: &str, grace: Duration) -> bool {
    for (signal, wait) in [(Signal::SIGTERM, grace), (Signal::SIGKILL, KILL_WAIT)] {
        let left = members(who, instance);
        if left.is_empty() {
            return true;
        }
        match who {
            // The leader is there: its group number is still its own, so the group is signalled.
            Some(w) if is_alive(w) => {
                let _ = killpg(Pid::from_raw(w.pgid as i32), signal);
            }
            _ => {
                for pid in left {
                    let _ = kill(Pid::from_raw(pid), signal);
                }
            }
        }
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if members(who, instance).is_empty() {
                return true;
            }
            tokio::time::sleep(STOP_POLL).await;
        }
    }
    members(who, instance).is_empty()
}

/// A command that runs `program` with exactly `env` (and from `dir`, if given), started by
/// the standard library with `posix_spawn`: no copy of this process's memory map, where `fork`
/// copies the page tables of a server holding every market's state (most of a deployment's
/// kernel time at 1,000 markets). Given a bare name the standard library falls back to `fork`
/// whenever the child's `PATH` is set, so the name is looked up here first, as `execvp` would;
/// `$0` stays the name as written, so messages still read `sh: 1: …`.
pub(crate) fn command(program: &str, env: &BTreeMap<String, String>, dir: Option<&Path>) -> tokio::process::Command {
    let found = find_program(program, env, dir.unwrap_or(Path::new(".")));
    let mut command = tokio::process::Command::new(found.as_deref().unwrap_or(Path::new(program)));
    command.arg0(program).env_clear().envs(env);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
}

/// Where `execvp` would find `program` with `env`'s `PATH` (relative entries from `dir`), or `None` for a path, an unset `PATH` or a program not found: those are
/// left to `execvp` itself.
fn find_program(program: &str, env: &BTreeMap<String, String>, dir: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return None;
    }
    env.get("PATH")?.split(':').find_map(|entry| {
        let candidate = dir.join(entry).join(program);
        let meta = std::fs::metadata(&candidate).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(candidate)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_path(path: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("PATH".to_string(), path.to_string())])
    }

    #[test]
    fn a_command_is_started_by_its_full_path_so_it_is_spawned_not_forked() {
        let env = env_with_path("/nonexistent:/usr/bin:/bin");
        let command = command("sh", &env, None);
        let program = std::path::PathBuf::from(command.as_std().get_program());
        assert!(program.is_absolute(), "{program:?}");
        assert!(program.ends_with("sh"), "{program:?}");
        let args: Vec<_> = command.as_std().get_envs().collect();
        assert_eq!(args.len(), 1, "exactly the given environment: {args:?}");
    }

    #[test]
    fn programs_are_found_as_execvp_would_find_them() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(bin.join("tool"), "#!/bin/sh\n").unwrap();
        std::fs::write(bin.join("data"), "not a program").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("/nonexistent:{}", bin.display());
        assert_eq!(
            find_program("tool", &env_with_path(&path), dir.path()),
            Some(bin.join("tool"))
        );
        assert_eq!(
            find_program("data", &env_with_path(&path), dir.path()),
            None,
            "not executable"
        );
        assert_eq!(
            find_program("tool", &env_with_path("bin"), dir.path()),
            Some(dir.path().join("bin/tool"))
        );
        assert_eq!(
            find_program("./tool", &env_with_path(&path), dir.path()),
            None,
            "a path is left as is"
        );
        assert_eq!(find_program("tool", &BTreeMap::new(), dir.path()), None, "no PATH");
    }
}
