-- Recognition: company values, posts, the points ledger and allowances.

ALTER TABLE orgs ADD COLUMN max_points_per_recipient_per_month BIGINT;
ALTER TABLE orgs ADD COLUMN anniversary_award_points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN birthday_award_points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN celebrations_enabled BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE company_values (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    emoji TEXT NOT NULL,
    description TEXT NOT NULL,
    position BIGINT NOT NULL,
    archived BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX company_values_org_name ON company_values (org_id, name_norm);

-- kind: peer (a member's recognition), award (company budget), celebration
CREATE TABLE recognitions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    giver_id TEXT,
    points BIGINT NOT NULL,
    message TEXT NOT NULL,
    key_result_id TEXT,
    hidden BOOLEAN NOT NULL,
    undone BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX recognitions_org_feed ON recognitions (org_id, created_at, id);
CREATE INDEX recognitions_org_giver ON recognitions (org_id, giver_id, created_at, id);

CREATE TABLE recognition_recipients (
    org_id TEXT NOT NULL,
    recognition_id TEXT NOT NULL REFERENCES recognitions(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    points BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, recognition_id, member_id)
);
CREATE INDEX recognition_recipients_member ON recognition_recipients (org_id, member_id, created_at, recognition_id);

CREATE TABLE recognition_values (
    org_id TEXT NOT NULL,
    recognition_id TEXT NOT NULL REFERENCES recognitions(id) ON DELETE CASCADE,
    value_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, recognition_id, value_id)
);
CREATE INDEX recognition_values_value ON recognition_values (org_id, value_id, created_at, recognition_id);

CREATE TABLE reactions (
    org_id TEXT NOT NULL,
    recognition_id TEXT NOT NULL REFERENCES recognitions(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    emoji TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, recognition_id, member_id, emoji)
);

CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    recognition_id TEXT NOT NULL REFERENCES recognitions(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_recognition ON comments (org_id, recognition_id, created_at);

CREATE TABLE addons (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    recognition_id TEXT NOT NULL REFERENCES recognitions(id) ON DELETE CASCADE,
    giver_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX addons_recognition ON addons (org_id, recognition_id);

-- A member's giving allowance for one month (period 'YYYY-MM' in the org's
-- time zone). remaining = total - spent, never below zero.
CREATE TABLE allowances (
    org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    period TEXT NOT NULL,
    total BIGINT NOT NULL,
    spent BIGINT NOT NULL,
    PRIMARY KEY (org_id, member_id, period),
    CHECK (spent >= 0 AND spent <= total)
);

-- The cached earned balance (spendable points); the ledger is the truth.
CREATE TABLE balances (
    org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    balance BIGINT NOT NULL,
    PRIMARY KEY (org_id, member_id),
    CHECK (balance >= 0)
);

-- Append-only. account: 'earned', 'allowance:YYYY-MM' or 'company'.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    member_id TEXT,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    reference TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_entries_member ON ledger_entries (org_id, member_id, account, created_at);
CREATE INDEX ledger_entries_reference ON ledger_entries (org_id, reference);

-- A POST that moved points, by its Idempotency-Key: the answer is replayed.
CREATE TABLE idempotency_keys (
    org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, member_id, idem_key)
);

-- Each celebration is posted once per member per occasion and year.
CREATE TABLE celebrations (
    org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    occasion TEXT NOT NULL,
    year BIGINT NOT NULL,
    recognition_id TEXT NOT NULL,
    PRIMARY KEY (org_id, member_id, occasion, year)
);
