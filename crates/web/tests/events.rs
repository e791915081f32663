//! The outbox: each change queues its event in the same transaction, with
//! the resource as JSON; a refused change queues nothing; the job runner
//! drains the queue. On SQLite and PostgreSQL.

mod common;

use common::*;
use plaudit_app::now_ms;
use plaudit_domain::events::{Event, EventKind};
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::json;

fn events(t: &TestApp, org_id: &str) -> Vec<Event> {
    let mut jobs = t.app.store.read(|tx| tx.list_jobs(org_id, Some("event"), 100)).unwrap();
    jobs.reverse(); // oldest first
    jobs.iter().map(|j| serde_json::from_str(&j.payload).unwrap()).collect()
}

fn changes_queue_their_events_and_refusals_queue_none(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let ana = t.add_member(&o.auth, "ana@acme.example", json!({}));
    let created = events(&t, &o.org_id);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].kind, EventKind::MemberCreated);
    assert_eq!(created[0].data["email"], "ana@acme.example");
    assert_eq!(created[0].org_id, o.org_id);

    let given = t
        .post(&o.auth, "/api/v1/recognitions", &json!({"recipients": [ana["id"]], "points": 5, "message": "Thanks!"}))
        .ok(201);
    // Refused: self-recognition. Nothing is queued for it.
    t.post(&o.auth, "/api/v1/recognitions", &json!({"recipients": [o.owner_id], "points": 5, "message": "me"}))
        .problem(422, "self_recognition");
    t.patch(&o.auth, &format!("/api/v1/members/{}", ana["id"].as_str().unwrap()), &json!({"status": "inactive"}))
        .ok(200);
    let all = events(&t, &o.org_id);
    let kinds: Vec<_> = all.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::MemberCreated, EventKind::RecognitionCreated, EventKind::MemberDeactivated]);
    let r = &all[1].data;
    assert_eq!((r["id"].clone(), r["points"].clone()), (given["id"].clone(), json!(5)));
    assert_eq!(r["recipient_ids"], json!([ana["id"]]));
    assert_eq!(r["giver_id"], json!(o.owner_id));
    assert_eq!(all[2].data["status"], "inactive");
    // Event ids are unique: receivers dedupe on them.
    assert_ne!(all[0].id, all[1].id);

    // Another org's events stay its own.
    let other = t.signup("globex");
    assert!(events(&t, &other.org_id).is_empty());
    assert_eq!(events(&t, &o.org_id).len(), 3);

    // The runner drains them.
    let ran = t.app.run_due_jobs_at(now_ms() + 1, 100).unwrap();
    assert!(ran >= 3, "{ran}");
    assert!(events(&t, &o.org_id).is_empty());
}

backend_tests!(changes_queue_their_events_and_refusals_queue_none);
