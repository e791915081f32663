//! E-mail addresses: validated loosely (what HR systems export), compared
//! case-insensitively.

use crate::{Error, Result};

/// The form used for uniqueness and look-ups: trimmed and lower-cased.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Accepts `local@domain.tld` with no spaces; returns the trimmed address as given.
pub fn validate(field: &str, email: &str) -> Result<String> {
    let email = email.trim();
    if email.is_empty() {
        return Err(Error::invalid(field, "e-mail is missing"));
    }
    let malformed = || Error::invalid(field, format!("'{email}' is not a valid e-mail address"));
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(malformed)?;
    if local.is_empty() || local.contains('@') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(malformed());
    }
    if !domain.contains('.') || domain.contains("..") || domain.contains('@') {
        return Err(malformed());
    }
    Ok(email.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims() {
        assert_eq!(validate("email", " Ana.Lima@Example.com ").unwrap(), "Ana.Lima@Example.com");
        assert_eq!(normalize(" Ana.Lima@Example.com "), "ana.lima@example.com");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "ana@@example.com",
            "ana@example..com",
        ] {
            let err = validate("email", bad).unwrap_err();
            assert_eq!(err.code, "validation_failed", "{bad}");
            assert_eq!(err.field.as_deref(), Some("email"));
        }
    }
}
