//! Numbers handed out in order: idea keys (`T-n`), release versions (`vN`), flag and config
//! versions of a service. Reading `MAX(…) + 1` and inserting races when two writers allocate
//! at once (two servers on one PostgreSQL); here the number comes from the `id_counters` row of
//! its scope, bumped with an upsert in the caller's transaction. The upsert locks that row
//! until the transaction ends, so a second writer waits and gets the next number, and a
//! transaction that rolls back gives its number back. Both dialects speak this SQL.
//!
//! A scope's row is made on first use, starting after the numbers its table already holds
//! (so a database from before `id_counters`, or copied from another backend, carries on).

use crate::Result;
use crate::backend::Conn;

/// A sequence of numbers, each handed out once.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter<'a> {
    /// Idea ids, whose keys are `T-<id>`.
    Idea,
    /// Release versions of a service (`v1`, `v2`, …).
    Release { service: &'a str },
    /// Flag file versions of a service.
    FlagVersion { service: &'a str },
    /// Config versions of a service.
    ConfigVersion { service: &'a str },
}

impl Counter<'_> {
    /// The key of its row in `id_counters`.
    fn scope(self) -> String {
        match self {
            Counter::Idea => "idea".to_string(),
            Counter::Release { service } => format!("release/{service}"),
            Counter::FlagVersion { service } => format!("flag_version/{service}"),
            Counter::ConfigVersion { service } => format!("config_version/{service}"),
        }
    }

    /// The upsert that takes the next number: its first value, when the scope has no row yet,
    /// follows the last number the scope's table holds (`$2` is the service).
    fn statement(self) -> &'static str {
        macro_rules! take_next {
            ($last_held:literal) => {
                concat!(
                    "INSERT INTO id_counters (scope, last_taken) VALUES ($1, (",
                    $last_held,
                    ") + 1) ON CONFLICT (scope) DO UPDATE SET last_taken = id_counters.last_taken + 1 RETURNING last_taken"
                )
            };
        }
        match self {
            Counter::Idea => take_next!("SELECT COALESCE(MAX(id), 0) FROM ideas"),
            // Versions were counted, not read back: `vN` is the N-th release of the service.
            Counter::Release { .. } => take_next!("SELECT COUNT(*) FROM releases WHERE service = $2"),
            Counter::FlagVersion { .. } => {
                take_next!("SELECT COALESCE(MAX(version), 0) FROM flag_versions WHERE service = $2")
            }
            Counter::ConfigVersion { .. } => {
                take_next!("SELECT COALESCE(MAX(version), 0) FROM config_versions WHERE service = $2")
            }
        }
    }
}

/// Takes the next number of `counter`, inside the caller's transaction: call it first, so that
/// the transaction starts as a writer.
pub(crate) async fn take_next(conn: &mut Conn, counter: Counter<'_>) -> Result<i64> {
    let scope = counter.scope();
    let query = sqlx::query_as(counter.statement()).bind(scope);
    let query = match counter {
        Counter::Idea => query,
        Counter::Release { service } | Counter::FlagVersion { service } | Counter::ConfigVersion { service } => {
            query.bind(service)
        }
    };
    let (next,): (i64,) = query.fetch_one(conn).await?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use crate::testing::{release, store};
    use std::collections::BTreeSet;

    /// How many writers allocate at once in each test.
    const WRITERS: usize = 24;

    #[tokio::test]
    async fn writers_at_once_never_get_the_same_number() {
        let (_dir, store) = store().await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..WRITERS {
            let store = store.clone();
            tasks.spawn(async move {
                let idea = store.insert_idea(&format!("idea {i}"), &[]).await.unwrap().key;
                let flags = store
                    .insert_flag_version("shop", "flags: {}", &format!("e{i}"), "dana", None)
                    .await
                    .unwrap()
                    .version;
                let release = release(&store).await.version;
                (idea, flags, release)
            });
        }
        let mut taken = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        while let Some(done) = tasks.join_next().await {
            let (idea, flags, release) = done.unwrap();
            taken.0.insert(idea);
            taken.1.insert(flags);
            taken.2.insert(release);
        }
        let expected = |f: fn(usize) -> String| (1..=WRITERS).map(f).collect::<BTreeSet<_>>();
        assert_eq!(taken.0, expected(|n| format!("T-{n}")));
        assert_eq!(taken.1, (1..=WRITERS as i64).collect::<BTreeSet<_>>());
        assert_eq!(taken.2, expected(|n| format!("v{n}")));
    }

    #[tokio::test]
    async fn two_stores_on_one_database_never_hand_out_the_same_key() {
        let (place, first) = store().await;
        let second = place.open().await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..WRITERS {
            let store = if i % 2 == 0 { first.clone() } else { second.clone() };
            tasks.spawn(async move { store.insert_idea(&format!("idea {i}"), &[]).await });
        }
        let mut keys = Vec::new();
        while let Some(done) = tasks.join_next().await {
            keys.push(done.unwrap().expect("no writer fails").key);
        }
        let distinct: BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), WRITERS, "{keys:?}");
        let listed = first.list_ideas().await.unwrap();
        assert_eq!(listed.len(), WRITERS);
        assert_eq!(listed.last().unwrap().key, format!("T-{WRITERS}"));
    }

    #[tokio::test]
    async fn a_number_taken_by_a_write_that_failed_is_handed_out_again() {
        let (_dir, store) = store().await;
        store.insert_idea("first", &[]).await.unwrap();
        let mut tx = store.writer.begin().await.unwrap();
        assert_eq!(super::take_next(&mut tx, super::Counter::Idea).await.unwrap(), 2);
        drop(tx);
        assert_eq!(store.insert_idea("second", &[]).await.unwrap().key, "T-2");
    }
}
