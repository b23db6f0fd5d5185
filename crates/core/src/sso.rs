//! The `sso` section of the platform file: sign-in through the company's OpenID Connect
//! provider, and which of the provider's groups give which Tandem role. The file names the
//! environment variable holding the client secret, never the secret itself.

use crate::error::{Collector, Key};
use crate::names::is_secret_name;
use crate::role::Role;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The path of Tandem's callback; the provider must send people back to it.
pub const CALLBACK_PATH: &str = "/login/sso/callback";

/// How people sign in with the company's identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sso {
    /// Shown on the sign-in button: "Sign in with {name}".
    pub name: String,
    /// The provider's issuer URL; its discovery document is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// The server's environment variable holding the client secret.
    pub client_secret_env: String,
    /// Tandem's callback URL as registered with the provider (its path is [`CALLBACK_PATH`]).
    pub redirect_url: String,
    /// Scopes asked for; always includes `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim listing the person's groups.
    pub groups_claim: String,
    /// Provider group → Tandem role.
    pub groups: BTreeMap<String, Role>,
}

impl Sso {
    /// The role a member of `groups` gets: the highest role any of them maps to, or `None`
    /// when none is mapped (that person may not sign in).
    pub fn role_for<S: AsRef<str>>(&self, groups: &[S]) -> Option<Role> {
        groups.iter().filter_map(|g| self.groups.get(g.as_ref()).copied()).max()
    }

    /// Whether cookies set during sign-in must be `Secure` (Tandem is reached over HTTPS).
    pub fn is_https(&self) -> bool {
        self.redirect_url.starts_with("https://")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSso {
    #[serde(default)]
    name: Option<Spanned<String>>,
    issuer: Spanned<String>,
    client_id: Spanned<String>,
    client_secret_env: Spanned<String>,
    redirect_url: Spanned<String>,
    #[serde(default)]
    scopes: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    groups_claim: Option<Spanned<String>>,
    groups: Spanned<BTreeMap<Key, Spanned<String>>>,
}

const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Checks the `sso` section; every problem goes to `errors` with its place.
pub(crate) fn check_sso(raw: RawSso, errors: &mut Collector) -> Sso {
    if let Some(name) = raw.name.as_ref().filter(|n| n.value.trim().is_empty()) {
        errors.push(
            &name.referenced,
            "sso `name` is empty: expected the provider's name for the button, such as `Acme SSO`",
        );
    }
    if let Err(message) = check_url(&raw.issuer.value, false) {
        errors.push(&raw.issuer.referenced, format!("sso `issuer`: {message}"));
    }
    if let Err(message) = check_url(&raw.redirect_url.value, true) {
        errors.push(&raw.redirect_url.referenced, format!("sso `redirect_url`: {message}"));
    }
    if raw.client_id.value.trim().is_empty() {
        errors.push(
            &raw.client_id.referenced,
            "sso `client_id` is empty: expected the client id the provider gave Tandem",
        );
    }
    if !is_secret_name(&raw.client_secret_env.value) {
        errors.push(
            &raw.client_secret_env.referenced,
            format!(
                "sso `client_secret_env` `{}` is not an environment variable name: expected upper-case letters, digits and `_`, such as `TANDEM_SSO_CLIENT_SECRET` (name the variable, never put the secret in this file)",
                raw.client_secret_env.value
            ),
        );
    }
    let scopes: Vec<String> = match &raw.scopes {
        None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        Some(scopes) => {
            for s in &scopes.value {
                if s.value.is_empty() || !s.value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
                    errors.push(
                        &s.referenced,
                        format!(
                            "sso scope `{}` is not valid: expected one word such as `groups`",
                            s.value
                        ),
                    );
                }
            }
            if !scopes.value.iter().any(|s| s.value == "openid") {
                errors.push(
                    &scopes.referenced,
                    "sso `scopes` lacks `openid`: OpenID Connect sign-in needs it",
                );
            }
            scopes.value.iter().map(|s| s.value.clone()).collect()
        }
    };
    let groups_claim = match &raw.groups_claim {
        Some(c) if c.value.trim().is_empty() => {
            errors.push(
                &c.referenced,
                "sso `groups_claim` is empty: expected a claim name such as `groups`",
            );
            String::new()
        }
        Some(c) => c.value.clone(),
        None => "groups".to_string(),
    };
    if raw.groups.value.is_empty() {
        errors.push(
            &raw.groups.referenced,
            "sso `groups` maps no group: expected at least one `provider-group: role` (viewer, developer, operator or admin)",
        );
    }
    let mut groups = BTreeMap::new();
    for (Key(group), role) in raw.groups.value {
        if group.value.trim().is_empty() {
            errors.push(
                &group.referenced,
                "sso group name is empty: expected the group's name at the provider",
            );
        }
        match role.value.parse::<Role>() {
            Ok(r) => {
                groups.insert(group.value, r);
            }
            Err(message) => errors.push(&role.referenced, format!("sso group `{}`: {message}", group.value)),
        }
    }
    Sso {
        name: raw.name.map(|n| n.value).unwrap_or_else(|| "SSO".to_string()),
        issuer: raw.issuer.value,
        client_id: raw.client_id.value,
        client_secret_env: raw.client_secret_env.value,
        redirect_url: raw.redirect_url.value,
        scopes,
        groups_claim,
        groups,
    }
}

/// An HTTPS URL (HTTP only on this machine, for a provider run locally) with no query or
/// fragment; a callback's path must be [`CALLBACK_PATH`].
fn check_url(text: &str, callback: bool) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
                "`{text}` is plain HTTP: expected https:// (HTTP only for 127.0.0.1 or localhost)"
            ));
        }
        other => return Err(format!("`{text}` has scheme `{other}`: expected https://")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{text}` has a query or fragment: expected none"));
    }
    if callback && url.path() != CALLBACK_PATH {
        return Err(format!(
            "`{text}` is not Tandem's callback: expected Tandem's address followed by `{CALLBACK_PATH}`, such as `https://tandem.example.com{CALLBACK_PATH}`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::platform::parse_platform;
    use crate::role::Role;

    const MARKETS: &str = "\
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
";

    const SSO: &str = "\
sso:
  name: Acme
  issuer: https://id.example.com/realms/acme
  client_id: tandem
  client_secret_env: TANDEM_SSO_SECRET
  redirect_url: https://tandem.example.com/login/sso/callback
  groups:
    everyone: viewer
    sre: operator
    /platform/admins: admin
";

    #[test]
    fn a_good_section_is_read_with_its_defaults() {
        let p = parse_platform("p.yml", &format!("{MARKETS}{SSO}")).unwrap();
        let sso = p.sso.unwrap();
        assert_eq!(sso.name, "Acme");
        assert_eq!(sso.scopes, ["openid", "profile", "email"]);
        assert_eq!(sso.groups_claim, "groups");
        assert!(sso.is_https());
        assert_eq!(sso.role_for(&["everyone", "sre"]), Some(Role::Operator));
        assert_eq!(sso.role_for(&["/platform/admins"]), Some(Role::Admin));
        assert_eq!(sso.role_for(&["marketing"]), None);
        assert_eq!(sso.role_for::<&str>(&[]), None);
        assert!(parse_platform("p.yml", MARKETS).unwrap().sso.is_none());
    }

    #[test]
    fn every_mistake_is_named_with_its_place() {
        let text = format!(
            "{MARKETS}sso:
  issuer: http://id.example.com
  client_id: tandem
  client_secret_env: s3cr3t-value
  redirect_url: https://tandem.example.com/callback?x=1
  scopes: [profile]
  groups:
    sre: root
  secret: nope
"
        );
        let err = parse_platform("p.yml", &text).unwrap_err();
        let shown: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(shown.len(), 6, "{shown:#?}");
        assert!(
            shown[0].starts_with("p.yml:4:11: sso `issuer`: `http://id.example.com` is plain HTTP"),
            "{shown:#?}"
        );
        assert!(
            shown[1]
                .starts_with("p.yml:6:22: sso `client_secret_env` `s3cr3t-value` is not an environment variable name"),
            "{shown:#?}"
        );
        assert!(shown[2].starts_with("p.yml:7:17: sso `redirect_url`:"), "{shown:#?}");
        assert!(shown[2].contains("has a query or fragment"), "{shown:#?}");
        assert!(
            shown[3].starts_with("p.yml:8:11: sso `scopes` lacks `openid`"),
            "{shown:#?}"
        );
        assert!(
            shown[4].starts_with("p.yml:10:10: sso group `sre`: unknown role `root`"),
            "{shown:#?}"
        );
        assert!(shown[5].starts_with("p.yml:11:3: unknown field `secret`"), "{shown:#?}");
    }

    #[test]
    fn a_callback_must_be_tandems_and_the_map_not_empty() {
        let text = SSO
            .replace("/login/sso/callback", "/oauth/callback")
            .replace(
                "    everyone: viewer\n    sre: operator\n    /platform/admins: admin\n",
                "    {}\n",
            )
            .replace("  groups:\n    {}\n", "  groups: {}\n");
        let err = parse_platform("p.yml", &format!("{MARKETS}{text}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not Tandem's callback"), "{err}");
        assert!(err.contains("sso `groups` maps no group"), "{err}");
        let blank = SSO
            .replace("name: Acme", "name: ''")
            .replace("sre: operator", "'': operator");
        let err = parse_platform("p.yml", &format!("{MARKETS}{blank}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.yml:4:9: sso `name` is empty"), "{err}");
        assert!(err.contains("p.yml:11:5: sso group name is empty"), "{err}");
        let local = SSO
            .replace("https://id.example.com/realms/acme", "http://127.0.0.1:8080")
            .replace("https://tandem.example.com", "http://localhost:3000");
        let sso = parse_platform("p.yml", &format!("{MARKETS}{local}"))
            .unwrap()
            .sso
            .unwrap();
        assert!(!sso.is_https());
    }
}
