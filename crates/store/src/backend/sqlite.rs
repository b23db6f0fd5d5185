//! The SQLite backend: how a data folder's database is opened (WAL, one writer connection,
//! readers beside it) and the statements only SQLite writes this way.

use super::{Dialect, Pool};
use crate::Result;
use sqlx::ConnectOptions;
use sqlx::Executor;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for SQLite's lock before giving up; writes are short, so 5 s means
/// something is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many read connections run beside the writer.
const READERS: u32 = 8;

/// How long a read connection may sit unused before it is closed: each holds its own page
/// cache (up to 2 MB) and thread, which an idle server should give back once a burst of page
/// views is over; opening one again costs well under a millisecond.
const READER_IDLE: Duration = Duration::from_secs(60);

/// What every connection sets on opening: the `Any` driver opens SQLite from a URL, which
/// carries no PRAGMAs, so they are set here (WAL itself is recorded in the file by the writer).
fn pragmas() -> String {
    format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {};",
        BUSY_TIMEOUT.as_millis()
    )
}

/// The `Any` options of the file `db`, read-only or read-write (and created if missing).
fn any_options(db: &Path, read_only: bool) -> Result<AnyConnectOptions> {
    let sqlite = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(!read_only)
        .read_only(read_only);
    Ok(AnyConnectOptions::from_url(&sqlite.to_url_lossy())?)
}

/// Opens (creating if needed) the database file `db` and applies pending migrations; returns
/// `(readers, writer)`. The writer is one connection: SQLite allows one writer at a time, and
/// funnelling every write through it makes writers queue there instead of failing with
/// SQLITE_BUSY when a read transaction upgrades to a write.
pub(crate) async fn open_pools(db: &Path) -> Result<(Pool, Pool)> {
    sqlx::any::install_default_drivers();
    let writer = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL;").await?;
                conn.execute(&*pragmas()).await?;
                Ok(())
            })
        })
        .connect_with(any_options(db, false)?)
        .await?;
    Dialect::Sqlite.migrate(&writer).await?;
    let readers = AnyPoolOptions::new()
        .max_connections(READERS)
        .idle_timeout(READER_IDLE)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(&*pragmas()).await?;
                Ok(())
            })
        })
        .connect_with(any_options(db, true)?)
        .await?;
    Ok((readers, writer))
}

/// See [`Dialect::packed_deployment_history`]: `group_concat(… ORDER BY …)` (SQLite 3.44) and
/// `char(10)` for the line break; `||` turns integers into text.
pub(super) const PACKED_DEPLOYMENT_HISTORY: &str = "SELECT d.service, d.market, group_concat(
        d.id || '|' || COALESCE(d.rollout_id, '') || '|' || d.kind || '|' || d.state || '|' ||
        d.started_at || '|' || d.finished_at || '|' || COALESCE(c.created_at, '') || '|' ||
        COALESCE((SELECT group_concat(authored_at, ' ') FROM deployment_commits WHERE deployment_id = d.id), ''),
        char(10) ORDER BY d.id)
     FROM deployments d
     LEFT JOIN rollouts r ON r.id = d.rollout_id
     LEFT JOIN change_requests c ON c.id = r.change_id
     WHERE d.finished_at IS NOT NULL AND d.interrupted = 0 AND d.state <> 'blocked'
     GROUP BY d.service, d.market ORDER BY d.service, d.market";

/// See [`Dialect::packed_deployment_tail`]: the rows of [`PACKED_DEPLOYMENT_HISTORY`] for one
/// market, from an id on.
pub(super) const PACKED_DEPLOYMENT_TAIL: &str = "SELECT group_concat(
        d.id || '|' || COALESCE(d.rollout_id, '') || '|' || d.kind || '|' || d.state || '|' ||
        d.started_at || '|' || d.finished_at || '|' || COALESCE(c.created_at, '') || '|' ||
        COALESCE((SELECT group_concat(authored_at, ' ') FROM deployment_commits WHERE deployment_id = d.id), ''),
        char(10) ORDER BY d.id)
     FROM deployments d
     LEFT JOIN rollouts r ON r.id = d.rollout_id
     LEFT JOIN change_requests c ON c.id = r.change_id
     WHERE d.service = $1 AND d.market = $2 AND d.id >= $3
       AND d.finished_at IS NOT NULL AND d.interrupted = 0 AND d.state <> 'blocked'
     GROUP BY d.service, d.market";

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-384 (what sqlx records in `_sqlx_migrations.checksum`) of every landed
    /// migration, as first committed. A data folder records these when it migrates and refuses
    /// to open if a file it applied has changed: a landed migration is never edited, and a move
    /// of the folder must keep its files byte for byte.
    const LANDED: &[(i64, &str)] = &[
        (
            1,
            "feed891d111a84376895361ed22d91242eb236c73c0665ef2c7e13539f7579f963b78e05bb41f3c80d6476287c648730",
        ),
        (
            2,
            "78b36d73e67c671615559caef3fbd39a5672edb18afd880ce7610ed32698dbd8ce7c7216bb683901c0c9900f8b97335a",
        ),
        (
            3,
            "87f3c39dc8e1a2b9523441f77748881a814318f8c4367995d9eea62b7dedf15baabedfe0d7af3beafb4eb3cdeb0cfbad",
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
            "8f4c88e4a4bccbd568546b1f2ea5f68fc2836f0d7110187a19927b761b9dcfb26a945cba0169d8e66dc26ca24d320a70",
        ),
        (
            9,
            "8f3d15020125e7d5d83260dacfe4bc4299b8bb15c4ce6b37bb82fee0189db1f2c90159f9b1ab68f928424066a94359ce",
        ),
        (
            10,
            "7b425a18bfae0a2ecbdd2e0ee088a0c50e488f2846b987f144ed7d4779f6f85be0cb3e085fe0c8d80ba701ee1bcbf1eb",
        ),
        (
            11,
            "05753281f214bf1ea907e9fe7da9f3e218a61ab9502628f7a883273df52dfc0ef53d6f90c4db6b24a71e957724fb0760",
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
            "72b5a24833ee8db7de5c2730ba3c955e5b73c6056fa57a8a0a419b653a00984fb8d4cb707572c33b866afb3cdbe9e112",
        ),
        (
            15,
            "fe6f3fe5d24cebe2f9546e5428b379ad8072e6b05e11f48f3f34c47d4fe8023c8725af8515bb79784e7269057f91adfc",
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
            "ebaf826960be3619ab1f1620046a84e25417c530c8312fbf39dda4ac3af480f97b610055a796bedb9cd3f7fb0a00a40f",
        ),
        (
            19,
            "7f25e22cff3733e2f283e0bc31952e20545a2b3d6323ac28022649fc07a98e294a39240b19c9e92a36e1832608cd7980",
        ),
        (
            20,
            "33f215aa9c8ad36ae78941ee75fa20b2e06b719162cea28641f443ba4711d3e83151013079832306320ac9e3ca4dc314",
        ),
        (
            21,
            "78417c1b74fd65386ff650221543f028d32c06f24e8f55ac3902a1be170b3dabb224d4b26f4170147a34f9ca35747061",
        ),
        (
            22,
            "103b91b5ced76a44e86c6a2216f1fb3196b657c666ae9ff7103be2c52a0ff23c83acf0378122dde35d1ba466ed613b96",
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
            "773d9ba2499acdc50e404b7b2ac239b22bc0b252a848b473ed6dd811c17c06da6978d8a8e3aabc591a9b6fbfe372babe",
        ),
        (
            28,
            "294b7b05cd2726df3b6877be35bb0071b536f34e862a2c035575f1aed99769b73872154fe485df98f32ed83d6c3a5828",
        ),
        (
            29,
            "ca609699de216c9cf60b4a6a2a23001914f4fee99285609af1c139e1425e435baba3845a3bce407756f3a19848646c02",
        ),
        (
            30,
            "e75897859cd70fe4b4c4f9e74255a72da64d4c987a15d48b712d356425435895f772357443e83f21e7eacceb27637d78",
        ),
        (
            31,
            "ffbfad78689248143d0d529b5b6c0c39851216bec41195ced03b01ca077129514680287f8c2a1ab0f3b7aeded73a66f2",
        ),
        (
            32,
            "230a5b0ab440e557017870c6adcc78fead4040baed585e77c06299ad1e7d6a3cbd94cd1aa15dd198cffe109d81d09cd8",
        ),
        (
            33,
            "24bed84f7bd93795e8906b290bc8576e158c0de0417ac9d6627f1b4018270de3fbc7b29d9af4f6df72bd5121f8692e74",
        ),
        (
            34,
            "37a6393d1087533812adf39390227c1f355ea42c08177702e49b73d04876165c9b4523d8e4fb7c72e8ee1c1abe1621c9",
        ),
        (
            35,
            "4a787afab683293b2aa90941795127b044a1d4f442e27bcec877f3dfd9436019bb11ffcd5bb9d88659f69659b5d5cff1",
        ),
        (
            36,
            "9fe5e931f7646f08ec214edd4ae49dd8f311e51beec6cec384234b4e0d1c00057a0b3ebce8ebaee0cc1500261d0617e1",
        ),
    ];

    #[test]
    fn landed_migrations_keep_the_checksums_databases_recorded() {
        let found: Vec<(i64, String)> = Dialect::Sqlite
            .migrator()
            .migrations
            .iter()
            .map(|m| (m.version, hex::encode(&m.checksum)))
            .collect();
        for (version, checksum) in LANDED {
            let now = found.iter().find(|(v, _)| v == version).map(|(_, c)| c.as_str());
            assert_eq!(now, Some(*checksum), "migration {version} was changed or removed");
        }
        let versions: Vec<i64> = found.iter().map(|(v, _)| *v).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    }

    /// A data folder whose database is `dump` (SQL text), as SQLite's own tools restore it.
    async fn database_from(dump: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("tandem.db"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::raw_sql(dump).execute(&pool).await.unwrap();
        pool.close().await;
        dir
    }

    #[tokio::test]
    async fn a_database_of_the_previous_release_upgrades_with_its_history() {
        let dir = database_from(include_str!("../../tests/data/tandem-0.1.0.sql")).await;
        let store = crate::Store::open(dir.path()).await.unwrap();
        assert_eq!(store.list_markets().await.unwrap().len(), 25);
        assert_eq!(store.list_rollouts(100).await.unwrap().len(), 3);
        let ideas: Vec<String> = store.list_ideas().await.unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(ideas.len(), 4, "{ideas:?}");
        let (deployments, incidents) = store.dora_history().await.unwrap();
        assert_eq!((deployments.len(), incidents.len()), (27, 2));
        let chain = store.verify_audit_chain().await.unwrap();
        assert!(chain.intact, "{:?}", chain.problems);
        assert_eq!(chain.rows, 196);
        // It carries on: the next idea follows the release's.
        let next = store.insert_idea("after the upgrade", &[]).await.unwrap();
        assert!(!ideas.contains(&next.key), "{} is new", next.key);
        assert!(store.verify_audit_chain().await.unwrap().intact);
    }

    #[tokio::test]
    async fn a_database_written_by_a_newer_tandem_is_refused_and_left_as_it_was() {
        let dir = database_from(include_str!("../../tests/data/tandem-0.1.0.sql")).await;
        let db = dir.path().join("tandem.db");
        let pool = sqlx::SqlitePool::connect_with(SqliteConnectOptions::new().filename(&db))
            .await
            .unwrap();
        // A migration of this build not applied yet (0034), one of a newer build applied.
        sqlx::raw_sql(
            "DROP TABLE flag_emergencies;
             DELETE FROM _sqlx_migrations WHERE version = 34;
             INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9001, 'from the future', TRUE, X'00', 1);",
        )
        .execute(&pool)
        .await
        .unwrap();
        // What a migration would change: the schema and the migrations applied.
        let state = async |pool: &sqlx::SqlitePool| -> Vec<(String, String)> {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL
                 UNION ALL SELECT 'migration', version || ':' || hex(checksum) FROM _sqlx_migrations
                 ORDER BY 1, 2",
            )
            .fetch_all(pool)
            .await
            .unwrap()
        };
        let before = state(&pool).await;
        pool.close().await;
        let err = crate::Store::open(dir.path()).await.unwrap_err().to_string();
        let newest = Dialect::Sqlite
            .migrator()
            .migrations
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap();
        assert!(
            err.contains(&format!(
                "the SQLite database was written by a newer Tandem: it has migration 9001, and this Tandem ({}) knows migrations up to {newest}",
                env!("CARGO_PKG_VERSION")
            )),
            "{err}"
        );
        assert!(err.contains("nothing was changed"), "{err}");
        let pool = sqlx::SqlitePool::connect_with(SqliteConnectOptions::new().filename(&db))
            .await
            .unwrap();
        assert!(
            state(&pool).await == before,
            "the database is as it was: 0034 was not applied either"
        );
    }

    #[tokio::test]
    async fn a_database_migrated_by_an_earlier_build_opens_and_carries_on() {
        // A data folder as a build before `id_counters` left it: ideas T-1 and T-2.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tandem.db");
        let options = SqliteConnectOptions::new().filename(&db).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let mut before = Dialect::Sqlite.migrator();
        before.migrations = before.migrations.iter().filter(|m| m.version < 26).cloned().collect();
        before.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO ideas (id, key, title, markets, created_at) VALUES (1, 'T-1', 'a', '[]', 1), (2, 'T-2', 'b', '[]', 2)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = crate::Store::open(dir.path()).await.unwrap();
        assert_eq!(store.insert_idea("c", &[]).await.unwrap().key, "T-3");
        let keys: Vec<String> = store.list_ideas().await.unwrap().into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["T-1", "T-2", "T-3"]);
    }
}
