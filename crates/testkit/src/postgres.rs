//! A PostgreSQL database of a test's own: created on the server `TANDEM_TEST_POSTGRES` names
//! (default `postgres://postgres@127.0.0.1:5432/test`, the machine's own), dropped when the
//! handle is.

use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming a PostgreSQL database tests may create databases from.
pub const POSTGRES_VAR: &str = "TANDEM_TEST_POSTGRES";

/// Where tests find PostgreSQL when [`POSTGRES_VAR`] is unset.
pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database; dropped (with any session still on it) when this is.
pub struct Database {
    admin: String,
    name: String,
    /// Its URL, for `--database`.
    pub url: String,
}

impl Database {
    /// Creates a database on the server [`POSTGRES_VAR`] names, or on [`DEFAULT_POSTGRES`].
    pub async fn create() -> Database {
        let admin = configured().unwrap_or_else(|| DEFAULT_POSTGRES.to_string());
        Database::create_on(admin).await
    }

    /// Creates a database only when [`POSTGRES_VAR`] names a server: for suites that run on
    /// PostgreSQL when asked and on SQLite otherwise.
    pub async fn create_if_configured() -> Option<Database> {
        Some(Database::create_on(configured()?).await)
    }

    /// Creates a database named for this process and a counter on the server at `admin`.
    async fn create_on(admin: String) -> Database {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "tandem_it_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {POSTGRES_VAR} (or {DEFAULT_POSTGRES}) is needed: {e}"));
        conn.execute(&*format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        conn.execute(&*format!("CREATE DATABASE {name}")).await.unwrap();
        conn.close().await.ok();
        let (base, _) = admin.rsplit_once('/').expect("a database URL ends in /database");
        let url = format!("{base}/{name}");
        Database { admin, name, url }
    }
}

/// The server [`POSTGRES_VAR`] names, if it is set.
fn configured() -> Option<String> {
    std::env::var(POSTGRES_VAR).ok().filter(|v| !v.is_empty())
}

impl Database {
    /// The host and port of the PostgreSQL server, as the URL names them.
    pub fn address(&self) -> std::net::SocketAddr {
        let rest = self.url.split_once("://").map(|(_, r)| r).unwrap_or(&self.url);
        let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
        let host = rest.split('/').next().unwrap();
        let host = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:5432")
        };
        let host = host.replace("localhost", "127.0.0.1");
        host.parse().unwrap_or_else(|e| panic!("{host}: {e}"))
    }

    /// This database's URL through 127.0.0.1:`port` (a [`crate::proxy::Proxy`] in between).
    pub fn url_through(&self, port: u16) -> String {
        let address = self.address();
        self.url.replacen(&address.to_string(), &format!("127.0.0.1:{port}"), 1)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = conn
                        .execute(&*format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = conn.close().await;
                }
            })
        })
        .join();
    }
}
