//! Forge intake bookkeeping (migration 0007): delivery de-duplication and pull request threads.

use sx_domain::CaseStatus;
use sx_store::{ForgeThread, Store, StoreError};
use time::Duration;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    a_delivery_id_is_accepted_once_per_forge,
    old_delivery_ids_are_pruned,
    forge_threads_are_saved_replaced_and_found_by_pull_request,
);

async fn a_delivery_id_is_accepted_once_per_forge(db: &TestDb) {
    let s = &db.store;
    let id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    assert!(s.record_forge_delivery("github", id, t0()).await.unwrap());
    assert!(!s.record_forge_delivery("github", id, t0()).await.unwrap());
    assert!(s.record_forge_delivery("gitlab", id, t0()).await.unwrap());
    assert!(matches!(
        s.record_forge_delivery("github", "", t0()).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.record_forge_delivery("github", &"x".repeat(201), t0())
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn old_delivery_ids_are_pruned(db: &TestDb) {
    let s = &db.store;
    s.record_forge_delivery("github", "old", t0())
        .await
        .unwrap();
    s.record_forge_delivery("github", "new", t0() + Duration::days(10))
        .await
        .unwrap();
    assert_eq!(
        s.prune_forge_deliveries(t0() + Duration::days(1))
            .await
            .unwrap(),
        1
    );
    assert!(
        s.record_forge_delivery("github", "old", t0())
            .await
            .unwrap()
    );
    assert!(
        !s.record_forge_delivery("github", "new", t0())
            .await
            .unwrap()
    );
}

async fn forge_threads_are_saved_replaced_and_found_by_pull_request(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "Codertocat", "Hello-World").await;
    let case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    let events = vec![sx_domain::DomainEvent {
        case_id: case.id,
        at: t0(),
        actor: None,
        change: sx_domain::CaseEvent::CaseReceived {
            project_id: project.id,
            revision: case.revision.clone(),
        },
    }];
    s.create_case(&case, &events, t0()).await.unwrap();
    let mut thread = ForgeThread {
        case_id: case.id,
        forge: "github".into(),
        api_base: "https://api.github.com".into(),
        owner: "Codertocat".into(),
        repo: "Hello-World".into(),
        number: 2,
        comment_id: None,
        private: false,
        head: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
        created_at: t0(),
        updated_at: t0(),
    };
    assert_eq!(s.get_forge_thread(case.id).await.unwrap(), None);
    s.put_forge_thread(&thread).await.unwrap();
    thread.comment_id = Some(1001);
    thread.updated_at = t0() + Duration::minutes(1);
    s.put_forge_thread(&thread).await.unwrap();
    assert_eq!(
        s.get_forge_thread(case.id).await.unwrap(),
        Some(thread.clone())
    );
    let found = s
        .find_forge_threads(
            "github",
            "https://api.github.com",
            "codertocat",
            "HELLO-WORLD",
            2,
        )
        .await
        .unwrap();
    assert_eq!(found, vec![thread.clone()]);
    assert!(
        s.find_forge_threads(
            "github",
            "https://api.github.com",
            "codertocat",
            "hello-world",
            3
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert!(
        s.find_forge_threads(
            "gitlab",
            "https://api.github.com",
            "codertocat",
            "hello-world",
            2
        )
        .await
        .unwrap()
        .is_empty()
    );
    // A thread for a case that does not exist is refused.
    let mut orphan = thread;
    orphan.case_id = sx_domain::CaseId(uuid::Uuid::new_v4());
    assert!(matches!(
        s.put_forge_thread(&orphan).await,
        Err(StoreError::NotFound { .. })
    ));
}
