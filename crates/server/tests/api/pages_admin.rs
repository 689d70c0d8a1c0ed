//! The web UI's settings and administration forms, in process: notification preferences saved
//! through the API's own rules; subgroups, members and account state changed through the
//! functions `s-express admin` runs, by those the domain allows, each form CSRF-protected.

use axum::http::{Method, StatusCode};
use sx_store::Store;
use time::OffsetDateTime;

use crate::pages::Browser;
use crate::util::TestApp;

crate::both_backends!(
    settings_save_notification_preferences_with_the_apis_checks,
    coordinators_create_subgroups_and_change_members_by_form,
    admins_disable_and_enable_accounts_and_others_may_not,
);

async fn settings_save_notification_preferences_with_the_apis_checks() {
    let app = TestApp::new().await;
    let alice = app.maintainer("alice").await;
    let mut b = Browser::signed_in(&app, &alice.user).await;
    let page = b.get("/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    // Nothing saved yet: the boxes show the API's defaults, the channels are empty.
    assert_eq!(
        page.count("#notifications-form input[name=event][checked]"),
        4,
        "report-attached, assessed, second-review, published"
    );
    assert_eq!(page.count("#notifications-form input[name=event]"), 6);
    assert_eq!(page.attr("#notify-email", "value").as_deref(), Some(""));
    let csrf = page.csrf();

    // Without the token nothing is saved.
    let r = b
        .post(
            "/settings/notifications",
            &[("email", "alice@example.org"), ("event", "published")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let stored = app
        .state
        .store
        .get_notify_settings(alice.user.id)
        .await
        .unwrap();
    assert!(stored.is_none(), "nothing saved without the form's token");

    // The API's checks apply and their reasons show on the page.
    let r = b
        .post(
            "/settings/notifications",
            &[("csrf", &csrf), ("email", "Alice <alice@example.org>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text("#form-error").contains("plain address"),
        "{}",
        r.body
    );
    let r = b
        .post(
            "/settings/notifications",
            &[("csrf", &csrf), ("webhook_url", "http://10.0.0.8/hook")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text("#form-error").contains("private"), "{}", r.body);
    let r = b
        .post(
            "/settings/notifications",
            &[("csrf", &csrf), ("event", "<script>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text("#form-error").contains("unknown event"));
    assert!(!r.body.contains("<script>"));

    // E-mail only, two events: saved, back to the page with a notice.
    let r = b
        .post(
            "/settings/notifications",
            &[
                ("csrf", &csrf),
                ("email", " alice@example.org "),
                ("event", "assessed"),
                ("event", "published"),
                ("webhook_url", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/settings?done=notifications#notifications");
    let stored = app
        .state
        .store
        .get_notify_settings(alice.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.email.as_deref(), Some("alice@example.org"));
    assert_eq!(
        stored.events.iter().cloned().collect::<Vec<_>>(),
        vec!["assessed", "published"]
    );
    assert!(stored.webhook_url.is_none());
    let page = b.get("/settings?done=notifications").await;
    assert!(
        page.text("[role=status]")
            .contains("notification preferences")
    );
    assert_eq!(
        page.count("#notifications-form input[name=event][checked]"),
        2
    );
    assert_eq!(
        page.attr("#notify-email", "value").as_deref(),
        Some("alice@example.org")
    );

    // A webhook: its secret is shown once, on the answer that created it.
    let r = b
        .post(
            "/settings/notifications",
            &[
                ("csrf", &csrf),
                ("email", "alice@example.org"),
                ("event", "published"),
                ("webhook_url", "https://hooks.example.org/sx"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.text("#new-webhook-secret code.secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = app
        .state
        .store
        .get_notify_settings(alice.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.webhook_secret.as_deref(), Some(secret.as_str()));
    let page = b.get("/settings").await;
    assert_eq!(page.count("#new-webhook-secret"), 0);
    assert!(!page.body.contains(&secret), "never shown again");
    assert_eq!(
        page.attr("#notify-webhook", "value").as_deref(),
        Some("https://hooks.example.org/sx")
    );
    // Saving again keeps the secret; asking for a new one replaces it.
    let keep = [
        ("csrf", csrf.as_str()),
        ("webhook_url", "https://hooks.example.org/sx"),
    ];
    assert_eq!(
        b.post("/settings/notifications", &keep).await.status,
        StatusCode::SEE_OTHER
    );
    let same = app
        .state
        .store
        .get_notify_settings(alice.user.id)
        .await
        .unwrap()
        .unwrap()
        .webhook_secret;
    assert_eq!(same.as_deref(), Some(secret.as_str()));
    assert_eq!(page.count("input[name=rotate_webhook_secret]"), 1);
    let r = b
        .post(
            "/settings/notifications",
            &[
                ("csrf", &csrf),
                ("webhook_url", "https://hooks.example.org/sx"),
                ("rotate_webhook_secret", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let rotated = r.text("#new-webhook-secret code.secret");
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    // The page and the API read the same settings.
    let api = alice.get(&app, "/api/v1/me/notifications").await;
    assert_eq!(
        api.json["email"],
        serde_json::Value::Null,
        "cleared by the last save"
    );
    assert_eq!(api.json["webhook"]["url"], "https://hooks.example.org/sx");
}

async fn coordinators_create_subgroups_and_change_members_by_form() {
    let app = TestApp::new().await;
    let cora = app.coordinator("cora").await;
    let erin = app.expert("erin").await;
    let alice = app.maintainer("alice").await;
    let mut c = Browser::signed_in(&app, &cora.user).await;
    let page = c.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_html();
    assert_eq!(page.count("#no-subgroups"), 1);
    assert_eq!(page.count("#create-subgroup-form"), 1);
    assert_eq!(
        page.count("#users form"),
        0,
        "coordinators do not disable accounts"
    );
    let csrf = page.csrf();

    // Without the token: nothing.
    let r = c
        .post(
            "/admin/subgroups",
            &[
                ("slug", "python"),
                ("name", "Python"),
                ("language", "python"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.state.store.list_subgroups().await.unwrap().is_empty());
    // The shared rules: slug form, routing, known values.
    for (fields, says) in [
        (
            vec![
                ("slug", "Py Thon"),
                ("name", "Python"),
                ("language", "python"),
            ],
            "invalid subgroup slug",
        ),
        (
            vec![("slug", "python"), ("name", "Python")],
            "would take no cases",
        ),
        (
            vec![
                ("slug", "python"),
                ("name", "Python"),
                ("language", "cobol"),
            ],
            "unknown language",
        ),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let r = c.post("/admin/subgroups", &all).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        assert!(
            r.text("#form-error").contains(says),
            "{}",
            r.text("#form-error")
        );
    }
    let r = c
        .post(
            "/admin/subgroups",
            &[
                ("csrf", &csrf),
                ("slug", "python"),
                ("name", "Python and PyPI"),
                ("language", "python"),
                ("vector", "install-hook"),
                ("vector", "dependency"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin?done=subgroup-created");
    let group = app.subgroup("python").await;
    assert_eq!(group.name, "Python and PyPI");
    assert_eq!(group.kind, sx_domain::SubgroupKind::Language);
    assert_eq!(group.routing.vectors.len(), 2);
    let dup = c.create_subgroup(&csrf, "python", "Again", "go").await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(dup.text("#form-error").contains("already exists"));

    // Members: only experts and coordinators; added once; removed.
    let r = c
        .membership("/admin/subgroups/members", &csrf, "alice")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text("#form-error")
            .contains("neither an expert nor a coordinator")
    );
    let r = c
        .membership("/admin/subgroups/members", &csrf, "nobody")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text("#form-error").contains("no user with the handle"));
    let r = c
        .membership("/admin/subgroups/members", &csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get("/admin?done=member-added").await;
    assert!(page.text("#notice").contains("member was added"));
    assert_eq!(page.texts("#subgroups ul.members .mono"), vec!["erin"]);
    let again = c
        .membership("/admin/subgroups/members", &csrf, "erin")
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text("#form-error").contains("already a member"));
    assert_eq!(app.subgroup("python").await.members, vec![erin.user.id]);
    // The remove button next to the member.
    assert_eq!(
        page.attr("#subgroups ul.members form", "action").as_deref(),
        Some("/admin/subgroups/members/remove")
    );
    let r = c
        .membership("/admin/subgroups/members/remove", &csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.subgroup("python").await.members.is_empty());
    let r = c
        .membership("/admin/subgroups/members/remove", &csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text("#form-error").contains("not a member"));

    // A maintainer may do none of it.
    let (mut m, token) = Browser::signed_in_with_csrf(&app, &alice.user).await;
    let r = m.create_subgroup(&token, "go", "Go", "go").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = m
        .membership("/admin/subgroups/members", &token, "erin")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.state.store.list_subgroups().await.unwrap().len(), 1);
}

async fn admins_disable_and_enable_accounts_and_others_may_not() {
    let app = TestApp::new().await;
    let root = app.admin("root").await;
    let cora = app.coordinator("cora").await;
    let bob = app.maintainer("bob").await;
    let bob_session =
        sx_server::accounts::start_session(&app.state, bob.user.id, OffsetDateTime::now_utc())
            .await
            .unwrap();

    // A coordinator may not.
    let (mut c, token) = Browser::signed_in_with_csrf(&app, &cora.user).await;
    let r = c
        .post("/admin/users/bob/disable", &[("csrf", &token)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text("#form-error").contains("only admins"), "{}", r.body);

    let mut a = Browser::signed_in(&app, &root.user).await;
    let page = a.get("/admin?user=bob").await;
    assert!(page.text("#found-user").contains("active"));
    assert_eq!(
        page.attr("#found-user-action", "action").as_deref(),
        Some("/admin/users/bob/disable")
    );
    assert!(
        page.texts("#users tbody td:first-child .mono")
            .contains(&"bob".to_string())
    );
    // The admin's own row has no button; the lone admin cannot lock themselves out.
    let csrf = page.csrf();
    let r = a.post("/admin/users/bob/disable", &[("csrf", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!app.account("bob").await.disabled);
    let r = a
        .post("/admin/users/root/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text("#form-error").contains("your own account"));

    let r = a.post("/admin/users/bob/disable", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin?done=user-disabled&user=bob");
    let page = a.get(r.location()).await;
    assert!(page.text("#notice").contains("disabled"));
    assert!(page.text("#found-user").contains("disabled"));
    assert!(app.account("bob").await.disabled);
    // Bob's token and session stopped working at once.
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&bob.token), None)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let mut bob_browser = Browser::new(&app);
    bob_browser
        .cookies
        .insert("sx_session".into(), bob_session.secret);
    assert_eq!(
        bob_browser.get("/settings").await.status,
        StatusCode::SEE_OTHER,
        "sent to the login page"
    );

    let r = a.post("/admin/users/bob/enable", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.account("bob").await.disabled);
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&bob.token), None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "tokens work again");
    let r = a
        .post("/admin/users/ghost/disable", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text("#form-error").contains("no user with the handle"));
}
