//! Members: the directory.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::member::{Member, Profile, Role, Status};
use plaudit_domain::{email, text, Error, Result};

const COLUMNS: &str = "id, org_id, email, employee_id, first_name, last_name, display_name, title, department, \
    location, start_date, birthday, gender, manager_id, status, role, may_give, may_receive, allowance_override, \
    password_hash, created_at, updated_at";

fn member_from(r: &Row) -> Member {
    Member {
        id: r.text(0),
        org_id: r.text(1),
        profile: Profile {
            email: r.text(2),
            employee_id: r.text(3),
            first_name: r.text(4),
            last_name: r.text(5),
            display_name: r.text(6),
            title: r.text(7),
            department: r.text(8),
            location: r.text(9),
            start_date: r.text(10),
            birthday: r.text(11),
            gender: r.text(12),
        },
        manager_id: r.opt_text(13),
        status: if r.text(14) == "inactive" { Status::Inactive } else { Status::Active },
        role: Role::parse(&r.text(15)).unwrap_or(Role::Member),
        may_give: r.bool(16),
        may_receive: r.bool(17),
        allowance_override: r.opt_int(18),
        password_hash: r.opt_text(19),
        created_at: r.int(20),
        updated_at: r.int(21),
    }
}

/// The key the directory is ordered and paged by.
pub fn sort_key(m: &Member) -> String {
    text::search_key(&[&m.profile.display_name])
}

/// Directory filters; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub query: String,
    pub department: String,
    pub location: String,
    pub status: Option<Status>,
}

/// What an admin may change on a member besides the profile.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub role: Option<Role>,
    pub status: Option<Status>,
    pub may_give: Option<bool>,
    pub may_receive: Option<bool>,
}

/// A current member as the import sees it.
#[derive(Debug, Clone)]
pub struct ExistingLink {
    pub id: String,
    pub email_norm: String,
    pub manager_email_norm: Option<String>,
    pub status: Status,
}

fn email_taken(m: &Member) -> Error {
    Error::conflict("email_taken", format!("{} is already a member of this organisation", m.profile.email))
        .on_field("email")
}

impl Tx<'_> {
    pub fn insert_member(&mut self, m: &Member) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO members ({COLUMNS}, email_norm, search_key, sort_key) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
                ),
                params![
                    &m.id,
                    &m.org_id,
                    &m.profile.email,
                    &m.profile.employee_id,
                    &m.profile.first_name,
                    &m.profile.last_name,
                    &m.profile.display_name,
                    &m.profile.title,
                    &m.profile.department,
                    &m.profile.location,
                    &m.profile.start_date,
                    &m.profile.birthday,
                    &m.profile.gender,
                    m.manager_id.clone(),
                    m.status.as_str(),
                    m.role.as_str(),
                    m.may_give,
                    m.may_receive,
                    m.allowance_override,
                    m.password_hash.clone(),
                    m.created_at,
                    m.updated_at,
                    email::normalize(&m.profile.email),
                    m.profile.search_key(),
                    sort_key(m)
                ],
            )
            .map_err(|e| if e.unique_violation { email_taken(m) } else { db(e) })?;
        Ok(())
    }

    /// Saves every changeable column of `m` (profile, manager, status, role,
    /// permissions, allowance override). The password is set separately.
    pub fn update_member(&mut self, m: &Member) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE members SET email = ?3, employee_id = ?4, first_name = ?5, last_name = ?6, display_name = ?7, \
                 title = ?8, department = ?9, location = ?10, start_date = ?11, birthday = ?12, gender = ?13, \
                 manager_id = ?14, status = ?15, role = ?16, may_give = ?17, may_receive = ?18, allowance_override = ?19, \
                 updated_at = ?20, email_norm = ?21, search_key = ?22, sort_key = ?23 WHERE org_id = ?1 AND id = ?2",
                params![
                    &m.org_id,
                    &m.id,
                    &m.profile.email,
                    &m.profile.employee_id,
                    &m.profile.first_name,
                    &m.profile.last_name,
                    &m.profile.display_name,
                    &m.profile.title,
                    &m.profile.department,
                    &m.profile.location,
                    &m.profile.start_date,
                    &m.profile.birthday,
                    &m.profile.gender,
                    m.manager_id.clone(),
                    m.status.as_str(),
                    m.role.as_str(),
                    m.may_give,
                    m.may_receive,
                    m.allowance_override,
                    m.updated_at,
                    email::normalize(&m.profile.email),
                    m.profile.search_key(),
                    sort_key(m)
                ],
            )
            .map_err(|e| if e.unique_violation { email_taken(m) } else { db(e) })?;
        if n == 0 {
            return Err(Error::not_found("member"));
        }
        Ok(())
    }

    pub fn set_password_hash(&mut self, org_id: &str, member_id: &str, hash: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE members SET password_hash = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org_id, member_id, hash, now],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn member_by_id(&mut self, org_id: &str, id: &str) -> Result<Option<Member>> {
        let rows = self
            .conn
            .query(&format!("SELECT {COLUMNS} FROM members WHERE org_id = ?1 AND id = ?2"), params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().map(member_from))
    }

    /// Looks a member up by e-mail in any letter case.
    pub fn member_by_email(&mut self, org_id: &str, email_address: &str) -> Result<Option<Member>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {COLUMNS} FROM members WHERE org_id = ?1 AND email_norm = ?2"),
                params![org_id, email::normalize(email_address)],
            )
            .map_err(db)?;
        Ok(rows.first().map(member_from))
    }

    pub fn manager_of(&mut self, org_id: &str, id: &str) -> Result<Option<String>> {
        let rows = self
            .conn
            .query("SELECT manager_id FROM members WHERE org_id = ?1 AND id = ?2", params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().and_then(|r| r.opt_text(0)))
    }

    pub fn count_active_members(&mut self, org_id: &str) -> Result<i64> {
        let rows = self
            .conn
            .query("SELECT COUNT(*) FROM members WHERE org_id = ?1 AND status = 'active'", params![org_id])
            .map_err(db)?;
        Ok(rows[0].int(0))
    }

    pub fn count_active_owners(&mut self, org_id: &str) -> Result<i64> {
        let rows = self
            .conn
            .query(
                "SELECT COUNT(*) FROM members WHERE org_id = ?1 AND status = 'active' AND role = 'owner'",
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows[0].int(0))
    }

    /// A page of the directory in name order, after the member whose
    /// `(sort key, id)` is `after`.
    pub fn list_members(
        &mut self,
        org_id: &str,
        filter: &MemberFilter,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<Member>> {
        let pattern = (!filter.query.trim().is_empty()).then(|| text::like_pattern(&filter.query));
        let (after_key, after_id) = after.map_or((None, None), |(k, i)| (Some(k), Some(i)));
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM members WHERE org_id = ?1 \
                     AND (CAST(?2 AS TEXT) IS NULL OR search_key LIKE ?2 ESCAPE '\\' OR email_norm LIKE ?2 ESCAPE '\\') \
                     AND (?3 = '' OR department = ?3) AND (?4 = '' OR location = ?4) \
                     AND (?5 = '' OR status = ?5) \
                     AND (CAST(?6 AS TEXT) IS NULL OR sort_key > ?6 OR (sort_key = ?6 AND id > ?7)) \
                     ORDER BY sort_key, id LIMIT ?8"
                ),
                params![
                    org_id,
                    pattern,
                    &filter.department,
                    &filter.location,
                    filter.status.map_or("", |s| s.as_str()),
                    after_key,
                    after_id,
                    limit
                ],
            )
            .map_err(db)?;
        Ok(rows.iter().map(member_from).collect())
    }

    pub fn direct_reports(&mut self, org_id: &str, manager_id: &str) -> Result<Vec<Member>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {COLUMNS} FROM members WHERE org_id = ?1 AND manager_id = ?2 ORDER BY sort_key, id"),
                params![org_id, manager_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(member_from).collect())
    }

    /// The distinct non-empty values of `department` or `location`, for filters.
    pub fn member_facets(&mut self, org_id: &str) -> Result<(Vec<String>, Vec<String>)> {
        let mut get = |column: &str| -> Result<Vec<String>> {
            let rows = self
                .conn
                .query(
                    &format!(
                        "SELECT DISTINCT {column} FROM members WHERE org_id = ?1 AND {column} <> '' ORDER BY {column}"
                    ),
                    params![org_id],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| r.text(0)).collect())
        };
        Ok((get("department")?, get("location")?))
    }

    /// Every member's e-mail and manager's e-mail, compactly, for the import.
    pub fn existing_links(&mut self, org_id: &str) -> Result<Vec<ExistingLink>> {
        let rows = self
            .conn
            .query(
                "SELECT m.id, m.email_norm, b.email_norm, m.status FROM members m \
                 LEFT JOIN members b ON b.org_id = m.org_id AND b.id = m.manager_id WHERE m.org_id = ?1",
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| ExistingLink {
                id: r.text(0),
                email_norm: r.text(1),
                manager_email_norm: r.opt_text(2),
                status: if r.text(3) == "inactive" { Status::Inactive } else { Status::Active },
            })
            .collect())
    }

    /// Sets only the manager link (the import's second pass).
    pub fn set_manager(&mut self, org_id: &str, member_id: &str, manager_id: Option<&str>, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE members SET manager_id = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org_id, member_id, manager_id, now],
            )
            .map_err(db)?;
        Ok(())
    }
}
