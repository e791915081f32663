-- Organisations, members, sign-in and the audit log.
-- Every organisation-owned table carries org_id and its indexes lead with it.

CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    plan TEXT NOT NULL,
    currency_emoji TEXT NOT NULL,
    currency_singular TEXT NOT NULL,
    currency_plural TEXT NOT NULL,
    point_value_minor BIGINT,
    money_currency TEXT,
    default_allowance BIGINT NOT NULL,
    max_points_per_recognition BIGINT NOT NULL,
    allow_zero_point_posts BOOLEAN NOT NULL,
    require_value BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_norm TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    title TEXT NOT NULL,
    department TEXT NOT NULL,
    location TEXT NOT NULL,
    start_date TEXT NOT NULL,
    birthday TEXT NOT NULL,
    gender TEXT NOT NULL,
    manager_id TEXT,
    status TEXT NOT NULL,
    role TEXT NOT NULL,
    may_give BOOLEAN NOT NULL,
    may_receive BOOLEAN NOT NULL,
    allowance_override BIGINT,
    password_hash TEXT,
    search_key TEXT NOT NULL,
    sort_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX members_org_email ON members (org_id, email_norm);
CREATE INDEX members_org_sort ON members (org_id, sort_key, id);
CREATE INDEX members_org_manager ON members (org_id, manager_id);
CREATE INDEX members_org_status ON members (org_id, status);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_org_member ON sessions (org_id, member_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_org_member ON api_tokens (org_id, member_id);

-- Failed sign-ins per account key (a hash of org slug and e-mail, so unknown
-- addresses are slowed down exactly like known ones).
CREATE TABLE login_attempts (
    account_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    actor_id TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_org_time ON audit_log (org_id, created_at);
