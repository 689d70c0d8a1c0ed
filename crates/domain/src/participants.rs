//! Read-in lists: who, by name, is in on a sealed case, and which subgroups are read in by
//! rule. The list itself is visible to every participant, so nobody is read in silently.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{SubgroupId, UserId};

string_enum! {
    /// Why a person is on a case's named list.
    pub enum ParticipantRole {
        /// A maintainer of the project (the submitter is added on receipt).
        Maintainer = "maintainer",
        /// An expert who claimed the case.
        AssignedExpert = "assigned-expert",
        /// An expert asked to review an assessment.
        SecondReviewer = "second-reviewer",
        /// Someone invited to help (another maintainer, a forge's security team, ...).
        InvitedHelper = "invited-helper",
        /// A coordinator working the case.
        Coordinator = "coordinator",
    }
}

/// A named participant of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Who.
    pub user: UserId,
    /// Why.
    pub role: ParticipantRole,
    /// Who added them; `None` when the rules did.
    pub added_by: Option<UserId>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

/// A rule that reads a whole subgroup into a case: its members and coordinators (minus anyone
/// with a conflict of interest) may see the case's AMBER+STRICT material. Triage adds one per
/// routed subgroup so experts can find and claim the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadInRule {
    /// The subgroup read in.
    pub subgroup: SubgroupId,
    /// Who added the rule; `None` when triage did.
    pub added_by: Option<UserId>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}
