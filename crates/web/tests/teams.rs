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

fn setup(db: &TestDb) -> Teams {
    let fake = FakeServer::start(|_| Answer::status(202));
    let t = TestApp::new(db);
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

    /// A Teams user links their account to the signed-in member `auth`.
    fn link(&self, teams_id: &str, auth: &Auth) {
        let reply = self.say(&activity(&format!("link-{teams_id}"), teams_id, "link", &[]));
        let url = reply.split_whitespace().find(|w| w.contains("/integrations/teams/link?code=")).expect(&reply);
        let path = &url[url.find("/integrations").unwrap()..];
        let code = path.split("code=").nth(1).unwrap();
        let page = self.t.get(auth, path);
        assert_eq!(page.status.as_u16(), 200, "{}", page.text());
        assert!(page.text().contains("Link my Teams account"));
        let done = self.t.request(
            Method::POST,
            "/integrations/teams/link",
            auth,
            Some("application/x-www-form-urlencoded"),
            format!("csrf={}&code={code}", csrf_of(auth)).into_bytes(),
        );
        assert!(done.text().contains("Teams account linked"), "{}", done.text());
        // A link is used once.
        let again = self.t.request(
            Method::POST,
            "/integrations/teams/link",
            auth,
            Some("application/x-www-form-urlencoded"),
            format!("csrf={}&code={code}", csrf_of(auth)).into_bytes(),
        );
        assert_eq!(again.status.as_u16(), 422);
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
    webhook_raw(&s.t, "acme", hello, None).problem(401, "signature_missing");
    webhook_raw(&s.t, "nosuch", hello, Some(sign(TOKEN, hello))).problem(401, "signature_invalid");
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
    s.link("29:owner", &s.owner.auth);
    let reply = s.say(&activity("a1", "29:owner", "<at>Ana Lima</at> +5 for the fix", &[("29:ana", "Ana Lima")]));
    assert!(reply.contains("Ana Lima has not linked"), "{reply}");
    s.link("29:ana", &s.ana_auth);

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
    let bad = form("/admin/integrations/teams", format!("csrf={csrf}&security_token=short&workflows_url="));
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("id=\"security_token-error\""), "{}", bad.text());
    // Test message: the Workflows URL refuses, then accepts.
    s.fake.push("/workflows/abc", Answer::status(400));
    let failed = form("/admin/integrations/teams/test", format!("csrf={csrf}"));
    assert_eq!(failed.status.as_u16(), 502);
    assert!(s.t.get(&s.owner.auth, "/admin/integrations/teams").text().contains("the Workflows URL answered HTTP 400"));
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

plaudit_store::backend_tests! {
    the_settings_api_is_for_admins_and_checks_its_input,
    the_webhook_is_verified_before_it_is_read,
    mentions_resolve_by_entity_id_and_retries_give_once,
    the_admin_page_configures_tests_and_disconnects,
}
