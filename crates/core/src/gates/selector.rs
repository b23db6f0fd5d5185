//! PromQL-style series selectors: `name{label="v", label!="v", label=~"re", label!~"re"}`.

use super::cursor::Cursor;
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// How a label matcher compares a series' label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`: the whole value matches the regex.
    Matches,
    /// `!~`
    NotMatches,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Matches => "=~",
            MatchOp::NotMatches => "!~",
        }
    }
}

/// One `label op "value"` condition. A label a series lacks counts as the empty string, as in PromQL.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
    /// `^(?s:value)$` for the regex operators.
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.label, self.op, &self.value) == (&other.label, other.op, &other.value)
    }
}

impl Matcher {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.label).map_or("", String::as_str);
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Matches, Some(re)) => re.is_match(value),
            (MatchOp::NotMatches, Some(re)) => !re.is_match(value),
            // Parsing always compiles a regex for these operators.
            (MatchOp::Matches | MatchOp::NotMatches, None) => false,
        }
    }
}

/// A metric name and label matchers; its value on a scrape is the sum over the series it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    name: String,
    matchers: Vec<Matcher>,
}

/// Why a selector does not parse, and where (in characters from its start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SelectorError {
    pub offset: usize,
    pub message: String,
}

impl Selector {
    /// Parses `name`, `name{}` or `name{label op "value", …}`; values may be in `"…"`, `'…'` or `` `…` ``.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut c = Cursor::new(text);
        let fail = |c: &Cursor<'_>, message: String| SelectorError {
            offset: c.offset(),
            message,
        };
        c.skip_blanks();
        let Some(name) = c.name(true) else {
            return Err(fail(&c, "expected a metric name, such as `http_requests_total`".into()));
        };
        let mut matchers = Vec::new();
        c.skip_blanks();
        if c.eat("{") {
            loop {
                c.skip_blanks();
                if c.eat("}") {
                    break;
                }
                let Some(label) = c.name(false) else {
                    return Err(fail(&c, "expected a label name or `}`".into()));
                };
                c.skip_blanks();
                let op = if c.eat("=~") {
                    MatchOp::Matches
                } else if c.eat("!~") {
                    MatchOp::NotMatches
                } else if c.eat("!=") {
                    MatchOp::NotEqual
                } else if c.eat("=") {
                    MatchOp::Equal
                } else {
                    return Err(fail(&c, format!("expected `=`, `!=`, `=~` or `!~` after `{label}`")));
                };
                c.skip_blanks();
                let value_at = c.offset();
                let value = match c.peek() {
                    Some('`') => {
                        c.eat("`");
                        c.raw('`')
                            .ok_or_else(|| fail(&c, "the string has no closing `".into()))?
                    }
                    Some(q @ ('"' | '\'')) => {
                        c.eat(if q == '"' { "\"" } else { "'" });
                        c.quoted(q, unescape_promql).map_err(|e| fail(&c, e))?
                    }
                    _ => {
                        return Err(fail(
                            &c,
                            format!("expected a quoted value after `{label}{}`", op.as_str()),
                        ));
                    }
                };
                let regex = match op {
                    MatchOp::Matches | MatchOp::NotMatches => {
                        Some(compile(&value).map_err(|message| SelectorError {
                            offset: value_at,
                            message,
                        })?)
                    }
                    MatchOp::Equal | MatchOp::NotEqual => None,
                };
                matchers.push(Matcher {
                    label: label.to_string(),
                    op,
                    value,
                    regex,
                });
                c.skip_blanks();
                if !c.eat(",") && c.peek() != Some('}') {
                    return Err(fail(&c, "expected `,` or `}` after a label matcher".into()));
                }
            }
        }
        c.skip_blanks();
        if !c.at_end() {
            return Err(fail(&c, format!("unexpected `{}` after the selector", c.rest())));
        }
        Ok(Selector {
            name: name.to_string(),
            matchers,
        })
    }

    /// The metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Whether a series with these labels (its name aside) passes every matcher.
    pub fn matches_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }

    /// Whether the series `name{labels}` is one this selector sums.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        name == self.name && self.matches_labels(labels)
    }

    /// The same matchers on another metric name (`x` → `x_bucket`).
    pub fn with_name(&self, name: &str) -> Selector {
        Selector {
            name: name.to_string(),
            matchers: self.matchers.clone(),
        }
    }
}

/// Compiles a PromQL regex: anchored at both ends, `.` also matching a newline.
fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?s:{pattern})$")).map_err(|e| {
        let detail = e.to_string();
        // The crate's message quotes our anchored pattern with a caret line; keep its last verdict.
        let detail = detail.rsplit_once("error: ").map_or(detail.as_str(), |(_, d)| d).trim();
        format!("regex `{pattern}` is not valid: {detail}")
    })
}

fn unescape_promql(c: char) -> Option<char> {
    match c {
        '\\' | '"' | '\'' => Some(c),
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        _ => None,
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let value = m
                .value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\t', "\\t")
                .replace('\r', "\\r");
            write!(f, "{}{}\"{value}\"", m.label, m.op.as_str())?;
        }
        f.write_str("}")
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Selector::parse(&text).map_err(|e| serde::de::Error::custom(format!("selector `{text}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_operator_matches_as_in_promql() {
        let ok = labels(&[("code", "503"), ("path", "/")]);
        let not_found = labels(&[("code", "404"), ("path", "/")]);
        let cases = [
            (r#"m{code="503"}"#, true, false),
            (r#"m{code!="503"}"#, false, true),
            (r#"m{code=~"5.."}"#, true, false),
            (r#"m{code!~"5.."}"#, false, true),
            // Anchored: `5` alone does not match `503`, nor does `0` match inside it.
            (r#"m{code=~"5"}"#, false, false),
            (r#"m{code=~"0"}"#, false, false),
            (r#"m{code=~"5.*|404", path="/"}"#, true, true),
        ];
        for (text, on_503, on_404) in cases {
            let s = Selector::parse(text).unwrap();
            assert_eq!(s.matches("m", &ok), on_503, "{text} on 503");
            assert_eq!(s.matches("m", &not_found), on_404, "{text} on 404");
            assert!(!s.matches("other", &ok), "{text} on another name");
        }
    }

    #[test]
    fn a_missing_label_counts_as_empty() {
        let none = labels(&[]);
        assert!(Selector::parse(r#"m{code=""}"#).unwrap().matches("m", &none));
        assert!(Selector::parse(r#"m{code!="500"}"#).unwrap().matches("m", &none));
        assert!(!Selector::parse(r#"m{code=~".+"}"#).unwrap().matches("m", &none));
        assert!(Selector::parse("m").unwrap().matches("m", &none));
    }

    #[test]
    fn values_take_three_quote_styles_and_escapes() {
        let s = Selector::parse(r#" m { a = 'x\'y' , b=~`5\d\d`, c="q\"\\" , } "#).unwrap();
        let values: Vec<&str> = s.matchers().iter().map(|m| m.value.as_str()).collect();
        assert_eq!(values, ["x'y", r"5\d\d", r#"q"\"#]);
        assert!(s.matches("m", &labels(&[("a", "x'y"), ("b", "502"), ("c", r#"q"\"#)])));
        assert_eq!(s.to_string(), r#"m{a="x'y",b=~"5\\d\\d",c="q\"\\"}"#);
        assert_eq!(Selector::parse("m{}").unwrap().to_string(), "m");
    }

    #[test]
    fn bad_selectors_say_what_and_where() {
        for (text, offset, message) in [
            ("", 0, "expected a metric name"),
            ("5xx", 0, "expected a metric name"),
            ("m{code==\"5\"}", 7, "expected a quoted value after `code=`"),
            ("m{code~\"5\"}", 6, "expected `=`, `!=`, `=~` or `!~` after `code`"),
            ("m{code=\"5}", 8, "no closing \""),
            ("m{code=~\"5(..\"}", 8, "regex `5(..` is not valid: unclosed group"),
            ("m{code=\"5\\d\"}", 9, "`\\d` is not a known escape sequence"),
            ("m{a=\"1\" b=\"2\"}", 8, "expected `,` or `}`"),
            ("m{a=\"1\"} extra", 9, "unexpected `extra`"),
        ] {
            let err = Selector::parse(text).unwrap_err();
            assert!(err.message.contains(message), "{text}: {err}");
            assert_eq!(err.offset, offset, "{text}: {err}");
        }
    }

    #[test]
    fn serialises_as_its_text() {
        let s = Selector::parse(r#"http_requests_total{code=~"5.."}"#).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#""http_requests_total{code=~\"5..\"}""#);
        assert_eq!(serde_json::from_str::<Selector>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Selector>(r#""m{a=~\"(\"}""#).is_err());
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_selector(
            name in "[a-z_:][a-z0-9_:]{0,12}",
            matchers in proptest::collection::btree_map("[a-z_][a-z0-9_]{0,6}", (0usize..4, "[ -~\n\t]{0,8}"), 0..4),
        ) {
            let mut text = format!("{name}{{");
            for (label, (op, value)) in &matchers {
                // Regex values are kept to plain words so that they compile.
                let (op, value) = match op {
                    0 => ("=", value.clone()),
                    1 => ("!=", value.clone()),
                    2 => ("=~", value.chars().filter(|c| c.is_ascii_alphanumeric()).collect()),
                    _ => ("!~", value.chars().filter(|c| c.is_ascii_alphanumeric()).collect()),
                };
                let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\t', "\\t");
                text.push_str(&format!("{label}{op}\"{escaped}\","));
            }
            text.push('}');
            let parsed = Selector::parse(&text).unwrap();
            prop_assert_eq!(Selector::parse(&parsed.to_string()).unwrap(), parsed);
        }
    }
}
