//! The trigger worker: one loop that wakes every [`TICK`], polls the repositories of services
//! with `triggers.poll` when their interval has passed, and starts a run when one of a
//! service's `triggers.schedules` fires. It stops at the engine's shutdown signal.
//!
//! Polling starts a run when the branch head differs from the commit of the service's latest
//! run (whatever started that run), so a push seen by a webhook is not built twice. A schedule
//! fires at most once per tick: fire times missed while the server was down are not caught up.
//!
//! A push announced by a webhook is built only when the service's branch, read in its
//! repository, is at that commit or already holds it ([`Engine::trigger_push`]): a forge's
//! payload says which commit it pushed, never what the branch is.

use crate::Engine;
use crate::git::OnBranch;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_core::platform::Service;
use tandem_core::schedule::Schedule;
use tandem_store::{RunRow, now_ms};
use tokio_util::sync::CancellationToken;

/// How often the worker wakes: the resolution of polling and schedules (cron has seconds).
const TICK: Duration = Duration::from_secs(1);
/// How often market processes are looked at.
const SUPERVISE_TICK: Duration = Duration::from_millis(250);

impl Engine {
    /// Starts the background workers of an engine working alone (tests; a server calls
    /// [`Engine::start`]); [`Engine::shutdown`] stops them.
    pub fn start_triggers(self: &Arc<Self>) {
        self.start_workers(self.stop.clone());
    }

    /// Starts the background workers (triggers, blob collection, the supervisor and the
    /// monitor), under the current lease if any, until `stop`.
    pub(crate) fn start_workers(self: &Arc<Self>, stop: CancellationToken) {
        let (engine, until) = (self.clone(), stop.clone());
        self.tasks
            .spawn(tandem_store::inherit(async move { engine.run_triggers(until).await }));
        let (engine, until) = (self.clone(), stop.clone());
        self.tasks
            .spawn(tandem_store::inherit(async move { engine.run_gc(until).await }));
        let (engine, until) = (self.clone(), stop.clone());
        self.tasks
            .spawn(tandem_store::inherit(async move { engine.supervise(until).await }));
        let engine = self.clone();
        self.tasks
            .spawn(tandem_store::inherit(async move { engine.run_monitor(stop).await }));
    }

    /// Starts crashed market processes again (with backoff) until shutdown; each restart is
    /// recorded as an event and the deployment's process id follows.
    async fn supervise(self: Arc<Self>, stop: CancellationToken) {
        let mut interval = tokio::time::interval(SUPERVISE_TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {}
            }
            for r in self.supervisor.restart_crashed().await {
                tracing::warn!(service = %r.service, market = %r.market, status = %r.status, crashes = r.crashes, "market process crashed");
                if let Some(pid) = r.pid
                    && let Err(e) = self.store.set_live_pid(&r.service, &r.market, pid).await
                {
                    tracing::warn!(error = %e, "cannot record a restarted process");
                }
                let data = serde_json::json!({
                    "service": r.service, "market": r.market, "release": r.release, "status": r.status,
                    "pid": r.pid, "crashes": r.crashes, "error": r.error,
                });
                if let Err(e) = self
                    .store
                    .record_event("market.restarted", &format!("market/{}/{}", r.service, r.market), data)
                    .await
                {
                    tracing::warn!(error = %e, "cannot record a restart");
                }
                self.notify();
            }
        }
    }

    /// Collects unreferenced blobs every [`crate::GC_INTERVAL`] until shutdown.
    async fn run_gc(self: Arc<Self>, stop: CancellationToken) {
        let mut interval = tokio::time::interval(crate::GC_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => match self.collect_everything().await {
                    Ok(r) if r.blobs_deleted > 0 => tracing::info!(blobs = r.blobs_deleted, bytes = r.bytes_freed, "collected blobs"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot collect blobs"),
                },
            }
        }
    }

    /// Blobs nothing references, and the live logs of jobs that ended without their server.
    async fn collect_everything(&self) -> tandem_store::Result<tandem_store::GcReport> {
        if let Err(e) = self.store.collect_live_logs().await {
            tracing::warn!(error = %e, "cannot collect live logs");
        }
        self.store.collect_garbage_now().await
    }

    async fn run_triggers(self: Arc<Self>, stop: CancellationToken) {
        let mut clock = TriggerClock::default();
        let mut failing: HashMap<String, String> = HashMap::new();
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {}
            }
            // The services alone: this runs every second, and the markets are not its business.
            let services = match self.store.list_platform_services().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "triggers: cannot read the services");
                    continue;
                }
            };
            let now = now_ms();
            for svc in &services {
                let outcome = self.check_service(&mut clock, svc, now).await;
                report(&mut failing, &svc.name, outcome);
            }
        }
    }

    /// Polls and fires the schedules of one service, as due at `now`.
    async fn check_service(self: &Arc<Self>, clock: &mut TriggerClock, svc: &Service, now: i64) -> anyhow::Result<()> {
        let poll = match &svc.triggers.poll {
            Some(text) => Some(tandem_core::duration::parse_duration(text).map_err(anyhow::Error::msg)?),
            None => None,
        };
        if let Some(every) = poll
            && clock.poll_due(&svc.name, every, now)
        {
            self.poll_service(svc).await?;
        }
        if clock.schedule_fired(&svc.name, &svc.triggers.schedules, now) {
            let run = self.trigger_run(&svc.name, "schedule").await?;
            tracing::info!(service = %svc.name, run = run.id, "schedule started a run");
        }
        Ok(())
    }

    /// Starts a run when the branch head is not the commit of the service's latest run.
    async fn poll_service(self: &Arc<Self>, svc: &Service) -> anyhow::Result<()> {
        let repo = self.fetch_repo(&svc.name).await?;
        let branch = svc.branch.clone();
        let head = tokio::task::spawn_blocking(move || crate::git::branch_head(&repo, &branch)).await??;
        let latest = self.store.list_runs(Some(&svc.name), 1).await?;
        if latest.first().is_some_and(|r| r.commit_sha == head) {
            return Ok(());
        }
        let run = self.trigger_run_at(&svc.name, &svc.branch, &head, "poll").await?;
        tracing::info!(service = %svc.name, run = run.id, commit = %head, "polling found a new commit");
        Ok(())
    }
}

/// What became of a push announced by a webhook.
#[derive(Debug)]
pub enum PushOutcome {
    /// The branch holds the commit: a `push` run of it was queued.
    Queued(RunRow),
    /// The repository has the commit, but the service's branch does not hold it: nothing is
    /// built. Why, for the forge and the store.
    NotOnBranch(String),
    /// The repository has no such commit (yet). Why, for the forge and the store.
    Unknown(String),
    /// The service's repository could not be fetched, so the branch cannot be judged: nothing
    /// is built. Why (the service and the URL, never a credential), for the forge and the store.
    CannotFetch(String),
}

impl Engine {
    /// Queues a `push` run of `sha` when the service's branch, read in its repository, is at
    /// `sha` or already holds it; a commit of another branch announced as this one is refused.
    pub async fn trigger_push(self: &Arc<Self>, service: &str, sha: &str) -> crate::Result<PushOutcome> {
        let svc = self.platform_service(service).await?;
        // A remote branch is fetched first, so a push the mirror lacks is judged as it is now.
        let repo = match tandem_core::platform::remote_repo_url(&svc.repo) {
            Some(url) => match self.mirrors.fetch(service, url, &svc.branch).await {
                Ok(repo) => repo,
                Err(fetch) => {
                    return Ok(PushOutcome::CannotFetch(format!(
                        "{fetch}; commit {sha} cannot be judged against the branch, so nothing is built: \
                         a redelivery once the repository answers may build it"
                    )));
                }
            },
            None => self.repo_path(service).await?,
        };
        let remote = tandem_core::platform::remote_repo_url(&svc.repo).is_some();
        let (branch, sha2) = (svc.branch.clone(), sha.to_string());
        let place = tokio::task::spawn_blocking(move || crate::git::locate_on_branch(&repo, &branch, &sha2)).await??;
        let branch = &svc.branch;
        let place = match place {
            // A remote branch was just fetched: a commit it does not hold is not on it, whether
            // or not the mirror (which holds that branch alone) has the commit.
            OnBranch::Unknown { head } if remote => OnBranch::Elsewhere { head },
            other => other,
        };
        match place {
            OnBranch::Head | OnBranch::Ancestor { .. } => Ok(PushOutcome::Queued(
                self.trigger_run_at(service, branch, sha, "push").await?,
            )),
            OnBranch::Elsewhere { head } => Ok(PushOutcome::NotOnBranch(format!(
                "commit {sha} is not on branch `{branch}` of `{service}`: the branch is at {head} and does not hold it; \
                 only the branch's head or a commit it already holds is built"
            ))),
            OnBranch::Unknown { head } => Ok(PushOutcome::Unknown(format!(
                "commit {sha} is not in the repository of `{service}` ({}), whose branch `{branch}` is at {head}; \
                 a redelivery once the commit is there may build it",
                tandem_core::platform::redact_url(&svc.repo)
            ))),
        }
    }
}

/// Logs a service's trigger error once, not at every tick, and when it clears.
fn report(failing: &mut HashMap<String, String>, service: &str, outcome: anyhow::Result<()>) {
    match outcome {
        Ok(()) => {
            if failing.remove(service).is_some() {
                tracing::info!(service, "triggers work again");
            }
        }
        Err(e) => {
            let message = format!("{e:#}");
            if failing.get(service) != Some(&message) {
                tracing::warn!(service, error = %message, "triggers: cannot poll or start a scheduled run");
                failing.insert(service.to_string(), message);
            }
        }
    }
}

/// When each service was last polled and when each schedule fires next (Unix ms): the
/// worker's decisions, kept free of I/O so they are tested with a fixed clock.
#[derive(Debug, Default)]
struct TriggerClock {
    polled: HashMap<String, i64>,
    next_fire: HashMap<(String, String), (Schedule, i64)>,
}

impl TriggerClock {
    /// Whether `service` is due for a poll at `now`; a due poll counts as done.
    fn poll_due(&mut self, service: &str, every: Duration, now: i64) -> bool {
        let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
        match self.polled.get(service) {
            Some(last) if now.saturating_sub(*last) < every => false,
            _ => {
                self.polled.insert(service.to_string(), now);
                true
            }
        }
    }

    /// Whether one of `schedules` fired since the last check. A schedule seen for the first
    /// time only learns its next fire time; bad expressions (refused when the platform is
    /// loaded) are skipped.
    fn schedule_fired(&mut self, service: &str, schedules: &[String], now: i64) -> bool {
        let mut fired = false;
        for text in schedules {
            let key = (service.to_string(), text.clone());
            match self.next_fire.get_mut(&key) {
                Some((schedule, next)) => {
                    if now >= *next {
                        fired = true;
                        *next = schedule.next_after(now).unwrap_or(i64::MAX);
                    }
                }
                None => {
                    if let Ok(schedule) = Schedule::parse(text) {
                        let next = schedule.next_after(now).unwrap_or(i64::MAX);
                        self.next_fire.insert(key, (schedule, next));
                    }
                }
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-05T02:59:30Z.
    const T0: i64 = 1_767_581_970_000;

    #[test]
    fn a_service_is_polled_first_at_once_then_every_interval() {
        let mut clock = TriggerClock::default();
        let every = Duration::from_secs(30);
        assert!(clock.poll_due("shop", every, T0));
        assert!(!clock.poll_due("shop", every, T0 + 1_000));
        assert!(
            clock.poll_due("blog", every, T0 + 1_000),
            "each service has its own interval"
        );
        assert!(!clock.poll_due("shop", every, T0 + 29_999));
        assert!(clock.poll_due("shop", every, T0 + 30_000));
        assert!(!clock.poll_due("shop", every, T0 + 31_000));
    }

    #[test]
    fn a_schedule_fires_once_when_its_time_has_come() {
        let mut clock = TriggerClock::default();
        let daily = ["0 3 * * *".to_string()];
        assert!(
            !clock.schedule_fired("shop", &daily, T0),
            "first sight only learns the next time"
        );
        assert!(!clock.schedule_fired("shop", &daily, T0 + 29_000));
        assert!(clock.schedule_fired("shop", &daily, T0 + 30_000));
        assert!(!clock.schedule_fired("shop", &daily, T0 + 31_000), "fires once");
        assert!(
            clock.schedule_fired("shop", &daily, T0 + 30_000 + 86_400_000),
            "and again the next day"
        );
    }

    #[test]
    fn missed_fire_times_start_one_run_and_bad_expressions_are_skipped() {
        let mut clock = TriggerClock::default();
        let schedules = [
            "*/10 * * * * *".to_string(),
            "* * * * *".to_string(),
            "nonsense".to_string(),
        ];
        assert!(!clock.schedule_fired("shop", &schedules, T0));
        // An hour later (the machine slept): one run, not 360.
        assert!(clock.schedule_fired("shop", &schedules, T0 + 3_600_000));
        assert!(!clock.schedule_fired("shop", &schedules, T0 + 3_600_001));
    }
}
