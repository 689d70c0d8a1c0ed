//! The expert queue: subgroup filter, conflicts, reasons and SLA order.

use sx_domain::*;
use time::Duration;

use crate::fixtures::*;

fn case_received_at(w: &World, n: u128, hours: i64) -> Case {
    let mut c = w.triaged();
    c.id = CaseId::from_uuid(uid(1000 + n));
    c.received_at = at(hours);
    c
}

#[test]
fn an_expert_sees_unclaimed_cases_of_their_subgroups_soonest_deadline_first() {
    let w = World::new();
    let cases = vec![
        case_received_at(&w, 1, 5),
        case_received_at(&w, 2, -3),
        case_received_at(&w, 3, 1),
    ];
    let q = expert_queue(
        &cases,
        std::slice::from_ref(&w.project),
        &w.subgroups,
        w.user(EXPERT_B),
        &w.policy,
        at(6),
    );
    let order: Vec<CaseId> = q.iter().map(|e| e.case.id).collect();
    assert_eq!(order, [cases[1].id, cases[2].id, cases[0].id]);
    assert!(q.iter().all(|e| e.reason == QueueReason::Unclaimed));
    assert_eq!(q[0].sla.deadline, at(21));
    assert!(q.windows(2).all(|p| p[0].sla.deadline <= p[1].sla.deadline));
}

#[test]
fn conflicted_outside_and_non_expert_users_get_no_such_cases() {
    let w = World::new();
    let cases = vec![w.triaged()];
    let projects = [w.project.clone()];
    for who in [CONFLICTED, OUTSIDER_EXPERT, COORD_X, MAINTAINER] {
        assert!(
            expert_queue(
                &cases,
                &projects,
                &w.subgroups,
                w.user(who),
                &w.policy,
                at(2)
            )
            .is_empty(),
            "user {who}"
        );
    }
    // Unknown project: conflicts cannot be ruled out, so the case is left out.
    assert!(
        expert_queue(
            &cases,
            &[],
            &w.subgroups,
            w.user(EXPERT_B),
            &w.policy,
            at(2)
        )
        .is_empty()
    );
}

#[test]
fn claims_second_reviews_and_closed_cases_are_sorted_into_the_right_reasons() {
    let w = World::new();
    let projects = [w.project.clone()];
    let mut mine = w.claimed();
    mine.id = CaseId::from_uuid(uid(2001));
    let mut review = w.assessed(Verdict::Malicious);
    review.id = CaseId::from_uuid(uid(2002));
    let mut done = w.assessed(Verdict::Benign);
    done.id = CaseId::from_uuid(uid(2003));
    let mut decided = w.decided();
    decided.id = CaseId::from_uuid(uid(2004));
    let cases = vec![mine, review, done, decided];

    let a = expert_queue(
        &cases,
        &projects,
        &w.subgroups,
        w.user(EXPERT_A),
        &w.policy,
        at(4),
    );
    assert_eq!(
        a.iter().map(|e| (e.case.id, e.reason)).collect::<Vec<_>>(),
        [(cases[0].id, QueueReason::YourClaim)]
    );

    let b = expert_queue(
        &cases,
        &projects,
        &w.subgroups,
        w.user(EXPERT_B),
        &w.policy,
        at(4),
    );
    assert_eq!(
        b.iter().map(|e| (e.case.id, e.reason)).collect::<Vec<_>>(),
        [(cases[1].id, QueueReason::SecondReview)]
    );
}

#[test]
fn the_queue_reports_each_cases_sla() {
    let w = World::new();
    let cases = vec![w.triaged()];
    let q = expert_queue(
        &cases,
        std::slice::from_ref(&w.project),
        &w.subgroups,
        w.user(EXPERT_B),
        &w.policy,
        at(20),
    );
    assert_eq!(q[0].sla.status, SlaStatus::AtRisk);
    assert!(q[0].sla.escalate);
    assert_eq!(q[0].sla.time_left, Some(Duration::hours(4)));
}
