//! What the monitor sees of live markets: each market's health as last probed, and its
//! measurements as downsampled series (see `tandem_core::monitor`).

use crate::backend::Real;
use crate::events::append_event;
use crate::{Result, Store};
use serde::Serialize;
use sqlx::FromRow;
use tandem_core::monitor::{RESOLUTIONS, bucket_start};
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
    /// added to the buckets of every resolution, and an event for each market that changed state.
    pub async fn record_probes(&self, probes: &[ProbeRecord]) -> Result<()> {
        if probes.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for p in probes {
            sqlx::query(
                "INSERT INTO market_health (service, market, deployment_id, state, failures_in_a_row, probed_at, last_ok_at, latency_ms, error, incident_id)
                 VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $6 END, $8, $9, $10)
                 ON CONFLICT (service, market) DO UPDATE SET
                   deployment_id = excluded.deployment_id, state = excluded.state,
                   failures_in_a_row = excluded.failures_in_a_row, probed_at = excluded.probed_at,
                   last_ok_at = COALESCE(excluded.last_ok_at, market_health.last_ok_at),
                   latency_ms = excluded.latency_ms, error = excluded.error, incident_id = excluded.incident_id",
            )
            .bind(&p.service)
            .bind(&p.market)
            .bind(p.deployment_id)
            .bind(p.state.as_str())
            .bind(i64::from(p.failures_in_a_row))
            .bind(p.at)
            .bind(p.ok)
            .bind(Real(p.latency_ms))
            .bind(&p.error)
            .bind(p.incident_id)
            .execute(&mut *tx)
            .await?;
            for (metric, value) in &p.measurements {
                if !value.is_finite() {
                    continue;
                }
                for (resolution, _) in RESOLUTIONS {
                    sqlx::query(
                        "INSERT INTO series_buckets (service, market, metric, resolution, bucket, count, sum, min, max, last)
                         VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $6, $6)
                         ON CONFLICT (service, market, metric, resolution, bucket) DO UPDATE SET
                           count = series_buckets.count + 1, sum = series_buckets.sum + excluded.sum,
                           min = CASE WHEN excluded.min < series_buckets.min THEN excluded.min ELSE series_buckets.min END,
                           max = CASE WHEN excluded.max > series_buckets.max THEN excluded.max ELSE series_buckets.max END,
                           last = excluded.last",
                    )
                    .bind(&p.service)
                    .bind(&p.market)
                    .bind(metric)
                    .bind(resolution)
                    .bind(bucket_start(p.at, resolution))
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            if let Some(kind) = p.transition {
                let data = serde_json::json!({
                    "service": p.service, "market": p.market, "deployment": p.deployment_id,
                    "failures": p.failures_in_a_row, "error": p.error, "incident": p.incident_id,
                });
                append_event(&mut tx, kind, &format!("market/{}/{}", p.service, p.market), data).await?;
            }
        }
        tx.commit().await?;
        Ok(())
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
    /// inclusive) to `to` (exclusive), by market then time.
    pub async fn series(
        &self,
        service: &str,
        market: Option<&str>,
        metric: &str,
        resolution: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<SeriesPoint>> {
        Ok(sqlx::query_as(
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
        .await?)
    }

    /// The names of the series a service has.
    pub async fn series_names(&self, service: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT metric FROM series_buckets WHERE service = $1 AND resolution = $2 ORDER BY metric",
        )
        .bind(service)
        .bind(RESOLUTIONS[RESOLUTIONS.len() - 1].0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(m,)| m).collect())
    }

    /// Drops buckets older than their resolution keeps; how many went.
    pub async fn prune_series(&self, now: i64) -> Result<u64> {
        let mut gone = 0;
        for (resolution, keep) in RESOLUTIONS {
            let before = now - keep.as_millis() as i64;
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
        })
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
    async fn probes_fold_into_buckets_at_every_resolution_and_old_buckets_go() {
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
        let hours = store
            .series("shop", None, "up", 3_600, t0, t0 + 3_600_000)
            .await
            .expect("series");
        assert_eq!(hours.len(), 2, "one per market: {hours:?}");
        assert_eq!((hours[0].market.as_str(), hours[0].count, hours[0].sum), ("fr", 3, 2.0));

        let health = store
            .market_health("shop", "fr")
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(health.last_ok_at, Some(t0 + 61_000));
        assert_eq!(health.error, None);
        assert_eq!(
            store.series_names("shop").await.expect("names"),
            ["probe_latency_ms", "up"]
        );

        // Two days and a bit later the minutes are gone, the hours stay.
        let gone = store.prune_series(t0 + 2 * 86_400_000 + 120_000).await.expect("prune");
        assert_eq!(gone, 6, "fr's two minutes and nl's one, for both series");
        assert!(
            store
                .series("shop", Some("fr"), "up", 60, 0, i64::MAX)
                .await
                .expect("series")
                .is_empty()
        );
        assert_eq!(
            store
                .series("shop", None, "up", 3_600, 0, i64::MAX)
                .await
                .expect("series")
                .len(),
            2
        );
    }
}
