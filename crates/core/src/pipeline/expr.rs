//! Conditions for `if:` on jobs and steps, a small language that reads like GitHub Actions':
//!
//! ```text
//! branch == 'main' && event != 'schedule'
//! changed('src/**') || changed('Cargo.lock')
//! failure()            # the step runs only after an earlier step failed
//! ```
//!
//! Values are strings; `&&`, `||`, `!` and parentheses combine conditions. Identifiers name
//! facts of the run (`branch`, `event`, `service`, `job`, and `matrix.NAME`).

use globset::Glob;
use std::collections::BTreeMap;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Var(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Eq(Box<Expr>, Box<Expr>),
    Ne(Box<Expr>, Box<Expr>),
    /// `changed('glob')`: a file matching the glob changed in the commits being built.
    Changed(String),
    /// `success()`, `failure()`, `always()`.
    Status(StatusFn),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFn {
    Success,
    Failure,
    Always,
}

/// A parse error: what is wrong and at which character (0-based) of the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

/// Facts a condition is evaluated against.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub vars: BTreeMap<String, String>,
    /// Paths changed by the commits being built; `None` when unknown (then `changed()` is true).
    pub changed: Option<Vec<String>>,
    /// Whether everything before this point succeeded.
    pub ok_so_far: bool,
}

const VARS: &[&str] = &["branch", "event", "service", "job", "commit"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Ident(String),
    And,
    Or,
    Not,
    Eq,
    Ne,
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ExprError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset, message: String| ExprError { offset, message };
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|x| x.1);
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push((at, Tok::Open));
                i += 1
            }
            ')' => {
                out.push((at, Tok::Close));
                i += 1
            }
            '&' if next == Some('&') => {
                out.push((at, Tok::And));
                i += 2
            }
            '|' if next == Some('|') => {
                out.push((at, Tok::Or));
                i += 2
            }
            '=' if next == Some('=') => {
                out.push((at, Tok::Eq));
                i += 2
            }
            '!' if next == Some('=') => {
                out.push((at, Tok::Ne));
                i += 2
            }
            '!' => {
                out.push((at, Tok::Not));
                i += 1
            }
            '\'' | '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(err(at, "a string is not closed: add the closing quote".into())),
                        Some((_, q)) if *q == c => break,
                        Some((_, ch)) => s.push(*ch),
                    }
                    j += 1;
                }
                out.push((at, Tok::Str(s)));
                i = j + 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i;
                while chars
                    .get(j)
                    .is_some_and(|(_, ch)| ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '.' || *ch == '-')
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().map(|x| x.1).collect();
                out.push((at, Tok::Ident(word)));
                i = j;
            }
            '=' => return Err(err(at, "`=` is not an operator: use `==` to compare".into())),
            '&' | '|' => return Err(err(at, format!("`{c}` is not an operator: use `{c}{c}`"))),
            other => return Err(err(at, format!("unexpected `{other}`"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError {
            offset: self.at(),
            message: message.into(),
        })
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.cmp()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.cmp()?));
        }
        Ok(left)
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let left = self.unary()?;
        match self.peek() {
            Some(Tok::Eq) => {
                self.pos += 1;
                Ok(Expr::Eq(Box::new(left), Box::new(self.unary()?)))
            }
            Some(Tok::Ne) => {
                self.pos += 1;
                Ok(Expr::Ne(Box::new(left), Box::new(self.unary()?)))
            }
            _ => Ok(left),
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return self.err("the condition ends too early: expected a value");
        };
        self.pos += 1;
        match tok {
            Tok::Not => Ok(Expr::Not(Box::new(self.unary()?))),
            Tok::Open => {
                let inner = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return self.err("expected `)`");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Ident(name) if self.peek() == Some(&Tok::Open) => self.call(&name, at),
            Tok::Ident(name) => {
                let known =
                    VARS.contains(&name.as_str()) || name.strip_prefix("matrix.").is_some_and(|m| !m.is_empty());
                if !known {
                    let hint = crate::names::closest(&name, VARS)
                        .map(|h| format!(" (did you mean `{h}`?)"))
                        .unwrap_or_default();
                    return Err(ExprError {
                        offset: at,
                        message: format!(
                            "unknown name `{name}`{hint}: expected branch, event, service, job, commit or matrix.NAME, or a 'string'"
                        ),
                    });
                }
                Ok(Expr::Var(name))
            }
            _ => Err(ExprError {
                offset: at,
                message: "expected a value, `!` or `(`".into(),
            }),
        }
    }

    fn call(&mut self, name: &str, at: usize) -> Result<Expr, ExprError> {
        self.pos += 1; // (
        let arg = match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Some(s)
            }
            _ => None,
        };
        if self.peek() != Some(&Tok::Close) {
            return self.err("expected `)`");
        }
        self.pos += 1;
        let bad = |message: String| Err(ExprError { offset: at, message });
        match (name, arg) {
            ("changed", Some(glob)) => match Glob::new(&glob) {
                Ok(_) => Ok(Expr::Changed(glob)),
                Err(e) => bad(format!("`changed('{glob}')`: not a valid glob: {}", e.kind())),
            },
            ("changed", None) => bad("`changed` takes a glob in quotes, such as changed('src/**')".into()),
            ("success", None) => Ok(Expr::Status(StatusFn::Success)),
            ("failure", None) => Ok(Expr::Status(StatusFn::Failure)),
            ("always", None) => Ok(Expr::Status(StatusFn::Always)),
            (f @ ("success" | "failure" | "always"), Some(_)) => bad(format!("`{f}()` takes no argument")),
            (other, _) => bad(format!(
                "unknown function `{other}`: expected changed('glob'), success(), failure() or always()"
            )),
        }
    }
}

/// Parses a condition.
pub fn parse_condition(text: &str) -> Result<Expr, ExprError> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return Err(ExprError {
            offset: 0,
            message: "the condition is empty".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: text.len(),
    };
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return p.err("unexpected text after the condition: combine conditions with `&&` or `||`");
    }
    Ok(expr)
}

impl Expr {
    /// Whether the condition mentions success(), failure() or always(); without one, a
    /// condition holds only when everything before succeeded (as in GitHub Actions).
    pub fn mentions_status(&self) -> bool {
        match self {
            Expr::Status(_) => true,
            Expr::Not(a) => a.mentions_status(),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Eq(a, b) | Expr::Ne(a, b) => {
                a.mentions_status() || b.mentions_status()
            }
            _ => false,
        }
    }

    /// Evaluates the condition.
    pub fn holds(&self, facts: &Facts) -> bool {
        let truthy = self.truthy(facts);
        if self.mentions_status() {
            truthy
        } else {
            facts.ok_so_far && truthy
        }
    }

    fn truthy(&self, facts: &Facts) -> bool {
        match self {
            Expr::Str(s) => !s.is_empty(),
            Expr::Var(_) => !self.value(facts).is_empty(),
            Expr::Not(a) => !a.truthy(facts),
            Expr::And(a, b) => a.truthy(facts) && b.truthy(facts),
            Expr::Or(a, b) => a.truthy(facts) || b.truthy(facts),
            Expr::Eq(a, b) => a.value(facts) == b.value(facts),
            Expr::Ne(a, b) => a.value(facts) != b.value(facts),
            Expr::Changed(glob) => match (&facts.changed, Glob::new(glob)) {
                (None, _) => true,
                (Some(paths), Ok(g)) => {
                    let m = g.compile_matcher();
                    paths.iter().any(|p| m.is_match(p))
                }
                (Some(_), Err(_)) => false,
            },
            Expr::Status(StatusFn::Success) => facts.ok_so_far,
            Expr::Status(StatusFn::Failure) => !facts.ok_so_far,
            Expr::Status(StatusFn::Always) => true,
        }
    }

    fn value(&self, facts: &Facts) -> String {
        match self {
            Expr::Str(s) => s.clone(),
            Expr::Var(name) => facts.vars.get(name).cloned().unwrap_or_default(),
            other => other.truthy(facts).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(branch: &str, changed: &[&str], ok: bool) -> Facts {
        Facts {
            vars: [
                ("branch".to_string(), branch.to_string()),
                ("event".to_string(), "push".to_string()),
            ]
            .into(),
            changed: Some(changed.iter().map(|s| s.to_string()).collect()),
            ok_so_far: ok,
        }
    }

    #[test]
    fn conditions_read_like_github_actions() {
        let e = parse_condition("branch == 'main' && (changed('src/**') || changed(\"Cargo.lock\"))").unwrap();
        assert!(e.holds(&facts("main", &["src/app.rs"], true)));
        assert!(!e.holds(&facts("main", &["README.md"], true)));
        assert!(!e.holds(&facts("dev", &["src/app.rs"], true)));
        assert!(
            !e.holds(&facts("main", &["src/app.rs"], false)),
            "without a status function, a failure before stops it"
        );
        let e = parse_condition("failure()").unwrap();
        assert!(e.holds(&facts("main", &[], false)) && !e.holds(&facts("main", &[], true)));
        assert!(
            parse_condition("always() && event != 'schedule'")
                .unwrap()
                .holds(&facts("x", &[], false))
        );
        assert!(
            parse_condition("!changed('docs/**')")
                .unwrap()
                .holds(&facts("x", &["src/a"], true))
        );
    }

    #[test]
    fn mistakes_say_where_and_what() {
        let e = parse_condition("branch = 'main'").unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(e.message.contains("use `==`"));
        let e = parse_condition("brnch == 'main'").unwrap_err();
        assert!(e.message.contains("did you mean `branch`"), "{}", e.message);
        let e = parse_condition("changed('[')").unwrap_err();
        assert!(e.message.contains("not a valid glob"), "{}", e.message);
        let e = parse_condition("branch == 'main").unwrap_err();
        assert!(e.message.contains("not closed"));
        assert!(
            parse_condition("branch == 'a' 'b'")
                .unwrap_err()
                .message
                .contains("unexpected text")
        );
        assert!(
            parse_condition("deploy()")
                .unwrap_err()
                .message
                .contains("unknown function `deploy`")
        );
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(s in ".{0,40}") {
            let _ = parse_condition(&s);
        }
    }
}
