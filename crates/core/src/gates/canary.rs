//! `gates.canary` in `tandem.yml`: real traffic shifted to a market's new release in steps.
//! With the `process` driver each market has a front (a reverse proxy in Tandem on the market's
//! own port); after its probe passes, the new release gets each step's share of the market's
//! requests, and every step is judged by the metric gates on the new release's own metrics
//! (so on its share of real traffic). A step that fails sends every request back to the
//! release the market runs, in one move. With the `command` driver the user's load balancer
//! does the shifting: `deploy.shift` is run at each step with the share in `TANDEM_WEIGHT`.

use crate::error::Collector;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// `gates.canary`: the shares of a market's requests its new release gets, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    /// Percentages, increasing, each from 1 to 100; after the last the release is promoted
    /// (100 %).
    pub steps: Vec<u8>,
}

/// The most steps a canary may have.
const MOST_STEPS: usize = 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCanary {
    steps: Spanned<Vec<Spanned<RawShare>>>,
}

/// `5%`, `5 %` or `5`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawShare {
    Number(u64),
    Text(String),
}

/// Validates `gates.canary`, every problem reported with its place.
pub(crate) fn check_canary(errors: &mut Collector<'_>, raw: RawCanary) -> Canary {
    let mut steps: Vec<u8> = Vec::new();
    if raw.steps.value.is_empty() {
        errors.push(
            &raw.steps.referenced,
            "`gates.canary.steps` is empty: give the shares of traffic, such as `[5%, 25%, 100%]`",
        );
    }
    if raw.steps.value.len() > MOST_STEPS {
        errors.push(
            &raw.steps.referenced,
            format!("`gates.canary.steps` has more than {MOST_STEPS} steps"),
        );
    }
    for step in &raw.steps.value {
        let share = match &step.value {
            RawShare::Number(n) => Some(*n),
            RawShare::Text(t) => t.trim().trim_end_matches('%').trim().parse::<u64>().ok(),
        };
        let shown = match &step.value {
            RawShare::Number(n) => n.to_string(),
            RawShare::Text(t) => t.clone(),
        };
        match share {
            Some(p @ 1..=100) => {
                let p = p as u8;
                if steps.last().is_some_and(|last| p <= *last) {
                    errors.push(
                        &step.referenced,
                        format!(
                            "canary step `{shown}` does not increase: each step sends more traffic than the one before"
                        ),
                    );
                } else {
                    steps.push(p);
                }
            }
            _ => errors.push(
                &step.referenced,
                format!("canary step `{shown}` is not a share of traffic: expected 1% to 100%, such as `5%`"),
            ),
        }
    }
    Canary { steps }
}

#[cfg(test)]
mod tests {
    use crate::pipeline::parse_service_spec;

    fn spec(driver: &str, gates: &str) -> String {
        format!(
            "service: shop
pipeline:
  jobs:
    build:
      steps:
        - run: make
deploy:
  driver: {driver}
  run: \"shop --port {{port}}\"
gates:
{gates}"
        )
    }

    const METRICS: &str = "  metrics:
    checks:
      - name: errors
        error-ratio: { errors: 'http_total{code=~\"5..\"}', total: http_total }
        max: 1%
";

    #[test]
    fn steps_are_shares_of_traffic_written_as_people_write_them() {
        let text = spec(
            "process",
            &format!("{METRICS}  canary:\n    steps: [5%, 25 %, 50, 100%]\n"),
        );
        let s = parse_service_spec("tandem.yml", &text).unwrap();
        assert_eq!(s.gates.canary.unwrap().steps, [5, 25, 50, 100]);
    }

    #[test]
    fn every_bad_step_and_a_canary_without_what_it_needs_are_reported_with_their_places() {
        let text = spec(
            "process",
            &format!("{METRICS}  canary:\n    steps: [25%, 5%, 0%, 150%, lots]\n"),
        );
        let errors = parse_service_spec("tandem.yml", &text).unwrap_err().to_string();
        for want in [
            "tandem.yml:17:18: canary step `5%` does not increase",
            "tandem.yml:17:22: canary step `0%` is not a share of traffic: expected 1% to 100%",
            "tandem.yml:17:26: canary step `150%` is not a share of traffic",
            "tandem.yml:17:32: canary step `lots` is not a share of traffic",
        ] {
            assert!(errors.contains(want), "missing {want:?} in:\n{errors}");
        }
        let errors = parse_service_spec("tandem.yml", &spec("command", "  canary:\n    steps: [5%]\n"))
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("tandem.yml:12:5: `gates.canary` needs `gates.metrics`"),
            "{errors}"
        );
        assert!(
            errors.contains("`gates.canary` with the `command` driver needs `deploy.shift`"),
            "{errors}"
        );
        assert!(
            errors.contains("`gates.canary` with the `command` driver needs `deploy.url`"),
            "{errors}"
        );
    }

    #[test]
    fn the_command_driver_shifts_traffic_through_its_hook_and_the_process_driver_has_none() {
        let text = format!(
            "{}  shift: ./weight.sh\n  url: \"https://{{market}}-canary.shop.example\"\ngates:\n{METRICS}  canary:\n    steps: [10%, 50%]\n",
            spec("command", "").trim_end_matches("gates:\n")
        );
        let s = parse_service_spec("tandem.yml", &text).unwrap();
        assert_eq!(s.deploy.unwrap().shift.as_deref(), Some("./weight.sh"));
        assert_eq!(s.gates.canary.unwrap().steps, [10, 50]);

        let text = format!(
            "{}  shift: ./weight.sh\ngates:\n{METRICS}",
            spec("process", "").trim_end_matches("gates:\n")
        );
        let errors = parse_service_spec("tandem.yml", &text).unwrap_err().to_string();
        assert!(
            errors.contains("`deploy.shift` applies to the `command` driver only"),
            "{errors}"
        );
    }
}
