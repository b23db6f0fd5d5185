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
