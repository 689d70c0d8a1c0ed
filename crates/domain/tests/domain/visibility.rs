//! Visibility of real cases through `Case::relation_of` and `may_view`.

use sx_domain::*;

use crate::fixtures::*;

fn sees(w: &World, case: &Case, who: u128, object: &TlpObject) -> bool {
    may_view(&case.viewer(w.user(who), &w.project, &w.subgroups), object)
}

#[test]
fn a_sealed_case_is_seen_by_its_people_and_the_read_in_subgroup_minus_conflicts() {
    let w = World::new();
    let c = w.claimed();
    let o = c.tlp_object();
    for who in [MAINTAINER, CO_MAINTAINER, EXPERT_A, EXPERT_B, COORD_X] {
        assert!(sees(&w, &c, who, &o), "user {who} should see the case");
    }
    for who in [CONFLICTED, OUTSIDER_EXPERT, COORD_Y, ADMIN, STRANGER] {
        assert!(!sees(&w, &c, who, &o), "user {who} must not see the case");
    }
    assert!(!may_view(&Viewer::Anonymous, &o));
}

#[test]
fn a_conflicted_subgroup_member_has_no_subgroup_relation_at_all() {
    let w = World::new();
    let c = w.claimed();
    assert_eq!(
        c.relation_of(w.user(CONFLICTED), &w.project, &w.subgroups),
        CaseRelation::default()
    );
    let r = c.relation_of(w.user(EXPERT_B), &w.project, &w.subgroups);
    assert!(r.read_in_by_rule && r.subgroup_member && !r.assigned_expert && !r.named_participant);
    let a = c.relation_of(w.user(EXPERT_A), &w.project, &w.subgroups);
    assert!(a.assigned_expert && a.named_participant);
}

#[test]
fn without_a_read_in_rule_subgroup_members_and_coordinators_see_only_amber() {
    let w = World::new();
    let mut c = w.claimed();
    c.read_in_rules.clear();
    let strict = c.tlp_object();
    let amber = TlpObject {
        label: TlpLabel::Amber,
        case_label: TlpLabel::Amber,
        ..strict.clone()
    };
    for who in [EXPERT_B, COORD_X] {
        assert!(!sees(&w, &c, who, &strict));
        assert!(sees(&w, &c, who, &amber));
    }
    assert!(!sees(&w, &c, CONFLICTED, &amber));
    assert!(sees(&w, &c, EXPERT_A, &strict));
}

#[test]
fn red_comments_reach_named_recipients_only() {
    let w = World::new();
    let c = w.claimed();
    let comment = Comment {
        id: CommentId::from_uuid(uid(9000)),
        case_id: c.id,
        author: w.user(MAINTAINER).id,
        in_reply_to: None,
        body: "the author is my colleague, please keep this between us".into(),
        tlp: TlpLabel::Red,
        recipients: vec![w.user(EXPERT_A).id],
        created_at: at(3),
    };
    assert!(comment.validate().is_ok());
    let o = c.comment_object(&comment);
    assert!(sees(&w, &c, MAINTAINER, &o));
    assert!(sees(&w, &c, EXPERT_A, &o));
    for who in [CO_MAINTAINER, EXPERT_B, COORD_X, ADMIN] {
        assert!(
            !sees(&w, &c, who, &o),
            "user {who} must not see a RED comment"
        );
    }
}

#[test]
fn a_comment_marked_clear_on_a_sealed_case_only_opens_with_the_case() {
    let w = World::new();
    let c = w.decided();
    let comment = Comment {
        id: CommentId::from_uuid(uid(9001)),
        case_id: c.id,
        author: w.user(EXPERT_A).id,
        in_reply_to: None,
        body: "summary for the public".into(),
        tlp: TlpLabel::Clear,
        recipients: vec![],
        created_at: at(5),
    };
    assert!(!may_view(&Viewer::Anonymous, &c.comment_object(&comment)));
    let published = c.publish(&w.ctx(at(6)), Actor::System).unwrap().case;
    assert!(may_view(
        &Viewer::Anonymous,
        &published.comment_object(&comment)
    ));
    assert!(may_view(&Viewer::Anonymous, &published.tlp_object()));
    let red = Comment {
        tlp: TlpLabel::Red,
        ..comment
    };
    assert!(!may_view(
        &Viewer::Anonymous,
        &published.comment_object(&red)
    ));
}

#[test]
fn the_participant_list_is_visible_to_every_participant_and_nobody_else() {
    let w = World::new();
    let c = w.claimed();
    let list_visible =
        |who| may_view_participants(&c.viewer(w.user(who), &w.project, &w.subgroups));
    for who in [MAINTAINER, CO_MAINTAINER, EXPERT_A, EXPERT_B, COORD_X] {
        assert!(list_visible(who), "user {who}");
    }
    for who in [CONFLICTED, OUTSIDER_EXPERT, ADMIN, STRANGER] {
        assert!(!list_visible(who), "user {who}");
    }
}
