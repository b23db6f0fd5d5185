//! Secret values. The platform file declares each secret by name (and may name an environment
//! variable of the server holding it); admins may set a value in Tandem's secrets store, sealed
//! under the server's secrets key. The store's value wins over the variable. Values are read at
//! each use, so a rotation reaches the next job without a restart, and each use is recorded as
//! a `secret.used` event naming what used it, never the value.

use crate::Result;
use crate::{Engine, Error};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tandem_core::platform::{Platform, SecretSource};
use tandem_store::{SecretKey, SecretRow};

/// Largest secret value, in bytes: a key, a token or a certificate fits; a file does not.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

/// Where the secrets key is kept when none is given: in the data folder, beside (but never in)
/// the database; backups of the database must leave it out.
pub const KEY_FILE_NAME: &str = "secrets.key";

/// What a secret is used for, as its `secret.used` event records it.
#[derive(Debug, Clone, Copy)]
pub enum SecretUse<'a> {
    /// A job of a pipeline run gets it in its steps' environment.
    Job { run: i64, job: &'a str },
    /// A service's push webhook is checked with it.
    Webhook { service: &'a str },
}

impl SecretUse<'_> {
    fn describe(&self) -> serde_json::Value {
        match self {
            SecretUse::Job { run, job } => json!({ "run": run, "job": job }),
            SecretUse::Webhook { service } => json!({ "webhook": service }),
        }
    }
}

/// A declared or stored secret as an admin may see it: never its value.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretStatus {
    pub name: String,
    /// Whether the platform file declares it (a stored value of an undeclared name is unused).
    pub declared: bool,
    /// The environment variable the platform file names for it, if any.
    pub env: Option<String>,
    /// Whether that variable is set (non-empty) in the server's environment.
    pub env_set: bool,
    /// Its value in the secrets store, if any (which wins over the variable).
    pub stored: Option<SecretRow>,
}

/// The secrets key: `given` if any, else the key file in `data_dir`, made now (owner-only) when
/// there is none; says so once in the server's log.
pub(crate) fn resolve_key(given: Option<Arc<SecretKey>>, data_dir: &Path) -> anyhow::Result<Arc<SecretKey>> {
    if let Some(key) = given {
        return Ok(key);
    }
    let path = data_dir.join(KEY_FILE_NAME);
    let (key, created) = SecretKey::load_or_create(&path)?;
    if created {
        tracing::info!(
            file = %path.display(),
            "made a secrets key: secrets set in Tandem are sealed with it; keep it out of database backups and safe apart"
        );
    } else {
        tracing::info!(file = %path.display(), "secrets are sealed with the key in the data folder");
    }
    Ok(Arc::new(key))
}

impl Engine {
    /// The value of the secret `name` for `used_by`: from the secrets store, else from the
    /// environment variable the platform file names. The use is recorded.
    pub async fn secret(&self, name: &str, used_by: SecretUse<'_>) -> Result<String> {
        let platform = self.store.load_platform().await?;
        let source = declared(&platform, name)?;
        let mut data = used_by.describe();
        let value = match self.store.get_secret(&self.secrets_key, name).await? {
            Some(stored) => {
                data["source"] = json!("store");
                data["version"] = json!(stored.version);
                stored.value.as_str().to_string()
            }
            None => {
                let value = env_value(name, source)?;
                data["source"] = json!("environment");
                value
            }
        };
        self.store.record_secret_use(name, data).await?;
        Ok(value)
    }

    /// Sets or rotates the stored value of the declared secret `name`, as `by`.
    pub async fn set_secret(&self, name: &str, value: &str, by: &str) -> Result<SecretRow> {
        declared(&self.store.load_platform().await?, name)?;
        if value.is_empty() {
            return Err(Error::invalid_at(
                "value",
                format!("the value of secret `{name}` is empty: an empty key would make every signature valid"),
            ));
        }
        if value.len() > MAX_SECRET_BYTES {
            return Err(Error::invalid_at(
                "value",
                format!(
                    "the value of secret `{name}` is {} bytes; a secret holds at most {MAX_SECRET_BYTES}",
                    value.len()
                ),
            ));
        }
        if value.contains('\0') {
            return Err(Error::invalid_at(
                "value",
                format!("the value of secret `{name}` holds a NUL byte, which no environment variable can carry"),
            ));
        }
        let row = self.store.put_secret(&self.secrets_key, name, value, by).await?;
        self.notify();
        Ok(row)
    }

    /// Deletes the stored value of `name` (the environment variable, if any, serves again).
    pub async fn delete_secret(&self, name: &str, by: &str) -> Result<SecretRow> {
        let row = self.store.delete_secret(name, by).await?;
        self.notify();
        Ok(row)
    }

    /// Every declared or stored secret by name, never a value.
    pub async fn list_secrets(&self) -> Result<Vec<SecretStatus>> {
        let platform = self.store.load_platform().await?;
        let mut stored: std::collections::BTreeMap<String, SecretRow> = self
            .store
            .list_secrets()
            .await?
            .into_iter()
            .map(|row| (row.name.clone(), row))
            .collect();
        let mut all: Vec<SecretStatus> = platform
            .secrets
            .iter()
            .map(|(name, source)| SecretStatus {
                name: name.clone(),
                declared: true,
                env: source.env.clone(),
                env_set: source
                    .env
                    .as_deref()
                    .is_some_and(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty())),
                stored: stored.remove(name),
            })
            .collect();
        all.extend(stored.into_values().map(|row| SecretStatus {
            name: row.name.clone(),
            declared: false,
            env: None,
            env_set: false,
            stored: Some(row),
        }));
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// The id of the secrets key in use (a hash; it tells nothing about the key).
    pub fn secrets_key_id(&self) -> &str {
        self.secrets_key.id()
    }
}

fn declared<'a>(platform: &'a Platform, name: &str) -> Result<&'a SecretSource> {
    platform.secrets.get(name).ok_or_else(|| {
        Error::refused(format!(
            "secret `{name}` is not declared under `secrets` in the platform file: declare it there first"
        ))
    })
}

/// The value of `name` from the environment variable `source` names.
fn env_value(name: &str, source: &SecretSource) -> Result<String> {
    let Some(var) = &source.env else {
        return Err(Error::refused(format!(
            "secret `{name}` is not set: set it with `tandem secret set {name}`"
        )));
    };
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(Error::refused(format!(
            "secret `{name}` is empty: set it with `tandem secret set {name}`, or set the server's environment variable `{var}` to its value"
        ))),
        Err(std::env::VarError::NotPresent) => Err(Error::refused(format!(
            "secret `{name}` is not set: set it with `tandem secret set {name}`, or the server's environment variable `{var}` (unset now)"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::refused(format!(
            "secret `{name}` cannot be read: the server's environment variable `{var}` is not UTF-8"
        ))),
    }
}

/// The value of the secret `name`, read from its environment variable now (the secrets store
/// is not consulted: [`Engine::secret`] does both).
///
/// An unknown name, an unset variable and an empty value are errors naming the secret and
/// the variable: an empty key would make every signature "valid".
pub fn secret_value(platform: &Platform, name: &str) -> Result<String> {
    env_value(name, declared(platform, name)?)
}

/// A new random credential (32 bytes, hex) with a prefix naming its kind (`tagent`: an agent's
/// token, `tjob`: a job token), so a leaked one is recognised for what it is.
pub fn random_token(kind: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{kind}_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::platform::SecretSource;

    fn platform(var: &str) -> Platform {
        Platform {
            markets: vec![],
            waves: vec![],
            services: vec![],
            secrets: [
                (
                    "HOOK".to_string(),
                    SecretSource {
                        env: Some(var.to_string()),
                    },
                ),
                ("STORED".to_string(), SecretSource { env: None }),
            ]
            .into(),
            approvals: vec![],
            freezes: vec![],
            notifications: vec![],
            changes: Default::default(),
            flags: Default::default(),
            sso: None,
            rollouts: Default::default(),
        }
    }

    #[test]
    fn reads_the_named_variable() {
        // HOME and PATH are set wherever tests run; no test may set variables (no unsafe).
        let p = platform("PATH");
        assert_eq!(secret_value(&p, "HOOK").unwrap(), std::env::var("PATH").unwrap());
    }

    #[test]
    fn errors_name_the_secret_and_the_variable() {
        let p = platform("TANDEM_TEST_SURELY_UNSET_4F1C");
        let err = secret_value(&p, "HOOK").unwrap_err().to_string();
        assert!(err.contains("secret `HOOK` is not set"), "{err}");
        assert!(err.contains("`TANDEM_TEST_SURELY_UNSET_4F1C`"), "{err}");
        let err = secret_value(&p, "OTHER").unwrap_err().to_string();
        assert!(err.contains("secret `OTHER` is not declared"), "{err}");
        let err = secret_value(&p, "STORED").unwrap_err().to_string();
        assert!(err.contains("set it with `tandem secret set STORED`"), "{err}");
    }

    #[tokio::test]
    async fn the_store_wins_over_the_environment_and_each_use_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = tandem_store::Store::open(dir.path()).await.unwrap();
        store.sync_platform(&platform("PATH")).await.unwrap();
        let engine = Engine::new(store, crate::EngineSettings::in_data_dir(dir.path()))
            .await
            .unwrap();
        assert!(dir.path().join(KEY_FILE_NAME).exists(), "a key made in the data folder");
        let job = SecretUse::Job { run: 7, job: "deploy" };
        assert_eq!(
            engine.secret("HOOK", job).await.unwrap(),
            std::env::var("PATH").unwrap()
        );
        engine.set_secret("HOOK", "from-the-store", "olga").await.unwrap();
        assert_eq!(engine.secret("HOOK", job).await.unwrap(), "from-the-store");
        let err = engine.set_secret("NOPE", "x", "olga").await.unwrap_err().to_string();
        assert!(err.contains("secret `NOPE` is not declared"), "{err}");
        assert!(engine.set_secret("HOOK", "", "olga").await.is_err());

        let used: Vec<_> = engine
            .store
            .list_events(0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "secret.used")
            .collect();
        assert_eq!(used.len(), 2);
        let data: serde_json::Value = serde_json::from_str(&used[1].data).unwrap();
        assert_eq!(used[1].subject, "secret/HOOK");
        assert_eq!(
            data,
            json!({ "run": 7, "job": "deploy", "source": "store", "version": 1 })
        );
        assert!(!used[0].data.contains(&std::env::var("PATH").unwrap()));

        let listed = engine.list_secrets().await.unwrap();
        let names: Vec<_> = listed.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["HOOK", "STORED"]);
        assert_eq!(listed[0].stored.as_ref().map(|r| r.version), Some(1));
        assert!(listed[0].env_set && listed[1].stored.is_none());
    }
}
