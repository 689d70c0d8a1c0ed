//! # sx-forge
//!
//! Getting changes in. The analyzer is pure and knows nothing of where a change comes from;
//! this crate turns the places changes live into an analyzer [`Change`](sx_analyzer::Change):
//!
//! - [`git`]: a local repository and a commit range (`BASE..HEAD` or one commit), with full
//!   file contents, commit metadata and the history context contributor checks need.
//!
//! Forge APIs (GitHub, GitLab, Forgejo) and their webhooks come later. Everything read here is
//! attacker-controlled: reads are bounded and nothing named by a change is executed or fetched.

pub mod git;

pub use git::{GitError, GitOptions, GitRepo, Revision};
