//! The web UI: server-rendered pages (maud), one file per page family, with the stylesheet and
//! the small live-refresh script embedded in the binary. Every page but sign-in needs a viewer.

mod agents;
pub(crate) mod ansi;
mod audit;
mod change_new;
mod changes;
mod charts;
mod configure;
mod dora;
mod error_caller;
mod flags;
mod flow;
mod forms;
mod graph;
mod ideas;
mod incident_actions;
mod incidents;
mod layout;
mod links;
mod login;
mod markets;
mod overview;
mod releases;
mod rollout_actions;
mod rollout_waves;
mod rollouts;
mod run_actions;
mod runs;
pub mod sso;
mod tokens;
mod units;

pub(crate) use forms::forbidden_page;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::LazyLock;

const CSS: &str = include_str!("../../assets/tandem.css");
const JS: &str = include_str!("../../assets/live.js");
const FAVICON: &str = include_str!("../../assets/favicon.svg");

pub use error_caller::keep_caller;

/// Assets never change for one build, and their URLs carry a hash of their content: browsers
/// may keep them for a year.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// A short hash of the embedded assets, appended to their URLs so a new build busts caches.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(CSS)
        .chain_update(JS)
        .chain_update(FAVICON)
        .finalize();
    hex::encode(&digest[..6])
});

/// The web UI's routes: the pages (each takes a signed-in session of the role it needs and sends
/// a browser without one to `/login`), their form posts, sign-in and sign-out, single sign-on
/// and the embedded assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::show))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::detail))
        .route(
            "/runs/{id}/cancel",
            get(run_actions::back_to_run).post(run_actions::cancel),
        )
        .route(
            "/runs/{id}/rerun",
            get(run_actions::back_to_run).post(run_actions::rerun),
        )
        .route("/markets", get(markets::list))
        .route("/markets/{id}", get(markets::detail))
        .route(
            "/markets/{id}/launch",
            get(markets::back_to_market).post(markets::launch),
        )
        .route("/rollouts", get(rollouts::list))
        .route("/rollouts/{id}", get(rollouts::detail))
        .route(
            "/rollouts/{id}/{action}",
            get(rollout_actions::back_to_rollout).post(rollout_actions::steer),
        )
        .route("/ideas", get(ideas::list))
        .route("/ideas/{key}", get(ideas::detail))
        .route("/releases", get(releases::list))
        .route("/releases/{id}", get(releases::detail))
        .route("/releases/{service}/{version}", get(releases::by_version))
        .route("/commits/{service}/{sha}", get(releases::commit))
        .route("/flags", get(flags::list))
        .route("/flags/{key}", get(flags::detail))
        .route("/flags/{key}/kill", get(flags::back_to_flag).post(flags::kill))
        .route("/flow", get(flow::show))
        .route("/config", get(configure::show))
        .route("/changes", get(changes::list))
        .route("/delivery", get(dora::show))
        .route("/incidents", get(incidents::list))
        .route(
            "/incidents/new",
            get(incident_actions::show).post(incident_actions::submit),
        )
        .route("/incidents/{id}", get(incidents::detail))
        .route(
            "/incidents/{id}/{action}",
            get(incident_actions::back_to_incident).post(incident_actions::act),
        )
        .route("/changes/new", get(change_new::show).post(change_new::submit))
        .route("/changes/{id}", get(changes::detail))
        .route(
            "/changes/{id}/{action}",
            get(changes::back_to_change).post(changes::act),
        )
        .route("/agents", get(agents::list))
        .route(
            "/agents/{name}/{mode}",
            get(agents::back_to_agents).post(agents::set_mode),
        )
        .route("/audit", get(audit::show))
        .route("/admin/tokens", get(tokens::list))
        .route(
            "/admin/tokens/{id}/revoke",
            get(tokens::back_to_tokens).post(tokens::revoke),
        )
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", get(login::logout).post(login::logout))
        .route("/login/sso", get(sso::start))
        .route(tandem_core::sso::CALLBACK_PATH, get(sso::callback))
        .route(
            "/assets/tandem.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/assets/live.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route("/assets/favicon.svg", get(|| async { asset(FAVICON, "image/svg+xml") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(ASSET_CACHE)),
        ],
        body,
    )
        .into_response()
}

/// A page that could not be shown: rendered as an HTML page with the error's status.
#[derive(Debug)]
pub struct PageError(ApiError);

impl PageError {
    /// A 404 page saying what was not found.
    pub fn not_found(what: impl Into<String>) -> Self {
        PageError(ApiError::not_found(what))
    }
}

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let heading = match e.status {
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_server_error() => "Something went wrong on our side",
            _ => "This page cannot be shown",
        };
        let mut response = (e.status, layout::error_page(e.status, heading, &e.message)).into_response();
        // So that `keep_caller` can render it again for a signed-in user.
        response.extensions_mut().insert(error_caller::ErrorShown {
            heading,
            message: e.message,
        });
        response
    }
}

/// What a page handler returns: its markup, or the error page shown instead.
pub type PageResult<T = maud::Markup> = Result<T, PageError>;

/// Parses a numeric id from a page path: anything else is a page that does not exist.
fn parse_id(kind: &str, raw: &str) -> Result<i64, PageError> {
    raw.parse()
        .map_err(|_| PageError::not_found(format!("there is no {kind} `{raw}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_are_not_numbers_are_not_found() {
        assert_eq!(parse_id("run", "12").unwrap(), 12);
        let e = parse_id("run", "abc").unwrap_err();
        assert_eq!(e.0.status, StatusCode::NOT_FOUND);
        assert!(e.0.message.contains("no run `abc`"), "{}", e.0.message);
    }

    #[test]
    fn asset_version_is_short_hex() {
        assert_eq!(ASSET_VERSION.len(), 12);
        assert!(ASSET_VERSION.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
