//! The delivery page over plain HTTP: the four DORA keys with their levels and the SVG charts,
//! from the seed's history (v1 live in six markets, v2 live in three and failed in `nl` with an
//! incident) plus a config change and a commit with a known lead time; and the live markets'
//! charts, each in the unit of what it measures.

use crate::common;

use common::TestServer;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use tandem_core::state::HealthState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_shows_the_four_keys_and_their_charts() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let store = &server.engine.store_for_tests();
    // fr's v2 deployment brought one commit authored two hours before it went live.
    let fr = server
        .engine
        .list_live_deployments()
        .await
        .expect("live deployments")
        .into_iter()
        .filter(|d| d.market == "fr")
        .max_by_key(|d| d.id)
        .expect("fr is live");
    let authored = fr.finished_at.expect("fr went live") - 2 * 3_600_000;
    store
        .insert_deployment_commits(
            fr.id,
            &[tandem_store::DeploymentCommit {
                sha: "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c".into(),
                authored_at: authored,
                committed_at: authored,
            }],
        )
        .await
        .expect("commits recorded");

    // The monitor probed fr twice: once up in 3 ms, once failing.
    let now = tandem_store::now_ms();
    let probe = |ok: bool, at: i64| tandem_store::ProbeRecord {
        service: fr.service.clone(),
        market: "fr".into(),
        deployment_id: fr.id,
        at,
        ok,
        latency_ms: ok.then_some(3.0),
        error: (!ok).then(|| "connection refused".into()),
        failures_in_a_row: u32::from(!ok),
        state: if ok { HealthState::Up } else { HealthState::Failing },
        transition: None,
        incident_id: None,
        measurements: if ok {
            vec![("up".into(), 1.0), ("probe_latency_ms".into(), 3.0)]
        } else {
            vec![("up".into(), 0.0)]
        },
    };
    store
        .record_probes(&[probe(true, now - 120_000), probe(false, now - 60_000)])
        .await
        .expect("probes recorded");

    let http = tandem_testkit::http();
    let cookie = server.session_cookie(&server.seeded.viewer_token).await;
    let get = |path: &str| {
        let req = http.get(server.url(path)).header(COOKIE, &cookie);
        async move {
            let r = req.send().await.expect("the server answers");
            (r.status(), r.text().await.expect("a text body"))
        }
    };

    let (status, body) = get("/delivery").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in [
        "Deployment frequency",
        "Lead time for changes",
        "Change failure rate",
        "Time to restore",
    ] {
        assert!(body.contains(&format!(r#"data-key="{key}""#)), "the key {key}: {body}");
    }
    // Six v1 deployments and four v2 ones, of which nl's failed its gate (and has an incident).
    assert!(
        body.contains("Change failure rate: 10 % (elite), 1 of 10 deployments failed"),
        "{body}"
    );
    assert!(body.contains("10 deployments in 30 days"), "{body}");
    assert!(body.contains("Lead time for changes: 2 h (high)"), "{body}");
    assert!(
        body.contains("1 recovered, 0 not yet") || body.contains("0 recovered, 1 not yet"),
        "{body}"
    );
    assert!(
        body.matches("<svg").count() >= 4 + 3 + 2,
        "every chart is drawn: {body}"
    );
    assert!(!body.contains("NaN"), "{body}");
    // The same history as a weekly trend through the API.
    let series: serde_json::Value = http
        .get(server.url("/api/v1/metrics/dora/series?days=14"))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("json");
    let buckets = series["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 2, "{series}");
    let last = &buckets[1]["keys"]["change_failure_rate"];
    assert_eq!(
        (last["deployments"].as_u64(), last["failed"].as_u64()),
        (Some(10), Some(1)),
        "{series}"
    );
    let refused = http
        .get(server.url("/api/v1/metrics/dora/series?bucket=hour"))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let live = &body[body.find(r#"id="live-markets""#).expect("the live markets section")..];
    for chart in [
        "shop: availability (%) per market, last 6 hours",
        "shop: probe latency (ms) per market, last 6 hours",
    ] {
        assert!(live.contains(chart), "{chart}: {live}");
    }
    for needle in [
        "Deployments per week",
        "Deployments by market",
        "What happened in each market",
        ">\nfailed\n<",   // nl's failed deployment, in the timeline's legend
        ">\nincident\n<", // and its incident
        r#"data-market="nl""#,
        r#"aria-current="page">Delivery"#,
    ] {
        assert!(body.contains(needle), "{needle:?} in {body}");
    }

    // Filters narrow the keys: there is no config change; a bad kind is the caller's mistake.
    let (status, body) = get("/delivery?days=7&kind=config").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("0 deployments in 7 days"), "{body}");
    assert!(body.contains("No deployment in this window."), "{body}");
    assert!(body.contains(r#"<option value="config" selected>"#), "{body}");
    let (status, body) = get("/delivery?kind=infra").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("expected `code`, `config` or `all`"), "{body}");
    let (_, body) = get("/delivery?service=nope").await;
    assert!(body.contains("0 deployments in 30 days"), "{body}");

    let (_, overview) = get("/").await;
    assert!(overview.contains(r#"href="/delivery""#), "the overview links to it");

    // A person links an incident to fr's v2: the next page counts it, though the history it
    // read before is kept between requests.
    store
        .open_incident(tandem_store::NewIncident {
            service: &fr.service,
            market: "fr",
            title: "checkout times out",
            summary: None,
            source: "person",
            opened_by: "ana",
            opened_at: tandem_store::now_ms(),
            fingerprint: None,
            deployment_id: Some(fr.id),
        })
        .await
        .expect("incident opened");
    let (_, body) = get("/delivery").await;
    assert!(
        body.contains("Change failure rate: 20 % (high), 2 of 10 deployments failed"),
        "{body}"
    );

    server.stop().await.expect("the server stops");
}

/// A release's `tandem.yml` with the metric gate checks `checks` (YAML list items).
fn spec_with_checks(checks: &str) -> tandem_core::pipeline::ServiceSpec {
    let text = format!(
        "service: shop\npipeline:\n  jobs:\n    test:\n      steps: [{{ run: cargo test }}]\n\
         gates:\n  metrics:\n    checks:\n{checks}"
    );
    tandem_core::pipeline::parse_service_spec("tandem.yml", &text).expect("a valid spec")
}

/// The `<svg>` element of the chart titled `title` in `page`.
fn chart<'a>(page: &'a str, title: &str) -> &'a str {
    let at = page
        .find(&format!(">\n{title}\n<"))
        .unwrap_or_else(|| panic!("no chart titled {title:?} in {page}"));
    let start = page[..at].rfind("<svg").expect("the chart's svg");
    let end = at + page[at..].find("</svg>").expect("the chart's end");
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_market_charts_read_in_the_unit_of_each_check() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let store = &server.engine.store_for_tests();
    let sha = "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c";
    // v3, live in fr, names its checks against their kind: the unit must follow the measure.
    let v3 = spec_with_checks(
        "      - { name: errors, error-ratio: { errors: 'req{code=~\"5..\"}', total: req }, max: 1% }\n\
         \x20     - { name: checkout-p99, latency: { histogram: req_seconds, quantile: 0.99 }, max: 250ms }\n",
    );
    let v3 = store
        .insert_release("shop", sha, server.seeded.run_id, &v3)
        .await
        .expect("v3 released");
    let fr = store
        .insert_deployment(tandem_store::NewDeployment {
            rollout_id: None,
            service: "shop",
            market: "fr",
            release_id: v3.id,
        })
        .await
        .expect("v3 deploying in fr");
    store
        .mark_deployment_live(fr.id, "http://127.0.0.1:1/fr", None)
        .await
        .expect("v3 live in fr");
    // v4, newest but live nowhere: it says what `cart-errors` is, and its `checkout-p99` is not
    // what the monitor measures in fr.
    let v4 = spec_with_checks(
        "      - { name: cart-errors, error-ratio: { errors: 'cart{code=\"500\"}', total: cart }, max: 2% }\n\
         \x20     - { name: checkout-p99, error-ratio: { errors: e, total: t }, max: 1% }\n",
    );
    store
        .insert_release("shop", sha, server.seeded.run_id, &v4)
        .await
        .expect("v4 released");

    // A probe of fr each minute for five minutes (fewer draw no line, see below): up in 3 ms,
    // 2 % of errors, a p99 of 4 ms (stored in seconds), 50 % of failed carts, and a series that
    // no release names.
    let probes: Vec<tandem_store::ProbeRecord> = (1..=5)
        .map(|minutes| tandem_store::ProbeRecord {
            service: "shop".into(),
            market: "fr".into(),
            deployment_id: fr.id,
            at: tandem_store::now_ms() - minutes * 60_000,
            ok: true,
            latency_ms: Some(3.0),
            error: None,
            failures_in_a_row: 0,
            state: HealthState::Up,
            transition: None,
            incident_id: None,
            measurements: vec![
                ("up".into(), 1.0),
                ("probe_latency_ms".into(), 3.0),
                ("errors".into(), 0.02),
                ("checkout-p99".into(), 0.004),
                ("cart-errors".into(), 0.5),
                ("mystery".into(), 7.0),
            ],
        })
        .collect();
    store.record_probes(&probes).await.expect("probes recorded");

    let page = tandem_testkit::http()
        .get(server.url("/delivery?service=shop"))
        .header(COOKIE, server.session_cookie(&server.seeded.viewer_token).await)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("a text body");
    let live = &page[page.find(r#"id="live-markets""#).expect("the live markets section")..];
    let label = |text: &str| format!(">\n{text}\n<");

    // Each chart names its unit in its title and on its y axis.
    let up = chart(live, "shop: availability (%) per market, last 6 hours");
    assert!(up.contains(&label("% of probes passed")), "{up}");
    assert!(
        up.contains(&label("100")) && !up.contains(&label("200")),
        "a percentage tops at 100: {up}"
    );
    let probe = chart(live, "shop: probe latency (ms) per market, last 6 hours");
    assert!(probe.contains(&label("ms")), "{probe}");
    let errors = chart(live, "shop: errors (error ratio, %) per market, last 6 hours");
    assert!(errors.contains(&label("% of requests")), "{errors}");
    // 4 ms, not 0.004: the axis is marked up to 4 (in seconds it would run from 0 to 1).
    let p99 = chart(live, "shop: checkout-p99 (p99 latency, ms) per market, last 6 hours");
    assert!(p99.contains(&label("ms")) && p99.contains(&label("4")), "{p99}");
    let carts = chart(live, "shop: cart-errors (error ratio, %) per market, last 6 hours");
    assert!(carts.contains(&label("% of requests")), "{carts}");
    let mystery = chart(live, "shop: mystery per market, last 6 hours");
    assert!(mystery.contains(&label("unit unknown")), "{mystery}");

    server.stop().await.expect("the server stops");
}

/// One restore time, everywhere: nl's v2 failed its gate (the seed), then nl's previous release
/// answered again (its `recovery` gate passed). The Delivery page's headline, nl's row and the
/// incident's page show the same figure, the one the API gives, each with its definition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restore_time_reads_the_same_on_delivery_its_market_and_its_incident() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let store = &server.engine.store_for_tests();
    let incident = store
        .list_incidents()
        .await
        .expect("incidents")
        .into_iter()
        .find(|i| i.market == "nl")
        .expect("the seed's incident in nl");
    let failed = incident.deployment_id.expect("linked to nl's failed deployment");
    let recovery = tandem_store::NewGateResult {
        gate: "recovery".into(),
        passed: true,
        value: None,
        bound: None,
        previous: None,
        reason: "v1 answered again".into(),
    };
    store
        .insert_gate_result(failed, &recovery)
        .await
        .expect("the recovery is recorded");

    let http = tandem_testkit::http();
    let cookie = server.session_cookie(&server.seeded.viewer_token).await;
    let get = |path: &str| {
        let req = http.get(server.url(path)).header(COOKIE, &cookie);
        async move {
            let r = req.send().await.expect("the server answers");
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.expect("a text body")
        }
    };
    let dora: serde_json::Value = http
        .get(server.url("/api/v1/metrics/dora?days=30"))
        .bearer_auth(&server.seeded.viewer_token)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    let total = dora["keys"]["total"]["recovery_time"]["median_ms"]
        .as_i64()
        .expect("nl was restored");
    assert_eq!(
        dora["keys"]["by_market"]["nl"]["recovery_time"]["median_ms"], total,
        "one failure: its market's median is the total's"
    );
    let shown = tandem_core::dora::show_duration(total);

    let delivery = get("/delivery?days=30").await;
    assert!(
        delivery.contains(&format!("Time to restore: {shown} (")),
        "the headline says {shown}: {delivery}"
    );
    let row_start = delivery.find(r#"data-market="nl""#).expect("nl's row");
    let row = &delivery[row_start..row_start + delivery[row_start..].find("</tr>").expect("the row ends")];
    assert!(row.contains(&format!(">{shown}</td>")), "nl's row says {shown}: {row}");
    assert!(
        delivery.contains("Time to restore: for a failed deployment, from when it began"),
        "the page says what the figure measures"
    );

    let page = get(&format!("/incidents/{}", incident.id)).await;
    let at = page.find("restore-time").expect("the incident shows its restore time");
    let figure = &page[at..at + page[at..].find("</b>").expect("the figure ends")];
    assert!(
        figure.ends_with(&format!(">{shown}")),
        "the incident says {shown}: {figure}"
    );
    assert!(page.contains("Time to restore: for a failed deployment, from when it began"));
    let md = get(&format!("/api/v1/incidents/{}/postmortem", incident.id)).await;
    assert!(md.contains(&format!("**Time to restore:** **{shown}**")), "{md}");
}
