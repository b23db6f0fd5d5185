//! A service's feature-flag file and its versions.

use serde::{Deserialize, Serialize};

/// A version of a service's flag file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagVersion {
    /// Its id.
    pub id: i64,
    /// The service.
    pub service: String,
    /// 1, 2, … per service.
    pub version: i64,
    /// The flag file as written (YAML).
    pub text: String,
    /// The compiled flags' content hash (what OFREP answers as its ETag).
    pub etag: String,
    /// Who put it in force.
    pub created_by: String,
    /// Why it changed.
    pub reason: Option<String>,
    /// When.
    pub created_at: i64,
}

/// A new flag file, proposed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlagVersion {
    /// The whole flag file (YAML; see docs/flags.md).
    pub text: String,
    /// Why it changes, kept with the version.
    pub reason: Option<String>,
}

/// The answer to a new flag file: in force at once (201), or a change request waiting for its
/// reviewers (202).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FlagsProposed {
    /// A change request waiting for its reviewers (it has a `kind`).
    Waiting(crate::changes::Change),
    /// The new version, in force.
    InForce(FlagVersion),
}
