//! The embargo state machine, and grace-period extensions.
//!
//! ```text
//!   none ──propose──▶ proposed ──approve──▶ active ──propose──▶ revising
//!    │      ▲  │  ◀─propose─┘                ▲  ◀──approve/reject──┘  │
//!    │      └──┴─reject                      │                        │
//!    └───────────────── end ─────────────────┴──────── end ───────────┴──▶ ended
//! ```
//!
//! * Several parties may propose an end date; **the shortest proposal wins** (ties: the
//!   earliest proposal). Approval (by a coordinator who did not make the winning proposal)
//!   activates the winner; a revision's winner replaces the active end date.
//! * An embargo **ends as soon as the content is public elsewhere** (any state but `ended`),
//!   when it expires, when the maintainer or a coordinator withdraws it, or on publication.
//! * No proposal may reach past the case's grace deadline; only a grace extension approved by
//!   two different coordinators moves that deadline, and the extension is a public record.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ValidationError, require_text};
use crate::ids::{EmbargoProposalId, GraceExtensionId, UserId};

/// Longest embargo or extension reason, in bytes.
pub const MAX_REASON_LEN: usize = 5_000;

string_enum! {
    /// Where an embargo stands.
    pub enum EmbargoState {
        /// No embargo: the case publishes when decided (or at the grace deadline).
        None = "none",
        /// End dates proposed, none approved yet.
        Proposed = "proposed",
        /// In force until its end date.
        Active = "active",
        /// In force, with a new end date proposed.
        Revising = "revising",
        /// Over.
        Ended = "ended",
    }
}

string_enum! {
    /// What can happen to an embargo.
    pub enum EmbargoAction {
        /// Someone proposes an end date.
        Propose = "propose",
        /// A coordinator approves the winning proposal.
        Approve = "approve",
        /// A coordinator rejects the pending proposals.
        Reject = "reject",
        /// It ends (expiry, public elsewhere, withdrawal, publication).
        End = "end",
    }
}

string_enum! {
    /// Why an embargo ended.
    pub enum EmbargoEndReason {
        /// Its end date passed.
        Expired = "expired",
        /// The content became public elsewhere.
        PublicElsewhere = "public-elsewhere",
        /// The maintainer or a coordinator lifted it early.
        Withdrawn = "withdrawn",
        /// The case was published.
        Published = "published",
    }
}

/// An embargo transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("an embargo that is {from} cannot {action}")]
pub struct EmbargoTransitionError {
    /// State it was in.
    pub from: EmbargoState,
    /// What was attempted.
    pub action: EmbargoAction,
}

impl EmbargoState {
    /// The embargo state machine.
    ///
    /// # Errors
    /// When `action` is not allowed from `self`.
    pub fn apply(self, action: EmbargoAction) -> Result<Self, EmbargoTransitionError> {
        use EmbargoAction as A;
        use EmbargoState as S;
        match (self, action) {
            (S::None | S::Proposed, A::Propose) => Ok(S::Proposed),
            (S::Active | S::Revising, A::Propose) => Ok(S::Revising),
            (S::Proposed | S::Revising, A::Approve) => Ok(S::Active),
            (S::Proposed, A::Reject) => Ok(S::None),
            (S::Revising, A::Reject) => Ok(S::Active),
            (S::None | S::Proposed | S::Active | S::Revising, A::End) => Ok(S::Ended),
            (from, action) => Err(EmbargoTransitionError { from, action }),
        }
    }
}

/// Why an embargo command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmbargoError {
    /// The state machine does not allow it.
    #[error(transparent)]
    Transition(#[from] EmbargoTransitionError),
    /// The proposed end date is not in the future.
    #[error("the proposed embargo end {until} is not after now ({now}); propose a future date")]
    NotInFuture {
        /// Proposed end.
        until: OffsetDateTime,
        /// Now.
        now: OffsetDateTime,
    },
    /// The proposed end date is past the case's grace deadline.
    #[error(
        "the proposed embargo end {until} is past the grace deadline {deadline}; propose an earlier date or get a grace extension approved by two coordinators first"
    )]
    BeyondGrace {
        /// Proposed end.
        until: OffsetDateTime,
        /// The deadline.
        deadline: OffsetDateTime,
    },
    /// The approver made the winning proposal.
    #[error("you made the winning proposal, so another coordinator has to approve it")]
    SelfApproval,
    /// The embargo has not reached its end date.
    #[error("the embargo runs until {until}; it cannot expire before then")]
    NotExpired {
        /// The end date.
        until: OffsetDateTime,
    },
    /// A field was invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// One proposed embargo end date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbargoProposal {
    /// Stable id.
    pub id: EmbargoProposalId,
    /// Who proposed.
    pub by: UserId,
    /// Proposed end.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// Why (e.g. "fix ships in 1.4.2 on the 12th").
    pub reason: String,
    /// When proposed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A case's embargo.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Embargo {
    /// Where it stands.
    pub state: EmbargoState,
    /// Pending proposals (while `proposed` or `revising`).
    pub proposals: Vec<EmbargoProposal>,
    /// The approved end date (while `active` or `revising`; kept after it ends).
    #[serde(with = "time::serde::rfc3339::option")]
    pub active_until: Option<OffsetDateTime>,
    /// Who approved the current end date.
    pub approved_by: Option<UserId>,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Why it ended.
    pub end_reason: Option<EmbargoEndReason>,
}

#[allow(
    clippy::derivable_impls,
    reason = "string_enum! does not derive Default"
)]
impl Default for EmbargoState {
    fn default() -> Self {
        Self::None
    }
}

/// The proposal that wins among `proposals`: the shortest end date; ties go to the earliest
/// proposal, then the smallest id, so the result never depends on input order.
#[must_use]
pub fn winning_proposal(proposals: &[EmbargoProposal]) -> Option<&EmbargoProposal> {
    proposals
        .iter()
        .min_by(|a, b| (a.until, a.at, a.id).cmp(&(b.until, b.at, b.id)))
}

impl Embargo {
    /// The currently winning pending proposal.
    #[must_use]
    pub fn winning_proposal(&self) -> Option<&EmbargoProposal> {
        winning_proposal(&self.proposals)
    }

    /// Adds a proposal. `grace_deadline` is the latest allowed end date.
    ///
    /// # Errors
    /// When the embargo has ended, the date is not after `proposal.at` or is past the
    /// deadline, or the reason is empty or too long.
    pub fn propose(
        &self,
        proposal: EmbargoProposal,
        grace_deadline: OffsetDateTime,
    ) -> Result<Self, EmbargoError> {
        let state = self.state.apply(EmbargoAction::Propose)?;
        require_text("embargo reason", &proposal.reason, MAX_REASON_LEN)?;
        if proposal.until <= proposal.at {
            return Err(EmbargoError::NotInFuture {
                until: proposal.until,
                now: proposal.at,
            });
        }
        if proposal.until > grace_deadline {
            return Err(EmbargoError::BeyondGrace {
                until: proposal.until,
                deadline: grace_deadline,
            });
        }
        let mut next = self.clone();
        next.state = state;
        next.proposals.push(proposal);
        Ok(next)
    }

    /// Approves the winning proposal, making it the end date.
    ///
    /// # Errors
    /// When nothing is pending, the approver made the winning proposal, or the winning date
    /// has already passed.
    pub fn approve(&self, approver: UserId, now: OffsetDateTime) -> Result<Self, EmbargoError> {
        let state = self.state.apply(EmbargoAction::Approve)?;
        // The state machine guarantees proposals exist in `proposed`/`revising`; a
        // hand-built value without any is treated like a bad transition.
        let winner = self.winning_proposal().ok_or(EmbargoTransitionError {
            from: self.state,
            action: EmbargoAction::Approve,
        })?;
        if winner.by == approver {
            return Err(EmbargoError::SelfApproval);
        }
        if winner.until <= now {
            return Err(EmbargoError::NotInFuture {
                until: winner.until,
                now,
            });
        }
        let mut next = self.clone();
        next.state = state;
        next.active_until = Some(winner.until);
        next.approved_by = Some(approver);
        next.proposals.clear();
        Ok(next)
    }

    /// Rejects all pending proposals.
    ///
    /// # Errors
    /// When nothing is pending.
    pub fn reject(&self) -> Result<Self, EmbargoError> {
        let state = self.state.apply(EmbargoAction::Reject)?;
        let mut next = self.clone();
        next.state = state;
        next.proposals.clear();
        Ok(next)
    }

    /// Ends the embargo.
    ///
    /// # Errors
    /// When it already ended, or `reason` is `expired` before the end date.
    pub fn end(&self, reason: EmbargoEndReason, now: OffsetDateTime) -> Result<Self, EmbargoError> {
        let state = self.state.apply(EmbargoAction::End)?;
        if reason == EmbargoEndReason::Expired {
            match self.active_until {
                Some(until) if until > now => return Err(EmbargoError::NotExpired { until }),
                // Only an active embargo can expire.
                None => {
                    return Err(EmbargoTransitionError {
                        from: self.state,
                        action: EmbargoAction::End,
                    }
                    .into());
                }
                Some(_) => {}
            }
        }
        let mut next = self.clone();
        next.state = state;
        next.proposals.clear();
        next.ended_at = Some(now);
        next.end_reason = Some(reason);
        Ok(next)
    }

    /// Whether the embargo is in force at `now`.
    #[must_use]
    pub fn is_in_force(&self, now: OffsetDateTime) -> bool {
        matches!(self.state, EmbargoState::Active | EmbargoState::Revising)
            && self.active_until.is_some_and(|until| until > now)
    }

    /// Until when the embargo holds publication back, if at all.
    ///
    /// * `proposed`: the winning proposal's date, provisionally, so a case cannot publish in
    ///   the gap between a proposal and its approval;
    /// * `active`: the approved date;
    /// * `revising`: the later of the approved date and the winning revision, for the same
    ///   reason;
    /// * `none` / `ended`: nothing.
    ///
    /// Callers cap this at the grace deadline.
    #[must_use]
    pub fn holds_until(&self) -> Option<OffsetDateTime> {
        let pending = self.winning_proposal().map(|p| p.until);
        match self.state {
            EmbargoState::None | EmbargoState::Ended => None,
            EmbargoState::Proposed => pending,
            EmbargoState::Active => self.active_until,
            EmbargoState::Revising => self.active_until.max(pending),
        }
    }
}

string_enum! {
    /// Where a grace extension stands.
    pub enum GraceExtensionStatus {
        /// Waiting for two different coordinators.
        Pending = "pending",
        /// Two coordinators approved; the deadline moved.
        Granted = "granted",
    }
}

/// A coordinator's approval of a grace extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraceApproval {
    /// The coordinator.
    pub by: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A request to keep a case sealed past the instance's maximum grace period. It is a
/// **public** record (see [`GraceExtension::is_public`]): the public sees that the case's
/// publication date moved, by how much and why. It takes effect only when two different
/// coordinators approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraceExtension {
    /// Stable id.
    pub id: GraceExtensionId,
    /// How many days it adds.
    pub extra_days: u32,
    /// Why (published; write it without embargoed details).
    pub reason: String,
    /// Who asked.
    pub requested_by: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Approvals so far (distinct coordinators).
    pub approvals: Vec<GraceApproval>,
    /// Where it stands.
    pub status: GraceExtensionStatus,
}

impl GraceExtension {
    /// Coordinators that must approve, all different.
    pub const REQUIRED_APPROVALS: usize = 2;

    /// Always `true`: extensions are public records by policy, so that the maximum grace
    /// period can never be exceeded silently.
    #[must_use]
    pub const fn is_public(&self) -> bool {
        true
    }

    /// The extension as a duration.
    #[must_use]
    pub fn duration(&self) -> time::Duration {
        time::Duration::days(i64::from(self.extra_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EmbargoAction as A;
    use EmbargoState as S;
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::datetime;
    use uuid::Uuid;

    const TABLE: &[(S, A, Option<S>)] = &[
        (S::None, A::Propose, Some(S::Proposed)),
        (S::None, A::Approve, None),
        (S::None, A::Reject, None),
        (S::None, A::End, Some(S::Ended)),
        (S::Proposed, A::Propose, Some(S::Proposed)),
        (S::Proposed, A::Approve, Some(S::Active)),
        (S::Proposed, A::Reject, Some(S::None)),
        (S::Proposed, A::End, Some(S::Ended)),
        (S::Active, A::Propose, Some(S::Revising)),
        (S::Active, A::Approve, None),
        (S::Active, A::Reject, None),
        (S::Active, A::End, Some(S::Ended)),
        (S::Revising, A::Propose, Some(S::Revising)),
        (S::Revising, A::Approve, Some(S::Active)),
        (S::Revising, A::Reject, Some(S::Active)),
        (S::Revising, A::End, Some(S::Ended)),
        (S::Ended, A::Propose, None),
        (S::Ended, A::Approve, None),
        (S::Ended, A::Reject, None),
        (S::Ended, A::End, None),
    ];

    #[test]
    fn the_table_covers_every_state_and_action() {
        crate::transition_table::assert_covers_every_pair(TABLE, S::ALL, A::ALL);
    }

    #[test]
    fn every_embargo_transition_is_legal_or_rejected_with_a_typed_error() {
        crate::transition_table::assert_apply_follows(TABLE, S::apply, |from, action| {
            EmbargoTransitionError { from, action }
        });
    }

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
    const DEADLINE: OffsetDateTime = datetime!(2026-05-30 12:00 UTC);

    fn user(n: u128) -> UserId {
        UserId::from_uuid(Uuid::from_u128(n))
    }

    fn proposal(n: u128, by: u128, days: i64) -> EmbargoProposal {
        EmbargoProposal {
            id: EmbargoProposalId::from_uuid(Uuid::from_u128(n)),
            by: user(by),
            until: NOW + Duration::days(days),
            reason: "fix ships then".into(),
            at: NOW,
        }
    }

    #[test]
    fn the_shortest_proposal_wins_and_approval_activates_it() {
        let e = Embargo::default()
            .propose(proposal(1, 10, 30), DEADLINE)
            .unwrap()
            .propose(proposal(2, 11, 7), DEADLINE)
            .unwrap()
            .propose(proposal(3, 12, 14), DEADLINE)
            .unwrap();
        assert_eq!(e.state, S::Proposed);
        assert_eq!(e.holds_until(), Some(NOW + Duration::days(7)));
        let active = e.approve(user(99), NOW).unwrap();
        assert_eq!(active.state, S::Active);
        assert_eq!(active.active_until, Some(NOW + Duration::days(7)));
        assert!(active.proposals.is_empty());
        assert!(active.is_in_force(NOW + Duration::days(6)));
        assert!(!active.is_in_force(NOW + Duration::days(7)));
    }

    #[test]
    fn the_winning_proposer_cannot_approve_their_own_proposal() {
        let e = Embargo::default()
            .propose(proposal(1, 10, 30), DEADLINE)
            .unwrap();
        assert_eq!(e.approve(user(10), NOW), Err(EmbargoError::SelfApproval));
    }

    #[test]
    fn a_proposal_past_the_grace_deadline_or_in_the_past_is_refused() {
        let late = proposal(1, 10, 200);
        assert!(matches!(
            Embargo::default().propose(late, DEADLINE),
            Err(EmbargoError::BeyondGrace { .. })
        ));
        let past = proposal(2, 10, 0);
        assert!(matches!(
            Embargo::default().propose(past, DEADLINE),
            Err(EmbargoError::NotInFuture { .. })
        ));
        let mut empty = proposal(3, 10, 3);
        empty.reason = " ".into();
        assert!(matches!(
            Embargo::default().propose(empty, DEADLINE),
            Err(EmbargoError::Invalid(_))
        ));
    }

    #[test]
    fn a_revision_holds_publication_until_the_later_date_until_it_is_decided() {
        let active = Embargo::default()
            .propose(proposal(1, 10, 10), DEADLINE)
            .unwrap()
            .approve(user(99), NOW)
            .unwrap();
        let revising = active.propose(proposal(2, 10, 20), DEADLINE).unwrap();
        assert_eq!(revising.state, S::Revising);
        assert_eq!(revising.holds_until(), Some(NOW + Duration::days(20)));
        let rejected = revising.reject().unwrap();
        assert_eq!(rejected.state, S::Active);
        assert_eq!(rejected.holds_until(), Some(NOW + Duration::days(10)));
        let shortened = active
            .propose(proposal(3, 10, 5), DEADLINE)
            .unwrap()
            .approve(user(99), NOW)
            .unwrap();
        assert_eq!(shortened.active_until, Some(NOW + Duration::days(5)));
    }

    #[test]
    fn an_embargo_ends_at_once_when_the_content_is_public_elsewhere() {
        for e in [
            Embargo::default(),
            Embargo::default()
                .propose(proposal(1, 10, 10), DEADLINE)
                .unwrap(),
            Embargo::default()
                .propose(proposal(1, 10, 10), DEADLINE)
                .unwrap()
                .approve(user(99), NOW)
                .unwrap(),
        ] {
            let ended = e.end(EmbargoEndReason::PublicElsewhere, NOW).unwrap();
            assert_eq!(ended.state, S::Ended);
            assert_eq!(ended.ended_at, Some(NOW));
            assert_eq!(ended.holds_until(), None);
            assert!(ended.end(EmbargoEndReason::PublicElsewhere, NOW).is_err());
        }
    }

    #[test]
    fn an_embargo_expires_only_from_its_end_date() {
        let active = Embargo::default()
            .propose(proposal(1, 10, 10), DEADLINE)
            .unwrap()
            .approve(user(99), NOW)
            .unwrap();
        let end = NOW + Duration::days(10);
        assert_eq!(
            active.end(EmbargoEndReason::Expired, end - Duration::seconds(1)),
            Err(EmbargoError::NotExpired { until: end })
        );
        assert_eq!(
            active
                .end(EmbargoEndReason::Expired, end)
                .unwrap()
                .end_reason,
            Some(EmbargoEndReason::Expired)
        );
        assert!(
            Embargo::default()
                .end(EmbargoEndReason::Expired, NOW)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn the_shortest_proposal_wins_whatever_the_order(days in proptest::collection::vec(1i64..80, 1..8), rotate in 0usize..8) {
            let mut proposals: Vec<EmbargoProposal> = days
                .iter()
                .enumerate()
                .map(|(i, d)| proposal(i as u128 + 1, i as u128 + 100, *d))
                .collect();
            let n = proposals.len();
            proposals.rotate_left(rotate % n);
            let mut e = Embargo::default();
            for p in proposals {
                e = e.propose(p, DEADLINE).unwrap();
            }
            let shortest = NOW + Duration::days(*days.iter().min().unwrap());
            prop_assert_eq!(e.winning_proposal().map(|p| p.until), Some(shortest));
            let active = e.approve(user(1), NOW).unwrap();
            prop_assert_eq!(active.active_until, Some(shortest));
            // No proposal is ever shorter than the winner.
            prop_assert!(days.iter().all(|d| NOW + Duration::days(*d) >= shortest));
        }
    }
}
