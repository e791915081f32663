//! The Slack app over HTTP against a fake Slack Web API on 127.0.0.1:
//! signatures, slash commands, retries and duplicates, reactions, the
//! modal, channel posts (`ok:false`, 429) and the OAuth install.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request};
use common::fake_server::{Answer, Call, FakeServer};
use common::points::stored_earned;
use common::{csrf_of, Auth, OrgOwner, Resp, TestApp};
use plaudit_app::slack::{sign, SlackConfig};
use plaudit_app::Config;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TEAM: &str = "T0ACME";
const CHANNEL: &str = "C0POSTS";

/// Slack users of the fake workspace and their e-mail addresses.
fn email_of(user: &str) -> Option<&'static str> {
    Some(match user {
        "U0OWNER" => "owner@acme.example",
        "U0ANA" => "ana@acme.example",
        "U0LI" => "li@acme.example",
        "U0STRANGER" => "stranger@elsewhere.example",
        _ => return None,
    })
}

fn slack_default(call: &Call) -> Answer {
    let path = call.path.split('?').next().unwrap_or("");
    match path {
        "/users.info" => {
            let user = call.form().get("user").cloned().unwrap_or_default();
            match email_of(&user) {
                Some(email) => Answer::json(json!({"ok": true, "user": {"id": user, "is_bot": false,
                    "is_email_confirmed": true, "profile": {"email": email}}})),
                None => Answer::json(json!({"ok": false, "error": "user_not_found"})),
            }
        }
        "/users.lookupByEmail" => {
            let email = call.form().get("email").cloned().unwrap_or_default();
            let id = ["U0OWNER", "U0ANA", "U0LI"].into_iter().find(|u| email_of(u) == Some(email.as_str()));
            match id {
                Some(id) => Answer::json(json!({"ok": true, "user": {"id": id}})),
                None => Answer::json(json!({"ok": false, "error": "users_not_found"})),
            }
        }
        "/oauth.v2.access" => {
            if call.form().get("code").map(String::as_str) == Some("good-code") {
                Answer::json(json!({"ok": true, "access_token": "xoxb-from-oauth", "token_type": "bot",
                    "bot_user_id": "U0BOT", "team": {"id": "T0OAUTH", "name": "Acme Slack"}}))
            } else {
                Answer::json(json!({"ok": false, "error": "invalid_code"}))
            }
        }
        "/chat.postMessage" | "/views.open" | "/respond" => Answer::json(json!({"ok": true})),
        _ => Answer::status(404),
    }
}

struct Slack {
    t: TestApp,
    fake: FakeServer,
    owner: OrgOwner,
    ana: String,
    li: String,
}

fn setup(db: &TestDb) -> Slack {
    let fake = FakeServer::start(slack_default);
    let config = Config {
        slack: SlackConfig {
            signing_secret: Some(SECRET.into()),
            client_id: Some("123.456".into()),
            client_secret: Some("client-secret".into()),
            api_url: fake.url.clone(),
            authorize_url: format!("{}/oauth/v2/authorize", fake.url),
        },
        ..Config::default()
    };
    let t = TestApp::with_config(db, config);
    let owner = t.signup("acme");
    let ana = t.add_member(&owner.auth, "ana@acme.example", json!({"display_name": "Ana Lima"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let li = t.add_member(&owner.auth, "li@acme.example", json!({"display_name": "Li Wei"}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.app.slack_link("acme", TEAM, "xoxb-test-token").unwrap();
    let caller = t.caller(&owner.auth);
    t.app
        .slack_save_settings(
            &caller,
            &plaudit_app::slack::SlackSettings {
                channel_id: CHANNEL.into(),
                reactions_enabled: true,
                reaction_points: 2,
                reaction_emoji: String::new(),
            },
        )
        .unwrap();
    Slack { t, fake, owner, ana, li }
}

fn now_secs() -> i64 {
    plaudit_app::now_ms() / 1000
}

/// A request signed as Slack signs it, at `ts`.
fn signed_at(path: &str, content_type: &str, body: &[u8], ts: i64, extra: &[(&str, &str)]) -> Request<Body> {
    let ts = ts.to_string();
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", sign(SECRET, &ts, body));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_vec())).unwrap()
}

fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

impl Slack {
    fn command_as(&self, user: &str, text: &str) -> Resp {
        let response_url = format!("{}/respond", self.fake.url);
        let body = form_body(&[
            ("token", "ignored"),
            ("team_id", TEAM),
            ("channel_id", "C0HERE"),
            ("user_id", user),
            ("command", "/plaudit"),
            ("text", text),
            ("response_url", &response_url),
            ("trigger_id", "1.2.3"),
        ]);
        self.t.send(signed_at(
            "/integrations/slack/commands",
            "application/x-www-form-urlencoded",
            &body,
            now_secs(),
            &[],
        ))
    }

    /// The ephemeral text answered to a command by the owner.
    fn command(&self, text: &str) -> String {
        let resp = self.command_as("U0OWNER", text);
        let body = resp.ok(200);
        assert_eq!(body["response_type"], "ephemeral", "{body}");
        body["text"].as_str().unwrap().to_string()
    }

    fn event(&self, body: &Value, extra: &[(&str, &str)]) -> Resp {
        let bytes = body.to_string().into_bytes();
        self.t.send(signed_at("/integrations/slack/events", "application/json", &bytes, now_secs(), extra))
    }

    fn interact(&self, payload: &Value) -> Resp {
        let body = form_body(&[("payload", &payload.to_string())]);
        self.t.send(signed_at(
            "/integrations/slack/interactivity",
            "application/x-www-form-urlencoded",
            &body,
            now_secs(),
            &[],
        ))
    }

    fn earned(&self, member: &str) -> i64 {
        stored_earned(&self.t, &self.owner.org_id, member)
    }

    /// Recognition posts in the feed, newest first.
    fn feed(&self) -> Vec<Value> {
        self.t.get(&self.owner.auth, "/api/v1/recognitions?limit=100").ok(200)["items"].as_array().unwrap().clone()
    }

    fn posts(&self) -> usize {
        self.feed().len()
    }
}

/// A reaction on the message whose timestamp is `event_id` (each event on a message of its own).
fn reaction(event_id: &str, reaction: &str, user: &str, author: &str) -> Value {
    reaction_on(event_id, event_id, reaction, user, author)
}

fn reaction_on(event_id: &str, ts: &str, reaction: &str, user: &str, author: &str) -> Value {
    json!({"type": "event_callback", "team_id": TEAM, "event_id": event_id, "event_time": 1,
        "event": {"type": "reaction_added", "user": user, "reaction": reaction, "item_user": author,
            "item": {"type": "message", "channel": "C0HERE", "ts": ts}}})
}

// ---------------------------------------------------------------- signatures

fn requests_are_verified_before_they_are_read(db: &TestDb) {
    let s = setup(db);
    let body = form_body(&[("team_id", TEAM), ("user_id", "U0OWNER"), ("text", "<@U0ANA> +5 for x")]);
    let path = "/integrations/slack/commands";
    let ct = "application/x-www-form-urlencoded";
    // Stale and future timestamps, even when correctly signed.
    for ts in [now_secs() - 301, now_secs() + 301] {
        s.t.send(signed_at(path, ct, &body, ts, &[])).problem(401, "signature_stale");
    }
    // A byte changed after signing.
    let mut req = signed_at(path, ct, &body, now_secs(), &[]);
    let mut tampered = body.clone();
    tampered[body.len() - 2] = b'9';
    *req.body_mut() = Body::from(tampered);
    s.t.send(req).problem(401, "signature_invalid");
    // No signature at all.
    s.t.request(Method::POST, path, &Auth::None, Some(ct), body.clone()).problem(401, "signature_missing");
    assert_eq!(s.earned(&s.ana), 0, "nothing was given");
    // Signed bodies that do not parse: 400, never 500.
    let not_utf8 = vec![0xff, 0xfe, b'=', 0x80];
    for p in ["/integrations/slack/commands", "/integrations/slack/events", "/integrations/slack/interactivity"] {
        let resp = s.t.send(signed_at(p, ct, &not_utf8, now_secs(), &[]));
        resp.problem(400, "bad_request");
    }
    s.t.send(signed_at("/integrations/slack/events", "application/json", b"{not json", now_secs(), &[]))
        .problem(400, "bad_request");
    s.t.send(signed_at("/integrations/slack/interactivity", ct, b"payload=%7Bnope", now_secs(), &[]))
        .problem(400, "bad_request");
    s.t.send(signed_at(path, ct, b"text=hello", now_secs(), &[])).problem(400, "bad_request");
    // Slack's certificate check is answered without running anything.
    assert_eq!(s.t.send(signed_at(path, ct, b"ssl_check=1&token=x", now_secs(), &[])).status.as_u16(), 200);
}

fn url_verification_answers_the_challenge(db: &TestDb) {
    let s = setup(db);
    let resp = s.event(&json!({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}), &[]);
    assert_eq!(resp.ok(200)["challenge"], "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

// ---------------------------------------------------------------- commands

/// Slack parses `<!channel>` and `<url|label>` in every text it gets: names and
/// messages reach it escaped, in the blocks, the fallback text and the answer.
fn names_and_messages_reach_slack_escaped(db: &TestDb) {
    let s = setup(db);
    let evil = "<!channel> <https://evil.example|Plaudit login>";
    s.t.patch(&s.owner.auth, &format!("/api/v1/members/{}", s.owner.owner_id), &json!({"display_name": evil})).ok(200);
    s.t.patch(&s.owner.auth, &format!("/api/v1/members/{}", s.ana), &json!({"display_name": "Ana <!here>"})).ok(200);
    let answer = s.command("<@U0ANA> +1 for <https://evil.example|this>");
    assert!(answer.contains("Ana &lt;!here&gt;") && !answer.contains("<!here>"), "{answer}");
    let post = s.fake.wait_for("/chat.postMessage", 1)[0].json();
    let text = post["text"].as_str().unwrap();
    assert!(text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"), "{text}");
    assert!(!text.contains("<https://evil.example"), "{text}");
    assert!(!post["blocks"].to_string().contains("<!channel>"));
}

fn a_command_gives_and_is_posted_to_the_channel(db: &TestDb) {
    let s = setup(db);
    s.t.app
        .create_value(
            &s.t.caller(&s.owner.auth),
            plaudit_app::values::NewValue {
                name: "Teamwork".into(),
                emoji: "🤝".into(),
                description: String::new(),
                position: None,
            },
        )
        .unwrap();
    let text = s.command("<@U0ANA|ana> <@U0LI> +5 for the launch 🚀 #TeamWork");
    assert!(text.contains("You recognised Ana Lima, Li Wei with 5 points each"), "{text}");
    assert!(text.contains("90 points left"), "{text}");
    assert_eq!((s.earned(&s.ana), s.earned(&s.li)), (5, 5));
    let posts = s.fake.wait_for("/chat.postMessage", 1);
    let post = posts[0].json();
    assert_eq!(posts[0].header("authorization"), Some("Bearer xoxb-test-token"));
    assert_eq!(post["channel"], CHANNEL);
    let blocks = post["blocks"].to_string();
    assert!(blocks.contains("🏆 *Olive Owner* recognised <@U0ANA>, <@U0LI> with *5 points* each"), "{blocks}");
    assert!(blocks.contains("> the launch 🚀 #TeamWork"), "{blocks}");
    assert!(blocks.contains("🤝 Teamwork"), "{blocks}");
    assert!(post["text"].as_str().unwrap().contains("Ana Lima"), "a plain-text fallback");
    // Plain @names resolve through the directory.
    let text = s.command("@ana +1 thanks again");
    assert!(text.contains("You recognised Ana Lima with 1 point each"), "{text}");
    assert_eq!(s.earned(&s.ana), 6);
    // balance and help
    assert!(s.command("balance").contains("*89* of 100 points left"));
    assert!(s.command("help").contains("/plaudit @ana @li +20"));
}

fn refusals_say_what_to_fix_and_change_nothing(db: &TestDb) {
    let s = setup(db);
    let cases = [
        ("+5 for the launch", "Mention them before the points"),
        ("<@U0ANA> +5", "add a message"),
        ("<@U0ANA> +abc thanks", "whole number"),
        ("<@U0STRANGER> +5 thanks", "stranger@elsewhere.example) is not an active member"),
        ("<@U0NOBODY> +5 thanks", "Slack could not tell who"),
        ("<@U0ANA> +5 for #nosuch", "there is no company value #nosuch"),
        ("<@U0OWNER> +5 for me", "you cannot recognise yourself"),
        ("<@U0ANA> +51 for a lot", "at most 50 points per recipient"),
        ("@nobody +5 thanks", "no one called @nobody"),
        ("<!here> +5 thanks", "mention people one by one"),
    ];
    for (text, expected) in cases {
        let answer = s.command(text);
        assert!(answer.starts_with(":warning:"), "{text}: {answer}");
        assert!(answer.to_lowercase().contains(&expected.to_lowercase()), "{text}: {answer}");
    }
    s.t.app
        .update_org(
            &s.t.caller(&s.owner.auth),
            serde_json::from_value(json!({"allow_zero_point_posts": false})).unwrap(),
        )
        .unwrap();
    assert!(s.command("<@U0ANA> thanks").contains("Add points, like +10"));
    assert_eq!((s.earned(&s.ana), s.posts()), (0, 0));
    std::thread::sleep(Duration::from_millis(100));
    assert!(s.fake.calls_to("/chat.postMessage").is_empty());
    // An unknown workspace is told how to connect.
    let body = form_body(&[("team_id", "T0OTHER"), ("user_id", "U0OWNER"), ("text", "<@U0ANA> +5 x")]);
    let resp = s.t.send(signed_at(
        "/integrations/slack/commands",
        "application/x-www-form-urlencoded",
        &body,
        now_secs(),
        &[],
    ));
    assert!(resp.ok(200)["text"].as_str().unwrap().contains("/admin/integrations/slack"));
}

fn a_repeated_command_within_the_window_gives_once(db: &TestDb) {
    let s = setup(db);
    let first = s.command("<@U0ANA> +5 for the review");
    assert!(first.contains("You recognised"), "{first}");
    let again = s.command("<@U0ANA> +5 for the review");
    assert!(again.contains("already posted; nothing was given twice"), "{again}");
    // The same text sent at once, several times: one award.
    let body =
        |text: &str| form_body(&[("team_id", TEAM), ("user_id", "U0OWNER"), ("text", text), ("response_url", "")]);
    let reqs = (0..4)
        .map(|_| {
            signed_at(
                "/integrations/slack/commands",
                "application/x-www-form-urlencoded",
                &body("<@U0LI> +3 for the fix"),
                now_secs(),
                &[],
            )
        })
        .collect();
    let answers = s.t.send_concurrently(reqs);
    assert!(answers.iter().all(|r| r.status == 200));
    assert_eq!((s.earned(&s.ana), s.earned(&s.li), s.posts()), (5, 3, 2));
    // Another text is another recognition.
    s.command("<@U0ANA> +5 for the second review");
    assert_eq!(s.earned(&s.ana), 10);
    s.fake.wait_for("/chat.postMessage", 3);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(s.fake.calls_to("/chat.postMessage").len(), 3, "replays are not posted again");
}

fn after_the_window_the_same_text_is_a_new_recognition(db: &TestDb) {
    let s = setup(db);
    let cmd = plaudit_app::slack::SlashCommand {
        team_id: TEAM.into(),
        user_id: "U0OWNER".into(),
        text: "<@U0ANA> +4 for standup".into(),
        ..Default::default()
    };
    let now = plaudit_app::now_ms();
    let window = plaudit_app::slack::COMMAND_REPEAT_WINDOW_MS;
    assert!(s.t.app.slack_command_at(&cmd, now - window - 1000).text.contains("You recognised"));
    assert!(
        s.t.app.slack_command_at(&cmd, now - 500).text.contains("You recognised"),
        "the first was outside the window"
    );
    assert!(s.t.app.slack_command_at(&cmd, now).text.contains("already posted"));
    assert_eq!(s.earned(&s.ana), 8);
}

fn slow_work_is_acknowledged_and_answered_on_the_response_url(db: &TestDb) {
    let s = setup(db);
    // Slack is slow to tell who someone is: the answer cannot wait for it.
    s.fake.push("/users.info", slack_default(&fake_call("user=U0OWNER")).after(Duration::from_millis(3200)));
    let started = std::time::Instant::now();
    let text = s.command("<@U0ANA> +5 for waiting");
    assert!(started.elapsed() < Duration::from_millis(3000), "acknowledged within Slack's 3 seconds");
    assert_eq!(text, "Working on it…");
    let late = s.fake.wait_for("/respond", 1);
    let body = late[0].json();
    assert_eq!(body["response_type"], "ephemeral");
    assert!(body["text"].as_str().unwrap().contains("You recognised Ana Lima"), "{body}");
    assert_eq!(s.earned(&s.ana), 5);
}

fn fake_call(form: &str) -> Call {
    Call { method: "POST".into(), path: "/users.info".into(), headers: Vec::new(), body: form.as_bytes().to_vec() }
}

// ---------------------------------------------------------------- events

fn reactions_give_once_per_event_and_retries_are_not_lost(db: &TestDb) {
    let s = setup(db);
    s.event(&reaction("Ev1", "trophy", "U0OWNER", "U0ANA"), &[]).ok(200);
    assert_eq!(s.earned(&s.ana), 2);
    // Slack's retry of the same event: nothing more.
    s.event(
        &reaction("Ev1", "trophy", "U0OWNER", "U0ANA"),
        &[("x-slack-retry-num", "1"), ("x-slack-retry-reason", "http_timeout")],
    )
    .ok(200);
    assert_eq!(s.earned(&s.ana), 2);
    // A retry whose original never arrived is processed.
    s.event(&reaction("Ev2", "trophy", "U0OWNER", "U0ANA"), &[("x-slack-retry-num", "2")]).ok(200);
    assert_eq!(s.earned(&s.ana), 4);
    // Removing the reaction and adding it again (a new event id) gives nothing more.
    s.event(&reaction_on("Ev2b", "Ev2", "trophy", "U0OWNER", "U0ANA"), &[]).ok(200);
    assert_eq!(s.earned(&s.ana), 4);
    // The same event delivered several times at once: one award.
    let bytes = reaction("Ev3", "trophy", "U0OWNER", "U0LI").to_string().into_bytes();
    let reqs =
        (0..4).map(|_| signed_at("/integrations/slack/events", "application/json", &bytes, now_secs(), &[])).collect();
    assert!(s.t.send_concurrently(reqs).iter().all(|r| r.status == 200));
    assert_eq!(s.earned(&s.li), 2);
    // Other emoji, one's own message and unknown authors give nothing.
    s.event(&reaction("Ev4", "thumbsup", "U0OWNER", "U0ANA"), &[]).ok(200);
    s.event(&reaction("Ev5", "trophy", "U0ANA", "U0ANA"), &[]).ok(200);
    s.event(&reaction("Ev6", "trophy", "U0OWNER", "U0NOBODY"), &[]).ok(200);
    assert_eq!((s.earned(&s.ana), s.posts()), (4, 3));
    // Switched off: nothing.
    let caller = s.t.caller(&s.owner.auth);
    s.t.app
        .slack_save_settings(
            &caller,
            &plaudit_app::slack::SlackSettings {
                channel_id: CHANNEL.into(),
                reactions_enabled: false,
                reaction_points: 2,
                reaction_emoji: String::new(),
            },
        )
        .unwrap();
    s.event(&reaction("Ev7", "trophy", "U0OWNER", "U0ANA"), &[]).ok(200);
    assert_eq!(s.earned(&s.ana), 4);
}

// ---------------------------------------------------------------- interactivity

fn submission(view_id: &str, users: &[&str], points: &str, message: &str) -> Value {
    json!({"type": "view_submission", "team": {"id": TEAM}, "user": {"id": "U0OWNER"},
    "view": {"id": view_id, "callback_id": "give_recognition", "state": {"values": {
        "recipients": {"users": {"type": "multi_users_select", "selected_users": users}},
        "points": {"points": {"type": "number_input", "value": points}},
        "message": {"message": {"type": "plain_text_input", "value": message}},
    }}}})
}

fn the_shortcut_opens_a_modal_whose_errors_show_under_the_fields(db: &TestDb) {
    let s = setup(db);
    s.interact(&json!({"type": "shortcut", "callback_id": "give_recognition", "trigger_id": "tr1",
        "team": {"id": TEAM}, "user": {"id": "U0OWNER"}}))
        .ok(200);
    let opened = s.fake.wait_for("/views.open", 1)[0].json();
    assert_eq!(opened["trigger_id"], "tr1");
    let ids: Vec<&str> =
        opened["view"]["blocks"].as_array().unwrap().iter().map(|b| b["block_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["recipients", "points", "message"]);
    assert_eq!(opened["view"]["callback_id"], "give_recognition");

    let errors = |p: Value| {
        let v = s.interact(&p).ok(200);
        assert_eq!(v["response_action"], "errors", "{v}");
        v["errors"].clone()
    };
    assert!(errors(submission("V1", &["U0ANA"], "5", ""))["message"].is_string());
    assert!(errors(submission("V1", &[], "5", "thanks"))["recipients"].is_string());
    assert!(errors(submission("V1", &["U0ANA"], "-3", "thanks"))["points"].is_string());
    let e = errors(submission("V1", &["U0ANA"], "500", "thanks"));
    assert_eq!(e["points"], "At most 50 points per recipient in one recognition");
    let e = errors(submission("V1", &["U0OWNER"], "5", "thanks"));
    assert!(e["recipients"].as_str().unwrap().contains("yourself"), "{e}");
    assert_eq!(s.earned(&s.ana), 0);
    // Corrected, the same modal gives once, even when submitted twice.
    let ok = s.interact(&submission("V1", &["U0ANA", "U0LI"], "5", "for pairing")).ok(200);
    assert_eq!(ok["response_action"], "clear");
    s.interact(&submission("V1", &["U0ANA", "U0LI"], "5", "for pairing")).ok(200);
    assert_eq!((s.earned(&s.ana), s.earned(&s.li), s.posts()), (5, 5, 1));
    s.fake.wait_for("/chat.postMessage", 1);

    // With company values, the modal offers them and a pick is kept.
    let value =
        s.t.app
            .create_value(
                &s.t.caller(&s.owner.auth),
                plaudit_app::values::NewValue {
                    name: "Ownership".into(),
                    emoji: "🦉".into(),
                    description: String::new(),
                    position: None,
                },
            )
            .unwrap();
    // The message shortcut starts with the message's author picked.
    s.interact(&json!({"type": "message_action", "callback_id": "give_recognition", "trigger_id": "tr2",
        "team": {"id": TEAM}, "user": {"id": "U0OWNER"}, "message": {"user": "U0LI", "text": "shipped"}}))
        .ok(200);
    let opened = s.fake.wait_for("/views.open", 2)[1].json();
    let blocks = opened["view"]["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["element"]["initial_users"], json!(["U0LI"]));
    assert_eq!(blocks[2]["block_id"], "values");
    assert_eq!(blocks[2]["element"]["options"][0]["value"], value.id.as_str());
    let mut picked = submission("V2", &["U0LI"], "2", "for owning it");
    picked["view"]["state"]["values"]["values"] =
        json!({"values": {"type": "multi_static_select", "selected_options": [{"value": value.id}]}});
    assert_eq!(s.interact(&picked).ok(200)["response_action"], "clear");
    assert_eq!(s.earned(&s.li), 7);
    assert_eq!(s.feed()[0]["value_ids"], json!([value.id]));
}

fn an_uninstall_shows_on_the_admin_page(db: &TestDb) {
    let s = setup(db);
    s.event(
        &json!({"type": "event_callback", "team_id": TEAM, "event_id": "EvU",
        "event": {"type": "app_uninstalled"}}),
        &[],
    )
    .ok(200);
    let page = s.t.get(&s.owner.auth, "/admin/integrations/slack").text();
    assert!(page.contains("the app was uninstalled from Slack"), "{page}");
}

// ---------------------------------------------------------------- posting

fn channel_posts_retry_on_429_and_record_ok_false(db: &TestDb) {
    let s = setup(db);
    // Made on the web: announced by its event's job, not yet.
    let given = json!({"recipients": [s.ana], "points": 1, "message": "for the retry"});
    let id = s.t.post(&s.owner.auth, "/api/v1/recognitions", &given).ok(201)["id"].as_str().unwrap().to_string();
    s.fake.push("/chat.postMessage", Answer::status(429).header("Retry-After", "1"));
    let started = std::time::Instant::now();
    let errors = s.t.app.announce_recognition(&s.owner.org_id, &id).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited Retry-After");
    // 429, then the same post again with success.
    let calls = s.fake.wait_for("/chat.postMessage", 2);
    assert_eq!(calls[0].body, calls[1].body);
    // Announced once: the event's job that comes after posts nothing more.
    for _ in 0..2 {
        s.t.app.run_due_jobs_at(plaudit_app::now_ms() + 10, 100).unwrap();
    }
    assert_eq!(s.fake.calls_to("/chat.postMessage").len(), 2);
    assert!(calls.iter().all(|c| c.json()["channel"] == CHANNEL));
    let install = s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().unwrap();
    assert!(install.last_ok_at.is_some() && install.last_error.is_none());

    // ok:false: recorded as the last error and shown on the admin page.
    s.fake.push("/chat.postMessage", Answer::json(json!({"ok": false, "error": "channel_not_found"})));
    let page = s.t.request(
        Method::POST,
        "/admin/integrations/slack/test",
        &s.owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={}", csrf_of(&s.owner.auth)).into_bytes(),
    );
    assert_eq!(page.status.as_u16(), 502);
    assert!(page.text().contains("channel_not_found"), "{}", page.text());
    let page = s.t.get(&s.owner.auth, "/admin/integrations/slack").text();
    assert!(page.contains("chat.postMessage: channel_not_found"), "{page}");
    assert!(page.contains("Failing"));
    // Rate limited for longer than we wait: gives up, bounded.
    for _ in 0..plaudit_app::slack::MAX_TRIES {
        s.fake.push("/chat.postMessage", Answer::status(429).header("Retry-After", "1"));
    }
    let caller = s.t.caller(&s.owner.auth);
    let e = s.t.app.slack_test_message(&caller).unwrap_err();
    assert!(e.message.contains("rate limited"), "{e}");
    // A good test message.
    let resp = s.t.request(
        Method::POST,
        "/admin/integrations/slack/test",
        &s.owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={}", csrf_of(&s.owner.auth)).into_bytes(),
    );
    assert_eq!(resp.header("location"), Some("/admin/integrations/slack?notice=test_sent"));
}

/// Every recognition reaches the channel exactly once: a web-made one by
/// its event's job, a chat-made one right after the reply (its job then
/// finds it announced).
fn each_recognition_is_announced_once_whatever_made_it(db: &TestDb) {
    let s = setup(db);
    let given = json!({"recipients": [s.li], "points": 3, "message": "made on the web"});
    s.t.post(&s.owner.auth, "/api/v1/recognitions", &given).ok(201);
    assert!(s.fake.calls_to("/chat.postMessage").is_empty());
    // The event's job queues the announcement's job, which the next round runs.
    for _ in 0..2 {
        s.t.app.run_due_jobs_at(plaudit_app::now_ms() + 10, 100).unwrap();
    }
    let posts = s.fake.calls_to("/chat.postMessage");
    assert_eq!(posts.len(), 1);
    assert!(
        String::from_utf8_lossy(&posts[0].body).contains("made on the web"),
        "{}",
        String::from_utf8_lossy(&posts[0].body)
    );

    s.command("<@U0ANA> +1 made in Slack");
    s.fake.wait_for("/chat.postMessage", 2);
    for _ in 0..2 {
        s.t.app.run_due_jobs_at(plaudit_app::now_ms() + 10, 100).unwrap();
    }
    let posts = s.fake.calls_to("/chat.postMessage");
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(String::from_utf8_lossy(&posts[1].body).contains("made in Slack"));
}

// ---------------------------------------------------------------- install

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let map: std::collections::HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
    map.get(name).cloned().unwrap_or_default()
}

fn the_oauth_install_checks_its_state(db: &TestDb) {
    let s = setup(db);
    s.t.app.store.write(|tx| tx.delete_slack_install(&s.owner.org_id)).unwrap();
    let page = s.t.get(&s.owner.auth, "/admin/integrations/slack").text();
    assert!(page.contains("Add to Slack"));
    let start = |auth: &Auth| {
        let resp = s.t.get(auth, "/integrations/slack/install");
        assert_eq!(resp.status.as_u16(), 303, "{}", resp.text());
        resp.header("location").unwrap().to_string()
    };
    let to = start(&s.owner.auth);
    assert!(to.starts_with(&format!("{}/oauth/v2/authorize?", s.fake.url)), "{to}");
    assert_eq!(query_param(&to, "client_id"), "123.456");
    assert!(query_param(&to, "scope").contains("chat:write"));
    assert_eq!(query_param(&to, "redirect_uri"), "http://127.0.0.1:8080/integrations/slack/oauth/callback");
    let state = query_param(&to, "state");
    assert!(state.len() >= 32);

    // A state that was never issued.
    let bad = s.t.get(&s.owner.auth, "/integrations/slack/oauth/callback?code=good-code&state=forged");
    assert_eq!(bad.status.as_u16(), 422);
    // Another admin cannot finish this admin's install.
    let (_, other) = s.t.member_session(&s.owner.auth, "acme", "admin2@acme.example", "admin");
    let foreign = s.t.get(&other, &format!("/integrations/slack/oauth/callback?code=good-code&state={state}"));
    assert_eq!(foreign.status.as_u16(), 403);
    // The state was spent by that attempt: single use.
    let spent = s.t.get(&s.owner.auth, &format!("/integrations/slack/oauth/callback?code=good-code&state={state}"));
    assert_eq!(spent.status.as_u16(), 422);
    assert!(s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().is_none());

    // A fresh install goes through.
    let state = query_param(&start(&s.owner.auth), "state");
    let done = s.t.get(&s.owner.auth, &format!("/integrations/slack/oauth/callback?code=good-code&state={state}"));
    assert_eq!(done.header("location"), Some("/admin/integrations/slack?notice=connected"), "{}", done.text());
    let exchange = s.fake.calls_to("/oauth.v2.access");
    let form = exchange.last().unwrap().form();
    assert_eq!(form["code"], "good-code");
    assert_eq!(form["client_id"], "123.456");
    assert_eq!(form["client_secret"], "client-secret");
    assert_eq!(form["redirect_uri"], "http://127.0.0.1:8080/integrations/slack/oauth/callback");
    let install = s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().unwrap();
    assert_eq!(
        (install.team_id.as_str(), install.team_name.as_str(), install.bot_user_id.as_str()),
        ("T0OAUTH", "Acme Slack", "U0BOT")
    );
    assert!(!install.bot_token_enc.contains("xoxb"), "the token is sealed");
    // Replaying the finished callback is refused.
    let replay = s.t.get(&s.owner.auth, &format!("/integrations/slack/oauth/callback?code=good-code&state={state}"));
    assert_eq!(replay.status.as_u16(), 422);
    // A code Slack refuses.
    let state = query_param(&start(&s.owner.auth), "state");
    let refused = s.t.get(&s.owner.auth, &format!("/integrations/slack/oauth/callback?code=bad&state={state}"));
    assert!(refused.text().contains("invalid_code"), "{}", refused.text());
    // Members cannot start an install.
    let (_, member) = s.t.member_session(&s.owner.auth, "acme", "m@acme.example", "member");
    assert_eq!(s.t.get(&member, "/integrations/slack/install").status.as_u16(), 403);
    // Disconnect.
    let resp = s.t.request(
        Method::POST,
        "/admin/integrations/slack/disconnect",
        &s.owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={}", csrf_of(&s.owner.auth)).into_bytes(),
    );
    assert_eq!(resp.status.as_u16(), 303);
    assert!(s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().is_none());
}

fn the_admin_page_saves_settings_and_shows_errors_beside_fields(db: &TestDb) {
    let s = setup(db);
    // The integrations overview shows Slack connected, posting to its channel.
    let overview = s.t.get(&s.owner.auth, "/admin/integrations").text();
    assert!(overview.contains(&format!("posts to {CHANNEL}")), "{overview}");
    let teams = overview.split("Microsoft Teams").nth(1).and_then(|rest| rest.split("</li>").next()).unwrap();
    assert!(teams.contains("Not connected"), "Teams is not set up: {teams}");
    let csrf = csrf_of(&s.owner.auth);
    let post = |body: String| {
        s.t.request(
            Method::POST,
            "/admin/integrations/slack/settings",
            &s.owner.auth,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
    };
    let bad = post(format!("csrf={csrf}&channel_id=%23general&reaction_points=1&reaction_emoji="));
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.text().contains("id=\"channel_id-error\""), "{}", bad.text());
    assert!(bad.text().contains("value=\"#general\""), "what was typed is kept");
    let bad = post(format!("csrf={csrf}&channel_id=C1&reaction_points=x&reaction_emoji="));
    assert!(bad.text().contains("id=\"reaction_points-error\""));
    let install = s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().unwrap();
    assert_eq!(install.channel_id, CHANNEL, "nothing changed");
    let ok =
        post(format!("csrf={csrf}&channel_id=C0NEW&reactions_enabled=on&reaction_points=3&reaction_emoji=%3Ataco%3A"));
    assert_eq!(ok.status.as_u16(), 303);
    let install = s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().unwrap();
    assert_eq!(
        (install.channel_id.as_str(), install.reaction_points, install.reaction_emoji.as_str()),
        ("C0NEW", 3, "taco")
    );
    assert!(
        s.t.get(&s.owner.auth, "/admin/integrations").text().contains("href=\"/admin/integrations/slack\""),
        "in the admin navigation"
    );
    // Without a channel, the test message asks for one beside the field.
    post(format!("csrf={csrf}&channel_id=&reaction_points=1&reaction_emoji="));
    let test = s.t.request(
        Method::POST,
        "/admin/integrations/slack/test",
        &s.owner.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={csrf}").into_bytes(),
    );
    assert_eq!(test.status.as_u16(), 422);
    assert!(test.text().contains("id=\"channel_id-error\""), "{}", test.text());
    // A forged form (no CSRF token) changes nothing.
    let forged = post("channel_id=C0EVIL&reaction_points=1".to_string());
    assert_eq!(forged.status.as_u16(), 403);
    assert_eq!(s.t.app.store.read(|tx| tx.slack_install(&s.owner.org_id)).unwrap().unwrap().channel_id, "");
}

plaudit_store::backend_tests! {
    requests_are_verified_before_they_are_read,
    url_verification_answers_the_challenge,
    a_command_gives_and_is_posted_to_the_channel,
    names_and_messages_reach_slack_escaped,
    refusals_say_what_to_fix_and_change_nothing,
    a_repeated_command_within_the_window_gives_once,
    after_the_window_the_same_text_is_a_new_recognition,
    slow_work_is_acknowledged_and_answered_on_the_response_url,
    reactions_give_once_per_event_and_retries_are_not_lost,
    the_shortcut_opens_a_modal_whose_errors_show_under_the_fields,
    channel_posts_retry_on_429_and_record_ok_false,
    each_recognition_is_announced_once_whatever_made_it,
    the_oauth_install_checks_its_state,
    the_admin_page_saves_settings_and_shows_errors_beside_fields,
    an_uninstall_shows_on_the_admin_page,
}
