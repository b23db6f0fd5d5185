//! Change requests: config and flag changes proposed, reviewed and applied.

use serde::{Deserialize, Serialize};
use tandem_core::config::{ChangeCheck, ConfigDiff};
use tandem_core::platform::ConfigLayers;
use tandem_core::policy::changes::ReviewState;
use tandem_core::state::ChangeState;

/// A change request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// Its id.
    pub id: i64,
    /// The service.
    pub service: String,
    /// `config` (new layers, as JSON) or `flags` (a new flag file, as YAML).
    pub kind: String,
    /// What it is for, in a line.
    pub title: String,
    /// Who opened it.
    pub author: String,
    /// The author's role when proposing: it says which side must approve.
    pub author_role: String,
    /// open, rejected, applied (its config is rolling out or its flags are in force), done,
    /// failed or withdrawn.
    pub state: ChangeState,
    /// 1, then one more at each edit; reviews count for the revision they were given to.
    pub revision: i64,
    /// The config (or flag) version the proposal was written against.
    pub base_version: i64,
    /// What it proposes (layers as JSON, or the flag file).
    pub proposed: String,
    /// Whether it changes at least one live market (the policy's `production` rule).
    pub production: bool,
    /// What applying it came to, in words.
    pub result: Option<String>,
    /// The config (or flag) version it created when applied.
    pub version: Option<i64>,
    /// The config rollout that carries it to the markets.
    pub rollout_id: Option<i64>,
    /// When it was opened.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// A review of one revision of a change request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeReview {
    /// Its id.
    pub id: i64,
    /// The change request.
    pub change_id: i64,
    /// The revision reviewed.
    pub revision: i64,
    /// Who reviewed.
    pub reviewer: String,
    /// Their role.
    pub role: String,
    /// approve or reject.
    pub verdict: String,
    /// What they said.
    pub comment: Option<String>,
    /// When.
    pub at: i64,
}

/// Who wrote one revision of a change request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeRevision {
    /// Its id.
    pub id: i64,
    /// The change request.
    pub change_id: i64,
    /// The revision.
    pub revision: i64,
    /// Who wrote it.
    pub author: String,
    /// Their role when they wrote it.
    pub role: String,
    /// When.
    pub at: i64,
}

/// A proposed change: new config layers, or a new flag file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChangeRequest {
    /// `config` or `flags`.
    pub kind: String,
    /// What the change is for, in a line.
    pub title: String,
    /// For `config`: the whole proposed layers `{ defaults, regions, markets }`.
    #[schema(value_type = Object)]
    pub layers: Option<ConfigLayers>,
    /// For `flags`: the whole proposed flag file (YAML).
    pub text: Option<String>,
}

/// A change request with its reviews, where it stands under the policy, and (as of now) its
/// per-market diff and validation.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeDetail {
    /// The change request.
    pub change: Change,
    /// Who wrote each revision (`revision` 1 is its opener), oldest first. None of them may
    /// review it.
    pub authors: Vec<ChangeRevision>,
    /// Its reviews.
    pub reviews: Vec<ChangeReview>,
    /// Where the current revision stands: `{ "state": "approved", "by" }`,
    /// `{ "state": "rejected", "by" }` or `{ "state": "waiting", "missing", "from" }`.
    #[schema(value_type = Object)]
    pub review: ReviewState,
    /// Who may approve it, in words.
    pub approvers: String,
    /// How many approvals it needs.
    pub approvals_needed: u32,
    /// Config: `{ radius: { changed: [{ market, diff }], unchanged }, errors, unchecked, ... }`.
    #[schema(value_type = Object)]
    pub check: Option<ChangeCheck>,
    /// Flags: the leaf diff of the flag file.
    #[schema(value_type = Object)]
    pub flags_diff: Option<ConfigDiff>,
    /// Flags: why the flag file does not parse, if so.
    pub flags_error: Option<String>,
}

/// A new proposal for an open or rejected change request.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEdit {
    /// For `config`: the whole proposed layers.
    #[schema(value_type = Object)]
    pub layers: Option<ConfigLayers>,
    /// For `flags`: the whole proposed flag file.
    pub text: Option<String>,
}

/// A review: approve or reject, with an optional comment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// What the reviewer says.
    pub comment: Option<String>,
    /// The revision reviewed (as read in `change.revision`); refused (409) when the change is
    /// at another revision now. Without it, the current revision.
    pub revision: Option<i64>,
}
