//! The server's key for secrets at rest: generated once into the data dir
//! with owner-only permissions, kept across restarts, and not written at
//! all when `PLAUDIT_SECRET_KEY` is given.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Starts `plaudit serve` on a free port, waits until it is ready, stops it.
fn serve_once(data_dir: &Path, secret: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plaudit"));
    cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap()])
        .env_remove("PLAUDIT_DATABASE_URL")
        .env_remove("PLAUDIT_DATA_DIR")
        .env_remove("PLAUDIT_SECRET_KEY")
        .env("PLAUDIT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(s) = secret {
        cmd.env("PLAUDIT_SECRET_KEY", s);
    }
    let mut child = cmd.spawn().expect("start plaudit");
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("is ready"));
    child.kill().ok();
    child.wait().ok();
    assert!(ready, "plaudit serve never said it was ready");
}

#[test]
fn the_key_is_generated_once_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    serve_once(dir.path(), None);
    let path = dir.path().join("secret.key");
    let first = std::fs::read_to_string(&path).expect("a generated key");
    assert_eq!(first.len(), 64);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    serve_once(dir.path(), None);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first, "a restart keeps the key");

    let configured = tempfile::tempdir().unwrap();
    serve_once(configured.path(), Some("a configured passphrase of some length"));
    assert!(!configured.path().join("secret.key").exists());
}
