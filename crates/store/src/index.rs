//! Projections: the columns and side tables derived from a domain aggregate on every save.
//!
//! Queries filter, sort and join on these; reads always return the aggregate's own document.
//! Deriving them in one pure place keeps both backends identical and makes them testable
//! without a database.

use std::str::FromStr;

use sx_domain::{
    Affiliation, AttackVector, Case, CaseStatus, Language, Project, User, normalize_identity,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// Case statuses that sit in experts' queues: routed and waiting for (more) expert work.
pub const QUEUE_STATUSES: [CaseStatus; 2] = [CaseStatus::Triaged, CaseStatus::Claimed];

/// Whether an assessed case waits for a second reviewer: it stays in the routed subgroups'
/// queues until the review is given (the domain decides per expert who may give it).
fn awaits_second_review(case: &Case) -> bool {
    case.status == CaseStatus::Assessed
        && case
            .second_reviews
            .iter()
            .any(|r| r.status == sx_domain::SecondReviewStatus::Requested)
}

/// An assessment's row in the `assessments` projection.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AssessmentRow {
    pub id: Uuid,
    pub expert_id: Uuid,
    pub status: &'static str,
    pub verdict: Option<&'static str>,
    pub submitted_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// Everything derived from a case for its row and side tables.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CaseIndex {
    pub status: &'static str,
    pub tlp: &'static str,
    pub queue_open: bool,
    pub sla_due: OffsetDateTime,
    pub published_at: Option<OffsetDateTime>,
    pub verdict: Option<&'static str>,
    pub author_norm: Option<String>,
    pub pull_request_url: Option<String>,
    pub subgroups: Vec<Uuid>,
    /// `(kind, value)` with kind `vector` or `language`.
    pub tags: Vec<(&'static str, &'static str)>,
    pub assessments: Vec<AssessmentRow>,
    /// The maintainer's suspicion level (1–5).
    pub suspicion: i16,
    /// When the first human assessment was submitted.
    pub first_assessed_at: Option<OffsetDateTime>,
    /// Detector ids of the automated findings, each once, sorted.
    pub detectors: Vec<String>,
}

impl CaseIndex {
    pub(crate) fn of(case: &Case, sla: time::Duration) -> CaseIndex {
        // The verdict the public sees: the domain's effective verdict (most severe opinion on
        // the current revision).
        let latest = case.effective_verdict().map(|e| e.verdict.as_str());
        let mut tags: Vec<(&'static str, &'static str)> = Vec::new();
        let reported = case.report.iter().flat_map(|r| r.tags.iter());
        for tag in reported.chain(case.concern.tags.iter()) {
            if let Ok(v) = AttackVector::from_str(tag.trim()) {
                tags.push(("vector", v.as_str()));
            }
            if let Ok(l) = Language::from_str(tag.trim()) {
                tags.push(("language", l.as_str()));
            }
        }
        tags.sort_unstable();
        tags.dedup();
        let mut subgroups: Vec<Uuid> = Vec::with_capacity(case.subgroups.len());
        for s in &case.subgroups {
            if !subgroups.contains(&s.0) {
                subgroups.push(s.0);
            }
        }
        CaseIndex {
            status: case.status.as_str(),
            tlp: case.tlp.as_str(),
            queue_open: QUEUE_STATUSES.contains(&case.status) || awaits_second_review(case),
            sla_due: case.received_at + sla,
            published_at: if case.status == CaseStatus::Published {
                Some(case.published_at.unwrap_or(case.updated_at))
            } else {
                None
            },
            verdict: latest,
            author_norm: case
                .source
                .author
                .as_deref()
                .map(normalize_identity)
                .filter(|a| !a.is_empty()),
            pull_request_url: case.source.pull_request_url.clone(),
            subgroups,
            tags,
            assessments: case
                .assessments
                .iter()
                .map(|a| AssessmentRow {
                    id: a.id.0,
                    expert_id: a.expert.0,
                    status: a.status.as_str(),
                    verdict: a.submitted_verdict().map(|v| v.as_str()),
                    submitted_at: a.submitted_at,
                    updated_at: a.updated_at,
                })
                .collect(),
            suspicion: i16::from(case.concern.suspicion.get()),
            first_assessed_at: case.first_assessed_at,
            detectors: {
                let mut d: Vec<String> = case
                    .report
                    .iter()
                    .flat_map(|r| r.finding_ids.iter().cloned())
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            },
        }
    }
}

/// When the first automated report among `events` was attached (the store keeps the earliest
/// one it ever saw: `reported_at = COALESCE(reported_at, this)`).
pub(crate) fn reported_at(events: &[sx_domain::DomainEvent]) -> Option<OffsetDateTime> {
    events
        .iter()
        .filter(|e| matches!(e.change, sx_domain::CaseEvent::ReportAttached { .. }))
        .map(|e| e.at)
        .min()
}

/// Normalized `(owner, name)` of a project, as conflicts compare them.
pub(crate) fn project_key(project: &Project) -> (String, String) {
    (
        normalize_identity(&project.owner),
        normalize_identity(&project.name),
    )
}

/// What rules cases out of an expert's queue, in the normalized forms the `cases` columns use.
/// Mirrors [`sx_domain::conflicts`] (checked against it by the conformance suite); the
/// maintainer conflict is checked in SQL against `project_maintainers`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Exclusions {
    /// Project owners the expert is tied to (organizations, sponsor, persons).
    pub owners: Vec<String>,
    /// `owner/name` of projects the expert is affiliated with.
    pub projects: Vec<String>,
    /// Change authors the expert is tied to (themself and persons).
    pub authors: Vec<String>,
}

impl Exclusions {
    pub(crate) fn of(user: &User) -> Exclusions {
        let mut x = Exclusions::default();
        let push = |v: &mut Vec<String>, s: &str| {
            let n = normalize_identity(s);
            if !n.is_empty() && !v.contains(&n) {
                v.push(n);
            }
        };
        push(&mut x.authors, &user.handle);
        if let Some(profile) = &user.expert {
            for a in &profile.affiliations {
                match a {
                    Affiliation::Organization { name } => push(&mut x.owners, name),
                    Affiliation::Project { owner, name } => {
                        let key =
                            format!("{}/{}", normalize_identity(owner), normalize_identity(name));
                        if !x.projects.contains(&key) {
                            x.projects.push(key);
                        }
                    }
                    Affiliation::Person { handle } => {
                        push(&mut x.owners, handle);
                        push(&mut x.authors, handle);
                    }
                }
            }
            if let Some(s) = &profile.sponsor {
                push(&mut x.owners, &s.organization);
            }
        }
        x
    }
}
