-- Durable background jobs (the outbox): events to fan out, webhook and chat
-- deliveries, e-mails. A job is written in the same transaction as the change
-- that causes it, so nothing is lost; any instance may claim it. A claim is a
-- lease: a job whose instance died is claimed again once the lease expires.

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- Set when the same job must be queued at most once (e.g. one digest per week).
    dedupe_key TEXT,
    state TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_org ON jobs (org_id, state, run_at);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (org_id, dedupe_key);
