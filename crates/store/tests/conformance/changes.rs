//! Change texts in the database, atomic submissions, and releasing a job's lease.

use std::time::Duration;

use serde_json::json;
use sx_domain::CaseStatus;
use sx_store::changes::patch_ref;
use sx_store::{JobState, NewJob, Store, StoreError};

use crate::TestDb;
use crate::fixtures::{self, t0};

crate::conformance!(
    a_change_text_reads_back_by_its_reference_from_another_pool,
    a_change_text_keeps_nul_and_non_ascii_characters_exactly,
    malformed_or_unknown_references_read_as_none,
    a_submission_stores_the_case_its_text_and_its_jobs_together,
    a_failed_submission_leaves_no_text_no_case_and_no_job,
    a_submission_whose_reference_does_not_match_its_text_is_refused,
    a_released_job_is_leasable_again_at_once_without_spending_an_attempt,
    only_the_lease_holder_can_release_a_job,
);

const DIFF: &str = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";

async fn a_change_text_reads_back_by_its_reference_from_another_pool(db: &TestDb) {
    let s = &db.store;
    let reference = s.put_change_text(DIFF, t0()).await.unwrap();
    assert_eq!(reference, patch_ref(DIFF));
    assert_eq!(
        s.put_change_text(DIFF, t0()).await.unwrap(),
        reference,
        "storing the same text again is a no-op with the same reference"
    );
    // Another replica has its own pool.
    let other = db.location.open(2).await;
    assert_eq!(
        other.get_change_text(&reference).await.unwrap().as_deref(),
        Some(DIFF)
    );
    other.close().await;
}

async fn a_change_text_keeps_nul_and_non_ascii_characters_exactly(db: &TestDb) {
    let s = &db.store;
    let hostile = "+x = \"\u{0}\u{202e}\u{200b}é\"\n".repeat(1000);
    let reference = s.put_change_text(&hostile, t0()).await.unwrap();
    assert_eq!(
        s.get_change_text(&reference).await.unwrap().as_deref(),
        Some(hostile.as_str())
    );
}

async fn malformed_or_unknown_references_read_as_none(db: &TestDb) {
    let s = &db.store;
    s.put_change_text(DIFF, t0()).await.unwrap();
    for reference in [
        patch_ref("never stored"),
        "sha256:../../etc/passwd".to_string(),
        patch_ref(DIFF).to_uppercase(),
        String::new(),
    ] {
        assert_eq!(
            s.get_change_text(&reference).await.unwrap(),
            None,
            "{reference}"
        );
    }
}

async fn a_submission_stores_the_case_its_text_and_its_jobs_together(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let mut case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    case.source.patch_ref = Some(patch_ref(DIFF));
    let jobs = [
        NewJob::now("analyze_case", json!({"case_id": case.id}), t0()),
        NewJob {
            run_at: t0() + time::Duration::days(90),
            ..NewJob::now("publish_case", json!({"case_id": case.id}), t0())
        },
    ];
    let ids = s
        .submit_case(&case, &[], Some(DIFF), &jobs, t0())
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let stored = s.get_case(case.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.value, case);
    assert_eq!(
        s.get_change_text(&patch_ref(DIFF))
            .await
            .unwrap()
            .as_deref(),
        Some(DIFF)
    );
    for (id, job) in ids.iter().zip(&jobs) {
        let got = s.get_job(*id).await.unwrap().unwrap();
        assert_eq!(got.name, job.name);
        assert_eq!(got.payload, job.payload);
        assert_eq!(got.state, JobState::Queued);
        assert_eq!(got.run_at, job.run_at);
    }
    let leased = s
        .lease_job("w", Duration::from_secs(60), t0())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        leased.id, ids[0],
        "the analysis is due now, publication later"
    );

    // A second submission of the same text shares its row.
    let mut again = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    again.source.patch_ref = Some(patch_ref(DIFF));
    s.submit_case(&again, &[], Some(DIFF), &[], t0())
        .await
        .unwrap();
    assert!(s.get_case(again.id).await.unwrap().is_some());
}

async fn a_failed_submission_leaves_no_text_no_case_and_no_job(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let mut case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    case.source.patch_ref = Some(patch_ref(DIFF));
    s.create_case(&case, &[], t0()).await.unwrap();
    // The same case id again: the insert fails after the text (and before the job) was written
    // in the same transaction.
    let text = "diff --git a/only-here b/only-here\n";
    let mut dup = case.clone();
    dup.source.patch_ref = Some(patch_ref(text));
    let job = NewJob::now("analyze_case", json!({"case_id": case.id}), t0());
    let err = s
        .submit_case(&dup, &[], Some(text), std::slice::from_ref(&job), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    assert_eq!(s.get_change_text(&patch_ref(text)).await.unwrap(), None);
    assert_eq!(s.job_counts().await.unwrap().queued, 0);

    // A job that cannot be stored rolls back the text and the case.
    let mut other = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    other.source.patch_ref = Some(patch_ref(text));
    let bad = NewJob {
        max_attempts: 0,
        ..job
    };
    assert!(matches!(
        s.submit_case(&other, &[], Some(text), &[bad], t0()).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(s.get_case(other.id).await.unwrap().is_none());
    assert_eq!(s.get_change_text(&patch_ref(text)).await.unwrap(), None);
}

async fn a_submission_whose_reference_does_not_match_its_text_is_refused(db: &TestDb) {
    let s = &db.store;
    let (project, _) = fixtures::stored_project(s, "acme", "widget").await;
    let mut case = fixtures::case(&project, CaseStatus::Received, t0(), vec![]);
    case.source.patch_ref = Some(patch_ref("something else"));
    let err = s
        .submit_case(&case, &[], Some(DIFF), &[], t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("patch_ref")),
        "{err:?}"
    );
    assert!(s.get_case(case.id).await.unwrap().is_none());
}

async fn a_released_job_is_leasable_again_at_once_without_spending_an_attempt(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob::now("analyze_case", json!({}), t))
        .await
        .unwrap();
    let lease = Duration::from_secs(300);
    let job = s.lease_job("w1", lease, t).await.unwrap().unwrap();
    assert_eq!(job.attempts, 1);
    let later = t + time::Duration::seconds(5);
    s.release_job(id, "w1", later).await.unwrap();
    let got = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(got.state, JobState::Queued);
    assert_eq!(got.attempts, 0, "a released lease is not a failed attempt");
    assert_eq!(got.leased_by, None);
    assert_eq!(got.last_error, None);
    // Another worker (replica) takes it over at once, long before the old lease would expire.
    let again = s.lease_job("w2", lease, later).await.unwrap().unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 1);
    s.complete_job(id, "w2", later).await.unwrap();
}

async fn only_the_lease_holder_can_release_a_job(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob::now("analyze_case", json!({}), t))
        .await
        .unwrap();
    assert!(
        matches!(
            s.release_job(id, "w1", t).await,
            Err(StoreError::LeaseLost { .. })
        ),
        "a queued job has no lease to release"
    );
    s.lease_job("w1", Duration::from_secs(60), t)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        s.release_job(id, "w2", t).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        s.release_job(uuid::Uuid::new_v4(), "w1", t).await,
        Err(StoreError::NotFound { .. })
    ));
    s.complete_job(id, "w1", t).await.unwrap();
    assert!(matches!(
        s.release_job(id, "w1", t).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(s.get_job(id).await.unwrap().unwrap().state, JobState::Done);
}
