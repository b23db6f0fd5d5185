//! Idea keys (`T-12`, `SHOP-431`) and finding them in commit messages.

/// The keys of ideas mentioned in a commit message, in order of first mention, without repeats.
///
/// A key is an upper-case project prefix (letters, then letters or digits), a dash, and a number,
/// standing as a word of its own: `T-12` matches in "fix T-12: totals" but not in "AT-12x".
pub fn find_idea_keys(message: &str) -> Vec<String> {
    let bytes = message.as_bytes();
    let mut keys: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if starts_word && bytes[i].is_ascii_uppercase() {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_uppercase() || bytes[j].is_ascii_digit()) {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'-' {
                let mut k = j + 1;
                while k < bytes.len() && bytes[k].is_ascii_digit() {
                    k += 1;
                }
                let ends_word = k == bytes.len() || !bytes[k].is_ascii_alphanumeric();
                if k > j + 1 && ends_word {
                    let key = &message[i..k];
                    if !keys.iter().any(|existing| existing == key) {
                        keys.push(key.to_string());
                    }
                    i = k;
                    continue;
                }
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    keys
}

/// The key of the `n`th idea created in Tandem itself.
pub fn idea_key(n: i64) -> String {
    format!("T-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_keys_as_whole_words() {
        assert_eq!(find_idea_keys("T-12: fix totals (SHOP-431)"), ["T-12", "SHOP-431"]);
        assert_eq!(find_idea_keys("AT-12x and t-3 and T- and -4"), Vec::<String>::new());
        assert_eq!(find_idea_keys("T-1 T-1 again, then T-2."), ["T-1", "T-2"]);
        assert_eq!(find_idea_keys("Merge 'feature/T-7-vat'"), ["T-7"]);
    }

    proptest! {
        #[test]
        fn a_key_written_anywhere_is_found(prefix in "[a-z ]{0,10}", n in 1u32..100000, suffix in "([ .:,)][a-z ]{0,10})?") {
            let msg = format!("{prefix} T-{n}{suffix}");
            let key = format!("T-{n}");
            prop_assert!(find_idea_keys(&msg).contains(&key));
        }

        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = find_idea_keys(&s);
        }
    }
}

/// Every commit reachable from `tip` through parents (including `tip`), given each commit's
/// parents. Commits missing from the map end the walk on their branch.
pub fn reachable<'a>(
    parents: &'a std::collections::HashMap<String, Vec<String>>,
    tip: &'a str,
) -> std::collections::HashSet<&'a str> {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![tip];
    while let Some(sha) = stack.pop() {
        if !seen.insert(sha) {
            continue;
        }
        if let Some(ps) = parents.get(sha) {
            stack.extend(ps.iter().map(String::as_str));
        }
    }
    seen
}

#[cfg(test)]
mod reach_tests {
    use super::reachable;
    use std::collections::HashMap;

    #[test]
    fn merges_reach_both_sides() {
        let g: HashMap<String, Vec<String>> = [
            ("m".to_string(), vec!["a".to_string(), "b".to_string()]),
            ("a".to_string(), vec!["root".to_string()]),
            ("b".to_string(), vec!["root".to_string()]),
            ("c".to_string(), vec!["m".to_string()]),
        ]
        .into();
        let r = reachable(&g, "m");
        assert!(r.contains("a") && r.contains("b") && r.contains("root") && r.contains("m"));
        assert!(!r.contains("c"));
    }
}
