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
