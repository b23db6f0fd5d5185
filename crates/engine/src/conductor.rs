//! The conductor: of all the servers sharing one database, the one that does the work that
//! must happen once: executing runs, driving rollouts, supervising and probing the markets'
//! processes, triggers and schedules, notifications of what it does, collecting blobs.
//!
//! It is whoever holds the lease [`LEASE`] (see `tandem_store::leases`). The holder renews it
//! every [`CAMPAIGN_TICK`]; the others look at it every [`WATCH_TICK`] and take it once the
//! holder let it expire ([`LEASE_TTL`] after its last renewal), or at once when the holder's
//! process is gone: the holder keeps a session lock on PostgreSQL as a sign of life, which
//! PostgreSQL drops the moment its connection ends. A server killed with `kill -9` hands over
//! within about two [`WATCH_TICK`]s; one cut off (its host gone, its network down) within
//! `LEASE_TTL + WATCH_TICK`. The new conductor picks up where the last one stopped (runs it
//! left running are marked interrupted, deployments it left half-done failed, market
//! processes it left serving adopted, rollouts resumed at their wave), and everything it does
//! as conductor is written under the lease's fence: a server that lost the lease (cut off
//! from the database long enough for another to take over) cannot write as conductor any
//! more, whatever it believes.
//!
//! A server that is not the conductor (a follower) answers every request: work a request
//! asks for (a run, a rollout) is recorded in the database and the conductor is told by a
//! signal; it also looks for such work every [`CAMPAIGN_TICK`], so a lost signal delays it,
//! never drops it. Signals ([`tandem_store::signals`], PostgreSQL's `LISTEN`/`NOTIFY`) also
//! carry "something changed" to every server's live views, flags to every server's OFREP,
//! config moves to every server's config watchers and cancellations to the run's executor.
//!
//! An engine nobody [`Engine::start`]s (tests, `tandem run`) is the sole worker: it does
//! everything at once, as asked, with no lease.

use crate::{Engine, Result};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tandem_store::leases::{self, Lease};
use tandem_store::now_ms;
use tandem_store::signals::Heard;
use tokio_util::sync::CancellationToken;

/// The lease naming the conductor.
pub const LEASE: &str = "conductor";
/// How long the conductor's lease lasts without renewal, unless the settings say otherwise
/// (`tandem serve --lease-ttl`).
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often the lease is renewed by its holder, and how often the conductor looks for work
/// the signals did not announce.
pub const CAMPAIGN_TICK: Duration = Duration::from_secs(1);
/// How often the other servers look at the lease and the holder's sign of life (two reads).
pub const WATCH_TICK: Duration = Duration::from_millis(250);
/// Signals of changes are sent at most this often (changes in between share one).
const SIGNAL_COALESCE: Duration = Duration::from_millis(100);

/// What this engine is among the servers sharing its database.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// Not started: works alone, with no lease (tests, `tandem run`).
    Sole,
    /// Holds the conductor's lease; `stop` ends the work it does as conductor.
    Conductor { lease: Lease, stop: CancellationToken },
    /// Another server is the conductor.
    Follower,
}

/// What one server tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Something changed: live views read again.
    Changed,
    /// The flags in force changed: read them again.
    Flags,
    /// A market moved to a config version.
    Config(crate::configs::ConfigMove),
    /// A run is to be cancelled (by whichever server executes it).
    CancelRun(i64),
    /// Work was recorded for the conductor.
    Work,
}

impl Signal {
    fn encode(&self, origin: &str) -> String {
        match self {
            Signal::Changed => format!("{origin} changed"),
            Signal::Flags => format!("{origin} flags"),
            Signal::Config(m) => format!("{origin} config {} {} {}", m.version, m.service, m.market),
            Signal::CancelRun(id) => format!("{origin} cancel-run {id}"),
            Signal::Work => format!("{origin} work"),
        }
    }

    /// The signal and its origin; `None` for a text no server of this version sends.
    fn decode(text: &str) -> Option<(&str, Signal)> {
        let mut words = text.split(' ');
        let origin = words.next()?;
        let signal = match words.next()? {
            "changed" => Signal::Changed,
            "flags" => Signal::Flags,
            "config" => Signal::Config(crate::configs::ConfigMove {
                version: words.next()?.parse().ok()?,
                service: words.next()?.to_string(),
                market: words.next()?.to_string(),
            }),
            "cancel-run" => Signal::CancelRun(words.next()?.parse().ok()?),
            "work" => Signal::Work,
            _ => return None,
        };
        Some((origin, signal))
    }
}

/// This server's name among those sharing the database: the host and an id kept in the data
/// folder, so a server started again on the same folder is the same holder (and takes its
/// lease back at once).
pub(crate) fn server_name(data_dir: &Path) -> Result<String> {
    use std::hash::{BuildHasher, Hasher};
    let path = data_dir.join("server-id");
    let id = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
        _ => {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            h.write_u32(std::process::id());
            let id = format!("{:016x}", h.finish());
            std::fs::write(&path, format!("{id}\n"))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            id
        }
    };
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    Ok(format!("{host}/{id}"))
}

impl Engine {
    /// This server's name among those sharing the database (the leases' holder).
    pub fn server_name(&self) -> &str {
        &self.holder
    }

    /// Whether this server is the conductor now (always, for an engine never started).
    pub fn is_conductor(&self) -> bool {
        !matches!(self.part(), Part::Follower)
    }

    /// Every lease and its holder: who does what among the servers.
    pub async fn list_leases(&self) -> Result<Vec<Lease>> {
        Ok(self.store.list_leases().await?)
    }

    /// The database behind the engine: `SQLite` or `PostgreSQL`.
    pub fn backend_name(&self) -> &'static str {
        self.store.backend_name()
    }

    pub(crate) fn part(&self) -> Part {
        self.part.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Starts the server's part: takes the conductor's lease if it is free (on SQLite, one
    /// server: always) and, if so, picks up the previous conductor's work before returning
    /// (runs and deployments it left unfinished are marked so) and starts the workers; then
    /// campaigns for the lease, and listens to the other servers, until shutdown.
    pub async fn start(self: &Arc<Self>) -> Result<()> {
        *self.part.lock().unwrap_or_else(|e| e.into_inner()) = Part::Follower;
        self.campaign_once().await?;
        if !self.is_conductor() {
            self.stand_by().await;
            tracing::info!(server = %self.holder, "another server is the conductor: this one serves requests and stands by");
        }
        let engine = self.clone();
        self.tasks.spawn(async move { engine.campaign().await });
        let engine = self.clone();
        self.tasks.spawn(async move { engine.send_signals().await });
        if let Some(signals) = self.store.listen().await? {
            let engine = self.clone();
            self.tasks.spawn(async move { engine.hear_signals(signals).await });
        }
        Ok(())
    }

    /// Renews the lease (every [`CAMPAIGN_TICK`]) or watches it to take it (every
    /// [`WATCH_TICK`]) until shutdown; then gives it up so another server takes over at once.
    async fn campaign(self: Arc<Self>) {
        let mut tick = tokio::time::interval(WATCH_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut dispatched = tokio::time::Instant::now();
        loop {
            let woken = tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = tick.tick() => false,
                _ = self.work.notified() => true,
            };
            // The holder renews every CAMPAIGN_TICK; the others watch it every WATCH_TICK.
            let renewed = self.renewed_at.load(std::sync::atomic::Ordering::SeqCst);
            let due = match self.part() {
                Part::Conductor { .. } => now_ms() - renewed >= CAMPAIGN_TICK.as_millis() as i64,
                _ => true,
            };
            if due && let Err(e) = self.campaign_once().await {
                tracing::warn!(error = %format!("{e:#}"), "cannot reach the database to renew or take the conductor's lease");
            }
            if let Part::Conductor { lease, .. } = self.part()
                && (woken || dispatched.elapsed() >= CAMPAIGN_TICK)
            {
                dispatched = tokio::time::Instant::now();
                leases::as_owner(lease, self.clone().dispatch()).await;
            }
        }
        if let Part::Conductor { lease, stop } = self.part() {
            stop.cancel();
            if let Err(e) = self.store.release_lease(&lease).await {
                tracing::warn!(error = %e, "cannot give up the conductor's lease: another server takes over when it expires");
            }
            self.alive.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }

    /// One round of the campaign: renew (or notice the loss of) the lease held, or try to take
    /// it.
    async fn campaign_once(self: &Arc<Self>) -> Result<()> {
        let ttl = self.settings.lease_ttl.as_millis() as i64;
        match self.part() {
            Part::Sole => Ok(()),
            Part::Conductor { lease, stop } => {
                let asked = now_ms();
                match self.store.renew_lease(&lease, ttl, asked).await {
                    Ok(Some(_)) => {
                        self.renewed_at.store(asked, std::sync::atomic::Ordering::SeqCst);
                        Ok(())
                    }
                    Ok(None) => {
                        self.step_down(stop, "another server took the conductor's lease over")
                            .await;
                        Ok(())
                    }
                    Err(e) => {
                        // Cut off from the database: the lease runs out on its own clock.
                        if now_ms() >= self.renewed_at.load(std::sync::atomic::Ordering::SeqCst) + ttl {
                            self.step_down(stop, "the conductor's lease ran out while the database was unreachable")
                                .await;
                        }
                        Err(e.into())
                    }
                }
            }
            Part::Follower => {
                let Some(lease) = self.take_or_inherit_lease(ttl).await? else {
                    return Ok(());
                };
                // A sign of life, so that the others see at once when this process ends.
                let Some(alive) = self.store.show_alive(&lease).await? else {
                    tracing::warn!(server = %self.holder, "another server judged this one gone as it took the lease: standing by");
                    return Ok(());
                };
                *self.alive.lock().unwrap_or_else(|e| e.into_inner()) = Some(alive);
                self.standby.lock().unwrap_or_else(|e| e.into_inner()).take();
                tracing::info!(server = %self.holder, fence = lease.fence, "this server is now the conductor");
                self.renewed_at
                    .store(lease.expires_at - ttl, std::sync::atomic::Ordering::SeqCst);
                let stop = self.stop.child_token();
                *self.part.lock().unwrap_or_else(|e| e.into_inner()) = Part::Conductor {
                    lease: lease.clone(),
                    stop: stop.clone(),
                };
                leases::as_owner(lease, self.take_over(stop)).await
            }
        }
    }

    /// Says to the conductor that this server stands by: a conductor that stops cleanly then
    /// leaves its market processes for this one to adopt instead of stopping them.
    async fn stand_by(&self) {
        match self.store.stand_by().await {
            Ok(standby) => *self.standby.lock().unwrap_or_else(|e| e.into_inner()) = standby,
            Err(e) => tracing::warn!(error = %e, "cannot say this server stands by"),
        }
    }

    /// Whether another server stands by to take this one's work over.
    pub(crate) async fn anyone_standing_by(&self) -> bool {
        self.store.anyone_standing_by().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot tell whether another server stands by");
            false
        })
    }

    /// Takes the conductor's lease if it is free, expired, or its holder is gone: a holder
    /// whose process ended (its sign of life dropped) is taken over at once rather than when
    /// its lease runs out. The holder is judged only once it had a tick to show its life.
    async fn take_or_inherit_lease(&self, ttl: i64) -> Result<Option<Lease>> {
        // Read first: watching a live holder costs two reads, and never waits on its writes.
        let seen = self.store.get_lease(LEASE).await?;
        let free = seen
            .as_ref()
            .is_none_or(|l| l.expires_at <= now_ms() || l.holder == self.holder);
        if free {
            return Ok(self.store.take_lease(LEASE, &self.holder, ttl, now_ms()).await?);
        }
        let Some(seen) = seen else { return Ok(None) };
        let known = self.seen_fence.swap(seen.fence, std::sync::atomic::Ordering::SeqCst) == seen.fence;
        if known && self.store.expire_if_holder_gone(&seen).await? {
            tracing::warn!(server = %self.holder, gone = %seen.holder, "the conductor's process is gone: taking over without waiting for its lease to run out");
            return Ok(self.store.take_lease(LEASE, &self.holder, ttl, now_ms()).await?);
        }
        Ok(None)
    }

    /// Stops the work done as conductor: workers end, runs are cancelled (their ends are not
    /// written: the new conductor marks them), and the market processes are left running for
    /// the new conductor to adopt.
    async fn step_down(&self, stop: CancellationToken, why: &str) {
        tracing::warn!(server = %self.holder, why, "this server is no longer the conductor");
        *self.part.lock().unwrap_or_else(|e| e.into_inner()) = Part::Follower;
        self.alive.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.stand_by().await;
        stop.cancel();
        for token in self.running_runs.lock().await.values() {
            token.cancel();
        }
        self.supervisor.let_go().await;
    }

    /// Picks up the last conductor's work, as the new one: what it left unfinished is marked
    /// at once; its market processes are adopted (or started again), then its rollouts
    /// resume, in the background; the workers start.
    async fn take_over(self: &Arc<Self>, stop: CancellationToken) -> Result<()> {
        self.recover_now().await?;
        let engine = self.clone();
        self.restarting.store(true, std::sync::atomic::Ordering::SeqCst);
        self.tasks.spawn(tandem_store::inherit(async move {
            if let Err(e) = engine.restart_live_markets().await {
                tracing::error!(error = %format!("{e:#}"), "cannot restart live markets");
            }
            engine.restarting.store(false, std::sync::atomic::Ordering::SeqCst);
            engine.clone().dispatch().await;
        }));
        self.start_workers(stop);
        Ok(())
    }

    /// Starts, as the conductor (or the sole worker), what was recorded for it and nobody is
    /// doing: queued runs, unfinished rollouts, queued rollouts whose markets are free.
    pub(crate) async fn dispatch(self: Arc<Self>) {
        if self.restarting.load(std::sync::atomic::Ordering::SeqCst) {
            return; // rollouts resume once the markets are back
        }
        match self.store.list_queued_runs().await {
            Ok(ids) => {
                for id in ids {
                    self.spawn_run(id).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list queued runs"),
        }
        match self.store.list_unfinished_rollouts().await {
            Ok(rollouts) => {
                for r in rollouts {
                    self.spawn_rollout(r.id);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list unfinished rollouts"),
        }
        self.start_queued_rollouts().await;
        self.run_handoffs().await;
    }

    /// Spawns `work` that must happen once: at once under the lease when this server is the
    /// conductor (or alone); otherwise it is left to the conductor, woken by a signal, and
    /// `false` is returned.
    pub(crate) fn spawn_conducted<F>(self: &Arc<Self>, work: F) -> bool
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match self.part() {
            Part::Sole => {
                self.tasks.spawn(work);
                true
            }
            Part::Conductor { lease, .. } => {
                self.tasks.spawn(leases::as_owner(lease, work));
                true
            }
            Part::Follower => {
                self.signal(Signal::Work);
                false
            }
        }
    }

    /// Claims rollout `id` for this server's driver; `false` when it drives it already.
    pub(crate) fn claim_rollout(&self, id: i64) -> bool {
        self.driving.lock().unwrap_or_else(|e| e.into_inner()).insert(id)
    }

    pub(crate) fn release_rollout(&self, id: i64) {
        self.driving.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    /// Tells the other servers (PostgreSQL only; nothing when alone).
    pub(crate) fn signal(&self, signal: Signal) {
        if signal == Signal::Changed {
            self.outbox.notify_one();
            return;
        }
        let (store, text) = (self.store.clone(), signal.encode(&self.holder));
        self.tasks.spawn(async move {
            if let Err(e) = store.signal(&text).await {
                tracing::debug!(error = %e, "cannot signal the other servers");
            }
        });
    }

    /// Sends "something changed" when the engine changes something, at most every
    /// [`SIGNAL_COALESCE`].
    async fn send_signals(self: Arc<Self>) {
        let text = Signal::Changed.encode(&self.holder);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = self.outbox.notified() => {}
            }
            if let Err(e) = self.store.signal(&text).await {
                tracing::debug!(error = %e, "cannot signal the other servers");
            }
            tokio::time::sleep(SIGNAL_COALESCE).await;
        }
    }

    /// Acts on the other servers' signals until shutdown.
    async fn hear_signals(self: Arc<Self>, mut signals: tandem_store::signals::Signals) {
        loop {
            let heard = tokio::select! {
                _ = self.stop.cancelled() => break,
                heard = signals.next() => heard,
            };
            match heard {
                Ok(Heard::Signal(text)) => match Signal::decode(&text) {
                    Some((origin, _)) if origin == self.holder => {}
                    Some((_, signal)) => self.act_on(signal).await,
                    None => tracing::debug!(text, "a signal this server does not know"),
                },
                Ok(Heard::Lost) => {
                    // Signals sent meanwhile are gone: read everything again (the flags, and
                    // what the live views, the monitor and the waves' markets read).
                    self.changed_widely();
                    self.act_on(Signal::Flags).await;
                    self.work.notify_one();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot listen to the other servers; trying again");
                    tokio::select! {
                        _ = self.stop.cancelled() => break,
                        _ = tokio::time::sleep(CAMPAIGN_TICK) => {}
                    }
                }
            }
        }
    }

    async fn act_on(self: &Arc<Self>, signal: Signal) {
        match signal {
            Signal::Changed => {
                // Another server's change: which markets it touched is not known here.
                self.changed_widely();
            }
            Signal::Flags => {
                if let Err(e) = self.load_flags().await {
                    tracing::warn!(error = %e, "cannot read the flags another server changed");
                }
            }
            Signal::Config(m) => {
                let _ = self.config_moves.send(m);
            }
            Signal::CancelRun(id) => {
                if let Some(token) = self.running_runs.lock().await.get(&id) {
                    token.cancel();
                }
            }
            Signal::Work => self.work.notify_one(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_read_back_as_sent() {
        let all = [
            Signal::Changed,
            Signal::Flags,
            Signal::Config(crate::configs::ConfigMove {
                service: "shop".into(),
                market: "fr".into(),
                version: 3,
            }),
            Signal::CancelRun(12),
            Signal::Work,
        ];
        for signal in all {
            let text = signal.encode("host/abc");
            assert_eq!(Signal::decode(&text), Some(("host/abc", signal)), "{text}");
        }
        assert_eq!(Signal::decode("host/abc reboot"), None);
        assert_eq!(Signal::decode("host/abc cancel-run x"), None);
    }
}
