//! The page shell (header, navigation, live refresh) and the small pieces every page uses:
//! state badges, relative times, durations, sizes.

use super::ASSET_VERSION;
use crate::auth::Caller;
use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};
use tandem_store::now_ms;

/// How often (seconds) a page with work in flight fetches itself again.
pub const LIVE_REFRESH: u32 = 2;
/// How often (seconds) the overview refreshes when nothing is in flight: health can still change.
pub const IDLE_REFRESH: u32 = 10;

/// The sections of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Runs,
    Releases,
    Rollouts,
    Markets,
    Ideas,
    Flow,
    Config,
    Flags,
    Changes,
    Dora,
    Incidents,
    Agents,
    Audit,
    Tokens,
    None,
}

/// What the shell needs to know about a page.
pub struct Page<'a> {
    pub title: &'a str,
    pub nav: Nav,
    pub caller: Option<&'a Caller>,
    /// Seconds between live refreshes, if the page shows work in flight.
    pub refresh: Option<u32>,
}

pub fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Tandem" }
            link rel="icon" type="image/svg+xml" href={ "/assets/favicon.svg?v=" (*ASSET_VERSION) };
            link rel="stylesheet" href={ "/assets/tandem.css?v=" (*ASSET_VERSION) };
            script src={ "/assets/live.js?v=" (*ASSET_VERSION) } defer {}
            @if let Some(secs) = refresh {
                noscript { meta http-equiv="refresh" content=(secs); }
            }
        }
    }
}

/// A whole page for a signed-in user (error pages too, which may not know who it is): header
/// with navigation and sign-out, then `body` in `<main>`.
pub fn page(p: Page<'_>, body: Markup) -> Markup {
    let link = |nav: Nav, href: &str, label: &str| {
        html! { a href=(href) aria-current=[(p.nav == nav).then_some("page")] { (label) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(p.title, p.refresh))
            body {
                a.skip href="#content" { "Skip to content" }
                header.top {
                    a.brand href="/" { span.logo { "◆" } "Tandem" }
                    // Under 720 px the menu folds behind this toggle: a checkbox, so no script.
                    input.menu-toggle #menu-toggle type="checkbox";
                    label.menu-button for="menu-toggle" { "☰ Menu" }
                    div.menu {
                    nav {
                        (link(Nav::Overview, "/", "Overview"))
                        (link(Nav::Runs, "/runs", "Runs"))
                        (link(Nav::Releases, "/releases", "Releases"))
                        (link(Nav::Rollouts, "/rollouts", "Rollouts"))
                        (link(Nav::Markets, "/markets", "Markets"))
                        (link(Nav::Ideas, "/ideas", "Ideas"))
                        (link(Nav::Flow, "/flow", "Flow"))
                        (link(Nav::Config, "/config", "Config"))
                        (link(Nav::Flags, "/flags", "Flags"))
                        (link(Nav::Changes, "/changes", "Changes"))
                        (link(Nav::Dora, "/delivery", "Delivery"))
                        (link(Nav::Incidents, "/incidents", "Incidents"))
                        (link(Nav::Agents, "/agents", "Agents"))
                        @if p.caller.is_some_and(|c| c.role.allows(tandem_core::role::Role::Admin)) {
                            (link(Nav::Audit, "/audit", "Audit"))
                        }
                        @if p.caller.is_some_and(|c| c.role == tandem_core::role::Role::Admin) {
                            (link(Nav::Tokens, "/admin/tokens", "Tokens"))
                        }
                    }
                    span.who title="signed in as" {
                        @if let Some(c) = p.caller { (c.name) " · " (c.role) }
                    }
                    form.signout method="post" action="/logout" {
                        button type="submit" { "Sign out" }
                    }
                    }
                }
                main #content tabindex="-1" data-refresh=[p.refresh] { (body) }
            }
        }
    }
}

/// A page saying why the one asked for cannot be shown.
pub fn error_page(status: StatusCode, heading: &str, message: &str) -> Markup {
    error_page_for(None, status, heading, message)
}

/// [`error_page`] for a signed-in `caller`: the header keeps who they are and their menu.
pub fn error_page_for(caller: Option<&Caller>, status: StatusCode, heading: &str, message: &str) -> Markup {
    let title = format!("{} {heading}", status.as_u16());
    page(
        Page {
            title: &title,
            nav: Nav::None,
            caller,
            refresh: None,
        },
        html! {
            section.panel.error-page {
                p.code { (status.as_u16()) }
                h1 { (heading) }
                p { (capitalize(message)) }
                p { a href="/" { "← Back to the overview" } }
            }
        },
    )
}

/// `text` with a capital first letter.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Which colour a state gets: ok (green), busy (amber), bad (red) or idle (grey).
pub fn tone(state: &str) -> &'static str {
    match state {
        "live" | "success" | "succeeded" | "up" | "done" | "resolved" | "active" => "ok",
        "deploying" | "running" | "in development" | "launching" | "draining" | "blocked" => "busy",
        "failed" | "down" | "halted" | "interrupted" | "open" | "offline" => "bad",
        _ => "idle",
    }
}

/// A state as a coloured badge.
pub fn badge(state: &str) -> Markup {
    html! { span class={ "badge " (tone(state)) } { (state) } }
}

/// "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago".
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - then_ms) / 1000;
    match secs {
        s if s < 5 => "just now".to_string(),
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// A Unix-ms time as "UTC" wall-clock text, for tooltips.
pub fn utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A relative time with the exact time on hover.
pub fn when(ms: Option<i64>) -> Markup {
    match ms {
        Some(ms) => html! { time datetime=(utc(ms)) title=(utc(ms)) { (ago(ms, now_ms())) } },
        None => html! { span.muted { "—" } },
    }
}

/// "850 ms", "12 s", "3 min 4 s", "2 h 5 min".
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    match ms {
        ms if ms < 1000 => format!("{} ms", ms.max(0)),
        _ if s < 60 => format!("{s} s"),
        _ if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// How long something took, or has been running.
pub fn elapsed(started: Option<i64>, finished: Option<i64>) -> Markup {
    match (started, finished) {
        (Some(s), Some(f)) => html! { (duration(f - s)) },
        (Some(s), None) => html! { span.busy-text { (duration(now_ms() - s)) "…" } },
        _ => html! { span.muted { "—" } },
    }
}

/// "12.3 KiB".
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// "1 market", "3 markets".
pub fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("{n} {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A note shown when a list is empty.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

/// A separator between items of a meta line.
pub fn dot() -> Markup {
    html! { span.dot { "·" } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(ago(now, now), "just now");
        assert_eq!(
            ago(now + 3000, now),
            "just now",
            "a clock a bit ahead is not the future"
        );
        assert_eq!(ago(now - 42_000, now), "42 s ago");
        assert_eq!(ago(now - 3 * 60_000 - 59_000, now), "3 min ago");
        assert_eq!(ago(now - 5 * 3_600_000, now), "5 h ago");
        assert_eq!(ago(now - 49 * 3_600_000, now), "2 d ago");
    }

    #[test]
    fn durations_and_sizes_are_short() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_400), "12 s");
        assert_eq!(duration(184_000), "3 min 4 s");
        assert_eq!(duration(7_500_000), "2 h 5 min");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(12_595), "12.3 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(count(1, "market"), "1 market");
        assert_eq!(count(0, "market"), "0 markets");
    }

    #[test]
    fn states_get_their_colour() {
        assert_eq!(tone("live"), "ok");
        assert_eq!(tone("deploying"), "busy");
        assert_eq!(tone("failed"), "bad");
        assert_eq!(tone("superseded"), "idle");
        assert_eq!(tone("waiting"), "idle");
        assert_eq!(
            badge("failed").into_string(),
            r#"<span class="badge bad">failed</span>"#
        );
    }

    #[test]
    fn error_messages_start_with_a_capital() {
        assert_eq!(capitalize("run 4 not found"), "Run 4 not found");
        assert_eq!(capitalize(""), "");
    }

    /// The stylesheet's custom properties that are colours (`--name: #rrggbb;`), by name.
    fn css_colours(css: &str) -> std::collections::HashMap<String, (u8, u8, u8)> {
        let root = css
            .split(":root {")
            .nth(1)
            .and_then(|r| r.split('}').next())
            .unwrap_or("");
        root.split(';')
            .filter_map(|decl| {
                let (name, value) = decl.trim().split_once(':')?;
                let hex = value.trim().strip_prefix('#').filter(|h| h.len() == 6)?;
                let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
                Some((
                    name.trim().trim_start_matches("--").to_string(),
                    (byte(0)?, byte(2)?, byte(4)?),
                ))
            })
            .collect()
    }

    /// WCAG 2's contrast ratio of two colours, from 1 (the same) to 21 (black on white).
    fn contrast((r1, g1, b1): (u8, u8, u8), (r2, g2, b2): (u8, u8, u8)) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance = |r, g, b| 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        let (a, b) = (luminance(r1, g1, b1), luminance(r2, g2, b2));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    #[test]
    fn every_text_colour_reads_at_4_5_to_1_on_its_backgrounds() {
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 0.01);
        let colours = css_colours(super::super::CSS);
        // (text, background) as the stylesheet pairs them: body text, secondary grey and
        // links on the page, its panels and its cells, each state's colour on its badge and on white,
        // the header's text on its dark band.
        let pairs = [
            ("text", "bg"),
            ("text", "panel"),
            ("muted", "panel"),
            ("muted", "bg"),
            ("muted", "idle-bg"),
            // Gate figures and cell details, on a market's coloured cell.
            ("muted", "ok-bg"),
            ("muted", "busy-bg"),
            ("muted", "bad-bg"),
            ("link", "panel"),
            ("link", "bg"),
            ("ok", "ok-bg"),
            ("ok", "panel"),
            ("busy", "busy-bg"),
            ("busy", "panel"),
            ("bad", "bad-bg"),
            ("bad", "panel"),
            ("idle", "idle-bg"),
            ("head-text", "head"),
            ("nav-text", "head"),
            ("who", "head"),
        ];
        let mut low = Vec::new();
        for (fg, bg) in pairs {
            let (Some(f), Some(b)) = (colours.get(fg), colours.get(bg)) else {
                panic!("the stylesheet has no --{fg} or --{bg}: {colours:?}");
            };
            let ratio = contrast(*f, *b);
            if ratio < 4.5 {
                low.push(format!("--{fg} on --{bg}: {ratio:.2}"));
            }
        }
        assert!(low.is_empty(), "text below 4.5:1: {low:?}");
    }

    #[test]
    fn times_show_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    }
}
