//! The emergency path for flags against a real `tandem serve`, through the CLI and the HTTP
//! API: an operator kills a kill switch at once (OFREP answers the default at once), the
//! change shows as unreviewed until a developer reviews it afterwards (never its author, never
//! the same side), a rejection reverts nothing, and a lift is a reviewed change request. Only a
//! kill switch, only a kill, only the emergency role.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Server, stderr};
use serde_json::{Value, json};
use std::process::Output;

/// Two live markets and the service `shop` (a repository in `dir`).
fn platform(dir: &std::path::Path) -> String {
    let repo = common::make_repo(dir, "shop");
    PLATFORM.replace("REPO", &repo.display().to_string())
}

const PLATFORM: &str = "markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: nl, name: Netherlands, region: west, currency: EUR, locale: nl-NL, timezone: Europe/Amsterdam }
waves:
  - { name: pilot, markets: [fr] }
  - { name: rest, markets: [nl] }
services:
  - { name: shop, repo: REPO }
";

const FLAGS: &str = "flags:
  new-checkout:
    type: boolean
    variants: { on: true, off: false }
    default: off
    kill-switch: true
    markets:
      fr: { variant: on }
      nl: { variant: on }
  banner:
    type: string
    variants: { plain: Welcome, sale: Sale }
    default: plain
    markets:
      fr: { variant: sale }
";

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    stderr(out)
}

/// A token of `role` named `name`.
fn token(server: &Server, name: &str, role: &str) -> String {
    let made: Value =
        serde_json::from_str(&ok(&server.cli(&["token", "create", name, "--role", role, "--json"]))).unwrap();
    made["secret"].as_str().unwrap().to_string()
}

/// What OFREP answers for `new-checkout` in `market`: (value, reason).
async fn checkout(server: &Server, market: &str) -> (Value, Value) {
    let answer: Value = tandem_testkit::http()
        .post(format!("{}/ofrep/v1/evaluate/flags/new-checkout", server.base))
        .bearer_auth(&server.token)
        .json(&json!({ "context": { "targetingKey": "u1", "market": market } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (answer["value"].clone(), answer["reason"].clone())
}

#[tokio::test]
async fn an_operator_kills_a_kill_switch_at_once_and_a_developer_reviews_it_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &platform(dir.path()));
    let (dev, ops, ops2) = (
        token(&server, "dana", "developer"),
        token(&server, "olga", "operator"),
        token(&server, "otto", "operator"),
    );
    let file = dir.path().join("flags.yml");
    std::fs::write(&file, FLAGS).unwrap();
    let said = ok(&server.cli_as(&["flags", "apply", "shop", "-f", file.to_str().unwrap()], &dev));
    let change: String = said.split_whitespace().nth(2).unwrap().to_string();
    ok(&server.cli_as(&["config", "approve", &change], &ops));
    assert_eq!(checkout(&server, "fr").await, (json!(true), json!("TARGETING_MATCH")));

    // Refused: a developer (the emergency role is operator's), a flag that is no kill switch,
    // a market the platform does not have, no reason.
    let by_dev = refused(&server.cli_as(&["flag", "kill", "new-checkout", "--reason", "x"], &dev));
    assert!(by_dev.contains("needs the operator role"), "{by_dev}");
    let banner = refused(&server.cli_as(&["flag", "kill", "banner", "--reason", "x"], &ops));
    assert!(
        banner.contains("not a kill switch") && banner.contains("tandem flags apply"),
        "{banner}"
    );
    let nowhere = refused(&server.cli_as(
        &["flag", "kill", "new-checkout", "--market", "xx", "--reason", "x"],
        &ops,
    ));
    assert!(nowhere.contains("market `xx`"), "{nowhere}");
    let mute = refused(&server.cli_as(&["flag", "kill", "new-checkout", "--reason", " "], &ops));
    assert!(mute.contains("needs a reason"), "{mute}");
    // The emergency route kills, nothing else: a variant, or a flag file, is refused.
    let http = tandem_testkit::http();
    for body in [
        json!({ "reason": "x", "variant": "on" }),
        json!({ "reason": "x", "text": FLAGS }),
    ] {
        let r = http
            .post(format!("{}/api/v1/flags/new-checkout/kill", server.base))
            .bearer_auth(&ops)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let text = r.text().await.unwrap();
        assert!(text.contains("only kills a flag"), "{text}");
    }
    assert_eq!(checkout(&server, "fr").await, (json!(true), json!("TARGETING_MATCH")));

    // The kill: at once, in fr only.
    let said = ok(&server.cli_as(
        &[
            "flag",
            "kill",
            "new-checkout",
            "--market",
            "fr",
            "--reason",
            "payment errors since 14:02",
        ],
        &ops,
    ));
    assert!(said.contains("killed in fr") && said.contains("Unreviewed"), "{said}");
    let listed: Value =
        serde_json::from_str(&ok(&server.cli(&["flags", "emergencies", "--unreviewed", "--json"]))).unwrap();
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(listed[0]["review"], "unreviewed", "{listed}");
    assert_eq!(listed[0]["created_by"], "olga");
    assert_eq!(checkout(&server, "fr").await, (json!(false), json!("DISABLED")));
    assert_eq!(checkout(&server, "nl").await, (json!(true), json!("TARGETING_MATCH")));
    let again = refused(&server.cli_as(&["flag", "kill", "new-checkout", "--reason", "everywhere now"], &ops));
    assert!(again.contains("already killed in market `fr`"), "{again}");
    let shown = ok(&server.cli(&["flags", "show", "shop"]));
    assert!(
        shown.contains("Emergency changes") && shown.contains("UNREVIEWED"),
        "{shown}"
    );

    // The review: not by its author, not by the same side; a developer's rejection is kept
    // and reverts nothing.
    let own = refused(&server.cli_as(&["flag", "review", &id, "--approve"], &ops));
    assert!(own.contains("olga made emergency change"), "{own}");
    let same_side = refused(&server.cli_as(&["flag", "review", &id, "--approve"], &ops2));
    assert!(same_side.contains("needs a developer"), "{same_side}");
    let said = ok(&server.cli_as(
        &["flag", "review", &id, "--reject", "--comment", "a rollback was enough"],
        &dev,
    ));
    assert!(
        said.contains("rejected") && said.contains("holds until lifted"),
        "{said}"
    );
    let twice = refused(&server.cli_as(&["flag", "review", &id, "--approve"], &dev));
    assert!(twice.contains("already reviewed by dana"), "{twice}");
    assert_eq!(checkout(&server, "fr").await, (json!(false), json!("DISABLED")));
    let unreviewed: Value =
        serde_json::from_str(&ok(&server.cli(&["flags", "emergencies", "--unreviewed", "--json"]))).unwrap();
    assert_eq!(unreviewed, json!([]));

    // Audited: who killed, who reviewed.
    let audit: Value = serde_json::from_str(&ok(&server.cli(&["audit", "--kind", "flag", "--json"]))).unwrap();
    let kinds: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("flag.kill-rejected", "dana"), ("flag.killed", "olga")]);

    // Lifting is four-eyes: a change request the other side approves.
    let said = ok(&server.cli_as(&["flags", "lift", &id, "--reason", "fixed in 2.4.1"], &dev));
    assert!(said.contains("the kill holds until it is approved"), "{said}");
    let lift: String = said.split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(checkout(&server, "fr").await, (json!(false), json!("DISABLED")));
    refused(&server.cli_as(&["config", "approve", &lift], &dev));
    ok(&server.cli_as(&["config", "approve", &lift], &ops));
    assert_eq!(checkout(&server, "fr").await, (json!(true), json!("TARGETING_MATCH")));
    let all: Value = serde_json::from_str(&ok(&server.cli(&["flags", "emergencies", "--json"]))).unwrap();
    assert_eq!(all[0]["in_force"], false, "{all}");
    assert_eq!(all[0]["review"], "rejected", "{all}");
    server.stop();
}

#[tokio::test]
async fn the_platform_may_name_another_emergency_role() {
    let dir = tempfile::tempdir().unwrap();
    let platform = format!("{}flags: {{ emergency-role: developer }}\n", platform(dir.path()));
    let server = Server::start(dir.path(), &platform);
    let (dev, viewer) = (token(&server, "dana", "developer"), token(&server, "vic", "viewer"));
    let file = dir.path().join("flags.yml");
    std::fs::write(&file, FLAGS).unwrap();
    // Approved by an admin (ops side) in one go.
    let said = ok(&server.cli_as(&["flags", "apply", "shop", "-f", file.to_str().unwrap()], &dev));
    let change: String = said.split_whitespace().nth(2).unwrap().to_string();
    ok(&server.cli(&["config", "approve", &change]));
    let by_viewer = refused(&server.cli_as(&["flag", "kill", "new-checkout", "--reason", "x"], &viewer));
    assert!(by_viewer.contains("403") || by_viewer.contains("role"), "{by_viewer}");
    let said = ok(&server.cli_as(&["flag", "kill", "new-checkout", "--reason", "errors"], &dev));
    assert!(said.contains("killed everywhere"), "{said}");
    assert_eq!(checkout(&server, "nl").await, (json!(false), json!("DISABLED")));
    // A developer's emergency change is reviewed by the ops side.
    let id = said
        .split("emergency change ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap()
        .to_string();
    let same_side = refused(&server.cli_as(&["flag", "review", &id, "--approve"], &dev));
    assert!(same_side.contains("dana made emergency change"), "{same_side}");
    ok(&server.cli(&["flag", "review", &id, "--approve"]));
    server.stop();
}
