-- Single sign-on with OpenID Connect: one provider per organisation, the
-- short-lived sign-ins in flight (state, nonce, PKCE verifier; single use,
-- bound to the browser by a hashed cookie value), and the provider
-- identities (issuer, subject) members signed in with.

CREATE TABLE sso_settings (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL,
    issuer_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    allowed_domains TEXT NOT NULL,
    jit_enabled BOOLEAN NOT NULL,
    require_sso BOOLEAN NOT NULL,
    last_error TEXT,
    last_error_at BIGINT,
    last_sign_in_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sso_states (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    state_hash TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (org_id, state_hash)
);
CREATE INDEX sso_states_expiry ON sso_states (expires_at);

CREATE TABLE sso_identities (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, issuer, subject)
);
CREATE INDEX sso_identities_member ON sso_identities (org_id, member_id);
