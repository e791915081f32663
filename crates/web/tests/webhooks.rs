//! Outbound webhooks against a local receiver (an HTTP server on 127.0.0.1
//! in the test that records what it gets and answers scripted statuses),
//! on SQLite and PostgreSQL: signatures over the exact bytes, payloads,
//! the retry schedule driven with `run_due_jobs_at`, `Retry-After`,
//! giving up after a day, redelivery, subscriptions and tenancy, stopping
//! an endpoint, the private-address refusal, authorisation, the secret
//! shown once, and the admin page.

mod common;

use axum::http::Method;
use common::*;
use plaudit_app::webhooks::verify_signature;
use plaudit_app::{now_ms, Config};
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------- the receiver

#[derive(Debug, Clone)]
struct Received {
    /// When the request was read whole.
    at: std::time::Instant,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

/// Records every request; answers the scripted answers in order, then
/// `fallback`, each after `delay` (connections are served side by side).
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    fallback: Arc<Mutex<u16>>,
    delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let fallback = Arc::new(Mutex::new(200));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (s, q, f, d) = (seen.clone(), script.clone(), fallback.clone(), delay.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answer =
                    q.lock().unwrap().pop_front().unwrap_or(Answer { status: *f.lock().unwrap(), headers: vec![] });
                let (s, wait) = (s.clone(), *d.lock().unwrap());
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    if let Some(r) = serve(stream, &answer) {
                        s.lock().unwrap().push(r);
                    }
                });
            }
        });
        Receiver { url, seen, script, fallback, delay }
    }

    fn then(&self, status: u16, headers: &[(&str, &str)]) -> &Self {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.script.lock().unwrap().push_back(Answer { status, headers });
        self
    }

    fn always(&self, status: u16) {
        *self.fallback.lock().unwrap() = status;
    }

    fn slow(&self, wait: Duration) {
        *self.delay.lock().unwrap() = wait;
    }

    fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, answer: &Answer) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            break (end, length);
        }
    };
    while buf.len() < head_end + 4 + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = buf[head_end + 4..].to_vec();
    let extra: String = answer.headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let text = if answer.status < 300 { "ok" } else { "receiver says no" };
    let _ = write!(
        stream,
        "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{text}",
        answer.status,
        text.len()
    );
    Some(Received { at: std::time::Instant::now(), path, headers, body })
}

// ---------------------------------------------------------------- helpers

/// The app as tests and on-premise installs run it: private destinations allowed.
fn allowing(db: &TestDb) -> TestApp {
    TestApp::with_config(db, Config { webhooks_allow_private: true, ..Config::default() })
}

/// Registers a webhook; returns its id and secret.
#[track_caller]
fn hook(t: &TestApp, auth: &Auth, url: &str, events: Value) -> (String, String) {
    let w = t.post(auth, "/api/v1/webhooks", &json!({"url": url, "events": events, "description": "test"})).ok(201);
    (w["id"].as_str().unwrap().to_string(), w["secret"].as_str().unwrap().to_string())
}

/// Runs due jobs until none is left (events, then their deliveries).
fn drain(t: &TestApp) {
    for _ in 0..10 {
        if t.app.run_due_jobs_at(now_ms() + 1, 100).unwrap() == 0 {
            return;
        }
    }
    panic!("jobs keep coming");
}

fn log(t: &TestApp, auth: &Auth, id: &str) -> Vec<Value> {
    t.get(auth, &format!("/api/v1/webhooks/{id}/deliveries")).ok(200)["items"].as_array().unwrap().clone()
}

fn ms(v: &Value) -> i64 {
    v.as_str().unwrap_or_else(|| panic!("a time: {v}")).parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// Time moves on to a delivery's next try (the job is due a moment after
/// the time the log shows, once the attempt is written).
fn run_next_try(t: &TestApp, d: &Value) -> usize {
    t.app.run_due_jobs_at(ms(&d["next_attempt_at"]) + 1000, 100).unwrap()
}

fn give(t: &TestApp, auth: &Auth, to: &str, points: i64) -> Value {
    t.post(
        auth,
        "/api/v1/recognitions",
        &json!({"recipients": [to], "points": points, "message": "Thanks for the launch!"}),
    )
    .ok(201)
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", plaudit_app::outbound::form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn post_form(t: &TestApp, auth: &Auth, path: &str, pairs: &[(&str, &str)]) -> Resp {
    t.request(Method::POST, path, auth, Some("application/x-www-form-urlencoded"), form(pairs))
}

// ---------------------------------------------------------------- tests

fn deliveries_are_signed_and_carry_the_event(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    let (id, secret) =
        hook(&t, &o.auth, &format!("{}/hooks/in", r.url), json!(["recognition.created", "redemption.created"]));
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{secret}");

    let (ana_id, ana) = t.member_session(&o.auth, "acme", "ana@acme.example", "member");
    let given = give(&t, &o.auth, &ana_id, 5);
    drain(&t);

    let got = r.requests();
    assert_eq!(got.len(), 1, "member.created is not subscribed: {got:?}");
    let req = &got[0];
    assert_eq!(req.path, "/hooks/in");
    assert_eq!(req.header("content-type"), "application/json");
    assert_eq!(req.header("plaudit-event"), "recognition.created");
    let logged = log(&t, &o.auth, &id);
    assert_eq!(req.header("plaudit-delivery"), logged[0]["id"]);
    // The signature covers the exact bytes received, with this secret only.
    let signature = req.header("plaudit-signature");
    let now = now_ms() / 1000;
    assert!(verify_signature(&secret, signature, &req.body, now, 300), "{signature}");
    assert!(!verify_signature("whsec_another", signature, &req.body, now, 300));
    let mut tampered = req.body.clone();
    tampered[10] ^= 1;
    assert!(!verify_signature(&secret, signature, &tampered, now, 300));
    let t_part = signature.split(',').next().unwrap().strip_prefix("t=").unwrap().parse::<i64>().unwrap();
    assert!((now - t_part).abs() < 60);

    let body = req.json();
    assert_eq!(body["type"], "recognition.created");
    assert_eq!(body["org_id"], o.org_id);
    assert!(body["id"].as_str().unwrap().len() >= 32);
    assert_eq!(body["id"], logged[0]["event_id"]);
    assert!(ms(&body["created_at"]) > 0);
    let data = &body["data"];
    assert_eq!(data["id"], given["id"]);
    assert_eq!(data["points"], 5);
    assert_eq!(data["giver_id"], o.owner_id);
    assert_eq!(data["recipient_ids"], json!([ana_id]));
    assert_eq!(data["message"], "Thanks for the launch!");

    // A redemption: the reward, member and points, never the code.
    let reward = t.post(&o.auth, "/api/v1/rewards", &json!({"kind": "swag", "name": "Mug", "cost_points": 5})).ok(201);
    let redeemed = t.post(&ana, "/api/v1/redemptions", &json!({"reward_id": reward["id"]})).ok(201);
    drain(&t);
    let got = r.requests();
    assert_eq!(got.len(), 2);
    let body = got[1].json();
    assert_eq!(got[1].header("plaudit-event"), "redemption.created");
    assert_eq!(body["type"], "redemption.created");
    assert_eq!(body["data"]["id"], redeemed["id"]);
    assert_eq!(body["data"]["reward_id"], reward["id"]);
    assert_eq!(body["data"]["member_id"], json!(ana_id));
    assert_eq!(body["data"]["points"], 5);
    assert!(body["data"].get("code").is_none());
    assert!(verify_signature(&secret, got[1].header("plaudit-signature"), &got[1].body, now_ms() / 1000, 300));

    // The log, newest first, in pages.
    let logged = log(&t, &o.auth, &id);
    let events: Vec<_> = logged.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["redemption.created", "recognition.created"]);
    for d in &logged {
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
            (Some("delivered"), Some(1), Some(200))
        );
        assert!(d["delivered_at"].is_string() && d["next_attempt_at"].is_null() && d["last_error"].is_null());
        assert_eq!(d["webhook_id"], json!(id));
    }
    let first = t.get(&o.auth, &format!("/api/v1/webhooks/{id}/deliveries?limit=1")).ok(200);
    assert_eq!(first["items"][0]["id"], logged[0]["id"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = t.get(&o.auth, &format!("/api/v1/webhooks/{id}/deliveries?limit=1&cursor={cursor}")).ok(200);
    assert_eq!(second["items"][0]["id"], logged[1]["id"]);
    assert!(second["next_cursor"].is_null());
    t.get(&o.auth, &format!("/api/v1/webhooks/{id}/deliveries?cursor=%%%")).problem(422, "validation_failed");
}

fn failures_are_retried_on_the_back_off_schedule(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    r.then(500, &[]).then(502, &[]).then(200, &[]);
    let (id, _) = hook(&t, &o.auth, &r.url, json!("*"));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);

    // First failure: queued again 30 s ± 20 % later.
    let d = &log(&t, &o.auth, &id)[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some("pending"), Some(1), Some(500))
    );
    assert!(d["last_error"].as_str().unwrap().contains("HTTP 500: receiver says no"), "{d}");
    let wait = ms(&d["next_attempt_at"]) - ms(&d["last_attempt_at"]);
    assert!((24_000..=36_000).contains(&wait), "{wait}");
    // Not before its time…
    assert_eq!(t.app.run_due_jobs_at(ms(&d["next_attempt_at"]) - 2000, 100).unwrap(), 0);
    assert_eq!(r.requests().len(), 1);
    // …then tried again: 60 s ± 20 % after the second failure.
    assert_eq!(run_next_try(&t, d), 1);
    let d = &log(&t, &o.auth, &id)[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some("pending"), Some(2), Some(502))
    );
    let wait = ms(&d["next_attempt_at"]) - ms(&d["last_attempt_at"]);
    assert!((48_000..=72_000).contains(&wait), "{wait}");
    // Success on the third attempt.
    assert_eq!(run_next_try(&t, d), 1);
    let d = &log(&t, &o.auth, &id)[0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64(), d["last_status"].as_i64()),
        (Some("delivered"), Some(3), Some(200))
    );
    assert!(d["next_attempt_at"].is_null() && d["last_error"].is_null() && d["delivered_at"].is_string());
    // The very same delivery each time: same bytes, same ids.
    let got = r.requests();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|g| g.body == got[0].body && g.header("plaudit-delivery") == d["id"]));
    assert!(t.app.store.read(|tx| tx.list_jobs(&o.org_id, Some("webhook.deliver"), 10)).unwrap().is_empty());
}

fn a_day_of_failures_gives_up(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    r.always(503);
    let (id, _) = hook(&t, &o.auth, &r.url, json!(["member.created"]));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);
    let mut d = log(&t, &o.auth, &id)[0].clone();
    let mut rounds = 0;
    while d["status"] == "pending" {
        assert_eq!(run_next_try(&t, &d), 1);
        d = log(&t, &o.auth, &id)[0].clone();
        rounds += 1;
        assert!(rounds < 30, "never gives up: {d}");
    }
    assert_eq!(d["status"], "failed");
    assert!(d["next_attempt_at"].is_null());
    let attempts = d["attempts"].as_i64().unwrap();
    // 30 s doubling to a 4 h cap, each ±20 %: 13 to 16 tries fit in a day.
    assert!((13..=16).contains(&attempts), "{attempts}");
    assert_eq!(r.requests().len() as i64, attempts);
    let span = ms(&d["last_attempt_at"]) - ms(&d["created_at"]);
    assert!(span > 18 * 3600 * 1000 && span <= 24 * 3600 * 1000, "{span}");
    let jobs = t.app.store.read(|tx| tx.list_jobs(&o.org_id, Some("webhook.deliver"), 10)).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, plaudit_store::JobState::Failed);
    // Nothing more is tried, however late it gets.
    t.app.run_due_jobs_at(now_ms() + 3 * 24 * 3600 * 1000, 100).unwrap();
    assert_eq!(r.requests().len() as i64, attempts);
}

fn retry_after_is_honoured_within_bounds(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    r.then(429, &[("Retry-After", "120")]).then(503, &[("Retry-After", "86400")]).then(500, &[("Retry-After", "5")]);
    let (id, _) = hook(&t, &o.auth, &r.url, json!("all"));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);
    let gap = |d: &Value| ms(&d["next_attempt_at"]) - ms(&d["last_attempt_at"]);
    let d = log(&t, &o.auth, &id)[0].clone();
    assert_eq!((d["last_status"].as_i64(), gap(&d)), (Some(429), 120_000));
    run_next_try(&t, &d);
    let d = log(&t, &o.auth, &id)[0].clone();
    assert_eq!((d["last_status"].as_i64(), gap(&d)), (Some(503), 3600 * 1000), "held to an hour");
    run_next_try(&t, &d);
    // A 500's Retry-After is not a request to wait: the usual third back-off (2 min ± 20 %).
    let d = log(&t, &o.auth, &id)[0].clone();
    assert_eq!(d["last_status"], 500);
    assert!((96_000..=144_000).contains(&gap(&d)), "{}", gap(&d));
    run_next_try(&t, &d);
    assert_eq!(log(&t, &o.auth, &id)[0]["status"], "delivered");
    assert_eq!(r.requests().len(), 4);
}

fn a_slow_receiver_does_not_hold_up_the_others(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let (slow, fast) = (Receiver::start(), Receiver::start());
    slow.slow(Duration::from_secs(2));
    let (slow_id, _) = hook(&t, &o.auth, &slow.url, json!("*"));
    let (fast_id, _) = hook(&t, &o.auth, &fast.url, json!("*"));
    for who in ["ana", "bo", "cy"] {
        t.add_member(&o.auth, &format!("{who}@acme.example"), json!({}));
    }
    assert_eq!(t.app.run_due_jobs_at(now_ms() + 1, 100).unwrap(), 3, "the events fan out");
    let started = std::time::Instant::now();
    assert_eq!(t.app.run_due_jobs_at(now_ms() + 1, 100).unwrap(), 6, "one job per delivery");
    // Side by side: about one slow answer, not three of them plus the rest.
    assert!(started.elapsed() < Duration::from_millis(5500), "{:?}", started.elapsed());
    for id in [&slow_id, &fast_id] {
        assert!(log(&t, &o.auth, id).iter().all(|d| d["status"] == "delivered"));
    }
    // The fast receiver got all of its deliveries before the slow one answered once.
    let fast_got = fast.requests();
    assert!(
        fast_got.iter().all(|r| r.at.duration_since(started) < Duration::from_millis(1500)),
        "{:?}",
        fast_got.iter().map(|r| r.at.duration_since(started)).collect::<Vec<_>>()
    );
    assert_eq!((slow.requests().len(), fast.requests().len()), (3, 3));
}

fn redelivery_sends_the_same_event_again(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    let (id, secret) = hook(&t, &o.auth, &r.url, json!(["member.created"]));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);
    let original = log(&t, &o.auth, &id)[0].clone();
    assert_eq!(original["status"], "delivered");

    let again = t
        .post(
            &o.auth,
            &format!("/api/v1/webhook_deliveries/{}/redeliver", original["id"].as_str().unwrap()),
            &json!({}),
        )
        .ok(202);
    assert_eq!((again["status"].as_str(), again["attempts"].as_i64()), (Some("pending"), Some(0)));
    assert_eq!(again["redelivery_of"], original["id"]);
    assert_eq!(again["event_id"], original["event_id"]);
    assert_ne!(again["id"], original["id"]);
    drain(&t);
    let got = r.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body, "the same payload, event id included");
    assert_eq!(got[1].header("plaudit-delivery"), again["id"]);
    assert!(verify_signature(&secret, got[1].header("plaudit-signature"), &got[1].body, now_ms() / 1000, 300));
    let logged = log(&t, &o.auth, &id);
    assert_eq!(logged.len(), 2);
    assert_eq!((logged[0]["id"].clone(), logged[0]["status"].as_str()), (again["id"].clone(), Some("delivered")));

    // Unknown or another org's deliveries are not found.
    t.post(&o.auth, "/api/v1/webhook_deliveries/00000000-0000-7000-8000-000000000000/redeliver", &json!({}))
        .problem(404, "not_found");
    let other = t.signup("globex");
    t.post(
        &other.auth,
        &format!("/api/v1/webhook_deliveries/{}/redeliver", original["id"].as_str().unwrap()),
        &json!({}),
    )
    .problem(404, "not_found");
    t.get(&other.auth, &format!("/api/v1/webhooks/{id}/deliveries")).problem(404, "not_found");
    // An endpoint that is off takes no redelivery.
    t.patch(&o.auth, &format!("/api/v1/webhooks/{id}"), &json!({"active": false})).ok(200);
    t.post(&o.auth, &format!("/api/v1/webhook_deliveries/{}/redeliver", original["id"].as_str().unwrap()), &json!({}))
        .problem(409, "webhook_inactive");
    assert_eq!(log(&t, &o.auth, &id).len(), 2);
}

fn only_subscribed_events_of_the_org_reach_an_endpoint(db: &TestDb) {
    let t = allowing(db);
    let acme = t.signup("acme");
    let globex = t.signup("globex");
    let r = Receiver::start();
    hook(&t, &acme.auth, &format!("{}/members", r.url), json!(["member.created"]));
    let (off, _) = hook(&t, &acme.auth, &format!("{}/off", r.url), json!("*"));
    t.patch(&acme.auth, &format!("/api/v1/webhooks/{off}"), &json!({"active": false})).ok(200);
    hook(&t, &globex.auth, &format!("{}/globex", r.url), json!("*"));

    let ana = t.add_member(&acme.auth, "ana@acme.example", json!({}));
    give(&t, &acme.auth, ana["id"].as_str().unwrap(), 3);
    t.patch(&acme.auth, &format!("/api/v1/members/{}", ana["id"].as_str().unwrap()), &json!({"status": "inactive"}))
        .ok(200);
    let bo = t.add_member(&globex.auth, "bo@globex.example", json!({}));
    drain(&t);

    let got = r.requests();
    let at = |p: &str| got.iter().filter(|g| g.path == p).map(|g| g.json()).collect::<Vec<_>>();
    let members = at("/members");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(
        (members[0]["type"].as_str(), members[0]["org_id"].as_str()),
        (Some("member.created"), Some(acme.org_id.as_str()))
    );
    assert_eq!(members[0]["data"]["email"], "ana@acme.example");
    assert!(at("/off").is_empty());
    let globex_got = at("/globex");
    assert_eq!(globex_got.len(), 1);
    assert_eq!(globex_got[0]["data"]["id"], bo["id"]);
    assert!(globex_got.iter().all(|g| g["org_id"] == globex.org_id.as_str()));
    assert_eq!(got.len(), 2);
}

fn stopping_an_endpoint_stops_its_pending_deliveries(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    r.always(500);
    let (id, _) = hook(&t, &o.auth, &r.url, json!("*"));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);
    assert_eq!(log(&t, &o.auth, &id)[0]["status"], "pending");
    let off = t.patch(&o.auth, &format!("/api/v1/webhooks/{id}"), &json!({"active": false})).ok(200);
    assert_eq!(off["active"], false);
    let d = &log(&t, &o.auth, &id)[0];
    assert_eq!(d["status"], "cancelled");
    assert!(d["next_attempt_at"].is_null());
    assert!(t.app.store.read(|tx| tx.list_jobs(&o.org_id, Some("webhook.deliver"), 10)).unwrap().is_empty());
    // Events while off are not logged.
    t.add_member(&o.auth, "bo@acme.example", json!({}));
    t.app.run_due_jobs_at(now_ms() + 3600 * 1000, 100).unwrap();
    assert_eq!(r.requests().len(), 1);
    assert_eq!(log(&t, &o.auth, &id).len(), 1);

    // Back on, a failure is pending again; deleting drops it, its job and its log.
    t.patch(&o.auth, &format!("/api/v1/webhooks/{id}"), &json!({"active": true})).ok(200);
    t.add_member(&o.auth, "cy@acme.example", json!({}));
    drain(&t);
    assert_eq!(log(&t, &o.auth, &id)[0]["status"], "pending");
    t.delete(&o.auth, &format!("/api/v1/webhooks/{id}")).ok(204);
    t.get(&o.auth, &format!("/api/v1/webhooks/{id}")).problem(404, "not_found");
    assert!(t.app.store.read(|tx| tx.list_jobs(&o.org_id, Some("webhook.deliver"), 10)).unwrap().is_empty());
    t.app.run_due_jobs_at(now_ms() + 3600 * 1000, 100).unwrap();
    assert_eq!(r.requests().len(), 2);
    let audit = t.get(&o.auth, "/api/v1/audit_log").ok(200).to_string();
    for action in ["webhook.created", "webhook.updated", "webhook.deleted"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}

fn private_destinations_are_refused_without_the_setting(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    for url in [
        r.url.clone(),
        "http://localhost:9/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.7/hook".to_string(),
        "http://[::1]:8080/".to_string(),
    ] {
        let p = t.post(&o.auth, "/api/v1/webhooks", &json!({"url": url})).problem(422, "url_not_allowed");
        assert_eq!(p["field"], "url");
    }
    for url in ["ftp://example.com/", "https://user:pw@example.com/", "not a url"] {
        t.post(&o.auth, "/api/v1/webhooks", &json!({"url": url})).problem(422, "validation_failed");
    }
    t.post(&o.auth, "/api/v1/webhooks", &json!({"url": "https://example.com/", "events": ["nope"]}))
        .problem(422, "validation_failed");
    assert_eq!(t.get(&o.auth, "/api/v1/webhooks").ok(200)["items"], json!([]));

    // An endpoint saved while the operator allowed it is refused at delivery
    // once the setting is off: nothing reaches the address.
    let on_premise = allowing(db);
    let (id, _) = hook(&on_premise, &o.auth, &r.url, json!("*"));
    t.patch(
        &o.auth,
        &format!("/api/v1/webhooks/{id}"),
        &json!({"url": "http://127.0.0.1:1/x", "description": "changed"}),
    )
    .problem(422, "url_not_allowed");
    let kept = t.get(&o.auth, &format!("/api/v1/webhooks/{id}")).ok(200);
    assert_eq!((kept["url"].as_str(), kept["description"].as_str()), (Some(r.url.as_str()), Some("test")));
    t.add_member(&o.auth, "ana@acme.example", json!({}));
    drain(&t);
    let d = &log(&t, &o.auth, &id)[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("failed"), Some(1)));
    assert!(d["last_error"].as_str().unwrap().starts_with("refused"), "{d}");
    assert!(r.requests().is_empty());
    let ping = t.post(&o.auth, &format!("/api/v1/webhooks/{id}/test"), &json!({})).ok(200);
    assert_eq!(ping["status"], "failed");
    assert!(r.requests().is_empty());
}

fn only_admins_manage_webhooks_and_secrets_are_shown_once(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    let (id, secret) = hook(&t, &o.auth, &r.url, json!(["member.created"]));
    let (_, member) = t.member_session(&o.auth, "acme", "ana@acme.example", "member");
    let (_, manager) = t.member_session(&o.auth, "acme", "max@acme.example", "manager");
    for who in [&member, &manager] {
        t.get(who, "/api/v1/webhooks").problem(403, "not_permitted");
        t.post(who, "/api/v1/webhooks", &json!({"url": r.url})).problem(403, "not_permitted");
        t.get(who, &format!("/api/v1/webhooks/{id}")).problem(403, "not_permitted");
        t.patch(who, &format!("/api/v1/webhooks/{id}"), &json!({"active": false})).problem(403, "not_permitted");
        t.delete(who, &format!("/api/v1/webhooks/{id}")).problem(403, "not_permitted");
        t.post(who, &format!("/api/v1/webhooks/{id}/rotate_secret"), &json!({})).problem(403, "not_permitted");
        t.post(who, &format!("/api/v1/webhooks/{id}/test"), &json!({})).problem(403, "not_permitted");
        t.get(who, &format!("/api/v1/webhooks/{id}/deliveries")).problem(403, "not_permitted");
    }
    // A cookie without the CSRF header changes nothing.
    t.post(&o.auth.without_csrf(), "/api/v1/webhooks", &json!({"url": r.url})).problem(403, "csrf_failed");
    assert_eq!(t.get(&o.auth, "/api/v1/webhooks").ok(200)["items"].as_array().unwrap().len(), 1);
    let one = t.get(&o.auth, &format!("/api/v1/webhooks/{id}")).ok(200);
    assert_eq!(one["events"], json!(["member.created"]));
    assert_eq!(one["active"], true);
    for text in [
        t.get(&o.auth, "/api/v1/webhooks").text(),
        one.to_string(),
        t.get(&o.auth, "/api/v1/audit_log").text(),
        t.get(&o.auth, &format!("/admin/integrations/webhooks/{id}")).text(),
    ] {
        assert!(!text.contains(&secret) && !text.contains("\"secret\""), "{text}");
    }
    let stored = t.app.store.read(|tx| tx.webhook_endpoint(&o.org_id, &id)).unwrap().unwrap();
    assert!(!stored.secret_enc.contains(&secret[6..]), "sealed at rest");

    // A ping is signed with the secret; after rotation only with the new one.
    let ping = t.post(&o.auth, &format!("/api/v1/webhooks/{id}/test"), &json!({})).ok(200);
    assert_eq!(
        (ping["event"].as_str(), ping["status"].as_str(), ping["last_status"].as_i64()),
        (Some("ping"), Some("delivered"), Some(200))
    );
    let rotated = t.post(&o.auth, &format!("/api/v1/webhooks/{id}/rotate_secret"), &json!({})).ok(200);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    t.post(&o.auth, &format!("/api/v1/webhooks/{id}/test"), &json!({})).ok(200);
    let got = r.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].json()["type"], "ping");
    assert_eq!(got[0].header("plaudit-event"), "ping");
    let now = now_ms() / 1000;
    assert!(verify_signature(&secret, got[0].header("plaudit-signature"), &got[0].body, now, 300));
    assert!(verify_signature(new_secret, got[1].header("plaudit-signature"), &got[1].body, now, 300));
    assert!(!verify_signature(&secret, got[1].header("plaudit-signature"), &got[1].body, now, 300));
    // A test against a failing receiver is logged as failed, once.
    r.always(500);
    let failed = t.post(&o.auth, &format!("/api/v1/webhooks/{id}/test"), &json!({})).ok(200);
    assert_eq!(
        (failed["status"].as_str(), failed["attempts"].as_i64(), failed["last_status"].as_i64()),
        (Some("failed"), Some(1), Some(500))
    );
    assert!(t.app.store.read(|tx| tx.list_jobs(&o.org_id, Some("webhook.deliver"), 10)).unwrap().is_empty());
}

fn the_admin_page_manages_endpoints(db: &TestDb) {
    let t = allowing(db);
    let o = t.signup("acme");
    let r = Receiver::start();
    let csrf = csrf_of(&o.auth);
    let page = t.get(&o.auth, "/admin/integrations/webhooks");
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.text().contains("Add a webhook"));
    let overview = t.get(&o.auth, "/admin/integrations").text();
    assert!(
        overview.contains("href=\"/admin/integrations/webhooks\"") && overview.contains("No endpoints"),
        "{overview}"
    );
    let (_, member) = t.member_session(&o.auth, "acme", "ana@acme.example", "member");
    assert_eq!(t.get(&member, "/admin/integrations/webhooks").status.as_u16(), 403);
    assert_eq!(t.get(&member, "/admin/integrations").status.as_u16(), 403);
    assert!(!t.get(&member, "/feed").text().contains("/admin/integrations/webhooks"));
    drain(&t); // ana's member.created goes nowhere: no endpoint yet

    // Bad input: the message beside the field, what was typed kept, nothing saved.
    let bad = post_form(
        &t,
        &o.auth,
        "/admin/integrations/webhooks",
        &[("csrf", &csrf), ("url", "ftp://example.com/x"), ("events", "*"), ("active", "on")],
    );
    assert_eq!(bad.status.as_u16(), 422);
    let html = bad.text();
    assert!(html.contains("id=\"url-error\"") && html.contains("ftp://example.com/x"), "{html}");
    let none = post_form(&t, &o.auth, "/admin/integrations/webhooks", &[("csrf", &csrf), ("url", &r.url)]);
    assert_eq!(none.status.as_u16(), 422);
    assert!(none.text().contains("id=\"events-error\""));
    let forged =
        post_form(&t, &o.auth, "/admin/integrations/webhooks", &[("csrf", "wrong"), ("url", &r.url), ("events", "*")]);
    assert_eq!(forged.status.as_u16(), 403);
    assert_eq!(t.get(&o.auth, "/api/v1/webhooks").ok(200)["items"], json!([]));

    // Added: the secret is shown once, on the answer.
    let url = format!("{}/page", r.url);
    let made = post_form(
        &t,
        &o.auth,
        "/admin/integrations/webhooks",
        &[
            ("csrf", &csrf),
            ("url", &url),
            ("events", "member.created"),
            ("events", "recognition.created"),
            ("active", "on"),
        ],
    );
    assert_eq!(made.status.as_u16(), 201, "{}", made.text());
    let html = made.text();
    let secret =
        html.split("whsec_").nth(1).map(|s| format!("whsec_{}", s.split('<').next().unwrap())).expect("secret shown");
    let list = t.get(&o.auth, "/api/v1/webhooks").ok(200);
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["items"][0]["events"], json!(["member.created", "recognition.created"]));
    let here = format!("/admin/integrations/webhooks/{id}");
    assert!(!t.get(&o.auth, &here).text().contains(&secret));

    // A failed delivery shows in the log with its error and a Redeliver button.
    r.then(500, &[]);
    t.add_member(&o.auth, "bo@acme.example", json!({}));
    drain(&t);
    let html = t.get(&o.auth, &here).text();
    assert!(
        html.contains("data-status=\"pending\"") && html.contains("HTTP 500") && html.contains("Redeliver"),
        "{html}"
    );
    let listed = t.get(&o.auth, "/admin/integrations/webhooks").text();
    assert!(listed.contains("Pending, <code>member.created</code>") && listed.contains("HTTP 500"), "{listed}");
    let delivery = log(&t, &o.auth, &id)[0]["id"].as_str().unwrap().to_string();
    let again = post_form(
        &t,
        &o.auth,
        &format!("/admin/integrations/webhook_deliveries/{delivery}/redeliver"),
        &[("csrf", &csrf)],
    );
    assert_eq!(again.status.as_u16(), 303);
    assert_eq!(again.header("location"), Some(format!("{here}?done=redelivered").as_str()));
    drain(&t);
    assert!(r.requests().len() >= 2);
    assert!(verify_signature(
        &secret,
        r.requests()[1].header("plaudit-signature"),
        &r.requests()[1].body,
        now_ms() / 1000,
        300
    ));

    // Edit: a bad URL changes nothing; turning it off and every event saves.
    let bad =
        post_form(&t, &o.auth, &here, &[("csrf", &csrf), ("url", "http://user:pw@example.com/"), ("events", "*")]);
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("id=\"url-error\""));
    assert_eq!(t.get(&o.auth, &format!("/api/v1/webhooks/{id}")).ok(200)["url"], url.as_str());
    let saved =
        post_form(&t, &o.auth, &here, &[("csrf", &csrf), ("url", &url), ("events", "*"), ("description", "CRM")]);
    assert_eq!(saved.status.as_u16(), 303);
    let now = t.get(&o.auth, &format!("/api/v1/webhooks/{id}")).ok(200);
    assert_eq!(
        (now["active"].as_bool(), now["events"].clone(), now["description"].as_str()),
        (Some(false), json!(["*"]), Some("CRM"))
    );

    // Test, rotate (a new secret, shown once) and delete.
    assert_eq!(post_form(&t, &o.auth, &format!("{here}/test"), &[("csrf", &csrf)]).status.as_u16(), 303);
    assert!(t.get(&o.auth, &format!("{here}?done=tested")).text().contains("ping"));
    let rotated = post_form(&t, &o.auth, &format!("{here}/rotate"), &[("csrf", &csrf)]);
    assert_eq!(rotated.status.as_u16(), 200);
    assert!(rotated.text().contains("whsec_") && !rotated.text().contains(&secret));
    let gone = post_form(&t, &o.auth, &format!("{here}/delete"), &[("csrf", &csrf)]);
    assert_eq!(gone.header("location"), Some("/admin/integrations/webhooks?done=deleted"));
    assert_eq!(t.get(&o.auth, "/api/v1/webhooks").ok(200)["items"], json!([]));
}

backend_tests!(
    deliveries_are_signed_and_carry_the_event,
    failures_are_retried_on_the_back_off_schedule,
    a_day_of_failures_gives_up,
    retry_after_is_honoured_within_bounds,
    a_slow_receiver_does_not_hold_up_the_others,
    redelivery_sends_the_same_event_again,
    only_subscribed_events_of_the_org_reach_an_endpoint,
    stopping_an_endpoint_stops_its_pending_deliveries,
    private_destinations_are_refused_without_the_setting,
    only_admins_manage_webhooks_and_secrets_are_shown_once,
    the_admin_page_manages_endpoints,
);
