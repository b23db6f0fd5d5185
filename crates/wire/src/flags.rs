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

/// An emergency change: a kill switch flipped at once by one person, reviewed afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagEmergency {
    /// Its id.
    pub id: i64,
    /// The service whose flag it is.
    pub service: String,
    /// The flag killed.
    pub flag: String,
    /// The market it was killed in; none: every market.
    pub market: Option<String>,
    /// Why, as its author said.
    pub reason: String,
    /// Who killed it.
    pub created_by: String,
    /// Their role then: it says which side reviews it.
    pub created_role: String,
    /// When (Unix ms).
    pub created_at: i64,
    /// `unreviewed` until someone of the other side reviews it; then `approved` or `rejected`.
    pub review: String,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    /// The reviewer's role.
    pub reviewed_role: Option<String>,
    /// The reviewer's comment.
    pub review_comment: Option<String>,
    /// When it was reviewed (Unix ms).
    pub reviewed_at: Option<i64>,
    /// Whether the kill still holds (the flag serves its default where it was killed).
    pub in_force: bool,
    /// The change request opened to lift it.
    pub lift_change: Option<i64>,
    /// When that change request was applied and the kill lifted (Unix ms).
    pub lifted_at: Option<i64>,
}

/// Kill a kill-switch flag now: it serves its default variant, everywhere or in one market.
/// Nothing else: no variant, rule or file can be given here.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagKillRequest {
    /// The market to kill it in; none: every market.
    #[serde(default)]
    pub market: Option<String>,
    /// Why (required; at most 1000 characters).
    pub reason: String,
}

/// The review of an emergency change, afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagEmergencyReview {
    /// `true`: the kill was right; `false`: it was not (nothing is reverted: lift it by a change request).
    pub approve: bool,
    /// What the reviewer says (at most 1000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Ask to lift a kill: opens a change request reviewed like any flag change.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagLiftRequest {
    /// Why the flag may serve its targeting again (required).
    pub reason: String,
}
