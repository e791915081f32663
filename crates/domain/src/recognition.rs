//! Recognition: posts, company values and the ledger's vocabulary.

use crate::{Error, Result};
use serde::Serialize;

pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_COMMENT_CHARS: usize = 2000;
/// How long the giver may undo a recognition.
pub const UNDO_WINDOW_MS: i64 = 5 * 60 * 1000;

/// A company value, e.g. "Teamwork 🤝". Archived values stay on old posts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyValue {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub emoji: String,
    pub description: String,
    pub position: i64,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Value names compare without letter case or accents: `#Teamwork`, `#teamwork`.
pub fn value_key(name: &str) -> String {
    crate::text::fold(name.trim().trim_start_matches('#'))
}

pub fn validate_value_name(name: &str) -> Result<String> {
    let name = name.trim().trim_start_matches('#').trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::invalid("name", "a value's name must be 1–60 characters"));
    }
    Ok(name.to_string())
}

pub fn validate_emoji(field: &str, emoji: &str) -> Result<String> {
    let emoji = emoji.trim();
    if emoji.is_empty() || emoji.chars().count() > 16 || emoji.chars().any(|c| c.is_alphanumeric() || c.is_whitespace())
    {
        return Err(Error::invalid(field, "give one emoji, such as 🤝"));
    }
    Ok(emoji.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// One member recognising others from their allowance.
    Peer,
    /// Points from the company budget, given by an admin.
    Award,
    /// A work anniversary or birthday posted by the daily job.
    Celebration,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Peer => "peer",
            Kind::Award => "award",
            Kind::Celebration => "celebration",
        }
    }
    pub fn parse(s: &str) -> Kind {
        match s {
            "award" => Kind::Award,
            "celebration" => Kind::Celebration,
            _ => Kind::Peer,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub member_id: String,
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
}

/// A recognition post with what is shown around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recognition {
    pub id: String,
    pub org_id: String,
    pub kind: Kind,
    pub giver_id: Option<String>,
    /// Points per recipient at posting time (add-ons come on top).
    pub points: i64,
    pub message: String,
    pub key_result_id: Option<String>,
    pub hidden: bool,
    pub undone: bool,
    pub created_at: i64,
    pub recipients: Vec<Recipient>,
    pub value_ids: Vec<String>,
    pub reactions: Vec<ReactionCount>,
    pub comment_count: i64,
    /// Add-on points per recipient given by others.
    pub addon_points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: String,
    pub recognition_id: String,
    pub member_id: String,
    pub body: String,
    pub created_at: i64,
}

/// A message of 1–2,000 characters, kept exactly as written.
pub fn validate_message(field: &str, message: &str, max_chars: usize) -> Result<()> {
    if message.trim().is_empty() {
        return Err(Error::invalid(field, "write a message").with_code("message_empty"));
    }
    let chars = message.chars().count();
    if chars > max_chars {
        return Err(Error::invalid(field, format!("the message has {chars} characters; at most {max_chars} fit"))
            .with_code("message_too_long"));
    }
    Ok(())
}

/// The kinds of ledger entries.
pub mod entry {
    /// A month's allowance becomes available (allowance account, +).
    pub const ALLOWANCE_GRANT: &str = "allowance_grant";
    /// An admin changed a month's allowance (allowance account, ±).
    pub const ALLOWANCE_CHANGE: &str = "allowance_change";
    /// Points given, from the giver's allowance (−).
    pub const GIVE: &str = "give";
    /// Points received (earned, +).
    pub const RECEIVE: &str = "receive";
    /// A company award: company account − and earned +.
    pub const AWARD: &str = "award";
    /// Add-on points from someone else's allowance (−) to the recipients (+).
    pub const ADDON_GIVE: &str = "addon_give";
    pub const ADDON_RECEIVE: &str = "addon_receive";
    /// A reversal: received points taken back (earned −), allowance given back (+).
    pub const REVERSAL: &str = "reversal";
    /// Points spent on a reward (earned, −).
    pub const REDEMPTION: &str = "redemption";
    /// A declined or cancelled redemption's points given back (earned, +).
    pub const REFUND: &str = "refund";
}

/// Ledger account names.
pub mod account {
    pub const EARNED: &str = "earned";
    pub const COMPANY: &str = "company";
    pub fn allowance(period: &str) -> String {
        format!("allowance:{period}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_counted_in_characters() {
        assert!(validate_message("message", "👍🏽 Ñandú – 谢谢 ❤️", MAX_MESSAGE_CHARS).is_ok());
        assert_eq!(validate_message("message", "  \n", 2000).unwrap_err().code, "message_empty");
        assert!(validate_message("message", &"é".repeat(2000), 2000).is_ok());
        assert_eq!(validate_message("message", &"é".repeat(2001), 2000).unwrap_err().code, "message_too_long");
    }

    #[test]
    fn value_keys_ignore_case_accents_and_hash() {
        assert_eq!(value_key("#Équipe"), value_key("equipe"));
        assert_eq!(value_key(" Teamwork "), value_key("#TEAMWORK"));
        assert_ne!(value_key("Teamwork"), value_key("Ownership"));
    }

    #[test]
    fn emoji_are_checked() {
        assert!(validate_emoji("emoji", "🤝").is_ok());
        assert!(validate_emoji("emoji", "👩🏿‍💻").is_ok());
        assert!(validate_emoji("emoji", "abc").is_err());
        assert!(validate_emoji("emoji", "").is_err());
    }
}
