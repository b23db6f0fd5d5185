//! The market processes the `process` driver started: one row from just before a process
//! starts until it is seen stopped. A server that died leaves its rows behind, and the next one
//! reads them to adopt or stop what still runs (see the engine's supervisor).

use crate::{Result, Store, now_ms};
use sqlx::FromRow;

/// A market process as recorded.
#[derive(Debug, Clone, FromRow)]
pub struct MarketProcessRow {
    pub id: i64,
    pub service: String,
    pub market: String,
    pub release_id: i64,
    pub deployment_id: i64,
    pub port: i64,
    /// The random marker in the process's environment (`TANDEM_INSTANCE`).
    pub instance: String,
    /// `None` until the process started (a server that died in between never learnt it).
    pub pid: Option<i64>,
    pub pgid: Option<i64>,
    /// Its start time in clock ticks after boot (/proc/<pid>/stat, field 22).
    pub start_ticks: Option<i64>,
    /// The boot it started in (/proc/sys/kernel/random/boot_id).
    pub boot_id: Option<String>,
    /// Promoted: it serves the market (not only judged by its gates).
    #[sqlx(try_from = "crate::backend::Flag")]
    pub serving: bool,
    pub created_at: i64,
}

/// A market process about to start.
#[derive(Debug, Clone)]
pub struct NewMarketProcess<'a> {
    pub service: &'a str,
    pub market: &'a str,
    pub release_id: i64,
    pub deployment_id: i64,
    pub port: u16,
    pub instance: &'a str,
    /// Whether it serves the market as soon as it starts (a crashed one started again).
    pub serving: bool,
}

/// Who a started process is, as the kernel says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: i64,
    pub pgid: i64,
    pub start_ticks: i64,
    pub boot_id: String,
}

impl Store {
    /// Records a market process before it starts; returns its row id.
    pub async fn insert_market_process(&self, new: &NewMarketProcess<'_>) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO market_processes
                 (service, market, release_id, deployment_id, port, instance, serving, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.service)
        .bind(new.market)
        .bind(new.release_id)
        .bind(new.deployment_id)
        .bind(i64::from(new.port))
        .bind(new.instance)
        .bind(new.serving)
        .bind(now_ms())
        .fetch_one(&self.writer)
        .await?;
        Ok(id)
    }

    /// Records who a market process is, once it started.
    pub async fn set_market_process_identity(&self, id: i64, who: &ProcessIdentity) -> Result<()> {
        sqlx::query("UPDATE market_processes SET pid = $1, pgid = $2, start_ticks = $3, boot_id = $4 WHERE id = $5")
            .bind(who.pid)
            .bind(who.pgid)
            .bind(who.start_ticks)
            .bind(&who.boot_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The process now serves its market.
    pub async fn mark_market_process_serving(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE market_processes SET serving = TRUE WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The process (and its group) was seen stopped, or never started.
    pub async fn delete_market_process(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM market_processes WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every recorded market process, oldest first.
    pub async fn list_market_processes(&self) -> Result<Vec<MarketProcessRow>> {
        Ok(sqlx::query_as("SELECT * FROM market_processes ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;

    #[tokio::test]
    async fn a_process_is_recorded_before_it_starts_and_forgotten_once_stopped() {
        let (_dir, store) = store().await;
        let new = NewMarketProcess {
            service: "shop",
            market: "fr",
            release_id: 3,
            deployment_id: 7,
            port: 20_001,
            instance: "abc",
            serving: false,
        };
        let id = store.insert_market_process(&new).await.unwrap();
        let rows = store.list_market_processes().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].pid, rows[0].serving, rows[0].port), (None, false, 20_001));

        let who = ProcessIdentity {
            pid: 42,
            pgid: 42,
            start_ticks: 1234,
            boot_id: "boot".into(),
        };
        store.set_market_process_identity(id, &who).await.unwrap();
        store.mark_market_process_serving(id).await.unwrap();
        let row = &store.list_market_processes().await.unwrap()[0];
        assert_eq!(
            (row.pid, row.pgid, row.start_ticks, row.boot_id.as_deref(), row.serving),
            (Some(42), Some(42), Some(1234), Some("boot"), true)
        );
        // One marker, one process.
        assert!(store.insert_market_process(&new).await.is_err());

        store.delete_market_process(id).await.unwrap();
        assert!(store.list_market_processes().await.unwrap().is_empty());
    }
}
