//! Release policies from the platform file: approvals between waves, freezes and notifications.
//!
//! A freeze is written in local time and evaluated in the time zone of the market it blocks, so
//! "Friday from 16:00" follows each market's clock across DST switches. Every window is turned
//! into a half-open span of instants `[start, end)`; a hit's `until` is always after the instant
//! asked about, which is what lets `next_unfrozen` hop from window to window and always move on.

use crate::names::did_you_mean as hint;
use crate::role::Role;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

pub mod changes;
pub(crate) mod check;

/// How many whole days in a row one freeze's stretch may join (a year): a freeze stored before
/// validation refused it might hold every day.
const MAX_DAYS_IN_A_ROW: usize = 366;

/// The time zone database bundled in the binary, so zone names and DST rules do not depend on
/// the machine's `/usr/share/zoneinfo`.
static TZDB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// The IANA time zone named `name` (case-insensitive), from the bundled database.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    TZDB.get(name).ok()
}

/// Checks that `name` is a known IANA time zone; the error suggests the closest name.
pub fn check_time_zone(name: &str) -> Result<(), String> {
    if time_zone(name).is_some() {
        return Ok(());
    }
    let known: Vec<String> = TZDB.available().map(|n| n.as_str().to_string()).collect();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    Err(format!(
        "time zone `{name}` is not a known IANA time zone{}: expected a name such as `Europe/Paris`",
        hint(name, &known)
    ))
}

/// Between two waves: the wave after `after` waits until someone holding `role` approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The wave that must have finished before the approval is asked for.
    pub after: String,
    /// The least role that may approve.
    pub role: Role,
}

/// A day of the week, as written in the platform file (`mon`, or `monday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }

    pub fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Monday,
            Day::Tue => Weekday::Tuesday,
            Day::Wed => Weekday::Wednesday,
            Day::Thu => Weekday::Thursday,
            Day::Fri => Weekday::Friday,
            Day::Sat => Weekday::Saturday,
            Day::Sun => Weekday::Sunday,
        }
    }

    fn full_name(self) -> &'static str {
        match self {
            Day::Mon => "monday",
            Day::Tue => "tuesday",
            Day::Wed => "wednesday",
            Day::Thu => "thursday",
            Day::Fri => "friday",
            Day::Sat => "saturday",
            Day::Sun => "sunday",
        }
    }

    /// Reads `mon` or `monday`, in any case.
    fn parse(s: &str) -> Option<Day> {
        let s = s.to_ascii_lowercase();
        Day::ALL.into_iter().find(|d| d.as_str() == s || d.full_name() == s)
    }
}

/// When a freeze holds, in the market's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FreezeWindow {
    /// On each of `days`, from `from` (default the start of the day) to `to` (default its end).
    Weekly {
        days: Vec<Day>,
        from: Option<Time>,
        to: Option<Time>,
    },
    /// Whole local days, such as public holidays.
    Dates { dates: Vec<Date> },
    /// From `from` up to, not including, `to`.
    Range { from: DateTime, to: DateTime },
}

/// A period when no rollout deploys into the markets it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub name: String,
    /// The markets it covers; empty means every market.
    #[serde(default)]
    pub markets: Vec<String>,
    pub window: FreezeWindow,
}

impl Freeze {
    /// Whether this freeze covers `market`.
    pub fn covers(&self, market: &str) -> bool {
        self.markets.is_empty() || self.markets.iter().any(|m| m == market)
    }

    /// If `at`, seen in `tz`, falls inside this freeze, the instant the freeze ends.
    ///
    /// Whole days in a row (Saturday then Sunday, Christmas then Boxing Day) count as one
    /// stretch, so a weekend freeze hit on Saturday ends on Monday at midnight.
    pub fn ends_after(&self, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
        let mut date = at.to_zoned(tz.clone()).date();
        let (start, mut end) = match &self.window {
            FreezeWindow::Range { from, to } => (instant(tz, *from, Timestamp::MIN), instant(tz, *to, Timestamp::MAX)),
            _ => self.day_span(tz, date)?,
        };
        if !(start <= at && at < end) {
            return None;
        }
        for _ in 0..MAX_DAYS_IN_A_ROW {
            let Ok(next) = date.tomorrow() else { break };
            match self.day_span(tz, next) {
                Some((s, e)) if s == end => (date, end) = (next, e),
                _ => break,
            }
        }
        Some(end)
    }

    /// The instants a weekly or dates freeze covers on local `date`, if it holds that day.
    fn day_span(&self, tz: &TimeZone, date: Date) -> Option<(Timestamp, Timestamp)> {
        match &self.window {
            FreezeWindow::Weekly { days, from, to } => days
                .iter()
                .any(|d| d.weekday() == date.weekday())
                .then(|| day_window(tz, date, *from, *to)),
            FreezeWindow::Dates { dates } => dates.contains(&date).then(|| day_window(tz, date, None, None)),
            FreezeWindow::Range { .. } => None,
        }
    }
}

/// The instants a window on local `date` covers: `from` (default midnight) to `to` (default the
/// next midnight), so a day is 23 or 25 hours long on DST switches.
fn day_window(tz: &TimeZone, date: Date, from: Option<Time>, to: Option<Time>) -> (Timestamp, Timestamp) {
    let start = instant(tz, date.to_datetime(from.unwrap_or(Time::midnight())), Timestamp::MIN);
    let end = match to {
        Some(to) => instant(tz, date.to_datetime(to), Timestamp::MAX),
        None => match date.tomorrow() {
            Ok(next) => instant(tz, next.to_datetime(Time::midnight()), Timestamp::MAX),
            Err(_) => Timestamp::MAX,
        },
    };
    (start, end)
}

/// The instant of a local date-time: a time skipped by a DST jump maps to just after the jump,
/// a repeated one to its first occurrence; `outside` when it is beyond what jiff can represent.
fn instant(tz: &TimeZone, dt: DateTime, outside: Timestamp) -> Timestamp {
    tz.to_ambiguous_timestamp(dt).compatible().unwrap_or(outside)
}

/// A freeze found active for a market at some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreezeHit {
    /// The freeze's name.
    pub name: String,
    /// When this freeze ends for that market.
    pub until: Timestamp,
    /// The instant asked about on the market's clock, such as `Saturday 14:05 in Europe/Paris`.
    pub local: String,
}

/// What a notification can be sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    #[serde(rename = "rollout.halted")]
    RolloutHalted,
    #[serde(rename = "rollout.blocked")]
    RolloutBlocked,
    #[serde(rename = "rollout.succeeded")]
    RolloutSucceeded,
    #[serde(rename = "rollback")]
    Rollback,
    #[serde(rename = "incident.opened")]
    IncidentOpened,
    #[serde(rename = "incident.resolved")]
    IncidentResolved,
    #[serde(rename = "approval.requested")]
    ApprovalRequested,
    #[serde(rename = "market.launched")]
    MarketLaunched,
}

impl Event {
    pub const ALL: [Event; 8] = [
        Event::RolloutHalted,
        Event::RolloutBlocked,
        Event::RolloutSucceeded,
        Event::Rollback,
        Event::IncidentOpened,
        Event::IncidentResolved,
        Event::ApprovalRequested,
        Event::MarketLaunched,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::RolloutHalted => "rollout.halted",
            Event::RolloutBlocked => "rollout.blocked",
            Event::RolloutSucceeded => "rollout.succeeded",
            Event::Rollback => "rollback",
            Event::IncidentOpened => "incident.opened",
            Event::IncidentResolved => "incident.resolved",
            Event::ApprovalRequested => "approval.requested",
            Event::MarketLaunched => "market.launched",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Event {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Event::ALL.into_iter().find(|e| e.as_str() == s).ok_or_else(|| {
            let names = Event::ALL.map(Event::as_str);
            format!("unknown event `{s}`{}: expected {}", hint(s, &names), names.join(", "))
        })
    }
}

/// How a notification is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    /// A Slack incoming webhook: a `{"text": …}` body.
    Slack,
    /// A JSON body posted to any URL, signed when `secret` is set.
    Webhook,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Slack => "slack",
            NotificationKind::Webhook => "webhook",
        }
    }
}

/// Where to tell people what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub name: String,
    pub kind: NotificationKind,
    /// An `http` or `https` URL.
    pub url: String,
    /// The events it is sent for (every event when the file names none).
    pub events: Vec<Event>,
    /// For webhooks: the name of the secret (under `secrets`) whose value signs the body with
    /// HMAC-SHA256.
    #[serde(default)]
    pub secret: Option<String>,
}

impl Notification {
    /// Whether this notification is sent for `event`.
    pub fn wants(&self, event: Event) -> bool {
        self.events.contains(&event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Market, Platform, parse_platform};
    use jiff::civil::date;
    use proptest::prelude::*;

    pub(super) const MARKETS: &str = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: jp, name: Japan, region: asia, currency: JPY, locale: ja-JP, timezone: Asia/Tokyo }
  - { id: us, name: United States, region: america, currency: USD, locale: en-US, timezone: America/New_York }
waves:
  - { name: pilot, markets: [fr] }
  - { name: asia, markets: [jp] }
  - { name: america, markets: [us] }
secrets:
  HOOK_SECRET: { env: TANDEM_HOOK_SECRET }
";

    pub(super) const POLICIES: &str = "\
approvals:
  - after: pilot
  - { after: asia, role: admin }
freezes:
  - name: weekend
    weekly: { days: [sat, sun] }
  - name: friday-afternoon
    weekly: { days: [Friday], from: \"16:00\" }
  - name: holidays-fr
    markets: [fr]
    dates: [\"2026-12-25\", 2027-01-01]
  - name: black-friday
    from: \"2026-11-27T00:00\"
    to: \"2026-11-30T00:00\"
notifications:
  - name: team-slack
    kind: slack
    url: https://hooks.slack.example/services/T0/B0/x
    events: [rollout.halted, rollback]
  - name: audit
    kind: webhook
    url: http://127.0.0.1:9/hook
    secret: HOOK_SECRET
";

    pub(super) fn platform(policies: &str) -> Platform {
        parse_platform("p.yml", &format!("{MARKETS}{policies}")).unwrap()
    }

    pub(super) fn errors(policies: &str) -> String {
        parse_platform("p.yml", &format!("{MARKETS}{policies}"))
            .unwrap_err()
            .to_string()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_sections_are_optional_and_old_stored_json_still_loads() {
        let p = platform("");
        assert!(p.approvals.is_empty() && p.freezes.is_empty() && p.notifications.is_empty());

        let mut old = serde_json::to_value(&p).unwrap();
        let fields = old.as_object_mut().unwrap();
        for key in ["approvals", "freezes", "notifications"] {
            fields.remove(key);
        }
        let back: Platform = serde_json::from_value(old).unwrap();
        assert_eq!(back, p);

        let full = platform(POLICIES);
        let json = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), full);
    }

    #[test]
    fn event_names_round_trip() {
        for e in Event::ALL {
            assert_eq!(e.as_str().parse::<Event>(), Ok(e));
            assert_eq!(
                serde_json::to_value(e).unwrap(),
                e.as_str(),
                "a stored platform keeps the name"
            );
        }
        let names = Event::ALL.map(Event::as_str);
        assert!(
            names.contains(&"incident.resolved") && names.contains(&"market.launched"),
            "{names:?}"
        );
        let err = "rollout.halt".parse::<Event>().unwrap_err();
        assert!(err.contains("did you mean `rollout.halted`"), "{err}");
    }

    #[test]
    fn the_same_instant_is_saturday_in_tokyo_but_friday_morning_in_new_york() {
        let p = platform("freezes:\n  - { name: weekend, weekly: { days: [sat, sun] } }\n");
        // Friday 2026-06-05 11:30 in New York (EDT) is Saturday 00:30 in Tokyo.
        let at = ts("2026-06-05T15:30:00Z");
        let hit = p.active_freeze("jp", at).unwrap();
        assert_eq!(hit.name, "weekend");
        assert_eq!(hit.local, "Saturday 00:30 in Asia/Tokyo");
        assert_eq!(hit.until, ts("2026-06-07T15:00:00Z"), "Monday 00:00 in Tokyo");
        assert_eq!(p.active_freeze("us", at), None);
        assert_eq!(p.next_unfrozen("us", at), at);
        assert_eq!(p.next_unfrozen("jp", at), ts("2026-06-07T15:00:00Z"));
        // Later that day New York reaches its own Saturday.
        let hit = p.active_freeze("us", ts("2026-06-06T04:00:00Z")).unwrap();
        assert_eq!(hit.local, "Saturday 00:00 in America/New_York");
        assert_eq!(hit.until, ts("2026-06-08T04:00:00Z"));
        assert_eq!(p.active_freeze("xx", at), None, "an unknown market has no freeze");
    }

    #[test]
    fn weekly_from_and_to_bound_the_window() {
        let p = platform(
            "freezes:\n  - { name: lunch, markets: [fr], weekly: { days: [tue, thu], from: \"12:00\", to: \"14:00\" } }\n  - { name: mornings, weekly: { days: [wed], to: \"09:30\" } }\n",
        );
        // Tuesday 2026-06-02 in Paris (CEST, UTC+2).
        assert_eq!(p.active_freeze("fr", ts("2026-06-02T09:59:59Z")), None);
        let hit = p.active_freeze("fr", ts("2026-06-02T10:00:00Z")).unwrap();
        assert_eq!((hit.name.as_str(), hit.until), ("lunch", ts("2026-06-02T12:00:00Z")));
        assert_eq!(hit.local, "Tuesday 12:00 in Europe/Paris");
        assert_eq!(
            p.active_freeze("fr", ts("2026-06-02T12:00:00Z")),
            None,
            "`to` is not frozen"
        );
        assert_eq!(
            p.active_freeze("fr", ts("2026-06-03T10:00:00Z")),
            None,
            "not on Wednesday"
        );
        assert_eq!(
            p.active_freeze("jp", ts("2026-06-02T03:00:00Z")),
            None,
            "only in France"
        );
        // Wednesday from midnight to 09:30 in every market.
        let hit = p.active_freeze("jp", ts("2026-06-02T15:00:00Z")).unwrap();
        assert_eq!((hit.name.as_str(), hit.until), ("mornings", ts("2026-06-03T00:30:00Z")));
        assert_eq!(p.active_freeze("jp", ts("2026-06-02T14:59:59Z")), None);
    }

    #[test]
    fn dates_freeze_whole_local_days_of_their_markets() {
        let p = platform("freezes:\n  - { name: christmas, markets: [fr, us], dates: [\"2026-12-25\"] }\n");
        // Paris is UTC+1 in December: the day is 2026-12-24T23:00Z to 2026-12-25T23:00Z.
        assert_eq!(p.active_freeze("fr", ts("2026-12-24T22:59:59Z")), None);
        let hit = p.active_freeze("fr", ts("2026-12-24T23:00:00Z")).unwrap();
        assert_eq!(hit.until, ts("2026-12-25T23:00:00Z"));
        assert_eq!(hit.local, "Friday 00:00 in Europe/Paris");
        // New York (UTC-5) is still on the 24th when Paris has its Christmas morning.
        assert_eq!(p.active_freeze("us", ts("2026-12-25T04:00:00Z")), None);
        assert_eq!(
            p.active_freeze("us", ts("2026-12-25T05:00:00Z")).map(|h| h.until),
            Some(ts("2026-12-26T05:00:00Z"))
        );
        assert_eq!(
            p.active_freeze("jp", ts("2026-12-25T05:00:00Z")),
            None,
            "Japan is not listed"
        );
    }

    #[test]
    fn ranges_are_half_open_in_local_time() {
        let p =
            platform("freezes:\n  - { name: black-friday, from: \"2026-11-27T00:00\", to: \"2026-11-30T06:00\" }\n");
        // Tokyo is UTC+9 all year.
        assert_eq!(p.active_freeze("jp", ts("2026-11-26T14:59:59Z")), None);
        let hit = p.active_freeze("jp", ts("2026-11-26T15:00:00Z")).unwrap();
        assert_eq!(hit.until, ts("2026-11-29T21:00:00Z"));
        assert_eq!(p.active_freeze("jp", ts("2026-11-29T21:00:00Z")), None);
        // The same local range is later in absolute time in New York (UTC-5).
        assert_eq!(
            p.active_freeze("us", ts("2026-11-29T21:00:00Z")).map(|h| h.until),
            Some(ts("2026-11-30T11:00:00Z"))
        );
    }

    #[test]
    fn friday_afternoon_follows_the_local_clock_across_dst() {
        let p = platform("freezes:\n  - { name: friday-afternoon, weekly: { days: [fri], from: \"16:00\" } }\n");
        // Paris moves to summer time on Sunday 2026-03-29: 16:00 is 15:00Z before and 14:00Z after.
        assert_eq!(p.active_freeze("fr", ts("2026-03-27T14:59:00Z")), None);
        let hit = p.active_freeze("fr", ts("2026-03-27T15:00:00Z")).unwrap();
        assert_eq!(hit.local, "Friday 16:00 in Europe/Paris");
        assert_eq!(hit.until, ts("2026-03-27T23:00:00Z"));
        assert_eq!(p.active_freeze("fr", ts("2026-04-03T13:59:00Z")), None);
        let hit = p.active_freeze("fr", ts("2026-04-03T14:00:00Z")).unwrap();
        assert_eq!(hit.local, "Friday 16:00 in Europe/Paris");
        assert_eq!(hit.until, ts("2026-04-03T22:00:00Z"));
        // And back to winter time on Sunday 2026-10-25: 14:00Z before, 15:00Z after.
        assert!(p.active_freeze("fr", ts("2026-10-23T14:00:00Z")).is_some());
        assert_eq!(p.active_freeze("fr", ts("2026-10-30T14:30:00Z")), None);
        assert!(p.active_freeze("fr", ts("2026-10-30T15:00:00Z")).is_some());
    }

    #[test]
    fn a_dst_sunday_lasts_23_or_25_hours() {
        let p = platform("freezes:\n  - { name: sunday, weekly: { days: [sun] } }\n");
        let hit = p.active_freeze("fr", ts("2026-03-29T12:00:00Z")).unwrap();
        assert_eq!(hit.until, ts("2026-03-29T22:00:00Z"));
        assert_eq!(
            p.next_unfrozen("fr", ts("2026-03-28T23:00:00Z")),
            ts("2026-03-29T22:00:00Z")
        );
        assert_eq!(p.active_freeze("fr", ts("2026-03-28T22:59:59Z")), None);
        let hit = p.active_freeze("fr", ts("2026-10-25T01:30:00Z")).unwrap();
        assert_eq!(hit.until, ts("2026-10-25T23:00:00Z"));
        assert_eq!(p.active_freeze("fr", ts("2026-10-24T21:59:59Z")), None);
        assert!(p.active_freeze("fr", ts("2026-10-24T22:00:00Z")).is_some());
    }

    #[test]
    fn next_unfrozen_hops_over_adjacent_freezes() {
        let p = platform(
            "freezes:\n  - { name: weekend, weekly: { days: [sat, sun] } }\n  - { name: friday-afternoon, weekly: { days: [fri], from: \"16:00\" } }\n  - { name: whit-monday, markets: [fr], dates: [\"2026-05-25\"] }\n",
        );
        // Friday 2026-05-22 17:00 in Paris: Friday afternoon, the weekend, then Whit Monday.
        let at = ts("2026-05-22T15:00:00Z");
        assert_eq!(
            p.active_freeze("fr", at).map(|h| h.name),
            Some("friday-afternoon".to_string())
        );
        assert_eq!(
            p.next_unfrozen("fr", at),
            ts("2026-05-25T22:00:00Z"),
            "Tuesday 00:00 in Paris"
        );
        assert_eq!(
            p.next_unfrozen("us", at),
            ts("2026-05-22T15:00:00Z"),
            "11:00 on Friday in New York"
        );
    }

    #[test]
    fn a_market_frozen_for_good_stops_the_search() {
        let mut p = platform("freezes:\n  - { name: weekdays, weekly: { days: [mon, tue, wed, thu, fri] } }\n");
        p.freezes.push(Freeze {
            name: "weekend".to_string(),
            markets: Vec::new(),
            window: FreezeWindow::Weekly {
                days: vec![Day::Sat, Day::Sun],
                from: None,
                to: None,
            },
        });
        let at = ts("2026-06-01T12:00:00Z");
        let stop = p.next_unfrozen("fr", at);
        assert!(stop > at);
        assert!(p.active_freeze("fr", stop).is_some());
    }

    const ZONES: [&str; 6] = [
        "Europe/Paris",
        "Asia/Tokyo",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kolkata",
    ];

    /// An instant from 2026 to 2027.
    fn arb_instant() -> impl Strategy<Value = Timestamp> {
        (1_767_225_600i64..1_830_297_600).prop_map(|s| Timestamp::from_second(s).unwrap())
    }

    fn arb_time() -> impl Strategy<Value = Option<Time>> {
        proptest::option::of((0i8..24, prop::sample::select(vec![0i8, 15, 30, 45])))
            .prop_map(|t| t.map(|(h, m)| Time::constant(h, m, 0, 0)))
    }

    fn arb_local() -> impl Strategy<Value = DateTime> {
        (0i32..730, 0i8..24, 0i8..60).prop_map(|(d, h, m)| {
            let day = date(2026, 1, 1).checked_add(jiff::Span::new().days(d)).unwrap();
            day.at(h, m, 0, 0)
        })
    }

    /// Freezes that leave `free` (a day of the week) out of every weekly freeze, so each week has
    /// some unfrozen time once the finite dates and ranges are over.
    fn arb_window(free: usize) -> impl Strategy<Value = FreezeWindow> {
        let days = Day::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != free)
            .map(|(_, d)| d)
            .collect::<Vec<_>>();
        prop_oneof![
            (prop::sample::subsequence(days, 1..=6), arb_time(), arb_time()).prop_map(|(days, a, b)| {
                let (from, to) = match (a, b) {
                    (Some(a), Some(b)) if a == b => (Some(a), None),
                    (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                    (a, None) => (a, None),
                    (None, Some(b)) if b == Time::midnight() => (None, None),
                    (None, b) => (None, b),
                };
                FreezeWindow::Weekly { days, from, to }
            }),
            prop::collection::vec(arb_local(), 1..5).prop_map(|d| FreezeWindow::Dates {
                dates: d.into_iter().map(|d| d.date()).collect()
            }),
            (arb_local(), 1i64..14 * 24 * 60).prop_map(|(from, minutes)| FreezeWindow::Range {
                from,
                to: from.checked_add(jiff::Span::new().minutes(minutes)).unwrap(),
            }),
        ]
    }

    fn arb_platform() -> impl Strategy<Value = Platform> {
        (0usize..7, prop::sample::select(ZONES.to_vec()))
            .prop_flat_map(|(free, zone)| (prop::collection::vec(arb_window(free), 0..6), Just(zone)))
            .prop_map(|(windows, zone)| Platform {
                markets: vec![Market {
                    id: "fr".to_string(),
                    name: "France".to_string(),
                    region: "west".to_string(),
                    currency: "EUR".to_string(),
                    locale: "fr-FR".to_string(),
                    timezone: zone.to_string(),
                    state: crate::platform::LaunchState::Live,
                }],
                freezes: windows
                    .into_iter()
                    .enumerate()
                    .map(|(i, window)| Freeze {
                        name: format!("f{i}"),
                        markets: Vec::new(),
                        window,
                    })
                    .collect(),
                ..Platform::default()
            })
    }

    proptest! {
        #[test]
        fn next_unfrozen_is_unfrozen_and_everything_before_it_is_frozen(
            p in arb_platform(),
            at in arb_instant(),
            fraction in 0.0f64..1.0,
        ) {
            let next = p.next_unfrozen("fr", at);
            prop_assert!(next >= at);
            prop_assert_eq!(p.active_freeze("fr", next), None);
            if next > at {
                let gap = next.as_second() - at.as_second();
                let inside = Timestamp::from_second(at.as_second() + (gap as f64 * fraction) as i64).unwrap();
                prop_assert!(p.active_freeze("fr", inside.max(at)).is_some(), "{} is not frozen", inside);
                let just_before = next.checked_sub(jiff::SignedDuration::from_nanos(1)).unwrap();
                prop_assert!(p.active_freeze("fr", just_before).is_some());
            } else {
                prop_assert_eq!(p.active_freeze("fr", at), None);
            }
        }
    }
}
