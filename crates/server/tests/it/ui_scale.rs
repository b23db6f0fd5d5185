//! The pages at many markets: the overview sums a big wave up instead of a tile per market, and
//! the markets page comes a page at a time, searchable and filtered, worst first on demand.

use crate::common;

use common::RoleServer;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use tandem_core::role::Role;
use tandem_server::ServerSettings;

/// `n` markets with two-letter ids (`aa`, `ab`, …): a pilot of one, the rest in one wave.
fn platform(n: usize) -> String {
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
    yml.push_str("services:\n  - { name: shop, repo: /srv/git/shop }\n");
    yml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_markets_are_summed_up_on_the_overview_and_paged_on_the_markets_page() {
    let server = RoleServer::start(&platform(130), ServerSettings::default()).await;
    let cookie = common::sign_in(
        &format!("{}/login", server.base),
        &server.base,
        server.token(Role::Viewer),
    )
    .await;
    let http = tandem_testkit::http();
    let page = async |path: &str| {
        let r = http
            .get(format!("{}{path}", server.base))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
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
