//! Running background jobs. Any instance calls `run_due_jobs` every few
//! seconds; each job is claimed with a lease, run outside any transaction
//! (it may call other services), then finished, retried later or failed.
//! Handlers must tolerate running twice (a lease can expire mid-run).

use crate::{now_ms, App};
use plaudit_domain::events::{retry_delay_ms, Event};
use plaudit_domain::Result;
use plaudit_store::Job;

/// The job kind of a published event waiting to be fanned out.
pub const EVENT_JOB: &str = "event";

/// How long a claimed job is held before another instance may take it over.
const LEASE_MS: i64 = 5 * 60 * 1000;

/// What running a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// A temporary failure: try again after `after_ms` (e.g. a `Retry-After`),
    /// or on the usual back-off schedule when `None`.
    Retry {
        error: String,
        after_ms: Option<i64>,
    },
    /// Give up now (a permanent failure).
    Failed(String),
}

impl App {
    /// Runs the jobs that are due now; returns how many ran.
    pub fn run_due_jobs(&self) -> Result<usize> {
        let mut total = 0;
        // Drain in batches, so a burst does not wait for the next tick.
        loop {
            let ran = self.run_due_jobs_at(now_ms(), 50)?;
            total += ran;
            if ran < 50 {
                return Ok(total);
            }
        }
    }

    /// One batch of at most `limit` jobs due at `now`.
    pub fn run_due_jobs_at(&self, now: i64, limit: i64) -> Result<usize> {
        let jobs = self.store.write(|tx| tx.claim_due_jobs(now, LEASE_MS, limit))?;
        for job in &jobs {
            let outcome = self.run_job(job);
            self.settle_job(job, outcome, now)?;
        }
        Ok(jobs.len())
    }

    fn run_job(&self, job: &Job) -> Outcome {
        match job.kind.as_str() {
            EVENT_JOB => match serde_json::from_str::<Event>(&job.payload) {
                Ok(event) => match self.fan_out(&event) {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Retry { error: e.to_string(), after_ms: None },
                },
                Err(e) => Outcome::Failed(format!("unreadable event: {e}")),
            },
            crate::mail::EMAIL_JOB => self.run_mail_job(job),
            other => Outcome::Failed(format!("unknown job kind {other:?}")),
        }
    }

    fn settle_job(&self, job: &Job, outcome: Outcome, now: i64) -> Result<()> {
        let finished_at = now_ms().max(now);
        self.store.write(|tx| {
            let kept = match &outcome {
                Outcome::Done => tx.finish_job(&job.id, job.attempts)?,
                Outcome::Retry { error, after_ms } => {
                    let delay = after_ms
                        .or_else(|| retry_delay_ms(job.attempts.max(1) as u32, job.created_at, finished_at, jitter()));
                    match delay {
                        Some(d) => tx.retry_job(&job.id, job.attempts, finished_at + d, error, finished_at)?,
                        None => tx.fail_job(&job.id, job.attempts, error, finished_at)?,
                    }
                }
                Outcome::Failed(error) => tx.fail_job(&job.id, job.attempts, error, finished_at)?,
            };
            if !kept {
                tracing::warn!(job = %job.id, kind = %job.kind, "a job's lease expired while it ran; it may run again");
            }
            Ok(())
        })
    }

    /// Hands an event to everything that listens for it. Each subscriber
    /// queues its own jobs, so one slow receiver never holds up another.
    fn fan_out(&self, event: &Event) -> Result<()> {
        tracing::debug!(event = %event.id, kind = event.kind.as_str(), "event published");
        self.mail_on_event(event)?;
        Ok(())
    }
}

/// A uniform draw in 0.0..1.0 for back-off jitter.
fn jitter() -> f64 {
    // The low 53 bits of a v4 UUID are random (its version and variant bits sit higher).
    (uuid::Uuid::new_v4().as_u128() & ((1u128 << 53) - 1)) as f64 / (1u64 << 53) as f64
}
