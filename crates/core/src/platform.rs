//! The platform file: markets, waves and services, the release policies (approvals,
//! freezes, notifications, see `policy`) and single sign-on (`sso`), loaded and validated by
//! `tandem serve`.

use crate::error::Key;
use crate::error::{Collector, SpecErrors};
use crate::policy::changes::ChangePolicy;
use crate::policy::check::{Known, RawApproval, RawFreeze, RawNotification};
use crate::policy::{Approval, Freeze, Notification};
use crate::sso::{RawSso, Sso, check_sso};
pub use crate::state::LaunchState;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};

/// A deployment target, usually a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Market {
    pub id: String,
    pub name: String,
    pub region: String,
    pub currency: String,
    pub locale: String,
    pub timezone: String,
    pub state: LaunchState,
}

/// An ordered group of markets a change goes through together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wave {
    pub name: String,
    pub markets: Vec<String>,
}

/// Config values kept per layer: defaults, then region, then market.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigLayers {
    #[serde(default)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub regions: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub markets: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// What starts a service's pipeline besides a person or the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Name of the secret (under `secrets`) that signs this service's push webhooks.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// How often to poll the repository for new commits on the branch, such as `30s`.
    #[serde(default)]
    pub poll: Option<String>,
    /// Cron expressions (UTC) that start a run of the branch head.
    #[serde(default)]
    pub schedules: Vec<String>,
}

/// Where a secret's value comes from besides Tandem's secrets store. The platform file names
/// it; it never holds the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// The server's environment variable holding the value, if any; a value set in Tandem's
    /// secrets store wins over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// A deployable application with a git repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// A local path (absolute, or relative to the platform file) or a URL.
    pub repo: String,
    pub branch: String,
    pub config: ConfigLayers,
    #[serde(default)]
    pub triggers: Triggers,
}

/// The whole validated platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    pub markets: Vec<Market>,
    pub waves: Vec<Wave>,
    pub services: Vec<Service>,
    /// Secrets by name: what steps and webhooks may use, and where each value comes from.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
    /// Between waves: the wave after `after` waits for a person's approval.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// When no rollout deploys into a market, in that market's time zone.
    #[serde(default)]
    pub freezes: Vec<Freeze>,
    /// Where to tell people about rollouts, rollbacks, incidents and approvals.
    #[serde(default)]
    pub notifications: Vec<Notification>,
    /// Who approves config and flag change requests.
    #[serde(default)]
    pub changes: ChangePolicy,
    /// Sign-in through the company's OpenID Connect provider, if set up.
    #[serde(default)]
    pub sso: Option<Sso>,
}

impl Platform {
    pub fn market(&self, id: &str) -> Option<&Market> {
        self.markets.iter().find(|m| m.id == id)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    markets: Vec<Spanned<RawMarket>>,
    #[serde(default)]
    waves: Vec<RawWave>,
    #[serde(default)]
    services: Vec<RawService>,
    #[serde(default)]
    secrets: BTreeMap<Key, SecretSource>,
    #[serde(default)]
    approvals: Vec<RawApproval>,
    #[serde(default)]
    freezes: Vec<RawFreeze>,
    #[serde(default)]
    notifications: Vec<RawNotification>,
    #[serde(default)]
    changes: ChangePolicy,
    #[serde(default)]
    sso: Option<RawSso>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    id: Spanned<String>,
    name: String,
    region: String,
    currency: Spanned<String>,
    locale: String,
    timezone: Spanned<String>,
    #[serde(default = "default_state")]
    state: LaunchState,
}

fn default_state() -> LaunchState {
    LaunchState::Live
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWave {
    name: Spanned<String>,
    markets: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    repo: String,
    #[serde(default = "default_branch")]
    branch: String,
    #[serde(default)]
    config: ConfigLayers,
    #[serde(default)]
    triggers: Option<Spanned<Triggers>>,
}

fn default_branch() -> String {
    "main".to_string()
}

/// Parses and validates a platform file; `file` names it in errors.
///
/// Every problem found is returned at once, each with its line and column.
pub fn parse_platform(file: &str, text: &str) -> Result<Platform, SpecErrors> {
    let (raw, structural) = crate::pipeline::keys::read::<RawPlatform>(file, text, &[])?;
    let mut errors = Collector::new(file);
    for e in structural {
        errors.push_at(e.line, e.column, e.message);
    }

    let mut seen: HashMap<String, serde_saphyr::Location> = HashMap::new();
    for m in &raw.markets {
        let id = &m.value.id;
        if !is_market_id(&id.value) {
            errors.push(
                &id.referenced,
                format!(
                    "market id `{}` is not valid: expected a lower-case ISO 3166 alpha-2 code such as `fr`",
                    id.value
                ),
            );
        }
        if let Some(first) = seen.insert(id.value.clone(), id.referenced) {
            errors.push(
                &id.referenced,
                format!(
                    "market `{}` is declared twice (first at line {})",
                    id.value,
                    first.line()
                ),
            );
        }
        let cur = &m.value.currency;
        if cur.value.len() != 3 || !cur.value.chars().all(|c| c.is_ascii_uppercase()) {
            errors.push(
                &cur.referenced,
                format!(
                    "currency `{}` is not valid: expected an ISO 4217 code such as `EUR`",
                    cur.value
                ),
            );
        }
        let tz = &m.value.timezone;
        if let Err(message) = crate::policy::check_time_zone(&tz.value) {
            errors.push(&tz.referenced, format!("market `{}`: {message}", id.value));
        }
    }
    if raw.markets.is_empty() {
        errors.push(
            &serde_saphyr::Location::UNKNOWN,
            "the platform declares no market: expected at least one under `markets`",
        );
    }

    let mut wave_names: HashMap<String, u64> = HashMap::new();
    let mut in_wave: HashMap<String, String> = HashMap::new();
    for w in &raw.waves {
        if let Some(line) = wave_names.insert(w.name.value.clone(), w.name.referenced.line()) {
            errors.push(
                &w.name.referenced,
                format!("wave `{}` is declared twice (first at line {line})", w.name.value),
            );
        }
        if w.markets.value.is_empty() {
            errors.push(&w.markets.referenced, format!("wave `{}` has no market", w.name.value));
        }
        for m in &w.markets.value {
            if !seen.contains_key(&m.value) {
                errors.push(
                    &m.referenced,
                    format!(
                        "wave `{}` names unknown market `{}`: declare it under `markets` first",
                        w.name.value, m.value
                    ),
                );
            } else if let Some(other) = in_wave.insert(m.value.clone(), w.name.value.clone()) {
                errors.push(
                    &m.referenced,
                    format!(
                        "market `{}` is in wave `{}` and again in wave `{}`: a market belongs to one wave",
                        m.value, other, w.name.value
                    ),
                );
            }
        }
    }

    let mut service_names: HashMap<String, u64> = HashMap::new();
    for s in &raw.services {
        if let Some(line) = service_names.insert(s.name.value.clone(), s.name.referenced.line()) {
            errors.push(
                &s.name.referenced,
                format!("service `{}` is declared twice (first at line {line})", s.name.value),
            );
        }
        if !is_name(&s.name.value) {
            errors.push(
                &s.name.referenced,
                format!(
                    "service name `{}` is not valid: expected lower-case letters, digits and dashes",
                    s.name.value
                ),
            );
        }
        if let Some(t) = &s.triggers {
            if let Some(name) = &t.value.webhook_secret
                && !raw.secrets.keys().any(|k| &k.0.value == name)
            {
                errors.push(
                    &t.referenced,
                    format!(
                        "service `{}` names webhook secret `{name}`, which is not under `secrets`",
                        s.name.value
                    ),
                );
            }
            if let Some(poll) = &t.value.poll {
                match crate::pipeline::parse_duration(poll) {
                    Ok(d) if d.as_secs() < 1 => errors.push(
                        &t.referenced,
                        format!("poll interval `{poll}` is too short: at least 1s"),
                    ),
                    Ok(_) => {}
                    Err(e) => errors.push(&t.referenced, format!("`poll`: {e}")),
                }
            }
            for expr in &t.value.schedules {
                if let Err(e) = crate::schedule::Schedule::parse(expr) {
                    errors.push(&t.referenced, format!("service `{}`: `schedules`: {e}", s.name.value));
                }
            }
        }
        for market in s.config.markets.keys() {
            if !seen.contains_key(market) {
                errors.push(
                    &s.name.referenced,
                    format!("service `{}` sets config for unknown market `{market}`", s.name.value),
                );
            }
        }
    }

    for Key(name) in raw.secrets.keys() {
        if !is_secret_name(&name.value) {
            errors.push(
                &name.referenced,
                format!("secret name `{}` is not valid: expected upper-case letters, digits and `_`, such as `REGISTRY_TOKEN`", name.value),
            );
        }
    }

    let mut plan: Vec<&str> = raw.waves.iter().map(|w| w.name.value.as_str()).collect();
    if raw.markets.iter().any(|m| !in_wave.contains_key(&m.value.id.value)) {
        plan.push("rest");
    }
    let known = Known {
        waves: plan,
        markets: raw.markets.iter().map(|m| m.value.id.value.as_str()).collect(),
        secrets: raw.secrets.keys().map(|k| k.0.value.as_str()).collect(),
    };
    let approvals = crate::policy::check::check_approvals(&raw.approvals, &known, &mut errors);
    let freezes = crate::policy::check::check_freezes(&raw.freezes, &known, &mut errors);
    let notifications = crate::policy::check::check_notifications(&raw.notifications, &known, &mut errors);
    let sso = raw.sso.map(|s| check_sso(s, &mut errors));

    let platform = Platform {
        markets: raw
            .markets
            .into_iter()
            .map(|m| {
                let m = m.value;
                Market {
                    id: m.id.value,
                    name: m.name,
                    region: m.region,
                    currency: m.currency.value,
                    locale: m.locale,
                    timezone: m.timezone.value,
                    state: m.state,
                }
            })
            .collect(),
        waves: raw
            .waves
            .into_iter()
            .map(|w| Wave {
                name: w.name.value,
                markets: w.markets.value.into_iter().map(|m| m.value).collect(),
            })
            .collect(),
        services: raw
            .services
            .into_iter()
            .map(|s| Service {
                name: s.name.value,
                repo: s.repo,
                branch: s.branch,
                config: s.config,
                triggers: s.triggers.map(|t| t.value).unwrap_or_default(),
            })
            .collect(),
        secrets: raw.secrets.into_iter().map(|(k, v)| (k.0.value, v)).collect(),
        approvals,
        freezes,
        notifications,
        changes: raw.changes,
        sso,
    };
    errors.finish(platform)
}

/// Whether `name` can name a secret (it becomes an environment variable of the steps using it).
pub fn is_secret_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_market_id(id: &str) -> bool {
    id.len() == 2 && id.chars().all(|c| c.is_ascii_lowercase())
}

/// Whether `name` is a valid service or job name.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: be, name: Belgium, region: west, currency: EUR, locale: fr-BE, timezone: Europe/Brussels, state: planned }
waves:
  - { name: pilot, markets: [fr] }
  - { name: benelux, markets: [be] }
services:
  - name: shop
    repo: ./shop
    config:
      defaults: { vat_rate: 0.2 }
      markets: { be: { vat_rate: 0.21 } }
";

    #[test]
    fn parses_a_good_platform() {
        let p = parse_platform("platform.yml", GOOD).unwrap();
        assert_eq!(p.markets.len(), 2);
        assert_eq!(p.markets[1].state, LaunchState::Planned);
        assert_eq!(p.waves[1].markets, ["be"]);
        assert_eq!(p.services[0].branch, "main");
        assert_eq!(p.services[0].config.markets["be"]["vat_rate"], 0.21);
    }

    #[test]
    fn reports_every_semantic_error_with_its_place() {
        let text = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
  - { id: fr, name: France, region: west, currency: eur, locale: fr-FR, timezone: Europe/Paris }
waves:
  - { name: pilot, markets: [fr, xx] }
services: []
";
        let err = parse_platform("p.yml", text).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains("p.yml:3:11: market `fr` is declared twice (first at line 2)"),
            "{shown}"
        );
        assert!(shown.contains("p.yml:3:"), "{shown}");
        assert!(shown.contains("currency `eur` is not valid"), "{shown}");
        assert!(
            shown.contains("p.yml:5:34: wave `pilot` names unknown market `xx`"),
            "{shown}"
        );
        assert_eq!(err.0.len(), 3);
    }

    #[test]
    fn unknown_keys_and_bad_yaml_name_the_line() {
        let err = parse_platform("p.yml", "markets: []\nwaevs: []\n").unwrap_err();
        // Reported with the rest: here, that the platform declares no market.
        let unknown = err.0.iter().find(|e| e.message.contains("waevs")).unwrap();
        assert_eq!(unknown.line, 2, "{err}");
        assert!(unknown.message.contains("(did you mean `waves`?)"), "{err}");

        let err = parse_platform("p.yml", "markets:\n  - { id: fr\n").unwrap_err();
        assert!(err.0[0].line >= 2, "{err}");
    }

    #[test]
    fn unknown_keys_at_every_level_are_reported_with_the_rest() {
        let text = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris, stat: live }
waves:
  - { name: pilot, markets: [fr, de] }
services:
  - name: shop
    repo: ./shop
    brnach: main
    triggers: { pol: 30s }
secrets:
  HOOK: { env: X, value: y }
approvals:
  - { after: pilot, rol: ops }
";
        let err = parse_platform("p.yml", text).unwrap_err();
        let shown: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "p.yml:2:97: unknown field `stat`, expected one of `id`, `name`, `region`, `currency`, `locale`, `timezone`, `state` (did you mean `state`?)",
                "p.yml:4:34: wave `pilot` names unknown market `de`: declare it under `markets` first",
                "p.yml:8:5: unknown field `brnach`, expected one of `name`, `repo`, `branch`, `config`, `triggers` (did you mean `branch`?)",
                "p.yml:9:17: unknown field `pol`, expected one of `webhook_secret`, `poll`, `schedules` (did you mean `poll`?)",
                "p.yml:11:19: unknown field `value`, expected `env`",
                "p.yml:13:14: approval after wave `pilot`, the last wave: no wave follows it to wait; name the wave before the one to hold",
                "p.yml:13:21: unknown field `rol`, expected `after` or `role` (did you mean `role`?)",
            ]
        );
    }

    #[test]
    fn triggers_and_secrets_are_checked() {
        let text = format!(
            "{GOOD}    triggers: {{ webhook_secret: SHOP_HOOK, poll: 30s, schedules: [\"0 3 * * *\"] }}\nsecrets:\n  SHOP_HOOK: {{ env: TANDEM_SHOP_HOOK }}\n  DEPLOY_TOKEN: {{}}\n"
        );
        let p = parse_platform("p.yml", &text).unwrap();
        assert_eq!(p.secrets["DEPLOY_TOKEN"].env, None, "kept in the secrets store only");
        assert_eq!(p.services[0].triggers.webhook_secret.as_deref(), Some("SHOP_HOOK"));
        assert_eq!(p.secrets["SHOP_HOOK"].env.as_deref(), Some("TANDEM_SHOP_HOOK"));

        let bad = format!(
            "{GOOD}    triggers: {{ webhook_secret: NOPE, poll: soon, schedules: [\"0 25 * * *\"] }}\nsecrets:\n  bad-name: {{ env: X }}\n"
        );
        let err = parse_platform("p.yml", &bad).unwrap_err().to_string();
        assert!(
            err.contains("names webhook secret `NOPE`, which is not under `secrets`"),
            "{err}"
        );
        assert!(err.contains("`poll`: duration `soon` is not valid"), "{err}");
        assert!(err.contains("secret name `bad-name` is not valid"), "{err}");
        assert!(
            err.contains("p.yml:13:15: service `shop`: `schedules`: cron expression `0 25 * * *` is not valid"),
            "{err}"
        );
    }

    #[test]
    fn a_market_time_zone_must_be_known() {
        let text = GOOD.replace("timezone: Europe/Brussels", "timezone: Europe/Brussel");
        let err = parse_platform("p.yml", &text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.yml:3:84: market `be`: time zone `Europe/Brussel` is not a known IANA time zone (did you mean `Europe/Brussels`?): expected a name such as `Europe/Paris`"
        );
        let text = GOOD.replace("timezone: Europe/Paris", "timezone: CET+1");
        let err = parse_platform("p.yml", &text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.yml:2:83: market `fr`: time zone `CET+1` is not a known IANA time zone"),
            "{err}"
        );
    }

    #[test]
    fn a_market_in_two_waves_is_refused() {
        let text = GOOD.replace("markets: [be]", "markets: [be, fr]");
        let err = parse_platform("p.yml", &text).unwrap_err();
        assert!(
            err.to_string()
                .contains("market `fr` is in wave `pilot` and again in wave `benelux`"),
            "{err}"
        );
    }
}
