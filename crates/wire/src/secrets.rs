//! The secrets store: names, versions and sources; never a value in an answer.

use serde::{Deserialize, Serialize};

/// A stored secret's version (never its value).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Secret {
    /// Its name.
    pub name: String,
    /// 1 when first set, one more at each rotation.
    pub version: i64,
    /// When it was last set.
    pub updated_at: i64,
    /// Who set it.
    pub updated_by: String,
}

/// A secret's new value.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecretValue {
    /// The value (at most 64 KiB, not empty); it is never shown back.
    pub value: String,
}

impl std::fmt::Debug for NewSecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecretValue { .. }")
    }
}

/// A secret by name: where its value comes from, never the value.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecretEntry {
    /// Its name.
    pub name: String,
    /// Whether the platform file declares it; a stored value of an undeclared name is unused.
    pub declared: bool,
    /// Where jobs get it now: `store`, `environment` or `unset`.
    pub source: String,
    /// The server's environment variable the platform file names for it.
    pub env: Option<String>,
    /// The stored value's version (1, then one more at each rotation).
    pub version: Option<i64>,
    /// When the stored value was set.
    pub updated_at: Option<i64>,
    /// Who set it.
    pub updated_by: Option<String>,
}
