//! The last-admin rule under concurrency, through `sx_server::admin` (what the CLI and the
//! `/admin` page call): two admins removing each other at the same moment both pass the early
//! check, and the store's guard turns the second write into the usual refusal.

use sx_domain::{Role, User};
use sx_server::admin::{self, Actor, AdminError};
use sx_store::Store;

use crate::util::TestApp;

crate::both_backends!(two_admins_removing_each_other_at_once_leave_exactly_one);

async fn enabled_admins(app: &TestApp) -> Vec<String> {
    let mut handles: Vec<String> = app
        .state
        .store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| !u.disabled && u.user.has_role(Role::Admin))
        .map(|u| u.user.handle)
        .collect();
    handles.sort();
    handles
}

/// 20 rounds of revoking each other's admin role and 20 of disabling each other, a fresh pair
/// of the only enabled admins each round: one succeeds, the other is refused as the last
/// enabled admin (with the message the CLI and the page show), and one admin remains.
async fn two_admins_removing_each_other_at_once_leave_exactly_one() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let mut survivor: Option<User> = None;
    for round in 0..40 {
        let revoke = round % 2 == 0;
        let a = app
            .user(&format!("a{round}"), &[Role::Admin, Role::Expert])
            .await
            .user;
        let b = app
            .user(&format!("b{round}"), &[Role::Admin, Role::Expert])
            .await
            .user;
        if let Some(prev) = survivor.take() {
            admin::set_disabled(store, Actor::Operator, &prev.handle, true)
                .await
                .unwrap();
        }
        assert_eq!(
            enabled_admins(&app).await,
            [a.handle.clone(), b.handle.clone()]
        );
        let (by_a, by_b) = if revoke {
            tokio::join!(
                async {
                    admin::set_role(store, Actor::User(&a), &b.handle, Role::Admin, false)
                        .await
                        .map(|_| ())
                },
                async {
                    admin::set_role(store, Actor::User(&b), &a.handle, Role::Admin, false)
                        .await
                        .map(|_| ())
                },
            )
        } else {
            tokio::join!(
                async {
                    admin::set_disabled(store, Actor::User(&a), &b.handle, true)
                        .await
                        .map(|_| ())
                },
                async {
                    admin::set_disabled(store, Actor::User(&b), &a.handle, true)
                        .await
                        .map(|_| ())
                },
            )
        };
        let winner = match (by_a, by_b) {
            (Ok(()), Err(AdminError::LastAdmin)) => &a,
            (Err(AdminError::LastAdmin), Ok(())) => &b,
            other => panic!(
                "round {round} ({}): expected one success and one LastAdmin, got {other:?}",
                if revoke { "revocations" } else { "disables" }
            ),
        };
        assert_eq!(
            enabled_admins(&app).await,
            std::slice::from_ref(&winner.handle)
        );
        survivor = Some(winner.clone());
    }
    assert!(
        AdminError::LastAdmin
            .to_string()
            .contains("last enabled admin")
    );
}
