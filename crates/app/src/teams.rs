//! Microsoft Teams: the outgoing webhook (HMAC-signed requests, the same
//! chat grammar, mentions resolved by the ids of the message's mention
//! entities) and posts to a channel's Workflows URL as Adaptive Cards.
//!
//! Teams tells us a user's Teams id, not their e-mail, so a Teams user is
//! matched to a member once, by the member: they say `link` to the bot,
//! open the one-time link it answers while signed in to Plaudit, and
//! confirm. The match is kept in `chat_identities` (provider `teams`).

use crate::auth::{random_token, token_hash};
use crate::chat::{Announcement, ChatContext, ChatReply};
use crate::{audit_details, now_ms, App, Caller};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use plaudit_domain::chat::{self, Command, Mention};
use plaudit_domain::member::Status;
use plaudit_domain::org::Org;
use plaudit_domain::text::fold;
use plaudit_domain::webhooks::validate_url;
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::TeamsConfig;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

const PROVIDER: &str = "teams";
const LINK_PURPOSE: &str = "teams_link";
const LINK_TTL_MS: i64 = 15 * 60 * 1000;

fn token_context(org_id: &str) -> String {
    format!("teams:{org_id}:token")
}

fn url_context(org_id: &str) -> String {
    format!("teams:{org_id}:workflows_url")
}

fn unauthenticated(code: &'static str, message: &str) -> Error {
    Error::new(ErrorKind::Unauthenticated, code, message)
}

/// Checks `Authorization: HMAC <base64 HMAC-SHA256(body)>` keyed with the
/// base64-decoded security token, in constant time, on the raw bytes.
pub fn verify_signature(security_token: &str, authorization: Option<&str>, body: &[u8]) -> Result<()> {
    let header = authorization.ok_or_else(|| unauthenticated("signature_missing", "the request is not signed"))?;
    let sent = header
        .trim()
        .strip_prefix("HMAC ")
        .ok_or_else(|| unauthenticated("signature_invalid", "the Authorization header is not HMAC"))?;
    let sent = STANDARD.decode(sent.trim()).map_err(|_| unauthenticated("signature_invalid", "bad signature"))?;
    let key =
        STANDARD.decode(security_token.trim()).map_err(|_| Error::internal("the stored Teams token is not base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| Error::internal("hmac key"))?;
    mac.update(body);
    mac.verify_slice(&sent).map_err(|_| unauthenticated("signature_invalid", "the signature does not match"))
}

/// The `Authorization` value Teams would send for `body`.
pub fn sign(security_token: &str, body: &[u8]) -> String {
    let key = STANDARD.decode(security_token.trim()).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(body);
    format!("HMAC {}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Turns a Teams message into the chat grammar's text: each `<at>…</at>`
/// becomes `<@ID>` with the id of its mention entity (paired by the
/// entity's exact `text`, in order), never by the display name; the bot's
/// own mention (`recipient`, or ids starting `28:`) is dropped; other tags
/// are removed. Returns the text and the display names by id (for messages).
pub fn command_text(activity: &Value) -> (String, Vec<(String, String)>) {
    let text = activity["text"].as_str().unwrap_or("");
    let bot = activity["recipient"]["id"].as_str().unwrap_or("");
    let mut entities: Vec<(String, String, String)> = activity["entities"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["type"].as_str() == Some("mention"))
                .filter_map(|e| {
                    Some((
                        e["text"].as_str()?.to_string(),
                        e["mentioned"]["id"].as_str()?.to_string(),
                        e["mentioned"]["name"].as_str().unwrap_or("").to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut names = Vec::new();
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<at>") {
        out.push_str(&strip_tags(&rest[..start]));
        let Some(len) = rest[start..].find("</at>") else {
            rest = &rest[start + 4..];
            continue;
        };
        let whole = &rest[start..start + len + 5];
        rest = &rest[start + len + 5..];
        let Some(i) = entities.iter().position(|(t, _, _)| t == whole) else { continue };
        let (_, id, name) = entities.remove(i);
        if id == bot || id.starts_with("28:") {
            continue;
        }
        out.push_str(&format!(" <@{id}> "));
        names.push((id, name));
    }
    out.push_str(&strip_tags(rest));
    (out.replace("&nbsp;", " ").trim().to_string(), names)
}

/// Removes HTML tags other than our mention marks (which are added after).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// What the admin page shows (the token is never shown again).
#[derive(Debug, Clone)]
pub struct TeamsStatus {
    pub config: TeamsConfig,
    /// The Workflows URL with its query (signature) hidden.
    pub workflows_host: String,
    pub webhook_url: String,
}

/// `PUT /api/v1/integrations/teams`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsSetup {
    pub security_token: String,
    #[serde(default)]
    pub workflows_url: String,
}

impl App {
    pub fn teams_webhook_url(&self, org: &Org) -> String {
        format!("{}/integrations/teams/{}/webhook", self.config.public_url, org.slug)
    }

    /// An admin stores the outgoing webhook's security token and the
    /// channel's Workflows URL (both sealed).
    pub fn teams_configure(&self, caller: &Caller, setup: &TeamsSetup) -> Result<TeamsStatus> {
        caller.require_admin()?;
        let token = setup.security_token.trim();
        if token.is_empty() {
            return Err(Error::invalid(
                "security_token",
                "paste the security token Teams showed when you created the outgoing webhook",
            ));
        }
        // Teams' tokens are 32 random bytes in base64; anything else could never verify.
        match STANDARD.decode(token) {
            Ok(k) if k.len() == 32 => {}
            _ => {
                return Err(Error::invalid(
                    "security_token",
                    "this is not a Teams security token (44 characters of base64, like vqF0En+Z0ucu…=)",
                ))
            }
        }
        let url = setup.workflows_url.trim();
        if !url.is_empty() {
            self.check_workflows_url(url)?;
        }
        let now = now_ms();
        let config = TeamsConfig {
            org_id: caller.org.id.clone(),
            token_enc: self.config.secret_key.seal(&token_context(&caller.org.id), token)?,
            workflows_url_enc: self.config.secret_key.seal(&url_context(&caller.org.id), url)?,
            last_error: None,
            last_error_at: None,
            last_ok_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.write(|tx| {
            tx.save_teams_config(&config)?;
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "teams.configured",
                &caller.org.id,
                &audit_details(json!({"workflows_url": !url.is_empty()})),
                now,
            )
        })?;
        self.teams_status(caller)?.ok_or_else(|| Error::internal("the Teams settings vanished"))
    }

    /// The webhook rules for the Workflows URL (no private or local
    /// destinations unless the operator allows them), and https unless
    /// private destinations are allowed (a local test receiver is plain http).
    fn check_workflows_url(&self, url: &str) -> Result<()> {
        let allow_private = self.config.webhooks_allow_private;
        let (_, dest) = validate_url(url, allow_private).map_err(|e| e.on_field("workflows_url"))?;
        if !dest.https && !allow_private {
            return Err(Error::invalid("workflows_url", "the Workflows URL starts with https://"));
        }
        Ok(())
    }

    pub fn teams_status(&self, caller: &Caller) -> Result<Option<TeamsStatus>> {
        caller.require_admin()?;
        let Some(config) = self.store.read(|tx| tx.teams_config(&caller.org.id))? else { return Ok(None) };
        let url = self.config.secret_key.open(&url_context(&caller.org.id), &config.workflows_url_enc)?;
        let workflows_host = url.split('?').next().unwrap_or("").to_string();
        Ok(Some(TeamsStatus { config, workflows_host, webhook_url: self.teams_webhook_url(&caller.org) }))
    }

    pub fn teams_disconnect(&self, caller: &Caller) -> Result<()> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            if tx.delete_teams_config(&caller.org.id)? {
                tx.insert_audit(
                    &caller.org.id,
                    Some(&caller.member.id),
                    "teams.disconnected",
                    &caller.org.id,
                    "{}",
                    now,
                )?;
            }
            Ok(())
        })
    }

    pub fn teams_test_message(&self, caller: &Caller) -> Result<()> {
        caller.require_admin()?;
        let card = card(
            vec![
                json!({"type": "TextBlock", "text": format!("{} Plaudit is connected", caller.org.currency.emoji), "weight": "Bolder", "wrap": true}),
                json!({"type": "TextBlock", "text": format!("Recognition in {} will be posted here.", caller.org.name), "wrap": true}),
            ],
            None,
        );
        match self.teams_post(&caller.org.id, &card)? {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Error::new(ErrorKind::Unavailable, "teams_call_failed", e)),
            None => Err(Error::invalid("workflows_url", "set the channel's Workflows URL first")),
        }
    }

    /// Posts a card to the Workflows URL (None when none is set), with 429
    /// `Retry-After` retries like Slack's; the outcome becomes the status.
    fn teams_post(&self, org_id: &str, card: &Value) -> Result<Option<std::result::Result<(), String>>> {
        let Some(config) = self.store.read(|tx| tx.teams_config(org_id))? else { return Ok(None) };
        let url = self.config.secret_key.open(&url_context(org_id), &config.workflows_url_enc)?;
        if url.is_empty() {
            return Ok(None);
        }
        // Checked when saved; the operator's setting may have changed since.
        if let Err(e) = self.check_workflows_url(&url) {
            let error = format!("refused: {}", e.message);
            self.store.write(|tx| tx.set_teams_status(org_id, Some(&error), now_ms()))?;
            return Ok(Some(Err(error)));
        }
        let mut tries = 0;
        let result = loop {
            tries += 1;
            // The address-checked client: a name cannot lead to a private address either.
            match self.webhook_client.post_json(&url, &[], card) {
                Err(e) => break Err(e.to_string()),
                Ok(r) if r.status == 429 && tries < crate::slack::MAX_TRIES => {
                    let wait = r.header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
                    if wait > crate::slack::MAX_RETRY_WAIT_SECS {
                        break Err("rate limited by the Workflows URL".to_string());
                    }
                    std::thread::sleep(Duration::from_secs(wait));
                }
                Ok(r) if r.is_success() => break Ok(()),
                // Status only: the receiver's body is not ours to show.
                Ok(r) => break Err(format!("the Workflows URL answered HTTP {}", r.status)),
            }
        };
        let now = now_ms();
        let error = result.as_ref().err().map(String::as_str);
        self.store.write(|tx| tx.set_teams_status(org_id, error, now))?;
        Ok(Some(result))
    }

    pub(crate) fn teams_announce(&self, org: &Org, a: &Announcement) -> std::result::Result<(), String> {
        let names: Vec<&str> = a.recipients.iter().map(|(_, n)| n.as_str()).collect();
        let headline = if a.points > 0 {
            format!(
                "{} {} recognised {} with {} {}{}",
                a.emoji,
                a.giver,
                names.join(", "),
                a.points,
                a.unit,
                if names.len() > 1 { " each" } else { "" }
            )
        } else {
            format!("{} {} recognised {}", a.emoji, a.giver, names.join(", "))
        };
        let mut body = vec![
            json!({"type": "TextBlock", "text": headline, "weight": "Bolder", "wrap": true}),
            json!({"type": "TextBlock", "text": a.message, "wrap": true}),
        ];
        if !a.values.is_empty() {
            body.push(json!({"type": "TextBlock", "text": a.values.join(" · "), "isSubtle": true, "wrap": true}));
        }
        match self.teams_post(&org.id, &card(body, Some(&a.url))).map_err(|e| e.message)? {
            Some(r) => r,
            None => Ok(()),
        }
    }

    /// A verified, parsed outgoing-webhook activity from the organisation
    /// `org_slug`: runs the command and answers the reply.
    fn teams_activity(&self, org: &Org, activity: &Value) -> ChatReply {
        let (text, names) = command_text(activity);
        let from = activity["from"]["id"].as_str().unwrap_or("");
        let command = match chat::parse(&text) {
            Ok(c) => c,
            Err(e) => return ChatReply::refused(&e),
        };
        match command {
            Command::Link => return self.teams_link_start(org, from, activity["from"]["name"].as_str().unwrap_or("")),
            // Help works before the account is linked.
            Command::Help => {
                return ChatReply::info(format!(
                    "{}\n*Link your account (once):* `@Plaudit link`",
                    chat::help_text("@Plaudit", &org.currency.name_plural)
                ))
            }
            _ => {}
        }
        let giver = self.store.read(|tx| {
            let Some(id) = tx.chat_identity(&org.id, PROVIDER, from)? else { return Ok(None) };
            Ok(tx.member_by_id(&org.id, &id)?.filter(|m| m.status == Status::Active).map(|m| m.id))
        });
        let giver =
            match giver {
                Ok(Some(g)) => g,
                Ok(None) => return ChatReply::refused(
                    &Error::forbidden(
                        "your Teams account is not linked to Plaudit yet: say `link` to me and open the link I answer",
                    )
                    .with_code("not_linked"),
                ),
                Err(e) => return ChatReply::refused(&e),
            };
        let activity_id = activity["id"].as_str().unwrap_or("");
        let key = if activity_id.is_empty() { plaudit_store::new_id() } else { format!("teams:{activity_id}") };
        let ctx = ChatContext { org_id: &org.id, member_id: &giver, delivery_key: &key, invocation: "@Plaudit" };
        let mut resolve = |m: &Mention| -> Result<String> {
            match m {
                Mention::Id(id) => {
                    let found = self.store.read(|tx| tx.chat_identity(&org.id, PROVIDER, id))?;
                    found.ok_or_else(|| {
                        let name = names
                            .iter()
                            .find(|(i, _)| i == id)
                            .map(|(_, n)| n.as_str())
                            .unwrap_or("someone you mentioned");
                        Error::invalid(
                            "recipients",
                            format!(
                                "{name} has not linked their Teams account to Plaudit yet; they can say `link` to me"
                            ),
                        )
                        .with_code("unknown_user")
                    })
                }
                Mention::Name(n) => self.member_by_chat_name(&org.id, n).map(|m| m.id),
            }
        };
        self.run_chat_command(&ctx, &command, &mut resolve)
    }

    fn teams_link_start(&self, org: &Org, teams_id: &str, name: &str) -> ChatReply {
        if teams_id.is_empty() {
            return ChatReply::refused(&Error::invalid("from", "Teams did not say who you are"));
        }
        let code = random_token();
        let now = now_ms();
        let payload = json!({"teams_id": teams_id, "name": name}).to_string();
        match self.store.write(|tx| {
            tx.insert_integration_state(&token_hash(&code), LINK_PURPOSE, &org.id, None, &payload, now + LINK_TTL_MS, now)
        }) {
            Ok(()) => ChatReply::info(format!(
                "Open this link within 15 minutes, signed in to Plaudit, to link your Teams account: {}/integrations/teams/link?code={code}",
                self.config.public_url
            )),
            Err(e) => ChatReply::refused(&e),
        }
    }

    /// Who a link code would link (for the confirmation page): the Teams
    /// display name, refused already when it is not the caller's.
    pub fn teams_link_preview(&self, caller: &Caller, code: &str) -> Result<String> {
        let state = self.store.read(|tx| tx.peek_integration_state(&token_hash(code), LINK_PURPOSE, now_ms()))?;
        let state = state.filter(|s| s.org_id == caller.org.id).ok_or_else(bad_link)?;
        let payload: Value = serde_json::from_str(&state.payload).unwrap_or_default();
        let name = payload["name"].as_str().unwrap_or("").to_string();
        link_is_for(caller, &name)?;
        Ok(name)
    }

    /// The signed-in member confirms: their Teams account is linked to them.
    pub fn teams_link_confirm(&self, caller: &Caller, code: &str) -> Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            let state = tx.take_integration_state(&token_hash(code), LINK_PURPOSE, now)?;
            let state = state.filter(|s| s.org_id == caller.org.id).ok_or_else(bad_link)?;
            let payload: Value = serde_json::from_str(&state.payload).unwrap_or_default();
            // A refusal rolls the transaction back: the code stays good for its Teams user.
            link_is_for(caller, payload["name"].as_str().unwrap_or(""))?;
            let teams_id = payload["teams_id"].as_str().unwrap_or("");
            tx.save_chat_identity(
                &caller.org.id,
                PROVIDER,
                teams_id,
                &caller.member.id,
                &caller.member.profile.email,
                now,
            )?;
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "teams.account_linked",
                &caller.member.id,
                "{}",
                now,
            )
        })
    }

    /// `POST /integrations/teams/{org}/webhook`: verified with the
    /// organisation's token before the body is parsed. Errors: 401 for an
    /// unknown organisation, one without Teams, or a missing or bad
    /// signature (the same answer, so the endpoint tells nothing), 400 for
    /// a body that is not an activity.
    pub fn teams_webhook(&self, org_slug: &str, authorization: Option<&str>, body: &[u8]) -> Result<ChatReply> {
        // One answer for every refusal, so a caller cannot tell which organisations exist or use Teams.
        let refused = || unauthenticated("signature_invalid", "the request is not signed for this organisation");
        let org = self.store.read(|tx| tx.org_by_slug(org_slug))?.ok_or_else(refused)?;
        let config = self.store.read(|tx| tx.teams_config(&org.id))?.ok_or_else(refused)?;
        let token = self.config.secret_key.open(&token_context(&org.id), &config.token_enc)?;
        verify_signature(&token, authorization, body).map_err(|_| refused())?;
        let activity: Value = serde_json::from_slice(body)
            .map_err(|_| Error::invalid("body", "the body is not a JSON activity").with_code("bad_request"))?;
        if !activity.is_object() {
            return Err(Error::invalid("body", "the body is not a JSON activity").with_code("bad_request"));
        }
        Ok(self.teams_activity(&org, &activity))
    }
}

/// A link code is bound to the Teams user who asked for it: the code is
/// shown to the whole channel, so only the member whose display name is
/// that user's (ignoring letter case and accents) may use it.
fn link_is_for(caller: &Caller, teams_name: &str) -> Result<()> {
    let mine = &caller.member.profile.display_name;
    if !teams_name.trim().is_empty() && fold(teams_name.trim()) == fold(mine.trim()) {
        return Ok(());
    }
    let who = if teams_name.trim().is_empty() { "a Teams user without a name" } else { teams_name.trim() };
    Err(Error::forbidden(format!(
        "This link was asked for by the Teams user “{who}”, and your name in Plaudit is “{}”, so nothing was linked. \
         Only {who} can use it; to link your own Teams account, say `link` to the bot yourself. \
         If this is you, make your display name in Plaudit the same as in Teams first.",
        mine.trim()
    ))
    .with_code("link_not_yours"))
}

fn bad_link() -> Error {
    Error::invalid(
        "code",
        "this link is expired, was already used, or belongs to another organisation; say `link` to the bot again",
    )
    .with_code("link_invalid")
}

/// A Workflows message with one Adaptive Card.
fn card(body: Vec<Value>, url: Option<&str>) -> Value {
    let mut content = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(url) = url {
        content["actions"] = json!([{"type": "Action.OpenUrl", "title": "View in Plaudit", "url": url}]);
    }
    json!({"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": content}]})
}

/// The reply Teams shows under the message.
pub fn reply_body(reply: &ChatReply) -> Value {
    // Teams renders a subset of Markdown: Slack's `<url|label>` becomes `[label](url)`.
    let mut text = reply.text.clone();
    while let (Some(s), Some(bar)) = (text.find("<http"), text.find('|')) {
        let Some(end) = text[s..].find('>').map(|e| s + e) else { break };
        if !(s < bar && bar < end) {
            break;
        }
        let md = format!("[{}]({})", &text[bar + 1..end], &text[s + 1..bar]);
        text.replace_range(s..=end, &md);
    }
    // Slack's `*bold*` is Teams' `**bold**`.
    let text = text.replace(":warning:", "⚠️").replace('*', "**");
    json!({"type": "message", "text": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";
    const BODY: &str = r#"{"type":"message","text":"hello"}"#;
    const AUTH: &str = "HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=";

    #[test]
    fn the_published_vector_verifies() {
        assert_eq!(sign(KEY, BODY.as_bytes()), AUTH);
        verify_signature(KEY, Some(AUTH), BODY.as_bytes()).unwrap();
    }

    #[test]
    fn tampered_bodies_and_headers_fail() {
        let e = verify_signature(KEY, Some(AUTH), br#"{"type":"message","text":"hellO"}"#).unwrap_err();
        assert_eq!(e.code, "signature_invalid");
        assert_eq!(verify_signature(KEY, None, BODY.as_bytes()).unwrap_err().code, "signature_missing");
        assert!(verify_signature(KEY, Some("Bearer x"), BODY.as_bytes()).is_err());
        assert!(verify_signature(KEY, Some("HMAC !!!"), BODY.as_bytes()).is_err());
        assert!(verify_signature("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Some(AUTH), BODY.as_bytes()).is_err());
        let raw = [0xffu8, 0x00, 0xc3];
        assert!(verify_signature(KEY, Some(&sign(KEY, &raw)), &raw).is_ok(), "bytes, not text");
    }

    #[test]
    fn mentions_become_ids_from_the_entities() {
        let activity = json!({
            "text": "<at>Plaudit</at>&nbsp;<at>Ana Lima</at> <at>Li</at> +5 for <b>the</b> fix #teamwork",
            "recipient": {"id": "28:bot"},
            "entities": [
                {"type": "mention", "text": "<at>Plaudit</at>", "mentioned": {"id": "28:bot", "name": "Plaudit"}},
                {"type": "mention", "text": "<at>Li</at>", "mentioned": {"id": "29:li", "name": "Li"}},
                {"type": "mention", "text": "<at>Ana Lima</at>", "mentioned": {"id": "29:ana", "name": "Ana Lima"}},
                {"type": "clientInfo"}
            ]
        });
        let (text, names) = command_text(&activity);
        match chat::parse(&text).unwrap() {
            Command::Give(g) => {
                assert_eq!(g.recipients, vec![Mention::Id("29:ana".into()), Mention::Id("29:li".into())]);
                assert_eq!(g.points, Some(5));
                assert_eq!(g.message, "the  fix #teamwork");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(names[0], ("29:ana".to_string(), "Ana Lima".to_string()));
    }

    #[test]
    fn display_text_without_an_entity_is_not_a_mention() {
        let activity = json!({"text": "<at>Plaudit</at> <at>Ana</at> +5 thanks", "entities": [
            {"type": "mention", "text": "<at>Plaudit</at>", "mentioned": {"id": "28:bot", "name": "Plaudit"}}]});
        let (text, _) = command_text(&activity);
        assert_eq!(chat::parse(&text).unwrap_err().code, "points_without_recipient");
    }

    #[test]
    fn replies_use_markdown_links() {
        let r = ChatReply::info("*done* <http://x/feed|See it>");
        assert_eq!(reply_body(&r)["text"], "**done** [See it](http://x/feed)");
    }
}
