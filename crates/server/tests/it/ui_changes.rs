//! The change request pages over plain HTTP: the list, one request with its market diff and
//! where it stands, and its review buttons — the policy's refusal, a foreign `Origin` refused,
//! and an operator's approval applying the change.

#![allow(clippy::unwrap_used)]

use crate::common;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use serde_json::json;
use tandem_core::platform::ConfigLayers;
use tandem_core::role::Role;
use tandem_server::ServerSettings;

const PLATFORM: &str = "
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be] }
services:
  - { name: shop, repo: /nonexistent/shop }
";

/// [`common::RoleServer`] on [`PLATFORM`], with each role's token signed in through the form.
struct Server {
    server: common::RoleServer,
    /// Each role's session cookie, signed in through the form.
    cookies: Vec<(Role, String)>,
    http: reqwest::Client,
}

impl std::ops::Deref for Server {
    type Target = common::RoleServer;

    fn deref(&self) -> &common::RoleServer {
        &self.server
    }
}

impl Server {
    async fn start() -> Server {
        let server = common::RoleServer::start(PLATFORM, ServerSettings::default()).await;
        let http = tandem_testkit::http_builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        let mut cookies = Vec::new();
        for (role, secret) in &server.tokens {
            let login = format!("{}/login", server.base);
            cookies.push((*role, common::sign_in(&login, &server.base, secret).await));
        }
        Server { server, cookies, http }
    }

    /// The session cookie of `role`'s token, as the browser sends it after `/login`.
    fn cookie(&self, role: Role) -> String {
        self.cookies.iter().find(|(r, _)| *r == role).unwrap().1.clone()
    }

    /// GETs a page as `role`: its status and HTML.
    async fn page(&self, path: &str, role: Role) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie(role))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Presses a button of a change request page as `role`, sent from `origin`.
    async fn press(&self, path: &str, role: Role, origin: &str, comment: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie(role))
            .header(ORIGIN, origin)
            .form(&[("comment", comment)])
            .send()
            .await
            .unwrap()
    }
}

/// Belgium's VAT at 21%, proposed by Dana, a developer: it changes a live market, so it waits
/// for an operator.
async fn propose_vat(s: &Server) -> i64 {
    let layers: ConfigLayers = serde_json::from_value(json!({ "markets": { "be": { "vat_rate": 0.21 } } })).unwrap();
    let change = s
        .engine
        .propose_config("shop", "VAT 21% in Belgium", &layers, "dana", Role::Developer)
        .await
        .unwrap();
    assert_eq!(change.state, "open");
    change.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_change_request_is_listed_shown_and_waits_for_an_operator() {
    let s = Server::start().await;
    let id = propose_vat(&s).await;

    let (status, list) = s.page("/changes", Role::Viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!(r#"href="/changes/{id}""#)), "{list}");
    assert!(list.contains("VAT 21% in Belgium") && list.contains("dana"), "{list}");
    assert!(list.contains(r#"<span class="badge busy">open</span>"#), "{list}");
    let (_, other) = s.page("/changes?service=checkout", Role::Viewer).await;
    assert!(!other.contains("VAT 21% in Belgium"), "filtered by service: {other}");

    let (status, page) = s.page(&format!("/changes/{id}"), Role::Viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Waits for <b>1 approval</b> from <b>an operator (ops side)</b>"),
        "{page}"
    );
    assert!(page.contains("<b>1 of 2 markets</b> change"), "{page}");
    assert!(
        page.contains(r#"<tr class="diff-added" data-market="be">"#)
            && page.contains(r#"<td class="key"><code>vat_rate</code></td>"#),
        "be's diff: {page}"
    );
    assert!(page.contains(r#"<code class="value">0.21</code>"#), "{page}");
    assert!(page.contains("Unchanged: fr"), "{page}");
    assert!(
        page.contains("Not validated (no release with a config schema runs there): be"),
        "{page}"
    );
    assert!(
        !page.contains(r#"action="/changes/"#),
        "a viewer gets no button: {page}"
    );

    let (_, as_author) = s.page(&format!("/changes/{id}"), Role::Operator).await;
    assert!(
        as_author.contains(&format!(r#"action="/changes/{id}/approve""#))
            && as_author.contains(&format!(r#"href="/changes/{id}/reject?revision="#)),
        "an operator may review: {as_author}"
    );
    let (_, as_developer) = s.page(&format!("/changes/{id}"), Role::Developer).await;
    assert!(
        !as_developer.contains(&format!(r#"action="/changes/{id}/approve""#))
            && as_developer.contains("this change needs an operator (ops)"),
        "a developer is told why not: {as_developer}"
    );

    let (status, missing) = s.page("/changes/999", Role::Viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("Change request 999 not found"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_approves_from_the_page_and_the_policy_refuses_a_developer() {
    let s = Server::start().await;
    let id = propose_vat(&s).await;
    let approve = format!("/changes/{id}/approve");
    let state = || async { s.engine.get_change(id).await.unwrap().state };

    let r = s.press(&approve, Role::Operator, "http://evil.example", "").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("sent from another site"));
    assert_eq!(state().await, "open", "a foreign origin does nothing");

    let r = s.press(&approve, Role::Developer, &s.base, "looks good").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("Change request #{id} cannot be approved by you"))
            && body.contains("Developer is on the dev side like the author dana: this change needs an operator (ops)."),
        "the refusal says why: {body}"
    );
    assert!(
        body.contains(&format!(r#"href="/changes/{id}""#)),
        "and leads back: {body}"
    );
    assert_eq!(state().await, "open", "the policy refused it");
    assert!(s.engine.change_view(id).await.unwrap().reviews.is_empty());

    let r = s.press(&approve, Role::Operator, &s.base, "checked with finance").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], format!("/changes/{id}").as_str());
    assert_eq!(
        state().await,
        "done",
        "nothing runs yet: the new version is in force at once"
    );

    let (status, page) = s.page(&format!("/changes/{id}"), Role::Viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<span class="badge ok">done</span>"#), "{page}");
    assert!(page.contains("Approved by <b>operator</b>"), "{page}");
    assert!(page.contains("Config v2 in force: nothing runs yet"), "{page}");
    assert!(
        page.contains(r#"<span class="badge ok">approved</span>"#) && page.contains("checked with finance"),
        "the review is listed: {page}"
    );
    assert!(
        !page.contains(r#"action="/changes/"#),
        "a done change has no button: {page}"
    );

    let r = s.press(&approve, Role::Operator, &s.base, "").await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "nothing left to review");
    assert!(r.text().await.unwrap().contains("there is nothing to review"));

    let (_, config) = s.page("/config", Role::Viewer).await;
    assert!(
        config.contains(r#"<td class="config-version" title="runs config v2">v2</td>"#),
        "each market runs v2 now: {config}"
    );
    assert!(
        config.contains(r#"<td class="layer-override" title="market override"><span class="value">0.21</span></td>"#),
        "be's value is coloured by its layer: {config}"
    );
    assert!(config.contains(r#"href="/changes?service=shop""#), "{config}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_author_withdraws_and_a_rejection_is_shown() {
    let s = Server::start().await;
    let id = propose_vat(&s).await;
    let r = s
        .press(
            &format!("/changes/{id}/reject"),
            Role::Operator,
            &s.base,
            "not before April",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = s.page(&format!("/changes/{id}"), Role::Viewer).await;
    assert!(page.contains(r#"<span class="badge bad">rejected</span>"#), "{page}");
    assert!(page.contains("Rejected by operator</p>"), "{page}");
    assert!(page.contains("not before April"), "{page}");

    // Not the author: refused; the author withdraws it.
    let r = s
        .press(&format!("/changes/{id}/withdraw"), Role::Developer, &s.base, "")
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Only its author (dana) or an admin can withdraw it.")
    );
    s.engine
        .insert_token_expiring("dana", Role::Developer, "secret-dana", None)
        .await
        .unwrap();
    let r = s
        .http
        .post(format!("{}/changes/{id}/withdraw", s.base))
        .header(
            COOKIE,
            common::sign_in(&format!("{}/login", s.base), &s.base, "secret-dana").await,
        )
        .header(ORIGIN, &s.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.engine.get_change(id).await.unwrap().state, "withdrawn");
}

#[tokio::test]
async fn a_developer_proposes_a_value_from_the_page_and_a_bad_one_is_shown_back() {
    let s = Server::start().await;
    let (status, form) = s.page("/changes/new?service=shop", Role::Developer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(r#"<option value="market:be""#), "{form}");
    assert_eq!(s.page("/changes/new", Role::Viewer).await.0, StatusCode::FORBIDDEN);

    let propose = |fields: [(&'static str, &'static str); 5]| {
        let req = s
            .http
            .post(format!("{}/changes/new", s.base))
            .header(COOKIE, s.cookie(Role::Developer))
            .header(ORIGIN, &s.base)
            .form(&fields);
        async move { req.send().await.unwrap() }
    };
    // A market that is not one: refused by the engine, shown back, nothing stored.
    let r = propose([
        ("service", "shop"),
        ("layer", "market:xx"),
        ("key", "shipping.carrier"),
        ("value", "ups"),
        ("title", "UPS"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Not proposed:"), "{page}");
    assert!(page.contains("market `xx`: not a market of the platform"), "{page}");
    assert!(
        page.contains(r#"value="shipping.carrier""#),
        "the form keeps what was typed: {page}"
    );
    let r = propose([
        ("service", "shop"),
        ("layer", "defaults"),
        ("key", "a"),
        ("value", "1"),
        ("title", " "),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("say what the change is for"));
    assert!(s.engine.list_changes(None, 10).await.unwrap().is_empty());

    let r = propose([
        ("service", "shop"),
        ("layer", "market:be"),
        ("key", "vat_rate"),
        ("value", "0.21"),
        ("title", "VAT 21% in Belgium"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()[LOCATION].to_str().unwrap().to_string();
    let (_, page) = s.page(&location, Role::Viewer).await;
    assert!(
        page.contains("VAT 21% in Belgium") && page.contains("vat_rate"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviser_cannot_approve_from_the_page_and_a_stale_page_approves_nothing() {
    let s = Server::start().await;
    let id = propose_vat(&s).await;
    s.engine
        .insert_token_expiring("omar", Role::Operator, "secret-omar", None)
        .await
        .unwrap();
    // Omar, an operator, rewrites Dana's change through the API…
    let r = s
        .http
        .put(format!("{}/api/v1/changes/{id}", s.base))
        .bearer_auth("secret-omar")
        .json(&json!({ "layers": { "markets": { "be": { "vat_rate": 0.25 } } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // …and the page names him as the author of revision 2 and offers him no button.
    let omar = common::sign_in(&format!("{}/login", s.base), &s.base, "secret-omar").await;
    let page = s
        .http
        .get(format!("{}/changes/{id}", s.base))
        .header(COOKIE, &omar)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            r#"data-revision="2"><td>2 <span class="muted small">current</span></td><td><b>omar</b></td><td class="muted">operator</td>"#
        ),
        "the authors are shown: {page}"
    );
    assert!(
        page.contains(
            r#"<tr class="earlier" data-revision="1"><td>1 <span class="muted small">opened</span></td><td><b>dana</b>"#
        ),
        "{page}"
    );
    assert!(
        !page.contains(&format!(r#"action="/changes/{id}/approve""#))
            && page.contains("Omar wrote this change (revision 2): someone who wrote none of it must review it."),
        "{page}"
    );
    // Pressing it anyway (a form kept from before) is refused and records nothing.
    let r = s
        .http
        .post(format!("{}/changes/{id}/approve", s.base))
        .header(COOKIE, &omar)
        .header(ORIGIN, &s.base)
        .form(&[("comment", "mine, fine"), ("revision", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(body.contains("Omar wrote this change (revision 2)"), "{body}");
    assert!(s.engine.change_view(id).await.unwrap().reviews.is_empty());
    assert_eq!(s.engine.get_change(id).await.unwrap().state, "open");

    // The operator's page shows revision 2; the change is edited again before the click.
    let (_, page) = s.page(&format!("/changes/{id}"), Role::Operator).await;
    assert!(
        page.contains(r#"<input type="hidden" name="revision" value="2">"#),
        "{page}"
    );
    s.engine
        .revise_change(
            id,
            r#"{ "markets": { "be": { "vat_rate": 0.3 } } }"#,
            "dana",
            Role::Developer,
        )
        .await
        .unwrap();
    let r = s
        .http
        .post(format!("{}/changes/{id}/approve", s.base))
        .header(COOKIE, s.cookie(Role::Operator))
        .header(ORIGIN, &s.base)
        .form(&[("comment", ""), ("revision", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("is at revision 3 now, not revision 2"), "{body}");
    assert!(s.engine.change_view(id).await.unwrap().reviews.is_empty());
}
