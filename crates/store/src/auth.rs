//! Sessions, API tokens and failed sign-in counters. Only hashes of the
//! secret tokens are stored.

use crate::{db, params, Tx};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub org_id: String,
    pub member_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub org_id: String,
    pub member_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginAttempt {
    pub failures: i64,
    pub last_failure_at: i64,
    pub locked_until: i64,
}

impl Tx<'_> {
    pub fn insert_session(&mut self, token_hash: &str, s: &SessionRecord, now: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sessions (token_hash, org_id, member_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![token_hash, &s.org_id, &s.member_id, &s.csrf_token, now, s.expires_at],
            )
            .map_err(db)?;
        Ok(())
    }

    /// The unexpired session with this token hash.
    pub fn session(&mut self, token_hash: &str, now: i64) -> Result<Option<SessionRecord>> {
        let rows = self
            .conn
            .query(
                "SELECT org_id, member_id, csrf_token, expires_at FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| SessionRecord {
            org_id: r.text(0),
            member_id: r.text(1),
            csrf_token: r.text(2),
            expires_at: r.int(3),
        }))
    }

    pub fn extend_session(&mut self, token_hash: &str, expires_at: i64) -> Result<()> {
        self.conn
            .execute("UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1", params![token_hash, expires_at])
            .map_err(db)?;
        Ok(())
    }

    pub fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.conn.execute("DELETE FROM sessions WHERE token_hash = ?1", params![token_hash]).map_err(db)?;
        Ok(())
    }

    /// Ends every session of a member (deactivation, password change).
    pub fn delete_member_sessions(&mut self, org_id: &str, member_id: &str) -> Result<u64> {
        self.conn
            .execute("DELETE FROM sessions WHERE org_id = ?1 AND member_id = ?2", params![org_id, member_id])
            .map_err(db)
    }

    pub fn delete_expired_sessions(&mut self, now: i64) -> Result<u64> {
        self.conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now]).map_err(db)
    }

    pub fn insert_api_token(&mut self, t: &ApiToken, token_hash: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO api_tokens (id, org_id, member_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![&t.id, &t.org_id, &t.member_id, &t.name, token_hash, t.created_at],
            )
            .map_err(db)?;
        Ok(())
    }

    /// The unrevoked token with this hash.
    pub fn api_token_by_hash(&mut self, token_hash: &str) -> Result<Option<ApiToken>> {
        let rows = self
            .conn
            .query(
                "SELECT id, org_id, member_id, name, created_at, last_used_at, revoked_at FROM api_tokens \
                 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash],
            )
            .map_err(db)?;
        Ok(rows.first().map(token_from))
    }

    pub fn touch_api_token(&mut self, id: &str, now: i64) -> Result<()> {
        self.conn.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![id, now]).map_err(db)?;
        Ok(())
    }

    pub fn list_api_tokens(&mut self, org_id: &str, member_id: &str) -> Result<Vec<ApiToken>> {
        let rows = self
            .conn
            .query(
                "SELECT id, org_id, member_id, name, created_at, last_used_at, revoked_at FROM api_tokens \
                 WHERE org_id = ?1 AND member_id = ?2 ORDER BY id DESC",
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(token_from).collect())
    }

    /// Revokes a token of this member; false when there is no such live token.
    pub fn revoke_api_token(&mut self, org_id: &str, member_id: &str, id: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE api_tokens SET revoked_at = ?4 WHERE org_id = ?1 AND member_id = ?2 AND id = ?3 AND revoked_at IS NULL",
                params![org_id, member_id, id, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn login_attempt(&mut self, account_key: &str) -> Result<LoginAttempt> {
        let rows = self
            .conn
            .query(
                "SELECT failures, last_failure_at, locked_until FROM login_attempts WHERE account_key = ?1",
                params![account_key],
            )
            .map_err(db)?;
        Ok(rows
            .first()
            .map(|r| LoginAttempt { failures: r.int(0), last_failure_at: r.int(1), locked_until: r.int(2) })
            .unwrap_or_default())
    }

    pub fn save_login_attempt(&mut self, account_key: &str, a: &LoginAttempt) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO login_attempts (account_key, failures, last_failure_at, locked_until) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account_key) DO UPDATE SET failures = ?2, last_failure_at = ?3, locked_until = ?4",
                params![account_key, a.failures, a.last_failure_at, a.locked_until],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn clear_login_attempts(&mut self, account_key: &str) -> Result<()> {
        self.conn.execute("DELETE FROM login_attempts WHERE account_key = ?1", params![account_key]).map_err(db)?;
        Ok(())
    }
}

fn token_from(r: &crate::sql::Row) -> ApiToken {
    ApiToken {
        id: r.text(0),
        org_id: r.text(1),
        member_id: r.text(2),
        name: r.text(3),
        created_at: r.int(4),
        last_used_at: r.opt_int(5),
        revoked_at: r.opt_int(6),
    }
}
