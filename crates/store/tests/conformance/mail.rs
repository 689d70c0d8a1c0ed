//! Mail intake (migration 0008): intake addresses by token hash, and delivered messages.

use sx_domain::{CaseStatus, Role};
use sx_store::{MailIntake, SecretHash, Store, StoreError};
use time::Duration;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    an_intake_address_is_found_by_its_token_hash_only_while_its_owner_is_enabled,
    a_new_intake_address_replaces_the_old_one,
    a_delivered_message_is_recorded_once_with_its_case,
    delivery_times_are_the_users_own_newest_first_within_the_window,
);

fn intake(user: sx_domain::UserId, token: &str) -> MailIntake {
    MailIntake {
        user_id: user,
        token_hash: SecretHash::of(token),
        created_at: t0(),
        last_used_at: None,
    }
}

async fn an_intake_address_is_found_by_its_token_hash_only_while_its_owner_is_enabled(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("maintainer-mia", &[Role::Maintainer]);
    s.create_user(&u, None).await.unwrap();
    assert_eq!(s.get_mail_intake(u.id).await.unwrap(), None);
    s.put_mail_intake(&intake(u.id, "tok-a")).await.unwrap();
    let (found, record) = s
        .authenticate_mail_intake(SecretHash::of("tok-a"))
        .await
        .unwrap()
        .expect("the token authenticates");
    assert_eq!(found, intake(u.id, "tok-a"));
    assert_eq!(record.user.id, u.id);
    assert!(
        s.authenticate_mail_intake(SecretHash::of("tok-b"))
            .await
            .unwrap()
            .is_none()
    );
    s.set_user_disabled(u.id, true).await.unwrap();
    assert!(
        s.authenticate_mail_intake(SecretHash::of("tok-a"))
            .await
            .unwrap()
            .is_none(),
        "a disabled account's address does not authenticate"
    );
    let nobody = fixtures::user("nobody", &[Role::Maintainer]);
    assert!(matches!(
        s.put_mail_intake(&intake(nobody.id, "tok-c")).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_new_intake_address_replaces_the_old_one(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("maintainer-mia", &[Role::Maintainer]);
    let v = fixtures::user("maintainer-vic", &[Role::Maintainer]);
    s.create_user(&u, None).await.unwrap();
    s.create_user(&v, None).await.unwrap();
    s.put_mail_intake(&intake(u.id, "old")).await.unwrap();
    let mut new = intake(u.id, "new");
    new.created_at = t0() + Duration::days(1);
    s.put_mail_intake(&new).await.unwrap();
    assert_eq!(s.get_mail_intake(u.id).await.unwrap(), Some(new));
    assert!(
        s.authenticate_mail_intake(SecretHash::of("old"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.put_mail_intake(&intake(v.id, "new")).await,
        Err(StoreError::Duplicate { .. })
    ));
    assert!(s.delete_mail_intake(u.id).await.unwrap());
    assert!(!s.delete_mail_intake(u.id).await.unwrap());
    assert_eq!(s.get_mail_intake(u.id).await.unwrap(), None);
}

async fn a_delivered_message_is_recorded_once_with_its_case(db: &TestDb) {
    let s = &db.store;
    let (project, maintainer) = fixtures::stored_project(s, "tukaani", "xz").await;
    s.put_mail_intake(&intake(maintainer.id, "tok"))
        .await
        .unwrap();
    let case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    s.create_case(&case, &[], t0()).await.unwrap();
    let key = SecretHash::of("message-1");
    assert_eq!(s.find_mail_delivery(key).await.unwrap(), None);
    let later = t0() + Duration::minutes(5);
    assert!(
        s.record_mail_delivery(key, maintainer.id, case.id, later)
            .await
            .unwrap()
    );
    assert!(
        !s.record_mail_delivery(key, maintainer.id, case.id, later)
            .await
            .unwrap()
    );
    assert_eq!(s.find_mail_delivery(key).await.unwrap(), Some(case.id));
    assert_eq!(
        s.get_mail_intake(maintainer.id)
            .await
            .unwrap()
            .and_then(|i| i.last_used_at),
        Some(later)
    );
}

async fn delivery_times_are_the_users_own_newest_first_within_the_window(db: &TestDb) {
    let s = &db.store;
    let (project, mia) = fixtures::stored_project(s, "tukaani", "xz").await;
    let vic = fixtures::user("maintainer-vic", &[Role::Maintainer]);
    s.create_user(&vic, None).await.unwrap();
    let minutes = |m: i64| t0() + Duration::minutes(m);
    // Mia's messages at 0, 10 and 50 minutes, Vic's at 20 (out of order on purpose).
    for (n, (user, at)) in [(mia.id, 50), (mia.id, 0), (vic.id, 20), (mia.id, 10)]
        .into_iter()
        .enumerate()
    {
        let case = fixtures::case(&project, CaseStatus::Received, minutes(at), vec![]);
        s.create_case(&case, &[], minutes(at)).await.unwrap();
        let key = SecretHash::of(&format!("message-{n}"));
        assert!(
            s.record_mail_delivery(key, user, case.id, minutes(at))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        s.mail_delivery_times(mia.id, minutes(10), 10)
            .await
            .unwrap(),
        vec![minutes(50), minutes(10)],
        "the window's start counts, earlier ones do not"
    );
    assert_eq!(
        s.mail_delivery_times(mia.id, minutes(0), 2).await.unwrap(),
        vec![minutes(50), minutes(10)],
        "at most the limit, newest first"
    );
    assert_eq!(
        s.mail_delivery_times(vic.id, minutes(0), 10).await.unwrap(),
        vec![minutes(20)]
    );
    assert!(
        s.mail_delivery_times(mia.id, minutes(51), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
