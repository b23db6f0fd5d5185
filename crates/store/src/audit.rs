//! Who is acting: the audit context every `events` row is stamped with.
//!
//! A server request runs inside [`scope`] with a fresh [`Slot`] holding the caller's address;
//! the authentication code fills in the caller with [`identify`] once it knows them, and every
//! event the request appends (in the store, the engine, or a task it spawned with [`inherit`])
//! carries that actor. Work outside any request (engine workers, timers, start-up) is the
//! system actor, [`SYSTEM`]. The context is a tokio task-local: it follows the request's future,
//! not threads, so a task spawned with plain `tokio::spawn` is the system unless wrapped.

use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The name recorded for work no person asked for in this request (workers, timers).
pub const SYSTEM: &str = "tandem";

/// The name recorded for a request whose caller never showed a valid credential.
pub const ANONYMOUS: &str = "anonymous";

/// Who acts, through which credential, from where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The token's (or person's) name; `None` until [`identify`] ran.
    pub name: Option<String>,
    /// The credential: `token/7`, `session/…`; `None` for the system or an anonymous caller.
    pub via: Option<String>,
    /// The peer's IP address.
    pub address: Option<String>,
    /// The sha256 (hex) of the credential shown, resolved to `token/{id}` when an event is
    /// written (so that a request that writes nothing costs no lookup).
    pub(crate) credential: Option<String>,
}

/// One request's actor, shared between the middleware that opened the scope and the
/// authentication code that learns who the caller is.
#[derive(Debug, Clone, Default)]
pub struct Slot(Arc<Mutex<Actor>>);

impl Slot {
    /// A request from `address`, caller not yet known.
    pub fn request(address: Option<String>) -> Self {
        Slot(Arc::new(Mutex::new(Actor {
            address,
            ..Actor::default()
        })))
    }

    /// A request made on another server, by the actor it recorded: `name`, through `via`, from
    /// `address` (see `handoffs`).
    pub fn acting_for(name: &str, via: Option<String>, address: Option<String>) -> Self {
        Slot(Arc::new(Mutex::new(Actor {
            name: Some(name.to_string()),
            via,
            address,
            credential: None,
        })))
    }

    /// Names a caller known without a credential (a signed webhook's sender); [`identify`]
    /// still replaces it.
    pub fn name(&self, name: &str) {
        self.update(|a| a.name = Some(name.to_string()));
    }

    /// What the slot holds now.
    pub fn actor(&self) -> Actor {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, change: impl FnOnce(&mut Actor)) {
        change(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

tokio::task_local! {
    static CURRENT: Slot;
}

/// Runs `fut` with `slot` as its audit context.
pub async fn scope<F: Future>(slot: Slot, fut: F) -> F::Output {
    CURRENT.scope(slot, fut).await
}

/// Wraps `fut` (about to be spawned) so it keeps the current audit context: work a person
/// started in parallel tasks is still theirs.
pub fn inherit<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let slot = CURRENT.try_with(Slot::clone).ok();
    async move {
        match slot {
            Some(slot) => CURRENT.scope(slot, fut).await,
            None => fut.await,
        }
    }
}

/// Records who the current request's caller is: `name`, and the credential they showed (its
/// secret is hashed at once and never kept). Does nothing outside a request.
pub fn identify(name: &str, credential: Option<&str>) {
    let _ = CURRENT.try_with(|slot| {
        slot.update(|a| {
            a.name = Some(name.to_string());
            a.credential = credential.map(|c| hex::encode(Sha256::digest(c.as_bytes())));
        })
    });
}

/// Like [`identify`], for a caller whose credential id is already known (`session/12`).
pub fn identify_as(name: &str, via: &str) {
    let _ = CURRENT.try_with(|slot| {
        slot.update(|a| {
            a.name = Some(name.to_string());
            a.via = Some(via.to_string());
            a.credential = None;
        })
    });
}

/// The current actor: the request's (anonymous until identified), or `None` outside any
/// request (the system).
pub fn current() -> Option<Actor> {
    CURRENT.try_with(Slot::actor).ok()
}

/// The name to record a decision under: the request's caller, else [`SYSTEM`].
pub fn current_name() -> String {
    match current() {
        Some(actor) => actor.name.unwrap_or_else(|| ANONYMOUS.to_string()),
        None => SYSTEM.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_scope_is_filled_by_identify_and_followed_into_spawned_tasks() {
        assert_eq!(current_name(), SYSTEM);
        let slot = Slot::request(Some("127.0.0.1".into()));
        let name = scope(slot.clone(), async {
            assert_eq!(current_name(), ANONYMOUS);
            identify("ci", Some("tdm_secret"));
            tokio::spawn(inherit(async { current_name() })).await.unwrap()
        })
        .await;
        assert_eq!(name, "ci");
        let actor = slot.actor();
        assert_eq!(actor.address.as_deref(), Some("127.0.0.1"));
        assert_ne!(actor.credential.as_deref(), Some("tdm_secret"), "the secret is hashed");
        assert_eq!(tokio::spawn(async { current_name() }).await.unwrap(), SYSTEM);
    }
}
