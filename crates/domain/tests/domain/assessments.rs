//! Claims, assessments per expert and revision, second reviews and the effective verdict.

use sx_domain::*;

use crate::fixtures::*;

#[test]
fn a_conflicted_expert_cannot_claim_and_the_error_says_why() {
    let w = World::new();
    match w
        .triaged()
        .claim(&w.ctx(at(2)), w.user(CONFLICTED))
        .unwrap_err()
    {
        CaseError::ConflictOfInterest { conflicts } => {
            assert_eq!(conflicts, [Conflict::AffiliatedWithOwner])
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_change_author_cannot_claim_even_in_another_letter_case() {
    let w = World::new();
    let mut mallory = w.user(EXPERT_B).clone();
    mallory.handle = "mALLORY".into();
    assert!(matches!(
        w.triaged().claim(&w.ctx(at(2)), &mallory).unwrap_err(),
        CaseError::ConflictOfInterest { .. }
    ));
    assert!(!w.triaged().is_eligible(&w.project, &mallory));
    assert!(w.triaged().is_eligible(&w.project, w.user(EXPERT_B)));
}

#[test]
fn experts_outside_the_routed_subgroups_cannot_claim_and_non_experts_never_can() {
    let w = World::new();
    let c = w.triaged();
    assert_eq!(
        c.claim(&w.ctx(at(2)), w.user(OUTSIDER_EXPERT)).unwrap_err(),
        CaseError::NotInSubgroup
    );
    assert!(matches!(
        c.claim(&w.ctx(at(2)), w.user(COORD_X)).unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
}

#[test]
fn several_experts_may_claim_but_nobody_twice() {
    let w = World::new();
    let c = w.claimed();
    assert_eq!(
        c.claim(&w.ctx(at(3)), w.user(EXPERT_A)).unwrap_err(),
        CaseError::AlreadyClaimed
    );
    let two = c.claim(&w.ctx(at(3)), w.user(EXPERT_B)).unwrap().case;
    assert_eq!(two.claims.len(), 2);
    assert_eq!(two.first_claimed_at, Some(at(2)));
    assert_eq!(two.status, CaseStatus::Claimed);
}

#[test]
fn only_a_claiming_expert_writes_an_assessment() {
    let w = World::new();
    let c = w.claimed();
    assert_eq!(
        c.submit_assessment(
            &w.ctx(at(3)),
            w.user(EXPERT_B),
            aid(2),
            rid(2),
            body(Verdict::Benign)
        )
        .unwrap_err(),
        CaseError::NotClaimed
    );
}

#[test]
fn a_draft_is_saved_then_submitted_under_the_same_id() {
    let w = World::new();
    let ctx = w.ctx(at(3));
    let mut draft = body(Verdict::Suspicious);
    draft.rationale = String::new();
    let saved = w
        .claimed()
        .save_assessment_draft(&ctx, w.user(EXPERT_A), aid(1), draft)
        .unwrap();
    assert_eq!(kinds(&saved), ["assessment-started"]);
    assert_eq!(saved.case.assessments[0].status, AssessmentStatus::Draft);
    assert_eq!(saved.case.status, CaseStatus::Claimed);
    assert_eq!(saved.case.effective_verdict(), None);

    let again = saved
        .case
        .save_assessment_draft(&ctx, w.user(EXPERT_A), aid(9), body(Verdict::Benign))
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(again.case.assessments.len(), 1);

    let incomplete = AssessmentBody {
        summary: String::new(),
        ..body(Verdict::Benign)
    };
    assert!(matches!(
        again
            .case
            .submit_assessment(&ctx, w.user(EXPERT_A), aid(9), rid(1), incomplete)
            .unwrap_err(),
        CaseError::Invalid(_)
    ));
    let submitted = again
        .case
        .submit_assessment(
            &ctx,
            w.user(EXPERT_A),
            aid(9),
            rid(1),
            body(Verdict::Benign),
        )
        .unwrap();
    assert_eq!(submitted.case.assessments.len(), 1);
    assert_eq!(submitted.case.assessments[0].id, aid(1));
    assert_eq!(
        submitted.case.assessments[0].status,
        AssessmentStatus::Submitted
    );
    assert_eq!(
        kinds(&submitted),
        ["assessment-submitted", "verdict-changed"]
    );
}

#[test]
fn an_expert_submits_once_per_revision() {
    let w = World::new();
    let c = w.assessed(Verdict::Benign);
    let ctx = w.ctx(at(4));
    assert_eq!(
        c.submit_assessment(
            &ctx,
            w.user(EXPERT_A),
            aid(2),
            rid(2),
            body(Verdict::Suspicious)
        )
        .unwrap_err(),
        CaseError::AlreadySubmitted {
            assessment_id: aid(1)
        }
    );
    assert_eq!(
        c.save_assessment_draft(&ctx, w.user(EXPERT_A), aid(2), body(Verdict::Suspicious))
            .unwrap_err(),
        CaseError::AlreadySubmitted {
            assessment_id: aid(1)
        }
    );
}

#[test]
fn withdrawing_the_only_assessment_sends_the_case_back_to_claimed() {
    let w = World::new();
    let c = w.assessed(Verdict::Benign);
    let ctx = w.ctx(at(4));
    assert_eq!(
        c.withdraw_assessment(&ctx, w.user(EXPERT_B), aid(1))
            .unwrap_err(),
        CaseError::NotYourAssessment(aid(1))
    );
    assert_eq!(
        c.withdraw_assessment(&ctx, w.user(EXPERT_A), aid(7))
            .unwrap_err(),
        CaseError::UnknownAssessment(aid(7))
    );
    let t = c
        .withdraw_assessment(&ctx, w.user(EXPERT_A), aid(1))
        .unwrap();
    assert_eq!(t.case.status, CaseStatus::Claimed);
    assert_eq!(t.case.assessments[0].status, AssessmentStatus::Withdrawn);
    assert_eq!(t.case.effective_verdict(), None);
    assert_eq!(kinds(&t), ["assessment-withdrawn", "verdict-changed"]);
    assert!(matches!(
        t.case
            .withdraw_assessment(&ctx, w.user(EXPERT_A), aid(1))
            .unwrap_err(),
        CaseError::AssessmentTransition(AssessmentTransitionError {
            from: AssessmentStatus::Withdrawn,
            action: AssessmentAction::Withdraw,
            ..
        })
    ));
    // A fresh assessment after withdrawal is allowed.
    let again = t
        .case
        .submit_assessment(
            &ctx,
            w.user(EXPERT_A),
            aid(2),
            rid(2),
            body(Verdict::Suspicious),
        )
        .unwrap();
    assert_eq!(again.case.status, CaseStatus::Assessed);
}

#[test]
fn withdrawing_one_of_two_assessments_keeps_the_case_assessed() {
    let w = World::new();
    let ctx = w.ctx(at(4));
    let c = w.assessed_twice(Verdict::Benign, Verdict::Benign);
    let t = c
        .withdraw_assessment(&ctx, w.user(EXPERT_A), aid(1))
        .unwrap();
    assert_eq!(t.case.status, CaseStatus::Assessed);
}

#[test]
fn new_commits_outdate_every_live_assessment_and_reopen_the_case() {
    let w = World::new();
    let ctx = w.ctx(at(4));
    let c = w
        .claimed_by_b(Verdict::Suspicious)
        .save_assessment_draft(&ctx, w.user(EXPERT_B), aid(2), body(Verdict::Benign))
        .unwrap()
        .case;
    let new_rev = Revision::new("aaa", "ccc").unwrap();
    assert!(matches!(
        c.add_revision(&ctx, Actor::User(w.user(EXPERT_A)), new_rev.clone())
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert_eq!(
        c.add_revision(&ctx, Actor::System, c.revision.clone())
            .unwrap_err(),
        CaseError::SameRevision(c.revision.clone())
    );
    let t = c
        .add_revision(&ctx, Actor::System, new_rev.clone())
        .unwrap();
    assert_eq!(t.case.revision, new_rev);
    assert_eq!(
        t.case.previous_revisions,
        [Revision::new("aaa", "bbb").unwrap()]
    );
    assert_eq!(t.case.status, CaseStatus::Claimed);
    assert!(
        t.case
            .assessments
            .iter()
            .all(|a| a.status == AssessmentStatus::Outdated)
    );
    assert_eq!(t.case.effective_verdict(), None);
    assert_eq!(
        kinds(&t),
        [
            "revision-added",
            "assessment-outdated",
            "assessment-outdated",
            "verdict-changed"
        ]
    );
    // The SLA was met by the first assessment; outdating does not reset it.
    assert_eq!(t.case.sla(&w.policy.sla, at(30)).status, SlaStatus::Met);
    // Experts can assess the new revision.
    let again = t
        .case
        .submit_assessment(
            &ctx,
            w.user(EXPERT_A),
            aid(3),
            rid(3),
            body(Verdict::Benign),
        )
        .unwrap()
        .case;
    assert_eq!(again.status, CaseStatus::Assessed);
    assert_eq!(again.current_submitted().count(), 1);
}

#[test]
fn a_malicious_verdict_is_preliminary_at_once_and_requests_a_second_review() {
    let w = World::new();
    let t = w
        .claimed()
        .submit_assessment(
            &w.ctx(at(3)),
            w.user(EXPERT_A),
            aid(1),
            rid(1),
            body(Verdict::Malicious),
        )
        .unwrap();
    assert_eq!(
        kinds(&t),
        [
            "assessment-started",
            "assessment-submitted",
            "second-review-requested",
            "verdict-changed"
        ]
    );
    let v = t.case.effective_verdict().unwrap();
    assert_eq!(
        (v.verdict, v.finality),
        (Verdict::Malicious, Finality::Preliminary)
    );
    assert_eq!(t.case.second_reviews.len(), 1);
    assert_eq!(t.case.second_reviews[0].requested_by, None);
    match &t.events[3].change {
        CaseEvent::VerdictChanged { verdict: Some(v) } => {
            assert_eq!(v.finality, Finality::Preliminary)
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_malicious_verdict_becomes_final_when_an_independent_second_expert_agrees() {
    let w = World::new();
    let c = w.assessed(Verdict::Malicious);
    let ctx = w.ctx(at(6));
    assert_eq!(
        c.submit_second_review(&ctx, w.user(EXPERT_A), rid(1), Verdict::Malicious, "")
            .unwrap_err(),
        CaseError::SecondReviewerIsAuthor
    );
    assert!(matches!(
        c.submit_second_review(&ctx, w.user(CONFLICTED), rid(1), Verdict::Malicious, "")
            .unwrap_err(),
        CaseError::ConflictOfInterest { .. }
    ));
    assert_eq!(
        c.submit_second_review(
            &ctx,
            w.user(OUTSIDER_EXPERT),
            rid(1),
            Verdict::Malicious,
            ""
        )
        .unwrap_err(),
        CaseError::NotInSubgroup
    );
    let t = c
        .submit_second_review(
            &ctx,
            w.user(EXPERT_B),
            rid(1),
            Verdict::Malicious,
            "confirmed: curl | sh",
        )
        .unwrap();
    assert_eq!(
        kinds(&t),
        [
            "second-review-submitted",
            "participant-added",
            "verdict-changed"
        ]
    );
    let v = t.case.effective_verdict().unwrap();
    assert_eq!(
        (v.verdict, v.finality),
        (Verdict::Malicious, Finality::Final)
    );
    assert_eq!(v.experts, [w.user(EXPERT_A).id, w.user(EXPERT_B).id]);
    assert_eq!(
        t.case
            .submit_second_review(&ctx, w.user(EXPERT_C), rid(1), Verdict::Malicious, "")
            .unwrap_err(),
        CaseError::SecondReviewClosed(rid(1))
    );
}

#[test]
fn a_disagreeing_second_review_keeps_malicious_preliminary() {
    let w = World::new();
    let t = w
        .assessed(Verdict::Malicious)
        .submit_second_review(
            &w.ctx(at(6)),
            w.user(EXPERT_B),
            rid(1),
            Verdict::Benign,
            "just a mirror URL",
        )
        .unwrap();
    assert!(matches!(
        t.events[0].change,
        CaseEvent::SecondReviewSubmitted { agrees: false, .. }
    ));
    let v = t.case.effective_verdict().unwrap();
    assert_eq!(
        (v.verdict, v.finality),
        (Verdict::Malicious, Finality::Preliminary)
    );
}

#[test]
fn two_independent_malicious_assessments_are_final_without_a_review() {
    let w = World::new();
    let ctx = w.ctx(at(4));
    let c = w.claimed_by_b(Verdict::Malicious);
    let t = c
        .submit_assessment(
            &ctx,
            w.user(EXPERT_B),
            aid(2),
            rid(2),
            body(Verdict::Malicious),
        )
        .unwrap();
    let v = t.case.effective_verdict().unwrap();
    assert_eq!(v.finality, Finality::Final);
    // No second automatic request: the verdict is already final.
    assert!(!kinds(&t).contains(&"second-review-requested"));
}

#[test]
fn the_most_severe_opinion_wins_and_a_pending_review_makes_any_verdict_preliminary() {
    let w = World::new();
    let ctx = w.ctx(at(4));
    let c = w.assessed_twice(Verdict::Benign, Verdict::Suspicious);
    let v = c.effective_verdict().unwrap();
    assert_eq!(
        (v.verdict, v.finality, v.experts.len()),
        (Verdict::Suspicious, Finality::Final, 1)
    );

    let asked = c
        .request_second_review(
            &ctx,
            w.user(MAINTAINER),
            rid(3),
            aid(2),
            "please double-check",
        )
        .unwrap();
    assert_eq!(
        kinds(&asked),
        ["second-review-requested", "verdict-changed"]
    );
    assert_eq!(
        asked.case.effective_verdict().unwrap().finality,
        Finality::Preliminary
    );
    assert_eq!(
        asked
            .case
            .request_second_review(&ctx, w.user(COORD_X), rid(4), aid(2), "again")
            .unwrap_err(),
        CaseError::SecondReviewPending(rid(3))
    );
    let done = asked
        .case
        .submit_second_review(&ctx, w.user(EXPERT_C), rid(3), Verdict::Suspicious, "agree")
        .unwrap()
        .case;
    assert_eq!(done.effective_verdict().unwrap().finality, Finality::Final);
}

#[test]
fn second_reviews_are_requested_only_by_involved_people_on_current_assessments() {
    let w = World::new();
    let c = w.assessed(Verdict::Suspicious);
    let ctx = w.ctx(at(4));
    assert!(matches!(
        c.request_second_review(&ctx, w.user(EXPERT_B), rid(2), aid(1), "why not")
            .unwrap_err(),
        CaseError::NotAllowed { .. }
    ));
    assert_eq!(
        c.request_second_review(&ctx, w.user(EXPERT_A), rid(2), aid(9), "r")
            .unwrap_err(),
        CaseError::UnknownAssessment(aid(9))
    );
    assert!(
        c.request_second_review(&ctx, w.user(EXPERT_A), rid(2), aid(1), "not sure")
            .is_ok()
    );
    let outdated = c
        .add_revision(&ctx, Actor::System, Revision::new("aaa", "ddd").unwrap())
        .unwrap()
        .case;
    assert_eq!(
        outdated
            .request_second_review(&ctx, w.user(EXPERT_A), rid(2), aid(1), "r")
            .unwrap_err(),
        CaseError::AssessmentNotCurrent(aid(1))
    );
}

#[test]
fn outdating_an_assessment_cancels_its_open_second_review() {
    let w = World::new();
    let t = w
        .assessed(Verdict::Malicious)
        .add_revision(
            &w.ctx(at(4)),
            Actor::System,
            Revision::new("aaa", "eee").unwrap(),
        )
        .unwrap();
    assert_eq!(
        t.case.second_reviews[0].status,
        SecondReviewStatus::Cancelled
    );
    assert!(kinds(&t).contains(&"second-review-cancelled"));
    assert_eq!(
        t.case
            .submit_second_review(
                &w.ctx(at(5)),
                w.user(EXPERT_B),
                rid(1),
                Verdict::Malicious,
                ""
            )
            .unwrap_err(),
        CaseError::SecondReviewClosed(rid(1))
    );
}

#[test]
fn a_conflict_declared_after_claiming_blocks_submission() {
    let w = World::new();
    let c = w.claimed();
    let mut now_tied = w.user(EXPERT_A).clone();
    if let Some(p) = now_tied.expert.as_mut() {
        p.affiliations.push(Affiliation::Project {
            owner: "ACME".into(),
            name: "Widget".into(),
        });
    }
    assert!(matches!(
        c.submit_assessment(
            &w.ctx(at(3)),
            &now_tied,
            aid(1),
            rid(1),
            body(Verdict::Benign)
        )
        .unwrap_err(),
        CaseError::ConflictOfInterest { .. }
    ));
}
