//! TLP on the read path: a sealed (AMBER+STRICT) case is visible only to those the label
//! admits, and everyone else gets the same 404 as for a case that does not exist.

use axum::http::StatusCode;
use serde_json::json;
use sx_domain::Role;

use crate::util::TestApp;

crate::both_backends!(
    an_amber_strict_case_is_hidden_from_outsiders_and_shown_to_its_maintainer_and_assigned_expert,
    comments_are_filtered_by_their_own_label_and_only_participants_may_write,
    every_case_route_treats_a_sealed_case_like_a_missing_one_for_every_outsider,
);

async fn an_amber_strict_case_is_hidden_from_outsiders_and_shown_to_its_maintainer_and_assigned_expert()
 {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let outsider_expert = app.expert("oscar").await;
    let unrelated = app.maintainer("umberto").await;
    let admin = app.user("root", &[Role::Admin, Role::Coordinator]).await;
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}");

    let maintainer_view = alice.get(&app, &path).await;
    assert_eq!(maintainer_view.status, StatusCode::OK);
    assert_eq!(maintainer_view.json["tlp"], "amber-strict");

    let claimed = eve.post(&app, &format!("{path}/claim"), json!({})).await;
    assert_eq!(claimed.status, StatusCode::OK, "{:?}", claimed.json);
    let expert_view = eve.get(&app, &path).await;
    assert_eq!(expert_view.status, StatusCode::OK);
    assert!(
        expert_view.json["participants"].as_array().unwrap().len() >= 2,
        "participants see the named list"
    );

    let missing = app
        .get_anon(&format!("/api/v1/cases/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for (who, r) in [
        ("anonymous", app.get_anon(&path).await),
        ("unrelated maintainer", unrelated.get(&app, &path).await),
        (
            "expert outside the subgroup",
            outsider_expert.get(&app, &path).await,
        ),
        ("admin without need to know", admin.get(&app, &path).await),
    ] {
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{who} must not see the case"
        );
        assert_eq!(
            r.json, missing.json,
            "{who}: a hidden case must look exactly like a missing one"
        );
        assert!(
            !r.json.to_string().contains("acme"),
            "{who}: nothing of the case may leak"
        );
    }
    // The change text follows the case's label.
    let change = alice.get(&app, &format!("{path}/change")).await;
    assert_eq!(change.status, StatusCode::OK);
    assert_eq!(change.json["diff"], crate::util::DODGY_DIFF);
    assert!(
        change.json["patch_ref"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        eve.get(&app, &format!("{path}/change")).await.status,
        StatusCode::OK
    );
    for r in [
        app.get_anon(&format!("{path}/change")).await,
        unrelated.get(&app, &format!("{path}/change")).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json, missing.json);
    }
    // Outsiders cannot act on it either.
    let r = outsider_expert
        .post(&app, &format!("{path}/claim"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = unrelated
        .post(
            &app,
            &format!("{path}/decision"),
            json!({ "outcome": "merged" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn comments_are_filtered_by_their_own_label_and_only_participants_may_write() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let unrelated = app.maintainer("umberto").await;
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let path = format!("/api/v1/cases/{id}/comments");
    eve.post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;

    let shared = alice
        .post(
            &app,
            &path,
            json!({ "body": "the author opened three PRs today" }),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{:?}", shared.json);
    assert_eq!(shared.json["tlp"], "amber-strict");
    let red = alice
        .post(&app, &path, json!({ "body": "private: I know who this is", "tlp": "red", "recipients": [alice.user.id] }))
        .await;
    assert_eq!(red.status, StatusCode::CREATED, "{:?}", red.json);

    let for_alice = alice.get(&app, &path).await;
    assert_eq!(for_alice.json.as_array().unwrap().len(), 2);
    let for_eve = eve.get(&app, &path).await;
    assert_eq!(
        for_eve.json.as_array().unwrap().len(),
        1,
        "the RED comment is only for its recipients"
    );
    assert!(!for_eve.json.to_string().contains("I know who"));
    assert_eq!(app.get_anon(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unrelated.get(&app, &path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        unrelated
            .post(&app, &path, json!({ "body": "hi" }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let stranger = alice
        .post(
            &app,
            &path,
            json!({ "body": "x", "tlp": "red", "recipients": [unrelated.user.id] }),
        )
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "recipients must be named participants"
    );
}

/// For every case-scoped route in the route table and every outsider role, a sealed case must
/// answer exactly like a case that does not exist (and reads must be 404); once published,
/// every read route answers everyone.
async fn every_case_route_treats_a_sealed_case_like_a_missing_one_for_every_outsider() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let eve = app.expert("eve").await;
    let outsiders = [
        (
            "unrelated maintainer",
            Some(app.maintainer("umberto").await),
        ),
        (
            "expert outside the subgroup",
            Some(app.expert("oscar").await),
        ),
        ("admin", Some(app.user("root", &[Role::Admin]).await)),
        (
            "coordinator of nothing",
            Some(app.user("cora", &[Role::Coordinator]).await),
        ),
        ("anonymous", None),
    ];
    app.javascript_subgroup(&[&eve]).await;
    let id = app.submit(&alice).await;
    app.run_jobs().await;
    let missing = uuid::Uuid::now_v7().to_string();
    let fill = |path: &str, case: &str| {
        path.replace("{id}", case)
            .replace("{review_id}", "0190f5c4-0000-7000-8000-000000000001")
            .replace("{extension_id}", "0190f5c4-0000-7000-8000-000000000002")
    };
    let case_routes: Vec<_> = sx_server::routes::ROUTES
        .iter()
        .filter(|r| r.path.contains("{id}"))
        // The public stub is meant for everyone (existence, subgroups, date; never content);
        // the TLP matrix checks that it carries no content.
        .filter(|r| !r.path.ends_with("/public"))
        .collect();
    assert!(case_routes.len() >= 10, "{case_routes:?}");
    for route in &case_routes {
        let method: axum::http::Method = route.method.parse().unwrap();
        let body = (method != axum::http::Method::GET).then(|| json!({}));
        for (who, user) in &outsiders {
            let token = user.as_ref().map(|u| u.token.as_str());
            let real = app
                .call(method.clone(), &fill(route.path, &id), token, body.clone())
                .await;
            let fake = app
                .call(
                    method.clone(),
                    &fill(route.path, &missing),
                    token,
                    body.clone(),
                )
                .await;
            assert_eq!(
                (real.status, &real.json),
                (fake.status, &fake.json),
                "{who} on {route:?}"
            );
            assert!(
                !real.status.is_success(),
                "{who} on {route:?}: {:?}",
                real.json
            );
            if method == axum::http::Method::GET {
                assert_eq!(real.status, StatusCode::NOT_FOUND, "{who} on {route:?}");
            }
        }
    }

    // Publish, then every read route answers everyone.
    eve.post(&app, &format!("/api/v1/cases/{id}/claim"), json!({}))
        .await;
    alice
        .post(
            &app,
            &format!("/api/v1/cases/{id}/decision"),
            json!({ "outcome": "rejected" }),
        )
        .await;
    app.run_jobs().await;
    for route in case_routes.iter().filter(|r| r.method == "GET") {
        for (who, user) in &outsiders {
            let token = user.as_ref().map(|u| u.token.as_str());
            let r = app
                .call(axum::http::Method::GET, &fill(route.path, &id), token, None)
                .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{who} on {route:?} after publication: {:?}",
                r.json
            );
        }
    }
}
