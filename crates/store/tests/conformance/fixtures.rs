//! Domain objects for tests, built on the seed generators so they stay valid as the domain grows.

use std::collections::BTreeSet;

use sx_domain::{
    Affiliation, Case, CaseId, CaseStatus, ExpertProfile, Project, ProjectId, Role, Subgroup,
    SubgroupId, TlpLabel, User, UserId,
};
use sx_store::seed::{self, SeedSpec};
use sx_store::{AnyStore, Store};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub fn now() -> OffsetDateTime {
    // Whole microseconds, the precision both backends store.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
}

pub fn project(owner: &str, name: &str, maintainers: Vec<UserId>) -> Project {
    Project {
        owner: owner.into(),
        name: name.into(),
        maintainers,
        id: ProjectId(Uuid::new_v4()),
        ..seed::project(0, t0())
    }
}

pub fn user(handle: &str, roles: &[Role]) -> User {
    User {
        id: UserId(Uuid::new_v4()),
        handle: handle.into(),
        display_name: handle.into(),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        expert: None,
        created_at: t0(),
    }
}

pub fn expert(handle: &str, affiliations: Vec<Affiliation>) -> User {
    User {
        expert: Some(ExpertProfile {
            affiliations,
            ..ExpertProfile::default()
        }),
        ..user(handle, &[Role::Expert])
    }
}

pub fn subgroup(slug: &str, members: Vec<UserId>) -> Subgroup {
    Subgroup {
        id: SubgroupId(Uuid::new_v4()),
        slug: slug.into(),
        members,
        ..seed::subgroups(0)[0].clone()
    }
}

/// A case on `project`, received at `received_at`, in `status`, routed to `subgroups`.
pub fn case(
    project: &Project,
    status: CaseStatus,
    received_at: OffsetDateTime,
    subgroups: Vec<SubgroupId>,
) -> Case {
    let mut c = seed::case(&SeedSpec::new(1, 0), 0).unwrap();
    c.id = CaseId(Uuid::new_v4());
    c.project_id = project.id;
    c.submitted_by = project
        .maintainers
        .first()
        .copied()
        .unwrap_or(c.submitted_by);
    c.status = status;
    c.received_at = received_at;
    c.updated_at = received_at;
    c.subgroups = subgroups;
    c.source.author = Some("someone".into());
    if status == CaseStatus::Published {
        c.tlp = TlpLabel::Clear;
        c.published_at = Some(received_at + Duration::days(2));
    } else {
        c.tlp = TlpLabel::AmberStrict;
        c.published_at = None;
    }
    c
}

/// Stores a project with a fresh maintainer and returns both.
pub async fn stored_project(store: &AnyStore, owner: &str, name: &str) -> (Project, User) {
    let m = user(
        &format!("maint-{}", Uuid::new_v4().simple()),
        &[Role::Maintainer],
    );
    store.create_user(&m, None).await.unwrap();
    let p = project(owner, name, vec![m.id]);
    store.create_project(&p).await.unwrap();
    (p, m)
}
