//! Administration shared by `s-express admin` (the operator on the server) and the `/admin`
//! page (coordinators and admins in the browser): creating subgroups, adding and removing
//! their members, disabling and re-enabling accounts.
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
//! Every change is recorded the same way whoever makes it: a `tracing` event at `info` on the
//! target `sx_server::admin`, naming the actor (`operator` or the user's id), the action and
//! what it changed. Like the same operations through the API, none writes the transparency
//! log: the log records what happens to cases, not account administration.

use std::collections::BTreeSet;

use sx_domain::{AttackVector, Language, Role, Subgroup, SubgroupKind, User, UserId};
use sx_store::{Store, StoreError, UserRecord, Versioned};

use crate::error::{ApiError, ErrorCode};

/// Who performs an administrative action.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// The operator, through `s-express admin` on the server.
    Operator,
    /// A signed-in user, through the web UI.
    User(&'a User),
}

impl Actor<'_> {
    /// How the record names the actor.
    fn label(&self) -> String {
        match self {
            Actor::Operator => "operator".to_string(),
            Actor::User(u) => u.id.to_string(),
        }
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
                "only admins may disable or enable accounts",
            )),
            _ => Ok(()),
        }
    }
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
    /// The subgroup would route no case to anyone.
    #[error("subgroup {0:?} would take no cases; choose at least one language or attack vector")]
    NoRouting(String),
    /// Only experts and coordinators join subgroups.
    #[error("{0:?} is neither an expert nor a coordinator; give them the expert role first")]
    NotAnExpert(String),
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
    /// Concurrent changes kept winning.
    #[error("subgroup {0:?} kept changing while saving; try again")]
    Busy(String),
    /// The database failed.
    #[error("the database failed: {0}")]
    Store(#[from] StoreError),
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
            AdminError::Invalid(_) | AdminError::NoRouting(_) | AdminError::NotAnExpert(_) => {
                ErrorCode::InvalidInput
            }
            AdminError::NoSuchUser(_) | AdminError::NoSuchSubgroup(_) => ErrorCode::NotFound,
            AdminError::DuplicateSlug(_)
            | AdminError::AlreadyMember { .. }
            | AdminError::NotMember { .. }
            | AdminError::Busy(_) => ErrorCode::Conflict,
            AdminError::LastAdmin => ErrorCode::InvalidState,
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
}

/// Creates a subgroup with no members; it is a language subgroup when it takes any
/// language, an attack-vector subgroup otherwise.
///
/// # Errors
/// Not allowed, a bad slug or name, no routing, a taken slug, or a store failure.
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
    if new.languages.is_empty() && new.vectors.is_empty() {
        return Err(AdminError::NoRouting(new.slug));
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
        coordinators: Vec::new(),
        routing: sx_domain::RoutingRules {
            languages: new.languages,
            vectors: new.vectors,
        },
    };
    match store.create_subgroup(&group).await {
        Ok(()) => {}
        Err(StoreError::Duplicate { .. }) => return Err(AdminError::DuplicateSlug(new.slug)),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(
        target: "sx_server::admin",
        actor = %actor.label(),
        action = "subgroup-created",
        subgroup = %group.id,
        slug = %group.slug,
        "subgroup created"
    );
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
    actor.may_manage_subgroups()?;
    let group = find_subgroup(store, slug).await?;
    let user = find_user(store, handle).await?.user;
    if !(user.has_role(Role::Expert) || user.has_role(Role::Coordinator)) {
        return Err(AdminError::NotAnExpert(user.handle));
    }
    change_members(store, group, &user, true).await?;
    tracing::info!(
        target: "sx_server::admin",
        actor = %actor.label(),
        action = "subgroup-member-added",
        slug = %slug,
        user = %user.id,
        "subgroup member added"
    );
    Ok(user)
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
    actor.may_manage_subgroups()?;
    let group = find_subgroup(store, slug).await?;
    let user = find_user(store, handle).await?.user;
    change_members(store, group, &user, false).await?;
    tracing::info!(
        target: "sx_server::admin",
        actor = %actor.label(),
        action = "subgroup-member-removed",
        slug = %slug,
        user = %user.id,
        "subgroup member removed"
    );
    Ok(user)
}

/// Adds or removes `user`, re-reading and retrying when the subgroup changed meanwhile.
async fn change_members(
    store: &impl Store,
    mut current: Versioned<Subgroup>,
    user: &User,
    add: bool,
) -> Result<(), AdminError> {
    let slug = current.value.slug.clone();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            current = find_subgroup(store, &slug).await?;
        }
        let members = &mut current.value.members;
        if add {
            if members.contains(&user.id) {
                return Err(AdminError::AlreadyMember {
                    handle: user.handle.clone(),
                    slug,
                });
            }
            members.push(user.id);
        } else {
            if !members.contains(&user.id) {
                return Err(AdminError::NotMember {
                    handle: user.handle.clone(),
                    slug,
                });
            }
            members.retain(|m| *m != user.id);
        }
        match store.update_subgroup(&current.value, current.version).await {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(AdminError::Busy(slug))
}

/// Refuses to take away the last enabled admin (nobody could administer the instance then).
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
    store.set_user_disabled(record.user.id, disabled).await?;
    tracing::info!(
        target: "sx_server::admin",
        actor = %actor.label(),
        action = if disabled { "user-disabled" } else { "user-enabled" },
        user = %record.user.id,
        "account {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(record.user)
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
        assert_eq!(
            api(AdminError::NotAnExpert("x".into())),
            ErrorCode::InvalidInput
        );
    }
}
