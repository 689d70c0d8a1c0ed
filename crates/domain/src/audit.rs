//! The audit trail of privileged actions: who changed accounts, roles, subgroups and
//! invitations, and when.
//!
//! The transparency log ([`crate::DomainEvent`]) records what happens to *cases*; this records
//! the administration of the instance around them, which the log deliberately leaves out.
//! Each [`AuditEvent`] names its [`AuditActor`] (a signed-in user, or the operator running
//! `s-express admin` on the server), an [`AuditAction`], the [`AuditTarget`] it changed, plain
//! details (handles, roles, slugs) and the time. Events are only ever appended: the store has
//! no way to change or delete one.
//!
//! Case actions by coordinators (embargo approval, grace extensions, participants) are not
//! audit events: they are domain events in the transparency log, sealed with their case until
//! publication, so an admin reading the audit trail learns nothing about a case the TLP rules
//! keep from them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::ids::{SubgroupId, UserId};

string_enum! {
    /// What a privileged action did. The text form is stored and shown; it never changes.
    pub enum AuditAction {
        /// An account was created by the operator.
        UserCreated = "user-created",
        /// An account was disabled (its sessions ended, its tokens stopped).
        UserDisabled = "user-disabled",
        /// A disabled account was enabled again.
        UserEnabled = "user-enabled",
        /// A role was granted to an account.
        RoleGranted = "role-granted",
        /// A role was taken from an account.
        RoleRevoked = "role-revoked",
        /// An API token was issued for an account by the operator.
        TokenIssued = "token-issued",
        /// A subgroup was created.
        SubgroupCreated = "subgroup-created",
        /// An expert joined a subgroup.
        MemberAdded = "subgroup-member-added",
        /// A member left a subgroup.
        MemberRemoved = "subgroup-member-removed",
        /// A coordinator was put in charge of a subgroup.
        CoordinatorAdded = "subgroup-coordinator-added",
        /// A coordinator stopped coordinating a subgroup.
        CoordinatorRemoved = "subgroup-coordinator-removed",
        /// An invitation (granting roles on acceptance) was created.
        InvitationCreated = "invitation-created",
        /// Synthetic data was bulk-loaded (`s-express admin seed`).
        DatabaseSeeded = "database-seeded",
    }
}

/// How the operator is named in the trail.
pub const OPERATOR: &str = "cli/operator";

/// Who performed a privileged action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditActor {
    /// The operator, through `s-express admin` on the server machine (shell access to the
    /// database, so no account).
    Operator,
    /// A signed-in user.
    User(UserId),
}

impl AuditActor {
    /// The user, unless it was the operator.
    #[must_use]
    pub fn user(&self) -> Option<UserId> {
        match self {
            AuditActor::Operator => None,
            AuditActor::User(id) => Some(*id),
        }
    }
}

impl fmt::Display for AuditActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditActor::Operator => f.write_str(OPERATOR),
            AuditActor::User(id) => write!(f, "{id}"),
        }
    }
}

/// Text that is neither [`OPERATOR`] nor a user id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither {OPERATOR:?} nor a user id")]
pub struct ParseAuditActorError(pub String);

impl FromStr for AuditActor {
    type Err = ParseAuditActorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == OPERATOR {
            return Ok(AuditActor::Operator);
        }
        s.parse()
            .map(AuditActor::User)
            .map_err(|_| ParseAuditActorError(s.chars().take(64).collect()))
    }
}

/// What a privileged action changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditTarget {
    /// An account.
    User(UserId),
    /// A subgroup.
    Subgroup(SubgroupId),
    /// An invitation (it has no id worth showing: its token is secret).
    Invitation,
    /// The instance as a whole (its database).
    Instance,
}

impl fmt::Display for AuditTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditTarget::User(id) => write!(f, "user:{id}"),
            AuditTarget::Subgroup(id) => write!(f, "subgroup:{id}"),
            AuditTarget::Invitation => f.write_str("invitation"),
            AuditTarget::Instance => f.write_str("instance"),
        }
    }
}

/// Text that is not an [`AuditTarget`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an audit target (user:ID, subgroup:ID, invitation or instance)")]
pub struct ParseAuditTargetError(pub String);

impl FromStr for AuditTarget {
    type Err = ParseAuditTargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseAuditTargetError(s.chars().take(64).collect());
        match s.split_once(':') {
            Some(("user", id)) => id.parse().map(AuditTarget::User).map_err(|_| bad()),
            Some(("subgroup", id)) => id.parse().map(AuditTarget::Subgroup).map_err(|_| bad()),
            None if s == "invitation" => Ok(AuditTarget::Invitation),
            None if s == "instance" => Ok(AuditTarget::Instance),
            _ => Err(bad()),
        }
    }
}

/// One privileged action, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it.
    pub actor: AuditActor,
    /// What they did.
    pub action: AuditAction,
    /// To what.
    pub target: AuditTarget,
    /// Plain facts that make the record readable on its own (`handle`, `role`, `subgroup`,
    /// …): names can change later, the record keeps those of the moment.
    pub details: BTreeMap<String, String>,
}

impl AuditEvent {
    /// An event without details.
    #[must_use]
    pub fn new(
        actor: AuditActor,
        action: AuditAction,
        target: AuditTarget,
        at: OffsetDateTime,
    ) -> Self {
        AuditEvent {
            at,
            actor,
            action,
            target,
            details: BTreeMap::new(),
        }
    }

    /// Adds a detail.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_and_targets_read_back_what_they_write() {
        let user = UserId(uuid::Uuid::from_u128(7));
        for actor in [AuditActor::Operator, AuditActor::User(user)] {
            assert_eq!(actor.to_string().parse::<AuditActor>(), Ok(actor));
        }
        assert_eq!(AuditActor::Operator.to_string(), "cli/operator");
        let group = SubgroupId(uuid::Uuid::from_u128(9));
        for target in [
            AuditTarget::User(user),
            AuditTarget::Subgroup(group),
            AuditTarget::Invitation,
            AuditTarget::Instance,
        ] {
            assert_eq!(target.to_string().parse::<AuditTarget>(), Ok(target));
        }
        assert!("operator".parse::<AuditActor>().is_err());
        assert!("user:nope".parse::<AuditTarget>().is_err());
        assert!("case:1".parse::<AuditTarget>().is_err());
    }

    #[test]
    fn action_names_are_stable() {
        assert_eq!(AuditAction::MemberAdded.as_str(), "subgroup-member-added");
        assert_eq!(
            AuditAction::CoordinatorAdded.as_str(),
            "subgroup-coordinator-added"
        );
        assert_eq!(
            "subgroup-coordinator-removed".parse::<AuditAction>(),
            Ok(AuditAction::CoordinatorRemoved)
        );
        assert_eq!(
            "role-revoked".parse::<AuditAction>(),
            Ok(AuditAction::RoleRevoked)
        );
    }
}
