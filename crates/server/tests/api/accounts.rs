//! Login, sessions, CSRF and personal API tokens.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use sx_domain::Role;
use sx_server::ConfigLayer;
use sx_server::accounts::{self, NewUser};
use sx_store::Store;
use time::OffsetDateTime;

use crate::util::{TestApp, TestResponse};

crate::both_backends!(
    logging_in_sets_an_http_only_same_site_cookie_and_returns_the_csrf_token,
    over_https_the_session_cookie_is_secure_and_host_prefixed,
    a_wrong_password_and_an_unknown_handle_get_the_same_answer,
    logins_are_rate_limited_per_account,
    cookie_authenticated_state_changes_need_the_csrf_token,
    tokens_are_shown_once_listed_without_secrets_and_dead_once_revoked,
    logging_out_ends_the_session,
    maintainers_register_and_experts_join_only_by_a_coordinators_invitation,
);

const PASSWORD: &str = "correct horse battery staple";

async fn user_with_password(app: &TestApp, handle: &str) {
    let new = NewUser {
        handle: handle.into(),
        display_name: None,
        password: Some(PASSWORD.into()),
        roles: [Role::Maintainer].into_iter().collect(),
    };
    accounts::create_user(&app.state.store, new, OffsetDateTime::now_utc())
        .await
        .unwrap();
}

async fn login(app: &TestApp, handle: &str, password: &str) -> TestResponse {
    app.call(
        Method::POST,
        "/api/v1/session",
        None,
        Some(json!({ "handle": handle, "password": password })),
    )
    .await
}

/// The `name=value` part of the Set-Cookie header.
fn cookie_pair(r: &TestResponse) -> String {
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie);
    if let Some(csrf) = csrf {
        b = b.header("x-csrf-token", csrf);
    }
    let request = match body {
        Some(body) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => b.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

async fn logging_in_sets_an_http_only_same_site_cookie_and_returns_the_csrf_token() {
    let app = TestApp::new().await;
    user_with_password(&app, "alice").await;
    let r = login(&app, "alice", PASSWORD).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("sx_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain-HTTP instances cannot use Secure cookies: {set}"
    );
    assert_eq!(r.json["user"]["handle"], "alice");
    let csrf = r.json["csrf_token"].as_str().unwrap().to_string();

    let me = with_cookie(
        &app,
        Method::GET,
        "/api/v1/me",
        &cookie_pair(&r),
        None,
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["authenticated_by"], "session");
    assert_eq!(me.json["csrf_token"], csrf.as_str());
}

async fn over_https_the_session_cookie_is_secure_and_host_prefixed() {
    let app = TestApp::with(ConfigLayer {
        public_base_url: Some("https://sx.example".into()),
        ..ConfigLayer::default()
    })
    .await;
    user_with_password(&app, "alice").await;
    let r = login(&app, "alice", PASSWORD).await;
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.starts_with("__Host-sx_session=") && set.contains("; Secure"),
        "{set}"
    );
    assert!(r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
}

async fn a_wrong_password_and_an_unknown_handle_get_the_same_answer() {
    let app = TestApp::new().await;
    user_with_password(&app, "alice").await;
    let wrong = login(&app, "alice", "not the password at all").await;
    let unknown = login(&app, "mallory", PASSWORD).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json, unknown.json);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
}

async fn logins_are_rate_limited_per_account() {
    let app = TestApp::with(ConfigLayer {
        login_burst: Some(2),
        login_per_minute: Some(1),
        ..ConfigLayer::default()
    })
    .await;
    user_with_password(&app, "alice").await;
    for _ in 0..2 {
        assert_eq!(
            login(&app, "alice", "wrong password here").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login(&app, "alice", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}

async fn cookie_authenticated_state_changes_need_the_csrf_token() {
    let app = TestApp::new().await;
    user_with_password(&app, "alice").await;
    let r = login(&app, "alice", PASSWORD).await;
    let cookie = cookie_pair(&r);
    let csrf = r.json["csrf_token"].as_str().unwrap().to_string();

    let body = json!({ "name": "laptop" });
    let missing = with_cookie(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &cookie,
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::FORBIDDEN, "csrf_failed")
    );
    let forged = with_cookie(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &cookie,
        Some("forged"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(forged.code(), "csrf_failed");
    let ok = with_cookie(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &cookie,
        Some(&csrf),
        Some(body),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.json);
}

async fn tokens_are_shown_once_listed_without_secrets_and_dead_once_revoked() {
    let app = TestApp::new().await;
    user_with_password(&app, "alice").await;
    let r = login(&app, "alice", PASSWORD).await;
    let (cookie, csrf) = (
        cookie_pair(&r),
        r.json["csrf_token"].as_str().unwrap().to_string(),
    );
    let created = with_cookie(
        &app,
        Method::POST,
        "/api/v1/tokens",
        &cookie,
        Some(&csrf),
        Some(json!({ "name": "cli", "expires_in_days": 30 })),
    )
    .await;
    let secret = created.json["token_secret"].as_str().unwrap().to_string();
    let id = created.json["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("sxp_") && secret.len() > 40, "{secret}");

    let me = app
        .call(Method::GET, "/api/v1/me", Some(&secret), None)
        .await;
    assert_eq!(
        (me.status, me.json["authenticated_by"].as_str()),
        (StatusCode::OK, Some("token"))
    );

    let list = app
        .call(Method::GET, "/api/v1/tokens", Some(&secret), None)
        .await;
    assert_eq!(list.json.as_array().unwrap().len(), 1);
    assert!(
        !list.json.to_string().contains(&secret),
        "the list must never contain the secret"
    );
    assert_eq!(list.json[0]["id"], id.as_str());

    // A token cannot mint more tokens.
    let minted = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            Some(&secret),
            Some(json!({ "name": "more" })),
        )
        .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN);

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = app
        .call(Method::GET, "/api/v1/me", Some(&secret), None)
        .await;
    assert_eq!(
        (after.status, after.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

async fn logging_out_ends_the_session() {
    let app = TestApp::new().await;
    user_with_password(&app, "alice").await;
    let r = login(&app, "alice", PASSWORD).await;
    let (cookie, csrf) = (
        cookie_pair(&r),
        r.json["csrf_token"].as_str().unwrap().to_string(),
    );
    let out = with_cookie(
        &app,
        Method::DELETE,
        "/api/v1/session",
        &cookie,
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let me = with_cookie(&app, Method::GET, "/api/v1/me", &cookie, None, None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

async fn maintainers_register_and_experts_join_only_by_a_coordinators_invitation() {
    let app = TestApp::new().await;
    let registered = app
        .call(
            Method::POST,
            "/api/v1/users",
            None,
            Some(json!({ "handle": "newmaint", "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{:?}",
        registered.json
    );
    assert_eq!(registered.json["roles"], json!(["maintainer"]));
    assert_eq!(
        login(&app, "newmaint", PASSWORD).await.status,
        StatusCode::CREATED
    );
    let taken = app
        .call(
            Method::POST,
            "/api/v1/users",
            None,
            Some(json!({ "handle": "newmaint", "password": PASSWORD })),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let eve = app.expert("eve").await;
    let carol = app.user("carol", &[Role::Coordinator]).await;
    let js = app.javascript_subgroup(&[&eve]).await;
    let self_promotion = eve
        .post(
            &app,
            "/api/v1/invitations",
            json!({ "email": "x@example.org" }),
        )
        .await;
    assert_eq!(
        self_promotion.status,
        StatusCode::FORBIDDEN,
        "experts cannot invite"
    );
    let admin_role = carol
        .post(
            &app,
            "/api/v1/invitations",
            json!({ "email": "x@example.org", "roles": ["admin"] }),
        )
        .await;
    assert_eq!(
        admin_role.status,
        StatusCode::FORBIDDEN,
        "coordinators invite experts only"
    );
    let invited = carol
        .post(
            &app,
            "/api/v1/invitations",
            json!({ "email": "frank@example.org", "subgroup": "javascript" }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.json);
    let token = invited.json["invitation_token"]
        .as_str()
        .unwrap()
        .to_string();

    let weak = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({ "token": token, "handle": "frank", "password": "short" })),
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused password does not use up the invitation"
    );
    let accept = json!({ "token": token, "handle": "frank", "password": PASSWORD });
    let joined = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(accept.clone()),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{:?}", joined.json);
    assert_eq!(joined.json["roles"], json!(["expert"]));
    let frank_id = joined.json["id"].as_str().unwrap().to_string();
    let subgroup = app
        .state
        .store
        .get_subgroup(js.id)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(
        subgroup.members.iter().any(|m| m.to_string() == frank_id),
        "frank joined the subgroup"
    );
    let again = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({ "token": token, "handle": "frank2", "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "an invitation works once"
    );
}
