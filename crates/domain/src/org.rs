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
            _ => Err(Error::invalid("plan", format!("unknown plan '{s}': use free or paid"))),
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
    let slug = &slug.trim().to_lowercase();
    let ok_chars = slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if slug.len() < 2
        || slug.len() > 40
        || !ok_chars
        || slug.starts_with('-')
        || slug.ends_with('-')
        || slug.contains("--")
    {
        return Err(Error::invalid("slug", "the short name must be 2–40 lower-case letters, digits or single hyphens"));
    }
    Ok(slug.to_string())
}

pub fn validate_org_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "the organisation name must be 1–100 characters"));
    }
    Ok(name.to_string())
}

/// An IANA time zone name such as `Europe/Oslo`.
pub fn validate_timezone(tz: &str) -> Result<String> {
    let tz = tz.trim();
    jiff::tz::TimeZone::get(tz)
        .map(|_| tz.to_string())
        .map_err(|_| Error::invalid("timezone", format!("'{tz}' is not an IANA time zone such as Europe/Oslo")))
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
        assert_eq!(validate_slug(" Acme ").unwrap(), "acme", "letter case is forgiven");
        for bad in ["a", "acme corp", "-acme", "acme-", "ac--me", "ácme"] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones() {
        assert!(validate_timezone("Europe/Oslo").is_ok());
        assert!(validate_timezone("Asia/Tokyo").is_ok());
        assert_eq!(validate_timezone("Mars/Olympus").unwrap_err().field.as_deref(), Some("timezone"));
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
    /// Anti-gaming cap: at most this many points to the same recipient per month.
    pub max_points_per_recipient_per_month: Option<i64>,
    /// Whether the daily job posts work anniversaries and birthdays.
    pub celebrations_enabled: bool,
    /// Company award that comes with a work anniversary / a birthday (0 = none).
    pub anniversary_award_points: i64,
    pub birthday_award_points: i64,
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
        Currency { emoji: "🏆".into(), name_singular: "point".into(), name_plural: "points".into() }
    }
}

/// Defaults for a new organisation's point settings.
pub const DEFAULT_ALLOWANCE: i64 = 100;
pub const DEFAULT_MAX_POINTS_PER_RECOGNITION: i64 = 50;

impl Org {
    /// A new organisation with every setting at its default.
    pub fn with_defaults(id: String, slug: String, name: String, timezone: String, plan: Plan, created_at: i64) -> Org {
        Org {
            id,
            slug,
            name,
            timezone,
            plan,
            currency: Currency::default(),
            point_value_minor: None,
            money_currency: None,
            default_allowance: DEFAULT_ALLOWANCE,
            max_points_per_recognition: DEFAULT_MAX_POINTS_PER_RECOGNITION,
            allow_zero_point_posts: true,
            require_value: false,
            max_points_per_recipient_per_month: None,
            celebrations_enabled: true,
            anniversary_award_points: 0,
            birthday_award_points: 0,
            created_at,
        }
    }
}

/// A change to an organisation's settings; None leaves a setting as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub currency: Option<Currency>,
    /// `Some(None)` clears the money value.
    #[serde(default, with = "double_option")]
    pub point_value_minor: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    pub money_currency: Option<Option<String>>,
    pub default_allowance: Option<i64>,
    pub max_points_per_recognition: Option<i64>,
    pub allow_zero_point_posts: Option<bool>,
    pub require_value: Option<bool>,
    #[serde(default, with = "double_option")]
    pub max_points_per_recipient_per_month: Option<Option<i64>>,
    pub celebrations_enabled: Option<bool>,
    pub anniversary_award_points: Option<i64>,
    pub birthday_award_points: Option<i64>,
}

/// Distinguishes a missing field (leave alone) from an explicit null (clear).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Three upper-case letters, as in ISO 4217.
pub fn validate_currency_code(code: &str) -> Result<String> {
    let code = code.trim();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code.to_string())
    } else {
        Err(Error::invalid("money_currency", format!("'{code}' is not an ISO 4217 currency code such as EUR")))
    }
}

impl OrgPatch {
    /// The organisation with this change applied, or the first invalid field.
    pub fn apply(self, mut org: Org) -> Result<Org> {
        if let Some(name) = self.name {
            org.name = validate_org_name(&name)?;
        }
        if let Some(tz) = self.timezone {
            org.timezone = validate_timezone(&tz)?;
        }
        if let Some(c) = self.currency {
            let emoji = c.emoji.trim();
            if emoji.is_empty() || emoji.chars().count() > 16 {
                return Err(Error::invalid("currency.emoji", "the currency needs one emoji"));
            }
            for (field, name) in
                [("currency.name_singular", &c.name_singular), ("currency.name_plural", &c.name_plural)]
            {
                if name.trim().is_empty() || name.chars().count() > 40 {
                    return Err(Error::invalid(field, "currency names must be 1–40 characters"));
                }
            }
            org.currency = Currency {
                emoji: emoji.to_string(),
                name_singular: c.name_singular.trim().to_string(),
                name_plural: c.name_plural.trim().to_string(),
            };
        }
        if let Some(v) = self.point_value_minor {
            if v.is_some_and(|v| v <= 0) {
                return Err(Error::invalid("point_value_minor", "a point's money value must be positive"));
            }
            org.point_value_minor = v;
        }
        if let Some(c) = self.money_currency {
            org.money_currency = c.map(|c| validate_currency_code(&c)).transpose()?;
        }
        if org.point_value_minor.is_some() && org.money_currency.is_none() {
            return Err(Error::invalid("money_currency", "say which currency the point value is in"));
        }
        if let Some(v) = self.default_allowance {
            if !(0..=1_000_000).contains(&v) {
                return Err(Error::invalid("default_allowance", "the monthly allowance must be 0–1,000,000"));
            }
            org.default_allowance = v;
        }
        if let Some(v) = self.max_points_per_recognition {
            if !(1..=1_000_000).contains(&v) {
                return Err(Error::invalid("max_points_per_recognition", "the maximum must be 1–1,000,000"));
            }
            org.max_points_per_recognition = v;
        }
        if let Some(v) = self.allow_zero_point_posts {
            org.allow_zero_point_posts = v;
        }
        if let Some(v) = self.require_value {
            org.require_value = v;
        }
        if let Some(v) = self.max_points_per_recipient_per_month {
            if v.is_some_and(|v| v < 1) {
                return Err(Error::invalid(
                    "max_points_per_recipient_per_month",
                    "the monthly cap per recipient must be at least 1",
                ));
            }
            org.max_points_per_recipient_per_month = v;
        }
        if let Some(v) = self.celebrations_enabled {
            org.celebrations_enabled = v;
        }
        for (field, value, target) in [
            ("anniversary_award_points", self.anniversary_award_points, &mut org.anniversary_award_points),
            ("birthday_award_points", self.birthday_award_points, &mut org.birthday_award_points),
        ] {
            if let Some(v) = value {
                if !(0..=1_000_000).contains(&v) {
                    return Err(Error::invalid(field, "a celebration award must be 0–1,000,000 points"));
                }
                *target = v;
            }
        }
        Ok(org)
    }
}
