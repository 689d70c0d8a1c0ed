//! The first-assessment SLA as a pure function of a case's timeline and `now`.
//!
//! The clock starts at receipt. While nobody has claimed the case, warnings fire at the
//! policy's offsets (12 h and 20 h by default); an unclaimed case is escalated to coordinators
//! from the escalation offset (20 h), and any case without a submitted assessment is escalated
//! once the deadline (24 h) is reached. Boundaries are inclusive: a warning fires at exactly
//! its offset, an assessment submitted at exactly the deadline meets it, and a case with no
//! assessment is breached from the deadline instant on. A claim made at exactly a warning's
//! instant prevents it.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::case::{Case, CaseStatus, TriageOutcome};
use crate::policy::SlaPolicy;

/// The moments of a case that the SLA depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTimeline {
    /// Receipt (starts the clock).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// First claim.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_claimed_at: Option<OffsetDateTime>,
    /// First submitted assessment (meets the SLA).
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_assessed_at: Option<OffsetDateTime>,
    /// When the case stopped needing an assessment without getting one (decided or
    /// published first).
    #[serde(with = "time::serde::rfc3339::option")]
    pub stopped_at: Option<OffsetDateTime>,
    /// `false` when triage concluded no expert is needed.
    pub applicable: bool,
}

impl Case {
    /// The SLA timeline of this case.
    #[must_use]
    pub fn sla_timeline(&self) -> SlaTimeline {
        let applicable = !(self.status == CaseStatus::Closed
            || self
                .triage
                .as_ref()
                .is_some_and(|t| t.outcome != TriageOutcome::NeedsExpert));
        let stopped_at = if self.first_assessed_at.is_some() {
            None
        } else {
            self.decision.as_ref().map(|d| d.at).or(self.published_at)
        };
        SlaTimeline {
            received_at: self.received_at,
            first_claimed_at: self.first_claimed_at,
            first_assessed_at: self.first_assessed_at,
            stopped_at,
            applicable,
        }
    }
}

string_enum! {
    /// Where the first-assessment SLA stands.
    pub enum SlaStatus {
        /// Running, no warning fired.
        OnTrack = "on-track",
        /// Running, at least one unclaimed warning fired.
        AtRisk = "at-risk",
        /// Deadline reached without an assessment.
        Breached = "breached",
        /// Assessed by the deadline.
        Met = "met",
        /// Assessed, but after the deadline.
        MetLate = "met-late",
        /// The case was decided or published before anyone assessed it.
        Stopped = "stopped",
        /// Triage found no expert work to do.
        NotApplicable = "not-applicable",
    }
}

/// A warning that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredWarning {
    /// Offset from receipt (e.g. 12 h), in whole seconds.
    pub after_seconds: i64,
    /// When it fired.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// What is due, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReport {
    /// Where it stands.
    pub status: SlaStatus,
    /// When the first assessment is (was) due.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    /// Time until the deadline while the clock runs (negative once breached); `None` once
    /// met, stopped or not applicable.
    pub time_left: Option<Duration>,
    /// Unclaimed warnings that have fired, in order.
    pub fired_warnings: Vec<FiredWarning>,
    /// When the next warning fires, if one still can.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_warning: Option<OffsetDateTime>,
    /// Whether coordinators must be alerted now.
    pub escalate: bool,
}

/// Evaluates the SLA of `timeline` under `policy` at `now`.
#[must_use]
pub fn evaluate(timeline: &SlaTimeline, policy: &SlaPolicy, now: OffsetDateTime) -> SlaReport {
    let deadline = timeline.received_at + policy.first_assessment_due;
    let mut report = SlaReport {
        status: SlaStatus::NotApplicable,
        deadline,
        time_left: None,
        fired_warnings: Vec::new(),
        next_warning: None,
        escalate: false,
    };
    if !timeline.applicable {
        return report;
    }
    // The warnings are about an unclaimed case; a claim, an assessment or a stop ends them.
    let quiet_from = [
        timeline.first_claimed_at,
        timeline.first_assessed_at,
        timeline.stopped_at,
    ]
    .into_iter()
    .flatten()
    .min();
    let mut offsets = policy.unclaimed_warnings.clone();
    offsets.sort();
    for offset in offsets {
        let at = timeline.received_at + offset;
        if quiet_from.is_some_and(|q| q <= at) {
            continue;
        }
        if at <= now {
            report.fired_warnings.push(FiredWarning {
                after_seconds: offset.whole_seconds(),
                at,
            });
        } else if report.next_warning.is_none() {
            report.next_warning = Some(at);
        }
    }
    if let Some(assessed) = timeline.first_assessed_at.filter(|a| *a <= now) {
        report.status = if assessed <= deadline {
            SlaStatus::Met
        } else {
            SlaStatus::MetLate
        };
        report.next_warning = None;
        return report;
    }
    if timeline.stopped_at.is_some_and(|s| s <= now) {
        report.status = SlaStatus::Stopped;
        report.next_warning = None;
        return report;
    }
    let unclaimed = timeline.first_claimed_at.is_none_or(|c| c > now);
    report.time_left = Some(deadline - now);
    report.status = if now >= deadline {
        SlaStatus::Breached
    } else if report.fired_warnings.is_empty() {
        SlaStatus::OnTrack
    } else {
        SlaStatus::AtRisk
    };
    report.escalate = report.status == SlaStatus::Breached
        || (unclaimed && now >= timeline.received_at + policy.escalate_unclaimed_after);
    report
}

impl Case {
    /// The SLA report of this case at `now`.
    #[must_use]
    pub fn sla(&self, policy: &SlaPolicy, now: OffsetDateTime) -> SlaReport {
        evaluate(&self.sla_timeline(), policy, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-02-02 08:00 UTC);

    fn timeline() -> SlaTimeline {
        SlaTimeline {
            received_at: T0,
            first_claimed_at: None,
            first_assessed_at: None,
            stopped_at: None,
            applicable: true,
        }
    }

    fn at(hours: i64) -> OffsetDateTime {
        T0 + Duration::hours(hours)
    }

    fn eval(t: &SlaTimeline, now: OffsetDateTime) -> SlaReport {
        evaluate(t, &SlaPolicy::default(), now)
    }

    fn fired(r: &SlaReport) -> Vec<i64> {
        r.fired_warnings
            .iter()
            .map(|w| w.after_seconds / 3600)
            .collect()
    }

    #[test]
    fn a_fresh_case_is_on_track_with_the_first_warning_next() {
        let r = eval(&timeline(), T0);
        assert_eq!(r.status, SlaStatus::OnTrack);
        assert_eq!(r.deadline, at(24));
        assert_eq!(r.time_left, Some(Duration::hours(24)));
        assert_eq!(r.next_warning, Some(at(12)));
        assert!(!r.escalate);
    }

    #[test]
    fn the_twelve_hour_warning_fires_at_exactly_twelve_hours_and_not_a_second_before() {
        let before = eval(&timeline(), at(12) - Duration::seconds(1));
        assert_eq!(before.status, SlaStatus::OnTrack);
        assert!(fired(&before).is_empty());
        let exact = eval(&timeline(), at(12));
        assert_eq!(exact.status, SlaStatus::AtRisk);
        assert_eq!(fired(&exact), [12]);
        assert_eq!(exact.next_warning, Some(at(20)));
        assert!(!exact.escalate);
    }

    #[test]
    fn the_twenty_hour_warning_fires_and_escalates_an_unclaimed_case_at_exactly_twenty_hours() {
        let before = eval(&timeline(), at(20) - Duration::seconds(1));
        assert_eq!(fired(&before), [12]);
        assert!(!before.escalate);
        let exact = eval(&timeline(), at(20));
        assert_eq!(fired(&exact), [12, 20]);
        assert_eq!(exact.next_warning, None);
        assert!(exact.escalate);
        assert_eq!(exact.time_left, Some(Duration::hours(4)));
    }

    #[test]
    fn the_deadline_is_breached_at_exactly_twenty_four_hours_without_an_assessment() {
        let before = eval(&timeline(), at(24) - Duration::seconds(1));
        assert_eq!(before.status, SlaStatus::AtRisk);
        assert_eq!(before.time_left, Some(Duration::seconds(1)));
        let exact = eval(&timeline(), at(24));
        assert_eq!(exact.status, SlaStatus::Breached);
        assert_eq!(exact.time_left, Some(Duration::ZERO));
        assert!(exact.escalate);
        let later = eval(&timeline(), at(30));
        assert_eq!(later.time_left, Some(Duration::hours(-6)));
    }

    #[test]
    fn an_assessment_at_exactly_twenty_four_hours_meets_the_deadline() {
        let t = SlaTimeline {
            first_claimed_at: Some(at(1)),
            first_assessed_at: Some(at(24)),
            ..timeline()
        };
        let r = eval(&t, at(25));
        assert_eq!(r.status, SlaStatus::Met);
        assert_eq!(r.time_left, None);
        assert!(!r.escalate);
        let late = SlaTimeline {
            first_assessed_at: Some(at(24) + Duration::seconds(1)),
            ..t
        };
        assert_eq!(eval(&late, at(25)).status, SlaStatus::MetLate);
    }

    #[test]
    fn a_claim_silences_later_warnings_and_unclaimed_escalation_but_not_the_deadline() {
        let t = SlaTimeline {
            first_claimed_at: Some(at(13)),
            ..timeline()
        };
        let r = eval(&t, at(21));
        assert_eq!(fired(&r), [12]);
        assert!(!r.escalate);
        assert_eq!(r.status, SlaStatus::AtRisk);
        let breached = eval(&t, at(24));
        assert_eq!(breached.status, SlaStatus::Breached);
        assert!(breached.escalate);
    }

    #[test]
    fn a_claim_at_exactly_the_warning_instant_prevents_that_warning() {
        let t = SlaTimeline {
            first_claimed_at: Some(at(12)),
            ..timeline()
        };
        let r = eval(&t, at(13));
        assert!(fired(&r).is_empty());
        assert_eq!(r.status, SlaStatus::OnTrack);
    }

    #[test]
    fn a_case_decided_before_any_assessment_stops_the_clock() {
        let t = SlaTimeline {
            stopped_at: Some(at(5)),
            ..timeline()
        };
        let r = eval(&t, at(30));
        assert_eq!(r.status, SlaStatus::Stopped);
        assert!(!r.escalate);
        assert!(fired(&r).is_empty());
    }

    #[test]
    fn a_case_triaged_away_has_no_sla() {
        let t = SlaTimeline {
            applicable: false,
            ..timeline()
        };
        let r = eval(&t, at(30));
        assert_eq!(r.status, SlaStatus::NotApplicable);
        assert!(!r.escalate && r.fired_warnings.is_empty() && r.time_left.is_none());
    }

    #[test]
    fn custom_policies_move_every_boundary() {
        let policy = SlaPolicy {
            first_assessment_due: Duration::hours(48),
            unclaimed_warnings: vec![Duration::hours(40), Duration::hours(6)],
            escalate_unclaimed_after: Duration::hours(44),
        };
        let r = evaluate(&timeline(), &policy, at(24));
        assert_eq!(r.status, SlaStatus::AtRisk);
        assert_eq!(fired(&r), [6]);
        assert_eq!(r.next_warning, Some(at(40)));
        assert!(!r.escalate);
        assert!(evaluate(&timeline(), &policy, at(44)).escalate);
    }
}
