//! Domain events: what each command changed, as the transparency log records it.
//!
//! Every event has a stable `kind` string (its serde tag) and an `is_public` flag. Public
//! events are logged in clear at once; the others are logged as a commitment (hash) and
//! revealed at publication. Public today: grace-extension events (an extension may never be
//! silent) and publication itself. Events carry ids and short fields, never change content.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::assessment::Verdict;
use crate::case::{EffectiveVerdict, TriageOutcome};
use crate::change::{Revision, RiskBand};
use crate::decision::DecisionOutcome;
use crate::embargo::EmbargoEndReason;
use crate::ids::{
    AssessmentId, CaseId, EmbargoProposalId, GraceExtensionId, ProjectId, SecondReviewId,
    SubgroupId, UserId,
};
use crate::participants::ParticipantRole;

/// One thing that happened to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// The case.
    pub case_id: CaseId,
    /// When (the `now` the command was given).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who caused it; `None` for the system (automation, timers).
    pub actor: Option<UserId>,
    /// What happened.
    #[serde(flatten)]
    pub change: CaseEvent,
}

impl DomainEvent {
    /// Stable kind string, e.g. `case-received`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        self.change.kind()
    }

    /// Whether the log may show this event in clear right away.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.change.is_public()
    }
}

/// What happened. The serde tag `kind` is the stable kind string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CaseEvent {
    /// A maintainer forwarded a change.
    CaseReceived {
        /// The project.
        project_id: ProjectId,
        /// The revision.
        revision: Revision,
    },
    /// The analyzer's report was attached.
    ReportAttached {
        /// Its band.
        band: RiskBand,
    },
    /// Triage concluded.
    CaseTriaged {
        /// The outcome.
        outcome: TriageOutcome,
        /// The reason sent back to the maintainer.
        reason: String,
        /// Routed subgroups, best first.
        subgroups: Vec<SubgroupId>,
    },
    /// An expert claimed the case.
    CaseClaimed {
        /// The expert.
        expert: UserId,
    },
    /// The claiming expert released the case.
    CaseUnclaimed {
        /// The expert.
        expert: UserId,
    },
    /// Someone was added to the named list.
    ParticipantAdded {
        /// Who.
        user: UserId,
        /// As what.
        role: ParticipantRole,
    },
    /// Someone was removed from the named list.
    ParticipantRemoved {
        /// Who.
        user: UserId,
    },
    /// A subgroup was read in by rule.
    SubgroupReadIn {
        /// The subgroup.
        subgroup: SubgroupId,
    },
    /// An expert started a draft assessment.
    AssessmentStarted {
        /// The assessment.
        assessment_id: AssessmentId,
        /// The revision it covers.
        revision: Revision,
    },
    /// An expert submitted an assessment.
    AssessmentSubmitted {
        /// The assessment.
        assessment_id: AssessmentId,
        /// Its verdict.
        verdict: Verdict,
        /// The revision it covers.
        revision: Revision,
    },
    /// An expert withdrew an assessment.
    AssessmentWithdrawn {
        /// The assessment.
        assessment_id: AssessmentId,
    },
    /// An assessment's revision was superseded.
    AssessmentOutdated {
        /// The assessment.
        assessment_id: AssessmentId,
    },
    /// The change got new commits.
    RevisionAdded {
        /// The new range.
        revision: Revision,
        /// The range it replaced.
        previous: Revision,
    },
    /// A second review was asked for.
    SecondReviewRequested {
        /// The review.
        review_id: SecondReviewId,
        /// The assessment under review.
        assessment_id: AssessmentId,
        /// Whether the rules asked (a malicious verdict) rather than a person.
        automatic: bool,
    },
    /// A second expert submitted their review.
    SecondReviewSubmitted {
        /// The review.
        review_id: SecondReviewId,
        /// Their verdict.
        verdict: Verdict,
        /// Whether it matches the reviewed verdict.
        agrees: bool,
    },
    /// A second review was dropped because its assessment was outdated or withdrawn.
    SecondReviewCancelled {
        /// The review.
        review_id: SecondReviewId,
    },
    /// The case's effective verdict changed (the maintainer is notified at once).
    VerdictChanged {
        /// The new effective verdict; `None` when no current opinion remains.
        verdict: Option<EffectiveVerdict>,
    },
    /// The maintainer decided.
    CaseDecided {
        /// What they did.
        outcome: DecisionOutcome,
    },
    /// An embargo end date was proposed.
    EmbargoProposed {
        /// The proposal.
        proposal_id: EmbargoProposalId,
        /// The proposed end.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// A coordinator approved the winning proposal.
    EmbargoApproved {
        /// The end date now in force.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// A coordinator rejected the pending proposals.
    EmbargoRejected,
    /// The embargo ended.
    EmbargoEnded {
        /// Why.
        reason: EmbargoEndReason,
    },
    /// Someone asked to extend the grace period (public).
    GraceExtensionRequested {
        /// The extension.
        extension_id: GraceExtensionId,
        /// Days asked for.
        extra_days: u32,
        /// Why (published).
        reason: String,
    },
    /// A coordinator approved a grace extension (public).
    GraceExtensionApproved {
        /// The extension.
        extension_id: GraceExtensionId,
        /// The approving coordinator.
        by: UserId,
    },
    /// Two coordinators approved; the grace deadline moved (public).
    GraceExtended {
        /// The extension.
        extension_id: GraceExtensionId,
        /// The new deadline.
        #[serde(with = "time::serde::rfc3339")]
        new_deadline: OffsetDateTime,
    },
    /// The case was published (public).
    CasePublished {
        /// Whether it published because the grace period ran out with nobody deciding.
        grace_expired: bool,
    },
}

impl CaseEvent {
    /// Every kind string, for schema checks and log verification.
    pub const KINDS: &'static [&'static str] = &[
        "case-received",
        "report-attached",
        "case-triaged",
        "case-claimed",
        "case-unclaimed",
        "participant-added",
        "participant-removed",
        "subgroup-read-in",
        "assessment-started",
        "assessment-submitted",
        "assessment-withdrawn",
        "assessment-outdated",
        "revision-added",
        "second-review-requested",
        "second-review-submitted",
        "second-review-cancelled",
        "verdict-changed",
        "case-decided",
        "embargo-proposed",
        "embargo-approved",
        "embargo-rejected",
        "embargo-ended",
        "grace-extension-requested",
        "grace-extension-approved",
        "grace-extended",
        "case-published",
    ];

    /// Stable kind string (identical to the serde tag).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::CaseReceived { .. } => "case-received",
            Self::ReportAttached { .. } => "report-attached",
            Self::CaseTriaged { .. } => "case-triaged",
            Self::CaseClaimed { .. } => "case-claimed",
            Self::CaseUnclaimed { .. } => "case-unclaimed",
            Self::ParticipantAdded { .. } => "participant-added",
            Self::ParticipantRemoved { .. } => "participant-removed",
            Self::SubgroupReadIn { .. } => "subgroup-read-in",
            Self::AssessmentStarted { .. } => "assessment-started",
            Self::AssessmentSubmitted { .. } => "assessment-submitted",
            Self::AssessmentWithdrawn { .. } => "assessment-withdrawn",
            Self::AssessmentOutdated { .. } => "assessment-outdated",
            Self::RevisionAdded { .. } => "revision-added",
            Self::SecondReviewRequested { .. } => "second-review-requested",
            Self::SecondReviewSubmitted { .. } => "second-review-submitted",
            Self::SecondReviewCancelled { .. } => "second-review-cancelled",
            Self::VerdictChanged { .. } => "verdict-changed",
            Self::CaseDecided { .. } => "case-decided",
            Self::EmbargoProposed { .. } => "embargo-proposed",
            Self::EmbargoApproved { .. } => "embargo-approved",
            Self::EmbargoRejected => "embargo-rejected",
            Self::EmbargoEnded { .. } => "embargo-ended",
            Self::GraceExtensionRequested { .. } => "grace-extension-requested",
            Self::GraceExtensionApproved { .. } => "grace-extension-approved",
            Self::GraceExtended { .. } => "grace-extended",
            Self::CasePublished { .. } => "case-published",
        }
    }

    /// Whether the log may show this event in clear right away.
    #[must_use]
    pub const fn is_public(&self) -> bool {
        matches!(
            self,
            Self::GraceExtensionRequested { .. }
                | Self::GraceExtensionApproved { .. }
                | Self::GraceExtended { .. }
                | Self::CasePublished { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn samples() -> Vec<CaseEvent> {
        let u = UserId::from_uuid(Uuid::from_u128(1));
        let a = AssessmentId::from_uuid(Uuid::from_u128(2));
        let r = SecondReviewId::from_uuid(Uuid::from_u128(3));
        let g = GraceExtensionId::from_uuid(Uuid::from_u128(4));
        let s = SubgroupId::from_uuid(Uuid::from_u128(5));
        let rev = Revision::new("a", "b").unwrap();
        let t = datetime!(2026-01-01 0:00 UTC);
        vec![
            CaseEvent::CaseReceived {
                project_id: ProjectId::from_uuid(Uuid::from_u128(6)),
                revision: rev.clone(),
            },
            CaseEvent::ReportAttached {
                band: RiskBand::High,
            },
            CaseEvent::CaseTriaged {
                outcome: TriageOutcome::NeedsExpert,
                reason: "r".into(),
                subgroups: vec![s],
            },
            CaseEvent::CaseClaimed { expert: u },
            CaseEvent::CaseUnclaimed { expert: u },
            CaseEvent::ParticipantAdded {
                user: u,
                role: ParticipantRole::InvitedHelper,
            },
            CaseEvent::ParticipantRemoved { user: u },
            CaseEvent::SubgroupReadIn { subgroup: s },
            CaseEvent::AssessmentStarted {
                assessment_id: a,
                revision: rev.clone(),
            },
            CaseEvent::AssessmentSubmitted {
                assessment_id: a,
                verdict: Verdict::Benign,
                revision: rev.clone(),
            },
            CaseEvent::AssessmentWithdrawn { assessment_id: a },
            CaseEvent::AssessmentOutdated { assessment_id: a },
            CaseEvent::RevisionAdded {
                revision: rev.clone(),
                previous: rev,
            },
            CaseEvent::SecondReviewRequested {
                review_id: r,
                assessment_id: a,
                automatic: true,
            },
            CaseEvent::SecondReviewSubmitted {
                review_id: r,
                verdict: Verdict::Malicious,
                agrees: true,
            },
            CaseEvent::SecondReviewCancelled { review_id: r },
            CaseEvent::VerdictChanged { verdict: None },
            CaseEvent::CaseDecided {
                outcome: DecisionOutcome::ChangesRequested,
            },
            CaseEvent::EmbargoProposed {
                proposal_id: EmbargoProposalId::from_uuid(Uuid::from_u128(7)),
                until: t,
            },
            CaseEvent::EmbargoApproved { until: t },
            CaseEvent::EmbargoRejected,
            CaseEvent::EmbargoEnded {
                reason: EmbargoEndReason::PublicElsewhere,
            },
            CaseEvent::GraceExtensionRequested {
                extension_id: g,
                extra_days: 30,
                reason: "r".into(),
            },
            CaseEvent::GraceExtensionApproved {
                extension_id: g,
                by: u,
            },
            CaseEvent::GraceExtended {
                extension_id: g,
                new_deadline: t,
            },
            CaseEvent::CasePublished {
                grace_expired: false,
            },
        ]
    }

    #[test]
    fn every_kind_string_equals_the_serde_tag_and_is_listed() {
        let events = samples();
        assert_eq!(events.len(), CaseEvent::KINDS.len());
        for (event, kind) in events.iter().zip(CaseEvent::KINDS) {
            assert_eq!(event.kind(), *kind);
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json["kind"], *kind);
            assert_eq!(&serde_json::from_value::<CaseEvent>(json).unwrap(), event);
        }
    }

    #[test]
    fn only_grace_extensions_and_publication_are_public() {
        let public: Vec<&str> = samples()
            .iter()
            .filter(|e| e.is_public())
            .map(CaseEvent::kind)
            .collect();
        assert_eq!(
            public,
            [
                "grace-extension-requested",
                "grace-extension-approved",
                "grace-extended",
                "case-published"
            ]
        );
    }

    #[test]
    fn a_domain_event_flattens_its_kind_next_to_the_case_id() {
        let event = DomainEvent {
            case_id: CaseId::from_uuid(Uuid::from_u128(9)),
            at: datetime!(2026-01-01 0:00 UTC),
            actor: None,
            change: CaseEvent::EmbargoRejected,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "embargo-rejected");
        assert_eq!(json["at"], "2026-01-01T00:00:00Z");
        assert_eq!(serde_json::from_value::<DomainEvent>(json).unwrap(), event);
        assert!(!event.is_public());
    }
}
