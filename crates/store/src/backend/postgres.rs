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

/// Ends a session whose transaction waits this long between statements (ms).
const IDLE_IN_TRANSACTION: &str = "SET idle_in_transaction_session_timeout = 5000";

/// No JIT compilation: Tandem's statements are short, and on tables not yet analyzed the
/// planner's guesses put small reads over the JIT threshold (the markets list took 108 ms, 88
/// of them compiling, for 25 markets).
const NO_JIT: &str = "SET jit = off";

/// Opens the database at `url` (`postgres://…`) and applies pending migrations (sqlx holds an
/// advisory lock while it migrates, so servers starting together migrate once); returns
/// `(readers, writer)`, the same pool twice.
pub(crate) async fn open_pools(url: &str) -> Result<(Pool, Pool)> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // A transaction left open by a server that stalls (paused, swapped out, its
                // network half gone) would hold the events chain and the conductor's lease
                // row for good: PostgreSQL ends such a session after a while, and another
                // server takes over. Tandem's transactions never wait between statements.
                sqlx::query(IDLE_IN_TRANSACTION).execute(&mut *conn).await?;
                sqlx::query(NO_JIT).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Dialect::Postgres.migrate(&pool).await?;
    Ok((pool.clone(), pool))
}

/// See [`Dialect::packed_deployment_history`]: `string_agg(… ORDER BY …)`, integers cast to
/// text before `COALESCE` with `''`. Each deployment's author times are packed once, in one
/// grouped pass joined by hash, rather than by a subquery per deployment (which PostgreSQL
/// runs 50,000 times over a year of history: 1.4 s against 0.3 s for the rows alone).
pub(super) const PACKED_DEPLOYMENT_HISTORY: &str = "WITH authored AS (
         SELECT deployment_id, string_agg(authored_at::text, ' ') AS times
         FROM deployment_commits GROUP BY deployment_id
     )
     SELECT d.service, d.market, string_agg(
        d.id::text || '|' || COALESCE(d.rollout_id::text, '') || '|' || d.kind || '|' || d.state || '|' ||
        d.started_at::text || '|' || d.finished_at::text || '|' || COALESCE(c.created_at::text, '') || '|' ||
        COALESCE(a.times, ''),
        E'\\n' ORDER BY d.id)
     FROM deployments d
     LEFT JOIN rollouts r ON r.id = d.rollout_id
     LEFT JOIN change_requests c ON c.id = r.change_id
     LEFT JOIN authored a ON a.deployment_id = d.id
     WHERE d.finished_at IS NOT NULL AND d.interrupted = 0 AND d.state <> 'blocked'
     GROUP BY d.service, d.market ORDER BY d.service, d.market";

/// See [`Dialect::packed_deployment_tail`]: the rows of [`PACKED_DEPLOYMENT_HISTORY`] for one
/// market, from an id on; author times read for those deployments alone.
pub(super) const PACKED_DEPLOYMENT_TAIL: &str = "WITH authored AS (
         SELECT deployment_id, string_agg(authored_at::text, ' ') AS times
         FROM deployment_commits WHERE deployment_id >= $3 GROUP BY deployment_id
     )
     SELECT string_agg(
        d.id::text || '|' || COALESCE(d.rollout_id::text, '') || '|' || d.kind || '|' || d.state || '|' ||
        d.started_at::text || '|' || d.finished_at::text || '|' || COALESCE(c.created_at::text, '') || '|' ||
        COALESCE(a.times, ''),
        E'\\n' ORDER BY d.id)
     FROM deployments d
     LEFT JOIN rollouts r ON r.id = d.rollout_id
     LEFT JOIN change_requests c ON c.id = r.change_id
     LEFT JOIN authored a ON a.deployment_id = d.id
     WHERE d.service = $1 AND d.market = $2 AND d.id >= $3
       AND d.finished_at IS NOT NULL AND d.interrupted = 0 AND d.state <> 'blocked'
     GROUP BY d.service, d.market";

#[cfg(test)]
mod tests {
    use super::*;

    /// TLS is asked for in the URL, as with libpq: `sslmode=require` encrypts the connection;
    /// `verify-full` against a server whose certificate no trusted authority signed is refused
    /// at open, saying so, without the URL's password. (Skipped when this PostgreSQL serves no
    /// TLS; Debian's serves it with its own snakeoil certificate.)
    #[tokio::test]
    async fn tls_is_asked_for_in_the_url_and_an_untrusted_certificate_is_refused() {
        let place = crate::testing::TestDb::new().await;
        let Some(url) = place.url() else { return };
        let store = place.open().await;
        let (ssl,): (String,) = sqlx::query_as("SHOW ssl").fetch_one(&store.pool).await.unwrap();
        if ssl != "on" {
            eprintln!("skipped: this PostgreSQL serves no TLS");
            return;
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        let dir = tempfile::tempdir().unwrap();
        let tls = crate::Store::open_with(dir.path(), Some(&format!("{url}{sep}sslmode=require")))
            .await
            .unwrap();
        let (encrypted,): (i32,) =
            sqlx::query_as("SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&tls.pool)
                .await
                .unwrap();
        assert_eq!(encrypted, 1, "the connection is encrypted");
        let with_password = url.replacen("postgres@", "postgres:hunter2@", 1);
        let refused = crate::Store::open_with(dir.path(), Some(&format!("{with_password}{sep}sslmode=verify-full")))
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("TLS") || refused.contains("certificate"), "{refused}");
        assert!(!refused.contains("hunter2"), "{refused}");
    }

    /// The SHA-384 of every landed PostgreSQL migration, as first committed: a database records
    /// these when it migrates and refuses to open if a file it applied has changed.
    const LANDED: &[(i64, &str)] = &[
        (
            1,
            "e8a01d120bb90e0d23acc6caccdf9796206f603c409daf809f08aeabe2367dd6f563fa0f1968e8ff69807d0e43796f69",
        ),
        (
            2,
            "78b36d73e67c671615559caef3fbd39a5672edb18afd880ce7610ed32698dbd8ce7c7216bb683901c0c9900f8b97335a",
        ),
        (
            3,
            "ad337b87c2421e116a05435fbcb07e14f88340d600c857314ee58cff3cad6ee0d518758a17361db296c2a96acfb4586d",
        ),
        (
            4,
            "41ca20e5bab767485efc72c4bd744c92332f05c0dbd32f8602cee3e4016e49b411abbfb6ea6c006e4f89e22f48e3e552",
        ),
        (
            5,
            "3aaa85f39bd035cfc7316490e32437cf634b6ab33f794a9d3217f28c55c639dc5a63cb57fbbaeee13da2a02536b17f21",
        ),
        (
            6,
            "320e1b016dd7cfb14eb4fb30cad14638a809012a53afd5b1640b5b5549c53a796de5e64f3117ca730ff8ea400f371775",
        ),
        (
            7,
            "80cc30194bb4d5af76012e1b06c0286d55720548610da55588b464bc53cd81a990679200ce1cbbcd9099987b0551c599",
        ),
        (
            8,
            "ee7edd924d441017a37c7591b4cc64f464db06684ea2cbbd5c902e3ce32aa6b540446658870e042555275e733c32f301",
        ),
        (
            9,
            "e512b3512f3120c6b4a981799fa06c2e49921db2ccc8ac89d87cefec5221ddbb282b4492b71387d3708a272a5fe01685",
        ),
        (
            10,
            "7b425a18bfae0a2ecbdd2e0ee088a0c50e488f2846b987f144ed7d4779f6f85be0cb3e085fe0c8d80ba701ee1bcbf1eb",
        ),
        (
            11,
            "0ac237259b60440135bf9a8455bb8c910f4eab507150e2b4acebec3bf6b918b2273652677b5f1dbf624c17f49f593564",
        ),
        (
            12,
            "a192c0a67285e34e01880e69295e90bd4099b6dd8db04f4e10c5b04167d7958530c918116344a346c1df23c20767c34e",
        ),
        (
            13,
            "426c32feb50252bd2e92da72280aae6bef36a4b84abcfc971c03380caf50a0ccc47b820ab19cfef7082ad1da28304a3f",
        ),
        (
            14,
            "de2f57edf8b86cb59840c8d0a2c6d1bcb52b97ae5c99cba524733b5ea33c4418a851481ec12a7c81e116cf623b210ef0",
        ),
        (
            15,
            "5a4a969d5b8f18ec6ea420b7267c69c505ca392976be053311caffd4b8e1ba87420d3b50169643018c1cc7236dfc35be",
        ),
        (
            16,
            "74878ff43e50637c1d559b1ec83d079f8b99a14a40bd7324a2e8caf278bfd5395349fc13fd40a65942db2b67ac9a6031",
        ),
        (
            17,
            "5d8badc1919f4299ac83604a2abeb899d427cdc97e18c5bb0ba3a17c561815662fc2d3cd1360d4dce6fb996b9777077a",
        ),
        (
            18,
            "a2fbb5db19f87d8bda8cfa7563b0515be2b26019b45152e93710237a58c9f1274846d844156d944d8540ea32a8f19f02",
        ),
        (
            19,
            "166aad42f8e8caf781425911316b202c8bf312a013d547ee999738bd8ab1ae4ceefb5efed18d52b27b7f7eae32a9afb8",
        ),
        (
            20,
            "2bd2db1fed0f8a0c180b9f782915df0c5869f25e3f6c99b5efd44ece20c29336fc0b331875eafcbac3d1458237b45672",
        ),
        (
            21,
            "72274b5770cff28bcc52d3f51deab26a11126be97b070dd6b34b12f9423dc1c0bcd79670c77a4afc5fb52c737610a84e",
        ),
        (
            22,
            "c7a40345dc0f6d2570d318a28044eb19bbbd8eb620ea04c0f10d13a0c47306a7a71b264c9673ef0ac696b1aaa4bb53d1",
        ),
        (
            25,
            "8dfafa893a80514ee30fae40e7695ae34a3432ae52c39ea123c81a55a59ed77aab5233f3b5facfd7eb3bc5ff29aa6393",
        ),
        (
            26,
            "af9e380fcba677ae1702076d37d4f1adbb5353febb5689624715cf48d82790eb7258849b6c838e3a7aa2e9d0af3087cc",
        ),
        (
            27,
            "77705ba502316a9e1216d9d2a2212de7cee9fde00f042a6269014b63a1005ddaefae77f92df405a55448cd0ce2b83374",
        ),
        (
            28,
            "294b7b05cd2726df3b6877be35bb0071b536f34e862a2c035575f1aed99769b73872154fe485df98f32ed83d6c3a5828",
        ),
        (
            29,
            "a7c074a51750d09b40dceb3d4d3a4c417aa161f10980b67b174d0545fe22cd9160b12bb49a4f8f49e879e5ad70eef817",
        ),
        (
            30,
            "345082a18d63749b04f2c568e58823d3c2971f360a530b02f246349430d433ff2075bdc297bdf5b55052cdb8a84b5be8",
        ),
        (
            31,
            "ffbfad78689248143d0d529b5b6c0c39851216bec41195ced03b01ca077129514680287f8c2a1ab0f3b7aeded73a66f2",
        ),
        (
            32,
            "8c59ad8d71aaf5446440de06387a3ddb84b1dbd345923c3fa424311d07c5747b43a49fd1f56a4a5b45d25dbf88654582",
        ),
        (
            33,
            "dbd449e014f673e2a666f2e9a40d828835763b5bcbfe0e117304c856959770923a522edb9c5a1768f5560f952e3cf1d4",
        ),
        (
            34,
            "9ae7e87e2a6c2fba8f514d2c3c7a52b176f975d798d5dfba270c476c21b141199ad4a2eb9bc24f7d27a33458e83ee3a0",
        ),
        (
            35,
            "f423f288a40d137dea6913a9c8a6c0f1b4cfc968ff97108aa95493f33ac1851a8f167de01ff3b9a7b78b117aecfd4823",
        ),
        (
            36,
            "22160f1e8a42a0f155720ce9b0444459e5c6ff28dd3b6fe8dbfa78045f14faf8fb657722c93c7698afc7d5e99ce2937b",
        ),
    ];

    #[test]
    fn landed_migrations_keep_the_checksums_databases_recorded() {
        let found: Vec<(i64, String)> = Dialect::Postgres
            .migrator()
            .migrations
            .iter()
            .map(|m| (m.version, hex::encode(&m.checksum)))
            .collect();
        for (version, checksum) in LANDED {
            let now = found.iter().find(|(v, _)| v == version).map(|(_, c)| c.as_str());
            assert_eq!(now, Some(*checksum), "migration {version} was changed or removed");
        }
        // Version N means the same tables on both backends: the same versions on both.
        let sqlite: Vec<i64> = Dialect::Sqlite
            .migrator()
            .migrations
            .iter()
            .map(|m| m.version)
            .collect();
        let postgres: Vec<i64> = found.iter().map(|(v, _)| *v).collect();
        assert_eq!(postgres, sqlite);
    }
}
