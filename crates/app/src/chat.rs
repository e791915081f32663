//! The one use case behind chat commands (Slack and Teams): a parsed
//! command runs as the member who sent it, through [`App::give`] with an
//! Idempotency-Key derived from the delivery, and comes back as a reply
//! that says what happened or what to fix. Also: announcing a recognition
//! (from any origin) to the organisation's chat channels.

use crate::recognition::{GiveRequest, Posted};
use crate::{now_ms, App, Caller};
use plaudit_domain::chat::{self, Command, Give, Mention};
use plaudit_domain::member::{Member, Status};
use plaudit_domain::org::Org;
use plaudit_domain::recognition::Recognition;
use plaudit_domain::{text, Error, Result};
use plaudit_store::{new_id, MemberFilter};

/// What a chat command answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// For people: Slack mrkdwn, which Teams shows readably too.
    pub text: String,
    pub outcome: Outcome,
    /// The organisation a recognition was posted in (for announcing it).
    pub org_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A recognition was posted (or, `replayed`, had been by an earlier delivery).
    Given { recognition_id: String, replayed: bool },
    /// Refused; `code` is the rule's stable code and `field` what to fix.
    Refused { code: &'static str, field: Option<String> },
    /// Help, balance, a link: nothing was given.
    Info,
}

impl ChatReply {
    pub fn info(text: impl Into<String>) -> ChatReply {
        ChatReply { text: text.into(), outcome: Outcome::Info, org_id: None }
    }

    /// The reply to a refusal: the rule's message and how to fix it.
    pub fn refused(e: &Error) -> ChatReply {
        ChatReply {
            text: refusal_text(e),
            outcome: Outcome::Refused { code: e.code, field: e.field.clone() },
            org_id: None,
        }
    }

    pub fn recognition_id(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Given { recognition_id, .. } => Some(recognition_id),
            _ => None,
        }
    }

    /// A new recognition (not a replay): announce it.
    pub fn fresh_recognition(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Given { recognition_id, replayed: false } => Some(recognition_id),
            _ => None,
        }
    }
}

/// A refusal's message in chat words: the API's terms (an Idempotency-Key)
/// mean nothing to someone who sent the same form twice with other values.
pub fn chat_message(e: &Error) -> String {
    match e.code {
        "idempotency_key_reused" => "this was already sent with other content; send it again as a new one".into(),
        _ => e.message.clone(),
    }
}

/// What a refusal says, with the fix where the rule's own message does not say it.
pub fn refusal_text(e: &Error) -> String {
    let fix = match e.code {
        "no_recipients" | "points_without_recipient" => "Mention the people you recognise first.",
        "too_many_recipients" => "Split them over several recognitions.",
        "unknown_recipient" | "unknown_user" => {
            "Pick them from the mention list so the app gets their id, or check they are in the Plaudit directory."
        }
        "ambiguous_user" => "Pick them from the mention list so the app knows exactly whom you mean.",
        "self_recognition" => "Recognise someone else.",
        "recipient_inactive" | "recipient_may_not_receive" => "Leave them out and send it again.",
        "unknown_value" | "value_archived" => "Use one of the values listed, or leave the tag out.",
        "value_required" => "Add a #value tag, like #teamwork.",
        "insufficient_allowance" => "Give fewer points, or post it with +0 if your organisation allows that.",
        "points_over_maximum" => "Lower the +N.",
        "recipient_monthly_cap" => "Give them fewer points this month.",
        "zero_points_not_allowed" | "missing_points" => "Add points, like +10.",
        "may_not_give" => "Leave the points out (no +N) to post without points.",
        "message_empty" => "Say what they did after the points.",
        "message_too_long" => "Shorten the message.",
        "member_inactive" | "unauthenticated" => "Ask an admin of your organisation to reactivate your account.",
        "not_linked" => "",
        _ => "",
    };
    let text = chat_message(e);
    let mut chars = text.chars();
    let message: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    let mut out = format!(":warning: {message}");
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    if !fix.is_empty() && !message.contains(fix) {
        out.push(' ');
        out.push_str(fix);
    }
    out
}

/// Who sent a command, and how it reached us.
#[derive(Debug, Clone)]
pub struct ChatContext<'a> {
    pub org_id: &'a str,
    pub member_id: &'a str,
    /// Unique per delivery; repeats of one delivery share it.
    pub delivery_key: &'a str,
    /// How the user invokes the app, for help texts: `/plaudit`, `@Plaudit`.
    pub invocation: &'a str,
}

fn unknown(code: &'static str, message: impl Into<String>) -> Error {
    Error::invalid("recipients", message).with_code(code)
}

impl App {
    /// Runs one parsed chat command as the member of `ctx`; `resolve` turns a
    /// mention into a member id (platform specific). Never fails: refusals
    /// become replies.
    pub fn run_chat_command(
        &self,
        ctx: &ChatContext,
        command: &Command,
        resolve: &mut dyn FnMut(&Mention) -> Result<String>,
    ) -> ChatReply {
        let caller = match self.caller_for(ctx.org_id, ctx.member_id) {
            Ok(c) => c,
            Err(_) => {
                return ChatReply::refused(
                    &Error::forbidden("your Plaudit account is not active").with_code("member_inactive"),
                )
            }
        };
        match command {
            Command::Help => ChatReply::info(chat::help_text(ctx.invocation, &caller.org.currency.name_plural)),
            Command::Balance => match self.balance(&caller, &caller.member.id) {
                Ok(b) => {
                    let c = &caller.org.currency;
                    ChatReply::info(format!(
                        "{} You have *{}* of {} {} left to give this month, and you have earned *{}*.",
                        c.emoji, b.remaining, b.total, c.name_plural, b.earned
                    ))
                }
                Err(e) => ChatReply::refused(&e),
            },
            Command::Link => ChatReply::info(
                "Your chat account is matched to Plaudit by your e-mail address; there is nothing to link.",
            ),
            Command::Give(give) => match self.chat_give(&caller, ctx.delivery_key, give, resolve) {
                Ok(posted) => self.given_reply(&caller, &posted),
                Err(e) => ChatReply::refused(&e),
            },
        }
    }

    fn chat_give(
        &self,
        caller: &Caller,
        delivery_key: &str,
        give: &Give,
        resolve: &mut dyn FnMut(&Mention) -> Result<String>,
    ) -> Result<Posted> {
        let points = give.points_or_refuse(caller.org.allow_zero_point_posts)?;
        let mut recipients: Vec<String> = Vec::new();
        for m in &give.recipients {
            let id = resolve(m)?;
            if !recipients.contains(&id) {
                recipients.push(id);
            }
        }
        let values = self.values_of_tags(&caller.org.id, &give.values)?;
        let req = GiveRequest {
            recipients,
            points,
            split_total: None,
            message: give.message.clone(),
            values,
            key_result_id: None,
        };
        self.give(caller, &req, Some(&format!("chat:{delivery_key}")))
    }

    /// Value ids of `#tags`, refusing unknown or archived ones with the list to pick from.
    fn values_of_tags(&self, org_id: &str, tags: &[String]) -> Result<Vec<String>> {
        if tags.is_empty() {
            return Ok(Vec::new());
        }
        let all = self.store.read(|tx| tx.list_values(org_id))?;
        let names = || {
            let active: Vec<String> = all
                .iter()
                .filter(|v| !v.archived)
                .map(|v| format!("#{}", v.name.to_lowercase().replace(' ', "-")))
                .collect();
            if active.is_empty() {
                "this organisation has no values yet".to_string()
            } else {
                format!("the values are {}", active.join(", "))
            }
        };
        let mut ids = Vec::new();
        for tag in tags {
            let found = all.iter().filter(|v| chat::tag_matches(tag, &v.name)).min_by_key(|v| v.archived);
            match found {
                None => {
                    return Err(Error::invalid("values", format!("there is no company value #{tag}; {}", names()))
                        .with_code("unknown_value"))
                }
                Some(v) if v.archived => {
                    return Err(Error::invalid("values", format!("the value #{tag} is archived; {}", names()))
                        .with_code("value_archived"))
                }
                Some(v) => {
                    if !ids.contains(&v.id) {
                        ids.push(v.id.clone());
                    }
                }
            }
        }
        Ok(ids)
    }

    fn given_reply(&self, caller: &Caller, posted: &Posted) -> ChatReply {
        let r = &posted.recognition;
        let names = self.recipient_names(&caller.org.id, r).join(", ");
        let c = &caller.org.currency;
        let unit = if r.points == 1 { &c.name_singular } else { &c.name_plural };
        let mut text = if r.points > 0 {
            format!("{} You recognised {names} with {} {unit} each.", c.emoji, r.points)
        } else {
            format!("{} You recognised {names}.", c.emoji)
        };
        if posted.replayed {
            text.push_str(" (This was already posted; nothing was given twice.)");
        } else if let Ok(b) = self.balance(caller, &caller.member.id) {
            text.push_str(&format!(" You have {} {} left to give this month.", b.remaining, c.name_plural));
        }
        text.push_str(&format!(" <{}/feed|See it in Plaudit>", self.config.public_url));
        ChatReply {
            text,
            outcome: Outcome::Given { recognition_id: r.id.clone(), replayed: posted.replayed },
            org_id: Some(caller.org.id.clone()),
        }
    }

    pub(crate) fn recipient_names(&self, org_id: &str, r: &Recognition) -> Vec<String> {
        self.store
            .read(|tx| {
                let mut out = Vec::new();
                for rec in &r.recipients {
                    if let Some(m) = tx.member_by_id(org_id, &rec.member_id)? {
                        out.push(m.profile.display_name);
                    }
                }
                Ok(out)
            })
            .unwrap_or_default()
    }

    /// A plain `@name` (or `@e-mail`): the one active member whose e-mail,
    /// its local part, display name or first name matches (case and accents
    /// do not count). Several matches are `ambiguous_user`.
    pub fn member_by_chat_name(&self, org_id: &str, name: &str) -> Result<Member> {
        let name = name.trim().trim_start_matches('@');
        self.store.read(|tx| {
            if name.contains('@') {
                return match tx.member_by_email(org_id, name)? {
                    Some(m) if m.status == Status::Active => Ok(m),
                    _ => Err(unknown("unknown_user", format!("no active member has the e-mail {name}"))),
                };
            }
            let key = text::fold(name);
            let squash =
                |s: &str| text::fold(s).chars().filter(|c| !c.is_whitespace() && *c != '.').collect::<String>();
            let filter = MemberFilter { status: Some(Status::Active), ..Default::default() };
            let members = tx.list_members(org_id, &filter, None, 100_000)?;
            let exact: Vec<&Member> = members
                .iter()
                .filter(|m| {
                    let local = m.profile.email.split('@').next().unwrap_or("");
                    text::fold(local) == key
                        || squash(&m.profile.display_name) == squash(name)
                        || (!m.profile.first_name.is_empty() && text::fold(&m.profile.first_name) == key)
                })
                .collect();
            match exact.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(unknown("unknown_user", format!("no one called @{name} is in the Plaudit directory"))),
                many => Err(unknown(
                    "ambiguous_user",
                    format!("{} people match @{name} ({})", many.len(), {
                        let mut v: Vec<&str> = many.iter().map(|m| m.profile.display_name.as_str()).take(5).collect();
                        v.sort();
                        v.join(", ")
                    }),
                )),
            }
        })
    }

    /// Announces what a chat reply posted, if it is new (after the reply is sent).
    pub fn announce_reply(&self, reply: &ChatReply) {
        if let (Some(org_id), Some(id)) = (reply.org_id.as_deref(), reply.fresh_recognition()) {
            match self.announce_recognition(org_id, id) {
                Ok(errors) if !errors.is_empty() => {
                    tracing::warn!(?errors, "a recognition was not announced everywhere")
                }
                Err(e) => tracing::warn!(error = %e, "cannot announce a recognition"),
                Ok(_) => {}
            }
        }
    }

    /// Posts a recognition (made anywhere: web, API, chat) to the
    /// organisation's Slack channel and Teams Workflows URL, where
    /// configured. Hidden or undone posts are not announced. Failures are
    /// recorded as each integration's last error; the answer lists them.
    pub fn announce_recognition(&self, org_id: &str, recognition_id: &str) -> Result<Vec<String>> {
        let (org, r) = self.store.read(|tx| {
            let org = tx.org_by_id(org_id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let r = tx.recognition(org_id, recognition_id)?.ok_or_else(|| Error::not_found("recognition"))?;
            Ok((org, r))
        })?;
        if r.hidden || r.undone {
            return Ok(Vec::new());
        }
        // Chat-made gives announce right after their reply, and every
        // recognition is announced again by its event's job: whichever comes
        // first claims the announcement, so a channel sees each post once.
        let claim = new_id();
        let now = now_ms();
        let won =
            self.store.write(|tx| tx.claim_chat_delivery(org_id, "announce", recognition_id, &claim, now, i64::MIN))?;
        if won != claim {
            return Ok(Vec::new());
        }
        let card = self.announcement(&org, &r)?;
        let mut errors = Vec::new();
        if let Err(e) = self.slack_announce(&org, &card) {
            errors.push(format!("Slack: {e}"));
        }
        if let Err(e) = self.teams_announce(&org, &card) {
            errors.push(format!("Teams: {e}"));
        }
        Ok(errors)
    }

    fn announcement(&self, org: &Org, r: &Recognition) -> Result<Announcement> {
        self.store.read(|tx| {
            let giver = match &r.giver_id {
                Some(id) => tx.member_by_id(&org.id, id)?.map(|m| m.profile.display_name),
                None => None,
            };
            let mut recipients = Vec::new();
            for rec in &r.recipients {
                if let Some(m) = tx.member_by_id(&org.id, &rec.member_id)? {
                    recipients.push((m.id.clone(), m.profile.display_name.clone()));
                }
            }
            let values = tx.list_values(&org.id)?;
            let value_names = r
                .value_ids
                .iter()
                .filter_map(|id| values.iter().find(|v| &v.id == id))
                .map(|v| format!("{} {}", v.emoji, v.name).trim().to_string())
                .collect();
            Ok(Announcement {
                giver: giver.unwrap_or_else(|| org.name.clone()),
                recipients,
                points: r.points,
                message: r.message.clone(),
                values: value_names,
                emoji: org.currency.emoji.clone(),
                unit: if r.points == 1 { org.currency.name_singular.clone() } else { org.currency.name_plural.clone() },
                url: format!("{}/feed", self.config.public_url),
            })
        })
    }
}

/// A recognition as the chat posts show it.
#[derive(Debug, Clone)]
pub(crate) struct Announcement {
    pub giver: String,
    /// (member id, display name)
    pub recipients: Vec<(String, String)>,
    pub points: i64,
    pub message: String,
    pub values: Vec<String>,
    pub emoji: String,
    pub unit: String,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_the_recognition_rules_says_what_to_fix() {
        let codes = [
            ("no_recipients", "Mention the people"),
            ("too_many_recipients", "Split them"),
            ("unknown_recipient", "mention list"),
            ("self_recognition", "someone else"),
            ("recipient_inactive", "Leave them out"),
            ("recipient_may_not_receive", "Leave them out"),
            ("unknown_value", "values listed"),
            ("value_archived", "values listed"),
            ("value_required", "#value"),
            ("insufficient_allowance", "fewer points"),
            ("points_over_maximum", "Lower the +N"),
            ("recipient_monthly_cap", "fewer points this month"),
            ("zero_points_not_allowed", "Add points"),
            ("may_not_give", "no +N"),
            ("message_empty", "Say what they did"),
            ("message_too_long", "Shorten"),
            ("member_inactive", "reactivate"),
        ];
        for (code, fix) in codes {
            let text = refusal_text(&Error::invalid("points", "the rule said no").with_code(code));
            assert!(text.starts_with(":warning: The rule said no. "), "{code}: {text}");
            assert!(text.contains(fix), "{code}: {text}");
        }
        // A message that already says the fix is not repeated.
        let e = Error::invalid("values", "pick one. Add a #value tag, like #teamwork.").with_code("value_required");
        assert_eq!(refusal_text(&e), ":warning: Pick one. Add a #value tag, like #teamwork.");
        // API terms stay out of chat.
        let e = Error::invalid("Idempotency-Key", "this Idempotency-Key was used for a different request")
            .with_code("idempotency_key_reused");
        assert!(!refusal_text(&e).contains("Idempotency"), "{}", refusal_text(&e));
    }
}
