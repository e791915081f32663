//! Webhook endpoints and their delivery log. A delivery's job carries the
//! dedupe key `webhook:{delivery id}`, so stopping an endpoint can drop the
//! jobs of its pending deliveries.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::webhooks::{DeliveryStatus, Subscription};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub description: String,
    pub events: Subscription,
    pub active: bool,
    /// The signing secret, sealed (the app opens it to sign).
    pub secret_enc: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: String,
    pub org_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The exact JSON body sent.
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub redelivery_of: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// The HTTP status of the last answer, if there was one.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The job dedupe key of a delivery.
pub fn delivery_job_key(delivery_id: &str) -> String {
    format!("webhook:{delivery_id}")
}

const ENDPOINT_COLUMNS: &str = "id, org_id, url, description, events, active, secret_enc, created_at, updated_at";

fn endpoint_from(r: &Row) -> WebhookEndpoint {
    WebhookEndpoint {
        id: r.text(0),
        org_id: r.text(1),
        url: r.text(2),
        description: r.text(3),
        events: Subscription::from_stored(&r.text(4)),
        active: r.bool(5),
        secret_enc: r.text(6),
        created_at: r.int(7),
        updated_at: r.int(8),
    }
}

const DELIVERY_COLUMNS: &str = "id, org_id, endpoint_id, event_id, event_type, payload, dedupe_key, redelivery_of, \
     status, attempts, last_status, last_error, next_attempt_at, last_attempt_at, delivered_at, created_at, updated_at";

fn delivery_from(r: &Row) -> WebhookDelivery {
    WebhookDelivery {
        id: r.text(0),
        org_id: r.text(1),
        endpoint_id: r.text(2),
        event_id: r.text(3),
        event_type: r.text(4),
        payload: r.text(5),
        dedupe_key: r.opt_text(6),
        redelivery_of: r.opt_text(7),
        status: DeliveryStatus::parse(&r.text(8)),
        attempts: r.int(9),
        last_status: r.opt_int(10),
        last_error: r.opt_text(11),
        next_attempt_at: r.opt_int(12),
        last_attempt_at: r.opt_int(13),
        delivered_at: r.opt_int(14),
        created_at: r.int(15),
        updated_at: r.int(16),
    }
}

impl Tx<'_> {
    pub fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    &e.id,
                    &e.org_id,
                    &e.url,
                    &e.description,
                    e.events.to_stored(),
                    e.active,
                    &e.secret_enc,
                    e.created_at,
                    e.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<()> {
        self.conn
            .execute(
                "UPDATE webhook_endpoints SET url = ?3, description = ?4, events = ?5, active = ?6, secret_enc = ?7, \
                 updated_at = ?8 WHERE org_id = ?1 AND id = ?2",
                params![
                    &e.org_id,
                    &e.id,
                    &e.url,
                    &e.description,
                    e.events.to_stored(),
                    e.active,
                    &e.secret_enc,
                    e.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Deletes an endpoint and its log; false when there is none.
    pub fn delete_webhook_endpoint(&mut self, org_id: &str, id: &str) -> Result<bool> {
        self.conn
            .execute("DELETE FROM webhook_deliveries WHERE org_id = ?1 AND endpoint_id = ?2", params![org_id, id])
            .map_err(db)?;
        let n = self
            .conn
            .execute("DELETE FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2", params![org_id, id])
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn webhook_endpoint(&mut self, org_id: &str, id: &str) -> Result<Option<WebhookEndpoint>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(endpoint_from))
    }

    /// An org's endpoints, oldest first (few per org).
    pub fn list_webhook_endpoints(&mut self, org_id: &str) -> Result<Vec<WebhookEndpoint>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ?1 ORDER BY created_at, id"),
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(endpoint_from).collect())
    }

    /// Logs a delivery; false when its dedupe key was logged already.
    pub fn insert_webhook_delivery(&mut self, d: &WebhookDelivery) -> Result<bool> {
        let n = self
            .conn
            .execute(
                &format!(
                    "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
                     ON CONFLICT (org_id, dedupe_key) DO NOTHING"
                ),
                params![
                    &d.id,
                    &d.org_id,
                    &d.endpoint_id,
                    &d.event_id,
                    &d.event_type,
                    &d.payload,
                    d.dedupe_key.clone(),
                    d.redelivery_of.clone(),
                    d.status.as_str(),
                    d.attempts,
                    d.last_status,
                    d.last_error.clone(),
                    d.next_attempt_at,
                    d.last_attempt_at,
                    d.delivered_at,
                    d.created_at,
                    d.updated_at
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn webhook_delivery(&mut self, org_id: &str, id: &str) -> Result<Option<WebhookDelivery>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(delivery_from))
    }

    /// Records an attempt of a pending delivery: its outcome, the attempt
    /// count and the next try. False when it is no longer pending (its
    /// endpoint was stopped meanwhile), so nothing is overwritten.
    pub fn record_webhook_attempt(&mut self, d: &WebhookDelivery) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE webhook_deliveries SET status = ?3, attempts = ?4, last_status = ?5, last_error = ?6, \
                 next_attempt_at = ?7, last_attempt_at = ?8, delivered_at = ?9, updated_at = ?10 \
                 WHERE org_id = ?1 AND id = ?2 AND status = 'pending'",
                params![
                    &d.org_id,
                    &d.id,
                    d.status.as_str(),
                    d.attempts,
                    d.last_status,
                    d.last_error.clone(),
                    d.next_attempt_at,
                    d.last_attempt_at,
                    d.delivered_at,
                    d.updated_at
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// An endpoint's log, newest first, before the delivery `before` (a page).
    pub fn list_webhook_deliveries(
        &mut self,
        org_id: &str,
        endpoint_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ?1 AND endpoint_id = ?2 \
                     AND (CAST(?3 AS TEXT) IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"
                ),
                params![org_id, endpoint_id, before, limit],
            )
            .map_err(db)?;
        Ok(rows.iter().map(delivery_from).collect())
    }

    /// Stops an endpoint's pending deliveries: their jobs are dropped and
    /// they are marked cancelled. Returns how many were stopped.
    pub fn cancel_pending_webhook_deliveries(&mut self, org_id: &str, endpoint_id: &str, now: i64) -> Result<u64> {
        self.conn
            .execute(
                "DELETE FROM jobs WHERE org_id = ?1 AND dedupe_key IN (SELECT 'webhook:' || id FROM webhook_deliveries \
                 WHERE org_id = ?1 AND endpoint_id = ?2 AND status = 'pending')",
                params![org_id, endpoint_id],
            )
            .map_err(db)?;
        self.conn
            .execute(
                "UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ?3 \
                 WHERE org_id = ?1 AND endpoint_id = ?2 AND status = 'pending'",
                params![org_id, endpoint_id, now],
            )
            .map_err(db)
    }
}
