//! Flag files end to end: parsing, evaluation order, reasons, errors and OFREP JSON.

use super::ofrep::{self, BulkEvaluationFailure, BulkEvaluationSuccess, FlagResponse, RefetchEvent, RefreshConnection};
use super::*;
use proptest::prelude::*;
use serde_json::json;

const GOOD: &str = r#"
flags:
  new-checkout:
    description: The one-page checkout
    type: boolean
    variants: { on: true, off: false }
    default: off
    metadata: { team: payments, ticket: 431 }
    markets:
      nl:
        rules:
          - if: 'country == "NL" and cart_total >= 50'
            variant: on
        rollout: { on: 20, off: 80 }
      fr:
        variant: on
    rules:
      - if: email ends_with "@example.com"
        variant: on
    rollout: { on: 5, off: 95 }
  banner-text:
    type: string
    variants:
      plain: "Welcome"
      sale: "Sale: -20%"
    default: plain
    markets:
      be:
        rules:
          - if: "tier in ['gold', 'silver']"
            variant: sale
  max-items:
    type: number
    variants: { low: 3, high: 12.5 }
    default: low
  limits:
    type: object
    variants:
      small: { items: 3, bulk: false }
    default: small
    enabled: false
"#;

fn set() -> FlagSet {
    parse_flags("flags.yml", GOOD, Some(&["fr", "be", "nl"])).unwrap()
}

fn ctx(v: serde_json::Value) -> EvaluationContext {
    ofrep::context_from_json(v).unwrap()
}

/// `(value, variant, reason)` of a successful evaluation.
fn eval(set: &FlagSet, key: &str, c: serde_json::Value) -> (serde_json::Value, String, Reason) {
    let c = ctx(c);
    let e = set.evaluate_one(key, &c);
    let r = e.result.unwrap();
    (r.value.clone(), r.variant.to_string(), r.reason)
}

fn fail(set: &FlagSet, key: &str, c: serde_json::Value) -> EvaluationError {
    let c = ctx(c);
    set.evaluate_one(key, &c).result.unwrap_err()
}

fn errors(text: &str) -> Vec<String> {
    match parse_flags("f.yml", text, Some(&["fr", "be", "nl"])) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn a_good_file_compiles() {
    let set = set();
    assert_eq!(set.len(), 4);
    let keys: Vec<&str> = set.flags().iter().map(|f| f.key()).collect();
    assert_eq!(keys, ["banner-text", "limits", "max-items", "new-checkout"]);
    let f = set.get("new-checkout").unwrap();
    assert_eq!(f.flag_type(), FlagType::Boolean);
    assert_eq!(f.description(), Some("The one-page checkout"));
    assert_eq!(f.default_variant().name, "off");
    assert!(f.enabled() && !f.is_static());
    assert_eq!(
        f.metadata(),
        json!({"team": "payments", "ticket": 431}).as_object().unwrap()
    );
    let markets: Vec<&str> = f.markets().map(|(m, _)| m).collect();
    assert_eq!(markets, ["fr", "nl"]);
    let nl = f.market("NL").unwrap();
    assert_eq!(
        nl.rules()[0].condition().as_str(),
        "country == \"NL\" and cart_total >= 50"
    );
    assert_eq!(f.variants()[nl.rules()[0].variant()].name, "on");
    assert_eq!(nl.rollout().unwrap().weights(), &[(0, 8000), (1, 2000)], "off, on");
    assert_eq!(f.market("fr").unwrap().variant(), Some(1));
    assert!(!set.get("limits").unwrap().enabled());
    assert!(set.get("max-items").unwrap().is_static());
    assert!(set.get("nope").is_none());
}

#[test]
fn evaluation_follows_the_documented_order() {
    let set = set();
    let key = "new-checkout";
    // The market's rule.
    let big_nl_cart = json!({"targetingKey": "u1", "market": "nl", "country": "NL", "cart_total": 80});
    assert_eq!(
        eval(&set, key, big_nl_cart),
        (json!(true), "on".into(), Reason::TargetingMatch)
    );
    // The market's rollout comes before the rules for any market.
    let (_, _, reason) = eval(
        &set,
        key,
        json!({"targetingKey": "u1", "market": "nl", "email": "a@example.com"}),
    );
    assert_eq!(reason, Reason::Split);
    // A market's fixed variant.
    assert_eq!(
        eval(&set, key, json!({"market": "fr"})),
        (json!(true), "on".into(), Reason::TargetingMatch)
    );
    // Another market: the rules for any market, then their rollout.
    let staff = json!({"targetingKey": "u1", "market": "be", "email": "a@example.com"});
    assert_eq!(eval(&set, key, staff).2, Reason::TargetingMatch);
    assert_eq!(
        eval(&set, key, json!({"targetingKey": "u1", "market": "be"})).2,
        Reason::Split
    );
    assert_eq!(eval(&set, key, json!({"targetingKey": "u1"})).2, Reason::Split);
    // No targeting applies: the default.
    let banner = eval(&set, "banner-text", json!({"market": "nl", "tier": "gold"}));
    assert_eq!(banner, (json!("Welcome"), "plain".into(), Reason::Default));
    let banner = eval(&set, "banner-text", json!({"market": "be", "tier": "gold"}));
    assert_eq!(banner, (json!("Sale: -20%"), "sale".into(), Reason::TargetingMatch));
    // No targeting at all: static.
    assert_eq!(
        eval(&set, "max-items", json!({})),
        (json!(3), "low".into(), Reason::Static)
    );
    // The kill switch wins over everything.
    let limits = eval(&set, "limits", json!({"market": "fr"}));
    assert_eq!(
        limits,
        (json!({"items": 3, "bulk": false}), "small".into(), Reason::Disabled)
    );
}

#[test]
fn splits_are_stable_and_follow_the_bucket() {
    let set = set();
    let flag = set.get("new-checkout").unwrap();
    let nl = flag.market("nl").unwrap().rollout().unwrap();
    for i in 0..200 {
        let user = format!("user-{i}");
        let c = ctx(json!({"targetingKey": user, "market": "nl"}));
        let first = evaluate(flag, &c);
        assert_eq!(first, evaluate(flag, &c));
        let expected = &flag.variants()[nl.pick(bucket("new-checkout", &user))].name;
        assert_eq!(first.variant(), Some(expected.as_str()));
    }
}

#[test]
fn the_market_matches_case_insensitively_and_an_unknown_market_uses_the_rest() {
    let set = set();
    assert_eq!(
        eval(&set, "new-checkout", json!({"market": "FR"})).2,
        Reason::TargetingMatch
    );
    assert_eq!(
        eval(&set, "new-checkout", json!({"targetingKey": "u", "market": "de"})).2,
        Reason::Split
    );
    assert_eq!(
        eval(&set, "new-checkout", json!({"targetingKey": "u", "market": null})).2,
        Reason::Split
    );
}

#[test]
fn evaluation_errors_have_their_codes() {
    let set = set();
    let e = set.evaluate_one("nope", &EvaluationContext::default());
    assert_eq!(e.reason(), Reason::Error);
    let err = e.error().unwrap();
    assert_eq!(
        (err.code, err.details.as_str()),
        (ErrorCode::FlagNotFound, "flag `nope` is not defined")
    );

    let err = fail(&set, "new-checkout", json!({"market": "nl"}));
    assert_eq!(err.code, ErrorCode::TargetingKeyMissing);
    assert_eq!(
        err.details,
        "flag `new-checkout`, market `nl` splits users by percentage and needs a targeting key: set `targetingKey` in the context"
    );
    let err = fail(&set, "new-checkout", json!({"targetingKey": ""}));
    assert_eq!(err.code, ErrorCode::TargetingKeyMissing, "an empty key is no key");

    let err = fail(
        &set,
        "new-checkout",
        json!({"market": "nl", "country": "NL", "cart_total": "80"}),
    );
    assert_eq!(err.code, ErrorCode::InvalidContext);
    assert_eq!(
        err.details,
        "flag `new-checkout`, market `nl`, rule 1 (`country == \"NL\" and cart_total >= 50`): attribute `cart_total` is a string, but the rule needs a number"
    );
    let err = fail(&set, "new-checkout", json!({"market": 31}));
    assert_eq!(
        (err.code, err.details.as_str()),
        (
            ErrorCode::InvalidContext,
            "flag `new-checkout`: attribute `market` is a number, but it names a market: expected a string such as \"fr\""
        )
    );
    // A flag without markets does not read `market`, so its type does not matter there.
    assert_eq!(eval(&set, "max-items", json!({"market": 31})).2, Reason::Static);
    // The kill switch does not read the context at all.
    assert_eq!(eval(&set, "limits", json!({"market": 31})).2, Reason::Disabled);
}

#[test]
fn evaluate_all_gives_every_flag_in_key_order() {
    let set = set();
    let c = ctx(json!({"market": "nl"}));
    let all = set.evaluate_all(&c);
    let summary: Vec<(&str, Reason)> = all.iter().map(|e| (e.key, e.reason())).collect();
    assert_eq!(
        summary,
        [
            ("banner-text", Reason::Default),
            ("limits", Reason::Disabled),
            ("max-items", Reason::Static),
            ("new-checkout", Reason::Error),
        ]
    );
}

#[test]
fn parse_errors_name_the_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "type: boolean",
            "type: bolean",
            "f.yml:4:11: flag `f`: type `bolean` is not known (did you mean `boolean`?): expected boolean, string, number or object",
        ),
        (
            "default: off",
            "default: of",
            "f.yml:6:14: flag `f`: default variant `of` is not one of the flag's variants (did you mean `off`?): expected one of `off`, `on`",
        ),
        (
            "on: true, off: false",
            "on: true, off: \"no\"",
            "f.yml:5:32: flag `f`: variant `off` is a string, but the flag's type is boolean: expected true or false",
        ),
        (
            "{ on: 20, off: 80 }",
            "{ on: 20, off: 70 }",
            "f.yml:13:18: flag `f`: market `nl`: rollout weights add up to 90: expected 100 (percent)",
        ),
        (
            "{ on: 20, off: 80 }",
            "{ on: 20.001, off: 80 }",
            "f.yml:13:24: flag `f`: market `nl`: rollout `on`: weight 20.001 is too precise: expected at most two decimals, such as 12.5",
        ),
        (
            "{ on: 20, off: 80 }",
            "{ onn: 20, off: 80 }",
            "f.yml:13:20: flag `f`: market `nl`: rollout variant `onn` is not one of the flag's variants (did you mean `on`?): expected one of `off`, `on`",
        ),
        (
            "      nl:",
            "      de:",
            "f.yml:9:7: flag `f`: market `de` is not in the platform (did you mean `be`?): expected one of `fr`, `be`, `nl`",
        ),
        (
            "      nl:",
            "      NLD:",
            "f.yml:9:7: flag `f`: market `NLD` is not a valid market id: expected a lower-case ISO 3166 alpha-2 code such as `fr`, or a code of lower-case letters, digits and dashes starting with a letter, such as `fr-paris-02` (at most 40 characters)",
        ),
        (
            "variant: on\n        rollout",
            "variant: onn\n        rollout",
            "f.yml:12:22: flag `f`: market `nl`: rule 1 serves variant `onn` is not one of the flag's variants (did you mean `on`?): expected one of `off`, `on`",
        ),
        (
            "  f:",
            "  f/g:",
            "f.yml:2:3: flag `f/g`: the key is not valid: expected letters, digits, `-`, `_` and `.` (at most 128), starting with a letter or digit",
        ),
        (
            "team: payments",
            "team: [payments]",
            "f.yml:7:23: flag `f`: metadata `team` is an array: expected a string, a number or a boolean",
        ),
        (
            "enabled: true",
            "enabld: true",
            "f.yml:3:5: unknown field `enabld`, expected one of type, description, variants, default, enabled, kill-switch, metadata, markets, rules, rollout (did you mean `enabled`?)",
        ),
    ];
    let base = "\
flags:
  f:
    enabled: true
    type: boolean
    variants: { on: true, off: false }
    default: off
    metadata: { team: payments }
    markets:
      nl:
        rules:
          - if: 'country == \"NL\"'
            variant: on
        rollout: { on: 20, off: 80 }
";
    assert_eq!(errors(base), Vec::<String>::new());
    for (from, to, expected) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let got = errors(&text);
        assert_eq!(got, vec![expected.to_string()], "replacing {from:?} with {to:?}");
    }
}

#[test]
fn a_bad_rule_points_at_the_character_in_the_file() {
    let text = |cond: &str| {
        format!(
            "flags:\n  f:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rules:\n      - if: {cond}\n        variant: on\n"
        )
    };
    // `      - if: ` is 12 characters, so the condition starts at column 13.
    assert_eq!(
        errors(&text("country = 1")),
        ["f.yml:7:21: flag `f`: rule 1 (`if: country = 1`): `=` is not an operator: use `==` to compare"]
    );
    // In a quoted scalar, after the quote.
    assert_eq!(
        errors(&text("'country = 1'")),
        ["f.yml:7:22: flag `f`: rule 1 (`if: country = 1`): `=` is not an operator: use `==` to compare"]
    );
    assert_eq!(
        errors(&text("\"plan in []\"")),
        ["f.yml:7:22: flag `f`: rule 1 (`if: plan in []`): the list is empty: name at least one value"]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "\
flags:
  f:
    type: boolean
    variants: { on: true, off: 0 }
    default: maybe
    rules:
      - if: 'a =='
        variant: on
  g:
    type: number
    variants: {}
    default: x
    markets:
      fr: {}
      be: { variant: x, rollout: { x: 100 } }
";
    let got = errors(text);
    let at: Vec<&str> = got.iter().map(|e| e.split(": ").next().unwrap_or("")).collect();
    assert_eq!(
        at,
        [
            "f.yml:4:32",
            "f.yml:5:14",
            "f.yml:7:18",
            "f.yml:11:15",
            "f.yml:12:14",
            "f.yml:14:7",
            "f.yml:15:22",
            "f.yml:15:34",
            "f.yml:15:36",
        ],
        "{got:#?}"
    );
    assert!(
        got[5].contains("market `fr` has no `rules`, `rollout` or `variant`"),
        "{}",
        got[5]
    );
    assert!(
        got.iter().any(|e| e.contains("has both `rollout` and `variant`")),
        "{got:#?}"
    );
}

#[test]
fn yaml_mistakes_are_located() {
    let got = errors("flags:\n  f:\n    type: [boolean\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("f.yml:"), "{got:?}");
    let got = errors("flags:\n  f:\n    type: boolean\n    variants: { on: true }\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("missing field `default`"), "{got:?}");
}

#[test]
fn yaml_1_2_booleans_keep_on_and_off_as_strings() {
    let text = "flags:\n  f:\n    type: string\n    variants: { on: yes, off: no }\n    default: off\n";
    let set = parse_flags("f.yml", text, None).unwrap();
    assert_eq!(eval(&set, "f", json!({})).0, json!("no"));
    // Without a market list, any well-formed market id is accepted.
    let text =
        "flags:\n  f:\n    type: number\n    variants: { a: 1 }\n    default: a\n    markets: { zz: { variant: a } }\n";
    assert!(parse_flags("f.yml", text, None).is_ok());
}

#[test]
fn the_etag_depends_on_the_definitions_only() {
    let a = set();
    let reformatted = GOOD.replace(
        "variants: { on: true, off: false }",
        "variants:\n      off: false\n      on: true  # yes",
    );
    assert_ne!(reformatted, GOOD);
    let b = parse_flags("other.yml", &reformatted, None).unwrap();
    assert_eq!(a.etag(), b.etag());
    assert!(a.etag().starts_with('"') && a.etag().ends_with('"') && a.etag().len() == 34);
    let changed = parse_flags(
        "f.yml",
        &GOOD.replace("{ on: 20, off: 80 }", "{ on: 30, off: 70 }"),
        None,
    )
    .unwrap();
    assert_ne!(a.etag(), changed.etag());
    let killed = parse_flags("f.yml", &GOOD.replace("enabled: false", "enabled: true"), None).unwrap();
    assert_ne!(a.etag(), killed.etag());
    assert_ne!(FlagSet::default().etag(), a.etag());

    let c1 = ctx(json!({"targetingKey": "u1", "market": "nl"}));
    let c2 = ctx(json!({"market": "nl", "targetingKey": "u1"}));
    let c3 = ctx(json!({"targetingKey": "u2", "market": "nl"}));
    assert_eq!(a.bulk_etag(&c1), a.bulk_etag(&c2));
    assert_ne!(a.bulk_etag(&c1), a.bulk_etag(&c3));
    assert_ne!(a.bulk_etag(&c1), changed.bulk_etag(&c1));
}

#[test]
fn ofrep_requests_are_checked_with_json_paths() {
    let c = ofrep::parse_request(br#"{"context": {"targetingKey": "u1", "market": "nl", "n": 3}}"#).unwrap();
    assert_eq!(c.targeting_key(), Some("u1"));
    assert_eq!(c.attributes(), json!({"market": "nl", "n": 3}).as_object().unwrap());
    assert_eq!(ofrep::parse_request(b"").unwrap(), EvaluationContext::default());
    assert_eq!(ofrep::parse_request(b"{}").unwrap(), EvaluationContext::default());
    assert_eq!(
        ofrep::parse_request(br#"{"context": null}"#).unwrap(),
        EvaluationContext::default()
    );

    let cases: &[(&[u8], ErrorCode, &str)] = &[
        (
            b"{\"context\": ",
            ErrorCode::ParseError,
            "the request body is not valid JSON (EOF while parsing a value at line 1 column 12): expected an object such as {\"context\": {\"targetingKey\": \"user-1\", \"market\": \"fr\"}}",
        ),
        (
            b"[1]",
            ErrorCode::ParseError,
            "`$`: the request body is an array: expected an object such as {\"context\": {\"targetingKey\": \"user-1\", \"market\": \"fr\"}}",
        ),
        (
            br#"{"context": "u1"}"#,
            ErrorCode::InvalidContext,
            "`$.context` is a string: expected an object such as {\"targetingKey\": \"user-1\"}",
        ),
        (
            br#"{"context": {"targetingKey": 42}}"#,
            ErrorCode::InvalidContext,
            "`$.context.targetingKey` is a number: expected a string such as \"user-1\"",
        ),
    ];
    for (body, code, details) in cases {
        let e = ofrep::parse_request(body).unwrap_err();
        assert_eq!((e.code, e.details.as_str()), (*code, *details));
        assert_eq!(e.code.http_status(), 400);
    }
}

#[test]
fn ofrep_single_responses_have_the_spec_shape() {
    let set = set();
    let c = ctx(json!({"market": "fr"}));
    let e = set.evaluate_one("new-checkout", &c);
    let body = FlagResponse::new(&e);
    assert_eq!(body.status(), 200);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "key": "new-checkout",
            "value": true,
            "reason": "TARGETING_MATCH",
            "variant": "on",
            "metadata": {"team": "payments", "ticket": 431}
        })
    );
    let e = set.evaluate_one("max-items", &c);
    assert_eq!(
        serde_json::to_string(&FlagResponse::new(&e)).unwrap(),
        r#"{"key":"max-items","value":3,"reason":"STATIC","variant":"low","metadata":{}}"#
    );

    let e = set.evaluate_one("nope", &c);
    let body = FlagResponse::new(&e);
    assert_eq!(body.status(), 404);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag `nope` is not defined"})
    );
    let c = ctx(json!({"market": "nl"}));
    let e = set.evaluate_one("new-checkout", &c);
    let body = FlagResponse::new(&e);
    assert_eq!(body.status(), 400);
    assert_eq!(
        serde_json::to_value(&body).unwrap()["errorCode"],
        "TARGETING_KEY_MISSING"
    );

    let bad = ofrep::parse_request(b"{").unwrap_err();
    assert_eq!(
        serde_json::to_value(ofrep::request_failure("new-checkout", &bad)).unwrap(),
        json!({"key": "new-checkout", "errorCode": "PARSE_ERROR", "errorDetails": bad.details})
    );
}

#[test]
fn ofrep_bulk_responses_have_the_spec_shape() {
    let set = set();
    let c = ctx(json!({"market": "nl", "country": "NL", "cart_total": 99}));
    let all = set.evaluate_all(&c);
    let mut body = BulkEvaluationSuccess::new(&all);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"flags": [
            {"key": "banner-text", "value": "Welcome", "reason": "DEFAULT", "variant": "plain", "metadata": {}},
            {"key": "limits", "value": {"items": 3, "bulk": false}, "reason": "DISABLED", "variant": "small", "metadata": {}},
            {"key": "max-items", "value": 3, "reason": "STATIC", "variant": "low", "metadata": {}},
            {"key": "new-checkout", "value": true, "reason": "TARGETING_MATCH", "variant": "on", "metadata": {"team": "payments", "ticket": 431}}
        ]})
    );
    body.refresh_connections = Some(vec![RefreshConnection::sse("https://tandem.example/ofrep/v1/events")]);
    assert_eq!(
        serde_json::to_value(&body).unwrap()["refreshConnections"],
        json!([{"type": "sse", "url": "https://tandem.example/ofrep/v1/events"}])
    );
    let bad = ofrep::parse_request(br#"{"context": 1}"#).unwrap_err();
    assert_eq!(
        serde_json::to_value(BulkEvaluationFailure::new(&bad)).unwrap(),
        json!({"errorCode": "INVALID_CONTEXT", "errorDetails": "`$.context` is a number: expected an object such as {\"targetingKey\": \"user-1\"}"})
    );
    assert_eq!(
        serde_json::to_string(&RefetchEvent::new(Some(set.etag()), Some(1_771_622_898))).unwrap(),
        format!(
            r#"{{"type":"refetchEvaluation","etag":{},"lastModified":1771622898}}"#,
            serde_json::to_string(set.etag()).unwrap()
        )
    );
    assert_eq!(
        serde_json::to_string(&RefetchEvent::new(None, None)).unwrap(),
        r#"{"type":"refetchEvaluation"}"#
    );
}

#[test]
fn if_none_match_compares_etags() {
    let tag = "\"abc\"";
    assert!(ofrep::if_none_match("\"abc\"", tag));
    assert!(ofrep::if_none_match("\"x\", W/\"abc\"", tag));
    assert!(ofrep::if_none_match("*", tag));
    assert!(!ofrep::if_none_match("\"abd\"", tag));
    assert!(!ofrep::if_none_match("", tag));
}

#[test]
fn error_codes_and_reasons_print_as_in_the_spec() {
    for code in [
        ErrorCode::FlagNotFound,
        ErrorCode::TargetingKeyMissing,
        ErrorCode::InvalidContext,
        ErrorCode::ParseError,
        ErrorCode::TypeMismatch,
        ErrorCode::General,
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
    }
    for reason in [
        Reason::Static,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::Default,
        Reason::Error,
    ] {
        assert_eq!(serde_json::to_value(reason).unwrap(), json!(reason.as_str()));
    }
}

fn rollout_flag(on: u32) -> FlagSet {
    let text = format!(
        "flags:\n  f:\n    type: boolean\n    variants: {{ on: true, off: false }}\n    default: off\n    rollout: {{ on: {on}, off: {} }}\n",
        100 - on
    );
    parse_flags("f.yml", &text, None).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn raising_the_rollout_only_moves_users_from_off_to_on(
        keys in prop::collection::vec("[a-zA-Z0-9@.-]{1,20}", 1..40),
        from in 0u32..=100,
        step in 0u32..=100,
    ) {
        let to = (from + step).min(100);
        let (before, after) = (rollout_flag(from), rollout_flag(to));
        for key in keys {
            let c = EvaluationContext::default().with_targeting_key(key.clone());
            let b = before.evaluate_one("f", &c);
            let a = after.evaluate_one("f", &c);
            prop_assert_eq!(b.reason(), Reason::Split);
            if b.variant() == Some("on") {
                prop_assert_eq!(a.variant(), Some("on"), "{} lost `on` going {}→{}", key, from, to);
            }
            // And the same key gets the same answer from the same flags.
            prop_assert_eq!(b, before.evaluate_one("f", &c));
        }
    }

    #[test]
    fn the_flag_parser_never_panics(text in "[a-z:{} \\[\\],'\"\n-]{0,120}") {
        let _ = parse_flags("f.yml", &text, None);
    }
}

#[test]
fn a_rollout_splits_about_as_weighted() {
    let set = rollout_flag(20);
    let on = (0..10_000)
        .filter(|i| {
            let c = EvaluationContext::default().with_targeting_key(format!("user-{i}"));
            set.evaluate_one("f", &c).variant() == Some("on")
        })
        .count();
    // 20 % of 10 000 is 2 000, with a standard deviation of 40: ±200 is 5σ.
    assert!((1800..=2200).contains(&on), "{on}");
}

#[test]
fn the_documented_example_parses() {
    let doc = include_str!("../../../../docs/flags.md");
    let example = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let set = parse_flags("docs/flags.md", example, Some(&["fr", "nl"])).unwrap();
    assert_eq!(set.len(), 4);
    let c = ctx(json!({"market": "nl", "country": "NL", "cart_total": 50}));
    assert_eq!(set.evaluate_one("new-checkout", &c).reason(), Reason::TargetingMatch);
}

#[test]
fn an_emergency_kill_serves_the_default_where_it_holds_and_changes_the_etag() {
    let text = GOOD.replace("    default: off\n", "    default: off\n    kill-switch: true\n");
    let file = parse_flags("flags.yml", &text, Some(&["fr", "be", "nl"])).unwrap();
    let flag = file.get("new-checkout").unwrap().clone();
    assert!(flag.kill_switch());
    assert!(!set().get("new-checkout").unwrap().kill_switch());
    assert_ne!(file.etag(), set().etag(), "the marker is part of the definition");

    let in_fr = FlagSet::new(vec![flag.clone().with_kill(Kill::Market("fr".into()))]);
    assert_ne!(in_fr.etag(), file.etag(), "a kill changes what OFREP answers");
    let fr = eval(&in_fr, "new-checkout", json!({"market": "FR", "targetingKey": "u1"}));
    assert_eq!(fr, (json!(false), "off".into(), Reason::Disabled));
    // Elsewhere the targeting still applies.
    let nl = eval(
        &in_fr,
        "new-checkout",
        json!({"market": "nl", "country": "NL", "cart_total": 60}),
    );
    assert_eq!(nl, (json!(true), "on".into(), Reason::TargetingMatch));

    let everywhere = FlagSet::new(vec![flag.with_kill(Kill::Everywhere)]);
    for c in [json!({}), json!({"market": "nl", "country": "NL", "cart_total": 60})] {
        assert_eq!(
            eval(&everywhere, "new-checkout", c),
            (json!(false), "off".into(), Reason::Disabled)
        );
    }
}

#[test]
fn kill_switch_must_be_a_boolean() {
    let text = GOOD.replace("    default: off\n", "    default: off\n    kill-switch: sometimes\n");
    let err = parse_flags("flags.yml", &text, None).unwrap_err().to_string();
    assert!(err.contains("flags.yml:"), "{err}");
}
