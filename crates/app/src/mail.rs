//! E-mail over SMTP. Every mail is a queued `email.send` job, written in a
//! transaction and sent by the job runner (retried with back-off when the
//! server is unavailable), so a slow mail server never holds up a request
//! and nothing is lost. Mails are rendered when queued: the job holds the
//! finished text and HTML.
//!
//! Sent: "you were recognised" (on `recognition.created`), redemption
//! fulfilled/declined (on `redemption.updated`), password-reset links, and
//! two weekly mails queued by [`App::schedule_periodic_mail_at`]: the
//! managers' digest of unrecognised reports and check-in reminders for key
//! results. Members opt out per kind; each mail but the reset link carries
//! a signed one-click unsubscribe link. Without `PLAUDIT_SMTP_URL` nothing
//! is queued.

use crate::auth::{hash_password, random_token, token_hash, validate_password};
use crate::jobs::Outcome;
use crate::{audit_details, now_ms, App, Caller};
use plaudit_domain::events::{Event, EventKind};
use plaudit_domain::mail::{escape_html, local_date, local_time, weekly_due, MailKind, SmtpSettings};
use plaudit_domain::member::{Member, Status};
use plaudit_domain::org::Org;
use plaudit_domain::recognition::Kind;
use plaudit_domain::rewards::RedemptionStatus;
use plaudit_domain::{email, Error, ErrorKind, Result};
use plaudit_store::{Job, MailQueueStatus, Tx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The job kind of one mail to send.
pub const EMAIL_JOB: &str = "email.send";

/// How long a password-reset link works.
pub const RESET_TTL_MS: i64 = 3600 * 1000;
/// Reset links a member may ask for per hour; more are silently not sent.
const RESETS_PER_HOUR: i64 = 3;
/// The digest lists reports nobody recognised for this long.
pub const UNRECOGNISED_DAYS: i64 = 30;
/// Reminders name key results without a check-in for this long.
pub const STALE_CHECK_IN_DAYS: i64 = 7;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// An SMTP conversation that takes longer is abandoned (and retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
const UNSUBSCRIBE: &str = "unsubscribe";

/// A mail as queued: rendered, addressed, ready for the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub kind: MailKind,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe link (every kind but password resets).
    pub unsubscribe_url: Option<String>,
    /// The local part of the Message-ID, fixed when queued.
    pub message_id: String,
}

/// The operator's mail settings (`PLAUDIT_SMTP_URL`, `PLAUDIT_SMTP_FROM`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// None: no mail is sent.
    pub smtp: Option<SmtpSettings>,
    /// The sender, e.g. `Plaudit <plaudit@localhost>`.
    pub from: String,
}

pub const DEFAULT_FROM: &str = "Plaudit <plaudit@localhost>";

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig { smtp: None, from: DEFAULT_FROM.to_string() }
    }
}

impl MailConfig {
    /// From the configured URL and sender (both optional).
    pub fn from_settings(url: Option<&str>, from: Option<&str>) -> Result<MailConfig> {
        let smtp = url.map(str::trim).filter(|u| !u.is_empty()).map(SmtpSettings::parse).transpose()?;
        let from = from.map(str::trim).filter(|f| !f.is_empty()).unwrap_or(DEFAULT_FROM).to_string();
        from.parse::<lettre::message::Mailbox>()
            .map_err(|e| Error::invalid("smtp_from", format!("PLAUDIT_SMTP_FROM '{from}' is not a mailbox: {e}")))?;
        Ok(MailConfig { smtp, from })
    }
}

/// What the admin page shows.
#[derive(Debug, Clone)]
pub struct MailStatus {
    pub smtp: Option<SmtpSettings>,
    pub from: String,
    pub queue: MailQueueStatus,
}

/// Whom an unsubscribe link is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeTarget {
    pub org_name: String,
    pub email: String,
    pub kind: MailKind,
}

/// A member's choices: every optional kind, on or off.
pub type MailPreferences = BTreeMap<&'static str, bool>;

// ---------------------------------------------------------------- rendering

/// The parts a mail is made of; text and HTML are rendered from the same blocks.
enum Block {
    Para(String),
    Quote(String),
    List(Vec<String>),
    Button { label: String, url: String },
}

/// `footer` is plain text; `settings`, when given, is linked after it.
fn render(
    org: &Org,
    blocks: &[Block],
    footer: &str,
    settings: Option<&str>,
    unsubscribe: Option<&str>,
) -> (String, String) {
    let mut text = String::new();
    let mut html =
        String::from("<!DOCTYPE html><html><body style=\"font-family: sans-serif; line-height: 1.5; color: #1f2430\">");
    for b in blocks {
        match b {
            Block::Para(p) => {
                text.push_str(p);
                text.push_str("\n\n");
                html.push_str(&format!("<p>{}</p>", escape_html(p)));
            }
            Block::Quote(q) => {
                for line in q.lines() {
                    text.push_str("> ");
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
                let lines: Vec<String> = q.lines().map(escape_html).collect();
                html.push_str(&format!(
                    "<blockquote style=\"border-left: 3px solid #ccc; margin: 0; padding-left: 1em\">{}</blockquote>",
                    lines.join("<br>")
                ));
            }
            Block::List(items) => {
                html.push_str("<ul>");
                for i in items {
                    text.push_str(&format!("- {i}\n"));
                    html.push_str(&format!("<li>{}</li>", escape_html(i)));
                }
                text.push('\n');
                html.push_str("</ul>");
            }
            Block::Button { label, url } => {
                text.push_str(&format!("{label}: {url}\n\n"));
                html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape_html(url), escape_html(label)));
            }
        }
    }
    text.push_str("-- \n");
    text.push_str(&format!("Plaudit for {}. {footer}", org.name));
    html.push_str(&format!(
        "<hr><p style=\"font-size: 0.85em; color: #555\">Plaudit for {}. {}",
        escape_html(&org.name),
        escape_html(footer)
    ));
    if let Some(s) = settings {
        text.push_str(&format!(": {s}"));
        html.push_str(&format!(": <a href=\"{}\">{}</a>", escape_html(s), escape_html(s)));
    }
    text.push('\n');
    if let Some(u) = unsubscribe {
        text.push_str(&format!("Unsubscribe from these mails: {u}\n"));
        html.push_str(&format!(" <a href=\"{}\">Unsubscribe from these mails</a>.", escape_html(u)));
    }
    html.push_str("</p></body></html>");
    (text, html)
}

fn points_text(org: &Org, points: i64) -> String {
    let name = if points == 1 { &org.currency.name_singular } else { &org.currency.name_plural };
    format!("{points} {} {name}", org.currency.emoji)
}

impl App {
    pub fn mail_configured(&self) -> bool {
        self.config.mail.smtp.is_some()
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url.trim_end_matches('/'))
    }

    fn unsubscribe_url(&self, org_id: &str, member_id: &str, kind: MailKind) -> String {
        let message = format!("{org_id}.{member_id}.{}", kind.as_str());
        let signature = self.config.secret_key.sign(UNSUBSCRIBE, &message);
        self.link(&format!("/unsubscribe/{message}.{signature}"))
    }

    /// A mail of an optional `kind` to `member`, unless they opted out or are inactive.
    fn compose(&self, org: &Org, member: &Member, kind: MailKind, subject: String, blocks: &[Block]) -> OutgoingMail {
        let unsubscribe = kind.optional().then(|| self.unsubscribe_url(&org.id, &member.id, kind));
        let settings = self.link("/settings/notifications");
        let (footer, settings) = if kind.optional() {
            ("You get this mail because of your notification settings", Some(settings.as_str()))
        } else {
            ("You get this mail because someone asked for it with your address.", None)
        };
        let (text, html) = render(org, blocks, footer, settings, unsubscribe.as_deref());
        OutgoingMail {
            kind,
            to: member.profile.email.clone(),
            to_name: member.profile.display_name.clone(),
            subject,
            text,
            html,
            unsubscribe_url: unsubscribe,
            message_id: plaudit_store::new_id(),
        }
    }

    /// Queues `mail` (at most once per `dedupe` key); false when it was queued before.
    fn queue_mail(tx: &mut Tx, org_id: &str, mail: &OutgoingMail, dedupe: Option<&str>, now: i64) -> Result<bool> {
        let payload = serde_json::to_string(mail).map_err(|e| Error::internal(e.to_string()))?;
        Ok(tx.enqueue_job(org_id, EMAIL_JOB, &payload, dedupe, now, now)?.is_some())
    }
}

/// Whether `member` wants mails of `kind` (and may get any at all).
fn wants(tx: &mut Tx, member: &Member, kind: MailKind) -> Result<bool> {
    if member.status != Status::Active {
        return Ok(false);
    }
    if !kind.optional() {
        return Ok(true);
    }
    let prefs = tx.mail_preferences(&member.org_id, &member.id)?;
    Ok(prefs.iter().find(|(k, _)| k == kind.as_str()).is_none_or(|(_, on)| *on))
}

// ---------------------------------------------------------------- events

impl App {
    /// The mails an event causes, queued in one transaction.
    pub(crate) fn mail_on_event(&self, event: &Event) -> Result<()> {
        if !self.mail_configured() {
            return Ok(());
        }
        match event.kind {
            EventKind::RecognitionCreated => self.queue_recognition_mails(event),
            EventKind::RedemptionUpdated => self.queue_redemption_mail(event),
            _ => Ok(()),
        }
    }

    fn queue_recognition_mails(&self, event: &Event) -> Result<()> {
        let Some(id) = event.data["id"].as_str() else { return Ok(()) };
        self.store.write(|tx| {
            let Some(org) = tx.org_by_id(&event.org_id)? else { return Ok(()) };
            let Some(post) = tx.recognition(&org.id, id)? else { return Ok(()) };
            if post.hidden || post.undone {
                return Ok(());
            }
            let giver = match &post.giver_id {
                Some(g) => tx.member_by_id(&org.id, g)?,
                None => None,
            };
            // Who is named: the giver, else the organisation (awards from the budget, celebrations).
            let (giver_name, verb) = match (&giver, post.kind) {
                (Some(g), _) => (g.profile.display_name.clone(), "recognised"),
                (None, Kind::Celebration) => (org.name.clone(), "celebrates"),
                (None, _) => (org.name.clone(), "recognised"),
            };
            let mut values = Vec::new();
            for v in &post.value_ids {
                if let Some(v) = tx.value_by_id(&org.id, v)? {
                    values.push(format!("{} {}", v.emoji, v.name).trim().to_string());
                }
            }
            let when = local_time(post.created_at, &org.timezone)?;
            for r in &post.recipients {
                let Some(member) = tx.member_by_id(&org.id, &r.member_id)? else { continue };
                if !wants(tx, &member, MailKind::Recognition)? {
                    continue;
                }
                let mut blocks = vec![Block::Para(format!(
                    "{giver_name} {verb} you with {} on {when}:",
                    points_text(&org, r.points)
                ))];
                if !post.message.trim().is_empty() {
                    blocks.push(Block::Quote(post.message.clone()));
                }
                if !values.is_empty() {
                    blocks.push(Block::Para(format!("Values: {}", values.join(", "))));
                }
                blocks.push(Block::Button {
                    label: "See the post".into(),
                    url: self.link(&format!("/feed#post-{}", post.id)),
                });
                let subject = format!("{giver_name} {verb} you");
                let mail = self.compose(&org, &member, MailKind::Recognition, subject, &blocks);
                let dedupe = format!("recognition:{}:{}", post.id, member.id);
                App::queue_mail(tx, &org.id, &mail, Some(&dedupe), event.occurred_at)?;
            }
            Ok(())
        })
    }

    fn queue_redemption_mail(&self, event: &Event) -> Result<()> {
        let Some(id) = event.data["id"].as_str() else { return Ok(()) };
        self.store.write(|tx| {
            let Some(org) = tx.org_by_id(&event.org_id)? else { return Ok(()) };
            let Some(r) = tx.redemption_by_id(&org.id, id)? else { return Ok(()) };
            // The event's status, not today's: each change is told once.
            let status = event.data["status"].as_str().unwrap_or("");
            if status != RedemptionStatus::Fulfilled.as_str() && status != RedemptionStatus::Declined.as_str() {
                return Ok(());
            }
            let Some(member) = tx.member_by_id(&org.id, &r.member_id)? else { return Ok(()) };
            if !wants(tx, &member, MailKind::Redemption)? {
                return Ok(());
            }
            let reward = tx.reward_by_id(&org.id, &r.reward_id)?.map(|w| w.name).unwrap_or_else(|| "a reward".into());
            let when = local_time(event.occurred_at, &org.timezone)?;
            let link = Block::Button { label: "Your redemptions".into(), url: self.link("/redemptions") };
            let (subject, blocks) = if status == "fulfilled" {
                (
                    format!("Your {reward} is ready"),
                    vec![
                        Block::Para(format!(
                            "Your redemption of {reward} ({}) was fulfilled on {when}.",
                            points_text(&org, r.points)
                        )),
                        // Codes stay out of mail: sign in to see them.
                        Block::Para("Any code or details are on your redemptions page once you sign in.".into()),
                        link,
                    ],
                )
            } else {
                let mut blocks = vec![Block::Para(format!("Your redemption of {reward} was declined on {when}."))];
                if let Some(reason) = r.reason.as_deref().filter(|s| !s.trim().is_empty()) {
                    blocks.push(Block::Para("The reason given:".into()));
                    blocks.push(Block::Quote(reason.to_string()));
                }
                blocks.push(Block::Para(format!("{} went back to your balance.", points_text(&org, r.points))));
                blocks.push(link);
                (format!("Your redemption of {reward} was declined"), blocks)
            };
            let mail = self.compose(&org, &member, MailKind::Redemption, subject, &blocks);
            App::queue_mail(tx, &org.id, &mail, Some(&format!("redemption:{}", event.id)), event.occurred_at)?;
            Ok(())
        })
    }
}

// ---------------------------------------------------------------- weekly mails

impl App {
    /// Queues the weekly mails that are due now (see [`App::schedule_periodic_mail_at`]).
    pub fn schedule_periodic_mail(&self) -> Result<usize> {
        self.schedule_periodic_mail_at(now_ms())
    }

    /// From Monday 09:00 in each organisation's time zone, queues that
    /// week's managers' digests and check-in reminders, once: a mark per
    /// org and week is written in the transaction that queues them, so
    /// several instances (or a restart) never send a week twice. Returns
    /// how many mails were queued.
    pub fn schedule_periodic_mail_at(&self, now: i64) -> Result<usize> {
        if !self.mail_configured() {
            return Ok(0);
        }
        let orgs = self.store.read(|tx| tx.list_orgs())?;
        let mut queued = 0;
        for org in orgs {
            let week = match weekly_due(now, &org.timezone) {
                Ok(Some(week)) => week,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(org = %org.id, error = %e.message, "no weekly mail: the time zone is not known");
                    continue;
                }
            };
            let digest_mark = format!("digest:{week}");
            let reminder_mark = format!("check_in_reminder:{week}");
            // Most minutes of a week find both marks: a read, no write.
            let done = self.store.read(|tx| {
                Ok(tx.has_mail_mark(&org.id, &digest_mark)? && tx.has_mail_mark(&org.id, &reminder_mark)?)
            })?;
            if done {
                continue;
            }
            queued += self.store.write(|tx| {
                let mut n = 0;
                if tx.claim_mail_mark(&org.id, &digest_mark, now)? {
                    n += self.queue_digests(tx, &org, &week, now)?;
                }
                if tx.claim_mail_mark(&org.id, &reminder_mark, now)? {
                    n += self.queue_check_in_reminders(tx, &org, &week, now)?;
                }
                Ok(n)
            })?;
        }
        Ok(queued)
    }

    fn queue_digests(&self, tx: &mut Tx, org: &Org, week: &str, now: i64) -> Result<usize> {
        let since = now - UNRECOGNISED_DAYS * DAY_MS;
        let mut by_manager: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in tx.report_recognitions(&org.id)? {
            if r.last_recognised_at.is_some_and(|at| at >= since) {
                continue;
            }
            let line = match r.last_recognised_at {
                Some(at) => format!("{} (last recognised {})", r.display_name, local_date(at, &org.timezone)?),
                None => format!("{} (not recognised yet)", r.display_name),
            };
            by_manager.entry(r.manager_id).or_default().push(line);
        }
        let mut n = 0;
        for (manager_id, lines) in by_manager {
            let Some(manager) = tx.member_by_id(&org.id, &manager_id)? else { continue };
            if !wants(tx, &manager, MailKind::Digest)? {
                continue;
            }
            let count = lines.len();
            let who = if count == 1 { "person in your team was" } else { "people in your team were" };
            let blocks = vec![
                Block::Para(format!("{count} {who} not recognised in the last {UNRECOGNISED_DAYS} days:")),
                Block::List(lines),
                Block::Para("A few words about good work go a long way.".into()),
                Block::Button { label: "Give recognition".into(), url: self.link("/give") },
            ];
            let subject = format!("{count} of your team not recognised in {UNRECOGNISED_DAYS} days");
            let mail = self.compose(org, &manager, MailKind::Digest, subject, &blocks);
            if App::queue_mail(tx, &org.id, &mail, Some(&format!("digest:{week}:{}", manager.id)), now)? {
                n += 1;
            }
        }
        Ok(n)
    }

    fn queue_check_in_reminders(&self, tx: &mut Tx, org: &Org, week: &str, now: i64) -> Result<usize> {
        let stale_before = now - STALE_CHECK_IN_DAYS * DAY_MS;
        let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for k in tx.active_key_result_activity(&org.id)? {
            if k.last_activity_at >= stale_before {
                continue;
            }
            let line = format!(
                "{} ({}), last update {}",
                k.title,
                k.objective_title,
                local_date(k.last_activity_at, &org.timezone)?
            );
            by_owner.entry(k.owner_id).or_default().push(line);
        }
        let mut n = 0;
        for (owner_id, lines) in by_owner {
            let Some(owner) = tx.member_by_id(&org.id, &owner_id)? else { continue };
            if !wants(tx, &owner, MailKind::CheckInReminder)? {
                continue;
            }
            let count = lines.len();
            let what = if count == 1 { "key result has" } else { "key results have" };
            let blocks = vec![
                Block::Para(format!("{count} of your {what} had no check-in for {STALE_CHECK_IN_DAYS} days:")),
                Block::List(lines),
                Block::Button { label: "Check in".into(), url: self.link("/okrs") },
            ];
            let subject = if count == 1 {
                "1 key result needs a check-in".to_string()
            } else {
                format!("{count} key results need a check-in")
            };
            let mail = self.compose(org, &owner, MailKind::CheckInReminder, subject, &blocks);
            if App::queue_mail(tx, &org.id, &mail, Some(&format!("check_in_reminder:{week}:{}", owner.id)), now)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------- preferences and unsubscribing

impl App {
    pub fn mail_preferences(&self, caller: &Caller) -> Result<MailPreferences> {
        let chosen = self.store.read(|tx| tx.mail_preferences(&caller.org.id, &caller.member.id))?;
        Ok(MailKind::OPTIONAL
            .into_iter()
            .map(|k| (k.as_str(), chosen.iter().find(|(c, _)| c == k.as_str()).is_none_or(|(_, on)| *on)))
            .collect())
    }

    /// Turns kinds on or off; a kind that is not optional or not known is refused.
    pub fn set_mail_preferences(&self, caller: &Caller, changes: &[(String, bool)]) -> Result<MailPreferences> {
        let mut kinds = Vec::new();
        for (name, on) in changes {
            match MailKind::parse(name) {
                Some(k) if k.optional() => kinds.push((k, *on)),
                Some(_) => return Err(Error::invalid(name, "password-reset mails cannot be turned off")),
                None => return Err(Error::invalid(name, format!("'{name}' is not a kind of mail"))),
            }
        }
        let now = now_ms();
        self.store.write(|tx| {
            for (k, on) in &kinds {
                tx.set_mail_preference(&caller.org.id, &caller.member.id, k.as_str(), *on, now)?;
            }
            Ok(())
        })?;
        self.mail_preferences(caller)
    }

    fn unsubscribe_target(&self, token: &str) -> Result<(String, String, MailKind)> {
        let invalid =
            || Error::new(ErrorKind::NotFound, "unsubscribe_link_invalid", "this unsubscribe link is not valid");
        let (message, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
        if !self.config.secret_key.verify(UNSUBSCRIBE, message, signature) {
            return Err(invalid());
        }
        let mut parts = message.splitn(3, '.');
        let (Some(org), Some(member), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let kind = MailKind::parse(kind).filter(|k| k.optional()).ok_or_else(invalid)?;
        Ok((org.to_string(), member.to_string(), kind))
    }

    /// Who an unsubscribe link is for (the confirmation page).
    pub fn unsubscribe_info(&self, token: &str) -> Result<UnsubscribeTarget> {
        let (org_id, member_id, kind) = self.unsubscribe_target(token)?;
        self.store.read(|tx| {
            let org = tx.org_by_id(&org_id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let member = tx.member_by_id(&org_id, &member_id)?.ok_or_else(|| Error::not_found("member"))?;
            Ok(UnsubscribeTarget { org_name: org.name, email: member.profile.email, kind })
        })
    }

    /// Follows an unsubscribe link: that kind, and only that kind, stops.
    pub fn unsubscribe(&self, token: &str) -> Result<UnsubscribeTarget> {
        let (org_id, member_id, kind) = self.unsubscribe_target(token)?;
        let target = self.unsubscribe_info(token)?;
        self.store.write(|tx| tx.set_mail_preference(&org_id, &member_id, kind.as_str(), false, now_ms()))?;
        Ok(target)
    }
}

// ---------------------------------------------------------------- password reset

impl App {
    /// "Forgot password?": mails a single-use link to the member, if there is
    /// an active one with this address. The answer is the same whether or
    /// not there is (no account enumeration); more than a few requests an
    /// hour for one member send nothing more.
    pub fn request_password_reset(&self, org_slug: &str, email_address: &str) -> Result<()> {
        self.request_password_reset_at(org_slug, email_address, now_ms())
    }

    pub fn request_password_reset_at(&self, org_slug: &str, email_address: &str, now: i64) -> Result<()> {
        if !self.mail_configured() {
            return Err(mail_not_configured());
        }
        if email::validate("email", email_address).is_err() {
            return Ok(());
        }
        let token = random_token();
        let hash = token_hash(&token);
        self.store.write(|tx| {
            let Some(org) = tx.org_by_slug(org_slug.trim().to_lowercase().as_str())? else { return Ok(()) };
            let Some(member) = tx.member_by_email(&org.id, email_address)? else { return Ok(()) };
            if member.status != Status::Active {
                return Ok(());
            }
            if tx.count_password_resets_since(&org.id, &member.id, now - 3600 * 1000)? >= RESETS_PER_HOUR {
                tracing::info!(org = %org.id, member = %member.id, "password reset rate limited");
                return Ok(());
            }
            let expires_at = now + RESET_TTL_MS;
            tx.insert_password_reset(&hash, &org.id, &member.id, now, expires_at)?;
            let blocks = vec![
                Block::Para(format!(
                    "Someone, hopefully you, asked to reset the Plaudit password of {} in {}.",
                    member.profile.email, org.name
                )),
                Block::Button {
                    label: "Choose a new password".into(),
                    url: self.link(&format!("/reset-password?token={token}")),
                },
                Block::Para(format!(
                    "The link works once, until {}. If you did not ask for it, ignore this mail: your password stays as it is.",
                    local_time(expires_at, &org.timezone)?
                )),
            ];
            let subject = format!("Reset your Plaudit password for {}", org.name);
            let mail = self.compose(&org, &member, MailKind::PasswordReset, subject, &blocks);
            App::queue_mail(tx, &org.id, &mail, None, now)?;
            Ok(())
        })
    }

    /// Whether a reset link still works (the set-new-password page).
    pub fn password_reset_usable(&self, token: &str) -> Result<bool> {
        let hash = token_hash(token);
        Ok(self.store.read(|tx| tx.password_reset(&hash, now_ms()))?.is_some())
    }

    /// Sets a new password with a reset link: the link is used up, every
    /// other open link of the member too, and all their sessions end.
    pub fn reset_password(&self, token: &str, password: &str) -> Result<()> {
        self.reset_password_at(token, password, now_ms())
    }

    pub fn reset_password_at(&self, token: &str, password: &str, now: i64) -> Result<()> {
        let hash = token_hash(token);
        // Refuse a dead link before the (slow) hashing.
        let Some(_) = self.store.read(|tx| tx.password_reset(&hash, now))? else {
            return Err(reset_token_invalid());
        };
        validate_password(password)?;
        let password_hash = hash_password(password)?;
        self.store.write(|tx| {
            let Some((org_id, member_id)) = tx.password_reset(&hash, now)? else {
                return Err(reset_token_invalid());
            };
            let member = tx.member_by_id(&org_id, &member_id)?.ok_or_else(reset_token_invalid)?;
            if member.status != Status::Active || !tx.use_password_reset(&hash, now)? {
                return Err(reset_token_invalid());
            }
            tx.expire_password_resets(&org_id, &member_id, now)?;
            tx.set_password_hash(&org_id, &member_id, &password_hash, now)?;
            tx.delete_member_sessions(&org_id, &member_id)?;
            tx.insert_audit(&org_id, Some(&member_id), "member.password_reset", &member_id, "{}", now)
        })
    }
}

fn reset_token_invalid() -> Error {
    Error::new(
        ErrorKind::Validation,
        "reset_token_invalid",
        "this password-reset link has expired or was used already; ask for a new one",
    )
    .on_field("token")
}

fn mail_not_configured() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "mail_not_configured",
        "this server does not send e-mail; ask an admin of your organisation to set a new password for you",
    )
}

// ---------------------------------------------------------------- admin and sending

impl App {
    /// The admin page: SMTP settings (never the password) and the queue.
    pub fn mail_status(&self, caller: &Caller) -> Result<MailStatus> {
        caller.require_admin()?;
        let queue = self.store.read(|tx| tx.mail_queue_status(&caller.org.id, EMAIL_JOB))?;
        Ok(MailStatus { smtp: self.config.mail.smtp.clone(), from: self.config.mail.from.clone(), queue })
    }

    /// Sends a test mail to the admin at once (not queued: the admin waits
    /// for the answer) and records it in the audit log.
    pub fn send_test_mail(&self, caller: &Caller) -> Result<String> {
        caller.require_admin()?;
        if !self.mail_configured() {
            return Err(mail_not_configured());
        }
        let blocks = vec![Block::Para(format!(
            "This is a test mail from Plaudit for {}, sent by {}. E-mail works.",
            caller.org.name, caller.member.profile.display_name
        ))];
        let footer = "You get this mail because you asked for a test on the e-mail settings page.";
        let (text, html) = render(&caller.org, &blocks, footer, None, None);
        let mail = OutgoingMail {
            // Like a reset link: asked for by the recipient, so no unsubscribe link.
            kind: MailKind::PasswordReset,
            to: caller.member.profile.email.clone(),
            to_name: caller.member.profile.display_name.clone(),
            subject: "Plaudit test mail".into(),
            text,
            html,
            unsubscribe_url: None,
            message_id: plaudit_store::new_id(),
        };
        let sent = self.send_mail(&mail);
        let details = audit_details(serde_json::json!({"to": mail.to, "ok": sent.is_ok()}));
        self.store.write(|tx| {
            tx.insert_audit(
                &caller.org.id,
                Some(&caller.member.id),
                "email.test_sent",
                &caller.member.id,
                &details,
                now_ms(),
            )
        })?;
        sent.map(|()| mail.to.clone()).map_err(|e| {
            Error::new(ErrorKind::Unavailable, "smtp_failed", format!("the mail server refused the test mail: {}", e.0))
        })
    }

    /// Runs an `email.send` job.
    pub(crate) fn run_mail_job(&self, job: &Job) -> Outcome {
        let mail: OutgoingMail = match serde_json::from_str(&job.payload) {
            Ok(m) => m,
            Err(e) => return Outcome::Failed(format!("unreadable mail: {e}")),
        };
        match self.send_mail(&mail) {
            Ok(()) => Outcome::Done,
            Err(SendError(e, true)) => Outcome::Failed(e),
            Err(SendError(e, false)) => Outcome::Retry { error: e, after_ms: None },
        }
    }

    fn send_mail(&self, mail: &OutgoingMail) -> std::result::Result<(), SendError> {
        use lettre::Transport;
        let Some(smtp) = &self.config.mail.smtp else {
            return Err(SendError("no SMTP server is configured".into(), false));
        };
        let message = build_message(&self.config.mail.from, mail)?;
        self.mailer.transport(smtp)?.send(&message).map(|_| ()).map_err(|e| {
            // 5xx answers are permanent (bad address); anything else may pass later.
            SendError(format!("{}:{}: {e}", smtp.host, smtp.port), e.is_permanent())
        })
    }
}

/// The SMTP client, made once per App from the configured URL: its pool
/// keeps a few connections open, so a burst of mails (the Monday digests)
/// does not pay a new connection and greeting for each.
#[derive(Clone, Default)]
pub struct Mailer(Arc<OnceLock<std::result::Result<lettre::SmtpTransport, String>>>);

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    fn transport(&self, smtp: &SmtpSettings) -> std::result::Result<&lettre::SmtpTransport, SendError> {
        use lettre::transport::smtp::PoolConfig;
        let made = self.0.get_or_init(|| {
            lettre::SmtpTransport::from_url(&smtp.url)
                .map(|b| {
                    b.timeout(Some(SMTP_TIMEOUT))
                        .pool_config(PoolConfig::new().max_size(4).idle_timeout(Duration::from_secs(30)))
                        .build()
                })
                .map_err(|e| format!("bad SMTP URL: {e}"))
        });
        made.as_ref().map_err(|e| SendError(e.clone(), true))
    }
}

/// Why a mail was not sent, and whether trying again is pointless.
#[derive(Debug)]
struct SendError(String, bool);

/// A header lettre has no type for: `$name` with the text the value holds.
macro_rules! text_header {
    ($ty:ident, $name:literal) => {
        #[derive(Clone)]
        struct $ty(String);

        impl lettre::message::header::Header for $ty {
            fn name() -> lettre::message::header::HeaderName {
                lettre::message::header::HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty(s.to_string()))
            }
            fn display(&self) -> lettre::message::header::HeaderValue {
                lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(ListUnsubscribe, "List-Unsubscribe");
// RFC 8058: mail clients may unsubscribe with one POST, no page shown.
text_header!(ListUnsubscribePost, "List-Unsubscribe-Post");
// RFC 3834: no out-of-office answers to machine mail.
text_header!(AutoSubmitted, "Auto-Submitted");

fn build_message(from: &str, mail: &OutgoingMail) -> std::result::Result<lettre::Message, SendError> {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
    let permanent = |e: String| SendError(e, true);
    let from: Mailbox = from.parse().map_err(|e| permanent(format!("bad sender: {e}")))?;
    let address = mail.to.parse().map_err(|e| permanent(format!("bad recipient {}: {e}", mail.to)))?;
    let name = Some(plaudit_domain::text::one_line(&mail.to_name)).filter(|n| !n.trim().is_empty());
    // The same id on every try, so a server that got a mail whose answer was lost can drop the copy.
    let message_id = format!("<{}@{}>", mail.message_id, from.email.domain());
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(Mailbox::new(name, address))
        .subject(plaudit_domain::text::one_line(&mail.subject))
        .message_id(Some(message_id))
        .header(AutoSubmitted("auto-generated".into()));
    if let Some(url) = &mail.unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(format!("<{url}>")))
            .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
    }
    // Base64 keeps long lines and any script intact through every relay.
    let part = |ct: ContentType, body: &str| -> std::result::Result<SinglePart, SendError> {
        let body = Body::new_with_encoding(body.to_string(), ContentTransferEncoding::Base64)
            .map_err(|_| permanent("cannot encode the body".into()))?;
        Ok(SinglePart::builder().header(ct).body(body))
    };
    let alternative = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, &mail.text)?)
        .singlepart(part(ContentType::TEXT_HTML, &mail.html)?);
    builder.multipart(alternative).map_err(|e| permanent(format!("cannot build the mail: {e}")))
}
