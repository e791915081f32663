//! Single sign-on: each organisation's OpenID provider, the sign-ins in
//! flight, and the provider identities members are known by.

use crate::{db, params, Tx};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettingsRow {
    pub org_id: String,
    pub enabled: bool,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    /// Lower-case domains.
    pub allowed_domains: Vec<String>,
    pub jit_enabled: bool,
    pub require_sso: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A sign-in that was started and waits for the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoState {
    pub org_id: String,
    pub state_hash: String,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const SETTINGS_COLUMNS: &str = "org_id, enabled, issuer_url, client_id, client_secret_sealed, allowed_domains, \
     jit_enabled, require_sso, last_error, last_error_at, last_sign_in_at, created_at, updated_at";

impl Tx<'_> {
    pub fn sso_settings(&mut self, org_id: &str) -> Result<Option<SsoSettingsRow>> {
        let rows = self
            .conn
            .query(&format!("SELECT {SETTINGS_COLUMNS} FROM sso_settings WHERE org_id = ?1"), params![org_id])
            .map_err(db)?;
        Ok(rows.first().map(|r| SsoSettingsRow {
            org_id: r.text(0),
            enabled: r.bool(1),
            issuer_url: r.text(2),
            client_id: r.text(3),
            client_secret_sealed: r.text(4),
            allowed_domains: r.text(5).split(' ').filter(|d| !d.is_empty()).map(str::to_string).collect(),
            jit_enabled: r.bool(6),
            require_sso: r.bool(7),
            last_error: r.opt_text(8),
            last_error_at: r.opt_int(9),
            last_sign_in_at: r.opt_int(10),
            created_at: r.int(11),
            updated_at: r.int(12),
        }))
    }

    /// Inserts or replaces the settings (status columns are kept on update).
    pub fn save_sso_settings(&mut self, s: &SsoSettingsRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sso_settings (org_id, enabled, issuer_url, client_id, client_secret_sealed, allowed_domains, \
                 jit_enabled, require_sso, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (org_id) DO UPDATE SET enabled = ?2, issuer_url = ?3, client_id = ?4, \
                 client_secret_sealed = ?5, allowed_domains = ?6, jit_enabled = ?7, require_sso = ?8, updated_at = ?10",
                params![
                    &s.org_id,
                    s.enabled,
                    &s.issuer_url,
                    &s.client_id,
                    &s.client_secret_sealed,
                    s.allowed_domains.join(" "),
                    s.jit_enabled,
                    s.require_sso,
                    s.created_at,
                    s.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Records the outcome of a call to the provider: an error, or None once it worked.
    pub fn set_sso_status(&mut self, org_id: &str, error: Option<&str>, now: i64) -> Result<()> {
        let sql = if error.is_some() {
            "UPDATE sso_settings SET last_error = ?2, last_error_at = ?3 WHERE org_id = ?1"
        } else {
            "UPDATE sso_settings SET last_error = ?2, last_error_at = NULL, last_sign_in_at = ?3 WHERE org_id = ?1"
        };
        self.conn.execute(sql, params![org_id, error, now]).map_err(db)?;
        Ok(())
    }

    pub fn insert_sso_state(&mut self, s: &SsoState) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sso_states (org_id, state_hash, browser_hash, nonce, pkce_verifier, next_path, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    &s.org_id,
                    &s.state_hash,
                    &s.browser_hash,
                    &s.nonce,
                    &s.pkce_verifier,
                    &s.next_path,
                    s.created_at,
                    s.expires_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn sso_state(&mut self, org_id: &str, state_hash: &str) -> Result<Option<SsoState>> {
        let rows = self
            .conn
            .query(
                "SELECT org_id, state_hash, browser_hash, nonce, pkce_verifier, next_path, created_at, expires_at, used_at \
                 FROM sso_states WHERE org_id = ?1 AND state_hash = ?2",
                params![org_id, state_hash],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| SsoState {
            org_id: r.text(0),
            state_hash: r.text(1),
            browser_hash: r.text(2),
            nonce: r.text(3),
            pkce_verifier: r.text(4),
            next_path: r.text(5),
            created_at: r.int(6),
            expires_at: r.int(7),
            used_at: r.opt_int(8),
        }))
    }

    /// Marks a state used; false when another request used it first.
    pub fn use_sso_state(&mut self, org_id: &str, state_hash: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE sso_states SET used_at = ?3 WHERE org_id = ?1 AND state_hash = ?2 AND used_at IS NULL",
                params![org_id, state_hash, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Forgets sign-ins that ended before `before` (kept a while so a reuse is named as such).
    pub fn delete_old_sso_states(&mut self, before: i64) -> Result<u64> {
        self.conn.execute("DELETE FROM sso_states WHERE expires_at < ?1", params![before]).map_err(db)
    }

    /// The member known by this provider identity.
    pub fn sso_identity_member(&mut self, org_id: &str, issuer: &str, subject: &str) -> Result<Option<String>> {
        let rows = self
            .conn
            .query(
                "SELECT member_id FROM sso_identities WHERE org_id = ?1 AND issuer = ?2 AND subject = ?3",
                params![org_id, issuer, subject],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| r.text(0)))
    }

    /// Remembers (or refreshes) a provider identity of a member.
    pub fn link_sso_identity(
        &mut self,
        org_id: &str,
        issuer: &str,
        subject: &str,
        member_id: &str,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sso_identities (org_id, issuer, subject, member_id, created_at, last_used_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
                 ON CONFLICT (org_id, issuer, subject) DO UPDATE SET last_used_at = ?5",
                params![org_id, issuer, subject, member_id, now],
            )
            .map_err(db)?;
        Ok(())
    }
}
