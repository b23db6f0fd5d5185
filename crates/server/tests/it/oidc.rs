//! Single sign-on against a real, certified OpenID Provider (panva/oidc-provider, run with Node
//! from tests/oidc/): a cookie-keeping client plays the browser from Tandem's button through the
//! provider's login and consent pages back to Tandem's callback, following redirects by hand.
//!
//! Needs Node.js 20.19+ and `npm ci --prefix crates/server/tests/oidc`.

#![allow(clippy::unwrap_used)] // the helpers play a browser: a failed request fails the test

use crate::common;

use common::{PLATFORM, TestServer};
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long a whole test may take: starting Node and a few dozen local requests.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the provider may take to start listening.
const PROVIDER_START: Duration = Duration::from_secs(20);
const CLIENT_ID: &str = "tandem";
/// Tests may not set environment variables (no unsafe code), so the client secret is the
/// value of one that is set wherever tests run; the provider is given the same value.
const SECRET_VAR: &str = "PATH";

/// The OpenID Provider, stopped when dropped.
struct Provider {
    issuer: String,
    log: Arc<Mutex<String>>,
    _child: tokio::process::Child,
}

impl Provider {
    /// A provider that signs with one key and publishes another (see provider.js).
    async fn forging(redirect_uri: &str) -> Provider {
        Self::spawn(redirect_uri, true).await
    }

    async fn start(redirect_uri: &str) -> Provider {
        Self::spawn(redirect_uri, false).await
    }

    async fn spawn(redirect_uri: &str, other_key: bool) -> Provider {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test OpenID provider is not installed: run `npm ci --prefix crates/server/tests/oidc` (needs Node.js 20.19 or later)"
        );
        let secret = std::env::var(SECRET_VAR).expect("PATH is set");
        let mut child = tokio::process::Command::new("node")
            .arg("provider.js")
            .current_dir(&dir)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", secret)
            .env("REDIRECT_URI", redirect_uri)
            .env("PUBLISH_OTHER_KEY", if other_key { "1" } else { "0" })
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node` (Node.js 20.19 or later must be installed): {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                let mut log = sink.lock().expect("the provider's log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(PROVIDER_START, stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("the OpenID provider did not start: {}", log.lock().expect("log")));
        let line = first
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("the OpenID provider stopped: {}", log.lock().expect("log")));
        // The provider also prints notices there: keep reading, or its next write fails.
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                let mut log = sink.lock().expect("the provider's log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let issuer: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        Provider {
            issuer: issuer["issuer"].as_str().expect("an issuer").to_string(),
            log,
            _child: child,
        }
    }

    fn log(&self) -> String {
        self.log.lock().expect("the provider's log").clone()
    }
}

/// The seed's platform with single sign-on through `issuer`: `sre` → operator, `everyone` →
/// viewer, `platform-admins` → admin; `marketing` maps to nothing.
fn platform(server: &TestServer, issuer: &str, secret_var: &str) -> tandem_core::platform::Platform {
    let text = format!(
        "{PLATFORM}sso:
  name: Test IdP
  issuer: {issuer}
  client_id: {CLIENT_ID}
  client_secret_env: {secret_var}
  redirect_url: {}
  scopes: [openid, profile, email, groups]
  groups_claim: groups
  groups:
    everyone: viewer
    sre: operator
    platform-admins: admin
",
        server.url("/login/sso/callback")
    );
    tandem_core::platform::parse_platform("platform.yml", &text).expect("a valid platform")
}

/// Tandem and a provider that knows it, with SSO set up in Tandem's platform.
async fn start() -> (TestServer, Provider) {
    start_with(false).await
}

async fn start_with(forging: bool) -> (TestServer, Provider) {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let callback = server.url("/login/sso/callback");
    let provider = if forging {
        Provider::forging(&callback).await
    } else {
        Provider::start(&callback).await
    };
    let platform = platform(&server, &provider.issuer, SECRET_VAR);
    server
        .engine
        .store_for_tests()
        .sync_platform(&platform)
        .await
        .expect("the platform with sso");
    (server, provider)
}

/// A browser: keeps cookies, does not follow redirects by itself.
fn browser() -> reqwest::Client {
    tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("an HTTP client")
}

/// Presses "Sign in with Test IdP" and signs in at the provider as `user`, through its login
/// and consent pages (or, as `cancel`, presses Cancel); returns the URL the provider sends the
/// browser back to (not yet visited).
async fn sign_in_at_provider(browser: &reqwest::Client, server: &TestServer, provider: &Provider, user: &str) -> Url {
    let r = browser.get(server.url("/login/sso?next=/runs")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "Tandem sends the browser to the provider"
    );
    let mut url = Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert!(url.as_str().starts_with(&provider.issuer), "{url}");
    let params: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(params["code_challenge_method"], "S256", "PKCE: {url}");
    for name in ["state", "nonce", "code_challenge"] {
        assert!(params.get(name).is_some_and(|v| v.len() >= 16), "{name} in {url}");
    }
    let callback = server.url("/login/sso/callback");
    let mut form: Option<Vec<(&str, String)>> = None;
    for _ in 0..20 {
        let r = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields).send().await,
            None => browser.get(url.clone()).send().await,
        };
        let r = r.unwrap_or_else(|e| panic!("{url}: {e}\nprovider log:\n{}", provider.log()));
        let status = r.status();
        if status.is_redirection() {
            url = url.join(r.headers()[LOCATION].to_str().unwrap()).unwrap();
            if url.as_str().starts_with(&callback) {
                return url;
            }
            continue;
        }
        let page = r.text().await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "{url}: {page}\nprovider log:\n{}",
            provider.log()
        );
        // The login page has two forms, Sign in then Cancel; `cancel` presses Cancel.
        let form_index = if user == "cancel" { 2 } else { 1 };
        let action = page
            .split("action=\"")
            .nth(form_index)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no form at {url}: {page}"));
        url = url.join(action).unwrap();
        form = Some(if user == "cancel" {
            vec![]
        } else if page.contains("name=\"login\"") {
            vec![("login", user.to_string()), ("password", format!("{user}-password"))]
        } else {
            assert!(page.contains("Allow"), "a consent page: {page}");
            vec![]
        });
    }
    panic!("the provider never sent the browser back to Tandem (last at {url})");
}

async fn whoami(browser: &reqwest::Client, server: &TestServer) -> (StatusCode, Value) {
    let r = browser.get(server.url("/api/v1/whoami")).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_a_mapped_group_signs_in_with_its_role() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (server, provider) = start().await;
        let browser = browser();

        let page = browser
            .get(server.url("/login?next=/runs"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Sign in with Test IdP"), "{page}");
        assert!(page.contains(r#"href="/login/sso?next=/runs""#), "{page}");

        let back = sign_in_at_provider(&browser, &server, &provider, "ana").await;
        let r = browser.get(back).send().await.unwrap();
        // The callback comes from the provider's site: the session cookie (SameSite=Strict) is
        // set by a page that moves on within this site, where the browser sends it.
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers().contains_key(reqwest::header::SET_COOKIE),
            "the session starts"
        );
        let page = r.text().await.unwrap();
        assert!(
            page.contains(r#"content="0;url=/runs""#),
            "back where the user was headed: {page}"
        );

        let (status, me) = whoami(&browser, &server).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["name"], "ana");
        assert_eq!(me["role"], "operator", "sre maps to operator, above everyone's viewer");
        let runs = browser.get(server.url("/runs")).send().await.unwrap();
        assert_eq!(runs.status(), StatusCode::OK, "signed in, the runs page shows");
    })
    .await
    .expect("the test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_whose_groups_map_to_no_role_is_refused() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (server, provider) = start().await;
        let browser = browser();
        let back = sign_in_at_provider(&browser, &server, &provider, "bob").await;
        let r = browser.get(back).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let page = r.text().await.unwrap();
        assert!(page.contains("No access to Tandem"), "{page}");
        assert!(page.contains("as bob, but none of your groups gives access"), "{page}");
        let (status, _) = whoami(&browser, &server).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "bob is not signed in");
    })
    .await
    .expect("the test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_cancelled_at_the_provider_says_so() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (server, provider) = start().await;
        let browser = browser();
        let back = sign_in_at_provider(&browser, &server, &provider, "cancel").await;
        assert!(
            back.query_pairs().any(|(k, v)| k == "error" && v == "access_denied"),
            "{back}"
        );
        let r = browser.get(back).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let page = r.text().await.unwrap();
        assert!(page.contains("Sign-in refused by the identity provider"), "{page}");
        assert!(page.contains("access_denied: the user cancelled the sign-in"), "{page}");
        let (status, _) = whoami(&browser, &server).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "not signed in");
    })
    .await
    .expect("the test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_replayed_or_foreign_callback_is_refused() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (server, provider) = start().await;
        let refused = async |browser: &reqwest::Client, url: Url, what: &str| {
            let r = browser.get(url).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
            let page = r.text().await.unwrap();
            assert!(page.contains("This sign-in link is not valid"), "{what}: {page}");
            let (status, _) = whoami(browser, &server).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: not signed in");
        };
        let with_state = |url: &Url, state: &str| {
            let mut url = url.clone();
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            url.query_pairs_mut().clear();
            for (k, v) in pairs {
                url.query_pairs_mut()
                    .append_pair(&k, if k == "state" { state } else { &v });
            }
            url
        };

        // A state that Tandem never issued, with a real code.
        let ana = browser();
        let back = sign_in_at_provider(&ana, &server, &provider, "ana").await;
        let state: String = back.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        refused(&ana, with_state(&back, &format!("{state}x")), "a tampered state").await;
        refused(&ana, with_state(&back, ""), "an empty state").await;

        // The real link, opened in another browser (a link an attacker sends to a victim).
        let other = browser();
        refused(
            &other,
            back.clone(),
            "a callback from a browser that did not start the sign-in",
        )
        .await;
        refused(
            &ana,
            back,
            "an attempt used once (by the other browser) cannot be used again",
        )
        .await;

        // A sign-in that worked cannot be replayed, in this browser or another.
        let back = sign_in_at_provider(&ana, &server, &provider, "ana").await;
        let r = ana.get(back.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "signed in");
        let replay = browser();
        let r = replay.get(server.url("/login/sso?next=/")).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "the replaying browser has its own binding cookie"
        );
        refused(&replay, back.clone(), "a replayed callback in another browser").await;
        let r = ana.get(back).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "a replayed callback in the same browser"
        );
    })
    .await
    .expect("the test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_that_no_published_key_signed_is_refused() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (server, provider) = start_with(true).await;
        let browser = browser();
        let back = sign_in_at_provider(&browser, &server, &provider, "ana").await;
        let r = browser.get(back).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        let page = r.text().await.unwrap();
        assert!(page.contains("ID token did not pass verification"), "{page}");
        let (status, _) = whoami(&browser, &server).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "not signed in");
    })
    .await
    .expect("the test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_client_secret_is_told_to_the_log_not_the_visitor() {
    let server = TestServer::start().await.expect("the server");
    let platform = platform(&server, "https://id.example.com", "TANDEM_TEST_SURELY_UNSET_9B2E");
    server
        .engine
        .store_for_tests()
        .sync_platform(&platform)
        .await
        .expect("the platform");
    let r = browser().get(server.url("/login/sso")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let page = r.text().await.unwrap();
    assert!(page.contains("the client secret is missing"), "{page}");
    assert!(
        !page.contains("TANDEM_TEST_SURELY_UNSET_9B2E"),
        "the variable's name stays in the log: {page}"
    );

    let mut unset = platform.clone();
    unset.sso = None;
    server
        .engine
        .store_for_tests()
        .sync_platform(&unset)
        .await
        .expect("the platform");
    let r = browser().get(server.url("/login/sso")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let login = browser()
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!login.contains("Sign in with"), "no SSO button without SSO: {login}");
}
