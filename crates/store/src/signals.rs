//! Signals between servers sharing one database: PostgreSQL's `LISTEN`/`NOTIFY` on one
//! channel. A signal says "look again" (something changed, flags moved, a run is to be
//! cancelled); what changed is always read from the database, so a signal lost while a
//! listener reconnects costs freshness, never correctness ([`Heard::Lost`] says when to
//! read everything again). On SQLite (one server) there is nobody to tell: signals go nowhere.

use crate::backend::Dialect;
use crate::{Result, Store};

/// The channel every server listens on.
pub const CHANNEL: &str = "tandem";

/// Most bytes of one signal (PostgreSQL refuses payloads of 8000 bytes or more).
pub const MAX_SIGNAL_BYTES: usize = 4000;

/// A listener on [`CHANNEL`], on a connection of its own.
pub struct Signals {
    listener: sqlx::postgres::PgListener,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signals")
    }
}

/// What a listener heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A signal's text.
    Signal(String),
    /// The connection was lost (it is made again on the next call): signals sent meanwhile
    /// are gone, so read everything again.
    Lost,
}

impl Store {
    /// Tells every server listening on this database (itself included) `payload`. Nothing on
    /// SQLite. A payload over [`MAX_SIGNAL_BYTES`] is refused.
    pub async fn signal(&self, payload: &str) -> Result<()> {
        if self.dialect != Dialect::Postgres {
            return Ok(());
        }
        if payload.len() > MAX_SIGNAL_BYTES {
            return Err(crate::StoreError::Unsupported(format!(
                "a signal of {} bytes is over the {MAX_SIGNAL_BYTES} bytes a signal may hold",
                payload.len()
            )));
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Starts listening to the other servers' signals; `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<Signals>> {
        let Some(url) = &self.url else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect(url.expose()).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Signals { listener }))
    }
}

impl Signals {
    /// Waits for the next signal. An error means the database cannot be reached now: wait a
    /// little and call again (the connection is made again then).
    pub async fn next(&mut self) -> Result<Heard> {
        Ok(match self.listener.try_recv().await? {
            Some(n) => Heard::Signal(n.payload().to_string()),
            None => Heard::Lost,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::TestDb;

    #[tokio::test]
    async fn every_server_on_the_database_hears_a_signal() {
        let place = TestDb::new().await;
        let (a, b) = (place.open().await, place.open().await);
        let Some(mut heard_by_b) = b.listen().await.unwrap() else {
            // SQLite: one server, nobody to tell; sending is harmless.
            assert!(a.listen().await.unwrap().is_none());
            a.signal("changed").await.unwrap();
            return;
        };
        a.signal("changed 42").await.unwrap();
        assert_eq!(
            heard_by_b.next().await.unwrap(),
            super::Heard::Signal("changed 42".into())
        );
        let too_big = "x".repeat(super::MAX_SIGNAL_BYTES + 1);
        assert!(a.signal(&too_big).await.unwrap_err().to_string().contains("bytes"));
    }
}
