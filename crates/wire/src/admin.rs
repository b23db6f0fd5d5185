//! Tokens, one-time sign-in links, the event log, the caller's identity, garbage collection.

use serde::{Deserialize, Serialize};

/// An API token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// Who uses it.
    pub name: String,
    /// viewer, developer, operator or admin.
    pub role: String,
    /// When it was made.
    pub created_at: i64,
    /// When it last authenticated a request (written at most about once a minute).
    pub last_used_at: Option<i64>,
    /// When it stops working (ms since the epoch); none: it does not expire.
    pub expires_at: Option<i64>,
    /// When an admin revoked it.
    pub revoked_at: Option<i64>,
}

/// Creates a token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Who uses it.
    pub name: String,
    /// viewer, developer, operator or admin.
    pub role: String,
    /// How long it works, such as `30d`, `12h` or `90m`; none: until revoked.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// A token just made, with its secret.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: Token,
    /// The secret: shown this once, only its hash is kept.
    pub secret: String,
}

/// A one-time sign-in link.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginCode {
    /// The one-time code; it works once, before `expires_at`.
    pub code: String,
    /// The path to open in a browser on this server: `/login?code=…`.
    pub path: String,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
}

/// One state change in the event log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Its id, in order.
    pub id: i64,
    /// When.
    pub at: i64,
    /// Such as `rollout.approved`.
    pub kind: String,
    /// The object: `rollout/3`.
    pub subject: String,
    /// JSON text with the change's details.
    pub data: String,
    /// Who acted: a token's name, `tandem` for the server's own work, `anonymous` for a caller
    /// without a valid credential; none on rows written before the audit log.
    pub actor: Option<String>,
    /// The credential used: `token/7`, a session (admins only).
    pub via: Option<String>,
    /// The caller's IP address, for work a request started (admins only).
    pub address: Option<String>,
    /// `ok`, or `refused` / `failed` for a request that changed nothing.
    pub outcome: String,
    /// The hash of the row before this one (`0…0` for the first row).
    pub prev_hash: Option<String>,
    /// sha256 over `prev_hash` and this row's fields.
    pub hash: Option<String>,
}

/// Who a credential belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// The name.
    pub name: String,
    /// The role.
    pub role: String,
}

/// What a garbage collection freed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GcReport {
    /// Artifacts forgotten because they expired.
    pub artifacts_expired: u64,
    /// Blob files deleted.
    pub blobs_deleted: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
}

/// The servers sharing this database, as the one answering sees them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Servers {
    /// The server that answered: its host and the id kept in its data folder.
    pub this: String,
    /// Whether the server that answered is the conductor now.
    pub this_is_conductor: bool,
    /// The backend: SQLite (one server) or PostgreSQL (any number).
    pub database: String,
    /// Who holds each lease: `conductor` is the server executing runs, driving rollouts and
    /// watching the markets.
    pub leases: Vec<Lease>,
}

/// Who holds a piece of work that must happen once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lease {
    /// The work: `conductor`.
    pub name: String,
    /// The server holding it.
    pub holder: String,
    /// Grows by one each time the lease changes hands.
    pub fence: i64,
    /// When it runs out unless renewed (ms since the epoch); past: free to take.
    pub expires_at: i64,
}
