-- Outbound webhooks: endpoints an admin registered, and the log of every
-- delivery to them. Each delivery is sent by its own `webhook.deliver` job.

-- events: "*" or event names joined by commas. secret_enc is the signing
-- secret sealed with the data dir's key (it must be recoverable to sign).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    secret_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

-- status: pending, delivered, failed, cancelled. payload is the exact body
-- sent on every attempt. dedupe_key (endpoint and event) keeps a fan-out
-- that runs twice from logging an event twice; redeliveries have none.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    redelivery_of TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (org_id, endpoint_id, id);
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (org_id, dedupe_key);
