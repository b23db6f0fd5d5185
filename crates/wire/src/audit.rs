//! The audit log: a page of it, and the check of its hash chain.

use crate::admin::Event;
use serde::{Deserialize, Serialize};

/// A page of the audit log, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<Event>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

/// A broken link of the hash chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChainProblem {
    /// The row at fault, or the first row after the missing ones.
    pub id: i64,
    /// `edited`, `deleted`, `unsealed` or `relinked`.
    pub problem: String,
    /// What is wrong, in words.
    pub message: String,
}

/// The check of the audit log's hash chain.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// True when every row matches its hash and follows the row before it.
    pub intact: bool,
    /// Rows read.
    pub rows: i64,
    /// Rows with no actor: written before the audit log existed (hashed when it began).
    pub without_actor: i64,
    /// The newest row's id: keep it elsewhere, so that deleting the newest rows (which leaves
    /// no broken link) is found by comparing.
    pub head_id: Option<i64>,
    /// The newest row's hash.
    pub head_hash: Option<String>,
    /// The broken links, first first (at most 50).
    pub problems: Vec<ChainProblem>,
}
