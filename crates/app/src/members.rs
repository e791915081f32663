//! The directory: looking members up, adding them by hand, and the admin's
//! changes (role, status, permissions, manager).

use crate::auth::Caller;
use crate::events::{member_data, publish};
use crate::{audit_details, now_ms, App};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use plaudit_domain::events::EventKind;
use plaudit_domain::member::{manager_would_cycle, Member, Profile, Role, Status};
use plaudit_domain::org::check_activation_allowed;
use plaudit_domain::{Error, Result};
use plaudit_store::{member_sort_key, new_id, MemberFilter, Tx};
use serde::Deserialize;

pub const MAX_PAGE: i64 = 100;

/// A member added by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[serde(flatten)]
    pub profile: Profile,
    pub manager_id: Option<String>,
    #[serde(default = "default_role")]
    pub role: Role,
    #[serde(default = "default_status")]
    pub status: Status,
    #[serde(default = "yes")]
    pub may_give: bool,
    #[serde(default = "yes")]
    pub may_receive: bool,
    pub allowance_override: Option<i64>,
}

fn default_role() -> Role {
    Role::Member
}
fn default_status() -> Status {
    Status::Active
}
fn yes() -> bool {
    true
}

/// An admin's change to a member; absent fields stay as they are, and
/// `manager_id: null` / `allowance_override: null` clear those.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChanges {
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub start_date: Option<String>,
    pub birthday: Option<String>,
    pub gender: Option<String>,
    #[serde(default, deserialize_with = "some")]
    pub manager_id: Option<Option<String>>,
    pub role: Option<Role>,
    pub status: Option<Status>,
    pub may_give: Option<bool>,
    pub may_receive: Option<bool>,
    #[serde(default, deserialize_with = "some")]
    pub allowance_override: Option<Option<i64>>,
}

fn some<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A page of members and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub members: Vec<Member>,
    pub next_cursor: Option<String>,
}

fn encode_cursor(m: &Member) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\u{0}{}", member_sort_key(m), m.id))
}

fn decode_cursor(cursor: &str) -> Result<(String, String)> {
    let bad = || Error::invalid("cursor", "the cursor is not one this server gave out");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (key, id) = text.split_once('\u{0}').ok_or_else(bad)?;
    Ok((key.to_string(), id.to_string()))
}

/// Checks the new manager exists in this organisation and closes no loop.
fn check_manager(tx: &mut Tx, org_id: &str, member_id: &str, manager_id: &str) -> Result<()> {
    if tx.member_by_id(org_id, manager_id)?.is_none() {
        return Err(Error::invalid("manager_id", "that manager is not a member of this organisation"));
    }
    let mut chain = std::collections::HashMap::new();
    let mut current = Some(manager_id.to_string());
    while let Some(id) = current {
        if chain.contains_key(&id) || id == member_id {
            break;
        }
        let next = tx.manager_of(org_id, &id)?;
        chain.insert(id, next.clone());
        current = next;
    }
    if manager_would_cycle(member_id, manager_id, |id| chain.get(id).cloned().flatten()) {
        return Err(Error::invalid(
            "manager_id",
            "that would make the member their own manager, directly or through others",
        )
        .with_code("manager_cycle"));
    }
    Ok(())
}

impl App {
    pub fn member(&self, caller: &Caller, id: &str) -> Result<Member> {
        self.store.read(|tx| tx.member_by_id(&caller.org.id, id))?.ok_or_else(|| Error::not_found("member"))
    }

    /// A member of the caller's organisation named by id or by e-mail (any
    /// letter case), as people type it into a form.
    pub fn find_member(&self, caller: &Caller, id_or_email: &str) -> Result<Option<Member>> {
        let key = id_or_email.trim();
        if key.is_empty() {
            return Ok(None);
        }
        self.store.read(|tx| match tx.member_by_id(&caller.org.id, key)? {
            Some(m) => Ok(Some(m)),
            None if key.contains('@') => tx.member_by_email(&caller.org.id, key),
            None => Ok(None),
        })
    }

    pub fn list_members(
        &self,
        caller: &Caller,
        filter: &MemberFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<MemberPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let after = cursor.filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
        let mut members = self.store.read(|tx| {
            tx.list_members(&caller.org.id, filter, after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())), limit + 1)
        })?;
        let next_cursor = if members.len() as i64 > limit {
            members.truncate(limit as usize);
            members.last().map(encode_cursor)
        } else {
            None
        };
        Ok(MemberPage { members, next_cursor })
    }

    /// Departments and locations in use, for directory filters.
    pub fn member_facets(&self, caller: &Caller) -> Result<(Vec<String>, Vec<String>)> {
        self.store.read(|tx| tx.member_facets(&caller.org.id))
    }

    /// The member's managers, nearest first.
    pub fn manager_chain(&self, caller: &Caller, member: &Member) -> Result<Vec<Member>> {
        self.store.read(|tx| {
            let mut chain: Vec<Member> = Vec::new();
            let mut next = member.manager_id.clone();
            while let Some(id) = next {
                if chain.iter().any(|m| m.id == id) || chain.len() > 100 {
                    break;
                }
                let Some(m) = tx.member_by_id(&caller.org.id, &id)? else { break };
                next = m.manager_id.clone();
                chain.push(m);
            }
            Ok(chain)
        })
    }

    pub fn direct_reports(&self, caller: &Caller, member_id: &str) -> Result<Vec<Member>> {
        self.store.read(|tx| tx.direct_reports(&caller.org.id, member_id))
    }

    pub fn create_member(&self, caller: &Caller, new: NewMember) -> Result<Member> {
        caller.require_admin()?;
        if new.role == Role::Owner && caller.member.role != Role::Owner {
            return Err(Error::forbidden("only owners may make someone an owner"));
        }
        let member = new_member_record(&caller.org.id, &new, now_ms())?;
        self.store.write(|tx| {
            insert_new_member(tx, &caller.org.id, Some(&caller.member.id), &member, serde_json::json!({}))?;
            Ok(member.clone())
        })
    }

    pub fn update_member(&self, caller: &Caller, id: &str, changes: MemberChanges) -> Result<Member> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| change_member(tx, caller, id, &changes, now))
    }
}

/// The member row of a new member, its profile checked.
pub(crate) fn new_member_record(org_id: &str, new: &NewMember, now: i64) -> Result<Member> {
    Ok(Member {
        id: new_id(),
        org_id: org_id.to_string(),
        profile: new.profile.clone().validated()?,
        manager_id: new.manager_id.clone().filter(|m| !m.is_empty()),
        status: new.status,
        role: new.role,
        may_give: new.may_give,
        may_receive: new.may_receive,
        allowance_override: check_allowance(new.allowance_override)?,
        password_hash: None,
        created_at: now,
        updated_at: now,
    })
}

/// Adds a member inside `tx`: the plan's member limit, the manager check and
/// the `member.created` audit entry (`details` adds to the e-mail). Every way
/// a member is created (by an admin, by signing in with SSO) goes through here.
pub(crate) fn insert_new_member(
    tx: &mut Tx,
    org_id: &str,
    actor_id: Option<&str>,
    member: &Member,
    mut details: serde_json::Value,
) -> Result<()> {
    tx.lock_org(org_id)?;
    let org = tx.org_by_id(org_id)?.ok_or_else(|| Error::not_found("organisation"))?;
    if member.status == Status::Active {
        check_activation_allowed(org.plan, tx.count_active_members(&org.id)?)?;
    }
    if let Some(manager) = &member.manager_id {
        check_manager(tx, &org.id, &member.id, manager)?;
    }
    tx.insert_member(member)?;
    publish(tx, &org.id, EventKind::MemberCreated, member_data(member), member.created_at)?;
    details["email"] = member.profile.email.clone().into();
    tx.insert_audit(&org.id, actor_id, "member.created", &member.id, &audit_details(details), member.created_at)
}

/// Applies an admin's changes inside a transaction: every member rule
/// (owners, plan limit, manager loops, allowance, sessions ended on
/// deactivation) and the audit entry.
pub(crate) fn change_member(
    tx: &mut Tx,
    caller: &Caller,
    id: &str,
    changes: &MemberChanges,
    now: i64,
) -> Result<Member> {
    tx.lock_org(&caller.org.id)?;
    let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
    let before = tx.member_by_id(&org.id, id)?.ok_or_else(|| Error::not_found("member"))?;
    let mut m = before.clone();
    let c = changes.clone();
    let p = &mut m.profile;
    for (value, field) in [
        (c.email, &mut p.email),
        (c.employee_id, &mut p.employee_id),
        (c.first_name, &mut p.first_name),
        (c.last_name, &mut p.last_name),
        (c.display_name, &mut p.display_name),
        (c.title, &mut p.title),
        (c.department, &mut p.department),
        (c.location, &mut p.location),
        (c.start_date, &mut p.start_date),
        (c.birthday, &mut p.birthday),
        (c.gender, &mut p.gender),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    m.profile = m.profile.clone().validated()?;
    if let Some(manager) = c.manager_id {
        m.manager_id = manager.filter(|s| !s.is_empty());
        if let Some(manager) = &m.manager_id {
            if before.manager_id.as_ref() != Some(manager) {
                check_manager(tx, &org.id, &m.id, manager)?;
            }
        }
    }
    if let Some(role) = c.role {
        let touches_owner = role == Role::Owner || before.role == Role::Owner;
        if touches_owner && role != before.role && caller.member.role != Role::Owner {
            return Err(Error::forbidden("only owners may grant or take away the owner role").on_field("role"));
        }
        m.role = role;
    }
    if let Some(status) = c.status {
        m.status = status;
    }
    if let Some(v) = c.may_give {
        m.may_give = v;
    }
    if let Some(v) = c.may_receive {
        m.may_receive = v;
    }
    if let Some(v) = c.allowance_override {
        m.allowance_override = check_allowance(v)?;
    }
    let losing_owner = before.role == Role::Owner
        && before.status == Status::Active
        && (m.role != Role::Owner || m.status != Status::Active);
    if losing_owner && tx.count_active_owners(&org.id)? <= 1 {
        return Err(Error::conflict(
            "last_owner",
            "an organisation needs at least one active owner; make someone else owner first",
        ));
    }
    if before.status == Status::Inactive && m.status == Status::Active {
        check_activation_allowed(org.plan, tx.count_active_members(&org.id)?)?;
    }
    if m == before {
        return Ok(m);
    }
    m.updated_at = now;
    tx.update_member(&m)?;
    if m.allowance_override != before.allowance_override {
        let total = crate::recognition::monthly_allowance(&org, &m);
        crate::recognition::retotal_allowance(tx, &org, &m, total, now)?;
    }
    let action = match (before.status, m.status) {
        (Status::Active, Status::Inactive) => {
            tx.delete_member_sessions(&org.id, &m.id)?;
            publish(tx, &org.id, EventKind::MemberDeactivated, member_data(&m), now)?;
            "member.deactivated"
        }
        (Status::Inactive, Status::Active) => "member.reactivated",
        _ => "member.updated",
    };
    tx.insert_audit(
        &org.id,
        Some(&caller.member.id),
        action,
        &m.id,
        &audit_details(serde_json::to_value(changes_summary(&before, &m)).unwrap_or_default()),
        now,
    )?;
    Ok(m)
}

fn check_allowance(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(v) if !(0..=1_000_000).contains(&v) => {
            Err(Error::invalid("allowance_override", "the allowance must be 0–1,000,000"))
        }
        other => Ok(other),
    }
}

/// Which fields changed, for the audit log.
fn changes_summary(before: &Member, after: &Member) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if before.profile != after.profile {
        changed.push("profile");
    }
    if before.manager_id != after.manager_id {
        changed.push("manager_id");
    }
    if before.role != after.role {
        changed.push("role");
    }
    if before.status != after.status {
        changed.push("status");
    }
    if before.may_give != after.may_give || before.may_receive != after.may_receive {
        changed.push("permissions");
    }
    if before.allowance_override != after.allowance_override {
        changed.push("allowance_override");
    }
    changed
}
