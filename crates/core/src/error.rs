//! Errors in files a user writes: each names the file, line and column.

use std::fmt;

/// One problem in a user's file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SpecError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Every problem found in one file; reported together so the user fixes them in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

impl SpecErrors {
    /// Turns a YAML parse error into a located error for `file`.
    pub fn from_yaml(file: &str, err: &serde_saphyr::Error) -> Self {
        let (line, column) = err.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let message = err.without_snippet().to_string();
        // The crate appends its own "at line X column Y"; ours is in front already.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        SpecErrors(vec![SpecError {
            file: file.to_string(),
            line,
            column,
            message,
        }])
    }
}

/// Collects located errors while validating a parsed file.
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    file: &'a str,
    errors: Vec<SpecError>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(file: &'a str) -> Self {
        Self {
            file,
            errors: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, at: &serde_saphyr::Location, message: impl Into<String>) {
        self.push_at(at.line(), at.column(), message);
    }

    pub(crate) fn push_at(&mut self, line: u64, column: u64, message: impl Into<String>) {
        self.errors.push(SpecError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, SpecErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|e| (e.line, e.column));
            Err(SpecErrors(self.errors))
        }
    }
}

/// A map key that remembers where it was written, ordered by its text (for `BTreeMap`s of a
/// parsed file whose errors name the key's place).
#[derive(serde::Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub(crate) struct Key(pub(crate) serde_saphyr::Spanned<String>);

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.value.cmp(&other.0.value)
    }
}
