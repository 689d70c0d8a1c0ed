//! An expert's work queue: the cases they can act on, soonest SLA deadline first.

use time::OffsetDateTime;

use crate::assessment::{AssessmentStatus, SecondReviewStatus};
use crate::case::{Case, CaseStatus};
use crate::conflict::conflicts;
use crate::policy::Policy;
use crate::project::Project;
use crate::sla::SlaReport;
use crate::subgroup::Subgroup;
use crate::user::{Role, User};

string_enum! {
    /// Why a case is in the queue.
    pub enum QueueReason {
        /// The expert claimed it and has not submitted for the current revision.
        YourClaim = "your-claim",
        /// A second review is waiting and the expert may give it.
        SecondReview = "second-review",
        /// Nobody claimed it yet.
        Unclaimed = "unclaimed",
    }
}

/// One case in an expert's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry<'a> {
    /// The case.
    pub case: &'a Case,
    /// Why it is here.
    pub reason: QueueReason,
    /// Its SLA at `now`.
    pub sla: SlaReport,
}

/// Whose queue row it would be and why, or `None` if the expert has nothing to do on it.
fn reason_for(case: &Case, expert: &User) -> Option<QueueReason> {
    if case.is_assigned(expert.id) {
        let submitted = case.assessments.iter().any(|a| {
            a.expert == expert.id
                && a.revision == case.revision
                && a.status == AssessmentStatus::Submitted
        });
        if !submitted {
            return Some(QueueReason::YourClaim);
        }
    }
    let can_second = case.second_reviews.iter().any(|r| {
        r.status == SecondReviewStatus::Requested
            && case
                .assessments
                .iter()
                .any(|a| a.id == r.assessment_id && a.expert != expert.id)
    });
    if can_second {
        return Some(QueueReason::SecondReview);
    }
    (case.status == CaseStatus::Triaged).then_some(QueueReason::Unclaimed)
}

/// The queue of `expert`: open cases routed to one of their subgroups (or naming them), on
/// projects they have no conflict with, where they have something to do; sorted by SLA
/// deadline, then receipt, then id. Cases whose project is missing from `projects` are left
/// out, since conflicts cannot be ruled out.
#[must_use]
pub fn expert_queue<'a>(
    cases: &'a [Case],
    projects: &[Project],
    subgroups: &[Subgroup],
    expert: &User,
    policy: &Policy,
    now: OffsetDateTime,
) -> Vec<QueueEntry<'a>> {
    if !expert.has_role(Role::Expert) {
        return Vec::new();
    }
    let mine: Vec<&Subgroup> = subgroups
        .iter()
        .filter(|s| s.is_member(expert.id))
        .collect();
    let mut queue: Vec<QueueEntry<'a>> = cases
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                CaseStatus::Triaged | CaseStatus::Claimed | CaseStatus::Assessed
            )
        })
        .filter(|c| c.is_named(expert.id) || mine.iter().any(|s| c.subgroups.contains(&s.id)))
        .filter(|c| {
            projects
                .iter()
                .find(|p| p.id == c.project_id)
                .is_some_and(|p| conflicts(expert, p, c.source.author.as_deref()).is_empty())
        })
        .filter_map(|c| {
            reason_for(c, expert).map(|reason| QueueEntry {
                case: c,
                reason,
                sla: c.sla(&policy.sla, now),
            })
        })
        .collect();
    queue.sort_by(|a, b| {
        (a.sla.deadline, a.case.received_at, a.case.id).cmp(&(
            b.sla.deadline,
            b.case.received_at,
            b.case.id,
        ))
    });
    queue
}
