//! Giving recognition and everything around a post, through the API, on
//! SQLite and PostgreSQL: the one-transaction gift and its refusals (each
//! proven to change nothing), idempotency, the ledger and balances,
//! reactions, comments, add-ons, hiding, undo, split pots, company awards,
//! celebrations, allowance months and tenant isolation.

mod common;

use axum::http::Method;
use common::points::*;
use common::*;
use plaudit_app::recognition::GiveRequest;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

// ------------------------------------------------------------------ giving

fn a_gift_charges_the_giver_and_credits_each_recipient(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let teamwork = team.t.post(&team.org.auth, "/api/v1/values", &json!({"name": "Teamwork", "emoji": "🤝"})).ok(201);
    let resp = team.give(
        ana,
        json!({"recipients": [bob.id, cy.email], "points": 15, "message": "Great launch!", "values": ["#teamwork"]}),
    );
    let post = resp.ok(201);
    assert_eq!(resp.header("idempotent-replayed"), Some("false"));
    assert_eq!(post["giver_id"], ana.id.as_str());
    assert_eq!(ids(&post["recipient_ids"]), [bob.id.clone(), cy.id.clone()]);
    assert_eq!(post["points"], 15);
    assert_eq!(post["kind"], "peer");
    assert_eq!(ids(&post["value_ids"]), [teamwork["id"].as_str().unwrap()]);

    assert_eq!(team.remaining(ana), 100 - 30, "points × recipients from the allowance");
    assert_eq!(team.earned(ana), 0);
    assert_eq!(team.earned(bob), 15);
    assert_eq!(team.earned(cy), 15);
    assert_eq!(team.remaining(bob), 100, "receiving does not touch the allowance");

    let feed = team.feed(&cy.auth);
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0]["id"], post["id"]);
    let got = team.t.get(&bob.auth, &format!("/api/v1/recognitions/{}", post["id"].as_str().unwrap())).ok(200);
    assert_eq!(got["message"], "Great launch!");

    // The ledger tells the same story: a grant, the give, and one receipt each.
    let ana_entries = team.ledger(&ana.auth, &ana.id);
    let mut kinds: Vec<(String, i64)> =
        ana_entries.iter().map(|e| (e["kind"].as_str().unwrap().to_string(), e["amount"].as_i64().unwrap())).collect();
    kinds.sort();
    assert_eq!(kinds, [("allowance_grant".to_string(), 100), ("give".to_string(), -30)]);
    let bob_entries = team.ledger(&bob.auth, &bob.id);
    assert_eq!(bob_entries.len(), 1);
    assert_eq!((bob_entries[0]["kind"].as_str(), bob_entries[0]["amount"].as_i64()), (Some("receive"), Some(15)));
    assert_eq!(bob_entries[0]["reference"], post["id"]);
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

/// Each refusal answers problem+json with its code and leaves every
/// allowance, balance, post and ledger entry exactly as it was.
#[track_caller]
fn refused(team: &Team, who: &Person, body: Value, status: u16, code: &str) -> Value {
    let before = team.snapshot();
    let problem = team.give(who, body.clone()).problem(status, code);
    assert_eq!(team.snapshot(), before, "a refused gift ({code}) changed something: {body}");
    problem
}

fn refusals_change_nothing(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    team.settings(json!({"currency": {"emoji": "🏆", "name_singular": "trophy", "name_plural": "trophies"}}));
    // Ana has given before, so her allowance and the ledger have rows to compare.
    team.gift(ana, &[cy], 5);
    let msg = |to: Value, points: i64| json!({"recipients": to, "points": points, "message": "thanks"});

    // Oneself, by id or by e-mail in any letter case, alone or among others.
    refused(&team, ana, msg(json!([ana.id]), 5), 422, "self_recognition");
    refused(&team, ana, msg(json!([ana.email.to_uppercase()]), 5), 422, "self_recognition");
    refused(&team, ana, msg(json!([bob.id, " Ana@ACME.example "]), 5), 422, "self_recognition");
    refused(&team, ana, msg(json!([bob.id, ana.id]), 0), 422, "self_recognition");

    // Recipients who cannot receive.
    let gone = team.person("gone@acme.example", json!({}));
    team.patch_member(&gone.id, json!({"status": "inactive"}));
    refused(&team, ana, msg(json!([bob.id, gone.id]), 5), 422, "recipient_inactive");
    refused(&team, ana, msg(json!([gone.email]), 5), 422, "recipient_inactive");
    let no_receive = team.person("noreceive@acme.example", json!({"may_receive": false}));
    refused(&team, ana, msg(json!([no_receive.id]), 5), 422, "recipient_may_not_receive");
    refused(&team, ana, msg(json!(["nobody@acme.example"]), 5), 422, "unknown_recipient");
    refused(&team, ana, msg(json!([]), 5), 422, "no_recipients");

    // Points.
    refused(&team, ana, msg(json!([bob.id]), 51), 422, "points_over_maximum");
    refused(
        &team,
        ana,
        json!({"recipients": [bob.id, cy.id], "split_total": 101, "message": "x"}),
        422,
        "points_over_maximum",
    );
    refused(&team, ana, msg(json!([bob.id]), -1), 422, "validation_failed");
    team.gift(ana, &[bob, cy], 40); // 95 − 80 = 15 left
    assert_eq!(team.remaining(ana), 15);
    let balance = team.balance(ana);
    let problem = refused(&team, ana, msg(json!([bob.id, cy.id]), 8), 422, "insufficient_allowance");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("15 trophies left"), "says how much is left: {detail}");
    let resets = first_of_next(balance["allowance"]["period"].as_str().unwrap());
    assert!(detail.contains(&resets), "says when it resets ({resets}): {detail}");
    team.gift(ana, &[bob], 14);
    let problem = refused(&team, ana, msg(json!([bob.id]), 2), 422, "insufficient_allowance");
    assert!(problem["detail"].as_str().unwrap().contains("1 trophy left"), "{problem}");
    team.gift(ana, &[bob], 1);
    let problem = refused(&team, ana, msg(json!([bob.id]), 1), 422, "insufficient_allowance");
    assert!(problem["detail"].as_str().unwrap().contains("0 trophies left"), "{problem}");

    // A giver who may not give points may still post without points.
    team.patch_member(&bob.id, json!({"may_give": false}));
    let p = refused(&team, bob, msg(json!([cy.id]), 5), 403, "may_not_give");
    assert_eq!(p["field"], "points");
    let zero = team.give(bob, msg(json!([cy.id]), 0)).ok(201);
    assert_eq!(zero["points"], 0);
    assert_eq!(team.earned(cy), 45, "a post without points moves none");
    team.settings(json!({"allow_zero_point_posts": false}));
    refused(&team, bob, msg(json!([cy.id]), 0), 422, "zero_points_not_allowed");
    team.settings(json!({"allow_zero_point_posts": true}));

    // Values.
    let v = team.t.post(&team.org.auth, "/api/v1/values", &json!({"name": "Ownership", "emoji": "🧭"})).ok(201);
    let old = team.t.post(&team.org.auth, "/api/v1/values", &json!({"name": "Legacy", "emoji": "🏛"})).ok(201);
    team.t
        .patch(&team.org.auth, &format!("/api/v1/values/{}", old["id"].as_str().unwrap()), &json!({"archived": true}))
        .ok(200);
    let with = |values: Value| json!({"recipients": [ana.id], "points": 5, "message": "thanks", "values": values});
    refused(&team, cy, with(json!(["Kindness"])), 422, "unknown_value");
    refused(&team, cy, with(json!([v["id"], "Kindness"])), 422, "unknown_value");
    refused(&team, cy, with(json!(["legacy"])), 422, "value_archived");
    refused(&team, cy, with(json!([old["id"]])), 422, "value_archived");
    team.settings(json!({"require_value": true}));
    refused(&team, cy, with(json!([])), 422, "value_required");
    refused(&team, cy, json!({"recipients": [ana.id], "points": 5, "message": "thanks"}), 422, "value_required");
    team.give(cy, with(json!(["ownership"]))).ok(201);
    team.settings(json!({"require_value": false}));

    // Messages.
    for empty in ["", "   ", "\n\t "] {
        refused(&team, cy, json!({"recipients": [ana.id], "points": 5, "message": empty}), 422, "message_empty");
    }
    refused(
        &team,
        cy,
        json!({"recipients": [ana.id], "points": 5, "message": "x".repeat(2001)}),
        422,
        "message_too_long",
    );
    refused(
        &team,
        cy,
        json!({"recipients": [ana.id], "points": 5, "message": "🎉".repeat(2001)}),
        422,
        "message_too_long",
    );

    // Malformed bodies.
    refused(&team, cy, json!({"recipients": [ana.id], "points": 5}), 422, "validation_failed");
    refused(
        &team,
        cy,
        json!({"recipients": [ana.id], "points": 5, "message": "x", "bonus": 1}),
        422,
        "validation_failed",
    );

    // The monthly cap per giver and recipient counts posts and add-ons.
    team.settings(json!({"max_points_per_recipient_per_month": 30}));
    let dee = &team.person("dee@acme.example", json!({}));
    let post = team.give(dee, msg(json!([ana.id]), 20)).ok(201);
    let p = refused(&team, dee, msg(json!([ana.id]), 11), 422, "recipient_monthly_cap");
    assert!(p["detail"].as_str().unwrap().contains("10 more"), "{p}");
    refused(&team, dee, msg(json!([cy.id, ana.id]), 11), 422, "recipient_monthly_cap");
    team.give(dee, msg(json!([ana.id]), 10)).ok(201);
    refused(&team, dee, msg(json!([ana.id]), 1), 422, "recipient_monthly_cap");
    // Another giver is not limited by Dee's gifts (Cy gave Ana 5 already).
    team.give(cy, msg(json!([ana.id]), 25)).ok(201);
    refused(&team, cy, msg(json!([ana.id]), 1), 422, "recipient_monthly_cap");
    // An add-on by Dee to Cy's post for Ana counts against Dee's cap too.
    let cys = team.feed(&cy.auth).into_iter().find(|p| p["giver_id"] == cy.id.as_str() && p["points"] == 25).unwrap();
    let before = team.snapshot();
    team.t
        .post(&dee.auth, &format!("/api/v1/recognitions/{}/addons", cys["id"].as_str().unwrap()), &json!({"points": 1}))
        .problem(422, "recipient_monthly_cap");
    assert_eq!(team.snapshot(), before);
    let _ = post;
    // Company awards come from the budget, not the admin's allowance: they do
    // not count towards the admin's cap as a giver.
    team.t
        .post(&team.org.auth, "/api/v1/awards", &json!({"recipients": [bob.id], "points": 100, "message": "award"}))
        .ok(201);
    team.give(&team.owner, msg(json!([bob.id]), 30)).ok(201);
    refused(&team, &team.owner, msg(json!([bob.id]), 1), 422, "recipient_monthly_cap");
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

fn duplicate_recipients_count_once(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob) = (&team.ana, &team.bob);
    let post = team
        .give(ana, json!({"recipients": [bob.id, bob.email.to_uppercase(), format!(" {} ", bob.email)], "points": 10, "message": "x"}))
        .ok(201);
    assert_eq!(ids(&post["recipient_ids"]), vec![bob.id.clone()]);
    assert_eq!(team.remaining(ana), 90, "charged once");
    assert_eq!(team.earned(bob), 10, "credited once");
    // A split pot is divided among the distinct people.
    let post = team
        .give(ana, json!({"recipients": [bob.id, bob.email, team.cy.id], "split_total": 21, "message": "x"}))
        .ok(201);
    let shares: Vec<i64> =
        post["recipients"].as_array().unwrap().iter().map(|r| r["points"].as_i64().unwrap()).collect();
    assert_eq!(shares, [11, 10]);
    assert_eq!(team.remaining(ana), 69);
}

fn messages_are_stored_byte_exact(db: &TestDb) {
    let team = Team::new(db, "acme");
    // 2,000 characters (Unicode scalar values), most of them multi-byte:
    // emoji with skin tones and ZWJ sequences, combining accents, CJK, RTL.
    let pieces = ["👍🏽", "👩‍💻", "e\u{301}", "谢", "שלום", "🇳🇴", " ", "\u{200d}", "ñ", "\r\n"];
    let mut message = String::from("  leading and trailing spaces are kept ");
    let mut i = 0;
    while message.chars().count() < 2000 {
        let p = pieces[i % pieces.len()];
        if message.chars().count() + p.chars().count() > 2000 {
            message.push('é');
        } else {
            message.push_str(p);
        }
        i += 1;
    }
    assert_eq!(message.chars().count(), 2000);
    assert!(message.len() > 4000, "mostly multi-byte: {} bytes", message.len());

    let post = team.give(&team.ana, json!({"recipients": [team.bob.id], "points": 1, "message": message})).ok(201);
    assert_eq!(post["message"].as_str().unwrap().as_bytes(), message.as_bytes(), "the answer");
    let id = post["id"].as_str().unwrap();
    let got = team.t.get(&team.bob.auth, &format!("/api/v1/recognitions/{id}")).ok(200);
    assert_eq!(got["message"].as_str().unwrap().as_bytes(), message.as_bytes(), "re-read through the API");
    let stored = team.t.app.store.read(|tx| tx.recognition(&team.org.org_id, id)).unwrap().unwrap();
    assert_eq!(stored.message.as_bytes(), message.as_bytes(), "re-read from the store");
    let feed = team.feed(&team.cy.auth);
    assert_eq!(feed[0]["message"].as_str().unwrap().as_bytes(), message.as_bytes(), "in the feed");

    // One more character is one too many, whatever its size.
    for extra in ["a", "👍", "\u{301}"] {
        let long = format!("{message}{extra}");
        refused(
            &team,
            &team.ana,
            json!({"recipients": [team.bob.id], "points": 1, "message": long}),
            422,
            "message_too_long",
        );
    }
}

fn split_a_pot_among_three(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let dee = team.person("dee@acme.example", json!({}));
    let post = team
        .give(ana, json!({"recipients": [cy.id, bob.id, dee.id], "split_total": 100, "message": "team effort"}))
        .ok(201);
    let got: Vec<(String, i64)> = post["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["points"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, [(cy.id.clone(), 34), (bob.id.clone(), 33), (dee.id.clone(), 33)], "in the order named");
    // Points per recipient and a pot at once are ambiguous: refused.
    refused(
        &team,
        ana,
        json!({"recipients": [cy.id, bob.id], "split_total": 10, "points": 7, "message": "x"}),
        422,
        "validation_failed",
    );
    assert_eq!(post["total_points"], 100);
    assert_eq!(team.remaining(ana), 0, "exactly the pot is charged");
    assert_eq!((team.earned(cy), team.earned(bob), team.earned(&dee)), (34, 33, 33));
    assert_eq!(sum_of(&team.ledger(&ana.auth, &ana.id), "allowance:"), 0);
    // Nothing is left for another pot.
    refused(
        &team,
        ana,
        json!({"recipients": [cy.id, bob.id], "split_total": 2, "message": "x"}),
        422,
        "insufficient_allowance",
    );
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// ------------------------------------------------------------ idempotency

fn idempotency_keys_replay_and_refuse_reuse(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let body = json!({"recipients": [bob.id], "points": 10, "message": "once"});
    let first = team.t.post_with_key(&ana.auth, "/api/v1/recognitions", &body, "key-1");
    let post = first.ok(201);
    assert_eq!(first.header("idempotent-replayed"), Some("false"));
    let after_first = team.snapshot();
    for _ in 0..2 {
        let again = team.t.post_with_key(&ana.auth, "/api/v1/recognitions", &body, "key-1");
        assert_eq!(again.ok(200)["id"], post["id"]);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(team.snapshot(), after_first, "nothing charged twice");
    }
    assert_eq!(team.remaining(ana), 90);
    assert_eq!(team.earned(bob), 10);
    assert_eq!(team.feed(&ana.auth).len(), 1);

    // The same key with another body is refused and changes nothing.
    let other = json!({"recipients": [bob.id], "points": 11, "message": "once"});
    let before = team.snapshot();
    team.t.post_with_key(&ana.auth, "/api/v1/recognitions", &other, "key-1").problem(422, "idempotency_key_reused");
    assert_eq!(team.snapshot(), before);
    // Keys are the caller's own: Cy's "key-1" is a new request.
    let cys = team.t.post_with_key(&cy.auth, "/api/v1/recognitions", &body, "key-1").ok(201);
    assert_ne!(cys["id"], post["id"]);
    // A refused request does not use up its key.
    let too_much = json!({"recipients": [bob.id], "points": 50, "message": "too much"});
    team.gift(ana, &[cy], 50); // 40 left
    team.t.post_with_key(&ana.auth, "/api/v1/recognitions", &too_much, "key-2").problem(422, "insufficient_allowance");
    let smaller = json!({"recipients": [bob.id], "points": 40, "message": "fits"});
    team.t.post_with_key(&ana.auth, "/api/v1/recognitions", &smaller, "key-2").ok(201);

    // Add-ons.
    let path = format!("/api/v1/recognitions/{}/addons", post["id"].as_str().unwrap());
    let first = team.t.post_with_key(&cy.auth, &path, &json!({"points": 5}), "addon-1");
    assert_eq!(first.ok(201)["addon_points"], 5);
    let snap = team.snapshot();
    let again = team.t.post_with_key(&cy.auth, &path, &json!({"points": 5}), "addon-1");
    assert_eq!(again.ok(200)["addon_points"], 5);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(team.snapshot(), snap);
    team.t.post_with_key(&cy.auth, &path, &json!({"points": 6}), "addon-1").problem(422, "idempotency_key_reused");
    assert_eq!(team.snapshot(), snap);
    assert_eq!(team.earned(bob), 10 + 10 + 40 + 5);

    // Company awards.
    let award = json!({"recipients": [cy.id], "points": 25, "message": "award"});
    let first = team.t.post_with_key(&team.org.auth, "/api/v1/awards", &award, "award-1");
    let a = first.ok(201);
    let snap = team.snapshot();
    let again = team.t.post_with_key(&team.org.auth, "/api/v1/awards", &award, "award-1");
    assert_eq!(again.ok(200)["id"], a["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(team.snapshot(), snap);
    let bigger = json!({"recipients": [cy.id], "points": 26, "message": "award"});
    team.t.post_with_key(&team.org.auth, "/api/v1/awards", &bigger, "award-1").problem(422, "idempotency_key_reused");
    // A key used for a gift cannot be replayed as an award.
    team.t
        .post_with_key(&team.org.auth, "/api/v1/recognitions", &award, "award-1")
        .problem(422, "idempotency_key_reused");
    assert_eq!(team.snapshot(), snap);
    assert_eq!(team.earned(cy), 50 + 25);
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// --------------------------------------------------------- ledger, balance

fn the_ledger_is_private_and_balances_equal_its_sums(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    for i in 0..6 {
        team.gift(ana, &[bob], 3 + i);
        team.gift(cy, &[bob, ana], 2);
    }
    team.t
        .post(&team.org.auth, "/api/v1/awards", &json!({"recipients": [bob.id], "points": 40, "message": "award"}))
        .ok(201);
    let dee = team.person("dee@acme.example", json!({"role": "admin"}));

    for who in [ana, bob, cy, &dee] {
        let own = team.ledger(&who.auth, &who.id);
        // Without ?member= the caller's own entries.
        let page = team.t.get(&who.auth, "/api/v1/ledger?limit=100").ok(200);
        assert_eq!(page["items"].as_array().unwrap().len(), own.len());
        assert!(own.iter().all(|e| e["member_id"] == who.id.as_str()));
        let b = team.balance(who);
        assert_eq!(b["earned"]["balance"].as_i64().unwrap(), sum_of(&own, "earned"), "{}", who.email);
        let period = b["allowance"]["period"].as_str().unwrap();
        if own.iter().any(|e| e["account"].as_str().unwrap().starts_with("allowance:")) {
            assert_eq!(
                b["allowance"]["remaining"].as_i64().unwrap(),
                sum_of(&own, &format!("allowance:{period}")),
                "{}",
                who.email
            );
        }
        assert_eq!(b["allowance"]["total"], 100);
        assert!(b["allowance"]["resets_at"].is_string());
    }
    assert_eq!(team.earned(bob), 3 + 4 + 5 + 6 + 7 + 8 + 12 + 40);
    assert_eq!(team.remaining(ana), 100 - 33);
    // Newest first and paged without gaps.
    let bobs = team.ledger(&bob.auth, &bob.id);
    assert_eq!(bobs.len(), 6 + 6 + 1);
    let ids: Vec<&str> = bobs.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(ids, sorted);

    // A plain member cannot read another's ledger or balance…
    team.t.get(&ana.auth, &format!("/api/v1/ledger?member={}", bob.id)).problem(403, "not_permitted");
    team.t.get(&ana.auth, &format!("/api/v1/members/{}/balance", bob.id)).problem(403, "not_permitted");
    // …admins can.
    for admin in [&team.org.auth, &dee.auth] {
        assert_eq!(team.ledger(admin, &bob.id), bobs);
        let b = team.t.get(admin, &format!("/api/v1/members/{}/balance", bob.id)).ok(200);
        assert_eq!(b["earned"]["balance"].as_i64().unwrap(), sum_of(&bobs, "earned"));
    }
    team.t.get(&team.org.auth, "/api/v1/ledger?member=no-such-member").problem(404, "not_found");
    team.t.get(&Auth::None, "/api/v1/ledger").problem(401, "unauthenticated");
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// ---------------------------------------------------------- around a post

fn reactions_toggle_and_skin_tones_count_once(db: &TestDb) {
    let team = Team::new(db, "acme");
    let post = team.gift(&team.ana, &[&team.bob], 5);
    let path = format!("/api/v1/recognitions/{}/reactions", post["id"].as_str().unwrap());
    let count = |v: &Value, emoji: &str| {
        v["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["emoji"] == emoji)
            .map_or(0, |r| r["count"].as_i64().unwrap())
    };
    let r = team.t.post(&team.cy.auth, &path, &json!({"emoji": "👍"})).ok(200);
    assert_eq!(count(&r, "👍"), 1);
    assert_eq!(r["my_reactions"], json!(["👍"]));
    // Bob's 👍🏽 is the same reaction as 👍.
    let r = team.t.post(&team.bob.auth, &path, &json!({"emoji": "👍🏽"})).ok(200);
    assert_eq!(count(&r, "👍"), 2);
    assert_eq!(r["reactions"].as_array().unwrap().len(), 1, "{r}");
    // Cy's 👍🏿 toggles Cy's 👍 off: one per emoji per member.
    let r = team.t.post(&team.cy.auth, &path, &json!({"emoji": "👍🏿"})).ok(200);
    assert_eq!(count(&r, "👍"), 1);
    assert_eq!(r["my_reactions"], json!([]));
    let r = team.t.post(&team.cy.auth, &path, &json!({"emoji": "🎉"})).ok(200);
    assert_eq!((count(&r, "👍"), count(&r, "🎉")), (1, 1));
    let r = team.t.post(&team.cy.auth, &path, &json!({"emoji": "👍"})).ok(200);
    assert_eq!(count(&r, "👍"), 2);
    let mut mine = ids(&r["my_reactions"]);
    mine.sort();
    assert_eq!(mine, ["🎉", "👍"]);
    team.t.post(&team.cy.auth, &path, &json!({"emoji": "nope"})).problem(422, "validation_failed");
    let got = team.t.get(&team.ana.auth, &format!("/api/v1/recognitions/{}", post["id"].as_str().unwrap())).ok(200);
    assert_eq!((count(&got, "👍"), count(&got, "🎉")), (2, 1));
    team.t
        .post(&team.cy.auth, "/api/v1/recognitions/no-such-post/reactions", &json!({"emoji": "👍"}))
        .problem(404, "not_found");
    // Reactions move no points.
    assert_eq!(team.earned(&team.bob), 5);
}

fn comments_are_listed_oldest_first(db: &TestDb) {
    let team = Team::new(db, "acme");
    let post = team.gift(&team.ana, &[&team.bob], 5);
    let id = post["id"].as_str().unwrap();
    let path = format!("/api/v1/recognitions/{id}/comments");
    let c1 = team.t.post(&team.bob.auth, &path, &json!({"body": "Thank you! 🙏"})).ok(201);
    assert_eq!((c1["member_id"].as_str(), c1["body"].as_str()), (Some(team.bob.id.as_str()), Some("Thank you! 🙏")));
    team.t.post(&team.cy.auth, &path, &json!({"body": "Well deserved"})).ok(201);
    team.t.post(&team.cy.auth, &path, &json!({"body": "  "})).problem(422, "message_empty");
    team.t.post(&team.cy.auth, &path, &json!({"body": "x".repeat(2001)})).problem(422, "message_too_long");
    let list = team.t.get(&team.ana.auth, &path).ok(200);
    let bodies: Vec<&str> = list["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Thank you! 🙏", "Well deserved"]);
    let got = team.t.get(&team.ana.auth, &format!("/api/v1/recognitions/{id}")).ok(200);
    assert_eq!(got["comment_count"], 2);
    assert_eq!(got["comments"].as_array().unwrap().len(), 2);
    team.t.post(&team.cy.auth, "/api/v1/recognitions/nope/comments", &json!({"body": "hi"})).problem(404, "not_found");
}

fn add_ons_charge_the_adder_and_credit_the_same_recipients(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let dee = team.person("dee@acme.example", json!({}));
    let post = team.gift(ana, &[bob, cy], 10);
    let path = format!("/api/v1/recognitions/{}/addons", post["id"].as_str().unwrap());
    let resp = team.t.post(&dee.auth, &path, &json!({"points": 7}));
    let r = resp.ok(201);
    assert_eq!(r["id"], post["id"]);
    assert_eq!(r["addon_points"], 7);
    assert_eq!(r["total_points"], 2 * (10 + 7));
    assert_eq!(team.remaining(&dee), 100 - 14, "points × recipients");
    assert_eq!(team.remaining(ana), 80, "the original giver is not charged");
    assert_eq!((team.earned(bob), team.earned(cy)), (17, 17));
    let dees = team.ledger(&dee.auth, &dee.id);
    assert!(
        dees.iter().any(|e| e["kind"] == "addon_give" && e["amount"] == -14 && e["reference"] == post["id"]),
        "{dees:?}"
    );

    // A recipient cannot add to their own recognition, nor the giver to theirs.
    let before = team.snapshot();
    team.t.post(&bob.auth, &path, &json!({"points": 3})).problem(422, "self_recognition");
    team.t.post(&ana.auth, &path, &json!({"points": 3})).problem(422, "own_recognition");
    team.t.post(&dee.auth, &path, &json!({"points": 51})).problem(422, "points_over_maximum");
    team.t.post(&dee.auth, &path, &json!({"points": 0})).problem(422, "validation_failed");
    team.t.post(&dee.auth, &path, &json!({"points": 44})).problem(422, "insufficient_allowance");
    team.patch_member(&dee.id, json!({"may_give": false}));
    team.t.post(&dee.auth, &path, &json!({"points": 1})).problem(403, "may_not_give");
    assert_eq!(team.snapshot(), before);
    team.patch_member(&dee.id, json!({"may_give": true}));

    // A recipient who has left since gets nothing, and the adder pays only for the rest.
    team.patch_member(&cy.id, json!({"status": "inactive"}));
    team.t.post(&dee.auth, &path, &json!({"points": 4})).ok(201);
    assert_eq!(team.remaining(&dee), 86 - 4);
    assert_eq!(stored_earned(&team.t, &team.org.org_id, &bob.id), 21);
    assert_eq!(stored_earned(&team.t, &team.org.org_id, &cy.id), 17);
    // Awards take no add-ons.
    let award = team
        .t
        .post(&team.org.auth, "/api/v1/awards", &json!({"recipients": [bob.id], "points": 5, "message": "a"}))
        .ok(201);
    team.t
        .post(
            &dee.auth,
            &format!("/api/v1/recognitions/{}/addons", award["id"].as_str().unwrap()),
            &json!({"points": 1}),
        )
        .problem(422, "not_addable");
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

fn hiding_reverses_points_but_never_below_zero(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let org = team.org.org_id.clone();
    let dee = team.person("dee@acme.example", json!({}));
    let post = team.gift(ana, &[bob, cy], 30);
    let id = post["id"].as_str().unwrap().to_string();
    team.t.post(&dee.auth, &format!("/api/v1/recognitions/{id}/addons"), &json!({"points": 5})).ok(201);
    let other = team.gift(&dee, &[bob], 20);
    assert_eq!((team.earned(bob), team.earned(cy)), (55, 35));

    // Plain members cannot hide.
    team.t.post(&cy.auth, &format!("/api/v1/recognitions/{id}/hide"), &json!({})).problem(403, "not_permitted");

    // Bob spends 40 of his 55: only 15 are left of the 35 this post gave him.
    spend(&team.t, &org, &bob.id, 40);
    assert_eq!(team.earned(bob), 15);
    team.t.request(Method::POST, &format!("/api/v1/recognitions/{id}/hide"), &team.org.auth, None, vec![]).ok(204);
    assert_eq!(team.earned(bob), 0, "taken to zero, not below");
    assert_eq!(team.earned(cy), 0, "Cy gives back all 35");
    assert_eq!(team.remaining(ana), 100, "the giver's allowance comes back");
    assert_eq!(team.remaining(&dee), 100 - 20, "and the add-on's");
    team.t.get(&bob.auth, &format!("/api/v1/recognitions/{id}")).problem(404, "not_found");
    assert!(team.feed(&bob.auth).iter().all(|p| p["id"] != id.as_str()));
    let bobs = team.ledger(&bob.auth, &bob.id);
    assert_eq!(sum_of(&bobs, "earned"), 0);
    assert!(bobs.iter().any(|e| e["kind"] == "reversal" && e["amount"] == -15), "{bobs:?}");
    // Hidden once is hidden: again → 404, and nothing moves.
    let before = team.snapshot();
    team.t.post(&team.org.auth, &format!("/api/v1/recognitions/{id}/hide"), &json!({})).problem(404, "not_found");
    team.t.post(&ana.auth, &format!("/api/v1/recognitions/{id}/undo"), &json!({})).problem(404, "not_found");
    team.t
        .post(&cy.auth, &format!("/api/v1/recognitions/{id}/addons"), &json!({"points": 1}))
        .problem(404, "not_found");
    assert_eq!(team.snapshot(), before);

    // Bob is at zero; hiding Dee's post (20 to Bob) takes nothing more.
    team.t
        .post(&team.org.auth, &format!("/api/v1/recognitions/{}/hide", other["id"].as_str().unwrap()), &json!({}))
        .ok(204);
    assert_eq!(team.earned(bob), 0);
    assert_eq!(team.remaining(&dee), 100);

    // An undo leaves Cy lower than a later hide would take: still never negative.
    let p1 = team.gift(ana, &[cy], 10);
    let p2 = team.gift(bob, &[cy], 10);
    spend(&team.t, &org, &cy.id, 15);
    team.t
        .post(&ana.auth, &format!("/api/v1/recognitions/{}/undo", p1["id"].as_str().unwrap()), &json!({}))
        .problem(409, "points_already_spent");
    team.t
        .post(&bob.auth, &format!("/api/v1/recognitions/{}/undo", p2["id"].as_str().unwrap()), &json!({}))
        .problem(409, "points_already_spent");
    team.t
        .post(&team.org.auth, &format!("/api/v1/recognitions/{}/hide", p2["id"].as_str().unwrap()), &json!({}))
        .ok(204);
    assert_eq!(team.earned(cy), 0);
    team.t
        .post(&team.org.auth, &format!("/api/v1/recognitions/{}/hide", p1["id"].as_str().unwrap()), &json!({}))
        .ok(204);
    assert_eq!(team.earned(cy), 0);
    assert_eq!(team.remaining(ana), 100);

    // Hiding an award gives what comes back to the company budget.
    let award = team
        .t
        .post(&team.org.auth, "/api/v1/awards", &json!({"recipients": [cy.id], "points": 9, "message": "a"}))
        .ok(201);
    team.t
        .post(&team.org.auth, &format!("/api/v1/recognitions/{}/hide", award["id"].as_str().unwrap()), &json!({}))
        .ok(204);
    assert_eq!(team.earned(cy), 0);
    let audit = team.t.get(&team.org.auth, "/api/v1/audit_log?limit=100").ok(200);
    assert!(audit.to_string().contains("recognition.hidden"), "hiding is audited");
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

fn undo_within_five_minutes_by_the_giver(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let before = team.snapshot();
    let post = team.gift(ana, &[bob, cy], 20);
    let id = post["id"].as_str().unwrap().to_string();
    team.t.post(&team.bob.auth, &format!("/api/v1/recognitions/{id}/comments"), &json!({"body": "yay"})).ok(201);
    team.t.post(&team.bob.auth, &format!("/api/v1/recognitions/{id}/reactions"), &json!({"emoji": "🎉"})).ok(200);

    // Someone else may not undo it, not even an admin or a recipient.
    for other in [&bob.auth, &cy.auth, &team.org.auth] {
        team.t.post(other, &format!("/api/v1/recognitions/{id}/undo"), &json!({})).problem(403, "not_permitted");
    }
    assert_eq!(team.remaining(ana), 60);
    team.t.post(&ana.auth, &format!("/api/v1/recognitions/{id}/undo"), &json!({})).ok(204);
    assert_eq!(team.remaining(ana), 100, "the allowance is restored");
    assert_eq!((team.earned(bob), team.earned(cy)), (0, 0));
    team.t.get(&ana.auth, &format!("/api/v1/recognitions/{id}")).problem(404, "not_found");
    team.t.get(&ana.auth, &format!("/api/v1/recognitions/{id}/comments")).problem(404, "not_found");
    assert!(team.feed(&ana.auth).is_empty());
    team.t.post(&ana.auth, &format!("/api/v1/recognitions/{id}/undo"), &json!({})).problem(404, "not_found");
    let after = team.snapshot();
    assert_eq!(after.posts, before.posts);
    assert_eq!(sum_of(&team.ledger(&ana.auth, &ana.id), "allowance:"), 100);

    // After the window the post stays.
    let caller = team.t.caller(&ana.auth);
    let six_minutes_ago = plaudit_app::now_ms() - 6 * 60 * 1000;
    let req =
        GiveRequest { recipients: vec![bob.id.clone()], points: 10, message: "old news".into(), ..Default::default() };
    let old = team.t.app.give_at(&caller, &req, None, six_minutes_ago).unwrap().recognition;
    let before = team.snapshot();
    let p = team
        .t
        .post(&ana.auth, &format!("/api/v1/recognitions/{}/undo", old.id), &json!({}))
        .problem(409, "undo_window_passed");
    assert!(p["detail"].as_str().unwrap().contains("5 minutes"), "{p}");
    assert_eq!(team.snapshot(), before);
    team.t.get(&bob.auth, &format!("/api/v1/recognitions/{}", old.id)).ok(200);
    // Four minutes ago is still inside.
    let recent = team.t.app.give_at(&caller, &req, None, plaudit_app::now_ms() - 4 * 60 * 1000).unwrap().recognition;
    team.t.post(&ana.auth, &format!("/api/v1/recognitions/{}/undo", recent.id), &json!({})).ok(204);
    assert_eq!(team.earned(bob), 10);
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// ----------------------------------------------------------------- awards

fn company_awards_come_from_the_budget(db: &TestDb) {
    let team = Team::new(db, "acme");
    let (ana, bob, cy) = (&team.ana, &team.bob, &team.cy);
    let award = json!({"recipients": [bob.id, cy.email], "points": 250, "message": "Employee of the month"});
    let before = team.snapshot();
    team.t.post(&ana.auth, "/api/v1/awards", &award).problem(403, "not_permitted");
    assert_eq!(team.snapshot(), before);

    let owner_before = team.balance(&team.owner);
    let a = team.t.post(&team.org.auth, "/api/v1/awards", &award).ok(201);
    assert_eq!(a["kind"], "award");
    assert_eq!(a["giver_id"], team.owner.id.as_str());
    assert_eq!(a["points"], 250, "above the per-recognition maximum of peers");
    assert_eq!((team.earned(bob), team.earned(cy)), (250, 250));
    assert_eq!(team.balance(&team.owner), owner_before, "the admin's allowance is untouched");
    let feed = team.feed(&ana.auth);
    assert_eq!(feed.len(), 1);
    assert_eq!(feed[0]["kind"], "award");
    let entries = team.ledger(&bob.auth, &bob.id);
    assert_eq!((entries[0]["kind"].as_str(), entries[0]["amount"].as_i64()), (Some("award"), Some(250)));

    // An admin cannot award themself from the company budget.
    let before = team.snapshot();
    let to_self = json!({"recipients": [team.owner.id], "points": 10, "message": "me"});
    team.t.post(&team.org.auth, "/api/v1/awards", &to_self).problem(422, "self_recognition");
    assert_eq!(team.snapshot(), before);

    // Awards are refused like gifts for bad recipients and messages.
    let before = team.snapshot();
    team.patch_member(&cy.id, json!({"may_receive": false}));
    let before2 = team.snapshot();
    assert_eq!(before.accounts, before2.accounts);
    team.t.post(&team.org.auth, "/api/v1/awards", &award).problem(422, "recipient_may_not_receive");
    let msg = json!({"recipients": [bob.id], "points": 1, "message": " "});
    team.t.post(&team.org.auth, "/api/v1/awards", &msg).problem(422, "message_empty");
    let zero = json!({"recipients": [bob.id], "points": 0, "message": "x"});
    team.t.post(&team.org.auth, "/api/v1/awards", &zero).problem(422, "validation_failed");
    assert_eq!(team.snapshot(), before2);
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// ----------------------------------------------------------- celebrations

fn celebrations_post_once_per_occasion(db: &TestDb) {
    let team = Team::new(db, "acme");
    team.settings(json!({"anniversary_award_points": 25, "birthday_award_points": 5, "timezone": "Asia/Tokyo"}));
    // 15 June in Tokyo (already, though still 14 June in UTC).
    let now = local_ms("2026-06-15T08:00:00[Asia/Tokyo]");
    let eve = team.person("eve@acme.example", json!({"start_date": "2021-06-15", "birthday": "06-15"}));
    let fay = team.person("fay@acme.example", json!({"start_date": "2026-06-15"})); // starts today: no anniversary
    let gus = team.person("gus@acme.example", json!({"start_date": "2020-06-14", "birthday": "06-14"}));
    let hal = team.person("hal@acme.example", json!({"start_date": "2019-06-15"}));
    team.patch_member(&hal.id, json!({"status": "inactive"}));

    assert_eq!(team.t.app.run_celebrations_at(now).unwrap(), 2, "Eve's birthday and anniversary");
    assert_eq!(team.t.app.run_celebrations_at(now).unwrap(), 0, "a second run posts nothing");
    assert_eq!(team.t.app.run_celebrations_at(now + 3_600_000).unwrap(), 0, "nor later that day");
    let feed = team.feed(&team.ana.auth);
    assert_eq!(feed.len(), 2);
    assert!(feed.iter().all(|p| p["kind"] == "celebration" && p["recipient_ids"] == json!([eve.id])), "{feed:?}");
    let messages: Vec<&str> = feed.iter().map(|p| p["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("5th work anniversary")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("birthday")), "{messages:?}");
    assert_eq!(team.earned(&eve), 25 + 5, "the awards, once");
    assert_eq!((team.earned(&fay), team.earned(&gus)), (0, 0));
    let _ = hal;
    assert!(team.t.app.verify_ledger().unwrap().is_empty());
}

// --------------------------------------------------------- allowance months

fn month_boundaries_follow_the_org_time_zone(db: &TestDb) {
    for (slug, tz) in [("tokyo", "Asia/Tokyo"), ("la", "America/Los_Angeles")] {
        let team = Team::new(db, slug);
        team.settings(json!({"timezone": tz}));
        let caller = team.t.caller(&team.ana.auth);
        let give = |at: i64, points: i64| {
            let req = GiveRequest {
                recipients: vec![team.bob.id.clone(), team.cy.id.clone()],
                points,
                message: "month end".into(),
                ..Default::default()
            };
            team.t.app.give_at(&caller, &req, None, at)
        };
        let last = local_ms(&format!("2026-11-30T23:59:59.999[{tz}]"));
        let first = local_ms(&format!("2026-12-01T00:00:00[{tz}]"));
        assert_eq!(first - last, 1);
        give(last, 35).unwrap(); // 70 of November's 100
        give(first, 35).unwrap(); // 70 of December's 100: a fresh allowance
                                  // November has 30 left, December 30.
        assert_eq!(give(last - 1000, 20).unwrap_err().code, "insufficient_allowance", "{tz}");
        let err = give(first + 1000, 20).unwrap_err();
        assert_eq!(err.code, "insufficient_allowance");
        assert!(err.message.contains("30 points left") && err.message.contains("2027-01-01"), "{tz}: {}", err.message);
        let err = give(last, 20).unwrap_err();
        assert!(err.message.contains("resets on 2026-12-01"), "{tz}: {}", err.message);
        give(last, 15).unwrap();
        give(first, 15).unwrap();

        let entries = team.ledger(&team.ana.auth, &team.ana.id);
        let by_account = |a: &str| -> Vec<(String, i64)> {
            let mut v: Vec<(String, i64)> = entries
                .iter()
                .filter(|e| e["account"] == a)
                .map(|e| (e["kind"].as_str().unwrap().to_string(), e["amount"].as_i64().unwrap()))
                .collect();
            v.sort();
            v
        };
        let expected: Vec<(String, i64)> =
            vec![("allowance_grant".into(), 100), ("give".into(), -70), ("give".into(), -30)];
        assert_eq!(by_account("allowance:2026-11"), expected, "{tz}");
        assert_eq!(by_account("allowance:2026-12"), expected, "{tz}");
        let org = team.org.org_id.clone();
        for period in ["2026-11", "2026-12"] {
            let a = team.t.app.store.read(|tx| tx.allowance(&org, &team.ana.id, period)).unwrap().unwrap();
            assert_eq!((a.total, a.spent), (100, 100), "{tz} {period}");
        }
        // The balance resets at local midnight on the 1st of the next month.
        let b = team.balance(&team.bob);
        let period = b["allowance"]["period"].as_str().unwrap();
        let reset = local_ms(&format!("{}T00:00:00[{tz}]", first_of_next(period)));
        let expected = jiff::Timestamp::from_millisecond(reset).unwrap().to_string();
        assert_eq!(b["allowance"]["resets_at"].as_str(), Some(expected.as_str()), "{tz}");
        assert_eq!(b["allowance"]["remaining"], 100);
        let feed = team.feed(&team.ana.auth);
        assert_eq!(feed.len(), 4);
        assert!(team.t.app.verify_ledger().unwrap().is_empty());
    }
}

// -------------------------------------------------------- tenant isolation

fn one_organisation_never_sees_anothers_recognition(db: &TestDb) {
    let t = TestApp::new(db);
    let a = Team::in_app(t, "org-a");
    let b_org = a.t.signup("org-b");
    let b_member = {
        let m = a.t.add_member(&b_org.auth, "zed@org-b.example", json!({}));
        a.t.token_for(&b_org.org_id, m["id"].as_str().unwrap())
    };
    let post = a.gift(&a.ana, &[&a.bob], 10);
    let id = post["id"].as_str().unwrap();
    a.t.post(&a.bob.auth, &format!("/api/v1/recognitions/{id}/comments"), &json!({"body": "private"})).ok(201);
    let before = a.snapshot();

    for b in [&b_org.auth, &b_member] {
        a.t.get(b, &format!("/api/v1/recognitions/{id}")).problem(404, "not_found");
        a.t.get(b, &format!("/api/v1/recognitions/{id}/comments")).problem(404, "not_found");
        a.t.post(b, &format!("/api/v1/recognitions/{id}/comments"), &json!({"body": "hi"})).problem(404, "not_found");
        a.t.post(b, &format!("/api/v1/recognitions/{id}/reactions"), &json!({"emoji": "👍"})).problem(404, "not_found");
        a.t.post(b, &format!("/api/v1/recognitions/{id}/addons"), &json!({"points": 1})).problem(404, "not_found");
        a.t.post(b, &format!("/api/v1/recognitions/{id}/undo"), &json!({})).problem(404, "not_found");
        // Nor can org A's members be named as recipients, or their ledgers read.
        a.t.post(b, "/api/v1/recognitions", &json!({"recipients": [a.bob.id], "points": 1, "message": "x"}))
            .problem(422, "unknown_recipient");
        a.t.post(b, "/api/v1/recognitions", &json!({"recipients": [a.bob.email], "points": 1, "message": "x"}))
            .problem(422, "unknown_recipient");
        for q in ["", "&member=", "&department=R%26D"] {
            let feed = a.t.get(b, &format!("/api/v1/recognitions?limit=100{q}")).ok(200);
            assert!(feed["items"].as_array().unwrap().is_empty(), "{feed}");
        }
        let feed = a.t.get(b, &format!("/api/v1/recognitions?member={}", a.bob.id)).ok(200);
        assert!(feed["items"].as_array().unwrap().is_empty(), "{feed}");
    }
    // Nor org A's values.
    let value = a.t.post(&a.org.auth, "/api/v1/values", &json!({"name": "Teamwork", "emoji": "🤝"})).ok(201);
    let zed = a.t.stored_members(&b_org.org_id).into_iter().find(|m| m.profile.email.starts_with("zed")).unwrap().id;
    let with_value = json!({"recipients": [zed], "points": 1, "message": "x", "values": [value["id"]]});
    a.t.post(&b_org.auth, "/api/v1/recognitions", &with_value).problem(422, "unknown_value");
    let feed = a.t.get(&b_org.auth, &format!("/api/v1/recognitions?value={}", value["id"].as_str().unwrap())).ok(200);
    assert!(feed["items"].as_array().unwrap().is_empty());
    assert_eq!(a.snapshot(), before, "org A is untouched so far");
    // B's owner is an admin, but only in B.
    a.t.post(&b_org.auth, &format!("/api/v1/recognitions/{id}/hide"), &json!({})).problem(404, "not_found");
    a.t.get(&b_org.auth, &format!("/api/v1/ledger?member={}", a.bob.id)).problem(404, "not_found");
    a.t.get(&b_org.auth, &format!("/api/v1/members/{}/balance", a.bob.id)).problem(404, "not_found");
    a.t.post(&b_org.auth, "/api/v1/awards", &json!({"recipients": [a.bob.id], "points": 5, "message": "x"}))
        .problem(422, "unknown_recipient");
    assert_eq!(a.snapshot(), before, "org A is untouched");
    let got = a.t.get(&a.cy.auth, &format!("/api/v1/recognitions/{id}")).ok(200);
    assert_eq!((got["comment_count"].as_i64(), got["reactions"].as_array().unwrap().len()), (Some(1), 0));
    // B's own feed works and holds only B's posts.
    a.t.post(&b_org.auth, "/api/v1/recognitions", &json!({"recipients": [zed], "points": 1, "message": "B"})).ok(201);
    let feed = a.t.get(&b_member, "/api/v1/recognitions").ok(200);
    assert_eq!(feed["items"].as_array().unwrap().len(), 1);
    assert_eq!(a.feed(&a.ana.auth).len(), 1);
}

backend_tests!(
    a_gift_charges_the_giver_and_credits_each_recipient,
    refusals_change_nothing,
    duplicate_recipients_count_once,
    messages_are_stored_byte_exact,
    split_a_pot_among_three,
    idempotency_keys_replay_and_refuse_reuse,
    the_ledger_is_private_and_balances_equal_its_sums,
    reactions_toggle_and_skin_tones_count_once,
    comments_are_listed_oldest_first,
    add_ons_charge_the_adder_and_credit_the_same_recipients,
    hiding_reverses_points_but_never_below_zero,
    undo_within_five_minutes_by_the_giver,
    company_awards_come_from_the_budget,
    celebrations_post_once_per_occasion,
    month_boundaries_follow_the_org_time_zone,
    one_organisation_never_sees_anothers_recognition,
);
