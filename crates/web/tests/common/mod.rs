//! Helpers for the HTTP suites: an App over a TestDb, the router driven
//! in-process with `oneshot`, and callers signed in by cookie or token.
//!
//! Tests are plain `fn(&TestDb)` run by `plaudit_store::backend_tests!` on
//! SQLite and PostgreSQL. Each request is run on a private Tokio runtime,
//! so tests may also call the (blocking) App and Store directly between
//! requests.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use plaudit_app::{App, Config};
use plaudit_domain::member::Member;
use plaudit_domain::org::Plan;
use plaudit_store::testing::TestDb;
use plaudit_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

/// Points fixtures: members with tokens, snapshots of every balance (see points.rs).
pub mod points;

/// A fake HTTP service for outbound calls (Slack, Teams).
pub mod fake_server;
/// A local SMTP sink (see smtp.rs).
pub mod smtp;

pub const PASSWORD: &str = "correct horse battery";

/// The directory of data/directory.csv (the same file the demo bundles).
pub const DIRECTORY_CSV: &[u8] = include_bytes!("../../../app/demo/directory.csv");

/// How a request proves who sends it.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// The session cookie and the session's CSRF token.
    Session {
        cookie: String,
        csrf: String,
    },
    /// The session cookie only (as a forged cross-site request would carry).
    CookieOnly(String),
    Bearer(String),
}

impl Auth {
    pub fn without_csrf(&self) -> Auth {
        match self {
            Auth::Session { cookie, .. } => Auth::CookieOnly(cookie.clone()),
            other => other.clone(),
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text());
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts a problem+json answer with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "body: {}", self.text());
        let body = self.json();
        assert_eq!(body["code"], code, "unexpected code; body: {body}");
        assert_eq!(body["status"], status, "status in the body; body: {body}");
        for field in ["type", "title", "detail"] {
            assert!(body[field].is_string(), "problem without {field}: {body}");
        }
        body
    }
}

pub struct TestApp {
    pub app: App,
    router: Router,
    rt: tokio::runtime::Runtime,
}

/// An organisation made through sign-up, with its owner signed in.
#[derive(Debug, Clone)]
pub struct OrgOwner {
    pub slug: String,
    pub org_id: String,
    pub owner_id: String,
    pub owner_email: String,
    pub auth: Auth,
}

impl TestApp {
    pub fn new(db: &TestDb) -> TestApp {
        TestApp::with_config(db, Config::default())
    }

    /// A second Store over the test database (the TestDb keeps its own).
    pub fn with_config(db: &TestDb, config: Config) -> TestApp {
        let store = Store::open(&db.url).expect("open the test database");
        let app = App::new(store, config);
        let router = plaudit_web::router(app.clone(), plaudit_web::WebOptions::default());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        TestApp { app, router, rt }
    }

    pub fn send(&self, req: Request<Body>) -> Resp {
        self.rt.block_on(async {
            let resp = self.router.clone().oneshot(req).await.expect("router is infallible");
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.expect("body").to_bytes().to_vec();
            Resp { status, headers, body }
        })
    }

    /// Any request: `body` is sent with `content_type` when given.
    pub fn request(&self, method: Method, path: &str, auth: &Auth, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        match auth {
            Auth::None => {}
            Auth::Session { cookie, csrf } => {
                req = req.header(header::COOKIE, cookie.as_str()).header("x-csrf-token", csrf.as_str());
            }
            Auth::CookieOnly(cookie) => req = req.header(header::COOKIE, cookie.as_str()),
            Auth::Bearer(token) => req = req.header(header::AUTHORIZATION, format!("Bearer {token}")),
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        self.send(req.body(Body::from(body)).expect("request"))
    }

    pub fn get(&self, auth: &Auth, path: &str) -> Resp {
        self.request(Method::GET, path, auth, None, Vec::new())
    }

    pub fn delete(&self, auth: &Auth, path: &str) -> Resp {
        self.request(Method::DELETE, path, auth, None, Vec::new())
    }

    pub fn post(&self, auth: &Auth, path: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, auth, Some("application/json"), body.to_string().into_bytes())
    }

    pub fn patch(&self, auth: &Auth, path: &str, body: &Value) -> Resp {
        self.request(Method::PATCH, path, auth, Some("application/json"), body.to_string().into_bytes())
    }

    pub fn post_csv(&self, auth: &Auth, path: &str, csv: &[u8]) -> Resp {
        self.request(Method::POST, path, auth, Some("text/csv"), csv.to_vec())
    }

    /// Self-serve sign-up of `slug` (free plan); the owner is signed in.
    pub fn signup(&self, slug: &str) -> OrgOwner {
        let email = format!("owner@{slug}.example");
        let body = self
            .post(
                &Auth::None,
                "/api/v1/signup",
                &json!({
                    "org_name": format!("Org {slug}"), "org_slug": slug, "timezone": "Europe/Oslo",
                    "name": "Olive Owner", "email": email, "password": PASSWORD,
                }),
            )
            .ok(201);
        // A fresh request: the cookie comes from Set-Cookie like a browser's would.
        let auth = self.sign_in(slug, &email, PASSWORD);
        OrgOwner {
            slug: slug.to_string(),
            org_id: body["org"]["id"].as_str().expect("org id").to_string(),
            owner_id: body["member"]["id"].as_str().expect("member id").to_string(),
            owner_email: email,
            auth,
        }
    }

    /// A paid organisation (signed up, then switched by the operator).
    pub fn paid_org(&self, slug: &str) -> OrgOwner {
        let o = self.signup(slug);
        self.app.set_plan(slug, Plan::Paid).expect("set plan");
        o
    }

    /// Signs in through the API and returns the session's cookie and CSRF token.
    #[track_caller]
    pub fn sign_in(&self, org: &str, email: &str, password: &str) -> Auth {
        let resp = self.sign_in_raw(org, email, password);
        let body = resp.ok(200);
        Auth::Session { cookie: session_cookie(&resp), csrf: body["csrf_token"].as_str().expect("csrf").to_string() }
    }

    pub fn sign_in_raw(&self, org: &str, email: &str, password: &str) -> Resp {
        self.post(&Auth::None, "/api/v1/session", &json!({"org": org, "email": email, "password": password}))
    }

    /// Adds a member by hand (as `admin`) and returns their JSON.
    #[track_caller]
    pub fn add_member(&self, admin: &Auth, email: &str, extra: Value) -> Value {
        let mut body = json!({"email": email, "display_name": email.split('@').next().unwrap()});
        if let Value::Object(map) = extra {
            for (k, v) in map {
                body[k] = v;
            }
        }
        self.post(admin, "/api/v1/members", &body).ok(201)
    }

    /// Adds a member with a password and signs them in.
    #[track_caller]
    pub fn member_session(&self, admin: &Auth, org: &str, email: &str, role: &str) -> (String, Auth) {
        let m = self.add_member(admin, email, json!({"role": role}));
        self.app.set_password(org, email, PASSWORD).expect("set password");
        (m["id"].as_str().unwrap().to_string(), self.sign_in(org, email, PASSWORD))
    }

    /// Every member of the caller's organisation, through the paged API.
    pub fn all_members(&self, auth: &Auth, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self.get(auth, &format!("/api/v1/members?limit=100&cursor={cursor}&{query}")).ok(200);
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => return out,
            }
        }
    }

    /// Every member of an organisation, straight from the store.
    pub fn stored_members(&self, org_id: &str) -> Vec<Member> {
        let filter = plaudit_store::MemberFilter::default();
        self.app.store.read(|tx| tx.list_members(org_id, &filter, None, 1_000_000)).expect("list members")
    }
}

/// `name=value` of the session cookie in a response's Set-Cookie.
#[track_caller]
pub fn session_cookie(resp: &Resp) -> String {
    let set = resp.header("set-cookie").expect("a Set-Cookie header");
    set.split(';').next().unwrap().trim().to_string()
}

/// Makes a CSV from a header and rows.
pub fn csv(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut out = String::from(header);
    out.push('\n');
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out.into_bytes()
}

pub const HEADER: &str = "employee_id,email,first_name,last_name,display_name,title,department,location,manager_email,start_date,birthday,gender,status";

/// One row in HEADER's columns.
pub fn row(id: &str, email: &str, manager: &str, status: &str) -> String {
    format!("{id},{email},First,Last,Name {id},Engineer,R&D,Oslo,{manager},2021-01-04,05-06,,{status}")
}

// ---------------------------------------------------------------- more requests

impl TestApp {
    /// Any request with extra headers (e.g. `Idempotency-Key`); `body` is JSON when given.
    pub fn request_with(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Resp {
        self.send(build_request(method, path, auth, headers, body))
    }

    pub fn put(&self, auth: &Auth, path: &str, body: &Value) -> Resp {
        self.request(Method::PUT, path, auth, Some("application/json"), body.to_string().into_bytes())
    }

    /// A POST with an `Idempotency-Key` header.
    pub fn post_with_key(&self, auth: &Auth, path: &str, body: &Value, key: &str) -> Resp {
        self.request_with(Method::POST, path, auth, &[("idempotency-key", key)], Some(body))
    }

    /// Sends every request at once (each handler's store work runs on the
    /// blocking pool, so they really overlap); answers in request order.
    pub fn send_concurrently(&self, reqs: Vec<Request<Body>>) -> Vec<Resp> {
        self.rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, req) in reqs.into_iter().enumerate() {
                let router = self.router.clone();
                set.spawn(async move {
                    let resp = router.oneshot(req).await.expect("router is infallible");
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let body = resp.into_body().collect().await.expect("body").to_bytes().to_vec();
                    (i, Resp { status, headers, body })
                });
            }
            let mut out: Vec<Option<Resp>> = Vec::new();
            while let Some(done) = set.join_next().await {
                let (i, resp) = done.expect("request task");
                if out.len() <= i {
                    out.resize_with(i + 1, || None);
                }
                out[i] = Some(resp);
            }
            out.into_iter().map(|r| r.expect("every answer")).collect()
        })
    }

    /// The Caller (for calling the App directly) behind a session or token.
    #[track_caller]
    pub fn caller(&self, auth: &Auth) -> plaudit_app::Caller {
        match auth {
            Auth::Session { cookie, .. } | Auth::CookieOnly(cookie) => {
                let token = cookie.split_once('=').map(|(_, v)| v).unwrap_or(cookie);
                self.app.caller_from_session(token).expect("caller from session")
            }
            Auth::Bearer(token) => self.app.caller_from_api_token(token).expect("caller from token"),
            Auth::None => panic!("no caller without authentication"),
        }
    }

    /// A bearer token for any active member, made without a password.
    #[track_caller]
    pub fn token_for(&self, org_id: &str, member_id: &str) -> Auth {
        let caller = self.app.caller_for(org_id, member_id).expect("caller");
        Auth::Bearer(self.app.create_api_token(&caller, "test").expect("token").0)
    }
}

/// A request as [`TestApp::request_with`] sends it (for [`TestApp::send_concurrently`]).
pub fn build_request(
    method: Method,
    path: &str,
    auth: &Auth,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    match auth {
        Auth::None => {}
        Auth::Session { cookie, csrf } => {
            req = req.header(header::COOKIE, cookie.as_str()).header("x-csrf-token", csrf.as_str());
        }
        Auth::CookieOnly(cookie) => req = req.header(header::COOKIE, cookie.as_str()),
        Auth::Bearer(token) => req = req.header(header::AUTHORIZATION, format!("Bearer {token}")),
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).expect("request")
}

/// The CSRF token of a signed-in session, for form posts.
pub fn csrf_of(auth: &Auth) -> String {
    match auth {
        Auth::Session { csrf, .. } => csrf.clone(),
        _ => panic!("a session"),
    }
}
