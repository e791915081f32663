//! The reward catalog, redemptions and statement lines. Stock moves only by
//! conditional statements (`… AND stock > 0`), like balances.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::rewards::{Redemption, RedemptionStatus, Reward, RewardKind, StatementLine};
use plaudit_domain::Result;

const REWARD_COLUMNS: &str = "id, org_id, kind, name, description, cost_points, face_value_minor, currency, stock, \
     per_member_monthly_limit, requires_approval, archived, image_type, created_at, updated_at";

fn reward_from(r: &Row) -> Reward {
    Reward {
        id: r.text(0),
        org_id: r.text(1),
        kind: RewardKind::parse(&r.text(2)).unwrap_or(RewardKind::Culture),
        name: r.text(3),
        description: r.text(4),
        cost_points: r.int(5),
        face_value_minor: r.opt_int(6),
        currency: r.opt_text(7),
        stock: r.opt_int(8),
        per_member_monthly_limit: r.opt_int(9),
        requires_approval: r.bool(10),
        archived: r.bool(11),
        image_type: r.opt_text(12),
        created_at: r.int(13),
        updated_at: r.int(14),
    }
}

const REDEMPTION_COLUMNS: &str = "id, org_id, reward_id, member_id, points, status, face_value_minor, currency, \
     code_enc, note_enc, reason, created_at, updated_at, fulfilled_at, fulfilled_month, member_seen";

/// `code` and `note` hold the stored (encrypted) texts; the app decrypts them.
fn redemption_from(r: &Row) -> Redemption {
    Redemption {
        id: r.text(0),
        org_id: r.text(1),
        reward_id: r.text(2),
        member_id: r.text(3),
        points: r.int(4),
        status: RedemptionStatus::parse(&r.text(5)).unwrap_or(RedemptionStatus::Pending),
        face_value_minor: r.opt_int(6),
        currency: r.opt_text(7),
        code: r.opt_text(8),
        note: r.opt_text(9),
        reason: r.opt_text(10),
        created_at: r.int(11),
        updated_at: r.int(12),
        fulfilled_at: r.opt_int(13),
        fulfilled_month: r.opt_text(14),
        member_seen: r.bool(15),
    }
}

const LINE_COLUMNS: &str = "id, org_id, month, redemption_id, kind, member_id, member_name, reward_id, reward_name, \
     reward_kind, face_value_minor, currency, created_at";

fn line_from(r: &Row) -> StatementLine {
    StatementLine {
        id: r.text(0),
        org_id: r.text(1),
        month: r.text(2),
        redemption_id: r.text(3),
        kind: r.text(4),
        member_id: r.text(5),
        member_name: r.text(6),
        reward_id: r.text(7),
        reward_name: r.text(8),
        reward_kind: RewardKind::parse(&r.text(9)).unwrap_or(RewardKind::Culture),
        face_value_minor: r.int(10),
        currency: r.opt_text(11),
        created_at: r.int(12),
    }
}

/// Filters of the redemption list; None means any.
#[derive(Debug, Clone, Default)]
pub struct RedemptionFilter {
    pub member_id: Option<String>,
    pub status: Option<RedemptionStatus>,
}

impl Tx<'_> {
    pub fn insert_reward(&mut self, w: &Reward) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO rewards ({REWARD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
                params![
                    &w.id, &w.org_id, w.kind.as_str(), &w.name, &w.description, w.cost_points, w.face_value_minor,
                    w.currency.clone(), w.stock, w.per_member_monthly_limit, w.requires_approval, w.archived,
                    w.image_type.clone(), w.created_at, w.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Writes every field but the stock (which moves only conditionally; see [`Tx::set_reward_stock`]).
    pub fn update_reward(&mut self, w: &Reward) -> Result<()> {
        self.conn
            .execute(
                "UPDATE rewards SET kind = ?3, name = ?4, description = ?5, cost_points = ?6, face_value_minor = ?7, \
                 currency = ?8, per_member_monthly_limit = ?9, requires_approval = ?10, archived = ?11, \
                 image_type = ?12, updated_at = ?13 WHERE org_id = ?1 AND id = ?2",
                params![
                    &w.org_id,
                    &w.id,
                    w.kind.as_str(),
                    &w.name,
                    &w.description,
                    w.cost_points,
                    w.face_value_minor,
                    w.currency.clone(),
                    w.per_member_monthly_limit,
                    w.requires_approval,
                    w.archived,
                    w.image_type.clone(),
                    w.updated_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// An admin sets the stock (None: unlimited).
    pub fn set_reward_stock(&mut self, org_id: &str, id: &str, stock: Option<i64>) -> Result<()> {
        self.conn
            .execute("UPDATE rewards SET stock = ?3 WHERE org_id = ?1 AND id = ?2", params![org_id, id, stock])
            .map_err(db)?;
        Ok(())
    }

    pub fn reward_by_id(&mut self, org_id: &str, id: &str) -> Result<Option<Reward>> {
        let rows = self
            .conn
            .query(&format!("SELECT {REWARD_COLUMNS} FROM rewards WHERE org_id = ?1 AND id = ?2"), params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().map(reward_from))
    }

    /// The catalog, cheapest first; archived rewards only when asked for.
    pub fn list_rewards(&mut self, org_id: &str, include_archived: bool) -> Result<Vec<Reward>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {REWARD_COLUMNS} FROM rewards WHERE org_id = ?1 AND (?2 OR NOT archived) \
                     ORDER BY archived, cost_points, name, id"
                ),
                params![org_id, include_archived],
            )
            .map_err(db)?;
        Ok(rows.iter().map(reward_from).collect())
    }

    /// Takes one item if any is left (or the stock is unlimited); false when out of stock.
    pub fn take_stock(&mut self, org_id: &str, id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE rewards SET stock = stock - 1 WHERE org_id = ?1 AND id = ?2 AND stock IS NOT NULL AND stock > 0",
                params![org_id, id],
            )
            .map_err(db)?;
        if n == 1 {
            return Ok(true);
        }
        let rows = self
            .conn
            .query("SELECT stock FROM rewards WHERE org_id = ?1 AND id = ?2", params![org_id, id])
            .map_err(db)?;
        Ok(rows.first().is_some_and(|r| r.opt_int(0).is_none()))
    }

    /// Puts one item back (a cancelled or declined redemption); no-op for unlimited stock.
    pub fn release_stock(&mut self, org_id: &str, id: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE rewards SET stock = stock + 1 WHERE org_id = ?1 AND id = ?2 AND stock IS NOT NULL",
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Sets the cost of every money-valued reward in `currency` from the point value.
    pub fn reprice_rewards(&mut self, org_id: &str, currency: &str, point_value_minor: i64, now: i64) -> Result<u64> {
        self.conn
            .execute(
                "UPDATE rewards SET cost_points = (face_value_minor + ?3 - 1) / ?3, updated_at = ?4 \
                 WHERE org_id = ?1 AND currency = ?2 AND face_value_minor IS NOT NULL AND face_value_minor > 0 \
                 AND cost_points <> (face_value_minor + ?3 - 1) / ?3",
                params![org_id, currency, point_value_minor, now],
            )
            .map_err(db)
    }

    pub fn set_reward_image(
        &mut self,
        org_id: &str,
        id: &str,
        content_type: &str,
        base64: &str,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO reward_images (org_id, reward_id, content_type, data, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (org_id, reward_id) DO UPDATE SET content_type = ?3, data = ?4, updated_at = ?5",
                params![org_id, id, content_type, base64, now],
            )
            .map_err(db)?;
        self.conn
            .execute(
                "UPDATE rewards SET image_type = ?3, updated_at = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org_id, id, content_type, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// (content type, base64 bytes) of a reward's image.
    pub fn reward_image(&mut self, org_id: &str, id: &str) -> Result<Option<(String, String)>> {
        let rows = self
            .conn
            .query(
                "SELECT content_type, data FROM reward_images WHERE org_id = ?1 AND reward_id = ?2",
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| (r.text(0), r.text(1))))
    }

    /// `period`: the org's month of `created_at`, for the per-member limit.
    pub fn insert_redemption(&mut self, r: &Redemption, period: &str) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO redemptions ({REDEMPTION_COLUMNS}, period) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
                params![
                    &r.id, &r.org_id, &r.reward_id, &r.member_id, r.points, r.status.as_str(), r.face_value_minor,
                    r.currency.clone(), r.code.clone(), r.note.clone(), r.reason.clone(), r.created_at, r.updated_at,
                    r.fulfilled_at, r.fulfilled_month.clone(), r.member_seen, period
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn redemption_by_id(&mut self, org_id: &str, id: &str) -> Result<Option<Redemption>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(redemption_from))
    }

    /// Moves a redemption from `from` to its new status and fields; false when
    /// it is no longer in `from` (a concurrent fulfil, decline or cancel won).
    pub fn transition_redemption(&mut self, r: &Redemption, from: RedemptionStatus) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE redemptions SET status = ?3, code_enc = ?4, note_enc = ?5, reason = ?6, updated_at = ?7, \
                 fulfilled_at = ?8, fulfilled_month = ?9, member_seen = ?10 \
                 WHERE org_id = ?1 AND id = ?2 AND status = ?11",
                params![
                    &r.org_id,
                    &r.id,
                    r.status.as_str(),
                    r.code.clone(),
                    r.note.clone(),
                    r.reason.clone(),
                    r.updated_at,
                    r.fulfilled_at,
                    r.fulfilled_month.clone(),
                    r.member_seen,
                    from.as_str()
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Marks the member's changed redemptions as seen; returns how many.
    pub fn mark_redemptions_seen(&mut self, org_id: &str, member_id: &str) -> Result<u64> {
        self.conn
            .execute(
                "UPDATE redemptions SET member_seen = TRUE WHERE org_id = ?1 AND member_id = ?2 AND NOT member_seen",
                params![org_id, member_id],
            )
            .map_err(db)
    }

    pub fn unseen_redemptions(&mut self, org_id: &str, member_id: &str) -> Result<i64> {
        let rows = self
            .conn
            .query(
                "SELECT COUNT(*) FROM redemptions WHERE org_id = ?1 AND member_id = ?2 AND NOT member_seen",
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }

    /// Redemptions of one reward by one member in a month that still count
    /// (pending or fulfilled).
    pub fn count_redemptions(&mut self, org_id: &str, member_id: &str, reward_id: &str, period: &str) -> Result<i64> {
        let rows = self
            .conn
            .query(
                "SELECT COUNT(*) FROM redemptions WHERE org_id = ?1 AND member_id = ?2 AND reward_id = ?3 \
                 AND period = ?4 AND status IN ('pending', 'fulfilled')",
                params![org_id, member_id, reward_id, period],
            )
            .map_err(db)?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }

    /// Newest first, before the redemption with id `before`.
    pub fn list_redemptions(
        &mut self,
        org_id: &str,
        filter: &RedemptionFilter,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Redemption>> {
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE org_id = ?1 \
                     AND (CAST(?2 AS TEXT) IS NULL OR member_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR status = ?3) \
                     AND (CAST(?4 AS TEXT) IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
                ),
                params![org_id, filter.member_id.clone(), filter.status.map(|s| s.as_str()), before, limit],
            )
            .map_err(db)?;
        Ok(rows.iter().map(redemption_from).collect())
    }

    pub fn insert_statement_line(&mut self, l: &StatementLine) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO statement_lines ({LINE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    &l.id, &l.org_id, &l.month, &l.redemption_id, &l.kind, &l.member_id, &l.member_name, &l.reward_id,
                    &l.reward_name, l.reward_kind.as_str(), l.face_value_minor, l.currency.clone(), l.created_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// A month's lines, oldest first.
    pub fn statement_lines(&mut self, org_id: &str, month: &str) -> Result<Vec<StatementLine>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {LINE_COLUMNS} FROM statement_lines WHERE org_id = ?1 AND month = ?2 ORDER BY created_at, id"),
                params![org_id, month],
            )
            .map_err(db)?;
        Ok(rows.iter().map(line_from).collect())
    }
}
