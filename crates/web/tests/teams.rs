//! Microsoft Teams over HTTP: the settings API, the signed outgoing
//! webhook end to end (account links, mentions by entity id, replies,
//! retries) and channel posts to a fake Workflows URL on 127.0.0.1.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request};
use common::fake_server::{Answer, FakeServer};
use common::points::stored_earned;
use common::{csrf_of, Auth, OrgOwner, Resp, TestApp};
use plaudit_app::teams::sign;
use plaudit_app::Config;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

const TOKEN: &str = "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";

struct Teams {
    t: TestApp,
    fake: FakeServer,
    owner: OrgOwner,
    ana: String,
    ana_auth: Auth,
}

/// The fake Workflows URL is plain http on 127.0.0.1, which only an
/// operator who allows private destinations can use.
fn allowing_private(db: &TestDb) -> TestApp {
    TestApp::with_config(db, Config { webhooks_allow_private: true, ..Config::default() })
}

fn setup(db: &TestDb) -> Teams {
    let fake = FakeServer::start(|_| Answer::status(202));
    let t = allowing_private(db);
    let owner = t.signup("acme");
    let (ana, ana_auth) = t.member_session(&owner.auth, "acme", "ana@acme.example", "member");
    t.put(
        &owner.auth,
        "/api/v1/integrations/teams",
        &json!({"security_token": TOKEN, "workflows_url": format!("{}/workflows/abc?sig=secret", fake.url)}),
    )
    .ok(200);
    Teams { t, fake, owner, ana, ana_auth }
}

fn webhook_raw(t: &TestApp, org: &str, body: &[u8], auth: Option<String>) -> Resp {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(format!("/integrations/teams/{org}/webhook"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    t.send(req.body(Body::from(body.to_vec())).unwrap())
}

/// An activity from `from` with `<at>` mentions of (teams id, name).
fn activity(id: &str, from: &str, text: &str, mentions: &[(&str, &str)]) -> Value {
    let mut entities =
        vec![json!({"type": "mention", "text": "<at>Plaudit</at>", "mentioned": {"id": "28:bot", "name": "Plaudit"}})];
    for (mid, name) in mentions {
        entities.push(
            json!({"type": "mention", "text": format!("<at>{name}</at>"), "mentioned": {"id": mid, "name": name}}),
        );
    }
    json!({"type": "message", "id": id, "text": format!("<at>Plaudit</at> {text}"),
        "from": {"id": from, "name": "Someone", "aadObjectId": "aad"}, "recipient": {"id": "28:bot"},
        "conversation": {"id": "19:c"}, "entities": entities})
}

impl Teams {
    fn say(&self, body: &Value) -> String {
        let bytes = body.to_string().into_bytes();
        let resp = webhook_raw(&self.t, "acme", &bytes, Some(sign(TOKEN, &bytes)));
        let v = resp.ok(200);
        assert_eq!(v["type"], "message");
        v["text"].as_str().unwrap().to_string()
    }

    /// The Teams user `teams_id`, named `name` in Teams, asks to link: the link's path and code.
    fn link_code(&self, teams_id: &str, name: &str) -> (String, String) {
        let mut ask = activity(&format!("link-{teams_id}"), teams_id, "link", &[]);
        ask["from"]["name"] = json!(name);
        let reply = self.say(&ask);
        let url = reply.split_whitespace().find(|w| w.contains("/integrations/teams/link?code=")).expect(&reply);
        let path = url[url.find("/integrations").unwrap()..].to_string();
        let code = path.split("code=").nth(1).unwrap().to_string();
        (path, code)
    }

    fn confirm(&self, code: &str, auth: &Auth) -> Resp {
        self.t.request(
            Method::POST,
            "/integrations/teams/link",
            auth,
            Some("application/x-www-form-urlencoded"),
            format!("csrf={}&code={code}", csrf_of(auth)).into_bytes(),
        )
    }

    /// A Teams user named `name` links their account to the signed-in member `auth`.
    fn link(&self, teams_id: &str, name: &str, auth: &Auth) {
        let (path, code) = self.link_code(teams_id, name);
        let page = self.t.get(auth, &path);
        assert_eq!(page.status.as_u16(), 200, "{}", page.text());
        assert!(page.text().contains("Link my Teams account"));
        let done = self.confirm(&code, auth);
        assert!(done.text().contains("Teams account linked"), "{}", done.text());
        // A link is used once.
        assert_eq!(self.confirm(&code, auth).status.as_u16(), 422);
    }
}

fn the_settings_api_is_for_admins_and_checks_its_input(db: &TestDb) {
    let s = setup(db);
    let status = s.t.get(&s.owner.auth, "/api/v1/integrations/teams").ok(200);
    assert_eq!(status["configured"], true);
    assert_eq!(status["webhook_url"], "http://127.0.0.1:8080/integrations/teams/acme/webhook");
    assert!(!status.to_string().contains("sig=secret"), "the URL's signature is not shown");
    assert!(!status.to_string().contains(TOKEN));
    s.t.put(&s.ana_auth, "/api/v1/integrations/teams", &json!({"security_token": TOKEN})).problem(403, "not_permitted");
    let e =
        s.t.put(&s.owner.auth, "/api/v1/integrations/teams", &json!({"security_token": "not base64!"}))
            .problem(422, "validation_failed");
    assert_eq!(e["field"], "security_token");
    // Base64, but not the 32 bytes of a Teams token.
    for short in ["c2hvcnQ=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let e =
            s.t.put(&s.owner.auth, "/api/v1/integrations/teams", &json!({"security_token": short}))
                .problem(422, "validation_failed");
        assert_eq!(e["field"], "security_token", "{short}");
    }
    let e = s
        .t
        .put(&s.owner.auth, "/api/v1/integrations/teams", &json!({"security_token": TOKEN, "workflows_url": "ftp://x"}))
        .problem(422, "validation_failed");
    assert_eq!(e["field"], "workflows_url");
    // The stored token still verifies: the refused changes changed nothing.
    let hello = br#"{"type":"message","text":"hello"}"#;
    assert_eq!(
        webhook_raw(&s.t, "acme", hello, Some("HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=".into()))
            .status
            .as_u16(),
        200
    );
}

fn the_webhook_is_verified_before_it_is_read(db: &TestDb) {
    let s = setup(db);
    let hello = br#"{"type":"message","text":"hello"}"#;
    // Teams' published vector, end to end.
    let reply =
        webhook_raw(&s.t, "acme", hello, Some("HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=".into())).ok(200);
    assert!(reply["text"].as_str().unwrap().contains("or try `help`"), "{reply}");
    webhook_raw(
        &s.t,
        "acme",
        br#"{"type":"message","text":"hellO"}"#,
        Some("HMAC u4mqRgrbVIFC3vtz7CZ6l6p1FlBrMrWdHGNjdU5ux2o=".into()),
    )
    .problem(401, "signature_invalid");
    // One answer for a bad signature, none, an unknown organisation and one without Teams.
    let bad = webhook_raw(&s.t, "acme", hello, Some(sign("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", hello)));
    bad.problem(401, "signature_invalid");
    let t2 = TestApp::new(db);
    t2.signup("beta");
    for other in [
        webhook_raw(&s.t, "acme", hello, None),
        webhook_raw(&s.t, "acme", hello, Some("Bearer x".into())),
        webhook_raw(&s.t, "nosuch", hello, Some(sign(TOKEN, hello))),
        webhook_raw(&s.t, "beta", hello, Some(sign(TOKEN, hello))),
    ] {
        assert_eq!(other.status.as_u16(), 401);
        assert_eq!(other.text(), bad.text());
    }
    // Signed, but not an activity: 400.
    let not_utf8 = [0xffu8, 0xfe, 0x00];
    webhook_raw(&s.t, "acme", &not_utf8, Some(sign(TOKEN, &not_utf8))).problem(400, "bad_request");
    webhook_raw(&s.t, "acme", b"[1,2]", Some(sign(TOKEN, b"[1,2]"))).problem(400, "bad_request");
}

fn mentions_resolve_by_entity_id_and_retries_give_once(db: &TestDb) {
    let s = setup(db);
    // Not linked yet.
    assert!(s.say(&activity("h0", "29:owner", "help", &[])).contains("@Plaudit link"), "help before linking");
    let reply = s.say(&activity("a0", "29:owner", "<at>Ana Lima</at> +5 for the fix", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("not linked to Plaudit yet"), "{reply}");
    s.link("29:owner", "Olive Owner", &s.owner.auth);
    let reply = s.say(&activity("a1", "29:owner", "<at>Ana Lima</at> +5 for the fix", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("Ana Lima has not linked"), "{reply}");
    // Names compare without letter case or accents.
    s.link("29:ana", "ÀNA", &s.ana_auth);

    let reply =
        s.say(&activity("a2", "29:owner", "<at>Ana Lima</at> +5 for the fix 🎉 #nosuch", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("no company value #nosuch"), "{reply}");
    let reply = s.say(&activity("a3", "29:owner", "<at>Ana Lima</at> +5 for the fix 🎉", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("You recognised ana with 5 points each"), "{reply}");
    assert!(reply.contains("[See it in Plaudit](http://127.0.0.1:8080/feed)"), "{reply}");
    assert_eq!(stored_earned(&s.t, &s.owner.org_id, &s.ana), 5);
    // Teams retries the same activity: no second award.
    let reply = s.say(&activity("a3", "29:owner", "<at>Ana Lima</at> +5 for the fix 🎉", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("already posted"), "{reply}");
    assert_eq!(stored_earned(&s.t, &s.owner.org_id, &s.ana), 5);
    // Display text that matches nobody's entity is not a mention.
    let mut forged = activity("a4", "29:owner", "<at>Ana Lima</at> +5 thanks", &[]);
    forged["entities"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "mention", "text": "<at>Someone else</at>", "mentioned": {"id": "29:ana"}}));
    assert!(s.say(&forged).contains("Mention them before the points"));
    assert_eq!(stored_earned(&s.t, &s.owner.org_id, &s.ana), 5);
    // balance and help
    assert!(s.say(&activity("a5", "29:owner", "balance", &[])).contains("95"));
    assert!(s.say(&activity("a6", "29:owner", "help", &[])).contains("@Plaudit @ana"));

    // The channel post: one Adaptive Card for the one recognition.
    let posts = s.fake.wait_for("/workflows/abc", 1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(s.fake.calls_to("/workflows/abc").len(), 1);
    assert_eq!(posts[0].path, "/workflows/abc?sig=secret");
    let card = posts[0].json();
    assert_eq!(card["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    let content = &card["attachments"][0]["content"];
    assert_eq!(content["type"], "AdaptiveCard");
    assert_eq!(content["body"][0]["text"], "🏆 Olive Owner recognised ana with 5 points");
    assert_eq!(content["body"][1]["text"], "the fix 🎉");
    assert_eq!(content["actions"][0]["url"], "http://127.0.0.1:8080/feed");
}

fn the_admin_page_configures_tests_and_disconnects(db: &TestDb) {
    let s = setup(db);
    let page = s.t.get(&s.owner.auth, "/admin/integrations/teams").text();
    assert!(page.contains("http://127.0.0.1:8080/integrations/teams/acme/webhook"));
    assert!(!page.contains(TOKEN) && !page.contains("sig=secret"));
    let csrf = csrf_of(&s.owner.auth);
    let form = |path: &str, body: String| {
        s.t.request(Method::POST, path, &s.owner.auth, Some("application/x-www-form-urlencoded"), body.into_bytes())
    };
    for token in ["short", "c2hvcnQ%3D"] {
        let bad = form("/admin/integrations/teams", format!("csrf={csrf}&security_token={token}&workflows_url="));
        assert_eq!(bad.status.as_u16(), 422);
        assert!(bad.text().contains("id=\"security_token-error\""), "{}", bad.text());
        assert!(bad.text().contains("not a Teams security token"), "{}", bad.text());
    }
    // Nothing was saved: the Workflows URL is still set.
    assert_eq!(s.t.get(&s.owner.auth, "/api/v1/integrations/teams").ok(200)["configured"], true);
    // Test message: the Workflows URL refuses (its body is not shown), then accepts.
    let mut refusal = Answer::status(400);
    refusal.body = "internal-detail-42".into();
    s.fake.push("/workflows/abc", refusal);
    let failed = form("/admin/integrations/teams/test", format!("csrf={csrf}"));
    assert_eq!(failed.status.as_u16(), 502);
    let page = s.t.get(&s.owner.auth, "/admin/integrations/teams").text();
    assert!(page.contains("the Workflows URL answered HTTP 400"), "{page}");
    assert!(!page.contains("internal-detail-42") && !failed.text().contains("internal-detail-42"));
    assert!(!s.t.get(&s.owner.auth, "/api/v1/integrations/teams").text().contains("internal-detail-42"));
    let ok = form("/admin/integrations/teams/test", format!("csrf={csrf}"));
    assert_eq!(ok.header("location"), Some("/admin/integrations/teams?notice=test_sent"));
    let card = s.fake.calls_to("/workflows/abc").last().unwrap().json();
    assert!(card["attachments"][0]["content"]["body"][0]["text"].as_str().unwrap().contains("Plaudit is connected"));
    let gone = form("/admin/integrations/teams/disconnect", format!("csrf={csrf}"));
    assert_eq!(gone.status.as_u16(), 303);
    assert_eq!(s.t.get(&s.owner.auth, "/api/v1/integrations/teams").ok(200)["configured"], false);
    let hello = br#"{"type":"message","text":"hello"}"#;
    webhook_raw(&s.t, "acme", hello, Some(sign(TOKEN, hello))).problem(401, "signature_invalid");
}

fn workflows_urls_follow_the_webhook_rules(db: &TestDb) {
    let fake = FakeServer::start(|_| Answer::status(202));
    let t = TestApp::new(db);
    let owner = t.signup("acme");
    let put = |url: &str| {
        t.put(&owner.auth, "/api/v1/integrations/teams", &json!({"security_token": TOKEN, "workflows_url": url}))
    };
    // Private, loopback and link-local destinations (the cloud metadata service) are refused.
    for url in [
        format!("{}/workflows/abc", fake.url),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "https://127.0.0.1/x".to_string(),
        "https://[::1]/x".to_string(),
        "https://10.0.0.5/x".to_string(),
        "https://localhost/x".to_string(),
    ] {
        let e = put(&url).problem(422, "url_not_allowed");
        assert_eq!(e["field"], "workflows_url", "{url}: {e}");
    }
    // Plain http and other schemes, even to a public name.
    for url in ["http://prod-00.westeurope.logic.azure.com/workflows/x", "ftp://x", "https://a@b.example/"] {
        let e = put(url).problem(422, "validation_failed");
        assert_eq!(e["field"], "workflows_url", "{url}: {e}");
    }
    assert_eq!(t.get(&owner.auth, "/api/v1/integrations/teams").ok(200)["configured"], false, "nothing saved");
    put("https://prod-00.westeurope.logic.azure.com/workflows/x?sig=s").ok(200);

    // The admin page says so beside the field, and saves nothing.
    let csrf = csrf_of(&owner.auth);
    let bad = t.request(
        Method::POST,
        "/admin/integrations/teams",
        &owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!(
            "csrf={csrf}&security_token={}&workflows_url=http%3A%2F%2F127.0.0.1%3A9%2Fx",
            TOKEN.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        )
        .into_bytes(),
    );
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.text());
    assert!(bad.text().contains("id=\"workflows_url-error\""), "{}", bad.text());

    // A URL saved while private destinations were allowed is not called once they are not.
    allowing_private(db)
        .put(
            &owner.auth,
            "/api/v1/integrations/teams",
            &json!({"security_token": TOKEN, "workflows_url": format!("{}/workflows/abc", fake.url)}),
        )
        .ok(200);
    let sent = t.request(
        Method::POST,
        "/admin/integrations/teams/test",
        &owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={csrf}").into_bytes(),
    );
    assert_eq!(sent.status.as_u16(), 502, "{}", sent.text());
    assert!(fake.calls().is_empty(), "nothing was sent to 127.0.0.1");
    let status = t.get(&owner.auth, "/api/v1/integrations/teams").ok(200);
    assert!(status.to_string().contains("refused"), "{status}");
}

fn a_link_is_for_the_teams_user_who_asked(db: &TestDb) {
    let s = setup(db);
    // The owner asks in the channel; Ana opens the link first.
    let (path, code) = s.link_code("29:owner", "Olive Owner");
    let page = s.t.get(&s.ana_auth, &path);
    assert_eq!(page.status.as_u16(), 403, "{}", page.text());
    assert!(page.text().contains("Olive Owner") && !page.text().contains("Link my Teams account"), "{}", page.text());
    let refused = s.confirm(&code, &s.ana_auth);
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text());
    assert!(refused.text().contains("Teams user “Olive Owner”"), "{}", refused.text());
    assert!(!refused.text().contains("Teams account linked"));
    // Nothing was linked: the owner's Teams id is still nobody's.
    let reply = s.say(&activity("g1", "29:owner", "balance", &[]));
    assert!(reply.contains("not linked to Plaudit yet"), "{reply}");
    // The owner can still use their own link.
    assert!(s.confirm(&code, &s.owner.auth).text().contains("Teams account linked"));
    assert!(s.say(&activity("g2", "29:owner", "balance", &[])).contains("100"));
    // A Teams user with a name matching nobody links nobody.
    let (_, code) = s.link_code("29:x", "Mallory");
    assert_eq!(s.confirm(&code, &s.ana_auth).status.as_u16(), 403);
}

plaudit_store::backend_tests! {
    workflows_urls_follow_the_webhook_rules,
    a_link_is_for_the_teams_user_who_asked,
    the_settings_api_is_for_admins_and_checks_its_input,
    the_webhook_is_verified_before_it_is_read,
    mentions_resolve_by_entity_id_and_retries_give_once,
    the_admin_page_configures_tests_and_disconnects,
}
