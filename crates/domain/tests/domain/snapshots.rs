//! Snapshots of the event stream of whole journeys, as the transparency log receives them.
//! Ids and times are fixed by the fixtures, so nothing needs redacting.

use sx_domain::*;
use time::Duration;

use crate::fixtures::*;

#[allow(
    clippy::unwrap_used,
    reason = "formatting a valid UTC time as RFC 3339 cannot fail"
)]
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn the_event_log_of_a_malicious_case_from_receipt_to_publication() {
    let w = World::new();
    let mut events = Vec::new();
    let mut step = |t: Transition| {
        events.extend(t.events);
        t.case
    };
    let c = step(Case::receive(&w.ctx(T0), w.user(MAINTAINER), w.new_case(1)).unwrap());
    let c = step(
        c.triage(
            &w.ctx(at(1)),
            Actor::System,
            TriageOutcome::NeedsExpert,
            "build.rs fetches",
            &[w.rust()],
        )
        .unwrap(),
    );
    let c = step(c.claim(&w.ctx(at(2)), w.user(EXPERT_A)).unwrap());
    let c = step(
        c.submit_assessment(
            &w.ctx(at(3)),
            w.user(EXPERT_A),
            aid(1),
            rid(1),
            body(Verdict::Malicious),
        )
        .unwrap(),
    );
    let c = step(
        c.submit_second_review(
            &w.ctx(at(4)),
            w.user(EXPERT_B),
            rid(1),
            Verdict::Malicious,
            "agree",
        )
        .unwrap(),
    );
    let c = step(
        c.propose_embargo(
            &w.ctx(at(5)),
            w.user(MAINTAINER),
            pid(1),
            T0 + Duration::days(7),
            "warn downstream",
        )
        .unwrap(),
    );
    let c = step(c.approve_embargo(&w.ctx(at(6)), w.user(COORD_X)).unwrap());
    let c = step(
        c.decide(
            &w.ctx(at(7)),
            w.user(MAINTAINER),
            DecisionOutcome::ReportedToForge,
            "account reported",
        )
        .unwrap(),
    );
    let c = step(
        c.publish(&w.ctx(T0 + Duration::days(7)), Actor::System)
            .unwrap(),
    );
    assert_eq!(c.status, CaseStatus::Published);
    let summary: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {}{}",
                rfc3339(e.at),
                e.kind(),
                if e.is_public() { " (public)" } else { "" }
            )
        })
        .collect();
    insta::assert_debug_snapshot!("malicious_case_kinds", summary);
    insta::assert_json_snapshot!("malicious_case_events", events);
}

#[test]
fn the_public_stub_json_shape() {
    let w = World::new();
    insta::assert_json_snapshot!("sealed_stub", w.claimed().public_stub(&w.policy));
}
