-- SCIM 2.0 provisioning: per-organisation bearer tokens (stored as SHA-256),
-- the SCIM identity of members (userName, externalId, emails as the
-- identity provider sent them, deletion), and groups with their members.
-- Groups are teams for analytics; they never change a member's department.

CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    -- The last request of this token that failed (not 401/404), for the admin page.
    last_error TEXT,
    last_error_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX scim_tokens_org ON scim_tokens (org_id, id);

CREATE TABLE scim_users (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    user_name_norm TEXT NOT NULL,
    external_id TEXT,
    emails TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    PRIMARY KEY (org_id, member_id)
);
CREATE UNIQUE INDEX scim_users_org_user_name ON scim_users (org_id, user_name_norm);

CREATE TABLE scim_groups (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_norm TEXT NOT NULL,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_org_name ON scim_groups (org_id, display_name_norm);

CREATE TABLE scim_group_members (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, group_id, member_id)
);
CREATE INDEX scim_group_members_member ON scim_group_members (org_id, member_id);
