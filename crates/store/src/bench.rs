//! A year of history for benchmarks: 25 live markets in 5 waves, one service `shop`, 2,000
//! releases each rolled out everywhere (50,000 deployments, 1 in 50 failed, each market's last
//! good one live), two commits per deployment (100,000 rows) and 2,000 incidents. Written with
//! raw SQL in one transaction: going through the store's API would take minutes.

use crate::{Result, Store};

/// How many markets the year has, and how many waves they are rolled out in.
pub const MARKETS: usize = 25;
const WAVES: usize = 5;
/// Releases in the year; each goes to every market.
pub const RELEASES: i64 = 2000;
pub const INCIDENTS: i64 = 2000;
/// The first release's time, in Unix milliseconds (November 2023).
pub const YEAR_START: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 86_400_000;

/// The markets' ids: `m00` … `m24`.
pub fn market_ids() -> Vec<String> {
    (0..MARKETS).map(|i| format!("m{i:02}")).collect()
}

impl Store {
    /// Writes the year into an empty store (see the module's note).
    #[doc(hidden)]
    pub async fn seed_year(&self) -> Result<()> {
        let markets = market_ids();
        let waves: Vec<serde_json::Value> = markets
            .chunks(MARKETS / WAVES)
            .enumerate()
            .map(|(i, ms)| serde_json::json!({ "name": format!("wave-{}", i + 1), "markets": ms }))
            .collect();
        let mut tx = self.writer.begin().await?;
        for (i, m) in markets.iter().enumerate() {
            sqlx::query(
                "INSERT INTO markets (id, name, region, currency, locale, timezone, state, position)
                 VALUES ($1, $1, 'eu', 'EUR', 'en-GB', 'UTC', 'live', $2)",
            )
            .bind(m)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        for (i, w) in waves.iter().enumerate() {
            sqlx::query("INSERT INTO waves (name, position, markets) VALUES ($1, $2, $3)")
                .bind(w["name"].as_str())
                .bind(i as i64)
                .bind(w["markets"].to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO services (name, repo, branch, config) VALUES ('shop', '/srv/git/shop', 'main', '{}')")
            .execute(&mut *tx)
            .await?;
        let plan = serde_json::Value::Array(waves).to_string();
        sqlx::query(
            "INSERT INTO runs (id, service, commit_sha, branch, trigger, state, created_at) VALUES (1, 'shop', 'c', 'main', 'bench', 'success', 0)",
        )
        .execute(&mut *tx)
        .await?;
        // Each market's last deployment that did not fail: it is live there.
        let mut live = [0i64; MARKETS];
        for r in 0..RELEASES {
            let at = YEAR_START + r * (365 * DAY_MS / RELEASES);
            sqlx::query(
                "INSERT INTO releases (id, service, version, commit_sha, run_id, spec, created_at)
                 VALUES ($1, 'shop', 'v' || $1, 'c', 1, '{}', $2)",
            )
            .bind(r + 1)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO rollouts (id, service, release_id, state, plan, current_wave, created_by, created_at, queued)
                 VALUES ($1, 'shop', $1, 'succeeded', $2, $3, 'bench', $4, FALSE)",
            )
            .bind(r + 1)
            .bind(&plan)
            .bind(WAVES as i64 - 1)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            for (k, m) in markets.iter().enumerate() {
                let id = r * MARKETS as i64 + k as i64 + 1;
                let failed = id % 50 == 0;
                if !failed {
                    live[k] = id;
                }
                sqlx::query(
                    "INSERT INTO deployments (id, rollout_id, service, market, release_id, kind, state, reason, started_at, finished_at)
                     VALUES ($1, $2, 'shop', $3, $2, 'release', $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(r + 1)
                .bind(m)
                .bind(if failed { "failed" } else { "superseded" })
                .bind(failed.then_some("probe /healthz failed 2 times in a row"))
                .bind(at + k as i64 * 1000)
                .bind(at + k as i64 * 1000 + 30_000)
                .execute(&mut *tx)
                .await?;
                // Two commits per deployment: 100,000 commit rows.
                for c in 0..2i64 {
                    sqlx::query(
                        "INSERT INTO deployment_commits (deployment_id, sha, authored_at, committed_at) VALUES ($1, $2, $3, $3)",
                    )
                    .bind(id)
                    .bind(format!("{r:04}{k:02}{c}"))
                    .bind(at - (c + 1) * 3_600_000)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for (k, id) in live.iter().enumerate() {
            sqlx::query("UPDATE deployments SET state = 'live', url = $2 WHERE id = $1")
                .bind(id)
                .bind(format!("http://127.0.0.1:{}", 20_000 + k))
                .execute(&mut *tx)
                .await?;
        }
        for i in 0..INCIDENTS {
            let deployment = i * MARKETS as i64 + 1;
            sqlx::query(
                "INSERT INTO incidents (service, market, deployment_id, title, state, opened_at, resolved_at)
                 VALUES ('shop', 'm00', $1, 'bench', 'resolved', $2, $3)",
            )
            .bind(if i % 4 == 0 { None } else { Some(deployment) })
            .bind(YEAR_START + i * 3_600_000)
            .bind(YEAR_START + i * 3_600_000 + 1_800_000)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
