//! Projects: a repository on a forge, and the users who maintain it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ProjectId, UserId};

string_enum! {
    /// The forge a project lives on. Self-hosted instances carry their host in
    /// [`Project::host`].
    pub enum Forge {
        /// github.com or GitHub Enterprise.
        Github = "github",
        /// gitlab.com or a self-hosted GitLab.
        Gitlab = "gitlab",
        /// Forgejo (e.g. Codeberg).
        Forgejo = "forgejo",
        /// Gitea.
        Gitea = "gitea",
        /// Patches sent by mail or uploaded, with no forge behind them.
        Email = "email",
    }
}

/// A project whose maintainers forward changes to S-Express.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Stable id.
    pub id: ProjectId,
    /// Which forge hosts it.
    pub forge: Forge,
    /// Host name of the forge instance, e.g. `github.com` or `codeberg.org`.
    pub host: String,
    /// Owner: the user or organization part of `owner/name`. Conflict-of-interest checks
    /// treat it as the project's organization.
    pub owner: String,
    /// Repository name.
    pub name: String,
    /// Registered users who maintain this project.
    pub maintainers: Vec<UserId>,
    /// When the project was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Project {
    /// `owner/name`, as forges show it.
    #[must_use]
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Whether `user` is one of this project's maintainers.
    #[must_use]
    pub fn is_maintainer(&self, user: UserId) -> bool {
        self.maintainers.contains(&user)
    }
}

impl Forge {
    /// The host of the forge's public instance (`github.com`, `gitlab.com`, `codeberg.org`,
    /// `gitea.com`): a project named without a host lives there. Mailing-list projects have
    /// no host and use `email`.
    #[must_use]
    pub const fn default_host(self) -> &'static str {
        match self {
            Forge::Github => "github.com",
            Forge::Gitlab => "gitlab.com",
            Forge::Forgejo => "codeberg.org",
            Forge::Gitea => "gitea.com",
            Forge::Email => "email",
        }
    }

    /// The forge whose public instance is `host` (any case), if it is one.
    #[must_use]
    pub fn of_default_host(host: &str) -> Option<Forge> {
        [Forge::Github, Forge::Gitlab, Forge::Forgejo, Forge::Gitea]
            .into_iter()
            .find(|f| host.eq_ignore_ascii_case(f.default_host()))
    }
}

/// A project as people write it: `OWNER/NAME`, `HOST/OWNER/NAME`, `FORGE:OWNER/NAME` or
/// `FORGE:HOST/OWNER/NAME` — `s-express submit --project`, the `Project:` line of a forwarded
/// mail and the project field of the web form all take this form, through [`ProjectSpec::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    /// The forge.
    pub forge: Forge,
    /// The host, lower-case; `None` for the forge's public instance ([`Forge::default_host`]).
    pub host: Option<String>,
    /// Owner (user or organization).
    pub owner: String,
    /// Repository name, without a trailing `.git`.
    pub name: String,
}

/// Why a text is not a [`ProjectSpec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "{spec:?} is not a project ({reason}); write OWNER/NAME, FORGE:OWNER/NAME or \
     FORGE:HOST/OWNER/NAME, e.g. github:acme/widget (forges: github, gitlab, forgejo, gitea, email)"
)]
pub struct ProjectSpecError {
    /// The text, cut to 100 characters.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Longest text [`ProjectSpecError`] repeats.
const MAX_SPEC_ECHO: usize = 100;

impl ProjectSpec {
    /// Parses `OWNER/NAME`, `HOST/OWNER/NAME`, `FORGE:OWNER/NAME` or `FORGE:HOST/OWNER/NAME`
    /// (white space around the text and its parts, slashes at its ends and a `.git` after the
    /// name are ignored; the forge and the host may be in any case).
    ///
    /// The forge is the one the text names, else `default_forge` (a `--forge` flag, a form's
    /// forge menu), else the forge of a well-known public host, else GitHub. The host is
    /// dropped when it is the forge's public one.
    ///
    /// # Errors
    /// When the forge is not one S-Express knows, or the text does not have two or three
    /// non-empty parts.
    pub fn parse(
        spec: &str,
        default_forge: Option<Forge>,
    ) -> Result<ProjectSpec, ProjectSpecError> {
        let bad = |reason: String| ProjectSpecError {
            spec: spec.trim().chars().take(MAX_SPEC_ECHO).collect(),
            reason,
        };
        let spec_trimmed = spec.trim();
        let (named_forge, rest) = match spec_trimmed.split_once(':') {
            Some((f, rest)) => {
                let name = f.trim().to_ascii_lowercase();
                let forge = name.parse::<Forge>().map_err(|_| {
                    bad(format!(
                        "{:?} is not a forge",
                        name.chars().take(MAX_SPEC_ECHO).collect::<String>()
                    ))
                })?;
                (Some(forge), rest)
            }
            None => (None, spec_trimmed),
        };
        let parts: Vec<&str> = rest
            .trim()
            .trim_matches('/')
            .split('/')
            .map(str::trim)
            .collect();
        let (host, owner, name) = match parts.as_slice() {
            [owner, name] => (None, *owner, *name),
            [host, owner, name] => (Some(host.to_ascii_lowercase()), *owner, *name),
            _ => return Err(bad("it needs an owner and a name separated by /".into())),
        };
        let name = name.strip_suffix(".git").unwrap_or(name);
        if owner.is_empty() || name.is_empty() || host.as_deref().is_some_and(str::is_empty) {
            return Err(bad("a part is empty".into()));
        }
        let forge = named_forge
            .or(default_forge)
            .or_else(|| host.as_deref().and_then(Forge::of_default_host))
            .unwrap_or(Forge::Github);
        let host = host.filter(|h| Forge::of_default_host(h) != Some(forge));
        Ok(ProjectSpec {
            forge,
            host,
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for ProjectSpec {
    /// The canonical text form, `FORGE:OWNER/NAME` or `FORGE:HOST/OWNER/NAME`, which
    /// [`ProjectSpec::parse`] reads back to the same value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Some(host) => write!(f, "{}:{host}/{}/{}", self.forge, self.owner, self.name),
            None => write!(f, "{}:{}/{}", self.forge, self.owner, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> ProjectSpec {
        ProjectSpec::parse(s, None).unwrap()
    }

    #[test]
    fn every_written_form_names_forge_host_owner_and_name() {
        let p = parse("acme/widget");
        assert_eq!(
            (p.forge, p.host, p.owner.as_str(), p.name.as_str()),
            (Forge::Github, None, "acme", "widget")
        );
        let p = parse(" github:tukaani-project/xz ");
        assert_eq!(
            (p.owner.as_str(), p.name.as_str()),
            ("tukaani-project", "xz")
        );
        let p = parse("GitLab:Git.Example.ORG/acme/widget.git");
        assert_eq!(
            (p.forge, p.host.as_deref(), p.name.as_str()),
            (Forge::Gitlab, Some("git.example.org"), "widget")
        );
        // A well-known public host names its forge, and is then the default one.
        let p = parse("codeberg.org/acme/widget.git");
        assert_eq!((p.forge, p.host), (Forge::Forgejo, None));
        let p = parse("github:github.com/acme/widget");
        assert_eq!((p.forge, p.host), (Forge::Github, None));
        // The forge written wins over the default one, the default over the host's.
        assert_eq!(
            ProjectSpec::parse("acme/widget", Some(Forge::Gitea))
                .unwrap()
                .forge,
            Forge::Gitea
        );
        assert_eq!(
            ProjectSpec::parse("forgejo:acme/widget", Some(Forge::Gitea))
                .unwrap()
                .forge,
            Forge::Forgejo
        );
        let p = ProjectSpec::parse("codeberg.org/acme/widget", Some(Forge::Gitea)).unwrap();
        assert_eq!(
            (p.forge, p.host.as_deref()),
            (Forge::Gitea, Some("codeberg.org"))
        );
        let p = parse("email:vger.kernel.org/linux-kernel");
        assert_eq!(
            (p.forge, p.owner.as_str(), p.name.as_str()),
            (Forge::Email, "vger.kernel.org", "linux-kernel")
        );
        assert_eq!(parse(" acme / widget/ ").name, "widget");
    }

    #[test]
    fn malformed_projects_are_refused_with_the_reason_and_the_forms() {
        for (spec, reason) in [
            ("widget", "owner and a name"),
            ("a/b/c/d", "owner and a name"),
            ("svn:acme/widget", "\"svn\" is not a forge"),
            ("https://github.com/acme/widget", "\"https\" is not a forge"),
            ("acme/.git", "empty"),
            ("github:/widget", "owner and a name"),
            ("acme//widget", "empty"),
            ("", "owner and a name"),
        ] {
            let e = ProjectSpec::parse(spec, None).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(reason), "{spec}: {text}");
            assert!(
                text.contains("FORGE:OWNER/NAME") && text.contains("github:acme/widget"),
                "{text}"
            );
        }
        let long = "x".repeat(5000);
        assert_eq!(
            ProjectSpec::parse(&long, None).unwrap_err().spec.len(),
            MAX_SPEC_ECHO
        );
    }

    #[test]
    fn default_hosts_round_trip() {
        for forge in Forge::ALL {
            let host = forge.default_host();
            let back = Forge::of_default_host(&host.to_ascii_uppercase());
            if *forge == Forge::Email {
                assert_eq!(back, None, "email is not a host anyone names");
            } else {
                assert_eq!(back, Some(*forge));
            }
        }
    }

    fn part() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"
            .prop_filter("not a .git suffix", |s| !s.ends_with(".git"))
    }

    proptest! {
        #[test]
        fn the_display_form_parses_back_to_the_same_project(
            forge in proptest::sample::select(Forge::ALL),
            host in proptest::option::of("[a-z0-9]{1,10}\\.example\\.org"),
            owner in part(),
            name in part(),
        ) {
            let spec = ProjectSpec { forge, host, owner, name };
            let text = spec.to_string();
            prop_assert_eq!(ProjectSpec::parse(&text, None).unwrap(), spec.clone());
            // The default forge does not override the one written.
            prop_assert_eq!(ProjectSpec::parse(&text, Some(Forge::Gitea)).unwrap(), spec);
        }

        #[test]
        fn any_text_parses_to_clean_parts_or_a_bounded_error(text in "\\PC{0,200}") {
            match ProjectSpec::parse(&text, None) {
                Ok(p) => {
                    for part in [&p.owner, &p.name] {
                        prop_assert!(!part.is_empty() && !part.contains('/'));
                        prop_assert_eq!(part.trim(), part.as_str());
                    }
                }
                Err(e) => prop_assert!(e.spec.chars().count() <= MAX_SPEC_ECHO),
            }
        }
    }
}
