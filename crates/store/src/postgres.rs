//! PostgreSQL: a pool of connections, each with its own cache of prepared
//! statements. Transactions run at READ COMMITTED; every money-moving write
//! is a conditional UPDATE, and rows that need exclusive use are locked with
//! `FOR UPDATE`, so the isolation level is enough.

use crate::sql::{to_postgres_params, Conn, DbError, DbResult, Dialect, Row, Value};
use postgres::error::SqlState;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

pub struct PgBackend {
    pool: r2d2::Pool<PgManager>,
}

pub struct PgConnection {
    client: Client,
    statements: HashMap<String, Statement>,
}

struct PgManager(postgres::Config);

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = postgres::Error;
    fn connect(&self) -> Result<PgConnection, postgres::Error> {
        Ok(PgConnection { client: self.0.connect(NoTls)?, statements: HashMap::new() })
    }
    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }
    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        conn.client.is_closed()
    }
}

fn db_error(e: postgres::Error) -> DbError {
    let code = e.code();
    DbError {
        unique_violation: code == Some(&SqlState::UNIQUE_VIOLATION),
        retryable: code == Some(&SqlState::T_R_DEADLOCK_DETECTED) || code == Some(&SqlState::T_R_SERIALIZATION_FAILURE),
        message: e.as_db_error().map(|d| d.to_string()).unwrap_or_else(|| e.to_string()),
    }
}

fn pool_error(e: r2d2::Error) -> DbError {
    DbError { unique_violation: false, retryable: false, message: format!("no database connection: {e}") }
}

impl PgBackend {
    pub fn open(url: &str, max_connections: u32) -> DbResult<PgBackend> {
        let config: postgres::Config = url.parse().map_err(|e: postgres::Error| DbError {
            unique_violation: false,
            retryable: false,
            message: e.to_string(),
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(PgManager(config))
            .map_err(pool_error)?;
        Ok(PgBackend { pool })
    }

    pub fn transaction<T, E: From<DbError>>(
        &self,
        read_only: bool,
        commit: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        let PgConnection { client, statements } = &mut *conn;
        let tx = client.build_transaction().read_only(read_only).start().map_err(db_error)?;
        let mut c = PgConn { tx, statements };
        let out = f(&mut c)?;
        if commit {
            c.tx.commit().map_err(db_error)?;
        }
        Ok(out)
    }
}

struct PgConn<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
}

impl PgConn<'_> {
    fn statement(&mut self, sql: &str) -> DbResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.tx.prepare(&to_postgres_params(sql)).map_err(db_error)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bool(b) => match *ty {
                Type::INT8 => (*b as i64).to_sql(ty, out),
                Type::INT4 => (*b as i32).to_sql(ty, out),
                _ => b.to_sql(ty, out),
            },
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

fn decode(row: &postgres::Row, i: usize) -> DbResult<Value> {
    let ty = row.columns()[i].type_().clone();
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(|v| Value::Int(v.into()))),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map(|v| v.map(|v| Value::Int(v.into()))),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(Value::Bool)),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map(|v| v.map(Value::Real)),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map(|v| v.map(|v| Value::Real(v.into()))),
        Type::VOID => Ok(None),
        _ => row.try_get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
    };
    Ok(v.map_err(db_error)?.unwrap_or(Value::Null))
}

impl Conn for PgConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> DbResult<u64> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.tx.execute(&stmt, &refs).map_err(db_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> DbResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.tx.query(&stmt, &refs).map_err(db_error)?;
        rows.iter().map(|r| (0..r.len()).map(|i| decode(r, i)).collect::<DbResult<Vec<_>>>().map(Row)).collect()
    }

    fn batch(&mut self, sql: &str) -> DbResult<()> {
        self.tx.batch_execute(sql).map_err(db_error)
    }
}
