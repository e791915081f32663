-- Chat integrations: Slack workspaces and Teams webhooks linked to an
-- organisation, chat users matched to members, deliveries seen (so retries
-- never double-award) and one-time states (OAuth install, account links).

-- One Slack workspace per organisation and one organisation per workspace:
-- Slack's requests name only the team, so team_id alone finds the org.
CREATE TABLE slack_installs (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL,
    team_name TEXT NOT NULL,
    bot_user_id TEXT NOT NULL,
    -- sealed with the data dir's key
    bot_token_enc TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    reactions_enabled BOOLEAN NOT NULL,
    reaction_points BIGINT NOT NULL,
    -- Slack's name of the emoji whose reactions give points ('' = from the currency)
    reaction_emoji TEXT NOT NULL,
    installed_by TEXT,
    last_error TEXT,
    last_error_at BIGINT,
    last_ok_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (reaction_points >= 0)
);
CREATE UNIQUE INDEX slack_installs_team ON slack_installs (team_id);

CREATE TABLE teams_configs (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    -- both sealed: the token signs requests, the URL carries its own signature
    token_enc TEXT NOT NULL,
    workflows_url_enc TEXT NOT NULL,
    last_error TEXT,
    last_error_at BIGINT,
    last_ok_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- provider: 'slack:<team id>' or 'teams'; external_id: the chat user id.
CREATE TABLE chat_identities (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    external_id TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    resolved_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, provider, external_id)
);
CREATE INDEX chat_identities_member ON chat_identities (org_id, member_id, provider);

-- A fingerprint of a delivery (Slack event id, or team/user/text of a
-- slash command) and the key its give runs under; a repeat within the
-- window reuses the key, so the give's Idempotency-Key makes it a replay.
CREATE TABLE chat_deliveries (
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, source, fingerprint)
);

-- One-time states, stored as SHA-256 of the token: found by the token
-- alone (it comes back from Slack or from a link), so the key is global.
CREATE TABLE integration_states (
    state_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    member_id TEXT,
    payload TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX integration_states_org ON integration_states (org_id, expires_at);
