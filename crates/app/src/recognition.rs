//! Giving recognition, company awards, add-ons, undo and moderation, and
//! the balances they move. Every point movement is one transaction that
//! writes ledger entries and updates the cached balances conditionally.

use crate::auth::{token_hash, Caller};
use crate::events::*;
use crate::{audit_details, now_ms, App};
use plaudit_domain::events::EventKind;
use plaudit_domain::member::{Member, Status};
use plaudit_domain::org::Org;
use plaudit_domain::period::{month_of, Month};
use plaudit_domain::points::split_pot;
use plaudit_domain::recognition::{
    account, entry, validate_message, Kind, Recipient, Recognition, MAX_MESSAGE_CHARS, MAX_RECIPIENTS, UNDO_WINDOW_MS,
};
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::{new_id, Allowance, LedgerEntry, Tx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /api/v1/recognitions` and the web form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiveRequest {
    /// Member ids or e-mail addresses.
    pub recipients: Vec<String>,
    /// Points for each recipient (ignored when `split_total` is set).
    #[serde(default)]
    pub points: i64,
    /// "Split a pot": this many points in all, divided among the recipients.
    #[serde(default)]
    pub split_total: Option<i64>,
    pub message: String,
    /// Value ids or names.
    #[serde(default)]
    pub values: Vec<String>,
    /// The key result this recognition is for, if any.
    #[serde(default)]
    pub key_result_id: Option<String>,
}

/// `POST /api/v1/awards`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    pub recipients: Vec<String>,
    pub points: i64,
    pub message: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A member's two balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub period: String,
    pub total: i64,
    pub remaining: i64,
    /// UTC milliseconds of the next reset (local midnight on the 1st).
    pub resets_at: i64,
    pub earned: i64,
}

/// What a POST with an Idempotency-Key gave: the post, and whether this
/// answer is a replay of an earlier request.
#[derive(Debug, Clone)]
pub struct Posted {
    pub recognition: Recognition,
    pub replayed: bool,
}

fn refusal(code: &'static str, field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field, message).with_code(code)
}

/// The allowance a member gets in a fresh month.
pub fn monthly_allowance(org: &Org, m: &Member) -> i64 {
    m.allowance_override.unwrap_or(org.default_allowance)
}

fn month_now(org: &Org, now: i64) -> Result<Month> {
    month_of(now, &org.timezone)
}

fn resets_on(org: &Org, month: &Month) -> String {
    jiff::Timestamp::from_millisecond(month.end_ms)
        .ok()
        .and_then(|t| jiff::tz::TimeZone::get(&org.timezone).ok().map(|tz| t.to_zoned_datetime(tz).date().to_string()))
        .unwrap_or_default()
}

fn ledger(
    org_id: &str,
    member_id: Option<&str>,
    account: &str,
    kind: &str,
    amount: i64,
    reference: &str,
    now: i64,
) -> LedgerEntry {
    LedgerEntry {
        id: new_id(),
        org_id: org_id.to_string(),
        member_id: member_id.map(str::to_string),
        account: account.to_string(),
        kind: kind.to_string(),
        amount,
        reference: reference.to_string(),
        created_at: now,
    }
}

/// Opens the member's allowance for the month if needed (writing its grant).
fn current_allowance(tx: &mut Tx, org: &Org, m: &Member, month: &Month, now: i64) -> Result<Allowance> {
    let total = monthly_allowance(org, m);
    if tx.open_allowance(&org.id, &m.id, &month.label, total)? {
        tx.insert_entry(&ledger(
            &org.id,
            Some(&m.id),
            &account::allowance(&month.label),
            entry::ALLOWANCE_GRANT,
            total,
            &month.label,
            now,
        ))?;
    }
    Ok(tx.allowance(&org.id, &m.id, &month.label)?.unwrap_or(Allowance { total, spent: 0 }))
}

/// Sets this month's allowance of `m` to `total` if the month is open
/// (never below what was already given), with its ledger entry. A month
/// not yet opened starts with the new amount by itself.
pub(crate) fn retotal_allowance(tx: &mut Tx, org: &Org, m: &Member, total: i64, now: i64) -> Result<()> {
    let month = month_now(org, now)?;
    if let Some((before, after)) = tx.set_allowance_total(&org.id, &m.id, &month.label, total)? {
        let delta = after.total - before.total;
        if delta != 0 {
            let acct = account::allowance(&month.label);
            tx.insert_entry(&ledger(&org.id, Some(&m.id), &acct, entry::ALLOWANCE_CHANGE, delta, &month.label, now))?;
        }
    }
    Ok(())
}

/// After the organisation's default allowance changed: this month's
/// allowance of everyone without an override follows.
pub(crate) fn retotal_default_allowances(tx: &mut Tx, org: &Org, now: i64) -> Result<()> {
    let month = month_now(org, now)?;
    for id in tx.allowance_members(&org.id, &month.label)? {
        if let Some(m) = tx.member_by_id(&org.id, &id)? {
            if m.allowance_override.is_none() {
                retotal_allowance(tx, org, &m, org.default_allowance, now)?;
            }
        }
    }
    Ok(())
}

/// Charges `amount` to the giver's allowance or refuses with what is left.
fn charge_allowance(
    tx: &mut Tx,
    org: &Org,
    giver: &Member,
    amount: i64,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let month = month_now(org, now)?;
    let allowance = current_allowance(tx, org, giver, &month, now)?;
    if !tx.spend_allowance(&org.id, &giver.id, &month.label, amount)? {
        // Read again: a concurrent gift may have spent part of what the first
        // read saw (the failed UPDATE waited for it, so this read sees it).
        let left = tx.allowance(&org.id, &giver.id, &month.label)?.unwrap_or(allowance).remaining().max(0);
        let unit = if left == 1 { &org.currency.name_singular } else { &org.currency.name_plural };
        return Err(refusal(
            "insufficient_allowance",
            "points",
            format!(
                "that needs {amount} but you have {left} {unit} left to give this month; your allowance resets on {}",
                resets_on(org, &month)
            ),
        ));
    }
    tx.insert_entry(&ledger(&org.id, Some(&giver.id), &account::allowance(&month.label), kind, -amount, reference, now))
}

/// Credits each recipient, in member-id order so concurrent transactions
/// take row locks in the same order.
fn credit_recipients(
    tx: &mut Tx,
    org_id: &str,
    recipients: &[Recipient],
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<()> {
    let mut sorted: Vec<&Recipient> = recipients.iter().filter(|r| r.points > 0).collect();
    sorted.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    for r in sorted {
        tx.credit(org_id, &r.member_id, r.points)?;
        tx.insert_entry(&ledger(org_id, Some(&r.member_id), account::EARNED, kind, r.points, reference, now))?;
    }
    Ok(())
}

/// Finds the recipients, refusing unknown, inactive or non-receiving ones
/// and the caller themself. Duplicates (by id or e-mail) count once.
fn resolve_recipients(tx: &mut Tx, org_id: &str, giver_id: Option<&str>, given: &[String]) -> Result<Vec<Member>> {
    if given.is_empty() {
        return Err(refusal("no_recipients", "recipients", "name at least one recipient"));
    }
    // The same person named twice (in any letter case) counts once.
    let mut names: Vec<String> = Vec::new();
    for who in given.iter().take(MAX_RECIPIENTS * 10) {
        let key = who.trim().to_lowercase();
        if !names.iter().any(|n| n.to_lowercase() == key) {
            names.push(who.trim().to_string());
        }
    }
    if given.len() > MAX_RECIPIENTS * 10 || names.len() > MAX_RECIPIENTS {
        return Err(refusal(
            "too_many_recipients",
            "recipients",
            format!("at most {MAX_RECIPIENTS} recipients at once"),
        ));
    }
    let mut out: Vec<Member> = Vec::new();
    for who in &names {
        let who = who.as_str();
        let found = if who.contains('@') { tx.member_by_email(org_id, who)? } else { tx.member_by_id(org_id, who)? };
        let m = found.ok_or_else(|| {
            refusal("unknown_recipient", "recipients", format!("no member '{who}' in this organisation"))
        })?;
        if Some(m.id.as_str()) == giver_id {
            return Err(refusal("self_recognition", "recipients", "you cannot recognise yourself"));
        }
        if m.status != Status::Active {
            return Err(refusal(
                "recipient_inactive",
                "recipients",
                format!("{} is no longer active", m.profile.display_name),
            ));
        }
        if !m.may_receive {
            return Err(refusal(
                "recipient_may_not_receive",
                "recipients",
                format!("{} cannot receive recognition", m.profile.display_name),
            ));
        }
        if !out.iter().any(|o| o.id == m.id) {
            out.push(m);
        }
    }
    Ok(out)
}

fn resolve_values(tx: &mut Tx, org: &Org, given: &[String]) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for v in given {
        let v = v.trim();
        let found = match tx.value_by_id(&org.id, v)? {
            Some(found) => Some(found),
            None => tx.value_by_name(&org.id, v)?,
        };
        let value =
            found.ok_or_else(|| refusal("unknown_value", "values", format!("there is no company value '{v}'")))?;
        if value.archived {
            return Err(refusal("value_archived", "values", format!("the value '{}' is archived", value.name)));
        }
        if !ids.contains(&value.id) {
            ids.push(value.id);
        }
    }
    if org.require_value && ids.is_empty() {
        return Err(refusal("value_required", "values", "pick at least one company value"));
    }
    Ok(ids)
}

fn active_member(tx: &mut Tx, org_id: &str, id: &str) -> Result<Member> {
    let m = tx.member_by_id(org_id, id)?.ok_or_else(Error::unauthenticated)?;
    if m.status != Status::Active {
        return Err(Error::forbidden("this account is deactivated").with_code("member_inactive"));
    }
    Ok(m)
}

/// Refuses points beyond the anti-gaming cap per giver and recipient and month.
fn check_monthly_cap(tx: &mut Tx, org: &Org, giver_id: &str, recipients: &[Recipient], now: i64) -> Result<()> {
    let Some(cap) = org.max_points_per_recipient_per_month else { return Ok(()) };
    let month = month_now(org, now)?;
    for r in recipients.iter().filter(|r| r.points > 0) {
        let already = tx.points_between(&org.id, giver_id, &r.member_id, month.start_ms, month.end_ms)?;
        if already + r.points > cap {
            return Err(refusal(
                "recipient_monthly_cap",
                "points",
                format!(
                    "you can give the same person at most {cap} {} a month; you can give them {} more this month",
                    org.currency.name_plural,
                    (cap - already).max(0)
                ),
            ));
        }
    }
    Ok(())
}

/// The hash an Idempotency-Key's request is compared by.
fn request_hash(what: &str, body: &impl Serialize) -> String {
    token_hash(&format!("{what}\n{}", serde_json::to_string(body).unwrap_or_default()))
}

impl App {
    /// Runs a point-moving write once per Idempotency-Key: a repeat returns
    /// the first post; the same key with another body is refused.
    fn once<F>(&self, caller: &Caller, key: Option<&str>, hash: String, now: i64, work: F) -> Result<Posted>
    where
        F: FnMut(&mut Tx, i64) -> Result<String>,
    {
        let (id, replayed) = self.write_once(caller, key, &hash, now, work)?;
        let recognition = self.recognition(caller, &id)?;
        Ok(Posted { recognition, replayed })
    }

    /// A member recognises others, from their monthly allowance.
    pub fn give(&self, caller: &Caller, req: &GiveRequest, idempotency_key: Option<&str>) -> Result<Posted> {
        self.give_at(caller, req, idempotency_key, now_ms())
    }

    /// [`App::give`] at a given time (demo history, tests of month boundaries).
    pub fn give_at(
        &self,
        caller: &Caller,
        req: &GiveRequest,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Posted> {
        validate_message("message", &req.message, MAX_MESSAGE_CHARS)?;
        if req.points < 0 || req.split_total.is_some_and(|t| t < 0) {
            return Err(refusal("validation_failed", "points", "points cannot be negative"));
        }
        if req.split_total.is_some() && req.points != 0 {
            return Err(refusal(
                "validation_failed",
                "points",
                "give points per recipient or a total to split, not both",
            ));
        }
        self.once(caller, idempotency_key, request_hash("give", req), now, |tx, now| {
            let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let giver = active_member(tx, &org.id, &caller.member.id)?;
            let members = resolve_recipients(tx, &org.id, Some(&giver.id), &req.recipients)?;
            let shares = match req.split_total {
                Some(total) => split_pot(total, members.len())?,
                None => vec![req.points; members.len()],
            };
            let most = shares.iter().copied().max().unwrap_or(0);
            // Checked before any sum, so no amount can overflow.
            if most > org.max_points_per_recognition {
                return Err(refusal(
                    "points_over_maximum",
                    "points",
                    format!(
                        "at most {} {} per recipient in one recognition",
                        org.max_points_per_recognition, org.currency.name_plural
                    ),
                ));
            }
            let total: i64 = shares.iter().sum();
            if req.split_total.is_some() && total > 0 && shares.contains(&0) && !org.allow_zero_point_posts {
                return Err(refusal(
                    "zero_points_not_allowed",
                    "points",
                    format!("{total} cannot be split among {} people without someone getting nothing", shares.len()),
                ));
            }
            if total == 0 && !org.allow_zero_point_posts {
                return Err(refusal(
                    "zero_points_not_allowed",
                    "points",
                    "recognition needs points in this organisation",
                ));
            }
            if total > 0 && !giver.may_give {
                return Err(Error::forbidden("you may not give points; you can still post recognition without points")
                    .with_code("may_not_give")
                    .on_field("points"));
            }
            let value_ids = resolve_values(tx, &org, &req.values)?;
            let recipients: Vec<Recipient> =
                members.iter().zip(&shares).map(|(m, p)| Recipient { member_id: m.id.clone(), points: *p }).collect();
            let id = new_id();
            // Charging first locks the giver's allowance row, so the giver's
            // concurrent gifts check the cap one after another.
            charge_allowance(tx, &org, &giver, total, entry::GIVE, &id, now)?;
            check_monthly_cap(tx, &org, &giver.id, &recipients, now)?;
            let mut post =
                new_post(&id, &org.id, Kind::Peer, Some(&giver.id), &req.message, recipients.clone(), value_ids, now);
            post.key_result_id = req.key_result_id.clone().filter(|k| !k.is_empty());
            if let Some(k) = &post.key_result_id {
                if tx.key_result(&org.id, k)?.is_none() {
                    return Err(refusal("unknown_key_result", "key_result_id", "no such key result"));
                }
            }
            tx.insert_recognition(&post)?;
            publish(tx, &org.id, EventKind::RecognitionCreated, recognition_data(&post), now)?;
            credit_recipients(tx, &org.id, &recipients, entry::RECEIVE, &id, now)?;
            Ok(id)
        })
    }

    /// An admin awards points from the company budget (no allowance used).
    pub fn award(&self, caller: &Caller, req: &AwardRequest, idempotency_key: Option<&str>) -> Result<Posted> {
        self.award_at(caller, req, idempotency_key, now_ms())
    }

    pub fn award_at(
        &self,
        caller: &Caller,
        req: &AwardRequest,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Posted> {
        caller.require_admin()?;
        validate_message("message", &req.message, MAX_MESSAGE_CHARS)?;
        if req.points <= 0 || req.points > 1_000_000 {
            return Err(refusal("validation_failed", "points", "an award is 1–1,000,000 points per recipient"));
        }
        self.once(caller, idempotency_key, request_hash("award", req), now, |tx, now| {
            let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let members = resolve_recipients(tx, &org.id, Some(&caller.member.id), &req.recipients)?; // no awarding oneself
            let value_ids = resolve_values(tx, &org, &req.values)?;
            let id = new_id();
            let recipients: Vec<Recipient> =
                members.iter().map(|m| Recipient { member_id: m.id.clone(), points: req.points }).collect();
            post_award(tx, &org, &id, Kind::Award, Some(&caller.member.id), &req.message, recipients, value_ids, now)?;
            tx.insert_audit(
                &org.id,
                Some(&caller.member.id),
                "award.created",
                &id,
                &audit_details(serde_json::json!({"points": req.points, "recipients": req.recipients.len()})),
                now,
            )?;
            Ok(id)
        })
    }

    /// "+10 from me too": points from the caller's allowance to every
    /// recipient of an existing post.
    pub fn add_on(
        &self,
        caller: &Caller,
        recognition_id: &str,
        points: i64,
        idempotency_key: Option<&str>,
    ) -> Result<Posted> {
        if points <= 0 {
            return Err(refusal("validation_failed", "points", "an add-on needs at least one point"));
        }
        let hash = request_hash("addon", &(recognition_id, points));
        self.once(caller, idempotency_key, hash, now_ms(), |tx, now| {
            let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let giver = active_member(tx, &org.id, &caller.member.id)?;
            let post = visible_post(tx, &org.id, recognition_id)?;
            if post.kind != Kind::Peer {
                return Err(refusal("not_addable", "recognition", "add-ons go on recognition between members"));
            }
            if post.giver_id.as_deref() == Some(giver.id.as_str()) {
                return Err(refusal("own_recognition", "points", "you gave this recognition; give a new one instead"));
            }
            if post.recipients.iter().any(|r| r.member_id == giver.id) {
                return Err(refusal("self_recognition", "points", "you cannot add points to recognition of yourself"));
            }
            if !giver.may_give {
                return Err(Error::forbidden("you may not give points").with_code("may_not_give"));
            }
            if points > org.max_points_per_recognition {
                return Err(refusal(
                    "points_over_maximum",
                    "points",
                    format!("at most {} per recipient", org.max_points_per_recognition),
                ));
            }
            // Recipients may have left since the post; only active receivers get add-ons.
            let mut recipients = Vec::new();
            for r in &post.recipients {
                if tx.member_by_id(&org.id, &r.member_id)?.is_some_and(|m| m.status == Status::Active && m.may_receive)
                {
                    recipients.push(Recipient { member_id: r.member_id.clone(), points });
                }
            }
            if recipients.is_empty() {
                return Err(refusal(
                    "recipient_inactive",
                    "recognition",
                    "no recipient of this post can receive points now",
                ));
            }
            // After the charge (which locks the adder's allowance row), as in `give_at`.
            charge_allowance(tx, &org, &giver, points * recipients.len() as i64, entry::ADDON_GIVE, &post.id, now)?;
            check_monthly_cap(tx, &org, &giver.id, &recipients, now)?;
            tx.insert_addon(&org.id, &new_id(), &post.id, &giver.id, points, now)?;
            credit_recipients(tx, &org.id, &recipients, entry::ADDON_RECEIVE, &post.id, now)?;
            Ok(post.id.clone())
        })
    }

    /// The giver takes a recognition back within five minutes: the post
    /// disappears, every point goes back where it came from. Refused when a
    /// recipient has already spent them.
    pub fn undo(&self, caller: &Caller, recognition_id: &str) -> Result<()> {
        self.store.write(|tx| {
            let now = now_ms();
            let post = visible_post(tx, &caller.org.id, recognition_id)?;
            if post.giver_id.as_deref() != Some(caller.member.id.as_str()) || post.kind != Kind::Peer {
                return Err(Error::forbidden("only the giver can undo a recognition"));
            }
            if now - post.created_at > UNDO_WINDOW_MS {
                return Err(Error::conflict(
                    "undo_window_passed",
                    "recognition can be undone only in its first 5 minutes",
                ));
            }
            reverse(tx, &caller.org.id, &post, true, now)?;
            tx.set_recognition_flags(&caller.org.id, &post.id, false, true)
        })
    }

    /// An admin hides a post. Its points are reversed by compensating
    /// entries: each recipient gives back what they received, but never more
    /// than their balance (points already spent stay spent); the givers'
    /// allowances are given back in the month they were spent.
    pub fn hide(&self, caller: &Caller, recognition_id: &str) -> Result<()> {
        caller.require_admin()?;
        self.store.write(|tx| {
            let now = now_ms();
            let post = visible_post(tx, &caller.org.id, recognition_id)?;
            reverse(tx, &caller.org.id, &post, false, now)?;
            tx.set_recognition_flags(&caller.org.id, &post.id, true, false)?;
            tx.insert_audit(&caller.org.id, Some(&caller.member.id), "recognition.hidden", &post.id, "{}", now)
        })
    }

    /// Toggles the caller's reaction; skin tones count as their base emoji.
    pub fn react(&self, caller: &Caller, recognition_id: &str, emoji: &str) -> Result<Recognition> {
        let emoji = plaudit_domain::recognition::validate_emoji("emoji", &plaudit_domain::points::base_emoji(emoji))?;
        self.store.write(|tx| {
            let post = visible_post(tx, &caller.org.id, recognition_id)?;
            tx.toggle_reaction(&caller.org.id, &post.id, &caller.member.id, &emoji, now_ms())?;
            Ok(())
        })?;
        self.recognition(caller, recognition_id)
    }

    pub fn comment(
        &self,
        caller: &Caller,
        recognition_id: &str,
        body: &str,
    ) -> Result<plaudit_domain::recognition::Comment> {
        validate_message("body", body, plaudit_domain::recognition::MAX_COMMENT_CHARS)?;
        self.store.write(|tx| {
            let post = visible_post(tx, &caller.org.id, recognition_id)?;
            let c = plaudit_domain::recognition::Comment {
                id: new_id(),
                recognition_id: post.id.clone(),
                member_id: caller.member.id.clone(),
                body: body.to_string(),
                created_at: now_ms(),
            };
            tx.insert_comment(&caller.org.id, &c)?;
            Ok(c)
        })
    }

    pub fn comments(&self, caller: &Caller, recognition_id: &str) -> Result<Vec<plaudit_domain::recognition::Comment>> {
        self.store.read(|tx| {
            visible_post(tx, &caller.org.id, recognition_id)?;
            tx.comments(&caller.org.id, recognition_id)
        })
    }

    /// A visible post of the caller's organisation.
    pub fn recognition(&self, caller: &Caller, id: &str) -> Result<Recognition> {
        self.store.read(|tx| visible_post(tx, &caller.org.id, id))
    }

    /// The caller's (or, for admins, anyone's) balances right now.
    pub fn balance(&self, caller: &Caller, member_id: &str) -> Result<Balance> {
        if member_id != caller.member.id && !caller.member.role.is_admin() {
            return Err(Error::forbidden("you can see only your own balance"));
        }
        let now = now_ms();
        self.store.read(|tx| {
            let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let m = tx.member_by_id(&org.id, member_id)?.ok_or_else(|| Error::not_found("member"))?;
            let month = month_now(&org, now)?;
            let allowance = tx
                .allowance(&org.id, &m.id, &month.label)?
                .unwrap_or(Allowance { total: monthly_allowance(&org, &m), spent: 0 });
            let (total, remaining) = if m.may_give { (allowance.total, allowance.remaining()) } else { (0, 0) };
            Ok(Balance {
                period: month.label,
                total,
                remaining,
                resets_at: month.end_ms,
                earned: tx.balance(&org.id, &m.id)?,
            })
        })
    }

    /// Admins change the allowance of some members or of everyone: the new
    /// amount applies from now on (this month's remainder follows, but never
    /// below what was already given) and in the months to come.
    pub fn set_allowance(&self, caller: &Caller, member_ids: Option<&[String]>, amount: i64) -> Result<u64> {
        caller.require_admin()?;
        if !(0..=1_000_000).contains(&amount) {
            return Err(refusal("validation_failed", "amount", "the allowance must be 0–1,000,000"));
        }
        let now = now_ms();
        self.store.write(|tx| {
            let org = tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))?;
            let month = month_now(&org, now)?;
            let targets: Vec<Member> = match member_ids {
                Some(ids) => {
                    let mut out = Vec::new();
                    for id in ids {
                        let m = tx.member_by_id(&org.id, id)?.ok_or_else(|| Error::not_found("member"))?;
                        if !out.iter().any(|o: &Member| o.id == m.id) {
                            out.push(m);
                        }
                    }
                    out
                }
                None => {
                    let mut org2 = org.clone();
                    org2.default_allowance = amount;
                    tx.update_org(&org2, now)?;
                    all_members(tx, &org.id)?
                }
            };
            let mut changed = 0;
            for mut m in targets {
                if member_ids.is_some() {
                    m.allowance_override = Some(amount);
                } else {
                    m.allowance_override = None;
                }
                m.updated_at = now;
                tx.update_member(&m)?;
                current_allowance(tx, &org, &m, &month, now)?;
                retotal_allowance(tx, &org, &m, amount, now)?;
                changed += 1;
            }
            let scope = if member_ids.is_some() { "members" } else { "everyone" };
            tx.insert_audit(
                &org.id,
                Some(&caller.member.id),
                "allowance.changed",
                scope,
                &audit_details(serde_json::json!({"amount": amount, "members": changed})),
                now,
            )?;
            Ok(changed)
        })
    }

    /// A member's own ledger entries, or anyone's for admins.
    pub fn ledger(
        &self,
        caller: &Caller,
        member_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LedgerEntry>> {
        if member_id != caller.member.id && !caller.member.role.is_admin() {
            return Err(Error::forbidden("you can see only your own ledger"));
        }
        self.store.read(|tx| {
            tx.member_by_id(&caller.org.id, member_id)?.ok_or_else(|| Error::not_found("member"))?;
            tx.list_entries(&caller.org.id, member_id, before, limit)
        })
    }

    /// Checks the ledger invariants everywhere: each cached balance equals
    /// the sum of its entries, nothing is negative, no allowance overspent.
    /// Returns the violations (empty when all is well).
    pub fn verify_ledger(&self) -> Result<Vec<String>> {
        let checks = self.store.read(|tx| tx.account_checks())?;
        let mut problems = Vec::new();
        for c in checks {
            let who = format!("org {} member {} account {}", c.org_id, c.member_id, c.account);
            match c.cached {
                None => {
                    problems.push(format!("{who}: ledger entries sum to {} but there is no balance row", c.ledger_sum))
                }
                Some(cached) if cached != c.ledger_sum => {
                    problems.push(format!("{who}: cached {cached} but the ledger sums to {}", c.ledger_sum))
                }
                Some(cached) if cached < 0 => problems.push(format!("{who}: negative balance {cached}")),
                _ => {}
            }
            if let Some(a) = c.allowance {
                if a.spent > a.total || a.spent < 0 {
                    problems.push(format!("{who}: allowance overspent ({} of {})", a.spent, a.total));
                }
            }
        }
        Ok(problems)
    }
}

fn all_members(tx: &mut Tx, org_id: &str) -> Result<Vec<Member>> {
    let mut out = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = tx.list_members(
            org_id,
            &plaudit_store::MemberFilter::default(),
            after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            1000,
        )?;
        let Some(last) = page.last() else { return Ok(out) };
        after = Some((plaudit_store::member_sort_key(last), last.id.clone()));
        out.extend(page);
    }
}

fn visible_post(tx: &mut Tx, org_id: &str, id: &str) -> Result<Recognition> {
    match tx.recognition(org_id, id)? {
        Some(r) if !r.hidden && !r.undone => Ok(r),
        _ => Err(Error::not_found("recognition")),
    }
}

/// A new, visible post; `points` is the largest share (all shares are equal
/// unless a pot was split).
#[allow(clippy::too_many_arguments)]
fn new_post(
    id: &str,
    org_id: &str,
    kind: Kind,
    giver_id: Option<&str>,
    message: &str,
    recipients: Vec<Recipient>,
    value_ids: Vec<String>,
    now: i64,
) -> Recognition {
    Recognition {
        id: id.to_string(),
        org_id: org_id.to_string(),
        kind,
        giver_id: giver_id.map(str::to_string),
        points: recipients.iter().map(|r| r.points).max().unwrap_or(0),
        message: message.to_string(),
        key_result_id: None,
        hidden: false,
        undone: false,
        created_at: now,
        recipients,
        value_ids,
        reactions: vec![],
        comment_count: 0,
        addon_points: 0,
    }
}

/// Writes a company-funded post (award or celebration) with its entries.
#[allow(clippy::too_many_arguments)]
pub(crate) fn post_award(
    tx: &mut Tx,
    org: &Org,
    id: &str,
    kind: Kind,
    by: Option<&str>,
    message: &str,
    recipients: Vec<Recipient>,
    value_ids: Vec<String>,
    now: i64,
) -> Result<()> {
    let total: i64 = recipients.iter().map(|r| r.points).sum();
    let post = new_post(id, &org.id, kind, by, message, recipients.clone(), value_ids, now);
    tx.insert_recognition(&post)?;
    publish(tx, &org.id, EventKind::RecognitionCreated, recognition_data(&post), now)?;
    if total > 0 {
        tx.insert_entry(&ledger(&org.id, None, account::COMPANY, entry::AWARD, -total, id, now))?;
        credit_recipients(tx, &org.id, &recipients, entry::AWARD, id, now)?;
    }
    Ok(())
}

/// Compensating entries for a post. `full`: every received point must come
/// back (undo); otherwise each recipient gives back at most their balance.
fn reverse(tx: &mut Tx, org_id: &str, post: &Recognition, full: bool, now: i64) -> Result<()> {
    let entries = tx.entries_for(org_id, &post.id)?;
    // Allowances first (the same lock order as giving), then balances by member id.
    let mut spent: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut received: BTreeMap<String, i64> = BTreeMap::new();
    let mut company_paid = 0;
    for e in &entries {
        match (&e.member_id, e.account.as_str()) {
            (Some(m), a) if a.starts_with("allowance:") => {
                *spent.entry((m.clone(), a.to_string())).or_default() -= e.amount
            }
            (Some(m), account::EARNED) => *received.entry(m.clone()).or_default() += e.amount,
            (None, account::COMPANY) => company_paid -= e.amount,
            _ => {}
        }
    }
    for ((member, acct), amount) in spent.into_iter().filter(|(_, a)| *a > 0) {
        let period = acct.trim_start_matches("allowance:");
        if tx.return_allowance(org_id, &member, period, amount)? {
            tx.insert_entry(&ledger(org_id, Some(&member), &acct, entry::REVERSAL, amount, &post.id, now))?;
        }
    }
    let mut taken_back = 0;
    for (member, amount) in received.into_iter().filter(|(_, a)| *a > 0) {
        let balance = tx.balance_for_update(org_id, &member)?;
        let take = if full {
            if balance < amount {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    "points_already_spent",
                    "a recipient has already spent these points, so the recognition cannot be undone; ask an admin to hide it",
                ));
            }
            amount
        } else {
            amount.min(balance)
        };
        if take > 0 {
            if !tx.debit(org_id, &member, take)? {
                return Err(Error::internal("a balance changed during a reversal"));
            }
            tx.insert_entry(&ledger(org_id, Some(&member), account::EARNED, entry::REVERSAL, -take, &post.id, now))?;
            taken_back += take;
        }
    }
    if company_paid > 0 && taken_back > 0 {
        // What an award's recipients gave back returns to the company budget.
        tx.insert_entry(&ledger(
            org_id,
            None,
            account::COMPANY,
            entry::REVERSAL,
            taken_back.min(company_paid),
            &post.id,
            now,
        ))?;
    }
    Ok(())
}

/// A page of the feed and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub items: Vec<Recognition>,
    pub next_cursor: Option<String>,
}

fn feed_cursor(r: &Recognition) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", r.created_at, r.id))
}

fn parse_feed_cursor(c: &str) -> Result<(i64, String)> {
    use base64::Engine;
    let bad = || Error::invalid("cursor", "the cursor is not one this server gave out");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_string()))
}

impl App {
    /// The feed, newest first.
    pub fn feed(
        &self,
        caller: &Caller,
        filter: &plaudit_store::FeedFilter,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<FeedPage> {
        let limit = limit.clamp(1, crate::members::MAX_PAGE);
        let before = cursor.filter(|c| !c.is_empty()).map(parse_feed_cursor).transpose()?;
        let mut items = self
            .store
            .read(|tx| tx.feed(&caller.org.id, filter, before.as_ref().map(|(a, i)| (*a, i.as_str())), limit + 1))?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(feed_cursor)
        } else {
            None
        };
        Ok(FeedPage { items, next_cursor })
    }
}
