//! The key that seals secret values at rest: 32 random bytes kept outside the database (a file
//! or an environment variable), wiped from memory on drop and never printed.
//!
//! A value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte nonce, with the
//! secret's name as associated data: a sealed value copied to another name, altered, or opened
//! with another key fails to open; it never yields garbage. The key's id (a hash of it, which
//! tells nothing about it) is kept beside each value so that "another key" can be told apart
//! from "altered".

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// Length of a key, in bytes.
pub const KEY_BYTES: usize = 32;

/// Why a key could not be read or made; the message names where it came from, never its value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// The secrets key. Its `Debug` shows only its id.
pub struct SecretKey {
    bytes: Zeroizing<[u8; KEY_BYTES]>,
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A new random key, from the operating system's generator.
    pub fn generate() -> Self {
        let key = chacha20poly1305::Key::generate();
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        bytes.copy_from_slice(key.as_slice());
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_BYTES]>) -> Self {
        let mut h = Sha256::new();
        h.update(b"tandem secrets key id\0");
        h.update(bytes.as_slice());
        let id = hex::encode(&h.finalize()[..8]);
        Self { bytes, id }
    }

    /// Reads a key written as text: 32 bytes in base64 (standard alphabet, padded or not) or
    /// in hex. `origin` names where the text came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let decoded = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
                .ok()
        };
        let decoded = Zeroizing::new(decoded.unwrap_or_default());
        if decoded.len() != KEY_BYTES {
            return Err(KeyError(format!(
                "the secrets key in {origin} is not {KEY_BYTES} bytes in base64 or hex: \
                 make one with `head -c 32 /dev/urandom | base64`"
            )));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        bytes.copy_from_slice(&decoded);
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64 text, to write it to a file.
    pub fn encode(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.bytes.as_slice()))
    }

    /// An id for the key that reveals nothing about it: 16 hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Reads the key file at `path`; warns when others than its owner may read it.
    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| KeyError(format!("cannot read the secrets key file {}: {e}", path.display())))?,
        );
        warn_if_shared(path);
        Self::parse(&text, &format!("file {}", path.display()))
    }

    /// Reads the key file at `path`, or makes one there (owner read/write only) when there is
    /// none; says whether it was made now.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyError> {
        if path.exists() {
            return Ok((Self::read_file(path)?, false));
        }
        let key = Self::generate();
        let cannot = |e: std::io::Error| KeyError(format!("cannot write the secrets key file {}: {e}", path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(path) {
            Ok(file) => file,
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok((Self::read_file(path)?, false)),
            Err(e) => return Err(cannot(e)),
        };
        file.write_all(format!("{}\n", key.encode().as_str()).as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(cannot)?;
        Ok((key, true))
    }

    /// Seals `value` for the secret `name`: (nonce, ciphertext with its tag).
    pub(crate) fn seal(&self, name: &str, value: &[u8]) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
        let nonce = XNonce::generate();
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: value,
                    aad: &associated_data(name),
                },
            )
            .map_err(|_| KeyError(format!("cannot seal secret `{name}`")))?;
        Ok((nonce.to_vec(), sealed))
    }

    /// Opens what [`SecretKey::seal`] made for `name`; `None` when it does not authenticate
    /// (another key, another name, or altered bytes).
    pub(crate) fn open(&self, name: &str, nonce: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let nonce = XNonce::try_from(nonce).ok()?;
        self.cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &associated_data(name),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&chacha20poly1305::Key::from(*self.bytes))
    }
}

/// What binds a sealed value to its secret's name (and to this format).
fn associated_data(name: &str) -> Vec<u8> {
    [b"tandem secret v1\0".as_slice(), name.as_bytes()].concat()
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the secrets key file can be read by others than its owner: `chmod 600` it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let key = SecretKey::generate();
        let (nonce, sealed) = key.seal("DEPLOY_TOKEN", b"hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            key.open("DEPLOY_TOKEN", &nonce, &sealed).unwrap().as_slice(),
            b"hunter2"
        );
        assert!(key.open("OTHER", &nonce, &sealed).is_none(), "moved to another name");
        assert!(SecretKey::generate().open("DEPLOY_TOKEN", &nonce, &sealed).is_none());
        let mut altered = sealed.clone();
        altered[0] ^= 1;
        assert!(key.open("DEPLOY_TOKEN", &nonce, &altered).is_none());
        let (again, _) = key.seal("DEPLOY_TOKEN", b"hunter2").unwrap();
        assert_ne!(nonce, again, "a fresh nonce per value");
    }

    #[test]
    fn keys_read_as_base64_or_hex_and_errors_never_show_them() {
        let key = SecretKey::generate();
        let b64 = key.encode();
        assert_eq!(SecretKey::parse(&b64, "x").unwrap().id(), key.id());
        let hex_text = hex::encode(key.bytes.as_slice());
        assert_eq!(SecretKey::parse(&format!("{hex_text}\n"), "x").unwrap().id(), key.id());
        let err = SecretKey::parse("c2hvcnQ=", "the environment variable TANDEM_SECRETS_KEY")
            .unwrap_err()
            .to_string();
        assert!(err.contains("TANDEM_SECRETS_KEY is not 32 bytes"), "{err}");
        assert!(!err.contains("c2hvcnQ"), "{err}");
        assert!(!format!("{key:?}").contains(b64.as_str()));
    }

    #[test]
    fn a_key_file_is_made_once_for_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let (made, created) = SecretKey::load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = SecretKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(made.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let err = SecretKey::read_file(&path).unwrap_err().to_string();
        assert!(err.contains("secrets.key is not 32 bytes"), "{err}");
    }
}
