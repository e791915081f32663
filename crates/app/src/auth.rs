//! Passwords, sessions, API tokens and who the caller is.

use crate::{audit_details, now_ms, App};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use plaudit_domain::member::{Member, Status};
use plaudit_domain::org::Org;
use plaudit_domain::{email, Error, ErrorKind, Result};
use plaudit_store::{new_id, ApiToken, LoginAttempt, SessionRecord};
use sha2::{Digest, Sha256};

/// Who is making a request, resolved from a session or an API token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: Org,
    pub member: Member,
    /// The session's CSRF token (None for API tokens, which browsers never send by themselves).
    pub csrf_token: Option<String>,
}

impl Caller {
    pub fn require_admin(&self) -> Result<()> {
        if self.member.role.is_admin() {
            Ok(())
        } else {
            Err(Error::forbidden("only admins of this organisation may do that"))
        }
    }
}

/// A session just created: the raw token goes into the cookie, once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub member: Member,
}

/// Failed sign-ins allowed before each further attempt must wait.
const FREE_FAILURES: i64 = 5;
/// Failures older than this are forgotten.
const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("cannot hash password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid("password", format!("the password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if password.len() > 1024 {
        return Err(Error::invalid("password", "the password is too long"));
    }
    Ok(())
}

/// 32 random bytes, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored as their SHA-256: a stolen database holds no usable token.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A hash that passwords of unknown accounts are checked against, so a
/// wrong e-mail takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

fn bad_credentials() -> Error {
    Error::new(ErrorKind::Unauthenticated, "invalid_credentials", "wrong organisation, e-mail or password")
}

fn account_key(org_slug: &str, email_address: &str) -> String {
    token_hash(&format!("{}\n{}", org_slug.trim().to_lowercase(), email::normalize(email_address)))
}

/// API token prefix, so leaked tokens are recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "plaudit_";

impl App {
    /// Password sign-in. Unknown organisations, unknown e-mails and wrong
    /// passwords give the same answer; repeated failures for one account are
    /// slowed down with `rate_limited` and a retry delay.
    pub fn sign_in(&self, org_slug: &str, email_address: &str, password: &str) -> Result<NewSession> {
        let key = account_key(org_slug, email_address);
        let now = now_ms();
        let attempt = self.store.read(|tx| tx.login_attempt(&key))?;
        if attempt.locked_until > now {
            let wait = ((attempt.locked_until - now) + 999) / 1000;
            let mut err = Error::new(
                ErrorKind::RateLimited,
                "rate_limited",
                format!("too many failed sign-ins; try again in {wait} seconds"),
            );
            err.retry_after = Some(wait as u64);
            return Err(err);
        }
        let found = self.store.read(|tx| {
            let Some(org) = tx.org_by_slug(org_slug.trim())? else { return Ok(None) };
            Ok(tx.member_by_email(&org.id, email_address)?.map(|m| (org, m)))
        })?;
        let hash = found.as_ref().and_then(|(_, m)| m.password_hash.clone());
        let ok = verify_password(password, hash.as_deref().unwrap_or(dummy_hash())) && hash.is_some();
        let Some((org, member)) = found.filter(|_| ok) else {
            self.record_failure(&key, attempt, now)?;
            return Err(bad_credentials());
        };
        if member.status != Status::Active {
            return Err(Error::forbidden("this account is deactivated; ask an admin of your organisation")
                .with_code("member_inactive"));
        }
        self.store.write(|tx| tx.clear_login_attempts(&key))?;
        self.check_password_allowed(&org, &member)?;
        self.start_session(&org, member)
    }

    fn record_failure(&self, key: &str, mut attempt: LoginAttempt, now: i64) -> Result<()> {
        if now - attempt.last_failure_at > FAILURE_WINDOW_MS {
            attempt.failures = 0;
        }
        attempt.failures += 1;
        attempt.last_failure_at = now;
        if attempt.failures >= FREE_FAILURES {
            // 1 s after the 5th failure, doubling each time, at most 15 minutes.
            let exponent = (attempt.failures - FREE_FAILURES).min(20) as u32;
            attempt.locked_until = now + (1000i64 << exponent).min(MAX_LOCK_MS);
        }
        self.store.write(|tx| tx.save_login_attempt(key, &attempt))
    }

    pub fn start_session(&self, org: &Org, member: Member) -> Result<NewSession> {
        let token = random_token();
        let csrf_token = random_token();
        let now = now_ms();
        let record = SessionRecord {
            org_id: org.id.clone(),
            member_id: member.id.clone(),
            csrf_token: csrf_token.clone(),
            expires_at: now + self.config.session_ttl_ms,
        };
        self.store.write(|tx| tx.insert_session(&token_hash(&token), &record, now))?;
        Ok(NewSession { token, csrf_token, expires_at: record.expires_at, member })
    }

    pub fn sign_out(&self, session_token: &str) -> Result<()> {
        self.store.write(|tx| tx.delete_session(&token_hash(session_token)))
    }

    /// The caller behind a session cookie; sessions slide forward when used.
    pub fn caller_from_session(&self, session_token: &str) -> Result<Caller> {
        let hash = token_hash(session_token);
        let now = now_ms();
        let (caller, expires_at) = self.store.read(|tx| {
            let Some(s) = tx.session(&hash, now)? else { return Err(Error::unauthenticated()) };
            let caller = load_caller(tx, &s.org_id, &s.member_id, Some(s.csrf_token.clone()))?;
            Ok((caller, s.expires_at))
        })?;
        if expires_at - now < self.config.session_ttl_ms / 2 {
            self.store.write(|tx| tx.extend_session(&hash, now + self.config.session_ttl_ms))?;
        }
        Ok(caller)
    }

    pub fn caller_from_api_token(&self, token: &str) -> Result<Caller> {
        let hash = token_hash(token);
        let (caller, token) = self.store.read(|tx| {
            let Some(t) = tx.api_token_by_hash(&hash)? else { return Err(Error::unauthenticated()) };
            Ok((load_caller(tx, &t.org_id, &t.member_id, None)?, t))
        })?;
        // "Last used" is shown to a minute; a write on every request would halve the write capacity.
        let now = now_ms();
        if token.last_used_at.is_none_or(|at| now - at > 60_000) {
            self.store.write(|tx| tx.touch_api_token(&token.id, now))?;
        }
        Ok(caller)
    }

    /// Creates an API token for the caller; the raw token is returned only here.
    pub fn create_api_token(&self, caller: &Caller, name: &str) -> Result<(String, ApiToken)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "give the token a name of 1–100 characters"));
        }
        let raw = format!("{API_TOKEN_PREFIX}{}", random_token());
        let token = ApiToken {
            id: new_id(),
            org_id: caller.org.id.clone(),
            member_id: caller.member.id.clone(),
            name: name.to_string(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.write(|tx| {
            tx.insert_api_token(&token, &token_hash(&raw))?;
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "api_token.created",
                &token.id,
                &audit_details(serde_json::json!({"name": name})),
                token.created_at,
            )
        })?;
        Ok((raw, token))
    }

    pub fn list_api_tokens(&self, caller: &Caller) -> Result<Vec<ApiToken>> {
        self.store.read(|tx| tx.list_api_tokens(&caller.org.id, &caller.member.id))
    }

    pub fn revoke_api_token(&self, caller: &Caller, id: &str) -> Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            if !tx.revoke_api_token(&caller.org.id, &caller.member.id, id, now)? {
                return Err(Error::not_found("API token"));
            }
            tx.insert_audit(&caller.org.id, Some(&caller.member.id), "api_token.revoked", id, "{}", now)
        })
    }

    /// The operator's recovery tool and the member's own password change.
    pub fn set_password(&self, org_slug: &str, email_address: &str, password: &str) -> Result<Member> {
        validate_password(password)?;
        let hash = hash_password(password)?;
        self.store.write(|tx| {
            let org = tx.org_by_slug(org_slug)?.ok_or_else(|| Error::not_found("organisation"))?;
            let member = tx.member_by_email(&org.id, email_address)?.ok_or_else(|| Error::not_found("member"))?;
            tx.set_password_hash(&org.id, &member.id, &hash, now_ms())?;
            tx.delete_member_sessions(&org.id, &member.id)?;
            tx.insert_audit(&org.id, None, "member.password_set", &member.id, "{}", now_ms())?;
            Ok(member)
        })
    }

    /// Acts as an active member without a sign-in: for the server's own
    /// work (the demo, integrations that verified the member otherwise).
    pub fn caller_for(&self, org_id: &str, member_id: &str) -> Result<Caller> {
        self.store.read(|tx| load_caller(tx, org_id, member_id, None))
    }
}

fn load_caller(
    tx: &mut plaudit_store::Tx,
    org_id: &str,
    member_id: &str,
    csrf_token: Option<String>,
) -> Result<Caller> {
    let org = tx.org_by_id(org_id)?.ok_or_else(Error::unauthenticated)?;
    let member = tx.member_by_id(org_id, member_id)?.ok_or_else(Error::unauthenticated)?;
    if member.status != Status::Active {
        return Err(Error::unauthenticated());
    }
    Ok(Caller { org, member, csrf_token })
}
