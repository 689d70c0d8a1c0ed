//! Journeys through the real `s-express` binary: `serve` started on a free port on SQLite and
//! on PostgreSQL ([`instance`]), driven over HTTP ([`http`]) and through the CLI.
//!
//! PostgreSQL journeys use a fresh schema of the database named by
//! `S_EXPRESS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and fail
//! when it is unreachable, unless `S_EXPRESS_TEST_POSTGRES=skip`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests: an unexpected error should fail the test loudly"
)]

pub mod http;
pub mod instance;

mod action;
#[path = "../common/sarif.rs"]
mod sarif_schema;
mod smoke;
