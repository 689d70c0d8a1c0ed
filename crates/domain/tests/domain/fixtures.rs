//! A small world: one project, its maintainer, experts in a Rust subgroup (one of them tied
//! to the project), two coordinators, and helpers to drive a case to a given state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "fixtures are test setup: a broken setup should panic"
)]

use sx_domain::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub fn at(hours: i64) -> OffsetDateTime {
    T0 + Duration::hours(hours)
}

pub fn uid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub const MAINTAINER: u128 = 1;
pub const CO_MAINTAINER: u128 = 2;
pub const EXPERT_A: u128 = 10;
pub const EXPERT_B: u128 = 11;
pub const EXPERT_C: u128 = 12;
pub const CONFLICTED: u128 = 13;
pub const OUTSIDER_EXPERT: u128 = 14;
pub const COORD_X: u128 = 20;
pub const COORD_Y: u128 = 21;
pub const ADMIN: u128 = 30;
pub const STRANGER: u128 = 40;

pub struct World {
    pub project: Project,
    pub other_project: Project,
    pub subgroups: Vec<Subgroup>,
    pub policy: Policy,
    pub users: Vec<User>,
}

fn user(n: u128, handle: &str, roles: &[Role], affiliations: Vec<Affiliation>) -> User {
    User {
        id: UserId::from_uuid(uid(n)),
        handle: handle.into(),
        display_name: handle.into(),
        roles: roles.iter().copied().collect(),
        expert: roles.contains(&Role::Expert).then(|| ExpertProfile {
            affiliations,
            languages: [Language::Rust].into_iter().collect(),
            vectors: [AttackVector::InstallHook].into_iter().collect(),
            weekly_capacity_hours: 4,
            sponsor: None,
        }),
        created_at: datetime!(2025-01-01 0:00 UTC),
    }
}

impl World {
    pub fn new() -> Self {
        let project = Project {
            id: ProjectId::from_uuid(uid(100)),
            forge: Forge::Github,
            host: "github.com".into(),
            owner: "acme".into(),
            name: "widget".into(),
            maintainers: vec![
                UserId::from_uuid(uid(MAINTAINER)),
                UserId::from_uuid(uid(CO_MAINTAINER)),
            ],
            created_at: datetime!(2025-01-01 0:00 UTC),
        };
        let other_project = Project {
            id: ProjectId::from_uuid(uid(101)),
            name: "gadget".into(),
            ..project.clone()
        };
        let users = vec![
            user(MAINTAINER, "maya", &[Role::Maintainer], vec![]),
            user(CO_MAINTAINER, "moe", &[Role::Maintainer], vec![]),
            user(EXPERT_A, "ada", &[Role::Expert], vec![]),
            user(EXPERT_B, "bea", &[Role::Expert], vec![]),
            user(EXPERT_C, "cy", &[Role::Expert], vec![]),
            user(
                CONFLICTED,
                "con",
                &[Role::Expert],
                vec![Affiliation::Organization {
                    name: "ACME".into(),
                }],
            ),
            user(OUTSIDER_EXPERT, "otto", &[Role::Expert], vec![]),
            user(COORD_X, "xena", &[Role::Coordinator], vec![]),
            user(COORD_Y, "yuri", &[Role::Coordinator], vec![]),
            user(ADMIN, "root", &[Role::Admin], vec![]),
            user(STRANGER, "sam", &[], vec![]),
        ];
        let ids = |ns: &[u128]| {
            ns.iter()
                .map(|n| UserId::from_uuid(uid(*n)))
                .collect::<Vec<_>>()
        };
        let subgroups = vec![
            Subgroup {
                id: SubgroupId::from_uuid(uid(200)),
                slug: "rust".into(),
                name: "Rust".into(),
                kind: SubgroupKind::Language,
                members: ids(&[EXPERT_A, EXPERT_B, EXPERT_C, CONFLICTED]),
                coordinators: ids(&[COORD_X]),
                routing: RoutingRules {
                    languages: [Language::Rust].into_iter().collect(),
                    vectors: Default::default(),
                },
            },
            Subgroup {
                id: SubgroupId::from_uuid(uid(201)),
                slug: "python".into(),
                name: "Python".into(),
                kind: SubgroupKind::Language,
                members: ids(&[OUTSIDER_EXPERT]),
                coordinators: ids(&[COORD_Y]),
                routing: RoutingRules {
                    languages: [Language::Python].into_iter().collect(),
                    vectors: Default::default(),
                },
            },
        ];
        Self {
            project,
            other_project,
            subgroups,
            policy: Policy::default(),
            users,
        }
    }

    pub fn user(&self, n: u128) -> &User {
        self.users
            .iter()
            .find(|u| u.id.as_uuid() == uid(n))
            .expect("fixture user exists")
    }

    pub fn ctx(&self, now: OffsetDateTime) -> CaseContext<'_> {
        CaseContext {
            project: &self.project,
            subgroups: &self.subgroups,
            policy: &self.policy,
            now,
        }
    }

    pub fn rust(&self) -> SubgroupId {
        self.subgroups[0].id
    }

    pub fn python(&self) -> SubgroupId {
        self.subgroups[1].id
    }

    pub fn new_case(&self, n: u128) -> NewCase {
        NewCase {
            id: CaseId::from_uuid(uid(1000 + n)),
            source: ChangeSource {
                pull_request_url: Some("https://github.com/acme/widget/pull/7".into()),
                patch_ref: None,
                author: Some("Mallory".into()),
                title: Some("Fix typo".into()),
            },
            revision: Revision::new("aaa", "bbb").unwrap(),
            concern: Concern {
                text: "the build script fetches a tarball".into(),
                suspicion: SuspicionLevel::new(4).unwrap(),
                tags: vec!["build".into()],
            },
            report: None,
        }
    }

    /// A received case.
    pub fn received(&self) -> Case {
        Case::receive(&self.ctx(T0), self.user(MAINTAINER), self.new_case(1))
            .unwrap()
            .case
    }

    /// A case triaged to the Rust subgroup at +1 h.
    pub fn triaged(&self) -> Case {
        self.received()
            .triage(
                &self.ctx(at(1)),
                Actor::System,
                TriageOutcome::NeedsExpert,
                "build script downloads",
                &[self.rust()],
            )
            .unwrap()
            .case
    }

    /// Claimed by expert A at +2 h.
    pub fn claimed(&self) -> Case {
        self.triaged()
            .claim(&self.ctx(at(2)), self.user(EXPERT_A))
            .unwrap()
            .case
    }

    /// Assessed by expert A at +3 h with `verdict`.
    pub fn assessed(&self, verdict: Verdict) -> Case {
        self.claimed()
            .submit_assessment(
                &self.ctx(at(3)),
                self.user(EXPERT_A),
                aid(1),
                rid(1),
                body(verdict),
            )
            .unwrap()
            .case
    }

    /// [`World::assessed`] with `first`, then claimed by expert B at +4 h.
    pub fn claimed_by_b(&self, first: Verdict) -> Case {
        self.assessed(first)
            .claim(&self.ctx(at(4)), self.user(EXPERT_B))
            .unwrap()
            .case
    }

    /// [`World::claimed_by_b`], then assessed by expert B at +4 h with `second`.
    pub fn assessed_twice(&self, first: Verdict, second: Verdict) -> Case {
        self.claimed_by_b(first)
            .submit_assessment(
                &self.ctx(at(4)),
                self.user(EXPERT_B),
                aid(2),
                rid(2),
                body(second),
            )
            .unwrap()
            .case
    }

    /// Decided by the maintainer at +5 h after a benign assessment.
    pub fn decided(&self) -> Case {
        self.assessed(Verdict::Benign)
            .decide(
                &self.ctx(at(5)),
                self.user(MAINTAINER),
                DecisionOutcome::Merged,
                "",
            )
            .unwrap()
            .case
    }
}

pub fn aid(n: u128) -> AssessmentId {
    AssessmentId::from_uuid(uid(5000 + n))
}

pub fn rid(n: u128) -> SecondReviewId {
    SecondReviewId::from_uuid(uid(6000 + n))
}

pub fn pid(n: u128) -> EmbargoProposalId {
    EmbargoProposalId::from_uuid(uid(7000 + n))
}

pub fn gid(n: u128) -> GraceExtensionId {
    GraceExtensionId::from_uuid(uid(8000 + n))
}

pub fn body(verdict: Verdict) -> AssessmentBody {
    AssessmentBody {
        verdict,
        confidence: Confidence::High,
        summary: "The build script downloads and runs a tarball.".into(),
        rationale: "build.rs line 12 fetches over HTTP and executes the result.".into(),
        recommended_actions: vec!["Do not merge".into()],
        references: vec!["https://example.invalid/advisory".into()],
        time_spent_minutes: 45,
        thoroughness: Level::High,
        understanding: Level::High,
    }
}

pub fn kinds(t: &Transition) -> Vec<&'static str> {
    t.events.iter().map(DomainEvent::kind).collect()
}
