//! The web UI over plain HTTP, without a browser: sign-in refusals, HTML error pages, the runs
//! list's filters, and who may press the run page's buttons from where.

use crate::common;

use common::{FAILED_REASON, TestServer};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_token_and_show_html_errors() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = server.seeded.token.clone();
    let cookie = server.session_cookie(&token).await;

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
    assert!(
        set.starts_with("tandem_session=") && set.contains("; HttpOnly; SameSite=Strict; Path=/"),
        "{set}"
    );

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
    assert_eq!(r.status(), StatusCode::OK, "a token in a link signs nobody in");
    assert!(r.headers().get(SET_COOKIE).is_none());

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
        .header(ORIGIN, server.origin())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));

    server.stop().await.expect("the server stops");
}

/// GETs `path` with `cookie` and returns the status and body.
async fn get_page(http: &reqwest::Client, server: &TestServer, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = http
        .get(server.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("the server answers");
    (r.status(), r.text().await.expect("a text body"))
}

/// The ids of the runs a list page shows.
fn listed(body: &str) -> Vec<i64> {
    body.split("data-run=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_filter_and_buttons_check_who_asks_and_from_where() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = &server.seeded;
    let (failed, busy) = (s.failed_run_id, s.busy_run_id);
    let viewer = server.session_cookie(&s.viewer_token).await;
    let developer = server.session_cookie(&s.developer_token).await;

    // Filters narrow the list, the form shows them, and links keep them.
    let all = listed(&get_page(&http, &server, "/runs", &viewer).await.1);
    assert_eq!(all, [failed, busy, 2, 1]);
    let (status, body) = get_page(&http, &server, "/runs?state=failed", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&body), [failed]);
    assert!(body.contains(r#"<option value="failed" selected>"#), "{body}");
    assert!(
        body.contains(r#"href="/runs?branch=t-2-ideal&amp;state=failed""#),
        "the branch link keeps the state filter: {body}"
    );
    let body = get_page(&http, &server, "/runs?branch=t-3-shipping&state=", &viewer)
        .await
        .1;
    assert_eq!(listed(&body), [busy]);
    assert!(body.contains(r#"value="t-3-shipping""#), "{body}");
    let body = get_page(&http, &server, "/runs?service=shop&state=success", &viewer)
        .await
        .1;
    assert_eq!(listed(&body), [2, 1]);
    let body = get_page(&http, &server, "/runs?service=nope", &viewer).await.1;
    assert!(
        listed(&body).is_empty() && body.contains("No run matches these filters"),
        "{body}"
    );

    // A viewer sees no button; a developer sees the one the run's state permits.
    let page = |id: i64| format!("/runs/{id}");
    for (cookie, id, rerun, cancel) in [
        (&viewer, failed, false, false),
        (&viewer, busy, false, false),
        (&developer, failed, true, false),
        (&developer, busy, false, true),
        (&developer, 1, false, false),
    ] {
        let body = get_page(&http, &server, &page(id), cookie).await.1;
        let has = |action: &str| body.contains(&format!(r#"action="/runs/{id}/{action}""#));
        assert_eq!((has("rerun"), has("cancel")), (rerun, cancel), "run {id} for {cookie}");
    }

    let post = |path: String, cookie: Option<&str>, origin: Option<&str>| {
        let mut r = http.post(server.url(&path));
        if let Some(c) = cookie {
            r = r.header(COOKIE, c.to_string());
        }
        if let Some(o) = origin {
            r = r.header(ORIGIN, o.to_string());
        }
        r.send()
    };
    let rerun = format!("/runs/{failed}/rerun");
    let r = post(rerun.clone(), None, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], format!("/login?next={rerun}").as_str());
    let r = http
        .get(server.url(&rerun))
        .header(COOKIE, &developer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        page(failed).as_str(),
        "after sign-in, back to the run"
    );
    let r = post(rerun.clone(), Some(&viewer), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(rerun.clone(), Some(&developer), Some("http://evil.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(body.contains("another site"), "{body}");
    let r = post(format!("/runs/{busy}/cancel"), Some(&developer), Some("null"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let runs = server.engine.list_runs(None, 100).await.unwrap();
    assert_eq!(runs.len(), all.len(), "refused posts changed nothing");

    // Conflicts are HTML pages with the engine's reason.
    let here = format!("http://{}", server.addr);
    let r = post(format!("/runs/{failed}/cancel"), Some(&developer), Some(&here))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(
        body.contains("cannot be cancelled") && body.contains("nothing to cancel"),
        "{body}"
    );
    let r = post("/runs/1/rerun".into(), Some(&developer), Some(&here))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("nothing to re-run"));
    let r = post("/runs/abc/cancel".into(), Some(&developer), Some(&here))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A re-run from this server goes to the new run, which says what it repeats.
    let r = post(rerun.clone(), Some(&developer), Some(&here)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let next = r.headers()[LOCATION].to_str().unwrap().to_string();
    let new_id: i64 = next.trim_start_matches("/runs/").parse().unwrap();
    assert!(new_id > failed, "{next}");
    let body = get_page(&http, &server, &next, &viewer).await.1;
    assert!(
        body.contains(&format!(r#"rerun of <a href="/runs/{failed}">#{failed}</a>"#)),
        "{body}"
    );
    let body = get_page(&http, &server, "/runs", &viewer).await.1;
    assert_eq!(listed(&body)[0], new_id);
    assert!(body.contains(&format!("rerun of <a href=\"/runs/{failed}\"")), "{body}");

    server.stop().await.expect("the server stops");
}

#[tokio::test]
async fn operators_steer_rollouts_from_their_page() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = &server.seeded;
    let operator = server.session_cookie(&s.token).await;
    let developer = server.session_cookie(&s.developer_token).await;
    let store = &server.engine.store_for_tests();
    // A rollout waiting to start: pending until the engine picks it up (it is not spawned here).
    let release = server.engine.list_releases(Some("shop")).await.unwrap()[0].clone();
    let plan = [tandem_core::rollout::PlannedWave {
        name: "pilot".into(),
        markets: vec!["fr".into()],
    }];
    let rollout = store.insert_rollout("shop", release.id, &plan, "ops").await.unwrap();
    let page = format!("/rollouts/{}", rollout.id);

    let (_, body) = get_page(&http, &server, &page, &developer).await;
    assert!(
        !body.contains("Pause after this wave"),
        "a developer gets no rollout button"
    );
    let (_, body) = get_page(&http, &server, &page, &operator).await;
    assert!(
        body.contains("Pause after this wave") && body.contains("Abort") && !body.contains(">Resume<"),
        "{body}"
    );

    let post = |path: String, cookie: String| {
        let http = http.clone();
        let (url, origin) = (server.url(&path), server.origin());
        async move {
            http.post(url)
                .header(reqwest::header::COOKIE, cookie)
                .header(ORIGIN, origin)
                .send()
                .await
                .unwrap()
        }
    };
    let r = post(format!("{page}/pause"), developer.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(format!("{page}/pause"), operator.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.engine.get_rollout(rollout.id).await.unwrap().state, "paused");
    let (_, body) = get_page(&http, &server, &page, &operator).await;
    assert!(
        body.contains(">Resume<") && !body.contains("Pause after this wave"),
        "{body}"
    );

    let r = post(format!("{page}/resume"), operator.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Aborting asks why first: a post without a reason aborts nothing and shows the step again.
    let r = post(format!("{page}/abort"), operator.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("say why"));
    assert_ne!(server.engine.get_rollout(rollout.id).await.unwrap().state, "aborted");
    let r = http
        .post(server.url(&format!("{page}/abort")))
        .header(reqwest::header::COOKIE, operator.clone())
        .header(ORIGIN, server.origin())
        .form(&[("reason", "wrong release")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.engine.get_rollout(rollout.id).await.unwrap().state, "aborted");
    let r = post(format!("{page}/resume"), operator.clone()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text().await.unwrap().contains("is aborted"),
        "a refused action says why, as a page"
    );
    let r = post(format!("{page}/explode"), operator.clone()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_blocked_rollout_offers_its_choices_and_goes_on_without_its_refused_markets() {
    use tandem_core::state::RolloutState;
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = &server.seeded;
    let operator = server.session_cookie(&s.token).await;
    let store = &server.engine.store_for_tests();
    let release = server.engine.list_releases(Some("shop")).await.unwrap()[0].clone();
    let plan = [tandem_core::rollout::PlannedWave {
        name: "pilot".into(),
        markets: vec!["fr".into(), "be".into()],
    }];
    // fr was refused by its config check; the rollout (not driven here) is blocked.
    let rollout = store.insert_rollout("shop", release.id, &plan, "ops").await.unwrap();
    let d = store
        .insert_deployment(tandem_store::NewDeployment {
            rollout_id: Some(rollout.id),
            service: "shop",
            market: "fr",
            release_id: release.id,
        })
        .await
        .unwrap();
    let refusal = "fr's config does not fit v1's schema: fr: needs `payment` (required by v1's schema)";
    store.mark_deployment_blocked(d.id, refusal).await.unwrap();
    for (from, to) in [
        (RolloutState::Pending, RolloutState::Running),
        (RolloutState::Running, RolloutState::Blocked),
    ] {
        store
            .set_rollout_state(rollout.id, &[from], to, "engine", Some(0))
            .await
            .unwrap();
    }
    let page = format!("/rollouts/{}", rollout.id);
    let (_, body) = get_page(&http, &server, &page, &operator).await;
    for shown in [
        "Resume (config fixed)",
        "Resume without the blocked markets",
        "data-state=\"blocked\"",
        "needs `payment`",
        "class=\"panel probe-settings\"",
        "every 100 ms, 2 s timeout, 2 s start period",
    ] {
        assert!(body.contains(shown), "{shown} is not on the page: {body}");
    }

    // From the API: a developer may not choose; resuming a rollout that is not blocked without
    // its blocked markets is refused; an operator goes on without fr.
    let api = |path: String, token: String| {
        let (http, url) = (http.clone(), server.url(&path));
        async move { http.post(url).bearer_auth(token).send().await.unwrap() }
    };
    let resume = format!("/api/v1/rollouts/{}/resume?skip-blocked=true", rollout.id);
    let r = api(resume.clone(), s.developer_token.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = api(format!("{resume}&later=1"), s.token.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an unknown parameter is refused");
    let r = api(resume.clone(), s.token.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["state"], "running");
    let r = api(resume, s.token.clone()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("only a blocked rollout"));
    let detail: serde_json::Value = http
        .get(server.url(&format!("/api/v1/rollouts/{}", rollout.id)))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fr = &detail["waves"][0]["markets"][0];
    assert_eq!(
        (fr["market"].as_str(), fr["state"].as_str()),
        (Some("fr"), Some("skipped")),
        "{detail}"
    );
    let skip = &detail["decisions"][0];
    assert_eq!(skip["kind"], "skip");
    assert_eq!(skip["market"], "fr");
    assert_eq!(skip["reason"], format!("blocked: {refusal}"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_rollout_page_shows_gate_figures_and_offers_approval_and_skips() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let operator = server.session_cookie(&server.seeded.token).await;
    let store = &server.engine.store_for_tests();
    let release = server.engine.list_releases(Some("shop")).await.unwrap()[0].clone();
    let plan = [
        tandem_core::rollout::PlannedWave {
            name: "pilot".into(),
            markets: vec!["fr".into()],
        },
        tandem_core::rollout::PlannedWave {
            name: "benelux".into(),
            markets: vec!["be".into(), "nl".into()],
        },
    ];
    let rollout = store.insert_rollout("shop", release.id, &plan, "ops").await.unwrap();
    let d = store
        .insert_deployment(tandem_store::NewDeployment {
            rollout_id: Some(rollout.id),
            service: "shop",
            market: "fr",
            release_id: release.id,
        })
        .await
        .unwrap();
    let gate = tandem_store::NewGateResult {
        gate: "metric:errors".into(),
        passed: true,
        value: Some(0.004),
        bound: Some(0.01),
        previous: None,
        reason: "error ratio 0.4% (2 of 500 requests) is within the bound 1.0%".into(),
    };
    store.insert_gate_result(d.id, &gate).await.unwrap();
    store
        .mark_deployment_live(d.id, "http://127.0.0.1:1", None)
        .await
        .unwrap();
    store
        .set_rollout_state(
            rollout.id,
            &[tandem_core::state::RolloutState::Pending],
            tandem_core::state::RolloutState::AwaitingApproval,
            "engine",
            Some(1),
        )
        .await
        .unwrap();
    let page = format!("/rollouts/{}", rollout.id);
    let (_, body) = get_page(&http, &server, &page, &operator).await;
    assert!(body.contains("Waiting for an approval ("), "{body}");
    assert!(body.contains("Approve the next wave"), "{body}");
    assert!(
        body.contains("data-gate=\"metric:errors\"") && body.contains("0.004") && body.contains("(2 of 500 requests)"),
        "the gate shows its figures and reason: {body}"
    );
    assert!(
        body.contains(&format!("href=\"/rollouts/{}/skip?market=nl\"", rollout.id)),
        "markets not yet deployed can be skipped: {body}"
    );

    let post_form = |path: String, form: &'static [(&'static str, &'static str)]| {
        let (http, url, cookie) = (http.clone(), server.url(&path), operator.clone());
        let origin = server.origin();
        async move {
            let r = http.post(url).header(COOKIE, cookie).header(ORIGIN, origin);
            r.form(form).send().await.unwrap()
        }
    };
    assert!(
        body.contains(&format!(r#"href="/rollouts/{}/approve?wave=benelux""#, rollout.id)),
        "the approve button names the wave the page shows: {body}"
    );
    let (_, step) = get_page(&http, &server, &format!("{page}/approve?wave=benelux"), &operator).await;
    assert!(
        step.contains(r#"<input type="hidden" name="wave" value="benelux">"#) && step.contains(r#"name="reason""#),
        "the confirm step asks why and keeps the wave: {step}"
    );
    let r = post_form(format!("{page}/skip"), &[("market", "nl"), ("reason", "nl is frozen")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A form naming another wave than the one waiting approves nothing.
    let r = post_form(
        format!("{page}/approve"),
        &[("wave", "pilot"), ("reason", "pilot is fine")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("waits for an approval of wave `benelux`, not of wave `pilot`")
    );
    assert_eq!(
        server.engine.get_rollout(rollout.id).await.unwrap().state,
        "awaiting-approval"
    );
    let viewer = server.session_cookie(&server.seeded.viewer_token).await;
    let r = http
        .post(server.url(&format!("{page}/approve")))
        .header(COOKIE, viewer)
        .header(ORIGIN, server.origin())
        .form(&[("wave", "benelux"), ("reason", "looks good")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a viewer never approves");
    let r = post_form(
        format!("{page}/approve"),
        &[("wave", "benelux"), ("reason", "pilot gates pass")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(server.engine.get_rollout(rollout.id).await.unwrap().state, "running");
    let (_, body) = get_page(&http, &server, &page, &operator).await;
    assert!(body.contains("olga") || body.contains(">approve<"), "{body}");
    assert!(body.contains("data-state=\"skipped\""), "nl shows as skipped: {body}");
    // An operator cannot override a freeze: that is an admin's call.
    let r = post_form(format!("{page}/override"), &[("reason", "please")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_config_page_shows_each_markets_values_by_layer_and_the_flags_in_force() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http();
    let cookie = server.session_cookie(&server.seeded.token).await;
    server
        .engine
        .apply_flags(
            "shop",
            "flags:\n  new-checkout:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    markets:\n      fr:\n        rollout: { on: 20, off: 80 }\n  old-banner:\n    type: string\n    variants: { a: \"A\" }\n    default: a\n    enabled: false\n",
            "ana",
            None,
        )
        .await
        .unwrap();
    let (status, body) = get_page(&http, &server, "/config", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("No config value yet"),
        "the seeded service sets no config: {body}"
    );
    assert!(
        body.contains("data-flag=\"new-checkout\"") && body.contains("80% off / 20% on"),
        "{body}"
    );
    assert!(body.contains("killed"), "a flag behind its kill switch says so: {body}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_flags_panel_shows_an_emergency_kill_as_unreviewed_until_the_other_side_reviews_it() {
    use tandem_core::role::Role;
    use tandem_engine::flag_emergencies::KillRequest;
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http();
    let cookie = server.session_cookie(&server.seeded.token).await;
    let flags = "flags:\n  new-checkout:\n    type: boolean\n    variants: { on: true, off: false }\n    default: off\n    kill-switch: true\n    markets:\n      fr:\n        variant: on\n";
    server.engine.apply_flags("shop", flags, "ana", None).await.unwrap();
    let kill = KillRequest {
        flag: "new-checkout",
        market: Some("fr"),
        reason: "payment errors in fr",
    };
    let row = server.engine.kill_flag(kill, "olga", Role::Operator).await.unwrap();
    let (status, body) = get_page(&http, &server, "/config", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("killed in fr"),
        "the flag says where it is killed: {body}"
    );
    let line = format!("data-emergency=\"{}\"", row.id);
    let at = body
        .find(&line)
        .unwrap_or_else(|| panic!("the emergency change is listed: {body}"));
    let emergency = &body[at..at + body[at..].find("</tr>").unwrap()];
    assert!(
        emergency.contains("payment errors in fr") && emergency.contains("olga") && emergency.contains("unreviewed"),
        "{emergency}"
    );
    server
        .engine
        .review_flag_kill(row.id, "dev", Role::Developer, true, Some("right call"))
        .await
        .unwrap();
    let (_, body) = get_page(&http, &server, "/config", &cookie).await;
    let at = body.find(&line).unwrap();
    let emergency = &body[at..at + body[at..].find("</tr>").unwrap()];
    assert!(
        emergency.contains("approved") && emergency.contains("dev") && !emergency.contains("unreviewed"),
        "{emergency}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_agents_page_lists_agents_for_viewers_and_lets_operators_drain_them() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = &server.seeded;
    let (operator, viewer) = (
        server.session_cookie(&s.token).await,
        server.session_cookie(&s.viewer_token).await,
    );
    let (agent, token) = server.engine.register_agent("build-eu-1", "ops").await.unwrap();
    assert!(token.starts_with("tagent_") && agent.mode == "active");

    let (status, body) = get_page(&http, &server, "/agents", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("build-eu-1") && body.contains("offline"), "{body}");
    assert!(!body.contains(">Drain<"), "a viewer gets no button");
    assert!(!body.contains(&token), "the page never shows a token");
    let (_, body) = get_page(&http, &server, "/agents", &operator).await;
    assert!(body.contains(">Drain<") && body.contains(">Pause<"), "{body}");

    let post = |path: &str, cookie: &str| {
        http.post(server.url(path))
            .header(COOKIE, cookie)
            .header(ORIGIN, server.origin())
            .send()
    };
    let r = post("/agents/build-eu-1/draining", &viewer).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post("/agents/build-eu-1/draining", &operator).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = get_page(&http, &server, "/agents", &operator).await;
    assert!(body.contains(">Resume<") && !body.contains(">Drain<"), "{body}");
    let r = post("/agents/build-eu-1/exploded", &operator).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "an unknown mode is refused, saying so"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_api_records_why_a_rollout_is_aborted_a_market_skipped_and_an_incident_resolved() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let s = &server.seeded;
    let http = tandem_testkit::http();
    let store = &server.engine.store_for_tests();
    let release = server.engine.list_releases(Some("shop")).await.unwrap()[0].clone();
    let plan = [tandem_core::rollout::PlannedWave {
        name: "pilot".into(),
        markets: vec!["fr".into()],
    }];
    // Pending: the engine does not run it here.
    let rollout = store.insert_rollout("shop", release.id, &plan, "ops").await.unwrap();
    let post = |path: String, body: serde_json::Value| {
        let http = http.clone();
        let (url, token) = (server.url(&path), s.token.clone());
        async move { http.post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let r = post(
        format!("/api/v1/rollouts/{}/skip/fr", rollout.id),
        serde_json::json!({ "reason": "fr's warehouse moves this week" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A reason is bounded, and a body that is not one is refused, naming what it should be.
    let r = post(
        format!("/api/v1/rollouts/{}/abort", rollout.id),
        serde_json::json!({ "reason": "x".repeat(1001) }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("more than 1000 characters"));
    let r = post(
        format!("/api/v1/rollouts/{}/abort", rollout.id),
        serde_json::json!({ "why": "typo" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("{ \\\"reason\\\": \\\"…\\\" }"));
    assert_ne!(server.engine.get_rollout(rollout.id).await.unwrap().state, "aborted");
    let r = post(
        format!("/api/v1/rollouts/{}/abort", rollout.id),
        serde_json::json!({ "reason": "wrong release" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let detail: serde_json::Value = http
        .get(server.url(&format!("/api/v1/rollouts/{}", rollout.id)))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["state"], "aborted", "{detail}");
    assert!(
        detail["reason"]
            .as_str()
            .is_some_and(|r| r.ends_with(": wrong release")),
        "{detail}"
    );
    let reasons: Vec<(String, String)> = detail["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("skip".into(), "fr's warehouse moves this week".into()))
            && reasons.contains(&("abort".into(), "wrong release".into())),
        "{reasons:?}"
    );

    // An incident resolved through the API says what fixed it, on its page.
    let incident = store
        .insert_incident("shop", "fr", None, "checkout down")
        .await
        .unwrap();
    let r = post(
        format!("/api/v1/incidents/{}/resolve", incident.id),
        serde_json::json!({ "reason": "rolled back to v1" }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let operator = server.session_cookie(&s.token).await;
    let (_, body) = get_page(&http, &server, &format!("/incidents/{}", incident.id), &operator).await;
    assert!(body.contains("rolled back to v1"), "{body}");
    server.stop().await.unwrap();
}

/// A form post that does not read (a field twice, or not a form at all) is refused on a page
/// that says what is wrong and leads back, with the page's frame and the signed-in user, and
/// opens nothing.
#[tokio::test]
async fn a_form_that_does_not_read_is_refused_on_a_page_not_in_json() {
    let server = TestServer::start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the server: {e:#}"));
    let http = tandem_testkit::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let operator = server.session_cookie(&server.seeded.token).await;
    let before = server.engine.list_incidents_page(None, 100).await.unwrap().len();
    let send = |content_type: &'static str, body: &'static str| {
        let http = http.clone();
        let (url, origin, cookie) = (server.url("/incidents/new"), server.origin(), operator.clone());
        async move {
            http.post(url)
                .header(COOKIE, cookie)
                .header(ORIGIN, origin)
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for (content_type, body, says) in [
        (
            "application/x-www-form-urlencoded",
            "service=shop&market=fr&title=a&title=b",
            "duplicate field `title`",
        ),
        ("text/plain", "service=shop", "application/x-www-form-urlencoded"),
    ] {
        let r = send(content_type, body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(
            r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
            "a browser gets a page"
        );
        let page = r.text().await.unwrap();
        assert!(page.contains(says), "the page says what is wrong ({says}): {page}");
        assert!(!page.contains("\"error\""), "no JSON for a browser: {page}");
        assert!(
            page.contains("Sign out"),
            "the page keeps its frame and the user: {page}"
        );
    }
    assert_eq!(
        server.engine.list_incidents_page(None, 100).await.unwrap().len(),
        before,
        "nothing was opened"
    );
    server.stop().await.unwrap();
}
