//! The reward catalog, redemptions and the monthly billing statement.
//!
//! A redemption is one transaction: the member's earned balance is debited
//! conditionally (`… WHERE balance >= ?`), one item of stock is taken
//! conditionally (`… AND stock > 0`), the per-member monthly limit is
//! counted after the debit has locked the member's balance row, and the
//! ledger gets a `redemption` entry on the `earned` account. Cancelling or
//! declining writes a `refund` entry of exactly the debited points.

use crate::auth::{token_hash, Caller};
use crate::events::*;
use crate::{audit_details, now_ms, App};
use plaudit_domain::events::EventKind;
use plaudit_domain::member::{Member, Status};
use plaudit_domain::org::{Org, Plan};
use plaudit_domain::period::{month_named, month_of};
use plaudit_domain::recognition::{account, entry};
use plaudit_domain::rewards::{
    self as rules, CurrencyTotal, Redemption, RedemptionStatus, Reward, RewardKind, StatementLine,
};
use plaudit_domain::{Error, ErrorKind, Result};
use plaudit_store::{new_id, LedgerEntry, RedemptionFilter, Tx};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/rewards`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReward {
    pub kind: RewardKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Required unless the reward has a face value (then it follows from the point value).
    #[serde(default)]
    pub cost_points: Option<i64>,
    #[serde(default)]
    pub face_value_minor: Option<i64>,
    /// Defaults to the organisation's money currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// None: unlimited.
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub per_member_monthly_limit: Option<i64>,
    /// Default true; false fulfils redemptions at once.
    #[serde(default)]
    pub requires_approval: Option<bool>,
}

/// `PATCH /api/v1/rewards/{id}`; absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardChanges {
    pub kind: Option<RewardKind>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub cost_points: Option<i64>,
    #[serde(default, with = "double_option")]
    pub face_value_minor: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    pub currency: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    pub stock: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    pub per_member_monthly_limit: Option<Option<i64>>,
    pub requires_approval: Option<bool>,
    pub archived: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// What a redemption POST gave, and whether it replays an earlier one.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub redemption: Redemption,
    pub replayed: bool,
}

/// A month's statement: paid lines with totals per currency, and rewards
/// without money listed separately at zero.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub month: String,
    pub timezone: String,
    pub lines: Vec<StatementLine>,
    pub culture_lines: Vec<StatementLine>,
    pub totals: Vec<CurrencyTotal>,
    /// Whether the month is over (its statement can no longer change).
    pub closed: bool,
}

/// A page of redemptions.
#[derive(Debug, Clone)]
pub struct RedemptionPage {
    pub items: Vec<Redemption>,
    pub next_cursor: Option<String>,
}

fn refusal(kind: ErrorKind, code: &'static str, field: &str, message: impl Into<String>) -> Error {
    Error::new(kind, code, message).on_field(field)
}

fn plan_limit(kind: RewardKind) -> Error {
    Error::new(
        ErrorKind::PlanLimit,
        "plan_limit",
        format!("{} rewards are a paid-plan feature; culture and swag rewards work on the free plan", kind.label()),
    )
    .on_field("kind")
}

/// Cost, face value and currency of a reward under the org's point value.
fn price(
    org: &Org,
    kind: RewardKind,
    face: Option<i64>,
    currency: Option<String>,
    cost: Option<i64>,
) -> Result<(i64, Option<i64>, Option<String>)> {
    let face = rules::validate_face_value(face)?;
    match face {
        None if kind.needs_face_value() => {
            Err(Error::invalid("face_value_minor", "gift cards and donations need a face value"))
        }
        None => {
            let cost = cost.ok_or_else(|| Error::invalid("cost_points", "say how many points it costs"))?;
            Ok((rules::validate_cost(cost)?, None, None))
        }
        Some(face) => {
            let (Some(pv), Some(org_currency)) = (org.point_value_minor, org.money_currency.clone()) else {
                return Err(Error::invalid(
                    "face_value_minor",
                    "set the organisation's point value first: a money reward's cost follows from it",
                ));
            };
            let currency = match currency {
                Some(c) => plaudit_domain::org::validate_currency_code(&c).map_err(|e| e.on_field("currency"))?,
                None => org_currency.clone(),
            };
            if currency != org_currency {
                return Err(Error::invalid(
                    "currency",
                    format!("points are valued in {org_currency}; give the face value in {org_currency}"),
                ));
            }
            Ok((rules::cost_points(face, pv)?, Some(face), Some(currency)))
        }
    }
}

fn ledger(org_id: &str, member_id: &str, kind: &str, amount: i64, reference: &str, now: i64) -> LedgerEntry {
    LedgerEntry {
        id: new_id(),
        org_id: org_id.to_string(),
        member_id: Some(member_id.to_string()),
        account: account::EARNED.to_string(),
        kind: kind.to_string(),
        amount,
        reference: reference.to_string(),
        created_at: now,
    }
}

fn org_of(tx: &mut Tx, caller: &Caller) -> Result<Org> {
    tx.org_by_id(&caller.org.id)?.ok_or_else(|| Error::not_found("organisation"))
}

fn member_of(tx: &mut Tx, org_id: &str, id: &str) -> Result<Member> {
    tx.member_by_id(org_id, id)?.ok_or_else(|| Error::not_found("member"))
}

/// Re-prices the money-valued rewards after the point value changed (called
/// inside the settings transaction).
pub(crate) fn reprice_catalog(tx: &mut Tx, org: &Org, now: i64) -> Result<()> {
    if let (Some(pv), Some(c)) = (org.point_value_minor, org.money_currency.as_deref()) {
        tx.reprice_rewards(&org.id, c, pv, now)?;
    }
    Ok(())
}

fn statement_line(
    org: &Org,
    r: &Redemption,
    reward: &Reward,
    member: &Member,
    kind: &str,
    sign: i64,
    now: i64,
) -> Result<StatementLine> {
    let month = month_of(now, &org.timezone)?;
    let paid = r.face_value_minor.is_some_and(|v| v > 0) && r.currency.is_some();
    Ok(StatementLine {
        id: new_id(),
        org_id: org.id.clone(),
        month: month.label,
        redemption_id: r.id.clone(),
        kind: kind.to_string(),
        member_id: member.id.clone(),
        member_name: member.profile.display_name.clone(),
        reward_id: reward.id.clone(),
        reward_name: reward.name.clone(),
        reward_kind: reward.kind,
        face_value_minor: if paid { sign * r.face_value_minor.unwrap_or(0) } else { 0 },
        currency: if paid { r.currency.clone() } else { None },
        created_at: now,
    })
}

fn cursor_of(r: &Redemption) -> String {
    id_cursor(&r.id)
}

/// An opaque cursor over a list ordered by (time-ordered) id.
pub(crate) fn id_cursor(id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

pub(crate) fn parse_cursor(c: &str) -> Result<String> {
    use base64::Engine;
    let bad = || Error::invalid("cursor", "the cursor is not one this server gave out");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

impl App {
    fn open_secret(&self, id: &str, field: &str, sealed: Option<String>) -> Result<Option<String>> {
        sealed.map(|s| self.config.secret_key.open(&format!("{id}:{field}"), &s)).transpose()
    }

    fn seal(&self, id: &str, field: &str, plain: Option<&str>) -> Result<Option<String>> {
        plain.map(|p| self.config.secret_key.seal(&format!("{id}:{field}"), p)).transpose()
    }

    /// The redemption with its code and note decrypted.
    fn reveal(&self, mut r: Redemption) -> Result<Redemption> {
        r.code = self.open_secret(&r.id, "code", r.code.take())?;
        r.note = self.open_secret(&r.id, "note", r.note.take())?;
        Ok(r)
    }

    /// The catalog: members see active rewards; admins may ask for archived ones too.
    pub fn rewards(&self, caller: &Caller, include_archived: bool, kind: Option<RewardKind>) -> Result<Vec<Reward>> {
        let archived = include_archived && caller.member.role.is_admin();
        let mut list = self.store.read(|tx| tx.list_rewards(&caller.org.id, archived))?;
        if let Some(k) = kind {
            list.retain(|r| r.kind == k);
        }
        Ok(list)
    }

    pub fn reward(&self, caller: &Caller, id: &str) -> Result<Reward> {
        let r = self.store.read(|tx| tx.reward_by_id(&caller.org.id, id))?.ok_or_else(|| Error::not_found("reward"))?;
        if r.archived && !caller.member.role.is_admin() {
            return Err(Error::not_found("reward"));
        }
        Ok(r)
    }

    pub fn create_reward(&self, caller: &Caller, new: NewReward) -> Result<Reward> {
        self.create_reward_at(caller, new, now_ms())
    }

    pub fn create_reward_at(&self, caller: &Caller, new: NewReward, now: i64) -> Result<Reward> {
        caller.require_admin()?;
        self.store.write(|tx| {
            let org = org_of(tx, caller)?;
            if new.kind.is_paid_feature() && org.plan == Plan::Free {
                return Err(plan_limit(new.kind));
            }
            let (cost_points, face_value_minor, currency) =
                price(&org, new.kind, new.face_value_minor, new.currency.clone(), new.cost_points)?;
            let reward = Reward {
                id: new_id(),
                org_id: org.id.clone(),
                kind: new.kind,
                name: rules::validate_name(&new.name)?,
                description: rules::validate_description(&new.description)?,
                cost_points,
                face_value_minor,
                currency,
                stock: rules::validate_stock(new.stock)?,
                per_member_monthly_limit: rules::validate_limit(new.per_member_monthly_limit)?,
                requires_approval: new.requires_approval.unwrap_or(true),
                archived: false,
                image_type: None,
                created_at: now,
                updated_at: now,
            };
            tx.insert_reward(&reward)?;
            tx.insert_audit(
                &org.id,
                Some(&caller.member.id),
                "reward.created",
                &reward.id,
                &audit_details(serde_json::json!({"name": reward.name, "kind": reward.kind.as_str()})),
                now,
            )?;
            Ok(reward)
        })
    }

    pub fn update_reward(&self, caller: &Caller, id: &str, ch: RewardChanges) -> Result<Reward> {
        caller.require_admin()?;
        let now = now_ms();
        self.store.write(|tx| {
            let org = org_of(tx, caller)?;
            let mut r = tx.reward_by_id(&org.id, id)?.ok_or_else(|| Error::not_found("reward"))?;
            let kind = ch.kind.unwrap_or(r.kind);
            if kind.is_paid_feature() && org.plan == Plan::Free && ch.kind.is_some() {
                return Err(plan_limit(kind));
            }
            let face = ch.face_value_minor.unwrap_or(r.face_value_minor);
            let currency = ch.currency.clone().unwrap_or(if face.is_some() { r.currency.clone() } else { None });
            let (cost, face, currency) = price(&org, kind, face, currency, ch.cost_points.or(Some(r.cost_points)))?;
            r.kind = kind;
            r.cost_points = cost;
            r.face_value_minor = face;
            r.currency = currency;
            if let Some(n) = &ch.name {
                r.name = rules::validate_name(n)?;
            }
            if let Some(d) = &ch.description {
                r.description = rules::validate_description(d)?;
            }
            if let Some(l) = ch.per_member_monthly_limit {
                r.per_member_monthly_limit = rules::validate_limit(l)?;
            }
            if let Some(a) = ch.requires_approval {
                r.requires_approval = a;
            }
            if let Some(a) = ch.archived {
                r.archived = a;
            }
            r.updated_at = now;
            tx.update_reward(&r)?;
            if let Some(stock) = ch.stock {
                tx.set_reward_stock(&org.id, &r.id, rules::validate_stock(stock)?)?;
            }
            tx.insert_audit(&org.id, Some(&caller.member.id), "reward.updated", &r.id, "{}", now)?;
            tx.reward_by_id(&org.id, &r.id)?.ok_or_else(|| Error::not_found("reward"))
        })
    }

    /// Stores a reward's image (PNG, JPEG or WebP, known by its bytes).
    pub fn set_reward_image(&self, caller: &Caller, id: &str, bytes: &[u8]) -> Result<Reward> {
        caller.require_admin()?;
        let content_type = rules::image_type(bytes)?;
        let data = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        let now = now_ms();
        self.store.write(|tx| {
            tx.reward_by_id(&caller.org.id, id)?.ok_or_else(|| Error::not_found("reward"))?;
            tx.set_reward_image(&caller.org.id, id, content_type, &data, now)?;
            tx.reward_by_id(&caller.org.id, id)?.ok_or_else(|| Error::not_found("reward"))
        })
    }

    /// (content type, bytes) of a reward's image.
    pub fn reward_image(&self, caller: &Caller, id: &str) -> Result<(String, Vec<u8>)> {
        let (ct, data) =
            self.store.read(|tx| tx.reward_image(&caller.org.id, id))?.ok_or_else(|| Error::not_found("image"))?;
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| Error::internal("a stored image is not valid base64"))?;
        Ok((ct, bytes))
    }

    /// A member spends points on a reward (see the module comment).
    pub fn redeem(&self, caller: &Caller, reward_id: &str, idempotency_key: Option<&str>) -> Result<Redeemed> {
        self.redeem_at(caller, reward_id, idempotency_key, now_ms())
    }

    pub fn redeem_at(
        &self,
        caller: &Caller,
        reward_id: &str,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Redeemed> {
        let hash = token_hash(&format!("redeem\n{reward_id}"));
        let (org_id, member_id) = (caller.org.id.clone(), caller.member.id.clone());
        let (id, replayed) = self.write_once(caller, idempotency_key, &hash, now, |tx, now| {
            redeem_in(tx, &org_id, &member_id, reward_id, now)
        })?;
        let redemption = self.redemption(caller, &id)?;
        Ok(Redeemed { redemption, replayed })
    }

    /// One redemption: the redeeming member's own, or any for admins.
    pub fn redemption(&self, caller: &Caller, id: &str) -> Result<Redemption> {
        let r = self
            .store
            .read(|tx| tx.redemption_by_id(&caller.org.id, id))?
            .ok_or_else(|| Error::not_found("redemption"))?;
        if r.member_id != caller.member.id && !caller.member.role.is_admin() {
            return Err(Error::not_found("redemption"));
        }
        self.reveal(r)
    }

    /// The caller's redemptions; admins see everyone's (or one member's).
    pub fn redemptions(
        &self,
        caller: &Caller,
        member_id: Option<&str>,
        status: Option<RedemptionStatus>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<RedemptionPage> {
        let member_id = if caller.member.role.is_admin() {
            member_id.map(str::to_string)
        } else {
            if member_id.is_some_and(|m| m != caller.member.id) {
                return Err(Error::forbidden("you can see only your own redemptions"));
            }
            Some(caller.member.id.clone())
        };
        let limit = limit.clamp(1, crate::members::MAX_PAGE);
        let before = cursor.filter(|c| !c.is_empty()).map(parse_cursor).transpose()?;
        let filter = RedemptionFilter { member_id, status };
        let mut items =
            self.store.read(|tx| tx.list_redemptions(&caller.org.id, &filter, before.as_deref(), limit + 1))?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(cursor_of)
        } else {
            None
        };
        let items = items.into_iter().map(|r| self.reveal(r)).collect::<Result<Vec<_>>>()?;
        Ok(RedemptionPage { items, next_cursor })
    }

    /// An admin fulfils a pending redemption, with a gift-card code or a note.
    pub fn fulfil(&self, caller: &Caller, id: &str, code: Option<&str>, note: Option<&str>) -> Result<Redemption> {
        self.fulfil_at(caller, id, code, note, now_ms())
    }

    pub fn fulfil_at(
        &self,
        caller: &Caller,
        id: &str,
        code: Option<&str>,
        note: Option<&str>,
        now: i64,
    ) -> Result<Redemption> {
        caller.require_admin()?;
        let code = rules::validate_text("code", code, rules::MAX_CODE_CHARS)?;
        let note = rules::validate_text("note", note, rules::MAX_NOTE_CHARS)?;
        let sealed_code = self.seal(id, "code", code.as_deref())?;
        let sealed_note = self.seal(id, "note", note.as_deref())?;
        self.store.write(|tx| {
            let org = org_of(tx, caller)?;
            let mut r = tx.redemption_by_id(&org.id, id)?.ok_or_else(|| Error::not_found("redemption"))?;
            if r.status != RedemptionStatus::Pending {
                return Err(not_pending(&r));
            }
            let reward = tx.reward_by_id(&org.id, &r.reward_id)?.ok_or_else(|| Error::not_found("reward"))?;
            let member = member_of(tx, &org.id, &r.member_id)?;
            r.status = RedemptionStatus::Fulfilled;
            r.code = sealed_code.clone();
            r.note = sealed_note.clone();
            r.updated_at = now;
            r.fulfilled_at = Some(now);
            r.fulfilled_month = Some(month_of(now, &org.timezone)?.label);
            r.member_seen = false;
            if !tx.transition_redemption(&r, RedemptionStatus::Pending)? {
                return Err(Error::conflict("redemption_not_pending", "this redemption changed meanwhile"));
            }
            publish(tx, &r.org_id, EventKind::RedemptionUpdated, redemption_data(&r), now)?;
            tx.insert_statement_line(&statement_line(&org, &r, &reward, &member, "charge", 1, now)?)?;
            tx.insert_audit(&org.id, Some(&caller.member.id), "redemption.fulfilled", &r.id, "{}", now)?;
            Ok(())
        })?;
        self.redemption(caller, id)
    }

    /// An admin declines a redemption with a reason: the member gets every
    /// debited point back. A pending one releases its stock; a fulfilled one
    /// (e.g. a gift card that could not be delivered) puts a negative line on
    /// this month's statement.
    pub fn decline(&self, caller: &Caller, id: &str, reason: &str) -> Result<Redemption> {
        self.decline_at(caller, id, reason, now_ms())
    }

    pub fn decline_at(&self, caller: &Caller, id: &str, reason: &str, now: i64) -> Result<Redemption> {
        caller.require_admin()?;
        let reason = rules::validate_text("reason", Some(reason), rules::MAX_REASON_CHARS)?
            .ok_or_else(|| Error::invalid("reason", "say why the redemption is declined"))?;
        self.store.write(|tx| {
            let org = org_of(tx, caller)?;
            let mut r = tx.redemption_by_id(&org.id, id)?.ok_or_else(|| Error::not_found("redemption"))?;
            let from = r.status;
            if !matches!(from, RedemptionStatus::Pending | RedemptionStatus::Fulfilled) {
                return Err(Error::conflict(
                    "redemption_closed",
                    format!("this redemption is already {}", r.status.as_str()),
                ));
            }
            let reward = tx.reward_by_id(&org.id, &r.reward_id)?.ok_or_else(|| Error::not_found("reward"))?;
            let member = member_of(tx, &org.id, &r.member_id)?;
            r.status = RedemptionStatus::Declined;
            r.reason = Some(reason.clone());
            r.updated_at = now;
            r.member_seen = false;
            if !tx.transition_redemption(&r, from)? {
                return Err(Error::conflict("redemption_not_pending", "this redemption changed meanwhile"));
            }
            publish(tx, &r.org_id, EventKind::RedemptionUpdated, redemption_data(&r), now)?;
            refund(tx, &org.id, &r, now)?;
            if from == RedemptionStatus::Pending {
                tx.release_stock(&org.id, &r.reward_id)?;
            } else {
                tx.insert_statement_line(&statement_line(&org, &r, &reward, &member, "refund", -1, now)?)?;
            }
            tx.insert_audit(
                &org.id,
                Some(&caller.member.id),
                "redemption.declined",
                &r.id,
                &audit_details(serde_json::json!({"reason": reason})),
                now,
            )?;
            Ok(())
        })?;
        self.redemption(caller, id)
    }

    /// The member takes back a pending redemption: points and stock return.
    pub fn cancel(&self, caller: &Caller, id: &str) -> Result<Redemption> {
        let now = now_ms();
        self.store.write(|tx| {
            let mut r = tx.redemption_by_id(&caller.org.id, id)?.ok_or_else(|| Error::not_found("redemption"))?;
            if r.member_id != caller.member.id {
                return Err(Error::not_found("redemption"));
            }
            if r.status != RedemptionStatus::Pending {
                return Err(not_pending(&r));
            }
            r.status = RedemptionStatus::Cancelled;
            r.updated_at = now;
            r.member_seen = true;
            if !tx.transition_redemption(&r, RedemptionStatus::Pending)? {
                return Err(Error::conflict("redemption_not_pending", "this redemption changed meanwhile"));
            }
            publish(tx, &r.org_id, EventKind::RedemptionUpdated, redemption_data(&r), now)?;
            refund(tx, &caller.org.id, &r, now)?;
            tx.release_stock(&caller.org.id, &r.reward_id)
        })?;
        self.redemption(caller, id)
    }

    /// How many of the caller's redemptions changed since they last looked.
    pub fn unseen_redemptions(&self, caller: &Caller) -> Result<i64> {
        self.store.read(|tx| tx.unseen_redemptions(&caller.org.id, &caller.member.id))
    }

    pub fn mark_redemptions_seen(&self, caller: &Caller) -> Result<u64> {
        self.store.write(|tx| tx.mark_redemptions_seen(&caller.org.id, &caller.member.id))
    }

    /// The billing statement of month `YYYY-MM` (admins).
    pub fn statement(&self, caller: &Caller, month: &str) -> Result<Statement> {
        caller.require_admin()?;
        let org = self.store.read(|tx| org_of(tx, caller))?;
        let m = month_named(month, &org.timezone)?;
        let all = self.store.read(|tx| tx.statement_lines(&org.id, &m.label))?;
        let (lines, culture_lines): (Vec<_>, Vec<_>) = all.into_iter().partition(|l| l.currency.is_some());
        Ok(Statement {
            totals: rules::totals(&lines),
            month: m.label,
            timezone: org.timezone,
            lines,
            culture_lines,
            closed: now_ms() >= m.end_ms,
        })
    }
}

fn not_pending(r: &Redemption) -> Error {
    Error::conflict("redemption_not_pending", format!("this redemption is {}, not pending", r.status.as_str()))
}

fn refund(tx: &mut Tx, org_id: &str, r: &Redemption, now: i64) -> Result<()> {
    if r.points > 0 {
        tx.credit(org_id, &r.member_id, r.points)?;
        tx.insert_entry(&ledger(org_id, &r.member_id, entry::REFUND, r.points, &r.id, now))?;
    }
    Ok(())
}

/// The redemption transaction's work; returns the new redemption's id.
fn redeem_in(tx: &mut Tx, org_id: &str, member_id: &str, reward_id: &str, now: i64) -> Result<String> {
    let org = tx.org_by_id(org_id)?.ok_or_else(|| Error::not_found("organisation"))?;
    let member = tx.member_by_id(org_id, member_id)?.ok_or_else(Error::unauthenticated)?;
    if member.status != Status::Active {
        return Err(refusal(ErrorKind::Forbidden, "member_inactive", "member", "this account is deactivated"));
    }
    let reward = tx.reward_by_id(org_id, reward_id)?.ok_or_else(|| Error::not_found("reward"))?;
    if reward.archived {
        return Err(refusal(
            ErrorKind::Conflict,
            "reward_archived",
            "reward_id",
            format!("'{}' is no longer in the catalog", reward.name),
        ));
    }
    // Paid rewards stay a paid-plan feature after a switch back to free.
    if reward.kind.is_paid_feature() && org.plan == Plan::Free {
        return Err(plan_limit(reward.kind).on_field("reward_id"));
    }
    let out_of_stock =
        || refusal(ErrorKind::Conflict, "out_of_stock", "reward_id", format!("'{}' is out of stock", reward.name));
    if reward.stock == Some(0) {
        return Err(out_of_stock());
    }
    let period = month_of(now, &org.timezone)?.label;
    let limit_reached = |tx: &mut Tx| -> Result<()> {
        if let Some(limit) = reward.per_member_monthly_limit {
            if tx.count_redemptions(org_id, member_id, reward_id, &period)? >= limit {
                return Err(refusal(
                    ErrorKind::Validation,
                    "redemption_limit_reached",
                    "reward_id",
                    format!("you can redeem '{}' at most {limit} times a month", reward.name),
                ));
            }
        }
        Ok(())
    };
    limit_reached(tx)?;
    // The debit locks the member's balance row: the member's concurrent
    // redemptions count the monthly limit one after another.
    if !tx.debit(org_id, member_id, reward.cost_points)? {
        let balance = tx.balance(org_id, member_id)?;
        let missing = reward.cost_points - balance;
        return Err(refusal(
            ErrorKind::Validation,
            "insufficient_balance",
            "reward_id",
            format!(
                "'{}' costs {} {} and you have {balance}: {missing} {} missing",
                reward.name,
                reward.cost_points,
                org.currency.name_plural,
                if missing == 1 { &org.currency.name_singular } else { &org.currency.name_plural }
            ),
        ));
    }
    // Again, now that concurrent redemptions of this member have committed.
    limit_reached(tx)?;
    if !tx.take_stock(org_id, reward_id)? {
        return Err(out_of_stock());
    }
    let id = new_id();
    let auto = !reward.requires_approval;
    let r = Redemption {
        id: id.clone(),
        org_id: org_id.to_string(),
        reward_id: reward.id.clone(),
        member_id: member_id.to_string(),
        points: reward.cost_points,
        status: if auto { RedemptionStatus::Fulfilled } else { RedemptionStatus::Pending },
        face_value_minor: reward.face_value_minor,
        currency: reward.currency.clone(),
        code: None,
        note: None,
        reason: None,
        created_at: now,
        updated_at: now,
        fulfilled_at: auto.then_some(now),
        fulfilled_month: auto.then(|| period.clone()),
        member_seen: true,
    };
    tx.insert_redemption(&r, &period)?;
    publish(tx, org_id, EventKind::RedemptionCreated, redemption_data(&r), now)?;
    tx.insert_entry(&ledger(org_id, member_id, entry::REDEMPTION, -reward.cost_points, &id, now))?;
    if auto {
        tx.insert_statement_line(&statement_line(&org, &r, &reward, &member, "charge", 1, now)?)?;
    }
    Ok(id)
}
