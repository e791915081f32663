//! SCIM 2.0 (RFC 7643/7644) as Plaudit speaks it: filters, PATCH, and the
//! mapping between SCIM Users/Groups and members/groups. No I/O.
//!
//! A User is a member. `userName` is the member's e-mail when it is an
//! e-mail address (otherwise the primary e-mail is); the enterprise
//! extension's `employeeNumber` is the member's `employee_id`, `department`
//! its department and `manager.value` its manager's member id. Groups are
//! their own concept (teams for analytics) and never touch `department`.

pub mod filter;
pub mod patch;
mod schema;

pub use schema::{resource_types, schemas};

use crate::member::Member;
use crate::{Error, ErrorKind, Result};
use filter::get_ci;
use serde_json::{json, Map, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Schema URNs that may stand for a whole extension object in a PATCH.
pub const EXTENSION_URNS: &[&str] = &[ENTERPRISE_USER];

pub const DEFAULT_COUNT: usize = 100;
pub const MAX_COUNT: usize = 1000;

fn scim_error(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Validation, code, message)
}
pub fn invalid_filter(message: String) -> Error {
    scim_error("invalid_filter", message)
}
pub fn invalid_path(message: impl Into<String>) -> Error {
    scim_error("invalid_path", message)
}
pub fn invalid_value(message: impl Into<String>) -> Error {
    scim_error("invalid_value", message)
}
pub fn invalid_syntax(message: impl Into<String>) -> Error {
    scim_error("invalid_syntax", message)
}
pub fn no_target(message: impl Into<String>) -> Error {
    scim_error("no_target", message)
}
pub fn uniqueness(message: impl Into<String>) -> Error {
    Error::conflict("uniqueness", message)
}

/// The SCIM `scimType` of an error, when it has one (RFC 7644 §3.12).
pub fn scim_type(e: &Error) -> Option<&'static str> {
    Some(match e.code {
        "invalid_filter" => "invalidFilter",
        "invalid_path" => "invalidPath",
        "invalid_value" | "validation_failed" | "manager_cycle" => "invalidValue",
        "invalid_syntax" => "invalidSyntax",
        "no_target" => "noTarget",
        "mutability" => "mutability",
        "uniqueness" | "email_taken" => "uniqueness",
        "too_many" => "tooMany",
        _ => return None,
    })
}

/// RFC 3339 time of a millisecond timestamp.
pub fn time(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms).map(|t| Value::String(t.to_string())).unwrap_or(Value::Null)
}

fn meta(resource_type: &str, location: String, created: i64, modified: i64) -> Value {
    json!({
        "resourceType": resource_type,
        "created": time(created),
        "lastModified": time(modified),
        "location": location,
        "version": format!("W/\"{modified}\""),
    })
}

/// What Plaudit keeps of a member's SCIM identity besides the member itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserLink {
    pub member_id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    /// The `emails` list as the identity provider sent it (JSON); empty: the member's e-mail.
    pub emails: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when the identity provider deleted the user (the member is deactivated).
    pub deleted_at: Option<i64>,
}

/// A SCIM group: a team analytics can group by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn text(v: &Value, key: &str) -> Result<String> {
    match get_ci(v, key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(other) => Err(invalid_value(format!("{key} must be a string, not {other}"))),
    }
}

fn opt_text(v: &Value, key: &str) -> Result<Option<String>> {
    text(v, key).map(|s| (!s.is_empty()).then_some(s))
}

/// A boolean, or the strings "True"/"False" Entra sends.
pub fn boolean(v: &Value, key: &str) -> Result<Option<bool>> {
    match get_ci(v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(invalid_value(format!("{key} must be true or false, not {other}"))),
    }
}

/// A reference to a resource: a plain id or `{"value": id}`.
fn reference(v: Option<&Value>, key: &str) -> Result<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(obj @ Value::Object(_)) => match get_ci(obj, "value") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(other) => Err(invalid_value(format!("{key}.value must be a string, not {other}"))),
        },
        Some(other) => Err(invalid_value(format!("{key} must be an id or {{\"value\": id}}, not {other}"))),
    }
}

/// A SCIM User as a client sent it (POST, PUT, or the result of a PATCH).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserInput {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub title: String,
    pub emails: Vec<Value>,
    pub active: Option<bool>,
    pub department: String,
    pub employee_number: String,
    pub manager_id: Option<String>,
}

impl UserInput {
    pub fn from_json(v: &Value) -> Result<UserInput> {
        if !v.is_object() {
            return Err(invalid_syntax("a User must be a JSON object"));
        }
        let user_name = text(v, "userName")?;
        if user_name.is_empty() {
            return Err(invalid_value("userName is required"));
        }
        if user_name.chars().count() > 254 {
            return Err(invalid_value("userName is longer than 254 characters"));
        }
        let name = get_ci(v, "name").cloned().unwrap_or(Value::Null);
        if !(name.is_null() || name.is_object()) {
            return Err(invalid_value("name must be an object"));
        }
        let emails = match get_ci(v, "emails") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                for item in items {
                    if !item.is_object() || !matches!(get_ci(item, "value"), Some(Value::String(_))) {
                        return Err(invalid_value("each of emails needs a string value"));
                    }
                }
                items.clone()
            }
            Some(_) => return Err(invalid_value("emails must be a list")),
        };
        let ext = get_ci(v, ENTERPRISE_USER).cloned().unwrap_or(Value::Null);
        if !(ext.is_null() || ext.is_object()) {
            return Err(invalid_value(format!("{ENTERPRISE_USER} must be an object")));
        }
        Ok(UserInput {
            user_name,
            external_id: opt_text(v, "externalId")?,
            given_name: text(&name, "givenName")?,
            family_name: text(&name, "familyName")?,
            display_name: text(v, "displayName")?,
            title: text(v, "title")?,
            emails,
            active: boolean(v, "active")?,
            department: text(&ext, "department")?,
            employee_number: text(&ext, "employeeNumber")?,
            manager_id: reference(get_ci(&ext, "manager"), "manager")?,
        })
    }

    /// The member's e-mail: `userName` when it is an address, else the
    /// primary (or first) of `emails`.
    pub fn member_email(&self) -> Option<String> {
        if crate::email::validate("userName", &self.user_name).is_ok() {
            return Some(self.user_name.clone());
        }
        let value = |e: &Value| get_ci(e, "value").and_then(Value::as_str).map(str::to_string);
        let primary = self.emails.iter().find(|e| boolean(e, "primary").ok().flatten() == Some(true));
        primary.or(self.emails.first()).and_then(value)
    }

    /// The stored form of `emails`.
    pub fn emails_json(&self) -> String {
        if self.emails.is_empty() {
            String::new()
        } else {
            Value::Array(self.emails.clone()).to_string()
        }
    }
}

/// A member as a SCIM User. `groups` are (id, name) of the groups they are in.
pub fn user_json(m: &Member, link: Option<&UserLink>, groups: &[(String, String)], base: &str) -> Value {
    let p = &m.profile;
    let mut u = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    u.insert("id".into(), json!(m.id));
    if let Some(ext) = link.and_then(|l| l.external_id.as_ref()) {
        u.insert("externalId".into(), json!(ext));
    }
    let user_name = link.map_or(p.email.as_str(), |l| l.user_name.as_str());
    u.insert("userName".into(), json!(user_name));
    let mut name = Map::new();
    if !p.first_name.is_empty() {
        name.insert("givenName".into(), json!(p.first_name));
    }
    if !p.last_name.is_empty() {
        name.insert("familyName".into(), json!(p.last_name));
    }
    if !name.is_empty() {
        u.insert("name".into(), Value::Object(name));
    }
    u.insert("displayName".into(), json!(p.display_name));
    if !p.title.is_empty() {
        u.insert("title".into(), json!(p.title));
    }
    let stored: Option<Value> =
        link.filter(|l| !l.emails.is_empty()).and_then(|l| serde_json::from_str(&l.emails).ok());
    let emails = stored.unwrap_or_else(|| json!([{"value": p.email, "type": "work", "primary": true}]));
    u.insert("emails".into(), emails);
    u.insert("active".into(), json!(m.is_active()));
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(id, name)| json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}")}))
            .collect();
        u.insert("groups".into(), Value::Array(groups));
    }
    let mut ext = Map::new();
    if !p.employee_id.is_empty() {
        ext.insert("employeeNumber".into(), json!(p.employee_id));
    }
    if !p.department.is_empty() {
        ext.insert("department".into(), json!(p.department));
    }
    if let Some(manager) = &m.manager_id {
        ext.insert("manager".into(), json!({"value": manager, "$ref": format!("{base}/Users/{manager}")}));
    }
    if !ext.is_empty() {
        schemas.push(json!(ENTERPRISE_USER));
        u.insert(ENTERPRISE_USER.into(), Value::Object(ext));
    }
    u.insert("schemas".into(), Value::Array(schemas));
    let created = link.map_or(m.created_at, |l| l.created_at.min(m.created_at));
    let modified = link.map_or(m.updated_at, |l| l.updated_at.max(m.updated_at));
    u.insert("meta".into(), meta("User", format!("{base}/Users/{}", m.id), created, modified));
    Value::Object(u)
}

/// A SCIM Group as a client sent it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupInput {
    pub display_name: String,
    pub external_id: Option<String>,
    pub member_ids: Vec<String>,
}

impl GroupInput {
    pub fn from_json(v: &Value) -> Result<GroupInput> {
        if !v.is_object() {
            return Err(invalid_syntax("a Group must be a JSON object"));
        }
        let display_name = text(v, "displayName")?;
        if display_name.is_empty() {
            return Err(invalid_value("displayName is required"));
        }
        if display_name.chars().count() > 200 {
            return Err(invalid_value("displayName is longer than 200 characters"));
        }
        let mut member_ids = Vec::new();
        match get_ci(v, "members") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let id = reference(Some(item), "members")?
                        .ok_or_else(|| invalid_value("each of members needs a value"))?;
                    if !member_ids.contains(&id) {
                        member_ids.push(id);
                    }
                }
            }
            Some(_) => return Err(invalid_value("members must be a list")),
        }
        Ok(GroupInput { display_name, external_id: opt_text(v, "externalId")?, member_ids })
    }
}

pub fn group_json(g: &Group, member_ids: &[String], base: &str) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id,
        "displayName": g.display_name,
        "meta": meta("Group", format!("{base}/Groups/{}", g.id), g.created_at, g.updated_at),
    });
    if let Some(ext) = &g.external_id {
        out["externalId"] = json!(ext);
    }
    if !member_ids.is_empty() {
        out["members"] =
            member_ids.iter().map(|id| json!({"value": id, "$ref": format!("{base}/Users/{id}")})).collect();
    }
    out
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): comma-separated
/// paths; `id` and `schemas` are always returned.
pub fn project(resource: &Value, attributes: &str, excluded: &str) -> Value {
    let (attributes, excluded) = (Selection::parse(attributes), Selection::parse(excluded));
    let Value::Object(map) = resource else { return resource.clone() };
    let mut out = Map::new();
    for (k, v) in map {
        if k == "id" || k == "schemas" {
            out.insert(k.clone(), v.clone());
            continue;
        }
        let v = if attributes.0.is_empty() {
            v.clone()
        } else {
            match attributes.of(k) {
                Wanted::No => continue,
                Wanted::Whole => v.clone(),
                Wanted::Subs(subs) => match v {
                    Value::Object(inner) => Value::Object(
                        inner
                            .iter()
                            .filter(|(ik, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(ik)))
                            .map(|(a, b)| (a.clone(), b.clone()))
                            .collect(),
                    ),
                    other => other.clone(),
                },
            }
        };
        let v = match excluded.of(k) {
            Wanted::No => v,
            Wanted::Whole => continue,
            Wanted::Subs(subs) => match v {
                Value::Object(mut inner) => {
                    inner.retain(|ik, _| !subs.iter().any(|s| s.eq_ignore_ascii_case(ik)));
                    Value::Object(inner)
                }
                other => other,
            },
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// Attribute paths named in `attributes` or `excludedAttributes`.
struct Selection(Vec<(String, Option<filter::AttrPath>)>);

enum Wanted {
    No,
    Whole,
    Subs(Vec<String>),
}

impl Selection {
    fn parse(s: &str) -> Selection {
        Selection(
            s.split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| (a.to_string(), filter::parse_attr_path(a)))
                .collect(),
        )
    }

    /// How much of the top-level attribute `key` the selection names.
    fn of(&self, key: &str) -> Wanted {
        let mut subs = Vec::new();
        for (raw, path) in &self.0 {
            if raw.eq_ignore_ascii_case(key) {
                return Wanted::Whole;
            }
            let Some(p) = path else { continue };
            match &p.urn {
                // `urn:…:User:department` names a sub-attribute of the extension object.
                Some(urn) if urn.eq_ignore_ascii_case(key) => subs.push(p.attr.clone()),
                Some(_) => {}
                None if p.attr.eq_ignore_ascii_case(key) => match &p.sub {
                    None => return Wanted::Whole,
                    Some(sub) => subs.push(sub.clone()),
                },
                None => {}
            }
        }
        if subs.is_empty() {
            Wanted::No
        } else {
            Wanted::Subs(subs)
        }
    }
}

/// `startIndex` and `count` (1-based; a count of 0 asks for the total only).
pub fn page_bounds(start_index: Option<i64>, count: Option<i64>) -> (usize, usize) {
    let start = start_index.unwrap_or(1).max(1) as usize;
    let count = count.map_or(DEFAULT_COUNT, |c| c.clamp(0, MAX_COUNT as i64) as usize);
    (start, count)
}

/// One page of `items`: the total and the page.
pub fn page_of<T>(items: Vec<T>, start: usize, count: usize) -> (usize, Vec<T>) {
    let total = items.len();
    (total, items.into_iter().skip(start - 1).take(count).collect())
}

/// A ListResponse: `total` matching resources, of which `page` starts at `start`.
pub fn list_response(total: usize, page: Vec<Value>, start: usize) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": page.len(),
        "startIndex": start,
        "Resources": page,
    })
}

/// The SCIM error body of an app error.
pub fn error_json(status: u16, e: &Error) -> Value {
    let mut body = json!({"schemas": [ERROR_SCHEMA], "status": status.to_string(), "detail": e.message});
    if let Some(t) = scim_type(e) {
        body["scimType"] = json!(t);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::member::{Profile, Role, Status};

    fn member() -> Member {
        Member {
            id: "m1".into(),
            org_id: "o1".into(),
            profile: Profile {
                email: "ana@example.com".into(),
                employee_id: "E7".into(),
                first_name: "Ana".into(),
                last_name: "Lima".into(),
                display_name: "Ana Lima".into(),
                department: "R&D".into(),
                ..Default::default()
            },
            manager_id: Some("m0".into()),
            status: Status::Active,
            role: Role::Member,
            may_give: true,
            may_receive: true,
            allowance_override: None,
            password_hash: None,
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_100_000,
        }
    }

    #[test]
    fn user_round_trip() {
        let u = user_json(&member(), None, &[("g1".into(), "Team".into())], "https://x/scim/v2");
        assert_eq!(u["userName"], "ana@example.com");
        assert_eq!(u[ENTERPRISE_USER]["manager"]["value"], "m0");
        assert_eq!(u["groups"][0]["display"], "Team");
        assert_eq!(u["meta"]["location"], "https://x/scim/v2/Users/m1");
        let input = UserInput::from_json(&u).unwrap();
        assert_eq!(input.member_email().as_deref(), Some("ana@example.com"));
        assert_eq!((input.given_name.as_str(), input.employee_number.as_str()), ("Ana", "E7"));
        assert_eq!(input.manager_id.as_deref(), Some("m0"));
        assert_eq!(input.active, Some(true));
    }

    #[test]
    fn user_input_forms() {
        let u = UserInput::from_json(&json!({
            "userName": "ANA-LOGIN", "active": "False",
            "emails": [{"value": "other@example.com"}, {"value": "ana@example.com", "primary": "True"}],
            ENTERPRISE_USER: {"manager": "m9"},
        }))
        .unwrap();
        assert_eq!(u.active, Some(false));
        assert_eq!(u.member_email().as_deref(), Some("ana@example.com"));
        assert_eq!(u.manager_id.as_deref(), Some("m9"));
        for bad in [json!({}), json!({"userName": 5}), json!({"userName": "a", "active": "maybe"}), json!([1])] {
            assert!(UserInput::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn projection_and_pages() {
        let u = user_json(&member(), None, &[], "b");
        let p = project(&u, "userName,name.givenName", "");
        assert_eq!(p["userName"], "ana@example.com");
        assert_eq!(p["name"], json!({"givenName": "Ana"}));
        assert!(p.get("displayName").is_none() && p["id"] == "m1");
        let p = project(&u, &format!("{ENTERPRISE_USER}:department"), "");
        assert_eq!(p[ENTERPRISE_USER], json!({"department": "R&D"}));
        let p = project(&u, "", "emails,name.familyName");
        assert!(p.get("emails").is_none() && p["name"] == json!({"givenName": "Ana"}));
        let (total, page) = page_of(vec![json!(1), json!(2), json!(3)], 2, 1);
        let l = list_response(total, page, 2);
        assert_eq!((l["totalResults"].as_u64(), l["itemsPerPage"].as_u64()), (Some(3), Some(1)));
        assert_eq!(l["Resources"], json!([2]));
        assert_eq!(page_bounds(Some(0), Some(5000)), (1, MAX_COUNT));
    }
}
