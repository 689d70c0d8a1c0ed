//! # sx-forge
//!
//! Getting changes in. The analyzer is pure and knows nothing of where a change comes from;
//! this crate turns the places changes live into something the analyzer reads:
//!
//! - [`git`]: a local repository and a commit range (`BASE..HEAD` or one commit), with full
//!   file contents, commit metadata and the history context contributor checks need.
//! - [`webhook`]: forge webhook deliveries (GitHub, GitLab, Forgejo/Gitea) parsed into one
//!   [`Event`]: ping, forward a pull request (`/s-express` comment or label), new commits.
//! - [`signature`]: the deliveries' authentication (HMAC-SHA256 signatures, GitLab's token),
//!   checked in constant time over the raw body.
//! - [`client`]: blocking REST clients for the three forges (pull request metadata and patch,
//!   write-access check, posting and updating a comment), through the SSRF guard in [`net`].
//! - [`github_app`]: GitHub App authentication (an RS256 JWT exchanged for installation
//!   tokens, cached until shortly before they expire).
//! - [`mail`]: a forwarded e-mail carrying a `git format-patch` series (inline, attached or
//!   redirected), turned into one change text and the maintainer's concern.
//! - [`pr_url`]: pull request web URLs and the API each implies (`s-express analyze URL`).
//!
//! Everything read here is attacker-controlled: reads are bounded, names are validated before
//! they go into a URL path, and nothing a change or a payload names is executed or fetched —
//! requests go only to the configured forge API host.

pub mod client;
pub mod git;
pub mod github_app;
pub mod mail;
pub mod net;
pub mod pr_url;
pub mod signature;
pub mod webhook;

pub use client::{ClientError, Endpoint, ForgeClient, PullInfo};
pub use git::{GitError, GitOptions, GitRepo, Revision};
pub use github_app::{AppKeyError, GithubApp};
pub use net::Limits;
pub use pr_url::{PullUrl, PullUrlError, parse_pull_url};
pub use signature::SignatureError;
pub use webhook::{
    Event, ForgeKind, ForwardRequest, NewHead, PayloadError, PullRef, RepoInfo, Sender, Trigger,
    Triggers,
};
