//! Links to the page of every object the UI shows: one place that knows each page's address, so
//! a version, commit, idea key, market code, change, incident, run, rollout or flag reads as a
//! link wherever it appears. Each `*_href` gives the address; the function of the plain name
//! gives the link with its usual label. Path segments are percent-encoded.

use crate::auth::url_encode;
use maud::{Markup, html};

pub fn market_href(id: &str) -> String {
    format!("/markets/{}", url_encode(id))
}

/// A market's code, as a link to its page.
pub fn market(id: &str) -> Markup {
    html! { a.market-id href=(market_href(id)) { (id) } }
}

pub fn release_href(id: i64) -> String {
    format!("/releases/{id}")
}

/// A release's version, as a link to its page.
pub fn release(id: i64, version: &str) -> Markup {
    html! { a.version href=(release_href(id)) { (version) } }
}

/// Where a release known by its service and version is: the page finds it by version.
pub fn version_href(service: &str, version: &str) -> String {
    format!("/releases/{}/{}", url_encode(service), url_encode(version))
}

/// A release known by its service and version, as a link to its page.
pub fn version(service: &str, version: &str) -> Markup {
    html! { a.version href=(version_href(service, version)) { (version) } }
}

pub fn commit_href(service: &str, sha: &str) -> String {
    format!("/commits/{}/{}", url_encode(service), url_encode(sha))
}

/// The first 8 characters of a commit id (whole id on hover), as a link to its page.
pub fn commit(service: &str, sha: &str) -> Markup {
    let short: String = sha.chars().take(8).collect();
    html! { a href=(commit_href(service, sha)) { code.sha title=(sha) { (short) } } }
}

pub fn idea_href(key: &str) -> String {
    format!("/ideas/{}", url_encode(key))
}

/// An idea's key, as a link to its page.
pub fn idea(key: &str) -> Markup {
    html! { a href=(idea_href(key)) { code { (key) } } }
}

pub fn flag_href(key: &str) -> String {
    format!("/flags/{}", url_encode(key))
}

/// A flag's key, as a link to its page.
pub fn flag(key: &str) -> Markup {
    html! { a href=(flag_href(key)) { code { (key) } } }
}

pub fn change_href(id: i64) -> String {
    format!("/changes/{id}")
}

/// "change #4", as a link to the change request.
pub fn change(id: i64) -> Markup {
    html! { a href=(change_href(id)) { "change #" (id) } }
}

pub fn incident_href(id: i64) -> String {
    format!("/incidents/{id}")
}

/// "incident #4", as a link to the incident.
pub fn incident(id: i64) -> Markup {
    html! { a href=(incident_href(id)) { "incident #" (id) } }
}

pub fn run_href(id: i64) -> String {
    format!("/runs/{id}")
}

/// "run #4", as a link to the run.
pub fn run(id: i64) -> Markup {
    html! { a href=(run_href(id)) { "run #" (id) } }
}

pub fn rollout_href(id: i64) -> String {
    format!("/rollouts/{id}")
}

/// "rollout #4", as a link to the rollout.
pub fn rollout(id: i64) -> Markup {
    html! { a href=(rollout_href(id)) { "rollout #" (id) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_has_its_address() {
        assert_eq!(
            market("fr").into_string(),
            r#"<a class="market-id" href="/markets/fr">fr</a>"#
        );
        assert_eq!(version_href("shop", "v3"), "/releases/shop/v3");
        assert_eq!(release_href(7), "/releases/7");
        assert_eq!(idea_href("SHOP-431"), "/ideas/SHOP-431");
        assert_eq!(flag_href("new checkout"), "/flags/new%20checkout");
        assert_eq!(
            commit("shop", "0123456789abcdef").into_string(),
            r#"<a href="/commits/shop/0123456789abcdef"><code class="sha" title="0123456789abcdef">01234567</code></a>"#
        );
        assert_eq!(change(2).into_string(), r#"<a href="/changes/2">change #2</a>"#);
        assert_eq!(incident_href(3), "/incidents/3");
        assert_eq!(run_href(4), "/runs/4");
        assert_eq!(rollout_href(5), "/rollouts/5");
    }
}
