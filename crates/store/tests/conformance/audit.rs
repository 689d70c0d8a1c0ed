use std::collections::BTreeSet;

use sqlx::Executor as _;
use sx_domain::{AuditAction, AuditActor, AuditEvent, AuditTarget, Role};
use sx_store::{
    ApiToken, AuditFilter, AuditedChange, Invitation, SecretHash, Session, Store, StoreError,
};
use time::Duration;

use crate::fixtures::{self, now};
use crate::{Location, TestDb};

crate::conformance!(
    an_audited_change_and_its_record_commit_together_or_not_at_all,
    every_kind_of_audited_change_is_applied,
    audit_records_list_newest_first_by_page_actor_and_target,
    audit_records_cannot_be_changed_or_deleted,
);

fn event(actor: AuditActor, action: AuditAction, target: AuditTarget) -> AuditEvent {
    AuditEvent::new(actor, action, target, now()).detail("why", "test")
}

async fn an_audited_change_and_its_record_commit_together_or_not_at_all(db: &TestDb) {
    let s = &db.store;
    let admin = fixtures::user("root", &[Role::Admin]);
    s.create_user(&admin, None).await.unwrap();
    let alice = fixtures::user("alice", &[Role::Expert]);
    let created = event(
        AuditActor::Operator,
        AuditAction::UserCreated,
        AuditTarget::User(alice.id),
    )
    .detail("handle", "alice");
    let seq = s
        .apply_audited(
            &AuditedChange::CreateUser {
                user: &alice,
                password_hash: Some("$argon2id$v=19$..."),
            },
            &created,
        )
        .await
        .unwrap();
    let got = s.get_user(alice.id).await.unwrap().unwrap();
    assert_eq!(got.user, alice);
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$v=19$..."));
    let trail = s.list_audit(&AuditFilter::newest(10)).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].seq, seq);
    assert_eq!(trail[0].event, created, "read back exactly as written");

    // A refused change leaves no record behind.
    let clash = fixtures::user("ALICE", &[]);
    assert!(matches!(
        s.apply_audited(
            &AuditedChange::CreateUser {
                user: &clash,
                password_hash: None
            },
            &event(
                AuditActor::Operator,
                AuditAction::UserCreated,
                AuditTarget::User(clash.id)
            ),
        )
        .await,
        Err(StoreError::Duplicate { entity: "user", .. })
    ));
    let mut stale = alice.clone();
    stale.roles.insert(Role::Coordinator);
    s.update_user(&alice, 1).await.unwrap();
    assert!(matches!(
        s.apply_audited(
            &AuditedChange::UpdateUser {
                user: &stale,
                expected_version: 1
            },
            &event(
                AuditActor::User(admin.id),
                AuditAction::RoleGranted,
                AuditTarget::User(alice.id)
            ),
        )
        .await,
        Err(StoreError::Conflict { entity: "user", .. })
    ));
    let unknown = fixtures::user("ghost", &[]);
    assert!(matches!(
        s.apply_audited(
            &AuditedChange::SetUserDisabled {
                id: unknown.id,
                disabled: true
            },
            &event(
                AuditActor::User(admin.id),
                AuditAction::UserDisabled,
                AuditTarget::User(unknown.id)
            ),
        )
        .await,
        Err(StoreError::NotFound { .. })
    ));
    let trail = s.list_audit(&AuditFilter::newest(10)).await.unwrap();
    assert_eq!(
        trail.len(),
        1,
        "refused changes recorded nothing: {trail:?}"
    );
    assert!(
        !s.get_user(alice.id)
            .await
            .unwrap()
            .unwrap()
            .user
            .has_role(Role::Coordinator)
    );
}

async fn every_kind_of_audited_change_is_applied(db: &TestDb) {
    let s = &db.store;
    let admin = fixtures::user("root", &[Role::Admin]);
    let bob = fixtures::user("bob", &[Role::Expert]);
    s.create_user(&admin, None).await.unwrap();
    s.create_user(&bob, None).await.unwrap();
    let by = AuditActor::User(admin.id);
    let t = now();
    s.create_session(&Session {
        id_hash: SecretHash::of("bob-session"),
        user_id: bob.id,
        csrf_hash: SecretHash::of("c"),
        created_at: t,
        expires_at: t + Duration::hours(1),
    })
    .await
    .unwrap();

    // Roles.
    let mut granted = bob.clone();
    granted.roles.insert(Role::Coordinator);
    s.apply_audited(
        &AuditedChange::UpdateUser {
            user: &granted,
            expected_version: 1,
        },
        &event(by, AuditAction::RoleGranted, AuditTarget::User(bob.id)),
    )
    .await
    .unwrap();
    let got = s.get_user(bob.id).await.unwrap().unwrap();
    assert!(got.user.has_role(Role::Coordinator));
    assert_eq!(got.version, 2);

    // Disabling ends the sessions, as the plain method does.
    s.apply_audited(
        &AuditedChange::SetUserDisabled {
            id: bob.id,
            disabled: true,
        },
        &event(by, AuditAction::UserDisabled, AuditTarget::User(bob.id)),
    )
    .await
    .unwrap();
    assert!(s.get_user(bob.id).await.unwrap().unwrap().disabled);
    assert!(
        s.get_session(SecretHash::of("bob-session"), t)
            .await
            .unwrap()
            .is_none()
    );

    // Subgroups and their members.
    let group = fixtures::subgroup("rust", vec![]);
    s.apply_audited(
        &AuditedChange::CreateSubgroup(&group),
        &event(
            by,
            AuditAction::SubgroupCreated,
            AuditTarget::Subgroup(group.id),
        ),
    )
    .await
    .unwrap();
    let mut joined = group.clone();
    joined.members.push(bob.id);
    s.apply_audited(
        &AuditedChange::UpdateSubgroup {
            subgroup: &joined,
            expected_version: 1,
        },
        &event(by, AuditAction::MemberAdded, AuditTarget::User(bob.id)),
    )
    .await
    .unwrap();
    let stored = s.get_subgroup_by_slug("rust").await.unwrap().unwrap();
    assert_eq!(stored.value.members, vec![bob.id]);
    assert_eq!(s.subgroups_of_user(bob.id).await.unwrap().len(), 1);

    // Invitations.
    let invitation = Invitation {
        token_hash: SecretHash::of("invite"),
        email: "carol@example.org".into(),
        roles: BTreeSet::from([Role::Expert]),
        subgroup_id: Some(group.id),
        invited_by: Some(admin.id),
        created_at: t,
        expires_at: t + Duration::days(7),
        accepted_at: None,
        accepted_by: None,
    };
    s.apply_audited(
        &AuditedChange::CreateInvitation(&invitation),
        &event(by, AuditAction::InvitationCreated, AuditTarget::Invitation),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_invitation(SecretHash::of("invite")).await.unwrap(),
        Some(invitation)
    );

    // API tokens.
    let token = ApiToken {
        token_hash: SecretHash::of("sx_token"),
        user_id: admin.id,
        name: "deploy".into(),
        scopes: BTreeSet::new(),
        created_at: t,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    };
    s.apply_audited(
        &AuditedChange::CreateApiToken(&token),
        &event(
            AuditActor::Operator,
            AuditAction::TokenIssued,
            AuditTarget::User(admin.id),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s.list_api_tokens(admin.id).await.unwrap(), vec![token]);

    let actions: Vec<AuditAction> = s
        .list_audit(&AuditFilter::newest(10))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::TokenIssued,
            AuditAction::InvitationCreated,
            AuditAction::MemberAdded,
            AuditAction::SubgroupCreated,
            AuditAction::UserDisabled,
            AuditAction::RoleGranted,
        ]
    );
}

async fn audit_records_list_newest_first_by_page_actor_and_target(db: &TestDb) {
    let s = &db.store;
    let admin = fixtures::user("root", &[Role::Admin]);
    let ann = fixtures::user("ann", &[Role::Expert]);
    let ben = fixtures::user("ben", &[Role::Expert]);
    let mut seqs = Vec::new();
    for i in 0..7 {
        let (actor, target) = match i % 3 {
            0 => (AuditActor::Operator, AuditTarget::User(ann.id)),
            1 => (AuditActor::User(admin.id), AuditTarget::User(ben.id)),
            _ => (AuditActor::User(admin.id), AuditTarget::User(ann.id)),
        };
        let e = event(actor, AuditAction::RoleGranted, target).detail("n", i.to_string());
        seqs.push(s.append_audit(&e).await.unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let n = |records: &[sx_store::AuditRecord]| -> Vec<String> {
        records
            .iter()
            .map(|r| r.event.details["n"].clone())
            .collect()
    };

    // Pages of three, newest first, until the trail runs out.
    let mut filter = AuditFilter::newest(3);
    let mut pages = Vec::new();
    loop {
        let page = s.list_audit(&filter).await.unwrap();
        if page.is_empty() {
            break;
        }
        filter.before = page.last().map(|r| r.seq);
        pages.push(n(&page));
    }
    assert_eq!(
        pages,
        [vec!["6", "5", "4"], vec!["3", "2", "1"], vec!["0"]],
        "newest first, no record twice or skipped"
    );

    let only = |actor: Option<AuditActor>, target: Option<AuditTarget>| AuditFilter {
        actor,
        target,
        before: None,
        limit: 10,
    };
    let operator = s
        .list_audit(&only(Some(AuditActor::Operator), None))
        .await
        .unwrap();
    assert_eq!(n(&operator), ["6", "3", "0"]);
    let about_ben = s
        .list_audit(&only(None, Some(AuditTarget::User(ben.id))))
        .await
        .unwrap();
    assert_eq!(n(&about_ben), ["4", "1"]);
    let admin_on_ann = s
        .list_audit(&only(
            Some(AuditActor::User(admin.id)),
            Some(AuditTarget::User(ann.id)),
        ))
        .await
        .unwrap();
    assert_eq!(n(&admin_on_ann), ["5", "2"]);
    let nobody = s
        .list_audit(&only(Some(AuditActor::User(ben.id)), None))
        .await
        .unwrap();
    assert!(nobody.is_empty());

    for limit in [0, sx_store::MAX_PAGE + 1] {
        assert!(matches!(
            s.list_audit(&AuditFilter::newest(limit)).await,
            Err(StoreError::Invalid(_))
        ));
    }
}

async fn audit_records_cannot_be_changed_or_deleted(db: &TestDb) {
    let s = &db.store;
    let e = event(
        AuditActor::Operator,
        AuditAction::DatabaseSeeded,
        AuditTarget::Instance,
    );
    s.append_audit(&e).await.unwrap();
    let attempts = [
        "UPDATE audit_events SET actor = 'someone-else'",
        "DELETE FROM audit_events",
    ];
    for sql in attempts {
        let refused = match &db.location {
            Location::Sqlite { path } => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                let r = pool.execute(sql).await.map(drop);
                pool.close().await;
                r
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let mut conn = pool.acquire().await.unwrap();
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "SET search_path TO \"{schema}\""
                )))
                .await
                .unwrap();
                let r = conn.execute(sql).await.map(drop);
                drop(conn);
                pool.close().await;
                r
            }
        };
        let err = refused.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let trail = s.list_audit(&AuditFilter::newest(10)).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].event, e);
}
