//! Pull request web URLs (`https://github.com/o/r/pull/7`, GitLab's
//! `https://gitlab.com/group/proj/-/merge_requests/7`, Forgejo's and Gitea's
//! `https://codeberg.org/o/r/pulls/7`) and the API base each implies.

use crate::webhook::{ForgeKind, PullRef, check_name};

/// A pull request named by its web URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullUrl {
    /// The forge family, from the URL's shape.
    pub kind: ForgeKind,
    /// The web host (with port, if any).
    pub host: String,
    /// The pull request.
    pub pull: PullRef,
    /// The API base that serves it (`https://api.github.com` for github.com, `/api/v3` on
    /// GitHub Enterprise, `/api/v4` on GitLab, `/api/v1` on Forgejo and Gitea).
    pub api_base: String,
    /// The URL, normalized.
    pub web_url: String,
}

/// Why a URL is not a pull request URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{url:?} is not a pull request URL ({reason}); expected https://github.com/OWNER/REPO/pull/N, https://GITLAB/GROUP/PROJECT/-/merge_requests/N or https://FORGEJO/OWNER/REPO/pulls/N"
)]
pub struct PullUrlError {
    /// The URL given.
    pub url: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Whether `text` looks like a web URL (so the CLI treats it as one, not as a file name).
#[must_use]
pub fn looks_like_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// Parses a pull request web URL.
///
/// # Errors
/// When the URL is not https, or its path is not one of the three shapes.
pub fn parse_pull_url(text: &str) -> Result<PullUrl, PullUrlError> {
    let err = |reason| PullUrlError {
        url: text.chars().take(200).collect(),
        reason,
    };
    let url = url::Url::parse(text.trim()).map_err(|_| err("not a URL"))?;
    if url.scheme() != "https" {
        return Err(err("only https URLs are fetched"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err("credentials in the URL are not accepted"));
    }
    let host_name = url
        .host_str()
        .ok_or_else(|| err("no host"))?
        .to_ascii_lowercase();
    let host = match url.port() {
        Some(p) => format!("{host_name}:{p}"),
        None => host_name.clone(),
    };
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    let number = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0);
    let (kind, owner, repo, n) = if let Some(pos) = segments.iter().position(|s| *s == "-") {
        // GitLab: namespace.../project/-/merge_requests/N
        match (segments.get(pos + 1), segments.get(pos + 2)) {
            (Some(&"merge_requests"), Some(n)) if pos >= 2 => {
                let n = number(n).ok_or_else(|| err("the merge request number is not a number"))?;
                let owner = segments[..pos - 1].join("/");
                (ForgeKind::Gitlab, owner, segments[pos - 1].to_string(), n)
            }
            _ => return Err(err("a GitLab URL must end in /-/merge_requests/N")),
        }
    } else {
        match segments.as_slice() {
            [owner, repo, "pull", n, ..] => (
                ForgeKind::Github,
                (*owner).to_string(),
                (*repo).to_string(),
                number(n).ok_or_else(|| err("the pull request number is not a number"))?,
            ),
            [owner, repo, "pulls", n, ..] => (
                ForgeKind::Forgejo,
                (*owner).to_string(),
                (*repo).to_string(),
                number(n).ok_or_else(|| err("the pull request number is not a number"))?,
            ),
            _ => return Err(err("unrecognised path")),
        }
    };
    check_name("owner", &owner, kind == ForgeKind::Gitlab).map_err(|_| err("odd owner name"))?;
    check_name("repository", &repo, false).map_err(|_| err("odd repository name"))?;
    let api_base = match kind {
        ForgeKind::Github if host == "github.com" || host == "www.github.com" => {
            "https://api.github.com".to_string()
        }
        ForgeKind::Github => format!("https://{host}/api/v3"),
        ForgeKind::Gitlab => format!("https://{host}/api/v4"),
        ForgeKind::Forgejo => format!("https://{host}/api/v1"),
    };
    let web_url = match kind {
        ForgeKind::Github => format!("https://{host}/{owner}/{repo}/pull/{n}"),
        ForgeKind::Gitlab => format!("https://{host}/{owner}/{repo}/-/merge_requests/{n}"),
        ForgeKind::Forgejo => format!("https://{host}/{owner}/{repo}/pulls/{n}"),
    };
    Ok(PullUrl {
        kind,
        host,
        pull: PullRef {
            owner,
            repo,
            number: n,
        },
        api_base,
        web_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes_parse_with_their_api_bases() {
        let gh = parse_pull_url("https://github.com/o/r/pull/12/files").unwrap();
        assert_eq!((gh.kind, gh.pull.number), (ForgeKind::Github, 12));
        assert_eq!(gh.api_base, "https://api.github.com");
        let ghe = parse_pull_url("https://ghe.example.com/o/r/pull/3").unwrap();
        assert_eq!(ghe.api_base, "https://ghe.example.com/api/v3");
        let gl = parse_pull_url("https://gitlab.com/group/sub/proj/-/merge_requests/7").unwrap();
        assert_eq!(gl.kind, ForgeKind::Gitlab);
        assert_eq!(
            (gl.pull.owner.as_str(), gl.pull.repo.as_str()),
            ("group/sub", "proj")
        );
        assert_eq!(gl.api_base, "https://gitlab.com/api/v4");
        let fj = parse_pull_url("https://codeberg.org/o/r/pulls/9").unwrap();
        assert_eq!(
            (fj.kind, fj.api_base.as_str()),
            (ForgeKind::Forgejo, "https://codeberg.org/api/v1")
        );
    }

    #[test]
    fn other_urls_are_refused_with_the_reason() {
        for bad in [
            "http://github.com/o/r/pull/1",
            "https://github.com/o/r/issues/1",
            "https://github.com/o/r/pull/x",
            "https://github.com/o/r/pull/0",
            "https://u:p@github.com/o/r/pull/1",
            "https://gitlab.com/-/merge_requests/1",
            "https://github.com/.git/r/pull/1",
        ] {
            assert!(parse_pull_url(bad).is_err(), "{bad}");
        }
    }
}
