//! Creating organisations, signing up, plans and settings.

use crate::auth::{hash_password, validate_password, Caller, NewSession};
use crate::{audit_details, now_ms, App};
use plaudit_domain::member::{Member, Profile, Role, Status};
use plaudit_domain::org::{self, Org, OrgPatch, Plan};
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::new_id;

/// What it takes to create an organisation and its owner.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub plan: Plan,
    pub owner_email: String,
    pub owner_name: String,
    /// None creates an owner who cannot sign in until a password is set.
    pub owner_password: Option<String>,
}

impl App {
    pub fn create_org(&self, new: NewOrg) -> Result<(Org, Member)> {
        let now = now_ms();
        let org = Org::with_defaults(
            new_id(),
            org::validate_slug(&new.slug)?,
            org::validate_org_name(&new.name)?,
            org::validate_timezone(if new.timezone.trim().is_empty() { "UTC" } else { &new.timezone })?,
            new.plan,
            now,
        );
        let profile =
            Profile { email: new.owner_email.clone(), display_name: new.owner_name.clone(), ..Default::default() }
                .validated()?;
        let password_hash = match &new.owner_password {
            Some(p) => {
                validate_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        let owner = Member {
            id: new_id(),
            org_id: org.id.clone(),
            profile,
            manager_id: None,
            status: Status::Active,
            role: Role::Owner,
            may_give: true,
            may_receive: true,
            allowance_override: None,
            password_hash,
            created_at: now,
            updated_at: now,
        };
        self.store.write(|tx| {
            tx.insert_org(&org)?;
            tx.insert_member(&owner)?;
            tx.insert_audit(
                &org.id,
                Some(&owner.id),
                "org.created",
                &org.id,
                &audit_details(serde_json::json!({"slug": org.slug, "plan": org.plan})),
                now,
            )
        })?;
        Ok((org, owner))
    }

    /// Self-serve sign-up: a free organisation, its owner, and a session.
    pub fn sign_up(&self, mut new: NewOrg) -> Result<(Org, NewSession)> {
        if !self.config.signup_enabled {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "signup_disabled",
                "sign-up is turned off on this server; ask its operator",
            ));
        }
        if new.owner_password.is_none() {
            return Err(Error::invalid("password", "choose a password"));
        }
        new.plan = Plan::Free;
        let (org, owner) = self.create_org(new)?;
        let session = self.start_session(&org, owner)?;
        Ok((org, session))
    }

    /// The operator's plan switch.
    pub fn set_plan(&self, slug: &str, plan: Plan) -> Result<Org> {
        self.store.write(|tx| {
            let mut org = tx.org_by_slug(slug)?.ok_or_else(|| Error::not_found("organisation"))?;
            let before = org.plan;
            org.plan = plan;
            tx.update_org(&org, now_ms())?;
            tx.insert_audit(
                &org.id,
                None,
                "org.plan_changed",
                &org.id,
                &audit_details(serde_json::json!({"from": before, "to": plan})),
                now_ms(),
            )?;
            Ok(org)
        })
    }

    pub fn org_by_slug(&self, slug: &str) -> Result<Org> {
        self.store.read(|tx| tx.org_by_slug(slug))?.ok_or_else(|| Error::not_found("organisation"))
    }

    pub fn list_orgs(&self) -> Result<Vec<Org>> {
        self.store.read(|tx| tx.list_orgs())
    }

    /// Admins change the organisation's settings.
    pub fn update_org(&self, caller: &Caller, patch: OrgPatch) -> Result<Org> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let current = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let updated = patch.clone().apply(current.clone())?;
            tx.update_org(&updated, now)?;
            if updated.default_allowance != current.default_allowance {
                crate::recognition::retotal_default_allowances(tx, &updated, now)?;
            }
            crate::rewards::reprice_catalog(tx, &updated, now)?;
            tx.insert_audit(&updated.id, Some(&caller.member.id), "org.updated", &updated.id, "{}", now)?;
            Ok(updated)
        })
    }
}
