//! # sx-domain: the rules of S-Express
//!
//! Pure rules, no I/O: no database, no network, no async, no clock and no randomness. Time
//! is always a `now` parameter and ids are created by the caller, so every rule is a
//! deterministic function that tests can drive to any instant.
//!
//! ## The model
//!
//! A **maintainer** of a [`Project`] forwards a change; that makes a [`Case`]. The case holds
//! the change's source ([`ChangeSource`], current [`Revision`] `base..head`), the maintainer's
//! [`Concern`] (text, a validated [`SuspicionLevel`] 1–5, tags), the analyzer's
//! [`AutomatedReport`] (risk, band, finding ids/tags, the full report as opaque JSON), a
//! [`TlpLabel`], an [`Embargo`], named [`Participant`]s and [`ReadInRule`]s.
//!
//! **Experts** ([`User`]s with [`Role::Expert`] and an [`ExpertProfile`]) belong to
//! [`Subgroup`]s organised by [`Language`] or [`AttackVector`]. [`route`] picks subgroups from
//! touched paths and finding tags; [`expert_queue`] orders an expert's work by SLA deadline;
//! [`conflicts`] / [`is_eligible`] keep experts tied to the project, its owner or the change's
//! author away from the case. Experts write [`Assessment`]s (a [`Verdict`] with confidence,
//! rationale, actions, references, time spent, self-reported thoroughness/understanding);
//! a [`SecondReview`] by an independent expert confirms a malicious verdict. The maintainer
//! records a [`Decision`]. [`Comment`]s carry their own labels.
//!
//! ## Three small state machines
//!
//! Instead of one long status, three machines, each a pure `apply(state, action)` that
//! rejects illegal transitions with a typed error:
//!
//! * the **case** ([`CaseStatus::apply`]): `received → triaged → claimed → assessed →
//!   decided → published`. Triage outcomes other than `needs-expert` (`not-security`,
//!   `duplicate`, `invalid`) go to `closed` with the reason sent back; closed cases publish
//!   like decided ones, except `invalid`, which never publishes. A maintainer may decide at
//!   any point after triage; a case nobody decides publishes when the grace period runs out.
//! * each **assessment** ([`AssessmentStatus::apply`]), per expert and per revision:
//!   `draft → submitted`, `outdated` when the change gets new commits, or `withdrawn`.
//! * the **embargo** ([`EmbargoState::apply`]): `none → proposed → active ⇄ revising →
//!   ended`; the shortest proposal wins; it ends as soon as the content is public elsewhere.
//!
//! The [`Case`] aggregate applies commands (`receive`, `triage`, `claim`,
//! `submit_assessment`, `request_second_review`, `decide`, `propose_embargo`,
//! `approve_grace_extension`, `publish`, `add_revision`, ...) given a [`CaseContext`]
//! (project, subgroups, [`Policy`], `now`) and returns a [`Transition`]: the new case plus the
//! [`DomainEvent`]s the transparency log records, each with a stable `kind` and an
//! `is_public` flag. A refused command returns a [`CaseError`] and changes nothing.
//!
//! ## Verdicts
//!
//! [`Case::effective_verdict`] takes the most severe opinion on the current revision. A
//! malicious verdict is shown at once as [`Finality::Preliminary`] and becomes
//! [`Finality::Final`] only when a second, independent, non-conflicted expert agrees.
//!
//! ## Openness
//!
//! A case is AMBER+STRICT from receipt and CLEAR from publication. It publishes at
//! `max(decision, embargo end)`, never later than the grace deadline (receipt + the policy's
//! maximum, 90 days by default). Only a [`GraceExtension`] approved by two *different*
//! coordinators moves that deadline, and it is a public record. While sealed, the public sees
//! only a [`PublicCaseStub`] (existence, subgroups, publication date).
//!
//! ## Visibility
//!
//! [`may_view`] is the one function that decides whether a [`Viewer`] may see a labelled
//! [`TlpObject`]; see [`tlp`] for the audiences and the decisions on coordinators and admins.
//!
//! ## SLA
//!
//! [`sla::evaluate`] reports, for a case's timeline and `now`, the first-assessment deadline
//! (24 h), time left, which unclaimed warnings fired (12 h, 20 h) and whether to escalate.
//!
//! ## Detector precision
//!
//! [`precision`] defines how a detector's findings are scored against expert verdicts
//! ([`DetectorRecord::precision`]): the reports, `s-express model evaluate` and the detector
//! pages all use it.
//!
//! ## Text forms
//!
//! Every enum has a stable kebab-case text form (`as_str`, `FromStr`, `Display`, serde), e.g.
//! `amber-strict`, `changes-requested`, for TEXT columns and JSON.

#[macro_use]
mod macros;
#[cfg(test)]
mod transition_table;

pub mod assessment;
pub mod audit;
pub mod case;
pub mod change;
pub mod comment;
pub mod conflict;
pub mod decision;
pub mod embargo;
pub mod error;
pub mod event;
pub mod ids;
pub mod participants;
pub mod policy;
pub mod precision;
pub mod project;
pub mod publication;
pub mod queue;
pub mod routing;
pub mod sla;
pub mod subgroup;
pub mod tlp;
pub mod user;

pub use assessment::*;
pub use audit::{
    AuditAction, AuditActor, AuditEvent, AuditTarget, ParseAuditActorError, ParseAuditTargetError,
};
pub use case::*;
pub use change::*;
pub use comment::*;
pub use conflict::*;
pub use decision::*;
pub use embargo::*;
pub use error::*;
pub use event::*;
pub use ids::*;
pub use participants::*;
pub use policy::*;
pub use precision::{DetectorRecord, DetectorTally, Judgement};
pub use project::*;
pub use publication::*;
pub use queue::*;
pub use routing::*;
pub use sla::{FiredWarning, SlaReport, SlaStatus, SlaTimeline};
pub use subgroup::*;
pub use tlp::*;
pub use user::*;
