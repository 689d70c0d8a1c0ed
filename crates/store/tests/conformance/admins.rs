//! The last-admin rule, kept by the store: no write leaves the instance without an enabled
//! admin, however the writes interleave.

use sx_domain::{AuditAction, AuditActor, AuditEvent, AuditTarget, Role, User};
use sx_store::{AnyStore, AuditFilter, AuditedChange, SecretHash, Session, Store, StoreError};
use time::Duration;

use crate::TestDb;
use crate::fixtures::{self, now};

crate::conformance!(
    the_last_enabled_admin_cannot_lose_admin_power,
    two_admins_removing_each_other_at_once_leave_exactly_one,
);

fn without_admin(user: &User) -> User {
    let mut u = user.clone();
    u.roles.remove(&Role::Admin);
    u
}

fn event(by: &User, action: AuditAction, target: &User) -> AuditEvent {
    AuditEvent::new(
        AuditActor::User(by.id),
        action,
        AuditTarget::User(target.id),
        now(),
    )
}

async fn version(s: &AnyStore, user: &User) -> i64 {
    s.get_user(user.id).await.unwrap().unwrap().version
}

/// Enabled accounts holding the admin role.
async fn enabled_admins(s: &AnyStore) -> Vec<String> {
    s.list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| !u.disabled && u.user.has_role(Role::Admin))
        .map(|u| u.user.handle)
        .collect()
}

/// Revoking `stripped`'s admin role (`stripped` is the account without it), or disabling them.
fn removal(revoke: bool, stripped: &User) -> AuditedChange<'_> {
    if revoke {
        AuditedChange::UpdateUser {
            user: stripped,
            expected_version: 1,
        }
    } else {
        AuditedChange::SetUserDisabled {
            id: stripped.id,
            disabled: true,
        }
    }
}

fn assert_last_admin<T: std::fmt::Debug>(got: Result<T, StoreError>, what: &str) {
    match got {
        Err(StoreError::LastAdmin { .. }) => {}
        other => panic!("{what}: expected LastAdmin, got {other:?}"),
    }
}

async fn the_last_enabled_admin_cannot_lose_admin_power(db: &TestDb) {
    let s = &db.store;
    let root = fixtures::user("root", &[Role::Admin, Role::Expert]);
    let bob = fixtures::user("bob", &[Role::Expert]);
    s.create_user(&root, None).await.unwrap();
    s.create_user(&bob, None).await.unwrap();
    let t = now();
    s.create_session(&Session {
        id_hash: SecretHash::of("root-session"),
        user_id: root.id,
        csrf_hash: SecretHash::of("c"),
        created_at: t,
        expires_at: t + Duration::hours(1),
    })
    .await
    .unwrap();

    // Neither the plain methods nor the audited changes take the lone admin's power away.
    assert_last_admin(
        s.update_user(&without_admin(&root), 1).await,
        "revoking the lone admin",
    );
    assert_last_admin(
        s.set_user_disabled(root.id, true).await,
        "disabling the lone admin",
    );
    assert_last_admin(
        s.apply_audited(
            &AuditedChange::UpdateUser {
                user: &without_admin(&root),
                expected_version: 1,
            },
            &event(&root, AuditAction::RoleRevoked, &root),
        )
        .await,
        "an audited revocation",
    );
    assert_last_admin(
        s.apply_audited(
            &AuditedChange::SetUserDisabled {
                id: root.id,
                disabled: true,
            },
            &event(&root, AuditAction::UserDisabled, &root),
        )
        .await,
        "an audited disable",
    );
    // Each refusal rolled back its whole transaction.
    let got = s.get_user(root.id).await.unwrap().unwrap();
    assert_eq!(got.user, root);
    assert_eq!(got.version, 1);
    assert!(!got.disabled);
    assert!(
        s.get_session(SecretHash::of("root-session"), t)
            .await
            .unwrap()
            .is_some(),
        "the refused disable logged nobody out"
    );
    assert!(
        s.list_audit(&AuditFilter::newest(10))
            .await
            .unwrap()
            .is_empty()
    );

    // Writes that take no admin power away are not affected.
    let mut profile = root.clone();
    profile.display_name = "Root".into();
    assert_eq!(s.update_user(&profile, 1).await.unwrap(), 2);
    s.set_user_disabled(bob.id, true).await.unwrap();
    s.set_user_disabled(bob.id, false).await.unwrap();
    s.set_user_disabled(root.id, false).await.unwrap();

    // A disabled admin does not count as the one that remains…
    let carol = fixtures::user("carol", &[Role::Admin]);
    s.create_user(&carol, None).await.unwrap();
    s.set_user_disabled(carol.id, true).await.unwrap();
    assert_last_admin(
        s.set_user_disabled(root.id, true).await,
        "a disabled admin is no substitute",
    );
    // …and holds no power to lose: revoking their role is fine.
    s.update_user(&without_admin(&carol), 1).await.unwrap();

    // With a second enabled admin either may go, but not both.
    let dave = fixtures::user("dave", &[Role::Admin]);
    s.create_user(&dave, None).await.unwrap();
    let v = version(s, &root).await;
    s.update_user(&without_admin(&profile), v).await.unwrap();
    assert_eq!(enabled_admins(s).await, ["dave"]);
    assert_last_admin(
        s.set_user_disabled(dave.id, true).await,
        "disabling the admin who remains",
    );
    assert_eq!(enabled_admins(s).await, ["dave"]);

    // A missing user is still `NotFound`, a stale one still `Conflict`.
    let ghost = fixtures::user("ghost", &[Role::Admin]);
    assert!(matches!(
        s.set_user_disabled(ghost.id, true).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.update_user(&without_admin(&dave), 7).await,
        Err(StoreError::Conflict { .. })
    ));
}

/// Two enabled admins, the only ones, each removing the other at the same moment (50 rounds of
/// revoking each other's admin role, 50 of disabling each other, a fresh pair each round):
/// exactly one of each pair succeeds and one enabled admin remains. Without the store's guard
/// (or, on PostgreSQL, without its lock) both writes commit and nobody is admin.
async fn two_admins_removing_each_other_at_once_leave_exactly_one(db: &TestDb) {
    let s = &db.store;
    let mut survivor: Option<User> = None;
    for round in 0..100 {
        let revoke = round % 2 == 0;
        let a = fixtures::user(&format!("a{round}"), &[Role::Admin, Role::Expert]);
        let b = fixtures::user(&format!("b{round}"), &[Role::Admin, Role::Expert]);
        s.create_user(&a, None).await.unwrap();
        s.create_user(&b, None).await.unwrap();
        // Retire the last round's survivor, so the pair are the only enabled admins.
        if let Some(prev) = survivor.take() {
            s.set_user_disabled(prev.id, true).await.unwrap();
        }
        let mut handles = enabled_admins(s).await;
        handles.sort();
        assert_eq!(
            handles,
            [a.handle.clone(), b.handle.clone()],
            "round {round}"
        );

        let (a_less, b_less) = (without_admin(&a), without_admin(&b));
        let change = |stripped| removal(revoke, stripped);
        let action = if revoke {
            AuditAction::RoleRevoked
        } else {
            AuditAction::UserDisabled
        };
        // a removes b while b removes a.
        let (a_to_b, b_to_a) = (change(&b_less), change(&a_less));
        let (by_a, by_b) = (event(&a, action, &b), event(&b, action, &a));
        let (first, second) = tokio::join!(
            s.apply_audited(&a_to_b, &by_a),
            s.apply_audited(&b_to_a, &by_b),
        );
        let kind = if revoke { "revocations" } else { "disables" };
        let winner = match (first, second) {
            (Ok(_), Err(StoreError::LastAdmin { .. })) => &a,
            (Err(StoreError::LastAdmin { .. }), Ok(_)) => &b,
            other => panic!(
                "round {round}: two concurrent {kind}: expected exactly one to succeed \
                 and the other to fail with LastAdmin, got {other:?}"
            ),
        };
        assert_eq!(
            enabled_admins(s).await,
            std::slice::from_ref(&winner.handle),
            "round {round} ({kind}): the one who acted first remains admin"
        );
        // Only the change that happened is in the trail.
        let loser = if winner.id == a.id { &b } else { &a };
        let trail = |target: &User| AuditFilter {
            target: Some(AuditTarget::User(target.id)),
            ..AuditFilter::newest(10)
        };
        assert_eq!(s.list_audit(&trail(loser)).await.unwrap().len(), 1);
        assert!(s.list_audit(&trail(winner)).await.unwrap().is_empty());
        survivor = Some(winner.clone());
    }
}
