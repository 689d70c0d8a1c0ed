//! What the public may see of a case. These projections are the only way public pages,
//! feeds and exports get case data, so a sealed case cannot leak by accident: its public
//! type simply has no field for content.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::assessment::{Assessment, SecondReview};
use crate::case::{Case, EffectiveVerdict, Triage};
use crate::change::{AutomatedReport, ChangeSource, Concern, Revision};
use crate::decision::Decision;
use crate::embargo::{Embargo, GraceExtension};
use crate::ids::{CaseId, ProjectId, SubgroupId};
use crate::policy::Policy;
use crate::tlp::{Viewer, may_view};

/// All the public may know of a sealed case: that it exists, its subgroups, and when it
/// publishes (`None`: never, for cases closed as invalid). Plus its public grace extensions,
/// which explain a publication date beyond the usual maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCaseStub {
    /// The case.
    pub id: CaseId,
    /// Its subgroups.
    pub subgroups: Vec<SubgroupId>,
    /// When it publishes.
    #[serde(with = "time::serde::rfc3339::option")]
    pub publishes_at: Option<OffsetDateTime>,
    /// Granted or pending grace extensions (public records).
    pub grace_extensions: Vec<GraceExtension>,
}

/// A published case, minus anything still labelled RED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedCase {
    /// The case.
    pub id: CaseId,
    /// Its project.
    pub project_id: ProjectId,
    /// Its subgroups.
    pub subgroups: Vec<SubgroupId>,
    /// Where the change came from.
    pub source: ChangeSource,
    /// The final revision range.
    pub revision: Revision,
    /// Earlier ranges.
    pub previous_revisions: Vec<Revision>,
    /// The maintainer's concern.
    pub concern: Concern,
    /// The analyzer's report.
    pub report: Option<AutomatedReport>,
    /// Triage's conclusion.
    pub triage: Option<Triage>,
    /// Assessments the public may see.
    pub assessments: Vec<Assessment>,
    /// Second reviews the public may see.
    pub second_reviews: Vec<SecondReview>,
    /// The effective verdict at publication.
    pub effective_verdict: Option<EffectiveVerdict>,
    /// The maintainer's decision.
    pub decision: Option<Decision>,
    /// The embargo's history.
    pub embargo: Embargo,
    /// Grace extensions.
    pub grace_extensions: Vec<GraceExtension>,
    /// When it was received.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// When the first assessment was submitted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_assessed_at: Option<OffsetDateTime>,
    /// When it was published.
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
}

/// The public view of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PublicCaseView {
    /// Not published: only the stub.
    Sealed(PublicCaseStub),
    /// Published.
    Published(Box<PublishedCase>),
}

impl Case {
    /// The stub the public sees while the case is sealed.
    #[must_use]
    pub fn public_stub(&self, policy: &Policy) -> PublicCaseStub {
        PublicCaseStub {
            id: self.id,
            subgroups: self.subgroups.clone(),
            publishes_at: self.publication_date(policy),
            grace_extensions: self.grace_extensions.clone(),
        }
    }

    /// What the public (an anonymous viewer) may see of this case. Content appears only once
    /// the case is published *and* its label admits anonymous viewers; each assessment and
    /// second review is filtered through [`may_view`] as well.
    #[must_use]
    pub fn public_view(&self, policy: &Policy) -> PublicCaseView {
        let anonymous = Viewer::Anonymous;
        let published_at = match self.published_at {
            Some(at) if may_view(&anonymous, &self.tlp_object()) => at,
            _ => return PublicCaseView::Sealed(self.public_stub(policy)),
        };
        PublicCaseView::Published(Box::new(PublishedCase {
            id: self.id,
            project_id: self.project_id,
            subgroups: self.subgroups.clone(),
            source: self.source.clone(),
            revision: self.revision.clone(),
            previous_revisions: self.previous_revisions.clone(),
            concern: self.concern.clone(),
            report: self.report.clone(),
            triage: self.triage.clone(),
            assessments: self
                .assessments
                .iter()
                .filter(|a| may_view(&anonymous, &self.assessment_object(a)))
                .cloned()
                .collect(),
            second_reviews: self
                .second_reviews
                .iter()
                .filter(|r| may_view(&anonymous, &self.second_review_object(r)))
                .cloned()
                .collect(),
            effective_verdict: self.effective_verdict(),
            decision: self.decision.clone(),
            embargo: self.embargo.clone(),
            grace_extensions: self.grace_extensions.clone(),
            received_at: self.received_at,
            first_assessed_at: self.first_assessed_at,
            published_at,
        }))
    }
}
