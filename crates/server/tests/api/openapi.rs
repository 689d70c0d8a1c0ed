//! The OpenAPI document: complete with respect to the route table, and snapshotted.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use sx_server::routes::ROUTES;

use crate::util::TestApp;

crate::both_backends!(
    every_route_is_documented_and_every_documented_route_exists,
    every_route_in_the_table_is_served_by_the_router,
);

async fn every_route_is_documented_and_every_documented_route_exists() {
    let app = TestApp::new().await;
    let r = app.get_anon("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = r.json["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, routed);
}

async fn every_route_in_the_table_is_served_by_the_router() {
    let app = TestApp::new().await;
    for route in ROUTES {
        let path = route
            .path
            .replace("{id}", "0190f5c4-0000-7000-8000-000000000000")
            .replace("{review_id}", "0190f5c4-0000-7000-8000-000000000001")
            .replace("{extension_id}", "0190f5c4-0000-7000-8000-000000000002");
        let method = route.method.parse().unwrap();
        let r = app.call(method, &path, None, None).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{route:?}");
        assert!(
            !(r.status == StatusCode::NOT_FOUND
                && r.json["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such endpoint")),
            "{route:?} is not routed"
        );
    }
}

#[test]
fn the_document_matches_its_snapshot() {
    let doc = sx_server::api::openapi::build(
        "http://127.0.0.1:8080",
        sx_server::config::DEFAULT_MAX_CHANGE_BYTES,
    );
    insta::assert_json_snapshot!("openapi", doc);
}
