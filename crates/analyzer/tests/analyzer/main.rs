//! Integration tests of the analyzer: one binary, one module per concern.

// Tests may panic on broken fixtures; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod detector_fixtures;
mod diff_parsing;
mod output;
