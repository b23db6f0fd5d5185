//! Reading a condition: a lexer, then a recursive-descent parser whose errors point at
//! the character; comparisons that no context could satisfy are refused here.

use super::{Attr, Condition, ExprError, List, Lit, Node, Op, Operand};

/// Deepest nesting of parentheses and `not` a condition may have.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(f64),
    Ident(String),
    Op(Op),
    And,
    Or,
    Not,
    In,
    True,
    False,
    Open,
    Close,
    LBracket,
    RBracket,
    Comma,
}

/// Words the language keeps for itself; they cannot name an attribute.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "starts_with",
    "ends_with",
    "contains",
];

fn lex(chars: &[char]) -> Result<Vec<(usize, Tok)>, ExprError> {
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset, message: String| Err(ExprError { offset, message });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let two = |t: Tok| (t, 2);
        let one = |t: Tok| (t, 1);
        let (tok, len) = match (c, next) {
            (' ' | '\t' | '\n' | '\r', _) => {
                i += 1;
                continue;
            }
            ('(', _) => one(Tok::Open),
            (')', _) => one(Tok::Close),
            ('[', _) => one(Tok::LBracket),
            (']', _) => one(Tok::RBracket),
            (',', _) => one(Tok::Comma),
            ('&', Some('&')) => two(Tok::And),
            ('|', Some('|')) => two(Tok::Or),
            ('=', Some('=')) => two(Tok::Op(Op::Eq)),
            ('!', Some('=')) => two(Tok::Op(Op::Ne)),
            ('<', Some('=')) => two(Tok::Op(Op::Le)),
            ('>', Some('=')) => two(Tok::Op(Op::Ge)),
            ('<', _) => one(Tok::Op(Op::Lt)),
            ('>', _) => one(Tok::Op(Op::Gt)),
            ('!', _) => one(Tok::Not),
            ('=', _) => return err(i, "`=` is not an operator: use `==` to compare".into()),
            ('&' | '|', _) => return err(i, format!("`{c}` is not an operator: use `{c}{c}` or `and`/`or`")),
            ('"' | '\'', _) => {
                let (s, end) = lex_string(chars, i)?;
                out.push((i, Tok::Str(s)));
                i = end;
                continue;
            }
            (c, _) if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|ch| ch.is_ascii_digit() || *ch == '.' || *ch == '_')
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().filter(|c| **c != '_').collect();
                let Ok(n) = text.parse::<f64>() else {
                    return err(
                        i,
                        format!("`{text}` is not a number: expected digits such as 50 or 0.5"),
                    );
                };
                out.push((i, Tok::Num(n)));
                i = j;
                continue;
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                let tok = match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "starts_with" => Tok::Op(Op::StartsWith),
                    "ends_with" => Tok::Op(Op::EndsWith),
                    "contains" => Tok::Op(Op::Contains),
                    _ => Tok::Ident(word),
                };
                out.push((i, tok));
                i = j;
                continue;
            }
            (other, _) => return err(i, format!("unexpected `{other}`")),
        };
        out.push((i, tok));
        i += len;
    }
    Ok(out)
}

/// Reads a quoted string starting at `start`; `\` escapes the quote and itself.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), ExprError> {
    let quote = chars[start];
    let mut s = String::new();
    let mut j = start + 1;
    loop {
        match chars.get(j) {
            None => {
                return Err(ExprError {
                    offset: start,
                    message: "a string is not closed: add the closing quote".into(),
                });
            }
            Some('\\') => match chars.get(j + 1) {
                Some(c @ ('\\' | '"' | '\'')) => {
                    s.push(*c);
                    j += 2;
                }
                _ => {
                    return Err(ExprError {
                        offset: j,
                        message: "unknown escape: only \\\\, \\\" and \\' are allowed in a string".into(),
                    });
                }
            },
            Some(c) if *c == quote => return Ok((s, j + 1)),
            Some(c) => {
                s.push(*c);
                j += 1;
            }
        }
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, ExprError> {
        Err(ExprError {
            offset,
            message: message.into(),
        })
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut all = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            all.push(self.and()?);
        }
        Ok(if all.len() == 1 { all.remove(0) } else { Node::Or(all) })
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut all = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 { all.remove(0) } else { Node::And(all) })
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.depth >= MAX_DEPTH {
            return self.err(self.at(), format!("the condition nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let node = match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                self.unary().map(|n| Node::Not(Box::new(n)))
            }
            Some(Tok::Open) => {
                let open = self.at();
                self.pos += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    let at = self.at();
                    return self.err(at, format!("expected `)` to close the `(` at character {}", open + 1));
                }
                self.pos += 1;
                Ok(inner)
            }
            _ => self.test(),
        };
        self.depth -= 1;
        node
    }

    fn operand(&mut self) -> Result<(usize, Operand), ExprError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return self.err(at, "the condition ends too early: expected an attribute or a value");
        };
        let operand = match tok {
            Tok::Ident(name) => Operand::Attr(attr(&name, at)?),
            Tok::Str(s) => Operand::Lit(Lit::Str(s.into())),
            Tok::Num(n) => Operand::Lit(Lit::Num(n)),
            Tok::True => Operand::Lit(Lit::Bool(true)),
            Tok::False => Operand::Lit(Lit::Bool(false)),
            _ => {
                return self.err(
                    at,
                    "expected an attribute, a \"string\", a number, true, false, `not` or `(`",
                );
            }
        };
        self.pos += 1;
        Ok((at, operand))
    }

    fn test(&mut self) -> Result<Node, ExprError> {
        let (at, left) = self.operand()?;
        match self.peek().cloned() {
            Some(Tok::Op(op)) => {
                let op_at = self.at();
                self.pos += 1;
                let (right_at, right) = self.operand()?;
                check_cmp(&left, op, &right, at, op_at, right_at)?;
                Ok(Node::Cmp(left, op, right))
            }
            Some(Tok::In) => {
                self.pos += 1;
                self.list(left, at, false)
            }
            Some(Tok::Not) if self.toks.get(self.pos + 1).map(|t| &t.1) == Some(&Tok::In) => {
                self.pos += 2;
                self.list(left, at, true)
            }
            _ => match left {
                Operand::Attr(a) => Ok(Node::Flag(a)),
                Operand::Lit(Lit::Bool(b)) => Ok(Node::Const(b)),
                Operand::Lit(_) => self.err(
                    at,
                    "a value alone is not a condition: compare it with an attribute, as in `country == \"NL\"`",
                ),
            },
        }
    }

    fn list(&mut self, left: Operand, left_at: usize, negated: bool) -> Result<Node, ExprError> {
        if let Operand::Lit(_) = left {
            return self.err(
                left_at,
                "`in` needs an attribute on its left, as in `country in [\"NL\", \"BE\"]`",
            );
        }
        let open = self.at();
        if self.peek() != Some(&Tok::LBracket) {
            return self.err(open, "expected `[` after `in`, as in `country in [\"NL\", \"BE\"]`");
        }
        self.pos += 1;
        let mut strs: Vec<Box<str>> = Vec::new();
        let mut nums: Vec<f64> = Vec::new();
        loop {
            let at = self.at();
            match self.peek().cloned() {
                Some(Tok::RBracket) => {
                    self.pos += 1;
                    break;
                }
                Some(Tok::Str(s)) if nums.is_empty() => strs.push(s.into()),
                Some(Tok::Num(n)) if strs.is_empty() => nums.push(n),
                Some(Tok::Str(_) | Tok::Num(_)) => {
                    return self.err(at, "a list mixes strings and numbers: use one type");
                }
                _ => return self.err(at, "expected a \"string\" or a number in the list, or `]`"),
            }
            self.pos += 1;
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RBracket) => {}
                _ => {
                    let at = self.at();
                    return self.err(at, "expected `,` or `]` in the list");
                }
            }
        }
        let list = if !nums.is_empty() {
            List::Num(nums.into())
        } else if !strs.is_empty() {
            strs.sort();
            strs.dedup();
            List::Str(strs.into())
        } else {
            return self.err(open, "the list is empty: name at least one value");
        };
        Ok(Node::In { left, list, negated })
    }
}

fn attr(name: &str, at: usize) -> Result<Attr, ExprError> {
    let path: Vec<Box<str>> = name.split('.').map(Box::from).collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(ExprError {
            offset: at,
            message: format!("`{name}` is not a valid attribute name: expected names such as `country` or `user.plan`"),
        });
    }
    Ok(Attr {
        name: name.into(),
        path: path.into(),
    })
}

/// Refuses comparisons that can never hold or never make sense, whatever the context.
fn check_cmp(
    left: &Operand,
    op: Op,
    right: &Operand,
    at: usize,
    op_at: usize,
    right_at: usize,
) -> Result<(), ExprError> {
    let fail = |offset, message: String| Err(ExprError { offset, message });
    let (lit, lit_at) = match (left, right) {
        (Operand::Lit(_), Operand::Lit(_)) => {
            return fail(
                at,
                "this compares two fixed values: name an attribute on one side".into(),
            );
        }
        (Operand::Lit(l), Operand::Attr(_)) => (l, at),
        (Operand::Attr(_), Operand::Lit(l)) => (l, right_at),
        (Operand::Attr(_), Operand::Attr(_)) => return Ok(()),
    };
    let name = op.as_str();
    match (op, lit) {
        (Op::Lt | Op::Le | Op::Gt | Op::Ge, Lit::Bool(_)) => {
            fail(lit_at, format!("`{name}` compares numbers or strings, not booleans"))
        }
        (Op::StartsWith | Op::EndsWith, Lit::Num(_) | Lit::Bool(_)) => {
            fail(lit_at, format!("`{name}` takes a \"string\""))
        }
        (Op::StartsWith | Op::EndsWith | Op::Contains, _) if matches!(left, Operand::Lit(_)) => fail(
            op_at,
            format!("`{name}` needs the attribute on its left, as in `email {name} \"...\"`"),
        ),
        _ => Ok(()),
    }
}

/// Parses a rule condition.
pub fn parse_condition(text: &str) -> Result<Condition, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let toks = lex(&chars)?;
    if toks.is_empty() {
        return Err(ExprError {
            offset: 0,
            message: "the condition is empty: write one such as `country == \"NL\"`".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: chars.len(),
        depth: 0,
    };
    let root = p.or()?;
    if p.pos < p.toks.len() {
        let at = p.at();
        let message = match p.peek() {
            Some(Tok::Close) => "`)` without a matching `(`",
            _ => "unexpected text after the condition: combine tests with `and` or `or`",
        };
        return p.err(at, message);
    }
    Ok(Condition {
        text: text.into(),
        root,
    })
}

/// Whether `word` is reserved by the condition language.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}
