//! The security model as a caller meets it, checked against the real router and the docs:
//! the role table in `docs/security.md` is the least role each API route accepts (found by
//! calling every route of the OpenAPI document with a token of each role), and every status a
//! route answers to a stranger, a malformed path or a wrong body is one its OpenAPI operation
//! lists.

#![allow(clippy::unwrap_used)]

use crate::common;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use tandem_core::role::Role;
use tandem_server::ServerSettings;

const PLATFORM: &str = "
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
waves:
  - { name: pilot, markets: [fr] }
services:
  - { name: shop, repo: /nonexistent/shop }
";

type Server = common::RoleServer;

/// One operation of the OpenAPI document.
struct Operation {
    method: Method,
    /// As documented, with `{params}`.
    path: String,
    has_body: bool,
    statuses: Vec<u16>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !op.is_object() || op.get("responses").is_none() {
                continue;
            }
            out.push(Operation {
                method,
                path: path.clone(),
                has_body: op.get("requestBody").is_some(),
                statuses: op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter_map(|s| s.parse().ok())
                    .collect(),
            });
        }
    }
    out
}

/// A concrete path for a documented one: every parameter gets a plausible value.
fn concrete(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        let name = &rest[start + 1..end - 1];
        out.push_str(match (value, name) {
            ("plausible", "service") => "shop",
            ("plausible", "market") => "fr",
            ("plausible", "key") => "T-1",
            ("plausible", "digest") => "0000000000000000000000000000000000000000000000000000000000000000",
            ("plausible", "version") => "v1",
            ("plausible", "job") => "test",
            // an id no object has: a route acts on nothing (revoking token 1 would end a role's
            // token halfway through), yet its role is checked first
            ("plausible", _) => "999999",
            (other, _) => other,
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

async fn call(
    server: &Server,
    op: &Operation,
    path: &str,
    role: Option<Role>,
    body: Option<(&str, &str)>,
) -> StatusCode {
    let client = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.request(op.method.clone(), format!("{}{path}", server.base));
    if let Some(role) = role {
        req = req.bearer_auth(server.token(role));
    }
    if let Some((content_type, body)) = body {
        req = req.header("content-type", content_type).body(body.to_string());
    }
    // A stream (SSE) answers its status at once; the body is never read.
    tokio::time::timeout(std::time::Duration::from_secs(10), req.send())
        .await
        .unwrap_or_else(|_| panic!("{} {path} did not answer", op.method))
        .unwrap()
        .status()
}

/// The least role each route accepts, as the router answers: the first role (viewer up to
/// admin) not refused with 401 or 403. The body is an empty JSON object, so that a route
/// taking one refuses it as invalid before acting.
async fn least_roles(server: &Server, ops: &[Operation]) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for op in ops {
        let path = concrete(&op.path, "plausible");
        let body = op.has_body.then_some(("application/json", "{}"));
        let mut least = "nobody".to_string();
        for role in Role::ALL {
            let status = call(server, op, &path, Some(role), body).await;
            if status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED {
                least = role.to_string();
                break;
            }
        }
        found.insert(format!("{} {}", op.method, op.path), least);
    }
    found
}

/// The table in docs/security.md: rows `| \`METHOD /path\` | role |`.
fn documented_roles() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md"))
        .expect("docs/security.md exists");
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let route = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let (method, path) = route.split_once(' ')?;
            method.parse::<Method>().ok()?;
            Some((format!("{method} {path}"), cells.get(2)?.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn the_role_table_in_the_docs_is_the_routers() {
    let server = Server::start(PLATFORM, ServerSettings::default()).await;
    let doc: Value = tandem_testkit::http()
        .get(format!("{}/api/v1/openapi.json", server.base))
        .bearer_auth(server.token(Role::Viewer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ops = operations(&doc);
    assert!(ops.len() > 40, "the document lists the API: {}", ops.len());
    let found = least_roles(&server, &ops).await;
    let documented = documented_roles();
    let table: String = found
        .iter()
        .map(|(route, role)| format!("| `{route}` | {role} |\n"))
        .collect();
    assert_eq!(
        found, documented,
        "docs/security.md's role table differs from what the router answers; the router's table:\n{table}"
    );
    server.stop().await;
}

/// A request to make: its path, who makes it, and its body with its content type.
type Try = (String, Option<Role>, Option<(&'static str, &'static str)>);

#[tokio::test]
async fn every_status_a_route_answers_is_documented() {
    let server = Server::start(PLATFORM, ServerSettings::default()).await;
    let doc: Value = tandem_testkit::http()
        .get(format!("{}/api/v1/openapi.json", server.base))
        .bearer_auth(server.token(Role::Viewer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut undocumented = Vec::new();
    for op in operations(&doc) {
        let plausible = concrete(&op.path, "plausible");
        let mut tries: Vec<Try> = vec![
            // a stranger
            (plausible.clone(), None, None),
            // a path whose parameters are not what the route takes
            (concrete(&op.path, "%ff%00"), Some(Role::Admin), None),
            (concrete(&op.path, "99999999999999999999999"), Some(Role::Admin), None),
        ];
        if op.has_body {
            tries.push((plausible.clone(), Some(Role::Admin), Some(("text/plain", "hello"))));
            tries.push((
                plausible.clone(),
                Some(Role::Admin),
                Some(("application/json", "{\"broken")),
            ));
            tries.push((
                plausible.clone(),
                Some(Role::Admin),
                Some(("application/json", "[1, 2]")),
            ));
        }
        for (path, role, body) in tries {
            let status = call(&server, &op, &path, role, body).await;
            if !op.statuses.contains(&status.as_u16()) {
                undocumented.push(format!(
                    "{} {path} ({}, body {:?}) answered {status}; documented: {:?}",
                    op.method,
                    role.map_or("no credential".to_string(), |r| r.to_string()),
                    body.map(|b| b.0),
                    op.statuses
                ));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented statuses:\n{}",
        undocumented.join("\n")
    );
    server.stop().await;
}
