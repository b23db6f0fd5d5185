//! Moving a team's whole history from SQLite to PostgreSQL (`tandem db copy`): every table,
//! row for row, in one PostgreSQL transaction, then checked table by table by row count and a
//! SHA-256 over the rows read back from both sides.
//!
//! Both stores are opened by the same build, so both are at the same migration version and
//! hold the same tables with the same columns in the same order (each backend's migrations
//! keep that promise; the copy checks it again and refuses if a table differs). The target must
//! be empty. PostgreSQL's catalog says each column's type (how a SQLite value is read: SQLite's
//! booleans are integers), the foreign keys (the order tables are filled in) and the primary
//! keys (the order rows are read in, for the checksums); identity sequences are set past the
//! copied ids afterwards, so new rows get new numbers.
//!
//! Blobs are files in the source's data folder, not rows (its `blobs` tables are empty): the
//! ones the copied rows reference are uploaded into the target's `blobs` tables in the same
//! transaction, each checked against its digest, so every server on the target reads them.

use crate::backend::{self, Builder, Conn, Dialect, Flag, Real};
use crate::shared_blobs::upload_blob;
use crate::{Result, Store, StoreError, now_ms};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// One table as copied: its name, rows, and the SHA-256 of its rows on each side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
    /// The rows of the source, in primary-key order, as the checksum reads them.
    pub source_sha256: String,
    /// The rows of the target, read back after the copy committed.
    pub target_sha256: String,
}

impl TableCopy {
    /// Whether both sides hold the same rows.
    pub fn matches(&self) -> bool {
        self.source_sha256 == self.target_sha256
    }
}

/// What a copy did, table by table (in the order they were filled), and the blobs it uploaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    pub tables: Vec<TableCopy>,
    pub blobs: BlobsCopied,
}

/// The blobs a copy uploaded: those the copied rows reference, from the source's data folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlobsCopied {
    /// Blobs uploaded (each hashed on the way and found equal to its digest).
    pub count: u64,
    /// Their bytes in all.
    pub bytes: u64,
    /// Referenced blobs the source's folder does not hold (already lost there: a log or
    /// artifact that no server can show).
    pub missing: Vec<String>,
}

impl CopyReport {
    /// Whether every table holds the same rows on both sides.
    pub fn verified(&self) -> bool {
        self.tables.iter().all(TableCopy::matches)
    }

    /// Rows copied in all.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// How a column's values are read and written: PostgreSQL's type, as the Any driver carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Boolean,
    Float,
    Text,
    Bytes,
}

impl Kind {
    fn of(table: &str, column: &str, pg_type: &str) -> Result<Self> {
        Ok(match pg_type {
            "bigint" | "integer" | "smallint" => Kind::Integer,
            "boolean" => Kind::Boolean,
            "double precision" | "real" => Kind::Float,
            "text" | "character varying" => Kind::Text,
            "bytea" => Kind::Bytes,
            other => {
                return Err(StoreError::Unsupported(format!(
                    "{table}.{column} is of type {other} on PostgreSQL, which the copy does not know"
                )));
            }
        })
    }
}

/// One table of the target as PostgreSQL's catalog describes it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    /// Primary-key columns (all columns when the table has none): the order rows are read in.
    order: Vec<String>,
    /// Columns filled by an identity sequence.
    identity: Vec<String>,
}

/// One value on its way from one database to the other.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Integer(Option<i64>),
    Boolean(Option<bool>),
    Float(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Value {
    fn read(row: &sqlx::any::AnyRow, at: usize, kind: Kind) -> std::result::Result<Self, sqlx::Error> {
        Ok(match kind {
            Kind::Integer => Value::Integer(row.try_get(at)?),
            Kind::Boolean => Value::Boolean(row.try_get::<Option<Flag>, _>(at)?.map(bool::from)),
            Kind::Float => Value::Float(row.try_get(at)?),
            Kind::Text => Value::Text(row.try_get(at)?),
            Kind::Bytes => Value::Bytes(row.try_get(at)?),
        })
    }

    fn bind(self, query: &mut Builder<'_>) {
        match self {
            Value::Integer(v) => query.push_bind(v),
            Value::Boolean(v) => query.push_bind(v),
            Value::Float(v) => query.push_bind(Real(v)),
            Value::Text(v) => query.push_bind(v),
            Value::Bytes(v) => query.push_bind(v),
        };
    }

    /// Feeds the checksum: a tag per kind and presence, then the value's bytes, so that no two
    /// different rows hash alike by running into each other.
    fn hash(&self, sha: &mut Sha256) {
        fn framed(sha: &mut Sha256, tag: u8, bytes: Option<&[u8]>) {
            match bytes {
                None => sha.update([tag, 0]),
                Some(b) => {
                    sha.update([tag, 1]);
                    sha.update((b.len() as u64).to_be_bytes());
                    sha.update(b);
                }
            }
        }
        match self {
            Value::Integer(v) => framed(sha, b'i', v.map(i64::to_be_bytes).as_ref().map(|b| &b[..])),
            Value::Boolean(v) => framed(sha, b'b', v.map(|b| [b as u8]).as_ref().map(|b| &b[..])),
            Value::Float(v) => framed(sha, b'f', v.map(|f| f.to_bits().to_be_bytes()).as_ref().map(|b| &b[..])),
            Value::Text(v) => framed(sha, b't', v.as_deref().map(str::as_bytes)),
            Value::Bytes(v) => framed(sha, b'y', v.as_deref()),
        }
    }
}

/// Tables holding shared blobs: filled from the source's folder, not from its (empty) rows.
const BLOB_TABLES: [&str; 2] = ["blobs", "blob_chunks"];

/// The blobs a source's rows reference; a chunked log's own digest names no file, nor does a
/// chunk kept in its row.
const REFERENCED_BLOBS: &str = "SELECT digest FROM artifacts UNION SELECT digest FROM caches
     UNION SELECT digest FROM log_chunks WHERE data IS NULL
     UNION SELECT log_digest FROM jobs WHERE log_digest IS NOT NULL
       AND log_digest NOT IN (SELECT log_digest FROM log_chunks)
     ORDER BY 1";

/// How many values one INSERT binds at most (PostgreSQL allows 65535).
const VALUES_PER_INSERT: usize = 8000;

impl Store {
    /// Copies every row of this store (SQLite) into `target` (PostgreSQL, empty), in one
    /// transaction on the target, then reads both back and compares each table's row count
    /// and SHA-256. The blobs (logs, artifacts, caches) the rows reference are uploaded from
    /// this store's data folder in the same transaction. Nothing is written to this store.
    pub async fn copy_into(&self, target: &Store) -> Result<CopyReport> {
        if self.dialect != Dialect::Sqlite || target.dialect != Dialect::Postgres {
            return Err(StoreError::Unsupported(format!(
                "a copy goes from SQLite to PostgreSQL; this one would go from {} to {}",
                self.dialect.name(),
                target.dialect.name()
            )));
        }
        let tables = postgres_tables(&target.pool).await?;
        let source_tables = sqlite_tables(&self.pool).await?;
        let wanted: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        let have: BTreeSet<&str> = source_tables.keys().map(String::as_str).collect();
        if wanted != have {
            let differ: Vec<&str> = wanted.symmetric_difference(&have).copied().collect();
            return Err(StoreError::Unsupported(format!(
                "the two databases do not hold the same tables ({}): open both with the same Tandem build",
                differ.join(", ")
            )));
        }
        for table in &tables {
            let columns: Vec<&str> = table.columns.iter().map(|(c, _)| c.as_str()).collect();
            if source_tables[&table.name] != columns {
                return Err(StoreError::Unsupported(format!(
                    "table {} has the columns ({}) on SQLite but ({}) on PostgreSQL",
                    table.name,
                    source_tables[&table.name].join(", "),
                    columns.join(", ")
                )));
            }
        }

        let mut tx = target.writer.begin().await?;
        for table in &tables {
            let (count,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", table.name))
                .fetch_one(&mut *tx)
                .await?;
            if count > 0 {
                return Err(StoreError::Conflict(format!(
                    "the PostgreSQL database is not empty: table {} holds {count} rows. Copy into a new database",
                    table.name
                )));
            }
        }
        // The blob tables are filled from the source's folder, below, not from its empty rows.
        let tables: Vec<Table> = tables
            .into_iter()
            .filter(|t| !BLOB_TABLES.contains(&t.name.as_str()))
            .collect();
        let mut source_sums = Vec::new();
        for table in &tables {
            source_sums.push(copy_table(&self.pool, &mut tx, table).await?);
        }
        let blobs = self.upload_referenced_blobs(&mut tx).await?;
        for table in &tables {
            for column in &table.identity {
                sqlx::query(&format!(
                    "SELECT 1 FROM (SELECT setval(pg_get_serial_sequence('{t}', '{column}'), MAX({column})) FROM {t} HAVING MAX({column}) IS NOT NULL) AS moved",
                    t = table.name
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;

        let mut report = CopyReport {
            tables: Vec::new(),
            blobs,
        };
        for (table, (rows, source_sha256)) in tables.iter().zip(source_sums) {
            let (target_rows, target_sha256) = checksum(&target.pool, table).await?;
            report.tables.push(TableCopy {
                table: table.name.clone(),
                rows: rows.max(target_rows),
                source_sha256: if rows == target_rows {
                    source_sha256
                } else {
                    format!("{rows} rows")
                },
                target_sha256: if rows == target_rows {
                    target_sha256
                } else {
                    format!("{target_rows} rows")
                },
            });
        }
        Ok(report)
    }
}

impl Store {
    /// Uploads into `target` (a transaction on PostgreSQL) every blob this store's rows
    /// reference, from its data folder.
    async fn upload_referenced_blobs(&self, target: &mut Conn) -> Result<BlobsCopied> {
        let digests: Vec<(String,)> = sqlx::query_as(REFERENCED_BLOBS).fetch_all(&self.pool).await?;
        let mut copied = BlobsCopied::default();
        let now = now_ms();
        for (digest,) in digests {
            let held = crate::blobs::is_digest(&digest)
                && tokio::fs::metadata(self.blobs.path_of(&digest))
                    .await
                    .is_ok_and(|m| m.is_file());
            if !held {
                copied.missing.push(digest);
                continue;
            }
            if let Some(bytes) = upload_blob(target, &self.blobs, &digest, now).await? {
                copied.count += 1;
                copied.bytes += bytes;
            }
        }
        Ok(copied)
    }
}

/// Reads `table` from the source in key order and inserts it into the target; returns the row
/// count and the checksum of what was read.
async fn copy_table(source: &backend::Pool, target: &mut Conn, table: &Table) -> Result<(u64, String)> {
    use futures_util::TryStreamExt;
    let select = select_sql(table, Dialect::Sqlite);
    let mut rows = sqlx::query(&select).fetch(source);
    let mut sha = Sha256::new();
    let mut count = 0u64;
    let per_insert = (VALUES_PER_INSERT / table.columns.len().max(1)).max(1);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_insert);
    while let Some(row) = rows.try_next().await? {
        count += 1;
        batch.push(read_row(&row, table, &mut sha)?);
        if batch.len() == per_insert {
            insert(target, table, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        insert(target, table, batch).await?;
    }
    Ok((count, hex::encode(sha.finalize())))
}

/// One row's values, column by column as `table` types them, fed to the checksum as read.
fn read_row(row: &sqlx::any::AnyRow, table: &Table, sha: &mut Sha256) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (at, (_, kind)) in table.columns.iter().enumerate() {
        let value = Value::read(row, at, *kind)?;
        value.hash(sha);
        values.push(value);
    }
    Ok(values)
}

async fn insert(target: &mut Conn, table: &Table, rows: Vec<Vec<Value>>) -> Result<()> {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| c.as_str()).collect();
    let mut query = Builder::new(format!("INSERT INTO {} ({}) VALUES ", table.name, columns.join(", ")));
    for (i, row) in rows.into_iter().enumerate() {
        query.push(if i == 0 { "(" } else { ", (" });
        for (j, value) in row.into_iter().enumerate() {
            if j > 0 {
                query.push(", ");
            }
            value.bind(&mut query);
        }
        query.push(")");
    }
    query.build().execute(&mut *target).await?;
    Ok(())
}

/// The row count and SHA-256 of `table` on the PostgreSQL database behind `pool`, read in
/// key order.
async fn checksum(pool: &backend::Pool, table: &Table) -> Result<(u64, String)> {
    use futures_util::TryStreamExt;
    let select = select_sql(table, Dialect::Postgres);
    let mut rows = sqlx::query(&select).fetch(pool);
    let mut sha = Sha256::new();
    let mut count = 0u64;
    while let Some(row) = rows.try_next().await? {
        read_row(&row, table, &mut sha)?;
        count += 1;
    }
    Ok((count, hex::encode(sha.finalize())))
}

/// The rows of `table` in key order. Text keys sort by their bytes on both sides: SQLite's
/// `BINARY` collation, PostgreSQL's `"C"` (whatever the database's own collation).
fn select_sql(table: &Table, dialect: Dialect) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| c.as_str()).collect();
    let order: Vec<String> = table
        .order
        .iter()
        .map(|c| {
            let text = table
                .columns
                .iter()
                .any(|(name, kind)| name == c && *kind == Kind::Text);
            match (dialect, text) {
                (Dialect::Postgres, true) => format!("{c} COLLATE \"C\""),
                _ => c.clone(),
            }
        })
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        table.name,
        order.join(", ")
    )
}

/// The tables of the SQLite database and their columns in order (sqlx's and SQLite's own
/// bookkeeping left out).
async fn sqlite_tables(pool: &backend::Pool) -> Result<BTreeMap<String, Vec<String>>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut tables = BTreeMap::new();
    for (name,) in names {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(pool)
            .await?;
        tables.insert(name, columns.into_iter().map(|(c,)| c).collect());
    }
    Ok(tables)
}

/// The tables of the PostgreSQL database (its current schema), parents before the tables
/// whose foreign keys point at them.
async fn postgres_tables(pool: &backend::Pool) -> Result<Vec<Table>> {
    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_identity::text = 'YES'
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await?;
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (k.conkey)
         WHERE k.contype = 'p' AND n.nspname = current_schema()
         ORDER BY c.relname, array_position(k.conkey, a.attnum)",
    )
    .fetch_all(pool)
    .await?;
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, f.relname::text
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_class f ON f.oid = k.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE k.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(pool)
    .await?;

    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, pg_type, identity) in columns {
        let kind = Kind::of(&table, &column, &pg_type)?;
        let entry = tables.entry(table.clone()).or_insert_with(|| Table {
            name: table.clone(),
            columns: Vec::new(),
            order: Vec::new(),
            identity: Vec::new(),
        });
        if identity {
            entry.identity.push(column.clone());
        }
        entry.columns.push((column, kind));
    }
    for (table, column) in keys {
        if let Some(t) = tables.get_mut(&table) {
            t.order.push(column);
        }
    }
    for t in tables.values_mut() {
        if t.order.is_empty() {
            t.order = t.columns.iter().map(|(c, _)| c.clone()).collect();
        }
    }

    // Parents first: a table is filled once every table it references is (a table that
    // references itself only waits for the others).
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables.keys().map(|t| (t.as_str(), BTreeSet::new())).collect();
    for (child, parent) in &references {
        if child != parent
            && let Some(set) = parents.get_mut(child.as_str())
        {
            set.insert(parent.as_str());
        }
    }
    let mut ordered = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    while done.len() < parents.len() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(t, p)| !done.contains(*t) && p.iter().all(|p| done.contains(p)))
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Unsupported(
                "the tables' foreign keys form a cycle: the copy cannot order them".into(),
            ));
        }
        for t in ready {
            done.insert(t);
            ordered.push(tables[t].clone());
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use crate::testing::{TestDb, release};
    use crate::{NewDeployment, Store};
    use tandem_core::role::Role;

    /// A SQLite store with a little of everything, copied into PostgreSQL: every table holds
    /// the same rows, the audit chain still verifies, numbers carry on, and a second copy into
    /// the same database is refused.
    #[tokio::test]
    async fn a_sqlite_history_moves_to_postgres_whole() {
        let target_place = TestDb::new().await;
        let Some(url) = target_place.url() else {
            eprintln!("skipped: set TANDEM_TEST_POSTGRES to copy into PostgreSQL");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let source = Store::open(dir.path()).await.unwrap();
        source.insert_idea("Pay with iDEAL", &["fr".into()]).await.unwrap();
        source.insert_token("ci", Role::Developer, "s3cret").await.unwrap();
        let v1 = release(&source).await;
        let d = source
            .insert_deployment(NewDeployment {
                rollout_id: None,
                service: "shop",
                market: "fr",
                release_id: v1.id,
            })
            .await
            .unwrap();
        source
            .insert_gate_result(
                d.id,
                &crate::NewGateResult {
                    gate: "error_ratio".into(),
                    passed: true,
                    value: Some(0.004),
                    bound: Some(0.01),
                    previous: None,
                    reason: "within".into(),
                },
            )
            .await
            .unwrap();

        // Blobs: an artifact, a log (one chunk), and an artifact whose file is already gone.
        let job = crate::NewJob {
            name: "a".into(),
            needs: vec![],
            steps: vec![],
        };
        source.start_run(v1.run_id, &[job]).await.unwrap();
        let job_id = source.list_jobs(v1.run_id).await.unwrap()[0].id;
        let binary = dir.path().join("shop");
        std::fs::write(&binary, vec![42u8; 70_000]).unwrap();
        let (artifact, size) = source.put_blob_file(&binary).await.unwrap();
        source
            .insert_artifact(v1.run_id, job_id, "shop", &artifact, size)
            .await
            .unwrap();
        let lost = "f".repeat(64);
        source
            .insert_artifact(v1.run_id, job_id, "lost", &lost, 3)
            .await
            .unwrap();
        let log_file = dir.path().join("job.log");
        std::fs::write(&log_file, "building\ndone\n").unwrap();
        let (log, _) = source.put_log(&log_file).await.unwrap();

        let target = Store::open_with(target_place.path(), Some(&url)).await.unwrap();
        let report = source.copy_into(&target).await.unwrap();
        assert!(report.verified(), "{report:?}");
        assert_eq!(
            report.blobs.count, 1,
            "the artifact (the log's chunk is in its row, copied with it): {report:?}"
        );
        assert_eq!(report.blobs.bytes, size, "{report:?}");
        assert_eq!(report.blobs.missing, [lost]);
        // A server on the target with a folder of its own reads them.
        let (_elsewhere, replica) = target_place.open_replica().await.unwrap();
        assert_eq!(replica.read_blob(&artifact).await.unwrap(), vec![42u8; 70_000]);
        assert_eq!(replica.read_log(&log, 0, 100).await.unwrap(), b"building\ndone\n");
        let rows = |name: &str| report.tables.iter().find(|t| t.table == name).map(|t| t.rows);
        assert_eq!(rows("ideas"), Some(1));
        assert_eq!(rows("gate_results"), Some(1));
        assert!(rows("events").unwrap() >= 4, "{report:?}");
        let ideas = report.tables.iter().position(|t| t.table == "ideas").unwrap();
        let runs = report.tables.iter().position(|t| t.table == "runs").unwrap();
        let releases = report.tables.iter().position(|t| t.table == "releases").unwrap();
        assert!(runs < releases && ideas < report.tables.len());

        let chain = target.verify_audit_chain().await.unwrap();
        assert!(chain.intact, "{:?}", chain.problems);
        assert_eq!(target.insert_idea("Next", &[]).await.unwrap().key, "T-2");
        let run = target.insert_run("shop", "c2", "main", "hand").await.unwrap();
        assert!(run.id > v1.run_id, "identity sequences carry on past the copied ids");
        assert!(target.find_token("s3cret").await.unwrap().is_some());
        let gates = target.list_gate_results(d.id).await.unwrap();
        assert_eq!(
            (gates[0].passed, gates[0].value, gates[0].previous),
            (true, Some(0.004), None)
        );

        let again = source.copy_into(&target).await.unwrap_err();
        assert!(again.to_string().contains("not empty"), "{again}");
        let backwards = target.copy_into(&source).await.unwrap_err();
        assert!(
            backwards.to_string().contains("from SQLite to PostgreSQL"),
            "{backwards}"
        );
    }
}
