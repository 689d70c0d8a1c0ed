//! Security headers, JSON errors for every rejection, body limits and authentication errors.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use sx_server::ConfigLayer;

use crate::util::{TestApp, TestResponse, submission};

crate::both_backends!(
    every_answer_carries_the_security_headers_even_errors,
    unknown_methods_and_malformed_ids_answer_in_json,
    bad_bodies_answer_in_json_with_stable_codes,
    a_body_over_the_limit_gets_a_json_413_that_says_what_to_do,
    bad_credentials_are_refused_not_downgraded_to_anonymous,
);

fn assert_security_headers(r: &TestResponse) {
    let csp = r
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        r.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
        "nosniff"
    );
    assert_eq!(
        r.headers.get(header::REFERRER_POLICY).unwrap(),
        "no-referrer"
    );
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
}

async fn every_answer_carries_the_security_headers_even_errors() {
    let app = TestApp::new().await;
    let ok = app.get_anon("/api/v1/health").await;
    assert_eq!(
        (ok.status, ok.json["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    assert_security_headers(&ok);
    let missing = app.get_anon("/api/v1/nope").await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_security_headers(&missing);
}

async fn unknown_methods_and_malformed_ids_answer_in_json() {
    let app = TestApp::new().await;
    let r = app.call(Method::PUT, "/api/v1/health", None, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let r = app.get_anon("/api/v1/cases/not-a-uuid").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

async fn bad_bodies_answer_in_json_with_stable_codes() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let auth = format!("Bearer {}", alice.token);
    let syntax = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/cases")
        .header(header::AUTHORIZATION, &auth)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let r = app.send(syntax).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let no_type = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/cases")
        .header(header::AUTHORIZATION, &auth)
        .body(Body::from(submission("x").to_string()))
        .unwrap();
    let r = app.send(no_type).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
}

async fn a_body_over_the_limit_gets_a_json_413_that_says_what_to_do() {
    let app = TestApp::with(ConfigLayer {
        max_change_bytes: Some(1024),
        ..ConfigLayer::default()
    })
    .await;
    let alice = app.maintainer("alice").await;
    // Far over the request limit (2 x 1 KiB + 64 KiB): the body is cut off while reading.
    let huge = "+a\n".repeat(100_000);
    let r = alice.post(&app, "/api/v1/cases", submission(&huge)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("split"),
        "{:?}",
        r.json
    );
}

async fn bad_credentials_are_refused_not_downgraded_to_anonymous() {
    let app = TestApp::new().await;
    let r = app
        .call(Method::GET, "/api/v1/health", Some("sxp_bogus"), None)
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "routes without authentication ignore credentials"
    );
    let r = app
        .call(
            Method::GET,
            "/api/v1/cases/0190f5c4-0000-7000-8000-000000000000",
            Some("sxp_bogus"),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let r = app.get_anon("/api/v1/me").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let basic = Request::builder()
        .uri("/api/v1/me")
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(basic).await.status, StatusCode::UNAUTHORIZED);
}
