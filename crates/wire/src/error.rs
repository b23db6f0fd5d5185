//! The body of every error answer: `{ "error": { "code", "message", "details" } }`.

use serde::{Deserialize, Serialize};

/// An error answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for a person (`message`) and for a program (`code`, `details`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `not_found`.
    pub code: String,
    /// What went wrong and what to do, in words.
    pub message: String,
    /// More, for some codes (such as the checks that failed for `not_ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}
