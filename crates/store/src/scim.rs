//! SCIM provisioning: tokens, the SCIM identity of members, and groups.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::scim::{uniqueness, Group, UserLink};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: String,
    pub org_id: String,
    pub name: String,
    /// The admin who created it: SCIM changes are made, and audited, as them.
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The last failed request made with the token and when it failed.
    pub last_error: Option<(String, i64)>,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "id, org_id, name, created_by, created_at, last_used_at, revoked_at, last_error, last_error_at";

fn token_from(r: &Row) -> ScimToken {
    ScimToken {
        id: r.text(0),
        org_id: r.text(1),
        name: r.text(2),
        created_by: r.text(3),
        created_at: r.int(4),
        last_used_at: r.opt_int(5),
        revoked_at: r.opt_int(6),
        last_error: r.opt_text(7).zip(r.opt_int(8)),
    }
}

const LINK_COLUMNS: &str = "member_id, user_name, external_id, emails, created_at, updated_at, deleted_at";

fn link_from(r: &Row) -> UserLink {
    UserLink {
        member_id: r.text(0),
        user_name: r.text(1),
        external_id: r.opt_text(2),
        emails: r.text(3),
        created_at: r.int(4),
        updated_at: r.int(5),
        deleted_at: r.opt_int(6),
    }
}

const GROUP_COLUMNS: &str = "id, org_id, display_name, external_id, created_at, updated_at";

fn group_from(r: &Row) -> Group {
    Group {
        id: r.text(0),
        org_id: r.text(1),
        display_name: r.text(2),
        external_id: r.opt_text(3),
        created_at: r.int(4),
        updated_at: r.int(5),
    }
}

/// userName and group names are unique in any letter case.
pub fn scim_norm(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Tx<'_> {
    pub fn insert_scim_token(&mut self, t: &ScimToken, token_hash: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO scim_tokens (id, org_id, name, token_hash, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![&t.id, &t.org_id, &t.name, token_hash, &t.created_by, t.created_at],
            )
            .map_err(db)?;
        Ok(())
    }

    /// The unrevoked token with this hash.
    pub fn scim_token_by_hash(&mut self, token_hash: &str) -> Result<Option<ScimToken>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE token_hash = ?1 AND revoked_at IS NULL"),
                params![token_hash],
            )
            .map_err(db)?;
        Ok(rows.first().map(token_from))
    }

    pub fn touch_scim_token(&mut self, org_id: &str, id: &str, now: i64) -> Result<()> {
        self.conn
            .execute("UPDATE scim_tokens SET last_used_at = ?3 WHERE org_id = ?1 AND id = ?2", params![org_id, id, now])
            .map_err(db)?;
        Ok(())
    }

    /// Remembers a failed request of the live token with this hash.
    pub fn record_scim_error(&mut self, token_hash: &str, message: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE scim_tokens SET last_error = ?2, last_error_at = ?3 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![token_hash, message, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// How many members SCIM provisioned, how many of those it deleted, and how many groups it keeps.
    pub fn scim_counts(&mut self, org_id: &str) -> Result<(i64, i64, i64)> {
        let rows = self
            .conn
            .query(
                "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
                 FROM scim_users WHERE org_id = ?1",
                params![org_id],
            )
            .map_err(db)?;
        let groups =
            self.conn.query("SELECT COUNT(*) FROM scim_groups WHERE org_id = ?1", params![org_id]).map_err(db)?;
        Ok((rows[0].int(0), rows[0].int(1), groups[0].int(0)))
    }

    /// The organisation's live tokens, newest first.
    pub fn list_scim_tokens(&mut self, org_id: &str) -> Result<Vec<ScimToken>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE org_id = ?1 AND revoked_at IS NULL ORDER BY id DESC"
                ),
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(token_from).collect())
    }

    /// False when the organisation has no such live token.
    pub fn revoke_scim_token(&mut self, org_id: &str, id: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE scim_tokens SET revoked_at = ?3 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![org_id, id, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn scim_links(&mut self, org_id: &str) -> Result<Vec<UserLink>> {
        let rows = self
            .conn
            .query(&format!("SELECT {LINK_COLUMNS} FROM scim_users WHERE org_id = ?1"), params![org_id])
            .map_err(db)?;
        Ok(rows.iter().map(link_from).collect())
    }

    pub fn scim_link(&mut self, org_id: &str, member_id: &str) -> Result<Option<UserLink>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {LINK_COLUMNS} FROM scim_users WHERE org_id = ?1 AND member_id = ?2"),
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.first().map(link_from))
    }

    pub fn scim_link_by_user_name(&mut self, org_id: &str, user_name: &str) -> Result<Option<UserLink>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {LINK_COLUMNS} FROM scim_users WHERE org_id = ?1 AND user_name_norm = ?2"),
                params![org_id, scim_norm(user_name)],
            )
            .map_err(db)?;
        Ok(rows.first().map(link_from))
    }

    /// Inserts or replaces a member's SCIM identity.
    pub fn save_scim_link(&mut self, org_id: &str, l: &UserLink) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO scim_users (org_id, member_id, user_name, user_name_norm, external_id, emails, created_at, updated_at, deleted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (org_id, member_id) DO UPDATE SET \
                 user_name = ?3, user_name_norm = ?4, external_id = ?5, emails = ?6, updated_at = ?8, deleted_at = ?9",
                params![
                    org_id,
                    &l.member_id,
                    &l.user_name,
                    scim_norm(&l.user_name),
                    l.external_id.clone(),
                    &l.emails,
                    l.created_at,
                    l.updated_at,
                    l.deleted_at
                ],
            )
            .map_err(|e| {
                if e.unique_violation {
                    uniqueness(format!("the userName {} is already taken", l.user_name))
                } else {
                    db(e)
                }
            })?;
        Ok(())
    }

    pub fn scim_groups(&mut self, org_id: &str) -> Result<Vec<Group>> {
        let rows = self
            .conn
            .query(&format!("SELECT {GROUP_COLUMNS} FROM scim_groups WHERE org_id = ?1 ORDER BY id"), params![org_id])
            .map_err(db)?;
        Ok(rows.iter().map(group_from).collect())
    }

    pub fn scim_group(&mut self, org_id: &str, id: &str) -> Result<Option<Group>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {GROUP_COLUMNS} FROM scim_groups WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(group_from))
    }

    /// Inserts or updates a group (not its members).
    pub fn save_scim_group(&mut self, g: &Group) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO scim_groups (id, org_id, display_name, display_name_norm, external_id, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET \
                 display_name = ?3, display_name_norm = ?4, external_id = ?5, updated_at = ?7",
                params![
                    &g.id,
                    &g.org_id,
                    &g.display_name,
                    scim_norm(&g.display_name),
                    g.external_id.clone(),
                    g.created_at,
                    g.updated_at
                ],
            )
            .map_err(|e| {
                if e.unique_violation {
                    uniqueness(format!("a group named {} already exists", g.display_name))
                } else {
                    db(e)
                }
            })?;
        Ok(())
    }

    pub fn delete_scim_group(&mut self, org_id: &str, id: &str) -> Result<bool> {
        self.conn
            .execute("DELETE FROM scim_group_members WHERE org_id = ?1 AND group_id = ?2", params![org_id, id])
            .map_err(db)?;
        let n = self
            .conn
            .execute("DELETE FROM scim_groups WHERE org_id = ?1 AND id = ?2", params![org_id, id])
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Every (group id, member id) pair of the organisation.
    pub fn scim_memberships(&mut self, org_id: &str) -> Result<Vec<(String, String)>> {
        let rows = self
            .conn
            .query(
                "SELECT group_id, member_id FROM scim_group_members WHERE org_id = ?1 ORDER BY group_id, member_id",
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.text(0), r.text(1))).collect())
    }

    /// Replaces the members of a group.
    pub fn set_scim_group_members(&mut self, org_id: &str, group_id: &str, member_ids: &[String]) -> Result<()> {
        self.conn
            .execute("DELETE FROM scim_group_members WHERE org_id = ?1 AND group_id = ?2", params![org_id, group_id])
            .map_err(db)?;
        for m in member_ids {
            self.conn
                .execute(
                    "INSERT INTO scim_group_members (org_id, group_id, member_id) VALUES (?1, ?2, ?3)",
                    params![org_id, group_id, m],
                )
                .map_err(db)?;
        }
        Ok(())
    }

    /// The groups a member is in, by name.
    pub fn groups_of_member(&mut self, org_id: &str, member_id: &str) -> Result<Vec<Group>> {
        let rows = self
            .conn
            .query(
                "SELECT g.id, g.org_id, g.display_name, g.external_id, g.created_at, g.updated_at FROM scim_groups g \
                 JOIN scim_group_members gm ON gm.org_id = g.org_id AND gm.group_id = g.id \
                 WHERE g.org_id = ?1 AND gm.member_id = ?2 ORDER BY g.display_name_norm",
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(group_from).collect())
    }
}
