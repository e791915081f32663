//! Edge cases found by trying to break giving: allowance changes reaching
//! the current month, overflowing amounts, split-pot rules, repeated
//! recipients, sign-out CSRF and bad query strings.

mod common;

use common::points::*;
use common::*;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::json;

fn allowance_changes_reach_the_current_month(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    team.gift(ana, &[bob], 30); // opens Ana's month: 100 - 30 = 70 left
    assert_eq!(team.remaining(ana), 70);

    // A member's override follows into this month…
    team.patch_member(&ana.id, json!({"allowance_override": 120}));
    assert_eq!(team.balance(ana)["allowance"]["total"], 120);
    assert_eq!(team.remaining(ana), 90);
    // …but never below what was already given.
    team.patch_member(&ana.id, json!({"allowance_override": 10}));
    assert_eq!((team.balance(ana)["allowance"]["total"].as_i64(), team.remaining(ana)), (Some(30), 0));
    // Clearing the override returns to the organisation's default.
    team.patch_member(&ana.id, json!({"allowance_override": null}));
    assert_eq!(team.remaining(ana), 70);

    // The organisation's default reaches everyone without an override, opened month or not.
    team.gift(bob, &[cy], 10);
    team.patch_member(&cy.id, json!({"allowance_override": 5}));
    team.settings(json!({"default_allowance": 300}));
    assert_eq!(team.remaining(ana), 270);
    assert_eq!(team.remaining(bob), 290);
    assert_eq!(team.balance(cy)["allowance"]["total"], 5, "an override wins over the default");
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
    let entries = team.ledger(&ana.auth, &ana.id);
    let period = team.balance(ana)["allowance"]["period"].as_str().unwrap().to_string();
    assert_eq!(sum_of(&entries, &format!("allowance:{period}")), 270, "the ledger agrees with the balance");
}

fn huge_amounts_are_refused_not_overflowed(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let before = team.snapshot();
    for points in [i64::MAX, 4_611_686_018_427_387_904, 2_049_638_230_412_172_402] {
        team.give(ana, json!({"recipients": [bob.id, cy.id], "points": points, "message": "x"}))
            .problem(422, "points_over_maximum");
    }
    team.give(ana, json!({"recipients": [bob.id, cy.id], "split_total": i64::MAX, "message": "x"}))
        .problem(422, "points_over_maximum");
    team.give(ana, json!({"recipients": [bob.id], "points": 5, "split_total": 10, "message": "x"}))
        .problem(422, "validation_failed");
    assert_eq!(team.snapshot(), before);
}

fn a_split_that_leaves_someone_empty_needs_zero_point_posts(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    team.settings(json!({"allow_zero_point_posts": false}));
    let before = team.snapshot();
    team.give(ana, json!({"recipients": [bob.id, cy.id], "split_total": 1, "message": "x"}))
        .problem(422, "zero_points_not_allowed");
    assert_eq!(team.snapshot(), before);
    team.settings(json!({"allow_zero_point_posts": true}));
    let post = team.give(ana, json!({"recipients": [bob.id, cy.id], "split_total": 1, "message": "x"})).ok(201);
    assert_eq!(post["recipients"][0]["points"], 1);
    assert_eq!(post["recipients"][1]["points"], 0);
}

fn a_recipient_named_many_times_counts_once(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob) = (&team.ana, &team.bob);
    let mut names: Vec<String> = (0..200).map(|_| bob.id.clone()).collect();
    names.push(bob.email.to_uppercase());
    let post = team.give(ana, json!({"recipients": names, "points": 10, "message": "x"})).ok(201);
    assert_eq!(post["recipient_ids"].as_array().unwrap().len(), 1);
    assert_eq!(team.remaining(ana), 90);
    let n =
        team.t.put(&team.org.auth, "/api/v1/allowances", &json!({"members": [bob.id, bob.id], "amount": 40})).ok(200);
    assert_eq!(n["updated"], 1);
}

fn signing_out_needs_the_csrf_token_and_queries_are_checked(db: &TestDb) {
    let team = Team::new(db, "acme");
    let signed_in = team.org.auth.clone();
    let Auth::Session { cookie, .. } = &signed_in else { panic!("the owner signs in with a session") };
    let forged = Auth::CookieOnly(cookie.clone());
    team.t.delete(&forged, "/api/v1/session").problem(403, "csrf_failed");
    team.t.get(&signed_in, "/api/v1/me").ok(200);
    for path in [
        "/api/v1/recognitions?limit=abc",
        "/api/v1/ledger?limit=1e3",
        "/api/v1/recognitions?limit=99999999999999999999",
    ] {
        team.t.get(&signed_in, path).problem(422, "validation_failed");
    }
}

backend_tests!(
    allowance_changes_reach_the_current_month,
    huge_amounts_are_refused_not_overflowed,
    a_split_that_leaves_someone_empty_needs_zero_point_posts,
    a_recipient_named_many_times_counts_once,
    signing_out_needs_the_csrf_token_and_queries_are_checked,
);
