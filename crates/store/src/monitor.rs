//! What the monitor sees of live markets: each market's health as last probed, and its
//! measurements as downsampled series (see `tandem_core::monitor`).

use crate::backend::Real;
use crate::events::append_event;
use crate::{Result, Store};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::monitor::{RESOLUTIONS, Retention, bucket_start};
use tandem_core::state::HealthState;

/// A market's health as the monitor last saw it.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct MarketHealthRow {
    pub service: String,
    pub market: String,
    /// The live deployment probed.
    pub deployment_id: Option<i64>,
    /// up (the last probe passed), failing (it failed, fewer than `monitor.failures` times in
    /// a row), down (that many failed: an incident is open), or unknown (not probed since the
    /// server started).
    #[sqlx(try_from = "String")]
    pub state: HealthState,
    pub failures_in_a_row: i64,
    /// Unix ms of the last probe.
    pub probed_at: i64,
    /// Unix ms of the last probe that passed.
    pub last_ok_at: Option<i64>,
    /// How long the last probe took to answer.
    pub latency_ms: Option<f64>,
    /// Why the last probe failed.
    pub error: Option<String>,
    /// The incident the monitor opened for the current outage.
    pub incident_id: Option<i64>,
}

/// One probe of one market, with what was measured at the same time.
#[derive(Debug, Clone)]
pub struct ProbeRecord {
    pub service: String,
    pub market: String,
    pub deployment_id: i64,
    pub at: i64,
    pub ok: bool,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
    pub failures_in_a_row: u32,
    /// up, failing or down.
    pub state: HealthState,
    /// `Some(kind)` when the market changed state with this probe: `market.down`, `market.up`.
    pub transition: Option<&'static str>,
    pub incident_id: Option<i64>,
    /// (series name, value): kept in the series buckets of every resolution.
    pub measurements: Vec<(String, f64)>,
}

/// One bucket of one market's series.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct SeriesPoint {
    pub market: String,
    /// Unix ms at the bucket's start.
    pub bucket: i64,
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
}

impl SeriesPoint {
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

impl Store {
    /// Records a batch of probes in one transaction: each market's health, its measurements
    /// added to their minute buckets, and an event for each market that changed state.
    ///
    /// The batch is folded first (a market's last probe gives its health; the measurements of
    /// one market, series and minute make one bucket update), then written [`ROWS_PER_STATEMENT`]
    /// rows a statement: an idle server's second of probes at 1,000 markets is a handful of
    /// statements, not three a probe ([`Store::probe_statements`] counts them).
    pub async fn record_probes(&self, probes: &[ProbeRecord]) -> Result<()> {
        if probes.is_empty() {
            return Ok(());
        }
        let health = fold_health(probes);
        let buckets = fold_buckets(probes);
        let mut statements = 0;
        let mut tx = self.writer.begin().await?;
        for chunk in health.chunks(ROWS_PER_STATEMENT) {
            let mut query = crate::backend::Builder::new(
                "INSERT INTO market_health (service, market, deployment_id, state, failures_in_a_row, probed_at, last_ok_at, latency_ms, error, incident_id) VALUES ",
            );
            for (i, (p, last_ok_at)) in chunk.iter().enumerate() {
                query.push(if i == 0 { "(" } else { ", (" });
                query.push_bind(p.service.as_str()).push(", ");
                query.push_bind(p.market.as_str()).push(", ");
                query.push_bind(p.deployment_id).push(", ");
                query.push_bind(p.state.as_str()).push(", ");
                query.push_bind(i64::from(p.failures_in_a_row)).push(", ");
                query.push_bind(p.at).push(", ");
                query.push_bind(*last_ok_at).push(", ");
                query.push_bind(Real(p.latency_ms)).push(", ");
                query.push_bind(p.error.as_deref()).push(", ");
                query.push_bind(p.incident_id).push(")");
            }
            query.push(
                " ON CONFLICT (service, market) DO UPDATE SET
                   deployment_id = excluded.deployment_id, state = excluded.state,
                   failures_in_a_row = excluded.failures_in_a_row, probed_at = excluded.probed_at,
                   last_ok_at = COALESCE(excluded.last_ok_at, market_health.last_ok_at),
                   latency_ms = excluded.latency_ms, error = excluded.error, incident_id = excluded.incident_id",
            );
            // The last, shorter statement's text varies with the batch: not kept prepared.
            let full = chunk.len() == ROWS_PER_STATEMENT;
            query.build().persistent(full).execute(&mut *tx).await?;
            statements += 1;
        }
        for chunk in buckets.chunks(ROWS_PER_STATEMENT) {
            let mut query = crate::backend::Builder::new(
                "INSERT INTO series_buckets (service, market, metric, resolution, bucket, count, sum, min, max, last) VALUES ",
            );
            for (i, ((service, market, metric, bucket), b)) in chunk.iter().enumerate() {
                query.push(if i == 0 { "(" } else { ", (" });
                query.push_bind(*service).push(", ");
                query.push_bind(*market).push(", ");
                query.push_bind(*metric).push(", ");
                query.push(MINUTE).push(", ");
                query.push_bind(*bucket).push(", ");
                query.push_bind(b.count).push(", ");
                query.push_bind(b.sum).push(", ");
                query.push_bind(b.min).push(", ");
                query.push_bind(b.max).push(", ");
                query.push_bind(b.last).push(")");
            }
            query.push(
                " ON CONFLICT (service, market, metric, resolution, bucket) DO UPDATE SET
                   count = series_buckets.count + excluded.count, sum = series_buckets.sum + excluded.sum,
                   min = CASE WHEN excluded.min < series_buckets.min THEN excluded.min ELSE series_buckets.min END,
                   max = CASE WHEN excluded.max > series_buckets.max THEN excluded.max ELSE series_buckets.max END,
                   last = excluded.last",
            );
            let full = chunk.len() == ROWS_PER_STATEMENT;
            query.build().persistent(full).execute(&mut *tx).await?;
            statements += 1;
        }
        for p in probes {
            if let Some(kind) = p.transition {
                let data = serde_json::json!({
                    "service": p.service, "market": p.market, "deployment": p.deployment_id,
                    "failures": p.failures_in_a_row, "error": p.error, "incident": p.incident_id,
                });
                append_event(&mut tx, kind, &format!("market/{}/{}", p.service, p.market), data).await?;
                statements += 1;
            }
        }
        tx.commit().await?;
        self.probe_statements
            .fetch_add(statements, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// How many statements [`Store::record_probes`] has written (health and series rows, and
    /// events) since this store was opened.
    pub fn probe_statements(&self) -> u64 {
        self.probe_statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What identifies the deployments live or under way, in one short read: how many there
    /// are and the sums of their ids, all and live alone. A deployment that starts, goes live
    /// or ends changes it (a live deployment's address and release never change). The monitor
    /// reads every live market when this changed, rather than on every rescan.
    pub async fn live_fingerprint(&self) -> Result<(i64, i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(id), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN state = 'live' THEN id ELSE 0 END), 0) AS BIGINT)
             FROM deployments WHERE state IN ('live', 'deploying')",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// (service, market) of every deployment under way: the monitor leaves those markets to
    /// their gates until the deployment ends.
    pub async fn list_deploying_markets(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT DISTINCT service, market FROM deployments WHERE state = 'deploying'")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every market's health as last probed, by service then market.
    pub async fn list_market_health(&self) -> Result<Vec<MarketHealthRow>> {
        Ok(sqlx::query_as("SELECT * FROM market_health ORDER BY service, market")
            .fetch_all(&self.pool)
            .await?)
    }

    /// A page of [`Store::list_market_health`]: after the (service, market) `after`.
    pub async fn list_market_health_page(
        &self,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<MarketHealthRow>> {
        let (service, market) = after.unzip();
        Ok(sqlx::query_as(
            "SELECT * FROM market_health
             WHERE ($1 IS NULL OR service > $1 OR (service = $1 AND market > $2))
             ORDER BY service, market LIMIT $3",
        )
        .bind(service)
        .bind(market)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The monitor's last verdicts in the markets named.
    pub async fn list_market_health_of(&self, markets: &[String]) -> Result<Vec<MarketHealthRow>> {
        let mut out = Vec::new();
        for chunk in markets.chunks(crate::backend::IDS_PER_QUERY) {
            let mut query = crate::backend::Builder::new("SELECT * FROM market_health WHERE market IN ");
            crate::backend::push_in_list(&mut query, chunk.iter().map(String::as_str));
            query.push(" ORDER BY service, market");
            out.extend(query.build_query_as::<MarketHealthRow>().fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    pub async fn market_health(&self, service: &str, market: &str) -> Result<Option<MarketHealthRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM market_health WHERE service = $1 AND market = $2")
                .bind(service)
                .bind(market)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// At start-up: what the previous server saw of markets that were up no longer holds
    /// (their processes are starting again), so they are `unknown` until probed. Markets that
    /// were down stay down, with their incident, until they answer.
    pub async fn forget_stale_health(&self) -> Result<u64> {
        Ok(
            sqlx::query("UPDATE market_health SET state = 'unknown' WHERE state = 'up'")
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }

    /// Forgets the health of markets that are no longer live (their deployment was replaced
    /// by nothing, or the service is gone), so they do not show as up or down.
    pub async fn forget_market_health(&self, service: &str, market: &str) -> Result<()> {
        sqlx::query("DELETE FROM market_health WHERE service = $1 AND market = $2")
            .bind(service)
            .bind(market)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The buckets of one series of a service, for one market or all, from `from` (Unix ms,
    /// inclusive) to `to` (exclusive), by market then time. Hours not yet rolled up are
    /// summed from their minutes, so an hour reads the same before and after its roll-up.
    pub async fn series(
        &self,
        service: &str,
        market: Option<&str>,
        metric: &str,
        resolution: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        if resolution != HOUR {
            return Ok(sqlx::query_as(
                "SELECT market, bucket, count, sum, min, max, last FROM series_buckets
                 WHERE service = $1 AND ($2 IS NULL OR market = $2) AND metric = $3 AND resolution = $4
                   AND bucket >= $5 AND bucket < $6
                 ORDER BY market, bucket",
            )
            .bind(service)
            .bind(market)
            .bind(metric)
            .bind(resolution)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?);
        }
        let rolled = rolled_up_until(&self.pool).await?;
        // Whole hours from `from` on, starting before `to`: their minutes lie in [low, high).
        let low = rolled.max(ceil_hour(from));
        let high = ceil_hour(to);
        let sql = format!(
            "SELECT market, bucket, count, sum, min, max, last FROM series_buckets
             WHERE service = $1 AND ($2 IS NULL OR market = $2) AND metric = $3 AND resolution = {HOUR}
               AND bucket >= $4 AND bucket < $5 AND bucket < $6
             UNION ALL
             SELECT market, hour, CAST(SUM(count) AS BIGINT), SUM(sum), MIN(min), MAX(max), MAX(final)
             FROM ({MINUTES_BY_HOUR}
                   WHERE service = $1 AND ($2 IS NULL OR market = $2) AND metric = $3 AND resolution = {MINUTE}
                     AND bucket >= $7 AND bucket < $8) m
             GROUP BY market, hour
             ORDER BY 1, 2"
        );
        Ok(sqlx::query_as(&sql)
            .bind(service)
            .bind(market)
            .bind(metric)
            .bind(from)
            .bind(to)
            .bind(rolled)
            .bind(low)
            .bind(high)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The names of the series a service has: those of its hours, and of the minutes not yet
    /// rolled up (both read through the buckets' index by age, not the whole service).
    pub async fn series_names(&self, service: &str) -> Result<Vec<String>> {
        let rolled = rolled_up_until(&self.pool).await?;
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT DISTINCT metric FROM series_buckets WHERE resolution = {HOUR} AND bucket >= 0 AND service = $1
             UNION
             SELECT DISTINCT metric FROM series_buckets WHERE resolution = {MINUTE} AND bucket >= $2 AND service = $1
             ORDER BY 1"
        ))
        .bind(service)
        .bind(rolled)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(m,)| m).collect())
    }

    /// Rolls the minutes of every hour that ended at least [`ROLLUP_GRACE`] before `now` and
    /// is not rolled up yet into hour buckets (again, if need be: a rolled-up hour is
    /// recomputed, never added to twice); how many hour buckets were written.
    pub async fn roll_up_series(&self, now: i64) -> Result<u64> {
        let until = bucket_start(now - ROLLUP_GRACE.as_millis() as i64, HOUR);
        let mut tx = self.writer.begin().await?;
        let (rolled,): (i64,) = sqlx::query_as(ROLLED_UP_UNTIL).bind(HOUR).fetch_one(&mut *tx).await?;
        if until <= rolled {
            return Ok(0);
        }
        let written = sqlx::query(&format!(
            "INSERT INTO series_buckets (service, market, metric, resolution, bucket, count, sum, min, max, last)
             SELECT service, market, metric, {HOUR}, hour, CAST(SUM(count) AS BIGINT), SUM(sum), MIN(min), MAX(max), MAX(final)
             FROM ({MINUTES_BY_HOUR} WHERE resolution = {MINUTE} AND bucket >= $1 AND bucket < $2) m
             GROUP BY service, market, metric, hour
             ON CONFLICT (service, market, metric, resolution, bucket) DO UPDATE SET
               count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last"
        ))
        .bind(rolled)
        .bind(until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "INSERT INTO series_rollups (resolution, done_until) VALUES ($1, $2)
             ON CONFLICT (resolution) DO UPDATE SET done_until = excluded.done_until",
        )
        .bind(HOUR)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Drops buckets older than `retention` keeps them; how many went. Roll up first: minutes
    /// of an hour not yet rolled up are kept whatever their age.
    pub async fn prune_series(&self, now: i64, retention: Retention) -> Result<u64> {
        let rolled = rolled_up_until(&self.writer).await?;
        let mut gone = 0;
        for (resolution, keep, floor) in [(MINUTE, retention.minutes, rolled), (HOUR, retention.hours, i64::MAX)] {
            let before = (now - keep.as_millis() as i64).min(floor);
            gone += sqlx::query("DELETE FROM series_buckets WHERE resolution = $1 AND bucket < $2")
                .bind(resolution)
                .bind(before)
                .execute(&self.writer)
                .await?
                .rows_affected();
        }
        Ok(gone)
    }
}

/// Seconds per bucket of the two resolutions: probes write minutes, hours are rolled up.
const MINUTE: i64 = RESOLUTIONS[0].0;
const HOUR: i64 = RESOLUTIONS[1].0;

/// How long after an hour ends its minutes are rolled up: a probe is recorded at its start,
/// when it ends (within its timeout), so the last probes of an hour land a little after it.
pub const ROLLUP_GRACE: std::time::Duration = std::time::Duration::from_secs(300);

/// How many rows one statement of [`Store::record_probes`] writes at most. Few enough that
/// SQLite's parse and bind stay cheap (each `$n` is looked up among the statement's earlier
/// names: the cost grows with the square of the values bound, and at 500 rows of ten values it
/// was a third of an idle server's CPU); a full statement's text is always the same, so
/// it is prepared once.
const ROWS_PER_STATEMENT: usize = 32;

/// Each market's health after a batch: its last probe, with the last time in the batch it
/// answered (an earlier probe's success is kept when the last one failed). By market, so that
/// one statement never updates a row twice (PostgreSQL refuses that).
fn fold_health(probes: &[ProbeRecord]) -> Vec<(&ProbeRecord, Option<i64>)> {
    let mut by_market: std::collections::BTreeMap<(&str, &str), (&ProbeRecord, Option<i64>)> = Default::default();
    for p in probes {
        let ok_at = p.ok.then_some(p.at);
        by_market
            .entry((&p.service, &p.market))
            .and_modify(|(last, last_ok)| {
                *last = p;
                *last_ok = ok_at.max(*last_ok);
            })
            .or_insert((p, ok_at));
    }
    by_market.into_values().collect()
}

/// What a batch adds to one minute bucket: the measurements it folds in, the last one last.
#[derive(Debug)]
struct Folded {
    count: i64,
    sum: f64,
    min: f64,
    max: f64,
    last: f64,
}

/// A batch's measurements by (service, market, series, minute), in the order they came.
type BucketKey<'a> = (&'a str, &'a str, &'a str, i64);
fn fold_buckets(probes: &[ProbeRecord]) -> Vec<(BucketKey<'_>, Folded)> {
    let mut buckets: std::collections::BTreeMap<BucketKey<'_>, Folded> = Default::default();
    for p in probes {
        for (metric, value) in &p.measurements {
            let value = *value;
            if !value.is_finite() {
                continue;
            }
            let key = (
                p.service.as_str(),
                p.market.as_str(),
                metric.as_str(),
                bucket_start(p.at, MINUTE),
            );
            buckets
                .entry(key)
                .and_modify(|b| {
                    b.count += 1;
                    b.sum += value;
                    b.min = b.min.min(value);
                    b.max = b.max.max(value);
                    b.last = value;
                })
                .or_insert(Folded {
                    count: 1,
                    sum: value,
                    min: value,
                    max: value,
                    last: value,
                });
        }
    }
    buckets.into_iter().collect()
}

/// Minute buckets with the hour they fall in and that hour's last value (the `last` of its
/// latest minute); the caller adds a `WHERE` and groups by hour.
const MINUTES_BY_HOUR: &str = "SELECT service, market, metric, bucket - bucket % 3600000 AS hour, count, sum, min, max,
       FIRST_VALUE(last) OVER (PARTITION BY service, market, metric, bucket - bucket % 3600000 ORDER BY bucket DESC) AS final
     FROM series_buckets";

/// The start of the first hour at or after `at` (Unix ms).
fn ceil_hour(at: i64) -> i64 {
    let start = bucket_start(at, HOUR);
    if start == at {
        at
    } else {
        start.saturating_add(HOUR * 1000)
    }
}

/// Hours before this (Unix ms) are rolled up; later ones are read from their minutes.
async fn rolled_up_until(pool: &crate::backend::Pool) -> Result<i64> {
    let (until,): (i64,) = sqlx::query_as(ROLLED_UP_UNTIL).bind(HOUR).fetch_one(pool).await?;
    Ok(until)
}

/// Where the rollups of resolution `$1` stand: the recorded mark, else (none recorded yet) the
/// newest bucket of that resolution, else 0.
const ROLLED_UP_UNTIL: &str = "SELECT COALESCE(
       (SELECT done_until FROM series_rollups WHERE resolution = $1),
       (SELECT MAX(bucket) FROM series_buckets WHERE resolution = $1),
       0)";

/// What Tandem's own `/metrics` reports from the store, counted by SQL at scrape time.
#[derive(Debug, Clone, Default)]
pub struct StateCounts {
    /// (state, count) of runs, deployments and rollouts.
    pub runs: Vec<(String, i64)>,
    pub deployments: Vec<(String, i64)>,
    pub rollouts: Vec<(String, i64)>,
    /// (gate, count) of failed gate results.
    pub gate_failures: Vec<(String, i64)>,
    /// (state, source, count) of incidents.
    pub incidents: Vec<(String, String, i64)>,
    /// (queue, depth): runs and jobs waiting to start, rollouts queued behind another,
    /// rollouts awaiting an approval, change requests awaiting review.
    pub queues: Vec<(String, i64)>,
    /// (state, count) of monitored markets: up or down.
    pub markets: Vec<(String, i64)>,
    /// The database's size on disk, in bytes (see [`Store::database_bytes`]).
    pub store_bytes: i64,
}

impl Store {
    pub async fn state_counts(&self) -> Result<StateCounts> {
        let grouped =
            async |sql: &str| -> Result<Vec<(String, i64)>> { Ok(sqlx::query_as(sql).fetch_all(&self.pool).await?) };
        let queues: Vec<(String, i64)> = sqlx::query_as(
            "SELECT 'runs', COUNT(*) FROM runs WHERE state = 'queued'
             UNION ALL SELECT 'jobs', COUNT(*) FROM jobs WHERE state = 'pending'
               AND run_id IN (SELECT id FROM runs WHERE state IN ('queued', 'running'))
             UNION ALL SELECT 'rollouts', COUNT(*) FROM rollouts WHERE state = 'queued'
             UNION ALL SELECT 'approvals', COUNT(*) FROM rollouts WHERE state = 'awaiting-approval'
             UNION ALL SELECT 'change_requests', COUNT(*) FROM change_requests WHERE state = 'open'",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(StateCounts {
            runs: grouped("SELECT state, COUNT(*) FROM runs GROUP BY state").await?,
            deployments: grouped("SELECT state, COUNT(*) FROM deployments GROUP BY state").await?,
            rollouts: grouped("SELECT state, COUNT(*) FROM rollouts GROUP BY state").await?,
            gate_failures: grouped("SELECT gate, COUNT(*) FROM gate_results WHERE NOT passed GROUP BY gate").await?,
            incidents: sqlx::query_as("SELECT state, source, COUNT(*) FROM incidents GROUP BY state, source")
                .fetch_all(&self.pool)
                .await?,
            queues,
            markets: grouped("SELECT state, COUNT(*) FROM market_health GROUP BY state").await?,
            store_bytes: self.database_bytes().await?,
        })
    }

    /// The database's size on disk, in bytes: SQLite's file and its write-ahead log, or
    /// PostgreSQL's `pg_database_size` (tables, indexes and their free space). Blobs are not
    /// counted: they are files of their own.
    pub async fn database_bytes(&self) -> Result<i64> {
        match self.dialect {
            crate::backend::Dialect::Sqlite => {
                let db = self.data_dir.join("tandem.db");
                let mut bytes = 0;
                for file in [db.clone(), db.with_extension("db-wal")] {
                    match std::fs::metadata(&file) {
                        Ok(m) => bytes += m.len(),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => {
                            return Err(crate::StoreError::Io {
                                context: format!("cannot read the size of {}", file.display()),
                                source,
                            });
                        }
                    }
                }
                Ok(i64::try_from(bytes).unwrap_or(i64::MAX))
            }
            crate::backend::Dialect::Postgres => {
                let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(market: &str, at: i64, ok: bool, latency: f64) -> ProbeRecord {
        ProbeRecord {
            service: "shop".into(),
            market: market.into(),
            deployment_id: 1,
            at,
            ok,
            latency_ms: Some(latency),
            error: (!ok).then(|| "connection refused".to_string()),
            failures_in_a_row: u32::from(!ok),
            state: HealthState::Up,
            transition: None,
            incident_id: None,
            measurements: vec![
                ("probe_latency_ms".into(), latency),
                ("up".into(), f64::from(u8::from(ok))),
            ],
        }
    }

    #[tokio::test]
    async fn the_database_size_grows_with_what_it_holds() {
        let (_dir, store) = crate::testing::store().await;
        let before = store.database_bytes().await.expect("size");
        assert!(before > 0);
        let t0 = 1_800_000_000_000;
        let probes: Vec<ProbeRecord> = (0..3_000)
            .map(|i| probe(&format!("m{}", i % 300), t0 + i * 60_000, true, 1.0))
            .collect();
        store.record_probes(&probes).await.expect("record");
        let after = store.database_bytes().await.expect("size");
        assert!(
            after > before + 100_000,
            "{before} bytes, then {after} after 6,000 buckets"
        );
        assert!(store.state_counts().await.expect("counts").store_bytes >= after);
    }

    /// A batch of probes is written 32 rows a statement, not a statement or more a probe; a market
    /// probed twice in one batch reads as if its probes had been recorded one by one.
    #[tokio::test]
    async fn a_batch_of_probes_is_written_in_a_few_statements() {
        let (_dir, store) = crate::testing::store().await;
        let t0 = 1_800_000_000_000; // on an hour boundary
        // 300 markets, each probed twice in the batch: it answered, then it failed.
        let mut batch: Vec<ProbeRecord> = (0..300).map(|i| probe(&format!("m{i}"), t0, true, 10.0)).collect();
        batch.extend((0..300).map(|i| {
            let mut p = probe(&format!("m{i}"), t0 + 20_000, false, 30.0);
            p.state = HealthState::Failing;
            p
        }));
        store.record_probes(&batch).await.expect("record");
        // 300 markets' health and their 600 buckets, 32 rows a statement: 10 and 19 statements
        // for 600 probes.
        assert_eq!(store.probe_statements(), 10 + 19);

        let health = store
            .market_health("shop", "m7")
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(
            (
                health.state,
                health.probed_at,
                health.last_ok_at,
                health.error.as_deref()
            ),
            (HealthState::Failing, t0 + 20_000, Some(t0), Some("connection refused"))
        );
        let latency = store
            .series("shop", Some("m7"), "probe_latency_ms", 60, t0, t0 + 60_000)
            .await
            .expect("series");
        assert_eq!(
            latency
                .iter()
                .map(|p| (p.count, p.sum, p.min, p.max, p.last))
                .collect::<Vec<_>>(),
            [(2, 40.0, 10.0, 30.0, 30.0)]
        );
        // The next batch adds to the same minute.
        store
            .record_probes(&[probe("m7", t0 + 40_000, true, 5.0)])
            .await
            .expect("record");
        let up = store
            .series("shop", Some("m7"), "up", 60, t0, t0 + 60_000)
            .await
            .expect("series");
        assert_eq!(
            up.iter()
                .map(|p| (p.count, p.sum, p.min, p.max, p.last))
                .collect::<Vec<_>>(),
            [(3, 2.0, 0.0, 1.0, 1.0)]
        );
        assert_eq!(store.probe_statements(), 10 + 19 + 2);
    }

    #[tokio::test]
    async fn probes_fold_into_minutes_hours_roll_up_from_them_and_old_buckets_go() {
        let (_dir, store) = crate::testing::store().await;
        let t0 = 1_800_000_000_000; // on an hour boundary
        store
            .record_probes(&[probe("fr", t0, true, 10.0), probe("nl", t0, true, 4.0)])
            .await
            .expect("record");
        store
            .record_probes(&[probe("fr", t0 + 30_000, false, 30.0)])
            .await
            .expect("record");
        store
            .record_probes(&[probe("fr", t0 + 61_000, true, 20.0)])
            .await
            .expect("record");
        // The next hour has begun: one probe.
        store
            .record_probes(&[probe("fr", t0 + 3_600_000, true, 50.0)])
            .await
            .expect("record");

        let minutes = store
            .series("shop", Some("fr"), "probe_latency_ms", 60, t0, t0 + 3_600_000)
            .await
            .expect("series");
        assert_eq!(minutes.len(), 2, "{minutes:?}");
        assert_eq!(
            (minutes[0].count, minutes[0].min, minutes[0].max, minutes[0].last),
            (2, 10.0, 30.0, 30.0)
        );
        assert_eq!(minutes[0].mean(), 20.0);
        assert_eq!(minutes[1].bucket, t0 + 60_000);

        // Hours read the same whether they are summed from minutes or rolled up.
        let hours = async || {
            let all = store
                .series("shop", None, "up", 3_600, t0, t0 + 2 * 3_600_000)
                .await
                .expect("series");
            all.iter()
                .map(|p| (p.market.clone(), p.bucket, p.count, p.sum, p.min, p.max, p.last))
                .collect::<Vec<_>>()
        };
        let expected = vec![
            ("fr".to_string(), t0, 3, 2.0, 0.0, 1.0, 1.0),
            ("fr".to_string(), t0 + 3_600_000, 1, 1.0, 1.0, 1.0, 1.0),
            ("nl".to_string(), t0, 1, 1.0, 1.0, 1.0, 1.0),
        ];
        assert_eq!(hours().await, expected, "before any roll-up");
        let latency = store
            .series("shop", Some("fr"), "probe_latency_ms", 3_600, t0, t0 + 3_600_000)
            .await
            .expect("series");
        assert_eq!((latency.len(), latency[0].last, latency[0].mean()), (1, 20.0, 20.0));
        // Before the hour's grace is over, nothing is rolled up; then its first hour is.
        assert_eq!(store.roll_up_series(t0 + 3_600_000 + 60_000).await.expect("roll up"), 0);
        assert_eq!(
            store
                .roll_up_series(t0 + 3_600_000 + ROLLUP_GRACE.as_millis() as i64)
                .await
                .expect("roll up"),
            4,
            "fr and nl, up and probe_latency_ms"
        );
        assert_eq!(hours().await, expected, "after the first hour's roll-up");
        assert_eq!(
            store
                .roll_up_series(t0 + 3_600_000 + ROLLUP_GRACE.as_millis() as i64)
                .await
                .expect("roll up"),
            0,
            "an hour is rolled up once"
        );
        // A window starting within an hour holds the hours that start in it.
        let later = store
            .series("shop", Some("fr"), "up", 3_600, t0 + 1, i64::MAX)
            .await
            .expect("series");
        assert_eq!(later.iter().map(|p| p.bucket).collect::<Vec<_>>(), [t0 + 3_600_000]);

        let health = store
            .market_health("shop", "fr")
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(health.last_ok_at, Some(t0 + 3_600_000));
        assert_eq!(health.error, None);
        assert_eq!(
            store.series_names("shop").await.expect("names"),
            ["probe_latency_ms", "up"]
        );

        // Two days and a bit later the minutes of the rolled-up hour are gone; the minutes of
        // the hour not rolled up yet stay (whatever their age), and so do the hours.
        let retention = Retention::default();
        let gone = store
            .prune_series(t0 + 2 * 86_400_000 + 7_200_000, retention)
            .await
            .expect("prune");
        assert_eq!(gone, 6, "fr's two minutes and nl's one, for both series");
        assert_eq!(hours().await, expected, "after pruning the first hour's minutes");
        // Past the hours' retention, everything rolled up goes.
        store.roll_up_series(t0 + 3 * 3_600_000).await.expect("roll up");
        let gone = store
            .prune_series(t0 + 3 * 3_600_000 + retention.hours.as_millis() as i64, retention)
            .await
            .expect("prune");
        assert_eq!(
            gone,
            2 + 6,
            "fr's minute of the second hour and the six hours, both series"
        );
        assert!(hours().await.is_empty());
        assert!(store.series_names("shop").await.expect("names").is_empty());
    }
}
