//! The web UI, driven like a user would: a real server on port 0 with seeded data, and headless
//! Chromium through chromedriver (see `common/browser.rs`). `ui_http.rs` checks the same pages
//! without a browser.

use crate::common;

use anyhow::{Context, Result, ensure};
use common::browser::{ChromeDriver, WAIT, element, page_text, screenshot, wait_page};
use common::{FAILED_REASON, FAILED_RUN_JOBS, TestServer, wait_for};
use fantoccini::{Client, Locator};
use std::time::Duration;

/// Bound on the whole browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

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
    let store = &server.engine.store_for_tests();
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
    check_failed_run(client, server).await?;

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

    act_on_runs(client, server).await
}

/// The failed run: its graph in columns by depth, boxes coloured by state, a log in colour.
async fn check_failed_run(client: &Client, server: &TestServer) -> Result<()> {
    let id = server.seeded.failed_run_id;
    client.goto(&server.url(&format!("/runs/{id}"))).await?;
    wait_page(client, &format!("/runs/{id}"), "Job graph").await?;
    let (green, red, grey) = ("rgb(227, 246, 232)", "rgb(253, 228, 228)", "rgb(247, 248, 250)");
    let mut xs = Vec::new();
    for ((name, _, state), (column, fill)) in
        FAILED_RUN_JOBS
            .iter()
            .zip([(0, green), (0, green), (1, green), (1, red), (2, grey)])
    {
        let node = client
            .find(Locator::Css(&format!("svg.graph .gnode[data-job='{name}']")))
            .await
            .with_context(|| format!("no box for job {name}"))?;
        let shown = node.attr("data-column").await?.unwrap_or_default();
        ensure!(
            shown == column.to_string(),
            "{name} should be in column {column}, is in {shown}"
        );
        ensure!(
            node.attr("data-state").await?.as_deref() == Some(*state),
            "{name} is {state}"
        );
        let rect = node.find(Locator::Css("rect")).await?;
        let painted = rect.css_value("fill").await?;
        ensure!(painted == fill, "{name} ({state}) is painted {painted}, not {fill}");
        ensure!(node.text().await?.contains(name), "the box names {name}");
        let x: f64 = rect.attr("x").await?.unwrap_or_default().parse()?;
        xs.push(x);
    }
    ensure!(
        xs[0] == xs[1] && xs[1] < xs[2] && xs[2] == xs[3] && xs[3] < xs[4],
        "columns left to right: {xs:?}"
    );
    let edges = client.find_all(Locator::Css("svg.graph .edge")).await?.len();
    ensure!(edges == 5, "one line per need: {edges}");

    // The failed job's log: time stamps dimmed, colours as spans, markup shown as text.
    let failed = client
        .find(Locator::Css("section.job[data-job='test (be)'] pre.log"))
        .await?;
    let text = failed.text().await?;
    ensure!(
        text.contains("checkout::<script>alert(2)</script>") && !text.contains('\u{1b}'),
        "log as text, no escape bytes: {text}"
    );
    let bad = failed.find(Locator::Css(".ansi-bold.ansi-red")).await?;
    ensure!(bad.text().await? == "FAILED", "the failure is bold red");
    let colour = bad.css_value("color").await?;
    ensure!(colour.contains("255, 123, 114"), "bold red is red, not {colour}");
    let stamps = failed.find_all(Locator::Css(".ts")).await?.len();
    ensure!(stamps == 8, "each line's time stamp is dimmed: {stamps}");
    ensure!(
        failed.find_all(Locator::Css(".ansi-green")).await?.len() == 3,
        "green `Compiling` and `ok` marks"
    );
    // Signed in as an operator: the failed run offers a re-run, no cancel.
    ensure!(buttons(client).await? == ["Re-run failed jobs"], "operator's buttons");
    screenshot(client, "run.png").await?;

    // A box leads to its job's section.
    client
        .find(Locator::Css("svg.graph .gnode[data-job='test (be)']"))
        .await?
        .click()
        .await?;
    let url = wait_for("the failed job's section", WAIT, || async {
        let url = client.current_url().await?;
        Ok(url.fragment().is_some().then_some(url))
    })
    .await?;
    let section = client
        .find(Locator::Css(&format!("#{}", url.fragment().unwrap_or_default())))
        .await?;
    ensure!(
        section.attr("data-job").await?.as_deref() == Some("test (be)"),
        "the box links to its job: {url}"
    );
    screenshot(client, "run-log.png").await?;
    Ok(())
}

/// The labels of the run page's action buttons.
async fn buttons(client: &Client) -> Result<Vec<String>> {
    let mut labels = Vec::new();
    for b in client.find_all(Locator::Css(".actions button")).await? {
        labels.push(b.text().await?);
    }
    Ok(labels)
}

/// Signs in with `token`, going to `path` first.
async fn sign_in_at(client: &Client, server: &TestServer, token: &str, path: &str) -> Result<String> {
    client.goto(&server.url(path)).await?;
    wait_page(client, "/login", "Sign in").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;
    wait_page(client, path, "Run #").await
}

/// A developer re-runs the failed run and tries to cancel a run that is not in progress; a
/// viewer sees no button at all.
async fn act_on_runs(client: &Client, server: &TestServer) -> Result<()> {
    let seeded = &server.seeded;
    let failed = format!("/runs/{}", seeded.failed_run_id);
    let busy = format!("/runs/{}", seeded.busy_run_id);

    sign_in_at(client, server, &seeded.developer_token, &failed).await?;
    ensure!(buttons(client).await? == ["Re-run failed jobs"], "developer's buttons");
    client
        .find(Locator::Css(".actions button.primary"))
        .await?
        .click()
        .await?;
    let rerun_of = format!("rerun of #{}", seeded.failed_run_id);
    let (path, text) = wait_for("the new run's page", WAIT, || async {
        let path = client.current_url().await?.path().to_string();
        let text = page_text(client).await?;
        Ok((path != failed && path.starts_with("/runs/") && text.contains(&rerun_of)).then_some((path, text)))
    })
    .await?;
    let new_id: i64 = path.trim_start_matches("/runs/").parse()?;
    ensure!(new_id > seeded.failed_run_id, "a new run: {path}\n{text}");
    screenshot(client, "rerun.png").await?;
    client.goto(&server.url("/runs?branch=t-2-ideal")).await?;
    let text = wait_page(client, "/runs", &rerun_of).await?;
    ensure!(!text.contains("t-3-shipping"), "the filter keeps one branch:\n{text}");
    screenshot(client, "runs-filtered.png").await?;

    // Seeded as running, but no engine task runs it: the engine says so.
    client.goto(&server.url(&busy)).await?;
    wait_page(client, &busy, "t-3-shipping").await?;
    ensure!(
        buttons(client).await? == ["Cancel run"],
        "a running run offers cancel only"
    );
    client
        .find(Locator::Css(".actions button.danger"))
        .await?
        .click()
        .await?;
    let cancel = format!("{busy}/cancel");
    let text = wait_page(client, &cancel, "cannot be cancelled").await?;
    ensure!(
        text.contains("no worker of this server holds it"),
        "the engine's reason is shown:\n{text}"
    );
    screenshot(client, "cancel-conflict.png").await?;

    client.find(Locator::Css(".signout button")).await?.click().await?;
    wait_page(client, "/login", "Sign in").await?;
    sign_in_at(client, server, &seeded.viewer_token, &failed).await?;
    ensure!(buttons(client).await?.is_empty(), "a viewer sees no re-run");
    client.goto(&server.url(&busy)).await?;
    wait_page(client, &busy, "t-3-shipping").await?;
    ensure!(buttons(client).await?.is_empty(), "a viewer sees no cancel");

    // The run is in progress: the graph follows its jobs without a reload.
    let state_of = |job: &'static str| async move {
        let css = format!("svg.graph .gnode[data-job='{job}']");
        let node = client.find(Locator::Css(&css)).await?;
        Ok::<_, anyhow::Error>(node.attr("data-state").await?.unwrap_or_default())
    };
    ensure!(state_of("build").await? == "pending", "build waits for test");
    client.execute("window.notReloaded = true", vec![]).await?;
    let store = &server.engine.store_for_tests();
    let jobs = server.engine.list_jobs(seeded.busy_run_id).await?;
    for (job, state) in jobs.iter().zip(["success", "running"]) {
        store.update_job_state(job.id, state.parse()?).await?;
    }
    wait_for("the graph to show build running", WAIT, || async {
        Ok((state_of("test").await? == "success" && state_of("build").await? == "running").then_some(()))
    })
    .await?;
    let kept = client.execute("return window.notReloaded === true", vec![]).await?;
    ensure!(
        kept == serde_json::json!(true),
        "the page refreshed in place, not by a reload"
    );
    let class = client
        .find(Locator::Css("svg.graph .gnode[data-job='build']"))
        .await?
        .attr("class")
        .await?
        .unwrap_or_default();
    ensure!(class.contains("busy"), "a running job is amber: {class}");
    screenshot(client, "run-live.png").await?;
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
