//! The flag pages' facts: every flag in force with the service that defines it, and one flag
//! with its state per market, its history (the versions of its service's flag file that added,
//! changed or removed it, each with the change request that made it) and its emergency changes.
//! A flag's history is read by compiling each stored version of its file and comparing the
//! flag with the version before, so a version that touched other flags only is left out.

use crate::{Engine, Error, Result};
use std::collections::HashMap;
use tandem_core::flags::{CompiledFlag, parse_flags};
use tandem_store::{ChangeRow, FlagEmergencyFilter, FlagEmergencyRow, FlagVersionRow, MarketRow};

/// How many versions of a flag's history a page lists, newest first.
pub const HISTORY_SHOWN: usize = 50;
/// How many of a service's change requests are read to find those that made its flag versions.
const CHANGES_SCANNED: i64 = 500;
/// How many emergency changes of one flag a page lists, newest first.
const EMERGENCIES_SHOWN: i64 = 50;

/// A flag in force and the service whose file defines it.
#[derive(Debug, Clone)]
pub struct FlagInForce {
    pub flag: CompiledFlag,
    pub service: String,
}

/// What one version of the flag file did to the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagEdit {
    Added,
    Changed,
    Removed,
}

impl FlagEdit {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagEdit::Added => "added",
            FlagEdit::Changed => "changed",
            FlagEdit::Removed => "removed",
        }
    }
}

/// One step of a flag's history.
#[derive(Debug, Clone)]
pub struct FlagStep {
    pub version: FlagVersionRow,
    pub edit: FlagEdit,
    /// The change request that made this version, if one did.
    pub change: Option<ChangeRow>,
}

/// One flag's page.
#[derive(Debug, Clone)]
pub struct FlagPage {
    pub flag: FlagInForce,
    /// The version of its service's flag file in force.
    pub version: Option<FlagVersionRow>,
    /// Every market, in the platform file's order.
    pub markets: Vec<MarketRow>,
    /// Its history, newest first (at most [`HISTORY_SHOWN`]).
    pub history: Vec<FlagStep>,
    /// Its emergency changes, newest first.
    pub emergencies: Vec<FlagEmergencyRow>,
}

impl Engine {
    /// Every flag in force, by key, with its service.
    pub fn flags_in_force(&self) -> Vec<FlagInForce> {
        let snapshot = self.flags();
        snapshot
            .set
            .flags()
            .iter()
            .map(|f| FlagInForce {
                service: snapshot.owners.get(f.key()).cloned().unwrap_or_default(),
                flag: f.clone(),
            })
            .collect()
    }

    /// Flag `key`'s page; not found when no flag file in force defines it.
    pub async fn flag_page(&self, key: &str) -> Result<FlagPage> {
        let snapshot = self.flags();
        let (Some(flag), Some(service)) = (snapshot.set.get(key), snapshot.owners.get(key)) else {
            return Err(Error::not_found(
                "flag",
                key,
                format!("flag `{key}` is not defined by any service's flags in force"),
            ));
        };
        let mut versions = self.store.list_flag_versions(service).await?;
        versions.sort_by_key(|v| v.version);
        let changes: HashMap<i64, ChangeRow> = self
            .store
            .list_changes(Some(service), CHANGES_SCANNED)
            .await?
            .into_iter()
            .filter(|c| c.kind == "flags")
            .filter_map(|c| c.version.map(|v| (v, c)))
            .collect();
        let mut history = Vec::new();
        let mut before: Option<CompiledFlag> = None;
        for v in versions {
            let now = parse_flags("flags", &v.text, None)
                .ok()
                .and_then(|set| set.get(key).cloned());
            let edit = match (&before, &now) {
                (None, Some(_)) => Some(FlagEdit::Added),
                (Some(_), None) => Some(FlagEdit::Removed),
                (Some(a), Some(b)) if a != b => Some(FlagEdit::Changed),
                _ => None,
            };
            if let Some(edit) = edit {
                history.push(FlagStep {
                    change: changes.get(&v.version).cloned(),
                    version: v,
                    edit,
                });
            }
            before = now;
        }
        history.reverse();
        history.truncate(HISTORY_SHOWN);
        let filter = FlagEmergencyFilter {
            flag: Some(key),
            ..Default::default()
        };
        Ok(FlagPage {
            version: snapshot.versions.get(service).cloned(),
            markets: self.store.list_markets().await?,
            history,
            emergencies: self.store.list_flag_emergencies(filter, EMERGENCIES_SHOWN).await?,
            flag: FlagInForce {
                flag: flag.clone(),
                service: service.clone(),
            },
        })
    }
}
