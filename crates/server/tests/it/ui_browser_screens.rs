//! Every screen, as a user on it would check (issue 18, items 9 and 10): on a 420 px phone the
//! menu folds behind a toggle that opens without script and keeps Sign out reachable, a wide
//! table scrolls inside its panel and not the page, charts fit; every chart says what it shows
//! to a screen reader; each page has a skip link and a favicon; a 404 keeps the signed-in user.

use crate::common;

use anyhow::{Result, anyhow, ensure};
use common::TestServer;
use common::browser::{ChromeDriver, screenshot, wait_page};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// Bound on each browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

/// The menu's link to the runs.
const RUNS_LINK: &str = "header nav a[href='/runs']";

/// Signs in with `token` through the form, going to `path` first.
async fn sign_in(client: &Client, server: &TestServer, token: &str, path: &str, needle: &str) -> Result<String> {
    client.goto(&server.url(path)).await?;
    wait_page(client, "/login", "Sign in").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;
    wait_page(client, path, needle).await
}

/// Runs a script returning a JSON value.
async fn eval(client: &Client, script: &str) -> Result<serde_json::Value> {
    Ok(client.execute(script, vec![]).await?)
}

async fn on_a_phone(client: &Client, server: &TestServer) -> Result<()> {
    client.set_window_size(420, 900).await?;
    sign_in(client, server, &server.seeded.token, "/delivery", "By market").await?;

    // The menu is folded: the toggle shows, Sign out does not, until the toggle is pressed.
    let toggle = client.find(Locator::Css("label.menu-button")).await?;
    ensure!(toggle.is_displayed().await?, "the Menu toggle shows on a phone");
    ensure!(toggle.text().await?.contains("Menu"), "the toggle says Menu");
    let sign_out = client.find(Locator::Css("form.signout button")).await?;
    ensure!(!sign_out.is_displayed().await?, "the menu starts folded");
    ensure!(
        !client.find(Locator::Css(RUNS_LINK)).await?.is_displayed().await?,
        "the navigation starts folded"
    );

    // A table wider than the screen scrolls inside its panel; the page does not scroll sideways,
    // and every chart fits the screen.
    let widths = eval(
        client,
        "const tables = [...document.querySelectorAll('table.data')];
         const scrolls = tables.filter(t => t.scrollWidth > t.clientWidth + 1
             && getComputedStyle(t).overflowX === 'auto').length;
         const charts = [...document.querySelectorAll('figure.chart svg')];
         const over = charts.filter(c => c.getBoundingClientRect().right > window.innerWidth + 1).length;
         return { page: document.documentElement.scrollWidth, screen: window.innerWidth,
                  tables: tables.length, scrolls, charts: charts.length, over };",
    )
    .await?;
    let n = |k: &str| widths[k].as_i64().unwrap_or(-1);
    ensure!(n("page") <= n("screen"), "the page scrolls sideways: {widths}");
    ensure!(n("scrolls") >= 1, "a wide table scrolls inside its panel: {widths}");
    ensure!(
        n("charts") >= 4 && n("over") == 0,
        "every chart fits the screen: {widths}"
    );
    screenshot(client, "narrow-delivery.png").await?;

    // The toggle opens the menu without script: the links and Sign out are there.
    toggle.click().await?;
    let runs = client.find(Locator::Css(RUNS_LINK)).await?;
    ensure!(runs.is_displayed().await?, "the open menu shows the navigation");
    ensure!(sign_out.is_displayed().await?, "the open menu shows Sign out");
    let who = client.find(Locator::Css(".who")).await?.text().await?;
    ensure!(who.contains("ana"), "the open menu says who is signed in: {who}");
    screenshot(client, "narrow-menu-open.png").await?;
    runs.click().await?;
    wait_page(client, "/runs", "Runs").await?;

    // On the next page the menu is folded again, and Sign out through it signs out.
    let sign_out = client.find(Locator::Css("form.signout button")).await?;
    ensure!(!sign_out.is_displayed().await?, "each page starts with the menu folded");
    client.find(Locator::Css("label.menu-button")).await?.click().await?;
    sign_out.click().await?;
    wait_page(client, "/login", "Sign in").await?;
    client.goto(&server.url("/runs")).await?;
    wait_page(client, "/login", "Sign in").await?;
    Ok(())
}

async fn on_a_desk(client: &Client, server: &TestServer) -> Result<()> {
    client.set_window_size(1400, 1000).await?;
    sign_in(client, server, &server.seeded.token, "/delivery", "By market").await?;

    // Wide, the menu is inline and the toggle hidden.
    ensure!(
        !client
            .find(Locator::Css("label.menu-button"))
            .await?
            .is_displayed()
            .await?,
        "no toggle on a wide screen"
    );
    ensure!(
        client
            .find(Locator::Css("form.signout button"))
            .await?
            .is_displayed()
            .await?
    );

    // Every chart says what it shows, with its figures, to a screen reader and on hover.
    let charts = eval(
        client,
        "return [...document.querySelectorAll('figure.chart svg')].map(s => ({
            role: s.getAttribute('role'), label: s.getAttribute('aria-label') || '',
            title: (s.querySelector(':scope > title') || {}).textContent || '',
            viewBox: s.getAttribute('viewBox') || '', tips: s.querySelectorAll('g.tips title').length }));",
    )
    .await?;
    let charts = charts.as_array().cloned().unwrap_or_default();
    ensure!(charts.len() >= 8, "the delivery page's charts: {charts:?}");
    for c in &charts {
        let label = c["label"].as_str().unwrap_or_default();
        ensure!(c["role"] == "img", "a chart without role=img: {c}");
        ensure!(
            label.len() > 10 && label.contains(": "),
            "a chart's label says what it shows: {c}"
        );
        ensure!(c["title"] == label, "the tooltip says what the label says: {c}");
        ensure!(!c["viewBox"].as_str().unwrap_or_default().is_empty(), "scales: {c}");
    }
    let with_figures = charts
        .iter()
        .filter(|c| {
            c["label"]
                .as_str()
                .is_some_and(|l| l.chars().any(|ch| ch.is_ascii_digit()))
        })
        .count();
    ensure!(with_figures * 2 >= charts.len(), "labels give the figures: {charts:?}");
    ensure!(
        charts.iter().any(|c| c["tips"].as_i64().unwrap_or(0) > 0),
        "bars and marks have their own tooltips: {charts:?}"
    );
    let by_market = charts
        .iter()
        .find(|c| {
            c["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("Deployments by market"))
        })
        .ok_or_else(|| anyhow!("no chart by market: {charts:?}"))?;
    ensure!(
        by_market["label"]
            .as_str()
            .is_some_and(|l| l.contains("nl 1 (1 failed)") || l.contains("nl 2 (1 failed)")),
        "the chart by market names nl's failure: {by_market}"
    );

    // The run page's job graph says its jobs and their states.
    client
        .goto(&server.url(&format!("/runs/{}", server.seeded.run_id)))
        .await?;
    wait_page(client, &format!("/runs/{}", server.seeded.run_id), "Job graph").await?;
    let graph = client
        .find(Locator::Css("svg.graph"))
        .await?
        .attr("aria-label")
        .await?
        .unwrap_or_default();
    ensure!(
        graph.starts_with("Job graph, 2 jobs: test success; build success (needs test)"),
        "the job graph's label: {graph}"
    );

    // A skip link first, to the page's content; and a favicon served as SVG, cached.
    let skip = client.find(Locator::Css("body > a.skip")).await?;
    ensure!(skip.text().await? == "Skip to content" || skip.attr("href").await?.as_deref() == Some("#content"));
    ensure!(
        skip.attr("href").await?.as_deref() == Some("#content"),
        "the skip link goes to the content"
    );
    client.find(Locator::Css("main#content")).await?;
    let first = eval(
        client,
        "document.activeElement.blur(); window.focus(); return document.querySelector('body *').className;",
    )
    .await?;
    ensure!(first == "skip", "the skip link is the page's first element: {first}");
    let icon = client
        .find(Locator::Css("link[rel=icon]"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    ensure!(icon.starts_with("/assets/favicon.svg"), "favicon: {icon}");
    let got = tandem_testkit::http().get(server.url(&icon)).send().await?;
    let header = |name: &str| {
        got.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    ensure!(got.status() == 200, "the favicon answers: {}", got.status());
    ensure!(header("content-type") == "image/svg+xml", "{}", header("content-type"));
    ensure!(
        header("cache-control").contains("max-age"),
        "{}",
        header("cache-control")
    );
    ensure!(got.text().await?.starts_with("<svg"), "the favicon is an SVG");

    // A page that does not exist keeps the signed-in user, their menu and Sign out.
    client.goto(&server.url("/no-such-page")).await?;
    let text = wait_page(client, "/no-such-page", "Not found").await?;
    ensure!(
        text.contains("ana · operator"),
        "the 404 page says who is signed in:\n{text}"
    );
    ensure!(
        client
            .find(Locator::Css("form.signout button"))
            .await?
            .is_displayed()
            .await?
    );
    client.goto(&server.url("/runs/987654")).await?;
    let text = wait_page(client, "/runs/987654", "Not found").await?;
    ensure!(
        text.contains("ana · operator"),
        "a missing run's 404 keeps the user:\n{text}"
    );
    screenshot(client, "not-found-signed-in.png").await?;
    Ok(())
}

async fn session(f: impl AsyncFnOnce(&Client, &TestServer) -> Result<()>) {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let driver = ChromeDriver::start().unwrap_or_else(|e| panic!("{e:#}"));
    let client = driver.connect().await.unwrap_or_else(|e| panic!("{e:#}"));
    let outcome = tokio::time::timeout(SESSION_TIMEOUT, f(&client, &server)).await;
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
async fn on_a_phone_the_menu_folds_and_keeps_sign_out_and_tables_scroll_in_their_panel() {
    session(on_a_phone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chart_is_labelled_and_every_page_has_a_skip_link_a_favicon_and_its_user() {
    session(on_a_desk).await;
}
