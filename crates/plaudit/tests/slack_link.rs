//! `plaudit slack link`: the operator links a Slack workspace by hand; the
//! bot token is sealed with the data dir's key, which the server uses too.

use plaudit_app::secrets::SecretKey;
use plaudit_store::Store;
use std::process::Command;

fn plaudit(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plaudit"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("PLAUDIT_DATABASE_URL")
        .env_remove("PLAUDIT_DATA_DIR")
        .env_remove("PLAUDIT_SECRET_KEY")
        .env("PLAUDIT_LOG", "warn")
        .output()
        .expect("run plaudit");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn slack_link_stores_the_workspace_with_a_sealed_token() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) =
        plaudit(dir.path(), &["org", "create", "--name", "Acme", "--slug", "acme", "--admin-email", "o@acme.example"]);
    assert!(ok, "{err}");
    let (ok, out, err) =
        plaudit(dir.path(), &["slack", "link", "--org", "acme", "--team-id", "T0ACME", "--bot-token", "xoxb-1-secret"]);
    assert!(ok, "{err}");
    assert!(out.contains("linked Slack workspace T0ACME to acme"), "{out}");

    let store = Store::open(&format!("sqlite://{}", dir.path().join("plaudit.db").display())).unwrap();
    let org = store.read(|tx| tx.org_by_slug("acme")).unwrap().unwrap();
    let install = store.read(|tx| tx.slack_install_by_team("T0ACME")).unwrap().expect("linked");
    assert_eq!(install.org_id, org.id);
    assert!(!install.bot_token_enc.contains("secret"));
    let key = SecretKey::load_or_create(None, dir.path()).unwrap();
    assert_eq!(key.open(&format!("slack:{}:bot_token", org.id), &install.bot_token_enc).unwrap(), "xoxb-1-secret");

    let (ok, _, err) =
        plaudit(dir.path(), &["slack", "link", "--org", "acme", "--team-id", "T0ACME", "--bot-token", "xoxp-user"]);
    assert!(!ok && err.contains("xoxb-"), "{err}");
    let (ok, _, err) =
        plaudit(dir.path(), &["slack", "link", "--org", "nosuch", "--team-id", "T0X", "--bot-token", "xoxb-1"]);
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = plaudit(
        dir.path(),
        &["org", "create", "--name", "Other", "--slug", "other", "--admin-email", "o@other.example"],
    );
    assert!(ok, "{err}");
    let (ok, _, err) =
        plaudit(dir.path(), &["slack", "link", "--org", "other", "--team-id", "T0ACME", "--bot-token", "xoxb-2"]);
    assert!(!ok && err.contains("linked to another organisation"), "{err}");
}
