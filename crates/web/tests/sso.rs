//! Single sign-on over HTTP against a fake OpenID provider on 127.0.0.1:
//! the admin's settings (validation, authorisation, audit, the sealed
//! secret), the state's checks (missing, unknown, expired, reused, another
//! browser), a replayed code, the e-mail and domain rules, just-in-time
//! creation within the plan's limit, Entra ID's tenant template, and
//! require-SSO for password sign-in.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{Auth, OrgOwner, Resp, TestApp, PASSWORD};
use hmac::{Hmac, Mac};
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "plaudit-test-client";
const CLIENT_SECRET: &str = "a-long-client-secret-for-hs256-signing";

// ---------------------------------------------------------------- the fake provider

#[derive(Default)]
struct ProviderState {
    /// The `issuer` of the discovery document (Entra's template or the base URL).
    discovery_issuer: String,
    /// code → ID token claims; a code works once.
    codes: HashMap<String, Value>,
    used: Vec<String>,
    /// The form bodies the token endpoint got.
    token_requests: Vec<HashMap<String, String>>,
}

struct FakeProvider {
    base: String,
    state: Arc<Mutex<ProviderState>>,
}

impl FakeProvider {
    fn start() -> FakeProvider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ProviderState { discovery_issuer: base.clone(), ..Default::default() }));
        let (s, b) = (state.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (s, b) = (s.clone(), b.clone());
                std::thread::spawn(move || serve(stream, &s, &b));
            }
        });
        FakeProvider { base, state }
    }

    /// Lets `code` be exchanged once for an ID token with these claims.
    fn issue(&self, code: &str, claims: Value) {
        self.state.lock().unwrap().codes.insert(code.to_string(), claims);
    }
}

fn serve(mut stream: std::net::TcpStream, state: &Mutex<ProviderState>, base: &str) {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok();
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body) = loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length || n == 0 {
                break (text[..end].to_string(), text[end + 4..].to_string());
            }
        } else if n == 0 {
            return;
        }
    };
    let request_line = head.lines().next().unwrap_or("").to_string();
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let (status, answer) = if path.ends_with("/.well-known/openid-configuration") {
        let issuer = state.lock().unwrap().discovery_issuer.clone();
        (
            200,
            json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "jwks_uri": format!("{base}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "HS256"],
            }),
        )
    } else if path == "/jwks" {
        let n = URL_SAFE_NO_PAD.encode([0xc5u8; 256]);
        (200, json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"}]}))
    } else if path == "/token" {
        let form = parse_query(&body);
        let mut s = state.lock().unwrap();
        s.token_requests.push(form.clone());
        let code = form.get("code").cloned().unwrap_or_default();
        let basic = head.lines().any(|l| l.to_ascii_lowercase().starts_with("authorization: basic "));
        if !basic {
            (401, json!({"error": "invalid_client"}))
        } else if s.used.contains(&code) || !s.codes.contains_key(&code) {
            (400, json!({"error": "invalid_grant", "error_description": "grant request is invalid"}))
        } else {
            s.used.push(code.clone());
            let claims = s.codes[&code].clone();
            (200, json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": sign(&claims)}))
        }
    } else {
        (404, json!({"error": "not_found"}))
    };
    let text = answer.to_string();
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(reply.as_bytes()).ok();
}

/// An HS256 JWT keyed with the client secret (OpenID Connect Core 10.1).
fn sign(claims: &Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

// ---------------------------------------------------------------- helpers

const BROWSER: &str = "plaudit_oidc=browser-one-0123456789abcdef0123456789abcdef";
const OTHER_BROWSER: &str = "plaudit_oidc=browser-two-0123456789abcdef0123456789abcdef";

fn configure(t: &TestApp, owner: &OrgOwner, issuer: &str, extra: Value) -> Value {
    let mut body = json!({
        "enabled": true, "issuer_url": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "allowed_domains": [], "jit_enabled": false, "require_sso": false,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    t.put(&owner.auth, "/api/v1/integrations/sso", &body).ok(200)
}

fn browser_get(t: &TestApp, path: &str, cookie: &str) -> Resp {
    t.get(&Auth::CookieOnly(cookie.to_string()), path)
}

/// Starts a sign-in in `cookie`'s browser; returns the authorization URL's query.
fn start(t: &TestApp, slug: &str, cookie: &str) -> HashMap<String, String> {
    let resp = browser_get(t, &format!("/auth/oidc/{slug}/start"), cookie);
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.text());
    let location = resp.header("location").unwrap().to_string();
    parse_query(location.split_once('?').unwrap().1)
}

fn claims(p: &FakeProvider, auth: &HashMap<String, String>, sub: &str, email: &str, verified: bool) -> Value {
    let now = plaudit_app::now_ms() / 1000;
    json!({
        "iss": p.base, "sub": sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
        "nonce": auth["nonce"], "email": email, "email_verified": verified, "name": "Sam Sign-On",
    })
}

fn callback(t: &TestApp, slug: &str, state: &str, code: &str, cookie: &str) -> Resp {
    browser_get(t, &format!("/auth/oidc/{slug}/callback?state={state}&code={code}"), cookie)
}

/// The session a successful callback set, as an API caller.
#[track_caller]
fn signed_in(t: &TestApp, resp: &Resp) -> Value {
    assert_eq!(resp.status.as_u16(), 303, "{}", resp.text());
    assert_eq!(resp.header("location"), Some("/feed"));
    let cookie = resp
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plaudit_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    t.get(&Auth::CookieOnly(cookie), "/api/v1/me").ok(200)
}

/// A refusal page: status, code, and no session set.
#[track_caller]
fn refused(resp: &Resp, status: u16, code: &str) -> String {
    let text = resp.text();
    assert_eq!(resp.status.as_u16(), status, "{text}");
    assert!(text.contains(&format!("data-code=\"{code}\"")), "expected {code}: {text}");
    assert!(text.contains("You are not signed in."), "{text}");
    let sets_session = resp.headers.get_all("set-cookie").iter().any(|v| {
        v.to_str().unwrap_or("").starts_with("plaudit_session=") && !v.to_str().unwrap().contains("Max-Age=0")
    });
    assert!(!sets_session, "a refusal signs nobody in");
    text
}

// ---------------------------------------------------------------- settings

fn settings_are_for_admins_validated_sealed_and_audited(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssoset");
    let (_, member) = t.member_session(&o.auth, "ssoset", "mo@ssoset.example", "member");
    t.get(&member, "/api/v1/integrations/sso").problem(403, "not_permitted");
    t.put(&member, "/api/v1/integrations/sso", &json!({"issuer_url": "https://x.example"}))
        .problem(403, "not_permitted");

    let empty = t.get(&o.auth, "/api/v1/integrations/sso").ok(200);
    assert_eq!(empty["status"], "not_configured");
    assert_eq!(empty["redirect_uri"], "http://127.0.0.1:8080/auth/oidc/ssoset/callback");
    assert_eq!(empty["signin_url"], "http://127.0.0.1:8080/signin?org=ssoset");

    // Bad input names its field and changes nothing.
    for (patch, field) in [
        (json!({"issuer_url": "http://idp.example.com"}), "issuer_url"),
        (json!({"client_id": ""}), "client_id"),
        (json!({"client_secret": ""}), "client_secret"),
        (json!({"jit_enabled": true, "allowed_domains": []}), "allowed_domains"),
        (json!({"allowed_domains": ["not a domain"]}), "allowed_domains"),
    ] {
        let mut body =
            json!({"enabled": true, "issuer_url": "https://idp.example.com", "client_id": "c", "client_secret": "s"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let p = t.put(&o.auth, "/api/v1/integrations/sso", &body).problem(422, "validation_failed");
        assert_eq!(p["field"], field, "{body}");
    }
    assert_eq!(t.get(&o.auth, "/api/v1/integrations/sso").ok(200)["configured"], false);

    let saved = t
        .put(
            &o.auth,
            "/api/v1/integrations/sso",
            &json!({"enabled": true, "issuer_url": "https://idp.example.com", "client_id": "cid",
                    "client_secret": "top-secret-value", "allowed_domains": ["@SSOSet.example"], "jit_enabled": true}),
        )
        .ok(200);
    assert_eq!(saved["client_secret_set"], true);
    assert_eq!(saved["allowed_domains"], json!(["ssoset.example"]));
    assert!(!saved.to_string().contains("top-secret-value"));
    let row = t.app.store.read(|tx| tx.sso_settings(&o.org_id)).unwrap().unwrap();
    assert!(!row.client_secret_sealed.contains("top-secret-value"));

    // An empty secret keeps the stored one.
    t.put(
        &o.auth,
        "/api/v1/integrations/sso",
        &json!({"enabled": false, "issuer_url": "https://idp.example.com", "client_id": "cid2"}),
    )
    .ok(200);
    let again = t.app.store.read(|tx| tx.sso_settings(&o.org_id)).unwrap().unwrap();
    assert_eq!(again.client_secret_sealed, row.client_secret_sealed);
    assert_eq!((again.client_id.as_str(), again.enabled), ("cid2", false));

    let audit = t.get(&o.auth, "/api/v1/audit_log").ok(200);
    let entries: Vec<&Value> =
        audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "sso.updated").collect();
    assert_eq!(entries.len(), 2);
    assert!(!audit.to_string().contains("top-secret-value"));
    assert_eq!(entries[0]["details"]["client_secret_changed"], false);

    // The admin page shows the settings but never the secret.
    let page = t.get(&o.auth, "/admin/integrations/sso");
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text().contains("cid2") && !page.text().contains("top-secret-value"));
    assert_eq!(t.get(&member, "/admin/integrations/sso").status.as_u16(), 403);
}

fn the_test_button_reports_the_provider_and_records_errors(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssotest");
    let p = FakeProvider::start();
    configure(&t, &o, &p.base, json!({}));
    let report = t.post(&o.auth, "/api/v1/integrations/sso/test", &json!({})).ok(200);
    assert_eq!(report["issuer"], p.base);
    assert_eq!(report["key_ids"], json!(["k1"]));
    assert_eq!(report["token_endpoint"], format!("{}/token", p.base));

    // A provider that names another issuer is an error, kept as the status.
    p.state.lock().unwrap().discovery_issuer = "https://impostor.example".into();
    let e = t.post(&o.auth, "/api/v1/integrations/sso/test", &json!({})).problem(503, "sso_provider_error");
    assert!(e["detail"].as_str().unwrap().contains("impostor"), "{e}");
    let view = t.get(&o.auth, "/api/v1/integrations/sso").ok(200);
    assert_eq!(view["status"], "error");
    assert!(view["last_error"].as_str().unwrap().contains("impostor"));
}

// ---------------------------------------------------------------- sign-in

fn sign_in_matches_the_verified_email_then_remembers_the_subject(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssoin");
    let p = FakeProvider::start();
    configure(&t, &o, &p.base, json!({}));
    let ana = t.add_member(&o.auth, "Ana.Lima@ssoin.example", json!({}));

    let auth = start(&t, "ssoin", BROWSER);
    assert_eq!(auth["client_id"], CLIENT_ID);
    assert_eq!(auth["response_type"], "code");
    assert_eq!(auth["code_challenge_method"], "S256");
    assert_eq!(auth["redirect_uri"], "http://127.0.0.1:8080/auth/oidc/ssoin/callback");
    assert!(auth["scope"].contains("openid") && auth["scope"].contains("email"));
    p.issue("code-1", claims(&p, &auth, "sub-ana", "ana.lima@SSOIN.example", true));
    let me = signed_in(&t, &callback(&t, "ssoin", &auth["state"], "code-1", BROWSER));
    assert_eq!(me["id"], ana["id"]);

    // PKCE: the verifier sent to the token endpoint hashes to the challenge.
    let sent = p.state.lock().unwrap().token_requests[0].clone();
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(sent["code_verifier"].as_bytes())), auth["code_challenge"]);

    // Later the subject is enough, even after the address changed at the provider.
    let auth = start(&t, "ssoin", BROWSER);
    p.issue("code-2", claims(&p, &auth, "sub-ana", "ana@elsewhere.example", false));
    assert_eq!(signed_in(&t, &callback(&t, "ssoin", &auth["state"], "code-2", BROWSER))["id"], ana["id"]);
    assert_eq!(t.get(&o.auth, "/api/v1/integrations/sso").ok(200)["status"], "on");

    // A deactivated member is refused.
    t.patch(&o.auth, &format!("/api/v1/members/{}", ana["id"].as_str().unwrap()), &json!({"status": "inactive"}))
        .ok(200);
    let auth = start(&t, "ssoin", BROWSER);
    p.issue("code-3", claims(&p, &auth, "sub-ana", "ana.lima@ssoin.example", true));
    refused(&callback(&t, "ssoin", &auth["state"], "code-3", BROWSER), 403, "member_inactive");

    // A token for another client, or with another nonce, does not verify.
    let auth = start(&t, "ssoin", BROWSER);
    let mut other = claims(&p, &auth, "sub-x", "owner@ssoin.example", true);
    other["aud"] = "someone-else".into();
    p.issue("code-4", other);
    refused(&callback(&t, "ssoin", &auth["state"], "code-4", BROWSER), 503, "sso_token_invalid");
    let auth = start(&t, "ssoin", BROWSER);
    let mut other = claims(&p, &auth, "sub-x", "owner@ssoin.example", true);
    other["nonce"] = "not-the-nonce".into();
    p.issue("code-5", other);
    refused(&callback(&t, "ssoin", &auth["state"], "code-5", BROWSER), 503, "sso_token_invalid");
}

fn unknown_expired_reused_or_foreign_state_is_refused_and_a_replayed_code_too(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssostate");
    let p = FakeProvider::start();
    configure(&t, &o, &p.base, json!({}));
    let members_before = t.stored_members(&o.org_id).len();

    let missing = refused(&browser_get(&t, "/auth/oidc/ssostate/callback?code=x", BROWSER), 403, "sso_state_invalid");
    assert!(missing.contains("carries no state"), "{missing}");
    let unknown = refused(&callback(&t, "ssostate", "made-up-state", "x", BROWSER), 403, "sso_state_invalid");
    assert!(unknown.contains("not started here"), "{unknown}");

    // Another browser (or none) cannot finish someone's sign-in.
    let auth = start(&t, "ssostate", BROWSER);
    p.issue("code-b", claims(&p, &auth, "sub-o", &o.owner_email, true));
    let other = refused(&callback(&t, "ssostate", &auth["state"], "code-b", OTHER_BROWSER), 403, "sso_state_invalid");
    assert!(other.contains("another browser"), "{other}");
    refused(
        &t.get(&Auth::None, &format!("/auth/oidc/ssostate/callback?state={}&code=code-b", auth["state"])),
        403,
        "sso_state_invalid",
    );
    // …and the state still works in the right one, once.
    signed_in(&t, &callback(&t, "ssostate", &auth["state"], "code-b", BROWSER));
    let reused = refused(&callback(&t, "ssostate", &auth["state"], "code-b", BROWSER), 403, "sso_state_invalid");
    assert!(reused.contains("already used"), "{reused}");

    // A replayed code with a fresh state: the provider refuses it and the page says so.
    let fresh = start(&t, "ssostate", BROWSER);
    let replay = refused(&callback(&t, "ssostate", &fresh["state"], "code-b", BROWSER), 403, "sso_code_rejected");
    assert!(replay.contains("already used"), "{replay}");

    // Two answers with one state at once (two instances, a double click): one wins.
    let auth = start(&t, "ssostate", BROWSER);
    p.issue("code-race", claims(&p, &auth, "sub-o", &o.owner_email, true));
    let path = format!("/auth/oidc/ssostate/callback?state={}&code=code-race", auth["state"]);
    let cookie = Auth::CookieOnly(BROWSER.to_string());
    let answers = t.send_concurrently(
        (0..2).map(|_| common::build_request(axum::http::Method::GET, &path, &cookie, &[], None)).collect(),
    );
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![303, 403], "{:?}", answers.iter().map(Resp::text).collect::<Vec<_>>());
    let codes = p.state.lock().unwrap().token_requests.iter().filter(|f| f["code"] == "code-race").count();
    assert_eq!(codes, 1, "the loser never reaches the provider");

    // A state past its ten minutes.
    let now = plaudit_app::now_ms();
    let old = plaudit_store::SsoState {
        org_id: o.org_id.clone(),
        state_hash: plaudit_app::auth::token_hash("old-state"),
        browser_hash: plaudit_app::auth::token_hash(BROWSER.split_once('=').unwrap().1),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        next_path: "/feed".into(),
        created_at: now - 20 * 60_000,
        expires_at: now - 10 * 60_000,
        used_at: None,
    };
    t.app.store.write(|tx| tx.insert_sso_state(&old)).unwrap();
    let expired = refused(&callback(&t, "ssostate", "old-state", "x", BROWSER), 403, "sso_state_invalid");
    assert!(expired.contains("expired"), "{expired}");

    // The provider's own refusal.
    let auth = start(&t, "ssostate", BROWSER);
    let denied = browser_get(
        &t,
        &format!("/auth/oidc/ssostate/callback?state={}&error=access_denied&error_description=no", auth["state"]),
        BROWSER,
    );
    refused(&denied, 403, "sso_provider_error");
    // Another organisation's state is unknown here.
    let o2 = t.signup("ssostate2");
    configure(&t, &o2, &p.base, json!({}));
    let auth = start(&t, "ssostate", BROWSER);
    refused(&callback(&t, "ssostate2", &auth["state"], "x", BROWSER), 403, "sso_state_invalid");
    // SSO that is off or absent.
    refused(&browser_get(&t, "/auth/oidc/nosuchorg/start", BROWSER), 404, "sso_not_configured");
    assert_eq!(t.stored_members(&o.org_id).len(), members_before, "no one was created");
}

fn email_rules_domains_and_just_in_time_creation(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssojit");
    let p = FakeProvider::start();
    configure(&t, &o, &p.base, json!({}));
    let flow = |sub: &str, email: &str, verified: bool| {
        let auth = start(&t, "ssojit", BROWSER);
        let code = format!("code-{sub}-{}", plaudit_store::new_id());
        p.issue(&code, claims(&p, &auth, sub, email, verified));
        callback(&t, "ssojit", &auth["state"], &code, BROWSER)
    };
    // An unverified address is never matched, even an existing member's.
    refused(&flow("s-owner", &o.owner_email, false), 403, "sso_email_unverified");
    // JIT off: strangers are refused.
    refused(&flow("s-new", "new@ssojit.example", true), 403, "sso_unknown_member");

    configure(&t, &o, &p.base, json!({"jit_enabled": true, "allowed_domains": ["ssojit.example"]}));
    let before = t.stored_members(&o.org_id).len();
    let foreign = refused(&flow("s-far", "far@elsewhere.example", true), 403, "sso_domain_not_allowed");
    assert!(foreign.contains("elsewhere.example"), "{foreign}");
    refused(&flow("s-sub", "sub@eu.ssojit.example", true), 403, "sso_domain_not_allowed");
    assert_eq!(t.stored_members(&o.org_id).len(), before);

    let me = signed_in(&t, &flow("s-new", "New.Person@ssojit.example", true));
    assert_eq!(me["email"], "New.Person@ssojit.example");
    assert_eq!((me["role"].as_str(), me["status"].as_str()), (Some("member"), Some("active")));
    assert_eq!(me["display_name"], "Sam Sign-On");
    assert_eq!(t.stored_members(&o.org_id).len(), before + 1);
    let audit = t.get(&o.auth, "/api/v1/audit_log").ok(200);
    let created = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "member.created").unwrap().clone();
    assert_eq!((created["actor_id"].clone(), created["details"]["via"].clone()), (Value::Null, json!("sso")));
    // The second sign-in finds the same member.
    assert_eq!(signed_in(&t, &flow("s-new", "new.person@ssojit.example", true))["id"], me["id"]);

    // The free plan's 50 active members hold for SSO too.
    let active = t.stored_members(&o.org_id).len();
    for i in active..50 {
        t.add_member(&o.auth, &format!("m{i}@ssojit.example"), json!({}));
    }
    refused(&flow("s-51", "fifty-one@ssojit.example", true), 402, "plan_limit");
    assert_eq!(t.stored_members(&o.org_id).len(), 50);
}

fn entra_common_issuer_is_checked_against_the_token_tenant(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssoentra");
    let p = FakeProvider::start();
    p.state.lock().unwrap().discovery_issuer = format!("{}/{{tenantid}}/v2.0", p.base);
    configure(&t, &o, &format!("{}/common/v2.0", p.base), json!({}));
    let report = t.post(&o.auth, "/api/v1/integrations/sso/test", &json!({})).ok(200);
    assert_eq!(report["multi_tenant"], true);

    let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let auth = start(&t, "ssoentra", BROWSER);
    let mut c = claims(&p, &auth, "sub-o", &o.owner_email, true);
    c["iss"] = format!("{}/{tid}/v2.0", p.base).into();
    c["tid"] = tid.into();
    p.issue("e-1", c);
    assert_eq!(signed_in(&t, &callback(&t, "ssoentra", &auth["state"], "e-1", BROWSER))["id"], o.owner_id);

    // A token whose issuer is another tenant than its tid says.
    let auth = start(&t, "ssoentra", BROWSER);
    let mut c = claims(&p, &auth, "sub-o", &o.owner_email, true);
    c["iss"] = format!("{}/00000000-0000-0000-0000-000000000001/v2.0", p.base).into();
    c["tid"] = tid.into();
    p.issue("e-2", c);
    refused(&callback(&t, "ssoentra", &auth["state"], "e-2", BROWSER), 503, "sso_token_invalid");
}

fn require_sso_refuses_passwords_of_everyone_but_owners(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("ssoreq");
    let p = FakeProvider::start();
    t.member_session(&o.auth, "ssoreq", "admin@ssoreq.example", "admin");
    configure(&t, &o, &p.base, json!({"require_sso": true}));

    let e = t.sign_in_raw("ssoreq", "admin@ssoreq.example", PASSWORD).problem(403, "sso_required");
    assert!(e["detail"].as_str().unwrap().contains("SSO"));
    // A wrong password is still just wrong.
    t.sign_in_raw("ssoreq", "admin@ssoreq.example", "wrong password!").problem(401, "invalid_credentials");
    t.sign_in(&o.slug, &o.owner_email, PASSWORD);

    // The sign-in page offers SSO for the organisation.
    let page = t.get(&Auth::None, "/signin?org=ssoreq").text();
    assert!(page.contains("Sign in with SSO") && page.contains("/auth/oidc/ssoreq/start"), "{page}");
    assert!(!t.get(&Auth::None, "/signin?org=nosso").text().contains("Sign in with SSO"));
    // So does the form's SSO button, once the organisation is typed in.
    let form = |org: &str| {
        let token = "formtoken0123456789abcdef";
        t.request(
            axum::http::Method::POST,
            "/signin",
            &Auth::CookieOnly(format!("plaudit_csrf={token}")),
            Some("application/x-www-form-urlencoded"),
            format!("csrf={token}&org={org}&email=&password=&sso=1").into_bytes(),
        )
    };
    let to_sso = form("SSOREQ");
    assert_eq!(to_sso.status.as_u16(), 303, "{}", to_sso.text());
    assert_eq!(to_sso.header("location"), Some("/signin?org=ssoreq"));
    let none = form("nosso");
    assert_eq!(none.status.as_u16(), 404);
    assert!(none.text().contains("does not offer sign-in with SSO"), "{}", none.text());

    // Turned off, passwords work again.
    configure(&t, &o, &p.base, json!({"enabled": false, "require_sso": true}));
    t.sign_in("ssoreq", "admin@ssoreq.example", PASSWORD);
}

plaudit_store::backend_tests! {
    settings_are_for_admins_validated_sealed_and_audited,
    the_test_button_reports_the_provider_and_records_errors,
    sign_in_matches_the_verified_email_then_remembers_the_subject,
    unknown_expired_reused_or_foreign_state_is_refused_and_a_replayed_code_too,
    email_rules_domains_and_just_in_time_creation,
    entra_common_issuer_is_checked_against_the_token_tenant,
    require_sso_refuses_passwords_of_everyone_but_owners,
}
