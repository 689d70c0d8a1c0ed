use sx_domain::{
    Affiliation, AttackVector, CaseStatus, Comment, CommentId, Language, Sponsor, TlpLabel, User,
    Verdict, conflicts,
};
use sx_store::{PublishedFilter, QueueCursor, Store, StoreError};
use time::Duration;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    a_created_case_reads_back_identically_at_version_one,
    a_stale_case_update_fails_with_a_typed_conflict,
    a_case_needs_an_existing_project,
    the_expert_queue_holds_open_cases_of_the_experts_subgroups_by_deadline,
    the_expert_queue_pages_by_deadline_without_gaps_or_repeats,
    the_expert_queue_excludes_exactly_the_cases_the_domain_calls_conflicted,
    published_cases_filter_by_verdict_vector_ecosystem_and_date,
    comments_and_events_are_stored_in_order,
    open_cases_past_their_deadline_are_listed_for_escalation,
);

async fn a_created_case_reads_back_identically_at_version_one(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    s.create_case(&case, &[], t0()).await.unwrap();
    let got = s.get_case(case.id).await.unwrap().unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.value, case);
    assert!(
        s.get_case(sx_domain::CaseId(Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.create_case(&case, &[], t0()).await,
        Err(StoreError::Duplicate { .. })
    ));
    let by_pr = s
        .find_cases_by_pull_request(case.source.pull_request_url.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(by_pr.len(), 1);
    assert_eq!(s.list_project_cases(project.id, 10).await.unwrap().len(), 1);
}

async fn a_stale_case_update_fails_with_a_typed_conflict(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    s.create_case(&case, &[], t0()).await.unwrap();
    let mut first = s.get_case(case.id).await.unwrap().unwrap();
    let mut second = first.clone();
    first.value.status = CaseStatus::Triaged;
    assert_eq!(
        s.update_case(&first.value, first.version, &[], t0())
            .await
            .unwrap(),
        2
    );
    second.value.concern.text = "changed concurrently".into();
    let err = s
        .update_case(&second.value, second.version, &[], t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: "case",
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
    let now = s.get_case(case.id).await.unwrap().unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(now.value.status, CaseStatus::Triaged);
    let mut missing = case.clone();
    missing.id = sx_domain::CaseId(Uuid::new_v4());
    assert!(matches!(
        s.update_case(&missing, 1, &[], t0()).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_case_needs_an_existing_project(db: &TestDb) {
    let project = fixtures::project("ghost", "repo", vec![]);
    let case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    assert!(matches!(
        db.store.create_case(&case, &[], t0()).await,
        Err(StoreError::NotFound {
            entity: "project",
            ..
        })
    ));
}

async fn the_expert_queue_holds_open_cases_of_the_experts_subgroups_by_deadline(db: &TestDb) {
    let s = &db.store;
    let e = fixtures::expert("eve", vec![]);
    s.create_user(&e, None).await.unwrap();
    let mine = fixtures::subgroup("rust", vec![e.id]);
    let other = fixtures::subgroup("python", vec![]);
    s.create_subgroup(&mine).await.unwrap();
    s.create_subgroup(&other).await.unwrap();
    let (p, _) = fixtures::stored_project(s, "acme", "widget").await;
    let late = fixtures::case(
        &p,
        CaseStatus::Triaged,
        t0() + Duration::hours(2),
        vec![mine.id],
    );
    let early = fixtures::case(&p, CaseStatus::Claimed, t0(), vec![other.id, mine.id]);
    let not_mine = fixtures::case(&p, CaseStatus::Triaged, t0(), vec![other.id]);
    let closed = fixtures::case(&p, CaseStatus::Published, t0(), vec![mine.id]);
    let received = fixtures::case(&p, CaseStatus::Received, t0(), vec![mine.id]);
    for c in [&late, &early, &not_mine, &closed, &received] {
        s.create_case(c, &[], t0()).await.unwrap();
    }
    let q = s.expert_queue(&e, None, 10).await.unwrap();
    let ids: Vec<_> = q.iter().map(|i| i.case.value.id).collect();
    assert_eq!(ids, vec![early.id, late.id]);
    assert_eq!(q[0].sla_due, t0() + Duration::hours(24));
    // Leaving the subgroup empties the queue.
    let mut g = s.get_subgroup(mine.id).await.unwrap().unwrap();
    g.value.members.clear();
    s.update_subgroup(&g.value, g.version).await.unwrap();
    assert!(s.expert_queue(&e, None, 10).await.unwrap().is_empty());
    assert!(matches!(
        s.expert_queue(&e, None, 0).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn the_expert_queue_pages_by_deadline_without_gaps_or_repeats(db: &TestDb) {
    let s = &db.store;
    let e = fixtures::expert("eve", vec![]);
    s.create_user(&e, None).await.unwrap();
    let g = fixtures::subgroup("rust", vec![e.id]);
    s.create_subgroup(&g).await.unwrap();
    let (p, _) = fixtures::stored_project(s, "acme", "widget").await;
    let mut expected = Vec::new();
    for n in 0..7 {
        // Pairs share a deadline so the id tie-break matters.
        let c = fixtures::case(
            &p,
            CaseStatus::Triaged,
            t0() + Duration::minutes(n / 2),
            vec![g.id],
        );
        s.create_case(&c, &[], t0()).await.unwrap();
        expected.push((c.received_at, c.id));
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut after: Option<QueueCursor> = None;
    loop {
        let page = s.expert_queue(&e, after, 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().cursor());
        seen.extend(
            page.iter()
                .map(|i| (i.case.value.received_at, i.case.value.id)),
        );
    }
    assert_eq!(seen, expected);
}

async fn the_expert_queue_excludes_exactly_the_cases_the_domain_calls_conflicted(db: &TestDb) {
    let s = &db.store;
    let (acme, acme_maint) = fixtures::stored_project(s, "Acme", "Widget").await;
    let (beta, _) = fixtures::stored_project(s, "beta", "lib").await;
    let (gamma, _) = fixtures::stored_project(s, "@gamma", "tool").await;
    let mut experts: Vec<User> = vec![
        fixtures::expert("plain", vec![]),
        fixtures::expert(
            "org-tied",
            vec![Affiliation::Organization {
                name: "ACME".into(),
            }],
        ),
        fixtures::expert(
            "proj-tied",
            vec![Affiliation::Project {
                owner: "beta".into(),
                name: "LIB".into(),
            }],
        ),
        fixtures::expert(
            "person-tied",
            vec![Affiliation::Person {
                handle: "@Mallory".into(),
            }],
        ),
        fixtures::expert(
            "owner-person",
            vec![Affiliation::Person {
                handle: "gamma".into(),
            }],
        ),
        fixtures::expert("mallory", vec![]),
    ];
    let mut sponsored = fixtures::expert("sponsored", vec![]);
    sponsored.expert.as_mut().unwrap().sponsor = Some(Sponsor {
        organization: "beta".into(),
        time_share_percent: Some(20),
    });
    experts.push(sponsored);
    for e in &experts {
        s.create_user(e, None).await.unwrap();
    }
    // The acme maintainer is also an expert: maintainers never assess their own project.
    let mut maint = s.get_user(acme_maint.id).await.unwrap().unwrap();
    maint.user.roles.insert(sx_domain::Role::Expert);
    maint.user.expert = Some(Default::default());
    s.update_user(&maint.user, maint.version).await.unwrap();
    experts.push(maint.user.clone());
    let g = fixtures::subgroup("all", experts.iter().map(|e| e.id).collect());
    s.create_subgroup(&g).await.unwrap();
    let mut cases = Vec::new();
    for (n, (project, author)) in [
        (&acme, "someone"),
        (&beta, "someone"),
        (&gamma, "someone"),
        (&acme, "mallory"),
        (&beta, "MALLORY"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = fixtures::case(
            project,
            CaseStatus::Triaged,
            t0() + Duration::minutes(n as i64),
            vec![g.id],
        );
        c.source.author = Some(author.into());
        s.create_case(&c, &[], t0()).await.unwrap();
        cases.push((c, project.clone()));
    }
    // Affiliation changes after the case was stored still count (they are read at query time).
    for e in &experts {
        let got: Vec<_> = s
            .expert_queue(e, None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.case.value.id)
            .collect();
        let want: Vec<_> = cases
            .iter()
            .filter(|(c, p)| conflicts(e, p, c.source.author.as_deref()).is_empty())
            .map(|(c, _)| c.id)
            .collect();
        assert_eq!(
            got, want,
            "queue of {} disagrees with the domain's conflict rules",
            e.handle
        );
    }
    assert!(
        s.expert_queue(&experts[1], None, 50).await.unwrap().len() < cases.len(),
        "some case is excluded"
    );
}

async fn published_cases_filter_by_verdict_vector_ecosystem_and_date(db: &TestDb) {
    let s = &db.store;
    let (p, _) = fixtures::stored_project(s, "acme", "widget").await;
    let spec = sx_store::seed::SeedSpec::new(1, 1);
    let mut stored = Vec::new();
    for (n, (verdict, tags)) in [
        (Verdict::Malicious, vec!["rust", "ci"]),
        (Verdict::Benign, vec!["python", "ci"]),
        (Verdict::Malicious, vec!["python", "exfiltration"]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = fixtures::case(
            &p,
            CaseStatus::Published,
            t0() + Duration::days(n as i64),
            vec![],
        );
        let mut a = sx_store::seed::case(&spec, 0)
            .unwrap()
            .assessments
            .remove(0);
        a.case_id = c.id;
        a.id = sx_domain::AssessmentId(Uuid::new_v4());
        a.revision = c.revision.clone();
        a.body.as_mut().unwrap().verdict = verdict;
        c.assessments = vec![a];
        c.concern.tags = tags.into_iter().map(String::from).collect();
        s.create_case(&c, &[], t0()).await.unwrap();
        stored.push(c);
    }
    let unpublished = fixtures::case(&p, CaseStatus::Decided, t0(), vec![]);
    s.create_case(&unpublished, &[], t0()).await.unwrap();
    let ids = |v: Vec<sx_store::Versioned<sx_domain::Case>>| {
        v.into_iter().map(|c| c.value.id).collect::<Vec<_>>()
    };
    let all = PublishedFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        ids(s.list_published(&all).await.unwrap()),
        vec![stored[2].id, stored[1].id, stored[0].id]
    );
    let malicious = PublishedFilter {
        verdict: Some(Verdict::Malicious),
        ..all.clone()
    };
    assert_eq!(
        ids(s.list_published(&malicious).await.unwrap()),
        vec![stored[2].id, stored[0].id]
    );
    let ci = PublishedFilter {
        vector: Some(AttackVector::Ci),
        ..all.clone()
    };
    assert_eq!(
        ids(s.list_published(&ci).await.unwrap()),
        vec![stored[1].id, stored[0].id]
    );
    let py_bad = PublishedFilter {
        ecosystem: Some(Language::Python),
        verdict: Some(Verdict::Malicious),
        ..all.clone()
    };
    assert_eq!(
        ids(s.list_published(&py_bad).await.unwrap()),
        vec![stored[2].id]
    );
    let dated = PublishedFilter {
        published_from: stored[1].published_at,
        published_to: stored[2].published_at,
        ..all.clone()
    };
    assert_eq!(
        ids(s.list_published(&dated).await.unwrap()),
        vec![stored[1].id]
    );
    let first = s
        .list_published(&PublishedFilter {
            limit: 1,
            ..all.clone()
        })
        .await
        .unwrap();
    let cursor = sx_store::PublishedCursor {
        published_at: first[0].value.published_at.unwrap(),
        case_id: first[0].value.id,
    };
    let next = PublishedFilter {
        before: Some(cursor),
        limit: 1,
        ..all.clone()
    };
    assert_eq!(
        ids(s.list_published(&next).await.unwrap()),
        vec![stored[1].id]
    );
}

async fn comments_and_events_are_stored_in_order(db: &TestDb) {
    let s = &db.store;
    let (p, m) = fixtures::stored_project(s, "acme", "widget").await;
    let case = fixtures::case(&p, CaseStatus::Received, t0(), vec![]);
    let event = sx_domain::DomainEvent {
        case_id: case.id,
        at: t0(),
        actor: Some(m.id),
        change: sx_domain::CaseEvent::CaseReceived {
            project_id: p.id,
            revision: case.revision.clone(),
        },
    };
    s.create_case(&case, std::slice::from_ref(&event), t0())
        .await
        .unwrap();
    assert_eq!(
        s.list_case_events(case.id).await.unwrap(),
        vec![event.clone()]
    );
    let mut wrong = event.clone();
    wrong.case_id = sx_domain::CaseId(Uuid::new_v4());
    assert!(matches!(
        s.update_case(&case, 1, &[wrong], t0()).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        s.get_case(case.id).await.unwrap().unwrap().version,
        1,
        "the refused save changed nothing"
    );
    let mut comments = Vec::new();
    for n in 0..3 {
        let c = Comment {
            id: CommentId(Uuid::new_v4()),
            case_id: case.id,
            author: m.id,
            in_reply_to: None,
            body: format!("comment {n}"),
            tlp: TlpLabel::Red,
            recipients: vec![],
            created_at: t0() + Duration::seconds(n),
        };
        s.add_comment(&c, t0()).await.unwrap();
        comments.push(c);
    }
    assert_eq!(s.list_comments(case.id).await.unwrap(), comments);
    let export = s.export_log().await.unwrap();
    assert!(
        !serde_json::to_string(&export)
            .unwrap()
            .contains("comment 1")
    );
}

async fn open_cases_past_their_deadline_are_listed_for_escalation(db: &TestDb) {
    let s = &db.store;
    let (p, _) = fixtures::stored_project(s, "acme", "widget").await;
    let old = fixtures::case(&p, CaseStatus::Triaged, t0(), vec![]);
    let new = fixtures::case(&p, CaseStatus::Triaged, t0() + Duration::hours(10), vec![]);
    s.create_case(&old, &[], t0()).await.unwrap();
    s.create_case(&new, &[], t0()).await.unwrap();
    let due = s
        .list_open_cases(t0() + Duration::hours(25), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|i| i.case.value.id).collect::<Vec<_>>(),
        vec![old.id]
    );
}
