//! SQLite: one writer connection (every write transaction is `BEGIN
//! IMMEDIATE`, so a read-then-write never fails with SQLITE_BUSY) and a pool
//! of readers, all in WAL mode.

use crate::sql::{Conn, DbError, DbResult, Dialect, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct SqliteBackend {
    pub path: PathBuf,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<ReaderManager>,
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

struct ReaderManager(PathBuf);

impl r2d2::ManageConnection for ReaderManager {
    type Connection = Connection;
    type Error = rusqlite::Error;
    fn connect(&self) -> rusqlite::Result<Connection> {
        open(&self.0)
    }
    fn is_valid(&self, _conn: &mut Connection) -> rusqlite::Result<()> {
        Ok(())
    }
    fn has_broken(&self, _conn: &mut Connection) -> bool {
        false
    }
}

fn db_error(e: rusqlite::Error) -> DbError {
    let code = e.sqlite_error_code();
    let unique = matches!(&e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY);
    DbError { unique_violation: unique, retryable: code == Some(ErrorCode::DatabaseBusy), message: e.to_string() }
}

impl SqliteBackend {
    pub fn open(path: &Path) -> DbResult<SqliteBackend> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| DbError {
                    unique_violation: false,
                    retryable: false,
                    message: format!("cannot create {}: {e}", dir.display()),
                })?;
            }
        }
        let writer = open(path).map_err(db_error)?;
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(ReaderManager(path.to_path_buf()))
            .map_err(|e| DbError { unique_violation: false, retryable: false, message: e.to_string() })?;
        Ok(SqliteBackend { path: path.to_path_buf(), writer: Mutex::new(writer), readers })
    }

    pub fn write<T, E: From<DbError>>(
        &self,
        commit: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db_error)?;
        let mut c = SqliteConn(&tx);
        let out = f(&mut c)?;
        if commit {
            tx.commit().map_err(db_error)?;
        }
        Ok(out)
    }

    pub fn read<T, E: From<DbError>>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T, E>) -> Result<T, E> {
        let mut conn = self.readers.get().map_err(|e| DbError {
            unique_violation: false,
            retryable: true,
            message: e.to_string(),
        })?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(db_error)?;
        let mut c = SqliteConn(&tx);
        let out = f(&mut c)?;
        tx.commit().map_err(db_error)?;
        Ok(out)
    }

    /// A consistent online copy of the database file.
    pub fn backup(&self, to: &Path) -> DbResult<()> {
        let conn = self.readers.get().map_err(|e| DbError {
            unique_violation: false,
            retryable: false,
            message: e.to_string(),
        })?;
        conn.execute("VACUUM INTO ?1", [to.to_string_lossy().to_string()]).map_err(db_error)?;
        Ok(())
    }
}

struct SqliteConn<'a>(&'a Connection);

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(*b as i64)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn bind(params: &[Value]) -> Vec<Param<'_>> {
    params.iter().map(Param).collect()
}

impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db_error)?;
        let n = stmt.execute(rusqlite::params_from_iter(bind(params))).map_err(db_error)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db_error)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(bind(params))).map_err(db_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(db_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        self.0.execute_batch(sql).map_err(db_error)
    }
}
