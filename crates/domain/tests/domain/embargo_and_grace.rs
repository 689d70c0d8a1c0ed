//! Embargoes on cases, publication dates, grace deadlines and their two-coordinator
//! extensions.

use sx_domain::*;
use time::Duration;

use crate::fixtures::*;

fn days(n: i64) -> time::OffsetDateTime {
    T0 + Duration::days(n)
}

#[test]
fn a_case_publishes_at_the_later_of_decision_and_embargo_end() {
    let w = World::new();
    let c = w
        .assessed(Verdict::Malicious)
        .propose_embargo(
            &w.ctx(at(4)),
            w.user(MAINTAINER),
            pid(1),
            days(14),
            "release 1.4.2 on the 16th",
        )
        .unwrap()
        .case
        .approve_embargo(&w.ctx(at(4)), w.user(COORD_X))
        .unwrap()
        .case;
    assert_eq!(c.embargo.state, EmbargoState::Active);
    let decided = c
        .decide(
            &w.ctx(at(5)),
            w.user(MAINTAINER),
            DecisionOutcome::Rejected,
            "",
        )
        .unwrap()
        .case;
    assert_eq!(decided.publication_date(&w.policy), Some(days(14)));
    assert_eq!(
        decided
            .publish(&w.ctx(days(14) - Duration::seconds(1)), Actor::System)
            .unwrap_err(),
        CaseError::NotYetPublishable {
            publishes_at: days(14)
        }
    );
    let published = decided.publish(&w.ctx(days(14)), Actor::System).unwrap();
    assert_eq!(
        published.case.embargo.end_reason,
        Some(EmbargoEndReason::Published)
    );

    // Decided after the embargo ended: the decision time counts.
    let late = c
        .decide(
            &w.ctx(days(20)),
            w.user(MAINTAINER),
            DecisionOutcome::Rejected,
            "",
        )
        .unwrap()
        .case;
    assert_eq!(late.publication_date(&w.policy), Some(days(20)));
}

#[test]
fn a_pending_proposal_holds_publication_so_approval_cannot_come_too_late() {
    let w = World::new();
    let c = w
        .decided()
        .propose_embargo(
            &w.ctx(at(5)),
            w.user(MAINTAINER),
            pid(1),
            days(10),
            "fix pending",
        )
        .unwrap()
        .case;
    assert_eq!(c.embargo.state, EmbargoState::Proposed);
    assert_eq!(c.publication_date(&w.policy), Some(days(10)));
    let rejected = c
        .reject_embargo(&w.ctx(at(6)), w.user(COORD_X))
        .unwrap()
        .case;
    assert_eq!(rejected.embargo.state, EmbargoState::None);
    assert_eq!(rejected.publication_date(&w.policy), Some(at(5)));
}

#[test]
fn competing_proposals_resolve_to_the_shortest() {
    let w = World::new();
    let ctx = w.ctx(at(4));
    let c = w
        .claimed()
        .propose_embargo(
            &ctx,
            w.user(MAINTAINER),
            pid(1),
            days(30),
            "slow release train",
        )
        .unwrap()
        .case
        .propose_embargo(
            &ctx,
            w.user(EXPERT_A),
            pid(2),
            days(7),
            "exploit is trivial",
        )
        .unwrap()
        .case;
    assert_eq!(c.embargo.winning_proposal().unwrap().id, pid(2));
    let active = c.approve_embargo(&ctx, w.user(COORD_Y)).unwrap();
    assert_eq!(kinds(&active), ["embargo-approved"]);
    assert_eq!(active.case.embargo.active_until, Some(days(7)));
}

#[test]
fn embargo_rights_are_checked() {
    let w = World::new();
    let c = w.claimed();
    let ctx = w.ctx(at(4));
    assert!(matches!(
        c.propose_embargo(&ctx, w.user(EXPERT_B), pid(1), days(3), "r")
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    let proposed = c
        .propose_embargo(&ctx, w.user(COORD_X), pid(1), days(3), "r")
        .unwrap()
        .case;
    assert!(matches!(
        proposed
            .approve_embargo(&ctx, w.user(MAINTAINER))
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert_eq!(
        proposed.approve_embargo(&ctx, w.user(COORD_X)).unwrap_err(),
        CaseError::Embargo(EmbargoError::SelfApproval)
    );
    assert!(matches!(
        proposed.reject_embargo(&ctx, w.user(EXPERT_A)).unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
}

#[test]
fn no_embargo_may_reach_past_the_grace_deadline() {
    let w = World::new();
    let err = w
        .claimed()
        .propose_embargo(&w.ctx(at(4)), w.user(MAINTAINER), pid(1), days(91), "r")
        .unwrap_err();
    assert_eq!(
        err,
        CaseError::Embargo(EmbargoError::BeyondGrace {
            until: days(91),
            deadline: days(90)
        })
    );
}

#[test]
fn an_embargo_ends_as_soon_as_the_content_is_public_elsewhere() {
    let w = World::new();
    let c = w
        .decided()
        .propose_embargo(&w.ctx(at(5)), w.user(MAINTAINER), pid(1), days(30), "r")
        .unwrap()
        .case
        .approve_embargo(&w.ctx(at(6)), w.user(COORD_X))
        .unwrap()
        .case;
    assert_eq!(c.publication_date(&w.policy), Some(days(30)));
    let t = c
        .end_embargo(
            &w.ctx(days(2)),
            Actor::System,
            EmbargoEndReason::PublicElsewhere,
        )
        .unwrap();
    assert_eq!(kinds(&t), ["embargo-ended"]);
    assert_eq!(t.case.embargo.state, EmbargoState::Ended);
    assert_eq!(t.case.publication_date(&w.policy), Some(at(5)));
    assert!(t.case.publish(&w.ctx(days(2)), Actor::System).is_ok());
}

#[test]
fn ending_an_embargo_checks_the_reason_and_who_asks() {
    let w = World::new();
    let c = w
        .claimed()
        .propose_embargo(&w.ctx(at(4)), w.user(MAINTAINER), pid(1), days(5), "r")
        .unwrap()
        .case
        .approve_embargo(&w.ctx(at(4)), w.user(COORD_X))
        .unwrap()
        .case;
    let ctx = w.ctx(at(5));
    assert!(matches!(
        c.end_embargo(&ctx, Actor::System, EmbargoEndReason::Published)
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.end_embargo(&ctx, Actor::System, EmbargoEndReason::Withdrawn)
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.end_embargo(
            &ctx,
            Actor::User(w.user(EXPERT_A)),
            EmbargoEndReason::Withdrawn
        )
        .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(
        c.end_embargo(
            &ctx,
            Actor::User(w.user(CO_MAINTAINER)),
            EmbargoEndReason::Withdrawn
        )
        .is_ok()
    );
    assert_eq!(
        c.end_embargo(&ctx, Actor::System, EmbargoEndReason::Expired)
            .unwrap_err(),
        CaseError::Embargo(EmbargoError::NotExpired { until: days(5) })
    );
    assert!(
        c.end_embargo(&w.ctx(days(5)), Actor::System, EmbargoEndReason::Expired)
            .is_ok()
    );
}

#[test]
fn a_case_nobody_decides_publishes_when_the_grace_period_runs_out() {
    let w = World::new();
    let c = w.assessed(Verdict::Suspicious);
    assert_eq!(c.grace_deadline(&w.policy), days(90));
    assert_eq!(c.publication_date(&w.policy), Some(days(90)));
    assert_eq!(
        c.publish(&w.ctx(days(90) - Duration::seconds(1)), Actor::System)
            .unwrap_err(),
        CaseError::NotYetPublishable {
            publishes_at: days(90)
        }
    );
    let t = c.publish(&w.ctx(days(90)), Actor::System).unwrap();
    assert_eq!(t.case.status, CaseStatus::Published);
    assert!(matches!(
        t.events.last().unwrap().change,
        CaseEvent::CasePublished {
            grace_expired: true
        }
    ));
    // Even one never triaged publishes.
    assert!(
        w.received()
            .publish(&w.ctx(days(90)), Actor::System)
            .is_ok()
    );
}

#[test]
fn the_grace_period_comes_from_the_policy() {
    let mut w = World::new();
    w.policy.max_grace = Duration::days(30);
    let c = w.triaged();
    assert_eq!(c.grace_deadline(&w.policy), days(30));
    assert!(matches!(
        c.propose_embargo(&w.ctx(at(2)), w.user(MAINTAINER), pid(1), days(31), "r")
            .unwrap_err(),
        CaseError::Embargo(EmbargoError::BeyondGrace { .. })
    ));
}

#[test]
fn a_decision_after_the_grace_deadline_does_not_delay_publication() {
    let w = World::new();
    let c = w
        .claimed()
        .decide(
            &w.ctx(days(95)),
            w.user(MAINTAINER),
            DecisionOutcome::Merged,
            "",
        )
        .unwrap()
        .case;
    assert_eq!(c.publication_date(&w.policy), Some(days(90)));
}

#[test]
fn a_grace_extension_needs_two_different_coordinators_and_is_public_throughout() {
    let w = World::new();
    let c = w.claimed();
    let ctx = w.ctx(days(10));
    let requested = c
        .request_grace_extension(
            &ctx,
            w.user(MAINTAINER),
            gid(1),
            30,
            "distro backports need time",
        )
        .unwrap();
    assert_eq!(kinds(&requested), ["grace-extension-requested"]);
    assert!(requested.events.iter().all(DomainEvent::is_public));
    assert_eq!(requested.case.grace_deadline(&w.policy), days(90));

    let first = requested
        .case
        .approve_grace_extension(&ctx, w.user(COORD_X), gid(1))
        .unwrap();
    assert_eq!(kinds(&first), ["grace-extension-approved"]);
    assert_eq!(first.case.grace_deadline(&w.policy), days(90));
    assert_eq!(
        first
            .case
            .approve_grace_extension(&ctx, w.user(COORD_X), gid(1))
            .unwrap_err(),
        CaseError::DuplicateApproval
    );
    assert!(matches!(
        first
            .case
            .approve_grace_extension(&ctx, w.user(ADMIN), gid(1))
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));

    let second = first
        .case
        .approve_grace_extension(&ctx, w.user(COORD_Y), gid(1))
        .unwrap();
    assert_eq!(
        kinds(&second),
        ["grace-extension-approved", "grace-extended"]
    );
    assert!(second.events.iter().all(DomainEvent::is_public));
    assert_eq!(second.case.grace_deadline(&w.policy), days(120));
    assert_eq!(second.case.publication_date(&w.policy), Some(days(120)));
    assert_eq!(
        second
            .case
            .approve_grace_extension(&ctx, w.user(COORD_X), gid(1))
            .unwrap_err(),
        CaseError::ExtensionGranted(gid(1))
    );
    // The stub shows the extension, so the later date is explained in public.
    let stub = second.case.public_stub(&w.policy);
    assert_eq!(stub.publishes_at, Some(days(120)));
    assert_eq!(stub.grace_extensions.len(), 1);
    assert!(stub.grace_extensions[0].is_public());
    // And an embargo may now reach further.
    assert!(
        second
            .case
            .propose_embargo(&ctx, w.user(MAINTAINER), pid(1), days(110), "r")
            .is_ok()
    );
}

#[test]
fn grace_extension_requests_are_bounded() {
    let w = World::new();
    let c = w.claimed();
    let ctx = w.ctx(days(10));
    assert!(matches!(
        c.request_grace_extension(&ctx, w.user(EXPERT_A), gid(1), 30, "r")
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.request_grace_extension(&ctx, w.user(COORD_X), gid(1), 0, "r")
            .unwrap_err(),
        CaseError::Invalid(_)
    ));
    assert!(matches!(
        c.request_grace_extension(&ctx, w.user(COORD_X), gid(1), 91, "r")
            .unwrap_err(),
        CaseError::Invalid(_)
    ));
    let pending = c
        .request_grace_extension(&ctx, w.user(COORD_X), gid(1), 10, "r")
        .unwrap()
        .case;
    assert_eq!(
        pending
            .request_grace_extension(&ctx, w.user(COORD_Y), gid(2), 10, "r")
            .unwrap_err(),
        CaseError::ExtensionPending(gid(1))
    );
    assert_eq!(
        pending
            .approve_grace_extension(&ctx, w.user(COORD_Y), gid(9))
            .unwrap_err(),
        CaseError::UnknownExtension(gid(9))
    );
    // Too late: the deadline passed; the case must publish.
    assert_eq!(
        c.request_grace_extension(&w.ctx(days(90)), w.user(COORD_X), gid(1), 10, "r")
            .unwrap_err(),
        CaseError::GraceDeadlinePassed { deadline: days(90) }
    );
    assert!(matches!(
        pending
            .approve_grace_extension(&w.ctx(days(90)), w.user(COORD_Y), gid(1))
            .unwrap_err(),
        CaseError::GraceDeadlinePassed { .. }
    ));
}

#[test]
fn while_sealed_the_public_sees_only_existence_subgroup_and_date() {
    let w = World::new();
    let c = w.assessed(Verdict::Malicious);
    match c.public_view(&w.policy) {
        PublicCaseView::Sealed(stub) => {
            assert_eq!(
                stub,
                PublicCaseStub {
                    id: c.id,
                    subgroups: vec![w.rust()],
                    publishes_at: Some(days(90)),
                    grace_extensions: vec![],
                }
            );
            let json = serde_json::to_string(&stub).unwrap();
            for secret in ["Mallory", "tarball", "build.rs", "widget", "aaa..bbb"] {
                assert!(!json.contains(secret), "stub leaks {secret}: {json}");
            }
        }
        PublicCaseView::Published(_) => panic!("a sealed case must not publish"),
    }
}

#[test]
fn after_publication_the_public_sees_everything_not_labelled_red() {
    let w = World::new();
    let mut c = w.decided();
    c.assessments.push(Assessment {
        id: aid(2),
        tlp: TlpLabel::Red,
        ..c.assessments[0].clone()
    });
    let published = c.publish(&w.ctx(at(6)), Actor::System).unwrap().case;
    match published.public_view(&w.policy) {
        PublicCaseView::Published(p) => {
            assert_eq!(
                p.assessments.iter().map(|a| a.id).collect::<Vec<_>>(),
                [aid(1)]
            );
            assert_eq!(p.published_at, at(6));
            assert_eq!(p.decision.unwrap().outcome, DecisionOutcome::Merged);
        }
        PublicCaseView::Sealed(_) => panic!("published case must be visible"),
    }
}

mod properties {
    use proptest::prelude::*;
    use sx_domain::*;
    use time::Duration;

    use crate::fixtures::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// With competing proposals (by maintainer, expert, coordinator) approved by another
        /// coordinator, a decided case publishes at max(decision, shortest proposal), never
        /// past the grace deadline.
        #[test]
        fn publication_is_the_later_of_decision_and_the_shortest_proposal(
            proposal_days in proptest::collection::vec(1i64..90, 1..4),
            decided_after_hours in 5i64..(24 * 100),
        ) {
            let w = World::new();
            let proposers = [MAINTAINER, EXPERT_A, COORD_Y];
            let mut c = w.claimed();
            for (i, d) in proposal_days.iter().enumerate() {
                c = c
                    .propose_embargo(&w.ctx(at(3)), w.user(proposers[i % 3]), pid(i as u128), T0 + Duration::days(*d), "r")
                    .unwrap()
                    .case;
            }
            let c = c.approve_embargo(&w.ctx(at(4)), w.user(COORD_X)).unwrap().case;
            let shortest = T0 + Duration::days(*proposal_days.iter().min().unwrap());
            prop_assert_eq!(c.embargo.active_until, Some(shortest));
            let decided_at = at(decided_after_hours);
            let c = c.decide(&w.ctx(decided_at), w.user(MAINTAINER), DecisionOutcome::Rejected, "").unwrap().case;
            let expected = decided_at.max(shortest).min(T0 + Duration::days(90));
            prop_assert_eq!(c.publication_date(&w.policy), Some(expected));
            prop_assert!(c.publish(&w.ctx(expected - Duration::seconds(1)), Actor::System).is_err());
            prop_assert!(c.publish(&w.ctx(expected), Actor::System).is_ok());
        }
    }
}
