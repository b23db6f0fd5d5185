//! Names and near-misses shared by every file Tandem reads: what a service, job or secret may be
//! called, and the "did you mean" hint for a word that is close to a known one.

/// Whether `name` is a valid service or job name.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether `name` can name a secret (it becomes an environment variable of the steps using it).
pub fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The known word closest to `word`, if one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// The " (did you mean `x`?)" part of an error when `word` is close to one of `known`, else empty.
pub fn did_you_mean(word: &str, known: &[&str]) -> String {
    closest(word, known)
        .map(|h| format!(" (did you mean `{h}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_hint() {
        assert_eq!(closest("brnch", &["branch", "event"]), Some("branch"));
        assert_eq!(closest("zzz", &["branch", "event"]), None);
        assert_eq!(did_you_mean("brnch", &["branch"]), " (did you mean `branch`?)");
        assert_eq!(did_you_mean("zzz", &["branch"]), "");
    }
}
