//! The PostgreSQL backend: one pool for reads and writes (PostgreSQL takes many writers), the
//! migrations of `migrations/postgres`, and the statements PostgreSQL writes its own way.

use super::{Dialect, Pool};
use crate::Result;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// How many connections one Tandem server keeps at most. Several servers share the database:
/// PostgreSQL's default `max_connections` (100) serves five of them with room for tools.
const CONNECTIONS: u32 = 16;

/// How long a request waits for a connection before it fails (and the server answers 503):
/// while the database is down, callers learn it in seconds rather than hang.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the database at `url` (`postgres://…`) and applies pending migrations (sqlx holds an
/// advisory lock while it migrates, so servers starting together migrate once); returns
/// `(readers, writer)`, the same pool twice.
pub(crate) async fn open_pools(url: &str) -> Result<(Pool, Pool)> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?;
    Dialect::Postgres.migrator().run(&pool).await?;
    Ok((pool.clone(), pool))
}

/// See [`Dialect::packed_deployment_history`]: `string_agg(… ORDER BY …)`, integers cast to
/// text before `COALESCE` with `''`.
pub(super) const PACKED_DEPLOYMENT_HISTORY: &str = "SELECT d.service, d.market, string_agg(
        d.id::text || '|' || COALESCE(d.rollout_id::text, '') || '|' || d.kind || '|' || d.state || '|' ||
        d.started_at::text || '|' || d.finished_at::text || '|' || COALESCE(c.created_at::text, '') || '|' ||
        COALESCE((SELECT string_agg(authored_at::text, ' ') FROM deployment_commits WHERE deployment_id = d.id), ''),
        E'\\n' ORDER BY d.id)
     FROM deployments d
     LEFT JOIN rollouts r ON r.id = d.rollout_id
     LEFT JOIN change_requests c ON c.id = r.change_id
     WHERE d.finished_at IS NOT NULL
     GROUP BY d.service, d.market ORDER BY d.service, d.market";
