//! The incident pages over plain HTTP, on the seeded store (v2 failed its gate in `nl`, with an
//! incident): a viewer reads the list and an incident but may not act on it; an operator opens
//! one through the form, links it to another deployment and resolves it; refused input is shown
//! back naming the field.

use crate::common;

use common::{PLATFORM, TestServer, chat, told};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use tandem_core::platform::parse_platform;

struct Browser {
    http: reqwest::Client,
    cookie: String,
}

impl Browser {
    async fn new(server: &TestServer, secret: &str) -> Browser {
        let http = tandem_testkit::http_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("a client");
        Browser {
            http,
            cookie: server.session_cookie(secret).await,
        }
    }

    async fn get(&self, server: &TestServer, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(server.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("the server answers");
        (r.status(), r.text().await.expect("a text body"))
    }

    /// A form post as the browser sends it from a page of this server; the answer's status,
    /// `Location` (if any) and body.
    async fn post(&self, server: &TestServer, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let r = self
            .http
            .post(server.url(path))
            .header(COOKIE, &self.cookie)
            .header(ORIGIN, format!("http://{}", server.addr))
            .form(fields)
            .send()
            .await
            .expect("the server answers");
        let location = r
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().expect("a text location").to_string())
            .unwrap_or_default();
        (r.status(), location, r.text().await.expect("a text body"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_are_read_by_viewers_and_opened_linked_and_resolved_by_operators() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let store = &server.engine.store_for_tests();
    // The team's chat hears of incidents opened and resolved from these pages.
    let (hook, messages) = chat().await;
    let platform = format!(
        "{PLATFORM}notifications:\n  - {{ name: chat, kind: slack, url: \"{hook}\", events: [incident.opened, incident.resolved] }}\n"
    );
    store
        .sync_platform(&parse_platform("platform.yml", &platform).expect("the platform"))
        .await
        .expect("the platform is stored");
    let seeded = store
        .list_incidents()
        .await
        .expect("incidents")
        .into_iter()
        .find(|i| i.market == "nl")
        .expect("the seed's incident in nl");
    let nl = store
        .get_deployment(seeded.deployment_id.expect("linked"))
        .await
        .expect("nl's deployment");
    let v2 = server.engine.get_release(nl.release_id).await.expect("v2").version;

    // A viewer reads the list and the incident, with no button to press.
    let viewer = Browser::new(&server, &server.seeded.viewer_token).await;
    let (status, list) = viewer.get(&server, "/incidents").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(
        list.contains(r#"<a href="/incidents" aria-current="page">Incidents</a>"#),
        "{list}"
    );
    let row = list
        .split(&format!(r#"<tr data-incident="{}">"#, seeded.id))
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_else(|| panic!("the seed's incident is listed: {list}"));
    for cell in [
        "Release v2 failed its gate in nl",
        "open",
        "gate",
        "nl",
        &v2,
        &format!("#{}", nl.id),
    ] {
        assert!(row.contains(cell), "the row shows {cell}: {row}");
    }
    assert!(!list.contains("/incidents/new"), "no button for a viewer: {list}");
    let (_, overview) = viewer.get(&server, "/").await;
    assert!(
        overview.contains(&format!(r#"href="/incidents/{}""#, seeded.id)),
        "the overview links each open incident: {overview}"
    );

    let (status, page) = viewer.get(&server, &format!("/incidents/{}", seeded.id)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!(r#"href="/rollouts/{}""#, server.seeded.rollout_id)),
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"href="/api/v1/incidents/{}/postmortem""#, seeded.id)),
        "{page}"
    );
    assert!(
        page.contains(&format!("# Incident {}: Release v2 failed its gate in nl", seeded.id)),
        "the draft: {page}"
    );
    assert!(page.contains("## What went wrong"), "{page}");
    let timeline = page.split("<h2>Timeline</h2>").nth(1).expect("a timeline panel");
    for kind in ["deployment.started", "deployment.failed", "incident.opened"] {
        assert!(
            timeline.contains(&format!(r#"data-kind="{kind}""#)),
            "the timeline has {kind}: {timeline}"
        );
    }
    assert!(timeline.contains(common::FAILED_REASON), "{timeline}");
    assert!(!page.contains("/resolve"), "no resolve button for a viewer: {page}");
    assert!(!page.contains(r#"name="deployment_id""#), "no link form for a viewer");

    let (status, _, _) = viewer
        .post(&server, &format!("/incidents/{}/resolve", seeded.id), &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = viewer
        .post(
            &server,
            "/incidents/new",
            &[("service", "shop"), ("market", "be"), ("title", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.engine.get_incident(seeded.id).await.expect("still there").state,
        "open"
    );

    // An operator: a market that does not exist is refused, named, and nothing is stored.
    let operator = Browser::new(&server, &server.seeded.token).await;
    let (status, list) = operator.get(&server, "/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains(r#"href="/incidents/new""#),
        "the operator's button: {list}"
    );
    let (status, form) = operator.get(&server, "/incidents/new?market=be").await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(form.contains(r#"<option value="be" selected>"#), "prefilled: {form}");
    let before = store.list_incidents().await.expect("incidents").len();
    let (status, _, body) = operator
        .post(
            &server,
            "/incidents/new",
            &[
                ("service", "shop"),
                ("market", "atlantis"),
                ("title", "Checkout is down"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("market `atlantis` is not a market of the platform"),
        "{body}"
    );
    assert!(
        body.contains(r#"value="Checkout is down""#),
        "the input is kept: {body}"
    );
    assert_eq!(store.list_incidents().await.expect("incidents").len(), before);

    // It opens one: source `person`, linked to be's last deployment.
    let (status, location, body) = operator
        .post(
            &server,
            "/incidents/new",
            &[
                ("service", "shop"),
                ("market", "be"),
                ("title", "Bancontact refunds fail"),
                ("summary", "Refunds answer 502 since 14:02."),
                ("deployment_id", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let id: i64 = location
        .strip_prefix("/incidents/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("on to the new incident: {location}"));
    let be_deployments = server
        .engine
        .list_deployments_of_market("shop", "be")
        .await
        .expect("be's deployments");
    let be_last = be_deployments.iter().map(|d| d.id).max().expect("be was deployed");
    let be_first = be_deployments.iter().map(|d| d.id).min().expect("be was deployed");
    let opened = server.engine.get_incident(id).await.expect("the new incident");
    assert_eq!(
        (
            opened.source.as_str(),
            opened.opened_by.as_deref(),
            opened.deployment_id
        ),
        ("person", Some("ana"), Some(be_last))
    );
    let (status, page) = operator.get(&server, &location).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "Bancontact refunds fail",
        "Refunds answer 502 since 14:02.",
        "person",
        "Resolve",
    ] {
        assert!(page.contains(text), "the page shows {text}: {page}");
    }
    assert_eq!(
        told(&messages, &format!("Incident {id} ")).await,
        format!("Incident {id} of shop in be opened by ana: Bancontact refunds fail")
    );
    let (_, open_list) = operator.get(&server, "/incidents?state=open").await;
    assert!(open_list.contains(&format!(r#"data-incident="{id}""#)), "{open_list}");

    // It links it to be's first deployment, then tries a deployment of another market.
    let (status, location, body) = operator
        .post(
            &server,
            &format!("/incidents/{id}/link"),
            &[("deployment_id", &be_first.to_string())],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, format!("/incidents/{id}").as_str()),
        "{body}"
    );
    assert_eq!(
        server.engine.get_incident(id).await.expect("linked").deployment_id,
        Some(be_first)
    );
    let (status, _, body) = operator
        .post(
            &server,
            &format!("/incidents/{id}/link"),
            &[("deployment_id", &nl.id.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("is of shop in nl"), "{body}");

    // A developer may resolve, not link.
    let developer = Browser::new(&server, &server.seeded.developer_token).await;
    let (status, _, _) = developer
        .post(
            &server,
            &format!("/incidents/{id}/link"),
            &[("deployment_id", &be_last.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Resolving asks what fixed it; it resolves it; resolving again says by whom it was.
    let (status, _, body) = operator.post(&server, &format!("/incidents/{id}/resolve"), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("say what fixed it"), "{body}");
    let fixed = [("reason", "rolled back to v1")];
    let (status, location, _) = operator
        .post(&server, &format!("/incidents/{id}/resolve"), &fixed)
        .await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("/incidents/{id}")));
    let resolved = server.engine.get_incident(id).await.expect("resolved");
    let told_resolved = told(&messages, &format!("Incident {id} of shop in be resolved")).await;
    assert!(
        told_resolved.starts_with(&format!("Incident {id} of shop in be resolved by ana after ")),
        "{told_resolved}"
    );
    assert_eq!(
        (resolved.state.as_str(), resolved.resolved_by.as_deref()),
        ("resolved", Some("ana"))
    );
    let (status, _, body) = operator
        .post(&server, &format!("/incidents/{id}/resolve"), &fixed)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("already resolved by ana"), "{body}");

    let (_, page) = operator.get(&server, &format!("/incidents/{id}")).await;
    assert!(
        !page.contains(&format!("/incidents/{id}/resolve")),
        "no resolve button once resolved"
    );
    let timeline = page.split("<h2>Timeline</h2>").nth(1).expect("a timeline panel");
    for text in [
        "Opened by ana (person)",
        &format!("Linked to deployment #{be_first} (was #{be_last}) by ana"),
        "Resolved by ana",
        "rolled back to v1",
    ] {
        assert!(timeline.contains(text), "the timeline says {text}: {timeline}");
    }
    assert!(
        page.contains("- **Resolved:**"),
        "the draft knows it was resolved: {page}"
    );
    let (_, resolved_list) = operator.get(&server, "/incidents?state=resolved").await;
    assert!(resolved_list.contains(&format!(r#"data-incident="{id}""#)));
    assert!(!resolved_list.contains(&format!(r#"data-incident="{}""#, seeded.id)));

    // A form sent from another site is refused.
    let r = operator
        .http
        .post(server.url(&format!("/incidents/{}/resolve", seeded.id)))
        .header(COOKIE, &operator.cookie)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        server.engine.get_incident(seeded.id).await.expect("still there").state,
        "open"
    );

    server.stop().await.expect("the server stops");
}
