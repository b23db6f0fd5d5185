//! Every object a page, every reference a link (issue 18, items 4 and 5), driven like a user
//! would in headless Chromium: a release page reached from a market tile (overview → market →
//! release), an idea's page, a flag's kill switch pressed from its page (then listed as an
//! unreviewed emergency change), and every link of the pages visited answering. Over plain
//! HTTP: who sees the kill switch, and a refused kill as a page leading back to the flag.

use crate::common;

use anyhow::{Context, Result, ensure};
use common::TestServer;
use common::browser::{ChromeDriver, element, screenshot, wait_page};
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use std::collections::BTreeSet;
use std::time::Duration;

/// Bound on the whole browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

/// A flag file with a kill switch, and a flag that is not one.
const FLAGS: &str = "flags:
  new-checkout:
    type: boolean
    variants: { on: true, off: false }
    default: off
    kill-switch: true
    markets:
      fr:
        variant: on
  banner:
    type: string
    variants: { plain: plain, festive: festive }
    default: plain
";

/// Every same-site link of the page shown now (sign-out and downloads aside).
async fn links_on(client: &Client) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for a in client.find_all(Locator::Css("a[href]")).await? {
        let href = a.attr("href").await?.unwrap_or_default();
        if href.starts_with('/') && !href.starts_with("/logout") && !href.starts_with("/api/") {
            out.insert(href.split('#').next().unwrap_or_default().to_string());
        }
    }
    Ok(out)
}

async fn browse(client: &Client, server: &TestServer, visited: &mut BTreeSet<String>) -> Result<()> {
    // Sign in as the operator, on the overview.
    client.goto(&server.url("/")).await?;
    wait_page(client, "/login", "Sign in").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(&server.seeded.token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;
    wait_page(client, "/", "Markets").await?;
    visited.extend(links_on(client).await?);

    // The Netherlands' tile shows its open incident, as a link.
    let (nl, _) = element(client, ".tile[data-market=nl] .tile-incident").await?;
    ensure!(
        nl.contains("incident #") && nl.contains("Release v2 failed its gate in nl"),
        "the open incident is on its tile: {nl}"
    );

    // Overview → France's page → the release France runs.
    client
        .find(Locator::Css(".tile[data-market=fr] a.tile-link"))
        .await?
        .click()
        .await?;
    let text = wait_page(client, "/markets/fr", "Deployments").await?;
    for part in ["Incidents", "Config versions", "Flags in force", "new-checkout"] {
        ensure!(text.contains(part), "France's page shows {part}:\n{text}");
    }
    ensure!(
        text.contains("CET"),
        "France's history shows times on its own clock (Europe/Paris):\n{text}"
    );
    screenshot(client, "market-history.png").await?;
    visited.extend(links_on(client).await?);
    client
        .find(Locator::Css("table.services a.version"))
        .await?
        .click()
        .await?;
    let url = client.current_url().await?;
    ensure!(url.path().starts_with("/releases/"), "on the release page: {url}");
    let text = wait_page(client, url.path(), "What it brings").await?;
    let (heading, _) = element(client, "h1").await?;
    ensure!(
        heading.split_whitespace().collect::<Vec<_>>() == ["shop", "v2"],
        "the release France runs is v2: {heading}"
    );
    for part in [
        "T-2",
        "pay with iDEAL",
        "Artifacts and provenance",
        "on branch main",
        "Where it runs now",
        "Rollouts",
        "Config schema",
    ] {
        ensure!(text.contains(part), "the release page shows {part}:\n{text}");
    }
    ensure!(
        !client
            .find_all(Locator::Css(".runs-now a[href='/markets/fr']"))
            .await?
            .is_empty(),
        "v2 runs in France, a link to it:\n{text}"
    );
    let (digest, _) = element(client, "code.digest").await?;
    ensure!(digest.len() == 64, "the artifact's sha256 is shown whole: {digest}");
    screenshot(client, "release.png").await?;
    visited.extend(links_on(client).await?);

    // The idea the release brings → its page.
    client
        .find(Locator::Css(".brings a[href='/ideas/T-2']"))
        .await?
        .click()
        .await?;
    let text = wait_page(client, "/ideas/T-2", "Pay with iDEAL").await?;
    for part in [
        "Flow",
        "first commit",
        "Commits",
        "Runs",
        "Releases that carry it",
        "v2",
    ] {
        ensure!(text.contains(part), "the idea's page shows {part}:\n{text}");
    }
    // Its flow is drawn too, as the Flow page draws it: one bar from stage to stage, read aloud.
    let chart = client
        .find(Locator::Css("#idea-flow-chart svg[role='img']"))
        .await
        .context("the idea's page draws its flow")?;
    let label = chart.attr("aria-label").await?.unwrap_or_default();
    ensure!(
        label.contains("T-2 reached"),
        "the chart says how far the idea got: {label}"
    );
    screenshot(client, "idea.png").await?;
    visited.extend(links_on(client).await?);

    // A flag's kill switch, from the browser.
    client.goto(&server.url("/flags")).await?;
    wait_page(client, "/flags", "new-checkout").await?;
    visited.extend(links_on(client).await?);
    client
        .find(Locator::Css("a[href='/flags/new-checkout']"))
        .await?
        .click()
        .await?;
    let text = wait_page(client, "/flags/new-checkout", "Kill switch").await?;
    ensure!(
        text.contains("History") && text.contains("added"),
        "its history:\n{text}"
    );
    client
        .find(Locator::Css("form.kill input[name=reason]"))
        .await?
        .send_keys("payment errors everywhere")
        .await?;
    client.find(Locator::Css("form.kill button")).await?.click().await?;
    let text = wait_page(client, "/flags/new-checkout", "payment errors everywhere").await?;
    let (state, _) = element(client, "h1 .badge").await?;
    ensure!(state == "killed (emergency)", "the flag is killed: {state}");
    let (row, _) = element(client, ".emergency-list tbody tr").await?;
    ensure!(
        row.contains("unreviewed") && row.contains("every market"),
        "the kill is an unreviewed emergency change: {row}"
    );
    ensure!(
        client.find_all(Locator::Css("form.kill")).await?.is_empty(),
        "a killed flag offers no kill again:\n{text}"
    );
    screenshot(client, "flag-killed.png").await?;
    visited.extend(links_on(client).await?);

    // The other pages that show references: their links are checked too.
    let seeded = &server.seeded;
    for path in [
        "/releases".to_string(),
        "/markets".to_string(),
        "/ideas".to_string(),
        "/incidents".to_string(),
        "/config".to_string(),
        "/flow".to_string(),
        "/runs".to_string(),
        format!("/runs/{}", seeded.run_id),
        format!("/rollouts/{}", seeded.rollout_id),
        "/markets/nl".to_string(),
    ] {
        client.goto(&server.url(&path)).await?;
        wait_page(client, &path, "Sign out").await?;
        visited.extend(links_on(client).await?);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_goes_from_a_market_tile_to_its_release_and_kills_a_flag() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    server
        .engine
        .apply_flags("shop", FLAGS, "ana", Some("first flags"))
        .await
        .unwrap();
    let driver = ChromeDriver::start().unwrap_or_else(|e| panic!("{e:#}"));
    let client = driver.connect().await.unwrap_or_else(|e| panic!("{e:#}"));
    let mut visited = BTreeSet::new();
    let outcome = tokio::time::timeout(SESSION_TIMEOUT, browse(&client, &server, &mut visited)).await;
    let _ = client.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e:#}"),
        Err(_) => panic!("the browser session took longer than {SESSION_TIMEOUT:?}"),
    }

    // No link on the pages visited is broken.
    let http = tandem_testkit::http();
    let cookie = server.session_cookie(&server.seeded.token).await;
    let mut broken = Vec::new();
    for href in &visited {
        let r = http.get(server.url(href)).header(COOKIE, &cookie).send().await.unwrap();
        if r.status() != StatusCode::OK {
            broken.push(format!("{href}: {}", r.status()));
        }
    }
    for must in [
        "/markets/fr",
        "/ideas/T-2",
        "/flags/new-checkout",
        "/incidents/",
        "/runs/",
        "/commits/shop/",
        "/releases/",
        "/rollouts/",
    ] {
        assert!(
            visited.iter().any(|h| h.starts_with(must)),
            "the pages link to {must}…: {visited:?}"
        );
    }
    assert!(broken.is_empty(), "broken links: {broken:?}");
    server.stop().await.expect("the server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_people_allowed_see_the_kill_switch_and_a_refused_kill_leads_back_to_the_flag() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    server.engine.apply_flags("shop", FLAGS, "ana", None).await.unwrap();
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = async |token: &str, path: &str| {
        let cookie = server.session_cookie(token).await;
        let r = http.get(server.url(path)).header(COOKIE, &cookie).send().await.unwrap();
        (r.status(), r.text().await.unwrap(), cookie)
    };

    let (status, body, _) = page(&server.seeded.token, "/flags/new-checkout").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"action="/flags/new-checkout/kill""#),
        "an operator may kill: {body}"
    );
    let (_, body, _) = page(&server.seeded.token, "/flags/banner").await;
    assert!(
        !body.contains("/kill"),
        "a flag that is no kill switch has no button: {body}"
    );
    let (_, body, viewer) = page(&server.seeded.viewer_token, "/flags/new-checkout").await;
    assert!(!body.contains("/kill"), "a viewer sees no kill switch: {body}");
    let (_, body, developer) = page(&server.seeded.developer_token, "/flags/new-checkout").await;
    assert!(
        !body.contains("/kill"),
        "a developer is below the emergency role (operator): {body}"
    );

    let kill = |cookie: String, path: &'static str| {
        http.post(server.url(path))
            .header(COOKIE, cookie)
            .header(ORIGIN, server.origin())
            .form(&[("reason", "payment errors"), ("market", "")])
            .send()
    };
    let r = kill(viewer, "/flags/new-checkout/kill").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a viewer may not post a kill");
    let r = kill(developer, "/flags/new-checkout/kill").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Flag new-checkout cannot be killed")
            && body.contains("operator role")
            && body.contains(r#"href="/flags/new-checkout""#),
        "the refusal says why and leads back: {body}"
    );
    let operator = server.session_cookie(&server.seeded.token).await;
    let r = kill(operator.clone(), "/flags/banner/kill").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("is not a kill switch"));
    let r = http
        .post(server.url("/flags/new-checkout/kill"))
        .header(COOKIE, &operator)
        .header(ORIGIN, "https://evil.example")
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a post from another site is refused");
    assert!(
        server.engine.flags().kills.is_empty(),
        "no refused post killed anything"
    );
    let r = http
        .get(server.url("/releases/999"))
        .header(COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http
        .get(server.url("/releases/shop/v9"))
        .header(COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http
        .get(server.url("/ideas/T-99"))
        .header(COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http.get(server.url("/releases")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "signed out, the pages send to sign-in"
    );
    server.stop().await.expect("the server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_caused_by_a_config_rollout_links_its_change_request() {
    use tandem_core::rollout::PlannedWave;
    use tandem_store::{ConfigPayload, NewDeployment};
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let store = server.engine.store_for_tests();
    let v1 = store.get_release_by_version("shop", "v1").await.unwrap();
    let plan = [PlannedWave {
        name: "dach".into(),
        markets: vec!["de".into()],
    }];
    let payload = ConfigPayload {
        version: 2,
        change_id: Some(7),
    };
    let rollout = store
        .insert_rollout_of("shop", v1.id, &plan, "olga", false, Some(payload))
        .await
        .unwrap();
    let deployment = store
        .insert_deployment(NewDeployment {
            rollout_id: Some(rollout.id),
            service: "shop",
            market: "de",
            release_id: v1.id,
        })
        .await
        .unwrap();
    let incident = store
        .insert_incident("shop", "de", Some(deployment.id), "Checkout refuses German VAT ids")
        .await
        .unwrap();
    let cookie = server.session_cookie(&server.seeded.viewer_token).await;
    let body = tandem_testkit::http()
        .get(server.url(&format!("/incidents/{}", incident.id)))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains(r#"Caused by <a href="/changes/7">change #7</a>"#),
        "the incident links the change request its deployment carried: {body}"
    );
    assert!(
        body.contains(r#"<a class="market-id" href="/markets/de">de</a>"#),
        "and its market: {body}"
    );
    server.stop().await.expect("the server stops");
}
