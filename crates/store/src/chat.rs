//! Chat integrations: Slack installs, Teams webhooks, chat users matched to
//! members, deliveries seen, and one-time states.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::{Error, Result};

/// A Slack workspace linked to an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackInstall {
    pub org_id: String,
    pub team_id: String,
    pub team_name: String,
    pub bot_user_id: String,
    /// Sealed; open with the app's secret key.
    pub bot_token_enc: String,
    pub channel_id: String,
    pub reactions_enabled: bool,
    pub reaction_points: i64,
    pub reaction_emoji: String,
    pub installed_by: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_ok_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const SLACK_COLUMNS: &str = "org_id, team_id, team_name, bot_user_id, bot_token_enc, channel_id, reactions_enabled, \
    reaction_points, reaction_emoji, installed_by, last_error, last_error_at, last_ok_at, created_at, updated_at";

fn slack_from(r: &Row) -> SlackInstall {
    SlackInstall {
        org_id: r.text(0),
        team_id: r.text(1),
        team_name: r.text(2),
        bot_user_id: r.text(3),
        bot_token_enc: r.text(4),
        channel_id: r.text(5),
        reactions_enabled: r.bool(6),
        reaction_points: r.int(7),
        reaction_emoji: r.text(8),
        installed_by: r.opt_text(9),
        last_error: r.opt_text(10),
        last_error_at: r.opt_int(11),
        last_ok_at: r.opt_int(12),
        created_at: r.int(13),
        updated_at: r.int(14),
    }
}

/// An organisation's Microsoft Teams outgoing webhook and Workflows URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsConfig {
    pub org_id: String,
    pub token_enc: String,
    pub workflows_url_enc: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub last_ok_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A one-time state taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationState {
    pub org_id: String,
    pub member_id: Option<String>,
    pub payload: String,
}

impl Tx<'_> {
    /// Links (or re-links) a workspace; settings of an earlier link of the
    /// same organisation are kept. A workspace linked to another
    /// organisation is `slack_team_taken`.
    pub fn save_slack_install(&mut self, i: &SlackInstall) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO slack_installs ({SLACK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) \
                     ON CONFLICT (org_id) DO UPDATE SET team_id = ?2, team_name = ?3, bot_user_id = ?4, bot_token_enc = ?5, \
                     installed_by = ?10, last_error = NULL, last_error_at = NULL, updated_at = ?15"
                ),
                params![
                    &i.org_id,
                    &i.team_id,
                    &i.team_name,
                    &i.bot_user_id,
                    &i.bot_token_enc,
                    &i.channel_id,
                    i.reactions_enabled,
                    i.reaction_points,
                    &i.reaction_emoji,
                    i.installed_by.clone(),
                    i.last_error.clone(),
                    i.last_error_at,
                    i.last_ok_at,
                    i.created_at,
                    i.updated_at
                ],
            )
            .map_err(|e| {
                if e.unique_violation {
                    Error::conflict("slack_team_taken", "this Slack workspace is linked to another organisation")
                        .on_field("team_id")
                } else {
                    db(e)
                }
            })?;
        Ok(())
    }

    pub fn slack_install(&mut self, org_id: &str) -> Result<Option<SlackInstall>> {
        let rows = self
            .conn
            .query(&format!("SELECT {SLACK_COLUMNS} FROM slack_installs WHERE org_id = ?1"), params![org_id])
            .map_err(db)?;
        Ok(rows.first().map(slack_from))
    }

    /// The install of a Slack team (Slack's requests name only the team).
    pub fn slack_install_by_team(&mut self, team_id: &str) -> Result<Option<SlackInstall>> {
        let rows = self
            .conn
            .query(&format!("SELECT {SLACK_COLUMNS} FROM slack_installs WHERE team_id = ?1"), params![team_id])
            .map_err(db)?;
        Ok(rows.first().map(slack_from))
    }

    pub fn delete_slack_install(&mut self, org_id: &str) -> Result<bool> {
        let n = self.conn.execute("DELETE FROM slack_installs WHERE org_id = ?1", params![org_id]).map_err(db)?;
        Ok(n > 0)
    }

    pub fn update_slack_settings(
        &mut self,
        org_id: &str,
        channel_id: &str,
        reactions_enabled: bool,
        reaction_points: i64,
        reaction_emoji: &str,
        now: i64,
    ) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE slack_installs SET channel_id = ?2, reactions_enabled = ?3, reaction_points = ?4, \
                 reaction_emoji = ?5, updated_at = ?6 WHERE org_id = ?1",
                params![org_id, channel_id, reactions_enabled, reaction_points, reaction_emoji, now],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    /// Records the outcome of a call to Slack: an error, or success (None).
    pub fn set_slack_status(&mut self, org_id: &str, error: Option<&str>, now: i64) -> Result<()> {
        let sql = if error.is_some() {
            "UPDATE slack_installs SET last_error = ?2, last_error_at = ?3 WHERE org_id = ?1"
        } else {
            "UPDATE slack_installs SET last_ok_at = ?3 WHERE org_id = ?1 AND CAST(?2 AS TEXT) IS NULL"
        };
        self.conn.execute(sql, params![org_id, error, now]).map_err(db)?;
        Ok(())
    }

    pub fn save_teams_config(&mut self, c: &TeamsConfig) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO teams_configs (org_id, token_enc, workflows_url_enc, last_error, last_error_at, last_ok_at, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, NULL, NULL, NULL, ?4, ?5) \
                 ON CONFLICT (org_id) DO UPDATE SET token_enc = ?2, workflows_url_enc = ?3, last_error = NULL, \
                 last_error_at = NULL, updated_at = ?5",
                params![&c.org_id, &c.token_enc, &c.workflows_url_enc, c.created_at, c.updated_at],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn teams_config(&mut self, org_id: &str) -> Result<Option<TeamsConfig>> {
        let rows = self
            .conn
            .query(
                "SELECT org_id, token_enc, workflows_url_enc, last_error, last_error_at, last_ok_at, created_at, updated_at \
                 FROM teams_configs WHERE org_id = ?1",
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| TeamsConfig {
            org_id: r.text(0),
            token_enc: r.text(1),
            workflows_url_enc: r.text(2),
            last_error: r.opt_text(3),
            last_error_at: r.opt_int(4),
            last_ok_at: r.opt_int(5),
            created_at: r.int(6),
            updated_at: r.int(7),
        }))
    }

    pub fn delete_teams_config(&mut self, org_id: &str) -> Result<bool> {
        let n = self.conn.execute("DELETE FROM teams_configs WHERE org_id = ?1", params![org_id]).map_err(db)?;
        Ok(n > 0)
    }

    pub fn set_teams_status(&mut self, org_id: &str, error: Option<&str>, now: i64) -> Result<()> {
        let sql = if error.is_some() {
            "UPDATE teams_configs SET last_error = ?2, last_error_at = ?3 WHERE org_id = ?1"
        } else {
            "UPDATE teams_configs SET last_ok_at = ?3 WHERE org_id = ?1 AND CAST(?2 AS TEXT) IS NULL"
        };
        self.conn.execute(sql, params![org_id, error, now]).map_err(db)?;
        Ok(())
    }

    /// The member a chat user is matched to, if known.
    pub fn chat_identity(&mut self, org_id: &str, provider: &str, external_id: &str) -> Result<Option<String>> {
        let rows = self
            .conn
            .query(
                "SELECT member_id FROM chat_identities WHERE org_id = ?1 AND provider = ?2 AND external_id = ?3",
                params![org_id, provider, external_id],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| r.text(0)))
    }

    /// The chat user id of a member with a provider, if matched.
    pub fn chat_identity_of_member(&mut self, org_id: &str, provider: &str, member_id: &str) -> Result<Option<String>> {
        let rows = self
            .conn
            .query(
                "SELECT external_id FROM chat_identities WHERE org_id = ?1 AND member_id = ?2 AND provider = ?3 \
                 ORDER BY resolved_at DESC LIMIT 1",
                params![org_id, member_id, provider],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| r.text(0)))
    }

    pub fn save_chat_identity(
        &mut self,
        org_id: &str,
        provider: &str,
        external_id: &str,
        member_id: &str,
        email: &str,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO chat_identities (org_id, provider, external_id, member_id, email, resolved_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (org_id, provider, external_id) \
                 DO UPDATE SET member_id = ?4, email = ?5, resolved_at = ?6",
                params![org_id, provider, external_id, member_id, email, now],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn forget_chat_identity(&mut self, org_id: &str, provider: &str, external_id: &str) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM chat_identities WHERE org_id = ?1 AND provider = ?2 AND external_id = ?3",
                params![org_id, provider, external_id],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Claims a delivery: the first one with this fingerprint (or the first
    /// after `since`, when the earlier one is older) keeps `new_key`; any
    /// repeat gets the key of the one before. Concurrent claims queue on the
    /// row, so exactly one key wins.
    pub fn claim_chat_delivery(
        &mut self,
        org_id: &str,
        source: &str,
        fingerprint: &str,
        new_key: &str,
        now: i64,
        since: i64,
    ) -> Result<String> {
        let rows = self
            .conn
            .query(
                "INSERT INTO chat_deliveries (org_id, source, fingerprint, delivery_key, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (org_id, source, fingerprint) DO UPDATE SET \
                 delivery_key = CASE WHEN chat_deliveries.created_at < ?6 THEN excluded.delivery_key ELSE chat_deliveries.delivery_key END, \
                 created_at = CASE WHEN chat_deliveries.created_at < ?6 THEN excluded.created_at ELSE chat_deliveries.created_at END \
                 RETURNING delivery_key",
                params![org_id, source, fingerprint, new_key, now, since],
            )
            .map_err(db)?;
        rows.first().map(|r| r.text(0)).ok_or_else(|| Error::internal("the delivery claim returned nothing"))
    }

    /// Stores a one-time state (its SHA-256); expired ones are swept.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_integration_state(
        &mut self,
        state_hash: &str,
        purpose: &str,
        org_id: &str,
        member_id: Option<&str>,
        payload: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute("DELETE FROM integration_states WHERE org_id = ?1 AND expires_at < ?2", params![org_id, now])
            .map_err(db)?;
        self.conn
            .execute(
                "INSERT INTO integration_states (state_hash, purpose, org_id, member_id, payload, expires_at, used_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
                params![state_hash, purpose, org_id, member_id, payload, expires_at, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Takes a state once: unused, unexpired and of this purpose.
    pub fn take_integration_state(
        &mut self,
        state_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<IntegrationState>> {
        let rows = self
            .conn
            .query(
                "UPDATE integration_states SET used_at = ?3 WHERE state_hash = ?1 AND purpose = ?2 \
                 AND used_at IS NULL AND expires_at > ?3 RETURNING org_id, member_id, payload",
                params![state_hash, purpose, now],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| IntegrationState { org_id: r.text(0), member_id: r.opt_text(1), payload: r.text(2) }))
    }

    /// Reads a state without taking it (a confirmation page shows it first).
    pub fn peek_integration_state(
        &mut self,
        state_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<IntegrationState>> {
        let rows = self
            .conn
            .query(
                "SELECT org_id, member_id, payload FROM integration_states WHERE state_hash = ?1 AND purpose = ?2 \
                 AND used_at IS NULL AND expires_at > ?3",
                params![state_hash, purpose, now],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| IntegrationState { org_id: r.text(0), member_id: r.opt_text(1), payload: r.text(2) }))
    }
}
