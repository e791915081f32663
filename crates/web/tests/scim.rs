//! SCIM 2.0 provisioning on SQLite and PostgreSQL: tokens, Users and
//! Groups, filters and pages, PUT, PATCH in the RFC's and Entra ID's forms,
//! uniqueness, deactivation, tenant isolation and errors.

mod common;

use axum::http::Method;
use common::*;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Scim {
    t: TestApp,
    o: OrgOwner,
    token: String,
}

impl Scim {
    fn new(db: &TestDb, slug: &str) -> Scim {
        let t = TestApp::new(db);
        let o = t.paid_org(slug);
        let token = new_token(&t, &o);
        Scim { t, o, token }
    }

    fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        send_with(&self.t, &self.token, method, path, body)
    }

    fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body))
    }

    fn patch(&self, path: &str, ops: Value) -> Resp {
        self.send(Method::PATCH, path, Some(&json!({"schemas": [PATCH], "Operations": ops})))
    }

    #[track_caller]
    fn user(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name});
        if let Value::Object(map) = extra {
            for (k, v) in map {
                body[k] = v;
            }
        }
        scim_ok(&self.post("/scim/v2/Users", &body), 201)
    }

    fn member(&self, id: &str) -> Value {
        self.t.get(&self.o.auth, &format!("/api/v1/members/{id}")).ok(200)
    }
}

fn new_token(t: &TestApp, o: &OrgOwner) -> String {
    let body = t.post(&o.auth, "/api/v1/scim_tokens", &json!({"name": "Entra"})).ok(201);
    body["token"].as_str().expect("token").to_string()
}

fn send_with(t: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) -> Resp {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let ct = body.map(|_| "application/scim+json");
    t.request(method, path, &Auth::Bearer(token.to_string()), ct, bytes)
}

#[track_caller]
fn scim_ok(r: &Resp, status: u16) -> Value {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.text());
    if r.body.is_empty() {
        return Value::Null;
    }
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    r.json()
}

#[track_caller]
fn scim_err(r: &Resp, status: u16, scim_type: Option<&str>) -> Value {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let body = r.json();
    assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(body["status"], status.to_string(), "{body}");
    assert!(body["detail"].is_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    body
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn tokens_are_admin_only_hashed_audited_and_revocable(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let (_, member) = s.t.member_session(&s.o.auth, "acme", "mia@acme.example", "member");
    s.t.post(&member, "/api/v1/scim_tokens", &json!({})).problem(403, "not_permitted");
    s.t.get(&member, "/api/v1/scim_tokens").problem(403, "not_permitted");

    // Never used yet; used → last_used_at set; the raw token is never listed.
    let list = s.t.get(&s.o.auth, "/api/v1/scim_tokens").ok(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0]["last_used_at"].is_null() && list["items"][0].get("token").is_none());
    scim_ok(&s.get("/scim/v2/Users"), 200);
    let list = s.t.get(&s.o.auth, "/api/v1/scim_tokens").ok(200);
    assert!(list["items"][0]["last_used_at"].is_string());
    let stored: Vec<String> =
        s.t.app
            .store
            .read(|tx| Ok(tx.scim_token_by_hash(&plaudit_app::auth::token_hash(&s.token))?.map(|t| t.id)))
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(stored.len(), 1, "stored by its SHA-256");
    let audit = s.t.get(&s.o.auth, "/api/v1/audit_log").ok(200);
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "scim_token.created"));

    // No token, a wrong one, another scheme: 401 in SCIM's format.
    scim_err(&s.t.get(&Auth::None, "/scim/v2/Users"), 401, None);
    scim_err(&send_with(&s.t, "plaudit_scim_wrong", Method::GET, "/scim/v2/Users", None), 401, None);
    let r = s.t.request(
        Method::GET,
        "/scim/v2/Users",
        &Auth::Session { cookie: String::new(), csrf: String::new() },
        None,
        vec![],
    );
    scim_err(&r, 401, None);
    // An API token is not a SCIM token.
    let api =
        s.t.post(&s.o.auth, "/api/v1/tokens", &json!({"name": "api"})).ok(201)["token"].as_str().unwrap().to_string();
    scim_err(&send_with(&s.t, &api, Method::GET, "/scim/v2/Users", None), 401, None);

    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    s.t.delete(&s.o.auth, &format!("/api/v1/scim_tokens/{id}")).ok(204);
    s.t.delete(&s.o.auth, &format!("/api/v1/scim_tokens/{id}")).problem(404, "not_found");
    scim_err(&s.get("/scim/v2/Users"), 401, None);
    assert!(s.t.get(&s.o.auth, "/api/v1/scim_tokens").ok(200)["items"].as_array().unwrap().is_empty());
}

fn create_get_list_filter_and_page(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let ana = s.user(
        "Ana.Lima@acme.example",
        json!({"name": {"givenName": "Ana", "familyName": "Lima"}, "displayName": "Ana Lima", "title": "Engineer",
               "externalId": "ext-ana", "active": true,
               ENT: {"department": "R&D", "employeeNumber": "E1"}}),
    );
    let id = ana["id"].as_str().unwrap();
    assert_eq!(ana["meta"]["resourceType"], "User");
    assert!(ana["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    assert!(ana["meta"]["created"].is_string() && ana["meta"]["version"].is_string());
    // The member is there, with the mapped fields.
    let m = s.member(id);
    assert_eq!(
        (&m["email"], &m["first_name"], &m["last_name"], &m["title"], &m["department"], &m["employee_id"]),
        (
            &json!("Ana.Lima@acme.example"),
            &json!("Ana"),
            &json!("Lima"),
            &json!("Engineer"),
            &json!("R&D"),
            &json!("E1")
        )
    );
    assert_eq!(m["status"], "active");
    let got = scim_ok(&s.get(&format!("/scim/v2/Users/{id}")), 200);
    assert_eq!(got, ana);
    // A Group reference ("manager") and plain JSON are fine too.
    let bo = s.user("bo@acme.example", json!({"displayName": "Bo", ENT: {"manager": {"value": id}}}));
    assert_eq!(s.member(bo["id"].as_str().unwrap())["manager_id"], id);
    let r = s.t.request(
        Method::POST,
        "/scim/v2/Users",
        &Auth::Bearer(s.token.clone()),
        Some("application/json"),
        json!({"userName": "cy@acme.example", "active": "False"}).to_string().into_bytes(),
    );
    let cy = scim_ok(&r, 201);
    assert_eq!(cy["active"], false);
    assert_eq!(cy["displayName"], "cy", "the display name defaults from the e-mail");

    // Everyone, the owner (not provisioned by SCIM) included, in creation order.
    let all = scim_ok(&s.get("/scim/v2/Users"), 200);
    assert_eq!(all["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    assert_eq!(
        (all["totalResults"].as_u64(), all["itemsPerPage"].as_u64(), all["startIndex"].as_u64()),
        (Some(4), Some(4), Some(1))
    );
    assert_eq!(ids(&all)[0], s.o.owner_id);
    let f = |filter: &str| {
        let q: String = filter.bytes().map(|b| format!("%{b:02X}")).collect();
        scim_ok(&s.get(&format!("/scim/v2/Users?filter={q}")), 200)
    };
    assert_eq!(ids(&f(r#"userName eq "ana.lima@ACME.example""#)), [id]);
    assert_eq!(ids(&f(r#"USERNAME Eq "BO@acme.example""#)), [bo["id"].as_str().unwrap()]);
    assert_eq!(f(r#"userName sw "ana" or userName ew "cy@acme.example""#)["totalResults"], 2);
    assert_eq!(f(r#"active eq false"#)["totalResults"], 1);
    assert_eq!(f(r#"not (active eq false) and displayName co "a""#)["totalResults"], 1);
    assert_eq!(f(r#"externalId eq "ext-ana""#)["totalResults"], 1);
    assert_eq!(f(r#"emails[type eq "work" and value co "bo@"]"#)["totalResults"], 1);
    assert_eq!(f(&format!(r#"{ENT}:department eq "r&d""#))["totalResults"], 1);
    assert_eq!(f(r#"title pr"#)["totalResults"], 1);
    assert_eq!(f(r#"meta.created gt "2000-01-01T00:00:00Z""#)["totalResults"], 4);
    assert_eq!(f(r#"userName eq "nobody@acme.example""#)["totalResults"], 0);
    // Members made in Plaudit are found by their e-mail.
    assert_eq!(
        ids(&f(&format!(r#"userName eq "{}""#, s.o.owner_email.to_uppercase()))),
        std::slice::from_ref(&s.o.owner_id)
    );
    // Deep nesting and huge chains are refused before they can exhaust the stack.
    let nested = format!("{}userName pr{}", "(".repeat(300), ")".repeat(300));
    let chain = vec!["userName pr"; 200].join(" and ");
    for bad in [r#"userName eq"#, r#"userName xx "a""#, r#"(userName eq "a""#, r#"userName eq "open"#, &nested, &chain]
    {
        let q: String = bad.bytes().map(|b| format!("%{b:02X}")).collect();
        scim_err(&s.get(&format!("/scim/v2/Users?filter={q}")), 400, Some("invalidFilter"));
    }

    // Pages: 1-based startIndex, count, totalResults of everything.
    let p = scim_ok(&s.get("/scim/v2/Users?startIndex=2&count=2"), 200);
    assert_eq!(
        (p["totalResults"].as_u64(), p["itemsPerPage"].as_u64(), p["startIndex"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    assert_eq!(ids(&p), ids(&all)[1..3]);
    let p = scim_ok(&s.get("/scim/v2/Users?startIndex=4&count=10"), 200);
    assert_eq!(ids(&p), ids(&all)[3..]);
    assert_eq!(scim_ok(&s.get("/scim/v2/Users?count=0"), 200)["itemsPerPage"], 0);
    scim_err(&s.get("/scim/v2/Users?count=many"), 400, Some("invalidValue"));

    // POST /.search, attributes and excludedAttributes.
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"ana\"", "attributes": ["userName", "name.givenName"], "count": 5});
    let found = scim_ok(&s.post("/scim/v2/Users/.search", &search), 200);
    assert_eq!(found["totalResults"], 1);
    let r = &found["Resources"][0];
    assert_eq!((&r["id"], &r["userName"], &r["name"]), (&json!(id), &ana["userName"], &json!({"givenName": "Ana"})));
    assert!(r.get("title").is_none() && r.get("emails").is_none());
    let slim = scim_ok(&s.get(&format!("/scim/v2/Users/{id}?excludedAttributes=emails,title")), 200);
    assert!(slim.get("emails").is_none() && slim.get("title").is_none() && slim["userName"].is_string());

    // Unknown ids and paths are SCIM 404s; bad JSON is invalidSyntax.
    scim_err(&s.get("/scim/v2/Users/00000000-0000-7000-8000-000000000000"), 404, None);
    scim_err(&s.get("/scim/v2/Nope"), 404, None);
    let r = s.t.request(
        Method::POST,
        "/scim/v2/Users",
        &Auth::Bearer(s.token.clone()),
        Some("application/scim+json"),
        b"{nope".to_vec(),
    );
    scim_err(&r, 400, Some("invalidSyntax"));
    scim_err(&s.post("/scim/v2/Users", &json!({"displayName": "no user name"})), 400, Some("invalidValue"));
    scim_err(&s.post("/scim/v2/Users", &json!({"userName": "not-an-email"})), 400, Some("invalidValue"));
    scim_err(
        &s.post("/scim/v2/Users", &json!({"userName": "x@acme.example", ENT: {"manager": "nobody"}})),
        400,
        Some("invalidValue"),
    );
    assert_eq!(s.t.stored_members(&s.o.org_id).len(), 4, "refusals created nobody");

    // Discovery.
    let spc = scim_ok(&s.get("/scim/v2/ServiceProviderConfig"), 200);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["supported"], true);
    let schemas = scim_ok(&s.get("/scim/v2/Schemas"), 200);
    assert_eq!(schemas["totalResults"], 3);
    scim_ok(&s.get(&format!("/scim/v2/Schemas/{ENT}")), 200);
    let types = scim_ok(&s.get("/scim/v2/ResourceTypes"), 200);
    assert_eq!(types["Resources"][0]["schemaExtensions"][0]["schema"], ENT);
    scim_ok(&s.get("/scim/v2/ResourceTypes/Group"), 200);
    assert_eq!(s.send(Method::POST, "/scim/v2/ServiceProviderConfig", Some(&json!({}))).status.as_u16(), 405);
}

fn put_replaces_the_user(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let u = s.user(
        "ana@acme.example",
        json!({"title": "Engineer", "name": {"givenName": "Ana"}, ENT: {"department": "R&D"}}),
    );
    let id = u["id"].as_str().unwrap();
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ana.lima@acme.example",
        "displayName": "Ana L.", "name": {"familyName": "Lima"}, "externalId": "42", "active": true});
    let out = scim_ok(&s.send(Method::PUT, &format!("/scim/v2/Users/{id}"), Some(&put)), 200);
    assert_eq!(out["userName"], "ana.lima@acme.example");
    assert_eq!(out["name"], json!({"familyName": "Lima"}));
    assert!(out.get("title").is_none() && out.get(ENT).is_none(), "left out means cleared: {out}");
    let m = s.member(id);
    assert_eq!(
        (&m["email"], &m["title"], &m["department"], &m["first_name"]),
        (&json!("ana.lima@acme.example"), &json!(""), &json!(""), &json!(""))
    );
    scim_err(&s.send(Method::PUT, "/scim/v2/Users/00000000-0000-7000-8000-000000000000", Some(&put)), 404, None);
}

fn patch_in_the_rfc_form(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let boss = s.user("boss@acme.example", json!({}));
    let u = s.user("ana@acme.example", json!({"name": {"givenName": "Ana", "familyName": "Lima"}}));
    let path = format!("/scim/v2/Users/{}", u["id"].as_str().unwrap());
    let out = scim_ok(
        &s.patch(
            &path,
            json!([
                {"op": "replace", "path": "displayName", "value": "Ana L."},
                {"op": "add", "path": "title", "value": "Lead"},
                {"op": "replace", "path": "name.familyName", "value": "Lima-Souza"},
                {"op": "add", "path": format!("{ENT}:manager"), "value": {"value": boss["id"]}},
                {"op": "add", "path": format!("{ENT}:department"), "value": "Sales"},
                {"op": "add", "path": "emails", "value": [{"value": "ana@home.example", "type": "home"}]},
            ]),
        ),
        200,
    );
    assert_eq!(out["displayName"], "Ana L.");
    assert_eq!(out["name"], json!({"givenName": "Ana", "familyName": "Lima-Souza"}));
    assert_eq!(out[ENT]["manager"]["value"], boss["id"]);
    assert_eq!(out["emails"].as_array().unwrap().len(), 2);
    let m = s.member(u["id"].as_str().unwrap());
    assert_eq!(
        (&m["title"], &m["department"], &m["manager_id"], &m["email"]),
        (&json!("Lead"), &json!("Sales"), &boss["id"], &json!("ana@acme.example"))
    );
    let out = scim_ok(
        &s.patch(
            &path,
            json!([
                {"op": "remove", "path": "title"},
                {"op": "remove", "path": "emails[type eq \"home\"]"},
                {"op": "remove", "path": format!("{ENT}:manager")},
            ]),
        ),
        200,
    );
    assert!(out.get("title").is_none() && out[ENT].get("manager").is_none());
    assert_eq!(out["emails"].as_array().unwrap().len(), 1);
    assert!(s.member(u["id"].as_str().unwrap())["manager_id"].is_null());

    // Refusals name the problem and change nothing.
    let before = scim_ok(&s.get(&path), 200);
    scim_err(&s.patch(&path, json!([{"op": "remove"}])), 400, Some("noTarget"));
    scim_err(&s.patch(&path, json!([{"op": "move", "path": "title"}])), 400, Some("invalidSyntax"));
    scim_err(
        &s.patch(&path, json!([{"op": "replace", "path": "emails[type eq", "value": "x"}])),
        400,
        Some("invalidPath"),
    );
    scim_err(
        &s.patch(&path, json!([{"op": "replace", "path": "active", "value": "perhaps"}])),
        400,
        Some("invalidValue"),
    );
    scim_err(
        &s.patch(&path, json!([{"op": "replace", "path": format!("{ENT}:manager"), "value": u["id"]}])),
        400,
        Some("invalidValue"),
    );
    assert_eq!(scim_ok(&s.get(&path), 200), before);
}

fn patch_in_entra_forms(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let boss = s.user("boss@acme.example", json!({}));
    let boss2 = s.user("boss2@acme.example", json!({}));
    let u = s.user(
        "ana@acme.example",
        json!({"emails": [{"value": "ana@acme.example", "type": "work", "primary": true}], "name": {"givenName": "Ana", "familyName": "Lima"}}),
    );
    let id = u["id"].as_str().unwrap();
    let path = format!("/scim/v2/Users/{id}");

    // Path-less Replace with dotted and URN keys; booleans as strings.
    let out = scim_ok(
        &s.patch(
            &path,
            json!([{"op": "Replace", "value": {
                "name.givenName": "Anna", "displayName": "Anna Lima", "title": "Staff engineer",
                format!("{ENT}:department"): "Platform", format!("{ENT}:employeeNumber"): "E-9",
                "active": "True",
            }}]),
        ),
        200,
    );
    assert_eq!(out["name"], json!({"givenName": "Anna", "familyName": "Lima"}));
    let m = s.member(id);
    assert_eq!(
        (&m["first_name"], &m["title"], &m["department"], &m["employee_id"]),
        (&json!("Anna"), &json!("Staff engineer"), &json!("Platform"), &json!("E-9"))
    );

    // emails[type eq "work"].value, capitalised Add; the work address follows userName only when that is no address.
    let out = scim_ok(
        &s.patch(&path, json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "anna@acme.example"}])),
        200,
    );
    assert_eq!(out["emails"], json!([{"value": "anna@acme.example", "type": "work", "primary": true}]));
    // userName change (Entra's userPrincipalName) moves the member's e-mail.
    scim_ok(&s.patch(&path, json!([{"op": "Replace", "path": "userName", "value": "anna.lima@acme.example"}])), 200);
    assert_eq!(s.member(id)["email"], "anna.lima@acme.example");

    // Manager as a plain string, then as {value}, then removed.
    scim_ok(&s.patch(&path, json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": boss["id"]}])), 200);
    assert_eq!(s.member(id)["manager_id"], boss["id"]);
    scim_ok(
        &s.patch(&path, json!([{"op": "Replace", "path": format!("{ENT}:manager"), "value": {"value": boss2["id"]}}])),
        200,
    );
    assert_eq!(s.member(id)["manager_id"], boss2["id"]);
    scim_ok(&s.patch(&path, json!([{"op": "Remove", "path": format!("{ENT}:manager")}])), 200);
    assert!(s.member(id)["manager_id"].is_null());

    // A whole extension object in a path-less Add.
    let out = scim_ok(&s.patch(&path, json!([{"op": "Add", "value": {ENT: {"department": "Sales"}}}])), 200);
    assert_eq!(out[ENT]["department"], "Sales");
    assert_eq!(out[ENT]["employeeNumber"], "E-9", "other extension attributes stay");

    // Deactivation as Entra sends it.
    let out = scim_ok(&s.patch(&path, json!([{"op": "Replace", "path": "active", "value": "False"}])), 200);
    assert_eq!(out["active"], false);
    assert_eq!(s.member(id)["status"], "inactive");
}

fn user_names_are_unique_in_any_letter_case(db: &TestDb) {
    let s = Scim::new(db, "acme");
    s.user("Ana@Acme.example", json!({}));
    let e = scim_err(&s.post("/scim/v2/Users", &json!({"userName": "ana@ACME.EXAMPLE"})), 409, Some("uniqueness"));
    assert!(e["detail"].as_str().unwrap().contains("ana@ACME.EXAMPLE"));
    // Members made in Plaudit count too (the owner), and so do non-address userNames.
    scim_err(&s.post("/scim/v2/Users", &json!({"userName": s.o.owner_email.to_uppercase()})), 409, Some("uniqueness"));
    s.user("LOGIN-7", json!({"emails": [{"value": "seven@acme.example", "primary": true}]}));
    let find = |user_name: &str| {
        let q = format!("/scim/v2/Users?filter=userName%20eq%20%22{}%22", user_name.replace('@', "%40"));
        scim_ok(&s.get(&q), 200)["totalResults"].as_u64().unwrap()
    };
    assert_eq!((find("login-7"), find("seven@acme.example")), (1, 0), "a userName that is no e-mail is its own");
    let dup = json!({"userName": "login-7", "emails": [{"value": "other@acme.example"}]});
    scim_err(&s.post("/scim/v2/Users", &dup), 409, Some("uniqueness"));
    // Renaming onto a taken userName is refused as well.
    let bo = s.user("bo@acme.example", json!({}));
    let path = format!("/scim/v2/Users/{}", bo["id"].as_str().unwrap());
    scim_err(
        &s.patch(&path, json!([{"op": "replace", "path": "userName", "value": "ANA@acme.example"}])),
        409,
        Some("uniqueness"),
    );
    scim_err(
        &s.patch(&path, json!([{"op": "replace", "path": "userName", "value": "Login-7"}])),
        409,
        Some("uniqueness"),
    );
    assert_eq!(scim_ok(&s.get(&path), 200)["userName"], "bo@acme.example");
    assert_eq!(s.t.stored_members(&s.o.org_id).len(), 4);

    // Two creates at once that differ only in case: one member.
    let reqs = ["Dup@acme.example", "dup@ACME.example", "DUP@acme.example"]
        .iter()
        .map(|u| {
            let mut r = build_request(
                Method::POST,
                "/scim/v2/Users",
                &Auth::Bearer(s.token.clone()),
                &[],
                Some(&json!({"userName": u})),
            );
            r.headers_mut().insert("content-type", "application/scim+json".parse().unwrap());
            r
        })
        .collect();
    let answers = s.t.send_concurrently(reqs);
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409], "{:?}", answers.iter().map(Resp::text).collect::<Vec<_>>());
    for r in answers.iter().filter(|r| r.status.as_u16() == 409) {
        scim_err(r, 409, Some("uniqueness"));
    }
    assert_eq!(s.t.stored_members(&s.o.org_id).len(), 5);
}

fn deactivation_keeps_balance_and_history_and_ends_sessions(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let ana = s.user("ana@acme.example", json!({"displayName": "Ana"}));
    let id = ana["id"].as_str().unwrap().to_string();
    s.t.app.set_password("acme", "ana@acme.example", PASSWORD).unwrap();
    let session = s.t.sign_in("acme", "ana@acme.example", PASSWORD);
    let (bob_id, bob) = s.t.member_session(&s.o.auth, "acme", "bob@acme.example", "member");
    s.t.post(&bob, "/api/v1/recognitions", &json!({"recipients": [id], "points": 7, "message": "thanks"})).ok(201);
    s.t.post(&session, "/api/v1/recognitions", &json!({"recipients": [bob_id], "points": 3, "message": "back"}))
        .ok(201);
    let balance = s.t.get(&s.o.auth, &format!("/api/v1/members/{id}/balance")).ok(200);
    assert_eq!(balance["earned"]["balance"], 7);

    let path = format!("/scim/v2/Users/{id}");
    scim_ok(&s.patch(&path, json!([{"op": "replace", "path": "active", "value": false}])), 200);
    // Sessions ended, no sign-in, no giving, no receiving.
    s.t.get(&session, "/api/v1/me").problem(401, "unauthenticated");
    s.t.sign_in_raw("acme", "ana@acme.example", PASSWORD).problem(403, "member_inactive");
    s.t.post(&bob, "/api/v1/recognitions", &json!({"recipients": [id], "points": 1, "message": "x"}))
        .problem(422, "recipient_inactive");
    assert_eq!(scim_ok(&s.get(&path), 200)["active"], false);

    // Reactivated: balance and history as they were.
    scim_ok(&s.patch(&path, json!([{"op": "Replace", "value": {"active": "True"}}])), 200);
    assert_eq!(s.t.get(&s.o.auth, &format!("/api/v1/members/{id}/balance")).ok(200), balance);
    let session = s.t.sign_in("acme", "ana@acme.example", PASSWORD);
    let feed = s.t.get(&session, &format!("/api/v1/recognitions?member={id}")).ok(200);
    assert_eq!(feed["items"].as_array().unwrap().len(), 2);

    // DELETE deactivates and hides the User; creating it again brings the same member back.
    scim_ok(&s.send(Method::DELETE, &path, None), 204);
    scim_err(&s.get(&path), 404, None);
    scim_err(&s.send(Method::DELETE, &path, None), 404, None);
    assert!(!ids(&scim_ok(&s.get("/scim/v2/Users"), 200)).contains(&id));
    let q = "/scim/v2/Users?filter=userName%20eq%20%22ana%40acme.example%22";
    assert_eq!(scim_ok(&s.get(q), 200)["totalResults"], 0);
    assert_eq!(s.member(&id)["status"], "inactive");
    s.t.get(&session, "/api/v1/me").problem(401, "unauthenticated");
    let back = s.user("ANA@acme.example", json!({"displayName": "Ana again"}));
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["active"], true);
    assert_eq!(s.t.get(&s.o.auth, &format!("/api/v1/members/{id}/balance")).ok(200)["earned"], balance["earned"]);
}

fn free_plan_limit_holds(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("tiny");
    let token = new_token(&t, &o);
    for i in 1..50 {
        t.add_member(&o.auth, &format!("m{i}@tiny.example"), json!({}));
    }
    let r =
        send_with(&t, &token, Method::POST, "/scim/v2/Users", Some(&json!({"userName": "one-too-many@tiny.example"})));
    let e = scim_err(&r, 403, None);
    assert!(e["detail"].as_str().unwrap().contains("50"), "{e}");
    // Inactive users may still be provisioned.
    let r = send_with(
        &t,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(&json!({"userName": "later@tiny.example", "active": false})),
    );
    let later = scim_ok(&r, 201);
    let path = format!("/scim/v2/Users/{}", later["id"].as_str().unwrap());
    let r = send_with(
        &t,
        &token,
        Method::PATCH,
        &path,
        Some(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": true}]})),
    );
    scim_err(&r, 403, None);
    assert_eq!(t.stored_members(&o.org_id).iter().filter(|m| m.is_active()).count(), 50);
}

fn one_organisations_token_never_sees_another(db: &TestDb) {
    let a = Scim::new(db, "acme");
    let ana = a.user("ana@acme.example", json!({}));
    let group =
        scim_ok(&a.post("/scim/v2/Groups", &json!({"displayName": "Team A", "members": [{"value": ana["id"]}]})), 201);
    let b_org = a.t.paid_org("globex");
    let b_token = new_token(&a.t, &b_org);
    let b = |m: Method, p: &str, body: Option<&Value>| send_with(&a.t, &b_token, m, p, body);
    let list = scim_ok(&b(Method::GET, "/scim/v2/Users", None), 200);
    assert_eq!(ids(&list), std::slice::from_ref(&b_org.owner_id));
    let q = "/scim/v2/Users?filter=userName%20eq%20%22ana%40acme.example%22";
    assert_eq!(scim_ok(&b(Method::GET, q, None), 200)["totalResults"], 0);
    let path = format!("/scim/v2/Users/{}", ana["id"].as_str().unwrap());
    scim_err(&b(Method::GET, &path, None), 404, None);
    scim_err(&b(Method::PUT, &path, Some(&json!({"userName": "x@globex.example"}))), 404, None);
    let ops = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    scim_err(&b(Method::PATCH, &path, Some(&ops)), 404, None);
    scim_err(&b(Method::DELETE, &path, None), 404, None);
    let gpath = format!("/scim/v2/Groups/{}", group["id"].as_str().unwrap());
    scim_err(&b(Method::GET, &gpath, None), 404, None);
    scim_err(&b(Method::DELETE, &gpath, None), 404, None);
    assert_eq!(scim_ok(&b(Method::GET, "/scim/v2/Groups", None), 200)["totalResults"], 0);
    // Another organisation's member cannot join a group here.
    let g = json!({"displayName": "Team B", "members": [{"value": ana["id"]}]});
    scim_err(&b(Method::POST, "/scim/v2/Groups", Some(&g)), 400, Some("invalidValue"));
    // The same userName may exist in both.
    scim_ok(&b(Method::POST, "/scim/v2/Users", Some(&json!({"userName": "ana@acme.example"}))), 201);
    assert_eq!(a.member(ana["id"].as_str().unwrap())["status"], "active");
    assert_eq!(scim_ok(&a.get(&gpath), 200)["members"].as_array().unwrap().len(), 1);
}

fn groups_and_their_members(db: &TestDb) {
    let s = Scim::new(db, "acme");
    let ana = s.user("ana@acme.example", json!({ENT: {"department": "R&D"}}));
    let bo = s.user("bo@acme.example", json!({}));
    let cy = s.user("cy@acme.example", json!({}));
    let (a, b, c) = (ana["id"].as_str().unwrap(), bo["id"].as_str().unwrap(), cy["id"].as_str().unwrap());
    let g = scim_ok(
        &s.post(
            "/scim/v2/Groups",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Platform", "externalId": "grp-1", "members": [{"value": a}]}),
        ),
        201,
    );
    let gid = g["id"].as_str().unwrap();
    let path = format!("/scim/v2/Groups/{gid}");
    assert_eq!(g["meta"]["resourceType"], "Group");
    scim_err(&s.post("/scim/v2/Groups", &json!({"displayName": "PLATFORM"})), 409, Some("uniqueness"));

    // Add (RFC), remove by value list (Entra), remove by filter path (RFC).
    let members = |v: &Value| -> Vec<String> {
        v["members"].as_array().map_or(vec![], |m| m.iter().map(|x| x["value"].as_str().unwrap().to_string()).collect())
    };
    let out =
        scim_ok(&s.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": b}, {"value": c}]}])), 200);
    assert_eq!(members(&out), [a, b, c]);
    let out = scim_ok(&s.patch(&path, json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}])), 200);
    assert_eq!(members(&out), [b, c]);
    let out = scim_ok(&s.patch(&path, json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}])), 200);
    assert_eq!(members(&out), [c]);
    let out =
        scim_ok(&s.patch(&path, json!([{"op": "Replace", "path": "displayName", "value": "Platform team"}])), 200);
    assert_eq!(out["displayName"], "Platform team");
    scim_err(
        &s.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}])),
        400,
        Some("invalidValue"),
    );

    // Groups show on the User and through the API, and never touch the department.
    let user = scim_ok(&s.get(&format!("/scim/v2/Users/{c}")), 200);
    assert_eq!(user["groups"][0]["value"], gid);
    assert_eq!(user["groups"][0]["display"], "Platform team");
    let api = s.t.get(&s.o.auth, &format!("/api/v1/members/{c}/groups")).ok(200);
    assert_eq!(api["items"][0]["name"], "Platform team");
    assert_eq!(s.member(a)["department"], "R&D");
    assert_eq!(s.member(c)["department"], "");

    // A group named like a department is still only a group.
    let rd = json!({"displayName": "R&D", "members": [{"value": c}]});
    let rd = scim_ok(&s.post("/scim/v2/Groups", &rd), 201);
    assert_eq!(s.member(c)["department"], "");
    scim_ok(&s.send(Method::DELETE, &format!("/scim/v2/Groups/{}", rd["id"].as_str().unwrap()), None), 204);

    // PUT replaces the members; filters and lists work on groups too.
    let out = scim_ok(
        &s.send(
            Method::PUT,
            &path,
            Some(&json!({"displayName": "Platform team", "members": [{"value": a}, {"value": b}]})),
        ),
        200,
    );
    assert_eq!(members(&out), [a, b]);
    assert!(out.get("externalId").is_none());
    let q = "/scim/v2/Groups?filter=displayName%20eq%20%22platform%20TEAM%22";
    assert_eq!(scim_ok(&s.get(q), 200)["totalResults"], 1);
    let q = format!("/scim/v2/Groups?filter=members%5Bvalue%20eq%20%22{a}%22%5D");
    assert_eq!(scim_ok(&s.get(&q), 200)["totalResults"], 1);
    // A deleted User leaves the group's visible members but stays in the team.
    scim_ok(&s.send(Method::DELETE, &format!("/scim/v2/Users/{b}"), None), 204);
    assert_eq!(members(&scim_ok(&s.get(&path), 200)), [a]);
    assert_eq!(
        s.t.get(&s.o.auth, &format!("/api/v1/members/{b}/groups")).ok(200)["items"].as_array().unwrap().len(),
        1
    );

    scim_ok(&s.send(Method::DELETE, &path, None), 204);
    scim_err(&s.get(&path), 404, None);
    assert!(s.t.get(&s.o.auth, &format!("/api/v1/members/{a}/groups")).ok(200)["items"].as_array().unwrap().is_empty());
}

fn form(t: &TestApp, auth: &Auth, path: &str, pairs: &[(&str, &str)]) -> Resp {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.bytes().map(|b| format!("%{b:02X}")).collect::<String>()))
        .collect();
    t.request(Method::POST, path, auth, Some("application/x-www-form-urlencoded"), body.join("&").into_bytes())
}

/// The text between `data-testid="scim-token">` and the next `<`.
fn shown_token(html: &str) -> Option<String> {
    let start = html.find("data-testid=\"scim-token\">")? + "data-testid=\"scim-token\">".len();
    Some(html[start..].split('<').next()?.to_string())
}

fn admin_page_connects_creates_lists_and_revokes(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("acme");
    let page = t.get(&o.auth, "/admin/integrations/scim");
    assert_eq!(page.status.as_u16(), 200);
    let html = page.text();
    assert!(html.contains("/scim/v2</code>"), "the base URL is shown");
    assert!(html.contains("href=\"/admin/integrations\""), "linked from the admin navigation");
    assert!(html.contains("data-testid=\"no-scim-tokens\""));
    assert!(t.get(&o.auth, "/admin/integrations").text().contains("href=\"/admin/integrations/scim\""));

    // Members get a 403 page and no link.
    let (_, member) = t.member_session(&o.auth, "acme", "mia@acme.example", "member");
    assert_eq!(t.get(&member, "/admin/integrations/scim").status.as_u16(), 403);
    assert!(!t.get(&member, "/feed").text().contains("/admin/integrations/scim"));

    // Without the CSRF field nothing is made; a too-long name is shown beside the field.
    let path = "/admin/integrations/scim/tokens";
    assert_eq!(form(&t, &o.auth, path, &[("name", "Entra")]).status.as_u16(), 403);
    let csrf = csrf_of(&o.auth);
    let long = "x".repeat(101);
    let bad = form(&t, &o.auth, path, &[("csrf", &csrf), ("name", &long)]);
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("id=\"name-error\""), "{}", bad.text());
    assert!(t.get(&o.auth, "/api/v1/scim_tokens").ok(200)["items"].as_array().unwrap().is_empty());

    // Created: shown once, works, listed with its last use.
    let made = form(&t, &o.auth, path, &[("csrf", &csrf), ("name", "Entra ID")]);
    assert_eq!(made.status.as_u16(), 200);
    let token = shown_token(&made.text()).expect("the new token is shown");
    assert!(token.starts_with("plaudit_scim_"));
    let again = t.get(&o.auth, "/admin/integrations/scim").text();
    assert!(shown_token(&again).is_none() && !again.contains(&token), "shown only once");
    assert!(again.contains("Entra ID") && again.contains(">never<"));
    scim_ok(&send_with(&t, &token, Method::GET, "/scim/v2/Users", None), 200);
    let html = t.get(&o.auth, "/admin/integrations/scim").text();
    assert!(!html.contains(">never<") && html.contains("data-testid=\"scim-last-error\">none<"), "{html}");
    // A refused request is shown as the last error, here and in the API.
    let dup = json!({"userName": o.owner_email});
    scim_err(&send_with(&t, &token, Method::POST, "/scim/v2/Users", Some(&dup)), 409, Some("uniqueness"));
    let html = t.get(&o.auth, "/admin/integrations/scim").text();
    assert!(html.contains("POST /Users: 409 uniqueness"), "{html}");
    let listed = t.get(&o.auth, "/api/v1/scim_tokens").ok(200);
    assert!(listed["items"][0]["last_error"]["message"].as_str().unwrap().starts_with("POST /Users: 409 uniqueness"));
    scim_ok(
        &send_with(&t, &token, Method::POST, "/scim/v2/Users", Some(&json!({"userName": "new@acme.example"}))),
        201,
    );
    assert!(t.get(&o.auth, "/admin/integrations/scim").text().contains("Users provisioned</dt><dd>1"));

    let id = t.get(&o.auth, "/api/v1/scim_tokens").ok(200)["items"][0]["id"].as_str().unwrap().to_string();
    let revoke = format!("/admin/integrations/scim/tokens/{id}/revoke");
    assert_eq!(form(&t, &member, &revoke, &[("csrf", &csrf_of(&member))]).status.as_u16(), 403);
    assert_eq!(form(&t, &o.auth, &revoke, &[]).status.as_u16(), 403);
    scim_ok(&send_with(&t, &token, Method::GET, "/scim/v2/Users", None), 200);
    let done = form(&t, &o.auth, &revoke, &[("csrf", &csrf)]);
    assert_eq!(done.status.as_u16(), 303);
    scim_err(&send_with(&t, &token, Method::GET, "/scim/v2/Users", None), 401, None);
    assert!(t.get(&o.auth, "/admin/integrations/scim?revoked=1").text().contains("Token revoked"));
}

backend_tests! {
    admin_page_connects_creates_lists_and_revokes,
    tokens_are_admin_only_hashed_audited_and_revocable,
    create_get_list_filter_and_page,
    put_replaces_the_user,
    patch_in_the_rfc_form,
    patch_in_entra_forms,
    user_names_are_unique_in_any_letter_case,
    deactivation_keeps_balance_and_history_and_ends_sessions,
    free_plan_limit_holds,
    one_organisations_token_never_sees_another,
    groups_and_their_members,
}
