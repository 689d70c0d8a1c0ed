//! Users, their roles and, for experts, the profile that routing and conflict checks read.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::UserId;
use crate::subgroup::{AttackVector, Language};

string_enum! {
    /// What a user may do. A user may hold several roles at once.
    pub enum Role {
        /// Forwards changes from projects they maintain and records decisions.
        Maintainer = "maintainer",
        /// Claims cases and writes assessments.
        Expert = "expert",
        /// Runs triage, routing, escalation, embargo approval and membership.
        Coordinator = "coordinator",
        /// Operates the instance. Holds no extra right to read sealed content.
        Admin = "admin",
    }
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// Login handle, compared case-insensitively with forge identities.
    pub handle: String,
    /// Name to show.
    pub display_name: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Expert profile; present when the user holds the expert role.
    pub expert: Option<ExpertProfile>,
    /// When the user registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the user holds `role`.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the user may create subgroups and add or remove their members: coordinators
    /// (they run routing and membership) and admins (they operate the instance). Neither
    /// right opens any case: reading stays with the TLP rules.
    #[must_use]
    pub fn may_manage_subgroups(&self) -> bool {
        self.has_role(Role::Coordinator) || self.has_role(Role::Admin)
    }

    /// Whether the user may disable and re-enable accounts: admins only.
    #[must_use]
    pub fn may_manage_accounts(&self) -> bool {
        self.has_role(Role::Admin)
    }
}

/// What an expert knows, who they are tied to, and how much time they give.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExpertProfile {
    /// Organizations, projects and people the expert is tied to. Any match with a case's
    /// project, its owner or the change's author makes the expert ineligible for that case.
    pub affiliations: Vec<Affiliation>,
    /// Languages and file kinds the expert reads well.
    pub languages: BTreeSet<Language>,
    /// Attack vectors the expert is skilled in.
    pub vectors: BTreeSet<AttackVector>,
    /// Hours per week the expert has pledged.
    pub weekly_capacity_hours: u16,
    /// The company paying for the expert's time, if it is company time.
    pub sponsor: Option<Sponsor>,
}

/// A tie that creates a conflict of interest. Names are compared case-insensitively and across
/// forges (an `acme` organization on any forge matches), which errs towards declaring a
/// conflict.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Affiliation {
    /// Member or employee of an organization (a forge owner name).
    Organization {
        /// Organization name as on the forge.
        name: String,
    },
    /// Contributor to or maintainer of one project.
    Project {
        /// Owner part of `owner/name`.
        owner: String,
        /// Repository name.
        name: String,
    },
    /// Close to a person (colleague, friend, family, co-maintainer).
    Person {
        /// The person's forge handle.
        handle: String,
    },
}

/// A company that sponsors an expert's time. The sponsor is also treated as an organization
/// affiliation: an expert does not assess changes to their employer's projects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sponsor {
    /// Organization name as on the forge, e.g. `acme-corp`.
    pub organization: String,
    /// Share of working time donated, in percent (e.g. 20).
    pub time_share_percent: Option<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role]) -> User {
        User {
            id: UserId::from_uuid(uuid::Uuid::from_u128(1)),
            handle: "u".into(),
            display_name: "U".into(),
            roles: roles.iter().copied().collect(),
            expert: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn coordinators_and_admins_run_subgroups_and_only_admins_run_accounts() {
        for (roles, subgroups, accounts) in [
            (&[Role::Maintainer][..], false, false),
            (&[Role::Expert][..], false, false),
            (&[Role::Coordinator][..], true, false),
            (&[Role::Admin][..], true, true),
            (&[Role::Expert, Role::Coordinator][..], true, false),
        ] {
            let u = user(roles);
            assert_eq!(u.may_manage_subgroups(), subgroups, "{roles:?}");
            assert_eq!(u.may_manage_accounts(), accounts, "{roles:?}");
        }
    }
}
