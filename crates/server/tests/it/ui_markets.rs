//! The markets pages over plain HTTP: the list in wave order with launch states and the
//! monitor's health, a planned market's failing checklist, who may press Launch, a launch
//! refused with what is missing, and a ready market launched through the form.

#![allow(clippy::unwrap_used)]

use crate::common;

use common::{PLATFORM, TestServer};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use tandem_core::platform::parse_platform;
use tandem_store::{NewDeployment, ProbeRecord, now_ms};

/// The seed's platform with Germany not launched yet (it runs v1: launching) and Austria,
/// planned, where nothing runs: last in the file, first of its wave.
fn planned_platform() -> tandem_core::platform::Platform {
    let text = PLATFORM
        .replace(
            "timezone: Europe/Berlin }",
            "timezone: Europe/Berlin, state: planned }\n  - { id: at, name: Austria, region: central, \
             currency: EUR, locale: de-AT, timezone: Europe/Vienna, state: planned }",
        )
        .replace("markets: [ch, de] }", "markets: [at, ch, de] }");
    parse_platform("platform.yml", &text).unwrap()
}

/// A market process that answers 200 on every path, like a healthy release.
async fn healthy_market() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// What the monitor would have recorded of `market`'s last probe.
fn probe(market: &str, deployment_id: i64, state: &'static str, incident_id: Option<i64>) -> ProbeRecord {
    let ok = state == "up";
    ProbeRecord {
        service: "shop".into(),
        market: market.into(),
        deployment_id,
        at: now_ms(),
        ok,
        latency_ms: ok.then_some(12.4),
        error: (!ok).then(|| "answered 503".to_string()),
        failures_in_a_row: if ok { 0 } else { 3 },
        state: state.parse().expect("a health state"),
        transition: None,
        incident_id,
        measurements: if ok {
            vec![("up".into(), 1.0), ("probe_latency_ms".into(), 12.4)]
        } else {
            vec![("up".into(), 0.0)]
        },
    }
}

/// The HTML of the list's row of `market`.
fn row<'a>(list: &'a str, market: &str) -> &'a str {
    let start = list.find(&format!(r#"<tr data-market="{market}">"#)).unwrap();
    let len = list[start..].find("</tr>").unwrap();
    &list[start..start + len]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markets_are_listed_checked_and_launched_from_the_pages() {
    let server = TestServer::start().await.unwrap();
    let store = &server.engine.store_for_tests();
    store.sync_platform(&planned_platform()).await.unwrap();
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let viewer = server.session_cookie(&server.seeded.viewer_token).await;
    let operator = server.session_cookie(&server.seeded.token).await;
    let get = async |path: &str, cookie: &str| {
        let r = http.get(server.url(path)).header(COOKIE, cookie).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let press = async |path: &str, cookie: &str, origin: &str| {
        http.post(server.url(path))
            .header(COOKIE, cookie)
            .header(ORIGIN, origin)
            .send()
            .await
            .unwrap()
    };
    let here = server.url("");

    // The monitor's last word on three markets; lu and de run a release it has not probed.
    let live = server.engine.list_live_deployments().await.unwrap();
    let deployment = |m: &str| live.iter().find(|d| d.market == m).unwrap().id;
    let incident = server.engine.list_open_incidents().await.unwrap()[0].id;
    store
        .record_probes(&[
            probe("fr", deployment("fr"), "up", None),
            probe("be", deployment("be"), "failing", None),
            probe("nl", deployment("nl"), "down", Some(incident)),
        ])
        .await
        .unwrap();

    let (status, list) = get("/markets", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(r#"<a href="/markets" aria-current="page">Markets</a>"#));
    let order: Vec<usize> = ["fr", "be", "nl", "lu", "at", "ch", "de"]
        .iter()
        .map(|m| list.find(&format!(r#"data-market="{m}""#)).unwrap())
        .collect();
    assert!(order.is_sorted(), "wave order: {order:?}");
    let fr = row(&list, "fr");
    assert!(fr.contains(r#"<span class="badge ok">live</span>"#), "{fr}");
    assert!(
        fr.contains(r#"<span class="badge ok">up</span>"#) && fr.contains("12 ms"),
        "{fr}"
    );
    assert!(fr.contains("<td>west</td>") && fr.contains("<td>EUR</td>"), "{fr}");
    assert!(
        fr.contains(r#"<a class="version" href="/releases/shop/v2">v2</a>"#),
        "the version links to its release: {fr}"
    );
    assert!(!fr.contains("Readiness"), "a live market has nothing to check: {fr}");
    assert!(row(&list, "be").contains(r#"<span class="badge busy">failing</span>"#));
    let nl = row(&list, "nl");
    assert!(nl.contains(r#"<span class="badge bad">down</span>"#), "{nl}");
    assert!(
        nl.contains(&format!(r#"href="/incidents/{incident}">incident #{incident}</a>"#)),
        "{nl}"
    );
    let de = row(&list, "de");
    assert!(de.contains(r#"<span class="badge busy">launching</span>"#), "{de}");
    assert!(de.contains(r#"<span class="badge idle">unknown</span>"#), "{de}");
    assert!(de.contains(r#"<a href="/markets/de">Readiness</a>"#), "{de}");
    let at = row(&list, "at");
    assert!(at.contains(r#"<span class="badge idle">planned</span>"#), "{at}");
    assert!(at.contains(r#"<a href="/markets/at">Readiness</a>"#), "{at}");

    // A planned market's checklist names what fails; only operators get the button.
    let (status, page) = get("/markets/at", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<b>2 of 4 checks</b> pass"), "{page}");
    assert!(
        page.contains(r#"data-check="release" data-passed="false""#)
            && page.contains("no release of shop is live in at; the release in production is v"),
        "{page}"
    );
    assert!(page.contains("nothing of shop runs in at to probe"), "{page}");
    assert!(
        !page.contains(r#"action="/markets/at/launch""#),
        "a viewer has no Launch button"
    );
    let (_, page) = get("/markets/at", &operator).await;
    assert!(page.contains(r#"action="/markets/at/launch""#), "{page}");

    // A viewer may not launch; nor may a form sent from another site.
    let r = press("/markets/de/launch", &viewer, &here).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = press("/markets/de/launch", &operator, "https://evil.example").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("another site"));

    // de runs v1 on an address that answers nothing: refused, with what is missing.
    let r = press("/markets/de/launch", &operator, &here).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Not launched: 2 checks of its readiness checklist do not pass"),
        "{page}"
    );
    assert!(page.contains("de runs v1, not v2, the release in production"), "{page}");
    assert!(
        page.contains(r#"data-check="probe" data-passed="false""#)
            && page.contains("GET http://127.0.0.1:1/de/healthz failed 3 times in a row"),
        "{page}"
    );
    assert!(server.engine.get_launch("de").await.unwrap().is_none());

    // v2 goes live in de and answers its probe: the form launches it.
    let v2 = store.get_release_by_version("shop", "v2").await.unwrap();
    let d = store
        .insert_deployment(NewDeployment {
            rollout_id: None,
            service: "shop",
            market: "de",
            release_id: v2.id,
        })
        .await
        .unwrap();
    store
        .mark_deployment_live(d.id, &healthy_market().await, None)
        .await
        .unwrap();
    let r = press("/markets/de/launch", &operator, &here).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()[LOCATION], "/markets/de");
    let (_, page) = get("/markets/de", &viewer).await;
    assert!(page.contains(r#"<span class="badge ok">live</span>"#), "{page}");
    assert!(page.contains("Launched by <b>ana</b>"), "{page}");
    assert!(page.contains(r#"data-check="probe" data-passed="true""#), "{page}");
    assert!(!page.contains("Readiness"), "{page}");
    let (_, list) = get("/markets", &viewer).await;
    let de = row(&list, "de");
    assert!(
        de.contains(r#"<span class="badge ok">live</span>"#) && de.contains("by ana"),
        "{de}"
    );

    // A market live from the start has no launch record; its probes are shown.
    let (_, page) = get("/markets/fr", &viewer).await;
    assert!(page.contains("Live from the platform file"), "{page}");
    assert!(page.contains("1 of 1 passed"), "{page}");
    let (status, _) = get("/markets/zz", &viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await.unwrap();
}
