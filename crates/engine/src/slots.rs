//! How many markets deploy at once. Every rollout's markets share one global limit (the
//! platform file's `rollouts.max-parallel`), and each service's markets a limit of their own
//! (`rollouts.services.<name>`, else `rollouts.per-service`, else the server's default). So
//! independent services' rollouts overlap, up to the global limit, instead of waiting for
//! each other.
//!
//! A market takes its service's slot first (and holds it while it waits out a freeze), then a
//! global one once it may deploy, and holds both until its deployment ends: nobody holds a
//! global slot while waiting for a service's, so no two rollouts wait for each other, and a
//! frozen market never keeps another service's market from deploying. Limits are read with the platform at each wave: a changed limit
//! applies to the markets that start after it changed (the slots taken before are returned to
//! the semaphore they came from).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A limit and the semaphore enforcing it.
type Limited = (usize, Arc<Semaphore>);

/// The engine's deployment slots: one global pool, one per service.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    global: Mutex<Option<Limited>>,
    services: Mutex<HashMap<String, Limited>>,
}

/// The two pools a service's markets take their slots from.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSlots {
    service: Arc<Semaphore>,
    global: Arc<Semaphore>,
}

/// A slot held by a market, given back when dropped (`None`: the semaphore was closed, which
/// never happens: it would only mean no limit).
pub(crate) type Slot = Option<OwnedSemaphorePermit>;

/// The semaphore of `limit` in `slot`, made anew when the limit changed.
fn sized(slot: &mut Option<Limited>, limit: usize) -> Arc<Semaphore> {
    match slot {
        Some((n, semaphore)) if *n == limit => semaphore.clone(),
        _ => {
            let semaphore = Arc::new(Semaphore::new(limit.max(1)));
            *slot = Some((limit, semaphore.clone()));
            semaphore
        }
    }
}

impl Slots {
    /// The pools for `service`'s markets: `per_service` of them at once, `global` for every
    /// service together.
    pub(crate) fn of_service(&self, service: &str, per_service: usize, global: usize) -> ServiceSlots {
        let global = sized(&mut self.global.lock().unwrap_or_else(|e| e.into_inner()), global);
        let mut services = self.services.lock().unwrap_or_else(|e| e.into_inner());
        let mut slot = services.remove(service);
        let service_pool = sized(&mut slot, per_service);
        if let Some(slot) = slot {
            services.insert(service.to_string(), slot);
        }
        ServiceSlots {
            service: service_pool,
            global,
        }
    }
}

impl ServiceSlots {
    /// Waits for a slot of the service: taken first, held while the market waits (a freeze).
    pub(crate) async fn service(&self) -> Slot {
        self.service.clone().acquire_owned().await.ok()
    }

    /// Waits for a global slot: taken last, once the market may deploy now.
    pub(crate) async fn global(&self) -> Slot {
        self.global.clone().acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_market_needs_a_slot_of_its_service_and_a_global_one() {
        let slots = Slots::default();
        let a = slots.of_service("a", 2, 3);
        let b = slots.of_service("b", 2, 3);
        let take = async |s: &ServiceSlots| (s.service().await, s.global().await);
        let (a1, a2) = (take(&a).await, take(&a).await);
        // `a` is at its own limit; `b` still gets the last global slot.
        assert_eq!(a.service.available_permits(), 0);
        let b1 = take(&b).await;
        // `b` has a slot of its own left, but every global one is taken: its next market waits.
        assert_eq!(b.service.available_permits(), 1);
        assert_eq!(b.global.available_permits(), 0);
        // A market of `a` ends: it gives back both its slots.
        drop(a1);
        assert_eq!((a.service.available_permits(), b.global.available_permits()), (1, 1));
        drop((a2, b1));
        assert_eq!(b.global.available_permits(), 3);
        let _b2 = take(&b).await;
    }

    #[test]
    fn a_changed_limit_makes_a_new_pool() {
        let slots = Slots::default();
        let first = slots.of_service("a", 2, 8);
        let same = slots.of_service("a", 2, 8);
        assert!(Arc::ptr_eq(&first.service, &same.service));
        assert!(Arc::ptr_eq(&first.global, &same.global));
        let changed = slots.of_service("a", 4, 16);
        assert_eq!(changed.service.available_permits(), 4);
        assert_eq!(changed.global.available_permits(), 16);
    }
}
