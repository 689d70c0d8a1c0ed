//! Webhook delivery ids: the daily `prune_forge_deliveries` job forgets ids older than the
//! retention, and the ids it keeps still refuse a replay.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use sx_server::ConfigLayer;
use sx_server::hooks::settings::{ForgeLayer, Secret};
use sx_server::jobs::prune_forge_deliveries;
use sx_store::{JobState, Store};
use time::{Duration, OffsetDateTime};

use crate::util::TestApp;

crate::both_backends!(old_delivery_ids_are_pruned_and_recent_ones_still_block_a_replay,);

const TOKEN: &str = "api-gitlab-token";

/// Delivers a `Push Hook` (recorded, then ignored) with this delivery id; returns the status
/// field of the answer.
async fn deliver(app: &TestApp, id: &str) -> String {
    let request = Request::builder()
        .method("POST")
        .uri("/hooks/gitlab")
        .header("content-type", "application/json")
        .header("x-gitlab-token", TOKEN)
        .header("x-gitlab-event", "Push Hook")
        .header("x-gitlab-event-uuid", id)
        .body(Body::from(r#"{"object_kind":"push"}"#))
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.json);
    r.json["status"].as_str().unwrap().to_string()
}

async fn old_delivery_ids_are_pruned_and_recent_ones_still_block_a_replay() {
    let app = TestApp::with(ConfigLayer {
        gitlab: Some(ForgeLayer {
            webhook_secret: Some(Secret::new(TOKEN)),
            ..ForgeLayer::default()
        }),
        forge_delivery_retention_days: Some(30),
        ..ConfigLayer::default()
    })
    .await;
    let store = &app.state.store;
    let now = OffsetDateTime::now_utc();
    // Two ids from before the retention, one just inside it, one delivered now.
    for (id, age) in [("old-1", 45), ("old-2", 31), ("inside", 29)] {
        assert!(
            store
                .record_forge_delivery("gitlab", id, now - Duration::days(age))
                .await
                .unwrap()
        );
    }
    assert_eq!(deliver(&app, "recent").await, "ignored");
    for id in ["old-1", "old-2", "inside", "recent"] {
        assert_eq!(deliver(&app, id).await, "duplicate", "{id} before pruning");
    }

    // Housekeeping schedules one daily run (not a second one while it is queued).
    assert!(
        prune_forge_deliveries::schedule(&app.state, now)
            .await
            .unwrap()
    );
    assert!(
        !prune_forge_deliveries::schedule(&app.state, now)
            .await
            .unwrap()
    );
    let queued: Vec<_> = store
        .list_jobs(JobState::Queued, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.name == prune_forge_deliveries::NAME)
        .collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].run_at,
        prune_forge_deliveries::next_run(now),
        "due at the next daily run, not at once"
    );
    assert_eq!(app.run_jobs().await, 0, "not due yet");

    // The run when it is due: lease it as the worker would at that time.
    let due = prune_forge_deliveries::next_run(now) + Duration::seconds(1);
    let job = store
        .lease_job("test-worker", std::time::Duration::from_secs(60), due)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.name, prune_forge_deliveries::NAME);
    prune_forge_deliveries::run(&app.state, &job).await.unwrap();
    store
        .complete_job(job.id, "test-worker", due)
        .await
        .unwrap();

    // Pruned ids are forgotten: the same delivery is handled again (and recorded anew).
    assert_eq!(deliver(&app, "old-1").await, "ignored");
    assert_eq!(deliver(&app, "old-2").await, "ignored");
    // Kept ids still refuse a replay.
    assert_eq!(deliver(&app, "inside").await, "duplicate");
    assert_eq!(deliver(&app, "recent").await, "duplicate");
    // And the next run is scheduled again by housekeeping.
    assert!(
        prune_forge_deliveries::schedule(&app.state, now)
            .await
            .unwrap()
    );
}
