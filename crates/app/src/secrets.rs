//! Secrets at rest: gift-card codes and fulfilment notes are sealed with
//! XChaCha20-Poly1305 under one 256-bit key. The key comes from
//! `PLAUDIT_SECRET_KEY` or is generated once into the data dir (mode 0600).

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use plaudit_domain::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The key file's name inside the data dir.
pub const KEY_FILE: &str = "secret.key";
const PREFIX: &str = "v1:";

/// A 256-bit key; its Debug output never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> SecretKey {
        SecretKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// From configuration: 64 hex digits are the key itself; any other text
    /// (at least 16 characters) is hashed into one.
    pub fn from_config(text: &str) -> Result<SecretKey> {
        let text = text.trim();
        if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut out = [0u8; 32];
            for (i, b) in out.iter_mut().enumerate() {
                *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad_key())?;
            }
            return Ok(SecretKey(out));
        }
        if text.chars().count() < 16 {
            return Err(bad_key());
        }
        Ok(SecretKey(Sha256::digest(text.as_bytes()).into()))
    }

    /// `PLAUDIT_SECRET_KEY` when given, else the data dir's key file, made
    /// once with owner-only permissions.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<SecretKey> {
        if let Some(text) = configured.filter(|t| !t.trim().is_empty()) {
            return SecretKey::from_config(text);
        }
        let path = data_dir.join(KEY_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return SecretKey::from_config(&text);
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::internal(format!("cannot create {}: {e}", data_dir.display())))?;
        let key = SecretKey::generate();
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&path, &hex)?;
        // Another process may have won the race: use whatever is on disk.
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::internal(format!("cannot read {}: {e}", path.display())))?;
        SecretKey::from_config(&text)
    }

    /// Seals `plain`; `context` (e.g. the redemption id and field) is bound
    /// to the ciphertext, so a sealed value cannot be moved elsewhere.
    pub fn seal(&self, context: &str, plain: &str) -> Result<String> {
        use base64::Engine;
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)))
    }

    /// HMAC-SHA256 of `message` under a key derived for `purpose`, URL-safe:
    /// signs links (e.g. unsubscribe) so they need no stored token.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        use base64::Engine;
        use hmac::Mac;
        let derived = Sha256::new().chain_update(b"plaudit/").chain_update(purpose).chain_update(self.0).finalize();
        let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(&derived).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is [`SecretKey::sign`] of `message`, compared in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        let expected = self.sign(purpose, message);
        expected.len() == signature.len()
            && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String> {
        use base64::Engine;
        let broken = || Error::internal("a stored secret cannot be decrypted with this key");
        let raw = sealed.strip_prefix(PREFIX).ok_or_else(broken)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(raw).map_err(|_| broken())?;
        if bytes.len() < 24 {
            return Err(broken());
        }
        let (nonce, ct) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| broken())?;
        String::from_utf8(plain).map_err(|_| broken())
    }
}

fn bad_key() -> Error {
    Error::invalid("PLAUDIT_SECRET_KEY", "give 64 hex digits, or a passphrase of at least 16 characters")
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut f) => f.write_all(text.as_bytes()).map_err(|e| Error::internal(format!("cannot write the key: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::internal(format!("cannot create {}: {e}", path.display()))),
    }
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::internal(format!("cannot write the key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_texts_open_only_with_the_key_and_context() {
        let k = SecretKey::generate();
        let sealed = k.seal("r1:code", "GIFT-1234-ABCD").unwrap();
        assert!(!sealed.contains("GIFT"));
        assert_ne!(sealed, k.seal("r1:code", "GIFT-1234-ABCD").unwrap(), "a fresh nonce each time");
        assert_eq!(k.open("r1:code", &sealed).unwrap(), "GIFT-1234-ABCD");
        assert!(k.open("r2:code", &sealed).is_err());
        assert!(SecretKey::generate().open("r1:code", &sealed).is_err());
        assert!(k.open("r1:code", "v1:garbage").is_err());
    }

    #[test]
    fn keys_from_configuration() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let a = SecretKey::from_config(hex).unwrap();
        assert_eq!(a.0[1], 0x11);
        assert!(SecretKey::from_config("short").is_err());
        let p = SecretKey::from_config("a long enough passphrase").unwrap();
        assert_eq!(p.0, SecretKey::from_config("a long enough passphrase").unwrap().0);
        assert_eq!(format!("{p:?}"), "SecretKey(…)");
    }

    #[test]
    fn a_generated_key_is_written_once_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretKey::load_or_create(None, dir.path()).unwrap();
        let b = SecretKey::load_or_create(None, dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = SecretKey::load_or_create(Some("another long passphrase"), dir.path()).unwrap();
        assert_ne!(configured.0, a.0);
    }
}
