//! Issue 18's truthful pages and safe actions, driven in headless Chromium like a user would:
//! a config rollout shows each market's real state and what it carries; a refused action is a
//! page of the dashboard that says why and leads back; abort asks for a reason that is then
//! shown; a config change is proposed with its key picked from the service's config schema.

use crate::common;

use anyhow::{Context, Result, ensure};
use common::browser::{ChromeDriver, WAIT, element, page_text, screenshot, wait_page};
use common::{TestServer, wait_for};
use fantoccini::{Client, Locator};
use std::time::Duration;
use tandem_core::rollout::PlannedWave;
use tandem_core::state::{DeploymentKind, RolloutState};
use tandem_store::{ConfigPayload, NewConfigVersion, NewDeployment};

/// Bound on the whole browser session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "vat_rate": { "type": "number", "minimum": 0, "maximum": 0.5, "x-unit": "fraction of the price" },
    "currency": { "type": "string", "pattern": "^[A-Z]{3}$" },
    "payment_methods": { "type": "array", "items": { "enum": ["card", "paypal", "ideal"] } }
  }
}"#;

/// A config rollout that went through: config v2 from a change request, redeployed in fr (its
/// values change there), every other market moved without a redeploy. Returns (rollout, change).
async fn seed_config_rollout(server: &TestServer) -> Result<(i64, i64)> {
    let engine = &server.engine;
    let store = engine.store_for_tests();
    let latest = store.latest_config("shop").await?;
    let mut layers = latest.layers()?;
    layers
        .markets
        .entry("fr".into())
        .or_default()
        .insert("free_shipping_threshold".into(), serde_json::json!(40));
    let change = engine
        .propose_config(
            "shop",
            "Free shipping from 40 in France",
            &layers,
            "dev",
            tandem_core::role::Role::Developer,
        )
        .await?;
    let v = store
        .insert_config_version(
            NewConfigVersion {
                service: "shop",
                layers: &layers,
                base: latest.version,
                by: "ana",
                message: "free shipping from 40 in fr",
                change_id: Some(change.id),
            },
            &[],
        )
        .await?;
    let release = engine.list_releases(Some("shop")).await?[0].clone();
    let platform = engine.load_platform().await?;
    let plan = tandem_core::rollout::plan_waves(&platform);
    let payload = ConfigPayload {
        version: v.version,
        change_id: Some(change.id),
    };
    let r = store
        .insert_rollout_of("shop", release.id, &plan, "ana", false, Some(payload))
        .await?;
    store.update_rollout(r.id, RolloutState::Running, 0, None).await?;
    let new = NewDeployment {
        rollout_id: Some(r.id),
        service: "shop",
        market: "fr",
        release_id: release.id,
    };
    let d = store
        .insert_deployment_with(new, DeploymentKind::Config, Some(v.version))
        .await?;
    store.mark_deployment_live(d.id, "http://127.0.0.1:1/fr", None).await?;
    store
        .set_market_config("shop", "fr", v.version, "tandem", "config rollout")
        .await?;
    for m in platform.markets.iter().filter(|m| m.id != "fr") {
        store
            .set_market_config("shop", &m.id, v.version, "tandem", "its config does not change")
            .await?;
    }
    let last = plan.len() as i64 - 1;
    store.update_rollout(r.id, RolloutState::Succeeded, last, None).await?;
    Ok((r.id, change.id))
}

async fn sign_in(client: &Client, server: &TestServer, token: &str, path: &str, needle: &str) -> Result<String> {
    client.delete_all_cookies().await?;
    client.goto(&server.url(path)).await?;
    wait_page(client, "/login", "Sign in").await?;
    client
        .find(Locator::Css("input[name=token]"))
        .await?
        .send_keys(token)
        .await?;
    client.find(Locator::Css("button[type=submit]")).await?.click().await?;
    wait_page(client, path.split('?').next().unwrap_or(path), needle).await
}

async fn browse(client: &Client, server: &TestServer) -> Result<()> {
    let seeded = &server.seeded;
    let (config_rollout, change) = seed_config_rollout(server).await?;

    // 1. The config rollout: what it carries, a link to its change, real states.
    let page = format!("/rollouts/{config_rollout}");
    let text = sign_in(client, server, &seeded.viewer_token, &page, "Waves × markets").await?;
    ensure!(text.contains("config v2"), "the rollout says what it carries:\n{text}");
    let (fr, _) = element(client, ".cell[data-market=fr]").await?;
    ensure!(
        cell_state(client, "fr").await? == "live" && fr.contains("config v2"),
        "fr was redeployed with the new config: {fr}"
    );
    for m in ["be", "nl", "lu", "ch", "de"] {
        let state = cell_state(client, m).await?;
        ensure!(state == "unchanged", "{m} was not redeployed, yet it reads {state}");
    }
    for wave in client.find_all(Locator::Css(".wave-label .badge")).await? {
        let state = wave.text().await?.to_lowercase();
        ensure!(state == "done", "every wave is done, not {state}");
    }
    screenshot(client, "truth-config-rollout.png").await?;
    // The same states through the API.
    let api: serde_json::Value = tandem_testkit::http()
        .get(server.url(&format!("/api/v1/rollouts/{config_rollout}")))
        .bearer_auth(&seeded.viewer_token)
        .send()
        .await?
        .json()
        .await?;
    let states: Vec<&str> = api["waves"]
        .as_array()
        .context("waves")?
        .iter()
        .flat_map(|w| w["markets"].as_array().into_iter().flatten())
        .filter_map(|m| m["state"].as_str())
        .collect();
    ensure!(
        states.iter().filter(|s| **s == "live").count() == 1
            && states.iter().filter(|s| **s == "unchanged").count() == 5,
        "the API says the same: {states:?}"
    );
    client
        .find(Locator::Css("a.change-link"))
        .await
        .context("the rollout links its change request")?
        .click()
        .await?;
    wait_page(client, &format!("/changes/{change}"), "Free shipping from 40 in France").await?;

    // 2. A viewer sees no action and no "Propose a …" button; a viewer's post is refused on a page.
    let text = sign_in(client, server, &seeded.viewer_token, "/changes", "Change requests").await?;
    ensure!(!text.contains("Propose a"), "a viewer cannot propose:\n{text}");
    let rollout = pending_rollout(server).await?;
    let abort = format!("/rollouts/{rollout}/abort");
    client.goto(&server.url(&abort)).await?;
    let text = wait_page(client, &abort, "cannot be aborted by you").await?;
    ensure!(
        text.contains("This needs the operator role")
            && text.contains("signed in as vic")
            && text.contains(&format!("← Back to rollout #{rollout}")),
        "the refusal names the user and leads back:\n{text}"
    );
    ensure!(!text.contains("\"error\""), "no JSON for a browser:\n{text}");
    screenshot(client, "truth-refused-viewer.png").await?;

    // 3. An operator aborts: the confirm step asks why; the reason is shown afterwards.
    let page = format!("/rollouts/{rollout}");
    sign_in(client, server, &seeded.token, &page, "Waves × markets").await?;
    client
        .find(Locator::Css(".actions a.btn.danger"))
        .await
        .context("an Abort button")?
        .click()
        .await?;
    wait_page(client, &abort, "Abort rollout").await?;
    ensure!(
        client
            .find(Locator::Css("textarea[name=reason]"))
            .await?
            .attr("required")
            .await?
            .is_some(),
        "the reason is required"
    );
    screenshot(client, "truth-confirm-abort.png").await?;
    client
        .find(Locator::Css("textarea[name=reason]"))
        .await?
        .send_keys("the release has the wrong VAT table")
        .await?;
    client
        .find(Locator::Css("form.confirm button[type=submit]"))
        .await?
        .click()
        .await?;
    let text = wait_page(client, &page, "the wrong VAT table").await?;
    ensure!(
        text.contains("aborted by ana"),
        "the rollout says who aborted it and why:\n{text}"
    );
    let (decisions, _) = element(client, "table.decisions").await?;
    ensure!(
        decisions.contains("abort") && decisions.contains("the wrong VAT table"),
        "the decision is recorded: {decisions}"
    );

    // A stale abort (the page was open in another tab): a page saying why, leading back.
    client.goto(&server.url(&abort)).await?;
    wait_page(client, &abort, "Abort rollout").await?;
    client
        .find(Locator::Css("textarea[name=reason]"))
        .await?
        .send_keys("again")
        .await?;
    client
        .find(Locator::Css("form.confirm button[type=submit]"))
        .await?
        .click()
        .await?;
    let text = wait_page(client, &abort, "cannot be aborted").await?;
    ensure!(
        text.contains("is aborted") && !text.contains("This page cannot be shown"),
        "the refusal says why:\n{text}"
    );
    screenshot(client, "truth-refused-stale.png").await?;
    client.find(Locator::Css("a.back")).await?.click().await?;
    wait_page(client, &page, "Waves × markets").await?;

    // 4. A config change with its key picked from the schema.
    let text = sign_in(
        client,
        server,
        &seeded.developer_token,
        "/changes/new?service=shop",
        "Propose a config change",
    )
    .await?;
    ensure!(
        text.contains("vat_rate — number (fraction of the price), 0 to 0.5"),
        "the key shows its type, unit and range:\n{text}"
    );
    ensure!(
        client.find(Locator::Css("input[name=key]")).await.is_err(),
        "no free-text key when the schema is known"
    );
    client
        .find(Locator::Css("select[name=key] option[value=vat_rate]"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("select[name=layer] option[value='market:be']"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::Css("input[name=value]"))
        .await?
        .send_keys("0.21")
        .await?;
    client
        .find(Locator::Css("input[name=title]"))
        .await?
        .send_keys("VAT 21% in Belgium")
        .await?;
    screenshot(client, "truth-propose-config.png").await?;
    client
        .find(Locator::Css("form.propose button[type=submit]"))
        .await?
        .click()
        .await?;
    let text = wait_for("the new change request's page", WAIT, || async {
        let path = client.current_url().await?.path().to_string();
        let text = page_text(client).await?;
        Ok((path.starts_with("/changes/") && text.contains("VAT 21% in Belgium")).then_some(text))
    })
    .await?;
    ensure!(text.contains("vat_rate") && text.contains("0.21"), "{text}");
    Ok(())
}

/// The state a rollout page's cell shows for `market` (its words, whatever the CSS case).
async fn cell_state(client: &Client, market: &str) -> Result<String> {
    let cell = client
        .find(Locator::Css(&format!(".cell[data-market={market}] .cell-state")))
        .await
        .with_context(|| format!("no cell for {market}"))?;
    Ok(cell.text().await?.to_lowercase())
}

/// A rollout of the newest release through France, pending (no engine task drives it).
async fn pending_rollout(server: &TestServer) -> Result<i64> {
    let store = server.engine.store_for_tests();
    let release = server.engine.list_releases(Some("shop")).await?[0].clone();
    let plan = [PlannedWave {
        name: "pilot".into(),
        markets: vec!["fr".into()],
    }];
    Ok(store.insert_rollout("shop", release.id, &plan, "ana").await?.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_rollouts_refusals_reasons_and_schema_keys_read_true_in_a_browser() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    // A release whose code declares a config schema: the proposal form reads its keys.
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    t:\n      steps:\n        - run: 'true'\n",
    )
    .expect("a spec");
    let run = server.engine.list_releases(Some("shop")).await.expect("releases")[0].run_id;
    server
        .engine
        .store_for_tests()
        .insert_release_with(
            "shop",
            "3f2a9c1d7e4b5a6978812f0c3d4e5f6a7b8c9d0e",
            run,
            &spec,
            "",
            Some(SCHEMA),
        )
        .await
        .expect("a release with a schema");
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

/// A flag change proposed from the page goes through the flag path: refused with the flag
/// file's problem, else a change request of kind `flags`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_change_is_proposed_from_the_page() {
    let server = TestServer::start().await.expect("a server");
    let cookie = server.session_cookie(&server.seeded.developer_token).await;
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let form = http
        .get(server.url("/changes/new?kind=flags&service=shop"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("the form");
    assert_eq!(form.status(), reqwest::StatusCode::OK);
    let body = form.text().await.expect("a body");
    assert!(
        body.contains(r#"name="flags""#) && body.contains("Propose a flag change"),
        "{body}"
    );
    let post = |flags: &'static str| {
        http.post(server.url("/changes/new"))
            .header(reqwest::header::COOKIE, &cookie)
            .header(reqwest::header::ORIGIN, server.origin())
            .form(&[
                ("kind", "flags"),
                ("service", "shop"),
                ("title", "Delivery estimate in be"),
                ("flags", flags),
            ])
            .send()
    };
    let r = post("flags: [not, a, map").await.expect("an answer");
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("a body").contains("Not proposed:"));
    let r = post("flags:\n  delivery-estimate:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    markets:\n      be:\n        variant: on\n")
        .await
        .expect("an answer");
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let changes = server.engine.list_changes(Some("shop"), 10).await.expect("changes");
    assert_eq!(changes.first().map(|c| c.kind.as_str()), Some("flags"));
    server.stop().await.expect("the server stops");
}
