//! Leases: who owns a piece of work that must happen once while several servers share one
//! database, with a fencing number (migration 0028; see `docs/store.md`).
//!
//! A server [takes](Store::take_lease) a free or expired lease and gets its fence, one more
//! than the last holder's; it [renews](Store::renew_lease) it well before it expires and
//! [releases](Store::release_lease) it when it stops. Every write it makes as owner runs
//! [`hold`] in the same transaction first: the lease row is locked (PostgreSQL) or the single
//! writer is held (SQLite) until commit, and the write goes through only if the row still
//! names that fence and has not expired. A server that lost its lease cannot write as owner,
//! whatever it believes.

use crate::backend::Conn;
use crate::{Result, Store, StoreError};
use sqlx::FromRow;
use std::future::Future;

tokio::task_local! {
    /// The lease the current task works under (see [`as_owner`]).
    static OWNER: Lease;
}

/// Runs `fut` as the owner of `lease`: every change it makes through the store (each one
/// appends to the events chain) first [`hold`]s the lease in the same transaction, so once
/// the lease is lost nothing more of this work is written. Tasks it spawns keep the lease
/// only when wrapped with [`crate::inherit`].
pub async fn as_owner<F: Future>(lease: Lease, fut: F) -> F::Output {
    OWNER.scope(lease, fut).await
}

/// The lease the current task works under, if any.
pub fn owner() -> Option<Lease> {
    OWNER.try_with(Lease::clone).ok()
}

/// Wraps `fut` (about to be spawned) so it keeps working under the current lease, if any.
pub fn inherit<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let lease = owner();
    async move {
        match lease {
            Some(lease) => OWNER.scope(lease, fut).await,
            None => fut.await,
        }
    }
}

/// A lease as its holder knows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct Lease {
    /// The work it covers: `scheduler`, `rollout/7`, `monitor`, …
    pub name: String,
    /// The server holding it.
    pub holder: String,
    /// Grows by one each time the lease changes hands.
    pub fence: i64,
    /// Unix ms after which anyone may take it.
    pub expires_at: i64,
}

impl Store {
    /// Takes the lease `name` for `holder` until `now + ttl_ms`, if nobody holds it, its
    /// holder let it expire, or `holder` is its holder already: a server started again under
    /// the same name (its data folder's) takes its lease back at once, with a new fence, so
    /// whatever its previous life still had under way cannot write any more. `now` is the
    /// caller's clock: servers must keep theirs in sync, well within the lease's length.
    /// `None` while another holder's lease runs.
    pub async fn take_lease(&self, name: &str, holder: &str, ttl_ms: i64, now: i64) -> Result<Option<Lease>> {
        Ok(sqlx::query_as(
            "INSERT INTO leases (name, holder, fence, expires_at) VALUES ($1, $2, 1, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = leases.fence + 1,
               expires_at = excluded.expires_at
             WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder
             RETURNING name, holder, fence, expires_at",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// Extends a lease still held (same holder and fence, not expired) to `now + ttl_ms`.
    /// `None` when it was lost: stop the work at once.
    pub async fn renew_lease(&self, lease: &Lease, ttl_ms: i64, now: i64) -> Result<Option<Lease>> {
        Ok(sqlx::query_as(
            "UPDATE leases SET expires_at = $1
             WHERE name = $2 AND holder = $3 AND fence = $4 AND expires_at > $5
             RETURNING name, holder, fence, expires_at",
        )
        .bind(now + ttl_ms)
        .bind(&lease.name)
        .bind(&lease.holder)
        .bind(lease.fence)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// Gives a lease up at once (a server stopping), so another takes it without waiting for
    /// it to expire. Does nothing if it was already lost.
    pub async fn release_lease(&self, lease: &Lease) -> Result<()> {
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND fence = $3")
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(lease.fence)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every lease, by name: who does what.
    pub async fn list_leases(&self) -> Result<Vec<Lease>> {
        Ok(
            sqlx::query_as("SELECT name, holder, fence, expires_at FROM leases ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// The session advisory lock a lease's holder keeps while it lives (PostgreSQL): "TAND" and
/// the lease's fence. PostgreSQL drops it the moment the holder's connection ends, which a
/// killed process's does at once.
fn liveness_key(fence: i64) -> i64 {
    0x5441_4e44_0000_0000 | (fence & 0xffff_ffff)
}

/// The session lock servers standing by hold shared (PostgreSQL): "TAND" and all ones.
const STANDBY_KEY: i64 = 0x5441_4e44_ffff_ffff;

/// A server standing by to take work over (see [`Store::stand_by`]): released when dropped or
/// when the process ends.
#[derive(Debug)]
pub struct Standby {
    conn: Option<sqlx::pool::PoolConnection<crate::backend::Db>>,
}

impl Drop for Standby {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

/// A lease holder's sign of life: a session lock on a connection of its own, released when
/// this is dropped (its connection closed) or when the process ends, however it ends.
#[derive(Debug)]
pub struct Liveness {
    conn: Option<sqlx::pool::PoolConnection<crate::backend::Db>>,
}

impl Drop for Liveness {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

impl Store {
    /// Shows, for as long as the returned value lives, that the holder of `lease` is alive
    /// (PostgreSQL; nothing to show on SQLite, one server). `None` when the lock is taken:
    /// someone believes this holder dead and is taking the lease over.
    pub async fn show_alive(&self, lease: &Lease) -> Result<Option<Liveness>> {
        if !self.is_shared() {
            return Ok(Some(Liveness { conn: None }));
        }
        let mut conn = self.pool.acquire().await?;
        let (taken,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(liveness_key(lease.fence))
            .fetch_one(&mut *conn)
            .await?;
        Ok(taken.then_some(Liveness { conn: Some(conn) }))
    }

    /// Whether the holder of `lease` is gone (its sign of life, [`Store::show_alive`], is no
    /// more: its process ended or its connection did); if so the lease is expired at once so
    /// that the caller can take it. Always `false` on SQLite.
    pub async fn expire_if_holder_gone(&self, lease: &Lease) -> Result<bool> {
        if !self.is_shared() {
            return Ok(false);
        }
        let mut conn = self.pool.acquire().await?;
        let key = liveness_key(lease.fence);
        let (free,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if !free {
            return Ok(false);
        }
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
        let expired = sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND fence = $3")
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(lease.fence)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(expired == 1)
    }

    /// Says, for as long as the returned value lives, that this server stands by to take the
    /// work over (a shared session lock on a connection of its own). `None` on SQLite (one
    /// server).
    pub async fn stand_by(&self) -> Result<Option<Standby>> {
        if !self.is_shared() {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock_shared($1)")
            .bind(STANDBY_KEY)
            .execute(&mut *conn)
            .await?;
        Ok(Some(Standby { conn: Some(conn) }))
    }

    /// Whether another server stands by ([`Store::stand_by`]) right now.
    pub async fn anyone_standing_by(&self) -> Result<bool> {
        if !self.is_shared() {
            return Ok(false);
        }
        let mut conn = self.pool.acquire().await?;
        let (alone,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(STANDBY_KEY)
            .fetch_one(&mut *conn)
            .await?;
        if alone {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(STANDBY_KEY)
                .execute(&mut *conn)
                .await?;
        }
        Ok(!alone)
    }

    /// The lease `name` as it stands, if anyone ever took it.
    pub async fn get_lease(&self, name: &str) -> Result<Option<Lease>> {
        Ok(
            sqlx::query_as("SELECT name, holder, fence, expires_at FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// Checks, inside the transaction of a write made as `lease`'s owner, that the lease is still
/// held, and keeps it so until the transaction ends: the row is updated (locked on
/// PostgreSQL; SQLite has one writer) so nobody can take it before this write commits. A
/// conflict naming the lease when it was lost: roll back.
pub async fn hold(conn: &mut Conn, lease: &Lease, now: i64) -> Result<()> {
    let held = sqlx::query(
        "UPDATE leases SET fence = fence WHERE name = $1 AND holder = $2 AND fence = $3 AND expires_at > $4",
    )
    .bind(&lease.name)
    .bind(&lease.holder)
    .bind(lease.fence)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if held == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "{} no longer holds the lease {} (fence {}): another server took it over",
            lease.holder, lease.name, lease.fence
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store;
    use std::collections::BTreeSet;

    const TTL: i64 = 10_000;

    #[tokio::test]
    async fn one_holder_at_a_time_and_the_fence_grows_when_it_changes_hands() {
        let (_dir, store) = store().await;
        let now = 1_000_000;
        let a = store
            .take_lease("rollout/7", "server-a", TTL, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a.fence, a.expires_at), (1, now + TTL));
        assert!(
            store
                .take_lease("rollout/7", "server-b", TTL, now + 1)
                .await
                .unwrap()
                .is_none()
        );
        // a started again under the same name takes it back at once, fencing off its old life.
        let old = a.clone();
        let a = store
            .take_lease("rollout/7", "server-a", TTL, now + 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.fence, 2);
        assert!(store.renew_lease(&old, TTL, now + 2).await.unwrap().is_none());
        let a = store.renew_lease(&a, TTL, now + 5_000).await.unwrap().unwrap();
        assert_eq!(a.expires_at, now + 15_000);

        // a stops renewing (paused, cut off): once it expires, b takes over with a higher fence.
        assert!(
            store
                .take_lease("rollout/7", "server-b", TTL, now + 14_999)
                .await
                .unwrap()
                .is_none()
        );
        let b = store
            .take_lease("rollout/7", "server-b", TTL, now + 15_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.fence, 3);
        assert!(
            store.renew_lease(&a, TTL, now + 15_001).await.unwrap().is_none(),
            "a learns it lost the lease"
        );

        // A write as owner goes through for b, is refused for a, and nothing of a's is kept.
        let mut tx = store.writer.begin().await.unwrap();
        let refused = hold(&mut tx, &a, now + 15_002).await.unwrap_err();
        assert!(
            refused.to_string().contains("no longer holds the lease rollout/7"),
            "{refused}"
        );
        drop(tx);
        let mut tx = store.writer.begin().await.unwrap();
        hold(&mut tx, &b, now + 15_002).await.unwrap();
        tx.commit().await.unwrap();

        // Released: the next server need not wait for the expiry.
        store.release_lease(&b).await.unwrap();
        store.release_lease(&a).await.unwrap(); // a stale release changes nothing
        let c = store
            .take_lease("rollout/7", "server-c", TTL, now + 15_003)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.fence, 4);
        let listed = store.list_leases().await.unwrap();
        assert_eq!(listed, [c]);
    }

    /// Work running under a lease writes through the store as usual while it holds it; once
    /// another server took the lease over, the same calls are refused and leave nothing.
    #[tokio::test]
    async fn changes_made_as_owner_stop_once_the_lease_is_lost() {
        let (place, store) = store().await;
        let other = place.open().await;
        let now = crate::now_ms();
        let a = store
            .take_lease("conductor", "server-a", 60_000, now)
            .await
            .unwrap()
            .unwrap();
        as_owner(
            a.clone(),
            store.record_event("rollout.started", "rollout/1", serde_json::json!({})),
        )
        .await
        .unwrap();
        // a is cut off long enough for its lease to run out; b takes over.
        sqlx::query("UPDATE leases SET expires_at = $1 WHERE name = 'conductor'")
            .bind(now - 1)
            .execute(&store.writer)
            .await
            .unwrap();
        let b = other
            .take_lease("conductor", "server-b", 60_000, now)
            .await
            .unwrap()
            .unwrap();
        let before = store.last_event_id().await.unwrap();
        // a, still believing it owns the work, tries to write; so does a task it spawned.
        let stale = store.clone();
        let refused = as_owner(a.clone(), async move {
            let write = async move {
                stale
                    .record_event("rollout.halted", "rollout/1", serde_json::json!({}))
                    .await
            };
            tokio::spawn(crate::inherit(write)).await
        })
        .await
        .unwrap()
        .unwrap_err();
        assert!(
            refused.to_string().contains("no longer holds the lease conductor"),
            "{refused}"
        );
        assert_eq!(
            store.last_event_id().await.unwrap(),
            before,
            "nothing of a's was written"
        );
        // b writes; writes outside any lease (a person's request) go through on either.
        as_owner(
            b,
            other.record_event("rollout.resumed", "rollout/1", serde_json::json!({})),
        )
        .await
        .unwrap();
        store
            .record_event("flag.changed", "flags/shop", serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(store.last_event_id().await.unwrap(), before + 2);
    }

    /// A holder that shows it is alive keeps its lease; once its process (here: its
    /// connection) is gone, another server sees it at once and takes the lease without
    /// waiting for it to expire.
    #[tokio::test]
    async fn a_holder_whose_process_ended_loses_its_lease_at_once() {
        let (place, store) = store().await;
        let other = place.open().await;
        let now = crate::now_ms();
        let a = store
            .take_lease("conductor", "server-a", 60_000, now)
            .await
            .unwrap()
            .unwrap();
        let alive = store.show_alive(&a).await.unwrap().expect("nobody else shows a's life");
        let seen = other.get_lease("conductor").await.unwrap().unwrap();
        assert_eq!(seen, a);
        assert!(!other.expire_if_holder_gone(&seen).await.unwrap(), "a lives");
        assert!(
            other
                .take_lease("conductor", "server-b", 60_000, now)
                .await
                .unwrap()
                .is_none()
        );
        drop(alive); // a's process ends: its connection closes
        let gone = async {
            for _ in 0..100 {
                if other.expire_if_holder_gone(&seen).await.unwrap() {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            false
        };
        if store.is_shared() {
            assert!(gone.await, "a's end is seen");
            let b = other
                .take_lease("conductor", "server-b", 60_000, now)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(b.fence, 2);
        } else {
            assert!(!gone.await, "SQLite: one server, the lease only expires");
        }
    }

    /// A server stopping knows whether another stands by to take its work over.
    #[tokio::test]
    async fn a_server_knows_whether_another_stands_by() {
        let (place, store) = store().await;
        let other = place.open().await;
        assert!(!store.anyone_standing_by().await.unwrap());
        let standing = other.stand_by().await.unwrap();
        assert_eq!(store.anyone_standing_by().await.unwrap(), store.is_shared());
        assert_eq!(
            store.anyone_standing_by().await.unwrap(),
            store.is_shared(),
            "asking twice changes nothing"
        );
        drop(standing);
        let gone = async {
            for _ in 0..100 {
                if !store.anyone_standing_by().await.unwrap() {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            false
        };
        assert!(gone.await);
    }

    /// Many servers race for the same leases: each lease has exactly one holder, and the
    /// holder can write as owner.
    #[tokio::test]
    async fn servers_racing_for_a_lease_get_one_holder_each() {
        let (place, store) = store().await;
        let other = place.open().await;
        let mut tasks = tokio::task::JoinSet::new();
        for server in 0..12 {
            for work in ["scheduler", "monitor", "rollout/1"] {
                let store = if server % 2 == 0 { store.clone() } else { other.clone() };
                tasks.spawn(async move {
                    let lease = store.take_lease(work, &format!("server-{server}"), TTL, 1_000).await?;
                    Ok::<_, StoreError>(lease)
                });
            }
        }
        let mut won = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Some(lease) = done.unwrap().expect("no taker fails") {
                won.push(lease);
            }
        }
        let works: BTreeSet<&str> = won.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(won.len(), 3, "{won:?}");
        assert_eq!(works.len(), 3, "{won:?}");
        for lease in &won {
            assert_eq!(lease.fence, 1);
            let mut tx = store.writer.begin().await.unwrap();
            hold(&mut tx, lease, 1_001).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
}
