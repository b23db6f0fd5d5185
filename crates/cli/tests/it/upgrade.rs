//! Versions and upgrades as an operator meets them: `tandem --version` names the commit the
//! binary was built from, and `tandem serve` on a database written by a newer Tandem refuses to
//! start, saying why and what to do, without touching it.

#![allow(clippy::unwrap_used)]

use crate::common::{stderr, tandem};
use std::process::Command;

#[test]
fn tandem_version_names_the_release_and_the_commit() {
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap();
    let out = tandem(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("tandem {} (commit {})", env!("CARGO_PKG_VERSION"), head.trim())
    );
}

#[tokio::test]
async fn a_server_refuses_a_database_written_by_a_newer_tandem() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("tandem.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", db.display()))
        .await
        .unwrap();
    // As sqlx keeps its migrations, with one this build does not have.
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
           installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
           checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
           VALUES (9001, 'from the future', TRUE, X'00', 1);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let platform = dir.path().join("platform.yml");
    std::fs::write(
        &platform,
        "markets:\n  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-local-agent", "--platform"])
        .arg(&platform)
        .arg("--data-dir")
        .arg(&data)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains("the SQLite database was written by a newer Tandem: it has migration 9001"),
        "{said}"
    );
    assert!(
        said.contains("Run the newer Tandem, or restore a backup made before the upgrade; nothing was changed"),
        "{said}"
    );
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let tables: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(tables, [("_sqlx_migrations".to_string(),)], "nothing was migrated");
}
