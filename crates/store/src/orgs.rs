//! Organisations.

use crate::sql::{Dialect, Row};
use crate::{db, params, Tx};
use plaudit_domain::org::{Currency, Org, Plan};
use plaudit_domain::{Error, Result};

const COLUMNS: &str = "id, slug, name, timezone, plan, currency_emoji, currency_singular, currency_plural, \
    point_value_minor, money_currency, default_allowance, max_points_per_recognition, allow_zero_point_posts, \
    require_value, created_at, max_points_per_recipient_per_month, celebrations_enabled, anniversary_award_points, \
    birthday_award_points";

fn org_from(r: &Row) -> Org {
    Org {
        id: r.text(0),
        slug: r.text(1),
        name: r.text(2),
        timezone: r.text(3),
        plan: Plan::parse(&r.text(4)).unwrap_or(Plan::Free),
        currency: Currency { emoji: r.text(5), name_singular: r.text(6), name_plural: r.text(7) },
        point_value_minor: r.opt_int(8),
        money_currency: r.opt_text(9),
        default_allowance: r.int(10),
        max_points_per_recognition: r.int(11),
        allow_zero_point_posts: r.bool(12),
        require_value: r.bool(13),
        created_at: r.int(14),
        max_points_per_recipient_per_month: r.opt_int(15),
        celebrations_enabled: r.bool(16),
        anniversary_award_points: r.int(17),
        birthday_award_points: r.int(18),
    }
}

impl Tx<'_> {
    /// Inserts a new organisation; a taken slug is `slug_taken`.
    pub fn insert_org(&mut self, org: &Org) -> Result<()> {
        self.conn
            .execute(
                &format!(
                    "INSERT INTO orgs ({COLUMNS}, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?15)"
                ),
                params![
                    &org.id,
                    &org.slug,
                    &org.name,
                    &org.timezone,
                    org.plan.as_str(),
                    &org.currency.emoji,
                    &org.currency.name_singular,
                    &org.currency.name_plural,
                    org.point_value_minor,
                    org.money_currency.clone(),
                    org.default_allowance,
                    org.max_points_per_recognition,
                    org.allow_zero_point_posts,
                    org.require_value,
                    org.created_at,
                    org.max_points_per_recipient_per_month,
                    org.celebrations_enabled,
                    org.anniversary_award_points,
                    org.birthday_award_points
                ],
            )
            .map_err(|e| {
                if e.unique_violation {
                    Error::conflict("slug_taken", format!("the short name '{}' is taken", org.slug)).on_field("slug")
                } else {
                    db(e)
                }
            })?;
        Ok(())
    }

    pub fn org_by_slug(&mut self, slug: &str) -> Result<Option<Org>> {
        let rows =
            self.conn.query(&format!("SELECT {COLUMNS} FROM orgs WHERE slug = ?1"), params![slug]).map_err(db)?;
        Ok(rows.first().map(org_from))
    }

    pub fn org_by_id(&mut self, id: &str) -> Result<Option<Org>> {
        let rows = self.conn.query(&format!("SELECT {COLUMNS} FROM orgs WHERE id = ?1"), params![id]).map_err(db)?;
        Ok(rows.first().map(org_from))
    }

    /// Takes the organisation's row lock for the rest of the transaction, so
    /// checks over the whole organisation (the plan's member limit, manager
    /// chains) are not raced by another transaction. SQLite's single writer
    /// already serialises writes.
    pub fn lock_org(&mut self, org_id: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.conn.query("SELECT id FROM orgs WHERE id = ?1 FOR UPDATE", params![org_id]).map_err(db)?;
        }
        Ok(())
    }

    /// Saves every setting of `org` (not id, slug or created_at).
    pub fn update_org(&mut self, org: &Org, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE orgs SET name = ?2, timezone = ?3, plan = ?4, currency_emoji = ?5, currency_singular = ?6, \
                 currency_plural = ?7, point_value_minor = ?8, money_currency = ?9, default_allowance = ?10, \
                 max_points_per_recognition = ?11, allow_zero_point_posts = ?12, require_value = ?13, updated_at = ?14, \
                 max_points_per_recipient_per_month = ?15, celebrations_enabled = ?16, anniversary_award_points = ?17, \
                 birthday_award_points = ?18 \
                 WHERE id = ?1",
                params![
                    &org.id,
                    &org.name,
                    &org.timezone,
                    org.plan.as_str(),
                    &org.currency.emoji,
                    &org.currency.name_singular,
                    &org.currency.name_plural,
                    org.point_value_minor,
                    org.money_currency.clone(),
                    org.default_allowance,
                    org.max_points_per_recognition,
                    org.allow_zero_point_posts,
                    org.require_value,
                    now,
                    org.max_points_per_recipient_per_month,
                    org.celebrations_enabled,
                    org.anniversary_award_points,
                    org.birthday_award_points
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn list_orgs(&mut self) -> Result<Vec<Org>> {
        let rows = self.conn.query(&format!("SELECT {COLUMNS} FROM orgs ORDER BY slug"), &[]).map_err(db)?;
        Ok(rows.iter().map(org_from).collect())
    }
}
