//! One conformance suite for every `Store` backend.
//!
//! Every test is an `async fn(&TestDb)` written once; `conformance!` generates a `sqlite::…`
//! and a `postgres::…` test for it. SQLite tests get a fresh temporary file; PostgreSQL tests
//! get a fresh schema (random name) in the database named by `S_EXPRESS_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards, so tests run in
//! parallel and repeatedly. An unreachable PostgreSQL fails the postgres tests; set
//! `S_EXPRESS_TEST_POSTGRES=skip` to skip them deliberately.

#![allow(
    clippy::disallowed_methods,
    reason = "tests read their configuration from the environment and spawn themselves as crash victims"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers run outside #[test] fns; a panic is a failure"
)]

mod admins;
mod audit;
mod cases;
mod changes;
mod dataset;
mod durability;
mod fixtures;
mod forge;
mod jobs;
mod mail;
mod notify;
mod reports;
mod translog;
mod users;

use sqlx::Executor as _;
use sx_store::{AnyStore, OpenOptions};
use tempfile::TempDir;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("S_EXPRESS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

pub fn pg_skipped() -> bool {
    std::env::var("S_EXPRESS_TEST_POSTGRES").is_ok_and(|v| v == "skip")
}

/// Where a test's database lives, so it can be reopened (by another pool or process).
#[derive(Clone, Debug)]
pub enum Location {
    Sqlite { path: std::path::PathBuf },
    Postgres { url: String, schema: String },
}

impl Location {
    pub fn url(&self) -> String {
        match self {
            Location::Sqlite { path } => format!("sqlite://{}", path.display()),
            Location::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn options(&self) -> OpenOptions {
        match self {
            Location::Sqlite { .. } => OpenOptions::default(),
            Location::Postgres { schema, .. } => OpenOptions::default().schema(schema.clone()),
        }
    }

    /// Opens another, independent store (own pool) on the same database.
    pub async fn open(&self, max_connections: u32) -> AnyStore {
        sx_store::open_with(
            &self.url(),
            &self.options().max_connections(max_connections),
        )
        .await
        .unwrap()
    }
}

/// A store on a private database that is removed when the test ends (even on panic).
#[derive(Debug)]
pub struct TestDb {
    pub store: AnyStore,
    pub location: Location,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let location = Location::Sqlite { path };
        let store = location.open(8).await;
        TestDb {
            store,
            location,
            _dir: Some(dir),
        }
    }

    /// `None` only when PostgreSQL tests are explicitly skipped.
    pub async fn postgres() -> Option<TestDb> {
        if pg_skipped() {
            eprintln!("S_EXPRESS_TEST_POSTGRES=skip: skipping a PostgreSQL conformance test");
            return None;
        }
        let url = pg_url();
        let schema = format!("sx_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {url} is unreachable ({e}). Start it, point S_EXPRESS_TEST_POSTGRES_URL at one, \
                 or set S_EXPRESS_TEST_POSTGRES=skip to skip the PostgreSQL half of the suite"
            )
        });
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .await
            .unwrap();
        admin.close().await;
        let location = Location::Postgres { url, schema };
        let store = location.open(8).await;
        Some(TestDb {
            store,
            location,
            _dir: None,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Location::Postgres { url, schema } = &self.location {
            // Drop runs inside the test's runtime, so clean up from a separate thread with its own.
            let (url, schema) = (url.clone(), schema.clone());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                        let _ = pool
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                            )))
                            .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Generates `sqlite::<name>` and `postgres::<name>` tests from `async fn <name>(&TestDb)`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}
