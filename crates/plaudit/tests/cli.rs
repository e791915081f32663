//! The `plaudit` command line end to end: the built binary on a temporary
//! data directory (SQLite), and once on a fresh PostgreSQL schema.

use plaudit_app::{App, Config};
use plaudit_store::Store;
use std::path::Path;
use std::process::{Command, Output};

const DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/demo/directory.csv");
const PASSWORD: &str = "a long enough password";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs the binary with these database arguments (and no PLAUDIT_* from outside).
fn plaudit(db: &[&str], args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(db)
        .args(args)
        .env_remove("PLAUDIT_DATABASE_URL")
        .env_remove("PLAUDIT_DATA_DIR")
        .env("PLAUDIT_LOG", "warn")
        .output()
        .expect("run plaudit");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(run: Run) -> String {
    assert!(run.ok, "plaudit failed\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
    run.stdout
}

#[track_caller]
fn fails(run: Run) -> String {
    assert!(!run.ok, "plaudit should have failed\nstdout: {}", run.stdout);
    assert!(run.stderr.contains("error: "), "{}", run.stderr);
    run.stderr
}

fn member_count(url: &str, slug: &str) -> usize {
    let store = Store::open(url).unwrap();
    let org = store.read(|tx| tx.org_by_slug(slug)).unwrap().expect("org");
    store.read(|tx| tx.list_members(&org.id, &Default::default(), None, 100_000)).unwrap().len()
}

/// The whole operator story against one database.
fn operator_story(db: &[&str], url: &str) {
    let create = ok(plaudit(
        db,
        &["org", "create", "--name", "Acme Corp", "--slug", "acme", "--admin-email", "Owner@Acme.example"],
    ));
    assert!(
        create.contains("created organisation acme (Acme Corp, free plan) with owner Owner@Acme.example"),
        "{create}"
    );
    fails(plaudit(db, &["org", "create", "--name", "Again", "--slug", "acme", "--admin-email", "x@y.io"]));

    // On the free plan most of the file does not fit; a dry run says so and writes nothing.
    let dry = ok(plaudit(db, &["import", "members", "--org", "acme", DIRECTORY, "--dry-run"]));
    assert!(dry.starts_with("dry run, nothing written: 1470 rows: "), "{dry}");
    assert!(dry.contains("(plan_limit)"), "{dry}");
    assert_eq!(member_count(url, "acme"), 1);

    let plan = ok(plaudit(db, &["org", "set-plan", "acme", "paid"]));
    assert!(plan.contains("acme is now on the paid plan"), "{plan}");
    fails(plaudit(db, &["org", "set-plan", "acme", "gold"]));
    assert!(ok(plaudit(db, &["org", "list"])).lines().any(|l| l.starts_with("acme\tpaid\t")));

    let dry = ok(plaudit(db, &["import", "members", "--org", "acme", DIRECTORY, "--dry-run"]));
    assert!(dry.contains("dry run, nothing written: 1470 rows: 1470 created"), "{dry}");
    assert_eq!(member_count(url, "acme"), 1, "the dry run wrote nothing");

    let first = ok(plaudit(db, &["import", "members", "--org", "acme", DIRECTORY]));
    assert_eq!(
        first.trim(),
        "1470 rows: 1470 created, 0 updated (0 deactivated, 0 reactivated), 0 unchanged, 0 skipped",
        "{first}"
    );
    assert_eq!(member_count(url, "acme"), 1471);
    let again = ok(plaudit(db, &["import", "members", "--org", "acme", DIRECTORY]));
    assert!(again.contains("1470 unchanged, 0 skipped"), "{again}");
    assert!(again.contains("no changes: the directory already matches the file"), "{again}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(plaudit(db, &["import", "members", "--org", "acme", DIRECTORY, "--json"]))).unwrap();
    assert_eq!((json["created"].as_u64(), json["unchanged"].as_u64()), (Some(0), Some(1470)));
    assert!(fails(plaudit(db, &["import", "members", "--org", "nope", DIRECTORY])).contains("organisation not found"));
    fails(plaudit(db, &["import", "members", "--org", "acme", "/no/such/file.csv"]));

    // The owner was created without a password: nobody can sign in until the operator sets one.
    let app = App::new(Store::open(url).unwrap(), Config::default());
    assert_eq!(app.sign_in("acme", "owner@acme.example", PASSWORD).unwrap_err().code, "invalid_credentials");
    let set =
        ok(plaudit(db, &["member", "set-password", "--org", "acme", "OWNER@acme.example", "--password", PASSWORD]));
    assert!(set.contains("password set for Owner@Acme.example"), "{set}");
    let session = app.sign_in("acme", "owner@acme.example", PASSWORD).expect("sign in after set-password");
    assert_eq!(session.member.role.as_str(), "owner");
    ok(plaudit(db, &["member", "set-password", "--org", "acme", "pierce.monk@example.com", "--password", PASSWORD]));
    assert_eq!(
        app.sign_in("acme", "pierce.monk@example.com", PASSWORD).unwrap().member.profile.display_name,
        "Pierce Monk"
    );
    assert!(fails(plaudit(
        db,
        &["member", "set-password", "--org", "acme", "pierce.monk@example.com", "--password", "short"]
    ))
    .contains("at least 10 characters"));
    fails(plaudit(db, &["member", "set-password", "--org", "acme", "ghost@example.com", "--password", PASSWORD]));

    // A SCIM token for the operator's scripts: only the token on stdout, made as the owner.
    let token = ok(plaudit(db, &["scim", "create-token", "--org", "acme"]));
    let caller = app.scim_caller(token.trim()).expect("the printed token works");
    assert_eq!(caller.member.role.as_str(), "owner");
    fails(plaudit(db, &["scim", "create-token", "--org", "no-such-org"]));

    let migrate = ok(plaudit(db, &["migrate"]));
    assert_eq!(migrate.trim(), "the database is up to date");
}

#[test]
fn the_command_line_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = data.to_str().unwrap();
    let db = ["--data-dir", data_dir];
    let first = ok(plaudit(&db, &["migrate"]));
    assert!(first.starts_with("applied 0001_foundation\n"), "{first}");
    assert!(first.lines().all(|l| l.starts_with("applied 0")), "{first}");
    assert!(Path::new(data_dir).join("plaudit.db").exists());

    let url = format!("sqlite://{}", data.join("plaudit.db").display());
    operator_story(&db, &url);

    // A consistent copy holds the same directory.
    let copy = dir.path().join("copy.db");
    let backup = ok(plaudit(&db, &["backup", copy.to_str().unwrap()]));
    assert!(backup.contains("backed up to"), "{backup}");
    assert_eq!(member_count(copy.to_str().unwrap(), "acme"), 1471);
    fails(plaudit(&db, &["backup", copy.to_str().unwrap()]));

    // The data dir can come from the environment too.
    let out = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["org", "list"])
        .env_remove("PLAUDIT_DATABASE_URL")
        .env("PLAUDIT_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("acme\tpaid\t"));
}

#[test]
fn the_command_line_on_postgres() {
    let Some(pg) = plaudit_store::testing::postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The data dir is unused when a database URL is given.
    let data = dir.path().join("unused");
    let db = ["--database-url", pg.url.as_str(), "--data-dir", data.to_str().unwrap()];
    assert_eq!(ok(plaudit(&db, &["migrate"])).trim(), "the database is up to date");
    operator_story(&db, &pg.url);
    assert!(!data.join("plaudit.db").exists(), "nothing went to SQLite");

    // PLAUDIT_DATABASE_URL works as the flag does.
    let out = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .args(["org", "list"])
        .env("PLAUDIT_DATABASE_URL", &pg.url)
        .env("PLAUDIT_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("acme\tpaid\t"), "{out:?}");
}
