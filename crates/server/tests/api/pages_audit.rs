//! The audit trail from the web: every privileged action on `/admin` (and the invitation API)
//! leaves exactly one record naming its actor; refusals leave none; admins grant and revoke
//! roles by form; only admins read the log, newest first, a page at a time, escaped.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sx_domain::{AuditAction, AuditActor, AuditEvent, AuditTarget, Role};
use sx_store::{AuditFilter, AuditRecord, Store};
use time::OffsetDateTime;

use crate::pages::Browser;
use crate::util::TestApp;

crate::both_backends!(
    each_admin_action_records_exactly_one_audit_record_with_its_actor,
    admins_grant_and_revoke_roles_by_form_and_others_may_not,
    only_admins_see_the_audit_log_newest_first_paged_and_escaped,
);

async fn trail(app: &TestApp) -> Vec<AuditRecord> {
    app.state
        .store
        .list_audit(&AuditFilter::newest(500))
        .await
        .unwrap()
}

/// Asserts that exactly one record was added since `before` records, and returns it.
async fn one_new(app: &TestApp, before: usize, what: &str) -> AuditEvent {
    let all = trail(app).await;
    assert_eq!(
        all.len(),
        before + 1,
        "{what}: exactly one record expected, got {:#?}",
        &all[..all.len().saturating_sub(before)]
    );
    all[0].event.clone()
}

async fn each_admin_action_records_exactly_one_audit_record_with_its_actor() {
    let app = TestApp::new().await;
    let root = app.admin("root").await;
    let cora = app.coordinator("cora").await;
    let erin = app.expert("erin").await;
    let bob = app.maintainer("bob").await;
    assert!(
        trail(&app).await.is_empty(),
        "registration is not privileged"
    );
    let (mut c, c_csrf) = Browser::signed_in_with_csrf(&app, &cora.user).await;
    let (mut a, a_csrf) = Browser::signed_in_with_csrf(&app, &root.user).await;
    let by_cora = AuditActor::User(cora.user.id);
    let by_root = AuditActor::User(root.user.id);

    // A coordinator creates a subgroup and changes its members.
    let r = c
        .create_subgroup(&c_csrf, "python", "Python", "python")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let group = app.subgroup("python").await;
    let e = one_new(&app, 0, "subgroup created").await;
    assert_eq!(
        (e.actor, e.action, e.target),
        (
            by_cora,
            AuditAction::SubgroupCreated,
            AuditTarget::Subgroup(group.id)
        )
    );
    assert_eq!(e.details["subgroup"], "python");
    assert_eq!(e.details["languages"], "python");

    let r = c
        .membership("/admin/subgroups/members", &c_csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let e = one_new(&app, 1, "member added").await;
    assert_eq!(
        (e.actor, e.action, e.target),
        (
            by_cora,
            AuditAction::MemberAdded,
            AuditTarget::User(erin.user.id)
        )
    );
    assert_eq!(
        (e.details["handle"].as_str(), e.details["subgroup"].as_str()),
        ("erin", "python")
    );
    // Refusals record nothing: a second add, a duplicate subgroup, no CSRF token.
    let r = c
        .membership("/admin/subgroups/members", &c_csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = c.create_subgroup(&c_csrf, "python", "Again", "go").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = c
        .post(
            "/admin/subgroups/members/remove",
            &[("subgroup", "python"), ("handle", "erin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(trail(&app).await.len(), 2, "refusals are not recorded");

    let r = c
        .membership("/admin/subgroups/members/remove", &c_csrf, "erin")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let e = one_new(&app, 2, "member removed").await;
    assert_eq!(
        (e.actor, e.action, e.target),
        (
            by_cora,
            AuditAction::MemberRemoved,
            AuditTarget::User(erin.user.id)
        )
    );

    // An invitation from the page, and one through the API.
    let r = c
        .post(
            "/admin/invitations",
            &[
                ("csrf", &c_csrf),
                ("email", "newbie@example.org"),
                ("subgroup", "python"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let e = one_new(&app, 3, "invitation from the page").await;
    assert_eq!(
        (e.actor, e.action, e.target),
        (
            by_cora,
            AuditAction::InvitationCreated,
            AuditTarget::Invitation
        )
    );
    assert_eq!(e.details["email"], "newbie@example.org");
    assert_eq!(e.details["roles"], "expert");
    assert_eq!(e.details["subgroup"], "python");
    let link = r.text("#invitation code.secret");
    let secret = link.rsplit('/').next().unwrap();
    assert!(secret.starts_with("sxi_"), "{link}");
    assert!(
        e.details.values().all(|v| !v.contains(secret)),
        "the invitation token is never recorded"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations",
            Some(&root.token),
            Some(json!({"email": "boss@example.org", "roles": ["coordinator"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let e = one_new(&app, 4, "invitation through the API").await;
    assert_eq!(
        (e.actor, e.action),
        (by_root, AuditAction::InvitationCreated)
    );
    assert_eq!(e.details["roles"], "coordinator");
    // Refused by the API: a coordinator inviting an admin.
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations",
            Some(&cora.token),
            Some(json!({"email": "x@example.org", "roles": ["admin"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(trail(&app).await.len(), 5);

    // An admin disables and enables an account, grants and revokes a role.
    let steps = [
        ("/admin/users/bob/disable", None, AuditAction::UserDisabled),
        ("/admin/users/bob/enable", None, AuditAction::UserEnabled),
        (
            "/admin/users/bob/roles/grant",
            Some("expert"),
            AuditAction::RoleGranted,
        ),
        (
            "/admin/users/bob/roles/revoke",
            Some("expert"),
            AuditAction::RoleRevoked,
        ),
    ];
    for (i, (path, role, action)) in steps.into_iter().enumerate() {
        let mut fields = vec![("csrf", a_csrf.as_str())];
        fields.extend(role.map(|r| ("role", r)));
        let r = a.post(path, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        let e = one_new(&app, 5 + i, path).await;
        assert_eq!(
            (e.actor, e.action, e.target),
            (by_root, action, AuditTarget::User(bob.user.id)),
            "{path}"
        );
        assert_eq!(e.details["handle"], "bob");
        if let Some(role) = role {
            assert_eq!(e.details["role"], role);
        }
    }
    // Granting a role held already changes and records nothing; refusals neither.
    let r = a
        .post(
            "/admin/users/bob/roles/grant",
            &[("csrf", &a_csrf), ("role", "maintainer")],
        )
        .await;
    assert_eq!(r.location(), "/admin?done=role-unchanged&user=bob");
    let r = a
        .post("/admin/users/root/disable", &[("csrf", &a_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post("/admin/users/bob/disable", &[("csrf", &c_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let all = trail(&app).await;
    assert_eq!(all.len(), 9, "{all:#?}");
    // Newest first, numbered in order.
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    assert!(all.windows(2).all(|w| w[0].event.at >= w[1].event.at));
    let now = OffsetDateTime::now_utc();
    assert!(all.iter().all(|r| (now - r.event.at).whole_minutes() < 5));
}

async fn admins_grant_and_revoke_roles_by_form_and_others_may_not() {
    let app = TestApp::new().await;
    let root = app.admin("root").await;
    let cora = app.coordinator("cora").await;
    app.maintainer("bob").await;
    let role_of = async |handle: &str| app.account(handle).await.user;

    // Coordinators see no role forms and are refused if they post one.
    let mut c = Browser::signed_in(&app, &cora.user).await;
    let page = c.get("/admin?user=bob").await;
    assert_eq!(page.count("#grant-role-form, #revoke-role-form"), 0);
    let token = page.csrf();
    let r = c
        .post(
            "/admin/users/bob/roles/grant",
            &[("csrf", &token), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text("#form-error").contains("only admins"), "{}", r.body);
    assert!(!role_of("bob").await.has_role(Role::Admin));

    let mut a = Browser::signed_in(&app, &root.user).await;
    let page = a.get("/admin?user=bob").await;
    page.assert_html();
    assert_eq!(
        page.attr("#grant-role-form", "action").as_deref(),
        Some("/admin/users/bob/roles/grant")
    );
    assert_eq!(
        page.texts("#grant-role option"),
        vec!["expert", "coordinator", "admin"],
        "the roles bob lacks"
    );
    assert_eq!(page.texts("#revoke-role option"), vec!["maintainer"]);
    let csrf = page.csrf();

    // CSRF: without the token nothing changes.
    let r = a
        .post("/admin/users/bob/roles/grant", &[("role", "expert")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!role_of("bob").await.has_role(Role::Expert));
    let r = a
        .post(
            "/admin/users/bob/roles/grant",
            &[("csrf", &csrf), ("role", "wizard")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text("#form-error").contains("choose a role"));
    let r = a
        .post(
            "/admin/users/ghost/roles/grant",
            &[("csrf", &csrf), ("role", "expert")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Granting expert adds a profile; the page then offers it for revocation.
    let r = a
        .post(
            "/admin/users/bob/roles/grant",
            &[("csrf", &csrf), ("role", "expert")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin?done=role-granted&user=bob");
    let bob_now = role_of("bob").await;
    assert!(bob_now.has_role(Role::Expert) && bob_now.expert.is_some());
    let page = a.get(r.location()).await;
    assert!(page.text("#notice").contains("role was granted"));
    assert_eq!(
        page.texts("#revoke-role option"),
        vec!["maintainer", "expert"]
    );
    let r = a
        .post(
            "/admin/users/bob/roles/revoke",
            &[("csrf", &csrf), ("role", "maintainer")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        role_of("bob").await.roles.into_iter().collect::<Vec<_>>(),
        vec![Role::Expert]
    );
    // Never an account's only role.
    let r = a
        .post(
            "/admin/users/bob/roles/revoke",
            &[("csrf", &csrf), ("role", "expert")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.text("#form-error").contains("without a role"));

    // The lone admin cannot revoke their own admin role; with a second admin they can.
    let mut root_roles = root.user.clone();
    root_roles.roles.insert(Role::Expert);
    let v = app
        .state
        .store
        .get_user(root.user.id)
        .await
        .unwrap()
        .unwrap()
        .version;
    app.state.store.update_user(&root_roles, v).await.unwrap();
    let r = a
        .post(
            "/admin/users/root/roles/revoke",
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.text("#form-error").contains("last enabled admin"));
    assert!(role_of("root").await.has_role(Role::Admin));
    let r = a
        .post(
            "/admin/users/cora/roles/grant",
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = a
        .post(
            "/admin/users/root/roles/revoke",
            &[("csrf", &csrf), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!role_of("root").await.has_role(Role::Admin));
    // Root is no admin any more: the next role change is refused.
    let r = a
        .post(
            "/admin/users/bob/roles/grant",
            &[("csrf", &csrf), ("role", "coordinator")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn only_admins_see_the_audit_log_newest_first_paged_and_escaped() {
    let app = TestApp::new().await;
    let root = app.admin("root").await;
    let cora = app.coordinator("cora").await;
    let bob = app.maintainer("bob").await;
    let store = &app.state.store;
    let t = OffsetDateTime::now_utc();
    // 55 records by the operator about bob, then one by root whose detail is markup.
    for i in 0..55 {
        let e = AuditEvent::new(
            AuditActor::Operator,
            AuditAction::RoleGranted,
            AuditTarget::User(bob.user.id),
            t,
        )
        .detail("role", format!("r{i}"));
        store.append_audit(&e).await.unwrap();
    }
    let hostile = AuditEvent::new(
        AuditActor::User(root.user.id),
        AuditAction::InvitationCreated,
        AuditTarget::Invitation,
        t,
    )
    .detail("email", "<script>alert(1)</script>@example.org");
    store.append_audit(&hostile).await.unwrap();

    // Maintainers do not reach /admin; coordinators do, without the audit log.
    let mut m = Browser::signed_in(&app, &bob.user).await;
    assert_eq!(m.get("/admin").await.status, StatusCode::FORBIDDEN);
    let mut c = Browser::signed_in(&app, &cora.user).await;
    let page = c.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.count("#audit, #audit-log"), 0);
    assert!(!page.body.contains("Audit log"));
    let page = c.get("/admin?audit_before=40").await;
    assert_eq!(page.count("#audit-log"), 0, "no way in by the query");

    let mut a = Browser::signed_in(&app, &root.user).await;
    let page = a.get("/admin").await;
    page.assert_html();
    assert_eq!(page.text("#audit-h"), "Audit log");
    let rows = page.count("#audit-log tbody tr");
    assert_eq!(rows, 50, "one page");
    // Newest first, with handles in place of ids, and the markup escaped.
    assert_eq!(
        page.text("#audit-log tbody tr:first-child td:nth-child(2)"),
        "root"
    );
    assert_eq!(
        page.text("#audit-log tbody tr:first-child td:nth-child(3)"),
        "invitation-created"
    );
    assert_eq!(
        page.text("#audit-log tbody tr:first-child td:nth-child(5)"),
        "email: <script>alert(1)</script>@example.org"
    );
    assert!(!page.body.contains("<script>alert"));
    assert_eq!(page.count("script"), 0);
    assert_eq!(
        page.text("#audit-log tbody tr:nth-child(2) td:nth-child(2)"),
        "cli/operator"
    );
    assert_eq!(
        page.text("#audit-log tbody tr:nth-child(2) td:nth-child(4)"),
        "user bob"
    );
    assert_eq!(
        page.text("#audit-log tbody tr:nth-child(2) td:nth-child(5)"),
        "role: r54"
    );

    // The next page continues where the first stopped and ends the trail.
    let older = page
        .attr("#audit .pager a[href*=audit_before]", "href")
        .expect("a link to older records");
    let page = a.get(older.trim_end_matches("#audit")).await;
    assert_eq!(page.status, StatusCode::OK);
    let details = page.texts("#audit-log tbody td:nth-child(5)");
    let expected: Vec<String> = (0..6).rev().map(|i| format!("role: r{i}")).collect();
    assert_eq!(details, expected);
    assert_eq!(page.count("#audit .pager a[href*=audit_before]"), 0);
    assert_eq!(
        page.attr("#audit .pager a", "href").as_deref(),
        Some("/admin#audit")
    );
    // A cursor that is not a number shows the newest page.
    let page = a.get("/admin?audit_before=%3Cx%3E").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.count("#audit-log tbody tr"), 50);
}
