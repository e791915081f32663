//! E-mail end to end against a local SMTP sink: what each mail says (text
//! and escaped HTML), to whom, the one-click unsubscribe, preferences,
//! inactive members, redemptions without codes, the weekly digest and
//! check-in reminders (once a week), password reset, and an SMTP server
//! that is down for a while. On SQLite and PostgreSQL.

mod common;

use common::points::{Person, Team};
use common::smtp::{Mail, SmtpSink};
use common::*;
use plaudit_app::mail::MailConfig;
use plaudit_app::{now_ms, Config};
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};

const PUBLIC: &str = "http://plaudit.test";
const DAY: i64 = 24 * 3600 * 1000;

fn mail_config(url: &str) -> Config {
    Config {
        public_url: PUBLIC.to_string(),
        mail: MailConfig::from_settings(Some(url), Some("Plaudit <plaudit@plaudit.test>")).unwrap(),
        ..Config::default()
    }
}

/// A team in an app that mails to a fresh sink.
fn team_with_mail(db: &TestDb, slug: &str) -> (Team, SmtpSink) {
    let sink = SmtpSink::start();
    let t = TestApp::with_config(db, mail_config(&sink.url()));
    (Team::in_app(t, slug), sink)
}

/// Runs every job due at `at` until none is left (events queue mails, mails go out).
fn deliver_at(t: &TestApp, at: i64) {
    for _ in 0..10 {
        if t.app.run_due_jobs_at(at, 100).unwrap() == 0 {
            return;
        }
    }
    panic!("the queue does not drain");
}

fn deliver(t: &TestApp) {
    deliver_at(t, now_ms() + 1);
}

fn to(mail: &Mail) -> &str {
    mail.to[0].as_str()
}

/// Each mail's first recipient.
fn recipients(mails: &[Mail]) -> Vec<&str> {
    mails.iter().map(to).collect()
}

fn mail_jobs(t: &TestApp, org_id: &str) -> Vec<plaudit_store::Job> {
    t.app.store.read(|tx| tx.list_jobs(org_id, Some("email.send"), 100)).unwrap()
}

fn path_of(url: &str) -> &str {
    url.strip_prefix(PUBLIC).expect("a link to the public URL")
}

// ---------------------------------------------------------------- recognition

fn recognition_mail_names_the_giver_escapes_html_and_unsubscribes_one_kind(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let value = t.post(&team.org.auth, "/api/v1/values", &json!({"name": "Teamwork", "emoji": "🤝"})).ok(201);
    let message = "Thanks for <b>the launch</b> & the \"late\" nights 🚀";
    let post = t
        .post(
            &team.org.auth,
            "/api/v1/recognitions",
            &json!({"recipients": [team.ana.id, team.bob.id], "points": 5, "message": message, "values": [value["id"]]}),
        )
        .ok(201);
    deliver(t);
    let mut mails = sink.take();
    mails.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(mails.len(), 2, "one mail per recipient");
    assert_eq!((to(&mails[0]), to(&mails[1])), (team.ana.email.as_str(), team.bob.email.as_str()));
    let m = &mails[0];
    assert_eq!(m.from, "plaudit@plaudit.test");
    assert_eq!(m.subject(), "Olive Owner recognised you");
    assert!(m.header("to").unwrap().contains("ana@acme.example"));
    assert!(m.header("message-id").unwrap().ends_with("@plaudit.test>"));
    assert_eq!(m.header("auto-submitted").as_deref(), Some("auto-generated"));
    // The text part: giver, points with the currency, the message as written, values, the post's link.
    let org = t.get(&team.org.auth, "/api/v1/org").ok(200);
    let currency = format!(
        "5 {} {}",
        org["currency"]["emoji"].as_str().unwrap(),
        org["currency"]["name_plural"].as_str().unwrap()
    );
    assert!(m.text.contains(&format!("Olive Owner recognised you with {currency}")), "{}", m.text);
    assert!(m.text.contains(&format!("> {message}")), "{}", m.text);
    assert!(m.text.contains("Values: 🤝 Teamwork"), "{}", m.text);
    let post_link = format!("{PUBLIC}/feed#post-{}", post["id"].as_str().unwrap());
    assert!(m.text.contains(&post_link), "{}", m.text);
    assert!(m.text.contains("(Europe/Oslo)"), "the time in the org's zone: {}", m.text);
    // The HTML part: the message escaped, never markup.
    assert!(
        m.html.contains("Thanks for &lt;b&gt;the launch&lt;/b&gt; &amp; the &quot;late&quot; nights 🚀"),
        "{}",
        m.html
    );
    assert!(!m.html.contains("<b>the launch"));
    assert!(m.html.contains(&format!("href=\"{post_link}\"")));
    // One-click unsubscribe headers and the same link in the body.
    let header = m.header("list-unsubscribe").expect("List-Unsubscribe");
    let link = header.trim_start_matches('<').trim_end_matches('>').to_string();
    assert!(link.starts_with(&format!("{PUBLIC}/unsubscribe/")), "{link}");
    assert_eq!(m.header("list-unsubscribe-post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(m.text.contains(&link));
    assert_ne!(Some(link.clone()), mails[1].header("list-unsubscribe").map(|h| h.trim_matches(['<', '>']).to_string()));

    // The link shows a confirmation; nothing changes until the POST.
    let page = t.get(&Auth::None, path_of(&link));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("ana@acme.example") && page.text().contains("method=\"post\""));
    assert_eq!(t.get(&team.ana.auth, "/api/v1/me/notifications").ok(200)["recognition"], true);
    // A tampered link does nothing.
    let tampered = format!("{}x", path_of(&link));
    assert_eq!(t.request(axum::http::Method::POST, &tampered, &Auth::None, None, vec![]).status, 404);
    // The mail client's one-click POST.
    let done = t.request(
        axum::http::Method::POST,
        path_of(&link),
        &Auth::None,
        Some("application/x-www-form-urlencoded"),
        b"List-Unsubscribe=One-Click".to_vec(),
    );
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(done.text().contains("no longer get mails when you are recognised"));
    let prefs = t.get(&team.ana.auth, "/api/v1/me/notifications").ok(200);
    assert_eq!(prefs, json!({"recognition": false, "redemption": true, "digest": true, "check_in_reminder": true}));

    // Ana gets no more recognition mail; Bob still does.
    t.post(
        &team.org.auth,
        "/api/v1/recognitions",
        &json!({"recipients": [team.ana.id, team.bob.id], "points": 1, "message": "Again"}),
    )
    .ok(201);
    deliver(t);
    let mails = sink.take();
    assert_eq!(recipients(&mails), [team.bob.email.as_str()]);
    assert_eq!(mails[0].subject(), "Olive Owner recognised you");
    assert!(mails[0].text.contains("1 ") && mails[0].text.contains(org["currency"]["name_singular"].as_str().unwrap()));
}

fn inactive_members_and_orgs_without_smtp_get_nothing(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    team.give(&team.owner, json!({"recipients": [team.ana.id, team.cy.id], "points": 2, "message": "Nice"})).ok(201);
    // Cy leaves before the event is handled: no mail for Cy.
    team.patch_member(&team.cy.id, json!({"status": "inactive"}));
    deliver(t);
    let mails = sink.take();
    assert_eq!(recipients(&mails), [team.ana.email.as_str()]);

    // Without SMTP nothing is queued at all.
    let plain = TestApp::new(db);
    let o = plain.signup("globex");
    let bea = plain.add_member(&o.auth, "bea@globex.example", json!({}));
    plain
        .post(&o.auth, "/api/v1/recognitions", &json!({"recipients": [bea["id"]], "points": 1, "message": "Hi"}))
        .ok(201);
    deliver(&plain);
    assert!(mail_jobs(&plain, &o.org_id).is_empty());
    assert_eq!(plain.app.schedule_periodic_mail_at(now_ms() + 8 * DAY).unwrap(), 0);
    assert!(sink.take().is_empty());
}

// ---------------------------------------------------------------- redemptions

fn redemption_mails_link_to_the_page_and_never_carry_the_code(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    t.app.set_plan("acme", plaudit_domain::org::Plan::Paid).unwrap();
    t.post(
        &team.org.auth,
        "/api/v1/awards",
        &json!({"recipients": [team.ana.id], "points": 500, "message": "Spend it"}),
    )
    .ok(201);
    let card = t
        .post(
            &team.org.auth,
            "/api/v1/rewards",
            &json!({"kind": "culture", "name": "Book <voucher>", "cost_points": 10, "requires_approval": true}),
        )
        .ok(201);
    let first = t.post(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": card["id"]})).ok(201);
    let second = t.post(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": card["id"]})).ok(201);
    deliver(t);
    sink.take(); // the award's recognition mail

    let code = "GIFT-SECRET-4711";
    t.post(
        &team.org.auth,
        &format!("/api/v1/redemptions/{}/fulfil", first["id"].as_str().unwrap()),
        &json!({"code": code, "note": "Desk 4"}),
    )
    .ok(200);
    t.post(
        &team.org.auth,
        &format!("/api/v1/redemptions/{}/decline", second["id"].as_str().unwrap()),
        &json!({"reason": "Out of <stock> this month"}),
    )
    .ok(200);
    deliver(t);
    let mut mails = sink.take();
    mails.sort_by_key(|m| m.subject());
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().all(|m| to(m) == team.ana.email));
    let (ready, declined) =
        if mails[0].subject().contains("ready") { (&mails[0], &mails[1]) } else { (&mails[1], &mails[0]) };
    assert_eq!(ready.subject(), "Your Book <voucher> is ready");
    assert!(ready.text.contains("was fulfilled on"), "{}", ready.text);
    assert!(ready.text.contains(&format!("{PUBLIC}/redemptions")));
    assert!(ready.html.contains("Book &lt;voucher&gt;"));
    for m in [ready, declined] {
        assert!(!m.raw.contains(code) && !m.text.contains(code) && !m.html.contains(code), "no code in mail");
        assert!(!m.text.contains("Desk 4"));
        assert!(m.header("list-unsubscribe").is_some());
    }
    assert_eq!(declined.subject(), "Your redemption of Book <voucher> was declined");
    assert!(declined.text.contains("> Out of <stock> this month"), "{}", declined.text);
    assert!(declined.html.contains("Out of &lt;stock&gt; this month"));
    assert!(declined.text.contains("went back to your balance"));

    // Turned off: no more redemption mail, recognition mail still comes.
    t.patch(&team.ana.auth, "/api/v1/me/notifications", &json!({"redemption": false})).ok(200);
    let third = t.post(&team.ana.auth, "/api/v1/redemptions", &json!({"reward_id": card["id"]})).ok(201);
    t.post(&team.org.auth, &format!("/api/v1/redemptions/{}/fulfil", third["id"].as_str().unwrap()), &json!({}))
        .ok(200);
    t.post(
        &team.org.auth,
        "/api/v1/recognitions",
        &json!({"recipients": [team.ana.id], "points": 1, "message": "Still here"}),
    )
    .ok(201);
    deliver(t);
    let mails = sink.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject(), "Olive Owner recognised you");
}

// ---------------------------------------------------------------- preferences

fn preferences_by_api_and_page(db: &TestDb) {
    let (team, _sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let all_on = json!({"recognition": true, "redemption": true, "digest": true, "check_in_reminder": true});
    assert_eq!(t.get(&team.ana.auth, "/api/v1/me/notifications").ok(200), all_on);
    let changed = t.patch(&team.ana.auth, "/api/v1/me/notifications", &json!({"digest": false})).ok(200);
    assert_eq!(changed["digest"], false);
    assert_eq!(changed["recognition"], true);
    let refused = t
        .patch(&team.ana.auth, "/api/v1/me/notifications", &json!({"password_reset": false}))
        .problem(422, "validation_failed");
    assert_eq!(refused["field"], "password_reset");
    t.patch(&team.ana.auth, "/api/v1/me/notifications", &json!({"newsletter": false}))
        .problem(422, "validation_failed");
    t.patch(&team.ana.auth, "/api/v1/me/notifications", &json!({"digest": "no"})).problem(422, "validation_failed");
    // Another member's choices are their own.
    assert_eq!(t.get(&team.bob.auth, "/api/v1/me/notifications").ok(200), all_on);
    t.get(&Auth::None, "/api/v1/me/notifications").problem(401, "unauthenticated");

    // The settings page: checked boxes are on, the rest off.
    let owner = &team.org.auth;
    let page = t.get(owner, "/settings/notifications");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("name=\"recognition\"") && page.text().contains("Password-reset links are always sent")
    );
    let form = format!("csrf={}&recognition=on&check_in_reminder=on", csrf_of(owner));
    let saved = t.request(
        axum::http::Method::POST,
        "/settings/notifications",
        owner,
        Some("application/x-www-form-urlencoded"),
        form.into_bytes(),
    );
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(
        t.get(owner, "/api/v1/me/notifications").ok(200),
        json!({"recognition": true, "redemption": false, "digest": false, "check_in_reminder": true})
    );
    // Without the CSRF token nothing changes.
    let forged = t.request(
        axum::http::Method::POST,
        "/settings/notifications",
        &owner.without_csrf(),
        Some("application/x-www-form-urlencoded"),
        b"recognition=on&redemption=on&digest=on&check_in_reminder=on".to_vec(),
    );
    assert_eq!(forged.status, 403);
    assert_eq!(t.get(owner, "/api/v1/me/notifications").ok(200)["redemption"], false);
}

// ---------------------------------------------------------------- weekly mails

/// A Monday at 10:00 in Oslo, at least `days` ahead.
fn monday_ten_oslo(days: i64) -> i64 {
    let tz = jiff::tz::TimeZone::get("Europe/Oslo").unwrap();
    let mut at = (now_ms() + days * DAY) / 3_600_000 * 3_600_000;
    loop {
        let z = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned_datetime(tz.clone());
        if z.weekday() == jiff::civil::Weekday::Monday && z.hour() == 10 {
            return at;
        }
        at += 3_600_000;
    }
}

fn give_at(team: &Team, recipient: &str, at: i64) {
    let caller = team.t.caller(&team.org.auth);
    let req = serde_json::from_value(json!({"recipients": [recipient], "points": 1, "message": "Thanks"})).unwrap();
    team.t.app.give_at(&caller, &req, None, at).unwrap();
}

fn digest_lists_exactly_the_unrecognised_reports_once_a_week(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let monday = monday_ten_oslo(45);
    let mia = team.person("mia@acme.example", json!({"display_name": "Mia Manager", "role": "manager"}));
    let max = team.person("max@acme.example", json!({"display_name": "Max Manager", "role": "manager"}));
    let report = |email: &str, name: &str, manager: &Person| {
        team.person(email, json!({"display_name": name, "manager_id": manager.id}))
    };
    let recent = report("recent@acme.example", "Rita Recent", &mia);
    let old = report("old@acme.example", "Olaf Old", &mia);
    let _never = report("never@acme.example", "Nina Never", &mia);
    let gone = report("gone@acme.example", "Gus Gone", &mia);
    let maxs = report("maxs@acme.example", "Mo Fine", &max);
    give_at(&team, &recent.id, monday - 2 * DAY);
    give_at(&team, &old.id, monday - 40 * DAY);
    give_at(&team, &maxs.id, monday - DAY);
    team.patch_member(&gone.id, json!({"status": "inactive"}));
    deliver_at(t, monday);
    sink.take();

    // Monday 08:59 in Oslo: not yet.
    assert_eq!(t.app.schedule_periodic_mail_at(monday - 61 * 60 * 1000).unwrap(), 0);
    let queued = t.app.schedule_periodic_mail_at(monday).unwrap();
    deliver_at(t, monday);
    let digests: Vec<Mail> = sink.take().into_iter().filter(|m| m.subject().contains("not recognised")).collect();
    assert_eq!(queued, digests.len(), "only digests are due here (no key results)");
    assert_eq!(digests.len(), 1, "Max's team is fine: no digest for Max");
    let d = &digests[0];
    assert_eq!(to(d), mia.email);
    assert_eq!(d.subject(), "2 of your team not recognised in 30 days");
    let old_date = plaudit_domain::mail::local_date(monday - 40 * DAY, "Europe/Oslo").unwrap();
    assert!(d.text.contains(&format!("- Olaf Old (last recognised {old_date})")), "{}", d.text);
    assert!(d.text.contains("- Nina Never (not recognised yet)"), "{}", d.text);
    assert!(!d.text.contains("Rita") && !d.text.contains("Gus") && !d.text.contains("Mo Fine"), "{}", d.text);
    assert!(d.html.contains("<li>Olaf Old"));
    assert!(d.header("list-unsubscribe").unwrap().contains("/unsubscribe/"));

    // Once a week: later that week, and from another instance, nothing more.
    assert_eq!(t.app.schedule_periodic_mail_at(monday + 3600 * 1000).unwrap(), 0);
    let other = TestApp::with_config(db, mail_config(&sink.url()));
    assert_eq!(other.app.schedule_periodic_mail_at(monday + 2 * DAY).unwrap(), 0);
    deliver_at(t, monday + 2 * DAY);
    assert!(sink.take().is_empty());

    // Next week it comes again; a manager who turned digests off is skipped.
    assert!(t.app.schedule_periodic_mail_at(monday + 7 * DAY).unwrap() >= 1);
    deliver_at(t, monday + 7 * DAY);
    assert_eq!(sink.take().iter().filter(|m| to(m) == mia.email).count(), 1);
    t.patch(&mia.auth, "/api/v1/me/notifications", &json!({"digest": false})).ok(200);
    assert_eq!(t.app.schedule_periodic_mail_at(monday + 14 * DAY).unwrap(), 0);
}

fn check_in_reminders_go_to_owners_of_stale_key_results(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let monday = monday_ten_oslo(10);
    let admin = &team.org.auth;
    let cycle = t
        .post(admin, "/api/v1/cycles", &json!({"kind": "custom", "name": "Long", "start_date": "2026-01-01", "end_date": "2028-12-31", "state": "active"}))
        .ok(201);
    let planning = t
        .post(
            admin,
            "/api/v1/cycles",
            &json!({"kind": "custom", "name": "Later", "start_date": "2029-01-01", "end_date": "2029-12-31"}),
        )
        .ok(201);
    let objective = |cycle: &Value, title: &str| -> String {
        let o = t.post(admin, "/api/v1/objectives", &json!({"cycle_id": cycle["id"], "title": title})).ok(201);
        o["id"].as_str().unwrap().to_string()
    };
    let grow = objective(&cycle, "Grow");
    let later = objective(&planning, "Someday");
    let kr = |objective: &str, title: &str, owner: &Person| -> String {
        let k = t
            .post(
                admin,
                &format!("/api/v1/objectives/{objective}/key_results"),
                &json!({"title": title, "start": 0, "target": 10, "owner_id": owner.id}),
            )
            .ok(201);
        k["id"].as_str().unwrap().to_string()
    };
    let _stale = kr(&grow, "Signups <weekly>", &team.ana);
    let fresh = kr(&grow, "Churn", &team.ana);
    let bobs = kr(&grow, "Latency", &team.bob);
    let _planned = kr(&later, "Future", &team.cy);
    for (id, who) in [(&fresh, &team.ana), (&bobs, &team.bob)] {
        let caller = t.caller(&who.auth);
        let ci = serde_json::from_value(json!({"value": 3})).unwrap();
        t.app.check_in_at(&caller, id, ci, monday - DAY).unwrap();
    }
    deliver_at(t, monday);
    sink.take();

    t.app.schedule_periodic_mail_at(monday).unwrap();
    deliver_at(t, monday);
    let reminders: Vec<Mail> = sink.take().into_iter().filter(|m| m.subject().contains("check-in")).collect();
    assert_eq!(reminders.len(), 1, "only Ana has a stale key result");
    let r = &reminders[0];
    assert_eq!(to(r), team.ana.email);
    assert_eq!(r.subject(), "1 key result needs a check-in");
    assert!(r.text.contains("- Signups <weekly> (Grow), last update"), "{}", r.text);
    assert!(!r.text.contains("Churn") && !r.text.contains("Future"));
    assert!(r.html.contains("Signups &lt;weekly&gt;"));
    assert!(r.text.contains(&format!("{PUBLIC}/okrs")));
    // Once per week.
    assert_eq!(t.app.schedule_periodic_mail_at(monday + DAY).unwrap(), 0);
}

// ---------------------------------------------------------------- password reset

fn password_reset_end_to_end(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    t.app.set_password("acme", &team.ana.email, PASSWORD).unwrap();
    let old_session = t.sign_in("acme", &team.ana.email, PASSWORD);
    let known =
        t.post(&Auth::None, "/api/v1/password_resets", &json!({"org": "acme", "email": "ANA@acme.example"})).ok(202);
    let unknown =
        t.post(&Auth::None, "/api/v1/password_resets", &json!({"org": "acme", "email": "nobody@acme.example"})).ok(202);
    let no_org =
        t.post(&Auth::None, "/api/v1/password_resets", &json!({"org": "nope", "email": "ana@acme.example"})).ok(202);
    assert_eq!(known, unknown);
    assert_eq!(known, no_org);
    deliver(t);
    let mails = sink.take();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(to(m), team.ana.email);
    assert_eq!(m.subject(), "Reset your Plaudit password for Org acme");
    assert!(m.header("list-unsubscribe").is_none(), "reset mails cannot be unsubscribed");
    assert!(m.text.contains("(Europe/Oslo)"));
    let link = m.link(&format!("{PUBLIC}/reset-password?token=")).expect("a reset link");
    let token = link.split("token=").nth(1).unwrap().to_string();
    // Only its hash is stored.
    let stored: Vec<String> = t
        .app
        .store
        .read(|tx| {
            Ok(tx
                .password_reset(&plaudit_app::auth::token_hash(&token), now_ms())?
                .into_iter()
                .map(|(o, _)| o)
                .collect())
        })
        .unwrap();
    assert_eq!(stored, [team.org.org_id.as_str()]);

    // The page accepts the link; a weak password is refused and changes nothing.
    let page = t.get(&Auth::None, path_of(&link));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Choose a new password"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    t.post(&Auth::None, "/api/v1/password_resets/confirm", &json!({"token": token, "password": "short"}))
        .problem(422, "validation_failed");
    t.get(&old_session, "/api/v1/me").ok(200);
    let new_password = "a much better passphrase";
    t.post(&Auth::None, "/api/v1/password_resets/confirm", &json!({"token": token, "password": new_password})).ok(204);
    // Old sessions end; the old password is gone; the new one works.
    t.get(&old_session, "/api/v1/me").problem(401, "unauthenticated");
    t.sign_in_raw("acme", &team.ana.email, PASSWORD).problem(401, "invalid_credentials");
    t.sign_in("acme", &team.ana.email, new_password);
    // Single use.
    t.post(
        &Auth::None,
        "/api/v1/password_resets/confirm",
        &json!({"token": token, "password": "yet another passphrase"}),
    )
    .problem(422, "reset_token_invalid");
    assert_eq!(t.get(&Auth::None, path_of(&link)).status, 410);
    t.post(
        &Auth::None,
        "/api/v1/password_resets/confirm",
        &json!({"token": "made-up", "password": "yet another passphrase"}),
    )
    .problem(422, "reset_token_invalid");

    // Expired after an hour.
    t.app.request_password_reset_at("acme", &team.ana.email, now_ms() - 61 * 60 * 1000).unwrap();
    deliver(t);
    let expired = sink.take();
    let token = expired[0]
        .link(&format!("{PUBLIC}/reset-password?token="))
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string();
    t.post(
        &Auth::None,
        "/api/v1/password_resets/confirm",
        &json!({"token": token, "password": "yet another passphrase"}),
    )
    .problem(422, "reset_token_invalid");

    // Rate limited: a fourth request within the hour sends nothing (the answer stays the same).
    for _ in 0..3 {
        t.post(&Auth::None, "/api/v1/password_resets", &json!({"org": "acme", "email": team.ana.email})).ok(202);
    }
    deliver(t);
    assert_eq!(sink.take().len(), 2, "three an hour: the first of this hour counts, so two more go out");
    // Inactive members get no link.
    team.patch_member(&team.bob.id, json!({"status": "inactive"}));
    t.post(&Auth::None, "/api/v1/password_resets", &json!({"org": "acme", "email": team.bob.email})).ok(202);
    deliver(t);
    assert!(sink.take().is_empty());
}

fn password_reset_pages_and_a_server_without_mail(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let signin = t.get(&Auth::None, "/signin?org=acme");
    assert!(signin.text().contains("href=\"/forgot-password?org=acme\""), "{}", signin.text());
    let form = t.get(&Auth::None, "/forgot-password?org=acme");
    assert_eq!(form.status, 200);
    let cookie = form.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let csrf = cookie.split_once('=').unwrap().1.to_string();
    let post = |email: &str| {
        let body = format!("csrf={csrf}&org=acme&email={}", email.replace('@', "%40"));
        t.request(
            axum::http::Method::POST,
            "/forgot-password",
            &Auth::CookieOnly(cookie.clone()),
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
    };
    let known = post(&team.ana.email);
    let unknown = post("nobody@acme.example");
    assert_eq!((known.status.as_u16(), unknown.status.as_u16()), (200, 200));
    let strip = |r: &Resp, email: &str| r.text().replace(email, "EMAIL");
    assert_eq!(strip(&known, &team.ana.email), strip(&unknown, "nobody@acme.example"), "the same answer");
    assert!(known.text().contains("a link to set a new password is on its way"));
    deliver(t);
    assert_eq!(sink.take().len(), 1);

    // No SMTP: the page says to ask an admin and the API says so too.
    let plain = TestApp::new(db);
    let page = plain.get(&Auth::None, "/forgot-password");
    assert!(page.text().contains("Ask an admin of your organisation"));
    assert!(!page.text().contains("action=\"/forgot-password\""));
    plain
        .post(&Auth::None, "/api/v1/password_resets", &json!({"org": "acme", "email": team.ana.email}))
        .problem(503, "mail_not_configured");
}

// ---------------------------------------------------------------- SMTP down, admin page

fn smtp_down_means_retry_later_and_delivery_when_back(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    sink.set_down(true);
    t.post(
        &team.org.auth,
        "/api/v1/recognitions",
        &json!({"recipients": [team.ana.id], "points": 3, "message": "Patience"}),
    )
    .ok(201);
    let now = now_ms() + 1;
    deliver_at(t, now);
    assert!(sink.take().is_empty());
    let jobs = mail_jobs(t, &team.org.org_id);
    assert_eq!(jobs.len(), 1, "the mail waits");
    let job = &jobs[0];
    assert_eq!(job.state, plaudit_store::JobState::Queued);
    assert_eq!(job.attempts, 1);
    assert!(job.run_at > now + 20_000, "retried later, not at once");
    assert!(job.last_error.as_deref().unwrap_or("").contains("421"), "{:?}", job.last_error);
    // The admin sees it.
    let page = t.get(&team.org.auth, "/admin/integrations/email").text();
    assert!(page.contains("data-testid=\"queued\">1<"), "{page}");
    assert!(page.contains("421"), "{page}");
    // Still down at the next try: a second attempt, later again.
    deliver_at(t, job.run_at);
    let again = &mail_jobs(t, &team.org.org_id)[0];
    assert_eq!(again.attempts, 2);
    assert!(again.run_at > job.run_at);
    // Back: delivered, and the queue is empty.
    sink.set_down(false);
    deliver_at(t, again.run_at);
    let mails = sink.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(to(&mails[0]), team.ana.email);
    assert!(mails[0].text.contains("Patience"));
    assert!(mail_jobs(t, &team.org.org_id).is_empty());
}

fn admin_page_shows_settings_without_the_password_and_sends_a_test(db: &TestDb) {
    let (team, sink) = team_with_mail(db, "acme");
    let t = &team.t;
    let owner = &team.org.auth;
    let feed = t.get(owner, "/feed").text();
    assert!(feed.contains("href=\"/admin/integrations\"") && feed.contains("href=\"/settings/notifications\""));
    let overview = t.get(owner, "/admin/integrations").text();
    assert!(
        overview.contains("href=\"/admin/integrations/email\"") && overview.contains("SMTP 127.0.0.1:"),
        "{overview}"
    );
    let page = t.get(owner, "/admin/integrations/email");
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(
        text.contains("127.0.0.1:") && text.contains("none (plain SMTP)") && text.contains("plaudit@plaudit.test"),
        "{text}"
    );
    let test = t.request(
        axum::http::Method::POST,
        "/admin/integrations/email/test",
        owner,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={}", csrf_of(owner)).into_bytes(),
    );
    assert_eq!(test.status, 200, "{}", test.text());
    assert!(test.text().contains("A test mail was sent to"));
    let mails = sink.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(to(&mails[0]), team.org.owner_email);
    assert_eq!(mails[0].subject(), "Plaudit test mail");
    // Members may not see it.
    let (_, member) = t.member_session(owner, "acme", "mo@acme.example", "member");
    assert_eq!(t.get(&member, "/admin/integrations/email").status, 403);

    // Credentials in the URL: the user name shows, the password never does.
    let secret = TestApp::with_config(db, mail_config("smtps://mailer:hunter2-secret@127.0.0.1:1"));
    let o = secret.signup("globex");
    let text = secret.get(&o.auth, "/admin/integrations/email").text();
    assert!(text.contains("implicit TLS (SMTPS)") && text.contains("mailer") && text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("hunter2"));
    // A test against a server that is not there says why, at once.
    let failed = secret.request(
        axum::http::Method::POST,
        "/admin/integrations/email/test",
        &o.auth,
        Some("application/x-www-form-urlencoded"),
        format!("csrf={}", csrf_of(&o.auth)).into_bytes(),
    );
    assert_eq!(failed.status, 502);
    assert!(failed.text().contains("The test mail was not sent"));
    assert!(!failed.text().contains("hunter2"));

    // Not configured at all.
    let plain = TestApp::new(db);
    let p = plain.signup("initech");
    let text = plain.get(&p.auth, "/admin/integrations/email").text();
    assert!(text.contains("Not configured") && !text.contains("Send test e-mail"));
}

backend_tests! {
    recognition_mail_names_the_giver_escapes_html_and_unsubscribes_one_kind,
    inactive_members_and_orgs_without_smtp_get_nothing,
    redemption_mails_link_to_the_page_and_never_carry_the_code,
    preferences_by_api_and_page,
    digest_lists_exactly_the_unrecognised_reports_once_a_week,
    check_in_reminders_go_to_owners_of_stale_key_results,
    password_reset_end_to_end,
    password_reset_pages_and_a_server_without_mail,
    smtp_down_means_retry_later_and_delivery_when_back,
    admin_page_shows_settings_without_the_password_and_sends_a_test,
}
