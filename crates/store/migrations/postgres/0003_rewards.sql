-- Rewards: the catalog, redemptions and the monthly billing statement.

-- kind: culture, gift_card, donation, swag. Money in minor units of currency.
CREATE TABLE rewards (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    cost_points BIGINT NOT NULL,
    face_value_minor BIGINT,
    currency TEXT,
    stock BIGINT,
    per_member_monthly_limit BIGINT,
    requires_approval BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL,
    image_type TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (stock IS NULL OR stock >= 0),
    CHECK (cost_points > 0)
);
CREATE INDEX rewards_org ON rewards (org_id, archived, cost_points);

-- The image bytes (base64), served by the app.
CREATE TABLE reward_images (
    org_id TEXT NOT NULL,
    reward_id TEXT NOT NULL REFERENCES rewards(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, reward_id)
);

-- status: pending, fulfilled, declined, cancelled. code_enc and note_enc
-- are encrypted at rest (XChaCha20-Poly1305 with the data dir's key).
CREATE TABLE redemptions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    reward_id TEXT NOT NULL REFERENCES rewards(id),
    member_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    status TEXT NOT NULL,
    face_value_minor BIGINT,
    currency TEXT,
    code_enc TEXT,
    note_enc TEXT,
    reason TEXT,
    period TEXT NOT NULL,
    member_seen BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    fulfilled_at BIGINT,
    fulfilled_month TEXT
);
CREATE INDEX redemptions_org ON redemptions (org_id, status, created_at, id);
CREATE INDEX redemptions_member ON redemptions (org_id, member_id, created_at, id);
CREATE INDEX redemptions_limit ON redemptions (org_id, member_id, reward_id, period);

-- Append-only: written at fulfilment (charge) and when a fulfilled
-- redemption is declined later (refund, negative), in the org's month of
-- that moment, with the names of that moment. A closed month never changes.
CREATE TABLE statement_lines (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    redemption_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_name TEXT NOT NULL,
    reward_id TEXT NOT NULL,
    reward_name TEXT NOT NULL,
    reward_kind TEXT NOT NULL,
    face_value_minor BIGINT NOT NULL,
    currency TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX statement_lines_month ON statement_lines (org_id, month, created_at, id);
