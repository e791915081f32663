//! The one Store. The rest of Plaudit calls `store.write(|tx| …)` or
//! `store.read(|tx| …)` and the typed queries on [`Tx`]; the SQL is shared by
//! both backends, and only the drivers differ.

pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;

mod audit;
mod auth;
mod chat;
mod jobs;
mod ledger;
mod mail;
mod members;
mod migrations;
mod okrs;
mod orgs;
mod postgres;
mod recognition;
mod rewards;
mod scim;
mod sqlite;
mod sso;
mod webhooks;

pub use audit::AuditEntry;
pub use auth::{ApiToken, LoginAttempt, SessionRecord};
pub use chat::{IntegrationState, SlackInstall, TeamsConfig};
pub use jobs::{Job, JobState};
pub use ledger::{AccountCheck, Allowance, LedgerEntry};
pub use mail::{KeyResultActivity, MailQueueStatus, ReportRecognition};
pub use members::{sort_key as member_sort_key, ExistingLink, MemberFilter, MemberPatch};
pub use recognition::{FeedFilter, StoredAnswer};
pub use rewards::RedemptionFilter;
pub use scim::{scim_norm, ScimToken};
pub use sso::{SsoSettingsRow, SsoState};
pub use webhooks::{delivery_job_key, WebhookDelivery, WebhookEndpoint};

use plaudit_domain::{Error, Result};
use sql::{Conn, DbError, Dialect};
use std::path::{Path, PathBuf};

/// A new globally unique id (UUIDv7: time-ordered, so indexes stay compact).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

/// A transaction: the typed queries live on it (see the modules of this crate).
pub struct Tx<'a> {
    conn: &'a mut dyn Conn,
}

impl Tx<'_> {
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }
}

impl Store {
    /// Opens `sqlite://PATH`, a plain file path, or `postgres://…`.
    pub fn open(url: &str) -> Result<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::PgBackend::open(url, 16).map_err(db)?)
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            Backend::Sqlite(sqlite::SqliteBackend::open(Path::new(path)).map_err(db)?)
        };
        Ok(Store { backend })
    }

    /// The SQLite file, or None on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s.path.clone()),
            Backend::Postgres(_) => None,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match &self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` in a write transaction: committed when it returns Ok, rolled
    /// back otherwise. On PostgreSQL a deadlock or serialization failure is
    /// retried a few times, so `f` may run more than once.
    pub fn write<T>(&self, f: impl FnMut(&mut Tx) -> Result<T>) -> Result<T> {
        self.write_or_rehearse(true, f)
    }

    /// Runs `f` exactly like [`Store::write`] and then rolls everything back:
    /// a dry run that sees its own writes.
    pub fn rehearse<T>(&self, f: impl FnMut(&mut Tx) -> Result<T>) -> Result<T> {
        self.write_or_rehearse(false, f)
    }

    fn write_or_rehearse<T>(&self, commit: bool, mut f: impl FnMut(&mut Tx) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match &self.backend {
                Backend::Sqlite(s) => s.write(commit, |conn| f(&mut Tx { conn })),
                Backend::Postgres(p) => p.transaction(false, commit, |conn| f(&mut Tx { conn })),
            };
            match result {
                Err(e) if e.code == "busy" && attempt < 5 => {
                    std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
                }
                other => return other,
            }
        }
    }

    /// Runs `f` in a read-only transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(|conn| f(&mut Tx { conn })),
            Backend::Postgres(p) => p.transaction(true, true, |conn| f(&mut Tx { conn })),
        }
    }

    /// Applies pending migrations; returns the versions applied now.
    pub fn migrate(&self) -> Result<Vec<String>> {
        self.write(migrations::apply)
    }

    /// Whether the database answers (readiness).
    pub fn ping(&self) -> Result<()> {
        self.read(|tx| tx.conn.query("SELECT 1", &[]).map(|_| ()).map_err(Into::into))
    }

    /// A consistent online copy of the SQLite database.
    pub fn backup(&self, to: &Path) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.backup(to).map_err(Into::into),
            Backend::Postgres(_) => {
                Err(Error::invalid("database", "backup copies the SQLite file; on PostgreSQL use pg_dump"))
            }
        }
    }
}

/// Shorthand used by the query modules.
pub(crate) fn db(e: DbError) -> Error {
    e.into()
}

impl Store {
    /// Every (table, column) of the schema, sorted: the backends must agree.
    pub fn schema_outline(&self) -> Result<Vec<(String, String)>> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
            }
            Dialect::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()"
            }
        };
        let mut out: Vec<(String, String)> =
            self.read(|tx| tx.conn.query(sql, &[]).map_err(db))?.iter().map(|r| (r.text(0), r.text(1))).collect();
        out.sort();
        Ok(out)
    }
}
