//! The audit log: who did what to whom, per organisation.

use crate::{db, params, Tx};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: String,
    pub details: String,
    pub created_at: i64,
}

impl Tx<'_> {
    /// `details` is a JSON text built by the caller.
    pub fn insert_audit(
        &mut self,
        org_id: &str,
        actor_id: Option<&str>,
        action: &str,
        target: &str,
        details: &str,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO audit_log (id, org_id, actor_id, action, target, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![crate::new_id(), org_id, actor_id, action, target, details, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Newest first; `before` is the id of the last entry of the previous page.
    pub fn list_audit(&mut self, org_id: &str, before: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = self
            .conn
            .query(
                "SELECT id, actor_id, action, target, details, created_at FROM audit_log \
                 WHERE org_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3",
                params![org_id, before, limit],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.text(0),
                actor_id: r.opt_text(1),
                action: r.text(2),
                target: r.text(3),
                details: r.text(4),
                created_at: r.int(5),
            })
            .collect())
    }
}
