//! The monitor: one worker that probes every live market at its service's `monitor.interval`,
//! reads its Prometheus metrics when the service has metric gates, keeps what it measures as
//! downsampled series, opens an incident when a market fails `monitor.failures` probes in a
//! row, and resolves that incident when the market answers again.
//!
//! Probes run concurrently and never wait for each other: a market that hangs costs its own
//! timeout, not the others' interval. Each market is probed at its own offset within the
//! interval ([`probe_offset`]), so 1,000 markets make a steady trickle of probes rather than a
//! burst each interval; the offsets are rounded up to one of [`PROBE_SLOTS`] slots of the
//! interval, so that each wakeup sends a slot's probes, not one. Results are written in one
//! transaction per [`SETTLE_BATCH`], a few statements whatever the number of probes.
//!
//! The store is read (which markets are live, which are being deployed) only when it can
//! matter: when the engine signals a change, and every [`RESCAN`]. A signal that names its
//! markets ([`Engine::notify_market`]: a deployment starting or ending) reads those markets
//! alone, by key, with whether each is being deployed; the markets named within [`GATHER`] are
//! read together, in one statement (a rollout's signals cost the monitor a statement every
//! [`GATHER`] at most, not two per market); any other signal and one from another server read every live market, and so does the rescan when
//! the deployments live or under way changed since ([`FULL_RESCAN`] at the longest). Between reads
//! the monitor sends what falls due within [`LOOKAHEAD`] from what it remembers of each market
//! (its deployment, address and spec). So a rollout's markets cost the monitor the same
//! whether 25 or 5,000 markets are live, and an idle server's second costs the probes due in
//! it, not a read of every live market. A probe still waiting for its moment is called off
//! when a read finds its market being deployed; a market no longer live is never probed again.
//! Between those moments the worker sleeps: an idle server wakes only for what is due.
//!
//! Every [`MAINTAIN_EVERY`], finished hours of the series are rolled up from their minutes and
//! buckets older than the server's retention are dropped (`tandem serve --series-…-kept`).

use crate::Engine;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_core::gates::{SCRAPE_ACCEPT, Scrape, Window, judge_all};
use tandem_core::monitor::{Health, Transition, next_probe, probe_offset};
use tandem_core::pipeline::{Driver, ServiceSpec};
use tandem_core::state::{DeploymentState, HealthState};
use tandem_store::{DeploymentRow, NewIncident, ProbeRecord, now_ms};
use tokio::task::JoinSet;

/// How long finished probes wait for others before they are recorded together: one
/// transaction (of a few statements) for a second of probes rather than one each, and a
/// market's health is at most this late.
const SETTLE_BATCH: Duration = Duration::from_secs(1);
/// Into how many slots an interval's probes are gathered: markets keep their own offsets
/// within the interval, rounded up to a slot, so the probes of a slot are sent on one timer's
/// wakeup. 1,000 markets at 15 s wake the monitor's probes 4 times a second, not 67.
const PROBE_SLOTS: u32 = 60;
/// The widest slot: a long interval is cut into more slots rather than longer bursts.
const MAX_SLOT: Duration = Duration::from_millis(250);
/// While the server starts its markets again, how often the monitor looks whether it may
/// probe.
const RESTART_POLL: Duration = Duration::from_millis(200);
/// How far ahead the monitor sends probes: each waits on its own task for its moment, so
/// 1,000 markets spread over their interval wake the monitor once a second, not once per probe.
const LOOKAHEAD: Duration = Duration::from_secs(1);
/// How often the monitor reads every live market when the engine signalled nothing: a safety
/// net for a change made behind the engine's back (its signals name every change it makes),
/// and the longest such a change goes unseen.
const RESCAN: Duration = Duration::from_secs(5);
/// A rescan reads every live market only when the deployments live or under way changed
/// since the last such read ([`tandem_store::Store::live_fingerprint`], one short read), and
/// at least this often whatever it says.
const FULL_RESCAN: Duration = Duration::from_secs(60);
/// How often finished hours are rolled up and buckets past their retention dropped: often
/// enough that each delete is small, and an hour's roll-up happens once, soon after its grace.
const MAINTAIN_EVERY: Duration = Duration::from_secs(300);
/// Past this many markets named by signals since the monitor's last read, it reads every live
/// market instead (one read rather than one per market); it also bounds what is kept while no
/// monitor runs.
const TOUCHED_MAX: usize = 256;
/// The shortest time between two reads of the markets signals named: the signals of a
/// rollout's markets (two each, its deployment starting and ending) are gathered for up to this
/// long and read in one statement ([`tandem_store::Store::live_and_deploying_of`]), not two each.
/// A signal after a quiet spell is read at once; a market is at most this late to be paused or
/// watched.
const GATHER: Duration = Duration::from_millis(150);
/// ... or until this many markets are named, then read at once.
const GATHER_MAX: usize = 128;
pub use tandem_core::monitor::{LATENCY_SERIES, UP_SERIES};

/// What the engine's change signals were about since the monitor last read them: the markets
/// whose deployments started or ended, or `wide` when a change may concern any market.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    wide: bool,
    markets: HashSet<(String, String)>,
}

impl Touched {
    /// Something changed that may concern any market.
    pub(crate) fn widen(&mut self) {
        self.wide = true;
        self.markets.clear();
    }

    /// How many markets were named (when not `wide`).
    pub(crate) fn named(&self) -> usize {
        self.markets.len()
    }

    /// Whether a change may concern any market.
    pub(crate) fn is_wide(&self) -> bool {
        self.wide
    }

    /// `service`'s deployment in `market` started or ended.
    pub(crate) fn add(&mut self, service: &str, market: &str) {
        if self.wide {
            return;
        }
        if self.markets.len() >= TOUCHED_MAX {
            self.widen();
            return;
        }
        self.markets.insert((service.to_string(), market.to_string()));
    }
}

/// What the monitor remembers of one market between probes.
#[derive(Debug)]
struct Watched {
    deployment_id: i64,
    /// Where the live deployment answers, and its release's spec (probe path, interval).
    url: String,
    spec: Option<Arc<ServiceSpec>>,
    health: Health,
    /// When the current run of failures began (Unix ms): an incident starts then.
    failing_since: Option<i64>,
    incident_id: Option<i64>,
    /// When the market is probed next; `None` until its release's interval is known.
    next_due: Option<Instant>,
    /// A probe is under way, or waiting for its moment.
    in_flight: bool,
    /// That probe's task, to call it off when a deployment begins before it is sent.
    task: Option<tokio::task::AbortHandle>,
    /// The previous metrics scrape, to measure the window since.
    last_scrape: Option<Scrape>,
    /// A deployment to the market is under way: results of probes sent before are dropped.
    paused: bool,
}

/// The monitor's clock: every market's probes fall at its own offset from `start`, rounded up
/// to the interval's next slot ([`PROBE_SLOTS`]).
struct Schedule {
    start: Instant,
}

impl Schedule {
    /// The first time after `after` that `key` is due when probed every `interval`.
    fn due_after(&self, key: &(String, String), interval: Duration, after: Instant) -> Instant {
        let offset = probe_offset(&key.0, &key.1, interval);
        let due = next_probe(after.saturating_duration_since(self.start), offset, interval);
        self.start + round_up(due, slot(interval))
    }
}

/// The width of one of an interval's slots: a 15 s interval has 60 of 250 ms.
fn slot(interval: Duration) -> Duration {
    (interval / PROBE_SLOTS).clamp(Duration::from_millis(1), MAX_SLOT)
}

/// `at` rounded up to a whole number of `slot`s.
fn round_up(at: Duration, slot: Duration) -> Duration {
    let slot = slot.as_micros().max(1);
    Duration::from_micros((at.as_micros().div_ceil(slot) * slot) as u64)
}
/// What one probe found.
#[derive(Debug)]
struct Probed {
    key: (String, String),
    deployment_id: i64,
    at: i64,
    ok: bool,
    latency_ms: f64,
    error: Option<String>,
    scrape: Option<Scrape>,
    spec: Arc<ServiceSpec>,
}

impl Engine {
    /// The monitor loop; runs until shutdown.
    pub(crate) async fn run_monitor(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut watched: HashMap<(String, String), Watched> = HashMap::new();
        match self.store.list_market_health().await {
            Ok(rows) => {
                for h in rows {
                    let w = Watched {
                        deployment_id: h.deployment_id.unwrap_or_default(),
                        // Known once a read finds the market live.
                        url: String::new(),
                        spec: None,
                        health: Health {
                            failures_in_a_row: h.failures_in_a_row.try_into().unwrap_or(0),
                            incident_open: h.incident_id.is_some(),
                        },
                        failing_since: None,
                        incident_id: h.incident_id,
                        next_due: None,
                        in_flight: false,
                        task: None,
                        last_scrape: None,
                        paused: false,
                    };
                    watched.insert((h.service, h.market), w);
                }
            }
            Err(e) => tracing::warn!(error = %e, "monitor: cannot read the markets' last health"),
        }
        let schedule = Schedule { start: Instant::now() };
        let mut specs: HashMap<i64, Arc<ServiceSpec>> = HashMap::new();
        let mut probes: JoinSet<Probed> = JoinSet::new();
        // Which market each probe task is for, so a task that panics frees its market.
        let mut probing: HashMap<tokio::task::Id, (String, String)> = HashMap::new();
        let mut done: Vec<Probed> = Vec::new();
        // When the probes back so far are recorded.
        let mut settle_at: Option<Instant> = None;
        let mut maintain_at = Instant::now() + MAINTAIN_EVERY;
        let mut changes = self.subscribe();
        let mut signalled = true;
        let mut listening = true;
        // When every live market is read next (the rescan), and when the next probe falls due.
        let mut rescan_at = Instant::now();
        let mut probe_at = Instant::now() + RESCAN;
        // What the live deployments were at the last read of every market, and when that was.
        let mut fingerprint: Option<(i64, i64, i64)> = None;
        let mut full_at = Instant::now();
        // When the markets signals named are read next (see [`GATHER`]), and when they last were.
        let mut read_at: Option<Instant> = None;
        let mut read_last: Option<Instant> = None;
        loop {
            let wake = settle_at
                .map_or(rescan_at, |at| at.min(rescan_at))
                .min(read_at.unwrap_or(rescan_at))
                .min(probe_at)
                .min(maintain_at);
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(result) = probes.join_next_with_id(), if !probes.is_empty() => {
                    match result {
                        Ok((id, p)) => {
                            probing.remove(&id);
                            done.push(p);
                            settle_at.get_or_insert(Instant::now() + SETTLE_BATCH);
                        }
                        Err(e) => {
                            // Its market is probed again at its next due time, not never.
                            if let Some(key) = probing.remove(&e.id()) {
                                if !e.is_cancelled() {
                                    tracing::error!(service = %key.0, market = %key.1, error = %e, "monitor: a probe failed to finish");
                                }
                                if let Some(w) = watched.get_mut(&key) {
                                    w.in_flight = false;
                                    w.task = None;
                                    probe_at = probe_at.min(w.next_due.unwrap_or(probe_at));
                                }
                            }
                        }
                    }
                    continue;
                }
                changed = changes.changed(), if listening => {
                    // The engine is gone when its sender is: the rescan still runs.
                    listening = changed.is_ok();
                    signalled = true;
                }
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            let now = Instant::now();
            if settle_at.is_some_and(|at| now >= at) {
                settle_at = None;
                let settled: Vec<(String, String)> = done.iter().map(|p| p.key.clone()).collect();
                self.settle(&mut watched, std::mem::take(&mut done)).await;
                // A probe back after its market's next one fell due: that one is due now.
                probe_at = settled
                    .iter()
                    .filter_map(|key| watched.get(key))
                    .filter(|w| !w.paused)
                    .filter_map(|w| w.next_due)
                    .fold(probe_at, Instant::min);
            }
            if self.restarting.load(std::sync::atomic::Ordering::SeqCst) {
                rescan_at = rescan_at.max(now + RESTART_POLL);
                probe_at = probe_at.max(now + RESTART_POLL);
                read_at = read_at.map(|at| at.max(now + RESTART_POLL));
                continue;
            }
            if now >= maintain_at {
                maintain_at = now + MAINTAIN_EVERY;
                self.maintain_series().await;
            }
            if signalled {
                signalled = false;
                // A change that may concern any market, or many markets named, is read now;
                // markets named one by one are gathered (see [`GATHER`]).
                let now = Instant::now();
                let (wide, named) = self.peek_touched();
                let at = if wide || named >= GATHER_MAX {
                    now
                } else {
                    read_last.map_or(now, |last| (last + GATHER).max(now))
                };
                read_at = Some(read_at.map_or(at, |due| due.min(at)));
            }
            if read_at.is_some_and(|at| Instant::now() >= at) || Instant::now() >= rescan_at {
                read_at = None;
                read_last = Some(Instant::now());
                let touched = self.take_touched();
                // The rescan, or a change that may concern any market: every live market is
                // read. Otherwise only the markets the signals named.
                let mut whole = touched.wide || Instant::now() >= rescan_at;
                if whole {
                    // Read before every market is: a change in between is seen by the next rescan.
                    let seen = self.store.live_fingerprint().await.ok();
                    if !touched.wide && Instant::now() < full_at && seen.is_some() && seen == fingerprint {
                        // A rescan alone, and the deployments are as they were: nothing to read.
                        whole = false;
                        rescan_at = Instant::now() + RESCAN;
                    } else {
                        fingerprint = seen;
                        full_at = Instant::now() + FULL_RESCAN;
                    }
                }
                if whole || !touched.markets.is_empty() {
                    let read = if whole {
                        self.read_markets().await
                    } else {
                        self.read_touched(&touched.markets).await
                    };
                    let Some((live, deploying)) = read else {
                        rescan_at = Instant::now() + RESTART_POLL; // try again soon, reading every market
                        fingerprint = None;
                        continue;
                    };
                    let candidates: Vec<(String, String)> = if whole {
                        watched.keys().cloned().collect()
                    } else {
                        touched.markets.into_iter().collect()
                    };
                    self.forget_gone(&mut watched, &live, candidates).await;
                    if whole {
                        rescan_at = Instant::now() + RESCAN;
                    }
                    let now = Instant::now();
                    for d in live {
                        // Only an address answering over HTTP is probed: a `command` deploy
                        // without `deploy.url` goes live with none (an empty one).
                        let Some(url) = d.url.clone().filter(|u| u.starts_with("http")) else {
                            continue;
                        };
                        let spec = match specs.get(&d.release_id) {
                            Some(s) => s.clone(),
                            None => match self.release_spec(d.release_id).await {
                                Some(s) => specs.entry(d.release_id).or_insert(s).clone(),
                                None => continue,
                            },
                        };
                        let key = (d.service.clone(), d.market.clone());
                        if deploying.contains(&key) {
                            if let Some(w) = watched.get_mut(&key) {
                                w.last_scrape = None;
                                w.paused = true;
                                // A probe still waiting for its moment is not sent at all.
                                if let Some(task) = w.task.take() {
                                    task.abort();
                                }
                            }
                            continue;
                        }
                        let w = watched.entry(key.clone()).or_insert_with(|| Watched {
                            deployment_id: d.id,
                            url: String::new(),
                            spec: None,
                            health: Health::default(),
                            failing_since: None,
                            incident_id: None,
                            next_due: None,
                            in_flight: false,
                            task: None,
                            last_scrape: None,
                            paused: false,
                        });
                        w.paused = false;
                        if w.deployment_id != d.id {
                            // A new deployment: its metrics start afresh; an outage carries over until it answers.
                            w.deployment_id = d.id;
                            w.last_scrape = None;
                        }
                        let interval = spec.monitor.interval;
                        w.url = url;
                        w.spec = Some(spec);
                        let due = *w
                            .next_due
                            .get_or_insert_with(|| schedule.due_after(&key, interval, now));
                        if !w.in_flight {
                            probe_at = probe_at.min(due);
                        }
                    }
                }
            }
            // What falls due within the lookahead is sent from memory: the markets as the last
            // read and this server's signals since left them.
            let now = Instant::now();
            if now + LOOKAHEAD <= probe_at {
                continue;
            }
            probe_at = now + RESCAN;
            for (key, w) in watched.iter_mut() {
                if w.in_flight || w.paused {
                    continue;
                }
                let (Some(due), Some(spec)) = (w.next_due, w.spec.clone()) else {
                    continue;
                };
                if due >= now + LOOKAHEAD {
                    probe_at = probe_at.min(due);
                    continue;
                }
                w.in_flight = true;
                // The next of its own slots: a late probe does not shift the market's place.
                let at = due.max(now);
                w.next_due = Some(schedule.due_after(key, spec.monitor.interval, at + Duration::from_millis(1)));
                let (engine, probe_key, id, url) = (self.clone(), key.clone(), w.deployment_id, w.url.clone());
                let task = probes.spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    engine.probe_once(probe_key, id, url, spec).await
                });
                probing.insert(task.id(), key.clone());
                w.task = Some(task);
            }
        }
        probes.shutdown().await;
    }

    /// Rolls finished hours of the series up and drops buckets past their retention.
    async fn maintain_series(&self) {
        let now = now_ms();
        match self.store.roll_up_series(now).await {
            Ok(n) if n > 0 => tracing::info!(buckets = n, "monitor: rolled minutes up into hours"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "monitor: cannot roll series up"),
        }
        match self.store.prune_series(now, self.settings.series_retention).await {
            Ok(n) if n > 0 => tracing::info!(buckets = n, "monitor: dropped old series buckets"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "monitor: cannot drop old series buckets"),
        }
    }

    /// The live deployments, and the markets being deployed. A market being deployed is its
    /// gates' to judge: a probe failing during a deploy is no outage, and what it measures is
    /// not the live release's.
    async fn read_markets(&self) -> Option<(Vec<DeploymentRow>, HashSet<(String, String)>)> {
        self.monitor_whole_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let live = match self.store.list_live_deployments().await {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(error = %e, "monitor: cannot list live markets");
                return None;
            }
        };
        match self.store.list_deploying_markets().await {
            Ok(d) => Some((live, d.into_iter().collect())),
            Err(e) => {
                tracing::warn!(error = %e, "monitor: cannot list deployments under way");
                None
            }
        }
    }

    async fn release_spec(&self, release_id: i64) -> Option<Arc<ServiceSpec>> {
        let spec = self.store.get_release(release_id).await.and_then(|r| r.service_spec());
        match spec {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                tracing::warn!(release = release_id, error = %format!("{e:#}"), "monitor: cannot read a release's spec");
                None
            }
        }
    }

    /// The live deployments of the markets `keys` alone, and which of them are being deployed
    /// (the others' deployments under way do not matter here): one statement for them all.
    async fn read_touched(
        &self,
        keys: &HashSet<(String, String)>,
    ) -> Option<(Vec<DeploymentRow>, HashSet<(String, String)>)> {
        let keys: Vec<(String, String)> = keys.iter().cloned().collect();
        let rows = match self.store.live_and_deploying_of(&keys).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "monitor: cannot read the markets' live deployments");
                return None;
            }
        };
        let mut live = Vec::with_capacity(rows.len());
        let mut deploying = HashSet::new();
        for d in rows {
            if d.state == DeploymentState::Live {
                live.push(d);
            } else {
                deploying.insert((d.service, d.market));
            }
        }
        Some((live, deploying))
    }

    /// Markets among `candidates` that are no longer live are no longer watched; their health
    /// is forgotten.
    async fn forget_gone(
        &self,
        watched: &mut HashMap<(String, String), Watched>,
        live: &[DeploymentRow],
        candidates: Vec<(String, String)>,
    ) {
        let live: HashSet<(&str, &str)> = live.iter().map(|d| (d.service.as_str(), d.market.as_str())).collect();
        let gone: Vec<(String, String)> = candidates
            .into_iter()
            .filter(|k| watched.contains_key(k) && !live.contains(&(k.0.as_str(), k.1.as_str())))
            .collect();
        for key in gone {
            // A probe under way or waiting for its moment is called off: its result would be
            // dropped (its market is no longer watched), and it is not sent again.
            if let Some(task) = watched.remove(&key).and_then(|w| w.task) {
                task.abort();
            }
            if let Err(e) = self.store.forget_market_health(&key.0, &key.1).await {
                tracing::warn!(error = %e, "monitor: cannot forget a market's health");
            }
        }
    }

    /// Probes one market (and reads its metrics when its service has metric gates).
    async fn probe_once(
        &self,
        key: (String, String),
        deployment_id: i64,
        base: String,
        spec: Arc<ServiceSpec>,
    ) -> Probed {
        let at = now_ms();
        let url = format!("{base}{}", spec.gates.probe.for_market(&key.1).path);
        // Whatever answers on a process market's port, the market is up only when the process
        // serving it is Tandem's: a stranger (or a process a dead server left) is not the release.
        let own_process = spec.deploy.as_ref().is_some_and(|d| d.driver == Driver::Process);
        if own_process && !self.supervisor.is_running(&key.0, &key.1).await {
            let error = format!(
                "no process of {} in {} runs under Tandem's supervision (it is starting again, or cannot)",
                key.0, key.1
            );
            return Probed {
                key,
                deployment_id,
                at,
                ok: false,
                latency_ms: 0.0,
                error: Some(error),
                scrape: None,
                spec,
            };
        }
        let started = Instant::now();
        let outcome = self.http.get(&url).timeout(spec.monitor.timeout).send().await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (ok, error) = match outcome {
            Ok(r) if r.status().is_success() => (true, None),
            Ok(r) => (false, Some(format!("{url} answered {}", r.status()))),
            Err(e) if e.is_timeout() => (
                false,
                Some(format!(
                    "{url} did not answer within {} ms",
                    spec.monitor.timeout.as_millis()
                )),
            ),
            Err(e) => (false, Some(format!("cannot reach {url}: {}", root_cause(&e)))),
        };
        let scrape = match (&spec.gates.metrics, ok) {
            (Some(m), true) => self.scrape(&format!("{base}{}", m.path), spec.monitor.timeout).await,
            _ => None,
        };
        Probed {
            key,
            deployment_id,
            at,
            ok,
            latency_ms,
            error,
            scrape,
            spec,
        }
    }

    async fn scrape(&self, url: &str, timeout: Duration) -> Option<Scrape> {
        let resp = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, SCRAPE_ACCEPT)
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let text = resp.text().await.ok()?;
        match Scrape::parse(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(url, error = %e, "monitor: metrics not in the Prometheus text format");
                None
            }
        }
    }

    /// Applies finished probes: incidents opened or resolved, then every result recorded.
    async fn settle(self: &Arc<Self>, watched: &mut HashMap<(String, String), Watched>, done: Vec<Probed>) {
        let mut records = Vec::with_capacity(done.len());
        let mut changed = false;
        for p in done {
            let Some(w) = watched.get_mut(&p.key) else { continue };
            w.in_flight = false;
            w.task = None;
            if w.deployment_id != p.deployment_id || w.paused {
                continue; // the market moved on (or began a deployment) while this probe was out
            }
            let (service, market) = &p.key;
            if p.ok {
                w.failing_since = None;
            } else {
                w.failing_since.get_or_insert(p.at);
            }
            let transition = w.health.observe(p.ok, p.spec.monitor.failures);
            let mut event = None;
            match transition {
                Transition::Down => {
                    event = Some("market.down");
                    w.incident_id = self.open_probe_incident(service, market, w, &p).await;
                }
                Transition::Recovered => {
                    event = Some("market.up");
                    if let Some(id) = w.incident_id.take() {
                        self.resolve_probe_incident(id, p.at).await;
                    }
                }
                Transition::Steady => {}
            }
            changed |= event.is_some();
            let mut measurements = vec![(UP_SERIES.to_string(), if p.ok { 1.0 } else { 0.0 })];
            if p.ok {
                measurements.push((LATENCY_SERIES.to_string(), p.latency_ms));
            }
            if let (Some(metrics), Some(end), Some(start)) = (&p.spec.gates.metrics, &p.scrape, &w.last_scrape) {
                for r in judge_all(metrics, Window::new(start, end), None) {
                    if let Some(v) = r.value {
                        measurements.push((r.name, v));
                    }
                }
            }
            if p.scrape.is_some() {
                w.last_scrape = p.scrape;
            }
            records.push(ProbeRecord {
                service: service.clone(),
                market: market.clone(),
                deployment_id: p.deployment_id,
                at: p.at,
                ok: p.ok,
                latency_ms: p.ok.then_some(p.latency_ms),
                error: p.error.clone(),
                failures_in_a_row: w.health.failures_in_a_row,
                state: if w.health.incident_open {
                    HealthState::Down
                } else if p.ok {
                    HealthState::Up
                } else {
                    HealthState::Failing
                },
                transition: event,
                incident_id: w.incident_id,
                measurements,
            });
        }
        if let Err(e) = self.store.record_probes(&records).await {
            tracing::warn!(error = %e, "monitor: cannot record probes");
        }
        if changed {
            self.notify();
        }
    }

    async fn open_probe_incident(
        self: &Arc<Self>,
        service: &str,
        market: &str,
        w: &Watched,
        p: &Probed,
    ) -> Option<i64> {
        let title = format!(
            "{market} stopped answering its probe {} ({} failures in a row)",
            p.spec.gates.probe.for_market(market).path,
            w.health.failures_in_a_row
        );
        let fingerprint = format!("probe/{service}/{market}");
        let opened = self
            .open_incident(NewIncident {
                service,
                market,
                title: &title,
                summary: p.error.as_deref(),
                source: "probe",
                opened_by: "tandem (monitor)",
                opened_at: w.failing_since.unwrap_or(p.at),
                fingerprint: Some(&fingerprint),
                deployment_id: Some(p.deployment_id),
            })
            .await;
        match opened {
            Ok((incident, new)) => {
                if new {
                    tracing::warn!(
                        service,
                        market,
                        incident = incident.id,
                        "monitor: market down, incident opened"
                    );
                }
                Some(incident.id)
            }
            Err(e) => {
                tracing::error!(service, market, error = %e, "monitor: cannot open an incident");
                None
            }
        }
    }

    async fn resolve_probe_incident(self: &Arc<Self>, id: i64, at: i64) {
        match self
            .resolve_incident(id, "tandem (the market answers its probe again)", at)
            .await
        {
            Ok(_) => tracing::info!(incident = id, "monitor: market answers again, incident resolved"),
            // Someone resolved it by hand first: nothing left to do.
            Err(crate::Error::Conflict(_)) => {}
            Err(e) => tracing::warn!(incident = id, error = %e, "monitor: cannot resolve an incident"),
        }
    }
}

/// The innermost error of a request, which says what happened (refused, reset…).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
