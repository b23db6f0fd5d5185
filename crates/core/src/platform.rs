//! The platform file: markets, waves and services, the release policies (approvals,
//! freezes, notifications, see `policy`) and single sign-on (`sso`), loaded and validated by
//! `tandem serve`.

use crate::error::Key;
use crate::error::{Collector, SpecErrors};
use crate::names::{MARKET_ID_EXPECTED, is_market_id, is_name, is_secret_name};
use crate::policy::changes::{ChangePolicy, FlagPolicy};
use crate::policy::check::{Known, RawApproval, RawFreeze, RawNotification};
use crate::policy::{Approval, Event, Freeze, FreezeHit, Notification, time_zone};
use crate::sso::{RawSso, Sso, check_sso};
pub use crate::state::LaunchState;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};

/// How many freeze windows `next_unfrozen` hops over before it gives up: a market frozen for good
/// (say, every whole day by two weekly freezes) must not loop forever. Weekends, holidays and
/// ranges chained end to end need a handful.
const MAX_FREEZE_HOPS: usize = 1000;

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
    /// Who may kill a flag in an emergency.
    #[serde(default)]
    pub flags: FlagPolicy,
    /// Sign-in through the company's OpenID Connect provider, if set up.
    #[serde(default)]
    pub sso: Option<Sso>,
    /// How many markets deploy at once, in all and per service.
    #[serde(default)]
    pub rollouts: crate::rollout::RolloutLimits,
}

impl Platform {
    pub fn market(&self, id: &str) -> Option<&Market> {
        self.markets.iter().find(|m| m.id == id)
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

impl Platform {
    /// The approval asked for once `wave` has finished, before the next wave starts.
    pub fn approval_after(&self, wave: &str) -> Option<&Approval> {
        self.approvals.iter().find(|a| a.after == wave)
    }

    /// The first freeze (in file order) holding `market` at `at`, on the market's clock.
    ///
    /// An unknown market has no freeze; a market whose stored time zone is unknown is read in UTC.
    pub fn active_freeze(&self, market: &str, at: Timestamp) -> Option<FreezeHit> {
        self.active_freeze_of(self.market(market)?, at)
    }

    /// [`Platform::active_freeze`] for a market already found (no search through the markets).
    pub fn active_freeze_of(&self, m: &Market, at: Timestamp) -> Option<FreezeHit> {
        if self.freezes.is_empty() {
            return None;
        }
        let market = m.id.as_str();
        let tz = time_zone(&m.timezone).unwrap_or(TimeZone::UTC);
        let (freeze, until) = self
            .freezes
            .iter()
            .filter(|f| f.covers(market))
            .find_map(|f| f.ends_after(&tz, at).map(|until| (f, until)))?;
        let local = at.to_zoned(tz).strftime("%A %H:%M").to_string();
        Some(FreezeHit {
            name: freeze.name.clone(),
            until,
            local: format!("{local} in {}", m.timezone),
        })
    }

    /// The first instant at or after `at` when no freeze holds `market`.
    ///
    /// Hops from the end of one freeze to the next; if the market stays frozen for
    /// `MAX_FREEZE_HOPS` windows in a row, returns where the search stopped.
    pub fn next_unfrozen(&self, market: &str, at: Timestamp) -> Timestamp {
        let mut t = at;
        for _ in 0..MAX_FREEZE_HOPS {
            match self.active_freeze(market, t) {
                Some(hit) => t = hit.until,
                None => return t,
            }
        }
        t
    }

    /// The notifications that want `event`.
    pub fn notifications_for(&self, event: Event) -> impl Iterator<Item = &Notification> {
        self.notifications.iter().filter(move |n| n.wants(event))
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
    flags: Option<Spanned<FlagPolicy>>,
    #[serde(default)]
    sso: Option<RawSso>,
    #[serde(default)]
    rollouts: Option<crate::rollout::RawRolloutLimits>,
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
    let markets = check_markets(&raw.markets, &mut errors);
    let in_wave = check_waves(&raw.waves, &markets, &mut errors);
    check_services(&raw.services, &markets, &raw.secrets, &mut errors);
    check_secret_names(&raw.secrets, &mut errors);

    let known = known_names(&raw, &in_wave);
    let approvals = crate::policy::check::check_approvals(&raw.approvals, &known, &mut errors);
    let freezes = crate::policy::check::check_freezes(&raw.freezes, &known, &mut errors);
    let notifications = crate::policy::check::check_notifications(&raw.notifications, &known, &mut errors);
    let sso = raw.sso.map(|s| check_sso(s, &mut errors));
    let service_names: Vec<&str> = raw.services.iter().map(|s| s.name.value.as_str()).collect();
    let rollouts = crate::rollout::check_limits(raw.rollouts, &service_names, &mut errors);
    let flags = raw.flags.map(|f| {
        if f.value.emergency_role == crate::role::Role::Viewer {
            errors.push(
                &f.referenced,
                "flags: `emergency-role` is viewer, who changes nothing: name developer, operator or admin",
            );
        }
        f.value
    });

    let platform = Platform {
        markets: raw.markets.into_iter().map(|m| market_of(m.value)).collect(),
        waves: raw.waves.into_iter().map(wave_of).collect(),
        services: raw.services.into_iter().map(service_of).collect(),
        secrets: raw.secrets.into_iter().map(|(k, v)| (k.0.value, v)).collect(),
        approvals,
        freezes,
        notifications,
        changes: raw.changes,
        flags: flags.unwrap_or_default(),
        sso,
        rollouts,
    };
    errors.finish(platform)
}

/// Checks `markets`: ids, currencies and time zones, each id declared once, at least one market.
/// Returns where each market id is declared.
fn check_markets(
    markets: &[Spanned<RawMarket>],
    errors: &mut Collector<'_>,
) -> HashMap<String, serde_saphyr::Location> {
    let mut seen: HashMap<String, serde_saphyr::Location> = HashMap::new();
    for m in markets {
        let id = &m.value.id;
        if !is_market_id(&id.value) {
            errors.push(
                &id.referenced,
                format!("market id `{}` is not valid: {MARKET_ID_EXPECTED}", id.value),
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
    if markets.is_empty() {
        errors.push(
            &serde_saphyr::Location::UNKNOWN,
            "the platform declares no market: expected at least one under `markets`",
        );
    }
    seen
}

/// Checks `waves`: each declared once, not empty, naming known markets, each market in one wave.
/// Returns the wave of each market placed in one.
fn check_waves(
    waves: &[RawWave],
    markets: &HashMap<String, serde_saphyr::Location>,
    errors: &mut Collector<'_>,
) -> HashMap<String, String> {
    let mut wave_names: HashMap<String, u64> = HashMap::new();
    let mut in_wave: HashMap<String, String> = HashMap::new();
    for w in waves {
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
            if !markets.contains_key(&m.value) {
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
    in_wave
}

/// Checks `services`: names declared once and valid, their triggers, and config for known markets.
fn check_services(
    services: &[RawService],
    markets: &HashMap<String, serde_saphyr::Location>,
    secrets: &BTreeMap<Key, SecretSource>,
    errors: &mut Collector<'_>,
) {
    let mut service_names: HashMap<String, u64> = HashMap::new();
    for s in services {
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
        if let Some(problem) = repo_url_problem(&s.repo) {
            errors.push(
                &s.name.referenced,
                format!("service `{}`: `repo` {problem}", s.name.value),
            );
        }
        if let Some(t) = &s.triggers {
            check_triggers(&s.name.value, t, secrets, errors);
        }
        for market in s.config.markets.keys() {
            if !markets.contains_key(market) {
                errors.push(
                    &s.name.referenced,
                    format!("service `{}` sets config for unknown market `{market}`", s.name.value),
                );
            }
        }
    }
}

/// Checks one service's `triggers`: a declared webhook secret, a poll interval of 1s or more,
/// cron schedules that parse.
fn check_triggers(
    service: &str,
    t: &Spanned<Triggers>,
    secrets: &BTreeMap<Key, SecretSource>,
    errors: &mut Collector<'_>,
) {
    if let Some(name) = &t.value.webhook_secret
        && !secrets.keys().any(|k| &k.0.value == name)
    {
        errors.push(
            &t.referenced,
            format!("service `{service}` names webhook secret `{name}`, which is not under `secrets`"),
        );
    }
    if let Some(poll) = &t.value.poll {
        match crate::duration::parse_duration(poll) {
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
            errors.push(&t.referenced, format!("service `{service}`: `schedules`: {e}"));
        }
    }
}

/// Checks the names under `secrets`: each becomes an environment variable.
fn check_secret_names(secrets: &BTreeMap<Key, SecretSource>, errors: &mut Collector<'_>) {
    for Key(name) in secrets.keys() {
        if !is_secret_name(&name.value) {
            errors.push(
                &name.referenced,
                format!("secret name `{}` is not valid: expected upper-case letters, digits and `_`, such as `REGISTRY_TOKEN`", name.value),
            );
        }
    }
}

/// The waves (with `rest` when some market is in none), markets and secrets the policies may name.
fn known_names<'a>(raw: &'a RawPlatform, in_wave: &HashMap<String, String>) -> Known<'a> {
    let mut plan: Vec<&str> = raw.waves.iter().map(|w| w.name.value.as_str()).collect();
    if raw.markets.iter().any(|m| !in_wave.contains_key(&m.value.id.value)) {
        plan.push("rest");
    }
    Known {
        waves: plan,
        markets: raw.markets.iter().map(|m| m.value.id.value.as_str()).collect(),
        secrets: raw.secrets.keys().map(|k| k.0.value.as_str()).collect(),
    }
}

/// The market as the platform keeps it, its places dropped.
fn market_of(m: RawMarket) -> Market {
    Market {
        id: m.id.value,
        name: m.name,
        region: m.region,
        currency: m.currency.value,
        locale: m.locale,
        timezone: m.timezone.value,
        state: m.state,
    }
}

/// The wave as the platform keeps it, its places dropped.
fn wave_of(w: RawWave) -> Wave {
    Wave {
        name: w.name.value,
        markets: w.markets.value.into_iter().map(|m| m.value).collect(),
    }
}

/// The service as the platform keeps it; no `triggers` means the default ones.
fn service_of(s: RawService) -> Service {
    Service {
        name: s.name.value,
        repo: s.repo,
        branch: s.branch,
        config: s.config,
        triggers: s.triggers.map(|t| t.value).unwrap_or_default(),
    }
}

/// The URL of a remote repository: `repo` when it is a URL other than `file://` (a `file://`
/// URL or a path is read in place). The engine reads a remote repository through a mirror.
pub fn remote_repo_url(repo: &str) -> Option<&str> {
    (repo.contains("://") && !repo.starts_with("file://")).then_some(repo)
}

/// `url` without its user and password, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url_userinfo(url) {
        Some((scheme_end, at)) => format!("{}{}", &url[..scheme_end], &url[at + 1..]),
        None => url.to_string(),
    }
}

/// Where the user part of `url` starts (after `://`) and where its `@` is, if it has one.
fn url_userinfo(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    let at = url[start..authority_end].rfind('@')?;
    Some((start, start + at))
}

/// Why a repository URL may not stand in the platform file: a credential in it would be
/// logged and stored with the platform.
fn repo_url_problem(repo: &str) -> Option<String> {
    let url = remote_repo_url(repo)?;
    let (start, at) = url_userinfo(url)?;
    let userinfo = &url[start..at];
    let redacted = redact_url(url);
    if userinfo.contains(':') {
        return Some(format!(
            "`{redacted}` carries a password: remove it from the URL (credentials in a URL end up in logs); \
             serve the repository without one, or over ssh with a key of the server's user"
        ));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Some(format!(
            "`{redacted}` names a user, which over http(s) is often a token: remove it from the URL \
             (credentials in a URL end up in logs)"
        ));
    }
    None
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
    fn the_emergency_role_for_flags_defaults_to_operator_and_is_never_viewer() {
        use crate::role::Role;
        assert_eq!(
            parse_platform("p.yml", GOOD).unwrap().flags.emergency_role,
            Role::Operator
        );
        let dev = format!("{GOOD}flags: {{ emergency-role: developer }}\n");
        assert_eq!(
            parse_platform("p.yml", &dev).unwrap().flags.emergency_role,
            Role::Developer
        );
        let viewer = format!("{GOOD}flags: {{ emergency-role: viewer }}\n");
        let err = parse_platform("p.yml", &viewer).unwrap_err().to_string();
        assert!(
            err.contains("p.yml:13:8") && err.contains("`emergency-role` is viewer"),
            "{err}"
        );
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
    fn a_repository_url_with_a_credential_is_refused_and_named() {
        let with_repo = |repo: &str| {
            format!(
                "markets:\n  - {{ id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }}\n\
                 waves: []\nservices:\n  - {{ name: shop, repo: \"{repo}\" }}\n"
            )
        };
        let err = parse_platform("p.yml", &with_repo("https://bot:s3cret@git.example/shop.git")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("service `shop`"), "{shown}");
        assert!(
            shown.contains("`https://git.example/shop.git` carries a password"),
            "{shown}"
        );
        assert!(!shown.contains("s3cret"), "{shown}");
        let err = parse_platform("p.yml", &with_repo("https://ghp_token@git.example/shop.git")).unwrap_err();
        assert!(err.to_string().contains("names a user"), "{err}");
        assert!(!err.to_string().contains("ghp_token"), "{err}");
        for fine in [
            "ssh://git@git.example/shop.git",
            "git://git.example/shop.git",
            "https://git.example/a@b",
            "./shop",
        ] {
            assert!(parse_platform("p.yml", &with_repo(fine)).is_ok(), "{fine}");
        }
        assert_eq!(redact_url("git://u:p@h:9418/x"), "git://h:9418/x");
        assert_eq!(remote_repo_url("file:///srv/shop"), None);
        assert_eq!(remote_repo_url("/srv/shop"), None);
        assert_eq!(remote_repo_url("git://h/x"), Some("git://h/x"));
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
