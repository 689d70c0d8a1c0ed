//! In-process tests of the HTTP API: the real router on a SQLite store in a temporary
//! directory, driven with `tower::ServiceExt::oneshot`, with per-role request helpers.
//!
//! Every test is an `async fn` written once; `both_backends!` generates a `sqlite::…` and a
//! `postgres::…` test for it. SQLite runs get a fresh temporary file; PostgreSQL runs get a fresh
//! schema (random name) in the database named by `S_EXPRESS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards. An unreachable PostgreSQL
//! fails the postgres tests; set `S_EXPRESS_TEST_POSTGRES=skip` to skip them deliberately.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking, and read the backend choice from the environment"
)]

mod accounts;
mod bundle;
mod cases;
mod dataset;
mod detectors;
mod forge_deliveries;
mod last_admin;
mod mail;
mod openapi;
mod pages;
mod pages_admin;
mod pages_audit;
mod reports;
mod security;
mod serving;
mod subgroup_admin;
mod tlp;
mod tlp_matrix;
mod util;

/// Generates `sqlite::<name>` and `postgres::<name>` tests from `async fn <name>()`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::util::Backend::Sqlite.run(super::$name()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::util::Backend::Postgres.run(super::$name()).await;
                }
            )*
        }
    };
}
