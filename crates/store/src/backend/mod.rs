//! The seam between the store's queries and the database that runs them (see `docs/store.md`).
//!
//! Every query of the store is written once, in SQL that SQLite and PostgreSQL both speak
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`, `IN` lists built with `QueryBuilder`), and
//! runs on the database named here, in one place: [`Db`] and its connection and pool. Where
//! the dialects differ, the statement lives in [`Dialect`], one method per difference, named
//! for what it does; each backend has its own migrations folder and its own way to connect.
//!
//! Today the one backend is SQLite. The PostgreSQL backend adds a `Dialect::Postgres`
//! variant (the compiler then lists every method that must answer for it), a
//! `migrations/postgres` folder, a `postgres.rs` beside `sqlite.rs`, and turns [`Db`] into
//! `sqlx::Any`; no method of `Store` changes its signature, so no caller moves.

mod sqlite;

pub(crate) use sqlite::open_pools;

/// The database every query runs on.
pub(crate) type Db = sqlx::Sqlite;
/// One connection to [`Db`] (a transaction dereferences to it).
pub(crate) type Conn = sqlx::SqliteConnection;
/// A pool of connections to [`Db`].
pub(crate) type Pool = sqlx::Pool<Db>;
/// A query assembled piece by piece (lists of bound values), for [`Db`].
pub(crate) type Builder<'a> = sqlx::QueryBuilder<'a, Db>;

/// The SQL dialect of the database behind a store: the one place that knows the statements
/// the backends write differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (3.44 or newer, as bundled by sqlx): the embedded default.
    Sqlite,
}

impl Dialect {
    /// The migrations of this backend, from its own folder.
    pub(crate) fn migrator(self) -> sqlx::migrate::Migrator {
        match self {
            Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        }
    }

    /// Every finished deployment, one row per `(service, market)`: its deployments packed as
    /// text in id order, one per line, `id|rollout|kind|state|started|finished|change
    /// opened|author times` (author times space-separated; empty fields for none). Needs an
    /// ordered string aggregate, which each dialect spells its own way.
    pub(crate) fn packed_deployment_history(self) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite::PACKED_DEPLOYMENT_HISTORY,
        }
    }
}

/// How many ids one `IN` list binds at most: well under SQLite's 32766 and PostgreSQL's 65535
/// bound values, and short enough for the planner.
pub(crate) const IDS_PER_QUERY: usize = 1000;

/// Appends `(…)` with one bound value per item: an `IN` list both dialects speak. An empty
/// list is `(NULL)`, which matches nothing (`IN ()` is SQLite's alone).
pub(crate) fn push_in_list<'a, T>(query: &mut Builder<'a>, items: impl IntoIterator<Item = T>)
where
    T: 'a + sqlx::Encode<'a, Db> + sqlx::Type<Db> + Send,
{
    query.push("(");
    let mut list = query.separated(", ");
    let mut empty = true;
    for item in items {
        list.push_bind(item);
        empty = false;
    }
    if empty {
        list.push("NULL");
    }
    list.push_unseparated(")");
}
