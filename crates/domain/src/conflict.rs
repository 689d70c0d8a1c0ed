//! Conflicts of interest. An expert tied to the project, its organization (owner) or the
//! change's author is never eligible: never offered the case, never shown it through a
//! subgroup, never allowed to claim or second-review it.
//!
//! Identities are compared after trimming, dropping a leading `@` and Unicode lower-casing,
//! across forges: a false conflict costs one expert one case, a missed one costs trust.

use serde::{Deserialize, Serialize};

use crate::project::Project;
use crate::user::{Affiliation, Role, User};

/// Why an expert is conflicted for a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Conflict {
    /// The expert maintains the project.
    ProjectMaintainer,
    /// The expert wrote the change.
    ChangeAuthor,
    /// The expert declared an affiliation with the project.
    AffiliatedWithProject,
    /// The expert declared an affiliation with the project's owner organization.
    AffiliatedWithOwner,
    /// The expert declared a tie to the project's owner (a person) or the change's author.
    TiedToPerson {
        /// The handle matched.
        handle: String,
    },
    /// The expert's time is sponsored by the project's owner organization.
    SponsoredByOwner,
}

/// Normalises a forge identity for comparison.
#[must_use]
pub fn normalize_identity(name: &str) -> String {
    let trimmed = name.trim();
    trimmed.strip_prefix('@').unwrap_or(trimmed).to_lowercase()
}

fn same(a: &str, b: &str) -> bool {
    let a = normalize_identity(a);
    !a.is_empty() && a == normalize_identity(b)
}

/// Every conflict `expert` has with a case on `project` whose change was written by
/// `change_author`.
#[must_use]
pub fn conflicts(expert: &User, project: &Project, change_author: Option<&str>) -> Vec<Conflict> {
    let mut found = Vec::new();
    if project.is_maintainer(expert.id) {
        found.push(Conflict::ProjectMaintainer);
    }
    if change_author.is_some_and(|author| same(author, &expert.handle)) {
        found.push(Conflict::ChangeAuthor);
    }
    let Some(profile) = &expert.expert else {
        return found;
    };
    for affiliation in &profile.affiliations {
        let conflict = match affiliation {
            Affiliation::Project { owner, name }
                if same(owner, &project.owner) && same(name, &project.name) =>
            {
                Some(Conflict::AffiliatedWithProject)
            }
            Affiliation::Organization { name } if same(name, &project.owner) => {
                Some(Conflict::AffiliatedWithOwner)
            }
            Affiliation::Person { handle }
                if same(handle, &project.owner)
                    || change_author.is_some_and(|a| same(handle, a)) =>
            {
                Some(Conflict::TiedToPerson {
                    handle: handle.clone(),
                })
            }
            _ => None,
        };
        if let Some(conflict) = conflict
            && !found.contains(&conflict)
        {
            found.push(conflict);
        }
    }
    if profile
        .sponsor
        .as_ref()
        .is_some_and(|s| same(&s.organization, &project.owner))
    {
        found.push(Conflict::SponsoredByOwner);
    }
    found
}

/// Whether `expert` may work on a case on `project` by `change_author`: they hold the expert
/// role and have no conflict.
#[must_use]
pub fn is_eligible(expert: &User, project: &Project, change_author: Option<&str>) -> bool {
    expert.has_role(Role::Expert) && conflicts(expert, project, change_author).is_empty()
}

/// The eligible experts among `users`, in input order.
#[must_use]
pub fn eligible_experts<'a>(
    users: &'a [User],
    project: &Project,
    change_author: Option<&str>,
) -> Vec<&'a User> {
    users
        .iter()
        .filter(|u| is_eligible(u, project, change_author))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ProjectId, UserId};
    use crate::project::Forge;
    use crate::user::{ExpertProfile, Sponsor};
    use time::macros::datetime;
    use uuid::Uuid;

    fn project() -> Project {
        Project {
            id: ProjectId::from_uuid(Uuid::from_u128(1)),
            forge: Forge::Github,
            host: "github.com".into(),
            owner: "Tukaani-Project".into(),
            name: "XZ".into(),
            maintainers: vec![UserId::from_uuid(Uuid::from_u128(50))],
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn expert(n: u128, handle: &str, affiliations: Vec<Affiliation>) -> User {
        User {
            id: UserId::from_uuid(Uuid::from_u128(n)),
            handle: handle.into(),
            display_name: handle.into(),
            roles: [Role::Expert].into_iter().collect(),
            expert: Some(ExpertProfile {
                affiliations,
                ..ExpertProfile::default()
            }),
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn an_unaffiliated_expert_is_eligible() {
        assert!(is_eligible(
            &expert(2, "alice", vec![]),
            &project(),
            Some("JiaT75")
        ));
    }

    #[test]
    fn affiliations_conflict_case_insensitively() {
        let p = project();
        let cases = [
            (
                Affiliation::Project {
                    owner: "tukaani-project".into(),
                    name: "xz".into(),
                },
                Conflict::AffiliatedWithProject,
            ),
            (
                Affiliation::Organization {
                    name: " TUKAANI-PROJECT ".into(),
                },
                Conflict::AffiliatedWithOwner,
            ),
            (
                Affiliation::Person {
                    handle: "@jiat75".into(),
                },
                Conflict::TiedToPerson {
                    handle: "@jiat75".into(),
                },
            ),
        ];
        for (affiliation, conflict) in cases {
            let e = expert(2, "alice", vec![affiliation]);
            assert_eq!(conflicts(&e, &p, Some("JiaT75")), [conflict]);
            assert!(!is_eligible(&e, &p, Some("JiaT75")));
        }
    }

    #[test]
    fn the_change_author_and_the_maintainers_are_never_eligible() {
        let p = project();
        assert_eq!(
            conflicts(&expert(2, "JIAT75", vec![]), &p, Some("jiat75")),
            [Conflict::ChangeAuthor]
        );
        assert_eq!(
            conflicts(&expert(50, "lasse", vec![]), &p, None),
            [Conflict::ProjectMaintainer]
        );
    }

    #[test]
    fn a_tie_to_a_personal_repository_owner_conflicts() {
        let mut p = project();
        p.owner = "bob".into();
        let e = expert(
            2,
            "alice",
            vec![Affiliation::Person {
                handle: "Bob".into(),
            }],
        );
        assert!(!is_eligible(&e, &p, None));
    }

    #[test]
    fn a_sponsor_that_owns_the_project_conflicts() {
        let mut e = expert(2, "alice", vec![]);
        if let Some(profile) = e.expert.as_mut() {
            profile.sponsor = Some(Sponsor {
                organization: "tukaani-project".into(),
                time_share_percent: Some(20),
            });
        }
        assert_eq!(
            conflicts(&e, &project(), None),
            [Conflict::SponsoredByOwner]
        );
    }

    #[test]
    fn unrelated_names_that_merely_contain_the_owner_do_not_conflict() {
        let e = expert(
            2,
            "alice",
            vec![
                Affiliation::Organization {
                    name: "tukaani".into(),
                },
                Affiliation::Person { handle: "".into() },
            ],
        );
        assert!(is_eligible(&e, &project(), Some("")));
    }

    #[test]
    fn users_without_the_expert_role_are_not_eligible_and_filtering_keeps_order() {
        let mut maintainer_only = expert(3, "carol", vec![]);
        maintainer_only.roles = [Role::Maintainer].into_iter().collect();
        let users = vec![
            expert(4, "dave", vec![]),
            maintainer_only,
            expert(5, "JiaT75", vec![]),
            expert(6, "erin", vec![]),
        ];
        let names: Vec<&str> = eligible_experts(&users, &project(), Some("jiat75"))
            .iter()
            .map(|u| u.handle.as_str())
            .collect();
        assert_eq!(names, ["dave", "erin"]);
    }
}
