-- E-mail: members' opt-outs per kind, password-reset tokens (hashed,
-- single use) and marks that make each weekly mail go out once.

-- A row only when a member chose; no row means the kind is on.
CREATE TABLE mail_preferences (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, member_id, kind)
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_org_member ON password_resets (org_id, member_id, created_at);

-- e.g. digest:2026-W50: written in the transaction that queues that week's
-- mails, so several instances queue them once.
CREATE TABLE mail_marks (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    mark TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, mark)
);
