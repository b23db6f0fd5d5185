//! Tokens and browser sessions from the outside: a session cookie is its own random id (never a
//! token), ends at sign-out, and no credential travels in a URL; tokens expire, are revoked at
//! once (with their sessions), record their last use, and an admin revokes them from a page.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestServer, wait_for};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use std::time::Duration;
use tandem_core::role::Role;

fn http() -> reqwest::Client {
    tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start() -> TestServer {
    TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"))
}

/// An admin token's secret, made in the store.
async fn admin(server: &TestServer) -> String {
    let secret = tandem_server::auth::generate_secret();
    server
        .engine
        .insert_token_expiring("root", Role::Admin, &secret, None)
        .await
        .unwrap();
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_a_session_not_a_token_and_dies_at_sign_out() {
    let server = start().await;
    let http = http();
    let token = server.seeded.token.clone();

    let r = http
        .post(server.url("/login"))
        .form(&[("token", token.as_str()), ("next", "/runs")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/runs");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let (name, value) = cookie.split_once('=').unwrap();
    assert_eq!(name, "tandem_session");
    assert!(
        !value.contains(&token) && !value.starts_with("tdm_"),
        "the cookie holds no token: {set}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http here: {set}");

    let r = http
        .get(server.url("/runs"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the session signs in");
    let r = http
        .get(server.url("/api/v1/whoami"))
        .bearer_auth(value)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a session id is no API token");

    let r = http
        .post(server.url("/logout"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, server.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let r = http
        .get(server.url("/runs"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old cookie no longer signs in");
    assert_eq!(r.headers()[LOCATION], "/login?next=/runs");
    let r = http
        .get(server.url("/api/v1/whoami"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_in_a_url_and_a_one_time_code_works_once() {
    let server = start().await;
    let http = http();
    let token = server.seeded.developer_token.clone();

    let r = http
        .get(server.url(&format!("/login?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "a token in a link signs nobody in");
    assert!(r.headers().get(SET_COOKIE).is_none());

    let r = http.post(server.url("/api/v1/login-codes")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a code is for a signed-in caller");
    let r = http
        .post(server.url("/api/v1/login-codes"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let link: Value = r.json().await.unwrap();
    let path = link["path"].as_str().unwrap().to_string();
    assert!(path.starts_with("/login?code=") && !path.contains(&token), "{path}");

    let r = http
        .get(server.url(&format!("{path}&next=/ideas")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/ideas");
    let set = r.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("tandem_session="), "{set}");
    let r = http
        .get(server.url("/api/v1/whoami"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let who: Value = r.json().await.unwrap();
    assert_eq!(
        (who["name"].as_str(), who["role"].as_str()),
        (Some("dev"), Some("developer"))
    );

    let r = http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the code died on first use");
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert!(r.text().await.unwrap().contains("already used or has expired"));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_are_revoked_at_once_with_their_sessions_and_record_their_last_use() {
    let server = start().await;
    let http = http();
    let root = admin(&server).await;

    // Expired: refused, on the API and at sign-in.
    let old = tandem_server::auth::generate_secret();
    let past = tandem_store::now_ms() - 1;
    server
        .engine
        .insert_token_expiring("old", Role::Viewer, &old, Some(past))
        .await
        .unwrap();
    let r = http
        .get(server.url("/api/v1/whoami"))
        .bearer_auth(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("expired"));
    let r = http
        .post(server.url("/login"))
        .form(&[("token", old.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(SET_COOKIE).is_none());

    // An expiry given through the API.
    let create = |body: Value| {
        http.post(server.url("/api/v1/tokens"))
            .bearer_auth(&root)
            .json(&body)
            .send()
    };
    let r = create(json!({ "name": "ci", "role": "developer", "expires_in": "30d" }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ci: Value = r.json().await.unwrap();
    let in_29_days = tandem_store::now_ms() + 29 * 86_400_000;
    assert!(ci["expires_at"].as_i64().unwrap() > in_29_days, "{ci}");
    let r = create(json!({ "name": "x", "role": "viewer", "expires_in": "soon" }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("expires_in"));

    // Used (and so cached), then revoked: refused on the very next request, with its session.
    let (id, secret) = (ci["id"].as_i64().unwrap(), ci["secret"].as_str().unwrap().to_string());
    let whoami = || http.get(server.url("/api/v1/whoami")).bearer_auth(&secret).send();
    assert_eq!(whoami().await.unwrap().status(), StatusCode::OK);
    let cookie = server.session_cookie(&secret).await;
    let page = || http.get(server.url("/runs")).header(COOKIE, &cookie).send();
    assert_eq!(page().await.unwrap().status(), StatusCode::OK);

    let listed = wait_for("the token's last use", Duration::from_secs(30), || async {
        let tokens: Vec<Value> = http
            .get(server.url("/api/v1/tokens"))
            .bearer_auth(&root)
            .send()
            .await?
            .json()
            .await?;
        Ok(tokens.into_iter().find(|t| t["id"] == id && t["last_used_at"].is_i64()))
    })
    .await
    .unwrap();
    assert!(listed["revoked_at"].is_null());

    let r = http
        .delete(server.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = whoami().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "revoked at once");
    assert!(r.text().await.unwrap().contains("revoked"));
    let r = page().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "its session ended with it");
    let r = http
        .delete(server.url("/api/v1/tokens/999999"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_revokes_a_token_from_the_tokens_page() {
    let server = start().await;
    let http = http();
    let root = admin(&server).await;
    let cookie = server.session_cookie(&root).await;
    let viewer = server.session_cookie(&server.seeded.viewer_token).await;

    let r = http
        .get(server.url("/admin/tokens"))
        .header(COOKIE, &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "tokens are an admin's");
    let r = http
        .get(server.url("/admin/tokens"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let dev = server
        .engine
        .find_token(&server.seeded.developer_token)
        .await
        .unwrap()
        .unwrap();
    let button = format!(r#"action="/admin/tokens/{}/revoke""#, dev.id);
    assert!(body.contains(&button) && body.contains(">dev<"), "{body}");

    let r = http
        .post(server.url(&format!("/admin/tokens/{}/revoke", dev.id)))
        .header(COOKIE, &cookie)
        .header(ORIGIN, server.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http
        .get(server.url("/api/v1/whoami"))
        .bearer_auth(&server.seeded.developer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = http
        .get(server.url("/admin/tokens"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains(&button) && body.contains("revoked"), "{body}");
    server.stop().await.unwrap();
}
