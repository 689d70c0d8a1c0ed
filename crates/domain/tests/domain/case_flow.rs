//! The case's main path, triage outcomes, and refusals of illegal commands.

use sx_domain::*;

use crate::fixtures::*;

#[test]
fn a_forwarded_change_starts_received_amber_strict_with_the_submitter_named() {
    let w = World::new();
    let t = Case::receive(&w.ctx(T0), w.user(MAINTAINER), w.new_case(1)).unwrap();
    assert_eq!(t.case.status, CaseStatus::Received);
    assert_eq!(t.case.tlp, TlpLabel::AmberStrict);
    assert_eq!(t.case.received_at, T0);
    assert!(t.case.is_named(w.user(MAINTAINER).id));
    assert_eq!(kinds(&t), ["case-received", "participant-added"]);
}

#[test]
fn only_a_maintainer_of_the_project_can_forward_a_change() {
    let w = World::new();
    let err = Case::receive(&w.ctx(T0), w.user(EXPERT_A), w.new_case(1)).unwrap_err();
    assert!(matches!(err, CaseError::NotAllowed { .. }));
}

#[test]
fn an_invalid_submission_is_refused_before_anything_happens() {
    let w = World::new();
    let mut new = w.new_case(1);
    new.source.pull_request_url = None;
    assert!(matches!(
        Case::receive(&w.ctx(T0), w.user(MAINTAINER), new).unwrap_err(),
        CaseError::Invalid(_)
    ));
}

#[test]
fn the_happy_path_goes_received_triaged_claimed_assessed_decided_published() {
    let w = World::new();
    let case = w.received();
    let triaged = case
        .triage(
            &w.ctx(at(1)),
            Actor::System,
            TriageOutcome::NeedsExpert,
            "touches build.rs",
            &[w.rust()],
        )
        .unwrap();
    assert_eq!(triaged.case.status, CaseStatus::Triaged);
    assert_eq!(triaged.case.subgroups, [w.rust()]);
    assert_eq!(triaged.case.read_in_rules.len(), 1);
    assert_eq!(kinds(&triaged), ["case-triaged", "subgroup-read-in"]);

    let claimed = triaged.case.claim(&w.ctx(at(2)), w.user(EXPERT_A)).unwrap();
    assert_eq!(claimed.case.status, CaseStatus::Claimed);
    assert_eq!(claimed.case.first_claimed_at, Some(at(2)));
    assert_eq!(kinds(&claimed), ["case-claimed", "participant-added"]);

    let assessed = claimed
        .case
        .submit_assessment(
            &w.ctx(at(3)),
            w.user(EXPERT_A),
            aid(1),
            rid(1),
            body(Verdict::Benign),
        )
        .unwrap();
    assert_eq!(assessed.case.status, CaseStatus::Assessed);
    assert_eq!(assessed.case.first_assessed_at, Some(at(3)));
    assert_eq!(
        kinds(&assessed),
        [
            "assessment-started",
            "assessment-submitted",
            "verdict-changed"
        ]
    );
    let verdict = assessed.case.effective_verdict().unwrap();
    assert_eq!(
        (verdict.verdict, verdict.finality),
        (Verdict::Benign, Finality::Final)
    );

    let decided = assessed
        .case
        .decide(
            &w.ctx(at(5)),
            w.user(MAINTAINER),
            DecisionOutcome::Merged,
            "",
        )
        .unwrap();
    assert_eq!(decided.case.status, CaseStatus::Decided);
    assert_eq!(decided.case.publication_date(&w.policy), Some(at(5)));

    let published = decided.case.publish(&w.ctx(at(5)), Actor::System).unwrap();
    assert_eq!(published.case.status, CaseStatus::Published);
    assert_eq!(published.case.tlp, TlpLabel::Clear);
    assert!(
        published
            .case
            .assessments
            .iter()
            .all(|a| a.tlp == TlpLabel::Clear)
    );
    assert_eq!(kinds(&published), ["embargo-ended", "case-published"]);
    assert!(published.events.last().unwrap().is_public());
}

#[test]
fn triage_outcomes_other_than_needs_expert_close_the_case_with_the_reason() {
    let w = World::new();
    for outcome in [
        TriageOutcome::NotSecurity,
        TriageOutcome::Duplicate,
        TriageOutcome::Invalid,
    ] {
        let t = w
            .received()
            .triage(
                &w.ctx(at(1)),
                Actor::User(w.user(COORD_X)),
                outcome,
                "see case 12",
                &[],
            )
            .unwrap();
        assert_eq!(t.case.status, CaseStatus::Closed);
        let triage = t.case.triage.as_ref().unwrap();
        assert_eq!(
            (triage.outcome, triage.reason.as_str()),
            (outcome, "see case 12")
        );
        assert!(t.case.subgroups.is_empty());
        assert_eq!(
            t.case.sla(&w.policy.sla, at(30)).status,
            SlaStatus::NotApplicable
        );
    }
}

#[test]
fn closed_cases_publish_at_closing_but_invalid_ones_never_do() {
    let w = World::new();
    let closed = w
        .received()
        .triage(
            &w.ctx(at(1)),
            Actor::System,
            TriageOutcome::NotSecurity,
            "a docs change",
            &[],
        )
        .unwrap()
        .case;
    assert_eq!(closed.publication_date(&w.policy), Some(at(1)));
    assert_eq!(
        closed
            .publish(&w.ctx(at(1)), Actor::System)
            .unwrap()
            .case
            .status,
        CaseStatus::Published
    );

    let invalid = w
        .received()
        .triage(
            &w.ctx(at(1)),
            Actor::System,
            TriageOutcome::Invalid,
            "spam",
            &[],
        )
        .unwrap()
        .case;
    assert_eq!(invalid.publication_date(&w.policy), None);
    assert_eq!(
        invalid
            .publish(&w.ctx(at(24 * 365)), Actor::System)
            .unwrap_err(),
        CaseError::NeverPublished
    );
    assert_eq!(invalid.public_stub(&w.policy).publishes_at, None);
}

#[test]
fn triage_needs_a_reason_a_known_subgroup_and_a_coordinator_or_automation() {
    let w = World::new();
    let c = w.received();
    let ctx = w.ctx(at(1));
    assert!(matches!(
        c.triage(
            &ctx,
            Actor::System,
            TriageOutcome::NeedsExpert,
            "",
            &[w.rust()]
        )
        .unwrap_err(),
        CaseError::Invalid(_)
    ));
    assert_eq!(
        c.triage(&ctx, Actor::System, TriageOutcome::NeedsExpert, "r", &[])
            .unwrap_err(),
        CaseError::NoSubgroups
    );
    let unknown = SubgroupId::from_uuid(uid(999));
    assert_eq!(
        c.triage(
            &ctx,
            Actor::System,
            TriageOutcome::NeedsExpert,
            "r",
            &[unknown]
        )
        .unwrap_err(),
        CaseError::UnknownSubgroup(unknown)
    );
    assert!(matches!(
        c.triage(
            &ctx,
            Actor::User(w.user(EXPERT_A)),
            TriageOutcome::NeedsExpert,
            "r",
            &[w.rust()]
        )
        .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    let twice = c
        .triage(
            &ctx,
            Actor::System,
            TriageOutcome::NeedsExpert,
            "r",
            &[w.rust()],
        )
        .unwrap()
        .case;
    assert!(matches!(
        twice
            .triage(
                &ctx,
                Actor::System,
                TriageOutcome::NeedsExpert,
                "r",
                &[w.rust()]
            )
            .unwrap_err(),
        CaseError::Transition(CaseTransitionError {
            from: CaseStatus::Triaged,
            action: CaseAction::TriageNeedsExpert,
            ..
        })
    ));
}

#[test]
fn duplicate_subgroups_in_triage_are_routed_once() {
    let w = World::new();
    let t = w
        .received()
        .triage(
            &w.ctx(at(1)),
            Actor::System,
            TriageOutcome::NeedsExpert,
            "r",
            &[w.rust(), w.python(), w.rust()],
        )
        .unwrap();
    assert_eq!(t.case.subgroups, [w.rust(), w.python()]);
    assert_eq!(t.case.read_in_rules.len(), 2);
}

#[test]
fn commands_out_of_order_are_refused_with_the_state_and_action() {
    let w = World::new();
    let received = w.received();
    let ctx = w.ctx(at(1));
    assert!(matches!(
        received.claim(&ctx, w.user(EXPERT_A)).unwrap_err(),
        CaseError::Transition(CaseTransitionError {
            from: CaseStatus::Received,
            action: CaseAction::Claim,
            ..
        })
    ));
    assert!(matches!(
        received
            .decide(&ctx, w.user(MAINTAINER), DecisionOutcome::Merged, "")
            .unwrap_err(),
        CaseError::Transition(CaseTransitionError {
            from: CaseStatus::Received,
            action: CaseAction::Decide,
            ..
        })
    ));
    let decided = w.decided();
    assert!(matches!(
        decided.claim(&w.ctx(at(6)), w.user(EXPERT_B)).unwrap_err(),
        CaseError::Transition(_)
    ));
    assert!(matches!(
        decided
            .add_revision(
                &w.ctx(at(6)),
                Actor::System,
                Revision::new("aaa", "ccc").unwrap()
            )
            .unwrap_err(),
        CaseError::Transition(_)
    ));
    let published = decided.publish(&w.ctx(at(6)), Actor::System).unwrap().case;
    assert!(matches!(
        published.publish(&w.ctx(at(7)), Actor::System).unwrap_err(),
        CaseError::Transition(_)
    ));
    assert!(matches!(
        published
            .decide(
                &w.ctx(at(7)),
                w.user(MAINTAINER),
                DecisionOutcome::Rejected,
                ""
            )
            .unwrap_err(),
        CaseError::Transition(_)
    ));
}

#[test]
fn a_maintainer_may_decide_without_any_assessment() {
    let w = World::new();
    let t = w
        .triaged()
        .decide(
            &w.ctx(at(2)),
            w.user(CO_MAINTAINER),
            DecisionOutcome::Rejected,
            "",
        )
        .unwrap();
    assert_eq!(t.case.status, CaseStatus::Decided);
    assert_eq!(t.case.sla(&w.policy.sla, at(30)).status, SlaStatus::Stopped);
}

#[test]
fn only_the_projects_maintainers_decide_and_other_needs_a_note() {
    let w = World::new();
    let c = w.assessed(Verdict::Suspicious);
    let ctx = w.ctx(at(5));
    assert!(matches!(
        c.decide(&ctx, w.user(EXPERT_A), DecisionOutcome::Merged, "")
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.decide(&ctx, w.user(COORD_X), DecisionOutcome::Merged, "")
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert_eq!(
        c.decide(&ctx, w.user(MAINTAINER), DecisionOutcome::Other, " ")
            .unwrap_err(),
        CaseError::Invalid(ValidationError::Empty {
            field: "decision note"
        })
    );
    let d = c
        .decide(
            &ctx,
            w.user(MAINTAINER),
            DecisionOutcome::Other,
            "forked the project instead",
        )
        .unwrap();
    assert_eq!(d.case.decision.unwrap().note, "forked the project instead");
}

#[test]
fn a_command_with_another_projects_context_is_refused() {
    let w = World::new();
    let ctx = CaseContext {
        project: &w.other_project,
        subgroups: &w.subgroups,
        policy: &w.policy,
        now: at(2),
    };
    assert!(matches!(
        w.triaged().claim(&ctx, w.user(EXPERT_A)).unwrap_err(),
        CaseError::WrongProject { .. }
    ));
}

#[test]
fn a_refused_command_leaves_the_case_untouched() {
    let w = World::new();
    let before = w.triaged();
    let copy = before.clone();
    let _ = before.claim(&w.ctx(at(2)), w.user(CONFLICTED));
    assert_eq!(before, copy);
}

#[test]
fn every_event_carries_the_case_the_time_and_the_actor() {
    let w = World::new();
    let t = w.triaged().claim(&w.ctx(at(2)), w.user(EXPERT_A)).unwrap();
    for e in &t.events {
        assert_eq!(e.case_id, t.case.id);
        assert_eq!(e.at, at(2));
        assert_eq!(e.actor, Some(w.user(EXPERT_A).id));
    }
    assert_eq!(t.case.updated_at, at(2));
}

#[test]
fn a_report_can_be_attached_until_experts_start() {
    let w = World::new();
    let report = AutomatedReport {
        risk: RiskProbability::new(0.9).unwrap(),
        band: RiskBand::High,
        finding_ids: vec!["build-script-download".into()],
        tags: vec!["install-hook".into()],
        full: serde_json::json!({"findings": []}),
    };
    let t = w
        .received()
        .attach_report(&w.ctx(T0), report.clone())
        .unwrap();
    assert_eq!(kinds(&t), ["report-attached"]);
    assert_eq!(t.case.report.as_ref().unwrap().band, RiskBand::High);
    assert!(w.claimed().attach_report(&w.ctx(at(3)), report).is_err());
}

#[test]
fn participants_are_managed_by_maintainers_and_coordinators_and_experts_only_join_by_claiming() {
    let w = World::new();
    let c = w.claimed();
    let ctx = w.ctx(at(3));
    let added = c
        .add_participant(
            &ctx,
            w.user(MAINTAINER),
            w.user(STRANGER),
            ParticipantRole::InvitedHelper,
        )
        .unwrap();
    assert_eq!(kinds(&added), ["participant-added"]);
    assert_eq!(
        added
            .case
            .add_participant(
                &ctx,
                w.user(MAINTAINER),
                w.user(STRANGER),
                ParticipantRole::InvitedHelper
            )
            .unwrap_err(),
        CaseError::AlreadyParticipant
    );
    assert!(matches!(
        c.add_participant(
            &ctx,
            w.user(MAINTAINER),
            w.user(EXPERT_B),
            ParticipantRole::AssignedExpert
        )
        .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.add_participant(
            &ctx,
            w.user(MAINTAINER),
            w.user(STRANGER),
            ParticipantRole::Maintainer
        )
        .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.add_participant(
            &ctx,
            w.user(EXPERT_A),
            w.user(STRANGER),
            ParticipantRole::InvitedHelper
        )
        .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(
        c.add_participant(
            &ctx,
            w.user(COORD_X),
            w.user(COORD_Y),
            ParticipantRole::Coordinator
        )
        .is_ok()
    );

    let removed = added
        .case
        .remove_participant(&ctx, w.user(COORD_X), w.user(STRANGER).id)
        .unwrap();
    assert_eq!(kinds(&removed), ["participant-removed"]);
    assert!(!removed.case.is_named(w.user(STRANGER).id));
    assert!(matches!(
        c.remove_participant(&ctx, w.user(MAINTAINER), w.user(EXPERT_A).id)
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert!(matches!(
        c.remove_participant(&ctx, w.user(COORD_X), w.user(MAINTAINER).id)
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert_eq!(
        c.remove_participant(&ctx, w.user(MAINTAINER), w.user(STRANGER).id)
            .unwrap_err(),
        CaseError::NotParticipant
    );
}

#[test]
fn a_subgroup_can_be_read_in_once() {
    let w = World::new();
    let c = w.claimed();
    let ctx = w.ctx(at(3));
    let t = c
        .add_read_in_rule(&ctx, w.user(MAINTAINER), w.python())
        .unwrap();
    assert_eq!(kinds(&t), ["subgroup-read-in"]);
    assert_eq!(
        t.case
            .add_read_in_rule(&ctx, w.user(COORD_X), w.python())
            .unwrap_err(),
        CaseError::AlreadyReadIn(w.python())
    );
    assert!(matches!(
        c.add_read_in_rule(&ctx, w.user(EXPERT_A), w.python())
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
}

#[test]
fn an_expert_who_releases_their_claim_leaves_the_named_list_and_the_case_returns_to_the_queue() {
    let w = World::new();
    let triaged = w.triaged();
    let claimed = triaged.claim(&w.ctx(at(2)), w.user(EXPERT_A)).unwrap().case;
    let released = claimed.unclaim(&w.ctx(at(3)), w.user(EXPERT_A)).unwrap();
    assert_eq!(released.case.status, CaseStatus::Triaged);
    assert!(released.case.claims.is_empty());
    assert!(!released.case.is_named(w.user(EXPERT_A).id));
    assert_eq!(kinds(&released), ["case-unclaimed", "participant-removed"]);
    // The SLA still counts from the first claim; a second release has nothing to release.
    assert_eq!(released.case.first_claimed_at, Some(at(2)));
    assert_eq!(
        released
            .case
            .unclaim(&w.ctx(at(4)), w.user(EXPERT_A))
            .unwrap_err(),
        CaseError::NoClaimToRelease
    );
}

#[test]
fn a_claim_with_a_live_assessment_cannot_be_released_and_other_claims_keep_the_case_claimed() {
    let w = World::new();
    let claimed = w
        .triaged()
        .claim(&w.ctx(at(2)), w.user(EXPERT_A))
        .unwrap()
        .case;
    let both = claimed.claim(&w.ctx(at(2)), w.user(EXPERT_B)).unwrap().case;
    let released = both.unclaim(&w.ctx(at(3)), w.user(EXPERT_B)).unwrap();
    assert_eq!(released.case.status, CaseStatus::Claimed);
    assert!(released.case.is_assigned(w.user(EXPERT_A).id));
    let assessed = released
        .case
        .submit_assessment(
            &w.ctx(at(4)),
            w.user(EXPERT_A),
            aid(1),
            rid(1),
            body(Verdict::Benign),
        )
        .unwrap()
        .case;
    assert!(matches!(
        assessed
            .unclaim(&w.ctx(at(5)), w.user(EXPERT_A))
            .unwrap_err(),
        CaseError::ReleaseWithLiveAssessment { .. }
    ));
}
