//! The condition language: what matches, what is a mismatch, and where mistakes are.

use super::*;
use crate::flags::EvaluationContext;
use proptest::prelude::*;
use serde_json::json;

fn ctx(v: serde_json::Value) -> EvaluationContext {
    EvaluationContext::from_attributes(v.as_object().cloned().unwrap_or_default())
}

fn holds(cond: &str, v: serde_json::Value) -> bool {
    parse_condition(cond).unwrap().matches(&ctx(v)).unwrap()
}

#[test]
fn comparisons_read_attributes_of_each_type() {
    let c = json!({"country": "NL", "cart_total": 64.5, "beta": true, "user": {"plan": "pro"}});
    assert!(holds("country == \"NL\" and cart_total >= 50", c.clone()));
    assert!(!holds("country == 'NL' and cart_total >= 100", c.clone()));
    assert!(holds(
        "cart_total > 64 && cart_total < 65 && cart_total <= 64.5",
        c.clone()
    ));
    assert!(holds("50 <= cart_total", c.clone()));
    assert!(holds("beta", c.clone()));
    assert!(!holds("not beta", c.clone()));
    assert!(holds("!beta == false", c.clone()), "`!` binds looser than `==`");
    assert!(holds("beta == true", c.clone()));
    assert!(holds("user.plan in [\"team\", \"pro\"]", c.clone()));
    assert!(holds("country not in ['FR', 'BE']", c.clone()));
    assert!(holds("country != 'FR' or false", c.clone()));
    assert!(holds(
        "(country == 'FR' or country == 'NL') and not (cart_total < 10)",
        c
    ));
}

#[test]
fn string_operators_and_contains() {
    let c = json!({"email": "ann@example.com", "groups": ["beta", "staff"], "version": "2.10"});
    assert!(holds("email ends_with '@example.com'", c.clone()));
    assert!(holds("email starts_with 'ann'", c.clone()));
    assert!(holds("email contains '@'", c.clone()));
    assert!(holds("groups contains 'beta'", c.clone()));
    assert!(!holds("groups contains 'admin'", c.clone()));
    assert!(holds("version >= '2.1'", c), "strings compare by bytes");
}

#[test]
fn numbers_in_lists_and_the_targeting_key() {
    let c = json!({"age": 30});
    assert!(holds("age in [18, 30, 65]", c.clone()));
    assert!(!holds("age in [18, 65]", c));
    let ctx = EvaluationContext::from_attributes(Default::default()).with_targeting_key("user-7");
    let cond = parse_condition("targetingKey in ['user-7', 'user-8']").unwrap();
    assert!(cond.matches(&ctx).unwrap());
}

#[test]
fn a_missing_or_null_attribute_never_matches() {
    for cond in [
        "country == 'NL'",
        "country != 'NL'",
        "country in ['NL']",
        "country not in ['NL']",
        "age < 3",
        "beta",
        "email ends_with 'x'",
        "user.plan == 'pro'",
    ] {
        assert!(!holds(cond, json!({})), "{cond}");
        assert!(
            !holds(cond, json!({"country": null, "user": "not an object"})),
            "{cond}"
        );
    }
    assert!(
        holds("not (country == 'NL')", json!({})),
        "`not (...)` negates the whole test"
    );
}

#[test]
fn an_attribute_of_the_wrong_type_is_a_mismatch() {
    let cond = parse_condition("cart_total >= 50").unwrap();
    let err = cond.matches(&ctx(json!({"cart_total": "64"}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "attribute `cart_total` is a string, but the rule needs a number"
    );
    let cond = parse_condition("country in ['NL']").unwrap();
    let err = cond.matches(&ctx(json!({"country": 31}))).unwrap_err();
    assert_eq!(
        (err.attribute, err.found, err.expected),
        ("country", "a number", "a string")
    );
    let cond = parse_condition("beta").unwrap();
    assert_eq!(
        cond.matches(&ctx(json!({"beta": "yes"}))).unwrap_err().expected,
        "a boolean"
    );
    let cond = parse_condition("'NL' == country").unwrap();
    assert_eq!(
        cond.matches(&ctx(json!({"country": [1]}))).unwrap_err().found,
        "an array"
    );
    let cond = parse_condition("a == b").unwrap();
    assert_eq!(
        cond.matches(&ctx(json!({"a": 1, "b": "1"}))).unwrap_err().attribute,
        "a"
    );
    // `or` stops at the first operand that holds, so the second is not read.
    let cond = parse_condition("country == 'NL' or cart_total > 1").unwrap();
    assert!(cond.matches(&ctx(json!({"country": "NL", "cart_total": "x"}))).unwrap());
}

#[test]
fn mistakes_point_at_the_character() {
    let cases: &[(&str, usize, &str)] = &[
        ("country = 'NL'", 8, "use `==`"),
        ("country == 'NL", 11, "not closed"),
        ("country == 'NL' 'BE'", 16, "unexpected text"),
        ("country ==", 10, "ends too early"),
        ("(country == 'NL'", 16, "expected `)` to close the `(` at character 1"),
        ("country == 'NL')", 15, "without a matching `(`"),
        ("country in 'NL'", 11, "expected `[`"),
        ("country in []", 11, "the list is empty"),
        ("age in [1, 'a']", 11, "mixes strings and numbers"),
        ("'NL' == 'NL'", 0, "two fixed values"),
        ("beta > true", 7, "not booleans"),
        ("email starts_with 3", 18, "takes a \"string\""),
        ("'x' contains email", 4, "needs the attribute on its left"),
        ("'NL'", 0, "a value alone is not a condition"),
        ("", 0, "empty"),
        ("country == #", 11, "unexpected `#`"),
        ("a & b", 2, "use `&&`"),
        ("1.2.3 == x", 0, "not a number"),
        ("user..plan == 'x'", 0, "not a valid attribute name"),
        ("'a\\n' == x", 2, "unknown escape"),
        ("é == 'x'", 0, "unexpected `é`"),
    ];
    for (text, offset, part) in cases {
        let e = parse_condition(text).unwrap_err();
        assert!(e.message.contains(part), "{text}: {}", e.message);
        assert_eq!(e.offset, *offset, "{text}: {}", e.message);
    }
    let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    assert!(parse_condition(&deep).unwrap_err().message.contains("nests deeper"));
}

#[test]
fn keywords_are_reserved() {
    assert!(is_keyword("contains") && is_keyword("in") && !is_keyword("country"));
    assert!(parse_condition("in == 'x'").is_err());
}

proptest! {
    #[test]
    fn the_parser_never_panics(s in ".{0,60}") {
        let _ = parse_condition(&s);
    }

    #[test]
    fn conditions_built_from_the_grammar_parse(
        attr in "[a-z][a-z_]{0,8}",
        op in prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]),
        n in -1000i64..1000,
        joiner in prop::sample::select(vec!["and", "or", "&&", "||"]),
    ) {
        prop_assume!(!is_keyword(&attr));
        let text = format!("({attr} {op} {n}) {joiner} not {attr} in [1, 2]");
        let c = parse_condition(&text);
        prop_assert!(c.is_ok(), "{text}: {c:?}");
    }
}
