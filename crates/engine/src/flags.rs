//! Feature flags in force: each service's newest flag file, compiled once into one set that
//! OFREP evaluates without touching the store. A new version is checked against the platform
//! (its markets, flag keys unique across services) before anything is stored; a file with any
//! error changes nothing. Watchers hear the new ETag at once.

use crate::Engine;
use crate::Result;
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_core::flags::{FlagSet, Kill, parse_flags};
use tandem_store::{FlagEmergencyRow, FlagVersionRow};

/// The flags in force, and where each service's came from.
#[derive(Debug)]
pub struct FlagSnapshot {
    /// Every service's flags, compiled into one set.
    pub set: FlagSet,
    /// Service → the version in force.
    pub versions: BTreeMap<String, FlagVersionRow>,
    /// Flag key → the service whose file defines it.
    pub owners: BTreeMap<String, String>,
    /// The emergency kills in force (applied to `set`), oldest first.
    pub kills: Vec<FlagEmergencyRow>,
}

impl Engine {
    /// The flags in force now: cheap, no store access.
    pub fn flags(&self) -> Arc<FlagSnapshot> {
        self.flags.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Wakes with the new ETag whenever the flags in force change.
    pub fn flag_changes(&self) -> tokio::sync::watch::Receiver<String> {
        self.flag_changes.subscribe()
    }

    /// Compiles the newest flag file of every service from the store, with the emergency kills
    /// in force, and puts it in force.
    pub(crate) async fn load_flags(&self) -> Result<()> {
        let current = self.store.current_flag_versions().await?;
        let kills = self.store.flag_kills_in_force().await?;
        let (mut versions, mut owners, mut flags) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
        for row in current {
            // A stored file was checked when written; one that no longer compiles is kept
            // out, loudly, rather than taking every other service's flags down with it.
            match parse_flags(&format!("flags of {}", row.service), &row.text, None) {
                Ok(set) => {
                    for flag in set.flags() {
                        owners.insert(flag.key().to_string(), row.service.clone());
                        let (key, mut flag) = (flag.key(), flag.clone());
                        for k in kills.iter().filter(|k| k.flag == key) {
                            flag = flag.with_kill(k.market.clone().map_or(Kill::Everywhere, Kill::Market));
                        }
                        flags.push(flag);
                    }
                }
                Err(e) => tracing::error!(service = %row.service, error = %e, "stored flags no longer compile"),
            }
            versions.insert(row.service.clone(), row);
        }
        let set = FlagSet::new(flags);
        let etag = set.etag().to_string();
        let snapshot = FlagSnapshot {
            set,
            versions,
            owners,
            kills,
        };
        *self.flags.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        self.flag_changes.send_replace(etag);
        self.notify();
        Ok(())
    }

    /// Checks a service's new flag file and puts it in force, recorded as its next version.
    /// Refused, with every problem and its place, when it does not compile against the
    /// platform's markets or uses a key another service's flags already use.
    pub async fn apply_flags(
        &self,
        service: &str,
        text: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<FlagVersionRow> {
        let platform = self.store.load_platform().await?;
        if platform.service(service).is_none() {
            return Err(crate::Error::missing(format!("service `{service}`")));
        }
        let markets: Vec<&str> = platform.markets.iter().map(|m| m.id.as_str()).collect();
        let set = parse_flags(&format!("flags of {service}"), text, Some(&markets))
            .map_err(|e| crate::Error::invalid_at(format!("flags of {service}"), e.to_string()))?;
        let snapshot = self.flags();
        for flag in set.flags() {
            if let Some(other) = snapshot.owners.get(flag.key()).filter(|o| o.as_str() != service) {
                return Err(crate::Error::Conflict(format!(
                    "flag `{}` is already a flag of service `{other}`: flag keys are unique across services",
                    flag.key()
                )));
            }
        }
        let row = self
            .store
            .insert_flag_version(service, text, set.etag(), by, reason)
            .await?;
        self.load_flags().await?;
        self.signal(crate::conductor::Signal::Flags);
        Ok(row)
    }
}
