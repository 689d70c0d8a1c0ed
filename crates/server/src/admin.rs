//! Administration shared by `s-express admin` (the operator on the server) and the `/admin`
//! page (coordinators and admins in the browser): creating subgroups, adding and removing
//! their members and coordinators, disabling and re-enabling accounts, granting and revoking roles, and (from
//! the command line only) creating accounts, issuing their tokens and seeding.
//!
//! ## The model
//!
//! Each operation is one function here, called by both front ends, so a rule (what a slug
//! looks like, who may join a subgroup, that the last enabled admin cannot be disabled) is
//! written once. Who acts is an [`Actor`]: the [`Actor::Operator`] has shell access to the
//! database and may do everything; a signed-in [`Actor::User`] may do what the domain allows
//! ([`sx_domain::User::may_manage_subgroups`], [`sx_domain::User::may_manage_accounts`]) and
//! cannot disable their own account.
//!
//! Every change is recorded the same way whoever makes it: an [`AuditEvent`] in the store's
//! append-only audit trail, written in the same transaction as the change
//! ([`Store::apply_audited`]), naming the actor (`cli/operator` or the user's id), the action,
//! its target and the handles, roles and slugs involved; and a `tracing` event at `info` on
//! the target `sx_server::admin` with the same fields. A refused or failed action records
//! nothing. None writes the transparency log: the log records what happens to cases, not
//! account administration. [`audit_trail`] reads the trail back (admins and the operator).

use std::collections::BTreeSet;

use sx_domain::{
    AttackVector, AuditAction, AuditActor, AuditEvent, AuditTarget, Language, Role, Subgroup,
    SubgroupKind, User, UserId,
};
use sx_store::{AuditFilter, AuditRecord, AuditedChange, Store, StoreError, UserRecord, Versioned};
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorCode};
use crate::jobs::analyze_case::FALLBACK_SUBGROUP;

/// Who performs an administrative action.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// The operator, through `s-express admin` on the server.
    Operator,
    /// A signed-in user, through the web UI.
    User(&'a User),
}

impl Actor<'_> {
    /// How the audit trail names the actor.
    #[must_use]
    pub fn audit(&self) -> AuditActor {
        match self {
            Actor::Operator => AuditActor::Operator,
            Actor::User(u) => AuditActor::User(u.id),
        }
    }

    /// An audit event by this actor, now.
    fn event(&self, action: AuditAction, target: AuditTarget) -> AuditEvent {
        AuditEvent::new(self.audit(), action, target, OffsetDateTime::now_utc())
    }

    fn may_manage_subgroups(&self) -> Result<(), AdminError> {
        match self {
            Actor::User(u) if !u.may_manage_subgroups() => Err(AdminError::NotAllowed(
                "only coordinators and admins may change subgroups",
            )),
            _ => Ok(()),
        }
    }

    fn may_manage_accounts(&self) -> Result<(), AdminError> {
        match self {
            Actor::User(u) if !u.may_manage_accounts() => Err(AdminError::NotAllowed(
                "only admins may disable or enable accounts, grant or revoke roles, or read the audit log",
            )),
            _ => Ok(()),
        }
    }
}

/// Applies `change` and appends `event` in one transaction, then traces the event.
async fn record(
    store: &impl Store,
    change: AuditedChange<'_>,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    store.apply_audited(&change, event).await?;
    trace(event);
    Ok(())
}

/// The `tracing` line of a recorded action (for operators reading the service log).
fn trace(event: &AuditEvent) {
    tracing::info!(
        target: "sx_server::admin",
        actor = %event.actor,
        action = %event.action,
        object = %event.target,
        details = ?event.details,
        "privileged action recorded"
    );
}

/// Why an administrative action was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The actor may not do this.
    #[error("{0}")]
    NotAllowed(&'static str),
    /// A field has the wrong form.
    #[error("{0}")]
    Invalid(String),
    /// No account has this handle.
    #[error("no user with the handle {0:?}")]
    NoSuchUser(String),
    /// No subgroup has this slug.
    #[error("no subgroup with the slug {0:?}")]
    NoSuchSubgroup(String),
    /// The slug is taken.
    #[error("a subgroup with the slug {0:?} already exists")]
    DuplicateSlug(String),
    /// The subgroup would route no case to anyone (only the fallback subgroup may).
    #[error(
        "subgroup {0:?} would take no cases; choose at least one language or attack vector \
         (only the fallback subgroup {FALLBACK_SUBGROUP:?}, which takes the cases no other \
         subgroup matches, may have none)"
    )]
    NoRouting(String),
    /// Only experts and coordinators join subgroups.
    #[error("{0:?} is neither an expert nor a coordinator; give them the expert role first")]
    NotAnExpert(String),
    /// Only holders of the coordinator role coordinate a subgroup.
    #[error(
        "{0:?} does not hold the coordinator role; grant it first (only coordinators coordinate a subgroup)"
    )]
    NotACoordinator(String),
    /// Naming someone who already coordinates the subgroup.
    #[error("{handle:?} already coordinates subgroup {slug:?}")]
    AlreadyCoordinator {
        /// The coordinator.
        handle: String,
        /// The subgroup.
        slug: String,
    },
    /// Removing a coordinator who is not one.
    #[error("{handle:?} does not coordinate subgroup {slug:?}")]
    NotCoordinator {
        /// The handle.
        handle: String,
        /// The subgroup.
        slug: String,
    },
    /// Adding someone already in.
    #[error("{handle:?} is already a member of subgroup {slug:?}")]
    AlreadyMember {
        /// The member.
        handle: String,
        /// The subgroup.
        slug: String,
    },
    /// Removing someone not in.
    #[error("{handle:?} is not a member of subgroup {slug:?}")]
    NotMember {
        /// The handle.
        handle: String,
        /// The subgroup.
        slug: String,
    },
    /// Nobody could administer the instance afterwards.
    #[error("that is the last enabled admin; grant another account the admin role first")]
    LastAdmin,
    /// A user disabling themselves through the web would lock themselves out mid-session.
    #[error("you cannot disable your own account; ask another admin")]
    OwnAccount,
    /// Revoking a user's only role.
    #[error("{0:?} would be left without a role; grant another role first, or disable the account")]
    LastRole(String),
    /// Concurrent changes kept winning.
    #[error("subgroup {0:?} kept changing while saving; try again")]
    Busy(String),
    /// Concurrent changes to an account kept winning.
    #[error("user {0:?} kept changing while saving; try again")]
    BusyUser(String),
    /// The handle is taken.
    #[error("a user with the handle {0:?} already exists")]
    DuplicateHandle(String),
    /// The database failed.
    #[error("the database failed: {0}")]
    Store(#[source] StoreError),
}

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            // The store's own last-admin guard, for writes that raced past
            // `ensure_another_admin`.
            StoreError::LastAdmin { .. } => AdminError::LastAdmin,
            other => AdminError::Store(other),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        let code = match &err {
            AdminError::Store(_) => {
                return match err {
                    AdminError::Store(e) => e.into(),
                    other => ApiError::internal(other),
                };
            }
            AdminError::NotAllowed(_) | AdminError::OwnAccount => ErrorCode::Forbidden,
            AdminError::Invalid(_)
            | AdminError::NoRouting(_)
            | AdminError::NotAnExpert(_)
            | AdminError::NotACoordinator(_) => ErrorCode::InvalidInput,
            AdminError::NoSuchUser(_) | AdminError::NoSuchSubgroup(_) => ErrorCode::NotFound,
            AdminError::DuplicateSlug(_)
            | AdminError::DuplicateHandle(_)
            | AdminError::BusyUser(_)
            | AdminError::AlreadyMember { .. }
            | AdminError::NotMember { .. }
            | AdminError::AlreadyCoordinator { .. }
            | AdminError::NotCoordinator { .. }
            | AdminError::Busy(_) => ErrorCode::Conflict,
            AdminError::LastAdmin | AdminError::LastRole(_) => ErrorCode::InvalidState,
        };
        ApiError::new(code, err.to_string())
    }
}

/// Retries of an optimistic update before giving up.
const ATTEMPTS: usize = 3;

/// Checks a subgroup slug: 1–40 characters of lowercase ASCII letters, digits and `-`, not
/// starting with `-`.
///
/// # Errors
/// [`AdminError::Invalid`] saying what a slug looks like.
pub fn check_slug(slug: &str) -> Result<(), AdminError> {
    let ok = !slug.is_empty()
        && slug.len() <= 40
        && !slug.starts_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "invalid subgroup slug {:?}: use 1-40 lowercase letters, digits and '-', such as rust or supply-chain",
            slug.chars().take(60).collect::<String>()
        )))
    }
}

/// A subgroup to create.
#[derive(Clone, Debug)]
pub struct NewSubgroup {
    /// Short stable name (see [`check_slug`]).
    pub slug: String,
    /// Name to show (1–100 characters, no control characters).
    pub name: String,
    /// Languages and file kinds it takes.
    pub languages: BTreeSet<Language>,
    /// Attack vectors it takes.
    pub vectors: BTreeSet<AttackVector>,
    /// Handles of its coordinators, each holding the coordinator role (may be empty).
    pub coordinators: Vec<String>,
}

/// Creates a subgroup with no members and the given coordinators; it is a language subgroup
/// when it takes any language, an attack-vector subgroup otherwise.
///
/// A subgroup must take at least one language or attack vector, except the fallback
/// subgroup (slug [`FALLBACK_SUBGROUP`]): it takes the cases no other subgroup matches, so it
/// may have no routing rules of its own.
///
/// # Errors
/// Not allowed, a bad slug or name, no routing (for any slug but the fallback), an unknown
/// coordinator or one without the coordinator role, a taken slug, or a store failure.
pub async fn create_subgroup(
    store: &impl Store,
    actor: Actor<'_>,
    new: NewSubgroup,
) -> Result<Subgroup, AdminError> {
    actor.may_manage_subgroups()?;
    check_slug(&new.slug)?;
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "a subgroup name is 1-100 characters without control characters".into(),
        ));
    }
    if new.languages.is_empty() && new.vectors.is_empty() && new.slug != FALLBACK_SUBGROUP {
        return Err(AdminError::NoRouting(new.slug));
    }
    let mut coordinators: Vec<User> = Vec::new();
    for handle in &new.coordinators {
        let user = find_user(store, handle).await?.user;
        ensure_coordinator_role(&user)?;
        if !coordinators.iter().any(|c| c.id == user.id) {
            coordinators.push(user);
        }
    }
    let kind = if new.languages.is_empty() {
        SubgroupKind::AttackVector
    } else {
        SubgroupKind::Language
    };
    let group = Subgroup {
        id: sx_domain::SubgroupId::from_uuid(uuid::Uuid::now_v7()),
        slug: new.slug.clone(),
        name,
        kind,
        members: Vec::new(),
        coordinators: coordinators.iter().map(|c| c.id).collect(),
        routing: sx_domain::RoutingRules {
            languages: new.languages,
            vectors: new.vectors,
        },
    };
    let joined = |items: Vec<String>| items.join(",");
    let mut event = actor
        .event(
            AuditAction::SubgroupCreated,
            AuditTarget::Subgroup(group.id),
        )
        .detail("subgroup", group.slug.clone())
        .detail("name", group.name.clone())
        .detail(
            "languages",
            joined(
                group
                    .routing
                    .languages
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            ),
        )
        .detail(
            "vectors",
            joined(
                group
                    .routing
                    .vectors
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            ),
        );
    if !coordinators.is_empty() {
        event = event.detail(
            "coordinators",
            joined(coordinators.iter().map(|c| c.handle.clone()).collect()),
        );
    }
    match record(store, AuditedChange::CreateSubgroup(&group), &event).await {
        Ok(()) => {}
        Err(StoreError::Duplicate { .. }) => return Err(AdminError::DuplicateSlug(new.slug)),
        Err(e) => return Err(e.into()),
    }
    Ok(group)
}

/// The account with `handle` (compared as the store compares handles).
///
/// # Errors
/// [`AdminError::NoSuchUser`], or a store failure.
pub async fn find_user(store: &impl Store, handle: &str) -> Result<UserRecord, AdminError> {
    store
        .get_user_by_handle(handle)
        .await?
        .ok_or_else(|| AdminError::NoSuchUser(handle.chars().take(64).collect()))
}

/// The subgroup with `slug`.
///
/// # Errors
/// [`AdminError::NoSuchSubgroup`], or a store failure.
pub async fn find_subgroup(
    store: &impl Store,
    slug: &str,
) -> Result<Versioned<Subgroup>, AdminError> {
    store
        .get_subgroup_by_slug(slug)
        .await?
        .ok_or_else(|| AdminError::NoSuchSubgroup(slug.chars().take(40).collect()))
}

/// Adds the expert (or coordinator) `handle` to subgroup `slug`: they then see its cases in
/// their queue. Returns the member.
///
/// # Errors
/// Not allowed, unknown subgroup or user, not an expert or coordinator, already a member, or
/// a store failure.
pub async fn add_member(
    store: &impl Store,
    actor: Actor<'_>,
    slug: &str,
    handle: &str,
) -> Result<User, AdminError> {
    change_seat(store, actor, (slug, handle), Seat::Member, true).await
}

/// Removes `handle` from subgroup `slug`. Returns the former member.
///
/// # Errors
/// Not allowed, unknown subgroup or user, not a member, or a store failure.
pub async fn remove_member(
    store: &impl Store,
    actor: Actor<'_>,
    slug: &str,
    handle: &str,
) -> Result<User, AdminError> {
    change_seat(store, actor, (slug, handle), Seat::Member, false).await
}

/// Makes `handle` (who must hold the coordinator role) a coordinator of subgroup `slug`: they
/// then see its queue and the AMBER material of its cases. Returns the coordinator.
///
/// # Errors
/// Not allowed, unknown subgroup or user, no coordinator role, already a coordinator of this
/// subgroup, or a store failure.
pub async fn add_coordinator(
    store: &impl Store,
    actor: Actor<'_>,
    slug: &str,
    handle: &str,
) -> Result<User, AdminError> {
    change_seat(store, actor, (slug, handle), Seat::Coordinator, true).await
}

/// Stops `handle` coordinating subgroup `slug` (whatever roles they hold now). Returns the
/// former coordinator.
///
/// # Errors
/// Not allowed, unknown subgroup or user, not a coordinator of this subgroup, or a store
/// failure.
pub async fn remove_coordinator(
    store: &impl Store,
    actor: Actor<'_>,
    slug: &str,
    handle: &str,
) -> Result<User, AdminError> {
    change_seat(store, actor, (slug, handle), Seat::Coordinator, false).await
}

/// Refuses to make someone without the coordinator role a subgroup's coordinator: the role is
/// what lets them triage, route and approve embargoes ([`Role::Coordinator`]); coordinating a
/// subgroup only adds that subgroup's AMBER material and queue.
fn ensure_coordinator_role(user: &User) -> Result<(), AdminError> {
    if user.has_role(Role::Coordinator) {
        Ok(())
    } else {
        Err(AdminError::NotACoordinator(user.handle.clone()))
    }
}

/// The four functions above: checks who may take the seat (only when adding; anyone can be
/// removed whatever roles they hold now), then changes the subgroup with its audit record.
async fn change_seat(
    store: &impl Store,
    actor: Actor<'_>,
    (slug, handle): (&str, &str),
    seat: Seat,
    add: bool,
) -> Result<User, AdminError> {
    actor.may_manage_subgroups()?;
    let group = find_subgroup(store, slug).await?;
    let user = find_user(store, handle).await?.user;
    let action = match (seat, add) {
        (Seat::Member, true) => {
            if !(user.has_role(Role::Expert) || user.has_role(Role::Coordinator)) {
                return Err(AdminError::NotAnExpert(user.handle));
            }
            AuditAction::MemberAdded
        }
        (Seat::Member, false) => AuditAction::MemberRemoved,
        (Seat::Coordinator, true) => {
            ensure_coordinator_role(&user)?;
            AuditAction::CoordinatorAdded
        }
        (Seat::Coordinator, false) => AuditAction::CoordinatorRemoved,
    };
    let event = actor
        .event(action, AuditTarget::User(user.id))
        .detail("handle", user.handle.clone())
        .detail("subgroup", group.value.slug.clone());
    change_members(store, group, &user, seat, add, &event).await?;
    Ok(user)
}

/// Which list of a subgroup a change is about.
#[derive(Clone, Copy, Debug)]
enum Seat {
    /// [`Subgroup::members`].
    Member,
    /// [`Subgroup::coordinators`].
    Coordinator,
}

/// Adds or removes `user` as a member or coordinator, re-reading and retrying when the
/// subgroup changed meanwhile, and records `event` with the change that succeeds.
async fn change_members(
    store: &impl Store,
    mut current: Versioned<Subgroup>,
    user: &User,
    seat: Seat,
    add: bool,
    event: &AuditEvent,
) -> Result<(), AdminError> {
    let slug = current.value.slug.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            current = find_subgroup(store, &slug).await?;
        }
        let list = match seat {
            Seat::Member => &mut current.value.members,
            Seat::Coordinator => &mut current.value.coordinators,
        };
        let handle = user.handle.clone();
        if add {
            if list.contains(&user.id) {
                return Err(match seat {
                    Seat::Member => AdminError::AlreadyMember { handle, slug },
                    Seat::Coordinator => AdminError::AlreadyCoordinator { handle, slug },
                });
            }
            list.push(user.id);
        } else {
            if !list.contains(&user.id) {
                return Err(match seat {
                    Seat::Member => AdminError::NotMember { handle, slug },
                    Seat::Coordinator => AdminError::NotCoordinator { handle, slug },
                });
            }
            list.retain(|m| *m != user.id);
        }
        let change = AuditedChange::UpdateSubgroup {
            subgroup: &current.value,
            expected_version: current.version,
        };
        match record(store, change, event).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AdminError::Busy(slug))
}

/// Refuses to take away the last enabled admin (nobody could administer the instance then).
///
/// This early check gives the refusal before anything is written; the store enforces the same
/// rule again inside the write's transaction ([`StoreError::LastAdmin`], mapped to
/// [`AdminError::LastAdmin`]), so two admins removing each other at once cannot both succeed.
///
/// # Errors
/// [`AdminError::LastAdmin`], or a store failure.
pub async fn ensure_another_admin(store: &impl Store, leaving: UserId) -> Result<(), AdminError> {
    let others = store
        .list_users()
        .await?
        .into_iter()
        .any(|u| u.user.id != leaving && !u.disabled && u.user.has_role(Role::Admin));
    if others {
        Ok(())
    } else {
        Err(AdminError::LastAdmin)
    }
}

/// Disables (`true`) or re-enables (`false`) the account `handle`. A disabled account can no
/// longer log in or use its tokens, and its sessions end at once. Returns the account.
///
/// # Errors
/// Not allowed, unknown user, the last enabled admin, a user disabling themselves, or a
/// store failure.
pub async fn set_disabled(
    store: &impl Store,
    actor: Actor<'_>,
    handle: &str,
    disabled: bool,
) -> Result<User, AdminError> {
    actor.may_manage_accounts()?;
    let record = find_user(store, handle).await?;
    if disabled {
        if let Actor::User(me) = actor
            && me.id == record.user.id
        {
            return Err(AdminError::OwnAccount);
        }
        if record.user.has_role(Role::Admin) {
            ensure_another_admin(store, record.user.id).await?;
        }
    }
    let action = if disabled {
        AuditAction::UserDisabled
    } else {
        AuditAction::UserEnabled
    };
    let event = actor
        .event(action, AuditTarget::User(record.user.id))
        .detail("handle", record.user.handle.clone());
    let change = AuditedChange::SetUserDisabled {
        id: record.user.id,
        disabled,
    };
    record_change(store, change, &event).await?;
    Ok(record.user)
}

async fn record_change(
    store: &impl Store,
    change: AuditedChange<'_>,
    event: &AuditEvent,
) -> Result<(), AdminError> {
    Ok(record(store, change, event).await?)
}

/// Grants (`true`) or revokes (`false`) `role` on the account `handle`; admins only. Granting
/// the expert role adds an empty expert profile if the account has none; revoking keeps the
/// profile (its declared conflicts matter if the role comes back). Returns the account and
/// whether anything changed: granting a role the account holds, or revoking one it lacks,
/// changes and records nothing.
///
/// # Errors
/// Not allowed, unknown user, the account's only role, the last enabled admin's admin role,
/// concurrent changes, or a store failure.
pub async fn set_role(
    store: &impl Store,
    actor: Actor<'_>,
    handle: &str,
    role: Role,
    grant: bool,
) -> Result<(User, bool), AdminError> {
    actor.may_manage_accounts()?;
    for _ in 0..ATTEMPTS {
        let record = find_user(store, handle).await?;
        let mut user = record.user;
        if grant {
            if !user.roles.insert(role) {
                return Ok((user, false));
            }
            if role == Role::Expert && user.expert.is_none() {
                user.expert = Some(sx_domain::ExpertProfile::default());
            }
        } else {
            if !user.roles.contains(&role) {
                return Ok((user, false));
            }
            if user.roles.len() == 1 {
                return Err(AdminError::LastRole(user.handle));
            }
            if role == Role::Admin && !record.disabled {
                ensure_another_admin(store, user.id).await?;
            }
            user.roles.remove(&role);
        }
        let action = if grant {
            AuditAction::RoleGranted
        } else {
            AuditAction::RoleRevoked
        };
        let event = actor
            .event(action, AuditTarget::User(user.id))
            .detail("handle", user.handle.clone())
            .detail("role", role.as_str());
        let change = AuditedChange::UpdateUser {
            user: &user,
            expected_version: record.version,
        };
        match record_change(store, change, &event).await {
            Ok(()) => return Ok((user, true)),
            Err(AdminError::Store(StoreError::Conflict { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    Err(AdminError::BusyUser(handle.chars().take(64).collect()))
}

/// Creates an account (the operator's `s-express admin create-user`): the same checks and
/// password hashing as registration, recorded in the audit trail.
///
/// # Errors
/// Not allowed (only admins and the operator create accounts), an invalid handle or
/// password, a taken handle, or a store failure.
pub async fn create_user(
    store: &impl Store,
    actor: Actor<'_>,
    new: crate::accounts::NewUser,
    now: OffsetDateTime,
) -> Result<User, AdminError> {
    actor.may_manage_accounts()?;
    let (user, hash) =
        crate::accounts::prepare_user(UserId::from_uuid(uuid::Uuid::now_v7()), new, now)
            .await
            .map_err(|e| AdminError::Invalid(e.message))?;
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    let event = actor
        .event(AuditAction::UserCreated, AuditTarget::User(user.id))
        .detail("handle", user.handle.clone())
        .detail("roles", roles.join(","));
    let change = AuditedChange::CreateUser {
        user: &user,
        password_hash: hash.as_deref(),
    };
    match record(store, change, &event).await {
        Ok(()) => Ok(user),
        Err(StoreError::Duplicate { .. }) => Err(AdminError::DuplicateHandle(user.handle)),
        Err(e) => Err(e.into()),
    }
}

/// Issues an API token for the account `user` on someone else's behalf (the operator's
/// `create-user --token`), recorded in the audit trail with the token's public id, never the
/// secret. A user's own tokens (`POST /api/v1/tokens`) are not privileged and not recorded.
///
/// # Errors
/// Not allowed, an invalid name, or a store failure.
pub async fn issue_token(
    store: &impl Store,
    actor: Actor<'_>,
    user: &User,
    name: &str,
    now: OffsetDateTime,
) -> Result<crate::accounts::IssuedToken, AdminError> {
    actor.may_manage_accounts()?;
    let issued = crate::accounts::prepare_token(user.id, name, None, now)
        .map_err(|e| AdminError::Invalid(e.message))?;
    let event = actor
        .event(AuditAction::TokenIssued, AuditTarget::User(user.id))
        .detail("handle", user.handle.clone())
        .detail(
            "token",
            crate::accounts::token_id(&issued.record.token_hash),
        )
        .detail("name", issued.record.name.clone());
    record_change(store, AuditedChange::CreateApiToken(&issued.record), &event).await?;
    Ok(issued)
}

/// Bulk-loads synthetic data (`s-express admin seed`) and records that it happened.
///
/// Seeding commits in many batches, not one transaction, so its record is appended after it
/// succeeded: a seed that fails part-way leaves partial data and no record (the command's
/// error says so).
///
/// # Errors
/// Not allowed, or the seeding or the store failed.
pub async fn seed(
    store: &sx_store::AnyStore,
    actor: Actor<'_>,
    spec: &sx_store::seed::SeedSpec,
) -> Result<sx_store::seed::SeedReport, AdminError> {
    actor.may_manage_accounts()?;
    let report = store.seed(spec).await?;
    let event = actor
        .event(AuditAction::DatabaseSeeded, AuditTarget::Instance)
        .detail("cases", report.cases.to_string())
        .detail("assessments", report.assessments.to_string());
    store.append_audit(&event).await?;
    trace(&event);
    Ok(report)
}

/// A page of the audit trail, newest first (admins and the operator).
///
/// # Errors
/// Not allowed, a bad page size, or a store failure.
pub async fn audit_trail(
    store: &impl Store,
    actor: Actor<'_>,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, AdminError> {
    actor.may_manage_accounts()?;
    Ok(store.list_audit(filter).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_lowercase_words() {
        for good in ["rust", "supply-chain", "c-cpp", "a1"] {
            assert!(check_slug(good).is_ok(), "{good}");
        }
        for bad in ["", "Rust", "-x", "with space", "ünï", &"x".repeat(41)] {
            let err = check_slug(bad).unwrap_err().to_string();
            assert!(err.contains("invalid subgroup slug"), "{bad}: {err}");
        }
    }

    #[test]
    fn refusals_keep_their_meaning_over_http() {
        let api = |e: AdminError| ApiError::from(e).code;
        assert_eq!(api(AdminError::NotAllowed("x")), ErrorCode::Forbidden);
        assert_eq!(api(AdminError::NoSuchUser("x".into())), ErrorCode::NotFound);
        assert_eq!(
            api(AdminError::DuplicateSlug("x".into())),
            ErrorCode::Conflict
        );
        assert_eq!(api(AdminError::LastAdmin), ErrorCode::InvalidState);
        // The store's own guard (a write that raced past `ensure_another_admin`) reads the same.
        let raced = AdminError::from(StoreError::LastAdmin { id: "u".into() });
        assert!(matches!(raced, AdminError::LastAdmin), "{raced:?}");
        assert_eq!(raced.to_string(), AdminError::LastAdmin.to_string());
        assert_eq!(
            api(AdminError::NotAnExpert("x".into())),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            api(AdminError::NotACoordinator("x".into())),
            ErrorCode::InvalidInput
        );
        assert_eq!(
            api(AdminError::AlreadyCoordinator {
                handle: "x".into(),
                slug: "y".into()
            }),
            ErrorCode::Conflict
        );
    }

    #[test]
    fn the_refusal_of_a_subgroup_without_routing_names_the_fallback() {
        let text = AdminError::NoRouting("cobol".into()).to_string();
        assert!(
            text.contains("\"cobol\" would take no cases")
                && text.contains("language or attack vector")
                && text.contains(&format!("fallback subgroup {FALLBACK_SUBGROUP:?}")),
            "{text}"
        );
    }
}
