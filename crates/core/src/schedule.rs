//! Cron schedules: parsing a service's `schedules` entries and finding when each fires next.
//! Times are UTC, in Unix milliseconds like everything the store keeps.

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// A parsed cron expression: five fields (minute hour day-of-month month day-of-week), or six
/// with seconds first.
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    /// Parses `text`; the error says what is wrong and shows the expected shape.
    pub fn parse(text: &str) -> Result<Self, String> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| {
                let e = e.to_string();
                let e = e.trim_end_matches('.');
                format!(
                    "cron expression `{text}` is not valid: {e}; expected five fields \
                     (minute hour day-of-month month day-of-week, such as `0 3 * * *`) \
                     or six with seconds first"
                )
            })?;
        Ok(Self {
            text: text.to_string(),
            cron,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time strictly after `after_ms` (Unix ms, UTC) when the schedule fires, if any.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        // Whole seconds: croner keeps a start time's fraction in the times it returns.
        let after: DateTime<Utc> = DateTime::from_timestamp(after_ms.div_euclid(1000), 0)?;
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-05T02:59:30Z, a Monday.
    const MONDAY_0259_30: i64 = 1_767_581_970_000;

    #[test]
    fn five_fields_fire_on_the_minute_in_utc() {
        let s = Schedule::parse("0 3 * * *").unwrap();
        assert_eq!(s.next_after(MONDAY_0259_30), Some(MONDAY_0259_30 + 30_000));
        // Exactly at a fire time, the next one is a day later.
        let at = MONDAY_0259_30 + 30_000;
        assert_eq!(s.next_after(at), Some(at + 86_400_000));
    }

    #[test]
    fn six_fields_have_seconds_first() {
        let s = Schedule::parse("*/10 * * * * *").unwrap();
        assert_eq!(s.next_after(MONDAY_0259_30), Some(MONDAY_0259_30 + 10_000));
        assert_eq!(s.next_after(MONDAY_0259_30 + 1), Some(MONDAY_0259_30 + 10_000));
    }

    #[test]
    fn weekdays_and_names_are_understood() {
        let s = Schedule::parse("30 8 * * MON-FRI").unwrap();
        let next = s.next_after(MONDAY_0259_30).unwrap();
        assert_eq!(next - MONDAY_0259_30, (5 * 3600 + 30 * 60 + 30) * 1000);
        let s = Schedule::parse("0 0 * * SUN").unwrap();
        assert_eq!(
            s.next_after(MONDAY_0259_30),
            Some(MONDAY_0259_30 + (5 * 86_400 + 21 * 3600 + 30) * 1000)
        );
    }

    #[test]
    fn bad_expressions_are_explained() {
        for bad in ["", "every day", "61 * * * *", "* * * *", "0 3 * * * * 2030"] {
            let err = Schedule::parse(bad).unwrap_err();
            assert!(err.contains(&format!("cron expression `{bad}` is not valid")), "{err}");
            assert!(err.contains("expected five fields"), "{err}");
        }
    }
}
