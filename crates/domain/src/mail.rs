//! E-mail rules without I/O: the kinds of mail a member may opt out of, the
//! SMTP URL forms the operator configures, HTML escaping for mail bodies,
//! and the weekly schedule in an organisation's time zone.

use crate::{Error, Result};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a mail is about; members choose per kind (password resets always go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Recognition,
    Redemption,
    Digest,
    CheckInReminder,
    PasswordReset,
}

impl MailKind {
    /// The kinds a member may turn off, in the order settings show them.
    pub const OPTIONAL: [MailKind; 4] =
        [MailKind::Recognition, MailKind::Redemption, MailKind::Digest, MailKind::CheckInReminder];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Recognition => "recognition",
            MailKind::Redemption => "redemption",
            MailKind::Digest => "digest",
            MailKind::CheckInReminder => "check_in_reminder",
            MailKind::PasswordReset => "password_reset",
        }
    }

    pub fn parse(s: &str) -> Option<MailKind> {
        MailKind::OPTIONAL.into_iter().chain([MailKind::PasswordReset]).find(|k| k.as_str() == s)
    }

    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            MailKind::Recognition => "When I am recognised",
            MailKind::Redemption => "When a redemption of mine is fulfilled or declined",
            MailKind::Digest => "Weekly digest of my team members nobody recognised for 30 days (managers)",
            MailKind::CheckInReminder => "Weekly reminder of my key results without a check-in for 7 days",
            MailKind::PasswordReset => "Password reset links",
        }
    }

    pub fn optional(self) -> bool {
        self != MailKind::PasswordReset
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP (a relay on localhost, a test sink).
    None,
    /// STARTTLS, used when the server offers it.
    Opportunistic,
    /// STARTTLS, refused when the server does not offer it.
    Starttls,
    /// TLS from the first byte (`smtps://`, usually port 465).
    Implicit,
}

impl TlsMode {
    pub fn describe(self) -> &'static str {
        match self {
            TlsMode::None => "none (plain SMTP)",
            TlsMode::Opportunistic => "STARTTLS when offered",
            TlsMode::Starttls => "STARTTLS (required)",
            TlsMode::Implicit => "implicit TLS (SMTPS)",
        }
    }
}

/// The operator's `PLAUDIT_SMTP_URL`, checked. The URL forms are lettre's:
/// `smtp://host:port` (plain), `smtp://host:port?tls=required` (STARTTLS),
/// `smtp://…?tls=opportunistic`, `smtps://user:pass@host:465` (implicit TLS).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// The URL as configured (credentials included), for the client only.
    pub url: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// The user name, when credentials are given (the password is never shown).
    pub username: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpSettings({}:{}, {:?})", self.host, self.port, self.tls)
    }
}

impl SmtpSettings {
    pub fn parse(url: &str) -> Result<SmtpSettings> {
        let url = url.trim();
        let bad = |why: &str| Error::invalid("smtp_url", format!("PLAUDIT_SMTP_URL: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("expected smtp://host:port or smtps://…"))?;
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, q),
            None => (rest, ""),
        };
        let authority = authority.split('/').next().unwrap_or("");
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let tls_param = query.split('&').find_map(|kv| kv.strip_prefix("tls="));
        let tls = match (scheme, tls_param) {
            ("smtp", None) => TlsMode::None,
            ("smtp", Some("required")) => TlsMode::Starttls,
            ("smtp", Some("opportunistic")) => TlsMode::Opportunistic,
            ("smtps", _) => TlsMode::Implicit,
            ("smtp", Some(other)) => return Err(bad(&format!("tls={other} is not one of required, opportunistic"))),
            (other, _) => return Err(bad(&format!("unknown scheme '{other}', use smtp or smtps"))),
        };
        let default_port = match tls {
            TlsMode::None => 25,
            TlsMode::Opportunistic | TlsMode::Starttls => 587,
            TlsMode::Implicit => 465,
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad(&format!("'{p}' is not a port")))?)
            }
            _ => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        let username = userinfo.map(|u| u.split(':').next().unwrap_or("").to_string()).filter(|u| !u.is_empty());
        Ok(SmtpSettings { url: url.to_string(), host: host.to_string(), port, tls, username })
    }
}

/// Escapes text for an HTML mail body or attribute.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn zoned(at_ms: i64, tz: &str) -> Result<jiff::ZonedDateTime> {
    let tz = TimeZone::get(tz).map_err(|_| Error::invalid("timezone", format!("unknown time zone '{tz}'")))?;
    let at = Timestamp::from_millisecond(at_ms).map_err(|_| Error::invalid("time", "time out of range"))?;
    Ok(at.to_zoned_datetime(tz))
}

/// The weekly mails go out from Monday at this local hour.
pub const WEEKLY_HOUR: i8 = 9;

/// `2026-W49` when the weekly mails of the ISO week containing `at_ms` (in
/// `tz`) are due, i.e. from Monday 09:00 local time; `None` before that.
/// Any moment later in the week is due too, so a server that was down on
/// Monday morning still sends them (once: callers record the week).
pub fn weekly_due(at_ms: i64, tz: &str) -> Result<Option<String>> {
    let z = zoned(at_ms, tz)?;
    let before = z.weekday() == Weekday::Monday && z.hour() < WEEKLY_HOUR;
    if before {
        return Ok(None);
    }
    let week = z.date().iso_week_date();
    Ok(Some(format!("{:04}-W{:02}", week.year(), week.week())))
}

/// `3 Dec 2026, 14:05 (Europe/Oslo)`: a time as a mail shows it.
pub fn local_time(at_ms: i64, tz: &str) -> Result<String> {
    let z = zoned(at_ms, tz)?;
    Ok(format!("{} ({tz})", z.strftime("%-d %b %Y, %H:%M")))
}

/// `3 Dec 2026` in the organisation's time zone.
pub fn local_date(at_ms: i64, tz: &str) -> Result<String> {
    Ok(zoned(at_ms, tz)?.strftime("%-d %b %Y").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn kinds_round_trip() {
        for k in MailKind::OPTIONAL.into_iter().chain([MailKind::PasswordReset]) {
            assert_eq!(MailKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
        assert_eq!(MailKind::parse("spam"), None);
        assert!(!MailKind::PasswordReset.optional());
    }

    #[test]
    fn smtp_urls_in_lettres_forms() {
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.tls, plain.username),
            ("127.0.0.1", 2525, TlsMode::None, None)
        );
        let starttls = SmtpSettings::parse("smtp://mail.example.com?tls=required").unwrap();
        assert_eq!((starttls.port, starttls.tls), (587, TlsMode::Starttls));
        let opp = SmtpSettings::parse("smtp://mail.example.com:2587?tls=opportunistic").unwrap();
        assert_eq!((opp.port, opp.tls), (2587, TlsMode::Opportunistic));
        let smtps = SmtpSettings::parse("smtps://ana:s3cr%40t@mail.example.com:465").unwrap();
        assert_eq!((smtps.host.as_str(), smtps.port, smtps.tls), ("mail.example.com", 465, TlsMode::Implicit));
        assert_eq!(smtps.username.as_deref(), Some("ana"));
        assert!(!format!("{smtps:?}").contains("s3cr"), "Debug never shows the password");
        assert_eq!(SmtpSettings::parse("smtps://mail.example.com").unwrap().port, 465);
        for bad in ["mail.example.com", "http://x", "smtp://", "smtp://x:port", "smtp://x?tls=maybe"] {
            assert_eq!(SmtpSettings::parse(bad).unwrap_err().field.as_deref(), Some("smtp_url"), "{bad}");
        }
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html(r#"<b>"Tom & Jerry's"</b>"#), "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;");
    }

    #[test]
    fn weekly_mail_is_due_from_monday_nine_local_time() {
        // Monday 7 Dec 2026, 08:59 in Oslo is 07:59 UTC: not yet.
        assert_eq!(weekly_due(ms("2026-12-07T07:59:00Z"), "Europe/Oslo").unwrap(), None);
        assert_eq!(weekly_due(ms("2026-12-07T08:00:00Z"), "Europe/Oslo").unwrap().as_deref(), Some("2026-W50"));
        // Later that week, the same week.
        assert_eq!(weekly_due(ms("2026-12-13T22:00:00Z"), "Europe/Oslo").unwrap().as_deref(), Some("2026-W50"));
        // Sunday 23:30 UTC is already Monday 08:30 in Tokyo... and 09:30 a bit later.
        assert_eq!(weekly_due(ms("2026-12-13T23:30:00Z"), "Asia/Tokyo").unwrap(), None);
        assert_eq!(weekly_due(ms("2026-12-14T00:30:00Z"), "Asia/Tokyo").unwrap().as_deref(), Some("2026-W51"));
        // ISO years: 1 Jan 2027 (a Friday) belongs to 2026-W53.
        assert_eq!(weekly_due(ms("2027-01-01T12:00:00Z"), "UTC").unwrap().as_deref(), Some("2026-W53"));
    }

    #[test]
    fn times_show_in_the_org_zone() {
        assert_eq!(local_time(ms("2026-12-03T13:05:00Z"), "Europe/Oslo").unwrap(), "3 Dec 2026, 14:05 (Europe/Oslo)");
        assert_eq!(local_date(ms("2026-12-31T23:30:00Z"), "Asia/Tokyo").unwrap(), "1 Jan 2027");
    }
}
