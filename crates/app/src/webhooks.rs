//! Outbound webhooks. Admins register endpoints (URL, events, a signing
//! secret shown once). Each event an active endpoint subscribes to becomes
//! a logged delivery sent by its own `webhook.deliver` job: a signed JSON
//! POST, retried with back-off and jitter for up to a day, every attempt
//! written to the log. See docs/webhooks.md for what receivers get.

use crate::auth::{random_token, Caller};
use crate::jobs::{jitter, Outcome};
use crate::outbound::{Outbound, REFUSED_ADDRESS};
use crate::{audit_details, now_ms, App};
use hmac::{Hmac, Mac};
use plaudit_domain::events::Event;
use plaudit_domain::webhooks::{
    body, event_body, next_try_in, retry_after_ms, validate_description, validate_url, DeliveryStatus, Subscription,
    PING,
};
use plaudit_domain::{Error, Result};
use plaudit_store::{delivery_job_key, new_id, Job, Tx, WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;
use sha2::Sha256;
use std::time::Duration;

/// The job kind of one delivery.
pub const DELIVER_JOB: &str = "webhook.deliver";
/// Signing secrets start with this, so a leaked one is recognisable.
pub const SECRET_PREFIX: &str = "whsec_";
/// A receiver must answer within this (it should queue the work and answer at once).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a receiver's answer or error the log keeps.
const EXCERPT_CHARS: usize = 300;
/// Endpoints per organisation.
const MAX_ENDPOINTS: usize = 20;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`: the
/// `Plaudit-Signature` header. The key is the whole secret text (`whsec_…`).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&signature(secret, timestamp, body)))
}

fn signature(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a receiver does: true when `header` carries a `v1` signature of
/// `body` with `secret` and its `t` is within `tolerance_secs` of `now_secs`
/// (compared in constant time).
pub fn verify_signature(secret: &str, header: &str, body: &[u8], now_secs: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now_secs - t).abs() > tolerance_secs {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    signatures.iter().any(|s| unhex(s).is_some_and(|raw| mac.clone().verify_slice(&raw).is_ok()))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// `events`: a list of names, or `"*"` / `"all"` for every event.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EventNames {
    One(String),
    Many(Vec<String>),
}

impl EventNames {
    fn subscription(&self) -> Result<Subscription> {
        match self {
            EventNames::One(name) => Subscription::parse(std::slice::from_ref(name)),
            EventNames::Many(names) => Subscription::parse(names),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    /// Absent: every event.
    pub events: Option<EventNames>,
    #[serde(default)]
    pub description: String,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<EventNames>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// A page of an endpoint's log and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub items: Vec<WebhookDelivery>,
    pub next_cursor: Option<String>,
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    out.push('…');
    out
}

fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", random_token())
}

fn secret_context(endpoint_id: &str) -> String {
    format!("webhook:{endpoint_id}:secret")
}

fn pending(endpoint: &WebhookEndpoint, event_id: &str, kind: &str, payload: String, now: i64) -> WebhookDelivery {
    WebhookDelivery {
        id: new_id(),
        org_id: endpoint.org_id.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id: event_id.to_string(),
        event_type: kind.to_string(),
        payload,
        dedupe_key: None,
        redelivery_of: None,
        status: DeliveryStatus::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        next_attempt_at: Some(now),
        last_attempt_at: None,
        delivered_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Logs a pending delivery and queues its job, in the caller's transaction.
fn queue(tx: &mut Tx, d: &WebhookDelivery) -> Result<bool> {
    if !tx.insert_webhook_delivery(d)? {
        return Ok(false);
    }
    let payload = serde_json::json!({ "delivery_id": d.id }).to_string();
    tx.enqueue_job(&d.org_id, DELIVER_JOB, &payload, Some(&delivery_job_key(&d.id)), d.created_at, d.created_at)?;
    Ok(true)
}

/// What one attempt came to.
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
    /// The receiver's `Retry-After` (429 and 503 only), bounded.
    retry_after: Option<i64>,
    /// The destination is not allowed: retrying will not help.
    refused: bool,
}

impl App {
    /// The client for webhook receivers: short timeouts, and unless the
    /// operator allows private destinations, only public addresses.
    pub(crate) fn webhook_client(config: &crate::Config) -> Outbound {
        if config.webhooks_allow_private {
            Outbound::new(DELIVERY_TIMEOUT)
        } else {
            Outbound::with_address_check(DELIVERY_TIMEOUT, plaudit_domain::webhooks::is_public_ip)
        }
    }

    pub fn webhooks(&self, caller: &Caller) -> Result<Vec<WebhookEndpoint>> {
        caller.require_admin()?;
        self.store.read(|tx| tx.list_webhook_endpoints(&caller.org.id))
    }

    pub fn webhook(&self, caller: &Caller, id: &str) -> Result<WebhookEndpoint> {
        caller.require_admin()?;
        self.store.read(|tx| tx.webhook_endpoint(&caller.org.id, id))?.ok_or_else(|| Error::not_found("webhook"))
    }

    /// Registers an endpoint; the signing secret is returned only here.
    pub fn create_webhook(&self, caller: &Caller, new: NewWebhook) -> Result<(WebhookEndpoint, String)> {
        caller.require_admin()?;
        let (url, _) = validate_url(&new.url, self.config.webhooks_allow_private)?;
        let events = match &new.events {
            Some(e) => e.subscription()?,
            None => Subscription::All,
        };
        let description = validate_description(&new.description)?;
        let now = now_ms();
        let id = new_id();
        let secret = new_secret();
        let endpoint = WebhookEndpoint {
            secret_enc: self.config.secret_key.seal(&secret_context(&id), &secret)?,
            id,
            org_id: caller.org.id.clone(),
            url,
            description,
            events,
            active: new.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.store.write(|tx| {
            if tx.list_webhook_endpoints(&caller.org.id)?.len() >= MAX_ENDPOINTS {
                return Err(Error::conflict(
                    "too_many_webhooks",
                    format!("an organisation can have at most {MAX_ENDPOINTS} webhook endpoints"),
                ));
            }
            tx.insert_webhook_endpoint(&endpoint)?;
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "webhook.created",
                &endpoint.id,
                &audit_details(serde_json::json!({"url": endpoint.url, "events": endpoint.events.names()})),
                now,
            )
        })?;
        Ok((endpoint, secret))
    }

    /// Changes an endpoint; deactivating it stops its pending deliveries.
    pub fn update_webhook(&self, caller: &Caller, id: &str, changes: WebhookChanges) -> Result<WebhookEndpoint> {
        caller.require_admin()?;
        // Everything is checked before anything is written.
        let url = changes.url.as_deref().map(|u| validate_url(u, self.config.webhooks_allow_private)).transpose()?;
        let events = changes.events.as_ref().map(EventNames::subscription).transpose()?;
        let description = changes.description.as_deref().map(validate_description).transpose()?;
        let now = now_ms();
        self.store.write(|tx| {
            let mut e = tx.webhook_endpoint(&caller.org.id, id)?.ok_or_else(|| Error::not_found("webhook"))?;
            if let Some((u, _)) = &url {
                e.url = u.clone();
            }
            if let Some(ev) = &events {
                e.events = ev.clone();
            }
            if let Some(d) = &description {
                e.description = d.clone();
            }
            if let Some(a) = changes.active {
                e.active = a;
            }
            e.updated_at = now;
            tx.update_webhook_endpoint(&e)?;
            let stopped = if e.active { 0 } else { tx.cancel_pending_webhook_deliveries(&e.org_id, &e.id, now)? };
            tx.insert_audit(
                &e.org_id,
                Some(&caller.member.id),
                "webhook.updated",
                &e.id,
                &audit_details(serde_json::json!({
                    "url": e.url, "events": e.events.names(), "active": e.active, "cancelled_deliveries": stopped,
                })),
                now,
            )?;
            Ok(e)
        })
    }

    /// Deletes an endpoint, its pending deliveries and its log.
    pub fn delete_webhook(&self, caller: &Caller, id: &str) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let e = tx.webhook_endpoint(&caller.org.id, id)?.ok_or_else(|| Error::not_found("webhook"))?;
            tx.cancel_pending_webhook_deliveries(&e.org_id, &e.id, now)?;
            tx.delete_webhook_endpoint(&e.org_id, &e.id)?;
            tx.insert_audit(
                &e.org_id,
                Some(&caller.member.id),
                "webhook.deleted",
                &e.id,
                &audit_details(serde_json::json!({"url": e.url})),
                now,
            )
        })
    }

    /// A new signing secret, returned only here; the old one stops at once
    /// (deliveries still queued are signed with the new one when sent).
    pub fn rotate_webhook_secret(&self, caller: &Caller, id: &str) -> Result<(WebhookEndpoint, String)> {
        caller.require_admin()?;
        let secret = new_secret();
        let sealed = self.config.secret_key.seal(&secret_context(id), &secret)?;
        let now = now_ms();
        let endpoint = self.store.write(|tx| {
            let mut e = tx.webhook_endpoint(&caller.org.id, id)?.ok_or_else(|| Error::not_found("webhook"))?;
            e.secret_enc = sealed.clone();
            e.updated_at = now;
            tx.update_webhook_endpoint(&e)?;
            tx.insert_audit(&e.org_id, Some(&caller.member.id), "webhook.secret_rotated", &e.id, "{}", now)?;
            Ok(e)
        })?;
        Ok((endpoint, secret))
    }

    /// Sends a `ping` now and logs it with its answer. A test is tried once:
    /// the admin sees the outcome at once and can send another.
    pub fn test_webhook(&self, caller: &Caller, id: &str) -> Result<WebhookDelivery> {
        let endpoint = self.webhook(caller, id)?;
        let now = now_ms();
        let event_id = new_id();
        let data = serde_json::json!({"webhook_id": endpoint.id, "message": "A test delivery from Plaudit"});
        let d = pending(&endpoint, &event_id, PING, body(&event_id, PING, now, &endpoint.org_id, &data), now);
        self.store.write(|tx| {
            tx.insert_webhook_delivery(&d)?;
            tx.insert_audit(&d.org_id, Some(&caller.member.id), "webhook.tested", &endpoint.id, "{}", now)
        })?;
        let attempt = self.attempt(&endpoint, &d, now);
        let mut done = self.settle_attempt(d, &attempt, now, None);
        if done.status == DeliveryStatus::Pending {
            done.status = DeliveryStatus::Failed;
            done.next_attempt_at = None;
        }
        self.store.write(|tx| tx.record_webhook_attempt(&done))?;
        Ok(done)
    }

    /// An endpoint's delivery log, newest first.
    pub fn webhook_deliveries(
        &self,
        caller: &Caller,
        endpoint_id: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<DeliveryPage> {
        let endpoint = self.webhook(caller, endpoint_id)?;
        let limit = limit.clamp(1, crate::members::MAX_PAGE);
        let before = cursor.filter(|c| !c.is_empty()).map(crate::rewards::parse_cursor).transpose()?;
        let mut items = self
            .store
            .read(|tx| tx.list_webhook_deliveries(&endpoint.org_id, &endpoint.id, before.as_deref(), limit + 1))?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|d| crate::rewards::id_cursor(&d.id))
        } else {
            None
        };
        Ok(DeliveryPage { items, next_cursor })
    }

    /// Queues a fresh attempt of a logged delivery, now: the same event id
    /// and body (receivers dedupe on the id), a new delivery in the log.
    pub fn redeliver_webhook(&self, caller: &Caller, delivery_id: &str) -> Result<WebhookDelivery> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let original = tx
                .webhook_delivery(&caller.org.id, delivery_id)?
                .ok_or_else(|| Error::not_found("webhook delivery"))?;
            let endpoint = tx
                .webhook_endpoint(&caller.org.id, &original.endpoint_id)?
                .ok_or_else(|| Error::not_found("webhook"))?;
            if !endpoint.active {
                return Err(Error::conflict("webhook_inactive", "turn the webhook on before redelivering to it"));
            }
            let mut d = pending(&endpoint, &original.event_id, &original.event_type, original.payload.clone(), now);
            d.redelivery_of = Some(original.id.clone());
            queue(tx, &d)?;
            tx.insert_audit(
                &d.org_id,
                Some(&caller.member.id),
                "webhook.redelivered",
                &original.id,
                &audit_details(serde_json::json!({"delivery_id": d.id, "event_id": d.event_id})),
                now,
            )?;
            Ok(d)
        })
    }

    /// Logs and queues one delivery per active endpoint of the event's org
    /// that subscribes to it. Safe to run twice: an event is logged once per endpoint.
    pub(crate) fn fan_out_webhooks(&self, event: &Event) -> Result<usize> {
        let payload = event_body(event);
        let now = now_ms();
        self.store.write(|tx| {
            let mut queued = 0;
            for endpoint in tx.list_webhook_endpoints(&event.org_id)? {
                if !endpoint.active || !endpoint.events.matches(event.kind) {
                    continue;
                }
                let mut d = pending(&endpoint, &event.id, event.kind.as_str(), payload.clone(), now);
                d.dedupe_key = Some(format!("{}:{}", endpoint.id, event.id));
                queued += queue(tx, &d)? as usize;
            }
            Ok(queued)
        })
    }

    /// Runs one `webhook.deliver` job at `now`.
    pub(crate) fn run_webhook_job(&self, job: &Job, now: i64) -> Outcome {
        match self.deliver(job, now) {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Retry { error: e.to_string(), after_ms: None },
        }
    }

    fn deliver(&self, job: &Job, now: i64) -> Result<Outcome> {
        #[derive(Deserialize)]
        struct Payload {
            delivery_id: String,
        }
        let Ok(p) = serde_json::from_str::<Payload>(&job.payload) else {
            return Ok(Outcome::Failed("unreadable webhook job".into()));
        };
        let found = self.store.read(|tx| {
            let Some(d) = tx.webhook_delivery(&job.org_id, &p.delivery_id)? else { return Ok(None) };
            let endpoint = tx.webhook_endpoint(&job.org_id, &d.endpoint_id)?;
            Ok(Some((d, endpoint)))
        })?;
        // Gone, already settled or stopped: nothing left to do.
        let Some((d, Some(endpoint))) = found else { return Ok(Outcome::Done) };
        if d.status != DeliveryStatus::Pending {
            return Ok(Outcome::Done);
        }
        if !endpoint.active {
            self.store.write(|tx| tx.cancel_pending_webhook_deliveries(&endpoint.org_id, &endpoint.id, now))?;
            return Ok(Outcome::Done);
        }
        let at = now_ms().max(now);
        let attempt = self.attempt(&endpoint, &d, at);
        let done = self.settle_attempt(d, &attempt, at, Some(jitter()));
        self.store.write(|tx| tx.record_webhook_attempt(&done))?;
        Ok(match done.status {
            DeliveryStatus::Pending => Outcome::Retry {
                error: done.last_error.clone().unwrap_or_default(),
                after_ms: done.next_attempt_at.map(|t| t - at),
            },
            DeliveryStatus::Failed => Outcome::Failed(done.last_error.clone().unwrap_or_default()),
            DeliveryStatus::Delivered | DeliveryStatus::Cancelled => Outcome::Done,
        })
    }

    /// POSTs the delivery's body, signed, to its endpoint.
    fn attempt(&self, endpoint: &WebhookEndpoint, d: &WebhookDelivery, at: i64) -> Attempt {
        let refused = |error: String| Attempt { status: None, error: Some(error), retry_after: None, refused: true };
        // The URL was checked when saved; the operator's setting may have changed since.
        if let Err(e) = validate_url(&endpoint.url, self.config.webhooks_allow_private) {
            return refused(format!("refused: {}", e.message));
        }
        let secret = match self.config.secret_key.open(&secret_context(&endpoint.id), &endpoint.secret_enc) {
            Ok(s) => s,
            Err(e) => return refused(e.message),
        };
        let signature = signature_header(&secret, at.div_euclid(1000), d.payload.as_bytes());
        let headers = [
            ("content-type", "application/json"),
            ("plaudit-event", d.event_type.as_str()),
            ("plaudit-delivery", d.id.as_str()),
            ("plaudit-signature", signature.as_str()),
        ];
        match self.webhook_client.post_bytes(&endpoint.url, &headers, d.payload.clone().into_bytes()) {
            Ok(reply) if reply.is_success() => {
                Attempt { status: Some(reply.status), error: None, retry_after: None, refused: false }
            }
            Ok(reply) => {
                let retry_after = matches!(reply.status, 429 | 503)
                    .then(|| reply.header("retry-after").and_then(|v| retry_after_ms(v, at)))
                    .flatten();
                let text = excerpt(&reply.text());
                let error = if text.is_empty() {
                    format!("HTTP {}", reply.status)
                } else {
                    format!("HTTP {}: {text}", reply.status)
                };
                Attempt { status: Some(reply.status), error: Some(error), retry_after, refused: false }
            }
            Err(f) if f.0.contains(REFUSED_ADDRESS) => refused(excerpt(&f.0)),
            Err(f) => Attempt { status: None, error: Some(excerpt(&f.0)), retry_after: None, refused: false },
        }
    }

    /// The delivery after an attempt at `at`: delivered, pending with its
    /// next try, or failed. Without `jitter` a failure is final (test pings).
    fn settle_attempt(&self, mut d: WebhookDelivery, a: &Attempt, at: i64, jitter: Option<f64>) -> WebhookDelivery {
        d.attempts += 1;
        d.last_status = a.status.map(i64::from);
        d.last_error = a.error.clone();
        d.last_attempt_at = Some(at);
        d.updated_at = at;
        d.next_attempt_at = None;
        if a.error.is_none() {
            d.status = DeliveryStatus::Delivered;
            d.delivered_at = Some(at);
            return d;
        }
        let wait = jitter
            .filter(|_| !a.refused)
            .and_then(|j| next_try_in(d.attempts.max(1) as u32, d.created_at, at, j, a.retry_after));
        match wait {
            Some(w) => d.next_attempt_at = Some(at + w),
            None => d.status = DeliveryStatus::Failed,
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently: printf '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
    const VECTOR: &str = "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";

    #[test]
    fn the_signature_matches_a_fixed_vector() {
        assert_eq!(signature_header("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#), VECTOR);
    }

    #[test]
    fn signatures_verify_only_with_the_secret_body_and_a_fresh_time() {
        let body = br#"{"id":"evt_1"}"#;
        assert!(verify_signature("whsec_test", VECTOR, body, 1_700_000_100, 300));
        assert!(!verify_signature("whsec_other", VECTOR, body, 1_700_000_100, 300));
        assert!(!verify_signature("whsec_test", VECTOR, br#"{"id":"evt_2"}"#, 1_700_000_100, 300));
        assert!(!verify_signature("whsec_test", VECTOR, body, 1_700_000_400, 300), "too old");
        assert!(!verify_signature("whsec_test", "v1=00", body, 1_700_000_000, 300));
        assert!(!verify_signature("whsec_test", "t=1700000000,v1=zz", body, 1_700_000_000, 300));
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("  short "), "short");
        assert_eq!(excerpt(&"é".repeat(400)).chars().count(), EXCERPT_CHARS + 1);
    }
}
