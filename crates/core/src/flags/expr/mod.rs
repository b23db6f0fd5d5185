//! Flag rule conditions: a small language over evaluation-context attributes.
//!
//! ```text
//! country == "NL" and cart_total >= 50
//! plan in ["pro", "team"] or email ends_with "@example.com"
//! not beta_tester and user.age > 17
//! ```
//!
//! A condition is parsed once into a tree; matching it reads the context without
//! allocating. Comparing with a missing (or `null`) attribute never matches, not even
//! `!=` or `not in`; an attribute of the wrong type is a [`Mismatch`], which evaluation
//! reports as `INVALID_CONTEXT`.

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{is_keyword, parse_condition};

use super::eval::EvaluationContext;
use serde_json::Value;
use std::fmt;

/// A parsed rule condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    text: Box<str>,
    root: Node,
}

/// A parse error: what is wrong and at which character (0-based) of the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

/// An attribute whose type does not fit the test that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch<'a> {
    pub attribute: &'a str,
    pub found: &'static str,
    pub expected: &'static str,
}

impl fmt::Display for Mismatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "attribute `{}` is {}, but the rule needs {}",
            self.attribute, self.found, self.expected
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Const(bool),
    /// A bare attribute: it must be a boolean.
    Flag(Attr),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Cmp(Operand, Op, Operand),
    In {
        left: Operand,
        list: List,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    StartsWith,
    EndsWith,
    Contains,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Contains => "contains",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Attr(Attr),
    Lit(Lit),
}

/// An attribute name, split on `.` into a path through nested objects.
#[derive(Debug, Clone, PartialEq)]
struct Attr {
    name: Box<str>,
    path: Box<[Box<str>]>,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(Box<str>),
    Num(f64),
    Bool(bool),
}

/// The literal list of `in [...]`: strings sorted for binary search, or numbers.
#[derive(Debug, Clone, PartialEq)]
enum List {
    Str(Box<[Box<str>]>),
    Num(Box<[f64]>),
}

/// A value read from the context or a literal, borrowed.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Missing,
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Array(&'a [Value]),
    Object,
}

fn kind(v: Val<'_>) -> &'static str {
    match v {
        Val::Missing => "missing",
        Val::Str(_) => "a string",
        Val::Num(_) => "a number",
        Val::Bool(_) => "a boolean",
        Val::Array(_) => "an array",
        Val::Object => "an object",
    }
}

fn val(v: &Value) -> Val<'_> {
    match v {
        Value::Null => Val::Missing,
        Value::String(s) => Val::Str(s),
        Value::Number(n) => n.as_f64().map_or(Val::Missing, Val::Num),
        Value::Bool(b) => Val::Bool(*b),
        Value::Array(a) => Val::Array(a),
        Value::Object(_) => Val::Object,
    }
}

impl Lit {
    fn val(&self) -> Val<'_> {
        match self {
            Lit::Str(s) => Val::Str(s),
            Lit::Num(n) => Val::Num(*n),
            Lit::Bool(b) => Val::Bool(*b),
        }
    }
}

impl Condition {
    /// The condition as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the context satisfies the condition; `and` and `or` stop at the first
    /// operand that decides, so a later operand's type is not checked.
    pub fn matches<'a>(&'a self, ctx: &EvaluationContext) -> Result<bool, Mismatch<'a>> {
        self.root.matches(ctx)
    }
}

impl Node {
    fn matches<'a>(&'a self, ctx: &EvaluationContext) -> Result<bool, Mismatch<'a>> {
        match self {
            Node::Const(b) => Ok(*b),
            Node::Flag(attr) => match lookup(attr, ctx) {
                Val::Missing => Ok(false),
                Val::Bool(b) => Ok(b),
                other => Err(Mismatch {
                    attribute: &attr.name,
                    found: kind(other),
                    expected: "a boolean",
                }),
            },
            Node::Not(inner) => Ok(!inner.matches(ctx)?),
            Node::And(all) => {
                for n in all {
                    if !n.matches(ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Node::Or(any) => {
                for n in any {
                    if n.matches(ctx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::Cmp(left, op, right) => compare(left, *op, right, ctx),
            Node::In { left, list, negated } => {
                let v = operand(left, ctx);
                let found = match (v, list) {
                    (Val::Missing, _) => return Ok(false),
                    (Val::Str(s), List::Str(items)) => items.binary_search_by(|i| (**i).cmp(s)).is_ok(),
                    (Val::Num(n), List::Num(items)) => items.contains(&n),
                    (other, list) => {
                        return Err(mismatch(
                            left,
                            other,
                            match list {
                                List::Str(_) => "a string",
                                List::Num(_) => "a number",
                            },
                        ));
                    }
                };
                Ok(found != *negated)
            }
        }
    }
}

fn lookup<'c>(attr: &Attr, ctx: &'c EvaluationContext) -> Val<'c> {
    ctx.attribute(&attr.path).map_or(Val::Missing, val)
}

fn operand<'c>(o: &'c Operand, ctx: &'c EvaluationContext) -> Val<'c> {
    match o {
        Operand::Attr(a) => lookup(a, ctx),
        Operand::Lit(l) => l.val(),
    }
}

/// The mismatch for operand `o` (an attribute, since literals are checked when parsing).
fn mismatch<'a>(o: &'a Operand, found: Val<'_>, expected: &'static str) -> Mismatch<'a> {
    let attribute = match o {
        Operand::Attr(a) => &*a.name,
        Operand::Lit(_) => "",
    };
    Mismatch {
        attribute,
        found: kind(found),
        expected,
    }
}

fn compare<'a>(left: &'a Operand, op: Op, right: &'a Operand, ctx: &EvaluationContext) -> Result<bool, Mismatch<'a>> {
    let (l, r) = (operand(left, ctx), operand(right, ctx));
    if matches!(l, Val::Missing) || matches!(r, Val::Missing) {
        return Ok(false);
    }
    // Blame the attribute side: the right one when the left is a literal.
    let blame = |found: Val<'_>, expected: &'static str| match left {
        Operand::Attr(_) => mismatch(left, found, expected),
        Operand::Lit(_) => mismatch(right, found, expected),
    };
    let (attr_val, other) = match left {
        Operand::Attr(_) => (l, r),
        Operand::Lit(_) => (r, l),
    };
    let want = |v: Val<'_>| match v {
        Val::Str(_) => "a string",
        Val::Num(_) => "a number",
        Val::Bool(_) => "a boolean",
        _ => "a string, number or boolean",
    };
    match op {
        Op::Eq | Op::Ne => {
            let same = match (l, r) {
                (Val::Str(a), Val::Str(b)) => a == b,
                (Val::Num(a), Val::Num(b)) => a == b,
                (Val::Bool(a), Val::Bool(b)) => a == b,
                _ => return Err(blame(attr_val, want(other))),
            };
            Ok(same == (op == Op::Eq))
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ord = match (l, r) {
                (Val::Str(a), Val::Str(b)) => a.cmp(b),
                (Val::Num(a), Val::Num(b)) => match a.partial_cmp(&b) {
                    Some(o) => o,
                    None => return Ok(false),
                },
                _ => {
                    let expected = match other {
                        Val::Str(_) => "a string",
                        Val::Num(_) => "a number",
                        _ => "a number or a string",
                    };
                    return Err(blame(attr_val, expected));
                }
            };
            Ok(match op {
                Op::Lt => ord.is_lt(),
                Op::Le => ord.is_le(),
                Op::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        Op::StartsWith | Op::EndsWith => match (l, r) {
            (Val::Str(a), Val::Str(b)) => Ok(if op == Op::StartsWith {
                a.starts_with(b)
            } else {
                a.ends_with(b)
            }),
            _ => Err(blame(attr_val, "a string")),
        },
        Op::Contains => match (l, r) {
            (Val::Str(a), Val::Str(b)) => Ok(a.contains(b)),
            (Val::Array(items), needle) => Ok(items.iter().any(|i| match (val(i), needle) {
                (Val::Str(a), Val::Str(b)) => a == b,
                (Val::Num(a), Val::Num(b)) => a == b,
                (Val::Bool(a), Val::Bool(b)) => a == b,
                _ => false,
            })),
            (Val::Str(_), other) if matches!(right, Operand::Attr(_)) => Err(mismatch(right, other, "a string")),
            (other, needle) => Err(mismatch(
                left,
                other,
                if matches!(needle, Val::Str(_)) {
                    "a string or an array"
                } else {
                    "an array"
                },
            )),
        },
    }
}
