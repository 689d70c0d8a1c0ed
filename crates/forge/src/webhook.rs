//! Webhook payloads: what a forge delivery asks S-Express to do.
//!
//! A delivery becomes one [`Event`]: a `ping`, a request to forward a pull request (a
//! `/s-express [concern]` comment or the configured label), a new head on a pull request (new
//! commits), or something ignored with the reason. Parsing reads only the fields it needs and
//! validates them (names, numbers, commit ids); URLs in the payload are kept only to check that
//! the delivery is about the configured forge, and are never fetched.
//!
//! | forge | forward by comment | forward by label | new commits |
//! |---|---|---|---|
//! | GitHub | `issue_comment` `created` on a PR | `pull_request` `labeled` | `pull_request` `synchronize` |
//! | GitLab | `Note Hook` on a merge request | `Merge Request Hook` `update` with the label added | `Merge Request Hook` `update` with `oldrev` |
//! | Forgejo/Gitea | `issue_comment` `created` on a pull, or a review comment | `pull_request` `label_updated` | `pull_request` `synchronized` |

use serde_json::Value;

/// The forge families S-Express speaks to. Gitea and Forgejo share one API and one webhook
/// format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForgeKind {
    /// github.com or GitHub Enterprise Server.
    Github,
    /// gitlab.com or a self-managed GitLab.
    Gitlab,
    /// Forgejo (Codeberg) or Gitea.
    Forgejo,
}

impl ForgeKind {
    /// Stable lower-case name (`github`, `gitlab`, `forgejo`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ForgeKind::Github => "github",
            ForgeKind::Gitlab => "gitlab",
            ForgeKind::Forgejo => "forgejo",
        }
    }
}

impl std::fmt::Display for ForgeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a payload could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON.
    #[error("the payload is not JSON: {0}")]
    NotJson(String),
    /// A needed field is absent or of the wrong type.
    #[error("the payload has no valid `{0}` field")]
    Missing(&'static str),
    /// A field has a value S-Express refuses (a name with odd characters, a bad commit id).
    #[error("the payload's `{field}` is not acceptable: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// A pull request (or merge request) on a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRef {
    /// Owner: user or organization; for GitLab the whole namespace path (`group/subgroup`).
    pub owner: String,
    /// Repository (project) name.
    pub repo: String,
    /// The pull request number (GitLab: the merge request `iid`).
    pub number: u64,
}

impl PullRef {
    /// `owner/repo`.
    #[must_use]
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

/// Who did it, as the forge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// Login (username).
    pub login: String,
    /// Numeric id, when the payload gives one (GitLab's membership API needs it).
    pub id: Option<u64>,
    /// GitHub's `author_association` of a comment (`OWNER`, `MEMBER`, `COLLABORATOR`, ...).
    /// Informative only: write access is always confirmed through the API.
    pub association: Option<String>,
}

/// What made the delivery a forward request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A `/s-express` comment (its id, when the forge gives one).
    Comment {
        /// The comment's id.
        comment_id: Option<u64>,
    },
    /// The configured label was added.
    Label {
        /// The label's name as the forge spells it.
        name: String,
    },
}

/// The repository as the payload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// The repository's web URL (only its host is used: it must be the configured forge's).
    pub web_url: Option<String>,
    /// Whether the repository is private (a comment there is seen by its members only).
    pub private: bool,
    /// The GitHub App installation the delivery came through (`installation.id`): its
    /// installation token authenticates the API calls about this repository. `None` for
    /// repository webhooks and the other forges.
    pub installation: Option<u64>,
}

/// A maintainer asks S-Express to look at a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRequest {
    /// The pull request.
    pub pull: PullRef,
    /// Who asked (their write access is checked through the API).
    pub sender: Sender,
    /// The concern text after the command (may be empty).
    pub concern: String,
    /// Comment or label.
    pub trigger: Trigger,
    /// The repository.
    pub repo: RepoInfo,
}

/// A pull request got new commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHead {
    /// The pull request.
    pub pull: PullRef,
    /// The new head commit.
    pub head: String,
    /// The base commit, when the payload says.
    pub base: Option<String>,
    /// Who pushed.
    pub sender: Sender,
    /// The repository.
    pub repo: RepoInfo,
}

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The forge checks the hook works.
    Ping,
    /// Forward a pull request.
    Forward(ForwardRequest),
    /// A pull request moved to a new head.
    NewHead(NewHead),
    /// Nothing to do, and why.
    Ignored(String),
}

/// Instance settings that parsing needs.
#[derive(Debug, Clone, Copy)]
pub struct Triggers<'a> {
    /// The command that forwards a pull request (`/s-express`).
    pub command: &'a str,
    /// The label that forwards a pull request (compared case-insensitively).
    pub label: &'a str,
}

impl Default for Triggers<'static> {
    fn default() -> Self {
        Triggers {
            command: "/s-express",
            label: "s-express",
        }
    }
}

/// The concern after `command` when a line of `body` starts with it (quoted lines, which start
/// with `>`, never match), else `None`. The concern is the rest of that line and every line
/// after it, trimmed.
#[must_use]
pub fn parse_command(body: &str, command: &str) -> Option<String> {
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix(command) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            continue;
        }
        let mut concern = rest.trim().to_string();
        for more in lines.by_ref() {
            concern.push('\n');
            concern.push_str(more);
        }
        return Some(concern.trim().to_string());
    }
    None
}

fn parse_json(body: &[u8]) -> Result<Value, PayloadError> {
    serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))
}

fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, key| cur.get(key))
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    at(v, path).and_then(Value::as_str)
}

fn need_str<'v>(v: &'v Value, path: &[&str], name: &'static str) -> Result<&'v str, PayloadError> {
    str_at(v, path).ok_or(PayloadError::Missing(name))
}

fn need_u64(v: &Value, path: &[&str], name: &'static str) -> Result<u64, PayloadError> {
    at(v, path)
        .and_then(Value::as_u64)
        .ok_or(PayloadError::Missing(name))
}

/// Checks a repository or owner name: 1–100 characters of letters, digits, `-`, `_`, `.`, not
/// starting with `.`; `allow_slash` admits GitLab namespace paths (`group/sub`).
///
/// # Errors
/// When the name is not acceptable.
pub fn check_name(field: &'static str, name: &str, allow_slash: bool) -> Result<(), PayloadError> {
    let segments_ok = name.split('/').all(|seg| {
        !seg.is_empty()
            && !seg.starts_with('.')
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    });
    let ok = !name.is_empty()
        && name.len() <= if allow_slash { 255 } else { 100 }
        && (allow_slash || !name.contains('/'))
        && segments_ok;
    if ok {
        Ok(())
    } else {
        Err(PayloadError::Invalid {
            field,
            reason: "names are letters, digits, '-', '_' and '.', and do not start with '.'",
        })
    }
}

/// Checks a commit id: 7–64 hex digits.
///
/// # Errors
/// When it is not one.
pub fn check_sha(field: &'static str, sha: &str) -> Result<(), PayloadError> {
    if (7..=64).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(PayloadError::Invalid {
            field,
            reason: "a commit id is 7 to 64 hex digits",
        })
    }
}

fn check_login(login: &str) -> Result<(), PayloadError> {
    let ok = !login.is_empty()
        && login.len() <= 100
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '[' | ']'));
    if ok {
        Ok(())
    } else {
        Err(PayloadError::Invalid {
            field: "sender.login",
            reason: "a login is letters, digits, '-', '_', '.'",
        })
    }
}

fn sender(v: &Value, path: &[&str], association: Option<&str>) -> Result<Sender, PayloadError> {
    let user = at(v, path).ok_or(PayloadError::Missing("sender"))?;
    let login = str_at(user, &["login"])
        .or_else(|| str_at(user, &["username"]))
        .ok_or(PayloadError::Missing("sender.login"))?;
    check_login(login)?;
    Ok(Sender {
        login: login.to_string(),
        id: user.get("id").and_then(Value::as_u64),
        association: association.map(str::to_string),
    })
}

/// Owner and name of a GitHub/Forgejo `repository` object.
fn repository(v: &Value) -> Result<(String, String, RepoInfo), PayloadError> {
    let owner = str_at(v, &["repository", "owner", "login"])
        .or_else(|| str_at(v, &["repository", "owner", "username"]))
        .ok_or(PayloadError::Missing("repository.owner.login"))?;
    let name = need_str(v, &["repository", "name"], "repository.name")?;
    check_name("repository.owner.login", owner, false)?;
    check_name("repository.name", name, false)?;
    let info = RepoInfo {
        web_url: str_at(v, &["repository", "html_url"]).map(str::to_string),
        private: at(v, &["repository", "private"])
            .and_then(Value::as_bool)
            .unwrap_or(true),
        installation: at(v, &["installation", "id"]).and_then(Value::as_u64),
    };
    Ok((owner.to_string(), name.to_string(), info))
}

fn label_matches(name: &str, wanted: &str) -> bool {
    name.trim().eq_ignore_ascii_case(wanted.trim())
}

/// Parses a GitHub delivery (`X-GitHub-Event` names the event).
///
/// # Errors
/// When the payload is not JSON or lacks a needed field.
pub fn parse_github(
    event: &str,
    body: &[u8],
    triggers: Triggers<'_>,
) -> Result<Event, PayloadError> {
    let v = parse_json(body)?;
    let action = str_at(&v, &["action"]).unwrap_or("");
    match event {
        "ping" => Ok(Event::Ping),
        "issue_comment" => {
            if action != "created" {
                return Ok(Event::Ignored(format!("issue_comment {action}")));
            }
            if at(&v, &["issue", "pull_request"]).is_none_or(Value::is_null) {
                return Ok(Event::Ignored(
                    "a comment on an issue, not a pull request".into(),
                ));
            }
            let body = str_at(&v, &["comment", "body"]).unwrap_or("");
            let Some(concern) = parse_command(body, triggers.command) else {
                return Ok(Event::Ignored("the comment has no command".into()));
            };
            let (owner, repo, info) = repository(&v)?;
            let number = need_u64(&v, &["issue", "number"], "issue.number")?;
            let association = str_at(&v, &["comment", "author_association"]);
            Ok(Event::Forward(ForwardRequest {
                pull: PullRef {
                    owner,
                    repo,
                    number,
                },
                sender: sender(&v, &["comment", "user"], association)?,
                concern,
                trigger: Trigger::Comment {
                    comment_id: at(&v, &["comment", "id"]).and_then(Value::as_u64),
                },
                repo: info,
            }))
        }
        "pull_request" => {
            let (owner, repo, info) = repository(&v)?;
            let number = need_u64(&v, &["number"], "number")?;
            let pull = PullRef {
                owner,
                repo,
                number,
            };
            match action {
                "labeled" => {
                    let name = need_str(&v, &["label", "name"], "label.name")?;
                    if !label_matches(name, triggers.label) {
                        return Ok(Event::Ignored(format!(
                            "label {name:?} is not the forwarding label"
                        )));
                    }
                    Ok(Event::Forward(ForwardRequest {
                        pull,
                        sender: sender(&v, &["sender"], None)?,
                        concern: String::new(),
                        trigger: Trigger::Label {
                            name: name.to_string(),
                        },
                        repo: info,
                    }))
                }
                "synchronize" => {
                    let head = str_at(&v, &["after"])
                        .or_else(|| str_at(&v, &["pull_request", "head", "sha"]))
                        .ok_or(PayloadError::Missing("after"))?;
                    check_sha("after", head)?;
                    let base = str_at(&v, &["pull_request", "base", "sha"]);
                    if let Some(base) = base {
                        check_sha("pull_request.base.sha", base)?;
                    }
                    Ok(Event::NewHead(NewHead {
                        pull,
                        head: head.to_string(),
                        base: base.map(str::to_string),
                        sender: sender(&v, &["sender"], None)?,
                        repo: info,
                    }))
                }
                other => Ok(Event::Ignored(format!("pull_request {other}"))),
            }
        }
        other => Ok(Event::Ignored(format!("event {other:?} is not handled"))),
    }
}

/// Parses a Forgejo or Gitea delivery (`X-Forgejo-Event` / `X-Gitea-Event`).
///
/// # Errors
/// When the payload is not JSON or lacks a needed field.
pub fn parse_forgejo(
    event: &str,
    body: &[u8],
    triggers: Triggers<'_>,
) -> Result<Event, PayloadError> {
    let v = parse_json(body)?;
    let action = str_at(&v, &["action"]).unwrap_or("");
    match event {
        "issue_comment" | "pull_request_comment" => {
            if action != "created" {
                return Ok(Event::Ignored(format!("{event} {action}")));
            }
            let is_pull = at(&v, &["is_pull"])
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || at(&v, &["issue", "pull_request"]).is_some_and(|p| !p.is_null());
            if !is_pull {
                return Ok(Event::Ignored(
                    "a comment on an issue, not a pull request".into(),
                ));
            }
            let body = str_at(&v, &["comment", "body"]).unwrap_or("");
            let Some(concern) = parse_command(body, triggers.command) else {
                return Ok(Event::Ignored("the comment has no command".into()));
            };
            let (owner, repo, info) = repository(&v)?;
            let number = need_u64(&v, &["issue", "number"], "issue.number")?;
            Ok(Event::Forward(ForwardRequest {
                pull: PullRef {
                    owner,
                    repo,
                    number,
                },
                sender: sender(&v, &["comment", "user"], None)?,
                concern,
                trigger: Trigger::Comment {
                    comment_id: at(&v, &["comment", "id"]).and_then(Value::as_u64),
                },
                repo: info,
            }))
        }
        "pull_request"
        | "pull_request_sync"
        | "pull_request_label"
        | "pull_request_review_comment"
        | "pull_request_comment_review" => {
            let (owner, repo, info) = repository(&v)?;
            let number = at(&v, &["number"])
                .and_then(Value::as_u64)
                .or_else(|| at(&v, &["pull_request", "number"]).and_then(Value::as_u64))
                .ok_or(PayloadError::Missing("number"))?;
            let pull = PullRef {
                owner,
                repo,
                number,
            };
            match action {
                "synchronized" => {
                    let head = need_str(
                        &v,
                        &["pull_request", "head", "sha"],
                        "pull_request.head.sha",
                    )?;
                    check_sha("pull_request.head.sha", head)?;
                    let base =
                        str_at(&v, &["pull_request", "base", "sha"]).filter(|b| !b.is_empty());
                    if let Some(base) = base {
                        check_sha("pull_request.base.sha", base)?;
                    }
                    Ok(Event::NewHead(NewHead {
                        pull,
                        head: head.to_string(),
                        base: base.map(str::to_string),
                        sender: sender(&v, &["sender"], None)?,
                        repo: info,
                    }))
                }
                "label_updated" => {
                    // Forgejo sends the labels after the change, not which one changed.
                    let labels = at(&v, &["pull_request", "labels"])
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let Some(name) = labels
                        .iter()
                        .filter_map(|l| str_at(l, &["name"]))
                        .find(|n| label_matches(n, triggers.label))
                    else {
                        return Ok(Event::Ignored(
                            "the pull request does not carry the forwarding label".into(),
                        ));
                    };
                    Ok(Event::Forward(ForwardRequest {
                        pull,
                        sender: sender(&v, &["sender"], None)?,
                        concern: String::new(),
                        trigger: Trigger::Label {
                            name: name.to_string(),
                        },
                        repo: info,
                    }))
                }
                "reviewed" => {
                    // A review comment carries its text in `review.content`.
                    let body = str_at(&v, &["review", "content"]).unwrap_or("");
                    let Some(concern) = parse_command(body, triggers.command) else {
                        return Ok(Event::Ignored("the review has no command".into()));
                    };
                    Ok(Event::Forward(ForwardRequest {
                        pull,
                        sender: sender(&v, &["sender"], None)?,
                        concern,
                        trigger: Trigger::Comment { comment_id: None },
                        repo: info,
                    }))
                }
                other => Ok(Event::Ignored(format!("pull_request {other}"))),
            }
        }
        other => Ok(Event::Ignored(format!("event {other:?} is not handled"))),
    }
}

/// GitLab's `project` object: namespace path, name, info.
fn gitlab_project(v: &Value) -> Result<(String, String, RepoInfo), PayloadError> {
    let path = need_str(
        v,
        &["project", "path_with_namespace"],
        "project.path_with_namespace",
    )?;
    let (owner, repo) = path.rsplit_once('/').ok_or(PayloadError::Invalid {
        field: "project.path_with_namespace",
        reason: "expected namespace/project",
    })?;
    check_name("project.path_with_namespace", owner, true)?;
    check_name("project.path_with_namespace", repo, false)?;
    // visibility_level: 0 private, 10 internal, 20 public.
    let level = at(v, &["project", "visibility_level"]).and_then(Value::as_u64);
    let info = RepoInfo {
        web_url: str_at(v, &["project", "web_url"]).map(str::to_string),
        private: level.is_none_or(|l| l == 0),
        installation: None,
    };
    Ok((owner.to_string(), repo.to_string(), info))
}

/// Parses a GitLab delivery (`X-Gitlab-Event`: `Note Hook`, `Merge Request Hook`, ...).
///
/// # Errors
/// When the payload is not JSON or lacks a needed field.
pub fn parse_gitlab(
    event: &str,
    body: &[u8],
    triggers: Triggers<'_>,
) -> Result<Event, PayloadError> {
    let v = parse_json(body)?;
    match event {
        "Note Hook" => {
            if str_at(&v, &["object_attributes", "noteable_type"]) != Some("MergeRequest") {
                return Ok(Event::Ignored(
                    "a note on something other than a merge request".into(),
                ));
            }
            let note = str_at(&v, &["object_attributes", "note"]).unwrap_or("");
            let Some(concern) = parse_command(note, triggers.command) else {
                return Ok(Event::Ignored("the note has no command".into()));
            };
            let (owner, repo, info) = gitlab_project(&v)?;
            let number = need_u64(&v, &["merge_request", "iid"], "merge_request.iid")?;
            Ok(Event::Forward(ForwardRequest {
                pull: PullRef {
                    owner,
                    repo,
                    number,
                },
                sender: sender(&v, &["user"], None)?,
                concern,
                trigger: Trigger::Comment {
                    comment_id: at(&v, &["object_attributes", "id"]).and_then(Value::as_u64),
                },
                repo: info,
            }))
        }
        "Merge Request Hook" => {
            let action = str_at(&v, &["object_attributes", "action"]).unwrap_or("");
            let (owner, repo, info) = gitlab_project(&v)?;
            let number = need_u64(&v, &["object_attributes", "iid"], "object_attributes.iid")?;
            let pull = PullRef {
                owner,
                repo,
                number,
            };
            if action != "update" {
                return Ok(Event::Ignored(format!("merge request {action}")));
            }
            // New commits: `oldrev` is present only when the source branch moved.
            if let Some(old) = str_at(&v, &["object_attributes", "oldrev"]) {
                let head = need_str(
                    &v,
                    &["object_attributes", "last_commit", "id"],
                    "object_attributes.last_commit.id",
                )?;
                check_sha("object_attributes.last_commit.id", head)?;
                check_sha("object_attributes.oldrev", old)?;
                return Ok(Event::NewHead(NewHead {
                    pull,
                    head: head.to_string(),
                    base: None,
                    sender: sender(&v, &["user"], None)?,
                    repo: info,
                }));
            }
            let names = |which: &str| -> Vec<String> {
                at(&v, &["changes", "labels", which])
                    .and_then(Value::as_array)
                    .map(|ls| {
                        ls.iter()
                            .filter_map(|l| str_at(l, &["title"]))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let previous = names("previous");
            let added = names("current").into_iter().find(|n| {
                label_matches(n, triggers.label) && !previous.iter().any(|p| label_matches(p, n))
            });
            match added {
                Some(name) => Ok(Event::Forward(ForwardRequest {
                    pull,
                    sender: sender(&v, &["user"], None)?,
                    concern: String::new(),
                    trigger: Trigger::Label { name },
                    repo: info,
                })),
                None => Ok(Event::Ignored(
                    "a merge request update without new commits or the forwarding label".into(),
                )),
            }
        }
        other => Ok(Event::Ignored(format!("event {other:?} is not handled"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_start_a_line_and_take_the_rest_as_concern() {
        assert_eq!(
            parse_command("/s-express", "/s-express"),
            Some(String::new())
        );
        assert_eq!(
            parse_command(
                "thanks!\n  /s-express base64 blob in build.rs\nsee line 3",
                "/s-express"
            ),
            Some("base64 blob in build.rs\nsee line 3".into())
        );
        assert_eq!(parse_command("> /s-express quoted", "/s-express"), None);
        assert_eq!(parse_command("/s-expressive", "/s-express"), None);
        assert_eq!(parse_command("please run /s-express", "/s-express"), None);
    }

    #[test]
    fn names_and_shas_are_checked() {
        assert!(check_name("x", "Hello-World", false).is_ok());
        assert!(check_name("x", "group/sub", true).is_ok());
        assert!(check_name("x", "group/sub", false).is_err());
        assert!(check_name("x", "../etc", true).is_err());
        assert!(check_name("x", "a%2fb", false).is_err());
        assert!(check_name("x", "", false).is_err());
        assert!(check_sha("s", "ec26c3e57ca3a959ca5aad62de7213c562f8c821").is_ok());
        assert!(check_sha("s", "HEAD").is_err());
    }

    #[test]
    fn unknown_events_are_ignored_and_garbage_is_an_error() {
        let t = Triggers::default();
        assert!(matches!(
            parse_github("star", b"{}", t),
            Ok(Event::Ignored(_))
        ));
        assert!(matches!(
            parse_github("ping", b"not json", t),
            Err(PayloadError::NotJson(_))
        ));
        assert!(matches!(
            parse_gitlab("Push Hook", b"{}", t),
            Ok(Event::Ignored(_))
        ));
    }
}
