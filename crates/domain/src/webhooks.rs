//! Outbound webhooks: which URLs an endpoint may have, which events it
//! hears, the body a receiver gets, and when a failed delivery is tried
//! again. Signing lives with the app (it needs the HMAC crate).

use crate::events::{retry_delay_ms, Event, EventKind, RETRY_FOR_MS};
use crate::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const MAX_URL_CHARS: usize = 2000;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The type of a test delivery (`POST /api/v1/webhooks/{id}/test`).
pub const PING: &str = "ping";
/// The shortest and longest wait a receiver's `Retry-After` may ask for.
pub const MIN_RETRY_AFTER_MS: i64 = 1000;
pub const MAX_RETRY_AFTER_MS: i64 = 3600 * 1000;

/// The events an endpoint is subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every event, those added later included (`"*"`).
    All,
    Only(Vec<EventKind>),
}

impl Subscription {
    /// From the API's list of names; `"*"` (or `"all"`) means every event.
    pub fn parse(names: &[String]) -> Result<Subscription> {
        if names.is_empty() {
            return Err(Error::invalid("events", "choose at least one event, or \"*\" for all"));
        }
        let mut kinds = Vec::new();
        let mut all = false;
        for name in names {
            let name = name.trim();
            if name == "*" || name.eq_ignore_ascii_case("all") {
                all = true;
                continue;
            }
            // Every name is checked, also beside "*": a typo is never dropped silently.
            let kind = EventKind::parse(name).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid("events", format!("unknown event {name:?}; the events are {}", known.join(", ")))
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(if all { Subscription::All } else { Subscription::Only(kinds) })
    }

    pub fn matches(&self, kind: EventKind) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// As the API shows it: `["*"]` or the names.
    pub fn names(&self) -> Vec<String> {
        match self {
            Subscription::All => vec!["*".to_string()],
            Subscription::Only(kinds) => kinds.iter().map(|k| k.as_str().to_string()).collect(),
        }
    }

    /// As stored: `*` or the names joined by commas.
    pub fn to_stored(&self) -> String {
        self.names().join(",")
    }

    /// Names no longer known are dropped (an event type retired later).
    pub fn from_stored(s: &str) -> Subscription {
        if s.split(',').any(|n| n == "*") {
            return Subscription::All;
        }
        Subscription::Only(s.split(',').filter_map(EventKind::parse).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Queued: waiting for its first or next try.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (a day of retries, or a refused destination).
    Failed,
    /// Stopped: its endpoint was deactivated or deleted.
    Cancelled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            "cancelled" => DeliveryStatus::Cancelled,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// The host and port a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub https: bool,
    /// Lower-cased; IPv6 literals without their brackets.
    pub host: String,
    pub port: u16,
}

fn bad_url(message: &str) -> Error {
    Error::invalid("url", message.to_string())
}

/// Checks an endpoint URL: `http` or `https`, a host, no credentials, no
/// fragment, at most 2000 characters, printable ASCII (percent-encode the
/// rest). Unless `allow_private`, a host that names this machine or a
/// private network is refused (`url_not_allowed`); the address a name
/// resolves to is checked again at each delivery.
pub fn validate_url(raw: &str, allow_private: bool) -> Result<(String, Destination)> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(bad_url("enter the URL that receives the events"));
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad_url("the URL must be at most 2000 characters"));
    }
    if !url.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(bad_url("the URL may not contain spaces or other characters that need percent-encoding"));
    }
    let (scheme, rest) =
        url.split_once("://").ok_or_else(|| bad_url("give a full URL, such as https://example.com/hooks"))?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(bad_url("the URL must start with https:// or http://")),
    };
    if url.contains('#') {
        return Err(bad_url("the URL may not have a #fragment"));
    }
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(bad_url("the URL may not contain a user name or password"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad_url("the URL has no valid host and port"))?;
    let port = match port {
        Some(p) => p,
        None if https => 443,
        None => 80,
    };
    let host = host.to_ascii_lowercase();
    let dest = Destination { https, host, port };
    if !allow_private && !host_may_be_public(&dest.host) {
        return Err(Error::invalid("url", "the URL points at this machine or a private network; use a public address")
            .with_code("url_not_allowed"));
    }
    Ok((url.to_string(), dest))
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        host.parse::<Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|p| *p > 0)?)
        }
        Some(_) => return None,
    };
    if host.is_empty() {
        return None;
    }
    if !authority.starts_with('[') {
        let name = host.strip_suffix('.').unwrap_or(host);
        let ok_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.len() > 253 || !name.split('.').all(ok_label) {
            return None;
        }
    }
    Some((host, port))
}

/// Whether a host (name or address literal) may be a public destination.
/// Names of this machine and of private zones are not; nor are numeric
/// forms resolvers read as addresses (`2130706433`, `127.1`, `0x7f.1`),
/// since no public name ends in a number.
pub fn host_may_be_public(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return is_public_ip(ip);
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let last = name.rsplit('.').next().unwrap_or("");
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        return false;
    }
    let private_zone = ["localhost", "local", "internal", "home.arpa", "localdomain"]
        .iter()
        .any(|z| name == *z || name.ends_with(&format!(".{z}")));
    !private_zone
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata lives there), shared, multicast, reserved or
/// for documentation. IPv4 addresses inside IPv6 are judged as IPv4.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible) and 64:ff9b::a.b.c.d (NAT64) reach IPv4.
            let embedded = (s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0))
                || (s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0]);
            if embedded && !(v6.is_unspecified() || v6.is_loopback()) {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            // 6to4 (2002:aabb:ccdd::) carries its IPv4 address in the second and third groups.
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] & 0xff00) == 0xff00 // multicast
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT)
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

pub fn validate_description(d: &str) -> Result<String> {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid("description", "the description must be at most 500 characters"));
    }
    Ok(d.trim().to_string())
}

fn rfc3339(ms: i64) -> serde_json::Value {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| serde_json::Value::String(t.to_string()))
        .unwrap_or(serde_json::Value::Null)
}

/// The body every receiver gets for an event; stored with the delivery,
/// so each attempt and each redelivery sends the very same bytes.
pub fn body(event_id: &str, kind: &str, occurred_at: i64, org_id: &str, data: &serde_json::Value) -> String {
    serde_json::json!({
        "id": event_id,
        "type": kind,
        "created_at": rfc3339(occurred_at),
        "org_id": org_id,
        "data": data,
    })
    .to_string()
}

pub fn event_body(e: &Event) -> String {
    body(&e.id, e.kind.as_str(), e.occurred_at, &e.org_id, &e.data)
}

/// A `Retry-After` value (seconds, or an HTTP date) as a wait in ms from
/// `now`, held within 1 s to 1 hour; None when it does not parse.
pub fn retry_after_ms(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        i64::try_from(secs).ok()?.saturating_mul(1000)
    } else {
        let at = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(value).ok()?;
        at.as_millisecond() - now
    };
    Some(wait.clamp(MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS))
}

/// The wait before the next try of a delivery that failed for the
/// `attempts`-th time: the receiver's `Retry-After` when it gave one, else
/// the usual back-off. None once that would go past a day since `first_at`.
pub fn next_try_in(attempts: u32, first_at: i64, now: i64, jitter: f64, retry_after: Option<i64>) -> Option<i64> {
    match retry_after {
        Some(wait) => (now + wait - first_at <= RETRY_FOR_MS).then_some(wait),
        None => retry_delay_ms(attempts, first_at, now, jitter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let (url, d) = validate_url(" https://hooks.example.com/in?x=1 ", false).unwrap();
        assert_eq!(url, "https://hooks.example.com/in?x=1");
        assert_eq!(d, Destination { https: true, host: "hooks.example.com".into(), port: 443 });
        assert_eq!(validate_url("http://Example.com:8080", false).unwrap().1.port, 8080);
        for bad in [
            "",
            "ftp://example.com/",
            "example.com/hook",
            "https://user:pw@example.com/",
            "https://example.com@evil.example/",
            "https://exa mple.com/",
            "https://example.com/#top",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https:///path",
            "https://exa_mple..com/",
            "https://ex\u{e4}mple.com/",
        ] {
            assert_eq!(validate_url(bad, true).unwrap_err().field.as_deref(), Some("url"), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2000));
        assert!(validate_url(&long, true).is_err());
    }

    #[test]
    fn private_destinations_are_refused_unless_allowed() {
        for private in [
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://api.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://metadata.google.internal/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://2130706433/",
            "http://127.1/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a9fe:a9fe::]/",
            "http://0x7f.1/",
        ] {
            assert_eq!(validate_url(private, false).unwrap_err().code, "url_not_allowed", "{private}");
            assert!(validate_url(private, true).is_ok(), "{private}");
        }
        for public in
            ["https://8.8.8.8/", "https://[2606:4700::1111]/", "https://hooks.example.com/", "http://172.32.0.1/"]
        {
            assert!(validate_url(public, false).is_ok(), "{public}");
        }
    }

    #[test]
    fn subscriptions_parse_and_store() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = Subscription::parse(&names(&["recognition.created", "member.created", "recognition.created"])).unwrap();
        assert_eq!(s.names(), ["recognition.created", "member.created"]);
        assert!(s.matches(EventKind::MemberCreated) && !s.matches(EventKind::RedemptionCreated));
        assert_eq!(Subscription::from_stored(&s.to_stored()), s);
        assert_eq!(Subscription::parse(&names(&["*"])).unwrap(), Subscription::All);
        assert_eq!(Subscription::parse(&names(&["*", "bogus"])).unwrap_err().field.as_deref(), Some("events"));
        assert_eq!(Subscription::parse(&names(&["recognition.created", "*"])).unwrap(), Subscription::All);
        assert_eq!(Subscription::from_stored("*"), Subscription::All);
        assert!(Subscription::All.matches(EventKind::CheckInCreated));
        assert_eq!(Subscription::parse(&names(&["nope"])).unwrap_err().field.as_deref(), Some("events"));
        assert!(Subscription::parse(&[]).is_err());
    }

    #[test]
    fn retry_after_is_held_within_bounds() {
        assert_eq!(retry_after_ms("120", 0), Some(120_000));
        assert_eq!(retry_after_ms("0", 0), Some(MIN_RETRY_AFTER_MS));
        assert_eq!(retry_after_ms("999999", 0), Some(MAX_RETRY_AFTER_MS));
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap().as_millisecond();
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&jiff::Timestamp::from_second(1_700_000_090).unwrap())
            .unwrap();
        assert_eq!(retry_after_ms(&date, now), Some(90_000));
        assert_eq!(retry_after_ms("soon", 0), None);
        // Honoured only inside the day of retries.
        assert_eq!(next_try_in(3, 0, 1000, 0.5, Some(60_000)), Some(60_000));
        assert_eq!(next_try_in(3, 0, RETRY_FOR_MS - 30_000, 0.5, Some(60_000)), None);
        assert_eq!(next_try_in(1, 0, 0, 0.5, None), Some(30_000));
    }

    #[test]
    fn the_body_carries_the_event() {
        let b = body("e1", "recognition.created", 0, "o1", &serde_json::json!({"points": 5}));
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["id"], "e1");
        assert_eq!(v["type"], "recognition.created");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00Z");
        assert_eq!(v["org_id"], "o1");
        assert_eq!(v["data"]["points"], 5);
    }
}
