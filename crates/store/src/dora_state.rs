//! DORA's history kept up to date by reading only what changed since it was read
//! ([`Store::refresh_dora_state`]), so that the first Delivery page after a deployment costs a
//! few rows, not a year of them. What keeps it exact:
//!
//! - The deployments are held in the order a full read returns them: by service, market, then
//!   id, each market's deployments side by side. A deployment's outcome depends on the next one
//!   to its market (a rollback that went live sends it back), so a changed deployment is read
//!   again with every later one of its market and the one before it (whose next may now be
//!   another): that tail replaces the same tail of the held rows.
//! - A deployment row only changes in a transaction that appends an event whose subject is
//!   `deployment/<id>` (`rollouts.rs`, the commits it brought in `dora.rs`); an incident row,
//!   one whose subject is `incident/<id>`. Gate results and rollouts are only ever inserted:
//!   they are read by id. Markets are few: read each time.
//! - The watermarks (newest event, gate result and rollout seen) are taken before the rows
//!   they cover are read: a change committed in between is read now and again next time, never
//!   missed.

use crate::{Result, Store, from_json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use tandem_core::dora::{ChangeKind, Deployment, Incident, Outcome};

/// Deployments and incidents as the DORA math reads them.
pub type DoraHistory = (Vec<Deployment>, Vec<Incident>);

/// Changes read one by one at most: past this, the history is read again whole (cheaper than
/// thousands of small reads, and bounded).
const MAX_CHANGES: i64 = 5_000;

/// DORA's history as last read, and what it was read up to (see the module's note).
#[derive(Debug, Clone)]
pub struct DoraState {
    history: Arc<DoraHistory>,
    /// The newest event seen.
    event_id: i64,
    /// The newest gate result seen.
    gate_id: i64,
    /// The newest rollout seen.
    rollout_id: i64,
    /// Each rollout's markets' waves.
    wave_of: HashMap<(i64, String), u32>,
    /// When a failed deployment's market recovered (its first passed `recovery` gate).
    recovered: HashMap<i64, i64>,
    /// The live markets.
    live: HashSet<String>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoraRefresh {
    /// Nothing DORA reads changed.
    Unchanged,
    /// Only what changed was read: this many markets' deployments, and the incidents if any
    /// changed.
    Read { markets: usize, incidents: bool },
    /// Too much changed: read again whole.
    Whole,
}

impl DoraState {
    /// The history as of the last read (shared: reading it copies nothing).
    pub fn history(&self) -> Arc<DoraHistory> {
        self.history.clone()
    }
}

/// One deployment as the history queries pack it.
struct Packed<'a> {
    id: i64,
    rollout: Option<i64>,
    kind: &'a str,
    state: &'a str,
    started_at: i64,
    finished_at: i64,
    change_opened: Option<i64>,
    /// Author times, space-separated.
    commits: &'a str,
}

impl<'a> Packed<'a> {
    /// It sent its market back to what it ran before: a release rollback (by hand, or after a
    /// failed gate), or a config rollback by hand — a config deployment made outside a rollout,
    /// which only `Engine::rollback_config` makes. It brings no change: DORA never counts it.
    fn is_rollback(&self) -> bool {
        self.kind == "rollback" || (self.kind == "config" && self.rollout.is_none())
    }

    fn parse(line: &'a str) -> Result<Self> {
        let bad = || crate::StoreError::Corrupt {
            what: "deployment history".into(),
            message: format!("a packed deployment row is not as written: `{line}`"),
        };
        let mut f = line.split('|');
        let mut next = || f.next().ok_or_else(bad);
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
        let opt = |s: &str| if s.is_empty() { Ok(None) } else { int(s).map(Some) };
        Ok(Packed {
            id: int(next()?)?,
            rollout: opt(next()?)?,
            kind: next()?,
            state: next()?,
            started_at: int(next()?)?,
            finished_at: int(next()?)?,
            change_opened: opt(next()?)?,
            commits: next()?,
        })
    }
}

impl DoraState {
    /// One market's deployments (or a tail of them, in order) as DORA rows, from their packed
    /// text. The last one's outcome assumes no later deployment: the caller reads every later one.
    fn unpack(&self, service: &str, market: &str, packed: &str) -> Result<Vec<Deployment>> {
        let rows: Vec<Packed> = packed.lines().map(Packed::parse).collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, d) in rows.iter().enumerate() {
            let rollback = d.is_rollback();
            // Sent back by the market's next deployment, a rollback that went live.
            let sent_back = rows
                .get(i + 1)
                .is_some_and(|next| next.is_rollback() && matches!(next.state, "live" | "superseded"));
            let outcome = match d.state {
                "failed" => Outcome::Failed,
                _ if sent_back && !rollback => Outcome::RolledBack,
                _ => Outcome::Succeeded,
            };
            let (kind, commit_times) = match d.kind {
                "config" => (ChangeKind::Config, d.change_opened.into_iter().collect()),
                _ => (
                    ChangeKind::Code,
                    d.commits.split(' ').filter_map(|t| t.parse().ok()).collect(),
                ),
            };
            out.push(Deployment {
                id: d.id,
                wave: d
                    .rollout
                    .and_then(|r| self.wave_of.get(&(r, market.to_string())).copied()),
                production: self.live.contains(market),
                service: service.to_string(),
                market: market.to_string(),
                kind,
                rollback,
                started_at: d.started_at,
                finished_at: d.finished_at,
                outcome,
                commit_times,
                recovered_at: self.recovered.get(&d.id).copied(),
            });
        }
        Ok(out)
    }

    /// Adds rollouts' plans to the waves known.
    fn add_plans(&mut self, plans: Vec<(i64, String)>) -> Result<()> {
        for (id, plan) in plans {
            let waves: Vec<serde_json::Value> = from_json("rollout plan", &plan)?;
            for (i, w) in waves.iter().enumerate() {
                for m in w["markets"].as_array().into_iter().flatten().filter_map(|m| m.as_str()) {
                    self.wave_of.insert((id, m.to_string()), i as u32);
                }
            }
            self.rollout_id = self.rollout_id.max(id);
        }
        Ok(())
    }

    /// Adds gate results `(id, deployment, gate, passed, recorded at)`: the first passed
    /// `recovery` gate of a deployment is when its market recovered.
    fn add_gates(&mut self, gates: &[GateFact]) -> Vec<i64> {
        let mut recovered = Vec::new();
        for (id, deployment, gate, passed, at) in gates {
            self.gate_id = self.gate_id.max(*id);
            if gate == "recovery" && passed.0 {
                let first = self.recovered.entry(*deployment).or_insert(*at);
                *first = (*first).min(*at);
                recovered.push(*deployment);
            }
        }
        recovered
    }
}

/// A gate result as the history reads it: id, deployment, gate, passed, recorded at.
type GateFact = (i64, i64, String, crate::backend::Flag, i64);

impl Store {
    /// DORA's history read whole, with what it was read up to (to be refreshed with
    /// [`Store::refresh_dora_state`]).
    pub async fn read_dora_state(&self) -> Result<DoraState> {
        // Watermarks first (see the module's note).
        let event_id = self.last_event_id().await?;
        let (gate_id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM gate_results")
            .fetch_one(&self.pool)
            .await?;
        let mut state = DoraState {
            history: Arc::new((Vec::new(), Vec::new())),
            event_id,
            gate_id: gate_id.unwrap_or(0),
            rollout_id: 0,
            wave_of: HashMap::new(),
            recovered: HashMap::new(),
            live: self.live_markets().await?,
        };
        let plans: Vec<(i64, String)> = sqlx::query_as("SELECT id, plan FROM rollouts")
            .fetch_all(&self.pool)
            .await?;
        state.add_plans(plans)?;
        // When the market recovered by itself from a deployment that failed: its previous release
        // answered again (the `recovery` gate passed).
        state.recovered = sqlx::query_as(
            "SELECT deployment_id, MIN(recorded_at) FROM gate_results
             WHERE gate = 'recovery' AND passed = $1 GROUP BY deployment_id",
        )
        .bind(true)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        // One row per service and market, its deployments packed by the database in order, one
        // per line: `id|rollout|kind|state|started|finished|change opened|author times`. Decoding
        // a row per deployment through the driver costs far more than splitting text.
        let mut markets: Vec<(String, String, String)> = sqlx::query_as(self.dialect.packed_deployment_history())
            .fetch_all(&self.pool)
            .await?;
        // Held in Rust's order of text (the database's collation may differ), as refreshes find
        // markets in it.
        markets.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut deployments: Vec<Deployment> = Vec::new();
        for (service, market, packed) in &markets {
            deployments.extend(state.unpack(service, market, packed)?);
        }
        let incidents = self.dora_incidents().await?;
        state.history = Arc::new((deployments, incidents));
        Ok(state)
    }

    /// Brings `state` up to date, reading only what changed since (see the module's note).
    pub async fn refresh_dora_state(&self, state: &mut DoraState) -> Result<DoraRefresh> {
        let event_id = self.last_event_id().await?;
        let gates: Vec<GateFact> = sqlx::query_as(
            "SELECT id, deployment_id, gate, passed, recorded_at FROM gate_results WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(state.gate_id)
        .bind(MAX_CHANGES + 1)
        .fetch_all(&self.pool)
        .await?;
        if event_id == state.event_id && gates.is_empty() {
            return Ok(DoraRefresh::Unchanged);
        }
        let subjects: Vec<(String,)> = sqlx::query_as(
            "SELECT subject FROM events WHERE id > $1 AND id <= $2
               AND (subject LIKE 'deployment/%' OR subject LIKE 'incident/%') LIMIT $3",
        )
        .bind(state.event_id)
        .bind(event_id)
        .bind(MAX_CHANGES + 1)
        .fetch_all(&self.pool)
        .await?;
        if subjects.len() as i64 > MAX_CHANGES || gates.len() as i64 > MAX_CHANGES {
            *state = self.read_dora_state().await?;
            return Ok(DoraRefresh::Whole);
        }
        state.event_id = event_id;
        let plans: Vec<(i64, String)> = sqlx::query_as("SELECT id, plan FROM rollouts WHERE id > $1")
            .bind(state.rollout_id)
            .fetch_all(&self.pool)
            .await?;
        state.add_plans(plans)?;
        let mut changed: HashSet<i64> = state.add_gates(&gates).into_iter().collect();
        let mut incidents_changed = false;
        for (subject,) in &subjects {
            if let Some(id) = subject.strip_prefix("deployment/").and_then(|s| s.parse().ok()) {
                changed.insert(id);
            } else if subject.starts_with("incident/") {
                incidents_changed = true;
            }
        }
        let live = self.live_markets().await?;
        let live_changed = live != state.live;
        state.live = live;

        // Each market's first changed deployment.
        let mut first: BTreeMap<(String, String), i64> = BTreeMap::new();
        let ids: Vec<i64> = changed.into_iter().collect();
        for chunk in ids.chunks(crate::backend::IDS_PER_QUERY) {
            let mut query = crate::backend::Builder::new("SELECT id, service, market FROM deployments WHERE id IN ");
            crate::backend::push_in_list(&mut query, chunk);
            let rows: Vec<(i64, String, String)> = query.build_query_as().fetch_all(&self.pool).await?;
            for (id, service, market) in rows {
                let at = first.entry((service, market)).or_insert(id);
                *at = (*at).min(id);
            }
        }
        let incidents = match incidents_changed {
            true => Some(self.dora_incidents().await?),
            false => None,
        };
        // Each such market's deployments from the one before its first change: read before the
        // held rows are touched, so that an error leaves them as they were.
        let mut tails = Vec::with_capacity(first.len());
        for ((service, market), from) in &first {
            let deployments = &state.history.0;
            let (start, end) = market_range(deployments, service, market);
            let before = deployments[start..end].partition_point(|d| d.id < *from);
            let from = match before {
                0 => i64::MIN,
                n => deployments[start + n - 1].id,
            };
            let packed: Option<(String,)> = sqlx::query_as(self.dialect.packed_deployment_tail())
                .bind(service)
                .bind(market)
                .bind(from)
                .fetch_optional(&self.pool)
                .await?;
            let packed = packed.map(|(p,)| p).unwrap_or_default();
            tails.push((service, market, from, state.unpack(service, market, &packed)?));
        }
        let markets = tails.len();
        let history = Arc::make_mut(&mut state.history);
        for (service, market, from, rows) in tails {
            let (start, end) = market_range(&history.0, service, market);
            let cut = start + history.0[start..end].partition_point(|d| d.id < from);
            history.0.splice(cut..end, rows);
        }
        if live_changed {
            for d in &mut history.0 {
                d.production = state.live.contains(&d.market);
            }
        }
        if let Some(incidents) = incidents {
            history.1 = incidents;
        }
        Ok(DoraRefresh::Read {
            markets,
            incidents: incidents_changed,
        })
    }

    /// The live markets.
    async fn live_markets(&self) -> Result<HashSet<String>> {
        Ok(
            sqlx::query_as::<_, (String,)>("SELECT id FROM markets WHERE state = 'live'")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(id,)| id)
                .collect(),
        )
    }

    /// Every incident, as DORA rows.
    async fn dora_incidents(&self) -> Result<Vec<Incident>> {
        type IncidentFacts = (i64, String, String, Option<i64>, i64, Option<i64>);
        let incidents: Vec<IncidentFacts> = sqlx::query_as(
            "SELECT id, service, market, deployment_id, opened_at, resolved_at FROM incidents ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(incidents
            .into_iter()
            .map(
                |(id, service, market, deployment_id, opened_at, resolved_at)| Incident {
                    id,
                    service,
                    market,
                    deployment_id,
                    opened_at,
                    resolved_at,
                },
            )
            .collect())
    }
}

/// Where one market's deployments are in `deployments` (held by service, market, then id):
/// an empty range where they would go when there is none.
fn market_range(deployments: &[Deployment], service: &str, market: &str) -> (usize, usize) {
    let key = (service, market);
    let start = deployments.partition_point(|d| (d.service.as_str(), d.market.as_str()) < key);
    let end = start + deployments[start..].partition_point(|d| (d.service.as_str(), d.market.as_str()) == key);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::DoraRefresh;
    use crate::testing::{release, store};
    use crate::{NewDeployment, NewGateResult, Store};
    use tandem_core::dora::Outcome;
    use tandem_core::rollout::PlannedWave;
    use tandem_core::state::DeploymentKind;

    /// Refreshes `state` and checks it against the history read whole, row for row.
    async fn same_as_whole(store: &Store, state: &mut super::DoraState, what: &str) -> DoraRefresh {
        let refresh = store.refresh_dora_state(state).await.unwrap();
        let whole = store.dora_history().await.unwrap();
        assert_eq!(*state.history(), whole, "after {what} ({refresh:?})");
        refresh
    }

    /// After each kind of change the history can see — a deployment going live or failing, a
    /// rollback sending an earlier one back, the commits a deployment brought, a recovery gate
    /// (recorded without an event), incidents opened, linked and resolved, a market launched, a
    /// config rollback by hand, a deployment ending after a later one, an interrupted one —
    /// the history refreshed with what changed is the one read from scratch, and the refresh
    /// read only the markets that changed.
    #[tokio::test]
    async fn the_refreshed_history_is_the_history_read_whole_after_every_kind_of_change() {
        let (_dir, store) = store().await;
        let platform = tandem_core::platform::parse_platform(
            "p.yml",
            "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam, state: planned }
services:
  - { name: shop, repo: /srv/git/shop }
",
        )
        .unwrap();
        store.sync_platform(&platform).await.unwrap();
        let v1 = release(&store).await;
        let plan = [
            PlannedWave {
                name: "pilot".into(),
                markets: vec!["fr".into()],
            },
            PlannedWave {
                name: "rest".into(),
                markets: vec!["be".into(), "nl".into()],
            },
        ];
        let mut state = store.read_dora_state().await.unwrap();
        assert!(state.history().0.is_empty());
        let deploy = |market: &'static str, rollout_id: Option<i64>| NewDeployment {
            rollout_id,
            service: "shop",
            market,
            release_id: v1.id,
        };
        let live = |kind: DeploymentKind, market: &'static str, rollout: Option<i64>| {
            let store = store.clone();
            async move {
                let d = store
                    .insert_deployment_with(deploy(market, rollout), kind, None)
                    .await
                    .unwrap();
                store.mark_deployment_live(d.id, "", None).await.unwrap();
                d.id
            }
        };

        let r1 = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
        let fr1 = live(DeploymentKind::Release, "fr", Some(r1.id)).await;
        let nl1 = live(DeploymentKind::Release, "nl", Some(r1.id)).await;
        let refresh = same_as_whole(&store, &mut state, "two deployments of a rollout").await;
        assert_eq!(
            refresh,
            DoraRefresh::Read {
                markets: 2,
                incidents: false
            }
        );
        assert_eq!(
            same_as_whole(&store, &mut state, "nothing").await,
            DoraRefresh::Unchanged
        );

        let commit = |sha: &str, at: i64| crate::DeploymentCommit {
            sha: sha.into(),
            authored_at: at,
            committed_at: at,
        };
        store
            .insert_deployment_commits(fr1, &[commit("a", 1), commit("b", 2)])
            .await
            .unwrap();
        let be1 = live(DeploymentKind::Release, "be", Some(r1.id)).await;
        same_as_whole(&store, &mut state, "commits recorded and another market").await;

        store
            .update_rollout(r1.id, tandem_core::state::RolloutState::Succeeded, 1, None)
            .await
            .unwrap();
        let r2 = store.insert_rollout("shop", v1.id, &plan, "ana").await.unwrap();
        let fr2 = live(DeploymentKind::Release, "fr", Some(r2.id)).await;
        same_as_whole(&store, &mut state, "a second release").await;
        live(DeploymentKind::Rollback, "fr", None).await;
        let refresh = same_as_whole(&store, &mut state, "a rollback").await;
        assert_eq!(
            refresh,
            DoraRefresh::Read {
                markets: 1,
                incidents: false
            }
        );
        let rolled_back = state.history().0.iter().find(|d| d.id == fr2).unwrap().outcome;
        assert_eq!(
            rolled_back,
            Outcome::RolledBack,
            "the rollback's predecessor was read again"
        );

        let failed = store.insert_deployment(deploy("be", None)).await.unwrap();
        store
            .mark_deployment_failed(failed.id, "its probe never answered")
            .await
            .unwrap();
        same_as_whole(&store, &mut state, "a failed deployment").await;
        let recovery = NewGateResult {
            gate: "recovery".into(),
            passed: true,
            value: Some(3.0),
            bound: None,
            previous: None,
            reason: "v0 answered".into(),
        };
        store.insert_gate_result(failed.id, &recovery).await.unwrap();
        same_as_whole(&store, &mut state, "a recovery gate (no event)").await;
        let recovered = state
            .history()
            .0
            .iter()
            .find(|d| d.id == failed.id)
            .unwrap()
            .recovered_at;
        assert!(recovered.is_some());

        let incident = store.insert_incident("shop", "be", Some(be1), "slow").await.unwrap();
        let refresh = same_as_whole(&store, &mut state, "an incident opened").await;
        assert_eq!(
            refresh,
            DoraRefresh::Read {
                markets: 0,
                incidents: true
            }
        );
        store.link_incident(incident.id, failed.id, "ana").await.unwrap();
        same_as_whole(&store, &mut state, "an incident linked").await;
        store
            .resolve_incident(incident.id, "ana", crate::now_ms())
            .await
            .unwrap();
        same_as_whole(&store, &mut state, "an incident resolved").await;

        assert!(!state.history().0.iter().find(|d| d.id == nl1).unwrap().production);
        store.insert_launch("nl", "ana", &serde_json::json!({})).await.unwrap();
        same_as_whole(&store, &mut state, "a market launched").await;
        assert!(state.history().0.iter().find(|d| d.id == nl1).unwrap().production);

        let config = store
            .insert_deployment_with(deploy("be", None), DeploymentKind::Config, Some(1))
            .await
            .unwrap();
        store.mark_deployment_live(config.id, "", None).await.unwrap();
        same_as_whole(&store, &mut state, "a config rollback by hand").await;

        // A deployment that ends after a later one to the same market lands before it.
        let slow = store.insert_deployment(deploy("fr", None)).await.unwrap();
        let quick = live(DeploymentKind::Release, "fr", None).await;
        same_as_whole(&store, &mut state, "a later deployment ending first").await;
        store.mark_deployment_failed(slow.id, "too slow").await.unwrap();
        same_as_whole(&store, &mut state, "the earlier one ending after it").await;
        assert!(quick > slow.id);

        let cut = store.insert_deployment(deploy("nl", None)).await.unwrap();
        same_as_whole(&store, &mut state, "a deployment under way").await;
        assert_eq!(store.fail_unfinished_deployments().await.unwrap(), 1);
        same_as_whole(&store, &mut state, "an interrupted deployment").await;
        assert!(state.history().0.iter().all(|d| d.id != cut.id), "not counted");
    }
}
