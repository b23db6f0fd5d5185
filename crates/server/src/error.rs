//! The one HTTP error type: 4xx for the caller's mistakes, 5xx (logged) for ours, always with
//! the body `{ "error": { "code", "message", "details" } }`.
//!
//! A 5xx never tells the caller what went wrong inside (paths, SQL, I/O): its message is generic
//! with a reference, and the server's log has the cause under the same reference.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tandem_store::StoreError;

/// An error answer of the API: its status and the body `{ "error": { code, message, details } }`
/// the CLI prints as is. Handlers return it through [`ApiResult`]; store and engine errors turn
/// into it by `From`, each to its status once.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status: 4xx for the caller's mistake, 5xx for ours.
    pub status: StatusCode,
    /// A stable machine-readable code (`not_found`, `forbidden`, `invalid_change`, …).
    pub code: &'static str,
    /// What went wrong and what to do next, for a person; never the inside of a 5xx.
    pub message: String,
    /// Where, when there is more than one place to point at (a change's problems per market).
    pub details: Option<serde_json::Value>,
}

pub use tandem_wire::error::{ErrorBody, ErrorDetail};

impl ApiError {
    /// An error with this status, code and message, and no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// 400: the path, query or body is malformed; the message says which part.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 404: no such object or route; the message names what was looked for.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401: no credential was sent; the message says how to send one.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs a credential: send `Authorization: Bearer <token>` (create one with `tandem token create`)",
        )
    }

    /// 503: the database cannot be reached right now; nothing was written. Logged as a
    /// warning (the cause names the database's trouble, never shown to the caller).
    pub fn unavailable(err: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %err, "the database cannot be reached");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!(
                "the database cannot be reached right now, so nothing was done: try again in a few seconds \
                 (Retry-After: {RETRY_AFTER_SECONDS})"
            ),
        )
    }

    /// Our own fault: the cause is logged, the caller gets a reference to it.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        let reference = format!("{:08x}", rand::random::<u32>());
        tracing::error!(reference = %reference, error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!(
                "internal error (reference {reference}): the server could not complete this request; \
                 its log has the cause under this reference"
            ),
        )
    }
}

/// Whether `e` comes from a database that could not be reached (down, restarting, cut off):
/// a 503 the caller may retry, not a fault of ours or theirs.
fn database_unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_unavailable)
    })
}

/// How long a caller is told to wait before trying again after a 503.
const RETRY_AFTER_SECONDS: u32 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if retry {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    /// A stored row that does not decode (its layers, its waves): the engine's one conversion
    /// decides its kind (in practice internal: a 500).
    fn from(e: StoreError) -> Self {
        tandem_engine::Error::from(e).into()
    }
}

impl From<tandem_engine::Error> for ApiError {
    /// Each kind of engine error has its one status: the caller's mistakes and the engine's
    /// refusals are 4xx with the engine's message; anything internal is a logged 500.
    fn from(e: tandem_engine::Error) -> Self {
        use tandem_engine::Error;
        match e {
            Error::NotFound { message, .. } => ApiError::not_found(message),
            Error::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            // A rule's refusal with its problems listed is an invalid change, as the API says.
            Error::Refused {
                reason,
                details: Some(details),
            } => Self {
                details: Some(details),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_change", reason)
            },
            Error::Refused { reason, details: None } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", reason)
            }
            Error::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            Error::Invalid { message, .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", message),
            Error::Internal(e) if database_unreachable(&e) => ApiError::unavailable(&e),
            Error::Internal(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the request body is larger than the {} bytes this route accepts: send less",
                    MAX_BODY_BYTES
                ),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "this route takes a JSON body: send it with `Content-Type: application/json`",
            ),
            _ => ApiError::bad_request(format!(
                "the request body is not valid JSON for this route: {}",
                r.body_text()
            )),
        }
    }
}

/// The largest request body a JSON route reads: axum's default limit, which the server keeps.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request(format!(
            "the query string is not valid for this route: {}",
            r.body_text()
        ))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::bad_request(format!("the path is not valid for this route: {}", r.body_text()))
    }
}

/// `axum::Json`, with rejections turned into [`ApiError`]s (400 with our JSON body).
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// `axum::extract::Query` with our error body.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

/// `axum::extract::Path` with our error body.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParam<T>(pub T);

/// What a handler returns: its answer, or the error answered instead.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_error_has_its_status() {
        use tandem_engine::Error;
        let cases = [
            (Error::missing("run 7"), StatusCode::NOT_FOUND, "not_found"),
            (
                Error::conflict("run 7 is still running"),
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                Error::Forbidden("an operator must approve".into()),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                Error::refused("nothing to review"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
            (
                Error::invalid_at("value", "the value is empty"),
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
            ),
        ];
        for (e, status, code) in cases {
            let message = e.to_string();
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code), (status, code), "{message}");
            assert_eq!(api.message, message);
        }
        let refused = ApiError::from(Error::Refused {
            reason: "market `xx`: not a market of the platform".into(),
            details: Some(serde_json::json!({ "unknown_markets": ["xx"] })),
        });
        assert_eq!(
            (refused.status, refused.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_change")
        );
        assert_eq!(refused.details, Some(serde_json::json!({ "unknown_markets": ["xx"] })));
    }

    #[test]
    fn unknown_io_and_database_errors_are_500_without_details() {
        let internal = |e: anyhow::Error| ApiError::from(tandem_engine::Error::from(e));
        let unknown = internal(anyhow::anyhow!("release v3 is not deployable: see /srv/tandem/x"));
        assert_eq!(unknown.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!unknown.message.contains("/srv/tandem"), "{}", unknown.message);

        let disk = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "/srv/tandem/blobs/ab");
        let fault = internal(anyhow::Error::new(disk).context("cannot copy the artifact"));
        assert_eq!(fault.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!fault.message.contains("/srv/tandem"), "{}", fault.message);

        let database: anyhow::Error = StoreError::Corrupt {
            what: "table runs".into(),
            message: "bad row".into(),
        }
        .into();
        let fault = internal(database.context("cannot start the rollout"));
        assert_eq!(fault.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!fault.message.contains("runs"), "{}", fault.message);
        assert!(fault.details.is_none());
    }
}
