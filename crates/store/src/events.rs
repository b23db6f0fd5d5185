//! The append-only events table: one row per state change, written in the change's transaction.
//! It is also the audit log: each row carries who acted (see [`crate::audit`]), from where, the
//! outcome, and a sha256 hash chained to the row before it (see `audit_log.rs` for reading and
//! verifying it).
//!
//! Chain invariant: rows are hashed in id order, each over the previous row's hash and its own
//! fields. It holds with concurrent writers because every write goes through the store's one
//! writer connection, and a row's id, prev hash and hash are chosen inside the transaction
//! that inserts it (PostgreSQL will need `pg_advisory_xact_lock` around the same steps).

use crate::audit::{self, Actor};
use crate::backend::{self, Conn};
use crate::{Result, Store, now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::FromRow;

#[derive(Debug, Clone, Default, Serialize, Deserialize, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub subject: String,
    /// JSON text with the change's details.
    pub data: String,
    /// Who acted: a token's name, `tandem` for the server's own work, `anonymous` for a caller
    /// without a valid credential; none on rows written before the audit log.
    pub actor: Option<String>,
    /// The credential used: `token/7`, a session.
    pub via: Option<String>,
    /// The caller's IP address, for work a request started.
    pub address: Option<String>,
    /// `ok`, or `refused` / `failed` for a request that changed nothing.
    pub outcome: String,
    /// The hash of the row before this one (`0…0` for the first row).
    pub prev_hash: Option<String>,
    /// sha256 over `prev_hash` and this row's fields.
    pub hash: Option<String>,
}

/// The `prev_hash` of the first row.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most rows sealed per statement batch (rows written by SQL triggers or before the audit log).
const SEAL_BATCH: i64 = 500;

/// The hash of one row: sha256 over a version tag, `prev`, and each field length-prefixed
/// (numbers as 8 big-endian bytes, absent text as one 0 byte), so no two rows encode alike.
pub(crate) fn chain_hash(prev: &str, row: &EventRow) -> String {
    fn text(h: &mut Sha256, value: Option<&str>) {
        match value {
            None => h.update([0u8]),
            Some(v) => {
                h.update([1u8]);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"tandem-audit-v1");
    text(&mut h, Some(prev));
    h.update(row.id.to_be_bytes());
    h.update(row.at.to_be_bytes());
    for field in [&row.kind, &row.subject, &row.data] {
        text(&mut h, Some(field));
    }
    for field in [&row.actor, &row.via, &row.address] {
        text(&mut h, field.as_deref());
    }
    text(&mut h, Some(&row.outcome));
    hex::encode(h.finalize())
}

/// Who to record: the request's caller (resolving the credential to its token), or the system.
pub(crate) async fn resolve_actor(
    conn: &mut Conn,
    actor: Option<Actor>,
) -> Result<(String, Option<String>, Option<String>)> {
    let Some(actor) = actor else {
        return Ok((audit::SYSTEM.to_string(), None, None));
    };
    let via = match (actor.via, actor.credential) {
        (Some(via), _) => Some(via),
        (None, Some(credential)) => {
            let token: Option<(i64,)> = sqlx::query_as("SELECT id FROM tokens WHERE hash = $1")
                .bind(&credential)
                .fetch_optional(&mut *conn)
                .await?;
            Some(match token {
                Some((id,)) => format!("token/{id}"),
                // Not a token (a session, once they exist): a short fingerprint, never the secret.
                None => format!("credential/{}", &credential[..12.min(credential.len())]),
            })
        }
        (None, None) => None,
    };
    let name = actor.name.unwrap_or_else(|| audit::ANONYMOUS.to_string());
    Ok((name, via, actor.address))
}

/// Hashes the rows after the last hashed one (written by a SQL trigger, a migration, or before
/// the audit log existed), in id order; rows without an actor get `fill`'s. Returns the last
/// row's id and hash.
pub(crate) async fn seal_unhashed(
    conn: &mut Conn,
    fill: Option<&(String, Option<String>, Option<String>)>,
) -> Result<(i64, String)> {
    // Nearly always the newest row is hashed, and there is nothing to seal: one read by key.
    let newest: Option<(i64, Option<String>)> = sqlx::query_as("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    match newest {
        None => return Ok((0, GENESIS.to_string())),
        Some((id, Some(hash))) => return Ok((id, hash)),
        Some((_, None)) => {}
    }
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM events WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (mut last_id, mut last_hash) = last.unwrap_or((0, GENESIS.to_string()));
    loop {
        let rows: Vec<EventRow> = sqlx::query_as("SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(last_id)
            .bind(SEAL_BATCH)
            .fetch_all(&mut *conn)
            .await?;
        let done = (rows.len() as i64) < SEAL_BATCH;
        for mut row in rows {
            if let (None, Some((name, via, address))) = (&row.actor, fill) {
                row.actor = Some(name.clone());
                row.via = via.clone();
                row.address = address.clone();
            }
            row.prev_hash = Some(last_hash.clone());
            let hash = chain_hash(&last_hash, &row);
            sqlx::query(
                "UPDATE events SET actor = $1, via = $2, address = $3, prev_hash = $4, hash = $5 WHERE id = $6",
            )
            .bind(&row.actor)
            .bind(&row.via)
            .bind(&row.address)
            .bind(&last_hash)
            .bind(&hash)
            .bind(row.id)
            .execute(&mut *conn)
            .await?;
            (last_id, last_hash) = (row.id, hash);
        }
        if done {
            return Ok((last_id, last_hash));
        }
    }
}

/// Appends an event; call it with the transaction that makes the change. The actor is the
/// current request's caller (see [`crate::audit`]) or the system.
pub(crate) async fn append_event(conn: &mut Conn, kind: &str, subject: &str, data: serde_json::Value) -> Result<()> {
    append_entry(conn, kind, subject, data, "ok").await.map(|_| ())
}

/// Appends one chained row with `outcome`; returns its id.
pub(crate) async fn append_entry(
    conn: &mut Conn,
    kind: &str,
    subject: &str,
    data: serde_json::Value,
    outcome: &str,
) -> Result<i64> {
    let who = resolve_actor(conn, audit::current()).await?;
    backend::lock_event_chain(conn).await?;
    // Work owned through a lease writes only while the lease is held. The lease row is
    // locked after the chain, in every transaction (a trigger that appends an event takes
    // the chain's lock earlier in its transaction), so the two never wait on each other in a
    // circle.
    if let Some(lease) = crate::leases::owner() {
        crate::leases::hold(conn, &lease, now_ms()).await?;
    }
    let (last_id, prev) = seal_unhashed(conn, Some(&who)).await?;
    let (actor, via, address) = who;
    let mut row = EventRow {
        id: last_id + 1,
        at: now_ms(),
        kind: kind.to_string(),
        subject: subject.to_string(),
        data: data.to_string(),
        actor: Some(actor),
        via,
        address,
        outcome: outcome.to_string(),
        prev_hash: Some(prev),
        hash: None,
    };
    let hash = chain_hash(row.prev_hash.as_deref().unwrap_or(GENESIS), &row);
    row.hash = Some(hash);
    sqlx::query(
        "INSERT INTO events (id, at, kind, subject, data, actor, via, address, outcome, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(row.id)
    .bind(row.at)
    .bind(&row.kind)
    .bind(&row.subject)
    .bind(&row.data)
    .bind(&row.actor)
    .bind(&row.via)
    .bind(&row.address)
    .bind(&row.outcome)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(conn)
    .await?;
    Ok(row.id)
}

/// Appends several events, in order, with one look at the chain and one insert: what
/// [`append_event`] for each would write, at a third of the statements (a job's end records
/// three).
pub(crate) async fn append_events(conn: &mut Conn, events: &[(String, String, serde_json::Value)]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let who = resolve_actor(conn, audit::current()).await?;
    backend::lock_event_chain(conn).await?;
    // As in `append_entry`: the lease after the chain.
    if let Some(lease) = crate::leases::owner() {
        crate::leases::hold(conn, &lease, now_ms()).await?;
    }
    let (mut last_id, mut prev) = seal_unhashed(conn, Some(&who)).await?;
    let (actor, via, address) = who;
    let at = now_ms();
    let mut query = backend::Builder::new(
        "INSERT INTO events (id, at, kind, subject, data, actor, via, address, outcome, prev_hash, hash) VALUES ",
    );
    for (i, (kind, subject, data)) in events.iter().enumerate() {
        let mut row = EventRow {
            id: last_id + 1,
            at,
            kind: kind.clone(),
            subject: subject.clone(),
            data: data.to_string(),
            actor: Some(actor.clone()),
            via: via.clone(),
            address: address.clone(),
            outcome: "ok".to_string(),
            prev_hash: Some(prev),
            hash: None,
        };
        let hash = chain_hash(row.prev_hash.as_deref().unwrap_or(GENESIS), &row);
        row.hash = Some(hash.clone());
        query.push(if i == 0 { "(" } else { ", (" });
        query.push_bind(row.id).push(", ").push_bind(row.at).push(", ");
        query.push_bind(row.kind).push(", ").push_bind(row.subject).push(", ");
        query.push_bind(row.data).push(", ").push_bind(row.actor).push(", ");
        query.push_bind(row.via).push(", ").push_bind(row.address).push(", ");
        query
            .push_bind(row.outcome)
            .push(", ")
            .push_bind(row.prev_hash)
            .push(", ");
        query.push_bind(row.hash).push(")");
        (last_id, prev) = (last_id + 1, hash);
    }
    query.build().execute(&mut *conn).await?;
    Ok(())
}

impl Store {
    /// Records something that happened outside any other change (a notification delivered
    /// or not), in its own transaction.
    pub async fn record_event(&self, kind: &str, subject: &str, data: serde_json::Value) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        append_event(&mut tx, kind, subject, data).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a request that was refused or failed (it changed nothing else): `outcome` is
    /// `refused` or `failed`.
    pub async fn record_refusal(
        &self,
        kind: &str,
        subject: &str,
        data: serde_json::Value,
        outcome: &str,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        append_entry(&mut tx, kind, subject, data, outcome).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The id of the newest event (0 when there is none): every state change appends one, so
    /// an unchanged id means unchanged state (caches are keyed by it).
    pub async fn last_event_id(&self) -> Result<i64> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }

    /// Events after `after_id`, oldest first.
    pub async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<EventRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
