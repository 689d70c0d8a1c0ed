use std::collections::BTreeSet;

use sx_domain::Role;
use sx_store::{ApiToken, Invitation, SecretHash, Session, Store, StoreError};
use time::Duration;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    users_are_found_by_id_and_normalized_handle_and_handles_are_unique,
    a_stale_user_update_fails_with_a_conflict,
    api_tokens_authenticate_by_hash_until_revoked_or_expired,
    sessions_expire_and_disabling_a_user_logs_them_out,
    an_invitation_is_accepted_once_and_never_after_expiry,
    projects_are_unique_per_forge_host_and_name,
    subgroup_membership_is_stored_and_queried,
    every_user_is_listed_by_handle_with_its_state,
);

async fn every_user_is_listed_by_handle_with_its_state(db: &TestDb) {
    let s = &db.store;
    assert!(s.list_users().await.unwrap().is_empty());
    let zed = fixtures::user("zed", &[Role::Maintainer]);
    let amy = fixtures::user("Amy", &[Role::Expert]);
    s.create_user(&zed, None).await.unwrap();
    s.create_user(&amy, Some("$argon2id$v=19$..."))
        .await
        .unwrap();
    s.set_user_disabled(zed.id, true).await.unwrap();
    let all = s.list_users().await.unwrap();
    let handles: Vec<&str> = all.iter().map(|r| r.user.handle.as_str()).collect();
    assert_eq!(handles, ["Amy", "zed"], "ordered by normalized handle");
    assert_eq!(all[0].user, amy);
    assert!(!all[0].disabled && all[1].disabled);
    assert_eq!(all[0].version, 1);
}

async fn users_are_found_by_id_and_normalized_handle_and_handles_are_unique(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("Alice", &[Role::Expert, Role::Coordinator]);
    s.create_user(&u, Some("$argon2id$v=19$...")).await.unwrap();
    let got = s.get_user(u.id).await.unwrap().unwrap();
    assert_eq!(got.user, u);
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$v=19$..."));
    assert_eq!(got.version, 1);
    assert!(!got.disabled);
    assert_eq!(
        s.get_user_by_handle("@ALICE")
            .await
            .unwrap()
            .unwrap()
            .user
            .id,
        u.id
    );
    let clash = fixtures::user("alice", &[]);
    assert!(matches!(
        s.create_user(&clash, None).await,
        Err(StoreError::Duplicate { entity: "user", .. })
    ));
    s.set_password_hash(u.id, None).await.unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap().password_hash, None);
}

async fn a_stale_user_update_fails_with_a_conflict(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("bob", &[]);
    s.create_user(&u, None).await.unwrap();
    let mut a = s.get_user(u.id).await.unwrap().unwrap();
    let b = a.clone();
    a.user.display_name = "Robert".into();
    assert_eq!(s.update_user(&a.user, a.version).await.unwrap(), 2);
    assert!(matches!(
        s.update_user(&b.user, b.version).await,
        Err(StoreError::Conflict { entity: "user", .. })
    ));
    assert_eq!(
        s.get_user(u.id).await.unwrap().unwrap().user.display_name,
        "Robert"
    );
}

async fn api_tokens_authenticate_by_hash_until_revoked_or_expired(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("carol", &[Role::Maintainer]);
    s.create_user(&u, None).await.unwrap();
    let t = t0();
    let token = ApiToken {
        token_hash: SecretHash::of("sx_secret_1"),
        user_id: u.id,
        name: "ci".into(),
        scopes: BTreeSet::from(["submit".to_string()]),
        created_at: t,
        expires_at: Some(t + Duration::days(30)),
        last_used_at: None,
        revoked_at: None,
    };
    s.create_api_token(&token).await.unwrap();
    let (found, user) = s
        .authenticate_token(SecretHash::of("sx_secret_1"), t + Duration::days(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.user.id, u.id);
    assert_eq!(found.scopes, token.scopes);
    assert_eq!(found.last_used_at, Some(t + Duration::days(1)));
    // A use within the precision is not written again; a later one is.
    let (again, _) = s
        .authenticate_token(
            SecretHash::of("sx_secret_1"),
            t + Duration::days(1) + Duration::seconds(30),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.last_used_at, Some(t + Duration::days(1)));
    let (later, _) = s
        .authenticate_token(
            SecretHash::of("sx_secret_1"),
            t + Duration::days(1) + Duration::seconds(61),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        later.last_used_at,
        Some(t + Duration::days(1) + Duration::seconds(61))
    );
    assert!(
        s.authenticate_token(SecretHash::of("sx_secret_2"), t)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.authenticate_token(SecretHash::of("sx_secret_1"), t + Duration::days(31))
            .await
            .unwrap()
            .is_none()
    );
    let listed = s.list_api_tokens(u.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].last_used_at,
        Some(t + Duration::days(1) + Duration::seconds(61))
    );
    s.revoke_api_token(SecretHash::of("sx_secret_1"), t)
        .await
        .unwrap();
    assert!(
        s.authenticate_token(SecretHash::of("sx_secret_1"), t)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.revoke_api_token(SecretHash::of("sx_secret_1"), t).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn sessions_expire_and_disabling_a_user_logs_them_out(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("dave", &[]);
    s.create_user(&u, None).await.unwrap();
    let t = t0();
    let session = Session {
        id_hash: SecretHash::of("cookie-1"),
        user_id: u.id,
        csrf_hash: SecretHash::of("csrf-1"),
        created_at: t,
        expires_at: t + Duration::hours(8),
    };
    s.create_session(&session).await.unwrap();
    let (got, user) = s
        .get_session(SecretHash::of("cookie-1"), t + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, session);
    assert_eq!(user.user.id, u.id);
    assert!(
        s.get_session(SecretHash::of("cookie-1"), t + Duration::hours(8))
            .await
            .unwrap()
            .is_none()
    );
    let other = Session {
        id_hash: SecretHash::of("cookie-2"),
        expires_at: t + Duration::hours(1),
        ..session.clone()
    };
    s.create_session(&other).await.unwrap();
    assert_eq!(
        s.delete_expired_sessions(t + Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    s.set_user_disabled(u.id, true).await.unwrap();
    assert!(
        s.get_session(SecretHash::of("cookie-1"), t)
            .await
            .unwrap()
            .is_none()
    );
    s.set_user_disabled(u.id, false).await.unwrap();
    assert!(
        s.get_session(SecretHash::of("cookie-1"), t)
            .await
            .unwrap()
            .is_none(),
        "disabling deleted the session"
    );
    s.create_session(&Session {
        id_hash: SecretHash::of("cookie-3"),
        ..session.clone()
    })
    .await
    .unwrap();
    s.delete_session(SecretHash::of("cookie-3")).await.unwrap();
    assert!(
        s.get_session(SecretHash::of("cookie-3"), t)
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_invitation_is_accepted_once_and_never_after_expiry(db: &TestDb) {
    let s = &db.store;
    let inviter = fixtures::user("erin", &[Role::Coordinator]);
    let invitee = fixtures::user("frank", &[]);
    s.create_user(&inviter, None).await.unwrap();
    s.create_user(&invitee, None).await.unwrap();
    let t = t0();
    let inv = Invitation {
        token_hash: SecretHash::of("invite-1"),
        email: "frank@example.org".into(),
        roles: BTreeSet::from([Role::Expert]),
        subgroup_id: None,
        invited_by: Some(inviter.id),
        created_at: t,
        expires_at: t + Duration::days(7),
        accepted_at: None,
        accepted_by: None,
    };
    s.create_invitation(&inv).await.unwrap();
    s.create_invitation(&Invitation {
        token_hash: SecretHash::of("invite-2"),
        ..inv.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.get_invitation(SecretHash::of("invite-1"))
            .await
            .unwrap()
            .unwrap(),
        inv
    );
    let accepted = s
        .accept_invitation(
            SecretHash::of("invite-1"),
            invitee.id,
            t + Duration::days(1),
        )
        .await
        .unwrap();
    assert_eq!(accepted.accepted_by, Some(invitee.id));
    assert_eq!(accepted.roles, inv.roles);
    let again = s
        .accept_invitation(
            SecretHash::of("invite-1"),
            invitee.id,
            t + Duration::days(1),
        )
        .await;
    assert!(matches!(again, Err(StoreError::NotFound { .. })));
    let late = s
        .accept_invitation(
            SecretHash::of("invite-2"),
            invitee.id,
            t + Duration::days(8),
        )
        .await;
    assert!(matches!(late, Err(StoreError::NotFound { .. })));
}

async fn projects_are_unique_per_forge_host_and_name(db: &TestDb) {
    let s = &db.store;
    let (p, _) = fixtures::stored_project(s, "Acme", "Widget").await;
    let found = s
        .find_project(p.forge, "GitHub.com", "acme", "WIDGET")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.value, p);
    let twin = fixtures::project("acme", "widget", vec![]);
    assert!(matches!(
        s.create_project(&twin).await,
        Err(StoreError::Duplicate {
            entity: "project",
            ..
        })
    ));
    let mut renamed = found.value.clone();
    renamed.name = "gadget".into();
    assert_eq!(s.update_project(&renamed, found.version).await.unwrap(), 2);
    assert!(matches!(
        s.update_project(&renamed, found.version).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(
        s.find_project(p.forge, "github.com", "acme", "widget")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.list_projects(None, 10).await.unwrap().len(), 1);
}

async fn subgroup_membership_is_stored_and_queried(db: &TestDb) {
    let s = &db.store;
    let a = fixtures::expert("gina", vec![]);
    let b = fixtures::expert("hank", vec![]);
    s.create_user(&a, None).await.unwrap();
    s.create_user(&b, None).await.unwrap();
    let mut g = fixtures::subgroup("rust", vec![a.id]);
    g.coordinators = vec![b.id];
    s.create_subgroup(&g).await.unwrap();
    let h = fixtures::subgroup("python", vec![a.id]);
    s.create_subgroup(&h).await.unwrap();
    assert!(matches!(
        s.create_subgroup(&fixtures::subgroup("rust", vec![])).await,
        Err(StoreError::Duplicate { .. })
    ));
    let slugs = |v: Vec<sx_store::Versioned<sx_domain::Subgroup>>| {
        v.into_iter().map(|g| g.value.slug).collect::<Vec<_>>()
    };
    assert_eq!(
        slugs(s.subgroups_of_user(a.id).await.unwrap()),
        vec!["python", "rust"]
    );
    assert_eq!(
        slugs(s.subgroups_of_user(b.id).await.unwrap()),
        vec!["rust"]
    );
    assert_eq!(
        slugs(s.list_subgroups().await.unwrap()),
        vec!["python", "rust"]
    );
    assert_eq!(
        s.get_subgroup_by_slug("rust").await.unwrap().unwrap().value,
        g
    );
}
