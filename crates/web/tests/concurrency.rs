//! Points under concurrency, on SQLite and PostgreSQL: parallel gifts never
//! overspend an allowance, allowance changes mid-flight keep the ledger
//! sound, one Idempotency-Key posts once however often it arrives, the
//! monthly cap per recipient holds, and celebrations run from two places
//! at once post once.

mod common;

use axum::http::Method;
use common::points::*;
use common::*;
use plaudit_app::recognition::GiveRequest;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

fn give_request(who: &Person, body: &Value, key: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let headers: Vec<(&str, &str)> = key.map(|k| vec![("idempotency-key", k)]).unwrap_or_default();
    build_request(Method::POST, "/api/v1/recognitions", &who.auth, &headers, Some(body))
}

fn codes(resps: &[Resp]) -> Vec<String> {
    resps
        .iter()
        .map(|r| {
            if r.status.is_success() {
                r.status.as_u16().to_string()
            } else {
                r.json()["code"].as_str().unwrap_or("?").to_string()
            }
        })
        .collect()
}

#[track_caller]
fn ledger_is_sound(team: &Team) {
    let problems = team.t.app.verify_ledger().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// 30 gifts of 10 at once from a fresh allowance of 100, through the router.
fn thirty_parallel_gifts_of_ten_from_a_hundred(db: &TestDb) {
    let team = Team::new(db, "acme");
    let dee = team.person("dee@acme.example", json!({}));
    let to = [&team.bob, &team.cy, &dee];
    let reqs = (0..30)
        .map(|i| {
            let body = json!({"recipients": [to[i % 3].id], "points": 10, "message": format!("gift {i}")});
            give_request(&team.ana, &body, None)
        })
        .collect();
    let resps = team.t.send_concurrently(reqs);
    let codes = codes(&resps);
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 10, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "insufficient_allowance").count(), 20, "{codes:?}");
    for r in resps.iter().filter(|r| !r.status.is_success()) {
        let p = r.problem(422, "insufficient_allowance");
        // Refused only when less than 10 was left, i.e. nothing: the message says so.
        assert!(p["detail"].as_str().unwrap().contains("you have 0 points left"), "{p}");
    }
    assert_eq!(team.remaining(&team.ana), 0);
    let earned: i64 = to.iter().map(|p| team.earned(p)).sum();
    assert_eq!(earned, 100, "recipients credited exactly 100 in all");
    assert_eq!(team.feed(&team.ana.auth).len(), 10);
    let entries = team.ledger(&team.ana.auth, &team.ana.id);
    assert_eq!(entries.iter().filter(|e| e["kind"] == "give").count(), 10);
    assert_eq!(
        entries.iter().filter(|e| e["kind"] == "allowance_grant").count(),
        1,
        "one grant, however many opened it"
    );
    ledger_is_sound(&team);
}

/// The same with threads calling the App, from an allowance already in use.
fn parallel_gifts_through_the_app(db: &TestDb) {
    let team = Team::new(db, "acme");
    team.t.put(&team.org.auth, "/api/v1/allowances", &json!({"members": [team.ana.id], "amount": 130})).ok(200);
    team.gift(&team.ana, &[&team.cy], 30); // exactly 100 left
    assert_eq!(team.remaining(&team.ana), 100);
    let caller = team.t.caller(&team.ana.auth);
    let start = Barrier::new(30);
    let results: Vec<Result<(), &'static str>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..30)
            .map(|i| {
                let (app, caller, start) = (team.t.app.clone(), caller.clone(), &start);
                let to = if i % 2 == 0 { team.bob.id.clone() } else { team.cy.id.clone() };
                s.spawn(move || {
                    let req = GiveRequest {
                        recipients: vec![to],
                        points: 10,
                        message: format!("thread {i}"),
                        ..Default::default()
                    };
                    start.wait();
                    app.give(&caller, &req, None).map(|_| ()).map_err(|e| e.code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 10, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err("insufficient_allowance")), "{results:?}");
    assert_eq!(team.remaining(&team.ana), 0);
    assert_eq!(team.earned(&team.bob) + team.earned(&team.cy), 30 + 100);
    ledger_is_sound(&team);
}

/// Two admins take Ana's allowance away while her gifts are in flight.
fn allowance_removed_while_gifts_are_in_flight(db: &TestDb) {
    let team = Team::new(db, "acme");
    let admin2 = team.person("admin2@acme.example", json!({"role": "admin"}));
    let org = team.org.org_id.clone();
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);

    // Through the router: 24 gifts of 5 and two PUTs of 0, all at once.
    team.gift(ana, &[bob], 1);
    let mut reqs: Vec<_> = (0..24)
        .map(|i| {
            give_request(
                ana,
                &json!({"recipients": [if i % 2 == 0 { &bob.id } else { &cy.id }], "points": 5, "message": "m"}),
                None,
            )
        })
        .collect();
    for (at, admin) in [(8, &team.org.auth), (16, &admin2.auth)] {
        let put = build_request(
            Method::PUT,
            "/api/v1/allowances",
            admin,
            &[],
            Some(&json!({"members": [ana.id], "amount": 0})),
        );
        reqs.insert(at, put);
    }
    let resps = team.t.send_concurrently(reqs);
    let codes = codes(&resps);
    assert!(codes.iter().all(|c| c == "200" || c == "201" || c == "insufficient_allowance"), "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "200").count(), 2, "both PUTs: {codes:?}");
    let accepted = codes.iter().filter(|c| *c == "201").count() as i64;
    let period = team.balance(ana)["allowance"]["period"].as_str().unwrap().to_string();
    let a = team.t.app.store.read(|tx| tx.allowance(&org, &ana.id, &period)).unwrap().unwrap();
    assert_eq!(a.spent, 1 + 5 * accepted);
    assert_eq!(a.total, a.spent, "the allowance is now what was already given");
    assert_eq!(team.remaining(ana), 0);
    assert_eq!(team.earned(bob) + team.earned(cy), 1 + 5 * accepted);
    ledger_is_sound(&team);

    // Through the App on threads, with a watcher that never sees a negative remainder.
    let owner = team.t.caller(&team.org.auth);
    let second = team.t.caller(&admin2.auth);
    team.t.app.set_allowance(&owner, Some(std::slice::from_ref(&ana.id)), 200).unwrap();
    let giver = team.t.caller(&ana.auth);
    let done = AtomicBool::new(false);
    let start = Barrier::new(12 + 2 + 1);
    let (gifts, watched) = std::thread::scope(|s| {
        let watcher = {
            let (app, giver, done, start, org, ana_id) =
                (team.t.app.clone(), giver.clone(), &done, &start, org.clone(), ana.id.clone());
            s.spawn(move || {
                start.wait();
                let mut looks = 0;
                while !done.load(Ordering::SeqCst) {
                    let b = app.balance(&giver, &ana_id).unwrap();
                    assert!(b.remaining >= 0 && b.remaining <= b.total, "{b:?}");
                    let checks = app.store.read(|tx| tx.account_checks()).unwrap();
                    for c in checks.iter().filter(|c| c.org_id == org) {
                        assert!(c.cached.unwrap_or(0) >= 0, "{c:?}");
                        if let Some(a) = c.allowance {
                            assert!(a.spent >= 0 && a.spent <= a.total, "{c:?}");
                        }
                    }
                    looks += 1;
                }
                looks
            })
        };
        let admins: Vec<_> = [owner.clone(), second.clone()]
            .into_iter()
            .enumerate()
            .map(|(n, admin)| {
                let (app, start, ana_id) = (team.t.app.clone(), &start, ana.id.clone());
                s.spawn(move || {
                    start.wait();
                    for round in 0..4u64 {
                        std::thread::sleep(std::time::Duration::from_millis(3 * (round + n as u64)));
                        let amount = if round % 2 == n as u64 % 2 { 0 } else { 40 };
                        app.set_allowance(&admin, Some(std::slice::from_ref(&ana_id)), amount).unwrap();
                    }
                    app.set_allowance(&admin, Some(std::slice::from_ref(&ana_id)), 0).unwrap();
                })
            })
            .collect();
        let givers: Vec<_> = (0..12)
            .map(|i| {
                let (app, giver, start) = (team.t.app.clone(), giver.clone(), &start);
                let to = if i % 2 == 0 { bob.id.clone() } else { cy.id.clone() };
                s.spawn(move || {
                    start.wait();
                    let mut accepted = 0;
                    for _ in 0..3 {
                        let req = GiveRequest {
                            recipients: vec![to.clone()],
                            points: 5,
                            message: "m".into(),
                            ..Default::default()
                        };
                        match app.give(&giver, &req, None) {
                            Ok(_) => accepted += 1,
                            Err(e) => assert_eq!(e.code, "insufficient_allowance", "{e}"),
                        }
                    }
                    accepted
                })
            })
            .collect();
        for a in admins {
            a.join().unwrap();
        }
        let gifts: i64 = givers.into_iter().map(|g| g.join().unwrap()).sum();
        done.store(true, Ordering::SeqCst);
        (gifts, watcher.join().unwrap())
    });
    assert!(watched > 0);
    assert_eq!(team.remaining(ana), 0, "the last change was to 0");
    let entries = team.ledger(&team.org.auth, &ana.id);
    let given: i64 =
        -entries.iter().filter(|e| e["kind"] == "give").map(|e| e["amount"].as_i64().unwrap()).sum::<i64>();
    assert_eq!(given, 1 + 5 * accepted + 5 * gifts);
    assert_eq!(team.earned(bob) + team.earned(cy), given);
    ledger_is_sound(&team);
}

/// 20 requests with one Idempotency-Key at once: one post, charged once.
fn one_idempotency_key_posts_once_under_concurrency(db: &TestDb) {
    let team = Team::new(db, "acme");
    let body = json!({"recipients": [team.bob.id], "points": 10, "message": "once"});
    let reqs = (0..20).map(|_| give_request(&team.ana, &body, Some("same-key"))).collect();
    let resps = team.t.send_concurrently(reqs);
    let created: Vec<&Resp> = resps.iter().filter(|r| r.status.as_u16() == 201).collect();
    let replayed: Vec<&Resp> = resps.iter().filter(|r| r.status.as_u16() == 200).collect();
    assert_eq!((created.len(), replayed.len()), (1, 19), "{:?}", codes(&resps));
    assert!(replayed.iter().all(|r| r.header("idempotent-replayed") == Some("true")));
    let id = created[0].json()["id"].clone();
    assert!(resps.iter().all(|r| r.json()["id"] == id));
    assert_eq!(team.feed(&team.ana.auth).len(), 1);
    assert_eq!(team.remaining(&team.ana), 90);
    assert_eq!(team.earned(&team.bob), 10);

    // Add-ons too.
    let path = format!("/api/v1/recognitions/{}/addons", id.as_str().unwrap());
    let reqs = (0..20)
        .map(|_| {
            build_request(
                Method::POST,
                &path,
                &team.cy.auth,
                &[("idempotency-key", "addon-key")],
                Some(&json!({"points": 4})),
            )
        })
        .collect();
    let resps = team.t.send_concurrently(reqs);
    assert_eq!(resps.iter().filter(|r| r.status.as_u16() == 201).count(), 1, "{:?}", codes(&resps));
    assert_eq!(resps.iter().filter(|r| r.status.as_u16() == 200).count(), 19, "{:?}", codes(&resps));
    assert_eq!(team.remaining(&team.cy), 96);
    assert_eq!(team.earned(&team.bob), 14);
    ledger_is_sound(&team);
}

/// The per-recipient monthly cap holds when one giver's gifts race.
fn the_monthly_cap_holds_under_concurrency(db: &TestDb) {
    let team = Team::new(db, "acme");
    team.settings(json!({"max_points_per_recipient_per_month": 30}));
    let body = json!({"recipients": [team.bob.id], "points": 10, "message": "m"});
    let resps = team.t.send_concurrently((0..12).map(|_| give_request(&team.ana, &body, None)).collect());
    let codes = codes(&resps);
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 3, "{codes:?}");
    assert!(codes.iter().all(|c| c == "201" || c == "recipient_monthly_cap"), "{codes:?}");
    assert_eq!(team.earned(&team.bob), 30);
    assert_eq!(team.remaining(&team.ana), 70);
    ledger_is_sound(&team);
}

/// Everyone gives everyone and adds on at once: no deadlock surfaces, and
/// every point is accounted for.
fn a_storm_of_mutual_gifts(db: &TestDb) {
    let team = Team::new(db, "acme");
    let people = [&team.owner, &team.ana, &team.bob, &team.cy];
    let seed = team.gift(&team.owner, &[&team.ana], 5);
    let seed_id = seed["id"].as_str().unwrap().to_string();
    let mut reqs = Vec::new();
    for giver in people {
        for round in 0..6 {
            let others: Vec<&str> = people.iter().filter(|p| p.id != giver.id).map(|p| p.id.as_str()).collect();
            let body = json!({"recipients": others, "points": 3 + round, "message": "storm"});
            reqs.push(give_request(giver, &body, None));
        }
        for adder in [&team.bob, &team.cy] {
            let path = format!("/api/v1/recognitions/{seed_id}/addons");
            reqs.push(build_request(Method::POST, &path, &adder.auth, &[], Some(&json!({"points": 2}))));
        }
    }
    let resps = team.t.send_concurrently(reqs);
    let codes = codes(&resps);
    assert!(codes.iter().all(|c| c == "201" || c == "insufficient_allowance"), "{codes:?}");
    let spent: i64 = people.iter().map(|p| 100 - team.remaining(p)).sum();
    let earned: i64 = people.iter().map(|p| team.earned(p)).sum();
    assert_eq!(spent, earned);
    ledger_is_sound(&team);
}

/// The daily job run from two places at the same moment posts each
/// celebration once and awards once.
fn celebrations_run_at_once_post_once(db: &TestDb) {
    let team = Team::new(db, "acme");
    team.settings(
        json!({"anniversary_award_points": 10, "birthday_award_points": 3, "timezone": "America/Los_Angeles"}),
    );
    let now = local_ms("2026-03-08T09:00:00[America/Los_Angeles]");
    let mut people = Vec::new();
    for i in 0..6 {
        let extra =
            json!({"start_date": format!("{}-03-08", 2015 + i), "birthday": if i % 2 == 0 { "03-08" } else { "" }});
        people.push(team.person(&format!("p{i}@acme.example"), extra));
    }
    let expected = 6 + 3;
    let second = TestApp::new(db); // another instance over the same database
    for round in 0..2 {
        let start = Barrier::new(4);
        let apps = [team.t.app.clone(), team.t.app.clone(), second.app.clone(), second.app.clone()];
        let posted: u64 = std::thread::scope(|s| {
            let hs: Vec<_> = apps
                .into_iter()
                .map(|app| {
                    let start = &start;
                    s.spawn(move || {
                        start.wait();
                        app.run_celebrations_at(now + round * 60_000).unwrap()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(posted, if round == 0 { expected } else { 0 }, "round {round}");
    }
    assert_eq!(team.feed(&team.ana.auth).len() as u64, expected);
    for (i, p) in people.iter().enumerate() {
        assert_eq!(team.earned(p), 10 + if i % 2 == 0 { 3 } else { 0 }, "{}", p.email);
    }
    ledger_is_sound(&team);
}

backend_tests!(
    thirty_parallel_gifts_of_ten_from_a_hundred,
    parallel_gifts_through_the_app,
    allowance_removed_while_gifts_are_in_flight,
    one_idempotency_key_posts_once_under_concurrency,
    the_monthly_cap_holds_under_concurrency,
    a_storm_of_mutual_gifts,
    celebrations_run_at_once_post_once,
);
