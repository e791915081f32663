//! Sign-up, sign-in, sessions, CSRF and API tokens, on SQLite and PostgreSQL.

mod common;

use axum::http::Method;
use common::*;
use plaudit_app::Config;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::json;

fn wrong_password_and_unknown_email_look_the_same(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let wrong = t.sign_in_raw("acme", &o.owner_email, "not the password");
    let unknown = t.sign_in_raw("acme", "nobody@acme.example", PASSWORD);
    let no_org = t.sign_in_raw("no-such-org", &o.owner_email, PASSWORD);
    let a = wrong.problem(401, "invalid_credentials");
    assert_eq!(unknown.problem(401, "invalid_credentials"), a);
    assert_eq!(no_org.problem(401, "invalid_credentials"), a);
    for r in [&wrong, &unknown, &no_org] {
        assert!(r.header("set-cookie").is_none());
    }
    // A member without a password cannot sign in with any password.
    t.add_member(&o.auth, "nopass@acme.example", json!({}));
    assert_eq!(t.sign_in_raw("acme", "nopass@acme.example", "").problem(401, "invalid_credentials"), a);
    // E-mail letter case and surrounding spaces do not matter.
    t.sign_in("acme", &format!(" {} ", o.owner_email.to_uppercase()), PASSWORD);
}

fn repeated_failures_are_slowed_down(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    for email in [o.owner_email.as_str(), "ghost@acme.example"] {
        for _ in 0..5 {
            t.sign_in_raw("acme", email, "wrong password!").problem(401, "invalid_credentials");
        }
        let resp = t.sign_in_raw("acme", email, "wrong password!");
        resp.problem(429, "rate_limited");
        let wait: u64 = resp.header("retry-after").expect("Retry-After").parse().expect("seconds");
        assert!((1..=900).contains(&wait), "{wait}");
        if email == o.owner_email {
            // Even the right password waits while the account is slowed down…
            let resp = t.sign_in_raw("acme", email, PASSWORD);
            resp.problem(429, "rate_limited");
            assert!(resp.header("retry-after").is_some() && resp.header("set-cookie").is_none());
        }
    }
    // …but other accounts are not affected.
    let (_, _) = t.member_session(&o.auth, "acme", "other@acme.example", "member");
    // After the wait, the right password works and resets the count.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.sign_in("acme", &o.owner_email, PASSWORD);
    t.sign_in_raw("acme", &o.owner_email, "wrong password!").problem(401, "invalid_credentials");
}

fn deactivated_members_are_signed_out_for_good(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let (id, session) = t.member_session(&o.auth, "acme", "leaver@acme.example", "member");
    let token =
        t.post(&session, "/api/v1/tokens", &json!({"name": "cli"})).ok(201)["token"].as_str().unwrap().to_string();
    t.get(&session, "/api/v1/me").ok(200);
    t.get(&Auth::Bearer(token.clone()), "/api/v1/me").ok(200);

    t.patch(&o.auth, &format!("/api/v1/members/{id}"), &json!({"status": "inactive"})).ok(200);
    t.get(&session, "/api/v1/me").problem(401, "unauthenticated");
    t.get(&Auth::Bearer(token.clone()), "/api/v1/me").problem(401, "unauthenticated");
    let resp = t.sign_in_raw("acme", "leaver@acme.example", PASSWORD);
    assert!(resp.status.is_client_error() && resp.header("set-cookie").is_none(), "{}", resp.text());
    resp.problem(403, "member_inactive");

    // Reactivated, they sign in again (old sessions stay ended).
    t.patch(&o.auth, &format!("/api/v1/members/{id}"), &json!({"status": "active"})).ok(200);
    t.get(&session, "/api/v1/me").problem(401, "unauthenticated");
    t.sign_in("acme", "leaver@acme.example", PASSWORD);
}

fn sessions_cookies_and_sign_out(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let resp = t.sign_in_raw("acme", &o.owner_email, PASSWORD);
    let body = resp.ok(200);
    assert_eq!(body["member"]["id"], o.owner_id.as_str());
    assert!(body["member"].get("password_hash").is_none());
    let set_cookie = resp.header("set-cookie").unwrap().to_string();
    let attrs: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attrs[0].starts_with("plaudit_session=") && attrs[0].len() > 40, "{set_cookie}");
    for want in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.contains(&want), "{want} missing in {set_cookie}");
    }
    assert!(attrs.iter().any(|a| a.starts_with("Max-Age=") && a != &"Max-Age=0"), "{set_cookie}");
    let auth = Auth::Session { cookie: attrs[0].to_string(), csrf: body["csrf_token"].as_str().unwrap().into() };
    assert_eq!(t.get(&auth, "/api/v1/me").ok(200)["email"], o.owner_email.as_str());

    // Two sessions are independent; signing out ends only this one.
    let other = t.sign_in("acme", &o.owner_email, PASSWORD);
    let out = t.delete(&auth, "/api/v1/session");
    assert_eq!(out.status.as_u16(), 204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(cleared.starts_with("plaudit_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    t.get(&auth, "/api/v1/me").problem(401, "unauthenticated");
    t.get(&other, "/api/v1/me").ok(200);
    // Signing out twice, or without a session, is harmless.
    assert_eq!(t.delete(&auth, "/api/v1/session").status.as_u16(), 204);
    assert_eq!(t.delete(&Auth::None, "/api/v1/session").status.as_u16(), 204);

    // The operator's password reset ends every session.
    t.app.set_password("acme", &o.owner_email, "a brand new password").unwrap();
    t.get(&other, "/api/v1/me").problem(401, "unauthenticated");
    t.sign_in_raw("acme", &o.owner_email, PASSWORD).problem(401, "invalid_credentials");
    t.sign_in("acme", &o.owner_email, "a brand new password");
}

fn sessions_expire(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let short = TestApp::with_config(db, Config { session_ttl_ms: 300, ..Config::default() });
    let auth = short.sign_in("acme", &o.owner_email, PASSWORD);
    short.get(&auth, "/api/v1/me").ok(200);
    std::thread::sleep(std::time::Duration::from_millis(400));
    short.get(&auth, "/api/v1/me").problem(401, "unauthenticated");
}

fn cookie_writes_need_the_csrf_token(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let Auth::Session { cookie, csrf } = o.auth.clone() else { unreachable!() };
    let forged = Auth::CookieOnly(cookie.clone());
    let wrong = Auth::Session { cookie: cookie.clone(), csrf: format!("{csrf}x") };
    let empty = Auth::Session { cookie: cookie.clone(), csrf: String::new() };
    let owner_path = format!("/api/v1/members/{}", o.owner_id);
    for auth in [&forged, &wrong, &empty] {
        t.post(auth, "/api/v1/members", &json!({"email": "x@acme.example"})).problem(403, "csrf_failed");
        t.patch(auth, "/api/v1/org", &json!({"name": "Forged"})).problem(403, "csrf_failed");
        t.patch(auth, &owner_path, &json!({"title": "Forged"})).problem(403, "csrf_failed");
        t.post(auth, "/api/v1/tokens", &json!({"name": "forged"})).problem(403, "csrf_failed");
        t.post_csv(auth, "/api/v1/members/import", &csv(HEADER, &[&row("E1", "x@acme.example", "", "active")]))
            .problem(403, "csrf_failed");
        // Reads need no token.
        t.get(auth, "/api/v1/me").ok(200);
    }
    // Another session's token does not fit this one.
    let Auth::Session { csrf: other_csrf, .. } = t.sign_in("acme", &o.owner_email, PASSWORD) else { unreachable!() };
    let crossed = Auth::Session { cookie, csrf: other_csrf };
    t.patch(&crossed, "/api/v1/org", &json!({"name": "Forged"})).problem(403, "csrf_failed");

    assert_eq!(t.stored_members(&o.org_id).len(), 1);
    assert_eq!(t.get(&o.auth, "/api/v1/org").ok(200)["name"], "Org acme");
    assert!(t.get(&o.auth, "/api/v1/tokens").ok(200)["items"].as_array().unwrap().is_empty());
    assert_eq!(t.patch(&o.auth, "/api/v1/org", &json!({"name": "Real"})).ok(200)["name"], "Real");
}

fn api_tokens_are_shown_once_and_can_be_revoked(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let created = t.post(&o.auth, "/api/v1/tokens", &json!({"name": "deploy script"})).ok(201);
    let token = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("plaudit_") && token.len() > 40, "{token}");
    assert_eq!(created["name"], "deploy script");
    t.post(&o.auth, "/api/v1/tokens", &json!({"name": " "})).problem(422, "validation_failed");

    let listed = t.get(&o.auth, "/api/v1/tokens").ok(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert!(items[0].get("token").is_none(), "the token is shown only once: {listed}");
    assert!(!listed.to_string().contains(&token));

    // A Bearer token needs no CSRF header, and is used for writes too.
    let bearer = Auth::Bearer(token.clone());
    assert_eq!(t.get(&bearer, "/api/v1/me").ok(200)["id"], o.owner_id.as_str());
    assert_eq!(t.patch(&bearer, "/api/v1/org", &json!({"name": "By token"})).ok(200)["name"], "By token");
    assert!(t.get(&bearer, "/api/v1/tokens").ok(200)["items"][0]["last_used_at"].is_string());
    // Tokens are members' own: another member cannot revoke it.
    let (_, other) = t.member_session(&o.auth, "acme", "other@acme.example", "admin");
    t.delete(&other, &format!("/api/v1/tokens/{id}")).problem(404, "not_found");
    t.get(&bearer, "/api/v1/me").ok(200);

    let resp = t.delete(&o.auth, &format!("/api/v1/tokens/{id}"));
    assert_eq!(resp.status.as_u16(), 204, "{}", resp.text());
    t.get(&bearer, "/api/v1/me").problem(401, "unauthenticated");
    t.patch(&bearer, "/api/v1/org", &json!({"name": "Revoked"})).problem(401, "unauthenticated");
    t.delete(&o.auth, &format!("/api/v1/tokens/{id}")).problem(404, "not_found");
    assert!(t.get(&o.auth, "/api/v1/tokens").ok(200)["items"].as_array().unwrap().is_empty());
    // A revoke by cookie needs the CSRF header like any write.
    let id2 = t.post(&o.auth, "/api/v1/tokens", &json!({"name": "two"})).ok(201)["id"].as_str().unwrap().to_string();
    t.delete(&o.auth.without_csrf(), &format!("/api/v1/tokens/{id2}")).problem(403, "csrf_failed");

    let audit = t.get(&o.auth, "/api/v1/audit_log").ok(200).to_string();
    assert!(audit.contains("api_token.created") && audit.contains("api_token.revoked"));
    assert!(!audit.contains(&token), "the audit log never holds the token");
}

fn signup_creates_a_free_org_or_is_refused(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let org = t.get(&o.auth, "/api/v1/org").ok(200);
    assert_eq!((org["plan"].as_str(), org["timezone"].as_str()), (Some("free"), Some("Europe/Oslo")));
    assert_eq!(t.get(&o.auth, "/api/v1/me").ok(200)["role"], "owner");

    let body = |slug: &str, password: &str| json!({"org_name": "Other", "org_slug": slug, "name": "X", "email": "x@y.io", "password": password});
    assert_eq!(
        t.post(&Auth::None, "/api/v1/signup", &body("acme", PASSWORD)).problem(409, "slug_taken")["field"],
        "slug"
    );
    assert_eq!(
        t.post(&Auth::None, "/api/v1/signup", &body("Bad Slug", PASSWORD)).problem(422, "validation_failed")["field"],
        "slug"
    );
    assert_eq!(
        t.post(&Auth::None, "/api/v1/signup", &body("other", "short")).problem(422, "validation_failed")["field"],
        "password"
    );
    let mut plan = body("other", PASSWORD);
    plan["plan"] = "paid".into();
    t.post(&Auth::None, "/api/v1/signup", &plan).problem(422, "validation_failed");
    assert!(t.app.store.read(|tx| tx.org_by_slug("other")).unwrap().is_none());
    assert_eq!(t.app.list_orgs().unwrap().len(), 1);

    let closed = TestApp::with_config(db, Config { signup_enabled: false, ..Config::default() });
    closed.post(&Auth::None, "/api/v1/signup", &body("other", PASSWORD)).problem(403, "signup_disabled");
    assert!(closed.app.store.read(|tx| tx.org_by_slug("other")).unwrap().is_none());
    // Signing in still works when sign-up is off.
    closed.sign_in("acme", &o.owner_email, PASSWORD);
}

fn bearer_and_cookie_together_use_the_bearer(db: &TestDb) {
    let t = TestApp::new(db);
    let a = t.signup("org-a");
    let b = t.signup("org-b");
    let token = t.post(&b.auth, "/api/v1/tokens", &json!({"name": "b"})).ok(201)["token"].as_str().unwrap().to_string();
    let Auth::Session { cookie, .. } = &a.auth else { unreachable!() };
    let resp = t.send(
        axum::http::Request::builder()
            .method(Method::GET)
            .uri("/api/v1/org")
            .header("cookie", cookie.as_str())
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    );
    assert_eq!(resp.ok(200)["slug"], "org-b");
}

backend_tests!(
    wrong_password_and_unknown_email_look_the_same,
    repeated_failures_are_slowed_down,
    deactivated_members_are_signed_out_for_good,
    sessions_cookies_and_sign_out,
    sessions_expire,
    cookie_writes_need_the_csrf_token,
    api_tokens_are_shown_once_and_can_be_revoked,
    signup_creates_a_free_org_or_is_refused,
    bearer_and_cookie_together_use_the_bearer,
);
