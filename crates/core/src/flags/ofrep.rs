//! The OpenFeature Remote Evaluation Protocol (OFREP) on the wire: reading a request's
//! context and shaping responses, field for field as in open-feature/protocol's
//! `service/openapi.yaml` (OFREP 0.1.0) and its ADR 0008 (SSE refetch events).
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}` → 200 [`EvaluationSuccess`], or 400/404
//!   [`EvaluationFailure`] ([`ErrorCode::http_status`]).
//! - `POST /ofrep/v1/evaluate/flags` → 200 [`BulkEvaluationSuccess`] with an `ETag`
//!   ([`FlagSet::bulk_etag`](super::FlagSet::bulk_etag)), 304 when [`if_none_match`] holds,
//!   or 400 [`BulkEvaluationFailure`] when the request itself is bad.

use super::eval::{ErrorCode, Evaluation, EvaluationContext, EvaluationError, Reason, TARGETING_KEY, json_kind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An example body for error messages.
const EXAMPLE: &str = r#"{"context": {"targetingKey": "user-1", "market": "fr"}}"#;

/// Reads the context of an evaluation request body, `{"context": {...}}`, for the single
/// and the bulk endpoint. An empty body, or one without `context`, is an empty context.
pub fn parse_request(body: &[u8]) -> Result<EvaluationContext, EvaluationError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(EvaluationContext::default());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        EvaluationError::new(
            ErrorCode::ParseError,
            format!("the request body is not valid JSON ({e}): expected an object such as {EXAMPLE}"),
        )
    })?;
    let Value::Object(mut body) = value else {
        return Err(EvaluationError::new(
            ErrorCode::ParseError,
            format!(
                "`$`: the request body is {}: expected an object such as {EXAMPLE}",
                json_kind(&value)
            ),
        ));
    };
    match body.remove("context") {
        None | Some(Value::Null) => Ok(EvaluationContext::default()),
        Some(context) => context_from_json(context),
    }
}

/// Turns the JSON value of `$.context` into an evaluation context.
pub fn context_from_json(context: Value) -> Result<EvaluationContext, EvaluationError> {
    let Value::Object(mut attributes) = context else {
        return Err(EvaluationError::new(
            ErrorCode::InvalidContext,
            format!(
                "`$.context` is {}: expected an object such as {{\"targetingKey\": \"user-1\"}}",
                json_kind(&context)
            ),
        ));
    };
    let ctx = match attributes.remove(TARGETING_KEY) {
        None | Some(Value::Null) => EvaluationContext::from_attributes(attributes),
        Some(Value::String(key)) => EvaluationContext::from_attributes(attributes).with_targeting_key(key),
        Some(other) => {
            return Err(EvaluationError::new(
                ErrorCode::InvalidContext,
                format!(
                    "`$.context.{TARGETING_KEY}` is {}: expected a string such as \"user-1\"",
                    json_kind(&other)
                ),
            ));
        }
    };
    Ok(ctx)
}

/// `evaluationSuccess`: the value of one flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationSuccess<'a> {
    pub key: &'a str,
    pub value: &'a Value,
    pub reason: Reason,
    pub variant: &'a str,
    pub metadata: &'a Map<String, Value>,
}

/// `evaluationFailure` (and `flagNotFound`): why one flag has no value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationFailure<'a> {
    pub key: &'a str,
    pub error_code: ErrorCode,
    pub error_details: &'a str,
}

/// The body for one flag: the single endpoint's response, or an item of the bulk one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FlagResponse<'a> {
    Success(EvaluationSuccess<'a>),
    Failure(EvaluationFailure<'a>),
}

impl<'a> FlagResponse<'a> {
    pub fn new(e: &'a Evaluation<'_>) -> Self {
        match &e.result {
            Ok(r) => FlagResponse::Success(EvaluationSuccess {
                key: e.key,
                value: r.value,
                reason: r.reason,
                variant: r.variant,
                metadata: r.metadata,
            }),
            Err(err) => FlagResponse::Failure(EvaluationFailure {
                key: e.key,
                error_code: err.code,
                error_details: &err.details,
            }),
        }
    }

    /// The HTTP status of the single-flag endpoint for this body.
    pub fn status(&self) -> u16 {
        match self {
            FlagResponse::Success(_) => 200,
            FlagResponse::Failure(f) => f.error_code.http_status(),
        }
    }
}

/// `bulkEvaluationSuccess`: every flag of the service, successes and failures alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkEvaluationSuccess<'a> {
    pub flags: Vec<FlagResponse<'a>>,
    /// Where to listen for changes (ADR 0008); absent means "poll".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_connections: Option<Vec<RefreshConnection>>,
}

impl<'a> BulkEvaluationSuccess<'a> {
    pub fn new(evaluations: &'a [Evaluation<'_>]) -> Self {
        Self {
            flags: evaluations.iter().map(FlagResponse::new).collect(),
            refresh_connections: None,
        }
    }
}

/// `bulkEvaluationFailure`: the bulk request itself is bad (400).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkEvaluationFailure<'a> {
    pub error_code: ErrorCode,
    pub error_details: &'a str,
}

impl<'a> BulkEvaluationFailure<'a> {
    pub fn new(e: &'a EvaluationError) -> Self {
        Self {
            error_code: e.code,
            error_details: &e.details,
        }
    }
}

/// The single-flag endpoint's body when the request itself is bad (400): the flag key
/// from the path and the request error.
pub fn request_failure<'a>(key: &'a str, e: &'a EvaluationError) -> EvaluationFailure<'a> {
    EvaluationFailure {
        key,
        error_code: e.code,
        error_details: &e.details,
    }
}

/// `generalErrorResponse`: a fault of ours (500).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneralErrorResponse<'a> {
    pub error_details: &'a str,
}

/// A push channel a client listens to for changes (ADR 0008's `refreshConnection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshConnection {
    /// `sse`, the only type defined.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivity_delay_sec: Option<u64>,
}

impl RefreshConnection {
    pub fn sse(url: impl Into<String>) -> Self {
        Self {
            kind: "sse".to_string(),
            url: url.into(),
            inactivity_delay_sec: None,
        }
    }
}

/// The `data` of an SSE message telling clients to fetch the bulk evaluation again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefetchEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The definitions' ETag ([`FlagSet::etag`](super::FlagSet::etag)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<&'a str>,
    /// When the flags last changed, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

impl<'a> RefetchEvent<'a> {
    pub fn new(etag: Option<&'a str>, last_modified: Option<i64>) -> Self {
        Self {
            kind: "refetchEvaluation",
            etag,
            last_modified,
        }
    }
}

/// Whether an `If-None-Match` header value matches `etag`, so the answer is 304: `*`, or
/// one of its comma-separated tags equal to `etag` (weak `W/` prefixes ignored).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    fn strong(tag: &str) -> &str {
        let tag = tag.trim();
        tag.strip_prefix("W/").unwrap_or(tag)
    }
    let etag = strong(etag);
    header.split(',').any(|t| t.trim() == "*" || strong(t) == etag)
}
