//! The points ledger (append-only entries), the cached earned balances and
//! the monthly allowances. Every change of a balance is a conditional UPDATE,
//! so no interleaving of transactions can take one below zero.

use crate::{db, params, Tx};
use plaudit_domain::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: String,
    pub org_id: String,
    pub member_id: Option<String>,
    pub account: String,
    pub kind: String,
    pub amount: i64,
    pub reference: String,
    pub created_at: i64,
}

/// One month's allowance of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub total: i64,
    pub spent: i64,
}

impl Allowance {
    pub fn remaining(&self) -> i64 {
        self.total - self.spent
    }
}

/// What `plaudit verify` compares, per account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCheck {
    pub org_id: String,
    pub member_id: String,
    pub account: String,
    /// The cached value (earned balance, or an allowance's remainder), if a row exists.
    pub cached: Option<i64>,
    /// For allowances: total and spent of the row.
    pub allowance: Option<Allowance>,
    pub ledger_sum: i64,
}

const ENTRY_COLUMNS: &str = "id, org_id, member_id, account, kind, amount, reference, created_at";

fn entry_from(r: &crate::sql::Row) -> LedgerEntry {
    LedgerEntry {
        id: r.text(0),
        org_id: r.text(1),
        member_id: r.opt_text(2),
        account: r.text(3),
        kind: r.text(4),
        amount: r.int(5),
        reference: r.text(6),
        created_at: r.int(7),
    }
}

impl Tx<'_> {
    pub fn insert_entry(&mut self, e: &LedgerEntry) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO ledger_entries (id, org_id, member_id, account, kind, amount, reference, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    &e.id,
                    &e.org_id,
                    e.member_id.clone(),
                    &e.account,
                    &e.kind,
                    e.amount,
                    &e.reference,
                    e.created_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    /// A member's entries, newest first, before the entry with id `before`.
    pub fn list_entries(
        &mut self,
        org_id: &str,
        member_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LedgerEntry>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries \
                 WHERE org_id = ?1 AND member_id = ?2 AND (CAST(?3 AS TEXT) IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"),
                params![org_id, member_id, before, limit],
            )
            .map_err(db)?;
        Ok(rows.iter().map(entry_from).collect())
    }

    /// Creates the month's allowance row if missing; true when it was created
    /// (the caller then writes the grant entry).
    pub fn open_allowance(&mut self, org_id: &str, member_id: &str, period: &str, total: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT INTO allowances (org_id, member_id, period, total, spent) VALUES (?1, ?2, ?3, ?4, 0) \
                 ON CONFLICT (org_id, member_id, period) DO NOTHING",
                params![org_id, member_id, period, total],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    pub fn allowance(&mut self, org_id: &str, member_id: &str, period: &str) -> Result<Option<Allowance>> {
        let rows = self
            .conn
            .query(
                "SELECT total, spent FROM allowances WHERE org_id = ?1 AND member_id = ?2 AND period = ?3",
                params![org_id, member_id, period],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| Allowance { total: r.int(0), spent: r.int(1) }))
    }

    /// Spends `amount` of the allowance if that much remains; false otherwise.
    pub fn spend_allowance(&mut self, org_id: &str, member_id: &str, period: &str, amount: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE allowances SET spent = spent + ?4 \
                 WHERE org_id = ?1 AND member_id = ?2 AND period = ?3 AND spent + ?4 <= total",
                params![org_id, member_id, period, amount],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Gives back `amount` of a spent allowance (an undo or a moderation).
    pub fn return_allowance(&mut self, org_id: &str, member_id: &str, period: &str, amount: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE allowances SET spent = spent - ?4 WHERE org_id = ?1 AND member_id = ?2 AND period = ?3 AND spent >= ?4",
                params![org_id, member_id, period, amount],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Sets a month's total, but never below what is already spent; returns
    /// the row before and after.
    pub fn set_allowance_total(
        &mut self,
        org_id: &str,
        member_id: &str,
        period: &str,
        total: i64,
    ) -> Result<Option<(Allowance, Allowance)>> {
        let Some(before) = self.allowance_for_update(org_id, member_id, period)? else { return Ok(None) };
        self.conn
            .execute(
                "UPDATE allowances SET total = CASE WHEN ?4 > spent THEN ?4 ELSE spent END \
                 WHERE org_id = ?1 AND member_id = ?2 AND period = ?3",
                params![org_id, member_id, period, total],
            )
            .map_err(db)?;
        let after = self.allowance(org_id, member_id, period)?.unwrap_or(before);
        Ok(Some((before, after)))
    }

    fn allowance_for_update(&mut self, org_id: &str, member_id: &str, period: &str) -> Result<Option<Allowance>> {
        let lock = if self.dialect() == crate::sql::Dialect::Postgres { " FOR UPDATE" } else { "" };
        let rows = self
            .conn
            .query(
                &format!(
                    "SELECT total, spent FROM allowances WHERE org_id = ?1 AND member_id = ?2 AND period = ?3{lock}"
                ),
                params![org_id, member_id, period],
            )
            .map_err(db)?;
        Ok(rows.first().map(|r| Allowance { total: r.int(0), spent: r.int(1) }))
    }

    /// The members who have an allowance row for `period`.
    pub fn allowance_members(&mut self, org_id: &str, period: &str) -> Result<Vec<String>> {
        let rows = self
            .conn
            .query("SELECT member_id FROM allowances WHERE org_id = ?1 AND period = ?2", params![org_id, period])
            .map_err(db)?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    pub fn credit(&mut self, org_id: &str, member_id: &str, amount: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO balances (org_id, member_id, balance) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (org_id, member_id) DO UPDATE SET balance = balances.balance + ?3",
                params![org_id, member_id, amount],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Takes `amount` from an earned balance if it is there; false otherwise.
    pub fn debit(&mut self, org_id: &str, member_id: &str, amount: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE balances SET balance = balance - ?3 WHERE org_id = ?1 AND member_id = ?2 AND balance >= ?3",
                params![org_id, member_id, amount],
            )
            .map_err(db)?;
        Ok(n == 1 || amount == 0)
    }

    /// The earned balance, locked for the rest of the transaction on PostgreSQL.
    pub fn balance_for_update(&mut self, org_id: &str, member_id: &str) -> Result<i64> {
        let lock = if self.dialect() == crate::sql::Dialect::Postgres { " FOR UPDATE" } else { "" };
        let rows = self
            .conn
            .query(
                &format!("SELECT balance FROM balances WHERE org_id = ?1 AND member_id = ?2{lock}"),
                params![org_id, member_id],
            )
            .map_err(db)?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }

    pub fn balance(&mut self, org_id: &str, member_id: &str) -> Result<i64> {
        let rows = self
            .conn
            .query("SELECT balance FROM balances WHERE org_id = ?1 AND member_id = ?2", params![org_id, member_id])
            .map_err(db)?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }

    /// Every member account with its cached value and its ledger sum, for
    /// `plaudit verify`. The company account has no cached value.
    pub fn account_checks(&mut self) -> Result<Vec<AccountCheck>> {
        let mut sums: std::collections::BTreeMap<(String, String, String), i64> = Default::default();
        for r in self
            .conn
            .query(
                "SELECT org_id, member_id, account, CAST(SUM(amount) AS BIGINT) FROM ledger_entries \
                 WHERE member_id IS NOT NULL GROUP BY org_id, member_id, account",
                &[],
            )
            .map_err(db)?
        {
            sums.insert((r.text(0), r.text(1), r.text(2)), r.int(3));
        }
        let mut checks = Vec::new();
        for r in self.conn.query("SELECT org_id, member_id, balance FROM balances", &[]).map_err(db)? {
            let key = (r.text(0), r.text(1), plaudit_domain::recognition::account::EARNED.to_string());
            let ledger_sum = sums.remove(&key).unwrap_or(0);
            checks.push(AccountCheck {
                org_id: key.0,
                member_id: key.1,
                account: key.2,
                cached: Some(r.int(2)),
                allowance: None,
                ledger_sum,
            });
        }
        for r in self.conn.query("SELECT org_id, member_id, period, total, spent FROM allowances", &[]).map_err(db)? {
            let a = Allowance { total: r.int(3), spent: r.int(4) };
            let key = (r.text(0), r.text(1), plaudit_domain::recognition::account::allowance(&r.text(2)));
            let ledger_sum = sums.remove(&key).unwrap_or(0);
            checks.push(AccountCheck {
                org_id: key.0,
                member_id: key.1,
                account: key.2,
                cached: Some(a.remaining()),
                allowance: Some(a),
                ledger_sum,
            });
        }
        // Entries whose account has no cached row at all.
        for ((org_id, member_id, account), ledger_sum) in sums {
            if account != plaudit_domain::recognition::account::COMPANY {
                checks.push(AccountCheck { org_id, member_id, account, cached: None, allowance: None, ledger_sum });
            }
        }
        Ok(checks)
    }
}

impl Tx<'_> {
    /// Every entry written for one post (its give, receipts, add-ons).
    pub fn entries_for(&mut self, org_id: &str, reference: &str) -> Result<Vec<LedgerEntry>> {
        let rows = self
            .conn
            .query(
                &format!("SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE org_id = ?1 AND reference = ?2 ORDER BY id"),
                params![org_id, reference],
            )
            .map_err(db)?;
        Ok(rows.iter().map(entry_from).collect())
    }
}
