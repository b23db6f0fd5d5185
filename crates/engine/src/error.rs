//! The engine's error: what went wrong, said so that the server can answer with the right status
//! without reading messages.
//!
//! Every refusal the engine makes (a thing that does not exist, a state that forbids the
//! action, a rule that says no, a caller without the right, input that is wrong) is one of the
//! variants below, with the message the caller reads. Anything else is [`Error::Internal`]: our
//! own fault (disk, database, a task that died), kept whole for the log and never shown.
//!
//! Every public function of the engine returns [`Result`]. Private helpers that only fail
//! through our own fault (git, disk, a child process) may still use `anyhow`; their errors
//! become [`Error::Internal`] at the door, whole, and a refusal is never carried inside one.

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
    /// Our own fault, with its whole chain for the log. Refusals are never carried in an
    /// `anyhow::Error`: a helper that can refuse returns this type, so nothing is looked for
    /// in the chain.
    fn from(e: anyhow::Error) -> Self {
        Error::Internal(e)
    }
}

impl From<crate::mirror::FetchError> for Error {
    /// A service's repository that cannot be fetched: the rule "a build needs its branch"
    /// refuses, naming the service and the URL (never a credential).
    fn from(e: crate::mirror::FetchError) -> Self {
        Error::refused(e.to_string())
    }
}

impl From<std::fmt::Error> for Error {
    /// Writing text into a `String` (a postmortem draft), which only fails if formatting does.
    fn from(e: std::fmt::Error) -> Self {
        Error::Internal(e.into())
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
    fn a_failed_fetch_is_a_refusal_naming_the_service() {
        let fetch = crate::mirror::FetchError {
            service: "shop".into(),
            url: "git://example.invalid/shop.git".into(),
            branch: "main".into(),
            reason: "connection refused".into(),
        };
        let e = Error::from(fetch);
        assert!(matches!(&e, Error::Refused { details: None, .. }), "{e:?}");
        assert!(e.to_string().contains("`shop`"), "{e}");
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

        // Even a store's not-found inside an `anyhow::Error` is ours: refusals are typed.
        let carried: anyhow::Error = StoreError::not_found("release 9").into();
        assert!(Error::from(carried).is_internal());
    }
}
