//! The SQLite backend: one file, WAL, `synchronous=FULL`, created on first start.
//!
//! SQLite allows one writer at a time. Every write transaction starts with `BEGIN IMMEDIATE`
//! so it takes the write lock before reading; a deferred transaction that reads and then writes
//! could otherwise fail with `SQLITE_BUSY` when another writer committed in between. Waiting
//! writers queue on the busy timeout.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Transaction};

use crate::OpenOptions;

type Db = sqlx::Sqlite;

/// How a true boolean column value is written in SQL. SQLite only uses the partial index
/// `cases_queue` (`WHERE queue_open = 1`) when the query spells the predicate the same way.
const SQL_TRUE: &str = "1";

/// Reads a user's row before a write that may take away admin power. `BEGIN IMMEDIATE` already
/// holds the database's one write lock, so no row lock is needed.
const USER_FOR_WRITE: &str = "SELECT doc, disabled FROM users WHERE id = $1";

/// Serialises the last-admin check (`entities.rs`): nothing to do, the write lock already does.
const ADMIN_GUARD_LOCK: Option<&str> = None;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: Pool<Db>,
    key: Arc<SigningKey>,
    sla: time::Duration,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path`, `sqlite:path` or a
    /// plain path) and, unless disabled, applies pending migrations.
    pub async fn open(url: &str, options: &OpenOptions) -> StoreResult<Self> {
        let base = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let connect = base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on stable storage before it is acknowledged (NORMAL in WAL mode
            // may lose the last transactions on power loss).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(options.acquire_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        if options.migrate {
            MIGRATOR.run(&pool).await?;
        }
        let key = load_or_create_key(&pool).await?;
        Ok(SqliteStore {
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
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

crate::shared::impl_store!(store = SqliteStore, lease_lock = "");
