//! Test databases: a fresh SQLite file or a fresh PostgreSQL schema per
//! test, so tests run in parallel and never see each other's rows.
//!
//! PostgreSQL comes from `PLAUDIT_TEST_POSTGRES_URL` (default: the local
//! server). Without it a test is skipped with a notice, except under
//! `CI=true`, where a missing PostgreSQL is a failure.

use crate::Store;
use std::ops::Deref;

pub struct TestDb {
    store: Option<Store>,
    pub name: &'static str,
    pub url: String,
    schema: Option<String>,
    admin_url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().expect("store")
    }
}

impl TestDb {
    /// Gives up the store while keeping the database alive.
    pub fn store(&self) -> &Store {
        self
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Some(schema) = &self.schema {
            if let Ok(mut client) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// A migrated SQLite database in a temporary directory.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("plaudit.db").display());
    let store = Store::open(&url).expect("open sqlite");
    store.migrate().expect("migrate sqlite");
    TestDb { store: Some(store), name: "sqlite", url, schema: None, admin_url: String::new(), _dir: Some(dir) }
}

pub fn postgres_admin_url() -> String {
    std::env::var("PLAUDIT_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A migrated PostgreSQL schema of its own, or None (with a notice) when no
/// server is reachable outside CI.
pub fn postgres() -> Option<TestDb> {
    let admin_url = postgres_admin_url();
    let mut client = match postgres::Client::connect(&admin_url, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but PostgreSQL at {admin_url} is unreachable: {e}");
            }
            eprintln!("NOTICE: PostgreSQL at {admin_url} is unreachable ({e}); skipping this PostgreSQL test");
            return None;
        }
    };
    let schema = format!("plaudit_test_{}", uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create schema");
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-csearch_path%3D{schema}");
    let store = Store::open(&url).expect("open postgres");
    store.migrate().expect("migrate postgres");
    Some(TestDb { store: Some(store), name: "postgres", url, schema: Some(schema), admin_url, _dir: None })
}

/// Generates `mod sqlite { #[test] fn NAME() }` and `mod postgres { … }` for
/// each named test function taking `&TestDb`, so one suite runs on both.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&$crate::testing::sqlite()); })*
        }
        mod postgres {
            $(#[test] fn $name() { if let Some(db) = $crate::testing::postgres() { super::$name(&db); } })*
        }
    };
}
