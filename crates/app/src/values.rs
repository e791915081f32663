//! Company values: created, renamed, re-emojied, reordered and archived by
//! admins; never deleted, so old posts keep theirs.

use crate::auth::Caller;
use crate::{audit_details, now_ms, App};
use plaudit_domain::recognition::{validate_emoji, validate_value_name, CompanyValue};
use plaudit_domain::{Error, Result};
use plaudit_store::new_id;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewValue {
    pub name: String,
    pub emoji: String,
    #[serde(default)]
    pub description: String,
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueChanges {
    pub name: Option<String>,
    pub emoji: Option<String>,
    pub description: Option<String>,
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

fn check_description(d: &str) -> Result<String> {
    if d.chars().count() > 500 {
        return Err(Error::invalid("description", "the description must be at most 500 characters"));
    }
    Ok(d.trim().to_string())
}

impl App {
    pub fn values(&self, caller: &Caller) -> Result<Vec<CompanyValue>> {
        self.store.read(|tx| tx.list_values(&caller.org.id))
    }

    pub fn create_value(&self, caller: &Caller, new: NewValue) -> Result<CompanyValue> {
        caller.require_admin()?;
        let now = now_ms();
        let name = validate_value_name(&new.name)?;
        let emoji = validate_emoji("emoji", &new.emoji)?;
        let description = check_description(&new.description)?;
        self.store.write(|tx| {
            let position = match new.position {
                Some(p) => p,
                None => tx.list_values(&caller.org.id)?.iter().map(|v| v.position + 1).max().unwrap_or(0),
            };
            let v = CompanyValue {
                id: new_id(),
                org_id: caller.org.id.clone(),
                name: name.clone(),
                emoji: emoji.clone(),
                description: description.clone(),
                position,
                archived: false,
                created_at: now,
                updated_at: now,
            };
            tx.insert_value(&v)?;
            tx.insert_audit(
                &v.org_id,
                Some(&caller.member.id),
                "value.created",
                &v.id,
                &audit_details(serde_json::json!({"name": v.name})),
                now,
            )?;
            Ok(v)
        })
    }

    pub fn update_value(&self, caller: &Caller, id: &str, changes: ValueChanges) -> Result<CompanyValue> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let mut v = tx.value_by_id(&caller.org.id, id)?.ok_or_else(|| Error::not_found("value"))?;
            if let Some(name) = &changes.name {
                v.name = validate_value_name(name)?;
            }
            if let Some(emoji) = &changes.emoji {
                v.emoji = validate_emoji("emoji", emoji)?;
            }
            if let Some(d) = &changes.description {
                v.description = check_description(d)?;
            }
            if let Some(p) = changes.position {
                v.position = p;
            }
            if let Some(a) = changes.archived {
                v.archived = a;
            }
            v.updated_at = now;
            tx.update_value(&v)?;
            let action = if changes.archived == Some(true) { "value.archived" } else { "value.updated" };
            tx.insert_audit(&v.org_id, Some(&caller.member.id), action, &v.id, "{}", now)?;
            Ok(v)
        })
    }
}
