//! REST clients for GitHub, GitLab and Forgejo/Gitea: fetch a pull request's metadata and
//! patch, check a user's write access, post and update the S-Express comment.
//!
//! One [`ForgeClient`] per configured forge, blocking (call it from `spawn_blocking` in async
//! code). URLs are built from the configured API base and validated names only; nothing from
//! a payload or a forge answer is ever used as a URL. Every request goes through the guard in
//! [`crate::net`] (configured host only, no redirects, public addresses only, deadlines, size
//! caps).

use std::fmt;

use serde_json::Value;

use crate::net::{self, Limits};
use crate::webhook::{ForgeKind, PullRef, Sender, check_name, check_sha};

/// Why a forge request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configured API base URL is not usable.
    #[error("the forge API URL {url:?} is invalid: {reason}")]
    BadBase {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The request was refused before it left (host or address not allowed).
    #[error("request refused: {0}")]
    Refused(String),
    /// The forge answered with an error status.
    #[error("{forge} answered {status} to {what}{hint}")]
    Status {
        /// Which forge.
        forge: ForgeKind,
        /// HTTP status.
        status: u16,
        /// What was asked (method and path, never the token).
        what: String,
        /// A hint for known statuses.
        hint: &'static str,
    },
    /// The network failed (DNS, connect, TLS, timeout).
    #[error("could not reach {forge} for {what}: {message}")]
    Network {
        /// Which forge.
        forge: ForgeKind,
        /// What was asked.
        what: String,
        /// The transport's message.
        message: String,
    },
    /// The answer exceeded the size limit.
    #[error("{forge}'s answer to {what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// Which forge.
        forge: ForgeKind,
        /// What was asked.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// GitHub App authentication failed before a request was made.
    #[error("GitHub App authentication failed: {0}")]
    AppAuth(String),
    /// The answer is not what the API documents.
    #[error("{forge}'s answer to {what} is not understood: {reason}")]
    Decode {
        /// Which forge.
        forge: ForgeKind,
        /// What was asked.
        what: String,
        /// Why.
        reason: String,
    },
}

/// A configured forge: which kind, where its API is, and the token to use.
#[derive(Clone)]
pub struct Endpoint {
    /// The forge family.
    pub kind: ForgeKind,
    /// API base URL: `https://api.github.com`, `https://ghe.example.com/api/v3`,
    /// `https://gitlab.com/api/v4`, `https://codeberg.org/api/v1`, or a local test server.
    pub api_base: String,
    /// Access token (GitHub: a fine-grained or app installation token, see
    /// [`crate::github_app`]; GitLab: a project or personal access token; Forgejo: an
    /// application token).
    pub token: Option<String>,
    /// Whether the forge host may resolve to private, loopback or link-local addresses:
    /// `None` allows it only when the configured host is itself written as such an address or
    /// `localhost` (a test server); `Some(true)` for an intranet forge; `Some(false)` never.
    pub allow_private: Option<bool>,
    /// Size and time limits.
    pub limits: Limits,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("kind", &self.kind)
            .field("api_base", &self.api_base)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("allow_private", &self.allow_private)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Endpoint {
    /// The public API base of a forge family.
    #[must_use]
    pub fn default_api_base(kind: ForgeKind) -> &'static str {
        match kind {
            ForgeKind::Github => "https://api.github.com",
            ForgeKind::Gitlab => "https://gitlab.com/api/v4",
            ForgeKind::Forgejo => "https://codeberg.org/api/v1",
        }
    }
}

/// A pull request's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullInfo {
    /// Title (attacker-controlled).
    pub title: String,
    /// The author's login.
    pub author: Option<String>,
    /// Head commit.
    pub head_sha: String,
    /// Base commit, when the forge says.
    pub base_sha: Option<String>,
    /// The pull request's web page.
    pub web_url: Option<String>,
}

/// A client for one configured forge.
pub struct ForgeClient {
    endpoint: Endpoint,
    /// Scheme + authority, e.g. `https://api.github.com`.
    origin: String,
    /// Path prefix without trailing slash, e.g. `/api/v3`.
    prefix: String,
    agent: ureq::Agent,
}

impl fmt::Debug for ForgeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForgeClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// HTTP verbs used.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Put,
}

impl ForgeClient {
    /// Builds a client; checks the base URL.
    ///
    /// # Errors
    /// When the base URL is not `http(s)://host[:port][/path]` without query, fragment or
    /// credentials.
    pub fn new(endpoint: Endpoint) -> Result<Self, ClientError> {
        let bad = |reason: &str| ClientError::BadBase {
            url: endpoint.api_base.clone(),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(endpoint.api_base.trim()).map_err(|e| bad(&e.to_string()))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => {
                return Err(bad(
                    "the scheme must be https (or http for a local test server)",
                ));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials belong in the token setting, not the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
        let origin = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        let prefix = url.path().trim_end_matches('/').to_string();
        let agent = net::agent(&host, endpoint.allow_private, https, endpoint.limits);
        Ok(ForgeClient {
            endpoint,
            origin,
            prefix,
            agent,
        })
    }

    /// Which forge this client talks to.
    #[must_use]
    pub fn kind(&self) -> ForgeKind {
        self.endpoint.kind
    }

    /// The configured API base.
    #[must_use]
    pub fn api_base(&self) -> &str {
        &self.endpoint.api_base
    }

    fn repo_path(&self, pull: &PullRef) -> Result<String, ClientError> {
        let invalid = |e: crate::webhook::PayloadError| ClientError::Refused(e.to_string());
        let gitlab = self.kind() == ForgeKind::Gitlab;
        check_name("owner", &pull.owner, gitlab).map_err(invalid)?;
        check_name("repository", &pull.repo, false).map_err(invalid)?;
        Ok(match self.kind() {
            ForgeKind::Gitlab => format!(
                "/projects/{}%2F{}",
                pull.owner.replace('/', "%2F"),
                pull.repo
            ),
            ForgeKind::Github | ForgeKind::Forgejo => {
                format!("/repos/{}/{}", pull.owner, pull.repo)
            }
        })
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, ClientError> {
        let kind = self.kind();
        let what = format!("{method:?} {}{path}", self.prefix).to_uppercase_method();
        let url = format!("{}{}{path}", self.origin, self.prefix);
        let auth = self.endpoint.token.as_deref().map(|t| match kind {
            ForgeKind::Github => ("Authorization", format!("Bearer {t}")),
            ForgeKind::Gitlab => ("PRIVATE-TOKEN", t.to_string()),
            ForgeKind::Forgejo => ("Authorization", format!("token {t}")),
        });
        let network = |e: ureq::Error| match e {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                ClientError::Refused(io.to_string())
            }
            ureq::Error::BodyExceedsLimit(_) => ClientError::TooLarge {
                forge: kind,
                what: what.clone(),
                limit: self.endpoint.limits.max_bytes,
            },
            other => ClientError::Network {
                forge: kind,
                what: what.clone(),
                message: other.to_string(),
            },
        };
        let result = match method {
            Method::Get => {
                let mut req = self.agent.get(&url).header("Accept", accept);
                if kind == ForgeKind::Github {
                    req = req.header("X-GitHub-Api-Version", "2022-11-28");
                }
                if let Some((name, value)) = &auth {
                    req = req.header(*name, value);
                }
                req.call()
            }
            Method::Post | Method::Patch | Method::Put => {
                let mut req = match method {
                    Method::Post => self.agent.post(&url),
                    Method::Patch => self.agent.patch(&url),
                    _ => self.agent.put(&url),
                }
                .header("Accept", accept)
                .header("Content-Type", "application/json");
                if let Some((name, value)) = &auth {
                    req = req.header(*name, value);
                }
                let text = serde_json::to_vec(body.unwrap_or(&Value::Null)).map_err(|e| {
                    ClientError::Decode {
                        forge: kind,
                        what: what.clone(),
                        reason: e.to_string(),
                    }
                })?;
                req.send(&text[..])
            }
        };
        let mut response = result.map_err(network)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let hint = match status {
                300..=399 => {
                    " (redirects are not followed; configure the API URL the forge redirects to)"
                }
                401 => " (the token is missing, expired or wrong)",
                403 => " (the token lacks a permission, or a rate limit was hit)",
                404 => " (no such repository or pull request, or the token cannot see it)",
                _ => "",
            };
            return Err(ClientError::Status {
                forge: kind,
                status,
                what,
                hint,
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(self.endpoint.limits.max_bytes)
            .read_to_vec()
            .map_err(network)
    }

    pub(crate) fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let accept = match self.kind() {
            ForgeKind::Github => "application/vnd.github+json",
            _ => "application/json",
        };
        let bytes = self.request(method, path, accept, body)?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            forge: self.kind(),
            what: format!("{method:?} {path}").to_uppercase_method(),
            reason: e.to_string(),
        })
    }

    fn decode_err(&self, what: &str, reason: &str) -> ClientError {
        ClientError::Decode {
            forge: self.kind(),
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }

    /// The pull request's title, author and commits.
    ///
    /// # Errors
    /// When the request fails or the answer lacks the head commit.
    pub fn pull(&self, pull: &PullRef) -> Result<PullInfo, ClientError> {
        let repo = self.repo_path(pull)?;
        let (path, head_ptr, base_ptr, author_ptr, url_key) = match self.kind() {
            ForgeKind::Gitlab => (
                format!("{repo}/merge_requests/{}", pull.number),
                "/sha",
                "/diff_refs/base_sha",
                "/author/username",
                "web_url",
            ),
            ForgeKind::Github | ForgeKind::Forgejo => (
                format!("{repo}/pulls/{}", pull.number),
                "/head/sha",
                "/base/sha",
                "/user/login",
                "html_url",
            ),
        };
        let v = self.json(Method::Get, &path, None)?;
        let head = v
            .pointer(head_ptr)
            .and_then(Value::as_str)
            .ok_or_else(|| self.decode_err(&path, "no head commit"))?;
        check_sha("head", head).map_err(|e| self.decode_err(&path, &e.to_string()))?;
        let base = v
            .pointer(base_ptr)
            .and_then(Value::as_str)
            .filter(|b| check_sha("base", b).is_ok());
        Ok(PullInfo {
            title: v
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect(),
            author: v
                .pointer(author_ptr)
                .and_then(Value::as_str)
                .map(str::to_string),
            head_sha: head.to_string(),
            base_sha: base.map(str::to_string),
            web_url: v.get(url_key).and_then(Value::as_str).map(str::to_string),
        })
    }

    /// The pull request's change as text the analyzer reads: `git format-patch` output for
    /// GitHub and Forgejo (commit messages included), the raw diff for GitLab.
    ///
    /// # Errors
    /// When the request fails, the answer is too large or not UTF-8.
    pub fn patch(&self, pull: &PullRef) -> Result<String, ClientError> {
        let repo = self.repo_path(pull)?;
        let (path, accept) = match self.kind() {
            ForgeKind::Github => (
                format!("{repo}/pulls/{}", pull.number),
                "application/vnd.github.patch",
            ),
            ForgeKind::Gitlab => (
                format!("{repo}/merge_requests/{}/raw_diffs", pull.number),
                "text/plain",
            ),
            ForgeKind::Forgejo => (format!("{repo}/pulls/{}.patch", pull.number), "text/plain"),
        };
        let bytes = self.request(Method::Get, &path, accept, None)?;
        String::from_utf8(bytes).map_err(|_| self.decode_err(&path, "the patch is not UTF-8 text"))
    }

    /// Whether `sender` may push to the repository (GitHub: `write`, `maintain` or `admin`;
    /// GitLab: Developer or above; Forgejo: `write`, `admin` or `owner`).
    ///
    /// # Errors
    /// When the request fails (a 404 for "not a member" means no access, not an error).
    pub fn has_write_access(&self, pull: &PullRef, sender: &Sender) -> Result<bool, ClientError> {
        let repo = self.repo_path(pull)?;
        let login_ok = !sender.login.is_empty()
            && sender
                .login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']'));
        if !login_ok {
            return Ok(false);
        }
        let (path, answer) = match self.kind() {
            ForgeKind::Gitlab => {
                let Some(id) = sender.id else {
                    return Ok(false);
                };
                let path = format!("{repo}/members/all/{id}");
                match self.json(Method::Get, &path, None) {
                    Ok(v) => (path, v),
                    Err(ClientError::Status { status: 404, .. }) => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
            ForgeKind::Github | ForgeKind::Forgejo => {
                let path = format!("{repo}/collaborators/{}/permission", sender.login);
                match self.json(Method::Get, &path, None) {
                    Ok(v) => (path, v),
                    Err(ClientError::Status { status: 404, .. }) => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
        };
        Ok(match self.kind() {
            ForgeKind::Gitlab => {
                let level = answer
                    .get("access_level")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| self.decode_err(&path, "no access_level"))?;
                let username_matches = answer
                    .get("username")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u.eq_ignore_ascii_case(&sender.login));
                level >= 30 && username_matches
            }
            ForgeKind::Github => {
                let permission = answer.get("permission").and_then(Value::as_str);
                let role = answer.get("role_name").and_then(Value::as_str);
                matches!(permission, Some("admin" | "write"))
                    || matches!(role, Some("admin" | "maintain" | "write"))
            }
            ForgeKind::Forgejo => matches!(
                answer.get("permission").and_then(Value::as_str),
                Some("admin" | "write" | "owner")
            ),
        })
    }

    fn comments_path(&self, repo: &str, pull: &PullRef) -> String {
        match self.kind() {
            ForgeKind::Gitlab => format!("{repo}/merge_requests/{}/notes", pull.number),
            ForgeKind::Github | ForgeKind::Forgejo => {
                format!("{repo}/issues/{}/comments", pull.number)
            }
        }
    }

    /// Posts a comment on the pull request; returns its id.
    ///
    /// # Errors
    /// When the request fails or the answer has no id.
    pub fn post_comment(&self, pull: &PullRef, body: &str) -> Result<u64, ClientError> {
        let repo = self.repo_path(pull)?;
        let path = self.comments_path(&repo, pull);
        let v = self.json(
            Method::Post,
            &path,
            Some(&serde_json::json!({ "body": body })),
        )?;
        v.get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| self.decode_err(&path, "no comment id"))
    }

    /// Replaces the body of a comment S-Express posted earlier.
    ///
    /// # Errors
    /// When the request fails.
    pub fn update_comment(
        &self,
        pull: &PullRef,
        comment_id: u64,
        body: &str,
    ) -> Result<(), ClientError> {
        let repo = self.repo_path(pull)?;
        let payload = serde_json::json!({ "body": body });
        match self.kind() {
            ForgeKind::Gitlab => {
                let path = format!("{}/{comment_id}", self.comments_path(&repo, pull));
                self.json(Method::Put, &path, Some(&payload))?;
            }
            ForgeKind::Github | ForgeKind::Forgejo => {
                let path = format!("{repo}/issues/comments/{comment_id}");
                self.json(Method::Patch, &path, Some(&payload))?;
            }
        }
        Ok(())
    }
}

trait UpperMethod {
    fn to_uppercase_method(self) -> String;
}

impl UpperMethod for String {
    /// `Get /x` → `GET /x` (for messages).
    fn to_uppercase_method(self) -> String {
        match self.split_once(' ') {
            Some((m, rest)) => format!("{} {rest}", m.to_ascii_uppercase()),
            None => self,
        }
    }
}
