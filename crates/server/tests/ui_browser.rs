//! The web UI, driven like a user would: a real server on port 0 with seeded data, and headless
//! Chromium through chromedriver (Debian's `chromium` and `chromium-driver` packages). A plain
//! HTTP test checks sign-in refusals and error pages without a browser.

mod common;

use anyhow::{Context, Result, anyhow, bail, ensure};
use common::{FAILED_REASON, TestServer, wait_for};
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Bound on any one wait in the browser (a page, chromedriver starting): pages render in
/// milliseconds here; the margin is for a loaded CI machine.
const WAIT: Duration = Duration::from_secs(20);
/// Bound on the whole browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots")
}

/// A chromedriver process, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
    work: tempfile::TempDir,
}

impl ChromeDriver {
    fn start() -> Result<Self> {
        for (path, what) in [(CHROMEDRIVER, "chromedriver"), (CHROMIUM, "chromium")] {
            ensure!(
                Path::new(path).exists(),
                "{what} is missing at {path}: the UI tests need a real browser. Install Debian's packages: \
                 `sudo apt-get install chromium chromium-driver`"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let work = tempfile::tempdir()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", work.path().join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        Ok(Self { child, port, work })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.work.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Waits for chromedriver to answer, then opens a headless Chromium session.
    async fn connect(&self) -> Result<Client> {
        let status = format!("{}/status", self.url());
        let http = reqwest::Client::new();
        wait_for("chromedriver to be ready", WAIT, || async {
            let body: serde_json::Value = http.get(&status).send().await?.json().await?;
            Ok((body["value"]["ready"] == true).then_some(()))
        })
        .await?;
        let profile = self.work.path().join("profile");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()), "--window-size=1400,1000",
                ],
            }
        });
        let caps = caps
            .as_object()
            .cloned()
            .ok_or_else(|| anyhow!("capabilities are not an object"))?;
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let url = self.url();
        match tokio::time::timeout(WAIT, builder.connect(&url)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => bail!(
                "cannot open a Chromium session: {e}\nchromedriver log:\n{}",
                self.log_tail()
            ),
            Err(_) => bail!(
                "Chromium did not start within {WAIT:?}\nchromedriver log:\n{}",
                self.log_tail()
            ),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Chromium itself ends with its session (`Client::close`, called on every path that
        // does not panic); this stops chromedriver even when the test failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of the whole page, as the user sees it.
async fn page_text(client: &Client) -> Result<String> {
    Ok(client.find(Locator::Css("body")).await?.text().await?)
}

/// Waits until the browser is at `path` and the page shows `needle`.
async fn wait_page(client: &Client, path: &str, needle: &str) -> Result<String> {
    wait_for(&format!("page {path} showing {needle:?}"), WAIT, || async {
        let url = client.current_url().await?;
        if url.path() != path {
            return Err(anyhow!("at {url}"));
        }
        let text = page_text(client).await?;
        Ok(text.contains(needle).then_some(text))
    })
    .await
}

/// The text and class of one element.
async fn element(client: &Client, css: &str) -> Result<(String, String)> {
    let e = client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no element {css}"))?;
    Ok((e.text().await?, e.attr("class").await?.unwrap_or_default()))
}

async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let png = client.screenshot().await?;
    std::fs::write(dir.join(name), png).with_context(|| format!("cannot save {name}"))?;
    Ok(())
}

async fn browse(client: &Client, server: &TestServer) -> Result<()> {
    let seeded = &server.seeded;

    // Signed out: the overview sends the browser to sign-in.
    client.goto(&server.url("/")).await?;
    wait_page(client, "/login", "Sign in").await?;
    screenshot(client, "login.png").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(&seeded.token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;

    // The overview: the market matrix by wave, health, releases, incidents.
    let text = wait_page(client, "/", "Markets").await?;
    for name in [
        "France",
        "Belgium",
        "Netherlands",
        "Luxembourg",
        "Switzerland",
        "Germany",
        "pilot",
        "benelux",
        "dach",
    ] {
        ensure!(text.contains(name), "the overview does not show {name}:\n{text}");
    }
    let (fr, _) = element(client, ".tile[data-market=fr]").await?;
    ensure!(
        fr.contains("v2") && fr.contains("up"),
        "France should run v2 and be up: {fr}"
    );
    let (nl, _) = element(client, ".tile[data-market=nl]").await?;
    ensure!(nl.contains("v1"), "the Netherlands kept v1 after v2 failed there: {nl}");
    ensure!(
        nl.contains("v2 failed: "),
        "the Netherlands' tile says v2 failed there: {nl}"
    );
    let (health, class) = element(client, ".tile[data-market=ch] .badge").await?;
    ensure!(
        health == "down" && class.contains("bad"),
        "Switzerland has no process: {health} ({class})"
    );
    let colour = client
        .find(Locator::Css(".tile[data-market=ch] .badge"))
        .await?
        .css_value("color")
        .await?;
    ensure!(colour.contains("192, 38, 45"), "a down badge is red, not {colour}");
    ensure!(
        text.contains("Release v2 failed its gate in nl"),
        "the open incident is listed:\n{text}"
    );
    ensure!(text.contains("Run #3"), "the run in progress is in flight:\n{text}");
    screenshot(client, "overview.png").await?;

    // The overview is live (a run is in progress): a new incident shows up without a reload.
    let store = &server.engine.store;
    store
        .insert_incident("shop", "de", None, "Checkout latency above 2 s in de")
        .await?;
    wait_page(client, "/", "Checkout latency above 2 s in de").await?;

    // Runs → the green run: its jobs in order, steps, artifact and logs.
    client.find(Locator::LinkText("Runs")).await?.click().await?;
    wait_page(client, "/runs", "t-3-shipping").await?;
    screenshot(client, "runs.png").await?;
    let run_link = format!("a[href='/runs/{}']", seeded.run_id);
    client.find(Locator::Css(&run_link)).await?.click().await?;
    let text = wait_page(
        client,
        &format!("/runs/{}", seeded.run_id),
        "test result: ok. 12 passed",
    )
    .await?;
    let mut jobs = Vec::new();
    for h in client.find_all(Locator::Css(".job h2")).await? {
        jobs.push(h.text().await?);
    }
    ensure!(jobs == ["test", "build"], "jobs in order: {jobs:?}");
    ensure!(
        text.contains("cargo test --workspace") && text.contains("cargo build --release"),
        "steps:\n{text}"
    );
    ensure!(
        text.contains("checkout::<script>alert(1)</script>"),
        "log text is shown as text:\n{text}"
    );
    let download = client
        .find(Locator::Css("a[download]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    ensure!(
        download.starts_with("/api/v1/artifacts/") && download.len() == 18 + 64,
        "artifact link: {download}"
    );
    screenshot(client, "run.png").await?;

    // Rollouts → the failed rollout: waves × markets, the failed market says why.
    client.find(Locator::LinkText("Rollouts")).await?.click().await?;
    wait_page(client, "/rollouts", "benelux").await?;
    screenshot(client, "rollouts.png").await?;
    client
        .find(Locator::Css(&format!("a[href='/rollouts/{}']", seeded.rollout_id)))
        .await?
        .click()
        .await?;
    let text = wait_page(client, &format!("/rollouts/{}", seeded.rollout_id), FAILED_REASON).await?;
    ensure!(text.contains("Waves × markets"), "the grid is shown:\n{text}");
    for (market, state) in [
        ("fr", "live"),
        ("be", "live"),
        ("nl", "failed"),
        ("lu", "live"),
        ("ch", "not reached"),
        ("de", "not reached"),
    ] {
        let cell = client
            .find(Locator::Css(&format!(".cell[data-market={market}]")))
            .await?;
        let shown = cell.attr("data-state").await?.unwrap_or_default();
        ensure!(shown == state, "{market} should be {state}, shows {shown}");
    }
    let (nl, class) = element(client, ".cell[data-market=nl]").await?;
    ensure!(
        nl.contains(FAILED_REASON) && class.contains("bad"),
        "the failed cell shows why, in red: {nl} ({class})"
    );
    screenshot(client, "rollout.png").await?;

    // Ideas: where each stands.
    client.find(Locator::LinkText("Ideas")).await?.click().await?;
    let text = wait_page(client, "/ideas", "Pay with iDEAL").await?;
    ensure!(
        text.contains("T-2") && text.contains("in development"),
        "ideas:\n{text}"
    );
    screenshot(client, "ideas.png").await?;

    // An unknown run is a page saying so.
    client.goto(&server.url("/runs/999999")).await?;
    wait_page(client, "/runs/999999", "Not found").await?;
    screenshot(client, "not-found.png").await?;

    // Sign out: the pages ask for a token again.
    client.find(Locator::Css(".signout button")).await?.click().await?;
    wait_page(client, "/login", "Sign in").await?;
    client.goto(&server.url("/runs")).await?;
    wait_page(client, "/login", "Sign in").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_and_follows_markets_runs_and_rollouts() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let driver = ChromeDriver::start().unwrap_or_else(|e| panic!("{e:#}"));
    let client = driver.connect().await.unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = tokio::time::timeout(SESSION_TIMEOUT, browse(&client, &server)).await;
    let _ = client.close().await;
    drop(driver);
    server.stop().await.expect("the server stops");
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e:#}"),
        Err(_) => panic!("the browser session took longer than {SESSION_TIMEOUT:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_token_and_show_html_errors() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = server.seeded.token.clone();
    let cookie = format!("tandem_token={token}");

    let r = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login?next=/");

    let r = http.get(server.url("/runs/7")).send().await.unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/login?next=/runs/7",
        "sign-in brings the user back"
    );

    let r = http
        .post(server.url("/login"))
        .form(&[("token", "tdm_wrong"), ("next", "/runs")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(r.headers().get(SET_COOKIE).is_none());
    let body = r.text().await.unwrap();
    assert!(body.contains("That token is not valid"), "{body}");
    assert!(
        body.contains(r#"name="next" value="/runs""#),
        "the form keeps where to go: {body}"
    );

    let r = http
        .post(server.url("/login"))
        .form(&[("token", token.as_str()), ("next", "/runs")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/runs");
    let set = r.headers()[SET_COOKIE].to_str().unwrap();
    assert_eq!(set, format!("tandem_token={token}; HttpOnly; SameSite=Strict; Path=/"));

    let r = http
        .post(server.url("/login"))
        .form(&[("token", token.as_str()), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/", "no open redirect");

    let r = http
        .get(server.url(&format!("/login?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the demo's link signs in directly");
    assert!(r.headers()[SET_COOKIE].to_str().unwrap().starts_with("tandem_token="));

    for path in ["/runs/999999", "/runs/abc", "/rollouts/999999"] {
        let r = http.get(server.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Not found") && body.contains("Back to the overview"),
            "{path}: {body}"
        );
    }

    for (path, needle) in [
        ("/", "Switzerland"),
        ("/runs", "t-3-shipping"),
        (
            &format!("/runs/{}", server.seeded.run_id) as &str,
            "checkout::&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("/rollouts", FAILED_REASON),
        (
            &format!("/rollouts/{}", server.seeded.rollout_id) as &str,
            FAILED_REASON,
        ),
        ("/ideas", "Pay with iDEAL"),
    ] {
        let r = http.get(server.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(needle), "{path} should show {needle:?}: {body}");
    }

    let r = http.get(server.url("/assets/tandem.css")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));

    let r = http
        .post(server.url("/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));

    server.stop().await.expect("the server stops");
}
