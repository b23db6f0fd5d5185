//! Secret values: the platform file names each secret and the server's environment variable
//! holding it; the value is read at use time and never stored.

use anyhow::{Result, anyhow};
use tandem_core::platform::Platform;

/// The value of the secret `name`, read from its environment variable now.
///
/// An unknown name, an unset variable and an empty value are errors naming the secret and
/// the variable: an empty key would make every signature "valid".
pub fn secret_value(platform: &Platform, name: &str) -> Result<String> {
    let source = platform
        .secrets
        .get(name)
        .ok_or_else(|| anyhow!("secret `{name}` is not declared under `secrets` in the platform file"))?;
    match std::env::var(&source.env) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(anyhow!(
            "secret `{name}` is empty: set the server's environment variable `{}` to its value",
            source.env
        )),
        Err(std::env::VarError::NotPresent) => Err(anyhow!(
            "secret `{name}` is not set: the server's environment variable `{}` is unset",
            source.env
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(anyhow!(
            "secret `{name}` cannot be read: the server's environment variable `{}` is not UTF-8",
            source.env
        )),
    }
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
            secrets: [("HOOK".to_string(), SecretSource { env: var.to_string() })].into(),
            approvals: vec![],
            freezes: vec![],
            notifications: vec![],
            changes: Default::default(),
            sso: None,
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
    }
}
