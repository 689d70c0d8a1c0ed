use std::collections::BTreeSet;

use sx_domain::Role;
use sx_store::{LogRecord, NotifySettings, Store, StoreError};

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    notification_settings_are_saved_replaced_and_found_by_email,
    notification_settings_need_an_existing_user,
    the_notification_cursor_starts_at_the_log_end_and_moves_only_forward_once,
    a_notification_delivery_is_recorded_once,
);

fn settings(user: sx_domain::UserId, email: Option<&str>) -> NotifySettings {
    NotifySettings {
        user_id: user,
        email: email.map(str::to_string),
        events: BTreeSet::from(["published".to_string(), "assessed".to_string()]),
        webhook_url: Some("https://hooks.example.org/sx".into()),
        webhook_secret: Some("whsec_abc".into()),
        updated_at: t0(),
    }
}

async fn notification_settings_are_saved_replaced_and_found_by_email(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("maintainer-mia", &[Role::Maintainer]);
    s.create_user(&u, None).await.unwrap();
    assert_eq!(s.get_notify_settings(u.id).await.unwrap(), None);
    let first = settings(u.id, Some("Mia@Example.org"));
    s.put_notify_settings(&first).await.unwrap();
    assert_eq!(s.get_notify_settings(u.id).await.unwrap(), Some(first));
    let found = s
        .find_user_by_notify_email("  mia@EXAMPLE.org")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].user.id, u.id);

    let mut second = settings(u.id, None);
    second.webhook_url = None;
    second.webhook_secret = None;
    second.events = BTreeSet::new();
    s.put_notify_settings(&second).await.unwrap();
    assert_eq!(s.get_notify_settings(u.id).await.unwrap(), Some(second));
    assert!(
        s.find_user_by_notify_email("mia@example.org")
            .await
            .unwrap()
            .is_empty()
    );

    // Two accounts on one address: both are returned so the caller can refuse to guess.
    let v = fixtures::user("maintainer-max", &[Role::Maintainer]);
    s.create_user(&v, None).await.unwrap();
    s.put_notify_settings(&settings(u.id, Some("team@example.org")))
        .await
        .unwrap();
    s.put_notify_settings(&settings(v.id, Some("TEAM@example.org")))
        .await
        .unwrap();
    assert_eq!(
        s.find_user_by_notify_email("team@example.org")
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn notification_settings_need_an_existing_user(db: &TestDb) {
    let ghost = fixtures::user("ghost", &[]);
    let r = db
        .store
        .put_notify_settings(&settings(ghost.id, Some("g@example.org")))
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
}

async fn the_notification_cursor_starts_at_the_log_end_and_moves_only_forward_once(db: &TestDb) {
    let s = &db.store;
    let start = s.notify_cursor().await.unwrap();
    let (size, _) = s.log_head().await.unwrap();
    assert_eq!(start, size, "a fresh database starts at the end of its log");
    let record = LogRecord {
        kind: "test-entry".into(),
        case_id: None,
        content: serde_json::json!({"n": 1}),
        sealed: false,
    };
    s.append_log(&record, t0()).await.unwrap();
    s.append_log(&record, t0()).await.unwrap();
    assert!(s.advance_notify_cursor(start, start + 2).await.unwrap());
    // A second scanner that read the old cursor loses the race and moves nothing.
    assert!(!s.advance_notify_cursor(start, start + 1).await.unwrap());
    assert_eq!(s.notify_cursor().await.unwrap(), start + 2);
    assert!(matches!(
        s.advance_notify_cursor(start + 2, start).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn a_notification_delivery_is_recorded_once(db: &TestDb) {
    let s = &db.store;
    let u = fixtures::user("mo", &[Role::Maintainer]);
    s.create_user(&u, None).await.unwrap();
    let key = "7:user:email";
    assert!(!s.notify_delivery_recorded(key).await.unwrap());
    assert!(
        s.record_notify_delivery(key, u.id, "email", t0())
            .await
            .unwrap()
    );
    assert!(
        !s.record_notify_delivery(key, u.id, "email", t0())
            .await
            .unwrap()
    );
    assert!(s.notify_delivery_recorded(key).await.unwrap());
    assert!(!s.notify_delivery_recorded("7:user:webhook").await.unwrap());
}
