//! Assessments (one expert's written view of one revision), their small state machine, and
//! second reviews.
//!
//! ```text
//!   draft ──submit──▶ submitted ──outdate──▶ outdated   (the PR got new commits)
//!     │                  │
//!     ├──outdate──▶ outdated
//!     └──withdraw──▶ withdrawn ◀──withdraw──┘
//! ```
//! `outdated` and `withdrawn` are final: a new revision needs a new assessment.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::change::{MAX_TAGS, MAX_URL_LEN, Revision};
use crate::error::{ValidationError, optional_text, require_text, text_list};
use crate::ids::{AssessmentId, CaseId, SecondReviewId, UserId};
use crate::tlp::TlpLabel;

/// Longest summary, in bytes.
pub const MAX_SUMMARY_LEN: usize = 2_000;
/// Longest rationale or note, in bytes.
pub const MAX_RATIONALE_LEN: usize = 100_000;

string_enum! {
    /// An expert's verdict on a change. Declared from least to most severe, so `Ord` ranks
    /// severity.
    pub enum Verdict {
        /// Nothing hostile found.
        Benign = "benign",
        /// Could not tell either way.
        Inconclusive = "inconclusive",
        /// Dodgy enough that the maintainer should not merge without changes or more review.
        Suspicious = "suspicious",
        /// Hostile. Shown at once as preliminary; final after an independent second expert
        /// agrees.
        Malicious = "malicious",
    }
}

string_enum! {
    /// How sure the expert is of the verdict.
    pub enum Confidence {
        /// A hunch.
        Low = "low",
        /// Fairly sure.
        Medium = "medium",
        /// Sure.
        High = "high",
    }
}

string_enum! {
    /// A self-reported degree (thoroughness of the review, understanding of the code).
    pub enum Level {
        /// None at all.
        None = "none",
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
    }
}

/// What an expert writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentBody {
    /// The verdict.
    pub verdict: Verdict,
    /// How sure.
    pub confidence: Confidence,
    /// One paragraph the maintainer reads first.
    pub summary: String,
    /// The reasoning and evidence.
    pub rationale: String,
    /// What the maintainer should do.
    pub recommended_actions: Vec<String>,
    /// Links and references (advisories, incidents, rule docs).
    pub references: Vec<String>,
    /// Time spent, in minutes.
    pub time_spent_minutes: u32,
    /// Self-reported thoroughness.
    pub thoroughness: Level,
    /// Self-reported understanding of the code.
    pub understanding: Level,
}

impl AssessmentBody {
    /// Checks that the body can be submitted: summary and rationale present, sizes bounded.
    ///
    /// # Errors
    /// When a required field is empty or any field exceeds its bound.
    pub fn validate(&self) -> Result<(), ValidationError> {
        require_text("summary", &self.summary, MAX_SUMMARY_LEN)?;
        require_text("rationale", &self.rationale, MAX_RATIONALE_LEN)?;
        text_list(
            "recommended actions",
            &self.recommended_actions,
            MAX_TAGS,
            MAX_SUMMARY_LEN,
        )?;
        text_list("references", &self.references, MAX_TAGS, MAX_URL_LEN)
    }

    /// Checks only the bounds, for drafts (which may be incomplete).
    ///
    /// # Errors
    /// When any field exceeds its bound.
    pub fn validate_draft(&self) -> Result<(), ValidationError> {
        optional_text("summary", &self.summary, MAX_SUMMARY_LEN)?;
        optional_text("rationale", &self.rationale, MAX_RATIONALE_LEN)?;
        if self.recommended_actions.len() > MAX_TAGS {
            return Err(ValidationError::TooMany {
                field: "recommended actions",
                len: self.recommended_actions.len(),
                max: MAX_TAGS,
            });
        }
        if self.references.len() > MAX_TAGS {
            return Err(ValidationError::TooMany {
                field: "references",
                len: self.references.len(),
                max: MAX_TAGS,
            });
        }
        Ok(())
    }
}

string_enum! {
    /// Where an assessment stands.
    pub enum AssessmentStatus {
        /// Being written; visible to the case's participants as work in progress.
        Draft = "draft",
        /// Done; counts towards the case's verdict while its revision is current.
        Submitted = "submitted",
        /// Its revision is no longer the case's head; kept for the record.
        Outdated = "outdated",
        /// Taken back by its expert.
        Withdrawn = "withdrawn",
    }
}

string_enum! {
    /// What can happen to an assessment.
    pub enum AssessmentAction {
        /// The expert submits.
        Submit = "submit",
        /// The case got a new revision.
        Outdate = "outdate",
        /// The expert takes it back.
        Withdraw = "withdraw",
    }
}

/// An assessment transition that the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "an assessment that is {from} cannot {action}; only drafts can be submitted and only drafts or submitted assessments can be outdated or withdrawn"
)]
pub struct AssessmentTransitionError {
    /// State it was in.
    pub from: AssessmentStatus,
    /// What was attempted.
    pub action: AssessmentAction,
}

impl AssessmentStatus {
    /// The assessment state machine.
    ///
    /// # Errors
    /// When `action` is not allowed from `self`.
    pub fn apply(self, action: AssessmentAction) -> Result<Self, AssessmentTransitionError> {
        use AssessmentAction as A;
        use AssessmentStatus as S;
        match (self, action) {
            (S::Draft, A::Submit) => Ok(S::Submitted),
            (S::Draft | S::Submitted, A::Outdate) => Ok(S::Outdated),
            (S::Draft | S::Submitted, A::Withdraw) => Ok(S::Withdrawn),
            (from, action) => Err(AssessmentTransitionError { from, action }),
        }
    }

    /// Whether no further transition is possible.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Outdated | Self::Withdrawn)
    }
}

/// One expert's assessment of one revision of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Stable id.
    pub id: AssessmentId,
    /// The case.
    pub case_id: CaseId,
    /// The expert who writes it.
    pub expert: UserId,
    /// The revision assessed.
    pub revision: Revision,
    /// Where it stands.
    pub status: AssessmentStatus,
    /// The content; `None` for a draft nothing has been written into yet.
    pub body: Option<AssessmentBody>,
    /// Its own TLP label (AMBER+STRICT by default; CLEAR after publication unless RED).
    pub tlp: TlpLabel,
    /// When it was started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Assessment {
    /// The verdict, if submitted.
    #[must_use]
    pub fn submitted_verdict(&self) -> Option<Verdict> {
        match (self.status, &self.body) {
            (AssessmentStatus::Submitted, Some(body)) => Some(body.verdict),
            _ => None,
        }
    }
}

string_enum! {
    /// Where a second review stands.
    pub enum SecondReviewStatus {
        /// Asked for; no reviewer has submitted yet.
        Requested = "requested",
        /// A second expert submitted their verdict.
        Submitted = "submitted",
        /// The assessment under review was outdated or withdrawn first.
        Cancelled = "cancelled",
    }
}

/// A second, independent expert's review of an assessment. Required before a malicious
/// verdict becomes final; may also be asked for by the expert, the maintainer or a
/// coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondReview {
    /// Stable id.
    pub id: SecondReviewId,
    /// The case.
    pub case_id: CaseId,
    /// The assessment under review.
    pub assessment_id: AssessmentId,
    /// Who asked; `None` when the rules asked (a malicious verdict).
    pub requested_by: Option<UserId>,
    /// Why.
    pub reason: String,
    /// When it was asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// Where it stands.
    pub status: SecondReviewStatus,
    /// The second expert (never the assessment's author, never conflicted).
    pub reviewer: Option<UserId>,
    /// The second expert's own verdict; they agree when it equals the reviewed verdict.
    pub verdict: Option<Verdict>,
    /// The second expert's note.
    pub note: Option<String>,
    /// When it was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Its own TLP label.
    pub tlp: TlpLabel,
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssessmentAction as A;
    use AssessmentStatus as S;

    /// Every (state, action) pair, written out by hand: `Some(to)` is legal.
    const TABLE: &[(S, A, Option<S>)] = &[
        (S::Draft, A::Submit, Some(S::Submitted)),
        (S::Draft, A::Outdate, Some(S::Outdated)),
        (S::Draft, A::Withdraw, Some(S::Withdrawn)),
        (S::Submitted, A::Submit, None),
        (S::Submitted, A::Outdate, Some(S::Outdated)),
        (S::Submitted, A::Withdraw, Some(S::Withdrawn)),
        (S::Outdated, A::Submit, None),
        (S::Outdated, A::Outdate, None),
        (S::Outdated, A::Withdraw, None),
        (S::Withdrawn, A::Submit, None),
        (S::Withdrawn, A::Outdate, None),
        (S::Withdrawn, A::Withdraw, None),
    ];

    #[test]
    fn the_table_covers_every_state_and_action() {
        crate::transition_table::assert_covers_every_pair(TABLE, S::ALL, A::ALL);
    }

    #[test]
    fn every_assessment_transition_is_legal_or_rejected_with_a_typed_error() {
        crate::transition_table::assert_apply_follows(TABLE, S::apply, |from, action| {
            AssessmentTransitionError { from, action }
        });
    }

    #[test]
    fn only_outdated_and_withdrawn_are_final() {
        let finals: Vec<_> = S::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [&S::Outdated, &S::Withdrawn]);
    }

    #[test]
    fn verdicts_order_by_severity() {
        assert!(Verdict::Malicious > Verdict::Suspicious);
        assert!(Verdict::Suspicious > Verdict::Inconclusive);
        assert!(Verdict::Inconclusive > Verdict::Benign);
    }

    fn body() -> AssessmentBody {
        AssessmentBody {
            verdict: Verdict::Benign,
            confidence: Confidence::High,
            summary: "fine".into(),
            rationale: "read it all".into(),
            recommended_actions: vec![],
            references: vec![],
            time_spent_minutes: 30,
            thoroughness: Level::High,
            understanding: Level::Medium,
        }
    }

    #[test]
    fn a_submitted_body_needs_summary_and_rationale_but_a_draft_does_not() {
        let mut b = body();
        b.rationale = "  ".into();
        assert_eq!(
            b.validate(),
            Err(ValidationError::Empty { field: "rationale" })
        );
        assert_eq!(b.validate_draft(), Ok(()));
        b.summary = "x".repeat(MAX_SUMMARY_LEN + 1);
        assert!(matches!(
            b.validate_draft(),
            Err(ValidationError::TooLong {
                field: "summary",
                ..
            })
        ));
    }

    #[test]
    fn levels_and_verdicts_use_kebab_case_text() {
        assert_eq!(serde_json::to_string(&Level::None).unwrap(), "\"none\"");
        assert_eq!("inconclusive".parse::<Verdict>(), Ok(Verdict::Inconclusive));
        assert!("Malicious".parse::<Verdict>().is_err());
    }
}
