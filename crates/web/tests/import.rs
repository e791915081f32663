//! `POST /api/v1/members/import`: the realistic directory end to end, and
//! every kind of bad row, on SQLite and PostgreSQL.

mod common;

use common::*;
use plaudit_domain::org::Plan;
use plaudit_store::backend_tests;
use plaudit_store::testing::TestDb;
use serde_json::{json, Value};
use std::collections::HashMap;

const IMPORT: &str = "/api/v1/members/import";

fn directory_rows() -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_reader(DIRECTORY_CSV);
    reader.records().map(|r| r.expect("directory.csv row")).collect()
}

#[track_caller]
fn counts(report: &Value) -> (u64, u64, u64, u64, usize) {
    (
        report["rows"].as_u64().unwrap(),
        report["created"].as_u64().unwrap(),
        report["updated"].as_u64().unwrap(),
        report["unchanged"].as_u64().unwrap(),
        report["skipped"].as_array().unwrap().len(),
    )
}

fn audit_actions(t: &TestApp, auth: &Auth) -> Vec<String> {
    let page = t.get(auth, "/api/v1/audit_log?limit=100").ok(200);
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

fn the_directory_imports_whole_and_a_rerun_is_a_no_op(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");

    let report = t.post_csv(&o.auth, IMPORT, DIRECTORY_CSV).ok(200);
    assert_eq!(counts(&report), (1470, 1470, 0, 0, 0), "{report}");
    assert_eq!(report["dry_run"], false);

    let active = t.all_members(&o.auth, "status=active");
    let inactive = t.all_members(&o.auth, "status=inactive");
    assert_eq!(active.len(), 1233 + 1, "the file's active people and the owner");
    assert_eq!(inactive.len(), 237);
    assert!(active.iter().any(|m| m["id"] == o.owner_id.as_str()));

    // Every manager_email resolves to the member with that e-mail.
    let everyone = t.all_members(&o.auth, "");
    assert_eq!(everyone.len(), 1471);
    let by_email: HashMap<&str, &Value> = everyone.iter().map(|m| (m["email"].as_str().unwrap(), m)).collect();
    let mut with_manager = 0;
    for row in directory_rows() {
        let (email, manager, status, title) = (&row[1], &row[8], &row[12], &row[5]);
        let m = by_email.get(email).unwrap_or_else(|| panic!("{email} was not imported"));
        assert_eq!(m["status"], status, "{email}");
        assert_eq!(m["title"], title, "{email}");
        assert_eq!(m["employee_id"], &row[0], "{email}");
        assert_eq!(m["role"], "member", "{email}");
        if manager.is_empty() {
            assert!(m["manager_id"].is_null(), "{email} has no manager in the file");
        } else {
            with_manager += 1;
            assert_eq!(m["manager_id"], by_email[manager]["id"], "{email}'s manager should be {manager}");
        }
    }
    assert_eq!(with_manager, 1469, "everyone but the head of company has a manager");

    // Unicode names survive the trip.
    let valerie = by_email["valerie.alexandre@example.com"];
    assert_eq!(valerie["display_name"], "Valérie Alexandre");
    assert_eq!(valerie["start_date"], "2018-09-05");
    assert_eq!(valerie["birthday"], "11-15");

    let again = t.post_csv(&o.auth, IMPORT, DIRECTORY_CSV).ok(200);
    assert_eq!(counts(&again), (1470, 0, 0, 1470, 0), "{again}");
    assert_eq!(again["deactivated"], 0);
    assert_eq!(again["reactivated"], 0);
    assert_eq!(
        audit_actions(&t, &o.auth).iter().filter(|a| *a == "members.imported").count(),
        1,
        "a no-op is not audited"
    );

    // One changed title updates exactly that member.
    let text = std::str::from_utf8(DIRECTORY_CSV).unwrap();
    let before = "E00002,pierce.monk@example.com,Pierce,Monk,Pierce Monk,Research Scientist,";
    assert!(text.contains(before));
    let changed = text.replace(before, "E00002,pierce.monk@example.com,Pierce,Monk,Pierce Monk,Principal Scientist,");
    let report = t.post_csv(&o.auth, IMPORT, changed.as_bytes()).ok(200);
    assert_eq!(counts(&report), (1470, 0, 1, 1469, 0), "{report}");
    let pierce = by_email["pierce.monk@example.com"]["id"].as_str().unwrap();
    let m = t.get(&o.auth, &format!("/api/v1/members/{pierce}")).ok(200);
    assert_eq!(m["title"], "Principal Scientist");

    // Flipping statuses in the file deactivates and reactivates.
    let emma = changed.lines().find(|l| l.starts_with("E00001,")).unwrap().to_string();
    let pierce_row = changed.lines().find(|l| l.starts_with("E00002,")).unwrap().to_string();
    let flipped = changed
        .replace(&emma, &format!("{},active", emma.strip_suffix(",inactive").expect("Emma is inactive")))
        .replace(&pierce_row, &format!("{},inactive", pierce_row.strip_suffix(",active").expect("Pierce is active")));
    let report = t.post_csv(&o.auth, IMPORT, flipped.as_bytes()).ok(200);
    assert_eq!(counts(&report), (1470, 0, 2, 1468, 0), "{report}");
    assert_eq!((report["deactivated"].as_u64(), report["reactivated"].as_u64()), (Some(1), Some(1)), "{report}");
    assert_eq!(t.get(&o.auth, &format!("/api/v1/members/{pierce}")).ok(200)["status"], "inactive");
}

fn a_dry_run_writes_nothing(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let audit_before = audit_actions(&t, &o.auth);

    let report = t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=true"), DIRECTORY_CSV).ok(200);
    assert_eq!(report["dry_run"], true);
    assert_eq!(counts(&report), (1470, 1470, 0, 0, 0), "a dry run reports what would happen: {report}");

    let stored = t.stored_members(&o.org_id);
    assert_eq!(stored.len(), 1, "only the owner: {stored:?}");
    assert_eq!(audit_actions(&t, &o.auth), audit_before, "no audit entry either");

    // The real run afterwards still creates everyone.
    let report = t.post_csv(&o.auth, IMPORT, DIRECTORY_CSV).ok(200);
    assert_eq!(counts(&report), (1470, 1470, 0, 0, 0), "{report}");
    // And a dry run of a no-op reports it as one.
    let report = t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=true"), DIRECTORY_CSV).ok(200);
    assert_eq!(counts(&report), (1470, 0, 0, 1470, 0), "{report}");
}

fn a_bom_and_crlf_file_imports_the_same(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    // directory.csv has CRLF line ends already; add the BOM Excel writes, and make an LF copy.
    let text = std::str::from_utf8(DIRECTORY_CSV).unwrap();
    assert_eq!(text.matches("\r\n").count(), 1471);
    assert!(!text.starts_with('\u{feff}'));
    let mut windows = "\u{feff}".as_bytes().to_vec();
    windows.extend_from_slice(DIRECTORY_CSV);
    let unix = text.replace("\r\n", "\n");

    let report = t.post_csv(&o.auth, IMPORT, &windows).ok(200);
    assert_eq!(counts(&report), (1470, 1470, 0, 0, 0), "{report}");
    assert_eq!(t.all_members(&o.auth, "status=inactive").len(), 237);
    // The LF copy and the file as published find exactly the same data already there.
    for same in [unix.as_bytes(), DIRECTORY_CSV] {
        let report = t.post_csv(&o.auth, IMPORT, same).ok(200);
        assert_eq!(counts(&report), (1470, 0, 0, 1470, 0), "{report}");
    }
    // And the BOM/CRLF copy is a no-op in turn.
    let report = t.post_csv(&o.auth, IMPORT, &windows).ok(200);
    assert_eq!(counts(&report), (1470, 0, 0, 1470, 0), "{report}");

    // A bad row is reported on its own line of the CRLF file, blank lines included.
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    lines[100] = lines[100].replace(",active", ",retired").replace(",inactive", ",retired");
    let bad_email = lines[100].split(',').nth(1).unwrap().to_string();
    lines.insert(50, String::new());
    let mut edited = "\u{feff}".as_bytes().to_vec();
    edited.extend(lines.join("\r\n").into_bytes());
    let report = t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=true"), &edited).ok(200);
    assert_eq!(counts(&report), (1470, 0, 0, 1469, 1), "{report}");
    assert_eq!(skip_codes(&report), vec![(102, "unknown_status".to_string())]);
    assert_eq!(report["skipped"][0]["email"], bad_email.as_str());
}

#[track_caller]
fn skip_codes(report: &Value) -> Vec<(u64, String)> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["reason"].as_str().is_some_and(|r| !r.is_empty()), "a skip says why: {s}");
            (s["line"].as_u64().unwrap(), s["code"].as_str().unwrap().to_string())
        })
        .collect()
}

fn bad_rows_are_reported_by_line_and_good_rows_still_import(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let file = csv(
        HEADER,
        &[
            &row("E1", "worker@x.io", "boss@x.io", "active"), // 2: manager appears later
            &row("E2", "", "", "active"),                     // 3: missing e-mail
            &row("E3", "not-an-email", "", "active"),         // 4: malformed
            &row("E4", "Worker@X.io", "", "active"),          // 5: duplicate of line 2
            &row("E5", "orphan@x.io", "ghost@x.io", "active"), // 6: unknown manager
            &row("E6", "loop-a@x.io", "loop-b@x.io", "active"), // 7: cycle
            &row("E7", "loop-b@x.io", "loop-a@x.io", "active"), // 8: cycle
            &row("E8", "retired@x.io", "", "retired"),        // 9: unknown status
            "E9,quoted@x.io,Ann,\"O'Neil, Jr.\",,\"Head of \"\"Fun\"\"\",R&D,Oslo,boss@x.io,,,,", // 10: quotes, blank status
            &row("E10", "self@x.io", "self@x.io", "active"),                                      // 11: own manager
            &row("E11", "boss@x.io", "", "inactive"),                                             // 12
        ],
    );
    // Line numbers do not depend on a BOM or CRLF line ends.
    let mut windows = "\u{feff}".as_bytes().to_vec();
    windows.extend(String::from_utf8(file.clone()).unwrap().replace('\n', "\r\n").into_bytes());
    let rehearsed = t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=true"), &windows).ok(200);

    let report = t.post_csv(&o.auth, IMPORT, &file).ok(200);
    assert_eq!(rehearsed["skipped"], report["skipped"]);
    assert_eq!(rehearsed["created"], report["created"]);
    assert_eq!(
        skip_codes(&report),
        vec![
            (3, "invalid_email".to_string()),
            (4, "invalid_email".to_string()),
            (5, "duplicate_email".to_string()),
            (6, "unknown_manager".to_string()),
            (7, "manager_cycle".to_string()),
            (8, "manager_cycle".to_string()),
            (9, "unknown_status".to_string()),
            (11, "manager_cycle".to_string()),
        ],
        "{report}"
    );
    assert_eq!(report["rows"], 11);
    assert_eq!(report["created"], 3, "{report}");
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped[2]["email"], "Worker@X.io");
    assert_eq!(skipped[3]["email"], "orphan@x.io");

    let members = t.all_members(&o.auth, "");
    let by_email: HashMap<&str, &Value> = members.iter().map(|m| (m["email"].as_str().unwrap(), m)).collect();
    let mut emails: Vec<&str> = by_email.keys().copied().collect();
    emails.sort();
    assert_eq!(emails, ["boss@x.io", "owner@acme.example", "quoted@x.io", "worker@x.io"]);
    assert_eq!(by_email["worker@x.io"]["manager_id"], by_email["boss@x.io"]["id"]);
    assert_eq!(by_email["quoted@x.io"]["manager_id"], by_email["boss@x.io"]["id"]);
    assert_eq!(by_email["quoted@x.io"]["last_name"], "O'Neil, Jr.");
    assert_eq!(by_email["quoted@x.io"]["title"], "Head of \"Fun\"");
    assert_eq!(by_email["quoted@x.io"]["status"], "active", "a blank status means active");
    assert_eq!(by_email["boss@x.io"]["status"], "inactive");

    // Fixing the file imports the rest and leaves the good rows alone.
    let fixed = csv(
        HEADER,
        &[
            &row("E1", "worker@x.io", "boss@x.io", "active"),
            &row("E5", "orphan@x.io", "boss@x.io", "active"),
            &row("E6", "loop-a@x.io", "boss@x.io", "active"),
            &row("E7", "loop-b@x.io", "loop-a@x.io", "active"),
            &row("E11", "boss@x.io", "", "inactive"),
        ],
    );
    let report = t.post_csv(&o.auth, IMPORT, &fixed).ok(200);
    assert_eq!(counts(&report), (5, 3, 0, 2, 0), "{report}");
}

fn a_manager_loop_through_the_directory_is_refused(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let first = csv(HEADER, &[&row("E1", "a@x.io", "", "active"), &row("E2", "b@x.io", "a@x.io", "active")]);
    assert_eq!(counts(&t.post_csv(&o.auth, IMPORT, &first).ok(200)), (2, 2, 0, 0, 0));
    // a now reports to b, who (in the directory, not the file) reports to a.
    let second = csv(HEADER, &[&row("E1", "a@x.io", "b@x.io", "active")]);
    let report = t.post_csv(&o.auth, IMPORT, &second).ok(200);
    assert_eq!(skip_codes(&report), vec![(2, "manager_cycle".to_string())], "{report}");
    let members = t.all_members(&o.auth, "");
    let a = members.iter().find(|m| m["email"] == "a@x.io").unwrap();
    assert!(a["manager_id"].is_null(), "nothing written for the refused row");
}

fn the_free_plan_limit_skips_the_rows_past_50(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("small");
    let rows: Vec<String> = (1..=60).map(|i| row(&format!("E{i}"), &format!("p{i}@x.io"), "", "active")).collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let file = csv(HEADER, &refs);

    let report = t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=true"), &file).ok(200);
    assert_eq!((report["created"].as_u64(), report["skipped"].as_array().unwrap().len()), (Some(49), 11));
    assert_eq!(t.stored_members(&o.org_id).len(), 1);

    let report = t.post_csv(&o.auth, IMPORT, &file).ok(200);
    assert_eq!(report["created"], 49, "{report}");
    let skips = skip_codes(&report);
    assert_eq!(skips, (51..=61).map(|l| (l, "plan_limit".to_string())).collect::<Vec<_>>(), "{report}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("50"));
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50);

    // A file that deactivates people frees places for others in the same run.
    let mut rows = rows.clone();
    for r in rows.iter_mut().take(5) {
        *r = r.replace(",active", ",inactive");
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let report = t.post_csv(&o.auth, IMPORT, &csv(HEADER, &refs)).ok(200);
    assert_eq!((report["created"].as_u64(), report["deactivated"].as_u64()), (Some(5), Some(5)), "{report}");
    assert_eq!(report["skipped"].as_array().unwrap().len(), 6, "{report}");
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50);

    // The operator's upgrade lifts the limit.
    t.app.set_plan("small", Plan::Paid).unwrap();
    let report = t.post_csv(&o.auth, IMPORT, &csv(HEADER, &refs)).ok(200);
    assert_eq!((report["created"].as_u64(), report["skipped"].as_array().unwrap().len()), (Some(6), 0), "{report}");
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 56);
}

fn free_places_go_to_whole_reporting_lines(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.signup("small");
    // 60 reports listed before their boss: the boss must get a place first,
    // or none of the reports could be imported at all.
    let mut rows: Vec<String> =
        (1..=60).map(|i| row(&format!("E{i}"), &format!("p{i}@x.io"), "boss@x.io", "active")).collect();
    rows.push(row("E0", "boss@x.io", "", "active"));
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let report = t.post_csv(&o.auth, IMPORT, &csv(HEADER, &refs)).ok(200);
    assert_eq!(report["created"], 49, "{report}");
    let skips = skip_codes(&report);
    assert_eq!(skips, (50..=61).map(|l| (l, "plan_limit".to_string())).collect::<Vec<_>>(), "{report}");
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50);

    // The real directory on the free plan: it fills up to the limit, and
    // everyone imported has their manager.
    let o = t.signup("dir");
    let report = t.post_csv(&o.auth, IMPORT, DIRECTORY_CSV).ok(200);
    assert_eq!(t.all_members(&o.auth, "status=active").len(), 50, "{}", report["created"]);
    let members = t.all_members(&o.auth, "");
    assert_eq!(members.len() as u64, report["created"].as_u64().unwrap() + 1);
    let ids: std::collections::HashSet<&str> = members.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let with_manager = members.iter().filter(|m| !m["manager_id"].is_null()).count();
    assert!(members.iter().all(|m| m["manager_id"].as_str().is_none_or(|id| ids.contains(id))));
    assert_eq!(with_manager, members.len() - 2, "all but the owner and the head of company");
    for s in report["skipped"].as_array().unwrap() {
        assert!(s["code"] == "plan_limit" || s["code"] == "manager_not_imported", "{s}");
    }
}

fn the_file_cannot_deactivate_the_last_owner(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let file = csv(
        HEADER,
        &[&row("E1", "OWNER@acme.example", "", "inactive"), &row("E2", "new@x.io", "owner@acme.example", "active")],
    );
    let report = t.post_csv(&o.auth, IMPORT, &file).ok(200);
    assert_eq!(skip_codes(&report), vec![(2, "last_owner".to_string())], "{report}");
    assert_eq!(report["created"], 1);
    let owner = t.get(&o.auth, &format!("/api/v1/members/{}", o.owner_id)).ok(200);
    assert_eq!((owner["status"].as_str(), owner["role"].as_str()), (Some("active"), Some("owner")));
    assert!(owner["employee_id"].is_null(), "the refused row changed nothing");

    // With a second owner, the file may deactivate one of them.
    let second = t.add_member(&o.auth, "second@x.io", json!({"role": "owner"}));
    let report = t.post_csv(&o.auth, IMPORT, &file).ok(200);
    assert_eq!((report["updated"].as_u64(), report["deactivated"].as_u64()), (Some(1), Some(1)), "{report}");
    t.get(&o.auth, "/api/v1/me").problem(401, "unauthenticated");
    let file = csv(HEADER, &[&row("E3", "second@x.io", "", "inactive")]);
    let second_auth = {
        t.app.set_password("acme", "second@x.io", PASSWORD).unwrap();
        t.sign_in("acme", "second@x.io", PASSWORD)
    };
    let report = t.post_csv(&second_auth, IMPORT, &file).ok(200);
    assert_eq!(skip_codes(&report), vec![(2, "last_owner".to_string())], "{report}");
    assert_eq!(
        t.get(&second_auth, &format!("/api/v1/members/{}", second["id"].as_str().unwrap())).ok(200)["status"],
        "active"
    );
}

fn a_file_without_an_email_column_is_refused_whole(db: &TestDb) {
    let t = TestApp::new(db);
    let o = t.paid_org("acme");
    let resp = t.post_csv(&o.auth, IMPORT, b"name,title\nAna,CEO\n");
    let body = resp.problem(422, "validation_failed");
    assert_eq!(body["field"], "file");
    let good = csv(HEADER, &[&row("E1", "a@x.io", "", "active")]);
    t.post_csv(&o.auth, &format!("{IMPORT}?dry_run=perhaps"), &good).problem(422, "validation_failed");
    assert_eq!(t.stored_members(&o.org_id).len(), 1);
}

backend_tests!(
    the_directory_imports_whole_and_a_rerun_is_a_no_op,
    a_dry_run_writes_nothing,
    a_bom_and_crlf_file_imports_the_same,
    bad_rows_are_reported_by_line_and_good_rows_still_import,
    a_manager_loop_through_the_directory_is_refused,
    the_free_plan_limit_skips_the_rows_past_50,
    free_places_go_to_whole_reporting_lines,
    the_file_cannot_deactivate_the_last_owner,
    a_file_without_an_email_column_is_refused_whole,
);
