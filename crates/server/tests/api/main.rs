//! In-process tests of the HTTP API: the real router on a SQLite store in a temporary
//! directory, driven with `tower::ServiceExt::oneshot`, with per-role request helpers.
//!
//! `S_EXPRESS_TEST_SERVER_BACKEND=postgres` runs the same suite on PostgreSQL instead (each test
//! in a fresh schema of the database named by `S_EXPRESS_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, dropped afterwards).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking, and read the backend choice from the environment"
)]

mod accounts;
mod cases;
mod openapi;
mod security;
mod serving;
mod tlp;
mod util;
