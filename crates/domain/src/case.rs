//! The case aggregate: its data, its state machine, and the commands that move it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::assessment::{
    Assessment, AssessmentAction, AssessmentBody, AssessmentStatus, AssessmentTransitionError,
    MAX_RATIONALE_LEN, SecondReview, SecondReviewStatus, Verdict,
};
use crate::change::{AutomatedReport, ChangeSource, Concern, Revision};
use crate::comment::Comment;
use crate::conflict::{Conflict, conflicts, is_eligible};
use crate::decision::{Decision, DecisionOutcome};
use crate::embargo::{
    Embargo, EmbargoEndReason, EmbargoError, EmbargoProposal, EmbargoState, GraceApproval,
    GraceExtension, GraceExtensionStatus,
};
use crate::error::{ValidationError, optional_text, require_text};
use crate::event::{CaseEvent, DomainEvent};
use crate::ids::{
    AssessmentId, CaseId, EmbargoProposalId, GraceExtensionId, ProjectId, SecondReviewId,
    SubgroupId, UserId,
};
use crate::participants::{Participant, ParticipantRole, ReadInRule};
use crate::policy::Policy;
use crate::project::Project;
use crate::subgroup::Subgroup;
use crate::tlp::{CaseRelation, ObjectKind, TlpLabel, TlpObject, Viewer};
use crate::user::{Role, User};

string_enum! {
    /// Where a case stands.
    pub enum CaseStatus {
        /// Forwarded; waiting for triage.
        Received = "received",
        /// Needs an expert; routed to subgroups; nobody has claimed it yet.
        Triaged = "triaged",
        /// At least one expert claimed it; no current submitted assessment.
        Claimed = "claimed",
        /// At least one submitted assessment on the current revision.
        Assessed = "assessed",
        /// The maintainer recorded a decision; publishes at max(decision, embargo end).
        Decided = "decided",
        /// Triage found no expert work to do (not security, duplicate, invalid). The triage
        /// reason was sent back to the maintainer. Publishes like a decided case, except
        /// `invalid` cases, which are never published.
        Closed = "closed",
        /// Public (TLP:CLEAR).
        Published = "published",
    }
}

string_enum! {
    /// What triage concluded.
    pub enum TriageOutcome {
        /// A human expert should assess it: the case moves to `triaged`.
        NeedsExpert = "needs-expert",
        /// Not a security matter: the case is `closed`.
        NotSecurity = "not-security",
        /// Same change as another case: the case is `closed`.
        Duplicate = "duplicate",
        /// Not a usable submission (spam, empty, unreadable): the case is `closed` and never
        /// published.
        Invalid = "invalid",
    }
}

string_enum! {
    /// Inputs to the case state machine (see [`CaseStatus::apply`]).
    pub enum CaseAction {
        /// Triage concluded `needs-expert`.
        TriageNeedsExpert = "triage-needs-expert",
        /// Triage concluded anything else.
        TriageClose = "triage-close",
        /// An expert claimed the case.
        Claim = "claim",
        /// The last claiming expert released the case before assessing it.
        ReleaseLastClaim = "release-last-claim",
        /// An assessment was submitted.
        SubmitAssessment = "submit-assessment",
        /// The last current submitted assessment was withdrawn.
        WithdrawLastAssessment = "withdraw-last-assessment",
        /// The change got a new revision; every current assessment is outdated.
        AddRevision = "add-revision",
        /// The maintainer decided.
        Decide = "decide",
        /// Publication after a decision or triage close.
        Publish = "publish",
        /// Publication because the grace period ran out with nobody deciding.
        PublishOnGraceExpiry = "publish-on-grace-expiry",
    }
}

/// A case transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("a case that is {from} does not allow {action}")]
pub struct CaseTransitionError {
    /// State it was in.
    pub from: CaseStatus,
    /// What was attempted.
    pub action: CaseAction,
}

impl CaseStatus {
    /// The case state machine. The full table:
    ///
    /// | from | action | to |
    /// |---|---|---|
    /// | received | triage-needs-expert | triaged |
    /// | received | triage-close | closed |
    /// | triaged, claimed | claim | claimed |
    /// | assessed | claim | assessed |
    /// | claimed | release-last-claim | triaged |
    /// | claimed, assessed | submit-assessment | assessed |
    /// | assessed | withdraw-last-assessment | claimed |
    /// | received, triaged, claimed | add-revision | unchanged |
    /// | assessed | add-revision | claimed |
    /// | triaged, claimed, assessed | decide | decided |
    /// | decided, closed | publish | published |
    /// | received, triaged, claimed, assessed | publish-on-grace-expiry | published |
    ///
    /// Everything else is rejected.
    ///
    /// # Errors
    /// When `action` is not allowed from `self`.
    pub fn apply(self, action: CaseAction) -> Result<Self, CaseTransitionError> {
        use CaseAction as A;
        use CaseStatus as S;
        match (self, action) {
            (S::Received, A::TriageNeedsExpert) => Ok(S::Triaged),
            (S::Received, A::TriageClose) => Ok(S::Closed),
            (S::Triaged | S::Claimed, A::Claim) => Ok(S::Claimed),
            (S::Assessed, A::Claim) => Ok(S::Assessed),
            (S::Claimed, A::ReleaseLastClaim) => Ok(S::Triaged),
            (S::Claimed | S::Assessed, A::SubmitAssessment) => Ok(S::Assessed),
            (S::Assessed, A::WithdrawLastAssessment) => Ok(S::Claimed),
            (s @ (S::Received | S::Triaged | S::Claimed), A::AddRevision) => Ok(s),
            (S::Assessed, A::AddRevision) => Ok(S::Claimed),
            (S::Triaged | S::Claimed | S::Assessed, A::Decide) => Ok(S::Decided),
            (S::Decided | S::Closed, A::Publish) => Ok(S::Published),
            (S::Received | S::Triaged | S::Claimed | S::Assessed, A::PublishOnGraceExpiry) => {
                Ok(S::Published)
            }
            (from, action) => Err(CaseTransitionError { from, action }),
        }
    }

    /// Whether the case still waits for expert work or a decision.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Self::Received | Self::Triaged | Self::Claimed | Self::Assessed
        )
    }
}

/// Triage's conclusion, sent back to the maintainer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    /// What triage concluded.
    pub outcome: TriageOutcome,
    /// Why, in words for the maintainer.
    pub reason: String,
    /// Who triaged; `None` for automated triage.
    pub by: Option<UserId>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// An expert's claim on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The expert.
    pub expert: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A case: one forwarded change and everything said and decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Stable id.
    pub id: CaseId,
    /// The project the change targets.
    pub project_id: ProjectId,
    /// The maintainer who forwarded it.
    pub submitted_by: UserId,
    /// Where the change came from.
    pub source: ChangeSource,
    /// The current revision range.
    pub revision: Revision,
    /// Earlier revision ranges, oldest first.
    pub previous_revisions: Vec<Revision>,
    /// The maintainer's concern.
    pub concern: Concern,
    /// The analyzer's first read, once attached.
    pub report: Option<AutomatedReport>,
    /// The case's label (AMBER+STRICT until published, then CLEAR).
    pub tlp: TlpLabel,
    /// Where it stands.
    pub status: CaseStatus,
    /// Triage's conclusion.
    pub triage: Option<Triage>,
    /// Subgroups it was routed to, best first.
    pub subgroups: Vec<SubgroupId>,
    /// Expert claims.
    pub claims: Vec<Claim>,
    /// Assessments, all revisions.
    pub assessments: Vec<Assessment>,
    /// Second reviews.
    pub second_reviews: Vec<SecondReview>,
    /// The maintainer's decision.
    pub decision: Option<Decision>,
    /// The embargo.
    pub embargo: Embargo,
    /// Grace extensions (public records).
    pub grace_extensions: Vec<GraceExtension>,
    /// Named participants.
    pub participants: Vec<Participant>,
    /// Subgroups read in by rule.
    pub read_in_rules: Vec<ReadInRule>,
    /// When it was received (starts the SLA and grace clocks).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When it was first claimed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_claimed_at: Option<OffsetDateTime>,
    /// When the first assessment was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_assessed_at: Option<OffsetDateTime>,
    /// When it was published.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

string_enum! {
    /// Whether an effective verdict can still change by the rules.
    pub enum Finality {
        /// Shown at once, but not settled: a malicious verdict awaiting an independent second
        /// expert, or any verdict with a second review pending.
        Preliminary = "preliminary",
        /// Settled for the current revision.
        Final = "final",
    }
}

/// The case's verdict as the maintainer sees it, derived from the current revision's
/// submitted assessments and second reviews (see [`Case::effective_verdict`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveVerdict {
    /// The verdict.
    pub verdict: Verdict,
    /// Preliminary or final.
    pub finality: Finality,
    /// The distinct experts who hold this verdict.
    pub experts: Vec<UserId>,
}

/// Who issues a command.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// Automation (webhooks, timers, automated triage).
    System,
    /// A registered user.
    User(&'a User),
}

impl Actor<'_> {
    fn id(&self) -> Option<UserId> {
        match self {
            Self::System => None,
            Self::User(user) => Some(user.id),
        }
    }
}

/// What every command needs besides its own arguments: the case's project, the instance's
/// subgroups (at least those the case is routed to), the policy and the current time.
#[derive(Debug, Clone, Copy)]
pub struct CaseContext<'a> {
    /// The case's project.
    pub project: &'a Project,
    /// Subgroups (membership decides who may work on the case).
    pub subgroups: &'a [Subgroup],
    /// Instance policy.
    pub policy: &'a Policy,
    /// Now. The domain never reads a clock.
    pub now: OffsetDateTime,
}

/// The result of a command: the new state and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The case after the command.
    pub case: Case,
    /// Events to append to the transparency log, in order.
    pub events: Vec<DomainEvent>,
}

/// Input for [`Case::receive`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// Id chosen by the caller.
    pub id: CaseId,
    /// Where the change came from.
    pub source: ChangeSource,
    /// The revision range.
    pub revision: Revision,
    /// The maintainer's concern.
    pub concern: Concern,
    /// The analyzer's report, when already available.
    pub report: Option<AutomatedReport>,
}

/// Why a case command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// The case state machine does not allow it.
    #[error(transparent)]
    Transition(#[from] CaseTransitionError),
    /// The assessment state machine does not allow it.
    #[error(transparent)]
    AssessmentTransition(#[from] AssessmentTransitionError),
    /// The embargo rules do not allow it.
    #[error(transparent)]
    Embargo(#[from] EmbargoError),
    /// An input was invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The context's project is not the case's.
    #[error("the case belongs to project {expected}, not {got}; load the case's own project")]
    WrongProject {
        /// The case's project.
        expected: ProjectId,
        /// The project passed in.
        got: ProjectId,
    },
    /// The actor lacks the right role or relation.
    #[error("only {needs} may {action}")]
    NotAllowed {
        /// What was attempted.
        action: &'static str,
        /// Who may do it.
        needs: &'static str,
    },
    /// The expert has a conflict of interest with this case.
    #[error("you have a conflict of interest with this case ({}) and cannot work on it", .conflicts.len())]
    ConflictOfInterest {
        /// The conflicts found.
        conflicts: Vec<Conflict>,
    },
    /// The expert is in none of the case's subgroups and not named on it.
    #[error(
        "the case is not routed to any of your subgroups and you are not named on it; ask a coordinator to add you"
    )]
    NotInSubgroup,
    /// The expert already claimed the case.
    #[error("you already claimed this case")]
    AlreadyClaimed,
    /// The expert has not claimed the case.
    #[error("claim the case before writing an assessment")]
    NotClaimed,
    /// The expert has no claim on the case to release.
    #[error("you have not claimed this case, so there is no claim to release")]
    NoClaimToRelease,
    /// The expert still has a draft or submitted assessment of the current revision.
    #[error(
        "you have assessment {assessment_id} on the current revision; withdraw it before releasing the case"
    )]
    ReleaseWithLiveAssessment {
        /// The live assessment.
        assessment_id: AssessmentId,
    },
    /// The expert already submitted an assessment of the current revision.
    #[error(
        "you already submitted assessment {assessment_id} for this revision; withdraw it first to submit a new one"
    )]
    AlreadySubmitted {
        /// The existing assessment.
        assessment_id: AssessmentId,
    },
    /// No such assessment on this case.
    #[error("assessment {0} does not belong to this case")]
    UnknownAssessment(AssessmentId),
    /// Only an assessment's author may do this.
    #[error("only the expert who wrote assessment {0} may do this")]
    NotYourAssessment(AssessmentId),
    /// The assessment is not a submitted one on the current revision.
    #[error("assessment {0} is not a submitted assessment of the current revision")]
    AssessmentNotCurrent(AssessmentId),
    /// No such second review on this case.
    #[error("second review {0} does not belong to this case")]
    UnknownSecondReview(SecondReviewId),
    /// A second review is already pending for that assessment.
    #[error("second review {0} is already pending for that assessment")]
    SecondReviewPending(SecondReviewId),
    /// A second review is no longer open.
    #[error("second review {0} is not open any more")]
    SecondReviewClosed(SecondReviewId),
    /// The would-be second reviewer wrote the assessment.
    #[error("a second review must come from a different expert than the assessment's author")]
    SecondReviewerIsAuthor,
    /// Triage chose `needs-expert` without a subgroup.
    #[error("a case that needs an expert must be routed to at least one subgroup")]
    NoSubgroups,
    /// A subgroup id is not known.
    #[error("subgroup {0} is not known")]
    UnknownSubgroup(SubgroupId),
    /// The revision is the current one.
    #[error("{0} is already the case's current revision")]
    SameRevision(Revision),
    /// The case cannot be published yet.
    #[error("the case publishes at {publishes_at}, not before")]
    NotYetPublishable {
        /// The publication date.
        publishes_at: OffsetDateTime,
    },
    /// The case is never published (closed as invalid).
    #[error("cases closed as invalid are never published")]
    NeverPublished,
    /// The grace deadline has passed; extensions cannot be requested or approved any more.
    #[error("the grace deadline {deadline} has passed; the case must be published")]
    GraceDeadlinePassed {
        /// The deadline.
        deadline: OffsetDateTime,
    },
    /// A grace extension is already pending.
    #[error("grace extension {0} is already pending; approve or wait for it")]
    ExtensionPending(GraceExtensionId),
    /// No such grace extension.
    #[error("grace extension {0} does not belong to this case")]
    UnknownExtension(GraceExtensionId),
    /// The extension was already granted.
    #[error("grace extension {0} was already granted")]
    ExtensionGranted(GraceExtensionId),
    /// The same coordinator tried to approve twice.
    #[error("you already approved this extension; a different coordinator must approve it")]
    DuplicateApproval,
    /// The user is already on the named list.
    #[error("that user is already a named participant")]
    AlreadyParticipant,
    /// The user is not on the named list.
    #[error("that user is not a named participant")]
    NotParticipant,
    /// The subgroup is already read in.
    #[error("subgroup {0} is already read in")]
    AlreadyReadIn(SubgroupId),
}

/// Bounds on a few free-text and count inputs.
const MAX_REASON_LEN: usize = 5_000;

/// Work in progress of one command: a copy of the case plus the events so far. Commands mutate
/// the copy only after every check passed, so a refused command leaves nothing behind.
struct Step {
    before: Option<EffectiveVerdict>,
    case: Case,
    events: Vec<DomainEvent>,
    actor: Option<UserId>,
    now: OffsetDateTime,
}

impl Step {
    fn new(case: &Case, actor: Option<UserId>, now: OffsetDateTime) -> Self {
        Self {
            before: case.effective_verdict(),
            case: case.clone(),
            events: Vec::new(),
            actor,
            now,
        }
    }

    fn emit(&mut self, change: CaseEvent) {
        self.events.push(DomainEvent {
            case_id: self.case.id,
            at: self.now,
            actor: self.actor,
            change,
        });
    }

    fn add_participant(&mut self, user: UserId, role: ParticipantRole, added_by: Option<UserId>) {
        if !self.case.participants.iter().any(|p| p.user == user) {
            self.case.participants.push(Participant {
                user,
                role,
                added_by,
                added_at: self.now,
            });
            self.emit(CaseEvent::ParticipantAdded { user, role });
        }
    }

    fn finish(mut self) -> Transition {
        let after = self.case.effective_verdict();
        if after != self.before {
            self.emit(CaseEvent::VerdictChanged { verdict: after });
        }
        self.case.updated_at = self.now;
        Transition {
            case: self.case,
            events: self.events,
        }
    }
}

/// The project's maintainers and coordinators manage who may read a case, and may withdraw
/// its embargo: `NotAllowed` naming `action` for anyone else.
fn check_maintainer_or_coordinator(
    ctx: &CaseContext<'_>,
    by: &User,
    action: &'static str,
) -> Result<(), CaseError> {
    if ctx.project.is_maintainer(by.id) || by.has_role(Role::Coordinator) {
        Ok(())
    } else {
        Err(CaseError::NotAllowed {
            action,
            needs: "the project's maintainers or coordinators",
        })
    }
}

impl Case {
    /// A maintainer forwards a change: the case starts `received`, AMBER+STRICT, with the
    /// submitter as its first named participant.
    ///
    /// # Errors
    /// When the submitter does not maintain the project or an input is invalid.
    pub fn receive(
        ctx: &CaseContext<'_>,
        submitter: &User,
        new: NewCase,
    ) -> Result<Transition, CaseError> {
        if !ctx.project.is_maintainer(submitter.id) {
            return Err(CaseError::NotAllowed {
                action: "forward a change",
                needs: "a maintainer of the project",
            });
        }
        new.source.validate()?;
        new.concern.validate()?;
        if let Some(report) = &new.report {
            report.validate()?;
        }
        let band = new.report.as_ref().map(|r| r.band);
        let case = Case {
            id: new.id,
            project_id: ctx.project.id,
            submitted_by: submitter.id,
            source: new.source,
            revision: new.revision,
            previous_revisions: Vec::new(),
            concern: new.concern,
            report: new.report,
            tlp: TlpLabel::AmberStrict,
            status: CaseStatus::Received,
            triage: None,
            subgroups: Vec::new(),
            claims: Vec::new(),
            assessments: Vec::new(),
            second_reviews: Vec::new(),
            decision: None,
            embargo: Embargo::default(),
            grace_extensions: Vec::new(),
            participants: Vec::new(),
            read_in_rules: Vec::new(),
            received_at: ctx.now,
            first_claimed_at: None,
            first_assessed_at: None,
            published_at: None,
            updated_at: ctx.now,
        };
        let mut step = Step::new(&case, Some(submitter.id), ctx.now);
        step.emit(CaseEvent::CaseReceived {
            project_id: case.project_id,
            revision: case.revision.clone(),
        });
        step.add_participant(submitter.id, ParticipantRole::Maintainer, None);
        if let Some(band) = band {
            step.emit(CaseEvent::ReportAttached { band });
        }
        Ok(step.finish())
    }

    fn check_project(&self, ctx: &CaseContext<'_>) -> Result<(), CaseError> {
        if ctx.project.id == self.project_id {
            Ok(())
        } else {
            Err(CaseError::WrongProject {
                expected: self.project_id,
                got: ctx.project.id,
            })
        }
    }

    /// Attaches (or replaces) the analyzer's report before experts start.
    ///
    /// # Errors
    /// When the case is past `triaged` or the report is invalid.
    pub fn attach_report(
        &self,
        ctx: &CaseContext<'_>,
        report: AutomatedReport,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !matches!(self.status, CaseStatus::Received | CaseStatus::Triaged) {
            return Err(CaseError::NotAllowed {
                action: "attach a report after experts started",
                needs: "nobody",
            });
        }
        report.validate()?;
        let mut step = Step::new(self, None, ctx.now);
        step.emit(CaseEvent::ReportAttached { band: report.band });
        step.case.report = Some(report);
        Ok(step.finish())
    }

    /// Triage: `needs-expert` routes the case to `subgroups` (best first) and reads them in;
    /// any other outcome closes the case. Either way `reason` goes back to the maintainer.
    /// Triage is done by automation or a coordinator.
    ///
    /// # Errors
    /// When the case is not `received`, the actor is not a coordinator, `needs-expert` comes
    /// without a known subgroup, or the reason is empty.
    pub fn triage(
        &self,
        ctx: &CaseContext<'_>,
        actor: Actor<'_>,
        outcome: TriageOutcome,
        reason: &str,
        subgroups: &[SubgroupId],
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if let Actor::User(user) = actor
            && !user.has_role(Role::Coordinator)
        {
            return Err(CaseError::NotAllowed {
                action: "triage a case",
                needs: "coordinators or automation",
            });
        }
        let action = if outcome == TriageOutcome::NeedsExpert {
            CaseAction::TriageNeedsExpert
        } else {
            CaseAction::TriageClose
        };
        let status = self.status.apply(action)?;
        require_text("triage reason", reason, MAX_REASON_LEN)?;
        let mut routed: Vec<SubgroupId> = Vec::new();
        if outcome == TriageOutcome::NeedsExpert {
            for id in subgroups {
                if !ctx.subgroups.iter().any(|s| s.id == *id) {
                    return Err(CaseError::UnknownSubgroup(*id));
                }
                if !routed.contains(id) {
                    routed.push(*id);
                }
            }
            if routed.is_empty() {
                return Err(CaseError::NoSubgroups);
            }
        }
        let mut step = Step::new(self, actor.id(), ctx.now);
        step.case.status = status;
        step.case.triage = Some(Triage {
            outcome,
            reason: reason.to_owned(),
            by: actor.id(),
            at: ctx.now,
        });
        step.case.subgroups.clone_from(&routed);
        step.emit(CaseEvent::CaseTriaged {
            outcome,
            reason: reason.to_owned(),
            subgroups: routed.clone(),
        });
        for subgroup in routed {
            if !step
                .case
                .read_in_rules
                .iter()
                .any(|r| r.subgroup == subgroup)
            {
                step.case.read_in_rules.push(ReadInRule {
                    subgroup,
                    added_by: None,
                    added_at: ctx.now,
                });
                step.emit(CaseEvent::SubgroupReadIn { subgroup });
            }
        }
        Ok(step.finish())
    }

    /// Checks that `expert` may work on this case: expert role, no conflict of interest, and
    /// either a member of one of its subgroups or named on it.
    fn check_expert(&self, ctx: &CaseContext<'_>, expert: &User) -> Result<(), CaseError> {
        if !expert.has_role(Role::Expert) {
            return Err(CaseError::NotAllowed {
                action: "work on a case",
                needs: "experts",
            });
        }
        let found = conflicts(expert, ctx.project, self.source.author.as_deref());
        if !found.is_empty() {
            return Err(CaseError::ConflictOfInterest { conflicts: found });
        }
        let in_subgroup = ctx
            .subgroups
            .iter()
            .any(|s| self.subgroups.contains(&s.id) && s.is_member(expert.id));
        if in_subgroup || self.is_named(expert.id) {
            Ok(())
        } else {
            Err(CaseError::NotInSubgroup)
        }
    }

    /// Whether the expert may claim this case (same checks as [`Case::claim`] minus state).
    #[must_use]
    pub fn is_eligible(&self, project: &Project, expert: &User) -> bool {
        is_eligible(expert, project, self.source.author.as_deref())
    }

    /// Whether `user` is on the named list.
    #[must_use]
    pub fn is_named(&self, user: UserId) -> bool {
        self.participants.iter().any(|p| p.user == user)
    }

    /// Whether `user` claimed the case.
    #[must_use]
    pub fn is_assigned(&self, user: UserId) -> bool {
        self.claims.iter().any(|c| c.expert == user)
    }

    /// An eligible expert claims the case and joins the named list. Several experts may
    /// claim one case.
    ///
    /// # Errors
    /// When the state does not allow claims, the expert is not eligible (role, conflict,
    /// subgroup) or already claimed it.
    pub fn claim(&self, ctx: &CaseContext<'_>, expert: &User) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        let status = self.status.apply(CaseAction::Claim)?;
        self.check_expert(ctx, expert)?;
        if self.is_assigned(expert.id) {
            return Err(CaseError::AlreadyClaimed);
        }
        let mut step = Step::new(self, Some(expert.id), ctx.now);
        step.case.status = status;
        step.case.claims.push(Claim {
            expert: expert.id,
            at: ctx.now,
        });
        step.case.first_claimed_at.get_or_insert(ctx.now);
        step.emit(CaseEvent::CaseClaimed { expert: expert.id });
        step.add_participant(expert.id, ParticipantRole::AssignedExpert, None);
        Ok(step.finish())
    }

    /// The claiming expert releases the case before assessing it: the claim goes, the expert
    /// leaves the named list (unless named for another reason), and the case is `triaged`
    /// again when no claim remains, so it returns to the subgroup's queue. Assessments of
    /// earlier revisions stay on the record.
    ///
    /// # Errors
    /// When the case is not open, the expert has no claim, or still has a draft or submitted
    /// assessment of the current revision (withdraw it first).
    pub fn unclaim(&self, ctx: &CaseContext<'_>, expert: &User) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !self.status.is_open() {
            return Err(CaseTransitionError {
                from: self.status,
                action: CaseAction::ReleaseLastClaim,
            }
            .into());
        }
        if !self.is_assigned(expert.id) {
            return Err(CaseError::NoClaimToRelease);
        }
        if let Some(live) = self.live_assessment(expert.id) {
            return Err(CaseError::ReleaseWithLiveAssessment {
                assessment_id: live.id,
            });
        }
        let mut step = Step::new(self, Some(expert.id), ctx.now);
        step.case.claims.retain(|c| c.expert != expert.id);
        if step.case.claims.is_empty() && self.status == CaseStatus::Claimed {
            step.case.status = self.status.apply(CaseAction::ReleaseLastClaim)?;
        }
        step.emit(CaseEvent::CaseUnclaimed { expert: expert.id });
        let joined_by_claim = self
            .participants
            .iter()
            .any(|p| p.user == expert.id && p.role == ParticipantRole::AssignedExpert);
        if joined_by_claim {
            step.case.participants.retain(|p| p.user != expert.id);
            step.emit(CaseEvent::ParticipantRemoved { user: expert.id });
        }
        Ok(step.finish())
    }

    /// The expert's live (draft or submitted) assessment of the current revision.
    fn live_assessment(&self, expert: UserId) -> Option<&Assessment> {
        self.assessments
            .iter()
            .find(|a| a.expert == expert && a.revision == self.revision && !a.status.is_final())
    }

    fn check_assessor(&self, ctx: &CaseContext<'_>, expert: &User) -> Result<(), CaseError> {
        if !self.status.is_open() || self.status == CaseStatus::Received {
            return Err(CaseTransitionError {
                from: self.status,
                action: CaseAction::SubmitAssessment,
            }
            .into());
        }
        if !self.is_assigned(expert.id) {
            return Err(CaseError::NotClaimed);
        }
        // Re-check: a conflict may have been declared after the claim.
        self.check_expert(ctx, expert)
    }

    /// Saves a draft of the expert's assessment of the current revision, creating it with
    /// `new_id` if the expert has none yet.
    ///
    /// # Errors
    /// When the expert has not claimed the case, is no longer eligible, already submitted for
    /// this revision, or the draft exceeds size bounds.
    pub fn save_assessment_draft(
        &self,
        ctx: &CaseContext<'_>,
        expert: &User,
        new_id: AssessmentId,
        body: AssessmentBody,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        self.check_assessor(ctx, expert)?;
        body.validate_draft()?;
        let mut step = Step::new(self, Some(expert.id), ctx.now);
        match self.live_assessment(expert.id) {
            Some(existing) if existing.status == AssessmentStatus::Submitted => {
                return Err(CaseError::AlreadySubmitted {
                    assessment_id: existing.id,
                });
            }
            Some(existing) => {
                let id = existing.id;
                if let Some(a) = step.case.assessments.iter_mut().find(|a| a.id == id) {
                    a.body = Some(body);
                    a.updated_at = ctx.now;
                }
            }
            None => {
                step.case.assessments.push(Assessment {
                    id: new_id,
                    case_id: self.id,
                    expert: expert.id,
                    revision: self.revision.clone(),
                    status: AssessmentStatus::Draft,
                    body: Some(body),
                    tlp: TlpLabel::AmberStrict,
                    created_at: ctx.now,
                    submitted_at: None,
                    updated_at: ctx.now,
                });
                step.emit(CaseEvent::AssessmentStarted {
                    assessment_id: new_id,
                    revision: self.revision.clone(),
                });
            }
        }
        Ok(step.finish())
    }

    /// Submits the expert's assessment of the current revision (their draft, or a new one
    /// with `new_id`). A malicious verdict that no other expert shares yet automatically
    /// requests a second review (with id `second_review_id`); the maintainer sees it at once
    /// as a preliminary verdict.
    ///
    /// # Errors
    /// As [`Case::save_assessment_draft`], plus an incomplete body.
    pub fn submit_assessment(
        &self,
        ctx: &CaseContext<'_>,
        expert: &User,
        new_id: AssessmentId,
        second_review_id: SecondReviewId,
        body: AssessmentBody,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        self.check_assessor(ctx, expert)?;
        let status = self.status.apply(CaseAction::SubmitAssessment)?;
        body.validate()?;
        let verdict = body.verdict;
        let mut step = Step::new(self, Some(expert.id), ctx.now);
        let id = match self.live_assessment(expert.id) {
            Some(existing) => {
                let next = existing
                    .status
                    .apply(AssessmentAction::Submit)
                    .map_err(|_| CaseError::AlreadySubmitted {
                        assessment_id: existing.id,
                    })?;
                let id = existing.id;
                if let Some(a) = step.case.assessments.iter_mut().find(|a| a.id == id) {
                    a.status = next;
                    a.body = Some(body);
                    a.submitted_at = Some(ctx.now);
                    a.updated_at = ctx.now;
                }
                id
            }
            None => {
                step.case.assessments.push(Assessment {
                    id: new_id,
                    case_id: self.id,
                    expert: expert.id,
                    revision: self.revision.clone(),
                    status: AssessmentStatus::Draft.apply(AssessmentAction::Submit)?,
                    body: Some(body),
                    tlp: TlpLabel::AmberStrict,
                    created_at: ctx.now,
                    submitted_at: Some(ctx.now),
                    updated_at: ctx.now,
                });
                step.emit(CaseEvent::AssessmentStarted {
                    assessment_id: new_id,
                    revision: self.revision.clone(),
                });
                new_id
            }
        };
        step.case.status = status;
        step.case.first_assessed_at.get_or_insert(ctx.now);
        step.emit(CaseEvent::AssessmentSubmitted {
            assessment_id: id,
            verdict,
            revision: self.revision.clone(),
        });
        let needs_second = verdict == Verdict::Malicious
            && step
                .case
                .effective_verdict()
                .is_some_and(|v| v.finality == Finality::Preliminary)
            && !step
                .case
                .second_reviews
                .iter()
                .any(|r| r.status == SecondReviewStatus::Requested && r.assessment_id == id);
        if needs_second {
            step.case.second_reviews.push(SecondReview {
                id: second_review_id,
                case_id: self.id,
                assessment_id: id,
                requested_by: None,
                reason: "a malicious verdict needs an independent second expert before it is final"
                    .to_owned(),
                requested_at: ctx.now,
                status: SecondReviewStatus::Requested,
                reviewer: None,
                verdict: None,
                note: None,
                submitted_at: None,
                tlp: TlpLabel::AmberStrict,
            });
            step.emit(CaseEvent::SecondReviewRequested {
                review_id: second_review_id,
                assessment_id: id,
                automatic: true,
            });
        }
        Ok(step.finish())
    }

    /// The expert withdraws their draft or submitted assessment. Open second reviews of it
    /// are cancelled; if it was the last current submitted one the case goes back to
    /// `claimed`.
    ///
    /// # Errors
    /// When the assessment is unknown, not the expert's, or already outdated/withdrawn.
    pub fn withdraw_assessment(
        &self,
        ctx: &CaseContext<'_>,
        expert: &User,
        assessment_id: AssessmentId,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        let assessment = self
            .assessments
            .iter()
            .find(|a| a.id == assessment_id)
            .ok_or(CaseError::UnknownAssessment(assessment_id))?;
        if assessment.expert != expert.id {
            return Err(CaseError::NotYourAssessment(assessment_id));
        }
        let next = assessment.status.apply(AssessmentAction::Withdraw)?;
        let was_current_submitted = assessment.status == AssessmentStatus::Submitted
            && assessment.revision == self.revision;
        let mut step = Step::new(self, Some(expert.id), ctx.now);
        if let Some(a) = step
            .case
            .assessments
            .iter_mut()
            .find(|a| a.id == assessment_id)
        {
            a.status = next;
            a.updated_at = ctx.now;
        }
        step.emit(CaseEvent::AssessmentWithdrawn { assessment_id });
        step.cancel_second_reviews(&[assessment_id]);
        if was_current_submitted
            && step.case.current_submitted().next().is_none()
            && self.status == CaseStatus::Assessed
        {
            step.case.status = self.status.apply(CaseAction::WithdrawLastAssessment)?;
        }
        Ok(step.finish())
    }

    /// The change got new commits: the current revision moves, every live assessment of the
    /// old one is outdated (and their open second reviews cancelled), and an `assessed` case
    /// goes back to `claimed` so the SLA and queues show it needs work again.
    ///
    /// # Errors
    /// When the case is decided, closed or published; when the revision is the current one;
    /// when a user actor does not maintain the project.
    pub fn add_revision(
        &self,
        ctx: &CaseContext<'_>,
        actor: Actor<'_>,
        revision: Revision,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if let Actor::User(user) = actor
            && !ctx.project.is_maintainer(user.id)
        {
            return Err(CaseError::NotAllowed {
                action: "add a revision",
                needs: "the project's maintainers or the forge webhook",
            });
        }
        let status = self.status.apply(CaseAction::AddRevision)?;
        if revision == self.revision {
            return Err(CaseError::SameRevision(revision));
        }
        let mut step = Step::new(self, actor.id(), ctx.now);
        let previous = std::mem::replace(&mut step.case.revision, revision.clone());
        step.case.previous_revisions.push(previous.clone());
        step.case.status = status;
        step.emit(CaseEvent::RevisionAdded { revision, previous });
        let mut outdated = Vec::new();
        for a in &mut step.case.assessments {
            if let Ok(next) = a.status.apply(AssessmentAction::Outdate) {
                a.status = next;
                a.updated_at = ctx.now;
                outdated.push(a.id);
            }
        }
        for id in &outdated {
            step.emit(CaseEvent::AssessmentOutdated { assessment_id: *id });
        }
        step.cancel_second_reviews(&outdated);
        Ok(step.finish())
    }

    /// Asks for a second review of a submitted, current assessment. The assessment's author,
    /// the project's maintainers and coordinators may ask.
    ///
    /// # Errors
    /// When the assessment is not current and submitted, one is already pending, or the
    /// requester may not ask.
    pub fn request_second_review(
        &self,
        ctx: &CaseContext<'_>,
        requester: &User,
        review_id: SecondReviewId,
        assessment_id: AssessmentId,
        reason: &str,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        let assessment = self
            .assessments
            .iter()
            .find(|a| a.id == assessment_id)
            .ok_or(CaseError::UnknownAssessment(assessment_id))?;
        let allowed = assessment.expert == requester.id
            || ctx.project.is_maintainer(requester.id)
            || requester.has_role(Role::Coordinator);
        if !allowed {
            return Err(CaseError::NotAllowed {
                action: "request a second review",
                needs: "the assessment's expert, the project's maintainers or coordinators",
            });
        }
        if !self.status.is_open()
            || assessment.status != AssessmentStatus::Submitted
            || assessment.revision != self.revision
        {
            return Err(CaseError::AssessmentNotCurrent(assessment_id));
        }
        if let Some(pending) = self
            .second_reviews
            .iter()
            .find(|r| r.assessment_id == assessment_id && r.status == SecondReviewStatus::Requested)
        {
            return Err(CaseError::SecondReviewPending(pending.id));
        }
        require_text("second review reason", reason, MAX_REASON_LEN)?;
        let mut step = Step::new(self, Some(requester.id), ctx.now);
        step.case.second_reviews.push(SecondReview {
            id: review_id,
            case_id: self.id,
            assessment_id,
            requested_by: Some(requester.id),
            reason: reason.to_owned(),
            requested_at: ctx.now,
            status: SecondReviewStatus::Requested,
            reviewer: None,
            verdict: None,
            note: None,
            submitted_at: None,
            tlp: TlpLabel::AmberStrict,
        });
        step.emit(CaseEvent::SecondReviewRequested {
            review_id,
            assessment_id,
            automatic: false,
        });
        Ok(step.finish())
    }

    /// A second, independent expert submits their own verdict on a requested review. They
    /// must be eligible (no conflict), in one of the case's subgroups or named, and not the
    /// assessment's author. They join the named list as second reviewer.
    ///
    /// # Errors
    /// When the review is unknown or closed, the reviewer is the author or not eligible, or
    /// the note is too long.
    pub fn submit_second_review(
        &self,
        ctx: &CaseContext<'_>,
        reviewer: &User,
        review_id: SecondReviewId,
        verdict: Verdict,
        note: &str,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        let review = self
            .second_reviews
            .iter()
            .find(|r| r.id == review_id)
            .ok_or(CaseError::UnknownSecondReview(review_id))?;
        if review.status != SecondReviewStatus::Requested || !self.status.is_open() {
            return Err(CaseError::SecondReviewClosed(review_id));
        }
        let assessment = self
            .assessments
            .iter()
            .find(|a| a.id == review.assessment_id)
            .ok_or(CaseError::UnknownAssessment(review.assessment_id))?;
        if assessment.expert == reviewer.id {
            return Err(CaseError::SecondReviewerIsAuthor);
        }
        self.check_expert(ctx, reviewer)?;
        optional_text("second review note", note, MAX_RATIONALE_LEN)?;
        let agrees = assessment.submitted_verdict() == Some(verdict);
        let mut step = Step::new(self, Some(reviewer.id), ctx.now);
        if let Some(r) = step
            .case
            .second_reviews
            .iter_mut()
            .find(|r| r.id == review_id)
        {
            r.status = SecondReviewStatus::Submitted;
            r.reviewer = Some(reviewer.id);
            r.verdict = Some(verdict);
            r.note = Some(note.to_owned());
            r.submitted_at = Some(ctx.now);
        }
        step.emit(CaseEvent::SecondReviewSubmitted {
            review_id,
            verdict,
            agrees,
        });
        step.add_participant(reviewer.id, ParticipantRole::SecondReviewer, None);
        Ok(step.finish())
    }

    /// The maintainer records their decision. Experts only advise: a maintainer may decide
    /// at any point after triage, with or without an assessment.
    ///
    /// # Errors
    /// When the user does not maintain the project, the state does not allow it, or `other`
    /// comes without a note.
    pub fn decide(
        &self,
        ctx: &CaseContext<'_>,
        maintainer: &User,
        outcome: DecisionOutcome,
        note: &str,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !ctx.project.is_maintainer(maintainer.id) {
            return Err(CaseError::NotAllowed {
                action: "decide",
                needs: "the project's maintainers",
            });
        }
        let status = self.status.apply(CaseAction::Decide)?;
        if outcome == DecisionOutcome::Other {
            require_text("decision note", note, MAX_RATIONALE_LEN)?;
        } else {
            optional_text("decision note", note, MAX_RATIONALE_LEN)?;
        }
        let mut step = Step::new(self, Some(maintainer.id), ctx.now);
        step.case.status = status;
        step.case.decision = Some(Decision {
            outcome,
            note: note.to_owned(),
            by: maintainer.id,
            at: ctx.now,
        });
        step.emit(CaseEvent::CaseDecided { outcome });
        Ok(step.finish())
    }

    /// Proposes an embargo end date. The project's maintainers, assigned experts and
    /// coordinators may propose; the shortest pending proposal wins.
    ///
    /// # Errors
    /// When the case is published or closed as invalid, the proposer may not propose, or the
    /// embargo rules refuse (past the grace deadline, not in the future, ended).
    pub fn propose_embargo(
        &self,
        ctx: &CaseContext<'_>,
        by: &User,
        proposal_id: EmbargoProposalId,
        until: OffsetDateTime,
        reason: &str,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        let allowed = ctx.project.is_maintainer(by.id)
            || self.is_assigned(by.id)
            || by.has_role(Role::Coordinator);
        if !allowed {
            return Err(CaseError::NotAllowed {
                action: "propose an embargo",
                needs: "the project's maintainers, assigned experts or coordinators",
            });
        }
        self.check_not_sealed_forever()?;
        let proposal = EmbargoProposal {
            id: proposal_id,
            by: by.id,
            until,
            reason: reason.to_owned(),
            at: ctx.now,
        };
        let embargo = self
            .embargo
            .propose(proposal, self.grace_deadline(ctx.policy))?;
        let mut step = Step::new(self, Some(by.id), ctx.now);
        step.case.embargo = embargo;
        step.emit(CaseEvent::EmbargoProposed { proposal_id, until });
        Ok(step.finish())
    }

    fn check_not_sealed_forever(&self) -> Result<(), CaseError> {
        match self.status {
            CaseStatus::Published => Err(CaseTransitionError {
                from: self.status,
                action: CaseAction::Publish,
            }
            .into()),
            CaseStatus::Closed if self.is_invalid() => Err(CaseError::NeverPublished),
            _ => Ok(()),
        }
    }

    fn is_invalid(&self) -> bool {
        self.status == CaseStatus::Closed
            && self
                .triage
                .as_ref()
                .is_some_and(|t| t.outcome == TriageOutcome::Invalid)
    }

    /// A coordinator approves the winning embargo proposal.
    ///
    /// # Errors
    /// When the user is not a coordinator, made the winning proposal, or nothing is pending.
    pub fn approve_embargo(
        &self,
        ctx: &CaseContext<'_>,
        coordinator: &User,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !coordinator.has_role(Role::Coordinator) {
            return Err(CaseError::NotAllowed {
                action: "approve an embargo",
                needs: "coordinators",
            });
        }
        self.check_not_sealed_forever()?;
        let embargo = self.embargo.approve(coordinator.id, ctx.now)?;
        let until = embargo.active_until.unwrap_or(ctx.now);
        let mut step = Step::new(self, Some(coordinator.id), ctx.now);
        step.case.embargo = embargo;
        step.emit(CaseEvent::EmbargoApproved { until });
        Ok(step.finish())
    }

    /// A coordinator rejects the pending embargo proposals.
    ///
    /// # Errors
    /// When the user is not a coordinator or nothing is pending.
    pub fn reject_embargo(
        &self,
        ctx: &CaseContext<'_>,
        coordinator: &User,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !coordinator.has_role(Role::Coordinator) {
            return Err(CaseError::NotAllowed {
                action: "reject an embargo proposal",
                needs: "coordinators",
            });
        }
        let embargo = self.embargo.reject()?;
        let mut step = Step::new(self, Some(coordinator.id), ctx.now);
        step.case.embargo = embargo;
        step.emit(CaseEvent::EmbargoRejected);
        Ok(step.finish())
    }

    /// Ends the embargo: `public-elsewhere` (anyone, automation included — the content is out,
    /// there is nothing left to protect), `withdrawn` (the project's maintainers or a
    /// coordinator), `expired` (once its date passed). `published` is reserved for
    /// [`Case::publish`].
    ///
    /// # Errors
    /// When the actor may not end it for that reason, it already ended, or it has not expired.
    pub fn end_embargo(
        &self,
        ctx: &CaseContext<'_>,
        actor: Actor<'_>,
        reason: EmbargoEndReason,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        match (reason, actor) {
            (EmbargoEndReason::Published, _) => {
                return Err(CaseError::NotAllowed {
                    action: "end an embargo as published",
                    needs: "publication itself",
                });
            }
            (EmbargoEndReason::Withdrawn, Actor::System) => {
                return Err(CaseError::NotAllowed {
                    action: "withdraw an embargo",
                    needs: "the project's maintainers or coordinators",
                });
            }
            (EmbargoEndReason::Withdrawn, Actor::User(user)) => {
                check_maintainer_or_coordinator(ctx, user, "withdraw an embargo")?;
            }
            _ => {}
        }
        let embargo = self.embargo.end(reason, ctx.now)?;
        let mut step = Step::new(self, actor.id(), ctx.now);
        step.case.embargo = embargo;
        step.emit(CaseEvent::EmbargoEnded { reason });
        Ok(step.finish())
    }

    /// Asks to extend the grace deadline by `extra_days`. Coordinators and the project's
    /// maintainers may ask; it is a public event, and takes effect only after two different
    /// coordinators approve.
    ///
    /// # Errors
    /// When the requester may not ask, one is already pending, the deadline has passed, the
    /// extension is longer than the policy allows, or the case is published/invalid.
    pub fn request_grace_extension(
        &self,
        ctx: &CaseContext<'_>,
        by: &User,
        extension_id: GraceExtensionId,
        extra_days: u32,
        reason: &str,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !(by.has_role(Role::Coordinator) || ctx.project.is_maintainer(by.id)) {
            return Err(CaseError::NotAllowed {
                action: "request a grace extension",
                needs: "coordinators or the project's maintainers",
            });
        }
        self.check_not_sealed_forever()?;
        let deadline = self.grace_deadline(ctx.policy);
        if ctx.now >= deadline {
            return Err(CaseError::GraceDeadlinePassed { deadline });
        }
        if let Some(pending) = self
            .grace_extensions
            .iter()
            .find(|e| e.status == GraceExtensionStatus::Pending)
        {
            return Err(CaseError::ExtensionPending(pending.id));
        }
        let max_days = ctx.policy.max_extension.whole_days();
        if extra_days == 0 || i64::from(extra_days) > max_days {
            return Err(
                ValidationError::out_of_range("extra days", 1, max_days, extra_days).into(),
            );
        }
        require_text("extension reason", reason, MAX_REASON_LEN)?;
        let mut step = Step::new(self, Some(by.id), ctx.now);
        step.case.grace_extensions.push(GraceExtension {
            id: extension_id,
            extra_days,
            reason: reason.to_owned(),
            requested_by: by.id,
            requested_at: ctx.now,
            approvals: Vec::new(),
            status: GraceExtensionStatus::Pending,
        });
        step.emit(CaseEvent::GraceExtensionRequested {
            extension_id,
            extra_days,
            reason: reason.to_owned(),
        });
        Ok(step.finish())
    }

    /// A coordinator approves a pending grace extension. The second approval from a
    /// *different* coordinator grants it and moves the deadline (public events).
    ///
    /// # Errors
    /// When the user is not a coordinator, already approved, the extension is unknown or
    /// granted, or the deadline has passed.
    pub fn approve_grace_extension(
        &self,
        ctx: &CaseContext<'_>,
        coordinator: &User,
        extension_id: GraceExtensionId,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if !coordinator.has_role(Role::Coordinator) {
            return Err(CaseError::NotAllowed {
                action: "approve a grace extension",
                needs: "coordinators",
            });
        }
        let extension = self
            .grace_extensions
            .iter()
            .find(|e| e.id == extension_id)
            .ok_or(CaseError::UnknownExtension(extension_id))?;
        if extension.status == GraceExtensionStatus::Granted {
            return Err(CaseError::ExtensionGranted(extension_id));
        }
        if extension.approvals.iter().any(|a| a.by == coordinator.id) {
            return Err(CaseError::DuplicateApproval);
        }
        self.check_not_sealed_forever()?;
        let deadline = self.grace_deadline(ctx.policy);
        if ctx.now >= deadline {
            return Err(CaseError::GraceDeadlinePassed { deadline });
        }
        let mut step = Step::new(self, Some(coordinator.id), ctx.now);
        let mut granted = false;
        if let Some(e) = step
            .case
            .grace_extensions
            .iter_mut()
            .find(|e| e.id == extension_id)
        {
            e.approvals.push(GraceApproval {
                by: coordinator.id,
                at: ctx.now,
            });
            if e.approvals.len() >= GraceExtension::REQUIRED_APPROVALS {
                e.status = GraceExtensionStatus::Granted;
                granted = true;
            }
        }
        step.emit(CaseEvent::GraceExtensionApproved {
            extension_id,
            by: coordinator.id,
        });
        if granted {
            let new_deadline = step.case.grace_deadline(ctx.policy);
            step.emit(CaseEvent::GraceExtended {
                extension_id,
                new_deadline,
            });
        }
        Ok(step.finish())
    }

    /// Publishes the case once its publication date is reached: it becomes TLP:CLEAR, and so
    /// does every assessment and second review not labelled RED; an embargo still running
    /// ends as `published`. Anyone (typically the scheduler) may trigger it; the date gates it.
    ///
    /// # Errors
    /// When the date is not reached, the case was closed as invalid, or is already published.
    pub fn publish(
        &self,
        ctx: &CaseContext<'_>,
        actor: Actor<'_>,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        if self.is_invalid() {
            return Err(CaseError::NeverPublished);
        }
        let grace_expired = self.status.is_open();
        let action = if grace_expired {
            CaseAction::PublishOnGraceExpiry
        } else {
            CaseAction::Publish
        };
        let status = self.status.apply(action)?;
        let publishes_at = self
            .publication_date(ctx.policy)
            .ok_or(CaseError::NeverPublished)?;
        if ctx.now < publishes_at {
            return Err(CaseError::NotYetPublishable { publishes_at });
        }
        let mut step = Step::new(self, actor.id(), ctx.now);
        if step.case.embargo.state != EmbargoState::Ended {
            step.case.embargo = step
                .case
                .embargo
                .end(EmbargoEndReason::Published, ctx.now)?;
            step.emit(CaseEvent::EmbargoEnded {
                reason: EmbargoEndReason::Published,
            });
        }
        step.case.status = status;
        step.case.tlp = TlpLabel::Clear;
        step.case.published_at = Some(ctx.now);
        for a in &mut step.case.assessments {
            a.tlp = a.tlp.after_publication();
        }
        for r in &mut step.case.second_reviews {
            r.tlp = r.tlp.after_publication();
        }
        step.emit(CaseEvent::CasePublished { grace_expired });
        Ok(step.finish())
    }

    /// Adds someone to the named list. The project's maintainers and coordinators may add
    /// invited helpers, other maintainers of the project and coordinators. Experts join by
    /// claiming, never by invitation, so conflict checks cannot be bypassed.
    ///
    /// # Errors
    /// When the adder may not, the role is not addable, the user does not qualify for it, or
    /// is already named.
    pub fn add_participant(
        &self,
        ctx: &CaseContext<'_>,
        by: &User,
        user: &User,
        role: ParticipantRole,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        check_maintainer_or_coordinator(ctx, by, "add participants")?;
        match role {
            ParticipantRole::InvitedHelper => {}
            ParticipantRole::Maintainer if ctx.project.is_maintainer(user.id) => {}
            ParticipantRole::Coordinator if user.has_role(Role::Coordinator) => {}
            ParticipantRole::Maintainer => {
                return Err(CaseError::NotAllowed {
                    action: "join as maintainer",
                    needs: "the project's maintainers",
                });
            }
            ParticipantRole::Coordinator => {
                return Err(CaseError::NotAllowed {
                    action: "join as coordinator",
                    needs: "coordinators",
                });
            }
            ParticipantRole::AssignedExpert | ParticipantRole::SecondReviewer => {
                return Err(CaseError::NotAllowed {
                    action: "join as an expert",
                    needs: "experts who claim the case or submit a second review",
                });
            }
        }
        if self.is_named(user.id) {
            return Err(CaseError::AlreadyParticipant);
        }
        let mut step = Step::new(self, Some(by.id), ctx.now);
        step.add_participant(user.id, role, Some(by.id));
        Ok(step.finish())
    }

    /// Removes someone from the named list. The submitter and experts with a claim or second
    /// review stay: their access follows from their work on the case.
    ///
    /// # Errors
    /// When the remover may not, the user is not named, or is the submitter or an expert.
    pub fn remove_participant(
        &self,
        ctx: &CaseContext<'_>,
        by: &User,
        user: UserId,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        check_maintainer_or_coordinator(ctx, by, "remove participants")?;
        let participant = self
            .participants
            .iter()
            .find(|p| p.user == user)
            .ok_or(CaseError::NotParticipant)?;
        if user == self.submitted_by
            || matches!(
                participant.role,
                ParticipantRole::AssignedExpert | ParticipantRole::SecondReviewer
            )
        {
            return Err(CaseError::NotAllowed {
                action: "be removed",
                needs: "participants other than the submitter and the case's experts",
            });
        }
        let mut step = Step::new(self, Some(by.id), ctx.now);
        step.case.participants.retain(|p| p.user != user);
        step.emit(CaseEvent::ParticipantRemoved { user });
        Ok(step.finish())
    }

    /// Reads a whole subgroup in by rule. The project's maintainers and coordinators may.
    ///
    /// # Errors
    /// When the adder may not, the subgroup is unknown or already read in.
    pub fn add_read_in_rule(
        &self,
        ctx: &CaseContext<'_>,
        by: &User,
        subgroup: SubgroupId,
    ) -> Result<Transition, CaseError> {
        self.check_project(ctx)?;
        check_maintainer_or_coordinator(ctx, by, "read a subgroup in")?;
        if !ctx.subgroups.iter().any(|s| s.id == subgroup) {
            return Err(CaseError::UnknownSubgroup(subgroup));
        }
        if self.read_in_rules.iter().any(|r| r.subgroup == subgroup) {
            return Err(CaseError::AlreadyReadIn(subgroup));
        }
        let mut step = Step::new(self, Some(by.id), ctx.now);
        step.case.read_in_rules.push(ReadInRule {
            subgroup,
            added_by: Some(by.id),
            added_at: ctx.now,
        });
        step.emit(CaseEvent::SubgroupReadIn { subgroup });
        Ok(step.finish())
    }

    /// Submitted assessments of the current revision.
    pub fn current_submitted(&self) -> impl Iterator<Item = &Assessment> {
        self.assessments
            .iter()
            .filter(|a| a.status == AssessmentStatus::Submitted && a.revision == self.revision)
    }

    /// The case's effective verdict, from the current revision's opinions (submitted
    /// assessments, and submitted second reviews of them):
    ///
    /// * no opinion: `None`;
    /// * the verdict is the most severe opinion (malicious > suspicious > inconclusive >
    ///   benign), so a disagreement never hides a warning;
    /// * `malicious` is **final** only when at least two distinct experts hold it (the second
    ///   one independent: admitted only without conflict and not the first's own review);
    ///   until then it is **preliminary**, and shown to the maintainer at once;
    /// * any other verdict is final unless a second review of a current assessment is still
    ///   pending.
    #[must_use]
    pub fn effective_verdict(&self) -> Option<EffectiveVerdict> {
        let current: Vec<&Assessment> = self.current_submitted().collect();
        let mut opinions: Vec<(UserId, Verdict)> = current
            .iter()
            .filter_map(|a| a.submitted_verdict().map(|v| (a.expert, v)))
            .collect();
        let mut pending = false;
        for review in &self.second_reviews {
            if !current.iter().any(|a| a.id == review.assessment_id) {
                continue;
            }
            match (review.status, review.reviewer, review.verdict) {
                (SecondReviewStatus::Submitted, Some(reviewer), Some(verdict)) => {
                    opinions.push((reviewer, verdict))
                }
                (SecondReviewStatus::Requested, _, _) => pending = true,
                _ => {}
            }
        }
        let verdict = opinions.iter().map(|(_, v)| *v).max()?;
        let mut experts: Vec<UserId> = Vec::new();
        for (expert, v) in &opinions {
            if *v == verdict && !experts.contains(expert) {
                experts.push(*expert);
            }
        }
        let finality = match verdict {
            Verdict::Malicious if experts.len() >= 2 => Finality::Final,
            Verdict::Malicious => Finality::Preliminary,
            _ if pending => Finality::Preliminary,
            _ => Finality::Final,
        };
        Some(EffectiveVerdict {
            verdict,
            finality,
            experts,
        })
    }

    /// Latest publication date allowed by the grace rules: receipt + the policy's maximum
    /// grace + every granted extension.
    #[must_use]
    pub fn grace_deadline(&self, policy: &Policy) -> OffsetDateTime {
        self.grace_extensions
            .iter()
            .filter(|e| e.status == GraceExtensionStatus::Granted)
            .fold(self.received_at + policy.max_grace, |deadline, e| {
                deadline + e.duration()
            })
    }

    /// When the case publishes (or published):
    ///
    /// * published: when it did;
    /// * closed as invalid: never (`None`);
    /// * decided or closed: `max(decision time, embargo hold)`, capped at the grace deadline;
    /// * otherwise (nobody decided yet): the grace deadline.
    #[must_use]
    pub fn publication_date(&self, policy: &Policy) -> Option<OffsetDateTime> {
        if let Some(at) = self.published_at {
            return Some(at);
        }
        if self.is_invalid() {
            return None;
        }
        let deadline = self.grace_deadline(policy);
        let settled_at = match self.status {
            CaseStatus::Decided => self.decision.as_ref().map(|d| d.at),
            CaseStatus::Closed => self.triage.as_ref().map(|t| t.at),
            _ => None,
        };
        Some(match settled_at {
            Some(at) => at
                .max(self.embargo.holds_until().unwrap_or(at))
                .min(deadline),
            None => deadline,
        })
    }

    /// How `user` stands towards this case. Subgroup-derived relations (read in by rule,
    /// subgroup member or coordinator) are dropped when the user has a conflict of interest,
    /// so a conflicted expert is never shown the case through a subgroup.
    #[must_use]
    pub fn relation_of(
        &self,
        user: &User,
        project: &Project,
        subgroups: &[Subgroup],
    ) -> CaseRelation {
        let conflicted = !conflicts(user, project, self.source.author.as_deref()).is_empty();
        let in_group = |s: &Subgroup| s.is_member(user.id) || s.is_coordinator(user.id);
        let read_in = !conflicted
            && subgroups
                .iter()
                .any(|s| self.read_in_rules.iter().any(|r| r.subgroup == s.id) && in_group(s));
        let routed = |s: &&Subgroup| self.subgroups.contains(&s.id);
        CaseRelation {
            named_participant: self.is_named(user.id),
            project_maintainer: project.is_maintainer(user.id),
            assigned_expert: self.is_assigned(user.id),
            read_in_by_rule: read_in,
            subgroup_member: !conflicted
                && subgroups
                    .iter()
                    .filter(routed)
                    .any(|s| s.is_member(user.id)),
            subgroup_coordinator: !conflicted
                && subgroups
                    .iter()
                    .filter(routed)
                    .any(|s| s.is_coordinator(user.id)),
        }
    }

    /// The viewer for `user` looking at this case.
    #[must_use]
    pub fn viewer(&self, user: &User, project: &Project, subgroups: &[Subgroup]) -> Viewer {
        Viewer::Member {
            user: user.id,
            roles: user.roles.clone(),
            relation: self.relation_of(user, project, subgroups),
        }
    }

    /// The case itself as a labelled object.
    #[must_use]
    pub fn tlp_object(&self) -> TlpObject {
        TlpObject {
            kind: ObjectKind::Case,
            label: self.tlp,
            case_label: self.tlp,
            author: Some(self.submitted_by),
            recipients: Vec::new(),
        }
    }

    /// One of its assessments as a labelled object.
    #[must_use]
    pub fn assessment_object(&self, assessment: &Assessment) -> TlpObject {
        TlpObject {
            kind: ObjectKind::Assessment,
            label: assessment.tlp,
            case_label: self.tlp,
            author: Some(assessment.expert),
            recipients: Vec::new(),
        }
    }

    /// One of its second reviews as a labelled object.
    #[must_use]
    pub fn second_review_object(&self, review: &SecondReview) -> TlpObject {
        TlpObject {
            kind: ObjectKind::Assessment,
            label: review.tlp,
            case_label: self.tlp,
            author: review.reviewer,
            recipients: Vec::new(),
        }
    }

    /// One of its comments as a labelled object.
    #[must_use]
    pub fn comment_object(&self, comment: &Comment) -> TlpObject {
        TlpObject {
            kind: ObjectKind::Comment,
            label: comment.tlp,
            case_label: self.tlp,
            author: Some(comment.author),
            recipients: comment.recipients.clone(),
        }
    }
}

impl Step {
    fn cancel_second_reviews(&mut self, assessments: &[AssessmentId]) {
        let mut cancelled = Vec::new();
        for r in &mut self.case.second_reviews {
            if r.status == SecondReviewStatus::Requested && assessments.contains(&r.assessment_id) {
                r.status = SecondReviewStatus::Cancelled;
                cancelled.push(r.id);
            }
        }
        for review_id in cancelled {
            self.emit(CaseEvent::SecondReviewCancelled { review_id });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseAction as A;
    use CaseStatus as S;

    /// The legal transitions, written out by hand. Every other pair must be rejected.
    const LEGAL: &[(S, A, S)] = &[
        (S::Received, A::TriageNeedsExpert, S::Triaged),
        (S::Received, A::TriageClose, S::Closed),
        (S::Triaged, A::Claim, S::Claimed),
        (S::Claimed, A::Claim, S::Claimed),
        (S::Assessed, A::Claim, S::Assessed),
        (S::Claimed, A::ReleaseLastClaim, S::Triaged),
        (S::Claimed, A::SubmitAssessment, S::Assessed),
        (S::Assessed, A::SubmitAssessment, S::Assessed),
        (S::Assessed, A::WithdrawLastAssessment, S::Claimed),
        (S::Received, A::AddRevision, S::Received),
        (S::Triaged, A::AddRevision, S::Triaged),
        (S::Claimed, A::AddRevision, S::Claimed),
        (S::Assessed, A::AddRevision, S::Claimed),
        (S::Triaged, A::Decide, S::Decided),
        (S::Claimed, A::Decide, S::Decided),
        (S::Assessed, A::Decide, S::Decided),
        (S::Decided, A::Publish, S::Published),
        (S::Closed, A::Publish, S::Published),
        (S::Received, A::PublishOnGraceExpiry, S::Published),
        (S::Triaged, A::PublishOnGraceExpiry, S::Published),
        (S::Claimed, A::PublishOnGraceExpiry, S::Published),
        (S::Assessed, A::PublishOnGraceExpiry, S::Published),
    ];

    #[test]
    fn every_legal_case_transition_leads_where_the_table_says() {
        for &(from, action, to) in LEGAL {
            assert_eq!(from.apply(action), Ok(to), "{from} --{action}-->");
        }
    }

    #[test]
    fn every_other_case_transition_is_rejected_with_a_typed_error() {
        let mut rejected = 0;
        for &from in S::ALL {
            for &action in A::ALL {
                if LEGAL.iter().any(|(f, a, _)| *f == from && *a == action) {
                    continue;
                }
                assert_eq!(
                    from.apply(action),
                    Err(CaseTransitionError { from, action }),
                    "{from} {action}"
                );
                rejected += 1;
            }
        }
        assert_eq!(rejected + LEGAL.len(), S::ALL.len() * A::ALL.len());
        assert_eq!(rejected, 70 - 22);
    }

    #[test]
    fn published_is_terminal_and_closed_only_publishes() {
        for &action in A::ALL {
            assert!(S::Published.apply(action).is_err());
            assert_eq!(S::Closed.apply(action).is_ok(), action == A::Publish);
        }
    }

    #[test]
    fn open_statuses_are_the_ones_before_a_decision() {
        let open: Vec<_> = S::ALL.iter().copied().filter(|s| s.is_open()).collect();
        assert_eq!(open, [S::Received, S::Triaged, S::Claimed, S::Assessed]);
    }

    #[test]
    fn transition_errors_name_the_state_and_the_action() {
        let err = S::Received.apply(A::Decide).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a case that is received does not allow decide"
        );
    }
}
