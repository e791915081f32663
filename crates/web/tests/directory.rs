//! The directory and settings API: plan limit, tenant isolation, roles,
//! validation and paging, on SQLite and PostgreSQL.

mod common;

use axum::http::Method;
use common::*;
use plaudit_domain::org::Plan;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use std::collections::HashSet;

fn ids(members: &[Value]) -> Vec<String> {
    members.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------- plan limit

fn the_free_plan_refuses_the_51st_active_member(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("small");
    for i in 1..=49 {
        t.add_member(&o.auth, &format!("m{i}@x.io"), json!({}));
    }
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50);

    let body = t.post(&o.auth, "/api/v1/members", &json!({"email": "m50@x.io"})).problem(402, "plan_limit");
    assert!(body["detail"].as_str().unwrap().contains("50"), "{body}");
    assert_eq!(t.stored_members(&o.org_id).len(), 50, "nothing written");

    // Inactive members do not count, but reactivating one when full is refused.
    let sleeper = t.add_member(&o.auth, "sleeper@x.io", json!({"status": "inactive"}));
    let sleeper_path = format!("/api/v1/members/{}", sleeper["id"].as_str().unwrap());
    t.patch(&o.auth, &sleeper_path, &json!({"status": "active"})).problem(402, "plan_limit");
    assert_eq!(t.get(&o.auth, &sleeper_path).ok(200)["status"], "inactive");
    // Other changes to active members are fine when full.
    let first = t.all_members(&o.auth, "q=m1%40x.io")[0]["id"].as_str().unwrap().to_string();
    t.patch(&o.auth, &format!("/api/v1/members/{first}"), &json!({"title": "Lead"})).ok(200);

    // Deactivating one frees a place.
    t.patch(&o.auth, &format!("/api/v1/members/{first}"), &json!({"status": "inactive"})).ok(200);
    t.patch(&o.auth, &sleeper_path, &json!({"status": "active"})).ok(200);
    t.patch(&o.auth, &format!("/api/v1/members/{first}"), &json!({"status": "active"})).problem(402, "plan_limit");

    // The paid plan has no limit.
    t.app.set_plan("small", Plan::Paid).unwrap();
    t.patch(&o.auth, &format!("/api/v1/members/{first}"), &json!({"status": "active"})).ok(200);
    for i in 50..=55 {
        t.add_member(&o.auth, &format!("m{i}@x.io"), json!({}));
    }
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 57);
    assert_eq!(t.get(&o.auth, "/api/v1/org").ok(200)["plan"], "paid");
}

fn the_plan_limit_holds_under_concurrent_writes(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("small");
    let rows: Vec<String> = (1..=48).map(|i| row(&format!("E{i}"), &format!("m{i}@x.io"), "", "active")).collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    t.post_csv(&o.auth, "/api/v1/members/import", &csv(HEADER, &refs)).ok(200);
    let token =
        t.post(&o.auth, "/api/v1/tokens", &json!({"name": "race"})).ok(201)["token"].as_str().unwrap().to_string();
    let caller = t.app.caller_from_api_token(&token).unwrap();
    let start = std::sync::Barrier::new(8);
    // 49 active now: of eight simultaneous additions exactly one fits.
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (app, caller, start) = (t.app.clone(), caller.clone(), &start);
                scope.spawn(move || {
                    let new = serde_json::from_value(json!({"email": format!("racer{i}@x.io")})).unwrap();
                    start.wait();
                    app.create_member(&caller, new).map(|_| ()).map_err(|e| e.code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.is_ok() || *r == Err("plan_limit")), "{results:?}");
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50);
}

// ---------------------------------------------------------- tenant isolation

fn one_organisation_never_sees_another(db: &TestDb) {
    let t = TestApp::new(db);
    let a = t.signup("org-a");
    let b = t.signup("org-b");
    let (_, a_member) = t.member_session(&a.auth, "org-a", "plain@a.io", "member");
    let (_, a_admin) = t.member_session(&a.auth, "org-a", "admin@a.io", "admin");
    let b_member = t.add_member(&b.auth, "bea@b.io", json!({"title": "Secret"}));
    let b_id = b_member["id"].as_str().unwrap();

    let token =
        t.post(&a.auth, "/api/v1/tokens", &json!({"name": "script"})).ok(201)["token"].as_str().unwrap().to_string();
    for auth in [&a.auth, &a_admin, &a_member, &Auth::Bearer(token)] {
        t.get(auth, &format!("/api/v1/members/{b_id}")).problem(404, "not_found");
        t.get(auth, &format!("/api/v1/members/{}", b.owner_id)).problem(404, "not_found");
        let listed: HashSet<String> = ids(&t.all_members(auth, "")).into_iter().collect();
        assert!(!listed.contains(b_id) && !listed.contains(&b.owner_id), "B's members are not listed to A");
        assert_eq!(listed.len(), 3);
        assert!(t.all_members(auth, "q=bea").is_empty());
        let org = t.get(auth, "/api/v1/org").ok(200);
        assert_eq!((org["id"].as_str(), org["slug"].as_str()), (Some(a.org_id.as_str()), Some("org-a")));
        assert_eq!(t.get(auth, "/api/v1/me").ok(200)["org"]["id"], a.org_id.as_str());
    }
    for auth in [&a.auth, &a_admin] {
        t.patch(auth, &format!("/api/v1/members/{b_id}"), &json!({"title": "Pwned", "status": "inactive"}))
            .problem(404, "not_found");
        t.patch(auth, &format!("/api/v1/members/{}", b.owner_id), &json!({"role": "member"})).problem(404, "not_found");
    }
    // Nor can A point a manager link into B.
    let a_new = t.add_member(&a.auth, "new@a.io", json!({}));
    let resp =
        t.patch(&a.auth, &format!("/api/v1/members/{}", a_new["id"].as_str().unwrap()), &json!({"manager_id": b_id}));
    assert_eq!(resp.problem(422, "validation_failed")["field"], "manager_id");
    t.post(&a.auth, "/api/v1/members", &json!({"email": "x@a.io", "manager_id": b_id}))
        .problem(422, "validation_failed");
    // The same e-mail may exist in both organisations.
    t.add_member(&a.auth, "bea@b.io", json!({}));

    let still = t.get(&b.auth, &format!("/api/v1/members/{b_id}")).ok(200);
    assert_eq!((still["title"].as_str(), still["status"].as_str()), (Some("Secret"), Some("active")));
    assert_eq!(t.get(&b.auth, &format!("/api/v1/members/{}", b.owner_id)).ok(200)["role"], "owner");
    assert_eq!(t.all_members(&b.auth, "").len(), 2);
}

// -------------------------------------------------------------------- roles

fn plain_members_cannot_do_admin_things(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let (plain_id, plain) = t.member_session(&o.auth, "acme", "plain@x.io", "member");
    let (_, manager) = t.member_session(&o.auth, "acme", "manager@x.io", "manager");
    let owner_path = format!("/api/v1/members/{}", o.owner_id);
    let csv_file = csv(HEADER, &[&row("E1", "new@x.io", "", "active")]);

    for auth in [&plain, &manager] {
        t.post(auth, "/api/v1/members", &json!({"email": "sneaky@x.io"})).problem(403, "not_permitted");
        t.patch(auth, &owner_path, &json!({"title": "Ex-owner"})).problem(403, "not_permitted");
        t.patch(auth, &format!("/api/v1/members/{plain_id}"), &json!({"role": "admin"})).problem(403, "not_permitted");
        t.patch(auth, "/api/v1/org", &json!({"name": "Mine now"})).problem(403, "not_permitted");
        t.post_csv(auth, "/api/v1/members/import", &csv_file).problem(403, "not_permitted");
        t.post_csv(auth, "/api/v1/members/import?dry_run=true", &csv_file).problem(403, "not_permitted");
        t.get(auth, "/api/v1/audit_log").problem(403, "not_permitted");
        // What everyone may do.
        t.get(auth, "/api/v1/members").ok(200);
        t.get(auth, &owner_path).ok(200);
        t.get(auth, "/api/v1/org").ok(200);
    }
    // Nothing was written.
    let members = t.stored_members(&o.org_id);
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m.profile.title.is_empty()));
    assert_eq!(members.iter().find(|m| m.id == plain_id).unwrap().role.as_str(), "member");
    assert_eq!(t.get(&o.auth, "/api/v1/org").ok(200)["name"], "Org acme");

    // Admins are not owners: they cannot hand out or take away the owner role.
    let (admin_id, admin) = t.member_session(&o.auth, "acme", "admin@x.io", "admin");
    t.patch(&admin, &format!("/api/v1/members/{plain_id}"), &json!({"role": "owner"})).problem(403, "not_permitted");
    t.patch(&admin, &owner_path, &json!({"role": "member"})).problem(403, "not_permitted");
    t.post(&admin, "/api/v1/members", &json!({"email": "o2@x.io", "role": "owner"})).problem(403, "not_permitted");
    t.patch(&admin, &format!("/api/v1/members/{plain_id}"), &json!({"role": "manager"})).ok(200);
    t.patch(&admin, &format!("/api/v1/members/{admin_id}"), &json!({"title": "Admin"})).ok(200);
    assert_eq!(t.get(&o.auth, &owner_path).ok(200)["role"], "owner");
}

fn unauthenticated_requests_get_401(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let owner_path = format!("/api/v1/members/{}", o.owner_id);
    let bogus = [
        Auth::None,
        Auth::Bearer("plaudit_not-a-token".into()),
        Auth::Session { cookie: "plaudit_session=forged".into(), csrf: "x".into() },
    ];
    for auth in &bogus {
        for (method, path) in [
            (Method::GET, "/api/v1/me"),
            (Method::GET, "/api/v1/members"),
            (Method::POST, "/api/v1/members"),
            (Method::GET, owner_path.as_str()),
            (Method::PATCH, owner_path.as_str()),
            (Method::GET, "/api/v1/org"),
            (Method::PATCH, "/api/v1/org"),
            (Method::POST, "/api/v1/members/import"),
            (Method::GET, "/api/v1/audit_log"),
            (Method::GET, "/api/v1/tokens"),
            (Method::POST, "/api/v1/tokens"),
        ] {
            let resp = t.request(method.clone(), path, auth, Some("application/json"), b"{}".to_vec());
            resp.problem(401, "unauthenticated");
        }
    }
    // A malformed Authorization header is not a fallback to the cookie.
    let resp = t.send(
        axum::http::Request::get("/api/v1/me")
            .header("authorization", "Basic b3duZXI6cHc=")
            .body(axum::body::Body::empty())
            .unwrap(),
    );
    resp.problem(401, "unauthenticated");
}

// --------------------------------------------------------------- validation

fn bad_input_is_refused_with_problem_details(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let ana = t.add_member(&o.auth, "Ana@x.io", json!({}));
    let ana_path = format!("/api/v1/members/{}", ana["id"].as_str().unwrap());

    // Bodies that are not the expected JSON.
    let bad_bodies: [(&str, &[u8], u16, &str); 4] = [
        ("application/json", b"{not json", 422, "validation_failed"),
        ("application/json", b"{\"email\": 5}", 422, "validation_failed"),
        ("application/json", b"{\"email\": \"b@x.io\", \"favourite_colour\": \"red\"}", 422, "validation_failed"),
        ("text/plain", b"{\"email\": \"b@x.io\"}", 415, "unsupported_media_type"),
    ];
    for (ct, body, status, code) in bad_bodies {
        let resp = t.request(Method::POST, "/api/v1/members", &o.auth, Some(ct), body.to_vec());
        assert_eq!(resp.problem(status, code)["field"], "body");
    }
    t.request(Method::PATCH, "/api/v1/org", &o.auth, Some("application/json"), b"[]".to_vec())
        .problem(422, "validation_failed");
    t.patch(&o.auth, &ana_path, &json!({"status": "retired"})).problem(422, "validation_failed");
    assert_eq!(t.stored_members(&o.org_id).len(), 2);

    // Field errors name the field, and nothing changes.
    let before = t.get(&o.auth, "/api/v1/org").ok(200);
    let body = t
        .patch(&o.auth, "/api/v1/org", &json!({"name": "New name", "timezone": "Mars/Olympus"}))
        .problem(422, "validation_failed");
    assert_eq!(body["field"], "timezone");
    assert_eq!(t.get(&o.auth, "/api/v1/org").ok(200), before, "the org is unchanged");
    let after = t.patch(&o.auth, "/api/v1/org", &json!({"timezone": "Asia/Tokyo", "default_allowance": 200})).ok(200);
    assert_eq!((after["timezone"].as_str(), after["default_allowance"].as_i64()), (Some("Asia/Tokyo"), Some(200)));
    assert_eq!(after["name"], "Org acme");
    for (patch, field) in [
        (json!({"default_allowance": -1}), "default_allowance"),
        (json!({"max_points_per_recognition": 0}), "max_points_per_recognition"),
        (json!({"point_value_minor": 10}), "money_currency"),
        (json!({"money_currency": "euro"}), "money_currency"),
        (json!({"name": "  "}), "name"),
    ] {
        let body = t.patch(&o.auth, "/api/v1/org", &patch).problem(422, "validation_failed");
        assert_eq!(body["field"], field, "{patch}");
    }
    for (new, field) in [
        (json!({"email": "nope"}), "email"),
        (json!({"email": "d@x.io", "start_date": "2021-13-01"}), "start_date"),
        (json!({"email": "d@x.io", "birthday": "02-30"}), "birthday"),
        (json!({"email": "d@x.io", "allowance_override": -5}), "allowance_override"),
    ] {
        let body = t.post(&o.auth, "/api/v1/members", &new).problem(422, "validation_failed");
        assert_eq!(body["field"], field, "{new}");
    }

    // The optional fields may be null, as the API writes them.
    let nulls = json!({"email": "n@x.io", "employee_id": null, "start_date": null, "birthday": null,
        "gender": null, "manager_id": null, "allowance_override": null});
    let n = t.post(&o.auth, "/api/v1/members", &nulls).ok(201);
    assert_eq!((n["display_name"].as_str(), n["employee_id"].as_str()), (Some("n"), None));
    t.patch(&o.auth, &format!("/api/v1/members/{}", n["id"].as_str().unwrap()), &json!({"status": "inactive"})).ok(200);

    // Manager loops.
    let bo = t.add_member(&o.auth, "bo@x.io", json!({"manager_id": ana["id"]}));
    let cy = t.add_member(&o.auth, "cy@x.io", json!({"manager_id": bo["id"]}));
    let body = t.patch(&o.auth, &ana_path, &json!({"manager_id": cy["id"]})).problem(422, "manager_cycle");
    assert_eq!(body["field"], "manager_id");
    t.patch(&o.auth, &ana_path, &json!({"manager_id": ana["id"]})).problem(422, "manager_cycle");
    assert!(t.get(&o.auth, &ana_path).ok(200)["manager_id"].is_null());
    let cy_path = format!("/api/v1/members/{}", cy["id"].as_str().unwrap());
    assert_eq!(t.patch(&o.auth, &cy_path, &json!({"manager_id": null})).ok(200)["manager_id"], Value::Null);
    assert_eq!(t.patch(&o.auth, &ana_path, &json!({"manager_id": cy["id"]})).ok(200)["manager_id"], cy["id"]);

    // The last owner stays an owner.
    let owner_path = format!("/api/v1/members/{}", o.owner_id);
    t.patch(&o.auth, &owner_path, &json!({"role": "admin"})).problem(409, "last_owner");
    t.patch(&o.auth, &owner_path, &json!({"status": "inactive"})).problem(409, "last_owner");
    assert_eq!(t.get(&o.auth, &owner_path).ok(200)["role"], "owner");
    // With a second owner, the first may step down.
    t.patch(&o.auth, &format!("/api/v1/members/{}", bo["id"].as_str().unwrap()), &json!({"role": "owner"})).ok(200);
    assert_eq!(t.patch(&o.auth, &owner_path, &json!({"role": "admin"})).ok(200)["role"], "admin");

    // E-mails are unique in any letter case.
    let body = t.post(&o.auth, "/api/v1/members", &json!({"email": "ANA@X.IO"})).problem(409, "email_taken");
    assert_eq!(body["field"], "email");
    t.patch(&o.auth, &cy_path, &json!({"email": "ana@X.io"})).problem(409, "email_taken");
    assert_eq!(t.get(&o.auth, &cy_path).ok(200)["email"], "cy@x.io");
    assert_eq!(t.stored_members(&o.org_id).len(), 5);
    // Changing the letter case of one's own address is fine.
    assert_eq!(t.patch(&o.auth, &ana_path, &json!({"email": "ana@x.io"})).ok(200)["email"], "ana@x.io");

    t.get(&o.auth, "/api/v1/members/no-such-id").problem(404, "not_found");
    t.patch(&o.auth, "/api/v1/members/no-such-id", &json!({"title": "x"})).problem(404, "not_found");
}

// ----------------------------------------------------------------- paging

fn members_page_by_cursor(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    // 129 people, some sharing a name (the id breaks the tie), accents and scripts mixed.
    let names = ["Åsa Berg", "ana lima", "Ana Lima", "Zoë Ng", "李娜", "Émile Roy", "bob", "Bob", "Sam Lee", "Sam Lee"];
    let mut rows = Vec::new();
    for i in 0..128 {
        let name = names[i % names.len()];
        rows.push(format!("E{i},p{i}@x.io,,,{name},,,,,,,,{}", if i % 3 == 0 { "inactive" } else { "active" }));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    assert_eq!(t.post_csv(&o.auth, "/api/v1/members/import", &csv(HEADER, &refs)).ok(200)["created"], 128);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/members?limit=2&cursor={c}"),
            None => "/api/v1/members?limit=2".to_string(),
        };
        let page = t.get(&o.auth, &path).ok(200);
        let items = page["items"].as_array().unwrap();
        pages += 1;
        seen.extend(ids(items));
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), 2);
                cursor = Some(c.to_string());
            }
            None => {
                assert!(items.len() <= 2);
                break;
            }
        }
        assert!(pages < 200, "paging does not end");
    }
    assert_eq!(seen.len(), 129, "everyone once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 129, "nobody twice");
    assert_eq!(pages, 65);
    // The pages are the order of one big page.
    let all: Vec<String> = ids(&t.all_members(&o.auth, ""));
    assert_eq!(all, seen);

    // Filters page too.
    let active = t.all_members(&o.auth, "status=active");
    assert_eq!(active.len(), 86);
    let mut active_by_2 = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = t.get(&o.auth, &format!("/api/v1/members?status=active&limit=3&cursor={cursor}")).ok(200);
        active_by_2.extend(ids(page["items"].as_array().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(active_by_2, ids(&active));

    // At most 100 per page.
    let page = t.get(&o.auth, "/api/v1/members?limit=1000").ok(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    assert!(page["next_cursor"].is_string());
    let rest = t.get(&o.auth, &format!("/api/v1/members?limit=1000&cursor={}", page["next_cursor"].as_str().unwrap()));
    let rest = rest.ok(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 29);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(t.get(&o.auth, "/api/v1/members").ok(200)["items"].as_array().unwrap().len(), 50, "default page");

    for garbage in ["garbage!", "bm90IGEgY3Vyc29y", "%FF%FE"] {
        let body = t.get(&o.auth, &format!("/api/v1/members?cursor={garbage}")).problem(422, "validation_failed");
        assert_eq!(body["field"], "cursor", "{garbage}");
    }
    assert_eq!(t.get(&o.auth, "/api/v1/members?limit=ten").problem(422, "validation_failed")["field"], "query");
    t.get(&o.auth, "/api/v1/audit_log?limit=ten").problem(422, "validation_failed");
    t.get(&o.auth, "/api/v1/members?status=retired").problem(422, "validation_failed");
}

/// Line breaks and direction overrides in a name would reach mail headers
/// and chat messages: they are refused on the field and nothing changes.
fn names_with_control_characters_are_refused(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let ana = t.add_member(&o.auth, "ana@acme.example", json!({"display_name": "Ana"}));
    let path = format!("/api/v1/members/{}", ana["id"].as_str().unwrap());
    let p = t
        .patch(&o.auth, &path, &json!({"display_name": "Evil\r\nBcc: attacker@evil.example"}))
        .problem(422, "validation_failed");
    assert_eq!(p["field"], "display_name");
    t.post(&o.auth, "/api/v1/members", &json!({"email": "x@acme.example", "title": "a\u{202E}b"}))
        .problem(422, "validation_failed");
    assert_eq!(t.get(&o.auth, &path).ok(200)["display_name"], "Ana");
}

backend_tests!(
    names_with_control_characters_are_refused,
    the_free_plan_refuses_the_51st_active_member,
    the_plan_limit_holds_under_concurrent_writes,
    one_organisation_never_sees_another,
    plain_members_cannot_do_admin_things,
    unauthenticated_requests_get_401,
    bad_input_is_refused_with_problem_details,
    members_page_by_cursor,
);
