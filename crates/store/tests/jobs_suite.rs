//! The job queue on SQLite and PostgreSQL: claiming with a lease, retry,
//! failure, dedupe keys, takeover after an expired lease, and concurrent
//! claimers that never take the same job.

use plaudit_domain::org::{Org, Plan};
use plaudit_store::testing::TestDb;
use plaudit_store::{backend_tests, new_id, JobState, Store};
use std::collections::HashSet;

fn org(db: &TestDb, slug: &str) -> Org {
    let o = Org::with_defaults(new_id(), slug.into(), slug.into(), "UTC".into(), Plan::Paid, 1);
    db.write(|tx| tx.insert_org(&o)).unwrap();
    o
}

fn claims_only_due_jobs_and_finishes_them(db: &TestDb) {
    let o = org(db, "acme");
    let now = 1_000_000;
    let due = db.write(|tx| tx.enqueue_job(&o.id, "event", "{}", None, now, now)).unwrap().unwrap();
    db.write(|tx| tx.enqueue_job(&o.id, "event", "{\"later\":1}", None, now + 60_000, now)).unwrap().unwrap();
    assert!(!db.read(|tx| tx.has_due_jobs(now - 1)).unwrap());
    assert!(db.read(|tx| tx.has_due_jobs(now)).unwrap());
    let jobs = db.write(|tx| tx.claim_due_jobs(now, 1000, 10)).unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(!db.read(|tx| tx.has_due_jobs(now)).unwrap());
    assert_eq!(jobs[0].id, due);
    assert_eq!((jobs[0].state, jobs[0].attempts, jobs[0].locked_until), (JobState::Running, 1, Some(now + 1000)));
    // Held by its lease: nobody else claims it meanwhile.
    assert!(db.write(|tx| tx.claim_due_jobs(now + 500, 1000, 10)).unwrap().is_empty());
    assert!(db.write(|tx| tx.finish_job(&due, 1)).unwrap());
    let left = db.read(|tx| tx.list_jobs(&o.id, None, 10)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].payload, "{\"later\":1}");
    assert_eq!(db.read(|tx| tx.count_pending_jobs()).unwrap(), 1);
}

fn retries_later_and_failure_keeps_the_error(db: &TestDb) {
    let o = org(db, "acme");
    let now = 5_000_000;
    let id = db.write(|tx| tx.enqueue_job(&o.id, "webhook", "{}", None, now, now)).unwrap().unwrap();
    let job = db.write(|tx| tx.claim_due_jobs(now, 1000, 10)).unwrap().remove(0);
    assert!(db.write(|tx| tx.retry_job(&id, job.attempts, now + 30_000, "503 from receiver", now)).unwrap());
    assert!(db.write(|tx| tx.claim_due_jobs(now + 29_999, 1000, 10)).unwrap().is_empty());
    let again = db.write(|tx| tx.claim_due_jobs(now + 30_000, 1000, 10)).unwrap().remove(0);
    assert_eq!((again.attempts, again.last_error.as_deref()), (2, Some("503 from receiver")));
    assert!(db.write(|tx| tx.fail_job(&id, 2, "gave up", now + 31_000)).unwrap());
    // A failed job is kept for the admin and never claimed again.
    assert!(db.write(|tx| tx.claim_due_jobs(now + 10_000_000, 1000, 10)).unwrap().is_empty());
    let kept = db.read(|tx| tx.list_jobs(&o.id, Some("webhook"), 10)).unwrap();
    assert_eq!((kept[0].state, kept[0].last_error.as_deref()), (JobState::Failed, Some("gave up")));
    assert!(db.read(|tx| tx.list_jobs(&o.id, Some("event"), 10)).unwrap().is_empty());
    assert_eq!(db.read(|tx| tx.count_pending_jobs()).unwrap(), 0);
}

fn an_expired_lease_is_taken_over_and_the_old_runner_cannot_settle(db: &TestDb) {
    let o = org(db, "acme");
    let now = 9_000_000;
    let id = db.write(|tx| tx.enqueue_job(&o.id, "email", "{}", None, now, now)).unwrap().unwrap();
    let first = db.write(|tx| tx.claim_due_jobs(now, 1000, 10)).unwrap().remove(0);
    let second = db.write(|tx| tx.claim_due_jobs(now + 1001, 1000, 10)).unwrap().remove(0);
    assert_eq!((second.id.as_str(), second.attempts), (id.as_str(), 2));
    // The first runner's answer comes too late and changes nothing.
    assert!(!db.write(|tx| tx.finish_job(&id, first.attempts)).unwrap());
    assert!(!db.write(|tx| tx.retry_job(&id, first.attempts, now, "late", now)).unwrap());
    assert!(db.write(|tx| tx.finish_job(&id, second.attempts)).unwrap());
}

fn a_dedupe_key_queues_once_per_org(db: &TestDb) {
    let a = org(db, "acme");
    let b = org(db, "globex");
    let now = 1;
    assert!(db.write(|tx| tx.enqueue_job(&a.id, "digest", "{}", Some("2026-W49:m1"), now, now)).unwrap().is_some());
    assert!(db.write(|tx| tx.enqueue_job(&a.id, "digest", "{}", Some("2026-W49:m1"), now, now)).unwrap().is_none());
    assert!(db.write(|tx| tx.enqueue_job(&b.id, "digest", "{}", Some("2026-W49:m1"), now, now)).unwrap().is_some());
    assert!(db.write(|tx| tx.enqueue_job(&a.id, "digest", "{}", None, now, now)).unwrap().is_some());
    assert!(db.write(|tx| tx.enqueue_job(&a.id, "digest", "{}", None, now, now)).unwrap().is_some());
    assert_eq!(db.read(|tx| tx.list_jobs(&a.id, None, 10)).unwrap().len(), 3);
    assert_eq!(db.read(|tx| tx.list_jobs(&b.id, None, 10)).unwrap().len(), 1);
    assert_eq!(db.write(|tx| tx.delete_org_jobs(&a.id)).unwrap(), 3);
    assert_eq!(db.read(|tx| tx.list_jobs(&b.id, None, 10)).unwrap().len(), 1);
}

fn concurrent_claimers_never_take_the_same_job(db: &TestDb) {
    let o = org(db, "acme");
    let now = 1_000;
    db.write(|tx| {
        for i in 0..200 {
            tx.enqueue_job(&o.id, "event", &format!("{{\"i\":{i}}}"), None, now, now)?;
        }
        Ok(())
    })
    .unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let store = Store::open(&url).unwrap();
                let mut mine = Vec::new();
                loop {
                    let batch = store.write(|tx| tx.claim_due_jobs(now, 60_000, 7)).unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    for job in batch {
                        assert!(store.write(|tx| tx.finish_job(&job.id, job.attempts)).unwrap());
                        mine.push(job.id);
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for w in workers {
        for id in w.join().unwrap() {
            total += 1;
            assert!(seen.insert(id), "a job was claimed twice");
        }
    }
    assert_eq!(total, 200);
    assert_eq!(db.read(|tx| tx.count_pending_jobs()).unwrap(), 0);
}

backend_tests!(
    claims_only_due_jobs_and_finishes_them,
    retries_later_and_failure_keeps_the_error,
    an_expired_lease_is_taken_over_and_the_old_runner_cannot_settle,
    a_dedupe_key_queues_once_per_org,
    concurrent_claimers_never_take_the_same_job,
);
