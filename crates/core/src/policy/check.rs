//! Reading and checking the `approvals`, `freezes` and `notifications` sections of the
//! platform file: every problem is collected with its place, as in the rest of the file.

use super::{Approval, Day, Event, Freeze, FreezeWindow, Notification, NotificationKind, hint};
use crate::error::Collector;
use crate::names::is_name;
use crate::role::Role;
use jiff::civil::{Date, DateTime, Time};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::HashMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApproval {
    after: Spanned<String>,
    #[serde(default)]
    role: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFreeze {
    name: Spanned<String>,
    #[serde(default)]
    markets: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    weekly: Option<Spanned<RawWeekly>>,
    #[serde(default)]
    dates: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    to: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeekly {
    days: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    to: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotification {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    events: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    secret: Option<Spanned<String>>,
}

/// Names the rest of the platform file declares, for checking references to them.
pub(crate) struct Known<'a> {
    /// Waves in rollout order, `rest` last when some market is in no wave.
    pub waves: Vec<&'a str>,
    pub markets: Vec<&'a str>,
    pub secrets: Vec<&'a str>,
}

/// Reports a name that is not valid, or already declared in the same section (`seen`).
fn check_unique(seen: &mut HashMap<String, u64>, what: &str, name: &Spanned<String>, errors: &mut Collector<'_>) {
    if let Some(line) = seen.insert(name.value.clone(), name.referenced.line()) {
        errors.push(
            &name.referenced,
            format!("{what} `{}` is declared twice (first at line {line})", name.value),
        );
    }
    if !is_name(&name.value) {
        errors.push(
            &name.referenced,
            format!(
                "{what} name `{}` is not valid: expected lower-case letters, digits and dashes",
                name.value
            ),
        );
    }
}

/// Checks `approvals`: a known wave that some wave follows, once each, and a known role.
pub(crate) fn check_approvals(raw: &[RawApproval], known: &Known<'_>, errors: &mut Collector<'_>) -> Vec<Approval> {
    let mut seen: HashMap<&str, u64> = HashMap::new();
    let mut out = Vec::new();
    for a in raw {
        let after = &a.after;
        if !known.waves.contains(&after.value.as_str()) {
            let expected = if known.waves.is_empty() {
                "the platform declares no wave".to_string()
            } else {
                format!("expected one of {}", known.waves.join(", "))
            };
            errors.push(
                &after.referenced,
                format!(
                    "approval after unknown wave `{}`{}: {expected}",
                    after.value,
                    hint(&after.value, &known.waves)
                ),
            );
        } else if known.waves.last() == Some(&after.value.as_str()) {
            errors.push(
                &after.referenced,
                format!(
                    "approval after wave `{}`, the last wave: no wave follows it to wait; name the wave before the one to hold",
                    after.value
                ),
            );
        }
        if let Some(line) = seen.insert(&after.value, after.referenced.line()) {
            errors.push(
                &after.referenced,
                format!(
                    "an approval after wave `{}` is declared twice (first at line {line})",
                    after.value
                ),
            );
        }
        let role = match &a.role {
            None => Role::Operator,
            Some(r) => r.value.parse().unwrap_or_else(|e| {
                errors.push(&r.referenced, format!("approval after wave `{}`: {e}", after.value));
                Role::Operator
            }),
        };
        out.push(Approval {
            after: after.value.clone(),
            role,
        });
    }
    out
}

/// Checks `freezes`: unique names, known markets, and exactly one well-formed window each.
pub(crate) fn check_freezes(raw: &[RawFreeze], known: &Known<'_>, errors: &mut Collector<'_>) -> Vec<Freeze> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for f in raw {
        let name = &f.name;
        check_unique(&mut seen, "freeze", name, errors);
        let mut markets = Vec::new();
        for m in f.markets.iter().flatten() {
            if !known.markets.contains(&m.value.as_str()) {
                errors.push(
                    &m.referenced,
                    format!(
                        "freeze `{}` names unknown market `{}`{}: declare it under `markets` first",
                        name.value,
                        m.value,
                        hint(&m.value, &known.markets)
                    ),
                );
            }
            markets.push(m.value.clone());
        }
        let kinds = [
            f.weekly.is_some(),
            f.dates.is_some(),
            f.from.is_some() || f.to.is_some(),
        ];
        let window = match kinds.iter().filter(|k| **k).count() {
            0 => {
                errors.push(
                    &name.referenced,
                    format!(
                        "freeze `{}` does not say when it holds: give one of `weekly`, `dates` or `from` and `to`",
                        name.value
                    ),
                );
                None
            }
            1 => {
                if let Some(w) = &f.weekly {
                    check_weekly(&name.value, w, errors)
                } else if let Some(d) = &f.dates {
                    check_dates(&name.value, d, errors)
                } else {
                    check_range(name, f.from.as_ref(), f.to.as_ref(), errors)
                }
            }
            _ => {
                errors.push(
                    &name.referenced,
                    format!(
                        "freeze `{}` has more than one of `weekly`, `dates` and `from`/`to`: split it into one freeze each",
                        name.value
                    ),
                );
                None
            }
        };
        if let Some(window) = window {
            out.push(Freeze {
                name: name.value.clone(),
                markets,
                window,
            });
        }
    }
    out
}

fn check_weekly(name: &str, w: &Spanned<RawWeekly>, errors: &mut Collector<'_>) -> Option<FreezeWindow> {
    let mut days = Vec::new();
    for d in &w.value.days.value {
        match Day::parse(&d.value) {
            Some(day) if !days.contains(&day) => days.push(day),
            Some(_) => {}
            None => {
                let names = Day::ALL.map(Day::as_str);
                errors.push(
                    &d.referenced,
                    format!(
                        "freeze `{name}`: unknown day `{}`{}: expected {} (or the full names)",
                        d.value,
                        hint(&d.value.to_ascii_lowercase(), &names),
                        names.join(", ")
                    ),
                );
            }
        }
    }
    if w.value.days.value.is_empty() {
        errors.push(&w.value.days.referenced, format!("freeze `{name}` has no day"));
    }
    let from = w.value.from.as_ref().and_then(|t| check_time(name, t, errors));
    let to = w.value.to.as_ref().and_then(|t| check_time(name, t, errors));
    let bad_time = w.value.from.is_some() && from.is_none() || w.value.to.is_some() && to.is_none();
    if to.is_some_and(|to| to <= from.unwrap_or(Time::midnight())) {
        let at = w.value.to.as_ref().map_or(&w.referenced, |t| &t.referenced);
        errors.push(
            at,
            format!("freeze `{name}` ends before it starts: `to` must be after `from` on the same day"),
        );
    }
    if days.len() == Day::ALL.len() && from.is_none() && to.is_none() && !bad_time {
        errors.push(
            &w.referenced,
            format!("freeze `{name}` holds every whole day of the week: no rollout could ever deploy"),
        );
    }
    Some(FreezeWindow::Weekly { days, from, to })
}

fn check_time(name: &str, t: &Spanned<String>, errors: &mut Collector<'_>) -> Option<Time> {
    let parsed = parse_hhmm(&t.value);
    if parsed.is_none() {
        errors.push(
            &t.referenced,
            format!(
                "freeze `{name}`: time `{}` is not valid: expected HH:MM such as `16:00`",
                t.value
            ),
        );
    }
    parsed
}

fn check_dates(name: &str, d: &Spanned<Vec<Spanned<String>>>, errors: &mut Collector<'_>) -> Option<FreezeWindow> {
    if d.value.is_empty() {
        errors.push(&d.referenced, format!("freeze `{name}` has no date"));
    }
    let mut dates = Vec::new();
    for s in &d.value {
        match parse_date(&s.value) {
            Some(date) => dates.push(date),
            None => errors.push(
                &s.referenced,
                format!(
                    "freeze `{name}`: date `{}` is not valid: expected YYYY-MM-DD such as `2026-12-25`",
                    s.value
                ),
            ),
        }
    }
    Some(FreezeWindow::Dates { dates })
}

fn check_range(
    name: &Spanned<String>,
    from: Option<&Spanned<String>>,
    to: Option<&Spanned<String>>,
    errors: &mut Collector<'_>,
) -> Option<FreezeWindow> {
    let read = |key: &str, s: Option<&Spanned<String>>, errors: &mut Collector<'_>| {
        let Some(s) = s else {
            errors.push(
                &name.referenced,
                format!(
                    "freeze `{}` has no `{key}`: a range needs both `from` and `to`",
                    name.value
                ),
            );
            return None;
        };
        let parsed = parse_local_datetime(&s.value);
        if parsed.is_none() {
            errors.push(
                &s.referenced,
                format!(
                    "freeze `{}`: `{key}` `{}` is not valid: expected a local date and time YYYY-MM-DDTHH:MM such as `2026-11-27T00:00`",
                    name.value, s.value
                ),
            );
        }
        parsed
    };
    let start = read("from", from, errors);
    let end = read("to", to, errors);
    let (start, end) = (start?, end?);
    if end <= start {
        let at = to.map_or(&name.referenced, |t| &t.referenced);
        errors.push(
            at,
            format!(
                "freeze `{}` ends before it starts: `to` must be after `from`",
                name.value
            ),
        );
    }
    Some(FreezeWindow::Range { from: start, to: end })
}

fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()
}

fn parse_local_datetime(s: &str) -> Option<DateTime> {
    let (date, time) = s.split_once('T')?;
    Some(parse_date(date)?.to_datetime(parse_hhmm(time)?))
}

/// Checks `notifications`: unique names, kind, URL, event names, and the signing secret.
pub(crate) fn check_notifications(
    raw: &[RawNotification],
    known: &Known<'_>,
    errors: &mut Collector<'_>,
) -> Vec<Notification> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for n in raw {
        let name = &n.name.value;
        check_unique(&mut seen, "notification", &n.name, errors);
        let kind = match n.kind.value.as_str() {
            "slack" => NotificationKind::Slack,
            "webhook" => NotificationKind::Webhook,
            other => {
                errors.push(
                    &n.kind.referenced,
                    format!(
                        "notification `{name}`: unknown kind `{other}`{}: expected slack or webhook",
                        hint(other, &["slack", "webhook"])
                    ),
                );
                NotificationKind::Webhook
            }
        };
        if let Err(why) = check_url(&n.url.value) {
            errors.push(
                &n.url.referenced,
                format!("notification `{name}`: url `{}` is not valid: {why}", n.url.value),
            );
        }
        let events = match &n.events {
            None => Event::ALL.to_vec(),
            Some(list) => {
                if list.value.is_empty() {
                    errors.push(
                        &list.referenced,
                        format!("notification `{name}` has no event: leave out `events` to get every event"),
                    );
                }
                let mut events = Vec::new();
                for e in &list.value {
                    match e.value.parse::<Event>() {
                        Ok(event) if !events.contains(&event) => events.push(event),
                        Ok(_) => {}
                        Err(why) => errors.push(&e.referenced, format!("notification `{name}`: {why}")),
                    }
                }
                events
            }
        };
        if let Some(secret) = &n.secret {
            if kind == NotificationKind::Slack {
                errors.push(
                    &secret.referenced,
                    format!(
                        "notification `{name}`: a slack notification cannot have a `secret` (Slack does not check signatures); use kind `webhook` or remove it"
                    ),
                );
            } else if !known.secrets.contains(&secret.value.as_str()) {
                errors.push(
                    &secret.referenced,
                    format!(
                        "notification `{name}` names secret `{}`{}, which is not under `secrets`",
                        secret.value,
                        hint(&secret.value, &known.secrets)
                    ),
                );
            }
        }
        out.push(Notification {
            name: name.clone(),
            kind,
            url: n.url.value.clone(),
            events,
            secret: n.secret.as_ref().map(|s| s.value.clone()),
        });
    }
    out
}

/// Checks the shape of an `http` or `https` URL: scheme, host, optional port, then anything.
fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("expected an http:// or https:// URL")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space or a control character");
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err("it holds credentials: use `secret` to sign the body instead");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or("an IPv6 host must end with `]`")?;
            if host.is_empty() || !host.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
                return Err("the IPv6 host is not valid");
            }
            let port = match after {
                "" => None,
                after => Some(
                    after
                        .strip_prefix(':')
                        .ok_or("expected `:` and a port after the IPv6 host")?,
                ),
            };
            (host, port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !authority.starts_with('[') && (host.is_empty() || !host.split('.').all(label_ok)) {
        return Err("expected a host name or address after the scheme");
    }
    if let Some(port) = port
        && !matches!(port.parse::<u16>(), Ok(p) if p > 0)
    {
        return Err("the port must be a number from 1 to 65535");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::parse_platform;
    use crate::policy::tests::{MARKETS, POLICIES, errors, platform};
    use jiff::civil::date;

    #[test]
    fn parses_approvals_freezes_and_notifications() {
        let p = platform(POLICIES);
        assert_eq!(p.approval_after("pilot").map(|a| a.role), Some(Role::Operator));
        assert_eq!(p.approval_after("asia").map(|a| a.role), Some(Role::Admin));
        assert_eq!(p.approval_after("america"), None);

        let names: Vec<&str> = p.freezes.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["weekend", "friday-afternoon", "holidays-fr", "black-friday"]);
        assert_eq!(
            p.freezes[1].window,
            FreezeWindow::Weekly {
                days: vec![Day::Fri],
                from: Some(Time::constant(16, 0, 0, 0)),
                to: None
            }
        );
        assert_eq!(p.freezes[2].markets, ["fr"]);
        assert_eq!(
            p.freezes[2].window,
            FreezeWindow::Dates {
                dates: vec![date(2026, 12, 25), date(2027, 1, 1)]
            }
        );
        assert_eq!(
            p.freezes[3].window,
            FreezeWindow::Range {
                from: date(2026, 11, 27).at(0, 0, 0, 0),
                to: date(2026, 11, 30).at(0, 0, 0, 0)
            }
        );

        let slack = &p.notifications[0];
        assert_eq!(slack.kind, NotificationKind::Slack);
        assert!(slack.wants(Event::Rollback));
        assert!(!slack.wants(Event::ApprovalRequested));
        let audit = &p.notifications[1];
        assert_eq!(audit.kind, NotificationKind::Webhook);
        assert_eq!(audit.events, Event::ALL, "no `events` means every event");
        assert_eq!(audit.secret.as_deref(), Some("HOOK_SECRET"));
        let for_approval: Vec<&str> = p
            .notifications_for(Event::ApprovalRequested)
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(for_approval, ["audit"]);
    }

    #[test]
    fn approval_errors_name_their_line() {
        let err = errors(
            "\
approvals:
  - after: pilto
  - { after: america }
  - { after: asia, role: root }
  - { after: asia }
",
        );
        let expected = [
            "p.yml:12:12: approval after unknown wave `pilto` (did you mean `pilot`?): expected one of pilot, asia, america",
            "p.yml:13:14: approval after wave `america`, the last wave: no wave follows it to wait; name the wave before the one to hold",
            "p.yml:14:26: approval after wave `asia`: unknown role `root`: expected viewer, developer, operator or admin",
            "p.yml:15:14: an approval after wave `asia` is declared twice (first at line 14)",
        ];
        assert_eq!(err, expected.join("\n"));
    }

    #[test]
    fn the_rest_wave_can_be_named_and_held_before() {
        let text = MARKETS.replace("  - { name: america, markets: [us] }\n", "");
        let p = parse_platform("p.yml", &format!("{text}approvals:\n  - after: asia\n")).unwrap();
        assert_eq!(p.approval_after("asia").map(|a| a.role), Some(Role::Operator));
        let err = parse_platform("p.yml", &format!("{text}approvals:\n  - after: rest\n")).unwrap_err();
        assert!(
            err.to_string()
                .contains("p.yml:11:12: approval after wave `rest`, the last wave"),
            "{err}"
        );
    }

    #[test]
    fn freeze_errors_name_their_line() {
        let err = errors(
            "\
freezes:
  - name: weekend
    markets: [fr, fx]
    weekly: { days: [sat, sunday, sn] }
  - name: weekend
    weekly: { days: [fri], from: \"16h\", to: \"25:00\" }
  - name: evening
    weekly: { days: [mon], from: \"18:00\", to: \"09:00\" }
  - name: never
    weekly: { days: [] }
  - name: always
    weekly: { days: [mon, tue, wed, thu, fri, sat, sun] }
  - name: holidays
    dates: [\"2026-02-30\", \"25/12/2026\"]
  - name: empty
    dates: []
  - name: backwards
    from: \"2026-11-30T00:00\"
    to: \"2026-11-27T00:00\"
  - name: half
    from: \"2026-11-27 00:00\"
  - name: both
    dates: [\"2026-12-25\"]
    weekly: { days: [sun] }
  - name: nothing
  - name: Bad_Name
    dates: [\"2026-12-25\"]
",
        );
        let expected = [
            "p.yml:13:19: freeze `weekend` names unknown market `fx` (did you mean `fr`?): declare it under `markets` first",
            "p.yml:14:35: freeze `weekend`: unknown day `sn` (did you mean `sun`?): expected mon, tue, wed, thu, fri, sat, sun (or the full names)",
            "p.yml:15:11: freeze `weekend` is declared twice (first at line 12)",
            "p.yml:16:34: freeze `weekend`: time `16h` is not valid: expected HH:MM such as `16:00`",
            "p.yml:16:45: freeze `weekend`: time `25:00` is not valid: expected HH:MM such as `16:00`",
            "p.yml:18:47: freeze `evening` ends before it starts: `to` must be after `from` on the same day",
            "p.yml:20:21: freeze `never` has no day",
            "p.yml:22:13: freeze `always` holds every whole day of the week: no rollout could ever deploy",
            "p.yml:24:13: freeze `holidays`: date `2026-02-30` is not valid: expected YYYY-MM-DD such as `2026-12-25`",
            "p.yml:24:27: freeze `holidays`: date `25/12/2026` is not valid: expected YYYY-MM-DD such as `2026-12-25`",
            "p.yml:26:12: freeze `empty` has no date",
            "p.yml:29:9: freeze `backwards` ends before it starts: `to` must be after `from`",
            "p.yml:30:11: freeze `half` has no `to`: a range needs both `from` and `to`",
            "p.yml:31:11: freeze `half`: `from` `2026-11-27 00:00` is not valid: expected a local date and time YYYY-MM-DDTHH:MM such as `2026-11-27T00:00`",
            "p.yml:32:11: freeze `both` has more than one of `weekly`, `dates` and `from`/`to`: split it into one freeze each",
            "p.yml:35:11: freeze `nothing` does not say when it holds: give one of `weekly`, `dates` or `from` and `to`",
            "p.yml:36:11: freeze name `Bad_Name` is not valid: expected lower-case letters, digits and dashes",
        ];
        assert_eq!(err, expected.join("\n"));
    }

    #[test]
    fn notification_errors_name_their_line() {
        let err = errors(
            "\
notifications:
  - name: chat
    kind: slak
    url: ftp://example.com/hook
    events: [rollout.halted, incident.open]
  - name: chat
    kind: slack
    url: https://hooks.example.com/x
    secret: HOOK_SECRET
  - name: signed
    kind: webhook
    url: \"https://user:pw@example.com/\"
    events: []
    secret: HOOK_SECRT
  - name: ports
    kind: webhook
    url: http://example.com:99999/x
  - name: hostless
    kind: webhook
    url: https:///path
",
        );
        let expected = [
            "p.yml:13:11: notification `chat`: unknown kind `slak` (did you mean `slack`?): expected slack or webhook",
            "p.yml:14:10: notification `chat`: url `ftp://example.com/hook` is not valid: expected an http:// or https:// URL",
            "p.yml:15:30: notification `chat`: unknown event `incident.open` (did you mean `incident.opened`?): expected rollout.halted, rollout.blocked, rollout.succeeded, rollback, incident.opened, incident.resolved, approval.requested, market.launched",
            "p.yml:16:11: notification `chat` is declared twice (first at line 12)",
            "p.yml:19:13: notification `chat`: a slack notification cannot have a `secret` (Slack does not check signatures); use kind `webhook` or remove it",
            "p.yml:22:10: notification `signed`: url `https://user:pw@example.com/` is not valid: it holds credentials: use `secret` to sign the body instead",
            "p.yml:23:13: notification `signed` has no event: leave out `events` to get every event",
            "p.yml:24:13: notification `signed` names secret `HOOK_SECRT` (did you mean `HOOK_SECRET`?), which is not under `secrets`",
            "p.yml:27:10: notification `ports`: url `http://example.com:99999/x` is not valid: the port must be a number from 1 to 65535",
            "p.yml:30:10: notification `hostless`: url `https:///path` is not valid: expected a host name or address after the scheme",
        ];
        assert_eq!(err, expected.join("\n"));
    }

    #[test]
    fn urls_are_checked_by_shape() {
        for good in [
            "http://127.0.0.1:9/hook",
            "https://hooks.slack.com/services/T0/B0/x?y=1",
            "http://localhost",
            "http://[::1]:8080/x",
            "https://my-host.example.com#frag",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "hooks.slack.com/x",
            "http://",
            "http://exa mple.com",
            "http://-bad.com",
            "http://a..b",
            "http://host:0",
            "http://host:port",
            "http://[::1",
            "http://[zz]/",
            "http://[::1]8080",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
