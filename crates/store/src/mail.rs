//! E-mail: members' choices, password-reset tokens (only their hashes),
//! weekly marks, and the look-ups the weekly mails are made of.

use crate::{db, params, Tx};
use plaudit_domain::Result;

/// A member who reports to a manager, and when they were last recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecognition {
    pub member_id: String,
    pub manager_id: String,
    pub display_name: String,
    /// The newest visible recognition they received, if any.
    pub last_recognised_at: Option<i64>,
}

/// A key result of an active cycle and its newest check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyResultActivity {
    pub key_result_id: String,
    pub title: String,
    pub objective_id: String,
    pub objective_title: String,
    pub owner_id: String,
    /// The newest check-in, or when the key result was made if it has none.
    pub last_activity_at: i64,
}

/// How an org's mail jobs stand (the admin page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailQueueStatus {
    pub queued: i64,
    pub failed: i64,
    /// The newest error of a mail still waiting or given up on.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

impl Tx<'_> {
    /// The kinds a member chose, as (kind, enabled); kinds not listed are on.
    pub fn mail_preferences(&mut self, org_id: &str, member_id: &str) -> Result<Vec<(String, bool)>> {
        let rows = self
            .conn
            .query(
                "SELECT kind, enabled FROM mail_preferences WHERE org_id = ?1 AND member_id = ?2 ORDER BY kind",
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.text(0), r.bool(1))).collect())
    }

    pub fn set_mail_preference(
        &mut self,
        org_id: &str,
        member_id: &str,
        kind: &str,
        enabled: bool,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO mail_preferences (org_id, member_id, kind, enabled, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (org_id, member_id, kind) DO UPDATE SET enabled = ?4, updated_at = ?5",
                params![org_id, member_id, kind, enabled, now],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn insert_password_reset(
        &mut self,
        token_hash: &str,
        org_id: &str,
        member_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO password_resets (token_hash, org_id, member_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token_hash, org_id, member_id, now, expires_at],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Reset links asked for by a member since `since` (the rate limit).
    pub fn count_password_resets_since(&mut self, org_id: &str, member_id: &str, since: i64) -> Result<i64> {
        let rows = self
            .conn
            .query(
                "SELECT COUNT(*) FROM password_resets WHERE org_id = ?1 AND member_id = ?2 AND created_at >= ?3",
                params![org_id, member_id, since],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
    }

    /// The (org, member) of an unused, unexpired reset token.
    pub fn password_reset(&mut self, token_hash: &str, now: i64) -> Result<Option<(String, String)>> {
        let rows = self
            .conn
            .query(
                "SELECT org_id, member_id FROM password_resets WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![token_hash, now],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| (r.text(0), r.text(1))))
    }

    /// Uses up a reset token; false when it was used, expired or unknown.
    pub fn use_password_reset(&mut self, token_hash: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![token_hash, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Other open reset links of a member stop working once one is used.
    pub fn expire_password_resets(&mut self, org_id: &str, member_id: &str, now: i64) -> Result<u64> {
        self.conn
            .execute(
                "UPDATE password_resets SET used_at = ?3 WHERE org_id = ?1 AND member_id = ?2 AND used_at IS NULL",
                params![org_id, member_id, now],
            )
            .map_err(db)
    }

    /// Records `mark` once: true for the first caller, false ever after.
    pub fn claim_mail_mark(&mut self, org_id: &str, mark: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT INTO mail_marks (org_id, mark, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (org_id, mark) DO NOTHING",
                params![org_id, mark, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn has_mail_mark(&mut self, org_id: &str, mark: &str) -> Result<bool> {
        let rows = self
            .conn
            .query("SELECT 1 FROM mail_marks WHERE org_id = ?1 AND mark = ?2", params![org_id, mark])
            .map_err(db)?;
        Ok(!rows.is_empty())
    }

    /// Every active member with a manager, with their newest visible recognition.
    pub fn report_recognitions(&mut self, org_id: &str) -> Result<Vec<ReportRecognition>> {
        let rows = self
            .conn
            .query(
                "SELECT m.id, m.manager_id, m.display_name, \
                   (SELECT MAX(rr.created_at) FROM recognition_recipients rr \
                    JOIN recognitions r ON r.org_id = rr.org_id AND r.id = rr.recognition_id \
                    WHERE rr.org_id = m.org_id AND rr.member_id = m.id AND r.hidden = ?2 AND r.undone = ?2) \
                 FROM members m WHERE m.org_id = ?1 AND m.status = 'active' AND m.manager_id IS NOT NULL \
                 ORDER BY m.sort_key, m.id",
                params![org_id, false],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| ReportRecognition {
                member_id: r.text(0),
                manager_id: r.text(1),
                display_name: r.text(2),
                last_recognised_at: r.opt_int(3),
            })
            .collect())
    }

    /// The unarchived key results of the org's active cycles, with their newest check-in.
    pub fn active_key_result_activity(&mut self, org_id: &str) -> Result<Vec<KeyResultActivity>> {
        let rows = self
            .conn
            .query(
                "SELECT k.id, k.title, o.id, o.title, k.owner_id, \
                   COALESCE((SELECT MAX(ci.created_at) FROM check_ins ci WHERE ci.org_id = k.org_id AND ci.key_result_id = k.id), k.created_at) \
                 FROM key_results k \
                 JOIN objectives o ON o.org_id = k.org_id AND o.id = k.objective_id \
                 JOIN cycles c ON c.org_id = o.org_id AND c.id = o.cycle_id \
                 WHERE k.org_id = ?1 AND c.state = 'active' AND k.archived = ?2 \
                 ORDER BY k.owner_id, o.title, k.created_at, k.id",
                params![org_id, false],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| KeyResultActivity {
                key_result_id: r.text(0),
                title: r.text(1),
                objective_id: r.text(2),
                objective_title: r.text(3),
                owner_id: r.text(4),
                last_activity_at: r.int(5),
            })
            .collect())
    }

    /// Counts of an org's jobs of `kind` waiting and given up on, and the newest error.
    pub fn mail_queue_status(&mut self, org_id: &str, kind: &str) -> Result<MailQueueStatus> {
        let rows = self
            .conn
            .query(
                "SELECT CAST(SUM(CASE WHEN state = 'failed' THEN 0 ELSE 1 END) AS BIGINT), \
                        CAST(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM jobs WHERE org_id = ?1 AND kind = ?2",
                params![org_id, kind],
            )
            .map_err(db)?;
        let mut status = MailQueueStatus::default();
        if let Some(r) = rows.first() {
            status.queued = r.opt_int(0).unwrap_or(0);
            status.failed = r.opt_int(1).unwrap_or(0);
        }
        let rows = self
            .conn
            .query(
                "SELECT last_error, updated_at FROM jobs WHERE org_id = ?1 AND kind = ?2 AND last_error IS NOT NULL \
                 ORDER BY updated_at DESC, id DESC LIMIT 1",
                params![org_id, kind],
            )
            .map_err(db)?;
        if let Some(r) = rows.first() {
            status.last_error = r.opt_text(0);
            status.last_error_at = r.opt_int(1);
        }
        Ok(status)
    }
}
