//! Scripted histories whose keys are worked out by hand in the comments, and properties of any
//! history. Times are in hours from the window's start unless said otherwise.

use super::*;
use proptest::prelude::*;

const H: i64 = HOUR_MS;

/// A production deployment of `shop` that is not a rollback; times and commits in hours.
fn deployment(id: i64, market: &str, wave: Option<u32>, kind: ChangeKind, hours: (i64, i64)) -> Deployment {
    Deployment {
        id,
        service: "shop".into(),
        market: market.into(),
        wave,
        kind,
        rollback: false,
        started_at: hours.0 * H,
        finished_at: hours.1 * H,
        outcome: Outcome::Succeeded,
        production: true,
        commit_times: Vec::new(),
        recovered_at: None,
    }
}

fn with(mut d: Deployment, outcome: Outcome, commit_hours: &[i64]) -> Deployment {
    d.outcome = outcome;
    d.commit_times = commit_hours.iter().map(|h| h * H).collect();
    d
}

fn incident(id: i64, deployment_id: Option<i64>, opened_at: i64, resolved_at: Option<i64>) -> Incident {
    Incident {
        id,
        service: "shop".into(),
        market: "fr".into(),
        deployment_id,
        opened_at,
        resolved_at,
    }
}

fn window(from_hours: i64, to_hours: i64) -> Window {
    Window::new(from_hours * H, to_hours * H).unwrap()
}

use ChangeKind::{Code, Config};
use Outcome::{Failed, RolledBack, Succeeded};

/// Ten days, two markets (fr: wave 1, be: wave 2), ten counted deployments:
///
/// | id | market | wave | kind | start → finish | outcome | commits at | lead times |
/// |---|---|---|---|---|---|---|---|
/// | 1 | fr | 1 | code | 9 → 10 | succeeded | 8, 6 | 2, 4 |
/// | 2 | be | 2 | code | 11 → 12 | succeeded | 8, 6 (the same commits, in be) | 4, 6 |
/// | 3 | fr | 1 | code | 23 → 24 | rolled back | 20 | (none: rolled back) |
/// | 4 | fr | – | code | 25 → 26 | succeeded, a rollback (not counted) | | |
/// | 5 | fr | 1 | config | 47 → 48 | succeeded, 2 incidents | 40 | 8 |
/// | 6 | fr | 1 | code | 71 → 72 | succeeded | 48, 70, 71 | 24, 2, 1 |
/// | 7 | be | 2 | code | 95 → 96 | failed (never served) | 90 | (none: failed) |
/// | 8 | be | 2 | code | 119 → 120 | succeeded | 100 | 20 |
/// | 9 | be | 2 | config | 143 → 144 | succeeded, 1 open incident | 143 | 1 |
/// | 10 | fr | 1 | code | 167 → 168 | succeeded | 160, 120 | 8, 48 |
/// | 13 | fr | – | code | 200 → 201 | succeeded (a hotfix by hand) | 199 | 1 |
///
/// Not counted: 0 (finished before the window), 11 (staging), 12 (finished after the window).
/// Incidents: 101 on 3 (24.5 → 30), 102 and 103 on 5 (49 → 52, 50 → 60), 104 on 9 (150 → open),
/// 105 on no deployment (100 → 101).
fn ten_days() -> (Vec<Deployment>, Vec<Incident>) {
    let mut rollback = deployment(4, "fr", None, Code, (25, 26));
    rollback.rollback = true;
    let mut staging = with(deployment(11, "fr", Some(1), Code, (100, 101)), Succeeded, &[90]);
    staging.production = false;
    let deployments = vec![
        with(deployment(0, "fr", Some(1), Code, (-5, -4)), Succeeded, &[-10]),
        with(deployment(1, "fr", Some(1), Code, (9, 10)), Succeeded, &[8, 6]),
        with(deployment(2, "be", Some(2), Code, (11, 12)), Succeeded, &[8, 6]),
        with(deployment(3, "fr", Some(1), Code, (23, 24)), RolledBack, &[20]),
        rollback,
        with(deployment(5, "fr", Some(1), Config, (47, 48)), Succeeded, &[40]),
        with(deployment(6, "fr", Some(1), Code, (71, 72)), Succeeded, &[48, 70, 71]),
        with(deployment(7, "be", Some(2), Code, (95, 96)), Failed, &[90]),
        with(deployment(8, "be", Some(2), Code, (119, 120)), Succeeded, &[100]),
        with(deployment(9, "be", Some(2), Config, (143, 144)), Succeeded, &[143]),
        with(deployment(10, "fr", Some(1), Code, (167, 168)), Succeeded, &[160, 120]),
        staging,
        with(deployment(12, "fr", Some(1), Code, (241, 242)), Succeeded, &[230]),
        with(deployment(13, "fr", None, Code, (200, 201)), Succeeded, &[199]),
    ];
    let incidents = vec![
        incident(101, Some(3), 24 * H + H / 2, Some(30 * H)),
        incident(102, Some(5), 49 * H, Some(52 * H)),
        incident(103, Some(5), 50 * H, Some(60 * H)),
        incident(104, Some(9), 150 * H, None),
        incident(105, None, 100 * H, Some(101 * H)),
    ];
    (deployments, incidents)
}

#[test]
fn ten_days_in_two_markets() {
    let (deployments, incidents) = ten_days();
    let history = History::new(&deployments, &incidents);
    let keys = history.compute_keys(&Filter::new(window(0, 240)));

    // 10 counted in 10 days: 1 a day, 7 a week. Exactly one a day is not "multiple": High.
    let frequency = DeploymentFrequency {
        deployments: 10,
        per_day: 1.0,
        per_week: 7.0,
        level: Some(Level::High),
    };
    assert_eq!(keys.deployment_frequency, frequency);

    // Lead times in hours, sorted: 1 1 1 2 2 4 4 6 8 8 20 24 48 (n = 13).
    // Median: rank ⌈6.5⌉ = 7 → 4 h (High). p90: rank ⌈11.7⌉ = 12 → 24 h.
    let lead_time = LeadTime {
        commits: 13,
        median_ms: Some(4 * H),
        p90_ms: Some(24 * H),
        level: Some(Level::High),
    };
    assert_eq!(keys.lead_time, lead_time);

    // Failed: 3 (rolled back), 5 (two incidents, counted once), 7 (failed), 9 (incident) = 4 of 10.
    // Incident 105 has no deployment: it counts zero (5 incidents / 10 would say 0.5).
    let failure = ChangeFailureRate {
        failed: 4,
        deployments: 10,
        rate: Some(0.4),
        level: Some(Level::Low),
    };
    assert_eq!(keys.change_failure_rate, failure);

    // 3: live at 24, hurt from its incident 101 at 24.5; rollback 4 restores fr at 26 (before
    //    101 is resolved at 30) → 1.5 h.
    // 5: live at 48, hurt from incident 102 at 49; both incidents resolved at 60 (before
    //    deployment 6 at 72) → 11 h.
    // 7: never served, so from its start at 95 to deployment 8 at 120 → 25 h.
    // 9: incident 104 still open and no later deployment to be → unrecovered.
    // Median of 1.5, 11, 25: rank ⌈1.5⌉ = 2 → 11 h (High: under a day).
    let recovery = RecoveryTime {
        recovered: 3,
        unrecovered: 1,
        median_ms: Some(11 * H),
        level: Some(Level::High),
    };
    assert_eq!(keys.recovery_time, recovery);
}

#[test]
fn ten_days_grouped_by_market_service_and_wave() {
    let (deployments, incidents) = ten_days();
    let history = History::new(&deployments, &incidents);
    let filter = Filter::new(window(0, 240));
    let grouped = history.compute_grouped_keys(&filter);
    assert_eq!(grouped.total, history.compute_keys(&filter));
    assert_eq!(grouped.by_market.keys().collect::<Vec<_>>(), ["be", "fr"]);

    // fr: 1 3 5 6 10 13; failed 3 and 5 → 2/6 (33 %: Low).
    // Lead times 1 1 2 2 4 8 8 24 48: median rank 5 → 4 h, p90 rank ⌈8.1⌉ = 9 → 48 h.
    // Recoveries 1.5 h and 11 h: median rank 1 → 1.5 h.
    let fr = &grouped.by_market["fr"];
    assert_eq!(fr.deployment_frequency.deployments, 6);
    assert_eq!(fr.deployment_frequency.level, Some(Level::High)); // one per 40 h
    assert_eq!(
        (fr.change_failure_rate.failed, fr.change_failure_rate.level),
        (2, Some(Level::Low))
    );
    assert_eq!(
        (fr.lead_time.commits, fr.lead_time.median_ms, fr.lead_time.p90_ms),
        (9, Some(4 * H), Some(48 * H))
    );
    assert_eq!(
        (fr.recovery_time.recovered, fr.recovery_time.median_ms),
        (2, Some(3 * H / 2))
    );

    // be: 2 7 8 9; failed 7 and 9 → 2/4. Lead times 1 4 6 20: median rank 2 → 4 h, p90 rank 4
    // → 20 h. Recovered: 7 in 25 h (a day or more: Medium); 9 unrecovered.
    let be = &grouped.by_market["be"];
    let failure = ChangeFailureRate {
        failed: 2,
        deployments: 4,
        rate: Some(0.5),
        level: Some(Level::Low),
    };
    assert_eq!(be.change_failure_rate, failure);
    assert_eq!(
        (be.lead_time.median_ms, be.lead_time.p90_ms),
        (Some(4 * H), Some(20 * H))
    );
    let recovery = RecoveryTime {
        recovered: 1,
        unrecovered: 1,
        median_ms: Some(25 * H),
        level: Some(Level::Medium),
    };
    assert_eq!(be.recovery_time, recovery);

    // One service: its group is the total.
    assert_eq!(grouped.by_service.len(), 1);
    assert_eq!(grouped.by_service["shop"], grouped.total);

    // Waves: 1 = fr without the hotfix 13 (5), 2 = be (4); 13 has no wave, so 9 of 10.
    // Wave 1 lead times 1 2 2 4 8 8 24 48: median rank 4 → 4 h, p90 rank ⌈7.2⌉ = 8 → 48 h.
    assert_eq!(grouped.by_wave.keys().collect::<Vec<_>>(), [&1, &2]);
    let wave1 = &grouped.by_wave[&1];
    assert_eq!(
        (wave1.deployment_frequency.deployments, wave1.change_failure_rate.failed),
        (5, 2)
    );
    assert_eq!(
        (wave1.lead_time.median_ms, wave1.lead_time.p90_ms),
        (Some(4 * H), Some(48 * H))
    );
    assert_eq!(grouped.by_wave[&2], grouped.by_market["be"]);
}

#[test]
fn ten_days_filtered_by_kind_market_and_wave() {
    let (deployments, incidents) = ten_days();
    let history = History::new(&deployments, &incidents);
    let all = Filter::new(window(0, 240));

    // Config: 5 and 9, both failed → 2/2. Lead times 1 h and 8 h: median rank 1 → 1 h, which is
    // not under an hour: High. Recovery: 5 in 11 h; 9 unrecovered.
    let config = history.compute_keys(&all.clone().kind(Config));
    assert_eq!(config.deployment_frequency.deployments, 2);
    assert_eq!(config.change_failure_rate.rate, Some(1.0));
    let lead_time = LeadTime {
        commits: 2,
        median_ms: Some(H),
        p90_ms: Some(8 * H),
        level: Some(Level::High),
    };
    assert_eq!(config.lead_time, lead_time);
    assert_eq!(
        (config.recovery_time.recovered, config.recovery_time.unrecovered),
        (1, 1)
    );

    // Code: 1 2 3 6 7 8 10 13; failed 3 and 7 → 2/8 = 25 % (High). Lead times
    // 1 1 2 2 4 4 6 8 20 24 48: median rank 6 → 4 h, p90 rank ⌈9.9⌉ = 10 → 24 h.
    // Recoveries 1.5 h (3) and 25 h (7): median rank 1 → 1.5 h.
    let code = history.compute_keys(&all.clone().kind(Code));
    let failure = ChangeFailureRate {
        failed: 2,
        deployments: 8,
        rate: Some(0.25),
        level: Some(Level::High),
    };
    assert_eq!(code.change_failure_rate, failure);
    assert_eq!(
        (code.lead_time.commits, code.lead_time.median_ms, code.lead_time.p90_ms),
        (11, Some(4 * H), Some(24 * H))
    );
    assert_eq!(code.recovery_time.median_ms, Some(3 * H / 2));

    // Market be and wave 2 are the same four deployments; wave 1 and code: 1 3 6 10, failed 3.
    assert_eq!(
        history.compute_keys(&all.clone().market("be")),
        history.compute_keys(&all.clone().wave(2))
    );
    let wave1_code = history.compute_keys(&all.clone().wave(1).kind(Code));
    assert_eq!(
        (
            wave1_code.deployment_frequency.deployments,
            wave1_code.change_failure_rate.failed
        ),
        (4, 1)
    );
    assert_eq!(
        history
            .compute_keys(&all.clone().service("search"))
            .deployment_frequency
            .deployments,
        0
    );

    // A market with nothing: zero deployments and no level anywhere.
    let none = history.compute_keys(&all.clone().market("de"));
    assert_eq!(
        none.deployment_frequency,
        DeploymentFrequency {
            deployments: 0,
            per_day: 0.0,
            per_week: 0.0,
            level: None
        }
    );
    assert_eq!(
        none.lead_time,
        LeadTime {
            commits: 0,
            median_ms: None,
            p90_ms: None,
            level: None
        }
    );
    assert_eq!(none.change_failure_rate.rate, None);
    assert_eq!(
        none.recovery_time,
        RecoveryTime {
            recovered: 0,
            unrecovered: 0,
            median_ms: None,
            level: None
        }
    );

    // The window is half-open: [24 h, 48 h) holds 3 (finished at 24) but not 5 (at 48).
    let day1 = history.compute_keys(&Filter::new(window(24, 48)));
    assert_eq!(
        (day1.deployment_frequency.deployments, day1.change_failure_rate.failed),
        (1, 1)
    );
}

#[test]
fn ten_days_as_a_series() {
    let (deployments, incidents) = ten_days();
    let history = History::new(&deployments, &incidents);
    let filter = Filter::new(window(0, 240));

    // By day, on finish times: day 0 has 1 and 2; 3 finished at 24 h exactly, so it is day 1's;
    // then one a day (5, 6, 7, 8, 9, 10), 13 on day 8, nothing on day 9.
    let days = history.compute_series(&filter, Bucket::Day).unwrap();
    let counts: Vec<u64> = days.iter().map(|b| b.keys.deployment_frequency.deployments).collect();
    assert_eq!(counts, [2, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    assert_eq!((days[1].from, days[1].to), (24 * H, 48 * H));
    assert_eq!(days[1].keys.change_failure_rate.rate, Some(1.0));
    assert_eq!(days[1].keys.recovery_time.median_ms, Some(3 * H / 2));
    assert_eq!(days[0].keys.deployment_frequency.per_day, 2.0);

    // By week: [0, 168 h) holds 8; the last bucket is cut at the window's end, [168 h, 240 h),
    // and its rate is over its own 3 days: 10 and 13 → 2/3 a day.
    let weeks = history.compute_series(&filter, Bucket::Week).unwrap();
    assert_eq!(weeks.len(), 2);
    assert_eq!(weeks[0].keys.deployment_frequency.deployments, 8);
    assert_eq!((weeks[1].from, weeks[1].to), (168 * H, 240 * H));
    assert_eq!(weeks[1].keys.deployment_frequency.deployments, 2);
    assert_eq!(weeks[1].keys.deployment_frequency.per_day, 2.0 / 3.0);
}

#[test]
fn recovery_skips_a_succeeded_deployment_that_failed_itself() {
    // fr: 1 rolled back at 10; 2 succeeded at 11 but caused an incident (resolved at 50);
    // 3 succeeded at 13. For 1, 2 is not a restoration: 3 is → 3 h. For 2: 3 at 13 comes
    // before its incident's resolution → 2 h. Median of 2 h, 3 h: rank 1 → 2 h.
    let deployments = vec![
        with(deployment(1, "fr", Some(1), Code, (9, 10)), RolledBack, &[]),
        with(deployment(2, "fr", Some(1), Code, (10, 11)), Succeeded, &[]),
        with(deployment(3, "fr", Some(1), Code, (12, 13)), Succeeded, &[]),
    ];
    let incidents = [incident(1, Some(2), 11 * H, Some(50 * H))];
    let keys = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.change_failure_rate.failed, keys.change_failure_rate.deployments),
        (2, 3)
    );
    assert_eq!(keys.recovery_time.median_ms, Some(2 * H));
    let only_first = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 11)));
    assert_eq!(only_first.recovery_time.median_ms, Some(3 * H));
}

#[test]
fn restoration_is_a_fact_of_the_market_not_of_the_filter() {
    // A code deployment to fr, rolled back at 10 h, is restored by a config deployment finished at
    // 30 h, outside both the window [0, 24 h) and the filter (code only): 20 h all the same.
    // Another market's deployment (be at 12 h) restores nothing in fr.
    let deployments = vec![
        with(deployment(1, "fr", Some(1), Code, (9, 10)), RolledBack, &[]),
        with(deployment(2, "be", Some(1), Code, (11, 12)), Succeeded, &[]),
        with(deployment(3, "fr", Some(1), Config, (29, 30)), Succeeded, &[]),
    ];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)).kind(Code));
    assert_eq!(keys.deployment_frequency.deployments, 2);
    assert_eq!(keys.recovery_time.median_ms, Some(20 * H));
}

#[test]
fn a_failure_with_incidents_is_restored_when_all_of_them_are_resolved() {
    // Live at 10 h, two incidents; no later deployment. One open → unrecovered; both resolved
    // (at 12 h and 15 h) → restored at the later, 5 h.
    let deployments = [with(deployment(1, "fr", Some(1), Code, (9, 10)), Succeeded, &[])];
    let filter = Filter::new(window(0, 24));
    let open = [
        incident(1, Some(1), 10 * H, Some(12 * H)),
        incident(2, Some(1), 11 * H, None),
    ];
    let keys = History::new(&deployments, &open).compute_keys(&filter);
    assert_eq!((keys.recovery_time.recovered, keys.recovery_time.unrecovered), (0, 1));
    assert_eq!(keys.recovery_time.level, None);
    let resolved = [
        incident(1, Some(1), 10 * H, Some(12 * H)),
        incident(2, Some(1), 11 * H, Some(15 * H)),
    ];
    let keys = History::new(&deployments, &resolved).compute_keys(&filter);
    assert_eq!(keys.recovery_time.median_ms, Some(5 * H));
}

#[test]
fn a_commit_stamped_after_its_deployment_counts_as_no_wait() {
    // Clock skew: a commit "made" an hour after the deployment finished has lead time 0, not −1 h.
    let deployments = [with(deployment(1, "fr", Some(1), Code, (9, 10)), Succeeded, &[11, 8])];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.lead_time.median_ms, keys.lead_time.p90_ms),
        (Some(0), Some(2 * H))
    );
}

#[test]
fn windows_and_series_refuse_what_they_cannot_show() {
    assert_eq!(Window::new(5, 5), Err(DoraError::EmptyWindow { from: 5, to: 5 }));
    assert!(
        Window::new(6, 5)
            .unwrap_err()
            .to_string()
            .contains("give a `to` later than `from`")
    );
    let filter = Filter::new(Window::new(0, (MAX_BUCKETS + 1) * DAY_MS).unwrap());
    let err = History::new(&[], &[]).compute_series(&filter, Bucket::Day).unwrap_err();
    assert_eq!(
        err,
        DoraError::TooManyBuckets {
            bucket: Bucket::Day,
            buckets: MAX_BUCKETS + 1,
            max: MAX_BUCKETS
        }
    );
    assert!(
        err.to_string()
            .starts_with("a series by day over this window has 1001 buckets")
    );
    assert_eq!(
        History::new(&[], &[])
            .compute_series(&filter, Bucket::Week)
            .unwrap()
            .len(),
        143
    );
}

#[test]
fn durations_read_the_same_on_every_page() {
    assert_eq!(show_duration(30), "30 ms");
    assert_eq!(show_duration(3_600), "3.6 s");
    assert_eq!(show_duration(42_000), "42 s");
    assert_eq!(show_duration(12 * 60_000 + 5_000), "12 min");
    assert_eq!(show_duration(5 * H + 12 * 60_000), "5.2 h");
    assert_eq!(show_duration(3 * DAY_MS + 10 * H), "3.4 d");
    assert_eq!(show_duration(-5), "0 ms");
}

#[test]
fn keys_serialize_as_the_api_returns_them() {
    let (deployments, incidents) = ten_days();
    let keys = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 240)));
    let json = serde_json::to_value(&keys).unwrap();
    assert_eq!(
        json["change_failure_rate"],
        serde_json::json!({"failed": 4, "deployments": 10, "rate": 0.4, "level": "low"})
    );
    assert_eq!(json["lead_time"]["median_ms"], 4 * H);
    assert_eq!(json["recovery_time"]["unrecovered"], 1);
}

// One test per rule of docs/metrics.md, each on a small history worked out by hand.

#[test]
fn a_deployment_counts_when_production_not_a_rollback_and_finished_in_the_window() {
    // Window [0, 24 h). Counted: 1 (finished at 0, the window's first instant). Not counted:
    // 2 (staging), 3 (a rollback), 4 (finished at 24 h: the next window's), 5 (before).
    let mut staging = deployment(2, "fr", Some(1), Code, (1, 2));
    staging.production = false;
    let mut rollback = deployment(3, "fr", None, Code, (3, 4));
    rollback.rollback = true;
    let deployments = [
        deployment(1, "fr", Some(1), Code, (-1, 0)),
        staging,
        rollback,
        deployment(4, "fr", Some(1), Code, (23, 24)),
        deployment(5, "fr", Some(1), Code, (-3, -2)),
    ];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(keys.deployment_frequency.deployments, 1);
    assert_eq!(keys.change_failure_rate.deployments, 1);
}

#[test]
fn a_rollback_is_not_a_change_but_restores_its_market() {
    // 1 went live at 10 h and was rolled back by hand: rollback 2 went live at 12 h. One change
    // (1), failed; the rollback is not counted, and restores fr: 12 − 10 = 2 h.
    let mut rollback = deployment(2, "fr", None, Code, (11, 12));
    rollback.rollback = true;
    let deployments = [
        with(deployment(1, "fr", Some(1), Code, (9, 10)), RolledBack, &[8]),
        rollback,
    ];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.change_failure_rate.failed, keys.change_failure_rate.deployments),
        (1, 1)
    );
    assert_eq!(keys.recovery_time.median_ms, Some(2 * H));
    assert_eq!(keys.lead_time.commits, 0, "a rolled-back change delivered nothing");
}

#[test]
fn a_config_rollback_by_hand_is_not_a_change_but_restores_its_market() {
    // Config v2 went live in fr at 10 h; someone rolled fr back to v1 by hand at 13 h. The
    // store reads that as a rollback of kind config: one config change, failed, restored in 3 h.
    let mut back = deployment(2, "fr", None, Config, (12, 13));
    back.rollback = true;
    let deployments = [
        with(deployment(1, "fr", Some(1), Config, (9, 10)), RolledBack, &[5]),
        back,
    ];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)).kind(Config));
    assert_eq!(
        (keys.change_failure_rate.failed, keys.change_failure_rate.deployments),
        (1, 1)
    );
    assert_eq!(keys.recovery_time.median_ms, Some(3 * H));
}

#[test]
fn a_failed_change_is_rolled_back_never_served_or_linked_to_an_incident() {
    // 1 rolled back, 2 never served, 3 linked to an incident, 4 good: 3 of 4 failed.
    let deployments = [
        with(deployment(1, "fr", Some(1), Code, (1, 2)), RolledBack, &[]),
        with(deployment(2, "be", Some(1), Code, (3, 4)), Failed, &[]),
        deployment(3, "nl", Some(1), Code, (5, 6)),
        deployment(4, "lu", Some(1), Code, (7, 8)),
    ];
    let incidents = [incident(1, Some(3), 7 * H, Some(8 * H))];
    let keys = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.change_failure_rate.failed, keys.change_failure_rate.deployments),
        (3, 4)
    );
}

#[test]
fn a_change_with_two_incidents_fails_once_and_an_unlinked_incident_fails_none() {
    // 1 has two incidents, 2 none; incident 3 is linked to no deployment: 1 of 2, not 3 of 2.
    let deployments = [
        deployment(1, "fr", Some(1), Code, (1, 2)),
        deployment(2, "fr", Some(1), Code, (3, 4)),
    ];
    let incidents = [
        incident(1, Some(1), 2 * H, Some(3 * H)),
        incident(2, Some(1), 2 * H, Some(3 * H)),
        incident(3, None, 5 * H, None),
    ];
    let keys = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(keys.change_failure_rate.rate, Some(0.5));
}

#[test]
fn lead_time_counts_each_commit_of_each_succeeded_change_once_per_market() {
    // The same commits (at 1 h and 2 h) reach fr at 4 h and be at 6 h: leads 3 2 5 4. A failed
    // deployment's commits (at 0 h, in nl) give none. Sorted 2 3 4 5: median rank 2 → 3 h.
    let deployments = [
        with(deployment(1, "fr", Some(1), Code, (3, 4)), Succeeded, &[1, 2]),
        with(deployment(2, "be", Some(2), Code, (5, 6)), Succeeded, &[1, 2]),
        with(deployment(3, "nl", Some(2), Code, (5, 6)), Failed, &[0]),
    ];
    let keys = History::new(&deployments, &[]).compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.lead_time.commits, keys.lead_time.median_ms, keys.lead_time.p90_ms),
        (4, Some(3 * H), Some(5 * H))
    );
}

#[test]
fn a_change_that_never_served_hurts_from_its_start() {
    // Started at 10 h, failed its gate at 11 h, the next good deployment at 14 h: 4 h.
    let deployments = [
        with(deployment(1, "fr", Some(1), Code, (10, 11)), Failed, &[]),
        deployment(2, "fr", Some(1), Code, (13, 14)),
    ];
    let history = History::new(&deployments, &[]);
    let restore = Restore {
        hurt_from: 10 * H,
        restored_at: Some(14 * H),
    };
    assert_eq!(history.restore_of(1), Some(restore));
    assert_eq!(restore.recovery_ms(), Some(4 * H));
}

#[test]
fn a_change_that_served_hurts_from_its_first_incident_not_from_going_live() {
    // Live at 10 h, served well for a day; incidents at 34 h and 35 h, resolved at 36 h and
    // 38 h: hurt 34 → 38, 4 h (not the 28 h since it went live). An incident opened before it
    // went live (at 9 h, linked by hand to 2, live at 50 h) counts from 50 h.
    let deployments = [
        deployment(1, "fr", Some(1), Code, (9, 10)),
        deployment(2, "be", Some(1), Code, (49, 50)),
    ];
    let incidents = [
        incident(1, Some(1), 35 * H, Some(36 * H)),
        incident(2, Some(1), 34 * H, Some(38 * H)),
        incident(3, Some(2), 9 * H, Some(51 * H)),
    ];
    let history = History::new(&deployments, &incidents);
    assert_eq!(history.restore_of(1).and_then(|r| r.recovery_ms()), Some(4 * H));
    assert_eq!(history.restore_of(2).map(|r| r.hurt_from), Some(50 * H));
    assert_eq!(history.restore_of(2).and_then(|r| r.recovery_ms()), Some(H));
}

#[test]
fn a_change_that_never_served_is_restored_by_its_markets_own_recovery() {
    // 1 and 2 failed their gates in one wave (started at 10 h); the halt opened one incident,
    // on 1, still open. Each market's previous release answered again: fr at 11 h, be at 12 h.
    // Neither waits for the next good release (fr at 30 h): 1 h and 2 h, median 1 h.
    let mut fr = with(deployment(1, "fr", Some(1), Code, (10, 11)), Failed, &[]);
    fr.recovered_at = Some(11 * H);
    let mut be = with(deployment(2, "be", Some(1), Code, (10, 11)), Failed, &[]);
    be.recovered_at = Some(12 * H);
    let deployments = [fr, be, deployment(3, "fr", Some(1), Code, (29, 30))];
    let incidents = [incident(1, Some(1), 11 * H, None)];
    let history = History::new(&deployments, &incidents);
    assert_eq!(history.restore_of(2).and_then(|r| r.recovery_ms()), Some(2 * H));
    let keys = history.compute_keys(&Filter::new(window(0, 24)));
    assert_eq!(
        (keys.recovery_time.recovered, keys.recovery_time.median_ms),
        (2, Some(H))
    );
}

#[test]
fn every_restore_time_shown_is_the_one_the_medians_are_made_of() {
    // In the ten days, each failed deployment's restore_of is what the keys' median is made of:
    // 3 → 1.5 h, 5 → 11 h, 7 → 25 h, 9 → not restored; 1 (good) and 4 (a rollback) have none.
    let (deployments, incidents) = ten_days();
    let history = History::new(&deployments, &incidents);
    let recovery = |id| history.restore_of(id).map(|r| r.recovery_ms());
    assert_eq!(recovery(3), Some(Some(3 * H / 2)));
    assert_eq!(recovery(5), Some(Some(11 * H)));
    assert_eq!(recovery(7), Some(Some(25 * H)));
    assert_eq!(recovery(9), Some(None));
    assert_eq!((recovery(1), recovery(4)), (None, None));
    let fr = history.compute_keys(&Filter::new(window(0, 240)).market("fr"));
    assert_eq!(fr.recovery_time.median_ms, Some(3 * H / 2));
}

/// Any small history: 3 markets, 2 services, waves, all outcomes, rollbacks, staging, skews.
fn any_history() -> impl Strategy<Value = (Vec<Deployment>, Vec<Incident>)> {
    let deployment = (
        (0usize..3, 0usize..2, prop::option::of(1u32..4), any::<bool>()),
        (0u8..3, 0u8..10, 0i64..500, 0i64..5),
        prop::collection::vec(-50i64..10, 0..4),
    );
    let deployments = prop::collection::vec(deployment, 0..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, ((market, service, wave, config), (outcome, flags, start, took), commits))| {
                    let finished_at = (start + took) * H;
                    Deployment {
                        id: i as i64,
                        service: ["shop", "search"][service].into(),
                        market: ["fr", "be", "ch"][market].into(),
                        wave,
                        kind: if config { Config } else { Code },
                        rollback: flags == 0,
                        started_at: start * H,
                        finished_at,
                        outcome: [Succeeded, RolledBack, Failed][usize::from(outcome)],
                        production: flags != 1,
                        commit_times: commits.into_iter().map(|c| finished_at + c * H).collect(),
                        recovered_at: (outcome == 2 && flags == 2).then_some(finished_at + H),
                    }
                },
            )
            .collect::<Vec<_>>()
    });
    let row = (prop::option::of(0i64..45), 0i64..600, prop::option::of(0i64..100));
    let incidents = prop::collection::vec(row, 0..15).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (deployment_id, opened, took))| {
                incident(i as i64, deployment_id, opened * H, took.map(|t| (opened + t) * H))
            })
            .collect::<Vec<_>>()
    });
    (deployments, incidents)
}

/// Deployments, failed, commits, recovered and unrecovered of some keys, to add up.
fn counts(keys: &Keys) -> [u64; 5] {
    [
        keys.deployment_frequency.deployments,
        keys.change_failure_rate.failed,
        keys.lead_time.commits,
        keys.recovery_time.recovered,
        keys.recovery_time.unrecovered,
    ]
}

fn sum<'k>(groups: impl Iterator<Item = &'k Keys>) -> [u64; 5] {
    groups.fold([0; 5], |mut total, keys| {
        total.iter_mut().zip(counts(keys)).for_each(|(t, c)| *t += c);
        total
    })
}

proptest! {
    #[test]
    fn change_failure_rate_is_a_fraction_of_the_deployments((deployments, incidents) in any_history()) {
        let keys = History::new(&deployments, &incidents).compute_keys(&Filter::new(window(0, 600)));
        let cfr = &keys.change_failure_rate;
        prop_assert!(cfr.failed <= cfr.deployments);
        prop_assert_eq!(cfr.rate.is_some(), cfr.deployments > 0);
        prop_assert!(cfr.rate.is_none_or(|r| (0.0..=1.0).contains(&r)));
        prop_assert_eq!(keys.recovery_time.recovered + keys.recovery_time.unrecovered, cfr.failed);
    }

    #[test]
    fn groups_and_buckets_add_up_to_the_total((deployments, incidents) in any_history()) {
        let history = History::new(&deployments, &incidents);
        let filter = Filter::new(window(0, 600));
        let grouped = history.compute_grouped_keys(&filter);
        let total = counts(&grouped.total);
        prop_assert_eq!(&grouped.total, &history.compute_keys(&filter));
        prop_assert_eq!(sum(grouped.by_market.values()), total);
        prop_assert_eq!(sum(grouped.by_service.values()), total);
        prop_assert!(sum(grouped.by_wave.values()).iter().zip(total).all(|(w, t)| *w <= t));
        for (market, keys) in &grouped.by_market {
            prop_assert_eq!(keys, &history.compute_keys(&filter.clone().market(market.as_str())));
        }
        let days = history.compute_series(&filter, Bucket::Day).unwrap();
        prop_assert_eq!(sum(days.iter().map(|b| &b.keys)), total);
    }
}
