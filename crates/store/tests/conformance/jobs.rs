use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use sx_store::{JobState, NewJob, Store, StoreError};
use time::Duration as TDuration;
use uuid::Uuid;

use crate::TestDb;
use crate::fixtures::{now, t0};

crate::conformance!(
    an_enqueued_job_is_leased_once_and_completed,
    a_job_is_not_leased_before_its_run_at,
    failures_retry_with_exponential_backoff_and_then_dead_letter,
    an_expired_lease_is_leased_again_and_the_old_worker_cannot_finish_it,
    a_renewed_lease_keeps_a_long_job_from_other_workers,
    a_lease_that_expires_on_the_final_attempt_dead_letters_the_job,
    a_dead_job_can_be_retried_by_an_operator,
    concurrent_workers_with_separate_pools_complete_every_job_exactly_once,
);

async fn an_enqueued_job_is_leased_once_and_completed(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob::now("analyze_case", json!({"case": 1}), t))
        .await
        .unwrap();
    let job = s
        .lease_job("w1", Duration::from_secs(60), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, id);
    assert_eq!(job.name, "analyze_case");
    assert_eq!(job.payload, json!({"case": 1}));
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.leased_by.as_deref(), Some("w1"));
    assert!(
        s.lease_job("w2", Duration::from_secs(60), t)
            .await
            .unwrap()
            .is_none(),
        "a leased job is not handed out twice"
    );
    s.complete_job(id, "w1", t).await.unwrap();
    assert_eq!(s.get_job(id).await.unwrap().unwrap().state, JobState::Done);
    assert!(matches!(
        s.complete_job(id, "w1", t).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(s.job_counts().await.unwrap().done, 1);
    assert_eq!(
        s.prune_done_jobs(t + TDuration::seconds(1)).await.unwrap(),
        1
    );
    assert!(s.get_job(id).await.unwrap().is_none());
}

async fn a_job_is_not_leased_before_its_run_at(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let job = NewJob {
        run_at: t + TDuration::minutes(5),
        ..NewJob::now("later", json!(null), t)
    };
    let id = s.enqueue_job(&job).await.unwrap();
    assert!(
        s.lease_job("w", Duration::from_secs(30), t)
            .await
            .unwrap()
            .is_none()
    );
    let leased = s
        .lease_job("w", Duration::from_secs(30), t + TDuration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.id, id);
}

async fn failures_retry_with_exponential_backoff_and_then_dead_letter(db: &TestDb) {
    let s = &db.store;
    let mut t = t0();
    let id = s
        .enqueue_job(&NewJob {
            max_attempts: 3,
            ..NewJob::now("flaky", json!({}), t)
        })
        .await
        .unwrap();
    let mut delays = Vec::new();
    for attempt in 1..=3u32 {
        let job = s
            .lease_job("w", Duration::from_secs(60), t)
            .await
            .unwrap()
            .expect("job due again");
        assert_eq!(job.attempts, attempt);
        let state = s
            .fail_job(id, "w", &format!("boom {attempt}"), t)
            .await
            .unwrap();
        let job = s.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            job.last_error.as_deref(),
            Some(format!("boom {attempt}").as_str())
        );
        if attempt < 3 {
            assert_eq!(state, JobState::Queued);
            let delay = job.run_at - t;
            delays.push(delay);
            assert!(
                s.lease_job(
                    "w",
                    Duration::from_secs(60),
                    t + delay - TDuration::seconds(1)
                )
                .await
                .unwrap()
                .is_none()
            );
            t += delay;
        } else {
            assert_eq!(state, JobState::Dead);
        }
    }
    assert_eq!(delays, vec![TDuration::seconds(10), TDuration::seconds(20)]);
    assert!(
        s.lease_job("w", Duration::from_secs(60), t + TDuration::days(1))
            .await
            .unwrap()
            .is_none()
    );
    let dead = s.list_jobs(JobState::Dead, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
}

async fn an_expired_lease_is_leased_again_and_the_old_worker_cannot_finish_it(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob::now("slow", json!({}), t))
        .await
        .unwrap();
    s.lease_job("dies", Duration::from_secs(30), t)
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.lease_job("other", Duration::from_secs(30), t + TDuration::seconds(29))
            .await
            .unwrap()
            .is_none()
    );
    let again = s
        .lease_job("other", Duration::from_secs(30), t + TDuration::seconds(31))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, id);
    assert_eq!(again.attempts, 2);
    assert!(matches!(
        s.complete_job(id, "dies", t).await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        s.fail_job(id, "dies", "x", t).await,
        Err(StoreError::LeaseLost { .. })
    ));
    s.complete_job(id, "other", t + TDuration::seconds(32))
        .await
        .unwrap();
    assert!(matches!(
        s.complete_job(Uuid::new_v4(), "other", t).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_renewed_lease_keeps_a_long_job_from_other_workers(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob::now("long", json!({}), t))
        .await
        .unwrap();
    s.lease_job("busy", Duration::from_secs(30), t)
        .await
        .unwrap()
        .unwrap();
    // Renewed at 25 s for another 30 s: nobody may take it at 40 s, when the first lease
    // would have run out.
    s.renew_job_lease(
        id,
        "busy",
        Duration::from_secs(30),
        t + TDuration::seconds(25),
    )
    .await
    .unwrap();
    assert!(
        s.lease_job("other", Duration::from_secs(30), t + TDuration::seconds(40))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.renew_job_lease(id, "other", Duration::from_secs(30), t)
            .await,
        Err(StoreError::LeaseLost { .. })
    ));
    // Without further renewal the lease runs out at 55 s and the job is taken over; the first
    // worker can no longer renew it.
    let again = s
        .lease_job("other", Duration::from_secs(30), t + TDuration::seconds(56))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, id);
    assert!(matches!(
        s.renew_job_lease(
            id,
            "busy",
            Duration::from_secs(30),
            t + TDuration::seconds(57)
        )
        .await,
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        s.renew_job_lease(Uuid::new_v4(), "busy", Duration::from_secs(30), t)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_lease_that_expires_on_the_final_attempt_dead_letters_the_job(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob {
            max_attempts: 1,
            ..NewJob::now("crashy", json!({}), t)
        })
        .await
        .unwrap();
    s.lease_job("w", Duration::from_secs(10), t)
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.lease_job("w2", Duration::from_secs(10), t + TDuration::seconds(11))
            .await
            .unwrap()
            .is_none()
    );
    let job = s.get_job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    assert!(job.last_error.unwrap().contains("lease expired"));
}

async fn a_dead_job_can_be_retried_by_an_operator(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let id = s
        .enqueue_job(&NewJob {
            max_attempts: 1,
            ..NewJob::now("once", json!({}), t)
        })
        .await
        .unwrap();
    assert!(matches!(
        s.retry_dead_job(id, t).await,
        Err(StoreError::Invalid(_))
    ));
    s.lease_job("w", Duration::from_secs(10), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.fail_job(id, "w", "nope", t).await.unwrap(),
        JobState::Dead
    );
    s.retry_dead_job(id, t).await.unwrap();
    let job = s
        .lease_job("w", Duration::from_secs(10), t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.id, job.attempts), (id, 1));
}

async fn concurrent_workers_with_separate_pools_complete_every_job_exactly_once(db: &TestDb) {
    const JOBS: usize = 120;
    const WORKERS: usize = 5;
    let start = now();
    let mut ids = Vec::new();
    for n in 0..JOBS {
        ids.push(
            db.store
                .enqueue_job(&NewJob::now("count", json!({ "n": n }), start))
                .await
                .unwrap(),
        );
    }
    let completed: Arc<Mutex<HashMap<Uuid, usize>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = db.location.open(2).await;
        let completed = completed.clone();
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w}");
            let mut abandoned = 0;
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while std::time::Instant::now() < deadline {
                let Some(job) = store
                    .lease_job(&worker, Duration::from_millis(300), now())
                    .await
                    .unwrap()
                else {
                    if store.job_counts().await.unwrap().done as usize == JOBS {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                // Worker 0 "crashes" on a few jobs: it walks away and the lease must expire.
                if w == 0 && abandoned < 3 {
                    abandoned += 1;
                    continue;
                }
                match store.complete_job(job.id, &worker, now()).await {
                    Ok(()) => *completed.lock().unwrap().entry(job.id).or_default() += 1,
                    Err(StoreError::LeaseLost { .. }) => {}
                    Err(e) => panic!("complete failed: {e}"),
                }
            }
            store.close().await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let completed = completed.lock().unwrap().clone();
    assert_eq!(completed.len(), JOBS, "every job completed (none lost)");
    assert!(
        completed.values().all(|&n| n == 1),
        "no job completed twice"
    );
    for id in ids {
        assert_eq!(
            db.store.get_job(id).await.unwrap().unwrap().state,
            JobState::Done
        );
    }
}
