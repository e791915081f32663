//! What happened in an organisation, as other systems hear of it (outbound
//! webhooks, e-mail, chat announcements). The names are part of the public
//! contract: webhook subscribers filter on them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "recognition.created")]
    RecognitionCreated,
    #[serde(rename = "redemption.created")]
    RedemptionCreated,
    #[serde(rename = "redemption.updated")]
    RedemptionUpdated,
    #[serde(rename = "member.created")]
    MemberCreated,
    #[serde(rename = "member.deactivated")]
    MemberDeactivated,
    #[serde(rename = "check_in.created")]
    CheckInCreated,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::RecognitionCreated,
        EventKind::RedemptionCreated,
        EventKind::RedemptionUpdated,
        EventKind::MemberCreated,
        EventKind::MemberDeactivated,
        EventKind::CheckInCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RecognitionCreated => "recognition.created",
            EventKind::RedemptionCreated => "redemption.created",
            EventKind::RedemptionUpdated => "redemption.updated",
            EventKind::MemberCreated => "member.created",
            EventKind::MemberDeactivated => "member.deactivated",
            EventKind::CheckInCreated => "check_in.created",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event: its id (stable across retries, so receivers can dedupe), kind,
/// organisation, time (UTC ms) and the resource as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    pub org_id: String,
    pub occurred_at: i64,
    pub data: serde_json::Value,
}

/// How long failed deliveries are tried again before they are given up.
pub const RETRY_FOR_MS: i64 = 24 * 3600 * 1000;

/// When to try a failed delivery again: exponential from 30 s, doubling per
/// attempt, capped at 4 hours, with up to ±20 % jitter (`jitter` in 0.0..1.0,
/// drawn by the caller) so receivers coming back are not hit all at once.
/// `None` once `attempts` (tries so far) would go past a day of retrying.
pub fn retry_delay_ms(attempts: u32, first_attempt_at: i64, now: i64, jitter: f64) -> Option<i64> {
    const FIRST_MS: i64 = 30_000;
    const CAP_MS: i64 = 4 * 3600 * 1000;
    let exponent = attempts.saturating_sub(1).min(20);
    let base = FIRST_MS.saturating_mul(1i64 << exponent).min(CAP_MS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let delay = ((base as f64) * factor) as i64;
    (now + delay - first_attempt_at <= RETRY_FOR_MS).then_some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
        assert_eq!(EventKind::parse("recognition.deleted"), None);
    }

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter_for_a_day() {
        let mid = |n| retry_delay_ms(n, 0, 0, 0.5).unwrap();
        assert_eq!(mid(1), 30_000);
        assert_eq!(mid(2), 60_000);
        assert_eq!(mid(3), 120_000);
        assert_eq!(mid(10), 4 * 3600 * 1000); // capped
        assert_eq!(retry_delay_ms(1, 0, 0, 0.0), Some(24_000));
        assert_eq!(retry_delay_ms(1, 0, 0, 1.0), Some(36_000));
        // Simulate the whole schedule: it spans most of a day, then stops.
        let (mut now, mut tries) = (0i64, 1u32);
        while let Some(d) = retry_delay_ms(tries, 0, now, 0.5) {
            now += d;
            tries += 1;
        }
        assert!(now <= 24 * 3600 * 1000 && now > 20 * 3600 * 1000, "{now}");
        assert!((10..=14).contains(&tries), "{tries}");
    }
}
