//! Rewards, redemptions and billing statements through the API, on SQLite
//! and PostgreSQL: the rounding rule, each refusal (proven to change
//! nothing), every state transition with exact refunds, encrypted codes
//! and who sees them, statements at month boundaries in the org's time
//! zone and the immutability of a closed month, the free plan, images, CSV
//! and idempotency; then the concurrency cases.

mod common;

use axum::http::Method;
use common::points::*;
use common::*;
use plaudit_domain::org::Plan;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

/// A paid team whose points are worth `minor` of `currency` each.
fn paid_team(db: &TestDb, slug: &str, minor: i64, currency: &str) -> Team {
    let team = Team::new(db, slug);
    team.t.app.set_plan(slug, Plan::Paid).unwrap();
    team.settings(json!({"point_value_minor": minor, "money_currency": currency}));
    team
}

/// Company award of `points` to `who` (from the owner).
#[track_caller]
fn fund(team: &Team, who: &Person, points: i64) {
    team.t
        .post(
            &team.org.auth,
            "/api/v1/awards",
            &json!({"recipients": [who.id], "points": points, "message": "Spend it well"}),
        )
        .ok(201);
}

#[track_caller]
fn new_reward(team: &Team, body: Value) -> Value {
    team.t.post(&team.org.auth, "/api/v1/rewards", &body).ok(201)
}

fn redeem(team: &Team, who: &Person, reward_id: &str) -> Resp {
    team.t.post(&who.auth, "/api/v1/redemptions", &json!({"reward_id": reward_id}))
}

fn this_month(team: &Team) -> String {
    team.balance(&team.ana)["allowance"]["period"].as_str().unwrap().to_string()
}

fn statement(team: &Team, month: &str) -> Value {
    team.t.get(&team.org.auth, &format!("/api/v1/billing/statements/{month}")).ok(200)
}

#[track_caller]
fn sound(team: &Team) {
    let problems = team.t.app.verify_ledger().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Everything a refusal must leave alone: points, rewards (stock), redemptions, statement lines.
fn world(team: &Team) -> (Snapshot, Value, Vec<Value>, Value) {
    let rewards = team.t.get(&team.org.auth, "/api/v1/rewards?archived=true").ok(200);
    let redemptions =
        team.t.get(&team.org.auth, "/api/v1/redemptions?limit=100").ok(200)["items"].as_array().unwrap().clone();
    (team.snapshot(), rewards, redemptions, statement(team, &this_month(team)))
}

// ------------------------------------------------------------------ rounding

fn a_thirty_cent_voucher_costs_exactly_three_ten_cent_points(db: &TestDb) {
    let team = paid_team(db, "acme", 10, "EUR");
    let voucher = new_reward(
        &team,
        json!({"kind": "gift_card", "name": "Coffee voucher", "face_value_minor": 30, "requires_approval": false}),
    );
    assert_eq!((voucher["cost_points"].as_i64(), voucher["currency"].as_str()), (Some(3), Some("EUR")));
    fund(&team, &team.ana, 3);
    let r = redeem(&team, &team.ana, voucher["id"].as_str().unwrap()).ok(201);
    assert_eq!((r["status"].as_str(), r["points"].as_i64()), (Some("fulfilled"), Some(3)));
    assert_eq!(team.earned(&team.ana), 0);
    let s = statement(&team, &this_month(&team));
    assert_eq!(s["totals"], json!([{"currency": "EUR", "face_value_minor": 30}]));
    assert_eq!(s["lines"][0]["member"], "Ana");
    // The ledger says the same: +3 award, −3 redemption.
    let entries = team.ledger(&team.ana.auth, &team.ana.id);
    assert_eq!(sum_of(&entries, "earned"), 0);
    assert!(entries.iter().any(|e| e["kind"] == "redemption" && e["amount"] == -3));
    sound(&team);
}

fn a_25_dollar_card_at_7_cents_costs_358_points_and_bills_25_dollars(db: &TestDb) {
    let team = paid_team(db, "acme", 7, "USD");
    let card = new_reward(&team, json!({"kind": "gift_card", "name": "Bookshop $25", "face_value_minor": 2500}));
    assert_eq!(card["cost_points"], 358);
    fund(&team, &team.bob, 400);
    let r = redeem(&team, &team.bob, card["id"].as_str().unwrap()).ok(201);
    assert_eq!(r["status"], "pending");
    assert_eq!(team.earned(&team.bob), 42);
    let id = r["id"].as_str().unwrap();
    team.t.post(&team.org.auth, &format!("/api/v1/redemptions/{id}/fulfil"), &json!({"code": "BOOK-25-XYZ"})).ok(200);
    let s = statement(&team, &this_month(&team));
    assert_eq!(s["totals"], json!([{"currency": "USD", "face_value_minor": 2500}]));
    assert_eq!(s["lines"].as_array().unwrap().len(), 1);
    assert_eq!(s["lines"][0]["face_value_minor"], 2500);

    // A new point value re-prices the catalog (what was redeemed stays as debited).
    team.settings(json!({"point_value_minor": 10}));
    let again = team.t.get(&team.bob.auth, &format!("/api/v1/rewards/{}", card["id"].as_str().unwrap())).ok(200);
    assert_eq!(again["cost_points"], 250);
    assert_eq!(team.t.get(&team.bob.auth, &format!("/api/v1/redemptions/{id}")).ok(200)["points"], 358);
    sound(&team);
}

// ------------------------------------------------------------------ refusals

fn each_refusal_has_its_code_and_changes_nothing(db: &TestDb) {
    let team = paid_team(db, "acme", 10, "EUR");
    let lunch = new_reward(
        &team,
        json!({"kind": "culture", "name": "Lunch with the CEO", "cost_points": 50, "stock": 1, "per_member_monthly_limit": 1}),
    );
    let book = new_reward(
        &team,
        json!({"kind": "culture", "name": "A book on us", "cost_points": 20, "per_member_monthly_limit": 1}),
    );
    let (lunch_id, book_id) = (lunch["id"].as_str().unwrap(), book["id"].as_str().unwrap());
    fund(&team, &team.ana, 30);

    // Not enough points: says how many are missing.
    let before = world(&team);
    let p = redeem(&team, &team.ana, lunch_id).problem(422, "insufficient_balance");
    assert!(p["detail"].as_str().unwrap().contains("20 points missing"), "{p}");
    assert_eq!(world(&team), before);

    // The monthly limit.
    redeem(&team, &team.ana, book_id).ok(201);
    let before = world(&team);
    redeem(&team, &team.ana, book_id).problem(422, "redemption_limit_reached");
    assert_eq!(world(&team), before);

    // Out of stock.
    fund(&team, &team.bob, 100);
    fund(&team, &team.cy, 100);
    redeem(&team, &team.bob, lunch_id).ok(201);
    let before = world(&team);
    redeem(&team, &team.cy, lunch_id).problem(409, "out_of_stock");
    assert_eq!(world(&team), before);

    // Archived.
    team.t.patch(&team.org.auth, &format!("/api/v1/rewards/{book_id}"), &json!({"archived": true})).ok(200);
    let before = world(&team);
    redeem(&team, &team.cy, book_id).problem(409, "reward_archived");
    assert_eq!(world(&team), before);
    assert!(!team.t.get(&team.cy.auth, "/api/v1/rewards").ok(200)["items"].to_string().contains(book_id));

    // An inactive member (a token made before the deactivation).
    let dee = team.person("dee@acme.example", json!({"display_name": "Dee"}));
    fund(&team, &dee, 100);
    let lamp = new_reward(&team, json!({"kind": "swag", "name": "Desk lamp", "cost_points": 10}));
    let dee_caller = team.t.caller(&dee.auth);
    team.patch_member(&dee.id, json!({"status": "inactive"}));
    let before = world(&team);
    let e = team.t.app.redeem(&dee_caller, lamp["id"].as_str().unwrap(), None).unwrap_err();
    assert_eq!(e.code, "member_inactive");
    assert_eq!(world(&team), before);

    // Members cannot manage the catalog or fulfil.
    team.t
        .post(&team.ana.auth, "/api/v1/rewards", &json!({"kind": "swag", "name": "Mug", "cost_points": 5}))
        .problem(403, "not_permitted");
    // Validation: a gift card without a face value.
    team.t
        .post(&team.org.auth, "/api/v1/rewards", &json!({"kind": "gift_card", "name": "Card"}))
        .problem(422, "validation_failed");
    team.t
        .post(
            &team.org.auth,
            "/api/v1/rewards",
            &json!({"kind": "gift_card", "name": "Card", "face_value_minor": 500, "currency": "USD"}),
        )
        .problem(422, "validation_failed");
    sound(&team);
}

fn the_free_plan_has_culture_rewards_but_not_paid_ones(db: &TestDb) {
    let team = Team::new(db, "freebie");
    team.settings(json!({"point_value_minor": 10, "money_currency": "EUR"}));
    for kind in ["gift_card", "donation"] {
        let p = team
            .t
            .post(&team.org.auth, "/api/v1/rewards", &json!({"kind": kind, "name": "Paid", "face_value_minor": 1000}))
            .problem(402, "plan_limit");
        assert_eq!(p["field"], "kind");
    }
    let culture = new_reward(&team, json!({"kind": "culture", "name": "Team breakfast", "cost_points": 40}));
    team.t
        .patch(
            &team.org.auth,
            &format!("/api/v1/rewards/{}", culture["id"].as_str().unwrap()),
            &json!({"kind": "gift_card", "face_value_minor": 500}),
        )
        .problem(402, "plan_limit");
    assert_eq!(team.t.get(&team.org.auth, "/api/v1/rewards").ok(200)["items"].as_array().unwrap().len(), 1);
}

/// Back on the free plan, paid rewards can no longer be redeemed; culture and swag still can.
fn a_free_org_cannot_redeem_paid_rewards(db: &TestDb) {
    let team = paid_team(db, "downgrade", 10, "EUR");
    let card = new_reward(&team, json!({"kind": "gift_card", "name": "Card €5", "face_value_minor": 500}));
    let gift = new_reward(&team, json!({"kind": "donation", "name": "Give €5", "face_value_minor": 500}));
    let lunch = new_reward(&team, json!({"kind": "culture", "name": "Team lunch", "cost_points": 20}));
    let mug = new_reward(&team, json!({"kind": "swag", "name": "Mug", "cost_points": 10}));
    fund(&team, &team.ana, 200);
    // Still paid: a gift card redeems.
    redeem(&team, &team.ana, card["id"].as_str().unwrap()).ok(201);

    team.t.app.set_plan("downgrade", Plan::Free).unwrap();
    for paid in [&card, &gift] {
        let before = world(&team);
        let p = redeem(&team, &team.ana, paid["id"].as_str().unwrap()).problem(402, "plan_limit");
        assert!(p["detail"].as_str().unwrap().contains("paid-plan"), "{p}");
        assert_eq!(world(&team), before);
    }
    // With an Idempotency-Key too: refused, and the key is not used up.
    let keyed = team.t.app.redeem(&team.t.caller(&team.ana.auth), card["id"].as_str().unwrap(), Some("k-free"));
    assert_eq!(keyed.unwrap_err().code, "plan_limit");
    let balance = team.balance(&team.ana)["earned"]["balance"].as_i64().unwrap();
    redeem(&team, &team.ana, lunch["id"].as_str().unwrap()).ok(201);
    redeem(&team, &team.ana, mug["id"].as_str().unwrap()).ok(201);
    assert_eq!(team.balance(&team.ana)["earned"]["balance"].as_i64().unwrap(), balance - 30);
    sound(&team);
}

// ------------------------------------------------------------------ transitions

fn transitions_refund_exactly_and_codes_are_private_and_encrypted(db: &TestDb) {
    let team = paid_team(db, "acme", 10, "EUR");
    let card =
        new_reward(&team, json!({"kind": "gift_card", "name": "Cinema €15", "face_value_minor": 1500, "stock": 3}));
    let card_id = card["id"].as_str().unwrap().to_string();
    assert_eq!(card["cost_points"], 150);
    fund(&team, &team.ana, 500);

    // pending → cancelled: every point and the item return.
    let r1 = redeem(&team, &team.ana, &card_id).ok(201);
    assert_eq!(team.earned(&team.ana), 350);
    assert_eq!(team.t.get(&team.org.auth, &format!("/api/v1/rewards/{card_id}")).ok(200)["stock"], 2);
    let id1 = r1["id"].as_str().unwrap();
    team.t.post(&team.bob.auth, &format!("/api/v1/redemptions/{id1}/cancel"), &json!({})).problem(404, "not_found");
    let c = team.t.post(&team.ana.auth, &format!("/api/v1/redemptions/{id1}/cancel"), &json!({})).ok(200);
    assert_eq!(c["status"], "cancelled");
    assert_eq!(team.earned(&team.ana), 500);
    assert_eq!(team.t.get(&team.org.auth, &format!("/api/v1/rewards/{card_id}")).ok(200)["stock"], 3);
    team.t
        .post(&team.ana.auth, &format!("/api/v1/redemptions/{id1}/cancel"), &json!({}))
        .problem(409, "redemption_not_pending");

    // pending → declined with a reason: refunded, stock released.
    let id2 = redeem(&team, &team.ana, &card_id).ok(201)["id"].as_str().unwrap().to_string();
    team.t
        .post(&team.org.auth, &format!("/api/v1/redemptions/{id2}/decline"), &json!({"reason": " "}))
        .problem(422, "validation_failed");
    team.t
        .post(&team.ana.auth, &format!("/api/v1/redemptions/{id2}/decline"), &json!({"reason": "no"}))
        .problem(403, "not_permitted");
    let d = team
        .t
        .post(&team.org.auth, &format!("/api/v1/redemptions/{id2}/decline"), &json!({"reason": "Cinema closed"}))
        .ok(200);
    assert_eq!((d["status"].as_str(), d["reason"].as_str()), (Some("declined"), Some("Cinema closed")));
    assert_eq!(team.earned(&team.ana), 500);
    assert_eq!(team.t.get(&team.org.auth, &format!("/api/v1/rewards/{card_id}")).ok(200)["stock"], 3);

    // pending → fulfilled with a code: only Ana and admins see it.
    let id3 = redeem(&team, &team.ana, &card_id).ok(201)["id"].as_str().unwrap().to_string();
    let pending = team.t.get(&team.org.auth, "/api/v1/redemptions?status=pending").ok(200);
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    team.t
        .post(&team.ana.auth, &format!("/api/v1/redemptions/{id3}/fulfil"), &json!({"code": "X"}))
        .problem(403, "not_permitted");
    let f = team
        .t
        .post(
            &team.org.auth,
            &format!("/api/v1/redemptions/{id3}/fulfil"),
            &json!({"code": "CINE-4242-ABCD", "note": "Valid a year"}),
        )
        .ok(200);
    assert_eq!((f["status"].as_str(), f["code"].as_str()), (Some("fulfilled"), Some("CINE-4242-ABCD")));
    assert_eq!(team.earned(&team.ana), 350);
    let mine = team.t.get(&team.ana.auth, &format!("/api/v1/redemptions/{id3}")).ok(200);
    assert_eq!((mine["code"].as_str(), mine["note"].as_str()), (Some("CINE-4242-ABCD"), Some("Valid a year")));
    team.t.get(&team.bob.auth, &format!("/api/v1/redemptions/{id3}")).problem(404, "not_found");
    assert!(team.t.get(&team.bob.auth, "/api/v1/redemptions").ok(200)["items"].as_array().unwrap().is_empty());
    team.t.get(&team.bob.auth, &format!("/api/v1/redemptions?member={}", team.ana.id)).problem(403, "not_permitted");
    team.t
        .post(&team.org.auth, &format!("/api/v1/redemptions/{id3}/fulfil"), &json!({}))
        .problem(409, "redemption_not_pending");
    team.t
        .post(&team.ana.auth, &format!("/api/v1/redemptions/{id3}/cancel"), &json!({}))
        .problem(409, "redemption_not_pending");
    // Encrypted at rest: the stored row has neither the code nor the note.
    let stored = team.t.app.store.read(|tx| tx.redemption_by_id(&team.org.org_id, &id3)).unwrap().unwrap();
    let (code, note) = (stored.code.unwrap(), stored.note.unwrap());
    assert!(code.starts_with("v1:") && !code.contains("CINE") && !note.contains("year"), "{code} {note}");
    // The member is told: an unseen change until they look.
    assert_eq!(team.t.app.unseen_redemptions(&team.t.caller(&team.ana.auth)).unwrap(), 2);

    // fulfilled → declined later: refunded, and a negative line this month.
    let month = this_month(&team);
    assert_eq!(statement(&team, &month)["totals"], json!([{"currency": "EUR", "face_value_minor": 1500}]));
    team.t
        .post(&team.org.auth, &format!("/api/v1/redemptions/{id3}/decline"), &json!({"reason": "Code did not work"}))
        .ok(200);
    assert_eq!(team.earned(&team.ana), 500);
    let s = statement(&team, &month);
    let values: Vec<i64> =
        s["lines"].as_array().unwrap().iter().map(|l| l["face_value_minor"].as_i64().unwrap()).collect();
    assert_eq!(values, vec![1500, -1500]);
    assert_eq!(s["totals"], json!([{"currency": "EUR", "face_value_minor": 0}]));
    team.t
        .post(&team.org.auth, &format!("/api/v1/redemptions/{id3}/decline"), &json!({"reason": "again"}))
        .problem(409, "redemption_closed");
    let kinds: Vec<String> = team
        .ledger(&team.ana.auth, &team.ana.id)
        .iter()
        .map(|e| format!("{}{}", e["kind"].as_str().unwrap(), e["amount"]))
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "redemption-150").count(), 3);
    assert_eq!(kinds.iter().filter(|k| *k == "refund150").count(), 3);
    sound(&team);
}

// ------------------------------------------------------------------ statements

fn statements_follow_the_org_month_and_a_closed_month_never_changes(db: &TestDb) {
    let team = paid_team(db, "acme", 10, "EUR");
    team.settings(json!({"timezone": "Asia/Tokyo"}));
    let admin = team.t.caller(&team.org.auth);
    let ana = team.t.caller(&team.ana.auth);
    let app = &team.t.app;
    let card = new_reward(&team, json!({"kind": "gift_card", "name": "Card €20", "face_value_minor": 2000}));
    let lunch = new_reward(&team, json!({"kind": "culture", "name": "Lunch with the CEO", "cost_points": 30}));
    let (card, lunch) = (card["id"].as_str().unwrap(), lunch["id"].as_str().unwrap());
    fund(&team, &team.ana, 2000);

    let last_ms = local_ms("2026-10-31T23:59:59.999[Asia/Tokyo]");
    let first_ms = local_ms("2026-11-01T00:00:00.000[Asia/Tokyo]");
    let r1 = app.redeem_at(&ana, card, None, last_ms - 60_000).unwrap().redemption.id;
    let r2 = app.redeem_at(&ana, card, None, last_ms - 60_000).unwrap().redemption.id;
    let r3 = app.redeem_at(&ana, lunch, None, last_ms - 60_000).unwrap().redemption.id;
    app.fulfil_at(&admin, &r1, Some("CODE-1"), None, last_ms).unwrap();
    app.fulfil_at(&admin, &r3, None, Some("Friday noon"), last_ms).unwrap();
    // Redeemed in October, fulfilled a millisecond later: November's.
    app.fulfil_at(&admin, &r2, Some("CODE-2"), None, first_ms).unwrap();

    let oct = statement(&team, "2026-10");
    assert_eq!(oct["closed"], true);
    assert_eq!(oct["totals"], json!([{"currency": "EUR", "face_value_minor": 2000}]));
    assert_eq!(oct["lines"][0]["date"], "2026-10-31");
    assert_eq!(oct["culture_lines"].as_array().unwrap().len(), 1);
    assert_eq!(
        (oct["culture_lines"][0]["face_value_minor"].as_i64(), oct["culture_lines"][0]["currency"].is_null()),
        (Some(0), true)
    );
    let nov = statement(&team, "2026-11");
    assert_eq!(nov["totals"], json!([{"currency": "EUR", "face_value_minor": 2000}]));
    assert_eq!(nov["lines"][0]["date"], "2026-11-01");

    // Later events never touch October: a refund of r1 in November is a
    // negative line in November; renames and a new time zone change nothing.
    app.decline_at(&admin, &r1, "Lost in the post", first_ms + 3_600_000).unwrap();
    team.patch_member(&team.ana.id, json!({"display_name": "Ana Renamed"}));
    team.t.patch(&team.org.auth, &format!("/api/v1/rewards/{card}"), &json!({"name": "Renamed card"})).ok(200);
    team.settings(json!({"timezone": "America/Los_Angeles"}));
    let oct_again = statement(&team, "2026-10");
    assert_eq!(oct_again["lines"], oct["lines"]);
    assert_eq!(oct_again["totals"], oct["totals"]);
    let nov = statement(&team, "2026-11");
    let values: Vec<i64> =
        nov["lines"].as_array().unwrap().iter().map(|l| l["face_value_minor"].as_i64().unwrap()).collect();
    assert_eq!(values, vec![2000, -2000]);
    assert_eq!(nov["totals"], json!([{"currency": "EUR", "face_value_minor": 0}]));
    // Totals always equal the sum of the lines.
    for s in [&oct_again, &nov] {
        let sum: i64 = s["lines"].as_array().unwrap().iter().map(|l| l["face_value_minor"].as_i64().unwrap()).sum();
        assert_eq!(s["totals"][0]["face_value_minor"].as_i64().unwrap(), sum);
    }

    // CSV.
    let csv = team.t.request_with(
        Method::GET,
        "/api/v1/billing/statements/2026-10",
        &team.org.auth,
        &[("accept", "text/csv")],
        None,
    );
    assert_eq!(csv.status.as_u16(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "date,member,reward,reward_kind,line,face_value_minor,currency,face_value");
    assert_eq!(lines[1], "2026-10-31,Ana,Card €20,gift_card,charge,2000,EUR,20.00 EUR");
    assert_eq!(lines[2], "2026-10-31,Ana,Lunch with the CEO,culture,charge,0,,0");
    assert_eq!(lines[3], "2026-10,,,,total,2000,EUR,20.00 EUR");
    assert_eq!(lines.len(), 4);

    team.t.get(&team.ana.auth, "/api/v1/billing/statements/2026-10").problem(403, "not_permitted");
    team.t.get(&team.org.auth, "/api/v1/billing/statements/2026-13").problem(422, "validation_failed");
    sound(&team);
}

// ------------------------------------------------------------------ images, filters, idempotency

fn images_filters_and_idempotency(db: &TestDb) {
    let team = paid_team(db, "acme", 10, "EUR");
    let lunch = new_reward(&team, json!({"kind": "culture", "name": "Lunch", "cost_points": 30}));
    new_reward(&team, json!({"kind": "swag", "name": "Hoodie", "cost_points": 80}));
    new_reward(&team, json!({"kind": "donation", "name": "Red Cross €5", "face_value_minor": 500}));
    let id = lunch["id"].as_str().unwrap();

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let put = team.t.request(
        Method::PUT,
        &format!("/api/v1/rewards/{id}/image"),
        &team.org.auth,
        Some("image/png"),
        png.clone(),
    );
    assert_eq!(put.status.as_u16(), 200, "{}", put.text());
    assert_eq!(put.json()["image_url"], format!("/api/v1/rewards/{id}/image"));
    let got = team.t.get(&team.ana.auth, &format!("/api/v1/rewards/{id}/image"));
    assert_eq!((got.status.as_u16(), got.header("content-type")), (200, Some("image/png")));
    assert_eq!(got.body, png);
    team.t
        .request(
            Method::PUT,
            &format!("/api/v1/rewards/{id}/image"),
            &team.org.auth,
            Some("image/gif"),
            b"GIF89a....".to_vec(),
        )
        .problem(415, "unsupported_media_type");
    let mut big = b"\xFF\xD8\xFF".to_vec();
    big.resize(600 * 1024, 0);
    let huge =
        team.t.request(Method::PUT, &format!("/api/v1/rewards/{id}/image"), &team.org.auth, Some("image/jpeg"), big);
    assert_eq!(huge.status.as_u16(), 413);
    team.t
        .request(Method::PUT, &format!("/api/v1/rewards/{id}/image"), &team.ana.auth, Some("image/png"), png)
        .problem(403, "not_permitted");

    let names = |q: &str, who: &Person| -> Vec<String> {
        team.t.get(&who.auth, &format!("/api/v1/rewards?{q}")).ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("", &team.ana), ["Lunch", "Red Cross €5", "Hoodie"]);
    assert_eq!(names("kind=swag", &team.ana), ["Hoodie"]);
    fund(&team, &team.ana, 60);
    assert_eq!(names("affordable=true", &team.ana), ["Lunch", "Red Cross €5"]);
    team.t.get(&team.ana.auth, "/api/v1/rewards?kind=voucher").problem(422, "validation_failed");

    // One key, one redemption.
    let first = team.t.post_with_key(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": id}), "k-1");
    let body = first.ok(201);
    let again = team.t.post_with_key(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": id}), "k-1");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.ok(200)["id"], body["id"]);
    assert_eq!(team.earned(&team.ana), 30);
    let other = lunch_like(&team);
    team.t
        .post_with_key(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": other}), "k-1")
        .problem(422, "idempotency_key_reused");
    assert_eq!(team.t.get(&team.ana.auth, "/api/v1/redemptions").ok(200)["items"].as_array().unwrap().len(), 1);
    sound(&team);
}

fn lunch_like(team: &Team) -> String {
    new_reward(team, json!({"kind": "culture", "name": "Coffee", "cost_points": 5}))["id"].as_str().unwrap().to_string()
}

// ------------------------------------------------------------------ concurrency

fn redeem_request(who: &Person, reward_id: &str, key: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let headers: Vec<(&str, &str)> = key.map(|k| vec![("idempotency-key", k)]).unwrap_or_default();
    build_request(Method::POST, "/api/v1/redemptions", &who.auth, &headers, Some(&json!({"reward_id": reward_id})))
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

fn the_last_item_goes_to_exactly_one_of_twenty(db: &TestDb) {
    let team = paid_team(db, "race", 10, "EUR");
    let last = new_reward(&team, json!({"kind": "swag", "name": "Last hoodie", "cost_points": 10, "stock": 1}));
    let id = last["id"].as_str().unwrap();
    let people: Vec<Person> = (0..20).map(|i| team.person(&format!("p{i}@race.example"), json!({}))).collect();
    let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
    team.t.post(&team.org.auth, "/api/v1/awards", &json!({"recipients": ids, "points": 10, "message": "go"})).ok(201);
    let resps = team.t.send_concurrently(people.iter().map(|p| redeem_request(p, id, None)).collect());
    let codes = codes(&resps);
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| c == "201" || c == "out_of_stock"), "{codes:?}");
    assert_eq!(team.t.get(&team.org.auth, &format!("/api/v1/rewards/{id}")).ok(200)["stock"], 0);
    let spent: i64 = people.iter().map(|p| 10 - stored_earned(&team.t, &team.org.org_id, &p.id)).sum();
    assert_eq!(spent, 10);
    assert_eq!(team.t.get(&team.org.auth, "/api/v1/redemptions").ok(200)["items"].as_array().unwrap().len(), 1);
    sound(&team);
}

fn twenty_parallel_redemptions_never_overspend(db: &TestDb) {
    let team = paid_team(db, "race", 10, "EUR");
    let r = new_reward(&team, json!({"kind": "culture", "name": "Book", "cost_points": 15}));
    let id = r["id"].as_str().unwrap();
    fund(&team, &team.ana, 100);
    let resps = team.t.send_concurrently((0..20).map(|_| redeem_request(&team.ana, id, None)).collect());
    let codes = codes(&resps);
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 6, "{codes:?}");
    assert!(codes.iter().all(|c| c == "201" || c == "insufficient_balance"), "{codes:?}");
    assert_eq!(stored_earned(&team.t, &team.org.org_id, &team.ana.id), 10);
    sound(&team);
}

fn the_monthly_limit_holds_under_parallel_redemptions(db: &TestDb) {
    let team = paid_team(db, "race", 10, "EUR");
    let r = new_reward(
        &team,
        json!({"kind": "culture", "name": "Massage", "cost_points": 5, "per_member_monthly_limit": 2}),
    );
    let id = r["id"].as_str().unwrap();
    fund(&team, &team.ana, 100);
    let resps = team.t.send_concurrently((0..10).map(|_| redeem_request(&team.ana, id, None)).collect());
    let codes = codes(&resps);
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 2, "{codes:?}");
    assert!(codes.iter().all(|c| c == "201" || c == "redemption_limit_reached"), "{codes:?}");
    assert_eq!(stored_earned(&team.t, &team.org.org_id, &team.ana.id), 90);
    sound(&team);
}

fn one_key_sent_twenty_times_redeems_once(db: &TestDb) {
    let team = paid_team(db, "race", 10, "EUR");
    let r = new_reward(&team, json!({"kind": "culture", "name": "Book", "cost_points": 15, "stock": 5}));
    let id = r["id"].as_str().unwrap();
    fund(&team, &team.ana, 100);
    let resps = team.t.send_concurrently((0..20).map(|_| redeem_request(&team.ana, id, Some("same-key"))).collect());
    let codes = codes(&resps);
    assert!(codes.iter().all(|c| c == "201" || c == "200"), "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "201").count(), 1, "{codes:?}");
    let ids: std::collections::BTreeSet<String> =
        resps.iter().map(|r| r.json()["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(stored_earned(&team.t, &team.org.org_id, &team.ana.id), 85);
    assert_eq!(team.t.get(&team.org.auth, &format!("/api/v1/rewards/{id}")).ok(200)["stock"], 4);
    sound(&team);
}

backend_tests!(
    a_thirty_cent_voucher_costs_exactly_three_ten_cent_points,
    a_25_dollar_card_at_7_cents_costs_358_points_and_bills_25_dollars,
    each_refusal_has_its_code_and_changes_nothing,
    the_free_plan_has_culture_rewards_but_not_paid_ones,
    a_free_org_cannot_redeem_paid_rewards,
    transitions_refund_exactly_and_codes_are_private_and_encrypted,
    statements_follow_the_org_month_and_a_closed_month_never_changes,
    images_filters_and_idempotency,
    the_last_item_goes_to_exactly_one_of_twenty,
    twenty_parallel_redemptions_never_overspend,
    one_key_sent_twenty_times_redeems_once,
    the_monthly_limit_holds_under_parallel_redemptions,
    pages_redeem_fulfil_and_show_the_code,
    the_admin_page_edits_a_reward,
);

/// The demo has a catalog, a non-empty statement for last month and a queue.
#[test]
fn the_demo_has_a_catalog_and_last_months_statement() {
    let db = plaudit_store::testing::sqlite();
    let t = TestApp::new(&db);
    t.app.ensure_demo().unwrap();
    let org = t.app.org_by_slug("demo").unwrap();
    let owner =
        t.app.store.read(|tx| tx.member_by_email(&org.id, plaudit_app::demo::DEMO_OWNER_EMAIL)).unwrap().unwrap();
    let admin = t.app.caller_for(&org.id, &owner.id).unwrap();
    let rewards = t.app.rewards(&admin, false, None).unwrap();
    let kinds: std::collections::BTreeSet<&str> = rewards.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["culture", "donation", "gift_card", "swag"]);
    let now = plaudit_app::now_ms();
    let this = plaudit_domain::period::month_of(now, &org.timezone).unwrap();
    let last = plaudit_domain::period::month_of(this.start_ms - 1, &org.timezone).unwrap();
    let s = t.app.statement(&admin, &last.label).unwrap();
    assert!(!s.lines.is_empty(), "{s:?}");
    let sum: i64 = s.lines.iter().map(|l| l.face_value_minor).sum();
    assert_eq!(
        s.totals,
        vec![plaudit_domain::rewards::CurrencyTotal { currency: "EUR".into(), face_value_minor: sum }]
    );
    let pending =
        t.app.redemptions(&admin, None, Some(plaudit_domain::rewards::RedemptionStatus::Pending), None, 100).unwrap();
    let all = t.app.redemptions(&admin, None, None, None, 100).unwrap();
    assert!(!pending.items.is_empty(), "{} redemptions", all.items.len());
    let member =
        t.app.store.read(|tx| tx.member_by_email(&org.id, plaudit_app::demo::DEMO_MEMBER_EMAIL)).unwrap().unwrap();
    assert!(t.app.store.read(|tx| tx.balance(&org.id, &member.id)).unwrap() >= 500);
    assert!(t.app.verify_ledger().unwrap().is_empty());
}

// ------------------------------------------------------------------ web pages

fn form(t: &TestApp, auth: &Auth, path: &str, pairs: &[(&str, &str)]) -> Resp {
    let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
    t.request(Method::POST, path, auth, Some("application/x-www-form-urlencoded"), body.join("&").into_bytes())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn pages_redeem_fulfil_and_show_the_code(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    t.patch(&o.auth, "/api/v1/org", &json!({"point_value_minor": 10, "money_currency": "EUR"})).ok(200);
    let admin_csrf = csrf_of(&o.auth);
    let (mia_id, mia) = t.member_session(&o.auth, "acme", "mia@acme.example", "member");
    t.post(&o.auth, "/api/v1/awards", &json!({"recipients": [mia_id], "points": 120, "message": "Enjoy"})).ok(201);

    // The admin adds a reward; errors come back beside the field, and nothing is created.
    let page = t.get(&o.auth, "/admin/rewards");
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text().contains("Add a reward"));
    let forged = form(
        &t,
        &o.auth,
        "/admin/rewards",
        &[("csrf", "wrong"), ("kind", "culture"), ("name", "X"), ("cost_points", "5")],
    );
    assert_eq!(forged.status.as_u16(), 403);
    let bad = form(
        &t,
        &o.auth,
        "/admin/rewards",
        &[("csrf", &admin_csrf), ("kind", "culture"), ("name", "Lunch with the CEO"), ("cost_points", "lots")],
    );
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("id=\"cost_points-error\""), "{}", bad.text());
    assert!(t.get(&o.auth, "/api/v1/rewards").ok(200)["items"].as_array().unwrap().is_empty());
    let ok = form(
        &t,
        &o.auth,
        "/admin/rewards",
        &[
            ("csrf", &admin_csrf),
            ("kind", "culture"),
            ("name", "Lunch with the CEO"),
            ("cost_points", "100"),
            ("requires_approval", "on"),
        ],
    );
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.text());
    let card = form(
        &t,
        &o.auth,
        "/admin/rewards",
        &[("csrf", &admin_csrf), ("kind", "gift_card"), ("name", "Card €25"), ("face_value", "25.00")],
    );
    assert_eq!(card.status.as_u16(), 303, "{}", card.text());
    let rewards = t.get(&mia, "/api/v1/rewards").ok(200);
    let lunch =
        rewards["items"].as_array().unwrap().iter().find(|r| r["name"] == "Lunch with the CEO").unwrap().clone();
    let card = rewards["items"].as_array().unwrap().iter().find(|r| r["name"] == "Card €25").unwrap().clone();
    assert_eq!(card["cost_points"], 250);

    // The member sees what she can afford, confirms and redeems.
    let catalog = t.get(&mia, "/rewards?affordable=on").text();
    assert!(catalog.contains("Lunch with the CEO") && !catalog.contains("Card €25"), "{catalog}");
    let lunch_id = lunch["id"].as_str().unwrap();
    let confirm = t.get(&mia, &format!("/rewards/{lunch_id}/redeem"));
    assert!(confirm.text().contains("Afterwards you will have"));
    let mia_csrf = csrf_of(&mia);
    let done = form(&t, &mia, &format!("/rewards/{lunch_id}/redeem"), &[("csrf", &mia_csrf), ("key", "page-key-1")]);
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    // The same form sent twice redeems once.
    form(&t, &mia, &format!("/rewards/{lunch_id}/redeem"), &[("csrf", &mia_csrf), ("key", "page-key-1")]);
    assert_eq!(t.get(&mia, "/api/v1/me/balance").ok(200)["earned"]["balance"], 20);
    let short = form(
        &t,
        &mia,
        &format!("/rewards/{}/redeem", card["id"].as_str().unwrap()),
        &[("csrf", &mia_csrf), ("key", "k2")],
    );
    assert_eq!(short.status.as_u16(), 422);
    assert!(short.text().contains("230 points missing"), "{}", short.text());

    // The admin fulfils from the queue with a code; the member is told and sees it.
    let queue = t.get(&o.auth, "/admin/rewards").text();
    assert!(queue.contains("data-testid=\"queue-item\""));
    let rid = t.get(&mia, "/api/v1/redemptions").ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    let f = form(
        &t,
        &o.auth,
        &format!("/admin/redemptions/{rid}/fulfil"),
        &[("csrf", &admin_csrf), ("code", "LUNCH-2026"), ("note", "")],
    );
    assert_eq!(f.status.as_u16(), 303, "{}", f.text());
    assert!(t.get(&mia, "/rewards").text().contains("redemption-notice"));
    let mine = t.get(&mia, "/redemptions").text();
    assert!(mine.contains("LUNCH-2026") && mine.contains("Updates since you last looked"), "{mine}");
    assert!(!t.get(&mia, "/redemptions").text().contains("Updates since you last looked"));
    assert_eq!(t.get(&mia, "/admin/rewards").status.as_u16(), 403);

    // The statement page shows the month's total (a culture reward: nothing to pay) and links the CSV.
    let s = t.get(&o.auth, "/admin/statements").text();
    assert!(
        s.contains("Nothing to pay this month") && s.contains("format=csv") && s.contains("Lunch with the CEO"),
        "{s}"
    );

    // A refund after fulfilment, from the "recently fulfilled" list; a blank reason is refused beside its field.
    assert!(t.get(&o.auth, "/admin/rewards").text().contains("data-testid=\"fulfilled-item\""));
    let blank =
        form(&t, &o.auth, &format!("/admin/redemptions/{rid}/decline"), &[("csrf", &admin_csrf), ("reason", " ")]);
    assert_eq!(blank.status.as_u16(), 422);
    assert!(blank.text().contains(&format!("id=\"reason-{rid}-error\"")), "{}", blank.text());
    assert_eq!(t.get(&mia, "/api/v1/me/balance").ok(200)["earned"]["balance"], 20);
    let refund = form(
        &t,
        &o.auth,
        &format!("/admin/redemptions/{rid}/decline"),
        &[("csrf", &admin_csrf), ("reason", "The CEO is travelling")],
    );
    assert_eq!(refund.status.as_u16(), 303, "{}", refund.text());
    assert_eq!(t.get(&mia, "/api/v1/me/balance").ok(200)["earned"]["balance"], 120);
    assert!(t.app.verify_ledger().unwrap().is_empty());
}

fn the_admin_page_edits_a_reward(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    t.patch(&o.auth, "/api/v1/org", &json!({"point_value_minor": 10, "money_currency": "EUR"})).ok(200);
    let csrf = csrf_of(&o.auth);
    let (_, mia) = t.member_session(&o.auth, "acme", "mia@acme.example", "member");
    let book =
        t.post(&o.auth, "/api/v1/rewards", &json!({"kind": "culture", "name": "A book", "cost_points": 20})).ok(201);
    let card = t
        .post(&o.auth, "/api/v1/rewards", &json!({"kind": "gift_card", "name": "Card", "face_value_minor": 2500}))
        .ok(201);
    let (book_id, card_id) = (book["id"].as_str().unwrap(), card["id"].as_str().unwrap());

    // Each reward has its edit form: points for culture, face value (with the currency) for a gift card.
    let page = t.get(&o.auth, "/admin/rewards").text();
    assert!(page.contains(&format!("id=\"edit-cost_points-{book_id}\"")), "{page}");
    assert!(page.contains(&format!("id=\"edit-face_value-{card_id}\"")) && page.contains("Face value (EUR)"), "{page}");
    assert!(!page.contains(&format!("id=\"edit-cost_points-{card_id}\"")));

    // A forged form changes nothing; a bad value comes back beside its field, the form open and refilled.
    let edit = |pairs: &[(&str, &str)], id: &str| form(&t, &o.auth, &format!("/admin/rewards/{id}"), pairs);
    let forged = edit(&[("csrf", "wrong"), ("action", "edit"), ("name", "Hacked"), ("cost_points", "1")], book_id);
    assert_eq!(forged.status.as_u16(), 403);
    let bad = edit(&[("csrf", &csrf), ("action", "edit"), ("name", "A good book"), ("cost_points", "lots")], book_id);
    assert_eq!(bad.status.as_u16(), 422);
    let text = bad.text();
    assert!(text.contains(&format!("id=\"edit-cost_points-{book_id}-error\"")), "{text}");
    assert!(text.contains("value=\"A good book\""), "{text}");
    let blank = edit(&[("csrf", &csrf), ("action", "edit"), ("name", " "), ("cost_points", "5")], book_id);
    assert_eq!(blank.status.as_u16(), 422);
    assert!(blank.text().contains(&format!("id=\"edit-name-{book_id}-error\"")), "{}", blank.text());
    assert_eq!(t.get(&o.auth, &format!("/api/v1/rewards/{book_id}")).ok(200)["name"], "A book");

    // A good edit saves every field.
    let ok = edit(
        &[
            ("csrf", &csrf),
            ("action", "edit"),
            ("name", "A good book"),
            ("description", "Any book you like"),
            ("cost_points", "30"),
            ("stock", "4"),
            ("per_member_monthly_limit", "1"),
        ],
        book_id,
    );
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.text());
    let r = t.get(&o.auth, &format!("/api/v1/rewards/{book_id}")).ok(200);
    assert_eq!(
        (
            &r["name"],
            &r["description"],
            &r["cost_points"],
            &r["stock"],
            &r["per_member_monthly_limit"],
            &r["requires_approval"]
        ),
        (&json!("A good book"), &json!("Any book you like"), &json!(30), &json!(4), &json!(1), &json!(false))
    );
    // The gift card's face value re-prices it; a blank face value is refused beside its field.
    let ok = edit(
        &[("csrf", &csrf), ("action", "edit"), ("name", "Card"), ("face_value", "30.00"), ("requires_approval", "on")],
        card_id,
    );
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.text());
    let r = t.get(&o.auth, &format!("/api/v1/rewards/{card_id}")).ok(200);
    assert_eq!((&r["face_value_minor"], &r["cost_points"], &r["currency"]), (&json!(3000), &json!(300), &json!("EUR")));
    let blank = edit(&[("csrf", &csrf), ("action", "edit"), ("name", "Card"), ("face_value", "")], card_id);
    assert_eq!(blank.status.as_u16(), 422);
    assert!(blank.text().contains(&format!("id=\"edit-face_value-{card_id}-error\"")), "{}", blank.text());
    // The member sees the new name.
    assert!(t.get(&mia, "/rewards").text().contains("A good book"));
    assert_eq!(t.get(&mia, "/admin/rewards").status.as_u16(), 403);
}
