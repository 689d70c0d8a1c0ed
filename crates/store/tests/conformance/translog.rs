use serde_json::json;
use sx_domain::CaseStatus;
use sx_store::translog::{EntryBody, VerifyError, verify_export};
use sx_store::{LogRecord, Store, StoreError};
use time::Duration;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    appended_entries_form_a_chain_that_verifies_with_signed_checkpoints,
    sealed_entries_show_only_a_commitment_until_the_case_is_revealed,
    an_altered_stored_entry_fails_verification,
    the_instance_key_is_created_once_and_kept_across_reopening,
    a_sealed_record_must_name_its_case,
    a_case_lifecycle_is_logged_sealed_and_revealed_at_publication,
);

fn record(
    kind: &str,
    case_id: Option<Uuid>,
    sealed: bool,
    content: serde_json::Value,
) -> LogRecord {
    LogRecord {
        kind: kind.into(),
        case_id,
        content,
        sealed,
    }
}

async fn appended_entries_form_a_chain_that_verifies_with_signed_checkpoints(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let a = s
        .append_log(&record("instance.started", None, false, json!({"v": 1})), t)
        .await
        .unwrap();
    let cp1 = s.create_checkpoint(t).await.unwrap();
    let b = s
        .append_log(
            &record("note", None, false, json!("x")),
            t + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!((a.seq, b.seq), (0, 1));
    let cp2 = s.create_checkpoint(t + Duration::seconds(2)).await.unwrap();
    assert_eq!(cp1.size, 1);
    assert_eq!(cp2.size, 2);
    assert_eq!(cp2.head_hash, b.hash);
    assert_eq!(s.log_head().await.unwrap(), (2, b.hash));
    assert_eq!(s.latest_checkpoint().await.unwrap(), Some(cp2.clone()));
    let export = s.export_log().await.unwrap();
    let summary = verify_export(&export, &s.log_public_key()).unwrap();
    assert_eq!(summary.entries, 2);
    assert_eq!(summary.signed_size, 2);
    assert_eq!(summary.checkpoints, 2);
    // An entry timestamped before its predecessor (skewed replica clock) is clamped forward.
    s.append_log(
        &record("late", None, false, json!(null)),
        t - Duration::hours(1),
    )
    .await
    .unwrap();
    let export = s.export_log().await.unwrap();
    assert!(export.entries[2].timestamp_us >= export.entries[1].timestamp_us);
    verify_export(&export, &s.log_public_key()).unwrap();
}

async fn sealed_entries_show_only_a_commitment_until_the_case_is_revealed(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let case = Uuid::new_v4();
    let other = Uuid::new_v4();
    s.append_log(
        &record(
            "case-received",
            Some(case),
            true,
            json!({"secret": "payload-123"}),
        ),
        t,
    )
    .await
    .unwrap();
    s.append_log(
        &record(
            "case-received",
            Some(other),
            true,
            json!({"secret": "other"}),
        ),
        t,
    )
    .await
    .unwrap();
    s.append_log(
        &record("case-claimed", Some(case), true, json!({"by": "expert"})),
        t,
    )
    .await
    .unwrap();
    let export = s.export_log().await.unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(
        !text.contains("payload-123"),
        "sealed content must not appear in an export"
    );
    assert!(matches!(
        export.entries[0].body,
        EntryBody::Commitment { .. }
    ));
    let pos = s
        .reveal_case_log(case, &json!({"case_id": case}), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pos.seq, 3);
    assert!(
        s.reveal_case_log(case, &json!({}), t)
            .await
            .unwrap()
            .is_none(),
        "nothing left to reveal"
    );
    s.create_checkpoint(t).await.unwrap();
    let export = s.export_log().await.unwrap();
    let EntryBody::Reveal { reveals, .. } = &export.entries[3].body else {
        panic!("expected a reveal")
    };
    assert_eq!(
        reveals.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert!(reveals[0].content.contains("payload-123"));
    let summary = verify_export(&export, &s.log_public_key()).unwrap();
    assert_eq!((summary.sealed, summary.revealed), (3, 2));
}

async fn an_altered_stored_entry_fails_verification(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    for n in 0..3 {
        s.append_log(&record("note", None, false, json!({ "n": n })), t)
            .await
            .unwrap();
    }
    s.create_checkpoint(t).await.unwrap();
    let mut export = s.export_log().await.unwrap();
    verify_export(&export, &s.log_public_key()).unwrap();
    export.entries[1].body = EntryBody::Payload {
        payload: "{\"n\":42}".into(),
    };
    assert!(matches!(
        verify_export(&export, &s.log_public_key()),
        Err(VerifyError::HashMismatch { seq: 1, .. })
    ));
}

async fn the_instance_key_is_created_once_and_kept_across_reopening(db: &TestDb) {
    let key = db.store.log_public_key();
    let again = db.location.open(1).await;
    assert_eq!(again.log_public_key(), key);
    // A checkpoint signed through the second pool verifies with the first pool's key.
    again
        .append_log(&record("x", None, false, json!(1)), t0())
        .await
        .unwrap();
    again.create_checkpoint(t0()).await.unwrap();
    verify_export(&db.store.export_log().await.unwrap(), &key).unwrap();
    again.close().await;
}

async fn a_sealed_record_must_name_its_case(db: &TestDb) {
    let err = db
        .store
        .append_log(&record("x", None, true, json!(1)), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(
        db.store.log_head().await.unwrap().0,
        0,
        "the failed append left no entry"
    );
}

async fn a_case_lifecycle_is_logged_sealed_and_revealed_at_publication(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let mut case = fixtures::case(&project, CaseStatus::Triaged, t0(), vec![]);
    case.source.title = Some("very secret title".into());
    s.create_case(&case, &[], t0()).await.unwrap();
    let before = s.export_log().await.unwrap();
    assert_eq!(before.entries.len(), 1);
    assert!(
        matches!(before.entries[0].body, EntryBody::Commitment { .. }),
        "a sealed case logs only a commitment"
    );
    case.status = CaseStatus::Published;
    case.tlp = sx_domain::TlpLabel::Clear;
    case.published_at = Some(t0() + Duration::days(1));
    s.update_case(&case, 1, &[], t0() + Duration::days(1))
        .await
        .unwrap();
    s.create_checkpoint(t0() + Duration::days(1)).await.unwrap();
    let export = s.export_log().await.unwrap();
    let summary = verify_export(&export, &s.log_public_key()).unwrap();
    assert_eq!(summary.sealed, 1);
    assert_eq!(summary.revealed, 1);
    assert!(matches!(
        export.entries.last().unwrap().body,
        EntryBody::Reveal { .. }
    ));
}
