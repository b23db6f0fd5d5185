//! `tandem audit` against a real `tandem serve`: entries name the token and address of each
//! change, and `tandem audit verify` finds a row edited and a row deleted in the SQLite file.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, stderr};
use serde_json::Value;
use std::path::Path;

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
";

/// Runs `statements` on the server's database the way someone with the file would.
async fn tamper(db: &Path, statements: &[String]) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    for statement in statements {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test]
async fn verify_names_the_row_edited_and_the_row_deleted_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), PLATFORM);
    let out = server.cli(&["token", "create", "ci", "--role", "developer", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ci = made["secret"].as_str().unwrap().to_string();
    for title in ["Pay with iDEAL", "Free shipping", "Show VAT"] {
        let out = server.cli_as(&["idea", "add", title], &ci);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    // Who added the ideas, through which token, from where.
    let out = server.cli(&["audit", "--actor", "ci", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{page:#}");
    for e in entries {
        assert_eq!(e["kind"], "idea.created");
        assert_eq!(e["via"], format!("token/{}", made["id"]));
        assert_eq!(e["address"], "127.0.0.1");
    }
    let table = server.cli(&["audit", "--kind", "idea", "--limit", "2"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("idea.created") && text.contains("ci"), "{text}");
    assert!(text.contains("Older entries: add --before"), "{text}");

    let out = server.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("The audit log is intact"), "{said}");
    let head = said
        .lines()
        .find_map(|l| l.strip_prefix("Newest row: "))
        .unwrap()
        .to_string();

    // Someone with the file edits the first idea's entry and deletes the second's.
    let ids: Vec<i64> = entries.iter().rev().map(|e| e["id"].as_i64().unwrap()).collect();
    let (edited, deleted) = (ids[0], ids[1]);
    tamper(
        &dir.path().join("data/tandem.db"),
        &[
            "DROP TRIGGER events_append_only_update".into(),
            "DROP TRIGGER events_append_only_delete".into(),
            format!("UPDATE events SET data = '{{\"title\":\"Nothing to see\"}}' WHERE id = {edited}"),
            format!("DELETE FROM events WHERE id = {deleted}"),
        ],
    )
    .await;
    let out = server.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("row {edited} (idea.created on T-1) was edited")),
        "{said}"
    );
    assert!(said.contains(&format!("row {deleted} deleted")), "{said}");
    assert!(
        stderr(&out).contains(&format!("broken at row {edited}")),
        "{}",
        stderr(&out)
    );

    // Deleting the newest row breaks no link: the head kept elsewhere finds it.
    let (head_id, _) = head.split_once(':').unwrap();
    tamper(
        &dir.path().join("data/tandem.db"),
        &[format!("DELETE FROM events WHERE id >= {head_id}")],
    )
    .await;
    let out = server.cli(&["audit", "verify", "--head", &head]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("row {head_id} ")), "{said}");
    server.stop();
}
