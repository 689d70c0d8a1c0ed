//! Stored open-dataset snapshots: one builder per day, takeover of a stopped builder, chunks
//! read back in order, only complete snapshots visible, old ones pruned.

use serde_json::json;
use sx_store::dataset::DatasetClaim;
use sx_store::{Store, StoreError};
use time::Duration;

use crate::TestDb;
use crate::fixtures::t0;

crate::conformance!(
    one_builder_claims_a_day_and_readers_see_only_complete_snapshots,
    a_stopped_builder_is_taken_over_and_cannot_write_into_the_new_snapshot,
    completing_keeps_the_newest_snapshots_and_drops_older_ones,
);

async fn one_builder_claims_a_day_and_readers_see_only_complete_snapshots(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let stale = |now: time::OffsetDateTime| now - Duration::minutes(10);
    let DatasetClaim::Started(id) = s
        .claim_dataset_snapshot("2026-11-20", "job-a", stale(t), t)
        .await
        .unwrap()
    else {
        panic!("the first claim starts a build");
    };
    assert_eq!(
        s.claim_dataset_snapshot("2026-11-20", "job-b", stale(t), t + Duration::minutes(1))
            .await
            .unwrap(),
        DatasetClaim::InProgress
    );
    assert_eq!(s.latest_dataset_snapshot().await.unwrap(), None);
    s.put_dataset_chunk(id, "jsonl", 0, b"{\"a\":1}\n", t)
        .await
        .unwrap();
    s.put_dataset_chunk(id, "jsonl", 1, b"{\"a\":2}\n", t)
        .await
        .unwrap();
    s.put_dataset_chunk(id, "csv", 0, b"a\r\n1\r\n", t)
        .await
        .unwrap();
    assert!(matches!(
        s.put_dataset_chunk(id, "jsonl", 1, b"again", t).await,
        Err(StoreError::Duplicate { .. })
    ));
    let building = s.get_dataset_snapshot("2026-11-20").await.unwrap().unwrap();
    assert_eq!(
        (building.state.as_str(), building.builder.as_str()),
        ("building", "job-a")
    );
    assert_eq!(building.doc, None);
    assert_eq!(
        s.latest_dataset_snapshot().await.unwrap(),
        None,
        "not complete yet"
    );

    let doc = json!({ "records": 2 });
    let done = t + Duration::minutes(2);
    s.complete_dataset_snapshot(id, &doc, 2, done)
        .await
        .unwrap();
    let latest = s.latest_dataset_snapshot().await.unwrap().unwrap();
    assert_eq!(latest.id, id);
    assert_eq!(latest.doc, Some(doc));
    assert_eq!(latest.generated_at, Some(done));
    assert_eq!(
        s.claim_dataset_snapshot("2026-11-20", "job-b", stale(done), done)
            .await
            .unwrap(),
        DatasetClaim::Complete
    );
    let mut jsonl = Vec::new();
    let mut seq = 0;
    while let Some(chunk) = s.get_dataset_chunk(id, "jsonl", seq).await.unwrap() {
        jsonl.extend(chunk);
        seq += 1;
    }
    assert_eq!(jsonl, b"{\"a\":1}\n{\"a\":2}\n");
    assert_eq!(
        s.get_dataset_chunk(id, "csv", 0).await.unwrap().as_deref(),
        Some(&b"a\r\n1\r\n"[..])
    );
    // A complete snapshot takes no more chunks.
    assert!(matches!(
        s.put_dataset_chunk(id, "csv", 1, b"x", done).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_stopped_builder_is_taken_over_and_cannot_write_into_the_new_snapshot(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let DatasetClaim::Started(dead) = s
        .claim_dataset_snapshot("2026-11-21", "job-a", t - Duration::minutes(10), t)
        .await
        .unwrap()
    else {
        panic!("first claim");
    };
    s.put_dataset_chunk(dead, "jsonl", 0, b"partial", t)
        .await
        .unwrap();
    // Eleven minutes without a heartbeat: stale for a ten-minute limit.
    let later = t + Duration::minutes(11);
    let DatasetClaim::Started(fresh) = s
        .claim_dataset_snapshot("2026-11-21", "job-b", later - Duration::minutes(10), later)
        .await
        .unwrap()
    else {
        panic!("a stale build is taken over");
    };
    assert_ne!(fresh, dead);
    assert_eq!(
        s.get_dataset_chunk(dead, "jsonl", 0).await.unwrap(),
        None,
        "partial files dropped"
    );
    assert!(matches!(
        s.put_dataset_chunk(dead, "jsonl", 1, b"late", later).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.complete_dataset_snapshot(dead, &json!({}), 2, later)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let row = s.get_dataset_snapshot("2026-11-21").await.unwrap().unwrap();
    assert_eq!((row.id, row.builder.as_str()), (fresh, "job-b"));
    // A failed build is abandoned, and the day can be claimed again at once.
    s.put_dataset_chunk(fresh, "csv", 0, b"x", later)
        .await
        .unwrap();
    s.abandon_dataset_snapshot(fresh).await.unwrap();
    assert_eq!(s.get_dataset_snapshot("2026-11-21").await.unwrap(), None);
    assert!(matches!(
        s.claim_dataset_snapshot("2026-11-21", "job-c", later - Duration::minutes(10), later)
            .await
            .unwrap(),
        DatasetClaim::Started(_)
    ));
}

async fn completing_keeps_the_newest_snapshots_and_drops_older_ones(db: &TestDb) {
    let s = &db.store;
    let t = t0();
    let mut ids = Vec::new();
    for day in 0..3 {
        let at = t + Duration::days(day);
        let DatasetClaim::Started(id) = s
            .claim_dataset_snapshot(&format!("2026-11-{:02}", 10 + day), "job", at, at)
            .await
            .unwrap()
        else {
            panic!("claim");
        };
        s.put_dataset_chunk(id, "jsonl", 0, format!("day {day}").as_bytes(), at)
            .await
            .unwrap();
        s.complete_dataset_snapshot(id, &json!({ "day": day }), 2, at)
            .await
            .unwrap();
        ids.push(id);
    }
    assert_eq!(
        s.latest_dataset_snapshot().await.unwrap().unwrap().id,
        ids[2]
    );
    assert_eq!(s.get_dataset_snapshot("2026-11-10").await.unwrap(), None);
    assert_eq!(s.get_dataset_chunk(ids[0], "jsonl", 0).await.unwrap(), None);
    assert!(
        s.get_dataset_snapshot("2026-11-11")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        s.get_dataset_chunk(ids[1], "jsonl", 0)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"day 1"[..])
    );
}
