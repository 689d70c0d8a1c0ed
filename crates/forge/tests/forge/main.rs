//! Integration tests of sx-forge: repositories built with git2 in temporary directories.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers of tests: an unexpected error should fail the test loudly"
)]

mod client;
mod git;
mod mail;
mod replay;
mod test_repo;
mod webhooks;
