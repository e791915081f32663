//! The durable job queue. Jobs are claimed with a lease (`locked_until`) so
//! that each runs on one instance at a time, and one whose instance died runs
//! again once its lease expires. PostgreSQL claims with `FOR UPDATE SKIP
//! LOCKED`, so instances never wait for each other; SQLite has one writer.

use crate::sql::{Dialect, Row};
use crate::{db, new_id, params, Tx};
use plaudit_domain::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by an instance until `locked_until`.
    Running,
    /// Gave up: kept for the admin to see.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    pub run_at: i64,
    /// How many times the job was claimed, this claim included.
    pub attempts: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const JOB_COLUMNS: &str =
    "id, org_id, kind, payload, dedupe_key, state, run_at, attempts, locked_until, last_error, created_at, updated_at";

fn job_from(r: &Row) -> Job {
    Job {
        id: r.text(0),
        org_id: r.text(1),
        kind: r.text(2),
        payload: r.text(3),
        dedupe_key: r.opt_text(4),
        state: JobState::parse(&r.text(5)),
        run_at: r.int(6),
        attempts: r.int(7),
        locked_until: r.opt_int(8),
        last_error: r.opt_text(9),
        created_at: r.int(10),
        updated_at: r.int(11),
    }
}

impl Tx<'_> {
    /// Queues a job to run at `run_at`. With a `dedupe_key`, a second job with
    /// the same key in the org is not queued: the answer is then `None`.
    pub fn enqueue_job(
        &mut self,
        org_id: &str,
        kind: &str,
        payload: &str,
        dedupe_key: Option<&str>,
        run_at: i64,
        now: i64,
    ) -> Result<Option<String>> {
        let id = new_id();
        let n = self
            .conn
            .execute(
                "INSERT INTO jobs (id, org_id, kind, payload, dedupe_key, state, run_at, attempts, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, 0, ?7, ?7) ON CONFLICT (org_id, dedupe_key) DO NOTHING",
                params![&id, org_id, kind, payload, dedupe_key, run_at, now],
            )
            .map_err(db)?;
        Ok((n == 1).then_some(id))
    }

    /// Claims up to `limit` due jobs (queued and due, or running with an
    /// expired lease) for `lease_ms`, oldest first, counting the attempt.
    pub fn claim_due_jobs(&mut self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<Job>> {
        let lock = if self.dialect() == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE jobs SET state = 'running', locked_until = ?2, attempts = attempts + 1, updated_at = ?1 \
             WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= ?1) \
                 OR (state = 'running' AND locked_until < ?1) ORDER BY run_at, id LIMIT ?3{lock}) \
             RETURNING {JOB_COLUMNS}"
        );
        let mut jobs: Vec<Job> =
            self.conn.query(&sql, params![now, now + lease_ms, limit]).map_err(db)?.iter().map(job_from).collect();
        jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        Ok(jobs)
    }

    /// Whether any job is due (a cheap read, so an idle queue never takes the writer).
    pub fn has_due_jobs(&mut self, now: i64) -> Result<bool> {
        let rows = self
            .conn
            .query(
                "SELECT 1 FROM jobs WHERE (state = 'queued' AND run_at <= ?1) OR (state = 'running' AND locked_until < ?1) LIMIT 1",
                params![now],
            )
            .map_err(db)?;
        Ok(!rows.is_empty())
    }

    /// A job that ran: it is removed. False when its lease was lost (another
    /// instance claimed it again), so the caller knows it may have run twice.
    pub fn finish_job(&mut self, id: &str, attempts: i64) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM jobs WHERE id = ?1 AND state = 'running' AND attempts = ?2", params![id, attempts])
            .map_err(db)?;
        Ok(n == 1)
    }

    /// A job that failed and will be tried again at `run_at`.
    pub fn retry_job(&mut self, id: &str, attempts: i64, run_at: i64, error: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET state = 'queued', run_at = ?3, locked_until = NULL, last_error = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND state = 'running' AND attempts = ?2",
                params![id, attempts, run_at, error, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// A job given up on; it stays, marked failed, with its last error.
    pub fn fail_job(&mut self, id: &str, attempts: i64, error: &str, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND state = 'running' AND attempts = ?2",
                params![id, attempts, error, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// An org's jobs of one kind, newest first (admin views, tests).
    pub fn list_jobs(&mut self, org_id: &str, kind: Option<&str>, limit: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE org_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) \
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        );
        Ok(self.conn.query(&sql, params![org_id, kind, limit]).map_err(db)?.iter().map(job_from).collect())
    }

    /// Drops every job of an org (used after generating demo history).
    pub fn delete_org_jobs(&mut self, org_id: &str) -> Result<u64> {
        self.conn.execute("DELETE FROM jobs WHERE org_id = ?1", params![org_id]).map_err(db)
    }

    /// How many jobs wait or run, over every org (`/metrics`).
    pub fn count_pending_jobs(&mut self) -> Result<i64> {
        let rows = self.conn.query("SELECT COUNT(*) FROM jobs WHERE state <> 'failed'", &[]).map_err(db)?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
    }
}
