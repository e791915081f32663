//! Organisations (tenants) and their plans.

use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// A free organisation may have at most this many active members.
pub const FREE_PLAN_ACTIVE_MEMBER_LIMIT: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Paid,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Result<Plan> {
        match s {
            "free" => Ok(Plan::Free),
            "paid" => Ok(Plan::Paid),
            _ => Err(Error::invalid(
                "plan",
                format!("unknown plan '{s}': use free or paid"),
            )),
        }
    }

    /// How many active members the plan allows, if it limits them.
    pub fn active_member_limit(self) -> Option<i64> {
        match self {
            Plan::Free => Some(FREE_PLAN_ACTIVE_MEMBER_LIMIT),
            Plan::Paid => None,
        }
    }
}

/// Refuses one more activation when the plan is full.
pub fn check_activation_allowed(plan: Plan, active_now: i64) -> Result<()> {
    match plan.active_member_limit() {
        Some(limit) if active_now >= limit => Err(Error::new(
            ErrorKind::PlanLimit,
            "plan_limit",
            format!(
                "the free plan allows at most {limit} active members and this organisation has {active_now}; \
                 deactivate someone or upgrade to the paid plan"
            ),
        )),
        _ => Ok(()),
    }
}

/// Slugs appear in URLs and sign-in forms: lower-case letters, digits and
/// single hyphens, 2 to 40 characters.
pub fn validate_slug(slug: &str) -> Result<String> {
    let slug = slug.trim();
    let ok_chars = slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if slug.len() < 2
        || slug.len() > 40
        || !ok_chars
        || slug.starts_with('-')
        || slug.ends_with('-')
        || slug.contains("--")
    {
        return Err(Error::invalid(
            "slug",
            "the short name must be 2–40 lower-case letters, digits or single hyphens",
        ));
    }
    Ok(slug.to_string())
}

pub fn validate_org_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(
            "name",
            "the organisation name must be 1–100 characters",
        ));
    }
    Ok(name.to_string())
}

/// An IANA time zone name such as `Europe/Oslo`.
pub fn validate_timezone(tz: &str) -> Result<String> {
    let tz = tz.trim();
    jiff::tz::TimeZone::get(tz)
        .map(|_| tz.to_string())
        .map_err(|_| {
            Error::invalid(
                "timezone",
                format!("'{tz}' is not an IANA time zone such as Europe/Oslo"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_plan_refuses_the_51st_activation() {
        assert!(check_activation_allowed(Plan::Free, 49).is_ok());
        let err = check_activation_allowed(Plan::Free, 50).unwrap_err();
        assert_eq!(err.code, "plan_limit");
        assert!(err.message.contains("50"));
        assert!(check_activation_allowed(Plan::Paid, 10_000).is_ok());
    }

    #[test]
    fn slugs() {
        assert_eq!(validate_slug("acme-01").unwrap(), "acme-01");
        for bad in ["a", "Acme", "acme corp", "-acme", "acme-", "ac--me", "ácme"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(validate_timezone("Europe/Oslo").is_ok());
        assert!(validate_timezone("Asia/Tokyo").is_ok());
        assert_eq!(
            validate_timezone("Mars/Olympus")
                .unwrap_err()
                .field
                .as_deref(),
            Some("timezone")
        );
    }
}

/// An organisation with its settings, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Org {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub plan: Plan,
    pub currency: Currency,
    /// Money value of one point in minor units of `money_currency`, if set.
    pub point_value_minor: Option<i64>,
    pub money_currency: Option<String>,
    pub default_allowance: i64,
    pub max_points_per_recognition: i64,
    pub allow_zero_point_posts: bool,
    pub require_value: bool,
    pub created_at: i64,
}

/// What an organisation calls its points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency {
    pub emoji: String,
    pub name_singular: String,
    pub name_plural: String,
}

impl Default for Currency {
    fn default() -> Self {
        Currency {
            emoji: "🏆".into(),
            name_singular: "point".into(),
            name_plural: "points".into(),
        }
    }
}

/// Defaults for a new organisation's point settings.
pub const DEFAULT_ALLOWANCE: i64 = 100;
pub const DEFAULT_MAX_POINTS_PER_RECOGNITION: i64 = 50;
