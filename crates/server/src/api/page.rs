//! Paging of the list routes. One scheme everywhere: `?limit=` (1 to [`MAX_LIMIT`], default
//! [`DEFAULT_LIMIT`]) and `?after=<id>`, the id of the last row of the previous page; when a page
//! is full, the `X-Next-Cursor` header gives the `after` of the next one. Rows keep the list's own
//! order (newest first for runs, releases, rollouts, incidents, change requests, commits and
//! versions; oldest first for ideas). A list of versions (config, flags, the config log) pages by
//! `version`, commits by `sha`: their own ids.

use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Rows a list answers when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most rows a list answers at once, whatever `limit` asks: a page costs bounded memory.
pub const MAX_LIMIT: i64 = 500;
/// The header that carries the next page's `after`.
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

/// `?limit=` and `?after=` of a list route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Rows to answer, 1 to 500 (more is answered as 500); default 100.
    pub limit: Option<i64>,
    /// The id of the last row of the previous page (its `X-Next-Cursor` header).
    pub after: Option<i64>,
}

impl Page {
    /// The rows to read: `limit` within bounds; below 1 is the caller's mistake.
    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if n < 1 => Err(ApiError::bad_request(format!(
                "`limit` is {n}: give a number of rows from 1 to {MAX_LIMIT}, and page with `after`"
            ))),
            Some(n) => Ok(n.min(MAX_LIMIT)),
        }
    }
}

/// A page of rows as JSON, with `X-Next-Cursor` (the last row's id) when the page is full.
pub fn paged<T: Serialize, K: std::fmt::Display>(rows: Vec<T>, limit: i64, id: impl Fn(&T) -> K) -> Response {
    let mut headers = HeaderMap::new();
    if rows.len() as i64 >= limit
        && let Some(last) = rows.last()
        && let Ok(value) = HeaderValue::from_str(&id(last).to_string())
    {
        headers.insert(NEXT_CURSOR, value);
    }
    (headers, Json(rows)).into_response()
}
