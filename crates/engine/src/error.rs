//! The engine's error: what went wrong, said so that the server can answer with the right status
//! without reading messages.
//!
//! Every refusal the engine makes (a thing that does not exist, a state that forbids the
//! action, a rule that says no, a caller without the right, input that is wrong) is one of the
//! variants below, with the message the caller reads. Anything else is [`Error::Internal`]: our
//! own fault (disk, database, a task that died), kept whole for the log and never shown.
//!
//! Functions that still return `anyhow::Result` raise their refusals as these values, so
//! [`Error::from`] an `anyhow::Error` finds them again in the chain.

use tandem_store::StoreError;

/// The engine's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the engine did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{message}")]
    NotFound {
        /// What kind of thing (`service`, `run 12`, …).
        what: String,
        /// Which one, as the caller named it (empty when `what` says it).
        which: String,
        /// The message the caller reads.
        message: String,
    },
    /// The thing is in a state that does not allow this (already running, already resolved, a
    /// market held by another rollout, …).
    #[error("{0}")]
    Conflict(String),
    /// A rule of the platform refused it: nothing was stored.
    #[error("{reason}")]
    Refused {
        /// The rule's reason, for the caller.
        reason: String,
        /// Per problem, where (market, path, expected), when the rule lists them.
        details: Option<serde_json::Value>,
    },
    /// The caller may not do this under the platform's policy.
    #[error("{0}")]
    Forbidden(String),
    /// What the caller sent (or the file it points at) is wrong.
    #[error("{message}")]
    Invalid {
        /// What was wrong, and where, for the caller.
        message: String,
        /// Where: a field, a file's line or a market, when one place is to blame.
        place: Option<String>,
    },
    /// Our own fault: kept whole for the log, never shown to the caller.
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl Error {
    /// `{what} {which} not found`-style refusal with the caller's message.
    pub fn not_found(what: impl Into<String>, which: impl Into<String>, message: impl Into<String>) -> Self {
        Error::NotFound {
            what: what.into(),
            which: which.into(),
            message: message.into(),
        }
    }

    /// `{what} not found`, said as the store says it (`what` names the thing and which one).
    pub fn missing(what: impl Into<String>) -> Self {
        let what = what.into();
        Error::NotFound {
            message: format!("{what} not found"),
            what,
            which: String::new(),
        }
    }

    /// A conflict with the thing's current state.
    pub fn conflict(reason: impl Into<String>) -> Self {
        Error::Conflict(reason.into())
    }

    /// A refusal by a rule, with no per-problem details.
    pub fn refused(reason: impl Into<String>) -> Self {
        Error::Refused {
            reason: reason.into(),
            details: None,
        }
    }

    /// Wrong input, with no single place to blame beyond what the message says.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            place: None,
        }
    }

    /// Wrong input at `place` (a field, a file's line, a market).
    pub fn invalid_at(place: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
            place: Some(place.into()),
        }
    }

    /// Whether this is our own fault rather than a refusal of what was asked.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => Error::missing(what),
            StoreError::Conflict(reason) => Error::Conflict(reason),
            other => Error::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for Error {
    /// Finds the engine error (or a store's not-found or conflict, or a failed fetch of a
    /// service's repository) that the chain carries; anything else is internal.
    fn from(e: anyhow::Error) -> Self {
        if let Some(inner) = e.downcast_ref::<Error>() {
            // A refusal under a `.context(…)`: the context names where, the refusal says why.
            if !inner.is_internal() && e.chain().nth(1).is_some() {
                return retold(inner, format!("{e:#}"));
            }
            if e.chain().nth(1).is_some() {
                return Error::Internal(e);
            }
            return e.downcast::<Error>().unwrap_or_else(Error::Internal);
        }
        let e = match e.downcast::<StoreError>() {
            Ok(store) => return store.into(),
            Err(e) => e,
        };
        if let Some(fetch) = e.downcast_ref::<crate::mirror::FetchError>() {
            return Error::refused(fetch.to_string());
        }
        Error::Internal(e)
    }
}

/// `inner`'s kind, with `message` (the whole chain) as its text.
fn retold(inner: &Error, message: String) -> Error {
    match inner {
        Error::NotFound { what, which, .. } => Error::NotFound {
            what: what.clone(),
            which: which.clone(),
            message,
        },
        Error::Conflict(_) => Error::Conflict(message),
        Error::Refused { details, .. } => Error::Refused {
            reason: message,
            details: details.clone(),
        },
        Error::Forbidden(_) => Error::Forbidden(message),
        Error::Invalid { place, .. } => Error::Invalid {
            message,
            place: place.clone(),
        },
        Error::Internal(_) => unreachable!("internal errors are not retold"),
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_not_found_and_conflict_keep_their_kind_and_message() {
        let e = Error::from(StoreError::not_found("run 7"));
        assert!(matches!(&e, Error::NotFound { what, .. } if what == "run 7"), "{e:?}");
        assert_eq!(e.to_string(), "run 7 not found");

        let e = Error::from(StoreError::Conflict("market fr is held by rollout 3".into()));
        assert!(
            matches!(&e, Error::Conflict(m) if m == "market fr is held by rollout 3"),
            "{e:?}"
        );
    }

    #[test]
    fn other_store_errors_are_internal() {
        let e = Error::from(StoreError::Corrupt {
            what: "table runs".into(),
            message: "bad row".into(),
        });
        assert!(e.is_internal(), "{e:?}");
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "/srv/tandem/blobs");
        let e = Error::from(StoreError::Io {
            context: "cannot read a blob".into(),
            source: io,
        });
        assert!(e.is_internal(), "{e:?}");
    }

    #[test]
    fn an_engine_error_inside_anyhow_is_recovered() {
        let carried: anyhow::Error = Error::Forbidden("only an operator may approve".into()).into();
        let e = Error::from(carried);
        assert!(
            matches!(&e, Error::Forbidden(m) if m == "only an operator may approve"),
            "{e:?}"
        );

        let carried: anyhow::Error = Error::Refused {
            reason: "market `xx`: not a market of the platform".into(),
            details: Some(serde_json::json!([{ "market": "xx" }])),
        }
        .into();
        match Error::from(carried) {
            Error::Refused { reason, details } => {
                assert_eq!(reason, "market `xx`: not a market of the platform");
                assert_eq!(details, Some(serde_json::json!([{ "market": "xx" }])));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_store_error_inside_anyhow_is_recovered() {
        let carried: anyhow::Error = StoreError::not_found("release 9").into();
        assert!(matches!(Error::from(carried), Error::NotFound { .. }));
        let carried: anyhow::Error = StoreError::Corrupt {
            what: "table runs".into(),
            message: "bad row".into(),
        }
        .into();
        assert!(Error::from(carried.context("cannot start the rollout")).is_internal());
    }

    #[test]
    fn a_refusal_under_context_keeps_its_kind_and_says_both() {
        let carried = anyhow::Error::from(Error::invalid("no `jobs` in tandem.yml")).context("no release");
        match Error::from(carried) {
            Error::Invalid { message, .. } => assert_eq!(message, "no release: no `jobs` in tandem.yml"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anything_else_is_internal_and_kept_for_the_log() {
        let disk = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "/srv/tandem/blobs/ab");
        let e = Error::from(anyhow::Error::new(disk).context("cannot copy the artifact"));
        assert!(e.is_internal());
        assert!(
            format!("{e}").contains("/srv/tandem/blobs/ab"),
            "the log keeps the cause: {e}"
        );

        let plain = Error::from(anyhow::anyhow!("something nobody named"));
        assert!(plain.is_internal(), "{plain:?}");
    }
}
