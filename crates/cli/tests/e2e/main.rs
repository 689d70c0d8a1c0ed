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
#[path = "../common/sarif.rs"]
mod sarif_schema;

mod action;
mod browser;
mod forge_forgejo;
mod forge_github;
mod forge_gitlab;
// The forge API replay server is shared with sx-forge's own tests.
#[path = "../../../forge/tests/forge/replay.rs"]
mod forge_replay;
mod journey;
mod log_verify;
mod mail;
mod replicas;
mod schemathesis;
mod smoke;
