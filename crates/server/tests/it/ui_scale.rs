//! The pages at many markets: the overview sums a big wave up instead of a tile per market, and
//! the markets page comes a page at a time, searchable and filtered, worst first on demand.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{RoleServer, Visitor};
use reqwest::StatusCode;
use tandem_core::role::Role;
use tandem_server::ServerSettings;
use tandem_store::{NewDeployment, ProbeRecord, now_ms};

/// `n` markets with two-letter ids (`aa`, `ab`, …): a pilot of one, the rest in one wave.
fn platform(n: usize) -> String {
    platform_of(n, &["shop"])
}

/// `n` markets with two-letter ids (`aa`, `ab`, …) and the `services`: a pilot of one, the
/// rest in one wave.
fn platform_of(n: usize, services: &[&str]) -> String {
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let (a, b) = ((b'a' + (i / 26) as u8) as char, (b'a' + (i % 26) as u8) as char);
            format!("{a}{b}")
        })
        .collect();
    let mut yml = String::from("markets:\n");
    for (i, id) in ids.iter().enumerate() {
        let region = if i % 2 == 0 { "north" } else { "south" };
        yml.push_str(&format!(
            "  - {{ id: {id}, name: Store {id}, region: {region}, currency: EUR, locale: en-GB, timezone: Europe/Paris }}\n"
        ));
    }
    yml.push_str(&format!(
        "waves:\n  - {{ name: pilot, markets: [{}] }}\n  - {{ name: rest, markets: [{}] }}\n",
        ids[0],
        ids[1..].join(", ")
    ));
    yml.push_str("services:\n");
    for s in services {
        yml.push_str(&format!("  - {{ name: {s}, repo: /srv/git/{s} }}\n"));
    }
    yml
}

/// A market process that answers 200 on every path, like a healthy release.
async fn healthy_market() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// What the monitor records of a probe of `service` in `market`.
fn probe(service: &str, market: &str, deployment_id: i64, up: bool) -> ProbeRecord {
    ProbeRecord {
        service: service.into(),
        market: market.into(),
        deployment_id,
        at: now_ms(),
        ok: up,
        latency_ms: up.then_some(12.0),
        error: (!up).then(|| "answered 503".to_string()),
        failures_in_a_row: if up { 0 } else { 3 },
        state: if up { "up" } else { "down" }.parse().unwrap(),
        transition: None,
        incident_id: None,
        measurements: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_markets_are_summed_up_on_the_overview_and_paged_on_the_markets_page() {
    let server = RoleServer::start(&platform(130), ServerSettings::default()).await;
    let viewer = Visitor::sign_in(&server.base, server.token(Role::Viewer)).await;
    let page = async |path: &str| viewer.get(path).await;
    let tiles = |body: &str| body.matches("class=\"tile ").count();
    let rows = |body: &str| body.matches("<tr data-market=").count();

    // The overview: the pilot's one tile, and the big wave summed up with a link to all of it.
    let (status, body) = page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tiles(&body), 1, "one tile, the pilot's: {body}");
    assert!(body.contains("all 129 markets of rest →"), "{body}");
    assert!(body.contains("href=\"/markets?wave=rest&amp;sort=worst\""), "{body}");
    assert!(body.contains("Nothing needs a look in this wave."), "{body}");

    // The markets page: 100 at a time, with the way to the rest.
    let (_, body) = page("/markets").await;
    assert_eq!(rows(&body), 100);
    assert!(body.contains("Markets 1–100 of 130"), "{body}");
    assert!(body.contains("page 1 of 2") && body.contains("Next →"), "{body}");
    let (_, body) = page("/markets?page=2").await;
    assert_eq!(rows(&body), 30);
    assert!(
        body.contains("data-market=\"ez\"") && body.contains("← Previous"),
        "{body}"
    );
    // A page past the end shows the last one.
    let (_, last) = page("/markets?page=99").await;
    assert_eq!(rows(&last), 30);

    // A search finds a market by id, name or region, in any case; filters narrow by wave.
    let (_, body) = page("/markets?q=STORE%20BC").await;
    assert_eq!(rows(&body), 1, "{body}");
    assert!(
        body.contains("data-market=\"bc\"") && body.contains("matching (of 130)"),
        "{body}"
    );
    let (_, body) = page("/markets?q=south&wave=rest").await;
    assert_eq!(
        rows(&body),
        65,
        "every other market is in the south, the pilot in the north"
    );
    let (_, body) = page("/markets?wave=pilot").await;
    assert_eq!(rows(&body), 1);
    let (_, body) = page("/markets?q=atlantis").await;
    assert!(body.contains("No market matches this search."), "{body}");
    let (_, body) = page("/markets?health=down").await;
    assert!(
        body.contains("No market matches this search."),
        "nothing is down: {body}"
    );

    // A parameter the page does not know is refused on a page that says which.
    let (status, body) = page("/markets?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("colour"), "{body}");
    server.stop().await;
}

/// Ten services in 130 markets, released in the first 60: the list comes 50 markets a page, each
/// row saying per service what runs and its health; a market down shows first when asked, on
/// the overview and in the list, and is counted where the wave is summed up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_services_in_many_markets_come_in_small_pages_with_the_market_down_first() {
    let services: Vec<String> = (0..10).map(|i| format!("svc{i}")).collect();
    let names: Vec<&str> = services.iter().map(String::as_str).collect();
    let server = RoleServer::start(&platform_of(130, &names), ServerSettings::default()).await;
    let store = server.engine.store_for_tests();
    let markets: Vec<String> = server
        .engine
        .market_matrix()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.market.id)
        .collect();
    let url = healthy_market().await;
    let mut probes = Vec::new();
    for service in &names {
        let spec = tandem_core::pipeline::parse_service_spec(
            "tandem.yml",
            &format!("service: {service}\npipeline:\n  jobs:\n    a:\n      steps: [{{ run: x }}]\n"),
        )
        .unwrap();
        let run = store.insert_run(service, "c1", "main", "hand").await.unwrap();
        let v1 = store.insert_release(service, "c1", run.id, &spec).await.unwrap();
        for market in &markets[..60] {
            let d = store
                .insert_deployment(NewDeployment {
                    rollout_id: None,
                    service,
                    market,
                    release_id: v1.id,
                })
                .await
                .unwrap();
            // bz's svc3 answers nothing: down however the monitor probes it next.
            let down = market == "bz" && *service == "svc3";
            let at = if down { "http://127.0.0.1:1" } else { url.as_str() };
            store.mark_deployment_live(d.id, at, None).await.unwrap();
            probes.push(probe(service, market, d.id, !down));
        }
    }
    store.record_probes(&probes).await.unwrap();

    let viewer = Visitor::sign_in(&server.base, server.token(Role::Viewer)).await;
    let page = async |path: &str| viewer.page(path).await;
    let rows = |body: &str| body.matches("<tr data-market=").count();
    let row = |body: &str, market: &str| -> String {
        let start = body.find(&format!(r#"<tr data-market="{market}">"#)).unwrap();
        let len = body[start..].find("</tr>").unwrap();
        body[start..start + len].to_string()
    };

    // 50 markets a page at ten services, each row with every service's release and health.
    let list = page("/markets").await;
    assert_eq!(rows(&list), 50);
    assert!(
        list.contains("Markets 1–50 of 130") && list.contains("page 1 of 3"),
        "{list}"
    );
    assert!(list.contains("<b>1</b> down"), "{list}");
    let aa = row(&list, "aa");
    for service in &names {
        assert!(
            aa.contains(&format!(
                r#"<i>{service}</i> <a class="version" href="/releases/{service}/v1">v1</a>"#
            )),
            "{service} in {aa}"
        );
    }
    assert_eq!(aa.matches(r#"<span class="badge ok">up</span>"#).count(), 10, "{aa}");
    assert!(
        list.len() < 100_000,
        "a page of 50 markets × 10 services weighs {} bytes",
        list.len()
    );
    // Past the released markets, a row says nothing runs there in one line.
    let third = page("/markets?page=3").await;
    assert_eq!(rows(&third), 30);
    assert!(row(&third, "ez").contains("nothing deployed"), "{third}");

    // Worst first: bz, down for its svc3, comes first; the filter finds it alone.
    let worst = page("/markets?sort=worst").await;
    let first = worst.find("<tr data-market=").unwrap();
    assert!(worst[first..].starts_with(r#"<tr data-market="bz">"#), "{worst}");
    assert!(row(&worst, "bz").contains(r#"<span class="badge bad">down</span>"#));
    let down = page("/markets?health=down").await;
    assert_eq!(rows(&down), 1);
    assert!(down.contains("Markets 1–1 of 1 matching (of 130)"), "{down}");
    let up = page("/markets?health=up&wave=rest").await;
    assert!(up.contains("Markets 1–50 of 58 matching (of 130)"), "{up}");

    // The overview sums the big wave up, bz as its one tile.
    let overview = page("/").await;
    assert!(
        overview.contains("<b>59</b> up") && overview.contains("<b>1</b> down"),
        "{overview}"
    );
    assert_eq!(
        overview.matches("class=\"tile ").count(),
        2,
        "the pilot's and bz's: {overview}"
    );
    assert!(overview.contains(r#"data-market="bz""#), "{overview}");
    assert!(overview.contains("all 129 markets of rest →"), "{overview}");
    server.stop().await;
}

/// A rollout to 300 markets, halted in its big wave by one market's failed gate: its page sums
/// the big wave up (counts by state, the failed and blocked markets named first) and stays small;
/// the wave's markets come 100 a page, each page going on where the last stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_to_hundreds_of_markets_names_its_failed_market_and_pages_the_rest() {
    use tandem_core::state::RolloutState;
    let server = RoleServer::start(&platform(300), ServerSettings::default()).await;
    let store = server.engine.store_for_tests();
    let ids: Vec<String> = server
        .engine
        .market_matrix()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.market.id)
        .collect();
    assert_eq!(ids.len(), 300);
    let spec = tandem_core::pipeline::parse_service_spec(
        "tandem.yml",
        "service: shop\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n",
    )
    .unwrap();
    let run = store.insert_run("shop", "c1", "main", "hand").await.unwrap();
    let v1 = store.insert_release("shop", "c1", run.id, &spec).await.unwrap();
    let plan = [
        tandem_core::rollout::PlannedWave {
            name: "pilot".into(),
            markets: vec![ids[0].clone()],
        },
        tandem_core::rollout::PlannedWave {
            name: "rest".into(),
            markets: ids[1..].to_vec(),
        },
    ];
    let rollout = store.insert_rollout("shop", v1.id, &plan, "ops").await.unwrap();
    // The pilot and the rest's first 150 went live; the 160th failed its gate, the 170th was
    // refused by its config check; the rollout halted there.
    let (failed, blocked) = (ids[160].clone(), ids[170].clone());
    for market in ids[..=170].iter().filter(|m| ids[151..160].iter().all(|x| x != *m)) {
        let d = store
            .insert_deployment(NewDeployment {
                rollout_id: Some(rollout.id),
                service: "shop",
                market,
                release_id: v1.id,
            })
            .await
            .unwrap();
        if *market == failed {
            store
                .insert_gate_result(
                    d.id,
                    &tandem_store::NewGateResult {
                        gate: "probe".into(),
                        passed: false,
                        value: None,
                        bound: None,
                        previous: None,
                        reason: "GET /healthz answered 503 twice in a row".into(),
                    },
                )
                .await
                .unwrap();
            store.mark_deployment_failed(d.id, "the probe failed").await.unwrap();
        } else if *market == blocked {
            store
                .mark_deployment_blocked(d.id, "free_shipping_threshold: -1 is less than 0")
                .await
                .unwrap();
        } else if ids[161..170].iter().all(|x| x != market) {
            store
                .mark_deployment_live(d.id, "http://127.0.0.1:1", None)
                .await
                .unwrap();
        }
    }
    store
        .update_rollout(
            rollout.id,
            RolloutState::Halted,
            1,
            Some(&format!("{failed} failed its probe")),
        )
        .await
        .unwrap();

    let viewer = Visitor::sign_in(&server.base, server.token(Role::Viewer)).await;
    let page = async |path: &str| viewer.get(path).await;
    let cells = |body: &str| -> Vec<String> {
        body.match_indices("class=\"cell ")
            .map(|(i, _)| {
                let at = i + body[i..].find("data-market=\"").unwrap() + 13;
                body[at..at + body[at..].find('"').unwrap()].to_string()
            })
            .collect()
    };

    // The page: the pilot's cell, then the big wave summed up, the failed market first.
    let base = format!("/rollouts/{}", rollout.id);
    let (status, body) = page(&base).await;
    assert_eq!(status, StatusCode::OK);
    let shown = cells(&body);
    assert_eq!(
        shown[..3],
        [ids[0].as_str(), &failed, &blocked],
        "the pilot, then the failed and the blocked market"
    );
    assert_eq!(shown[3..], ids[161..170], "then the markets still deploying");
    assert!(
        body.contains("GET /healthz answered 503 twice in a row")
            && body.contains("free_shipping_threshold: -1 is less than 0"),
        "{body}"
    );
    for (n, state) in [
        (1, "failed"),
        (1, "blocked"),
        (9, "deploying"),
        (150, "live"),
        (138, "not reached"),
    ] {
        assert!(
            body.contains(&format!(
                "data-state=\"{state}\" href=\"{base}?wave=rest&amp;state={}\"><b>{n}</b> {state}</a>",
                state.replace(' ', "%20")
            )),
            "{n} {state} in {body}"
        );
    }
    assert!(body.contains("all 299 markets of rest →"), "{body}");
    eprintln!(
        "the rollout's page at 300 markets: {} bytes, {} cells",
        body.len(),
        shown.len()
    );
    assert!(
        body.len() < 30_000,
        "a rollout to 300 markets weighs {} bytes",
        body.len()
    );

    // The wave's markets, 100 a page in plan order; each page goes on after the last.
    let mut seen = Vec::new();
    let mut next = Some(format!("{base}?wave=rest"));
    while let Some(path) = next.take() {
        let (status, body) = page(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let on_page = cells(&body);
        assert!(on_page.len() <= 100 && !on_page.is_empty(), "{path}");
        assert!(body.len() < 100_000, "{path} weighs {} bytes", body.len());
        next = body
            .split("rel=\"next\"")
            .next()
            .filter(|_| body.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| href.trim_end_matches(['"', ' ']).replace("&amp;", "&"));
        seen.extend(on_page);
    }
    assert_eq!(seen, ids[1..], "every market of the wave once, in order");

    // One state only: the failed market alone; the live ones a page at a time.
    let (_, body) = page(&format!("{base}?wave=rest&state=failed")).await;
    assert_eq!(cells(&body), [failed.as_str()]);
    let (_, body) = page(&format!("{base}?wave=rest&state=live")).await;
    assert_eq!(cells(&body).len(), 100);
    assert!(
        body.contains("Markets 1–100 of 150 markets live in wave rest"),
        "{body}"
    );

    // What the page does not know is refused, saying what to do.
    let (status, body) = page(&format!("{base}?wave=atlantis")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("its waves are pilot, rest"), "{body}");
    let (status, body) = page(&format!("{base}?wave=rest&after=zz")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("no market `zz` to page after"), "{body}");
    let (status, body) = page(&format!("{base}?wave=rest&state=sleepy")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("use one of failed, blocked"), "{body}");
    server.stop().await;
}
