//! The Slack app: request signatures, the OAuth install, the Web API
//! client (with `ok:false` and 429 handling), matching Slack users to
//! members by verified e-mail, and the slash command, events and
//! interactivity that run through the shared chat use case.

use crate::auth::{random_token, token_hash};
use crate::chat::{Announcement, ChatContext, ChatReply};
use crate::outbound::Reply;
use crate::{audit_details, now_ms, App, Caller};
use hmac::{Hmac, Mac};
use plaudit_domain::chat::{self, Command, Give, Mention};
use plaudit_domain::member::Status;
use plaudit_domain::org::Org;
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::SlackInstall;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

/// Requests whose timestamp is further from now than this are refused.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// A repeated slash command (same user, same text) within this window is the same delivery.
pub const COMMAND_REPEAT_WINDOW_MS: i64 = 2 * 60 * 1000;
/// Tries of one Web API call that Slack rate-limits (429).
pub const MAX_TRIES: u32 = 4;
/// Longest `Retry-After` waited for; a longer one gives up.
pub const MAX_RETRY_WAIT_SECS: u64 = 30;
/// How long an install `state` is good for.
const STATE_TTL_MS: i64 = 10 * 60 * 1000;
const INSTALL_PURPOSE: &str = "slack_install";
/// The scopes the bot asks for at install.
pub const BOT_SCOPES: &str = "commands,chat:write,chat:write.public,users:read,users:read.email,reactions:read";
/// Slack errors about the request's data, not the integration's health.
const BENIGN_ERRORS: &[&str] = &[": user_not_found", ": users_not_found"];
/// The shortcut's and the modal's callback id.
pub const GIVE_CALLBACK: &str = "give_recognition";

/// The Slack app's settings (one app serves every linked workspace).
#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub signing_secret: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Web API base, without trailing slash.
    pub api_url: String,
    /// Where "Add to Slack" sends the admin.
    pub authorize_url: String,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            signing_secret: None,
            client_id: None,
            client_secret: None,
            api_url: "https://slack.com/api".into(),
            authorize_url: "https://slack.com/oauth/v2/authorize".into(),
        }
    }
}

fn unauthenticated(code: &'static str, message: &str) -> Error {
    Error::new(ErrorKind::Unauthenticated, code, message)
}

/// Checks Slack's `X-Slack-Signature` (`v0=` hex HMAC-SHA256 of
/// `v0:{timestamp}:{body}`) in constant time, and that the timestamp is
/// within five minutes of `now_secs`. Works on the raw bytes, so a body that
/// is not UTF-8 is verified (and then refused by the parser) like any other.
pub fn verify_signature(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<()> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(unauthenticated("signature_missing", "the request is not signed"));
    };
    let ts: i64 = timestamp.trim().parse().map_err(|_| unauthenticated("signature_invalid", "bad timestamp"))?;
    if (now_secs - ts).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(unauthenticated("signature_stale", "the request timestamp is too old or in the future"));
    }
    let hex =
        signature.trim().strip_prefix("v0=").ok_or_else(|| unauthenticated("signature_invalid", "bad signature"))?;
    let expected = decode_hex(hex).ok_or_else(|| unauthenticated("signature_invalid", "bad signature"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Error::internal("hmac key"))?;
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| unauthenticated("signature_invalid", "the signature does not match"))
}

/// The `v0=` signature of a body (tests and tools sign with it).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("v0={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

/// A slash command's fields (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SlashCommand {
    pub team_id: String,
    pub user_id: String,
    pub command: String,
    pub text: String,
    pub response_url: String,
    pub trigger_id: String,
    pub channel_id: String,
    /// Slack's periodic certificate check (`ssl_check=1`): answered 200, nothing run.
    pub ssl_check: String,
}

/// What the interactivity endpoint answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Interaction {
    /// An empty 200.
    Ack,
    /// A JSON answer (`response_action`).
    Json(Value),
}

/// The Slack name of common currency emoji, for matching reactions.
pub fn emoji_name(emoji: &str) -> Option<&'static str> {
    let e = emoji.trim().trim_end_matches('\u{fe0f}');
    Some(match e {
        "🏆" => "trophy",
        "⭐" => "star",
        "🌟" => "star2",
        "✨" => "sparkles",
        "👏" => "clap",
        "🙌" => "raised_hands",
        "❤" => "heart",
        "🎉" => "tada",
        "💎" => "gem",
        "🪙" => "coin",
        "🍪" => "cookie",
        "🌮" => "taco",
        "🔥" => "fire",
        "💯" => "100",
        "👍" => "+1",
        "🚀" => "rocket",
        "🥇" => "first_place_medal",
        "💰" => "moneybag",
        "🙏" => "pray",
        "🍩" => "doughnut",
        "☕" => "coffee",
        "🍕" => "pizza",
        _ => return None,
    })
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped in user text.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack install as the admin page shows it.
#[derive(Debug, Clone)]
pub struct SlackStatus {
    pub install: SlackInstall,
    /// The emoji name whose reactions give points.
    pub reaction_emoji: String,
}

/// The admin's settings of a linked workspace.
#[derive(Debug, Clone, Default)]
pub struct SlackSettings {
    pub channel_id: String,
    pub reactions_enabled: bool,
    pub reaction_points: i64,
    pub reaction_emoji: String,
}

fn slack_provider(team_id: &str) -> String {
    format!("slack:{team_id}")
}

fn token_context(org_id: &str) -> String {
    format!("slack:{org_id}:bot_token")
}

fn not_linked(app: &App) -> ChatReply {
    ChatReply::info(format!(
        "This Slack workspace is not linked to a Plaudit organisation yet. An admin can connect it at {}/admin/integrations/slack",
        app.config.public_url
    ))
}

impl App {
    // ------------------------------------------------------------ Web API

    /// Calls a Web API method: JSON (`json`) or form (`form`) arguments,
    /// with the bot token when given. 429 waits `Retry-After` and tries
    /// again (at most [`MAX_TRIES`] in all); `ok:false` is an error naming
    /// Slack's reason.
    pub fn slack_api(
        &self,
        token: Option<&str>,
        method: &str,
        json: Option<&Value>,
        form: &[(&str, &str)],
    ) -> std::result::Result<Value, String> {
        let url = format!("{}/{method}", self.config.slack.api_url.trim_end_matches('/'));
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        let mut tries = 0;
        loop {
            tries += 1;
            let reply: Reply = match json {
                Some(body) => self.outbound.post_json(&url, &headers, body),
                None => self.outbound.post_form(&url, &headers, form),
            }
            .map_err(|e| format!("{method}: {e}"))?;
            if reply.status == 429 {
                let wait = reply.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
                if tries >= MAX_TRIES || wait > MAX_RETRY_WAIT_SECS {
                    return Err(format!("{method}: rate limited by Slack (gave up after {tries} tries)"));
                }
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            if !reply.is_success() {
                return Err(format!("{method}: Slack answered HTTP {}", reply.status));
            }
            let body: Value = reply.json().map_err(|e| format!("{method}: {e}"))?;
            if body["ok"].as_bool() != Some(true) {
                let reason = body["error"].as_str().unwrap_or("unknown_error");
                return Err(format!("{method}: {reason}"));
            }
            return Ok(body);
        }
    }

    /// A Web API call with the install's bot token; the outcome is recorded
    /// as the integration's status (last error or last success).
    fn slack_bot_call(
        &self,
        install: &SlackInstall,
        method: &str,
        json: Option<&Value>,
        form: &[(&str, &str)],
    ) -> std::result::Result<Value, String> {
        let token = self
            .config
            .secret_key
            .open(&token_context(&install.org_id), &install.bot_token_enc)
            .map_err(|e| e.message)?;
        let result = self.slack_api(Some(&token), method, json, form);
        let now = now_ms();
        // Someone mentioning an unknown user is not the integration failing.
        let error = result.as_ref().err().map(String::as_str).filter(|e| !BENIGN_ERRORS.iter().any(|b| e.ends_with(b)));
        if let Err(e) = self.store.write(|tx| tx.set_slack_status(&install.org_id, error, now)) {
            tracing::warn!(error = %e, "cannot record the Slack status");
        }
        result
    }

    // ------------------------------------------------------------ install

    /// Where "Add to Slack" goes: Slack's authorize page with a `state`
    /// bound to this admin, single-use and good for ten minutes.
    pub fn slack_install_url(&self, caller: &Caller) -> Result<String> {
        caller.require_admin()?;
        let slack = &self.config.slack;
        let client_id = slack.client_id.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| {
            Error::new(
                ErrorKind::Unavailable,
                "slack_not_configured",
                "the Slack app is not configured: the operator sets PLAUDIT_SLACK_CLIENT_ID and PLAUDIT_SLACK_CLIENT_SECRET",
            )
        })?;
        let state = random_token();
        let now = now_ms();
        self.store.write(|tx| {
            tx.insert_integration_state(
                &token_hash(&state),
                INSTALL_PURPOSE,
                &caller.org.id,
                Some(&caller.member.id),
                "",
                now + STATE_TTL_MS,
                now,
            )
        })?;
        let enc = crate::outbound::form_encode;
        Ok(format!(
            "{}?client_id={}&scope={}&redirect_uri={}&state={}",
            slack.authorize_url,
            enc(client_id),
            enc(BOT_SCOPES),
            enc(&self.slack_redirect_uri()),
            enc(&state)
        ))
    }

    pub fn slack_redirect_uri(&self) -> String {
        format!("{}/integrations/slack/oauth/callback", self.config.public_url)
    }

    /// Slack's redirect back: the state must be this admin's, unused and
    /// fresh; the code is exchanged with `oauth.v2.access` and the answer
    /// stored for the team (the bot token sealed).
    pub fn slack_oauth_callback(&self, caller: &Caller, code: &str, state: &str) -> Result<SlackInstall> {
        let now = now_ms();
        let bad_state = || {
            Error::invalid(
                "state",
                "this Slack install link is expired or was already used; start again from the Slack page",
            )
            .with_code("oauth_state_invalid")
        };
        if state.is_empty() {
            return Err(bad_state());
        }
        // Taken in its own transaction: a state is spent even if what follows fails.
        let taken = self.store.write(|tx| tx.take_integration_state(&token_hash(state), INSTALL_PURPOSE, now))?;
        let taken = taken.ok_or_else(bad_state)?;
        if taken.org_id != caller.org.id || taken.member_id.as_deref() != Some(caller.member.id.as_str()) {
            return Err(
                Error::forbidden("this Slack install was started by someone else").with_code("oauth_state_mismatch")
            );
        }
        caller.require_admin()?;
        if code.is_empty() {
            return Err(Error::invalid("code", "Slack sent no authorization code").with_code("oauth_code_missing"));
        }
        let slack = &self.config.slack;
        let redirect = self.slack_redirect_uri();
        let answer = self
            .slack_api(
                None,
                "oauth.v2.access",
                None,
                &[
                    ("code", code),
                    ("redirect_uri", &redirect),
                    ("client_id", slack.client_id.as_deref().unwrap_or("")),
                    ("client_secret", slack.client_secret.as_deref().unwrap_or("")),
                ],
            )
            .map_err(|e| {
                Error::new(ErrorKind::Unavailable, "slack_oauth_failed", format!("Slack refused the install: {e}"))
            })?;
        let token = answer["access_token"].as_str().unwrap_or("");
        let team_id = answer["team"]["id"].as_str().unwrap_or("");
        if token.is_empty() || team_id.is_empty() {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "slack_oauth_failed",
                "Slack's answer has no bot token or team",
            ));
        }
        self.save_slack_link(
            Some(caller),
            &caller.org.id,
            team_id,
            answer["team"]["name"].as_str().unwrap_or(team_id),
            answer["bot_user_id"].as_str().unwrap_or(""),
            token,
            now,
        )
    }

    /// `plaudit slack link`: the operator links a workspace by hand.
    pub fn slack_link(&self, org_slug: &str, team_id: &str, bot_token: &str) -> Result<SlackInstall> {
        let team_id = team_id.trim();
        let bot_token = bot_token.trim();
        if !(team_id.starts_with('T') || team_id.starts_with('E'))
            || team_id.len() < 3
            || !team_id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(Error::invalid("team_id", "a Slack team id looks like T0123ABCD"));
        }
        if !bot_token.starts_with("xoxb-") {
            return Err(Error::invalid("bot_token", "a Slack bot token starts with xoxb-"));
        }
        let org = self.store.read(|tx| tx.org_by_slug(org_slug))?.ok_or_else(|| Error::not_found("organisation"))?;
        self.save_slack_link(None, &org.id, team_id, team_id, "", bot_token, now_ms())
    }

    #[allow(clippy::too_many_arguments)]
    fn save_slack_link(
        &self,
        caller: Option<&Caller>,
        org_id: &str,
        team_id: &str,
        team_name: &str,
        bot_user_id: &str,
        bot_token: &str,
        now: i64,
    ) -> Result<SlackInstall> {
        let sealed = self.config.secret_key.seal(&token_context(org_id), bot_token)?;
        let actor = caller.map(|c| c.member.id.clone());
        self.store.write(|tx| {
            let install = SlackInstall {
                org_id: org_id.to_string(),
                team_id: team_id.to_string(),
                team_name: team_name.to_string(),
                bot_user_id: bot_user_id.to_string(),
                bot_token_enc: sealed.clone(),
                channel_id: String::new(),
                reactions_enabled: false,
                reaction_points: 1,
                reaction_emoji: String::new(),
                installed_by: actor.clone(),
                last_error: None,
                last_error_at: None,
                last_ok_at: None,
                created_at: now,
                updated_at: now,
            };
            tx.save_slack_install(&install)?;
            tx.insert_audit(
                org_id,
                actor.as_deref(),
                "slack.linked",
                team_id,
                &audit_details(json!({"team_name": team_name})),
                now,
            )?;
            tx.slack_install(org_id)?.ok_or_else(|| Error::internal("the install vanished"))
        })
    }

    pub fn slack_status(&self, caller: &Caller) -> Result<Option<SlackStatus>> {
        caller.require_admin()?;
        let install = self.store.read(|tx| tx.slack_install(&caller.org.id))?;
        Ok(install.map(|install| SlackStatus { reaction_emoji: reaction_emoji(&caller.org, &install), install }))
    }

    pub fn slack_disconnect(&self, caller: &Caller) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            if let Some(i) = tx.slack_install(&caller.org.id)? {
                tx.delete_slack_install(&caller.org.id)?;
                tx.insert_audit(&caller.org.id, Some(&caller.member.id), "slack.disconnected", &i.team_id, "{}", now)?;
            }
            Ok(())
        })
    }

    pub fn slack_save_settings(&self, caller: &Caller, s: &SlackSettings) -> Result<SlackInstall> {
        caller.require_admin()?;
        let channel = s.channel_id.trim();
        let channel_ok = channel.len() >= 2
            && channel.chars().all(|c| c.is_ascii_alphanumeric())
            && matches!(channel.as_bytes()[0], b'C' | b'G' | b'D');
        if !channel.is_empty() && !channel_ok {
            return Err(Error::invalid(
                "channel_id",
                "a Slack channel id looks like C0123ABCD (open the channel's details to copy it)",
            ));
        }
        if !(0..=caller.org.max_points_per_recognition.max(1)).contains(&s.reaction_points) {
            return Err(Error::invalid(
                "reaction_points",
                format!("points per reaction must be 0–{}", caller.org.max_points_per_recognition.max(1)),
            ));
        }
        let emoji = s.reaction_emoji.trim().trim_matches(':');
        if !emoji.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+')) || emoji.len() > 60 {
            return Err(Error::invalid("reaction_emoji", "give the emoji's Slack name, like trophy (without colons)"));
        }
        let now = now_ms();
        self.store.write(|tx| {
            if !tx.update_slack_settings(&caller.org.id, channel, s.reactions_enabled, s.reaction_points, emoji, now)? {
                return Err(Error::not_found("Slack workspace link"));
            }
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "slack.settings_changed",
                channel,
                &audit_details(json!({"channel_id": channel, "reactions_enabled": s.reactions_enabled,
                    "reaction_points": s.reaction_points, "reaction_emoji": emoji})),
                now,
            )?;
            tx.slack_install(&caller.org.id)?.ok_or_else(|| Error::not_found("Slack workspace link"))
        })
    }

    /// The admin's "Send test message" to the configured channel.
    pub fn slack_test_message(&self, caller: &Caller) -> Result<()> {
        caller.require_admin()?;
        let install = self
            .store
            .read(|tx| tx.slack_install(&caller.org.id))?
            .ok_or_else(|| Error::not_found("Slack workspace link"))?;
        if install.channel_id.is_empty() {
            return Err(Error::invalid("channel_id", "set the channel for posts first"));
        }
        let body = json!({
            "channel": install.channel_id,
            "text": format!("{} Plaudit is connected: recognition in {} will be posted here.", caller.org.currency.emoji, caller.org.name),
        });
        self.slack_bot_call(&install, "chat.postMessage", Some(&body), &[])
            .map(|_| ())
            .map_err(|e| Error::new(ErrorKind::Unavailable, "slack_call_failed", e))
    }

    // ------------------------------------------------------------ users

    /// The member behind a Slack user: from the cache, or `users.info` and
    /// the directory by verified e-mail (then cached).
    pub fn slack_member(&self, install: &SlackInstall, user_id: &str) -> Result<String> {
        let provider = slack_provider(&install.team_id);
        let cached = self.store.read(|tx| {
            let Some(id) = tx.chat_identity(&install.org_id, &provider, user_id)? else { return Ok(None) };
            Ok(tx.member_by_id(&install.org_id, &id)?.filter(|m| m.status == Status::Active).map(|m| m.id))
        })?;
        if let Some(id) = cached {
            return Ok(id);
        }
        let unknown = |why: String| Error::invalid("recipients", why).with_code("unknown_user");
        let info = self.slack_bot_call(install, "users.info", None, &[("user", user_id)]).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "slack_call_failed",
                format!("Slack could not tell who <@{user_id}> is ({e})"),
            )
        })?;
        let user = &info["user"];
        if user["is_bot"].as_bool() == Some(true) {
            return Err(unknown(format!("<@{user_id}> is a bot")));
        }
        let email = user["profile"]["email"].as_str().unwrap_or("");
        if email.is_empty() {
            return Err(unknown(format!("Slack shows no e-mail address for <@{user_id}>")));
        }
        if user["is_email_confirmed"].as_bool() == Some(false) {
            return Err(unknown(format!("<@{user_id}> has not confirmed their e-mail address in Slack")));
        }
        self.cache_slack_identity(install, user_id, email)?
            .ok_or_else(|| unknown(format!("<@{user_id}> ({email}) is not an active member of the Plaudit directory")))
    }

    fn cache_slack_identity(&self, install: &SlackInstall, user_id: &str, email: &str) -> Result<Option<String>> {
        let provider = slack_provider(&install.team_id);
        let now = now_ms();
        self.store.write(|tx| {
            let Some(m) = tx.member_by_email(&install.org_id, email)?.filter(|m| m.status == Status::Active) else {
                return Ok(None);
            };
            tx.save_chat_identity(&install.org_id, &provider, user_id, &m.id, email, now)?;
            Ok(Some(m.id))
        })
    }

    /// Resolves a mention in a Slack message.
    fn slack_resolve(&self, install: &SlackInstall, mention: &Mention) -> Result<String> {
        match mention {
            Mention::Id(id) => self.slack_member(install, id),
            Mention::Name(name) => {
                let m = self.member_by_chat_name(&install.org_id, name)?;
                // Learn their Slack id, so the channel post mentions them.
                if let Ok(found) =
                    self.slack_bot_call(install, "users.lookupByEmail", None, &[("email", &m.profile.email)])
                {
                    if let Some(uid) = found["user"]["id"].as_str() {
                        let _ = self.cache_slack_identity(install, uid, &m.profile.email);
                    }
                }
                Ok(m.id)
            }
        }
    }

    fn slack_context_run(&self, install: &SlackInstall, user_id: &str, key: &str, command: &Command) -> ChatReply {
        let giver = match self.slack_member(install, user_id) {
            Ok(id) => id,
            Err(e) => {
                let e = if e.code == "unknown_user" {
                    Error::forbidden(format!(
                        "I could not match you to a Plaudit member: {}. Your Slack e-mail must be the one in the Plaudit directory",
                        e.message
                    ))
                    .with_code("not_linked")
                } else {
                    e
                };
                return ChatReply::refused(&e);
            }
        };
        let ctx = ChatContext { org_id: &install.org_id, member_id: &giver, delivery_key: key, invocation: "/plaudit" };
        let mut resolve = |m: &Mention| self.slack_resolve(install, m);
        self.run_chat_command(&ctx, command, &mut resolve)
    }

    // ------------------------------------------------------------ commands

    /// A verified slash command. A repeat (same team, user and text) within
    /// [`COMMAND_REPEAT_WINDOW_MS`] runs under the first one's delivery key,
    /// so it replays instead of giving twice.
    pub fn slack_command(&self, cmd: &SlashCommand) -> ChatReply {
        self.slack_command_at(cmd, now_ms())
    }

    pub fn slack_command_at(&self, cmd: &SlashCommand, now: i64) -> ChatReply {
        let install = match self.store.read(|tx| tx.slack_install_by_team(&cmd.team_id)) {
            Ok(Some(i)) => i,
            Ok(None) => return not_linked(self),
            Err(e) => return ChatReply::refused(&e),
        };
        let command = match chat::parse(&cmd.text) {
            Ok(c) => c,
            Err(e) => return ChatReply::refused(&e),
        };
        if let Command::Help = command {
            let plural =
                self.store.read(|tx| tx.org_by_id(&install.org_id)).ok().flatten().map(|o| o.currency.name_plural);
            return ChatReply::info(chat::help_text("/plaudit", plural.as_deref().unwrap_or("points")));
        }
        let fingerprint = token_hash(&format!("{}\n{}\n{}", cmd.team_id, cmd.user_id, cmd.text.trim()));
        let key = match self.store.write(|tx| {
            tx.claim_chat_delivery(
                &install.org_id,
                "slack_command",
                &fingerprint,
                &plaudit_store::new_id(),
                now,
                now - COMMAND_REPEAT_WINDOW_MS,
            )
        }) {
            Ok(k) => k,
            Err(e) => return ChatReply::refused(&e),
        };
        self.slack_context_run(&install, &cmd.user_id, &format!("slack-command:{key}"), &command)
    }

    /// Sends a late answer to a slash command's `response_url` (ephemeral).
    pub fn slack_respond(&self, response_url: &str, reply: &ChatReply) -> std::result::Result<(), String> {
        let body = json!({"response_type": "ephemeral", "text": escape(&reply.text)});
        let r = self.outbound.post_json(response_url, &[], &body).map_err(|e| e.to_string())?;
        if r.is_success() {
            Ok(())
        } else {
            Err(format!("response_url answered HTTP {}", r.status))
        }
    }

    // ------------------------------------------------------------ events

    /// A verified Events API delivery (already parsed). `url_verification`
    /// answers its challenge; `reaction_added` with the organisation's
    /// emoji, if enabled, gives the reaction's points to the message's
    /// author. Each event runs under its `event_id`, so Slack's retries
    /// (`X-Slack-Retry-Num`) replay instead of giving twice, and a retry
    /// whose original never arrived is processed.
    /// Answers the JSON to send back (if any) and the reply of a give (to announce).
    pub fn slack_event(&self, body: &Value) -> (Option<Value>, Option<ChatReply>) {
        match body["type"].as_str() {
            Some("url_verification") => (Some(json!({"challenge": body["challenge"].as_str().unwrap_or("")})), None),
            Some("event_callback") => {
                let team = body["team_id"].as_str().unwrap_or("");
                let event_id = body["event_id"].as_str().unwrap_or("");
                let event = &body["event"];
                if matches!(event["type"].as_str(), Some("app_uninstalled") | Some("tokens_revoked")) {
                    self.slack_uninstalled(team);
                    return (None, None);
                }
                if event["type"].as_str() == Some("reaction_added") && !event_id.is_empty() {
                    if let Some(reply) = self.slack_reaction(team, event_id, event) {
                        if let crate::chat::Outcome::Refused { code, .. } = reply.outcome {
                            tracing::info!(code, event_id, "a reaction gave nothing");
                        }
                        return (None, Some(reply));
                    }
                }
                (None, None)
            }
            _ => (None, None),
        }
    }

    /// Slack says the app is gone from the workspace: the admin page shows
    /// it as the last error (the link stays, so a reinstall keeps settings).
    fn slack_uninstalled(&self, team_id: &str) {
        let now = now_ms();
        let result = self.store.write(|tx| {
            if let Some(i) = tx.slack_install_by_team(team_id)? {
                let why = "the app was uninstalled from Slack or its token revoked; reinstall with Add to Slack";
                tx.set_slack_status(&i.org_id, Some(why), now)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot record an uninstall");
        }
    }

    fn slack_reaction(&self, team_id: &str, event_id: &str, event: &Value) -> Option<ChatReply> {
        let install = self.store.read(|tx| tx.slack_install_by_team(team_id)).ok().flatten()?;
        if !install.reactions_enabled || event["item"]["type"].as_str() != Some("message") {
            return None;
        }
        let org = self.store.read(|tx| tx.org_by_id(&install.org_id)).ok().flatten()?;
        if event["reaction"].as_str().map(|r| r.split("::").next().unwrap_or(r))
            != Some(reaction_emoji(&org, &install).as_str())
        {
            return None;
        }
        let giver = event["user"].as_str()?;
        let author = event["item_user"].as_str()?;
        if giver == author {
            return None;
        }
        let points = if install.reaction_points > 0 { Some(install.reaction_points) } else { None };
        let command = Command::Give(Give {
            recipients: vec![Mention::Id(author.to_string())],
            points,
            message: format!("{} for a message in Slack", org.currency.emoji),
            values: Vec::new(),
        });
        // One give per reactor and message: removing and adding the reaction
        // again (a new event id) gives nothing more.
        let key = match (event["item"]["channel"].as_str(), event["item"]["ts"].as_str()) {
            (Some(channel), Some(ts)) => format!("slack-reaction:{team_id}:{channel}:{ts}:{giver}"),
            _ => format!("slack-event:{team_id}:{event_id}"),
        };
        Some(self.slack_context_run(&install, giver, &key, &command))
    }

    // ------------------------------------------------------------ interactivity

    /// A verified interactivity payload: the "Give recognition" shortcut
    /// opens the modal; its submission gives, or answers the errors under
    /// the fields at fault.
    pub fn slack_interaction(&self, payload: &Value) -> (Interaction, Option<ChatReply>) {
        let team = payload["team"]["id"].as_str().or(payload["view"]["team_id"].as_str()).unwrap_or("");
        let user = payload["user"]["id"].as_str().unwrap_or("");
        let Ok(Some(install)) = self.store.read(|tx| tx.slack_install_by_team(team)) else {
            return (Interaction::Ack, None);
        };
        match payload["type"].as_str() {
            Some("shortcut") | Some("message_action") if payload["callback_id"].as_str() == Some(GIVE_CALLBACK) => {
                let author = payload["message"]["user"].as_str().filter(|a| *a != user);
                let trigger = payload["trigger_id"].as_str().unwrap_or("");
                if let Err(e) = self.slack_open_modal(&install, trigger, author) {
                    tracing::warn!(error = %e, "cannot open the recognition modal");
                }
                (Interaction::Ack, None)
            }
            Some("view_submission") if payload["view"]["callback_id"].as_str() == Some(GIVE_CALLBACK) => {
                self.slack_submit(&install, user, &payload["view"])
            }
            _ => (Interaction::Ack, None),
        }
    }

    fn slack_open_modal(
        &self,
        install: &SlackInstall,
        trigger_id: &str,
        author: Option<&str>,
    ) -> std::result::Result<(), String> {
        let (org, values) = self
            .store
            .read(|tx| Ok((tx.org_by_id(&install.org_id)?, tx.list_values(&install.org_id)?)))
            .map_err(|e| e.message)?;
        let org = org.ok_or("no organisation")?;
        let mut users = json!({"type": "multi_users_select", "action_id": "users", "placeholder": {"type": "plain_text", "text": "Pick people"}});
        if let Some(a) = author {
            users["initial_users"] = json!([a]);
        }
        let mut blocks = vec![
            json!({"type": "input", "block_id": "recipients", "label": {"type": "plain_text", "text": "Who do you recognise?"}, "element": users}),
            json!({"type": "input", "block_id": "points", "optional": org.allow_zero_point_posts,
                "label": {"type": "plain_text", "text": format!("{} {} for each", org.currency.emoji, org.currency.name_plural)},
                "element": {"type": "number_input", "action_id": "points", "is_decimal_allowed": false, "min_value": "0",
                    "max_value": org.max_points_per_recognition.to_string()}}),
        ];
        let options: Vec<Value> = values
            .iter()
            .filter(|v| !v.archived)
            .take(100)
            .map(|v| json!({"text": {"type": "plain_text", "text": format!("{} {}", v.emoji, v.name).trim()}, "value": v.id}))
            .collect();
        if !options.is_empty() {
            blocks.push(json!({"type": "input", "block_id": "values", "optional": !org.require_value,
                "label": {"type": "plain_text", "text": "Values"},
                "element": {"type": "multi_static_select", "action_id": "values", "options": options}}));
        }
        blocks.push(
            json!({"type": "input", "block_id": "message", "label": {"type": "plain_text", "text": "What did they do?"},
            "element": {"type": "plain_text_input", "action_id": "message", "multiline": true, "max_length": 2000}}),
        );
        let view = json!({
            "trigger_id": trigger_id,
            "view": {"type": "modal", "callback_id": GIVE_CALLBACK,
                "title": {"type": "plain_text", "text": "Give recognition"},
                "submit": {"type": "plain_text", "text": "Give"},
                "close": {"type": "plain_text", "text": "Cancel"},
                "blocks": blocks}
        });
        self.slack_bot_call(install, "views.open", Some(&view), &[]).map(|_| ())
    }

    fn slack_submit(&self, install: &SlackInstall, user: &str, view: &Value) -> (Interaction, Option<ChatReply>) {
        let state = &view["state"]["values"];
        let users: Vec<String> = state["recipients"]["users"]["selected_users"]
            .as_array()
            .map(|a| a.iter().filter_map(|u| u.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let points_text = state["points"]["points"]["value"].as_str().unwrap_or("").trim().to_string();
        let value_ids: Vec<String> = state["values"]["values"]["selected_options"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["value"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let message = state["message"]["message"]["value"].as_str().unwrap_or("").trim().to_string();
        let errors = |field: &str, text: String| {
            let block = match field {
                "recipients" | "points" | "message" => field,
                "values" if state.get("values").is_some() => "values",
                _ => "message",
            };
            (Interaction::Json(json!({"response_action": "errors", "errors": {block: text}})), None)
        };
        let points = if points_text.is_empty() {
            None
        } else {
            match points_text.parse::<i64>() {
                Ok(p) if p >= 0 => Some(p),
                _ => return errors("points", "write a whole number of points, like 10".into()),
            }
        };
        if users.is_empty() {
            return errors("recipients", "pick at least one person".into());
        }
        if message.is_empty() {
            return errors("message", "say what they did".into());
        }
        let key = format!("slack-view:{}", view["id"].as_str().unwrap_or(""));
        let giver = match self.slack_member(install, user) {
            Ok(g) => g,
            Err(e) => return errors("recipients", format!("I could not match you to a Plaudit member: {}", e.message)),
        };
        // Values were picked from the list: pass them through by id.
        let names: Vec<String> = value_ids;
        let give =
            Give { recipients: users.into_iter().map(Mention::Id).collect(), points, message, values: Vec::new() };
        let reply = self.modal_give(install, &giver, &key, &give, &names);
        match reply.outcome {
            crate::chat::Outcome::Refused { field, .. } => {
                errors(field.as_deref().unwrap_or("message"), reply.text.trim_start_matches(":warning: ").to_string())
            }
            _ => (Interaction::Json(json!({"response_action": "clear"})), Some(reply)),
        }
    }

    /// The modal's give: like a command, with values picked by id.
    fn modal_give(
        &self,
        install: &SlackInstall,
        giver: &str,
        key: &str,
        give: &Give,
        value_ids: &[String],
    ) -> ChatReply {
        let caller = match self.caller_for(&install.org_id, giver) {
            Ok(c) => c,
            Err(e) => return field_error(&e),
        };
        let points = match give.points_or_refuse(caller.org.allow_zero_point_posts) {
            Ok(p) => p,
            Err(e) => return field_error(&e),
        };
        let mut recipients = Vec::new();
        for m in &give.recipients {
            match self.slack_resolve(install, m) {
                Ok(id) => recipients.push(id),
                Err(e) => return field_error(&e),
            }
        }
        let req = crate::recognition::GiveRequest {
            recipients,
            points,
            split_total: None,
            message: give.message.clone(),
            values: value_ids.to_vec(),
            key_result_id: None,
        };
        match self.give(&caller, &req, Some(&format!("chat:{key}"))) {
            Ok(p) => ChatReply {
                text: String::new(),
                outcome: crate::chat::Outcome::Given { recognition_id: p.recognition.id, replayed: p.replayed },
                org_id: Some(install.org_id.clone()),
            },
            Err(e) => field_error(&e),
        }
    }

    // ------------------------------------------------------------ posting

    /// Posts an announcement to the Slack channel, if one is configured.
    pub(crate) fn slack_announce(&self, org: &Org, a: &Announcement) -> std::result::Result<(), String> {
        let Some(install) = self.store.read(|tx| tx.slack_install(&org.id)).map_err(|e| e.message)? else {
            return Ok(());
        };
        if install.channel_id.is_empty() {
            return Ok(());
        }
        let provider = slack_provider(&install.team_id);
        let mut names = Vec::new();
        for (id, name) in &a.recipients {
            let slack_id = self.store.read(|tx| tx.chat_identity_of_member(&org.id, &provider, id)).ok().flatten();
            names.push(match slack_id {
                Some(uid) => format!("<@{uid}>"),
                None => format!("*{}*", escape(name)),
            });
        }
        let who = names.join(", ");
        let headline = if a.points > 0 {
            format!(
                "{} *{}* recognised {who} with *{} {}*{}",
                a.emoji,
                escape(&a.giver),
                a.points,
                a.unit,
                if a.recipients.len() > 1 { " each" } else { "" }
            )
        } else {
            format!("{} *{}* recognised {who}", a.emoji, escape(&a.giver))
        };
        let quoted: String = escape(&a.message).lines().map(|l| format!("> {l}\n")).collect();
        let mut context = a.values.iter().map(|v| escape(v)).collect::<Vec<_>>();
        context.push(format!("<{}|View in Plaudit>", a.url));
        let plain_names: Vec<&str> = a.recipients.iter().map(|(_, n)| n.as_str()).collect();
        let body = json!({
            "channel": install.channel_id,
            // The fallback text is parsed by Slack too: escaped like the blocks.
            "text": escape(&format!("{} {} recognised {}: {}", a.emoji, a.giver, plain_names.join(", "), a.message)),
            "unfurl_links": false,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
                {"type": "section", "text": {"type": "mrkdwn", "text": quoted.trim_end()}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": context.join("  ·  ")}]}
            ]
        });
        self.slack_bot_call(&install, "chat.postMessage", Some(&body), &[]).map(|_| ())
    }
}

/// A refusal shown under a modal's field: the rule's message alone (the
/// command hints, like "+N", do not apply to a form).
fn field_error(e: &Error) -> ChatReply {
    let message = crate::chat::chat_message(e);
    let mut chars = message.chars();
    let text: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    ChatReply { text, outcome: crate::chat::Outcome::Refused { code: e.code, field: e.field.clone() }, org_id: None }
}

/// The Slack emoji name whose reactions give points.
pub fn reaction_emoji(org: &Org, install: &SlackInstall) -> String {
    if !install.reaction_emoji.is_empty() {
        return install.reaction_emoji.clone();
    }
    emoji_name(&org.currency.emoji).unwrap_or("trophy").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const TS: i64 = 1531420618;

    #[test]
    fn slacks_published_vector_verifies() {
        assert_eq!(sign(SECRET, "1531420618", BODY.as_bytes()), SIGNATURE);
        verify_signature(SECRET, Some("1531420618"), Some(SIGNATURE), BODY.as_bytes(), TS + 10).unwrap();
    }

    #[test]
    fn one_changed_byte_anywhere_fails() {
        for i in [0, BODY.len() / 2, BODY.len() - 1] {
            let mut body = BODY.as_bytes().to_vec();
            body[i] ^= 0x01;
            let e = verify_signature(SECRET, Some("1531420618"), Some(SIGNATURE), &body, TS).unwrap_err();
            assert_eq!(e.code, "signature_invalid");
            assert_eq!(e.kind, ErrorKind::Unauthenticated);
        }
        let mut sig = SIGNATURE.to_string();
        sig.replace_range(10..11, "0");
        assert!(verify_signature(SECRET, Some("1531420618"), Some(&sig), BODY.as_bytes(), TS).is_err());
        assert!(verify_signature("another secret", Some("1531420618"), Some(SIGNATURE), BODY.as_bytes(), TS).is_err());
        assert!(verify_signature(SECRET, Some("1531420619"), Some(SIGNATURE), BODY.as_bytes(), TS).is_err());
    }

    #[test]
    fn stale_and_missing_signatures_are_refused() {
        let ok = |now| verify_signature(SECRET, Some("1531420618"), Some(SIGNATURE), BODY.as_bytes(), now);
        assert!(ok(TS + 300).is_ok());
        assert!(ok(TS - 300).is_ok());
        assert_eq!(ok(TS + 301).unwrap_err().code, "signature_stale");
        assert_eq!(ok(TS - 301).unwrap_err().code, "signature_stale");
        assert_eq!(verify_signature(SECRET, None, Some(SIGNATURE), b"", TS).unwrap_err().code, "signature_missing");
        assert_eq!(
            verify_signature(SECRET, Some("x"), Some(SIGNATURE), b"", TS).unwrap_err().code,
            "signature_invalid"
        );
        assert_eq!(
            verify_signature(SECRET, Some("1531420618"), Some("v0=zz"), b"", TS).unwrap_err().code,
            "signature_invalid"
        );
        assert_eq!(
            verify_signature(SECRET, Some("1531420618"), Some("v1=ab"), b"", TS).unwrap_err().code,
            "signature_invalid"
        );
    }

    #[test]
    fn bodies_that_are_not_utf8_are_verified_as_bytes() {
        let body = [0xffu8, 0xfe, b'a', 0x80];
        let sig = sign(SECRET, "1531420618", &body);
        assert!(verify_signature(SECRET, Some("1531420618"), Some(&sig), &body, TS).is_ok());
    }

    #[test]
    fn currency_emoji_have_slack_names() {
        assert_eq!(emoji_name("🏆"), Some("trophy"));
        assert_eq!(emoji_name("❤️"), Some("heart"));
        assert_eq!(emoji_name("🦄"), None);
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
