//! Members of an organisation: roles, status and the directory profile.

use crate::{email, Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Manager,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "member" => Ok(Role::Member),
            _ => Err(Error::invalid("role", format!("unknown role '{s}': use owner, admin, manager or member"))),
        }
    }

    /// Admins and owners run the organisation.
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
        }
    }

    /// Case-insensitive; an empty status means active (many HR exports leave it blank).
    pub fn parse(field: &str, s: &str) -> Result<Status> {
        match s.trim().to_lowercase().as_str() {
            "" | "active" => Ok(Status::Active),
            "inactive" => Ok(Status::Inactive),
            other => Err(Error::invalid(field, format!("unknown status '{other}': use active or inactive"))),
        }
    }
}

/// The directory fields of a member, as an HR system knows them. Every
/// field but the e-mail may be left out (empty); the optional ones may also
/// be `null`, as the API writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub email: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub title: String,
    pub department: String,
    pub location: String,
    /// `YYYY-MM-DD`, or empty.
    #[serde(deserialize_with = "null_as_empty")]
    pub start_date: String,
    /// `MM-DD` (the year is private and not kept), or empty.
    #[serde(deserialize_with = "null_as_empty")]
    pub birthday: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub gender: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Option::<String>::deserialize(d).map(Option::unwrap_or_default)
}

const MAX_FIELD_CHARS: usize = 200;

impl Profile {
    /// Trims every field, checks formats and fills the display name from the
    /// first and last names when it is empty.
    pub fn validated(mut self) -> Result<Profile> {
        self.email = email::validate("email", &self.email)?;
        for (field, value) in [
            ("employee_id", &mut self.employee_id),
            ("first_name", &mut self.first_name),
            ("last_name", &mut self.last_name),
            ("display_name", &mut self.display_name),
            ("title", &mut self.title),
            ("department", &mut self.department),
            ("location", &mut self.location),
            ("gender", &mut self.gender),
        ] {
            *value = value.trim().to_string();
            if value.chars().count() > MAX_FIELD_CHARS {
                return Err(Error::invalid(field, format!("{field} is longer than {MAX_FIELD_CHARS} characters")));
            }
            if crate::text::has_control_chars(value) {
                return Err(Error::invalid(
                    field,
                    format!("{field} contains control characters (line breaks, tabs or direction overrides)"),
                ));
            }
        }
        if self.display_name.is_empty() {
            self.display_name = format!("{} {}", self.first_name, self.last_name).trim().to_string();
        }
        if self.display_name.is_empty() {
            self.display_name = self.email.split('@').next().unwrap_or_default().to_string();
        }
        self.start_date = parse_start_date(&self.start_date)?;
        self.birthday = parse_birthday(&self.birthday)?;
        Ok(self)
    }

    pub fn search_key(&self) -> String {
        crate::text::search_key(&[&self.display_name, &self.first_name, &self.last_name, &self.email])
    }
}

fn parse_start_date(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    s.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| Error::invalid("start_date", format!("start date '{s}' is not a date like 2024-03-31")))
}

/// Accepts `MM-DD` or a full `YYYY-MM-DD` date, of which only month and day are kept.
fn parse_birthday(s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    let bad = || Error::invalid("birthday", format!("birthday '{s}' is not a day like 03-17"));
    let month_day = if s.len() == 10 { &s[5..] } else { s };
    let (m, d) = month_day.split_once('-').ok_or_else(bad)?;
    let (m, d): (i8, i8) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    // 2024 is a leap year, so 02-29 is a valid birthday.
    jiff::civil::Date::new(2024, m, d).map_err(|_| bad())?;
    Ok(format!("{m:02}-{d:02}"))
}

/// Whether making `new_manager` the manager of `member` would close a loop.
/// `manager_of` answers the current manager of anyone.
pub fn manager_would_cycle(member: &str, new_manager: &str, manager_of: impl Fn(&str) -> Option<String>) -> bool {
    let mut current = Some(new_manager.to_string());
    let mut steps = 0usize;
    while let Some(id) = current {
        if id == member {
            return true;
        }
        steps += 1;
        if steps > 1_000_000 {
            return true; // a loop already exists above; refuse rather than spin
        }
        current = manager_of(&id);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_with_control_characters_are_refused_on_their_field() {
        for (field, bad) in [
            ("display_name", "Evil\r\nBcc: attacker@evil.com"),
            ("title", "a\u{0}b"),
            ("department", "x\u{202E}gpj.exe"),
        ] {
            let mut p = Profile { email: "x@example.com".into(), ..Default::default() };
            match field {
                "display_name" => p.display_name = bad.into(),
                "title" => p.title = bad.into(),
                _ => p.department = bad.into(),
            }
            let e = p.validated().unwrap_err();
            assert_eq!((e.code, e.field.as_deref()), ("validation_failed", Some(field)), "{bad:?}");
        }
        // Other scripts and emoji are fine.
        let ok =
            Profile { email: "x@example.com".into(), display_name: "Ana 🎉 أحمد".into(), ..Default::default() };
        assert_eq!(ok.validated().unwrap().display_name, "Ana 🎉 أحمد");
        assert_eq!(crate::text::one_line("a\r\nb\u{202E}c"), "a  b c");
    }

    #[test]
    fn profile_fills_display_name_and_checks_dates() {
        let p = Profile {
            email: " li@example.com ".into(),
            first_name: "李".into(),
            last_name: "娜".into(),
            start_date: "2021-02-03".into(),
            birthday: "1990-07-04".into(),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(p.email, "li@example.com");
        assert_eq!(p.display_name, "李 娜");
        assert_eq!(p.birthday, "07-04");
        let bad = Profile { email: "a@b.co".into(), start_date: "2021-13-01".into(), ..Default::default() };
        assert_eq!(bad.validated().unwrap_err().field.as_deref(), Some("start_date"));
        let bad = Profile { email: "a@b.co".into(), birthday: "02-30".into(), ..Default::default() };
        assert_eq!(bad.validated().unwrap_err().field.as_deref(), Some("birthday"));
    }

    #[test]
    fn manager_cycles_are_detected() {
        let managers: HashMap<&str, &str> = [("b", "a"), ("c", "b")].into();
        let lookup = |id: &str| managers.get(id).map(|m| m.to_string());
        assert!(manager_would_cycle("a", "c", lookup));
        assert!(manager_would_cycle("a", "a", lookup));
        assert!(!manager_would_cycle("c", "a", lookup));
    }

    #[test]
    fn roles_order_by_power() {
        assert!(Role::Owner.is_admin() && Role::Admin.is_admin());
        assert!(!Role::Manager.is_admin() && !Role::Member.is_admin());
        assert_eq!(Status::parse("status", "INACTIVE").unwrap(), Status::Inactive);
        assert_eq!(Status::parse("status", "retired").unwrap_err().code, "validation_failed");
    }
}

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub id: String,
    pub org_id: String,
    #[serde(flatten)]
    pub profile: Profile,
    pub manager_id: Option<String>,
    pub status: Status,
    pub role: Role,
    pub may_give: bool,
    pub may_receive: bool,
    pub allowance_override: Option<i64>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Member {
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
}
