//! The seam between the store's queries and the database that runs them (see `docs/store.md`).
//!
//! Every query of the store is written once, in SQL that SQLite and PostgreSQL both speak
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`, `IN` lists built with `QueryBuilder`), and
//! runs on the database named here, in one place: [`Db`] and its connection and pool. Where
//! the dialects differ, the statement lives in [`Dialect`], one method per difference, named
//! for what it does; each backend has its own migrations folder and its own way to connect.
//!
//! Two backends: SQLite (`sqlite.rs`, the embedded default: a file in the data folder) and
//! PostgreSQL (`postgres.rs`, for several servers on one database). [`Db`] is `sqlx::Any`, so
//! each query is compiled once and the backend is picked at run time from the URL; the values
//! that cross it are `bool`, integers, `f64`, text and bytes (see [`Flag`] for booleans).

mod postgres;
mod sqlite;

pub(crate) use postgres::open_pools as open_postgres;
pub(crate) use sqlite::open_pools as open_sqlite;

/// The database every query runs on.
pub(crate) type Db = sqlx::Any;
/// One connection to [`Db`] (a transaction dereferences to it).
pub(crate) type Conn = sqlx::AnyConnection;
/// A pool of connections to [`Db`].
pub(crate) type Pool = sqlx::Pool<Db>;

/// The SQL dialect of the database behind a store: the one place that knows the statements
/// the backends write differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (3.44 or newer, as bundled by sqlx): the embedded default.
    Sqlite,
    /// PostgreSQL (15 or newer): several Tandem servers on one database.
    Postgres,
}

impl Dialect {
    /// The migrations of this backend, from its own folder.
    pub(crate) fn migrator(self) -> sqlx::migrate::Migrator {
        match self {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
        }
    }

    /// Applies the migrations this build has and the database lacks. A database written by a
    /// newer Tandem (a migration this build does not know) or by another build (a migration
    /// that differs) is refused before anything is changed, with what to do.
    pub(crate) async fn migrate(self, pool: &Pool) -> crate::Result<()> {
        let migrator = self.migrator();
        let newest = migrator.migrations.iter().map(|m| m.version).max().unwrap_or(0);
        let name = self.name();
        let version = env!("CARGO_PKG_VERSION");
        match migrator.run(pool).await {
            Ok(()) => Ok(()),
            Err(sqlx::migrate::MigrateError::VersionMissing(v)) => Err(crate::StoreError::Unsupported(format!(
                "the {name} database was written by a newer Tandem: it has migration {v}, and this Tandem ({version}) knows migrations up to {newest}. Run the newer Tandem, or restore a backup made before the upgrade; nothing was changed"
            ))),
            Err(sqlx::migrate::MigrateError::VersionMismatch(v)) => Err(crate::StoreError::Unsupported(format!(
                "the {name} database's migration {v} is not this Tandem's ({version}): it was written by another build. Run the build that wrote it; nothing was changed"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Every finished deployment, one row per `(service, market)`: its deployments packed as
    /// text in id order, one per line, `id|rollout|kind|state|started|finished|change
    /// opened|author times` (author times space-separated; empty fields for none). Needs an
    /// ordered string aggregate, which each dialect spells its own way.
    pub(crate) fn packed_deployment_history(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::PACKED_DEPLOYMENT_HISTORY,
            Dialect::Postgres => postgres::PACKED_DEPLOYMENT_HISTORY,
        }
    }

    /// Like [`Dialect::packed_deployment_history`], for one market of one service (`$1`, `$2`)
    /// and its deployments from id `$3` on: one row, or none.
    pub(crate) fn packed_deployment_tail(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::PACKED_DEPLOYMENT_TAIL,
            Dialect::Postgres => postgres::PACKED_DEPLOYMENT_TAIL,
        }
    }

    /// The name of the backend, as logs and errors say it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }
}

/// Takes the events chain for the rest of the transaction. Each event's id and hash follow
/// the last one's, so two writers must not append at once: SQLite has one writer anyway;
/// PostgreSQL takes a transaction-scoped advisory lock (released at commit or rollback).
pub(crate) async fn lock_event_chain(conn: &mut Conn) -> crate::Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS taken")
            .bind(EVENT_CHAIN_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The advisory lock key of the events chain ("tandem" and a 1, as a number). Migration 0001
/// of PostgreSQL takes it too (as 32758224057101569, in `events_next_id`): never change it.
const EVENT_CHAIN_LOCK: i64 = 0x0074_616e_6465_6d01;

/// How many ids one `IN` list binds at most: well under SQLite's 32766 and PostgreSQL's 65535
/// bound values, and short enough for the planner.
pub(crate) const IDS_PER_QUERY: usize = 1000;

/// Appends `(…)` with one bound value per item: an `IN` list both dialects speak. An empty
/// list is `(NULL)`, which matches nothing (`IN ()` is SQLite's alone).
pub(crate) fn push_in_list<'a, T>(query: &mut Builder<'a>, items: impl IntoIterator<Item = T>)
where
    T: 'a + sqlx::Encode<'a, Db> + sqlx::Type<Db>,
{
    query.push("(");
    let mut empty = true;
    for item in items {
        if !empty {
            query.push(", ");
        }
        query.push_bind(item);
        empty = false;
    }
    if empty {
        query.push("NULL");
    }
    query.push(")");
}

/// A query assembled piece by piece (lists of bound values), for [`Db`]. sqlx's own
/// `QueryBuilder` writes `?` for each value under `Any` (PostgreSQL wants `$1`), so this one
/// numbers them, then hands the text and the values to a `QueryBuilder` to run.
pub(crate) struct Builder<'a> {
    sql: String,
    args: sqlx::any::AnyArguments<'a>,
    built: Option<sqlx::QueryBuilder<'a, Db>>,
}

impl<'a> Builder<'a> {
    /// A query starting with `sql`.
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            args: Default::default(),
            built: None,
        }
    }

    /// Appends SQL text (never a value from input: bind those).
    pub(crate) fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write;
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder (`$n`) and binds `value` to it.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'a + sqlx::Encode<'a, Db> + sqlx::Type<Db>,
    {
        use sqlx::Arguments;
        // Encoding into `Any`'s buffer only copies the value: it cannot fail.
        self.args.add(value).expect("a value sqlx::Any encodes");
        let n = self.args.len();
        self.push(format_args!("${n}"))
    }

    /// The query, ready to run.
    pub(crate) fn build(&mut self) -> sqlx::query::Query<'_, Db, sqlx::any::AnyArguments<'a>> {
        let sql = std::mem::take(&mut self.sql);
        let args = std::mem::take(&mut self.args);
        self.built.insert(sqlx::QueryBuilder::with_arguments(sql, args)).build()
    }

    /// The query, ready to run, its rows read as `T`.
    pub(crate) fn build_query_as<'q, T>(&'q mut self) -> sqlx::query::QueryAs<'q, Db, T, sqlx::any::AnyArguments<'a>>
    where
        T: sqlx::FromRow<'q, sqlx::any::AnyRow>,
    {
        let sql = std::mem::take(&mut self.sql);
        let args = std::mem::take(&mut self.args);
        self.built
            .insert(sqlx::QueryBuilder::with_arguments(sql, args))
            .build_query_as()
    }
}

/// An optional `f64` to bind. sqlx 0.8's `Any` hands PostgreSQL a missing `f64` as a `real`
/// (4-byte) NULL; PostgreSQL then keeps the prepared statement's parameter as `real`, and the
/// next call that binds a number (8 bytes) is refused ("incorrect binary data format"). This
/// binds a missing value as a `double precision` NULL. Bind every `Option<f64>` through it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Real(pub Option<f64>);

impl sqlx::Type<Db> for Real {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<Db>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, Db> for Real {
    fn encode_by_ref(
        &self,
        buf: &mut <Db as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(value) => <f64 as sqlx::Encode<'q, Db>>::encode_by_ref(&value, buf),
            // `Any` swaps the two float NULLs when it converts for PostgreSQL: a missing `f32`
            // arrives as a double precision NULL (on SQLite, a NULL is a NULL). The store's
            // test `gate_results_with_and_without_figures_are_kept_as_given` fails if sqlx
            // changes this.
            None => <Option<f32> as sqlx::Encode<'q, Db>>::encode_by_ref(&None, buf),
        }
    }
}

/// A boolean column as both backends hand it over: PostgreSQL's `BOOLEAN` arrives as a
/// boolean, SQLite's (an integer, 0 or 1) as an integer. Rows decode such a column with
/// `#[sqlx(try_from = "Flag")]` into a plain `bool`; binding a `bool` works on both as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl sqlx::Type<Db> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<Db>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <bool as sqlx::Type<Db>>::compatible(ty) || <i64 as sqlx::Type<Db>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Db> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef;
        let is_bool = value.type_info().kind() == sqlx::any::AnyTypeInfoKind::Bool;
        if is_bool {
            Ok(Flag(<bool as sqlx::Decode<Db>>::decode(value)?))
        } else {
            Ok(Flag(<i64 as sqlx::Decode<Db>>::decode(value)? != 0))
        }
    }
}
