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

/// Longest market id: room for a store or site code (`fr-paris-0042`), short enough for a path.
pub const MAX_MARKET_ID: usize = 40;

/// Whether `id` is a valid market id: a country's lower-case ISO 3166 alpha-2 code (`fr`), or,
/// for teams whose markets are stores, regions, tenants or edge sites, a longer code of
/// lower-case letters, digits and dashes that starts with a letter (`fr-paris-02`).
pub fn is_market_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() >= 2
        && id.len() <= MAX_MARKET_ID
        && matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.ends_with('-')
}

/// What a valid market id looks like, for errors.
pub const MARKET_ID_EXPECTED: &str = "expected a lower-case ISO 3166 alpha-2 code such as `fr`, or a code of lower-case \
letters, digits and dashes starting with a letter, such as `fr-paris-02` (at most 40 characters)";

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
    fn market_ids_are_countries_or_longer_codes() {
        for ok in ["fr", "gb", "fr-paris-02", "m0001", "store-4711"] {
            assert!(is_market_id(ok), "{ok}");
        }
        for bad in [
            "",
            "f",
            "FR",
            "1fr",
            "fr_paris",
            "fr-",
            "-fr",
            "fr paris",
            &"a".repeat(41),
        ] {
            assert!(!is_market_id(bad), "{bad}");
        }
    }

    #[test]
    fn typos_get_a_hint() {
        assert_eq!(closest("brnch", &["branch", "event"]), Some("branch"));
        assert_eq!(closest("zzz", &["branch", "event"]), None);
        assert_eq!(did_you_mean("brnch", &["branch"]), " (did you mean `branch`?)");
        assert_eq!(did_you_mean("zzz", &["branch"]), "");
    }
}
