//! Subgroup administration rules shared by `s-express admin` and `/admin`
//! (`sx_server::admin`), on both store backends: only the fallback subgroup may have no
//! routing rules (and then takes the cases nothing else matches); coordinators hold the
//! coordinator role, are named at creation or added and removed later, each change with one
//! audit record; refusals change and record nothing.

use axum::http::StatusCode;
use sx_domain::{AuditAction, AuditActor, AuditTarget, Role};
use sx_server::admin::{self, Actor, AdminError, NewSubgroup};
use sx_server::jobs::analyze_case::FALLBACK_SUBGROUP;
use sx_store::{AuditFilter, AuditRecord, Store};

use crate::pages::Browser;
use crate::util::TestApp;

crate::both_backends!(
    only_the_fallback_subgroup_may_be_created_without_routing_and_it_takes_unrouted_cases,
    coordinators_are_named_added_and_removed_with_one_audit_record_each,
);

async fn trail(app: &TestApp) -> Vec<AuditRecord> {
    app.state
        .store
        .list_audit(&AuditFilter::newest(500))
        .await
        .unwrap()
}

fn unrouted(slug: &str, coordinators: &[&str]) -> NewSubgroup {
    NewSubgroup {
        slug: slug.into(),
        name: "General".into(),
        languages: Default::default(),
        vectors: Default::default(),
        coordinators: coordinators.iter().map(|c| (*c).to_string()).collect(),
    }
}

async fn only_the_fallback_subgroup_may_be_created_without_routing_and_it_takes_unrouted_cases() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let cora = app.user("cora", &[Role::Coordinator]).await;
    let erin = app.expert("erin").await;
    let mia = app.maintainer("mia").await;

    // Any other slug: refused, naming the fallback; nothing stored or recorded.
    let err = admin::create_subgroup(store, Actor::Operator, unrouted("misc", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminError::NoRouting(ref s) if s == "misc"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("fallback subgroup {FALLBACK_SUBGROUP:?}")),
        "{err}"
    );
    // The same refusal on the web form, for a coordinator.
    let mut c = Browser::signed_in(&app, &cora.user).await;
    let page = c.get("/admin").await;
    assert!(
        page.text("#create-subgroup-form .hint")
            .contains("Only the fallback subgroup general"),
        "the form says which subgroup may take no cases: {}",
        page.text("#create-subgroup-form .hint")
    );
    let csrf = page.csrf();
    let r = c
        .post(
            "/admin/subgroups",
            &[("csrf", &csrf), ("slug", "misc"), ("name", "Misc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let says = r.text("#form-error");
    assert!(
        says.contains("would take no cases") && says.contains("\"general\""),
        "{says}"
    );
    assert!(store.list_subgroups().await.unwrap().is_empty());
    assert!(trail(&app).await.is_empty());

    // The fallback: accepted by form without any language or vector.
    let r = c
        .post(
            "/admin/subgroups",
            &[
                ("csrf", &csrf),
                ("slug", FALLBACK_SUBGROUP),
                ("name", "General"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let general = store
        .get_subgroup_by_slug(FALLBACK_SUBGROUP)
        .await
        .unwrap()
        .unwrap();
    assert!(general.value.routing.languages.is_empty() && general.value.routing.vectors.is_empty());
    let records = trail(&app).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event.action, AuditAction::SubgroupCreated);
    assert_eq!(records[0].event.actor, AuditActor::User(cora.user.id));

    // It takes the case no other subgroup matches: its member sees it in their queue.
    admin::add_member(store, Actor::Operator, FALLBACK_SUBGROUP, "erin")
        .await
        .unwrap();
    let id = app.submit(&mia).await;
    app.run_jobs().await;
    let case = store.get_case(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(case.value.subgroups, vec![general.value.id]);
    let of_erin = store.subgroups_of_user(erin.user.id).await.unwrap();
    assert_eq!(of_erin.len(), 1);
}

async fn coordinators_are_named_added_and_removed_with_one_audit_record_each() {
    let app = TestApp::new().await;
    let store = &app.state.store;
    let cora = app.user("cora", &[Role::Coordinator]).await;
    let colin = app.user("colin", &[Role::Coordinator, Role::Expert]).await;
    let erin = app.expert("erin").await;
    let root = app.user("root", &[Role::Admin]).await;

    // At creation: unknown handles and accounts without the coordinator role are refused,
    // and nothing is created.
    for (handle, says) in [
        ("ghost", "no user with the handle \"ghost\""),
        ("erin", "\"erin\" does not hold the coordinator role"),
    ] {
        let err = admin::create_subgroup(
            store,
            Actor::Operator,
            unrouted(FALLBACK_SUBGROUP, &["cora", handle]),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
    assert!(store.list_subgroups().await.unwrap().is_empty());
    assert!(trail(&app).await.is_empty());
    let group = admin::create_subgroup(
        store,
        Actor::Operator,
        unrouted(FALLBACK_SUBGROUP, &["cora", "Cora"]),
    )
    .await
    .unwrap();
    assert_eq!(group.coordinators, vec![cora.user.id]);
    let records = trail(&app).await;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]
            .event
            .details
            .get("coordinators")
            .map(String::as_str),
        Some("cora")
    );
    // A coordinator sees the subgroup's queue.
    let of_cora = store.subgroups_of_user(cora.user.id).await.unwrap();
    assert_eq!(of_cora.len(), 1);

    // Added later, by the operator or a signed-in admin; same checks; one record each.
    let slug = FALLBACK_SUBGROUP;
    let err = admin::add_coordinator(store, Actor::Operator, slug, "nobody")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NoSuchUser(_)), "{err}");
    let err = admin::add_coordinator(store, Actor::Operator, slug, "erin")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NotACoordinator(_)), "{err}");
    let err = admin::add_coordinator(store, Actor::Operator, "nope", "colin")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NoSuchSubgroup(_)), "{err}");
    let err = admin::add_coordinator(store, Actor::Operator, slug, "cora")
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdminError::AlreadyCoordinator { .. }),
        "{err}"
    );
    // Experts may not, even to add themselves.
    let err = admin::add_coordinator(store, Actor::User(&erin.user), slug, "colin")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NotAllowed(_)), "{err}");
    assert_eq!(trail(&app).await.len(), 1, "refusals record nothing");

    admin::add_coordinator(store, Actor::User(&root.user), slug, "colin")
        .await
        .unwrap();
    // Coordinating and membership are separate lists.
    admin::add_member(store, Actor::Operator, slug, "colin")
        .await
        .unwrap();
    admin::remove_coordinator(store, Actor::Operator, slug, "cora")
        .await
        .unwrap();
    let err = admin::remove_coordinator(store, Actor::Operator, slug, "cora")
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::NotCoordinator { .. }), "{err}");
    let stored = store
        .get_subgroup_by_slug(slug)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(stored.coordinators, vec![colin.user.id]);
    assert_eq!(stored.members, vec![colin.user.id]);
    assert!(
        store
            .subgroups_of_user(cora.user.id)
            .await
            .unwrap()
            .is_empty(),
        "a former coordinator no longer sees the queue"
    );
    // Removing the coordinator keeps the member (and the other way round).
    admin::remove_coordinator(store, Actor::Operator, slug, "colin")
        .await
        .unwrap();
    let stored = store
        .get_subgroup_by_slug(slug)
        .await
        .unwrap()
        .unwrap()
        .value;
    assert!(stored.coordinators.is_empty());
    assert_eq!(stored.members, vec![colin.user.id]);
    assert_eq!(
        store.subgroups_of_user(colin.user.id).await.unwrap().len(),
        1
    );

    let records = trail(&app).await;
    let newest: Vec<_> = records
        .iter()
        .take(4)
        .rev()
        .map(|r| {
            (
                r.event.actor,
                r.event.action,
                r.event.target,
                r.event.details.get("handle").cloned(),
                r.event.details.get("subgroup").cloned(),
            )
        })
        .collect();
    let general = Some(slug.to_string());
    assert_eq!(
        newest,
        vec![
            (
                AuditActor::User(root.user.id),
                AuditAction::CoordinatorAdded,
                AuditTarget::User(colin.user.id),
                Some("colin".into()),
                general.clone(),
            ),
            (
                AuditActor::Operator,
                AuditAction::MemberAdded,
                AuditTarget::User(colin.user.id),
                Some("colin".into()),
                general.clone(),
            ),
            (
                AuditActor::Operator,
                AuditAction::CoordinatorRemoved,
                AuditTarget::User(cora.user.id),
                Some("cora".into()),
                general.clone(),
            ),
            (
                AuditActor::Operator,
                AuditAction::CoordinatorRemoved,
                AuditTarget::User(colin.user.id),
                Some("colin".into()),
                general,
            ),
        ]
    );
    assert_eq!(records.len(), 5);
}
