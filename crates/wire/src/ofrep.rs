//! OpenFeature Remote Evaluation Protocol (OFREP) answers, as a client reads them: the routes
//! under `/ofrep/v1` answer in OFREP's own shapes (not `/api/v1`'s), with the field names of
//! the OFREP specification. The server writes them from `tandem_core::flags::ofrep`.
//!
//! - `POST /ofrep/v1/evaluate/flags/{key}` answers one [`Evaluation`]: 200 with a value, or
//!   400/404 with an error code.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The answer for one flag: its value, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Evaluation {
    /// `evaluationFailure` (and `flagNotFound`): why the flag has no value. Listed first: only
    /// a failure has `errorCode`, while a success's `value` may be any JSON, `null` included.
    Failure(EvaluationFailure),
    /// `evaluationSuccess`: the flag's value.
    Success(EvaluationSuccess),
}

/// `evaluationSuccess`: the value of one flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSuccess {
    /// The flag's key.
    pub key: String,
    /// Its value: a boolean, string, number or JSON object, as the flag declares.
    pub value: Value,
    /// Why it has this value, in OpenFeature's words (`STATIC`, `TARGETING_MATCH`, `SPLIT`,
    /// `DISABLED`, `DEFAULT`, …); left out when the server gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The name of the variant served; left out when the server gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The flag's metadata (an object, often empty); left out when the server gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// `evaluationFailure`: why one flag has no value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationFailure {
    /// The flag's key, as asked.
    pub key: String,
    /// OpenFeature's error code (`FLAG_NOT_FOUND`, `PARSE_ERROR`, `INVALID_CONTEXT`,
    /// `TARGETING_KEY_MISSING`, `TYPE_MISMATCH`, `GENERAL`).
    pub error_code: String,
    /// What went wrong and what to fix, for a person; left out when the server gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_success_reads_back_field_for_field() {
        let body = json!({
            "key": "new-checkout",
            "value": true,
            "reason": "SPLIT",
            "variant": "on",
            "metadata": {}
        });
        let read: Evaluation = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}"));
        let Evaluation::Success(s) = &read else {
            panic!("a success read as {read:?}");
        };
        assert_eq!((s.key.as_str(), &s.value), ("new-checkout", &json!(true)));
        assert_eq!((s.reason.as_deref(), s.variant.as_deref()), (Some("SPLIT"), Some("on")));
        assert_eq!(serde_json::to_value(&read).ok(), Some(body));
    }

    #[test]
    fn a_null_value_is_a_success_and_an_error_code_a_failure() {
        let null: Evaluation = serde_json::from_value(json!({"key": "k", "value": null, "reason": "STATIC"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(null, Evaluation::Success(ref s) if s.value.is_null()),
            "{null:?}"
        );
        let body = json!({"key": "k", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "no flag `k`"});
        let failed: Evaluation = serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}"));
        let Evaluation::Failure(f) = &failed else {
            panic!("a failure read as {failed:?}");
        };
        assert_eq!(f.error_code, "FLAG_NOT_FOUND");
        assert_eq!(f.error_details.as_deref(), Some("no flag `k`"));
        assert_eq!(serde_json::to_value(&failed).ok(), Some(body));
    }
}
