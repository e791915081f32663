//! The small seam between the shared SQL and the two drivers: parameter and
//! column values, rows, and a connection that runs a statement.
//!
//! SQL text is written once with SQLite's numbered parameters (`?1`, `?2`…);
//! the PostgreSQL side rewrites them to `$1`, `$2`….

use plaudit_domain::Error;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a parameter list: `params![org_id, email]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*][..] };
}

/// One result row; getters panic only on a schema/code mismatch, which the
/// shared test suite catches on both backends.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Value::Int(v) => *v,
            Value::Bool(b) => *b as i64,
            Value::Real(f) => *f as i64,
            other => panic!("column {i}: expected an integer, got {other:?}"),
        }
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match &self.0[i] {
            Value::Null => None,
            _ => Some(self.int(i)),
        }
    }
    pub fn real(&self, i: usize) -> f64 {
        match &self.0[i] {
            Value::Real(v) => *v,
            Value::Int(v) => *v as f64,
            other => panic!("column {i}: expected a number, got {other:?}"),
        }
    }
    pub fn bool(&self, i: usize) -> bool {
        match &self.0[i] {
            Value::Bool(b) => *b,
            Value::Int(v) => *v != 0,
            other => panic!("column {i}: expected a boolean, got {other:?}"),
        }
    }
    pub fn text(&self, i: usize) -> String {
        match &self.0[i] {
            Value::Text(s) => s.clone(),
            Value::Null => String::new(),
            other => panic!("column {i}: expected text, got {other:?}"),
        }
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match &self.0[i] {
            Value::Null => None,
            _ => Some(self.text(i)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A driver error, with the one distinction callers act on.
#[derive(Debug)]
pub struct DbError {
    pub unique_violation: bool,
    /// A deadlock or serialization failure: the whole transaction may be retried.
    pub retryable: bool,
    pub message: String,
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        if e.retryable {
            Error::new(plaudit_domain::ErrorKind::Unavailable, "busy", "the database is busy; try again")
        } else if e.unique_violation {
            Error::conflict("conflict", "that already exists")
        } else {
            Error::internal(format!("database error: {}", e.message))
        }
    }
}

pub type DbResult<T> = std::result::Result<T, DbError>;

/// A connection inside a transaction.
pub trait Conn {
    fn dialect(&self) -> Dialect;
    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64>;
    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>>;
    fn batch(&mut self, sql: &str) -> DbResult<()>;
}

/// Rewrites `?N` parameters to PostgreSQL's `$N`. Question marks inside
/// quoted literals are left alone.
pub fn to_postgres_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_quote = false;
    for c in sql.chars() {
        if c == '\'' {
            in_quote = !in_quote;
        }
        if c == '?' && !in_quote {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn rewrites_parameters_outside_literals() {
        assert_eq!(super::to_postgres_params("a = ?1 AND b = '?' OR c = ?12"), "a = $1 AND b = '?' OR c = $12");
    }
}
