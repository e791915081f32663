//! Running background jobs. Any instance calls `run_due_jobs` every few
//! seconds; each job is claimed with a lease, run outside any transaction
//! (it may call other services), then finished, retried later or failed.
//! Handlers must tolerate running twice (a lease can expire mid-run).

use crate::{now_ms, App};
use plaudit_domain::events::{retry_delay_ms, Event, EventKind};
use plaudit_domain::Result;
use plaudit_store::Job;

/// The job kind of a published event waiting to be fanned out.
pub const EVENT_JOB: &str = "event";

/// The job kind that posts a recognition to the chat channels.
pub const ANNOUNCE_JOB: &str = "chat.announce";

/// How long a claimed job is held before another instance may take it over.
const LEASE_MS: i64 = 5 * 60 * 1000;

/// Jobs of a batch run side by side, this many at a time, so one slow
/// receiver (a webhook timing out) does not hold up the others' jobs.
const PARALLEL_JOBS: usize = 8;

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

    /// One batch of at most `limit` jobs due at `now`, run side by side
    /// (`PARALLEL_JOBS` at a time; the store serialises their writes as needed).
    pub fn run_due_jobs_at(&self, now: i64, limit: i64) -> Result<usize> {
        if !self.store.read(|tx| tx.has_due_jobs(now))? {
            return Ok(0);
        }
        let jobs = self.store.write(|tx| tx.claim_due_jobs(now, LEASE_MS, limit))?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let first_error = std::sync::Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..PARALLEL_JOBS.min(jobs.len()) {
                s.spawn(|| {
                    while let Some(job) = jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                        let outcome = self.run_job_caught(job, now);
                        if let Err(e) = self.settle_job(job, outcome, now) {
                            // The job stays claimed; it runs again once its lease expires.
                            first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        }
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(jobs.len()),
        }
    }

    /// Runs a job; a handler that panics fails its job (with the panic's
    /// message) instead of taking the runner down or staying claimed.
    fn run_job_caught(&self, job: &Job, now: i64) -> Outcome {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_job(job, now))).unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(job = %job.id, kind = %job.kind, panic = %what, "a job panicked");
            Outcome::Failed(format!("the job panicked: {what}"))
        })
    }

    fn run_job(&self, job: &Job, now: i64) -> Outcome {
        match job.kind.as_str() {
            EVENT_JOB => match serde_json::from_str::<Event>(&job.payload) {
                Ok(event) => match self.fan_out(&event) {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Retry { error: e.to_string(), after_ms: None },
                },
                Err(e) => Outcome::Failed(format!("unreadable event: {e}")),
            },
            crate::webhooks::DELIVER_JOB => self.run_webhook_job(job, now),
            ANNOUNCE_JOB => self.run_announce_job(job),
            crate::mail::EMAIL_JOB => self.run_mail_job(job),
            #[cfg(test)]
            "test.panic" => panic!("a test job that panics"),
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
        self.fan_out_webhooks(event)?;
        if event.kind == EventKind::RecognitionCreated {
            self.queue_announcement(event)?;
        }
        self.mail_on_event(event)?;
        Ok(())
    }

    /// A new recognition goes to the org's Slack channel and Teams
    /// Workflows URL, if either is set up, by its own job (posting may wait
    /// on Slack's rate limits).
    fn queue_announcement(&self, event: &Event) -> Result<()> {
        let Some(id) = event.data["id"].as_str() else { return Ok(()) };
        // Most organisations have no chat set up: a read settles that without the writer.
        let configured = self.store.read(|tx| {
            let slack = tx.slack_install(&event.org_id)?.is_some_and(|i| !i.channel_id.is_empty());
            Ok(slack || tx.teams_config(&event.org_id)?.is_some())
        })?;
        if !configured {
            return Ok(());
        }
        let payload = serde_json::json!({"recognition_id": id}).to_string();
        let key = format!("announce:{id}");
        let now = now_ms();
        self.store.write(|tx| tx.enqueue_job(&event.org_id, ANNOUNCE_JOB, &payload, Some(&key), now, now)).map(|_| ())
    }

    fn run_announce_job(&self, job: &Job) -> Outcome {
        let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
        let Some(id) = payload["recognition_id"].as_str() else {
            return Outcome::Failed("an announcement without a recognition".into());
        };
        match self.announce_recognition(&job.org_id, id) {
            // Each integration's own failure is its last error on the admin page.
            Ok(_) => Outcome::Done,
            Err(e) if e.kind == plaudit_domain::ErrorKind::NotFound => Outcome::Done,
            Err(e) => Outcome::Retry { error: e.to_string(), after_ms: None },
        }
    }
}

/// A uniform draw in 0.0..1.0 for back-off jitter.
pub(crate) fn jitter() -> f64 {
    // The low 53 bits of a v4 UUID are random (its version and variant bits sit higher).
    (uuid::Uuid::new_v4().as_u128() & ((1u128 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orgs::NewOrg;
    use plaudit_domain::org::Plan;
    use plaudit_store::{JobState, Store};

    #[test]
    fn a_panicking_job_is_failed_and_the_others_still_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        store.migrate().unwrap();
        let app = App::new(store, crate::Config::default());
        let (org, _) = app
            .create_org(NewOrg {
                name: "Acme".into(),
                slug: "acme".into(),
                timezone: "UTC".into(),
                plan: Plan::Paid,
                owner_email: "owner@acme.example".into(),
                owner_name: "Owner".into(),
                owner_password: None,
            })
            .unwrap();
        let now = now_ms();
        app.store
            .write(|tx| {
                tx.enqueue_job(&org.id, "test.panic", "{}", None, now, now)?;
                tx.enqueue_job(&org.id, "no.such.kind", "{}", None, now, now)
            })
            .unwrap();
        assert_eq!(app.run_due_jobs_at(now + 1, 10).unwrap(), 2);
        let jobs = app.store.read(|tx| tx.list_jobs(&org.id, None, 10)).unwrap();
        let panicked = jobs.iter().find(|j| j.kind == "test.panic").unwrap();
        assert_eq!(panicked.state, JobState::Failed);
        assert!(panicked.last_error.as_deref().unwrap().contains("a test job that panics"));
        assert!(jobs.iter().all(|j| j.state == JobState::Failed), "{jobs:?}");
        // Nothing is left claimed: a later round finds nothing to run.
        assert_eq!(app.run_due_jobs_at(now + 10 * 60 * 1000, 10).unwrap(), 0);
    }
}
