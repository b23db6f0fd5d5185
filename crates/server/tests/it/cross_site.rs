//! The layers around every route, from the outside: a state-changing request authenticated by
//! the session cookie must come from this server's own pages (bearer tokens are unaffected),
//! and every page carries the security headers with no inline script or style for its
//! Content-Security-Policy to block.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestServer;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN, REFERER, SET_COOKIE};
use serde_json::{Value, json};
use tandem_server::{PublicUrl, ServerSettings};

fn http() -> reqwest::Client {
    tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_change_must_come_from_this_server_and_bearer_tokens_pass() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = http();
    let dev = server.seeded.developer_token.clone();
    let cookie = server.session_cookie(&dev).await;
    let idea = |n: u32| json!({ "title": format!("Idea {n}") });
    let post = |headers: &[(&str, String)], n: u32| {
        let mut r = http
            .post(server.url("/api/v1/ideas"))
            .header(COOKIE, &cookie)
            .json(&idea(n));
        for (k, v) in headers {
            r = r.header(*k, v);
        }
        r.send()
    };

    let r = post(&[], 1).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no Origin is no proof");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cross_site_request", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("no Origin"),
        "{body}"
    );
    let r = post(&[("origin", "http://evil.example".into())], 2).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let forged = [
        ("origin", "http://evil.example".to_string()),
        ("x-forwarded-host", "evil.example".to_string()),
    ];
    assert_eq!(
        post(&forged, 3).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "X-Forwarded-Host is not trusted"
    );
    let r = post(&[("sec-fetch-site", "cross-site".into())], 4).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    for (n, same) in [
        (5, ("origin", server.origin())),
        (6, ("sec-fetch-site", "same-origin".to_string())),
        (7, ("referer", server.url("/ideas"))),
    ] {
        let r = post(std::slice::from_ref(&same), n).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{same:?}");
    }

    let r = http
        .post(server.url("/api/v1/ideas"))
        .bearer_auth(&dev)
        .header(ORIGIN, "http://evil.example")
        .json(&idea(8))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "a bearer token is not a browser's ambient credential"
    );

    // The web UI's buttons go through the same layer.
    let rerun = server.url(&format!("/runs/{}/rerun", server.seeded.failed_run_id));
    let r = http.post(&rerun).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let r = http
        .post(&rerun)
        .header(COOKIE, &cookie)
        .header(REFERER, "http://evil.example/page")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("another site"));
    let r = http
        .post(&rerun)
        .header(COOKIE, &cookie)
        .header(ORIGIN, server.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "from the run page itself");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_public_https_url_only_that_origin_counts_and_the_cookie_is_secure() {
    let settings = ServerSettings {
        public_url: Some("https://Tandem.example.com/some/path".parse::<PublicUrl>().unwrap()),
        ..ServerSettings::default()
    };
    let server = TestServer::start_with(settings)
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = http();
    let r = http
        .post(server.url("/login"))
        .form(&[("token", server.seeded.developer_token.as_str())])
        .send()
        .await
        .unwrap();
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.contains("; Secure"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let post = |origin: String| {
        http.post(server.url("/api/v1/ideas"))
            .header(COOKIE, &cookie)
            .header(ORIGIN, origin)
            .json(&json!({ "title": "Behind a proxy" }))
            .send()
    };
    assert_eq!(
        post(server.origin()).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "the Host is not the public URL"
    );
    let r = post("https://tandem.example.com".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!("ftp://x".parse::<PublicUrl>().is_err() && "tandem.example.com".parse::<PublicUrl>().is_err());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_carries_the_security_headers_and_no_inline_code() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = http();
    let admin = tandem_server::auth::generate_secret();
    server
        .engine
        .insert_token_expiring("root", tandem_core::role::Role::Admin, &admin, None)
        .await
        .unwrap();
    let cookie = server.session_cookie(&admin).await;
    let s = &server.seeded;
    let pages = [
        "/login".to_string(),
        "/".into(),
        "/runs".into(),
        format!("/runs/{}", s.run_id),
        format!("/runs/{}", s.failed_run_id),
        "/rollouts".into(),
        format!("/rollouts/{}", s.rollout_id),
        "/markets".into(),
        "/markets/fr".into(),
        "/ideas".into(),
        "/flow".into(),
        "/config".into(),
        "/changes".into(),
        "/changes/new".into(),
        "/delivery".into(),
        "/incidents".into(),
        "/incidents/new".into(),
        "/admin/tokens".into(),
        "/no/such/page".into(),
    ];
    for path in &pages {
        let r = http
            .get(server.url(path))
            .header(COOKIE, &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        let header = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp:?}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains("</html>"), "{path} is a page: {body}");
        assert!(
            !body.contains(" style=\"") && !body.contains("<style"),
            "{path}: inline style in {body}"
        );
        let inline_scripts = body.matches("<script").count() - body.matches("<script src=").count();
        assert_eq!(inline_scripts, 0, "{path}: inline script in {body}");
    }
    let r = http
        .get(server.url("/api/v1/whoami"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff", "the API too");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_button_and_form_of_the_pages_refuses_a_post_from_another_site() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = http();
    let s = &server.seeded;
    let cookie = server.session_cookie(&s.token).await;
    let read = |path: String| {
        let (http, token) = (http.clone(), s.token.clone());
        async move {
            let r = http.get(path).bearer_auth(token).send().await.unwrap();
            r.text().await.unwrap()
        }
    };
    let busy = server.url(&format!("/api/v1/runs/{}", s.busy_run_id));
    let rollout = server.url(&format!("/api/v1/rollouts/{}", s.rollout_id));
    let before = (read(busy.clone()).await, read(rollout.clone()).await);

    for path in [
        format!("/runs/{}/cancel", s.busy_run_id),
        format!("/runs/{}/rerun", s.failed_run_id),
        "/markets/fr/launch".to_string(),
        format!("/rollouts/{}/pause", s.rollout_id),
        format!("/rollouts/{}/abort", s.rollout_id),
        "/incidents/new".into(),
        "/incidents/1/resolve".into(),
        "/changes/new".into(),
        "/changes/1/approve".into(),
        "/admin/tokens/1/revoke".into(),
        "/logout".into(),
    ] {
        let r = http
            .post(server.url(&path))
            .header(COOKIE, &cookie)
            .header(ORIGIN, "http://evil.example")
            .form(&[("title", "x"), ("service", "shop"), ("market", "fr")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        assert!(r.text().await.unwrap().contains("another site"), "{path}");
    }

    assert_eq!((read(busy).await, read(rollout).await), before, "nothing was done");
    let r = http
        .get(server.url("/api/v1/whoami"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the session was not signed out");
    server.stop().await.unwrap();
}
