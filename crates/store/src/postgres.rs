//! The PostgreSQL backend, for larger instances and several replicas.
//!
//! Job leasing uses `FOR UPDATE SKIP LOCKED` so concurrent workers never wait on or take the
//! same job. An optional schema isolates an instance (or a test) inside a shared database: every
//! pooled connection sets its `search_path` when it connects.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, Pool, Transaction};

use crate::OpenOptions;

type Db = sqlx::Postgres;

/// How a true boolean column value is written in SQL (see `sqlite.rs`).
const SQL_TRUE: &str = "TRUE";

/// Reads a user's row before a write that may take away admin power, locking it until commit
/// so its role and `disabled` flag cannot change underneath the check.
const USER_FOR_WRITE: &str = "SELECT doc, disabled FROM users WHERE id = $1 FOR UPDATE";

/// Serialises the last-admin check (`entities.rs`): a transaction-scoped advisory lock (key
/// `0x5358_4144_4d49_4e53`, "SXADMINS"), taken only by writes that take admin power away, so
/// two of them never both count the other's admin as the one that remains. Each statement after
/// it sees everything committed before the lock was granted (READ COMMITTED).
const ADMIN_GUARD_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(6005621864708787795)");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A store in a PostgreSQL database (or one schema of it).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: Pool<Db>,
    key: Arc<SigningKey>,
    sla: time::Duration,
}

/// Quotes an identifier for PostgreSQL (doubling embedded quotes), so a configured schema name
/// can never break out of the `SET search_path` statement.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects to `url` and, unless disabled, applies pending migrations.
    pub async fn open(url: &str, options: &OpenOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)?;
        let mut pool_options = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout);
        if let Some(schema) = &options.schema {
            let set = format!("SET search_path TO {}", quote_ident(schema));
            pool_options = pool_options.after_connect(move |conn, _meta| {
                let set = set.clone();
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(set)).await?;
                    Ok(())
                })
            });
        }
        let pool = pool_options.connect_with(connect).await?;
        if options.migrate {
            MIGRATOR.run(&pool).await?;
        }
        let key = load_or_create_key(&pool).await?;
        Ok(PgStore {
            pool,
            key: Arc::new(key),
            sla: options.sla_first_assessment_due,
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool, for tests and benchmarks that need raw SQL (e.g. `EXPLAIN`).
    pub fn pool(&self) -> &Pool<Db> {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }
}

crate::shared::impl_store!(store = PgStore, lease_lock = "FOR UPDATE SKIP LOCKED");

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn schema_names_are_quoted_safely() {
        assert_eq!(quote_ident("t_1"), "\"t_1\"");
        assert_eq!(
            quote_ident("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }
}
