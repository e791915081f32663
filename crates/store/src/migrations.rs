//! Schema migrations: one folder per backend with matching version names.

use crate::sql::Dialect;
use crate::{db, Tx};
use plaudit_domain::Result;

/// (version, SQLite script, PostgreSQL script), in order.
pub const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "0001_foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        "0002_recognition",
        include_str!("../migrations/sqlite/0002_recognition.sql"),
        include_str!("../migrations/postgres/0002_recognition.sql"),
    ),
    (
        "0003_rewards",
        include_str!("../migrations/sqlite/0003_rewards.sql"),
        include_str!("../migrations/postgres/0003_rewards.sql"),
    ),
    (
        "0004_okrs",
        include_str!("../migrations/sqlite/0004_okrs.sql"),
        include_str!("../migrations/postgres/0004_okrs.sql"),
    ),
    (
        "0005_jobs",
        include_str!("../migrations/sqlite/0005_jobs.sql"),
        include_str!("../migrations/postgres/0005_jobs.sql"),
    ),
    (
        "0008_sso",
        include_str!("../migrations/sqlite/0008_sso.sql"),
        include_str!("../migrations/postgres/0008_sso.sql"),
    ),
    (
        "0009_webhooks",
        include_str!("../migrations/sqlite/0009_webhooks.sql"),
        include_str!("../migrations/postgres/0009_webhooks.sql"),
    ),
    (
        "0006_chat",
        include_str!("../migrations/sqlite/0006_chat.sql"),
        include_str!("../migrations/postgres/0006_chat.sql"),
    ),
    (
        "0007_scim",
        include_str!("../migrations/sqlite/0007_scim.sql"),
        include_str!("../migrations/postgres/0007_scim.sql"),
    ),
    (
        "0010_email",
        include_str!("../migrations/sqlite/0010_email.sql"),
        include_str!("../migrations/postgres/0010_email.sql"),
    ),
];

pub fn apply(tx: &mut Tx) -> Result<Vec<String>> {
    if tx.dialect() == Dialect::Postgres {
        // Several instances may start at once: one migrates, the others wait.
        tx.conn.execute("SELECT pg_advisory_xact_lock(7265616)", &[]).map_err(db)?;
    }
    tx.conn
        .batch("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .map_err(db)?;
    let applied: Vec<String> =
        tx.conn.query("SELECT version FROM schema_migrations", &[]).map_err(db)?.iter().map(|r| r.text(0)).collect();
    let mut now_applied = Vec::new();
    for (version, sqlite, postgres) in MIGRATIONS {
        if applied.iter().any(|v| v == version) {
            continue;
        }
        let script = if tx.dialect() == Dialect::Sqlite { sqlite } else { postgres };
        tx.conn.batch(script).map_err(db)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        tx.conn
            .execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                crate::params![*version, now],
            )
            .map_err(db)?;
        now_applied.push(version.to_string());
    }
    Ok(now_applied)
}
