//! Rewards: the catalog, redemptions and what a statement bills. The money
//! rules live here: integers in minor units, one rounding rule.

use crate::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// Largest image a reward may carry.
pub const MAX_IMAGE_BYTES: usize = 512 * 1024;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_CODE_CHARS: usize = 500;
pub const MAX_NOTE_CHARS: usize = 2000;
pub const MAX_REASON_CHARS: usize = 500;
/// A face value above this (in minor units) is surely a typo.
pub const MAX_FACE_VALUE_MINOR: i64 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// Fulfilled in-house ("Lunch with the CEO"); no money unless the admin sets a face value.
    Culture,
    /// A brand's gift card with a face value.
    GiftCard,
    /// A donation to a charity of a face value.
    Donation,
    /// Company merchandise.
    Swag,
}

impl RewardKind {
    pub const ALL: [RewardKind; 4] =
        [RewardKind::Culture, RewardKind::GiftCard, RewardKind::Donation, RewardKind::Swag];

    pub fn as_str(self) -> &'static str {
        match self {
            RewardKind::Culture => "culture",
            RewardKind::GiftCard => "gift_card",
            RewardKind::Donation => "donation",
            RewardKind::Swag => "swag",
        }
    }

    pub fn parse(s: &str) -> Result<RewardKind> {
        RewardKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            Error::invalid("kind", format!("unknown reward kind '{s}': use culture, gift_card, donation or swag"))
        })
    }

    /// Gift cards and donations cost the company money: a paid-plan feature.
    pub fn is_paid_feature(self) -> bool {
        matches!(self, RewardKind::GiftCard | RewardKind::Donation)
    }

    /// Whether the kind must have a face value.
    pub fn needs_face_value(self) -> bool {
        self.is_paid_feature()
    }

    pub fn label(self) -> &'static str {
        match self {
            RewardKind::Culture => "Culture",
            RewardKind::GiftCard => "Gift card",
            RewardKind::Donation => "Donation",
            RewardKind::Swag => "Swag",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionStatus {
    Pending,
    Fulfilled,
    Declined,
    Cancelled,
}

impl RedemptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RedemptionStatus::Pending => "pending",
            RedemptionStatus::Fulfilled => "fulfilled",
            RedemptionStatus::Declined => "declined",
            RedemptionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<RedemptionStatus> {
        match s {
            "pending" => Ok(RedemptionStatus::Pending),
            "fulfilled" => Ok(RedemptionStatus::Fulfilled),
            "declined" => Ok(RedemptionStatus::Declined),
            "cancelled" => Ok(RedemptionStatus::Cancelled),
            _ => Err(Error::invalid(
                "status",
                format!("unknown status '{s}': use pending, fulfilled, declined or cancelled"),
            )),
        }
    }
}

/// The points a money-valued reward costs: its face value divided by the
/// value of one point, **rounded up** to a whole point, so a member never
/// gets more money than the points they spend are worth. Both amounts are
/// in minor units of the same currency.
///
/// 0.30 EUR at 0.10 EUR a point costs 3 points; 25.00 USD at 0.07 USD a
/// point costs 358 points (357.14… rounded up).
pub fn cost_points(face_value_minor: i64, point_value_minor: i64) -> Result<i64> {
    if point_value_minor <= 0 {
        return Err(Error::invalid("point_value_minor", "a point's money value must be positive"));
    }
    if face_value_minor <= 0 {
        return Err(Error::invalid("face_value_minor", "the face value must be positive"));
    }
    Ok((face_value_minor + point_value_minor - 1) / point_value_minor)
}

/// A reward as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reward {
    pub id: String,
    pub org_id: String,
    pub kind: RewardKind,
    pub name: String,
    pub description: String,
    pub cost_points: i64,
    /// Money value in minor units of `currency`; None for culture rewards without money.
    pub face_value_minor: Option<i64>,
    pub currency: Option<String>,
    /// Items left; None is unlimited.
    pub stock: Option<i64>,
    pub per_member_monthly_limit: Option<i64>,
    pub requires_approval: bool,
    pub archived: bool,
    /// `image/png`, `image/jpeg` or `image/webp` when the reward has an image.
    pub image_type: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Reward {
    /// Whether the company pays money for it (billed on the statement).
    pub fn is_paid(&self) -> bool {
        self.face_value_minor.is_some_and(|v| v > 0)
    }
}

/// A redemption as stored; `code` and `note` are the decrypted texts (the
/// store keeps them encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redemption {
    pub id: String,
    pub org_id: String,
    pub reward_id: String,
    pub member_id: String,
    pub points: i64,
    pub status: RedemptionStatus,
    pub face_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub code: Option<String>,
    pub note: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub fulfilled_at: Option<i64>,
    /// `YYYY-MM` of fulfilment in the org's time zone.
    pub fulfilled_month: Option<String>,
    /// False when the status changed since the member last looked.
    pub member_seen: bool,
}

/// One line of a monthly statement, frozen when written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    pub id: String,
    pub org_id: String,
    pub month: String,
    pub redemption_id: String,
    /// `charge` at fulfilment, `refund` when a fulfilled redemption is declined later.
    pub kind: String,
    pub member_id: String,
    pub member_name: String,
    pub reward_id: String,
    pub reward_name: String,
    pub reward_kind: RewardKind,
    /// Signed: refunds are negative. 0 for rewards without money.
    pub face_value_minor: i64,
    pub currency: Option<String>,
    pub created_at: i64,
}

/// Total per currency of a statement's paid lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub face_value_minor: i64,
}

/// Sums the paid lines per currency (sorted by currency); lines without a
/// currency (culture rewards at zero) are not billed.
pub fn totals(lines: &[StatementLine]) -> Vec<CurrencyTotal> {
    let mut map: std::collections::BTreeMap<&str, i64> = Default::default();
    for l in lines {
        if let Some(c) = &l.currency {
            *map.entry(c.as_str()).or_default() += l.face_value_minor;
        }
    }
    map.into_iter().map(|(c, v)| CurrencyTotal { currency: c.to_string(), face_value_minor: v }).collect()
}

pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid("name", format!("a reward's name must be 1–{MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_string())
}

pub fn validate_description(d: &str) -> Result<String> {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid("description", format!("at most {MAX_DESCRIPTION_CHARS} characters")));
    }
    Ok(d.trim().to_string())
}

/// Optional free text of at most `max` characters; blank is None.
pub fn validate_text(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > max => Err(Error::invalid(field, format!("at most {max} characters"))),
        Some(t) => Ok(Some(t.to_string())),
    }
}

pub fn validate_stock(stock: Option<i64>) -> Result<Option<i64>> {
    match stock {
        Some(s) if !(0..=1_000_000).contains(&s) => {
            Err(Error::invalid("stock", "stock must be 0–1,000,000 (or empty for unlimited)"))
        }
        other => Ok(other),
    }
}

pub fn validate_limit(limit: Option<i64>) -> Result<Option<i64>> {
    match limit {
        Some(l) if !(1..=1000).contains(&l) => {
            Err(Error::invalid("per_member_monthly_limit", "the monthly limit must be 1–1,000 (or empty for none)"))
        }
        other => Ok(other),
    }
}

pub fn validate_face_value(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(v) if v <= 0 || v > MAX_FACE_VALUE_MINOR => {
            Err(Error::invalid("face_value_minor", "the face value must be a positive amount in minor units"))
        }
        other => Ok(other),
    }
}

pub fn validate_cost(points: i64) -> Result<i64> {
    if !(1..=10_000_000).contains(&points) {
        return Err(Error::invalid("cost_points", "a reward costs 1–10,000,000 points"));
    }
    Ok(points)
}

/// The image type by its magic bytes: PNG, JPEG or WebP, at most [`MAX_IMAGE_BYTES`].
pub fn image_type(bytes: &[u8]) -> Result<&'static str> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Error::new(
            ErrorKind::TooLarge,
            "payload_too_large",
            format!("an image may be at most {} KiB", MAX_IMAGE_BYTES / 1024),
        )
        .on_field("image"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok("image/webp")
    } else {
        Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            "the image must be PNG, JPEG or WebP",
        )
        .on_field("image"))
    }
}

/// Formats minor units for people: `2500` EUR → `25.00 EUR` (two decimals,
/// except for the zero-decimal currencies listed).
pub fn format_money(minor: i64, currency: &str) -> String {
    let zero_decimals = matches!(currency, "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" | "HUF");
    if zero_decimals {
        return format!("{minor} {currency}");
    }
    let sign = if minor < 0 { "-" } else { "" };
    let a = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rewards_cost_their_face_value_rounded_up() {
        // 1 point = 0.10 EUR: a 0.30 EUR voucher costs exactly 3 points.
        assert_eq!(cost_points(30, 10).unwrap(), 3);
        // 25.00 USD at 0.07 USD a point: 357.14… rounds up to 358.
        assert_eq!(cost_points(2500, 7).unwrap(), 358);
        assert_eq!(cost_points(1, 10).unwrap(), 1);
        assert_eq!(cost_points(100, 1).unwrap(), 100);
        assert_eq!(cost_points(101, 100).unwrap(), 2);
        for face in 1..500 {
            for pv in 1..30 {
                let c = cost_points(face, pv).unwrap();
                assert!(c * pv >= face && (c - 1) * pv < face, "{face} at {pv}: {c}");
            }
        }
        assert!(cost_points(100, 0).is_err());
        assert!(cost_points(0, 10).is_err());
    }

    #[test]
    fn kinds_round_trip_and_paid_kinds() {
        for k in RewardKind::ALL {
            assert_eq!(RewardKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(RewardKind::parse("voucher").unwrap_err().field.as_deref(), Some("kind"));
        assert!(RewardKind::GiftCard.is_paid_feature() && RewardKind::Donation.is_paid_feature());
        assert!(!RewardKind::Culture.is_paid_feature() && !RewardKind::Swag.is_paid_feature());
    }

    #[test]
    fn totals_are_the_sum_of_the_lines_per_currency() {
        let line = |v: i64, c: Option<&str>| StatementLine {
            id: String::new(),
            org_id: String::new(),
            month: "2026-11".into(),
            redemption_id: String::new(),
            kind: if v < 0 { "refund" } else { "charge" }.into(),
            member_id: String::new(),
            member_name: String::new(),
            reward_id: String::new(),
            reward_name: String::new(),
            reward_kind: RewardKind::GiftCard,
            face_value_minor: v,
            currency: c.map(str::to_string),
            created_at: 0,
        };
        let lines = vec![
            line(2500, Some("USD")),
            line(1000, Some("EUR")),
            line(-2500, Some("USD")),
            line(700, Some("USD")),
            line(0, None),
        ];
        assert_eq!(
            totals(&lines),
            vec![
                CurrencyTotal { currency: "EUR".into(), face_value_minor: 1000 },
                CurrencyTotal { currency: "USD".into(), face_value_minor: 700 },
            ]
        );
        assert!(totals(&[]).is_empty());
    }

    #[test]
    fn images_are_known_by_their_magic_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest").unwrap(), "image/png");
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]).unwrap(), "image/jpeg");
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        assert_eq!(image_type(b"GIF89a").unwrap_err().code, "unsupported_media_type");
        assert_eq!(image_type(b"<svg/>").unwrap_err().code, "unsupported_media_type");
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert_eq!(image_type(&big).unwrap_err().code, "payload_too_large");
    }

    #[test]
    fn validation() {
        assert!(validate_name("  ").is_err());
        assert_eq!(validate_name(" Lunch with the CEO ").unwrap(), "Lunch with the CEO");
        assert!(validate_stock(Some(-1)).is_err());
        assert_eq!(validate_stock(None).unwrap(), None);
        assert!(validate_limit(Some(0)).is_err());
        assert!(validate_face_value(Some(0)).is_err());
        assert!(validate_cost(0).is_err());
        assert_eq!(validate_text("code", Some("  "), 10).unwrap(), None);
        assert!(validate_text("code", Some("12345678901"), 10).is_err());
        assert_eq!(RedemptionStatus::parse("fulfilled").unwrap(), RedemptionStatus::Fulfilled);
        assert!(RedemptionStatus::parse("done").is_err());
    }

    #[test]
    fn money_is_shown_in_major_units() {
        assert_eq!(format_money(2500, "USD"), "25.00 USD");
        assert_eq!(format_money(30, "EUR"), "0.30 EUR");
        assert_eq!(format_money(-2505, "EUR"), "-25.05 EUR");
        assert_eq!(format_money(500, "JPY"), "500 JPY");
    }
}
