//! Delivery: the four DORA keys with their levels over the last days, their trends week by
//! week, and what happened in each market, as SVG charts drawn on the server.
//!
//! One request reads the whole deployment history once (`Store::dora_history`), indexes it once
//! (`dora::History`) and answers every chart from that index: the totals and the groups by
//! market in one pass, the weekly series in another, the timeline in a third. Nothing is read
//! per market or per week, so a year of history answers as fast as a week.

mod live;

use super::charts::{self, Event, Group, KeyCard, Mark, Period, Series};
use super::layout::{Nav, Page, count, page};
use super::{PageError, PageResult};
use crate::AppState;
use crate::auth::{PageAuth, Viewer};
use crate::error::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use tandem_core::dora::{
    BucketKeys, ChangeKind, DAY_MS, Deployment, Filter, HOUR_MS, Keys, Outcome, RESTORE_DEFINITION, WEEK_MS, Window,
    show_duration,
};
use tandem_engine::views::delivery::DeliveryQuery;
use tandem_store::now_ms;

/// The window when the query names none, in days (as `tandem metrics` and the API).
const DEFAULT_DAYS: u32 = 30;
/// The longest window the page draws, in days: ten years of weeks is 522 points.
const MAX_DAYS: u32 = 3650;
/// The windows the form offers, in days.
const DAY_CHOICES: [u32; 5] = [1, 7, 30, 90, 365];
/// How many columns of marks a timeline row has at most: marks of one kind closer than
/// 1/`TIMELINE_COLUMNS` of the span are drawn once, which bounds the SVG for any history.
const TIMELINE_COLUMNS: i64 = 400;

/// The page's filters, as they come in the query string (`?days=30&service=shop&kind=code`).
#[derive(Debug, Default, Deserialize)]
pub struct DoraQuery {
    days: Option<u32>,
    service: Option<String>,
    /// `code`, `config`, or `all` (the default).
    kind: Option<String>,
}

impl DoraQuery {
    fn days(&self) -> u32 {
        self.days.unwrap_or(DEFAULT_DAYS).clamp(1, MAX_DAYS)
    }

    fn service(&self) -> Option<&str> {
        self.service.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    fn kind(&self) -> Result<Option<ChangeKind>, PageError> {
        match self.kind.as_deref().map(str::trim) {
            None | Some("") | Some("all") => Ok(None),
            Some("code") => Ok(Some(ChangeKind::Code)),
            Some("config") => Ok(Some(ChangeKind::Config)),
            Some(other) => {
                Err(ApiError::bad_request(format!("`kind` is `{other}`: expected `code`, `config` or `all`")).into())
            }
        }
    }
}

pub async fn show(
    auth: PageAuth<Viewer>,
    State(state): State<AppState>,
    query: Result<Query<DoraQuery>, QueryRejection>,
) -> PageResult {
    let Query(q) = query?;
    let (days, kind) = (q.days(), q.kind()?);
    let to = now_ms() + 1;
    let window = Window::new(to - i64::from(days) * DAY_MS, to).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut filter = Filter::new(window);
    filter.service = q.service().map(str::to_string);
    filter.kind = kind;
    // Whole weeks ending now, so every bar of the trend is a full week.
    let weeks = (i64::from(days) + 6) / 7;
    let weekly = Window::new(to - weeks * WEEK_MS, to).map_err(|e| ApiError::bad_request(e.to_string()))?;

    let delivery = state
        .engine
        .delivery(&DeliveryQuery {
            filter: filter.clone(),
            weekly,
            live_until: to,
        })
        .await?;
    let (deployments, incidents) = &*delivery.history;
    let (grouped, series) = (&delivery.keys, &delivery.weeks);
    let (services, market_rank) = (&delivery.services, &delivery.market_rank);
    let by_market: Vec<(&String, &Keys)> = {
        let mut rows: Vec<_> = grouped.by_market.iter().collect();
        rows.sort_by_key(|(m, _)| rank(market_rank, m));
        rows
    };
    let groups: Vec<Group> = by_market
        .iter()
        .map(|(m, k)| Group {
            name: m.to_string(),
            deployments: k.change_failure_rate.deployments,
            failed: k.change_failure_rate.failed,
        })
        .collect();
    let (rows, events) = timeline(deployments, incidents, &filter, market_rank);
    let live_charts = live::live_charts(&delivery.live);

    let total = &grouped.total;
    let body = html! {
        div.page-head {
            h1 { "Delivery" }
            span.muted {
                "The four DORA keys over the last " (count(days as usize, "day"))
                @if let Some(s) = q.service() { ", service " b { (s) } }
                @match kind { Some(ChangeKind::Code) => { ", code only" } Some(ChangeKind::Config) => { ", config only" } None => {} }
                ". How each is computed: docs/metrics.md."
            }
        }
        (filter_form(&q, days, services))
        section.panel {
            h2 { "The four keys" }
            div.dora-keys { @for card in key_cards(total, series, days) { (card) } }
            p.muted.small {
                "Levels from the Accelerate State of DevOps 2021 report. Each market a release reaches is one deployment: "
                "read the frequency per market below as much as this total."
            }
            p.muted.small.restore-definition { (RESTORE_DEFINITION) " The time shown is the median over the failed deployments whose market was restored; an incident's page shows its deployment's own." }
        }
        section.panel {
            h2 { "Week by week" }
            div.dora-charts {
                (figure(&charts::deployments_chart("Deployments per week", &periods(series))))
                (figure(&duration_chart(series)))
                (figure(&charts::percent_chart(
                    "Change failure rate per week",
                    &[Series { name: "failed deployments".into(), points: trend(series, cfr_percent) }],
                    "% of deployments",
                )))
            }
        }
        section.panel {
            h2 { "By market" }
            div.dora-charts.by-market {
                (figure(&charts::groups_chart("Deployments by market", &groups)))
                (figure(&charts::timeline_chart("What happened in each market", &rows, &events)))
            }
            @if !by_market.is_empty() { (market_table(&by_market)) }
        }
        section.panel #live-markets {
            h2 { "Live markets" }
            @if live_charts.is_empty() {
                p.muted { "The monitor has probed no live market in the last 6 hours." }
            } @else {
                div.dora-charts { @for svg in &live_charts { (figure(svg)) } }
                p.muted.small {
                    "What the monitor measured in each live market, minute by minute (means): probe latency, "
                    "availability (share of probes that passed) and each metric gate check of the service. "
                    "With more than six markets, the (at most) five furthest from the others are in colour, the rest in grey; "
                    "with more than fifty, the rest as one grey band (their range) around their median. "
                    "Hourly series for a year: GET /api/v1/services/{service}/series/{name}."
                }
            }
        }
    };
    Ok(page(
        Page {
            title: "Delivery",
            nav: Nav::Dora,
            caller: Some(&auth.0),
            refresh: None,
        },
        body,
    ))
}

fn figure(svg: &str) -> Markup {
    html! { figure.chart { (PreEscaped(svg)) } }
}

fn filter_form(q: &DoraQuery, days: u32, services: &[String]) -> Markup {
    let service = q.service();
    let kind = q.kind.as_deref().unwrap_or("all");
    let mut choices: Vec<u32> = DAY_CHOICES.to_vec();
    if !choices.contains(&days) {
        choices.push(days);
        choices.sort_unstable();
    }
    let unknown = service.filter(|s| !services.iter().any(|known| known == s));
    html! {
        form.filters method="get" action="/delivery" data-autosubmit {
            label { span { "Window" }
                select name="days" {
                    @for d in &choices {
                        option value=(d) selected[*d == days] { "last " (count(*d as usize, "day")) }
                    }
                }
            }
            label { span { "Service" }
                select name="service" {
                    option value="" { "all services" }
                    @for s in services.iter().map(String::as_str).chain(unknown) {
                        option value=(s) selected[service == Some(s)] { (s) }
                    }
                }
            }
            label { span { "Changes" }
                select name="kind" {
                    @for (value, label) in [("all", "code and config"), ("code", "code (releases)"), ("config", "config changes")] {
                        option value=(value) selected[kind == value] { (label) }
                    }
                }
            }
            noscript { button.btn type="submit" { "Show" } }
        }
    }
}

/// The four keys as small charts: value, level, and weekly trend.
fn key_cards(k: &Keys, series: &[BucketKeys], days: u32) -> Vec<Markup> {
    let f = &k.deployment_frequency;
    let frequency = if f.deployments == 0 {
        "none".to_string()
    } else if f.per_day >= 1.0 {
        format!("{} a day", one_decimal(f.per_day))
    } else {
        format!("{} a week", one_decimal(f.per_week))
    };
    let frequency_detail = format!(
        "{} in {}",
        count(f.deployments as usize, "deployment"),
        count(days as usize, "day")
    );
    let l = &k.lead_time;
    let lead = l.median_ms.map_or("—".to_string(), short_duration);
    let lead_detail = match l.p90_ms {
        Some(p90) => format!(
            "median of {}; p90 {}",
            count(l.commits as usize, "commit"),
            short_duration(p90)
        ),
        None => "no commit delivered".to_string(),
    };
    let c = &k.change_failure_rate;
    let rate = c.rate.map_or("—".to_string(), |r| format!("{} %", (r * 100.0).round()));
    let rate_detail = format!("{} of {} failed", c.failed, count(c.deployments as usize, "deployment"));
    let r = &k.recovery_time;
    let recovery = r.median_ms.map_or("—".to_string(), short_duration);
    let recovery_detail = match (r.recovered, r.unrecovered) {
        (0, 0) => "no failed deployment".to_string(),
        (n, 0) => format!("median of {} recovered", n),
        (n, open) => format!("{n} recovered, {open} not yet"),
    };
    let trends = [
        trend(series, |k| Some(k.deployment_frequency.deployments as f64)),
        trend(series, |k| k.lead_time.median_ms.map(hours)),
        trend(series, cfr_percent),
        trend(series, |k| k.recovery_time.median_ms.map(hours)),
    ];
    let cards = [
        ("Deployment frequency", frequency, frequency_detail, f.level),
        ("Lead time for changes", lead, lead_detail, l.level),
        ("Change failure rate", rate, rate_detail, c.level),
        ("Time to restore", recovery, recovery_detail, r.level),
    ];
    cards
        .into_iter()
        .zip(&trends)
        .map(|((name, value, detail, level), trend)| {
            let label = format!(
                "{name}: {value} ({}), {detail}",
                level.map_or("no level", charts::level_name)
            );
            let svg = charts::key_chart(&KeyCard {
                name,
                value: &value,
                detail: &detail,
                level,
                trend,
            });
            html! { figure.chart role="img" aria-label=(label) data-key=(name) { (PreEscaped(svg)) } }
        })
        .collect()
}

/// Lead time and recovery medians per week, in a unit that fits their size.
fn duration_chart(series: &[BucketKeys]) -> String {
    let lead = trend(series, |k| k.lead_time.median_ms.map(|ms| ms as f64));
    let recovery = trend(series, |k| k.recovery_time.median_ms.map(|ms| ms as f64));
    let longest = lead
        .iter()
        .chain(&recovery)
        .map(|(_, y)| *y)
        .filter(|y| y.is_finite())
        .fold(0.0, f64::max);
    let (unit_ms, unit) = if longest < 2.0 * HOUR_MS as f64 {
        (60_000.0, "minutes")
    } else if longest < 3.0 * DAY_MS as f64 {
        (HOUR_MS as f64, "hours")
    } else {
        (DAY_MS as f64, "days")
    };
    let scale = |points: Vec<(i64, f64)>| points.into_iter().map(|(x, y)| (x, y / unit_ms)).collect();
    charts::line_chart(
        "Lead time and time to restore per week (medians)",
        &[
            Series {
                name: "lead time".into(),
                points: scale(lead),
            },
            Series {
                name: "time to restore".into(),
                points: scale(recovery),
            },
        ],
        unit,
    )
}

/// One point per week at the week's middle; NaN (a break in the line) where `value` is none.
fn trend(series: &[BucketKeys], value: impl Fn(&Keys) -> Option<f64>) -> Vec<(i64, f64)> {
    series
        .iter()
        .map(|b| (b.from + (b.to - b.from) / 2, value(&b.keys).unwrap_or(f64::NAN)))
        .collect()
}

fn periods(series: &[BucketKeys]) -> Vec<Period> {
    series
        .iter()
        .map(|b| Period {
            from: b.from,
            to: b.to,
            deployments: b.keys.change_failure_rate.deployments,
            failed: b.keys.change_failure_rate.failed,
        })
        .collect()
}

fn cfr_percent(k: &Keys) -> Option<f64> {
    k.change_failure_rate.rate.map(|r| r * 100.0)
}

fn hours(ms: i64) -> f64 {
    ms as f64 / HOUR_MS as f64
}

/// Where `market` sorts: its place in rollout order, or after every known market, by name.
fn rank<'a>(ranks: &HashMap<String, i64>, market: &'a str) -> (i64, &'a str) {
    (ranks.get(market).copied().unwrap_or(i64::MAX), market)
}

/// The timeline's rows (markets with something to show, in `order`) and its marks: every
/// production deployment the filter matches (rollbacks included, which the keys never count),
/// and every incident opened in the window on a market and service the filter matches.
fn timeline(
    deployments: &[Deployment],
    incidents: &[tandem_core::dora::Incident],
    filter: &Filter,
    order: &HashMap<String, i64>,
) -> (Vec<String>, Vec<Event>) {
    let window = filter.window();
    let shown: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| d.production && filter.matches(d))
        .collect();
    let kinds: HashMap<i64, ChangeKind> = deployments.iter().map(|d| (d.id, d.kind)).collect();
    let raised: Vec<&tandem_core::dora::Incident> = incidents
        .iter()
        .filter(|i| window.contains(i.opened_at))
        .filter(|i| filter.service.as_deref().is_none_or(|s| s == i.service))
        .filter(|i| {
            filter
                .kind
                .is_none_or(|k| i.deployment_id.and_then(|d| kinds.get(&d)) == Some(&k))
        })
        .collect();
    let mut rows: Vec<&str> = shown
        .iter()
        .map(|d| d.market.as_str())
        .chain(raised.iter().map(|i| i.market.as_str()))
        .collect();
    rows.sort_by_key(|m| rank(order, m));
    rows.dedup();
    let index: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, m)| (*m, i)).collect();

    let mut marks: Vec<Event> = Vec::with_capacity(shown.len() + raised.len());
    for d in &shown {
        let mark = match (d.rollback, d.outcome, d.kind) {
            (true, _, _) => Mark::Rollback,
            (false, Outcome::Failed, _) => Mark::Failed,
            (false, Outcome::RolledBack, _) => Mark::RolledBack,
            (false, Outcome::Succeeded, ChangeKind::Code) => Mark::Release,
            (false, Outcome::Succeeded, ChangeKind::Config) => Mark::Config,
        };
        marks.push(Event {
            row: index[d.market.as_str()],
            at: d.finished_at,
            mark,
        });
    }
    for i in &raised {
        marks.push(Event {
            row: index[i.market.as_str()],
            at: i.opened_at,
            mark: Mark::Incident,
        });
    }
    // One mark per row, kind and column: a year of deployments draws as a few thousand marks.
    let (first, last) = marks
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), e| (lo.min(e.at), hi.max(e.at)));
    let column = ((last.saturating_sub(first)) / TIMELINE_COLUMNS).max(1);
    let mut seen = HashSet::new();
    marks.retain(|e| seen.insert((e.row, e.mark, (e.at - first) / column)));
    (rows.into_iter().map(str::to_string).collect(), marks)
}

fn market_table(rows: &[(&String, &Keys)]) -> Markup {
    let level = |l: Option<tandem_core::dora::Level>| {
        let name = l.map_or("—", charts::level_name);
        html! { td class={ "lvl-" (name) } { (name) } }
    };
    html! {
        table.data.dora-markets {
            thead { tr {
                th { "Market" } th.num { "Deployments" } th { "Frequency" } th.num { "Failed" } th { "Failure rate" }
                th.num { "Lead time" } th { "Lead level" } th.num title=(RESTORE_DEFINITION) { "Time to restore" } th { "Restore level" }
            } }
            tbody {
                @for (market, k) in rows {
                    tr data-market=(market) {
                        td { (super::links::market(market)) }
                        td.num { (k.deployment_frequency.deployments) }
                        (level(k.deployment_frequency.level))
                        td.num { (k.change_failure_rate.failed) }
                        (level(k.change_failure_rate.level))
                        td.num { (k.lead_time.median_ms.map_or("—".to_string(), short_duration)) }
                        (level(k.lead_time.level))
                        td.num { (k.recovery_time.median_ms.map_or("—".to_string(), short_duration)) }
                        (level(k.recovery_time.level))
                    }
                }
            }
        }
    }
}

/// "30 ms", "42 s", "12 min", "5.2 h", "3.4 d": the one formatter of DORA durations, so the
/// figures here read as on an incident's page.
fn short_duration(ms: i64) -> String {
    show_duration(ms)
}

/// "3", "2.5" (one decimal, none when it is zero).
fn one_decimal(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_read_shortly() {
        assert_eq!(short_duration(42_000), "42 s");
        assert_eq!(short_duration(12 * 60_000 + 5_000), "12 min");
        assert_eq!(short_duration(5 * HOUR_MS + 12 * 60_000), "5.2 h");
        assert_eq!(short_duration(3 * DAY_MS + 10 * HOUR_MS), "3.4 d");
        assert_eq!(one_decimal(2.0), "2");
        assert_eq!(one_decimal(2.46), "2.5");
    }

    #[test]
    fn the_timeline_marks_what_happened_and_bounds_its_marks() {
        let deployment =
            |id: i64, market: &str, at: i64, outcome: Outcome, rollback: bool, kind: ChangeKind| Deployment {
                id,
                service: "shop".into(),
                market: market.into(),
                wave: Some(0),
                kind,
                rollback,
                started_at: at - 1000,
                finished_at: at,
                outcome,
                production: true,
                commit_times: vec![],
                recovered_at: None,
            };
        let t = 1_000_000_000;
        let mut deployments = vec![
            deployment(1, "fr", t, Outcome::Succeeded, false, ChangeKind::Code),
            deployment(2, "be", t + 10, Outcome::Succeeded, false, ChangeKind::Code),
            deployment(3, "fr", t + 60_000, Outcome::RolledBack, false, ChangeKind::Code),
            deployment(4, "fr", t + 61_000, Outcome::Succeeded, true, ChangeKind::Code),
            deployment(5, "be", t + 120_000, Outcome::Succeeded, false, ChangeKind::Config),
        ];
        // A thousand more releases in be, close together: drawn as a few marks, not a thousand.
        deployments.extend((0..1000).map(|i| {
            deployment(
                100 + i,
                "be",
                t + 200_000 + i,
                Outcome::Succeeded,
                false,
                ChangeKind::Code,
            )
        }));
        let incidents = [tandem_core::dora::Incident {
            id: 1,
            service: "shop".into(),
            market: "fr".into(),
            deployment_id: Some(3),
            opened_at: t + 60_500,
            resolved_at: None,
        }];
        let filter = Filter::new(Window::new(t - 1, t + 10_000_000).unwrap());
        let order: HashMap<String, i64> = [("fr".to_string(), 0), ("be".to_string(), 1)].into();
        let (rows, events) = timeline(&deployments, &incidents, &filter, &order);
        assert_eq!(rows, ["fr", "be"]);
        let marks = |row: usize| -> Vec<Mark> {
            let mut m: Vec<Mark> = events.iter().filter(|e| e.row == row).map(|e| e.mark).collect();
            m.sort();
            m.dedup();
            m
        };
        assert_eq!(
            marks(0),
            [Mark::Release, Mark::RolledBack, Mark::Rollback, Mark::Incident]
        );
        assert_eq!(marks(1), [Mark::Release, Mark::Config]);
        assert!(events.len() < 20, "{} marks", events.len());

        let config_only = filter.clone().kind(ChangeKind::Config);
        let (rows, events) = timeline(&deployments, &incidents, &config_only, &order);
        assert_eq!(
            (rows.as_slice(), events.len()),
            (["be".to_string()].as_slice(), 1),
            "the incident is a code one"
        );
    }
}
