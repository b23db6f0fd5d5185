//! Application state and request routing.

use crate::config::Config;
use crate::http::Response;
use crate::metrics::{self, Metrics};
use crate::page;

#[derive(Debug)]
pub struct State {
    pub config: Config,
    /// The release version (`TANDEM_RELEASE`, or `dev`).
    pub release: String,
    pub metrics: Metrics,
}

impl State {
    pub fn new(config: Config, release: &str) -> State {
        State {
            config,
            release: release.to_string(),
            metrics: Metrics::default(),
        }
    }
}

/// The path of a request target, without its query string or fragment.
pub fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

/// Maps a request to its response. Pure apart from reading `state`; the
/// caller records the request in the metrics.
pub fn route(method: &str, target: &str, state: &State) -> Response {
    let path = path_of(target);
    if !matches!(path, "/" | "/healthz" | "/metrics") {
        return Response::text(404, "not found\n");
    }
    if method != "GET" && method != "HEAD" {
        return Response::text(405, "method not allowed\n").with_header("Allow", "GET, HEAD");
    }
    match path {
        "/" => Response::html(200, page::render(&state.config, &state.release)),
        "/healthz" => Response::text(200, "ok"),
        _ => Response::new(
            200,
            metrics::CONTENT_TYPE,
            state.metrics.render(&state.config.market, &state.release),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let config = Config::from_json(
            r#"{"market":"fr","name":"France","currency":"EUR","locale":"fr-FR","vat_rate":0.2,
                "payment_methods":["card","paypal"],"free_shipping_threshold":50}"#,
        )
        .unwrap();
        State::new(config, "1.4.0")
    }

    fn body(r: &Response) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }

    #[test]
    fn healthz() {
        let r = route("GET", "/healthz", &state());
        assert_eq!(
            (r.status, r.content_type, body(&r).as_str()),
            (200, "text/plain; charset=utf-8", "ok")
        );
    }

    #[test]
    fn index_is_localized() {
        let r = route("GET", "/?utm=x", &state());
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, "text/html; charset=utf-8");
        let html = body(&r);
        assert!(html.contains("<html lang=\"fr\">"), "{html}");
        assert!(html.contains("Bienvenue dans la boutique Tandem"));
        assert!(html.contains("France"));
        assert!(html.contains("1.4.0"));
        assert!(html.contains("PayPal"));
        // 12.50 net + 20 % VAT, French formatting.
        assert!(html.contains("15,00\u{a0}€"), "{html}");
        assert!(html.contains("Livraison gratuite dès 50,00\u{a0}€"));
    }

    #[test]
    fn metrics_reports_counters_and_info() {
        let s = state();
        s.metrics.record("/", 200);
        let r = route("GET", "/metrics", &s);
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, metrics::CONTENT_TYPE);
        let text = body(&r);
        assert!(
            text.contains("shop_http_requests_total{path=\"/\",code=\"200\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("shop_info{market=\"fr\",release=\"1.4.0\"} 1\n"));
    }

    #[test]
    fn head_is_allowed_and_other_methods_are_not() {
        assert_eq!(route("HEAD", "/healthz", &state()).status, 200);
        let r = route("POST", "/", &state());
        assert_eq!(r.status, 405);
        assert!(r.headers.contains(&("Allow", "GET, HEAD".to_string())));
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in ["/nope", "/healthz/", "/index.html", "//", "/metrics/x"] {
            assert_eq!(route("GET", path, &state()).status, 404, "{path}");
        }
        assert_eq!(route("DELETE", "/nope", &state()).status, 404);
    }

    #[test]
    fn path_of_strips_query_and_fragment() {
        assert_eq!(path_of("/healthz?x=1"), "/healthz");
        assert_eq!(path_of("/#top"), "/");
        assert_eq!(path_of("/metrics"), "/metrics");
    }
}
