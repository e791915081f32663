//! Single sign-on with OpenID Connect: the organisation's settings and the
//! rules a verified ID token must pass before it signs anyone in.

use crate::{email, Error, ErrorKind, Result};

/// The placeholder Microsoft Entra ID's multi-tenant discovery documents
/// put in their `issuer`; the token's `tid` claim fills it.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The multi-tenant path segments of Entra ID whose discovery document
/// carries the placeholder instead of a tenant.
const MULTI_TENANT_SEGMENTS: &[&str] = &["common", "organizations", "consumers"];

/// What an admin enters; `client_secret` empty keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoInput {
    pub enabled: bool,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub allowed_domains: Vec<String>,
    pub jit_enabled: bool,
    pub require_sso: bool,
}

/// Settings that passed [`SsoInput::validated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSso {
    pub enabled: bool,
    pub issuer_url: String,
    pub client_id: String,
    /// None: keep the stored secret.
    pub client_secret: Option<String>,
    pub allowed_domains: Vec<String>,
    pub jit_enabled: bool,
    pub require_sso: bool,
}

impl SsoInput {
    /// Checks every field; `has_secret` says whether a secret is stored already.
    pub fn validated(self, has_secret: bool) -> Result<ValidSso> {
        let issuer_url = validate_issuer(&self.issuer_url)?;
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err(Error::invalid("client_id", "enter the client id the identity provider gave you"));
        }
        if client_id.chars().count() > 500 || client_id.chars().any(char::is_control) {
            return Err(Error::invalid("client_id", "the client id is too long or holds control characters"));
        }
        let secret = self.client_secret.trim();
        let client_secret = if secret.is_empty() {
            if !has_secret {
                return Err(Error::invalid("client_secret", "enter the client secret the identity provider gave you"));
            }
            None
        } else {
            if secret.len() > 2000 || secret.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "client_secret",
                    "the client secret is too long or holds control characters",
                ));
            }
            Some(secret.to_string())
        };
        let mut allowed_domains = Vec::new();
        for d in &self.allowed_domains {
            let d = normalize_domain(d)?;
            if !allowed_domains.contains(&d) {
                allowed_domains.push(d);
            }
        }
        if allowed_domains.len() > 50 {
            return Err(Error::invalid("allowed_domains", "give at most 50 domains"));
        }
        if self.jit_enabled && allowed_domains.is_empty() {
            return Err(Error::invalid(
                "allowed_domains",
                "name at least one e-mail domain whose people may join by signing in, or turn that off",
            ));
        }
        Ok(ValidSso {
            enabled: self.enabled,
            issuer_url,
            client_id,
            client_secret,
            allowed_domains,
            jit_enabled: self.jit_enabled,
            require_sso: self.require_sso,
        })
    }
}

/// Splits a typed list of domains (commas, spaces or lines).
pub fn split_domains(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn normalize_domain(d: &str) -> Result<String> {
    let d = d.trim().trim_start_matches('@').trim_end_matches('.').to_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if d.len() > 253 || !d.contains('.') || !d.split('.').all(label_ok) {
        return Err(Error::invalid("allowed_domains", format!("'{d}' is not an e-mail domain such as example.com")));
    }
    Ok(d)
}

/// An issuer is an absolute `https` URL without query or fragment (plain
/// `http` only on this machine, for tests and local providers).
fn validate_issuer(text: &str) -> Result<String> {
    let issuer = text.trim();
    let bad = |m: &str| Error::invalid("issuer_url", m.to_string());
    if issuer.is_empty() {
        return Err(bad("enter the issuer URL, such as https://accounts.google.com"));
    }
    if issuer.len() > 500 || issuer.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the issuer URL is too long or holds spaces"));
    }
    if issuer.contains('?') || issuer.contains('#') {
        return Err(bad("the issuer URL has no query or fragment"));
    }
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(bad("the issuer URL must start with https://"));
        }
        rest
    } else {
        return Err(bad("the issuer URL must start with https://"));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(bad("the issuer URL needs a host name"));
    }
    if issuer.contains(TENANT_PLACEHOLDER) {
        return Err(bad("enter the issuer with a tenant id or 'common' in place of {tenantid}"));
    }
    Ok(issuer.to_string())
}

/// Where the provider's discovery document lives.
pub fn discovery_url(issuer: &str) -> String {
    format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
}

/// Whether the discovery document's `issuer` fits the configured one: the
/// same, or (Entra ID's `common`, `organizations`, `consumers`) the
/// tenant-placeholder form of it.
pub fn discovered_issuer_fits(configured: &str, discovered: &str) -> bool {
    if configured == discovered {
        return true;
    }
    discovered.contains(TENANT_PLACEHOLDER)
        && MULTI_TENANT_SEGMENTS.iter().any(|s| discovered.replacen(TENANT_PLACEHOLDER, s, 1) == configured)
}

/// Checks an ID token's `iss` against the issuer the provider announced. A
/// template with `{tenantid}` takes the token's own `tid`, which must be a
/// plain tenant id (letters, digits and hyphens).
pub fn check_token_issuer(expected: &str, iss: &str, tid: Option<&str>) -> Result<()> {
    let wrong = |why: String| Error::new(ErrorKind::Unauthenticated, "sso_token_invalid", why);
    if !expected.contains(TENANT_PLACEHOLDER) {
        return if expected == iss {
            Ok(())
        } else {
            Err(wrong(format!("the ID token was issued by '{iss}', not by '{expected}'")))
        };
    }
    let Some(tid) = tid.filter(|t| !t.is_empty() && t.len() <= 64) else {
        return Err(wrong("the ID token names no tenant (tid) to check its issuer against".into()));
    };
    if !tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(wrong("the ID token's tenant id (tid) is malformed".into()));
    }
    let wanted = expected.replacen(TENANT_PLACEHOLDER, tid, 1);
    if wanted == iss {
        Ok(())
    } else {
        Err(wrong(format!("the ID token was issued by '{iss}', not by '{wanted}' of its tenant")))
    }
}

/// The provider must vouch for the e-mail address: `email_verified: true`,
/// or, from Microsoft Entra ID only, `xms_edov: true` (the domain owner
/// verified it). Another provider's `xms_edov` means nothing.
pub fn check_email_verified(issuer_url: &str, email_verified: Option<bool>, xms_edov: Option<bool>) -> Result<()> {
    let entra = issuer_url.starts_with("https://login.microsoftonline.com/");
    if email_verified == Some(true) || (entra && xms_edov == Some(true)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Forbidden,
            "sso_email_unverified",
            "your identity provider does not confirm that your e-mail address is verified",
        ))
    }
}

/// The lower-cased domain of an address.
pub fn email_domain(address: &str) -> Option<String> {
    let normal = email::normalize(address);
    normal.rsplit_once('@').map(|(_, d)| d.trim_end_matches('.').to_string()).filter(|d| !d.is_empty())
}

/// Whether someone with this address may join by signing in: exact domain
/// matches only (a subdomain is another organisation's to vouch for).
pub fn domain_allowed(address: &str, allowed: &[String]) -> bool {
    email_domain(address).is_some_and(|d| allowed.iter().any(|a| a.eq_ignore_ascii_case(&d)))
}

/// Whether password sign-in is refused for this member.
pub fn password_refused(require_sso: bool, enabled: bool, is_owner: bool) -> bool {
    enabled && require_sso && !is_owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SsoInput {
        SsoInput {
            enabled: true,
            issuer_url: " https://accounts.google.com ".into(),
            client_id: "abc.apps.googleusercontent.com".into(),
            client_secret: "s3cret".into(),
            allowed_domains: vec!["@Example.com".into(), "example.com".into(), "acme.io".into()],
            jit_enabled: true,
            require_sso: false,
        }
    }

    #[test]
    fn settings_are_trimmed_and_domains_normalised() {
        let v = input().validated(false).unwrap();
        assert_eq!(v.issuer_url, "https://accounts.google.com");
        assert_eq!(v.allowed_domains, vec!["example.com", "acme.io"]);
        assert_eq!(v.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(split_domains("a.com, b.org\nc.net"), vec!["a.com", "b.org", "c.net"]);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |i: SsoInput, has| i.validated(has).unwrap_err().field.unwrap();
        for issuer in ["", "accounts.google.com", "http://idp.example.com", "https://x/?a=1", "https://", "ftp://x"] {
            assert_eq!(field(SsoInput { issuer_url: issuer.into(), ..input() }, false), "issuer_url", "{issuer}");
        }
        assert_eq!(
            field(
                SsoInput { issuer_url: "https://login.microsoftonline.com/{tenantid}/v2.0".into(), ..input() },
                false
            ),
            "issuer_url"
        );
        assert_eq!(field(SsoInput { client_id: " ".into(), ..input() }, false), "client_id");
        assert_eq!(field(SsoInput { client_secret: "".into(), ..input() }, false), "client_secret");
        assert_eq!(
            field(SsoInput { allowed_domains: vec!["not a domain".into()], ..input() }, false),
            "allowed_domains"
        );
        assert_eq!(field(SsoInput { allowed_domains: vec![], ..input() }, false), "allowed_domains");
        // A stored secret stays when none is typed; JIT off needs no domains; local http is fine.
        let kept = SsoInput {
            client_secret: "".into(),
            allowed_domains: vec![],
            jit_enabled: false,
            issuer_url: "http://127.0.0.1:4000".into(),
            ..input()
        }
        .validated(true)
        .unwrap();
        assert_eq!(kept.client_secret, None);
        assert_eq!(kept.issuer_url, "http://127.0.0.1:4000");
    }

    #[test]
    fn discovery_lives_under_the_issuer() {
        assert_eq!(discovery_url("https://a.okta.com/"), "https://a.okta.com/.well-known/openid-configuration");
        assert_eq!(
            discovery_url("https://login.microsoftonline.com/common/v2.0"),
            "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn entra_multi_tenant_discovery_fits_common_and_organizations() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(discovered_issuer_fits("https://login.microsoftonline.com/common/v2.0", template));
        assert!(discovered_issuer_fits("https://login.microsoftonline.com/organizations/v2.0", template));
        assert!(discovered_issuer_fits("https://accounts.google.com", "https://accounts.google.com"));
        assert!(!discovered_issuer_fits("https://accounts.google.com", "https://evil.example"));
        assert!(!discovered_issuer_fits("https://login.microsoftonline.com/other/v2.0", template));
    }

    #[test]
    fn token_issuer_follows_the_tenant_template() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let iss = format!("https://login.microsoftonline.com/{tid}/v2.0");
        assert!(check_token_issuer(template, &iss, Some(tid)).is_ok());
        // Another tenant's token, no tid, a tid that tries to smuggle a path: refused.
        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
        assert_eq!(check_token_issuer(template, other, Some(tid)).unwrap_err().code, "sso_token_invalid");
        assert!(check_token_issuer(template, &iss, None).is_err());
        assert!(check_token_issuer(template, "https://login.microsoftonline.com/x/y/v2.0", Some("x/y")).is_err());
        // Without a template the issuer must match exactly.
        assert!(check_token_issuer("https://accounts.google.com", "https://accounts.google.com", None).is_ok());
        assert!(check_token_issuer("https://accounts.google.com", "https://accounts.google.com/", None).is_err());
    }

    #[test]
    fn only_a_verified_email_counts() {
        let entra = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let okta = "https://acme.okta.com";
        assert!(check_email_verified(okta, Some(true), None).is_ok());
        assert!(check_email_verified(entra, None, Some(true)).is_ok());
        // Only Entra's own claim counts: elsewhere it is just a name.
        assert_eq!(check_email_verified(okta, None, Some(true)).unwrap_err().code, "sso_email_unverified");
        for (v, e) in [(None, None), (Some(false), None), (Some(false), Some(false))] {
            assert_eq!(check_email_verified(entra, v, e).unwrap_err().code, "sso_email_unverified");
        }
    }

    #[test]
    fn domains_match_exactly_and_case_insensitively() {
        let allowed = vec!["example.com".to_string()];
        assert!(domain_allowed("Ana@EXAMPLE.com", &allowed));
        assert!(!domain_allowed("ana@sub.example.com", &allowed));
        assert!(!domain_allowed("ana@example.com.evil.io", &allowed));
        assert!(!domain_allowed("ana@elsewhere.org", &allowed));
        assert!(!domain_allowed("no-at-sign", &allowed));
    }

    #[test]
    fn require_sso_spares_owners() {
        assert!(password_refused(true, true, false));
        assert!(!password_refused(true, true, true));
        assert!(!password_refused(true, false, false));
        assert!(!password_refused(false, true, false));
    }
}
