//! What the API shows: view types built from domain aggregates *after* the TLP decision.
//!
//! A [`CaseView`] is only ever built for a viewer `may_view` admitted to the case; inside it,
//! each assessment and second review passes `may_view` again on its own label, and the
//! participant list only goes to participants.

use serde::Serialize;
use sx_domain::{
    Assessment, Case, Claim, Concern, Decision, DomainEvent, EffectiveVerdict, Embargo, Forge,
    Participant, Project, Revision, SecondReview, SlaReport, Subgroup, SubgroupId, TlpLabel,
    Triage, User, UserId, Viewer,
};
use time::OffsetDateTime;

/// A user as shown to themselves.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Login handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<sx_domain::Role>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            handle: u.handle.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.iter().copied().collect(),
        }
    }
}

/// A project reference.
#[derive(Debug, Serialize)]
pub struct ProjectView {
    /// Forge.
    pub forge: Forge,
    /// Forge host.
    pub host: String,
    /// Owner.
    pub owner: String,
    /// Repository name.
    pub name: String,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        ProjectView {
            forge: p.forge,
            host: p.host.clone(),
            owner: p.owner.clone(),
            name: p.name.clone(),
        }
    }
}

/// A subgroup reference.
#[derive(Debug, Serialize)]
pub struct SubgroupRef {
    /// Id.
    pub id: SubgroupId,
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
}

/// The analyzer's first read.
#[derive(Debug, Serialize)]
pub struct ReportView<'a> {
    /// Risk probability in `[0, 1]`.
    pub risk: f64,
    /// Band.
    pub band: sx_domain::RiskBand,
    /// Attack-vector and language tags.
    pub tags: &'a [String],
    /// The analyzer's full JSON report (schema-versioned by the analyzer).
    pub full: &'a serde_json::Value,
}

/// A case as its viewer may see it.
#[derive(Debug, Serialize)]
pub struct CaseView<'a> {
    /// Id.
    pub id: sx_domain::CaseId,
    /// The project.
    pub project: ProjectView,
    /// Status (`received`, `triaged`, `claimed`, `assessed`, `decided`, `published`, `closed`).
    pub status: sx_domain::CaseStatus,
    /// The case's TLP label.
    pub tlp: TlpLabel,
    /// Receipt time.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Publication time, once published.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// When it will publish (by decision, embargo or grace deadline).
    #[serde(with = "time::serde::rfc3339::option")]
    pub publishes_at: Option<OffsetDateTime>,
    /// Who forwarded it.
    pub submitted_by: UserId,
    /// Where the change came from.
    pub source: &'a sx_domain::ChangeSource,
    /// Current revision.
    pub revision: &'a Revision,
    /// The maintainer's concern.
    pub concern: &'a Concern,
    /// The automated report, once attached.
    pub report: Option<ReportView<'a>>,
    /// Triage's conclusion.
    pub triage: Option<&'a Triage>,
    /// Routed subgroups, best first.
    pub subgroups: Vec<SubgroupRef>,
    /// Claims.
    pub claims: &'a [Claim],
    /// Assessments the viewer may see.
    pub assessments: Vec<&'a Assessment>,
    /// Second reviews the viewer may see.
    pub second_reviews: Vec<&'a SecondReview>,
    /// The verdict as it stands.
    pub effective_verdict: Option<EffectiveVerdict>,
    /// The maintainer's decision.
    pub decision: Option<&'a Decision>,
    /// The embargo.
    pub embargo: &'a Embargo,
    /// The first-assessment SLA now.
    pub sla: SlaReport,
    /// Named participants (shown to participants only).
    pub participants: Option<&'a [Participant]>,
    /// What happened, oldest first.
    pub timeline: Vec<DomainEvent>,
}

impl<'a> CaseView<'a> {
    /// Builds the view for `viewer`, who must already have been admitted to the case.
    #[must_use]
    pub fn build(
        case: &'a Case,
        project: &Project,
        subgroups: &[Subgroup],
        viewer: &Viewer,
        policy: &sx_domain::Policy,
        timeline: Vec<DomainEvent>,
        now: OffsetDateTime,
    ) -> Self {
        let subgroups = case
            .subgroups
            .iter()
            .filter_map(|id| subgroups.iter().find(|s| s.id == *id))
            .map(|s| SubgroupRef {
                id: s.id,
                slug: s.slug.clone(),
                name: s.name.clone(),
            })
            .collect();
        CaseView {
            id: case.id,
            project: project.into(),
            status: case.status,
            tlp: case.tlp,
            received_at: case.received_at,
            updated_at: case.updated_at,
            published_at: case.published_at,
            publishes_at: case.publication_date(policy),
            submitted_by: case.submitted_by,
            source: &case.source,
            revision: &case.revision,
            concern: &case.concern,
            report: case.report.as_ref().map(|r| ReportView {
                risk: r.risk.get(),
                band: r.band,
                tags: &r.tags,
                full: &r.full,
            }),
            triage: case.triage.as_ref(),
            subgroups,
            claims: &case.claims,
            assessments: case
                .assessments
                .iter()
                .filter(|a| sx_domain::may_view(viewer, &case.assessment_object(a)))
                .collect(),
            second_reviews: case
                .second_reviews
                .iter()
                .filter(|r| sx_domain::may_view(viewer, &case.second_review_object(r)))
                .collect(),
            effective_verdict: case.effective_verdict(),
            decision: case.decision.as_ref(),
            embargo: &case.embargo,
            sla: case.sla(&policy.sla, now),
            participants: sx_domain::may_view_participants(viewer)
                .then_some(case.participants.as_slice()),
            timeline: visible_timeline(timeline, viewer),
        }
    }
}

/// The timeline a viewer may see: who was read in by name is for participants only (the same
/// rule as the participant list), so those events are dropped for everyone else.
fn visible_timeline(timeline: Vec<DomainEvent>, viewer: &Viewer) -> Vec<DomainEvent> {
    if sx_domain::may_view_participants(viewer) {
        return timeline;
    }
    timeline
        .into_iter()
        .filter(|e| {
            !matches!(
                e.change,
                sx_domain::CaseEvent::ParticipantAdded { .. }
                    | sx_domain::CaseEvent::ParticipantRemoved { .. }
            )
        })
        .collect()
}
