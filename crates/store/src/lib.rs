//! Tandem's persistence. Every query lives behind [`Store`]'s methods, so a second SQL backend
//! changes no caller. Every state change appends a row to `events` in the same transaction
//! (a transactional outbox): the live views read it, and it is the hash-chained audit log
//! (`audit` says who acts, `audit_log` reads and verifies it).
//!
//! Backends: SQLite (the embedded default, a file in the data folder) and PostgreSQL (a
//! database several servers share). Every query is written once in SQL both speak and runs on
//! `sqlx::Any`, named in one place, `backend` (`Db`, `Conn`, `Pool`); what the dialects write
//! differently is a method of `backend::Dialect`, one per difference; each backend has its
//! own migrations folder (`migrations/sqlite`, `migrations/postgres`) and its own way to
//! connect. Numbers handed out in order (idea keys, versions) come from `counters`, safe with
//! several writers. `copy` moves a SQLite history into PostgreSQL (see `docs/store.md`).

pub mod agents;
pub mod audit;
mod audit_log;
mod backend;
#[cfg(any(test, feature = "bench"))]
mod bench;
mod blobs;
mod caches;
mod catalog;
mod configs;
mod copy;
mod counters;
mod decisions;
mod deliveries;
mod dora;
mod dora_state;
mod events;
mod flag_emergencies;
mod flags;
mod flow;
mod gc;
mod handoffs;
mod ideas;
pub mod incident_history;
mod incidents;
pub mod launches;
pub mod leases;
mod live_logs;
mod logs;
mod market_list;
mod matrix;
mod monitor;
mod processes;
mod releases;
mod rollouts;
mod runs;
mod secret_key;
mod secrets;
mod sessions;
mod shared_blobs;
pub mod signals;
mod tokens;

pub use audit_log::{AUDIT_PAGE_MAX, AuditFilter, AuditPage, ChainProblem, ChainReport};
pub use blobs::BlobStore;
pub use catalog::{MarketRow, ServiceRow, WaveRow};
pub use configs::{
    ChangeReviewRow, ChangeRevisionRow, ChangeRow, ConfigVersionRow, MarketConfigRow, NewChange, NewConfigVersion,
};
pub use copy::{BlobsCopied, CopyReport, TableCopy};
pub use decisions::{DecisionRow, GateResultRow, MarketGateRow, NewDecision, NewGateResult};
pub use deliveries::{Claim, DeliveryRow, NewDelivery};
pub use dora::DeploymentCommit;
pub use dora_state::{DoraHistory, DoraRefresh, DoraState};
pub use events::EventRow;
pub use flag_emergencies::{FLAG_EMERGENCIES_MAX, FlagEmergencyFilter, FlagEmergencyRow, NewFlagEmergency};
pub use flags::FlagVersionRow;
pub use flow::FlowFacts;
pub use gc::GcReport;
pub use handoffs::HandoffRow;
pub use ideas::{CommitRow, IdeaRow, NewCommit};
pub use incidents::{IncidentRow, NewIncident};
pub use logs::PackedLog;
pub use market_list::{ListedMarket, MARKET_SEARCH_MAX, MarketFilter, WaveCounts};
pub use matrix::MarketDeployments;
pub use monitor::{MarketHealthRow, ProbeRecord, SeriesPoint, StateCounts};
pub use processes::{MarketProcessRow, NewMarketProcess, ProcessIdentity};
pub use releases::{ReleaseArtifact, ReleaseRow};
pub use rollouts::{ConfigPayload, DeploymentRow, NewDeployment, RolloutRow};
pub use runs::{ArtifactRow, JobRow, NewJob, RunFilter, RunRow, StepRow};
pub use secret_key::{KeyError, SecretKey};
pub use secrets::{SecretRow, SecretValue};
pub use sessions::{LoginCodeRow, NewSession, SessionRow};
pub use shared_blobs::BLOB_CHUNK;
pub use tokens::TokenRow;

use backend::{Dialect, Pool};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt data in {what}: {message}")]
    Corrupt { what: String, message: String },
    #[error("{0}")]
    Unsupported(String),
}

impl StoreError {
    pub fn not_found(what: impl Into<String>) -> Self {
        StoreError::NotFound { what: what.into() }
    }

    /// Whether the database could not be reached (down, restarting, the network gone, no free
    /// connection in time), rather than refusing a statement: a caller may try again shortly,
    /// and a server answers 503. Nothing was written: a transaction that loses its connection
    /// is rolled back by the database.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => database_unavailable(e),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => database_unavailable(e),
            _ => false,
        }
    }
}

/// See [`StoreError::is_unavailable`]. PostgreSQL's "the server is shutting down" and "cannot
/// connect now" (class 57P) and "too many connections" (53300) count as unreachable.
fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code == "53300" || code.starts_with("08")),
        _ => false,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database and the blob files of one data folder.
#[derive(Clone, Debug)]
pub struct Store {
    /// Readers: WAL lets them run beside the writer.
    pool: Pool,
    /// Writers: on SQLite, the one writer connection (see `backend/sqlite.rs`).
    writer: Pool,
    /// The statements the backend writes its own way.
    dialect: Dialect,
    blobs: BlobStore,
    data_dir: PathBuf,
    /// PostgreSQL's URL, for connections of their own (signal listeners); `None` on SQLite.
    url: Option<SecretUrl>,
    /// How many times [`Store::load_platform`] read the whole platform: a rollout must read it
    /// a bounded number of times, not once per market (tests read it).
    platform_loads: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How many statements [`Store::record_probes`] wrote: a few per batch of probes, not a few
    /// per probe (tests and `/metrics` read it).
    probe_statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How many statements [`Store::live_and_deploying_of`] ran: one per batch of markets the
    /// monitor was told about, not one per market (tests read it).
    market_reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// A database URL, which may hold a password: never printed.
#[derive(Clone)]
struct SecretUrl(std::sync::Arc<str>);

impl SecretUrl {
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(database URL)")
    }
}

impl Store {
    /// Opens (creating if needed) the data folder: `tandem.db` (SQLite, WAL) and `blobs/`,
    /// and applies pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Self::open_with(data_dir, None).await
    }

    /// Opens the data folder's blobs and the database: the folder's own SQLite file when
    /// `database` is `None`, else the PostgreSQL database at that `postgres://` URL. Applies
    /// pending migrations. Errors never repeat the URL (it may hold a password).
    pub async fn open_with(data_dir: &Path, database: Option<&str>) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            context: format!("cannot create data folder {}", data_dir.display()),
            source,
        })?;
        let (dialect, (pool, writer)) = match database {
            None => (
                Dialect::Sqlite,
                backend::open_sqlite(&data_dir.join("tandem.db")).await?,
            ),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (Dialect::Postgres, backend::open_postgres(url).await?)
            }
            Some(url) => {
                let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("(none)");
                return Err(StoreError::Unsupported(format!(
                    "the database URL's scheme `{scheme}` is not one Tandem speaks: give postgres://user@host:port/database, or no URL for SQLite in the data folder"
                )));
            }
        };
        // Rows from before the audit log, or written by a migration, join the chain now.
        // Under the chain's lock: another server sharing the database may be appending now.
        let mut tx = writer.begin().await?;
        backend::lock_event_chain(&mut tx).await?;
        events::seal_unhashed(&mut tx, None).await?;
        tx.commit().await?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        Ok(Self {
            pool,
            writer,
            dialect,
            blobs,
            data_dir: data_dir.to_path_buf(),
            url: database.map(|u| SecretUrl(u.into())),
            platform_loads: Default::default(),
            probe_statements: Default::default(),
            market_reads: Default::default(),
        })
    }

    /// The database behind this store, as people name it: `SQLite` or `PostgreSQL`.
    pub fn backend_name(&self) -> &'static str {
        self.dialect.name()
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Closes the pool, waiting for queries under way.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Wraps `fut` (about to be spawned) so it keeps the current task's context: the audit
/// actor (work a person started is still theirs, see [`audit`]) and the lease it works
/// under (see [`leases::as_owner`]).
pub fn inherit<F: std::future::Future>(fut: F) -> impl std::future::Future<Output = F::Output> {
    audit::inherit(leases::inherit(fut))
}

/// Now, in Unix milliseconds: the unit of every time the store keeps.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

// Rows decode their states with `#[sqlx(try_from = "String")]` (the enums' `FromStr`, in one
// place: `tandem_core::state`). An unknown text is a `ColumnDecode` error naming the column;
// sqlx's derive cannot print the enum's error from its generic code, so the value is not in
// the message. Implementing `sqlx::Type`/`Decode`/`Encode` for the enums would name it, but
// the orphan rule puts that in core (behind an optional `sqlx` feature): a later step.

/// A list of states for SQL's `IN (…)`, quoted: `'succeeded', 'halted'`. The texts come from
/// the state enums of `tandem_core::state`, never from input.
pub(crate) fn sql_states(states: impl IntoIterator<Item = &'static str>) -> String {
    states
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::role::Role;

    #[tokio::test]
    async fn reopening_a_data_folder_keeps_its_data_and_applies_migrations_again() {
        let (dir, store) = testing::store().await;
        store.insert_idea("Pay with iDEAL", &[]).await.unwrap();
        store.insert_token("admin", Role::Admin, "s").await.unwrap();
        let digest = store.blobs().put_bytes(b"log").unwrap();
        store.close().await;

        let again = dir.open().await;
        assert_eq!(again.list_ideas().await.unwrap()[0].key, "T-1");
        assert!(again.find_token("s").await.unwrap().is_some());
        assert_eq!(again.blobs().read(&digest).unwrap(), b"log");
        assert_eq!(again.insert_idea("Next", &[]).await.unwrap().key, "T-2");
    }

    /// The SQL that names a state by its text (`state = 'live'`, `state IN ('queued', …)`)
    /// names one that `tandem_core::state` knows: literal SQL stays held to the enums.
    #[test]
    fn states_written_in_sql_are_the_enums_texts() {
        use tandem_core::state::*;
        let known: Vec<&str> = [
            RolloutState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            DeploymentState::ALL.iter().map(|s| s.as_str()).collect(),
            RunState::ALL.iter().map(|s| s.as_str()).collect(),
            JobState::ALL.iter().map(|s| s.as_str()).collect(),
            StepState::ALL.iter().map(|s| s.as_str()).collect(),
            ChangeState::ALL.iter().map(|s| s.as_str()).collect(),
            IncidentState::ALL.iter().map(|s| s.as_str()).collect(),
            LaunchState::ALL.iter().map(|s| s.as_str()).collect(),
            HealthState::ALL.iter().map(|s| s.as_str()).collect(),
        ]
        .concat();
        let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if !path.ends_with("src/lib.rs") {
                    files.push(path); // (lib.rs holds this test's own patterns)
                }
            }
        }
        let mut seen = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices("state = '").chain(text.match_indices("state IN ('")) {
                let rest = &text[at..];
                let end = rest
                    .find(')')
                    .filter(|_| rest.starts_with("state IN"))
                    .unwrap_or_else(|| {
                        rest["state = '".len()..]
                            .find('\'')
                            .map(|i| i + "state = '".len() + 1)
                            .unwrap_or(rest.len())
                    });
                for value in rest[..end].split('\'').skip(1).step_by(2) {
                    assert!(known.contains(&value), "{}: `{value}` is no state", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen > 20, "only {seen} states found in the SQL");
    }

    #[tokio::test]
    async fn a_data_folder_that_cannot_be_made_is_named() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = Store::open(&file.path().join("data")).await.unwrap_err();
        assert!(err.to_string().contains("cannot create data folder"), "{err}");
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! The store's tests run on the backend `TANDEM_TEST_POSTGRES` names: unset, each test
    //! gets a SQLite file in a temporary folder; set to a PostgreSQL URL (an existing database
    //! Tandem may create databases from, e.g. `postgres://postgres@127.0.0.1:5432/test`), each
    //! test gets a database of its own, created for it and dropped after it. `.ci/run` runs
    //! the suite both ways: one conformance suite for both backends.
    use super::*;
    use tandem_testkit::postgres::Database;

    /// One test's place: its data folder (blobs, and SQLite's file) and, on PostgreSQL, its
    /// own database, dropped when this is.
    pub struct TestDb {
        dir: tempfile::TempDir,
        postgres: Option<Database>,
    }

    impl TestDb {
        /// A fresh place on the backend under test.
        pub async fn new() -> Self {
            Self {
                dir: tempfile::tempdir().unwrap(),
                postgres: Database::create_if_configured().await,
            }
        }

        /// The data folder.
        pub fn path(&self) -> &Path {
            self.dir.path()
        }

        /// The URL of this test's database, on PostgreSQL.
        pub fn url(&self) -> Option<String> {
            self.postgres.as_ref().map(|db| db.url.clone())
        }

        /// Opens a store on this place (again, if one is open: both share the database).
        pub async fn open(&self) -> Store {
            Store::open_with(self.path(), self.url().as_deref()).await.unwrap()
        }

        /// On PostgreSQL, another server's store: this place's database with a data folder of
        /// its own (returned with it). `None` on SQLite, where a database is one folder's.
        pub async fn open_replica(&self) -> Option<(tempfile::TempDir, Store)> {
            let url = self.url()?;
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open_with(dir.path(), Some(&url)).await.unwrap();
            Some((dir, store))
        }
    }

    /// A fresh store on the backend under test.
    pub async fn store() -> (TestDb, Store) {
        let place = TestDb::new().await;
        let store = place.open().await;
        (place, store)
    }

    /// A release of `shop` (a one-job pipeline) from a run at commit `c1`.
    pub async fn release(store: &Store) -> ReleaseRow {
        let spec = tandem_core::pipeline::parse_service_spec(
            "t.yml",
            "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
        )
        .unwrap();
        let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
        store.insert_release("shop", "c1", run.id, &spec).await.unwrap()
    }
}
