//! Unit tests for the JSON parser.

use super::*;

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

#[test]
fn scalars() {
    assert_eq!(parse("null"), Ok(Value::Null));
    assert_eq!(parse(" true "), Ok(Value::Bool(true)));
    assert_eq!(parse("false"), Ok(Value::Bool(false)));
    assert_eq!(parse("0"), Ok(Value::Number(0.0)));
    assert_eq!(parse("-12.5e1"), Ok(Value::Number(-125.0)));
    assert_eq!(parse("0.2"), Ok(Value::Number(0.2)));
    assert_eq!(parse("1E-2"), Ok(Value::Number(0.01)));
    assert_eq!(parse("\"hi\""), Ok(s("hi")));
}

#[test]
fn string_escapes() {
    assert_eq!(parse(r#""a\"b\\c\/d\b\f\n\r\t""#), Ok(s("a\"b\\c/d\u{8}\u{c}\n\r\t")));
    assert_eq!(parse(r#""\u00e9t\u00C9""#), Ok(s("étÉ")));
    assert_eq!(parse(r#""\u20ac""#), Ok(s("€")));
    assert_eq!(parse(r#""\ud83d\ude00""#), Ok(s("😀")));
    assert_eq!(parse("\"zł — Kč\""), Ok(s("zł — Kč")));
}

#[test]
fn containers() {
    let v = parse(r#" { "a" : [1, "x", {"b": null}], "c": {}, "d": [] } "#).unwrap();
    assert_eq!(
        v.get("a"),
        Some(&Value::Array(vec![
            Value::Number(1.0),
            s("x"),
            Value::Object(vec![("b".into(), Value::Null)])
        ]))
    );
    assert_eq!(v.get("c"), Some(&Value::Object(vec![])));
    assert_eq!(v.get("d"), Some(&Value::Array(vec![])));
    assert_eq!(v.get("missing"), None);
    let dup = parse(r#"{"k": 1, "k": 2}"#).unwrap();
    assert_eq!(dup.get("k"), Some(&Value::Number(2.0)));
}

#[test]
fn rejects_invalid_documents() {
    for bad in [
        "",
        " ",
        "{",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{a:1}",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "tru",
        "nul",
        "\"abc",
        "\"a\\x\"",
        "\"\\u12\"",
        "\"\\uZZZZ\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"tab\there\"",
        "1 2",
        "[] x",
        "1e400",
        "'a'",
        "NaN",
    ] {
        assert!(parse(bad).is_err(), "should reject {bad:?}");
    }
}

#[test]
fn rejects_deep_nesting_without_overflow() {
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(parse(&deep).is_err());
    let ok = "[".repeat(50) + &"]".repeat(50);
    assert!(parse(&ok).is_ok());
}

#[test]
fn error_positions() {
    let err = parse("{\n  \"a\": tru\n}").unwrap_err();
    assert_eq!((err.line, err.column), (2, 8));
    assert!(err.to_string().starts_with("line 2, column 8: "));
    let err = parse("[\"é\", x]").unwrap_err();
    assert_eq!((err.line, err.column), (1, 7));
}

#[test]
fn ignores_byte_order_mark() {
    assert_eq!(parse("\u{feff}{}"), Ok(Value::Object(vec![])));
}
