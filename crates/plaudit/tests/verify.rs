//! `plaudit verify` against a real database, on SQLite and PostgreSQL: it
//! passes on a clean ledger and fails (non-zero, naming the account) once a
//! cached balance or allowance is changed behind the ledger's back.

use plaudit_app::orgs::NewOrg;
use plaudit_app::recognition::{AwardRequest, GiveRequest};
use plaudit_app::{App, Config};
use plaudit_domain::org::Plan;
use plaudit_store::testing::TestDb;
use plaudit_store::{backend_tests, Store};
use std::process::Command;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn verify(db: &TestDb) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["--database-url", db.url.as_str(), "verify"])
        .env_remove("PLAUDIT_DATABASE_URL")
        .env_remove("PLAUDIT_DATA_DIR")
        .env("PLAUDIT_LOG", "warn")
        .output()
        .expect("run plaudit");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[track_caller]
fn passes(db: &TestDb) {
    let run = verify(db);
    assert_eq!(run.code, Some(0), "verify should pass\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ledger verified"), "{}", run.stdout);
}

#[track_caller]
fn fails_naming(db: &TestDb, needle: &str) -> String {
    let run = verify(db);
    assert!(run.code.is_some_and(|c| c != 0), "verify should fail\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stdout.contains(needle), "the report names {needle}: {}", run.stdout);
    assert!(run.stdout.contains("problem(s) found"), "{}", run.stdout);
    run.stdout
}

fn verify_passes_on_a_clean_ledger_and_fails_on_a_corrupted_one(db: &TestDb) {
    passes(db); // an empty database

    let app = App::new(Store::open(&db.url).unwrap(), Config::default());
    let (org, owner) = app
        .create_org(NewOrg {
            name: "Acme".into(),
            slug: "acme".into(),
            timezone: "Europe/Oslo".into(),
            plan: Plan::Free,
            owner_email: "owner@acme.example".into(),
            owner_name: "Olive".into(),
            owner_password: None,
        })
        .unwrap();
    let admin = app.caller_for(&org.id, &owner.id).unwrap();
    let mut ids = Vec::new();
    for name in ["ana", "bob"] {
        let new =
            serde_json::from_value(serde_json::json!({"email": format!("{name}@acme.example"), "display_name": name}))
                .unwrap();
        ids.push(app.create_member(&admin, new).unwrap().id);
    }
    let (ana, bob) = (ids[0].clone(), ids[1].clone());
    let ana_caller = app.caller_for(&org.id, &ana).unwrap();
    let gift =
        GiveRequest { recipients: vec![bob.clone()], points: 20, message: "thanks".into(), ..Default::default() };
    let post = app.give(&ana_caller, &gift, None).unwrap().recognition;
    app.award(
        &admin,
        &AwardRequest { recipients: vec![ana.clone()], points: 5, message: "award".into(), values: vec![] },
        None,
    )
    .unwrap();
    app.hide(&admin, &post.id).unwrap();
    app.give(&ana_caller, &gift, None).unwrap();
    assert!(app.verify_ledger().unwrap().is_empty());
    passes(db);

    // A cached earned balance changed without an entry.
    app.store.write(|tx| tx.credit(&org.id, &bob, 7)).unwrap();
    let report = fails_naming(db, &bob);
    assert!(report.contains("cached 27 but the ledger sums to 20"), "{report}");
    app.store.write(|tx| tx.debit(&org.id, &bob, 7).map(|_| ())).unwrap();
    passes(db);

    // An allowance spent without an entry.
    let period = app.balance(&ana_caller, &ana).unwrap().period;
    assert!(app.store.write(|tx| tx.spend_allowance(&org.id, &ana, &period, 3)).unwrap());
    let report = fails_naming(db, &format!("allowance:{period}"));
    assert!(report.contains(&ana), "{report}");
}

backend_tests!(verify_passes_on_a_clean_ledger_and_fails_on_a_corrupted_one);
