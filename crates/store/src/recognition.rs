//! Company values, recognition posts and what hangs off them: recipients,
//! values, reactions, comments, add-ons; idempotency keys and celebrations.

use crate::sql::Row;
use crate::{db, params, Tx};
use plaudit_domain::recognition::{value_key, Comment, CompanyValue, Kind, ReactionCount, Recipient, Recognition};
use plaudit_domain::{Error, Result};

const VALUE_COLUMNS: &str = "id, org_id, name, emoji, description, position, archived, created_at, updated_at";

fn value_from(r: &Row) -> CompanyValue {
    CompanyValue {
        id: r.text(0),
        org_id: r.text(1),
        name: r.text(2),
        emoji: r.text(3),
        description: r.text(4),
        position: r.int(5),
        archived: r.bool(6),
        created_at: r.int(7),
        updated_at: r.int(8),
    }
}

/// Feed filters; None means any.
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    /// Posts this member gave or received.
    pub member_id: Option<String>,
    pub value_id: Option<String>,
    /// Posts with a recipient in this department.
    pub department: Option<String>,
    /// Only posts this member received (profile pages).
    pub recipient_id: Option<String>,
    /// Only posts this member gave.
    pub giver_id: Option<String>,
}

/// A stored answer to a POST with an Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub request_hash: String,
    pub status: i64,
    pub response: String,
}

fn value_taken(name: &str) -> Error {
    Error::conflict("value_exists", format!("a value named '{name}' exists already")).on_field("name")
}

impl Tx<'_> {
    pub fn insert_value(&mut self, v: &CompanyValue) -> Result<()> {
        self.conn
            .execute(
                &format!("INSERT INTO company_values ({VALUE_COLUMNS}, name_norm) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![&v.id, &v.org_id, &v.name, &v.emoji, &v.description, v.position, v.archived, v.created_at, v.updated_at, value_key(&v.name)],
            )
            .map_err(|e| if e.unique_violation { value_taken(&v.name) } else { db(e) })?;
        Ok(())
    }

    pub fn update_value(&mut self, v: &CompanyValue) -> Result<()> {
        self.conn
            .execute(
                "UPDATE company_values SET name = ?3, emoji = ?4, description = ?5, position = ?6, archived = ?7, \
                 updated_at = ?8, name_norm = ?9 WHERE org_id = ?1 AND id = ?2",
                params![
                    &v.org_id,
                    &v.id,
                    &v.name,
                    &v.emoji,
                    &v.description,
                    v.position,
                    v.archived,
                    v.updated_at,
                    value_key(&v.name)
                ],
            )
            .map_err(|e| if e.unique_violation { value_taken(&v.name) } else { db(e) })?;
        Ok(())
    }

    /// In display order; archived values last.
    pub fn list_values(&mut self, org_id: &str) -> Result<Vec<CompanyValue>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {VALUE_COLUMNS} FROM company_values WHERE org_id = ?1 ORDER BY archived, position, name_norm"),
                params![org_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(value_from).collect())
    }

    pub fn value_by_id(&mut self, org_id: &str, id: &str) -> Result<Option<CompanyValue>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {VALUE_COLUMNS} FROM company_values WHERE org_id = ?1 AND id = ?2"),
                params![org_id, id],
            )
            .map_err(db)?;
        Ok(rows.first().map(value_from))
    }

    /// By name, ignoring case, accents and a leading `#`.
    pub fn value_by_name(&mut self, org_id: &str, name: &str) -> Result<Option<CompanyValue>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {VALUE_COLUMNS} FROM company_values WHERE org_id = ?1 AND name_norm = ?2"),
                params![org_id, value_key(name)],
            )
            .map_err(db)?;
        Ok(rows.first().map(value_from))
    }

    /// Inserts a post with its recipients and values (reactions etc. start empty).
    pub fn insert_recognition(&mut self, r: &Recognition) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO recognitions (id, org_id, kind, giver_id, points, message, key_result_id, hidden, undone, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![&r.id, &r.org_id, r.kind.as_str(), r.giver_id.clone(), r.points, &r.message, r.key_result_id.clone(), r.hidden, r.undone, r.created_at],
            )
            .map_err(db)?;
        for (i, rc) in r.recipients.iter().enumerate() {
            self.conn
                .execute(
                    "INSERT INTO recognition_recipients (org_id, recognition_id, member_id, position, points, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![&r.org_id, &r.id, &rc.member_id, i as i64, rc.points, r.created_at],
                )
                .map_err(db)?;
        }
        for v in &r.value_ids {
            self.conn
                .execute(
                    "INSERT INTO recognition_values (org_id, recognition_id, value_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![&r.org_id, &r.id, v, r.created_at],
                )
                .map_err(db)?;
        }
        Ok(())
    }

    /// One post, hidden or not.
    pub fn recognition(&mut self, org_id: &str, id: &str) -> Result<Option<Recognition>> {
        let rows = self
            .conn
            .query(
                "SELECT id, org_id, kind, giver_id, points, message, key_result_id, hidden, undone, created_at \
                 FROM recognitions WHERE org_id = ?1 AND id = ?2",
                params![org_id, id],
            )
            .map_err(db)?;
        match rows.first() {
            Some(row) => Ok(Some(self.complete(row)?)),
            None => Ok(None),
        }
    }

    fn complete(&mut self, row: &Row) -> Result<Recognition> {
        let (org_id, id) = (row.text(1), row.text(0));
        let recipients = self
            .conn
            .query(
                "SELECT member_id, points FROM recognition_recipients WHERE recognition_id = ?1 AND org_id = ?2 ORDER BY position",
                params![&id, &org_id],
            )
            .map_err(db)?
            .iter()
            .map(|r| Recipient { member_id: r.text(0), points: r.int(1) })
            .collect();
        let value_ids = self
            .conn
            .query(
                "SELECT rv.value_id FROM recognition_values rv JOIN company_values v ON v.id = rv.value_id \
                 WHERE rv.recognition_id = ?1 AND rv.org_id = ?2 ORDER BY v.position, v.name_norm",
                params![&id, &org_id],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.text(0))
            .collect();
        let reactions = self
            .conn
            .query(
                "SELECT emoji, COUNT(*), MIN(created_at) FROM reactions WHERE recognition_id = ?1 AND org_id = ?2 \
                 GROUP BY emoji ORDER BY MIN(created_at), emoji",
                params![&id, &org_id],
            )
            .map_err(db)?
            .iter()
            .map(|r| ReactionCount { emoji: r.text(0), count: r.int(1) })
            .collect();
        let comment_count = self
            .conn
            .query("SELECT COUNT(*) FROM comments WHERE recognition_id = ?1 AND org_id = ?2", params![&id, &org_id])
            .map_err(db)?[0]
            .int(0);
        let addon_points = self
            .conn
            .query(
                "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM addons WHERE recognition_id = ?1 AND org_id = ?2",
                params![&id, &org_id],
            )
            .map_err(db)?[0]
            .int(0);
        Ok(Recognition {
            id,
            org_id,
            kind: Kind::parse(&row.text(2)),
            giver_id: row.opt_text(3),
            points: row.int(4),
            message: row.text(5),
            key_result_id: row.opt_text(6),
            hidden: row.bool(7),
            undone: row.bool(8),
            created_at: row.int(9),
            recipients,
            value_ids,
            reactions,
            comment_count,
            addon_points,
        })
    }

    /// The visible feed, newest first, before the post `(created_at, id)`.
    ///
    /// The most selective filter drives the query through its own index,
    /// already in feed order (a member's posts, a value's posts …), so a
    /// page costs the same with a million posts as with a hundred; the other
    /// filters are checked per post. "Given or received by a member" merges
    /// the two ordered streams.
    pub fn feed(
        &mut self,
        org_id: &str,
        filter: &FeedFilter,
        before: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<Recognition>> {
        let rows = if let Some(member) =
            filter.member_id.clone().filter(|_| filter.recipient_id.is_none() && filter.giver_id.is_none())
        {
            let rest = FeedFilter { member_id: None, ..filter.clone() };
            let given =
                self.feed_rows(org_id, &FeedFilter { giver_id: Some(member.clone()), ..rest.clone() }, before, limit)?;
            let received = self.feed_rows(org_id, &FeedFilter { recipient_id: Some(member), ..rest }, before, limit)?;
            let mut rows: Vec<Row> = given.into_iter().chain(received).collect();
            rows.sort_by_key(|r| std::cmp::Reverse((r.int(9), r.text(0))));
            rows.dedup_by(|a, b| a.text(0) == b.text(0));
            rows.truncate(limit.max(0) as usize);
            rows
        } else {
            self.feed_rows(org_id, filter, before, limit)?
        };
        rows.iter().map(|r| self.complete(r)).collect()
    }

    fn feed_rows(
        &mut self,
        org_id: &str,
        filter: &FeedFilter,
        before: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<Row>> {
        const COLS: &str = "r.id, r.org_id, r.kind, r.giver_id, r.points, r.message, r.key_result_id, r.hidden, r.undone, r.created_at";
        let mut args: Vec<crate::sql::Value> = vec![org_id.into(), false.into()];
        let next = |args: &mut Vec<crate::sql::Value>, v: &str| {
            args.push(v.into());
            format!("?{}", args.len())
        };
        // (FROM clause, ordering time column, ordering id column)
        let (from, at_col, id_col) = if let Some(m) = &filter.recipient_id {
            let p = next(&mut args, m);
            (
                format!("recognition_recipients d JOIN recognitions r ON r.id = d.recognition_id WHERE d.org_id = ?1 AND d.member_id = {p}"),
                "d.created_at",
                "d.recognition_id",
            )
        } else if let Some(m) = &filter.giver_id {
            let p = next(&mut args, m);
            (format!("recognitions r WHERE r.org_id = ?1 AND r.giver_id = {p}"), "r.created_at", "r.id")
        } else if let Some(v) = &filter.value_id {
            let p = next(&mut args, v);
            (
                format!("recognition_values d JOIN recognitions r ON r.id = d.recognition_id WHERE d.org_id = ?1 AND d.value_id = {p}"),
                "d.created_at",
                "d.recognition_id",
            )
        } else {
            ("recognitions r WHERE r.org_id = ?1".to_string(), "r.created_at", "r.id")
        };
        let mut sql = format!("SELECT {COLS} FROM {from} AND r.org_id = ?1 AND r.hidden = ?2 AND r.undone = ?2");
        // Filters that did not drive are checked for each post.
        if let (Some(v), true) = (&filter.value_id, filter.recipient_id.is_some() || filter.giver_id.is_some()) {
            let p = next(&mut args, v);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM recognition_values x WHERE x.org_id = ?1 AND x.recognition_id = r.id AND x.value_id = {p})"
            ));
        }
        if let (Some(m), true) = (&filter.giver_id, filter.recipient_id.is_some()) {
            let p = next(&mut args, m);
            sql.push_str(&format!(" AND r.giver_id = {p}"));
        }
        if let (Some(m), true) = (&filter.member_id, filter.recipient_id.is_some() || filter.giver_id.is_some()) {
            let p = next(&mut args, m);
            sql.push_str(&format!(
                " AND (r.giver_id = {p} OR EXISTS (SELECT 1 FROM recognition_recipients x \
                 WHERE x.org_id = ?1 AND x.recognition_id = r.id AND x.member_id = {p}))"
            ));
        }
        if let Some(d) = &filter.department {
            let p = next(&mut args, d);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM recognition_recipients x JOIN members m ON m.id = x.member_id \
                 WHERE x.org_id = ?1 AND x.recognition_id = r.id AND m.org_id = ?1 AND m.department = {p})"
            ));
        }
        if let Some((at, id)) = before {
            args.push(at.into());
            args.push(id.into());
            let (a, b) = (args.len() - 1, args.len());
            sql.push_str(&format!(" AND ({at_col} < ?{a} OR ({at_col} = ?{a} AND {id_col} < ?{b}))"));
        }
        args.push(limit.into());
        sql.push_str(&format!(" ORDER BY {at_col} DESC, {id_col} DESC LIMIT ?{}", args.len()));
        self.conn.query(&sql, &args).map_err(db)
    }

    pub fn set_recognition_flags(&mut self, org_id: &str, id: &str, hidden: bool, undone: bool) -> Result<()> {
        self.conn
            .execute(
                "UPDATE recognitions SET hidden = ?3, undone = ?4 WHERE org_id = ?1 AND id = ?2",
                params![org_id, id, hidden, undone],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Points `giver_id` gave `recipient_id` from their allowance (peer posts and
    /// add-ons; not company awards) in `[from, to)`.
    pub fn points_between(
        &mut self,
        org_id: &str,
        giver_id: &str,
        recipient_id: &str,
        from: i64,
        to: i64,
    ) -> Result<i64> {
        let posts = self
            .conn
            .query(
                "SELECT CAST(COALESCE(SUM(rr.points), 0) AS BIGINT) FROM recognition_recipients rr JOIN recognitions r ON r.id = rr.recognition_id \
                 WHERE rr.org_id = ?1 AND rr.member_id = ?3 AND r.org_id = ?1 AND r.giver_id = ?2 AND r.undone = ?6 AND r.hidden = ?6 \
                 AND r.kind = ?7 AND rr.created_at >= ?4 AND rr.created_at < ?5",
                params![org_id, giver_id, recipient_id, from, to, false, Kind::Peer.as_str()],
            )
            .map_err(db)?[0]
            .int(0);
        let addons = self
            .conn
            .query(
                "SELECT CAST(COALESCE(SUM(a.points), 0) AS BIGINT) FROM addons a JOIN recognition_recipients rr ON rr.recognition_id = a.recognition_id \
                 JOIN recognitions r ON r.id = a.recognition_id \
                 WHERE a.org_id = ?1 AND a.giver_id = ?2 AND rr.member_id = ?3 AND r.undone = ?6 AND r.hidden = ?6 \
                 AND a.created_at >= ?4 AND a.created_at < ?5",
                params![org_id, giver_id, recipient_id, from, to, false],
            )
            .map_err(db)?[0]
            .int(0);
        Ok(posts + addons)
    }

    /// Adds the reaction, or removes it when the member had it; true when added.
    pub fn toggle_reaction(
        &mut self,
        org_id: &str,
        recognition_id: &str,
        member_id: &str,
        emoji: &str,
        now: i64,
    ) -> Result<bool> {
        let removed = self
            .conn
            .execute(
                "DELETE FROM reactions WHERE org_id = ?1 AND recognition_id = ?2 AND member_id = ?3 AND emoji = ?4",
                params![org_id, recognition_id, member_id, emoji],
            )
            .map_err(db)?;
        if removed > 0 {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT INTO reactions (org_id, recognition_id, member_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (org_id, recognition_id, member_id, emoji) DO NOTHING",
                params![org_id, recognition_id, member_id, emoji, now],
            )
            .map_err(db)?;
        Ok(true)
    }

    /// The emoji this member reacted with on a post.
    pub fn my_reactions(&mut self, org_id: &str, recognition_id: &str, member_id: &str) -> Result<Vec<String>> {
        let rows = self
            .conn
            .query(
                "SELECT emoji FROM reactions WHERE org_id = ?1 AND recognition_id = ?2 AND member_id = ?3 ORDER BY created_at",
                params![org_id, recognition_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    pub fn insert_comment(&mut self, org_id: &str, c: &Comment) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO comments (id, org_id, recognition_id, member_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![&c.id, org_id, &c.recognition_id, &c.member_id, &c.body, c.created_at],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Oldest first, as a conversation reads.
    pub fn comments(&mut self, org_id: &str, recognition_id: &str) -> Result<Vec<Comment>> {
        let rows = self
            .conn
            .query(
                "SELECT id, recognition_id, member_id, body, created_at FROM comments \
                 WHERE org_id = ?1 AND recognition_id = ?2 ORDER BY created_at, id",
                params![org_id, recognition_id],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| Comment {
                id: r.text(0),
                recognition_id: r.text(1),
                member_id: r.text(2),
                body: r.text(3),
                created_at: r.int(4),
            })
            .collect())
    }

    pub fn insert_addon(
        &mut self,
        org_id: &str,
        id: &str,
        recognition_id: &str,
        giver_id: &str,
        points: i64,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO addons (id, org_id, recognition_id, giver_id, points, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, org_id, recognition_id, giver_id, points, now],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Add-ons of a post: (giver, points per recipient, time).
    pub fn addons(&mut self, org_id: &str, recognition_id: &str) -> Result<Vec<(String, i64, i64)>> {
        let rows = self
            .conn
            .query(
                "SELECT giver_id, points, created_at FROM addons WHERE org_id = ?1 AND recognition_id = ?2 ORDER BY created_at, id",
                params![org_id, recognition_id],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.text(0), r.int(1), r.int(2))).collect())
    }

    /// Claims an idempotency key for this request. Returns the stored answer
    /// when the key was used before (on PostgreSQL this waits for a
    /// concurrent first use to commit).
    pub fn claim_idempotency_key(
        &mut self,
        org_id: &str,
        member_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<Option<StoredAnswer>> {
        let n = self
            .conn
            .execute(
                "INSERT INTO idempotency_keys (org_id, member_id, idem_key, request_hash, status, response, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 0, '', ?5) ON CONFLICT (org_id, member_id, idem_key) DO NOTHING",
                params![org_id, member_id, key, request_hash, now],
            )
            .map_err(db)?;
        if n == 1 {
            return Ok(None);
        }
        let rows = self
            .conn
            .query(
                "SELECT request_hash, status, response FROM idempotency_keys WHERE org_id = ?1 AND member_id = ?2 AND idem_key = ?3",
                params![org_id, member_id, key],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| StoredAnswer { request_hash: r.text(0), status: r.int(1), response: r.text(2) }))
    }

    pub fn save_idempotent_answer(
        &mut self,
        org_id: &str,
        member_id: &str,
        key: &str,
        status: i64,
        response: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE idempotency_keys SET status = ?4, response = ?5 WHERE org_id = ?1 AND member_id = ?2 AND idem_key = ?3",
                params![org_id, member_id, key, status, response],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Records that a member's celebration was posted; false when it already was.
    pub fn claim_celebration(
        &mut self,
        org_id: &str,
        member_id: &str,
        occasion: &str,
        year: i64,
        recognition_id: &str,
    ) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT INTO celebrations (org_id, member_id, occasion, year, recognition_id) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (org_id, member_id, occasion, year) DO NOTHING",
                params![org_id, member_id, occasion, year, recognition_id],
            )
            .map_err(db)?;
        Ok(n == 1)
    }
}

impl Tx<'_> {
    /// Active members whose start date or birthday falls on `month_day` (`MM-DD`).
    pub fn members_celebrating(
        &mut self,
        org_id: &str,
        month_day: &str,
    ) -> Result<Vec<plaudit_domain::member::Member>> {
        let ids: Vec<String> = self
            .conn
            .query(
                "SELECT id FROM members WHERE org_id = ?1 AND status = 'active' AND (birthday = ?2 OR start_date LIKE ?3) ORDER BY id",
                params![org_id, month_day, format!("%-{month_day}")],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.text(0))
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = self.member_by_id(org_id, &id)? {
                out.push(m);
            }
        }
        Ok(out)
    }
}
