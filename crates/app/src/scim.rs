//! SCIM 2.0 provisioning: an organisation's identity provider creates,
//! changes and deactivates members and keeps groups, with a bearer token an
//! admin made. Every change goes through the member rules of `members.rs`
//! (plan limit, owners, managers, sessions ended on deactivation) in one
//! transaction, made and audited as the admin who created the token.
//!
//! DELETE of a User deactivates the member and hides them from SCIM (GET
//! answers 404, as RFC 7644 §3.6 asks); their balance, recognition and
//! history stay. Creating the same userName again brings the same member
//! back.

use crate::auth::{random_token, token_hash, Caller};
use crate::members::{change_member, insert_new_member, MemberChanges};
use crate::{audit_details, now_ms, App};
use plaudit_domain::member::{Member, Profile, Role, Status};
use plaudit_domain::scim::filter::Filter;
use plaudit_domain::scim::{self, invalid_value, uniqueness, Group, GroupInput, UserInput, UserLink};
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::{new_id, MemberFilter, ScimToken, Tx};
use serde_json::Value;
use std::collections::HashMap;

/// SCIM token prefix, so leaked tokens are recognisable.
pub const SCIM_TOKEN_PREFIX: &str = "plaudit_scim_";

/// Everything needed to render an organisation's Users.
struct Directory {
    members: Vec<Member>,
    links: HashMap<String, UserLink>,
    groups: Vec<Group>,
    memberships: Vec<(String, String)>,
}

impl Directory {
    fn load(tx: &mut Tx, org_id: &str) -> Result<Directory> {
        let mut members = tx.list_members(org_id, &MemberFilter::default(), None, i64::MAX / 2)?;
        // Creation order (ids are time-ordered), so pages stay put while members are added.
        members.sort_by(|a, b| a.id.cmp(&b.id));
        let links = link_map(tx, org_id)?;
        Ok(Directory { members, links, groups: tx.scim_groups(org_id)?, memberships: tx.scim_memberships(org_id)? })
    }

    fn hidden(&self, member_id: &str) -> bool {
        deleted(&self.links, member_id)
    }

    fn groups_of(&self, member_id: &str) -> Vec<(String, String)> {
        self.memberships
            .iter()
            .filter(|(_, m)| m == member_id)
            .filter_map(|(g, _)| self.groups.iter().find(|x| &x.id == g))
            .map(|g| (g.id.clone(), g.display_name.clone()))
            .collect()
    }

    fn user(&self, m: &Member, base: &str) -> Value {
        scim::user_json(m, self.links.get(&m.id), &self.groups_of(&m.id), base)
    }

    fn group(&self, g: &Group, base: &str) -> Value {
        let ids: Vec<String> = self
            .memberships
            .iter()
            .filter(|(gid, m)| gid == &g.id && !self.hidden(m))
            .map(|(_, m)| m.clone())
            .collect();
        scim::group_json(g, &ids, base)
    }
}

/// The organisation's SCIM identities by member id.
fn link_map(tx: &mut Tx, org_id: &str) -> Result<HashMap<String, UserLink>> {
    Ok(tx.scim_links(org_id)?.into_iter().map(|l| (l.member_id.clone(), l)).collect())
}

/// Whether the identity provider deleted this member's User.
fn deleted(links: &HashMap<String, UserLink>, member_id: &str) -> bool {
    links.get(member_id).is_some_and(|l| l.deleted_at.is_some())
}

fn user_not_found() -> Error {
    Error::not_found("User")
}

/// One member as a User, or 404 when there is none (or the identity provider deleted it).
fn load_user(tx: &mut Tx, org_id: &str, id: &str) -> Result<(Member, Option<UserLink>)> {
    let member = tx.member_by_id(org_id, id)?.ok_or_else(user_not_found)?;
    let link = tx.scim_link(org_id, id)?;
    if link.as_ref().is_some_and(|l| l.deleted_at.is_some()) {
        return Err(user_not_found());
    }
    Ok((member, link))
}

fn render_user(tx: &mut Tx, org_id: &str, m: &Member, base: &str) -> Result<Value> {
    let link = tx.scim_link(org_id, &m.id)?;
    let groups: Vec<(String, String)> =
        tx.groups_of_member(org_id, &m.id)?.into_iter().map(|g| (g.id, g.display_name)).collect();
    Ok(scim::user_json(m, link.as_ref(), &groups, base))
}

fn render_group(tx: &mut Tx, g: &Group, base: &str) -> Result<Value> {
    let links = link_map(tx, &g.org_id)?;
    let ids: Vec<String> = tx
        .scim_memberships(&g.org_id)?
        .into_iter()
        .filter(|(gid, m)| gid == &g.id && !deleted(&links, m))
        .map(|(_, m)| m)
        .collect();
    Ok(scim::group_json(g, &ids, base))
}

/// Member fields a SCIM User sets (PUT semantics: what is left out is cleared).
fn changes_of(input: &UserInput, current_email: &str) -> MemberChanges {
    MemberChanges {
        email: Some(input.member_email().unwrap_or_else(|| current_email.to_string())),
        employee_id: Some(input.employee_number.clone()),
        first_name: Some(input.given_name.clone()),
        last_name: Some(input.family_name.clone()),
        display_name: Some(input.display_name.clone()),
        title: Some(input.title.clone()),
        department: Some(input.department.clone()),
        manager_id: Some(input.manager_id.clone()),
        status: input.active.map(|a| if a { Status::Active } else { Status::Inactive }),
        ..Default::default()
    }
}

/// Field errors of the member rules, told in SCIM's terms.
fn scim_terms(e: Error) -> Error {
    match (e.code, e.field.as_deref()) {
        ("email_taken", _) => uniqueness(format!("{} (userName and e-mail are unique)", e.message)),
        ("validation_failed" | "manager_cycle", Some(field)) => {
            let attr = match field {
                "email" => "userName/emails",
                "manager_id" => "manager",
                "employee_id" => "employeeNumber",
                "first_name" => "name.givenName",
                "last_name" => "name.familyName",
                "display_name" => "displayName",
                other => other,
            };
            invalid_value(format!("{attr}: {}", e.message))
        }
        _ => e,
    }
}

fn save_link(tx: &mut Tx, org_id: &str, member_id: &str, input: &UserInput, created_at: i64, now: i64) -> Result<()> {
    tx.save_scim_link(
        org_id,
        &UserLink {
            member_id: member_id.to_string(),
            user_name: input.user_name.clone(),
            external_id: input.external_id.clone(),
            emails: input.emails_json(),
            created_at,
            updated_at: now,
            deleted_at: None,
        },
    )
}

/// Group members must be Users of this organisation.
fn check_group_members(tx: &mut Tx, org_id: &str, ids: &[String]) -> Result<()> {
    for id in ids {
        if load_user(tx, org_id, id).is_err() {
            return Err(invalid_value(format!("members: there is no User {id}")));
        }
    }
    Ok(())
}

impl App {
    // ------------------------------------------------------------ tokens

    /// A new SCIM token for the caller's organisation; the raw token is returned only here.
    pub fn create_scim_token(&self, caller: &Caller, name: &str) -> Result<(String, ScimToken)> {
        caller.require_admin()?;
        let name = name.trim();
        let name = if name.is_empty() { "SCIM" } else { name };
        if name.chars().count() > 100 {
            return Err(Error::invalid("name", "give the token a name of at most 100 characters"));
        }
        let raw = format!("{SCIM_TOKEN_PREFIX}{}", random_token());
        let token = ScimToken {
            id: new_id(),
            org_id: caller.org.id.clone(),
            name: name.to_string(),
            created_by: caller.member.id.clone(),
            created_at: now_ms(),
            last_used_at: None,
            last_error: None,
            revoked_at: None,
        };
        self.store.write(|tx| {
            tx.insert_scim_token(&token, &token_hash(&raw))?;
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "scim_token.created",
                &token.id,
                &audit_details(serde_json::json!({"name": name})),
                token.created_at,
            )
        })?;
        Ok((raw, token))
    }

    /// The operator's way to make a token (`plaudit scim create-token`): made as an active owner.
    pub fn operator_scim_token(&self, org_slug: &str, name: &str) -> Result<(String, ScimToken)> {
        let (org, owner) = self.store.read(|tx| {
            let org = tx.org_by_slug(org_slug.trim())?.ok_or_else(|| Error::not_found("organisation"))?;
            let members = tx.list_members(&org.id, &MemberFilter::default(), None, i64::MAX / 2)?;
            let owner = members.into_iter().find(|m| m.role == Role::Owner && m.is_active());
            Ok((org, owner.ok_or_else(|| Error::not_found("active owner"))?))
        })?;
        self.create_scim_token(&self.caller_for(&org.id, &owner.id)?, name)
    }

    pub fn list_scim_tokens(&self, caller: &Caller) -> Result<Vec<ScimToken>> {
        caller.require_admin()?;
        self.store.read(|tx| tx.list_scim_tokens(&caller.org.id))
    }

    pub fn revoke_scim_token(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            if !tx.revoke_scim_token(&caller.org.id, id, now)? {
                return Err(Error::not_found("SCIM token"));
            }
            tx.insert_audit(&caller.org.id, Some(&caller.member.id), "scim_token.revoked", id, "{}", now)
        })
    }

    /// Remembers why a request made with this token failed, for the admin page.
    pub fn record_scim_error(&self, raw_token: &str, message: &str) -> Result<()> {
        let message: String = message.chars().take(500).collect();
        self.store.write(|tx| tx.record_scim_error(&token_hash(raw_token.trim()), &message, now_ms()))
    }

    /// Users provisioned (of which deleted by the identity provider) and groups.
    pub fn scim_status(&self, caller: &Caller) -> Result<(i64, i64, i64)> {
        caller.require_admin()?;
        self.store.read(|tx| tx.scim_counts(&caller.org.id))
    }

    /// The caller behind a SCIM bearer token: the admin who made it, in the
    /// token's organisation. The token stops working when that admin is
    /// deactivated or no longer an admin.
    pub fn scim_caller(&self, raw_token: &str) -> Result<Caller> {
        let hash = token_hash(raw_token.trim());
        let token = self.store.read(|tx| tx.scim_token_by_hash(&hash))?.ok_or_else(|| {
            Error::new(ErrorKind::Unauthenticated, "unauthenticated", "unknown or revoked SCIM token")
        })?;
        let lapsed = || {
            Error::new(
                ErrorKind::Unauthenticated,
                "unauthenticated",
                "the admin who created this SCIM token is no longer an active admin; create a new token",
            )
        };
        let caller = self.caller_for(&token.org_id, &token.created_by).map_err(|_| lapsed())?;
        caller.require_admin().map_err(|_| lapsed())?;
        // Shown to the minute; a write on every request would be wasted.
        let now = now_ms();
        if token.last_used_at.is_none_or(|at| now - at > 60_000) {
            self.store.write(|tx| tx.touch_scim_token(&token.org_id, &token.id, now))?;
        }
        Ok(caller)
    }

    // ------------------------------------------------------------ users

    /// The Users that match `filter`, in creation order: how many, and the
    /// page from `start` (1-based) of at most `count`.
    pub fn scim_users(
        &self,
        caller: &Caller,
        filter: Option<&Filter>,
        start: usize,
        count: usize,
        base: &str,
    ) -> Result<(usize, Vec<Value>)> {
        let org_id = &caller.org.id;
        // Identity providers look every user up by userName: answer that without a scan.
        if let Some(user_name) = filter.and_then(|f| f.eq_string("userName")) {
            let found = self.store.read(|tx| {
                let member = match tx.scim_link_by_user_name(org_id, user_name)? {
                    Some(link) if link.deleted_at.is_none() => tx.member_by_id(org_id, &link.member_id)?,
                    Some(_) => None,
                    // Members SCIM has not touched have their e-mail as userName.
                    None => match tx.member_by_email(org_id, user_name)? {
                        Some(m) if tx.scim_link(org_id, &m.id)?.is_none() => Some(m),
                        _ => None,
                    },
                };
                member.map(|m| render_user(tx, org_id, &m, base)).transpose()
            })?;
            let matching: Vec<Value> = found.into_iter().filter(|u| filter.is_none_or(|f| f.matches(u))).collect();
            return Ok(scim::page_of(matching, start, count));
        }
        let dir = self.store.read(|tx| Directory::load(tx, org_id))?;
        let visible = dir.members.iter().filter(|m| !dir.hidden(&m.id));
        Ok(match filter {
            // Without a filter only the page is rendered.
            None => {
                let (total, page) = scim::page_of(visible.collect(), start, count);
                (total, page.into_iter().map(|m| dir.user(m, base)).collect())
            }
            Some(f) => {
                scim::page_of(visible.map(|m| dir.user(m, base)).filter(|u| f.matches(u)).collect(), start, count)
            }
        })
    }

    pub fn scim_user(&self, caller: &Caller, id: &str, base: &str) -> Result<Value> {
        self.store.read(|tx| {
            let (m, _) = load_user(tx, &caller.org.id, id)?;
            render_user(tx, &caller.org.id, &m, base)
        })
    }

    /// POST /Users. A userName the identity provider deleted before brings
    /// that member back (same id, balance and history).
    pub fn scim_create_user(&self, caller: &Caller, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let input = UserInput::from_json(body)?;
        let email = input
            .member_email()
            .ok_or_else(|| invalid_value("userName must be an e-mail address, or give one in emails"))?;
        let now = now_ms();
        let org_id = caller.org.id.clone();
        self.store
            .write(|tx| {
                tx.lock_org(&org_id)?;
                if let Some(link) = tx.scim_link_by_user_name(&org_id, &input.user_name)? {
                    if link.deleted_at.is_none() {
                        return Err(uniqueness(format!("the userName {} is already taken", input.user_name)));
                    }
                    let mut changes = changes_of(&input, &email);
                    changes.status.get_or_insert(Status::Active);
                    let m = change_member(tx, caller, &link.member_id, &changes, now)?;
                    save_link(tx, &org_id, &m.id, &input, link.created_at, now)?;
                    return render_user(tx, &org_id, &m, base);
                }
                if let Some(existing) = tx.member_by_email(&org_id, &input.user_name)? {
                    return Err(uniqueness(format!(
                        "{} is already a member (User {}); find it with a userName filter",
                        input.user_name, existing.id
                    )));
                }
                let member = Member {
                    id: new_id(),
                    org_id: org_id.clone(),
                    profile: Profile {
                        email: email.clone(),
                        employee_id: input.employee_number.clone(),
                        first_name: input.given_name.clone(),
                        last_name: input.family_name.clone(),
                        display_name: input.display_name.clone(),
                        title: input.title.clone(),
                        department: input.department.clone(),
                        ..Default::default()
                    }
                    .validated()?,
                    manager_id: input.manager_id.clone(),
                    status: if input.active == Some(false) { Status::Inactive } else { Status::Active },
                    role: Role::Member,
                    may_give: true,
                    may_receive: true,
                    allowance_override: None,
                    password_hash: None,
                    created_at: now,
                    updated_at: now,
                };
                insert_new_member(tx, &org_id, Some(&caller.member.id), &member, serde_json::json!({"via": "scim"}))?;
                let m = member;
                save_link(tx, &org_id, &m.id, &input, now, now)?;
                render_user(tx, &org_id, &m, base)
            })
            .map_err(scim_terms)
    }

    /// PUT /Users/{id}: the User as given; attributes left out are cleared
    /// (`active` left out stays as it is).
    pub fn scim_replace_user(&self, caller: &Caller, id: &str, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let input = UserInput::from_json(body)?;
        self.write_user(caller, id, base, |_| Ok(input.clone()))
    }

    /// Stores the User that `new` makes of the current one (PUT: the body;
    /// PATCH: the current one patched), in one transaction.
    fn write_user(
        &self,
        caller: &Caller,
        id: &str,
        base: &str,
        new: impl Fn(&Value) -> Result<UserInput>,
    ) -> Result<Value> {
        let now = now_ms();
        let org_id = caller.org.id.clone();
        self.store
            .write(|tx| {
                let (m, link) = load_user(tx, &org_id, id)?;
                let input = &new(&render_user(tx, &org_id, &m, base)?)?;
                let changes = changes_of(input, &m.profile.email);
                let m = change_member(tx, caller, &m.id, &changes, now)?;
                save_link(tx, &org_id, &m.id, input, link.map_or(m.created_at, |l| l.created_at), now)?;
                render_user(tx, &org_id, &m, base)
            })
            .map_err(scim_terms)
    }

    /// PATCH /Users/{id}: the operations applied to the User as it is, then stored as by PUT.
    pub fn scim_patch_user(&self, caller: &Caller, id: &str, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let ops = scim::patch::parse_operations(body)?;
        self.write_user(caller, id, base, |current| UserInput::from_json(&scim::patch::apply(current, &ops)?))
    }

    /// DELETE /Users/{id}: deactivates the member (sessions ended, history
    /// kept) and hides the User from SCIM.
    pub fn scim_delete_user(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        let org_id = caller.org.id.clone();
        self.store.write(|tx| {
            let (m, link) = load_user(tx, &org_id, id)?;
            let changes = MemberChanges { status: Some(Status::Inactive), ..Default::default() };
            change_member(tx, caller, &m.id, &changes, now)?;
            let mut link = link.unwrap_or_else(|| UserLink {
                member_id: m.id.clone(),
                user_name: m.profile.email.clone(),
                created_at: m.created_at,
                ..Default::default()
            });
            link.updated_at = now;
            link.deleted_at = Some(now);
            tx.save_scim_link(&org_id, &link)?;
            tx.insert_audit(&org_id, Some(&caller.member.id), "scim.user_deleted", &m.id, "{}", now)
        })
    }

    // ------------------------------------------------------------ groups

    pub fn scim_groups(&self, caller: &Caller, filter: Option<&Filter>, base: &str) -> Result<Vec<Value>> {
        let dir = self.store.read(|tx| Directory::load(tx, &caller.org.id))?;
        Ok(dir.groups.iter().map(|g| dir.group(g, base)).filter(|g| filter.is_none_or(|f| f.matches(g))).collect())
    }

    pub fn scim_group(&self, caller: &Caller, id: &str, base: &str) -> Result<Value> {
        self.store.read(|tx| {
            let g = tx.scim_group(&caller.org.id, id)?.ok_or_else(|| Error::not_found("Group"))?;
            render_group(tx, &g, base)
        })
    }

    pub fn scim_create_group(&self, caller: &Caller, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let input = GroupInput::from_json(body)?;
        let now = now_ms();
        let group = Group {
            id: new_id(),
            org_id: caller.org.id.clone(),
            display_name: input.display_name.clone(),
            external_id: input.external_id.clone(),
            created_at: now,
            updated_at: now,
        };
        self.store.write(|tx| {
            check_group_members(tx, &group.org_id, &input.member_ids)?;
            tx.save_scim_group(&group)?;
            tx.set_scim_group_members(&group.org_id, &group.id, &input.member_ids)?;
            tx.insert_audit(
                &group.org_id,
                Some(&caller.member.id),
                "scim_group.created",
                &group.id,
                &audit_details(serde_json::json!({"name": group.display_name, "members": input.member_ids.len()})),
                now,
            )?;
            render_group(tx, &group, base)
        })
    }

    pub fn scim_replace_group(&self, caller: &Caller, id: &str, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let input = GroupInput::from_json(body)?;
        self.write_group(caller, id, base, |_| Ok(input.clone()))
    }

    /// Stores the Group that `new` makes of the current one, in one transaction.
    fn write_group(
        &self,
        caller: &Caller,
        id: &str,
        base: &str,
        new: impl Fn(&Value) -> Result<GroupInput>,
    ) -> Result<Value> {
        let now = now_ms();
        self.store.write(|tx| {
            let mut g = tx.scim_group(&caller.org.id, id)?.ok_or_else(|| Error::not_found("Group"))?;
            let input = &new(&render_group(tx, &g, base)?)?;
            check_group_members(tx, &g.org_id, &input.member_ids)?;
            g.display_name = input.display_name.clone();
            g.external_id = input.external_id.clone();
            g.updated_at = now;
            tx.save_scim_group(&g)?;
            // Members the identity provider cannot see (deleted Users) stay in the group.
            let links = link_map(tx, &g.org_id)?;
            let mut ids = input.member_ids.clone();
            for (gid, m) in tx.scim_memberships(&g.org_id)? {
                if gid == g.id && deleted(&links, &m) && !ids.contains(&m) {
                    ids.push(m);
                }
            }
            tx.set_scim_group_members(&g.org_id, &g.id, &ids)?;
            tx.insert_audit(
                &g.org_id,
                Some(&caller.member.id),
                "scim_group.updated",
                &g.id,
                &audit_details(serde_json::json!({"name": g.display_name, "members": input.member_ids.len()})),
                now,
            )?;
            render_group(tx, &g, base)
        })
    }

    pub fn scim_patch_group(&self, caller: &Caller, id: &str, body: &Value, base: &str) -> Result<Value> {
        caller.require_admin()?;
        let ops = scim::patch::parse_operations(body)?;
        self.write_group(caller, id, base, |current| GroupInput::from_json(&scim::patch::apply(current, &ops)?))
    }

    pub fn scim_delete_group(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            if !tx.delete_scim_group(&caller.org.id, id)? {
                return Err(Error::not_found("Group"));
            }
            tx.insert_audit(&caller.org.id, Some(&caller.member.id), "scim_group.deleted", id, "{}", now)
        })
    }

    /// The groups (teams) a member is in, for profiles and analytics.
    pub fn member_groups(&self, caller: &Caller, member_id: &str) -> Result<Vec<Group>> {
        self.store.read(|tx| {
            tx.member_by_id(&caller.org.id, member_id)?.ok_or_else(|| Error::not_found("member"))?;
            tx.groups_of_member(&caller.org.id, member_id)
        })
    }
}
